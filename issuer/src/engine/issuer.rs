//! The engine itself: what it owns, how it is assembled, and its small accessors.

use std::sync::{Arc, RwLock};

use mso::x509::Certificate;
use schemas::Registry;
use time::{Duration, OffsetDateTime};

use super::dsset::DsSet;
use super::errors::EngineError;
use super::issuance::IndexBlock;
use super::publish::Publisher;
use super::secrets::ServerSecret;
use crate::audit::Audit;
use crate::config::ServiceConfig;
use crate::ds::{DsInventory, DsKeys};
use crate::metrics::Metrics;
use crate::pop::Nonces;
use crate::store::Store;

/// The issuing engine. Share it behind an [`Arc`].
pub struct Issuer {
    pub(crate) config: ServiceConfig,
    pub(crate) store: Store,
    pub(crate) registry: Registry,
    pub(crate) keys: DsKeys,
    pub(crate) iacas: Vec<Certificate>,
    pub(crate) ds: RwLock<DsSet>,
    /// The list signer in use, if any (`list_signer`).
    pub(super) list_signer: RwLock<Option<super::dsset::ListSigner>>,
    pub(crate) nonces: Nonces,
    pub(crate) secret: ServerSecret,
    pub(crate) audit: Audit,
    pub(crate) metrics: Metrics,
    pub(crate) publisher: Publisher,
    pub(crate) verifier: mso::crypto::DefaultVerifier,
    /// The block of status-list indices new MSOs take from.
    pub(super) list_cursor: tokio::sync::Mutex<Option<IndexBlock>>,
    /// The last look at the emergency stop of issuance.
    pub(super) suspension: super::suspension::SuspensionCache,
    /// The MSO row id the last start or mark record carried (`reconcile`).
    pub(super) marked: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("public_url", &self.config.server.public_url)
            .finish_non_exhaustive()
    }
}

/// What [`Issuer::new`] needs beyond the configuration.
pub struct Parts {
    /// The configuration (already checked).
    pub config: ServiceConfig,
    /// The opened store.
    pub store: Store,
    /// Doc types.
    pub registry: Registry,
    /// The opened DS keystore.
    pub keys: DsKeys,
    /// IACA certificates.
    pub iacas: Vec<Certificate>,
    /// The server secret.
    pub secret: ServerSecret,
    /// The audit writer.
    pub audit: Audit,
}

impl Issuer {
    /// Assembles the engine and loads the DS set from the store.
    pub async fn new(parts: Parts) -> Result<Arc<Self>, EngineError> {
        let Parts {
            config,
            store,
            registry,
            keys,
            iacas,
            secret,
            audit,
        } = parts;
        let metrics = Metrics::new().map_err(|e| EngineError::Internal(e.to_string()))?;
        metrics
            .register_counter(audit.timestamp_failures())
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let nonce_ttl =
            Duration::seconds(i64::try_from(config.issuance.nonce_ttl_secs).unwrap_or(300));
        let issuer = Arc::new(Issuer {
            nonces: Nonces::new(secret.derive(b"pop-nonce"), nonce_ttl),
            publisher: Publisher::new(&config),
            ds: RwLock::new(DsSet::new(DsInventory::new(config.rotation.policy()))),
            list_signer: RwLock::new(None),
            config,
            store,
            registry,
            keys,
            iacas,
            secret,
            audit,
            metrics,
            verifier: mso::crypto::DefaultVerifier,
            list_cursor: tokio::sync::Mutex::new(None),
            suspension: std::sync::Mutex::new(None),
            marked: std::sync::atomic::AtomicI64::new(0),
        });
        issuer.reload_ds(OffsetDateTime::now_utc()).await?;
        Ok(issuer)
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The audit writer.
    pub fn audit(&self) -> &Audit {
        &self.audit
    }

    /// The configuration.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The doc-type registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The IACA certificates.
    pub fn iacas(&self) -> &[Certificate] {
        &self.iacas
    }

    /// The issuer identifier (the `aud` of key proofs): the public URL.
    pub fn issuer_id(&self) -> &str {
        &self.config.server.public_url
    }

    /// URI of status list number `n`.
    pub fn status_list_uri(&self, n: u64) -> String {
        format!("{}/v1/status-lists/{n}", self.config.server.public_url)
    }

    /// URI of the identifier list.
    pub fn identifier_list_uri(&self) -> String {
        format!("{}/v1/identifier-list", self.config.server.public_url)
    }

    /// A fresh proof-of-possession nonce and its expiry.
    pub fn new_nonce(&self, now: OffsetDateTime) -> Result<(String, OffsetDateTime), EngineError> {
        let random = crate::store::random_bytes::<16>()?;
        Ok(self.nonces.issue(now, random))
    }

    /// Whether the service can issue: the database answers and a DS is usable now.
    pub async fn readiness(&self, now: OffsetDateTime) -> Result<(), String> {
        self.store
            .ping()
            .await
            .map_err(|e| format!("database: {e}"))?;
        self.signing_ds(now)
            .map(|_| ())
            .map_err(|_| "no usable DS certificate".to_owned())?;
        // Nothing is answered without its record: a log that cannot take one (a failed
        // write, or fenced after a lost record) makes the service unready.
        self.audit
            .barrier()
            .await
            .map_err(|e| format!("audit log: {e}"))
    }

    /// Appends an audit record (for refusals decided by the API layer).
    pub async fn audit_record(
        &self,
        event: custody::audit::AuditEvent,
    ) -> Result<u64, crate::audit::AuditError> {
        self.audit.record(event).await
    }

    /// Signs an audit checkpoint over the records since the last one (with the configured
    /// checkpoint key; 0 when there is none or nothing to cover).
    pub async fn audit_checkpoint(&self) -> Result<u64, crate::audit::AuditError> {
        self.audit.checkpoint().await
    }

    /// Background upkeep, run every minute: reload the DS set, purge expired nonces and
    /// idempotency records and what expired offers held, mark the MSOs recorded so far
    /// (`reconcile`), checkpoint the audit log.
    pub async fn upkeep(&self, now: OffsetDateTime) -> Result<(), EngineError> {
        self.reload_ds(now).await?;
        self.store.purge_expired_nonces(now).await?;
        self.store.purge_expired_idempotency(now).await?;
        self.store.purge_offers(now).await?;
        self.store.purge_authorizations(now).await?;
        self.mark_high_water().await?;
        self.audit.checkpoint().await?;
        Ok(())
    }
}
