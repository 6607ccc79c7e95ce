//! Prometheus metrics, served in the text exposition format at `/metrics`.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests by route template, method and status.
    pub requests: IntCounterVec,
    /// Request latency by route template.
    pub latency: HistogramVec,
    /// MSOs signed, by doc type and operation (issue, refresh).
    pub msos_signed: IntCounterVec,
    /// Refused requests by error code.
    pub refusals: IntCounterVec,
    /// Unauthenticated refusals not written to the audit log (beyond a source's audit rate).
    pub unaudited_refusals: IntCounter,
    /// Documents revoked, by reason.
    pub revocations: IntCounterVec,
    /// List tokens signed, by list kind.
    pub list_tokens_signed: IntCounterVec,
    /// 1 when the DS in use is due for rotation (or none is usable).
    pub ds_rotation_due: IntGauge,
    /// notAfter (Unix seconds) of the DS in use; 0 if none.
    pub ds_not_after: IntGauge,
    /// notAfter (Unix seconds) of the list signer in use; 0 if none (the lists are then
    /// signed by the DS in use, and go dark when it is revoked).
    pub list_signer_not_after: IntGauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Registers a counter another part of the service owns (the audit writer's).
    pub fn register_counter(&self, counter: IntCounter) -> Result<(), prometheus::Error> {
        self.registry.register(Box::new(counter))
    }

    /// Creates and registers every metric.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("mdoc_issuer".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ],
            ),
            &["route"],
        )?;
        let msos_signed = IntCounterVec::new(
            Opts::new("msos_signed_total", "MSOs signed"),
            &["doctype", "operation"],
        )?;
        let refusals = IntCounterVec::new(
            Opts::new("refusals_total", "Requests refused, by error code"),
            &["code"],
        )?;
        let unaudited_refusals = IntCounter::new(
            "unaudited_refusals_total",
            "Unauthenticated refusals beyond a source's audit rate, counted instead of recorded",
        )?;
        let revocations = IntCounterVec::new(
            Opts::new("revocations_total", "Documents revoked, by reason"),
            &["reason"],
        )?;
        let list_tokens_signed = IntCounterVec::new(
            Opts::new(
                "list_tokens_signed_total",
                "Status and identifier list tokens signed",
            ),
            &["kind", "signer"],
        )?;
        let ds_rotation_due = IntGauge::new(
            "ds_rotation_due",
            "1 when the DS in use is due for rotation or none is usable",
        )?;
        let ds_not_after = IntGauge::new("ds_not_after_seconds", "notAfter of the DS in use")?;
        let list_signer_not_after = IntGauge::new(
            "list_signer_not_after_seconds",
            "notAfter of the list signer in use (0: none, the DS signs the lists)",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(msos_signed.clone()))?;
        registry.register(Box::new(refusals.clone()))?;
        registry.register(Box::new(unaudited_refusals.clone()))?;
        registry.register(Box::new(revocations.clone()))?;
        registry.register(Box::new(list_tokens_signed.clone()))?;
        registry.register(Box::new(ds_rotation_due.clone()))?;
        registry.register(Box::new(ds_not_after.clone()))?;
        registry.register(Box::new(list_signer_not_after.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            msos_signed,
            refusals,
            unaudited_refusals,
            revocations,
            list_tokens_signed,
            ds_rotation_due,
            ds_not_after,
            list_signer_not_after,
        })
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for the text format.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}
