//! Prometheus metrics. The freshness gauges are computed at scrape time from the served site,
//! so they are exact whenever they are read:
//!
//! - `dts_crl_seconds_to_next_update{root}`: negative once the served CRL is stale;
//! - `dts_crl_presigned_reserve_days{root}`: how long the held CRLs cover the root;
//! - `dts_crl_reserve_alarm{root}`: 1 when that reserve is under `crl.reserve_alarm_days`;
//! - `dts_crl_number{root}`: the served cRLNumber (when it fits an f64 exactly enough to read);
//! - `dts_last_ingest_timestamp_seconds` and `dts_ingests_total{outcome}`.

use prometheus::{Encoder, Gauge, GaugeVec, IntCounterVec, Opts, Registry, TextEncoder};
use time::OffsetDateTime;

use crate::site::Site;

/// The DTS's metrics.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    ingests: IntCounterVec,
    last_ingest: Gauge,
    to_next_update: GaugeVec,
    reserve_days: GaugeVec,
    alarm: GaugeVec,
    number: GaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Metric construction fails only for an invalid name or label, and every one is a literal here.
const VALID: &str = "metric names and labels are valid literals";

impl Metrics {
    /// Registers every metric.
    #[allow(clippy::expect_used)] // see VALID
    pub fn new() -> Self {
        let registry = Registry::new();
        let gauge = |name: &str, help: &str| {
            let g = GaugeVec::new(Opts::new(name, help), &["root"]).expect(VALID);
            let _ = registry.register(Box::new(g.clone()));
            g
        };
        let to_next_update = gauge(
            "dts_crl_seconds_to_next_update",
            "Seconds until the served CRL's nextUpdate (negative when stale)",
        );
        let reserve_days = gauge(
            "dts_crl_presigned_reserve_days",
            "Days the held (pre-signed) CRLs keep the root covered",
        );
        let alarm = gauge(
            "dts_crl_reserve_alarm",
            "1 when the pre-signed CRL reserve is under the configured alarm threshold",
        );
        let number = gauge("dts_crl_number", "cRLNumber of the served CRL");
        let ingests = IntCounterVec::new(
            Opts::new("dts_ingests_total", "Bundle ingests by outcome"),
            &["outcome"],
        )
        .expect(VALID);
        let _ = registry.register(Box::new(ingests.clone()));
        let last_ingest = Gauge::new(
            "dts_last_ingest_timestamp_seconds",
            "Unix time of the last accepted ingest",
        )
        .expect(VALID);
        let _ = registry.register(Box::new(last_ingest.clone()));
        Metrics {
            registry,
            ingests,
            last_ingest,
            to_next_update,
            reserve_days,
            alarm,
            number,
        }
    }

    /// Counts an ingest.
    pub fn ingest(&self, outcome: &str, at: OffsetDateTime) {
        self.ingests.with_label_values(&[outcome]).inc();
        if outcome == "accepted" {
            self.last_ingest.set(at.unix_timestamp() as f64);
        }
    }

    /// The text exposition at `now` for `site`.
    pub fn render(&self, site: &Site, now: OffsetDateTime, alarm_days: u32) -> String {
        for g in [
            &self.to_next_update,
            &self.reserve_days,
            &self.alarm,
            &self.number,
        ] {
            g.reset();
        }
        for root in &site.roots {
            let label = [root.fingerprint.as_str()];
            let reserve = (root.reserve - (now - site.at)).max(time::Duration::ZERO);
            let days = reserve.as_seconds_f64() / 86_400.0;
            self.reserve_days.with_label_values(&label).set(days);
            self.alarm
                .with_label_values(&label)
                .set(if days < f64::from(alarm_days) {
                    1.0
                } else {
                    0.0
                });
            match &root.crl {
                Some((n, next)) => {
                    self.to_next_update
                        .with_label_values(&label)
                        .set((*next - now).as_seconds_f64());
                    if let Some(v) = n.to_u128() {
                        self.number.with_label_values(&label).set(v as f64);
                    }
                }
                None => self
                    .to_next_update
                    .with_label_values(&label)
                    .set(f64::NEG_INFINITY),
            }
        }
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}
