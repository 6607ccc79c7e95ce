//! HPKE and the Annex C envelope against an independent implementation: pyhpke 0.6.5 (RFC
//! 9180) with cbor2 and hashlib for the envelopes and the SessionTranscript
//! (`tests/interop/py_hpke.py`). Each direction: what one side seals, the other opens.
//!
//! Needs the pinned venv (`bash scripts/python-venv.sh`), hence `#[ignore]`: run with
//! `cargo test -p mso --test suite annex_c_interop -- --ignored`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use mso::cbor::Limits;
use mso::crypto::ecdh::AgreementKey;
use mso::crypto::hpke::{open, seal};
use mso::model::{open_response, seal_response, EncryptionInfo};
use mso::Error;
use rand_core::OsRng;
use test_kit::interop::{run_script, PyRun};

const ORIGIN: &str = "https://verifier.example.jp";
const INFO: &[u8] = b"\x83\xf6\xf6\x82edcapiX\x20an info that is not empty.......";
const AAD: &[u8] = b"and a non-empty aad";
const PLAINTEXT: &[u8] = b"\xa2gversionc1.0fstatus\x00 -- a DeviceResponse stands here";

fn py(args: &[&str]) -> PyRun {
    let run = run_script("py_hpke.py", args);
    assert_eq!(run.code, 0, "py_hpke.py {args:?}: {}", run.stderr);
    run
}

fn key() -> (AgreementKey, String) {
    let sk = p256::SecretKey::random(&mut OsRng);
    let scalar = hex::encode(sk.to_bytes());
    (AgreementKey::P256(sk), scalar)
}

#[test]
#[ignore = "needs the pinned Python venv (scripts/python-venv.sh)"]
fn pyhpke_opens_what_we_seal() {
    let (k, scalar) = key();
    let s = seal(&k.public_key(), INFO, AAD, PLAINTEXT).unwrap();
    let run = py(&[
        "open",
        &scalar,
        &hex::encode(&s.enc),
        &hex::encode(INFO),
        &hex::encode(AAD),
        &hex::encode(&s.ciphertext),
    ]);
    assert_eq!(run.stdout.trim(), hex::encode(PLAINTEXT));

    // And refuses it under another aad: the check is real.
    let run = run_script(
        "py_hpke.py",
        &[
            "open",
            &scalar,
            &hex::encode(&s.enc),
            &hex::encode(INFO),
            &hex::encode(b"other aad"),
            &hex::encode(&s.ciphertext),
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
}

#[test]
#[ignore = "needs the pinned Python venv (scripts/python-venv.sh)"]
fn we_open_what_pyhpke_seals() {
    let (k, _) = key();
    let run = py(&[
        "seal",
        &hex::encode(k.public_key().to_sec1()),
        &hex::encode(INFO),
        &hex::encode(AAD),
        &hex::encode(PLAINTEXT),
    ]);
    let [enc, ct] = run.stdout.split_whitespace().collect::<Vec<_>>()[..] else {
        panic!("unexpected output {}", run.stdout)
    };
    let (enc, ct) = (hex::decode(enc).unwrap(), hex::decode(ct).unwrap());
    assert_eq!(&*open(&k, &enc, INFO, AAD, &ct).unwrap(), PLAINTEXT);
    assert_eq!(open(&k, &enc, INFO, b"", &ct), Err(Error::HpkeDecryption));
}

#[test]
#[ignore = "needs the pinned Python venv (scripts/python-venv.sh)"]
fn annex_c_responses_cross_both_ways() {
    let (reader, scalar) = key();
    let info = EncryptionInfo::new(&[0x42; 16], &reader.public_key()).unwrap();
    let b64 = info.to_base64url();

    // Our EncryptedResponse, opened by Python with the transcript it computes itself.
    let (sealed, _) = seal_response(info.as_bytes(), ORIGIN, PLAINTEXT, &Limits::DEFAULT).unwrap();
    let run = py(&["annexc-open", &scalar, &b64, ORIGIN, &hex::encode(&sealed)]);
    assert_eq!(run.stdout.trim(), hex::encode(PLAINTEXT));
    // Under another origin Python's transcript differs and it refuses.
    let run = run_script(
        "py_hpke.py",
        &[
            "annexc-open",
            &scalar,
            &b64,
            "https://other.example",
            &hex::encode(&sealed),
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);

    // Python's EncryptedResponse (cbor2-encoded), opened by ours.
    let run = py(&["annexc-seal", &b64, ORIGIN, &hex::encode(PLAINTEXT)]);
    let theirs = hex::decode(run.stdout.trim()).unwrap();
    let (opened, transcript) =
        open_response(&reader, info.as_bytes(), ORIGIN, &theirs, &Limits::DEFAULT).unwrap();
    assert_eq!(opened, PLAINTEXT);
    assert_eq!(transcript, info.session_transcript(ORIGIN));
}
