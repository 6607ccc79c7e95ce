//! `mso::x509::Certificate::from_der`: every accessor, the public key, and the signature checks
//! against itself and the Annex D IACA (both directions).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mso::x509::Certificate;
use mso_fuzz::{at, IACA_DER};

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
    let _ = cert.verify_issued_by(&cert, &mso::crypto::SoftwareVerifier);
    if let Ok(iaca) = Certificate::from_der(IACA_DER) {
        let _ = cert.verify_issued_by(&iaca, &mso::crypto::SoftwareVerifier);
        let _ = iaca.verify_issued_by(&cert, &mso::crypto::SoftwareVerifier);
    }
});
