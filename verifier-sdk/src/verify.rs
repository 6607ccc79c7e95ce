//! The verification entry points: bytes and typed options in, a structured report out.
//!
//! Decoding is bounded by `mso`'s limits; a document that decodes is always reported check by
//! check (never an error), and the verdict is `mso`'s: valid only if every check passed.

use std::sync::Arc;

use mso::cbor::{from_slice, Limits};
use mso::crypto::ecdh::AgreementKey;
use mso::crypto::{Algorithm, DefaultVerifier};
use mso::model::{DeviceResponse, IssuerSigned, SessionTranscript};
use mso::verify::{
    verify_document, DeviceAuthInput, DocumentReport, IssuerTrust, ListToken, Placeholders,
    ResponseReport, VerifyOptions,
};
use time::{Duration, OffsetDateTime};

use crate::error::{Result, VerifierError};
use crate::keys::AgreementPrivateKey;
use crate::report::{document_result, SignatureAlgorithm, VerificationReport};
use crate::transcript::SessionTranscriptInput;
use crate::trust::{Snapshot, TrustStore};

/// Default tolerated clock skew (seconds): `mso`'s policy default.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub const DEFAULT_CLOCK_SKEW_SECONDS: u32 = mso::x509::policy::DEFAULT_SKEW.whole_seconds() as u32;

/// Inputs of a verification besides the document and the trust store.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerificationOptions {
    /// The moment to verify at, Unix seconds (UTC). Time is always explicit: the SDK never
    /// reads the clock.
    pub at_unix_seconds: i64,
    /// Tolerated clock skew, applied to every time comparison.
    pub clock_skew_seconds: u32,
    /// Signature algorithms accepted for issuerAuth and deviceSignature.
    pub allowed_algorithms: Vec<SignatureAlgorithm>,
    /// The reader's ephemeral private key: needed only to verify a deviceMac.
    pub reader_key: Option<AgreementPrivateKey>,
    /// Token Status List CWTs the app holds (e.g. fetched earlier from the MSOs' `status_list`
    /// uri): each MSO is looked up in the one for its uri. None: the status is not checked
    /// and the report carries a warning.
    pub status_list_tokens: Vec<Vec<u8>>,
    /// Identifier List CWTs the app holds, likewise for the MSOs' `identifier_list`.
    pub identifier_list_tokens: Vec<Vec<u8>>,
    /// Refuse a document whose issuerAuth or deviceSignature unprotected header holds an
    /// entry with no value (null or undefined, e.g. `kid: undefined` from some issuer
    /// libraries). Default false: such an entry is outside every signature and is ignored
    /// with an `UnprotectedHeader` warning.
    pub refuse_header_placeholders: bool,
}

/// Options with the defaults: [`DEFAULT_CLOCK_SKEW_SECONDS`], ES256/384/512 and EdDSA, no
/// reader key.
#[uniffi::export]
pub fn default_verification_options(at_unix_seconds: i64) -> VerificationOptions {
    VerificationOptions {
        at_unix_seconds,
        clock_skew_seconds: DEFAULT_CLOCK_SKEW_SECONDS,
        allowed_algorithms: mso::x509::policy::DEFAULT_ALGORITHMS
            .iter()
            .map(|a| SignatureAlgorithm::from(*a))
            .collect(),
        reader_key: None,
        status_list_tokens: Vec::new(),
        identifier_list_tokens: Vec::new(),
        refuse_header_placeholders: false,
    }
}

/// The options in `mso`'s terms, minus the trust (chosen per document).
pub(crate) struct Resolved {
    at: OffsetDateTime,
    skew: Duration,
    algorithms: Vec<Algorithm>,
    status_lists: Vec<Vec<u8>>,
    identifier_lists: Vec<Vec<u8>>,
    placeholders: Placeholders,
}

impl Resolved {
    pub(crate) fn new(options: &VerificationOptions) -> Result<Self> {
        let at = OffsetDateTime::from_unix_timestamp(options.at_unix_seconds).map_err(|_| {
            VerifierError::invalid_argument(format!(
                "verification time {} is out of range",
                options.at_unix_seconds
            ))
        })?;
        Ok(Resolved {
            at,
            skew: Duration::seconds(options.clock_skew_seconds.into()),
            algorithms: options
                .allowed_algorithms
                .iter()
                .map(|a| Algorithm::from(*a))
                .collect(),
            status_lists: options.status_list_tokens.clone(),
            identifier_lists: options.identifier_list_tokens.clone(),
            placeholders: if options.refuse_header_placeholders {
                Placeholders::Refuse
            } else {
                Placeholders::Warn
            },
        })
    }

