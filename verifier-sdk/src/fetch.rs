//! MSO status lists fetched through the app's own HTTP stack.
//!
//! The SDK has no network code: the app implements [`ListFetcher`] with its platform client
//! (proxy settings, certificate pinning, caching and timeouts are the app's). A list is fetched
//! only for an MSO whose issuer signature already verified under the trust store, so a forged
//! document cannot make the app request URIs of the forger's choosing.

use std::collections::BTreeSet;
use std::sync::Arc;

use mso::cbor::{from_slice, Limits};
use mso::crypto::DefaultVerifier;
use mso::model::{DeviceResponse, IssuerSigned};
use mso::verify::{CheckKind, VerifyOptions};
use time::OffsetDateTime;

use crate::error::{Result, VerifierError};
use crate::report::VerificationReport;
use crate::transcript::SessionTranscriptInput;
use crate::trust::{Snapshot, TrustStore};
use crate::verify::{verify_device_response, verify_issuer_signed, VerificationOptions};

/// Largest list token accepted from a fetcher.
pub const MAX_LIST_TOKEN_LEN: u64 = 16 * 1024 * 1024;
/// Most distinct list URIs fetched for one verification.
pub const MAX_LIST_URIS: u64 = 16;

/// The app's HTTP client for status and identifier lists (implemented in Kotlin, Swift or
/// Python).
#[uniffi::export(with_foreign)]
pub trait ListFetcher: Send + Sync {
    /// The body of `GET uri`: a Token Status List CWT (`application/statuslist+cwt`) or an
    /// Identifier List CWT (`application/identifierlist+cwt`). Raise `VerifierError.Fetch`
    /// when it cannot be had.
    fn fetch(&self, uri: String) -> Result<Vec<u8>>;
}

/// The list URIs of the MSOs in `docs` whose issuer signature verifies under `trust`.
fn authenticated_uris(
    docs: &[&IssuerSigned],
    trust: &Snapshot,
    at: OffsetDateTime,
) -> Result<(BTreeSet<String>, BTreeSet<String>)> {
    let (mut status, mut ids) = (BTreeSet::new(), BTreeSet::new());
    for doc in docs {
        let leaf = doc
            .issuer_auth
            .x5chain()
            .ok()
            .and_then(|c| c.into_iter().next());
        let options = VerifyOptions::new(at, trust.trust_for(leaf.as_deref()), &DefaultVerifier);
        let report = mso::verify::verify_issuer_signed(doc, None, &options);
        // The signature alone proves nothing: it verifies under the x5chain's own key.
        let authentic = [CheckKind::DsTrusted, CheckKind::IssuerSignature]
            .into_iter()
            .all(|kind| report.outcome(kind).is_some_and(Result::is_ok));
        if !authentic {
            continue;
        }
        if let Some(s) = &doc.issuer_auth.mso().value().status {
            if let Some(l) = &s.status_list {
                status.insert(l.uri.clone());
            }
            if let Some(l) = &s.identifier_list {
                ids.insert(l.uri.clone());
            }
        }
    }
    let count = u64::try_from(status.len() + ids.len()).unwrap_or(u64::MAX);
    if count > MAX_LIST_URIS {
        return Err(VerifierError::SizeLimit {
            reason: format!("{count} list URIs, over the limit of {MAX_LIST_URIS}"),
        });
    }
    Ok((status, ids))
}

/// Fetches each URI and appends the tokens to `into`.
fn fetch_all(
    fetcher: &dyn ListFetcher,
    uris: BTreeSet<String>,
    into: &mut Vec<Vec<u8>>,
) -> Result<()> {
    for uri in uris {
        let token = fetcher.fetch(uri.clone()).map_err(|e| match e {
            VerifierError::Fetch { reason, .. } => VerifierError::Fetch {
                uri: uri.clone(),
                reason,
            },
            other => VerifierError::Fetch {
                uri: uri.clone(),
                reason: other.to_string(),
            },
        })?;
        if u64::try_from(token.len()).unwrap_or(u64::MAX) > MAX_LIST_TOKEN_LEN {
            return Err(VerifierError::SizeLimit {
                reason: format!(
                    "list token from {uri} of {} bytes, over the limit of {MAX_LIST_TOKEN_LEN}",
                    token.len()
                ),
            });
        }
        into.push(token);
    }
    Ok(())
}

/// Adds the lists referenced by the authenticated MSOs of `docs` to `options`.
pub(crate) fn fetch_into(
    docs: &[&IssuerSigned],
    trust: &TrustStore,
    options: &mut VerificationOptions,
    fetcher: &dyn ListFetcher,
) -> Result<()> {
    let at = OffsetDateTime::from_unix_timestamp(options.at_unix_seconds).map_err(|_| {
        VerifierError::invalid_argument(format!(
            "verification time {} is out of range",
            options.at_unix_seconds
        ))
    })?;
    let (status, ids) = authenticated_uris(docs, trust.snapshot()?.as_ref(), at)?;
    fetch_all(fetcher, status, &mut options.status_list_tokens)?;
    fetch_all(fetcher, ids, &mut options.identifier_list_tokens)
}

/// [`verify_device_response`] with each MSO's status and identifier lists fetched through
/// `fetcher` (in addition to any tokens already in `options`). A list that cannot be fetched
/// is a `VerifierError.Fetch`: the app decides whether to retry or to verify offline.
#[uniffi::export]
pub fn verify_device_response_online(
    device_response: Vec<u8>,
    transcript: SessionTranscriptInput,
    trust: Arc<TrustStore>,
    mut options: VerificationOptions,
    fetcher: Arc<dyn ListFetcher>,
) -> Result<VerificationReport> {
    let response: DeviceResponse = from_slice(&device_response, &Limits::DEFAULT)?;
    let docs: Vec<&IssuerSigned> = response
        .documents
        .iter()
        .flatten()
        .map(|d| &d.issuer_signed)
        .collect();
    fetch_into(&docs, &trust, &mut options, fetcher.as_ref())?;
    verify_device_response(device_response, transcript, trust, options)
}

/// [`verify_issuer_signed`] with the MSO's lists fetched through `fetcher`.
#[uniffi::export]
pub fn verify_issuer_signed_online(
    issuer_signed: Vec<u8>,
    expected_doc_type: Option<String>,
    trust: Arc<TrustStore>,
    mut options: VerificationOptions,
    fetcher: Arc<dyn ListFetcher>,
) -> Result<VerificationReport> {
    let decoded: IssuerSigned = from_slice(&issuer_signed, &Limits::DEFAULT)?;
    fetch_into(&[&decoded], &trust, &mut options, fetcher.as_ref())?;
    verify_issuer_signed(issuer_signed, expected_doc_type, trust, options)
}
