//! The relying party's end of OpenID4VP 1.0 (filled in with the request model).

use mdoc_oid4vp::dcql::DcqlQuery;

use super::config::OpenId4VpRequestConfig;
use super::verifier::{Opened, VerifierRequest};
use crate::error::{Result, VerifierError};

pub(crate) struct OpenId4VpRequest {
    query: DcqlQuery,
    nonce: String,
}

impl OpenId4VpRequest {
    pub(crate) fn new(config: &OpenId4VpRequestConfig) -> Result<Self> {
        let query = super::query::dcql(&config.credentials, &config.credential_sets)?;
        Err(VerifierError::internal(format!(
            "todo {}",
            query.credentials.len()
        )))
    }
    pub(crate) fn to_send(&self) -> VerifierRequest {
        VerifierRequest {
            protocol: String::new(),
            data_json: String::new(),
            authorization_url: None,
            request_object: None,
        }
    }
    pub(crate) fn nonce(&self) -> &str {
        &self.nonce
    }
    pub(crate) fn state(&self) -> Option<&str> {
        None
    }
    pub(crate) fn query(&self) -> &DcqlQuery {
        &self.query
    }
    pub(crate) fn open(&self, _response: &str) -> Result<Opened> {
        Err(VerifierError::internal("todo"))
    }
}
