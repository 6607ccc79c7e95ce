//! `mdoc_jose::jwe`: `peek_header` and `decrypt` on arbitrary text never panic and agree (a
//! header `peek_header` refuses, `decrypt` refuses the same way; what `decrypt` opens,
//! `peek_header` reads the same header of); and a JWE encrypted with the input as plaintext,
//! `kid`, `apu` and `apv` decrypts back to them, and not once a byte of it changed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdoc_jose::jwe::{decrypt, encrypt, peek_header, ContentEncryption, EncryptParams, JweError};
use mso::crypto::ecdh::AgreementKey;
use mso::crypto::Curve;

const MAX: usize = 64 * 1024;
const BOTH: &[ContentEncryption] = &[ContentEncryption::A128Gcm, ContentEncryption::A256Gcm];

fn key(curve: Curve) -> AgreementKey {
    AgreementKey::from_scalar(
        curve,
        &[7u8; 48][..if curve == Curve::P256 { 32 } else { 48 }],
    )
    .unwrap_or_else(|e| panic!("fixed scalar: {e}"))
}

fuzz_target!(|input: &[u8]| {
    let Some((&which, data)) = input.split_first() else {
        return;
    };
    let curve = if which & 2 == 0 {
        Curve::P256
    } else {
        Curve::P384
    };
    let key = key(curve);
    if which & 1 == 0 {
        let text = String::from_utf8_lossy(data);
        let peeked = peek_header(&text, MAX);
        let opened = decrypt(&text, &key, BOTH, MAX);
        match (&peeked, &opened) {
            (Err(p), Err(d)) => assert!(p == d, "peek_header {p:?} but decrypt {d:?}"),
            (Err(p), Ok(_)) => panic!("decrypt opened what peek_header refused: {p:?}"),
            (Ok(h), Ok(d)) => assert!(*h == d.header, "headers differ"),
            (Ok(_), Err(e)) => assert!(
                matches!(
                    e,
                    JweError::DecryptionFailed
                        | JweError::EncNotAccepted(_)
                        | JweError::Epk(mdoc_jose::jwe::EpkError::WrongCurve { .. })
                ),
                "peek_header passed but decrypt refused the structure: {e:?}"
            ),
        }
        return;
    }
    // Round trip: the input split into plaintext, kid, apu, apv.
    let enc = if which & 4 == 0 {
        ContentEncryption::A128Gcm
    } else {
        ContentEncryption::A256Gcm
    };
    let mut pieces = data.splitn(4, |b| *b == 0);
    let plaintext = pieces.next().unwrap_or_default();
    let kid = pieces.next().map(String::from_utf8_lossy);
    let apu = pieces.next();
    let apv = pieces.next();
    // Keep the header under MAX_HEADER_LEN even if every kid byte is JSON-escaped (6 chars).
    if kid.as_ref().map_or(0, |k| k.len()) + apu.map_or(0, <[u8]>::len) + apv.map_or(0, <[u8]>::len)
        > 300
    {
        return;
    }
    let params = EncryptParams {
        enc,
        kid: kid.as_deref(),
        apu,
        apv,
    };
    let Ok(jwe) = encrypt(&key.public_key(), &params, plaintext) else {
        panic!("encrypt to a P-256/P-384 key failed");
    };
    let d = decrypt(&jwe, &key, &[enc], usize::MAX)
        .unwrap_or_else(|e| panic!("our own JWE does not decrypt: {e:?}"));
    assert!(&d.plaintext[..] == plaintext, "plaintext changed");
    assert!(d.header.kid.as_deref() == params.kid, "kid changed");
    assert!(d.header.apu.as_deref() == apu, "apu changed");
    assert!(d.header.apv.as_deref() == apv, "apv changed");
    // One changed byte, chosen by the input, is refused.
    let mut bytes = jwe.into_bytes();
    let i = usize::from(which) % bytes.len();
    if let Some(b) = bytes.get_mut(i) {
        *b = if *b == b'A' { b'B' } else { b'A' };
    }
    if let Ok(changed) = String::from_utf8(bytes) {
        assert!(
            decrypt(&changed, &key, &[enc], usize::MAX).is_err(),
            "a changed JWE decrypted"
        );
    }
});
