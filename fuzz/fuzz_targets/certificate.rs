//! `mso::x509::Certificate::from_der`: every accessor, the public key, the signature checks
//! against itself and the Annex D IACA (both directions), the profile of every role (alone and
//! against the IACA), and path validation with the input as leaf and as anchor.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mso::crypto::SoftwareVerifier;
use mso::x509::path::{validate_with, PathPolicy};
use mso::x509::profile::{inspect, Role};
use mso::x509::{Certificate, TrustAnchors};
use mso_fuzz::{at, IACA_DER};

const ROLES: [Role; 5] = [
    Role::Iaca,
    Role::Link,
    Role::DocumentSigner,
    Role::ListSigner,
    Role::VicalSigner,
];

fuzz_target!(|data: &[u8]| {
    let Ok(cert) = Certificate::from_der(data) else {
        return;
    };
    assert!(cert.der() == data);
    let _ = cert.public_key();
    let _ = (cert.not_before(), cert.not_after());
    let _ = cert.validity_at(at(), time::Duration::minutes(5));
    let _ = (cert.country(), cert.state_or_province());
    let _ = (cert.subject_key_id(), cert.authority_key_id());
    let _ = cert.verify_issued_by(&cert, &SoftwareVerifier);
    let Ok(iaca) = Certificate::from_der(IACA_DER) else {
        return;
    };
    let _ = cert.verify_issued_by(&iaca, &SoftwareVerifier);
    let _ = iaca.verify_issued_by(&cert, &SoftwareVerifier);
    for role in ROLES {
        let alone = inspect(role, cert.tbs(), None);
        let _ = (alone.has_errors(), alone.findings().len());
        for f in inspect(role, cert.tbs(), Some(iaca.tbs())).findings() {
            let _ = (f.violation.code(), f.to_string());
        }
    }
    let policy = PathPolicy::default();
    let iaca_anchor = TrustAnchors::new(vec![iaca.clone()]);
    let self_anchor = TrustAnchors::new(vec![cert.clone()]);
    let chain = [cert.clone()];
    for role in ROLES {
        let _ = validate_with(&cert, &[], &iaca_anchor, at(), role, &SoftwareVerifier, &policy)
            .map_err(|e| e.to_string());
        let _ = validate_with(&iaca, &chain, &self_anchor, at(), role, &SoftwareVerifier, &policy)
            .map_err(|e| e.to_string());
    }
});
