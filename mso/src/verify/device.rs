//! The device half of a document: device authentication over the SessionTranscript and the
//! authorization of device-signed elements.

use super::issuer::{check_placeholders, verify_issuer_signed};
use super::options::{DeviceAuthInput, VerifyOptions};
use super::report::{CheckKind, DocumentReport, Failure, ResponseReport};
use crate::cose::{mac0_verify_detached, sign1_verify_detached};
use crate::crypto::ecdh::derive_session_key;
use crate::crypto::PublicKey;
use crate::model::{
    device_authentication_bytes, DeviceAuth, DeviceResponse, Document, MobileSecurityObject,
};
use crate::present::EMAC_KEY_INFO;

fn device_key(mso: &MobileSecurityObject) -> Result<PublicKey, Failure> {
    mso.device_key_info.public_key().map_err(Failure::Error)
}

/// Verifies one Document of a DeviceResponse: everything [`verify_issuer_signed`] checks, with
/// the MSO docType compared to the Document's, plus device authentication over `session`.
pub fn verify_document(
    document: &Document,
    session: &DeviceAuthInput<'_>,
    opts: &VerifyOptions<'_>,
) -> DocumentReport {
    let mut report = verify_issuer_signed(&document.issuer_signed, Some(&document.doc_type), opts);
    let mso = document.issuer_signed.issuer_auth.mso().value();
    let device_signed = &document.device_signed;
    check_placeholders(
        &mut report,
        "deviceSignature",
        &device_signed.ignored_unprotected_labels,
        opts,
    );
    let payload = device_authentication_bytes(
        session.transcript,
        &document.doc_type,
        device_signed.name_spaces.tagged_bytes(),
    );
    let outcome = device_key(mso).and_then(|key| match &device_signed.device_auth {
        DeviceAuth::Signature(sign1) => {
            match crate::cose::sign1_algorithm(sign1) {
                Ok(a) if !opts.allowed_algorithms.contains(&a) => {
                    return Err(Failure::AlgorithmNotAllowed(a))
                }
                Err(e) => return Err(Failure::Error(e)),
                Ok(_) => {}
            }
            sign1_verify_detached(sign1, &payload, &key, opts.verifier).map_err(Failure::Error)
        }
        DeviceAuth::Mac(mac0) => {
            let reader = session.e_reader_key.ok_or(Failure::MissingReaderKey)?;
            let shared = reader.shared_secret(&key).map_err(Failure::Error)?;
            let mac_key =
                derive_session_key(&shared, &session.transcript.tagged_bytes(), EMAC_KEY_INFO);
            mac0_verify_detached(mac0, &payload, mac_key.as_ref()).map_err(Failure::Error)
        }
    });
    report.record(CheckKind::DeviceAuthentication, None, outcome);

    // Device-signed elements must be authorized by keyAuthorizations.
    let device_ns = &device_signed.name_spaces.value().0;
    if device_ns.values().any(|e| !e.is_empty()) {
        let auth = mso.device_key_info.key_authorizations.as_ref();
        for (ns, elems) in device_ns {
            for id in elems.keys() {
                let allowed = auth.is_some_and(|a| {
                    a.name_spaces.as_ref().is_some_and(|n| n.contains(ns))
                        || a.data_elements
                            .as_ref()
                            .and_then(|d| d.get(ns))
                            .is_some_and(|ids| ids.contains(id))
                });
                report.record(
                    CheckKind::DeviceSignedAuthorized,
                    Some(format!("{ns}/{id}")),
                    if allowed {
                        Ok(())
                    } else {
                        Err(Failure::NotAuthorized)
                    },
                );
            }
        }
    }
    report
}

/// Verifies every Document of a DeviceResponse.
pub fn verify_device_response(
    response: &DeviceResponse,
    session: &DeviceAuthInput<'_>,
    opts: &VerifyOptions<'_>,
) -> ResponseReport {
    ResponseReport {
        status: response.status,
        documents: response
            .documents
            .iter()
            .flatten()
            .map(|d| verify_document(d, session, opts))
            .collect(),
    }
}
