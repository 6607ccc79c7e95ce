//! The verifier's checks of what is outside the signatures: the Document Signer certificate
//! profile (ISO 18013-5 Annex B, CPS §7.1.9) and the placeholders some issuers leave in the
//! unprotected headers (`kid: undefined` from @auth0/mdl).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use test_kit::{mdl, pki};

use mso::cbor::{from_slice, to_vec, Limits};
use mso::crypto::{Algorithm, Signer, SoftwareKey, SoftwareVerifier};
use mso::model::{DeviceResponse, Handover, IssuerSigned, SessionTranscript, MDL_DOCTYPE};
use mso::present::{device_response, present_with_signature};
use mso::verify::{
    verify_device_response, verify_issuer_signed, CheckKind, DeviceAuthInput, Failure, IssuerTrust,
    Placeholders, VerifyOptions,
};
use mso::x509::profile::{CrlDpProblem, Violation};
use mso::x509::{oid, Certificate, PathError, Position};

/// A document signed by a DS of `variant`, and the IACA that issued it.
fn document(variant: pki::DsVariant) -> (IssuerSigned, IssuerTrust, SoftwareKey) {
    let test = pki::TestPki::new();
    let ds_key = SoftwareKey::generate(Algorithm::Es256);
    let ds_der = test.issue_ds_variant(&ds_key, pki::DS_NOT_BEFORE, pki::DS_NOT_AFTER, variant);
    let device = SoftwareKey::generate(Algorithm::Es256);
    let is = mdl::issue_mdl(&ds_key, &ds_der, &device.public_key().unwrap());
    (is, IssuerTrust::iacas(vec![test.iaca()]), device)
}

fn verify(is: &IssuerSigned, trust: &IssuerTrust) -> mso::verify::DocumentReport {
    verify_issuer_signed(
        is,
        Some(MDL_DOCTYPE),
        &VerifyOptions::new(pki::AT, trust, &SoftwareVerifier),
    )
}

#[test]
fn the_exact_ds_profile_passes_without_warnings() {
    let (is, trust, _) = document(pki::DsVariant::Exact);
    let r = verify(&is, &trust);
    assert!(r.is_valid(), "{:?}", r.failures().collect::<Vec<_>>());
    assert_eq!(r.outcome(CheckKind::DsProfile), Some(&Ok(())));
    assert_eq!(
        r.warnings.len(),
        0,
        "{:?}",
        r.warnings.iter().collect::<Vec<_>>()
    );
}

#[test]
fn a_certificate_without_the_ds_eku_is_refused_as_a_document_signer() {
    // The IACA signed it, so the chain is trusted; it is just not a Document Signer.
    let (is, trust, _) = document(pki::DsVariant::NoEku);
    let r = verify(&is, &trust);
    assert!(!r.is_valid());
    assert_eq!(r.outcome(CheckKind::DsTrusted), Some(&Ok(())));
    match r.outcome(CheckKind::DsProfile) {
        Some(Err(Failure::Profile(violations))) => assert!(
            violations.contains(&Violation::MissingExtension {
                oid: oid::EXT_KEY_USAGE
            }),
            "{violations:?}"
        ),
        other => panic!("expected a DsProfile failure, got {other:?}"),
    }
    let failed: Vec<CheckKind> = r.failures().map(|c| c.kind).collect();
    assert_eq!(failed, [CheckKind::DsProfile]);
}

#[test]
fn a_ds_with_an_unknown_critical_extension_is_refused() {
    let (is, trust, _) = document(pki::DsVariant::UnknownCritical);
    let r = verify(&is, &trust);
    assert!(!r.is_valid());
    // Refused by the path (CPS §7.1.9: a verifier rejects what it cannot understand)...
    match r.outcome(CheckKind::DsTrusted) {
        Some(Err(Failure::NoTrustedIssuer(PathError::UnknownCriticalExtension { cert, oid }))) => {
            assert_eq!(cert.position, Position::Leaf);
            assert_eq!(oid.to_string(), "1.3.6.1.4.1.99999.1");
        }
        other => panic!("expected DsTrusted to refuse the extension, got {other:?}"),
    }
    // ...and named by the profile as well.
    match r.outcome(CheckKind::DsProfile) {
        Some(Err(Failure::Profile(violations))) => assert!(
            violations
                .iter()
                .any(|v| matches!(v, Violation::UnknownCriticalExtension { .. })),
            "{violations:?}"
        ),
        other => panic!("expected a DsProfile failure, got {other:?}"),
    }
}

