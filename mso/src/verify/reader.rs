//! Reader authentication (ISO 18013-5 §9.1.4): the holder's check of a DocRequest's
//! `readerAuth` against the reader trust anchors the wallet app configures.
//!
//! `readerAuth` is a COSE_Sign1 with a detached payload, ReaderAuthenticationBytes for the
//! session's transcript and the ItemsRequestBytes as received, and an x5chain whose leaf is
//! the reader authentication certificate (Annex B, Table B.7: extendedKeyUsage
//! 1.0.18013.5.1.6). The leaf must chain to a reader anchor (one step, as for every
//! certificate an Annex B root issues), be valid at the time given, carry that EKU, and its key
//! must verify the signature. The leaf is not inspected against a full profile: readers are
//! certified by many authorities and the holder only needs to know who asks and that they
//! are certified to ask.

use time::OffsetDateTime;

use crate::cose::{sign1_verify_detached, x5chain};
use crate::crypto::Verifier;
use crate::error::{Error, Result};
use crate::model::{reader_authentication_bytes, DocRequest, SessionTranscript};
use crate::x509::path::{parse_chain, validate_with, PathPolicy};
use crate::x509::profile::Role;
use crate::x509::{oid, policy, Certificate, TrustAnchors};

/// Verifies `request`'s `readerAuth` for `transcript` at `at` against `anchors`; returns the
/// reader authentication certificate.
///
/// Errors: no `readerAuth` ([`Error::MissingField`]), an unusable x5chain, no path to an
/// anchor ([`Error::Path`]), a leaf without the reader authentication EKU
/// ([`Error::InvalidValue`]), a signature that does not verify.
pub fn verify_reader_auth(
    request: &DocRequest,
    transcript: &SessionTranscript,
    anchors: &TrustAnchors,
    at: OffsetDateTime,
    verifier: &dyn Verifier,
) -> Result<Certificate> {
    let sign1 = request.reader_auth.as_ref().ok_or(Error::MissingField {
        context: "DocRequest",
        field: "readerAuth",
    })?;
    let chain = parse_chain(&x5chain(sign1)?).map_err(Error::Path)?;
    let (leaf, rest) = chain
        .split_first()
        .ok_or_else(|| Error::X5Chain("empty x5chain".into()))?;
    let path_policy = PathPolicy {
        skew: policy::DEFAULT_SKEW,
        // The Document Signer's path shape (one step from the root); its profile is not the
        // reader's, so the leaf is checked here instead.
        inspect_leaf: false,
        ..PathPolicy::default()
    };
    validate_with(
        leaf,
        rest,
        anchors,
        at,
        Role::DocumentSigner,
        verifier,
        &path_policy,
    )
    .map_err(Error::Path)?;
    let eku = leaf.extended_key_usage()?.unwrap_or_default();
    if !eku.contains(&oid::MDL_READER_AUTH_EKU) {
        return Err(Error::InvalidValue {
            context: "reader certificate",
            reason: "no extendedKeyUsage 1.0.18013.5.1.6 (mdlReaderAuth)".into(),
        });
    }
    let payload = reader_authentication_bytes(transcript, request.items_request.tagged_bytes());
    sign1_verify_detached(sign1, &payload, &leaf.public_key()?, verifier)?;
    Ok(leaf.clone())
}
