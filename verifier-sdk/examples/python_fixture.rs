//! Test-only: writes an mdoc issued by this project's own stack for the Python binding tests.
//!
//! `cargo run -p verifier-sdk --example python_fixture -- <dir>` writes into `<dir>`:
//! `iaca.der`, `iaca.pem` and `ds.der` (a fresh test PKI: IACA P-384 → DS P-256),
//! `issuer_signed.cbor` (the 12-element sample mDL), `device_response.cbor` (that mDL presented
//! with a device signature over an OpenID4VP transcript) and `fixture.json` (the verification
//! time and the transcript parameters).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use test_kit::{mdl, pki};

use std::path::PathBuf;

use mso::cbor::{to_vec, Limits};
use mso::crypto::{Algorithm, Signer, SoftwareKey};
use mso::model::SessionTranscript;
use mso::present::{device_response, present_with_signature};
use verifier_sdk::{session_transcript_bytes, SessionTranscriptInput};

const CLIENT_ID: &str = "x509_san_dns:verifier.example.jp";
const NONCE: &str = "python-fixture-nonce";
const RESPONSE_URI: &str = "https://verifier.example.jp/response";

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: python_fixture <dir>"),
    );
    std::fs::create_dir_all(&dir).unwrap();
    let pki = pki::TestPki::new();
    let device = SoftwareKey::generate(Algorithm::Es256);
    let issued = mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device.public_key().unwrap());
    let transcript_bytes = session_transcript_bytes(SessionTranscriptInput::OpenId4Vp {
        client_id: CLIENT_ID.into(),
        nonce: NONCE.into(),
        jwk_thumbprint: None,
        response_uri: RESPONSE_URI.into(),
    })
    .unwrap();
    let transcript = SessionTranscript::from_bytes(&transcript_bytes, &Limits::DEFAULT).unwrap();
    let doc = present_with_signature(&issued, None, &transcript, &device).unwrap();

    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();
    write("iaca.der", &pki.iaca_der);
    write("iaca.pem", pki::TestPki::pem(&pki.iaca_der).as_bytes());
    write("ds.der", &pki.ds_der);
    write("issuer_signed.cbor", &to_vec(&issued));
    write("device_response.cbor", &to_vec(&device_response(vec![doc])));
    write(
        "fixture.json",
        format!(
            "{{\n  \"at_unix_seconds\": {},\n  \"client_id\": \"{CLIENT_ID}\",\n  \"nonce\": \"{NONCE}\",\n  \"response_uri\": \"{RESPONSE_URI}\"\n}}\n",
            pki::AT.unix_timestamp()
        )
        .as_bytes(),
    );
    println!("wrote the fixture to {}", dir.display());
}
