//! The service's configuration: one TOML file plus environment overrides.
//!
//! Every policy number has the CPS value (or a documented operational default) as its default,
//! so an empty file is a valid development configuration. Unknown keys are refused: a typo
//! must not silently fall back to a default. Secrets (the server secret, the keystore secret or
//! PIN) are never in the file: the file names the environment variables that hold them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::Duration;

use crate::ds::RotationPolicy;

/// Status-list indices the engine reserves from the store at a time, so that an issuance costs
/// one write transaction. A batch takes its indices from one block, so
/// `issuance.max_batch` may not exceed it.
pub const INDEX_BLOCK: u64 = 1024;

/// Configuration errors.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for this service, or a value is out of range.
    #[error("{0}")]
    Invalid(String),
    /// A required environment variable is missing.
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    /// HTTP listener and limits.
    pub server: ServerConfig,
    /// The database.
    pub database: DatabaseConfig,
    /// Where DS keys live.
    pub keystore: KeystoreSection,
    /// IACA certificates DS certificates must chain to.
    pub trust: TrustConfig,
    /// Issuance policy.
    pub issuance: IssuanceConfig,
    /// MSO validity per doc type (key `default` for the rest).
    pub validity: BTreeMap<String, ValidityPolicy>,
    /// DS rotation.
    pub rotation: RotationConfig,
    /// Status and identifier list publication.
    pub status: StatusConfig,
    /// Per-client rate limits.
    pub rate_limit: RateLimitConfig,
    /// The audit log.
    pub audit: AuditConfig,
    /// Following the roots' CRLs.
    pub crl_intake: CrlIntakeConfig,
    /// OpenID4VCI 1.0: credential offers and the wallet-facing endpoints.
    pub oid4vci: Oid4vciConfig,
}

/// `[oid4vci]`: OpenID for Verifiable Credential Issuance 1.0 (wallets obtain documents from
/// credential offers the portal makes).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Oid4vciConfig {
    /// Default lifetime of an offer and its pre-authorized code, seconds (the portal may ask
    /// for less, never more than `max_offer_ttl_secs`).
    pub offer_ttl_secs: u64,
    /// Longest offer lifetime a portal may ask for, seconds.
    pub max_offer_ttl_secs: u64,
    /// Lifetime of an access token, seconds.
    pub token_ttl_secs: u64,
    /// Wrong transaction codes after which an offer is locked.
    pub tx_code_max_attempts: u32,
    /// Digits of a transaction code when the portal does not say.
    pub tx_code_length: u32,
    /// Refuse access tokens not bound to a DPoP key (RFC 9449), as HAIP 1.0 requires.
    pub require_dpop: bool,
    /// Require a server-provided DPoP nonce in every DPoP proof (`use_dpop_nonce`).
    pub dpop_nonce: bool,
    /// Oldest accepted DPoP proof (`iat`), seconds.
    pub dpop_max_age_secs: u64,
    /// Seconds a wallet is told to wait between deferred-credential polls.
    pub deferred_interval_secs: u64,
    /// How long a deferred request waits for the portal's record, seconds: its access token
    /// stays valid for polling that long, then the request and its record are dropped.
    pub deferred_ttl_secs: u64,
    /// The issuer's display name in its metadata.
    pub display_name: String,
    /// Locale of the display names.
    pub locale: String,
    /// The portal's login page the authorization endpoint sends the browser to (with
    /// `?session=…&doctype=…`). Unset: the authorization-code flow is disabled and not
    /// advertised.
    pub portal_login_url: Option<String>,
    /// Lifetime of a pushed authorization request's `request_uri`, seconds.
    pub par_ttl_secs: u64,
    /// Time the portal has to authenticate the user and call back, seconds.
    pub login_ttl_secs: u64,
    /// OAuth attestation-based client authentication of wallets at the PAR and token
    /// endpoints.
    pub wallet_attestation: AttestationPolicy,
    /// Key attestations (OpenID4VCI 1.0 Appendix D) on every key proof.
    pub key_attestation: KeyAttestationPolicy,
    /// Trust anchors (PEM or DER certificate files) of the wallet providers whose client and
    /// key attestations are accepted.
    pub wallet_providers: Vec<PathBuf>,
}