#[test]
fn the_annex_d_ds_passes_with_its_dns_name_distribution_point_named() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/annex-d/");
    let ds =
        Certificate::from_der(&std::fs::read(format!("{dir}annex_d_ds.der")).unwrap()).unwrap();
    let iaca =
        Certificate::from_der(&std::fs::read(format!("{dir}annex_d_iaca.der")).unwrap()).unwrap();
    let inspection = mso::x509::profile::inspect_ds(ds.tbs(), Some(iaca.tbs()));
    assert!(!inspection.has_errors(), "{:?}", inspection.findings());
    assert!(
        inspection.warnings().any(|v| matches!(
            v,
            Violation::CrlDistributionPoints(CrlDpProblem::NotHttpUri { .. })
        )),
        "{:?}",
        inspection.findings()
    );

    // Through the verifier: the document is valid, the warning is in the report.
    let bytes = std::fs::read(format!("{dir}annex_d_device_response.cbor")).unwrap();
    let response: DeviceResponse = from_slice(&bytes, &Limits::DEFAULT).unwrap();
    let issuer_signed = &response.documents.as_ref().unwrap()[0].issuer_signed;
    let trust = IssuerTrust::iacas(vec![iaca]);
    let r = verify_issuer_signed(
        issuer_signed,
        Some(MDL_DOCTYPE),
        &VerifyOptions::new(
            time::macros::datetime!(2021-01-01 00:00:00 UTC),
            &trust,
            &SoftwareVerifier,
        ),
    );
    assert!(r.is_valid(), "{:?}", r.failures().collect::<Vec<_>>());
    assert_eq!(r.outcome(CheckKind::DsProfile), Some(&Ok(())));
    assert!(
        r.warnings
            .iter()
            .any(|w| w.kind == CheckKind::DsProfile
                && w.subject.as_deref() == Some("annexb.crldp.uri")),
        "{:?}",
        r.warnings.iter().collect::<Vec<_>>()
    );
}

// ---- unprotected-header placeholders ---------------------------------------------------------