    /// The list tokens, borrowed for [`VerifyOptions::list_tokens`].
    fn list_tokens(&self) -> Vec<ListToken<'_>> {
        let status = self.status_lists.iter().map(|t| ListToken::StatusList(t));
        let ids = self
            .identifier_lists
            .iter()
            .map(|t| ListToken::IdentifierList(t));
        status.chain(ids).collect()
    }

    fn options<'a>(
        &'a self,
        trust: &'a IssuerTrust,
        tokens: &'a [ListToken<'a>],
    ) -> VerifyOptions<'a> {
        let mut options = VerifyOptions::new(self.at, trust, &DefaultVerifier);
        options.skew = self.skew;
        options.allowed_algorithms = &self.algorithms;
        options.list_tokens = tokens;
        options.placeholders = self.placeholders;
        options
    }
}

/// The x5chain leaf of an IssuerSigned, if readable (to pick a pinned DS certificate).
fn leaf(issuer_signed: &IssuerSigned) -> Option<Vec<u8>> {
    issuer_signed
        .issuer_auth
        .x5chain()
        .ok()
        .and_then(|chain| chain.into_iter().next())
}

/// Verifies decoded DeviceResponse bytes with a transcript and reader key already resolved
/// (shared by [`verify_device_response`] and the reader session).
pub(crate) fn verify_response_bytes(
    device_response: &[u8],
    transcript: &SessionTranscript,
    e_reader_key: Option<&AgreementKey>,
    trust: &Snapshot,
    options: &Resolved,
) -> Result<VerificationReport> {
    let response: DeviceResponse = from_slice(device_response, &Limits::DEFAULT)?;
    let session = DeviceAuthInput {
        transcript,
        e_reader_key,
    };
    let tokens = options.list_tokens();
    let status = response.status;
    let mut reports = Vec::new();
    let mut documents = Vec::new();
    for doc in response.documents.into_iter().flatten() {
        let leaf = leaf(&doc.issuer_signed);
        let issuer_trust = trust.trust_for(leaf.as_deref());
        let report = verify_document(&doc, &session, &options.options(issuer_trust, &tokens));
        // Verified, the document is given up to its result (values move, not copied).
        documents.push(document_result(
            &report,
            doc.issuer_signed,
            Some(doc.device_signed.name_spaces.into_value()),
        ));
        reports.push(report);
    }
    // The verdict is mso's (at least one document, every check passed).
    let valid = ResponseReport {
        status,
        documents: reports,
    }
    .is_valid();
    Ok(VerificationReport {
        valid,
        status,
        documents,
    })
}

/// Verifies a DeviceResponse as a relying party: for each document the issuer's signature and
/// certificate chain, validity, every disclosed value digest, and device authentication
/// (signature, or MAC with `options.reader_key`) over the SessionTranscript.
///
/// Errors only when the bytes or the inputs cannot be used; a document that does not verify
/// is a report with `valid == false` and the failed checks.
#[uniffi::export]
pub fn verify_device_response(
    device_response: Vec<u8>,
    transcript: SessionTranscriptInput,
    trust: Arc<TrustStore>,
    options: VerificationOptions,
) -> Result<VerificationReport> {
    let resolved = Resolved::new(&options)?;
    let transcript = transcript.to_transcript()?;
    let reader_key = options
        .reader_key
        .as_ref()
        .map(|k| k.to_mso())
        .transpose()?;
    verify_response_bytes(
        &device_response,
        &transcript,
        reader_key.as_ref(),
        trust.snapshot()?.as_ref(),
        &resolved,
    )
}

/// Verifies a bare IssuerSigned (the OpenID4VCI `mso_mdoc` credential, decoded from
/// base64url) as a wallet does on receipt: issuer signature and chain, validity, docType
/// (when `expected_doc_type` is given) and every value digest. There is no device
/// authentication to check.
#[uniffi::export]
pub fn verify_issuer_signed(
    issuer_signed: Vec<u8>,
    expected_doc_type: Option<String>,
    trust: Arc<TrustStore>,
    options: VerificationOptions,
) -> Result<VerificationReport> {
    let resolved = Resolved::new(&options)?;
    let decoded: IssuerSigned = from_slice(&issuer_signed, &Limits::DEFAULT)?;
    let snapshot = trust.snapshot()?;
    let leaf = leaf(&decoded);
    let issuer_trust = snapshot.trust_for(leaf.as_deref());
    let tokens = resolved.list_tokens();
    let report: DocumentReport = mso::verify::verify_issuer_signed(
        &decoded,
        expected_doc_type.as_deref(),
        &resolved.options(issuer_trust, &tokens),
    );
    let document = document_result(&report, decoded, None);
    Ok(VerificationReport {
        valid: report.is_valid(),
        status: 0,
        documents: vec![document],
    })
}
