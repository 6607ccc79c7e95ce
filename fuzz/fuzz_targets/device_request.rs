//! `DeviceRequest`: decode, re-encode, and check each readerAuth over ReaderAuthenticationBytes
//! built from the fixed Annex D SessionTranscript and the received ItemsRequestBytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mso::cbor::{from_slice, Limits};
use mso::cose::{sign1_algorithm, sign1_verify_detached, x5chain};
use mso::crypto::SoftwareVerifier;
use mso::model::{reader_authentication_bytes, DeviceRequest};
use mso::x509::Certificate;
use mso_fuzz::{at, check_reencoding, transcript};

fuzz_target!(|data: &[u8]| {
    let Ok(request) = from_slice::<DeviceRequest>(data, &Limits::DEFAULT) else {
        return;
    };
    check_reencoding(&request);

    for doc in &request.doc_requests {
        check_reencoding(doc.items_request.value());
        let payload = reader_authentication_bytes(transcript(), doc.items_request.tagged_bytes());
        let Some(reader_auth) = &doc.reader_auth else {
            continue;
        };
        let _ = sign1_algorithm(reader_auth);
        let Ok(chain) = x5chain(reader_auth) else {
            continue;
        };
        for der in &chain {
            let Ok(cert) = Certificate::from_der(der) else {
                continue;
            };
            let _ = cert.validity_at(at(), time::Duration::minutes(5));
            if let Ok(key) = cert.public_key() {
                let outcome = sign1_verify_detached(reader_auth, &payload, &key, &SoftwareVerifier);
                if mso_fuzz::verbose() {
                    eprintln!("device_request: readerAuth {outcome:?}");
                }
            }
        }
    }
});
