//! `DeviceEngagement::from_bytes`: decode, keep the bytes, rebuild a proximity SessionTranscript
//! from them and run the session key derivation against the Annex D EReaderKey.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mso::cbor::Limits;
use mso::crypto::ecdh::derive_session_key;
use mso::crypto::PublicKey;
use mso::model::{DeviceEngagement, SessionTranscript};
use mso_fuzz::ereader_key;

fuzz_target!(|data: &[u8]| {
    let Ok(de) = DeviceEngagement::from_bytes(data, &Limits::DEFAULT) else {
        return;
    };
    assert!(
        de.raw() == data,
        "DeviceEngagement must keep the bytes as received"
    );
    let again = DeviceEngagement::from_bytes(de.raw(), &Limits::DEFAULT)
        .unwrap_or_else(|e| panic!("DeviceEngagement raw bytes do not decode again: {e}"));
    // Compared through Debug: `Value: PartialEq` has NaN != NaN (retrieval methods are `any`).
    assert!(
        format!("{again:?}") == format!("{de:?}"),
        "decoding the same bytes twice differs"
    );

    // A proximity transcript made of the received parts must parse and split back into them.
    let de_bytes = de.tagged_bytes();
    let st = SessionTranscript::proximity(&de_bytes, de.e_device_key.tagged_bytes(), &[0xf6]);
    let parsed = SessionTranscript::from_bytes(st.as_bytes(), &Limits::DEFAULT)
        .unwrap_or_else(|e| panic!("proximity transcript does not parse: {e}"));
    let parts = parsed
        .parts()
        .unwrap_or_else(|e| panic!("proximity transcript does not split: {e}"));
    assert!(
        parts[0] == de_bytes,
        "DeviceEngagementBytes changed in the transcript"
    );

    if let Ok(key) = PublicKey::from_cose_key(de.e_device_key.value()) {
        if let Ok(shared) = ereader_key().shared_secret(&key) {
            let _ = derive_session_key(&shared, &st.tagged_bytes(), b"SKReader");
        }
    }
});