/// `oid4vci.wallet_attestation`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttestationPolicy {
    /// Attestation headers are ignored.
    #[default]
    Off,
    /// Verified when present; requests without are accepted.
    Optional,
    /// Requests without a valid attestation are refused (`invalid_client`).
    Required,
}

/// `oid4vci.key_attestation`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyAttestationPolicy {
    /// Key attestations are not asked for.
    #[default]
    Off,
    /// Every key proof must carry a key attestation by a configured wallet provider that
    /// attests its key (`invalid_proof` otherwise).
    Required,
}

impl Default for Oid4vciConfig {
    fn default() -> Self {
        Oid4vciConfig {
            offer_ttl_secs: 24 * 3600,
            max_offer_ttl_secs: 7 * 24 * 3600,
            token_ttl_secs: 300,
            tx_code_max_attempts: 5,
            tx_code_length: 6,
            require_dpop: false,
            dpop_nonce: false,
            dpop_max_age_secs: 300,
            deferred_interval_secs: 5,
            deferred_ttl_secs: 7 * 24 * 3600,
            display_name: "mdoc issuer".into(),
            locale: "en".into(),
            portal_login_url: None,
            par_ttl_secs: 60,
            login_ttl_secs: 600,
            wallet_attestation: AttestationPolicy::Off,
            key_attestation: KeyAttestationPolicy::Off,
            wallet_providers: Vec::new(),
        }
    }
}

/// `[crl_intake]`: the issuer follows the CRL of each IACA in `[trust]` at the URL the IACA's
/// cRLDistributionPoints names (the DTS) and revokes every DS certificate listed there.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrlIntakeConfig {
    /// Whether to follow the CRLs.
    pub enabled: bool,
    /// Seconds between two fetches of each CRL (conditional requests: an unchanged CRL costs
    /// a 304). The policy gives the root 48 hours to publish a revocation (§4.9.8).
    pub interval_secs: u64,
    /// Largest CRL accepted, bytes.
    pub max_bytes: u64,
}

impl Default for CrlIntakeConfig {
    fn default() -> Self {
        CrlIntakeConfig {
            enabled: false,
            interval_secs: 300,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Listen address (env `MDOC_ISSUER_LISTEN`). Plain HTTP: TLS terminates at the reverse
    /// proxy or load balancer in front of the service.
    pub listen: SocketAddr,
    /// The public base URL (env `MDOC_ISSUER_PUBLIC_URL`): the issuer identifier, and the
    /// base of the status-list URIs written into every MSO, so it must stay stable.
    pub public_url: String,
    /// Largest accepted request body, bytes.
    pub max_body_bytes: usize,
    /// Time limit of one request, seconds.
    pub request_timeout_secs: u64,
    /// How long shutdown waits for in-flight requests, seconds.
    pub shutdown_grace_secs: u64,
    /// How long a client may take to send a request head, and how long an idle keep-alive
    /// connection is kept, seconds.
    pub header_read_timeout_secs: u64,
    /// Most connections served at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".into(),
            max_body_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            shutdown_grace_secs: 30,
            header_read_timeout_secs: 10,
            max_connections: 4096,
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite:` URL, file path or `postgres://` URL (env `DATABASE_URL`).
    pub url: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "issuer.sqlite".into(),
        }
    }
}