/// Replaces the first `from` in `bytes` by `to` (the test's byte-level splice).
fn splice(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

/// issuerAuth begins `[<< {1: -7} >>, {33: x5chain}, ...`; these add `4: undefined` (`kid`,
/// CBOR 0xf7) to that unprotected map, outside every signature.
const ISSUER_AUTH_HEAD: &[u8] = &[0x84, 0x43, 0xa1, 0x01, 0x26, 0xa1, 0x18, 0x21];
const ISSUER_AUTH_WITH_KID: &[u8] = &[0x84, 0x43, 0xa1, 0x01, 0x26, 0xa2, 0x04, 0xf7, 0x18, 0x21];

fn with_undefined_kid(is: &IssuerSigned) -> IssuerSigned {
    let bytes = splice(&to_vec(is), ISSUER_AUTH_HEAD, ISSUER_AUTH_WITH_KID);
    from_slice(&bytes, &Limits::DEFAULT).unwrap()
}

#[test]
fn an_undefined_kid_in_issuer_auth_is_a_warning_by_default() {
    let (is, trust, _) = document(pki::DsVariant::Exact);
    let odd = with_undefined_kid(&is);
    let r = verify(&odd, &trust);
    assert!(r.is_valid(), "{:?}", r.failures().collect::<Vec<_>>());
    let warned: Vec<_> = r
        .warnings
        .iter()
        .filter(|w| w.kind == CheckKind::UnprotectedHeader)
        .collect();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert_eq!(
        warned[0].reason,
        Failure::UnprotectedPlaceholder {
            structure: "issuerAuth",
            label: 4
        }
    );
}

#[test]
fn an_undefined_kid_is_refused_when_the_verifier_says_so() {
    let (is, trust, _) = document(pki::DsVariant::Exact);
    let odd = with_undefined_kid(&is);
    let opts = VerifyOptions {
        placeholders: Placeholders::Refuse,
        ..VerifyOptions::new(pki::AT, &trust, &SoftwareVerifier)
    };
    let r = verify_issuer_signed(&odd, Some(MDL_DOCTYPE), &opts);
    assert!(!r.is_valid());
    let failed: Vec<CheckKind> = r.failures().map(|c| c.kind).collect();
    assert_eq!(failed, [CheckKind::UnprotectedHeader]);
    // The unchanged document passes under the same strict options.
    assert!(verify_issuer_signed(&is, Some(MDL_DOCTYPE), &opts).is_valid());
}

#[test]
fn an_undefined_kid_in_the_device_signature_is_a_warning_too() {
    let (is, trust, device) = document(pki::DsVariant::Exact);
    let transcript = SessionTranscript::online(&Handover::Iso18013_7AnnexC {
        encryption_info_b64: "AQID".into(),
        origin: "https://verifier.example.jp".into(),
    });
    let doc = present_with_signature(&is, None, &transcript, &device).unwrap();
    let bytes = to_vec(&device_response(vec![doc]));
    // deviceSignature: [<< {1: -7} >>, {}, null, sig] -> unprotected {4: undefined}.
    let odd = splice(
        &bytes,
        &[0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0xf6],
        &[0x84, 0x43, 0xa1, 0x01, 0x26, 0xa1, 0x04, 0xf7, 0xf6],
    );
    let response: DeviceResponse = from_slice(&odd, &Limits::DEFAULT).unwrap();
    let input = DeviceAuthInput {
        transcript: &transcript,
        e_reader_key: None,
    };
    let r = verify_device_response(
        &response,
        &input,
        &VerifyOptions::new(pki::AT, &trust, &SoftwareVerifier),
    );
    let doc = &r.documents[0];
    assert!(doc.is_valid(), "{:?}", doc.failures().collect::<Vec<_>>());
    assert!(doc.warnings.iter().any(|w| w.reason
        == Failure::UnprotectedPlaceholder {
            structure: "deviceSignature",
            label: 4
        }));
}

#[test]
fn an_undefined_x5chain_or_a_text_kid_is_still_refused() {
    let (is, trust, _) = document(pki::DsVariant::Exact);
    let bytes = to_vec(&is);
    // x5chain (33) itself undefined: the certificate the signature depends on is missing.
    let at = bytes
        .windows(ISSUER_AUTH_HEAD.len())
        .position(|w| w == ISSUER_AUTH_HEAD)
        .unwrap();
    let x5chain_start = at + ISSUER_AUTH_HEAD.len();
    // The x5chain value is one bstr (0x59 + 2-byte length + the certificate).
    assert_eq!(bytes[x5chain_start], 0x59);
    let len = usize::from(u16::from_be_bytes([
        bytes[x5chain_start + 1],
        bytes[x5chain_start + 2],
    ]));
    let end = x5chain_start + 3 + len;
    let undefined_chain = [&bytes[..x5chain_start], &[0xf7], &bytes[end..]].concat();
    if let Ok(odd) = from_slice::<IssuerSigned>(&undefined_chain, &Limits::DEFAULT) {
        let r = verify(&odd, &trust);
        assert!(!r.is_valid());
        assert!(
            !r.warnings
                .iter()
                .any(|w| w.kind == CheckKind::UnprotectedHeader),
            "x5chain is not a placeholder: {:?}",
            r.warnings
        );
        assert!(matches!(r.outcome(CheckKind::DsCertificate), Some(Err(_))));
    }
    // A kid that is text, not a placeholder: not something to ignore.
    let text_kid = splice(
        &bytes,
        ISSUER_AUTH_HEAD,
        &[
            0x84, 0x43, 0xa1, 0x01, 0x26, 0xa2, 0x04, 0x61, 0x6b, 0x18, 0x21,
        ],
    );
    assert!(from_slice::<IssuerSigned>(&text_kid, &Limits::DEFAULT).is_err());
}
