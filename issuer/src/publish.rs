//! Publication of the revocation lists: Token Status List CWTs (1 bit per MSO, zlib) and the
//! identifier list CWT (RFC 9679 thumbprints of revoked device keys).
//!
//! Both are signed by the DS in use, whose certificate the IACA issued, so a verifier checks
//! them against the same trust anchor as the MSOs. Signed tokens are cached: a revocation in
//! this process invalidates the cache at once, and a cached token is re-signed after
//! `status.refresh_secs` anyway, which bounds how late another instance's revocation (or an
//! expiry dropping an entry off the list) shows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mso::status::{
    IdentifierList, IdentifierListToken, Status, StatusList, StatusListToken, TokenClaims,
    TYP_IDENTIFIER_LIST, TYP_STATUS_LIST,
};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::config::{ServiceConfig, StatusConfig};
use crate::engine::{EngineError, Issuer};

/// A signed list token ready to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The token (COSE_Sign1, tag 18).
    pub bytes: Vec<u8>,
    /// Its media type (`application/statuslist+cwt` or `application/identifierlist+cwt`).
    pub media_type: &'static str,
    /// Strong ETag: quoted hex of the SHA-256 of the bytes.
    pub etag: String,
    /// `iat`.
    pub issued_at: OffsetDateTime,
    /// `exp`.
    pub expires_at: OffsetDateTime,
    generation: u64,
}

impl Published {
    /// Seconds a cache may keep it: up to `ttl`, never past the re-signing time or `exp`.
    pub fn max_age(&self, now: OffsetDateTime, cfg: &StatusConfig) -> u64 {
        let refresh_at = self.issued_at + Duration::seconds(secs(cfg.refresh_secs));
        let left = (refresh_at.min(self.expires_at) - now).whole_seconds();
        u64::try_from(left).unwrap_or(0).min(cfg.ttl_secs)
    }
}

fn secs(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The token cache.
pub struct Publisher {
    cfg: StatusConfig,
    generation: AtomicU64,
    cache: Mutex<HashMap<String, Arc<Published>>>,
    build: tokio::sync::Mutex<()>,
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

    fn cached(&self, uri: &str, now: OffsetDateTime) -> Option<Arc<Published>> {
        let generation = self.generation.load(Ordering::SeqCst);
        let cache = self.cache.lock().ok()?;
        let p = cache.get(uri)?;
        let fresh = p.generation == generation
            && now < p.issued_at + Duration::seconds(secs(self.cfg.refresh_secs));
        fresh.then(|| Arc::clone(p))
    }

    fn put(&self, uri: String, p: Arc<Published>) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(uri, p);
        }
    }
}

impl Issuer {
    fn claims(&self, uri: &str, now: OffsetDateTime) -> TokenClaims {
        let cfg = &self.config.status;
        TokenClaims {
            sub: uri.to_owned(),
            iat: now,
            exp: now + Duration::seconds(secs(cfg.token_validity_secs)),
            ttl: Some(cfg.ttl_secs),
        }
    }

    async fn sign_token(
        &self,
        prepared: mso::status::PreparedToken,
        signer: Arc<dyn mso::crypto::Signer>,
    ) -> Result<Vec<u8>, EngineError> {
        tokio::task::spawn_blocking(move || prepared.sign(signer.as_ref()))
            .await
            .map_err(|e| EngineError::Internal(format!("signing task: {e}")))?
            .map_err(|e| EngineError::Internal(format!("signing list token: {e}")))
    }

    fn published(
        &self,
        bytes: Vec<u8>,
        media_type: &'static str,
        claims: &TokenClaims,
        generation: u64,
    ) -> Arc<Published> {
        Arc::new(Published {
            etag: format!("\"{}\"", hex::encode(Sha256::digest(&bytes))),
            bytes,
            media_type,
            issued_at: claims.iat,
            expires_at: claims.exp,
            generation,
        })
    }

    /// The signed status list number `n` at `now` (from the cache when fresh).
    pub async fn status_list_token(
        &self,
        n: u64,
        now: OffsetDateTime,
    ) -> Result<Arc<Published>, EngineError> {
        self.list_token(Some(n), now).await
    }

    /// The signed identifier list at `now` (from the cache when fresh).
    pub async fn identifier_list_token(
        &self,
        now: OffsetDateTime,
    ) -> Result<Arc<Published>, EngineError> {
        self.list_token(None, now).await
    }

    /// Status list `Some(n)` or the identifier list (`None`): from the cache when fresh,
    /// otherwise built from the store and signed by the DS in use, one builder at a time.
    async fn list_token(
        &self,
        status_list: Option<u64>,
        now: OffsetDateTime,
    ) -> Result<Arc<Published>, EngineError> {
        let uri = match status_list {
            Some(n) => self.status_list_uri(n),
            None => self.identifier_list_uri(),
        };
        if let Some(p) = self.publisher.cached(&uri, now) {
            return Ok(p);
        }
        let _building = self.publisher.build.lock().await;
        if let Some(p) = self.publisher.cached(&uri, now) {
            return Ok(p);
        }
        let generation = self.publisher.generation.load(Ordering::SeqCst);
        let ds = self.signing_ds(now)?;
        let claims = self.claims(&uri, now);
        let alg = ds.signer.algorithm();
        let x5chain = [ds.cert.der().to_vec()];
        let internal = |e: mso::Error| EngineError::Internal(e.to_string());
        let (prepared, media_type, kind) = match status_list {
            Some(_) => {
                let list = self.status_list_contents(&uri, now).await?;
                let prepared = StatusListToken::prepare(&list, None, &claims, alg, &x5chain)
                    .map_err(internal)?;
                (prepared, TYP_STATUS_LIST, "status_list")
            }
            None => {
                let mut list = IdentifierList::new();
                for id in self.store.revoked_identifiers(now).await? {
                    list.insert(id);
                }
                let prepared = IdentifierListToken::prepare(&list, None, &claims, alg, &x5chain)
                    .map_err(internal)?;
                (prepared, TYP_IDENTIFIER_LIST, "identifier_list")
            }
        };
        let bytes = self.sign_token(prepared, Arc::clone(&ds.signer)).await?;
        self.metrics
            .list_tokens_signed
            .with_label_values(&[kind])
            .inc();
        let p = self.published(bytes, media_type, &claims, generation);
        self.publisher.put(uri, Arc::clone(&p));
        Ok(p)
    }

    /// The 1-bit list at `uri`, revoked MSOs that have not expired set to invalid; not found
    /// if no index of that list was ever allocated.
    async fn status_list_contents(
        &self,
        uri: &str,
        now: OffsetDateTime,
    ) -> Result<StatusList, EngineError> {
        if !self
            .store
            .status_lists()
            .await?
            .iter()
            .any(|(u, _)| u == uri)
        {
            return Err(EngineError::NotFound("status list"));
        }
        let internal = |e: String| EngineError::Internal(e);
        let size =
            usize::try_from(self.config.status.list_size).map_err(|e| internal(e.to_string()))?;
        let mut list = StatusList::new(1, size).map_err(|e| internal(e.to_string()))?;
        for idx in self.store.revoked_entries(uri, now).await? {
            let idx = usize::try_from(idx).map_err(|e| internal(e.to_string()))?;
            if idx < size {
                list.set(idx, Status::Invalid)
                    .map_err(|e| internal(e.to_string()))?;
            }
        }
        Ok(list)
    }
}
