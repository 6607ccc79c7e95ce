//! What a reader asks for, as the app shows it to the holder, and what the holder approves.

use mso::cose::x5chain;
use mso::crypto::DefaultVerifier;
use mso::model::{DocRequest, SessionTranscript};
use mso::verify::verify_reader_auth;
use mso::x509::{Certificate, TrustAnchors};
use time::OffsetDateTime;

/// Whether the reader proved who it is (ISO 18013-5 §9.1.4 reader authentication).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ReaderAuthStatus {
    /// The request carries no reader authentication: the reader is anonymous.
    Absent,
    /// The reader's certificate chains to a reader trust anchor the app configured, carries
    /// the reader authentication EKU, and its key signed this request for this session.
    Verified,
    /// Reader authentication is present but did not verify (untrusted or expired certificate,
    /// bad signature, no anchors configured): what the certificate claims is not vouched for.
    Unverified {
        /// Why, in words.
        reason: String,
    },
}

/// Who asks.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReaderIdentity {
    /// Whether that is verified.
    pub auth: ReaderAuthStatus,
    /// The reader certificate's subject DN (as claimed when not verified), if it has one.
    pub subject: Option<String>,
    /// The reader certificate's issuer DN, if any.
    pub issuer: Option<String>,
    /// The reader certificate (DER), if any.
    pub certificate: Option<Vec<u8>>,
}

/// One requested data element.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RequestedElement {
    /// The namespace (e.g. `org.iso.18013.5.1`).
    pub namespace: String,
    /// The data element identifier (e.g. `family_name`).
    pub identifier: String,
    /// Whether the reader says it will retain the value.
    pub intent_to_retain: bool,
    /// Whether the credential that would answer holds it.
    pub available: bool,
}

/// One requested document.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RequestedDocument {
    /// The doc type asked for.
    pub doc_type: String,
    /// The stored credential that would answer, if the wallet has one with a usable MSO.
    pub credential_id: Option<String>,
    /// The elements asked for, in request order by namespace.
    pub elements: Vec<RequestedElement>,
    /// Who asks for it (reader authentication is per document request).
    pub reader: ReaderIdentity,
}

/// The consent request the app shows the holder: every document asked for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConsentRequest {
    /// The documents, in request order.
    pub documents: Vec<RequestedDocument>,
}

/// An element the holder approved.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApprovedElement {
    /// The namespace.
    pub namespace: String,
    /// The data element identifier.
    pub identifier: String,
}

/// What the holder approved for one requested document; a requested document left out of the
/// approval is not returned.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApprovedDocument {
    /// The doc type (as in the [`RequestedDocument`]).
    pub doc_type: String,
    /// The approved elements: each must have been requested and be available.
    pub elements: Vec<ApprovedElement>,
}

/// The reader of `request`, its authentication checked against `anchors` at `at`.
pub(crate) fn reader_identity(
    request: &DocRequest,
    transcript: &SessionTranscript,
    anchors: &TrustAnchors,
    at: OffsetDateTime,
) -> ReaderIdentity {
    let Some(sign1) = request.reader_auth.as_ref() else {
        return ReaderIdentity {
            auth: ReaderAuthStatus::Absent,
            subject: None,
            issuer: None,
            certificate: None,
        };
    };
    // What the leaf claims, shown either way.
    let leaf = x5chain(sign1)
        .ok()
        .and_then(|chain| chain.into_iter().next())
        .and_then(|der| Certificate::from_der(&der).ok());
    let auth = if anchors.is_empty() {
        ReaderAuthStatus::Unverified {
            reason: "no reader trust anchor is configured".into(),
        }
    } else {
        match verify_reader_auth(request, transcript, anchors, at, &DefaultVerifier) {
            Ok(_) => ReaderAuthStatus::Verified,
            Err(e) => ReaderAuthStatus::Unverified {
                reason: e.to_string(),
            },
        }
    };
    ReaderIdentity {
        auth,
        subject: leaf.as_ref().map(|c| c.subject().to_string()),
        issuer: leaf.as_ref().map(|c| c.issuer().to_string()),
        certificate: leaf.map(|c| c.der().to_vec()),
    }
}
