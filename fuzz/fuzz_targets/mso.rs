//! `MobileSecurityObjectBytes` (`#6.24(bstr .cbor MSO)`, as in an issuerAuth payload) and the
//! plain `MobileSecurityObject`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mso::cbor::{Limits, Tag24};
use mso::model::MobileSecurityObject;
use mso_fuzz::check_reencoding;

fn exercise(m: &MobileSecurityObject) {
    let _ = m.device_key_info.public_key();
    let _ = m.digest_algorithm.output_len();
    // Wrapping a decoded MSO again must give bytes that decode.
    let wrapped = Tag24::new(m.clone());
    if let Err(e) =
        Tag24::<MobileSecurityObject>::from_tagged_slice(wrapped.tagged_bytes(), &Limits::DEFAULT)
    {
        panic!("Tag24::new of a decoded MSO does not decode: {e}");
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = Tag24::<MobileSecurityObject>::from_tagged_slice(data, &Limits::DEFAULT) {
        assert!(
            t.tagged_bytes() == data,
            "Tag24 must keep the bytes as received"
        );
        assert!(
            data.ends_with(t.inner_bytes()),
            "inner bytes must be the tail of the tagged bytes"
        );
        check_reencoding(&t);
        check_reencoding(t.value());
        exercise(t.value());
    }
    if let Ok(m) = mso::cbor::from_slice::<MobileSecurityObject>(data, &Limits::DEFAULT) {
        check_reencoding(&m);
        exercise(&m);
    }
});