/// `[keystore]`: where DS keys are generated and used.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "kebab-case")]
pub enum KeystoreSection {
    /// **DEVELOPMENT AND TESTS ONLY**: the encrypted file keystore.
    DevFile {
        /// Directory of the key files.
        dir: PathBuf,
        /// Environment variable holding the keystore secret.
        #[serde(default = "default_keystore_secret_env")]
        secret_env: String,
    },
    /// A PKCS#11 token (an HSM).
    Pkcs11 {
        /// The PKCS#11 module.
        module: PathBuf,
        /// Token label.
        token: String,
        /// Environment variable holding the user PIN.
        #[serde(default = "default_pin_env")]
        pin_env: String,
    },
}

fn default_keystore_secret_env() -> String {
    "MDOC_ISSUER_KEYSTORE_SECRET".into()
}

fn default_pin_env() -> String {
    "MDOC_ISSUER_PKCS11_PIN".into()
}

impl Default for KeystoreSection {
    fn default() -> Self {
        KeystoreSection::DevFile {
            dir: PathBuf::from("keys"),
            secret_env: default_keystore_secret_env(),
        }
    }
}

/// `[trust]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustConfig {
    /// IACA certificate files (PEM or DER), current and previous roots.
    pub iaca: Vec<PathBuf>,
}

/// `[issuance]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IssuanceConfig {
    /// Environment variable holding the server secret (at least 32 bytes): keys the applicant
    /// reference HMAC and the nonces. Must be the same on every instance and never change
    /// (refresh matching depends on it).
    pub secret_env: String,
    /// Lifetime of a proof-of-possession nonce, seconds.
    pub nonce_ttl_secs: u64,
    /// How long an `Idempotency-Key` is remembered, seconds.
    pub idempotency_ttl_secs: u64,
    /// Most device keys in one request.
    pub max_batch: usize,
    /// Decoy digests per namespace.
    pub decoys: usize,
    /// Portrait (image element) size limit, bytes; the doc type's own limit when unset.
    pub portrait_max_bytes: Option<usize>,
    /// Extra directories of doc-type definition files (added to the built-in ones).
    pub doctype_dirs: Vec<PathBuf>,
    /// Isolates API clients (several portals sharing one issuer): a client then reads,
    /// refreshes and revokes only the documents it issued, and only `admin` clients reach
    /// every document. Off by default, where the scopes alone decide (a `revoke` client such
    /// as a revocation desk may revoke any document).
    pub client_isolation: bool,
}

impl Default for IssuanceConfig {
    fn default() -> Self {
        IssuanceConfig {
            secret_env: "MDOC_ISSUER_SECRET".into(),
            nonce_ttl_secs: 300,
            idempotency_ttl_secs: 24 * 3600,
            max_batch: 20,
            decoys: 0,
            portrait_max_bytes: None,
            doctype_dirs: Vec::new(),
            client_isolation: false,
        }
    }
}

/// MSO validity of one doc type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidityPolicy {
    /// validUntil − validFrom, days (clamped to the DS notAfter).
    pub valid_days: i64,
    /// expectedUpdate after signing, days; absent means no expectedUpdate.
    #[serde(default)]
    pub expected_update_days: Option<i64>,
}

impl Default for ValidityPolicy {
    fn default() -> Self {
        ValidityPolicy {
            valid_days: 90,
            expected_update_days: Some(30),
        }
    }
}

/// `[rotation]`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RotationConfig {
    /// A new DS is due after this many days in service (CPS: three months).
    pub rotate_every_days: i64,
    /// A DS may keep signing this many days past that while its successor is certified.
    pub overlap_days: i64,
}

impl Default for RotationConfig {
    fn default() -> Self {
        RotationConfig {
            rotate_every_days: RotationPolicy::DEFAULT_ROTATE_EVERY.whole_days(),
            overlap_days: RotationPolicy::DEFAULT_OVERLAP.whole_days(),
        }
    }
}

impl RotationConfig {
    /// As a [`RotationPolicy`].
    pub fn policy(&self) -> RotationPolicy {
        RotationPolicy {
            rotate_every: Duration::days(self.rotate_every_days),
            overlap: Duration::days(self.overlap_days),
        }
    }
}

