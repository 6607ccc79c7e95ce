//! Building and signing the list tokens.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use mso::status::{
    IdentifierList, IdentifierListToken, Status, StatusList, StatusListToken, TokenClaims,
    TYP_IDENTIFIER_LIST, TYP_STATUS_LIST,
};
use time::{Duration, OffsetDateTime};

use super::cache::{secs, Published};
use crate::engine::errors::EngineError;
use crate::engine::issuer::Issuer;

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
    /// otherwise built from the store and signed by the list signer (else the DS in use), one
    /// builder at a time.
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
        let signing = self.list_signing(now)?;
        let claims = self.claims(&uri, now);
        let alg = signing.signer.algorithm();
        let x5chain = [signing.cert.der().to_vec()];
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
        let bytes = self.sign_token(prepared, signing.signer).await?;
        self.metrics
            .list_tokens_signed
            .with_label_values(&[kind, signing.kind])
            .inc();
        let p = Published::new(bytes, media_type, &claims, generation);
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
