//! `SessionTranscript::from_bytes` (SessionTranscriptBytes or the bare array): decode, split into
//! parts, rebuild, and build the DeviceAuthentication / ReaderAuthentication bytes over it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mso::cbor::Limits;
use mso::crypto::ecdh::derive_session_key;
use mso::model::{device_authentication_bytes, reader_authentication_bytes, SessionTranscript};

fuzz_target!(|data: &[u8]| {
    let Ok(st) = SessionTranscript::from_bytes(data, &Limits::DEFAULT) else {
        return;
    };
    let parts = st
        .parts()
        .unwrap_or_else(|e| panic!("a parsed SessionTranscript does not split: {e}"));
    let rebuilt = SessionTranscript::proximity(&parts[0], &parts[1], &parts[2]);
    if let Err(e) = SessionTranscript::from_bytes(rebuilt.as_bytes(), &Limits::DEFAULT) {
        panic!("a transcript rebuilt from its parts does not parse: {e}");
    }

    let tagged = st.tagged_bytes();
    let back = SessionTranscript::from_bytes(&tagged, &Limits::DEFAULT)
        .unwrap_or_else(|e| panic!("SessionTranscriptBytes of a parsed transcript: {e}"));
    assert!(
        back == st,
        "SessionTranscriptBytes round trip changed the transcript"
    );

    // DeviceNameSpacesBytes of an empty map, ItemsRequestBytes of an empty map.
    let _ = device_authentication_bytes(&st, mso::model::MDL_DOCTYPE, &[0xd8, 0x18, 0x41, 0xa0]);
    let _ = reader_authentication_bytes(&st, &[0xd8, 0x18, 0x41, 0xa0]);
    let _ = derive_session_key(&[7u8; 32], &tagged, b"SKDevice");
});