/// `[status]`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatusConfig {
    /// Entries per status list; a new list starts when one is full.
    pub list_size: u64,
    /// Token lifetime (`exp` − `iat`), seconds.
    pub token_validity_secs: u64,
    /// `ttl` claim and the longest `Cache-Control: max-age`, seconds.
    pub ttl_secs: u64,
    /// A cached token is re-signed after this many seconds even without a revocation (other
    /// instances' revocations and expiries are picked up within this bound).
    pub refresh_secs: u64,
}

impl Default for StatusConfig {
    fn default() -> Self {
        StatusConfig {
            list_size: 1 << 20,
            token_validity_secs: 24 * 3600,
            ttl_secs: 300,
            refresh_secs: 60,
        }
    }
}

/// `[rate_limit]`: a token bucket per API client, and per source address for what comes
/// without valid credentials.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Sustained requests per second per client.
    pub per_second: u32,
    /// Burst size.
    pub burst: u32,
    /// Sustained refused-as-unauthenticated requests per second per source address (an IPv6
    /// source counts by its /64); beyond it the source's refusals are 429.
    pub unauthenticated_per_second: u32,
    /// Burst of those.
    pub unauthenticated_burst: u32,
    /// Audit records of unauthenticated refusals per second per source; the refusals beyond
    /// it are counted and reported in the source's next record (`suppressed`), and in the
    /// metrics, instead of one fsynced record each.
    pub unauthenticated_audit_per_second: u32,
    /// Burst of those.
    pub unauthenticated_audit_burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            per_second: 5000,
            burst: 10000,
            unauthenticated_per_second: 20,
            unauthenticated_burst: 100,
            unauthenticated_audit_per_second: 1,
            unauthenticated_audit_burst: 20,
        }
    }
}

/// `[audit]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// The hash-chained audit log file (shared format with `mdoc-ca`).
    pub path: PathBuf,
    /// Terminal id stamped on records.
    pub terminal_id: String,
    /// The key (URI in the issuer's keystore, made by `mdoc-issuer audit key`) that signs the
    /// log's checkpoints, used for nothing else (CA policy §5.4.4). With it, the service
    /// checkpoints the log every upkeep and at shutdown, and refuses to start on a log whose
    /// checkpoints do not verify under it. Without it, the log is chained but unsigned, and
    /// a rewrite of the whole chain cannot be detected.
    pub checkpoint_key_uri: Option<String>,
    /// With a checkpoint key, the live log is sealed (read-only, chained to the next one) once
    /// its first record is this many days old (0: never by age), so segments older than the
    /// one-year retention (CA policy §5.4.3) can be archived and pruned whole.
    pub segment_days: u32,
    /// ... or once it holds this many bytes (0: never by size).
    pub segment_max_bytes: u64,
    /// An RFC 3161 time-stamping authority (HTTP URL) that time-stamps every checkpoint; the
    /// token is kept in the log. Needs `tsa_trust_anchors` and a checkpoint key. A TSA that is
    /// down never stops issuance: the failure is logged and counted
    /// (`mdoc_issuer_audit_timestamp_failures_total`).
    pub tsa_url: Option<String>,
    /// PEM file of the trusted TSA root certificates; replies that do not verify under them
    /// are not recorded.
    pub tsa_trust_anchors: Option<PathBuf>,
    /// The TSA policy OID to ask for; when set, only tokens under it are accepted.
    pub tsa_policy: Option<String>,
    /// Timeout of one exchange with the TSA, in seconds.
    pub tsa_timeout_secs: u64,
    /// Least time between two tokens, in seconds: checkpoints in between are covered by the
    /// next token (each token with its chain is a few KiB of log). A failed attempt is retried
    /// at the next checkpoint.
    pub tsa_interval_secs: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            path: PathBuf::from("issuer-audit.log"),
            terminal_id: "mdoc-issuer".into(),
            checkpoint_key_uri: None,
            segment_days: 30,
            segment_max_bytes: 1 << 30,
            tsa_url: None,
            tsa_trust_anchors: None,
            tsa_policy: None,
            tsa_timeout_secs: 10,
            tsa_interval_secs: 3600,
        }
    }
}

