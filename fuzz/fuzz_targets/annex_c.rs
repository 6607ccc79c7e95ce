//! The ISO 18013-7 Annex C envelopes: `EncryptionInfo::from_bytes` and
//! `EncryptedResponse::from_bytes` (the first byte picks one). A parsed EncryptionInfo keeps its
//! bytes, yields its transcript and rebuilds from its parts; a parsed EncryptedResponse
//! re-encodes to a fixpoint and never opens under a key that sealed nothing to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mso::cbor::Limits;
use mso::crypto::ecdh::AgreementKey;
use mso::crypto::Curve;
use mso::model::{open_response, EncryptedResponse, EncryptionInfo};

const ORIGIN: &str = "https://verifier.example";

fuzz_target!(|input: &[u8]| {
    let Some((&which, data)) = input.split_first() else {
        return;
    };
    if which % 2 == 0 {
        let Ok(info) = EncryptionInfo::from_bytes(data, &Limits::DEFAULT) else {
            return;
        };
        assert!(
            info.as_bytes() == data,
            "EncryptionInfo must keep its bytes"
        );
        let again = EncryptionInfo::from_base64url(&info.to_base64url(), &Limits::DEFAULT)
            .unwrap_or_else(|e| panic!("base64url of a parsed EncryptionInfo: {e}"));
        assert!(
            again == info,
            "base64url round trip changed the EncryptionInfo"
        );
        let _ = info.session_transcript(ORIGIN);
        let rebuilt = EncryptionInfo::new(info.nonce(), info.recipient_key())
            .unwrap_or_else(|e| panic!("a parsed EncryptionInfo does not rebuild: {e}"));
        let reparsed = EncryptionInfo::from_bytes(rebuilt.as_bytes(), &Limits::DEFAULT)
            .unwrap_or_else(|e| panic!("a built EncryptionInfo does not parse: {e}"));
        assert!(
            reparsed == rebuilt,
            "a built EncryptionInfo changed when parsed"
        );
    } else {
        let Ok(response) = EncryptedResponse::from_bytes(data, &Limits::DEFAULT) else {
            return;
        };
        let bytes = response.to_bytes();
        let back = EncryptedResponse::from_bytes(&bytes, &Limits::DEFAULT)
            .unwrap_or_else(|e| panic!("an encoded EncryptedResponse does not parse: {e}"));
        assert!(back == response, "EncryptedResponse round trip changed it");
        assert!(
            back.to_bytes() == bytes,
            "EncryptedResponse encoding is not a fixpoint"
        );
        let Ok(key) = AgreementKey::from_scalar(Curve::P256, &[7; 32]) else {
            return;
        };
        let Ok(info) = EncryptionInfo::new(&[1; 16], &key.public_key()) else {
            return;
        };
        assert!(
            open_response(&key, info.as_bytes(), ORIGIN, &bytes, &Limits::DEFAULT).is_err(),
            "a response nobody sealed opened"
        );
    }
});
