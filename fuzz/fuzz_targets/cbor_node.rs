//! `mso::cbor::node::parse` under tight limits, then under the defaults: the two must agree, and
//! the tree's conversion to a `ciborium::Value` must encode deterministically to bytes that parse
//! again and re-encode identically.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mso::cbor::{encode_value, node, Limits};

const TIGHT: Limits = Limits {
    max_size: 64 * 1024,
    max_depth: 8,
    max_collection_len: 256,
    max_total_items: 4096,
};

fuzz_target!(|data: &[u8]| {
    let tight = node::parse(data, &TIGHT);
    let default = node::parse(data, &Limits::DEFAULT);
    let Ok(n) = tight else {
        return;
    };
    match default {
        // Compared through Debug: `Node: PartialEq` has NaN != NaN.
        Ok(d) => assert!(
            format!("{d:?}") == format!("{n:?}"),
            "tight and default limits give different trees"
        ),
        Err(e) => panic!("accepted under tight limits but refused under the defaults: {e}"),
    }
    assert!(n.span == (0..data.len()), "root span must cover the input");
    assert!(n.raw(data) == data);

    let value = n.to_value(data);
    let encoded = encode_value(&value);
    let reparsed = node::parse(&encoded, &TIGHT).unwrap_or_else(|e| {
        panic!(
            "deterministic encoding of a parsed item does not parse: {e}\nencoded: {}",
            mso_fuzz::hex(&encoded)
        )
    });
    let again = encode_value(&reparsed.to_value(&encoded));
    assert!(
        again == encoded,
        "deterministic encoding is not a fixpoint\nfirst:  {}\nsecond: {}",
        mso_fuzz::hex(&encoded),
        mso_fuzz::hex(&again)
    );
});