impl ServiceConfig {
    /// Reads `path`, applies environment overrides and checks the values.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut config = Self::from_toml(&text)
            .map_err(|e| ConfigError::Invalid(format!("{}: {e}", path.display())))?;
        config.apply_env(|k| std::env::var(k).ok())?;
        config.check()?;
        Ok(config)
    }

    /// Parses TOML text (no environment, no checks).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    /// Applies the environment overrides `DATABASE_URL`, `MDOC_ISSUER_LISTEN` and
    /// `MDOC_ISSUER_PUBLIC_URL`, read through `get`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(url) = get("DATABASE_URL") {
            self.database.url = url;
        }
        if let Some(listen) = get("MDOC_ISSUER_LISTEN") {
            self.server.listen = listen
                .parse()
                .map_err(|e| ConfigError::Invalid(format!("MDOC_ISSUER_LISTEN: {e}")))?;
        }
        if let Some(url) = get("MDOC_ISSUER_PUBLIC_URL") {
            self.server.public_url = url;
        }
        Ok(())
    }

    /// Checks value ranges.
    pub fn check(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        let url = self.server.public_url.as_str();
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.ends_with('/') {
            return bad("server.public_url must be an http(s) URL without a trailing '/'");
        }
        if self.server.max_body_bytes < 1024 {
            return bad("server.max_body_bytes must be at least 1024");
        }
        if self.issuance.max_batch == 0 || self.issuance.max_batch > 1000 {
            return bad("issuance.max_batch must be 1 to 1000");
        }
        if self.issuance.nonce_ttl_secs == 0 || self.issuance.nonce_ttl_secs > 3600 {
            return bad("issuance.nonce_ttl_secs must be 1 to 3600");
        }
        let o = &self.oid4vci;
        if o.max_offer_ttl_secs == 0 || o.max_offer_ttl_secs > 30 * 24 * 3600 {
            return bad("oid4vci.max_offer_ttl_secs must be 1 to 2592000 (30 days)");
        }
        if o.offer_ttl_secs == 0 || o.offer_ttl_secs > o.max_offer_ttl_secs {
            return bad("oid4vci.offer_ttl_secs must be 1 to oid4vci.max_offer_ttl_secs");
        }
        if o.token_ttl_secs == 0 || o.token_ttl_secs > 3600 {
            return bad("oid4vci.token_ttl_secs must be 1 to 3600");
        }
        if o.tx_code_max_attempts == 0 || o.tx_code_max_attempts > 10 {
            return bad("oid4vci.tx_code_max_attempts must be 1 to 10");
        }
        if !(4..=12).contains(&o.tx_code_length) {
            return bad("oid4vci.tx_code_length must be 4 to 12");
        }
        if o.dpop_max_age_secs == 0 || o.dpop_max_age_secs > 3600 {
            return bad("oid4vci.dpop_max_age_secs must be 1 to 3600");
        }
        if o.deferred_interval_secs == 0 || o.deferred_interval_secs > 3600 {
            return bad("oid4vci.deferred_interval_secs must be 1 to 3600");
        }
        if o.deferred_ttl_secs < o.deferred_interval_secs || o.deferred_ttl_secs > 30 * 24 * 3600 {
            return bad(
                "oid4vci.deferred_ttl_secs must be oid4vci.deferred_interval_secs to 2592000 \
                 (30 days)",
            );
        }
        if o.par_ttl_secs == 0 || o.par_ttl_secs > 600 {
            return bad("oid4vci.par_ttl_secs must be 1 to 600");
        }
        if o.login_ttl_secs == 0 || o.login_ttl_secs > 3600 {
            return bad("oid4vci.login_ttl_secs must be 1 to 3600");
        }
        if let Some(login) = &o.portal_login_url {
            let ok = url::Url::parse(login)
                .is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.fragment().is_none());
            if !ok {
                return bad("oid4vci.portal_login_url must be an http(s) URL without a fragment");
            }
        }
        let attesting = o.wallet_attestation != AttestationPolicy::Off
            || o.key_attestation != KeyAttestationPolicy::Off;
        if attesting && o.wallet_providers.is_empty() {
            return bad(
                "oid4vci.wallet_attestation and oid4vci.key_attestation need \
                 oid4vci.wallet_providers",
            );
        }
        for (doctype, v) in &self.validity {
            if v.valid_days <= 0 || v.valid_days > 5 * 366 {
                return Err(ConfigError::Invalid(format!(
                    "validity.{doctype}.valid_days must be 1 to 1830"
                )));
            }
            if let Some(e) = v.expected_update_days {
                if e <= 0 || e > v.valid_days {
                    return Err(ConfigError::Invalid(format!(
                        "validity.{doctype}.expected_update_days must be 1 to valid_days"
                    )));
                }
            }
        }
        if self.rotation.rotate_every_days <= 0 || self.rotation.overlap_days < 0 {
            return bad("rotation: rotate_every_days must be positive, overlap_days not negative");
        }
        let s = &self.status;
        if s.list_size == 0 || s.list_size > 1 << 27 {
            return bad("status.list_size must be 1 to 134217728");
        }
        if s.token_validity_secs == 0 || s.ttl_secs == 0 || s.refresh_secs == 0 {
            return bad("status: token_validity_secs, ttl_secs and refresh_secs must be positive");
        }
        if s.refresh_secs >= s.token_validity_secs {
            return bad("status.refresh_secs must be shorter than token_validity_secs");
        }
        if (self.issuance.max_batch as u64) > s.list_size
            || (self.issuance.max_batch as u64) > INDEX_BLOCK
        {
            return bad("issuance.max_batch must not exceed status.list_size or 1024");
        }
        let r = &self.rate_limit;
        if [
            r.per_second,
            r.burst,
            r.unauthenticated_per_second,
            r.unauthenticated_burst,
            r.unauthenticated_audit_per_second,
            r.unauthenticated_audit_burst,
        ]
        .contains(&0)
        {
            return bad("every rate_limit value must be positive");
        }
        Ok(())
    }

    /// The validity policy of `doctype`: its own entry, else `default`, else the built-in
    /// default.
    pub fn validity_for(&self, doctype: &str) -> ValidityPolicy {
        self.validity
            .get(doctype)
            .or_else(|| self.validity.get("default"))
            .copied()
            .unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_and_passes_its_checks() {
        let text = include_str!("../issuer.example.toml");
        let config = ServiceConfig::from_toml(text).unwrap_or_else(|e| panic!("{e}"));
        assert!(config.check().is_ok());
        assert!(matches!(config.keystore, KeystoreSection::Pkcs11 { .. }));
        assert_eq!(config.validity_for("org.iso.18013.5.1.mDL").valid_days, 90);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(ServiceConfig::from_toml("[server]\nlisten_on = \"x\"").is_err());
        let mut c = ServiceConfig::from_toml("").unwrap_or_else(|e| panic!("{e}"));
        c.issuance.max_batch = 2000;
        assert!(c.check().is_err());
        let mut c = ServiceConfig::default();
        c.server.public_url = "http://x/".into();
        assert!(c.check().is_err());
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut c = ServiceConfig::default();
        c.apply_env(|k| match k {
            "DATABASE_URL" => Some("postgres://db/issuer".into()),
            "MDOC_ISSUER_LISTEN" => Some("0.0.0.0:9000".into()),
            _ => None,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.database.url, "postgres://db/issuer");
        assert_eq!(c.server.listen.port(), 9000);
        assert!(c
            .apply_env(|k| (k == "MDOC_ISSUER_LISTEN").then(|| "nope".to_owned()))
            .is_err());
    }
}
