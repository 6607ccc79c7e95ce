//! The holder's side: selective disclosure and device authentication of a Document.

use std::collections::BTreeMap;

use crate::cbor::Tag24;
use crate::cose::{mac0_create_detached, PreparedSign1};
use crate::crypto::ecdh::{derive_session_key, AgreementKey};
use crate::crypto::{PublicKey, Signer};
use crate::error::{Error, Result};
use crate::model::{
    device_authentication_bytes, DeviceAuth, DeviceNameSpaces, DeviceResponse, DeviceSigned,
    Document, IssuerSigned, SessionTranscript,
};

/// HKDF info for the deviceMac key.
pub const EMAC_KEY_INFO: &[u8] = b"EMacKey";

/// Which elements to disclose: namespace → element identifiers. `None` discloses everything.
pub type Disclosure = BTreeMap<String, Vec<String>>;

fn disclose(issuer_signed: &IssuerSigned, selection: Option<&Disclosure>) -> Result<IssuerSigned> {
    let Some(selection) = selection else {
        return Ok(issuer_signed.clone());
    };
    let all = issuer_signed.name_spaces.as_ref();
    let mut out = BTreeMap::new();
    for (ns, wanted) in selection {
        let items = all.and_then(|a| a.get(ns)).ok_or_else(|| {
            Error::InvalidRequest(format!("namespace {ns:?} is not in the document"))
        })?;
        let picked: Vec<_> = items
            .iter()
            .filter(|i| wanted.contains(&i.value().element_identifier))
            .cloned()
            .collect();
        if picked.len() != wanted.len() {
            return Err(Error::InvalidRequest(format!(
                "not every requested element of {ns:?} is in the document"
            )));
        }
        if !picked.is_empty() {
            out.insert(ns.clone(), picked);
        }
    }
    Ok(IssuerSigned {
        name_spaces: (!out.is_empty()).then_some(out),
        issuer_auth: issuer_signed.issuer_auth.clone(),
    })
}

/// Builds a Document whose deviceSignature (COSE_Sign1, detached payload) covers
/// DeviceAuthenticationBytes for `transcript`.
pub fn present_with_signature(
    issuer_signed: &IssuerSigned,
    selection: Option<&Disclosure>,
    transcript: &SessionTranscript,
    device_key: &dyn Signer,
) -> Result<Document> {
    present_with_device_signed(
        issuer_signed,
        selection,
        DeviceNameSpaces::default(),
        transcript,
        device_key,
    )
}

/// Like [`present_with_signature`], also returning device-signed elements (which a verifier
/// accepts only where the MSO's keyAuthorizations allow them).
pub fn present_with_device_signed(
    issuer_signed: &IssuerSigned,
    selection: Option<&Disclosure>,
    device_name_spaces: DeviceNameSpaces,
    transcript: &SessionTranscript,
    device_key: &dyn Signer,
) -> Result<Document> {
    let doc_type = issuer_signed.issuer_auth.mso().value().doc_type.clone();
    let name_spaces = Tag24::new(device_name_spaces);
    let payload = device_authentication_bytes(transcript, &doc_type, name_spaces.tagged_bytes());
    let sign1 = PreparedSign1::new(device_key.algorithm(), payload, &[], true)?.sign(device_key)?;
    Ok(Document {
        doc_type,
        issuer_signed: disclose(issuer_signed, selection)?,
        device_signed: DeviceSigned {
            name_spaces,
            device_auth: DeviceAuth::Signature(sign1),
            ignored_unprotected_labels: Vec::new(),
        },
        errors: None,
    })
}

/// Builds a Document whose deviceMac (HMAC 256/256) uses EMacKey derived from the device key
/// and the reader's ephemeral key.
pub fn present_with_mac(
    issuer_signed: &IssuerSigned,
    selection: Option<&Disclosure>,
    transcript: &SessionTranscript,
    device_key: &AgreementKey,
    e_reader_key: &PublicKey,
) -> Result<Document> {
    let doc_type = issuer_signed.issuer_auth.mso().value().doc_type.clone();
    let name_spaces = Tag24::new(DeviceNameSpaces::default());
    let payload = device_authentication_bytes(transcript, &doc_type, name_spaces.tagged_bytes());
    let shared = device_key.shared_secret(e_reader_key)?;
    let key = derive_session_key(&shared, &transcript.tagged_bytes(), EMAC_KEY_INFO);
    let mac0 = mac0_create_detached(&payload, key.as_ref())?;
    Ok(Document {
        doc_type,
        issuer_signed: disclose(issuer_signed, selection)?,
        device_signed: DeviceSigned {
            name_spaces,
            device_auth: DeviceAuth::Mac(mac0),
            ignored_unprotected_labels: Vec::new(),
        },
        errors: None,
    })
}

/// A successful DeviceResponse (version "1.0", status 0) holding `documents`.
pub fn device_response(documents: Vec<Document>) -> DeviceResponse {
    DeviceResponse {
        version: "1.0".into(),
        documents: Some(documents),
        document_errors: None,
        status: 0,
    }
}
