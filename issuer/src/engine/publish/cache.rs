//! The cache of signed list tokens.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mso::status::TokenClaims;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::config::{ServiceConfig, StatusConfig};

/// A signed list token ready to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The token (COSE_Sign1, tag 18).
    pub bytes: Vec<u8>,
    /// Its media type (`application/statuslist+cwt` or `application/identifierlist+cwt`).
    pub media_type: &'static str,
    /// SHA-256 of the bytes: names this version of the token.
    pub sha256: [u8; 32],
    /// `iat`.
    pub issued_at: OffsetDateTime,
    /// `exp`.
    pub expires_at: OffsetDateTime,
    generation: u64,
}

impl Published {
    /// A token signed over `claims` while the cache was at `generation`.
    pub(super) fn new(
        bytes: Vec<u8>,
        media_type: &'static str,
        claims: &TokenClaims,
        generation: u64,
    ) -> Arc<Self> {
        Arc::new(Published {
            sha256: Sha256::digest(&bytes).into(),
            bytes,
            media_type,
            issued_at: claims.iat,
            expires_at: claims.exp,
            generation,
        })
    }

    /// Seconds a copy of it stays fresh: up to `ttl`, never past the re-signing time or `exp`.
    pub fn max_age(&self, now: OffsetDateTime, cfg: &StatusConfig) -> u64 {
        let refresh_at = self.issued_at + Duration::seconds(secs(cfg.refresh_secs));
        let left = (refresh_at.min(self.expires_at) - now).whole_seconds();
        u64::try_from(left).unwrap_or(0).min(cfg.ttl_secs)
    }
}

/// Seconds from configuration as a signed count for [`Duration`].
pub(super) fn secs(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The token cache.
pub struct Publisher {
    cfg: StatusConfig,
    /// Bumped by every revocation: a token signed at an older generation is stale.
    pub(super) generation: AtomicU64,
    cache: Mutex<HashMap<String, Arc<Published>>>,
    /// Held while a token is built, so concurrent misses sign it once.
    pub(super) build: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher").finish_non_exhaustive()
    }
}

impl Publisher {
    /// An empty cache.
    pub fn new(config: &ServiceConfig) -> Self {
        Publisher {
            cfg: config.status,
            generation: AtomicU64::new(0),
            cache: Mutex::new(HashMap::new()),
            build: tokio::sync::Mutex::new(()),
        }
    }

    /// Drops every cached token (called after each revocation).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub(super) fn cached(&self, uri: &str, now: OffsetDateTime) -> Option<Arc<Published>> {
        let generation = self.generation.load(Ordering::SeqCst);
        let cache = self.cache.lock().ok()?;
        let p = cache.get(uri)?;
        let fresh = p.generation == generation
            && now < p.issued_at + Duration::seconds(secs(self.cfg.refresh_secs));
        fresh.then(|| Arc::clone(p))
    }

    pub(super) fn put(&self, uri: String, p: Arc<Published>) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(uri, p);
        }
    }
}
