//! Key URIs: RFC 7512 `pkcs11:` and `file:` parsing, printing, and every rejection.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use custody::uri::KeyUri;
use custody::Error;

fn p11(token: &str, object: &str) -> KeyUri {
    KeyUri::Pkcs11 {
        token: token.into(),
        object: object.into(),
    }
}

fn parse(s: &str) -> KeyUri {
    s.parse()
        .unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

/// Parses `s`, expecting `InvalidUri` whose reason contains `reason_part`; returns the error
/// text.
fn reject(s: &str, reason_part: &str) -> String {
    match s.parse::<KeyUri>() {
        Ok(k) => panic!("{s:?} should be rejected, parsed as {k:?}"),
        Err(e @ Error::InvalidUri { .. }) => {
            let Error::InvalidUri { reason, .. } = &e else {
                unreachable!()
            };
            assert!(
                reason.contains(reason_part),
                "{s:?}: reason {reason:?} should mention {reason_part:?}"
            );
            e.to_string()
        }
        Err(other) => panic!("{s:?}: expected InvalidUri, got {other:?}"),
    }
}

#[test]
fn pkcs11_basic_and_canonical_print() {
    let k = parse("pkcs11:token=IACA;object=root-2025");
    assert_eq!(k, p11("IACA", "root-2025"));
    assert_eq!(k.to_string(), "pkcs11:token=IACA;object=root-2025");
    assert_eq!(k.scheme(), "pkcs11");
    // Attribute order does not matter; output is canonical.
    let k = parse("pkcs11:object=root-2025;token=IACA");
    assert_eq!(k, p11("IACA", "root-2025"));
    assert_eq!(k.to_string(), "pkcs11:token=IACA;object=root-2025");
    // Scheme is case-insensitive (RFC 3986).
    assert_eq!(parse("PKCS11:token=a;object=b"), p11("a", "b"));
}

#[test]
fn pkcs11_percent_decoding() {
    let k = parse("pkcs11:token=IACA%20root;object=DS%3B2025%2Fq1");
    assert_eq!(k, p11("IACA root", "DS;2025/q1"));
    assert_eq!(
        k.to_string(),
        "pkcs11:token=IACA%20root;object=DS%3B2025%2Fq1"
    );
    // Lower-case hex escapes are accepted; UTF-8 labels decode.
    assert_eq!(
        parse("pkcs11:token=%e3%83%9e%e3%82%a4;object=k"),
        p11("マイ", "k")
    );
    // Characters RFC 7512 allows unescaped in values.
    assert_eq!(
        parse("pkcs11:token=a:b@c!$'()*+,=&d;object=x~y.z_-"),
        p11("a:b@c!$'()*+,=&d", "x~y.z_-")
    );
}

#[test]
fn pkcs11_unknown_and_standard_attributes_are_tolerated() {
    let k = parse(
        "pkcs11:manufacturer=SoftHSM%20project;model=SoftHSM%20v2;serial=1234;\
         token=IACA;id=%01%02%a0;object=root;type=private;slot-id=0;x-vendor_thing=1",
    );
    assert_eq!(k, p11("IACA", "root"));
    // Ignored attributes are not printed.
    assert_eq!(k.to_string(), "pkcs11:token=IACA;object=root");
}

#[test]
fn pkcs11_round_trips() {
    let labels = [
        ("IACA", "root-2025"),
        ("with space", "semi;colon"),
        ("eq=amp&", "q?h#p%"),
        ("slash/back\\", "マイナンバー"),
        ("x", "a\u{e9}b"),
        ("32-byte-label-xxxxxxxxxxxxxxxxx", "o"),
    ];
    for (token, object) in labels {
        let k = KeyUri::pkcs11(token, object).unwrap();
        let printed = k.to_string();
        assert_eq!(parse(&printed), k, "{printed}");
        assert_eq!(parse(&printed).to_string(), printed);
    }
}

#[test]
fn pkcs11_pin_is_refused_and_never_echoed() {
    for uri in [
        "pkcs11:token=IACA;object=root?pin-value=123456",
        "pkcs11:token=IACA;object=root?module-path=/x&pin-value=123456",
        "pkcs11:token=IACA;object=root?pin-source=file:/tmp/pin123456",
        "pkcs11:token=IACA;object=root;pin-value=123456",
        "pkcs11:token=IACA;object=root;PIN-VALUE=123456",
        "pkcs11:token=IACA;object=root;pin%2Dvalue=123456",
    ] {
        let text = reject(uri, "PIN never goes in a key URI");
        assert!(!text.contains("123456"), "error echoes the PIN: {text}");
    }
}

#[test]
fn pkcs11_other_query_is_refused_without_echo() {
    let text = reject(
        "pkcs11:token=IACA;object=root?module-path=/secret/path",
        "query attributes are not accepted",
    );
    assert!(!text.contains("/secret/path"), "{text}");
}

#[test]
fn pkcs11_rejections() {
    reject("pkcs11:", "required");
    reject("pkcs11:object=root", "token attribute is required");
    reject("pkcs11:token=IACA", "object attribute is required");
    reject("pkcs11:token=;object=root", "token label is empty");
    reject("pkcs11:token=IACA;object=", "object label is empty");
    reject("pkcs11:token=a;token=b;object=c", "more than once");
    reject("pkcs11:token=a;object=b;object=c", "more than once");
    reject("pkcs11:token=a;object=b;id=%01;id=%02", "more than once");
    reject("pkcs11:token=a;;object=b", "stray ';'");
    reject("pkcs11:token=a;object=b;", "stray ';'");
    reject("pkcs11:token=a;object", "not name=value");
    reject("pkcs11:token=a;object=b%4", "two hex digits");
    reject("pkcs11:token=a;object=b%zz", "two hex digits");
    reject("pkcs11:token=a b;object=c", "must be percent-encoded");
    reject("pkcs11:token=a/b;object=c", "must be percent-encoded");
    reject("pkcs11:token=a;object=c\"d", "must be percent-encoded");
    reject("pkcs11:token=%FF%FE;object=c", "not UTF-8");
    reject("pkcs11:token=a;object=%C3", "not UTF-8");
    reject(
        "pkcs11:token=123456789012345678901234567890123;object=c",
        "at most 32",
    );
    reject("pkcs11:token=a%20;object=c", "ends with a space");
    reject("pkcs11:token=a;object=b%0A", "control characters");
    reject(
        &format!("pkcs11:token=a;object={}", "o".repeat(256)),
        "at most 255",
    );
    reject(
        "pkcs11:token=a;object=b;type=public",
        "does not name a private",
    );
    reject(
        "pkcs11:token=a;object=b;type=cert",
        "does not name a private",
    );
    reject("pkcs11:token=a;object=b;type=bogus", "unknown object type");
    reject("pkcs11:token=a;object=b;bad.name=1", "bad attribute name");
    reject("pkcs11:token=a;object=b;=1", "bad attribute name");
    reject("pkcs11:token=a;object=b#frag", "no fragment");
    reject(
        &format!("pkcs11:token=a;object=b;x-pad={}", "p".repeat(5000)),
        "longer than",
    );
}

#[test]
fn scheme_rejections() {
    reject("", "no scheme");
    reject("token=a;object=b", "no scheme");
    reject("http://example.com/key", "unsupported scheme");
    reject("pkcs12:token=a;object=b", "unsupported scheme");
}

#[test]
fn file_uris() {
    let k = parse("file:keys/ds.json");
    assert_eq!(k, KeyUri::file("keys/ds.json"));
    assert_eq!(k.scheme(), "file");
    assert_eq!(k.to_string(), "file:keys/ds.json");
    assert_eq!(
        parse("file:/etc/mdoc/ds.json"),
        KeyUri::file("/etc/mdoc/ds.json")
    );
    assert_eq!(
        parse("file:///etc/mdoc/ds.json"),
        KeyUri::file("/etc/mdoc/ds.json")
    );
    assert_eq!(
        parse("file://localhost/etc/mdoc/ds.json"),
        KeyUri::file("/etc/mdoc/ds.json")
    );
    assert_eq!(parse("FILE:a%20b.json"), KeyUri::file("a b.json"));
    assert_eq!(
        KeyUri::file("/etc/mdoc/ds.json").to_string(),
        "file:/etc/mdoc/ds.json"
    );
}

#[test]
fn file_round_trips() {
    for path in [
        "dev/ds key.json",
        "/abs/100%/x?y#z.json",
        "//double/leading",
        "rel/マイ.json",
        "semi;colon=and,comma",
    ] {
        let k = KeyUri::file(PathBuf::from(path));
        let printed = k.to_string();
        assert_eq!(parse(&printed), k, "{printed}");
    }
}

#[cfg(unix)]
#[test]
fn file_non_utf8_path_round_trips() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let k = KeyUri::file(PathBuf::from(OsString::from_vec(vec![b'k', 0xFF, b'y'])));
    let printed = k.to_string();
    assert_eq!(printed, "file:k%FFy");
    assert_eq!(parse(&printed), k);
}

#[test]
fn file_rejections() {
    reject("file:", "path is empty");
    reject("file://", "path is empty");
    reject("file://localhost", "path is empty");
    reject("file://fileserver/share/key.json", "remote file host");
    reject("file:key.json?x=1", "no query");
    reject("file:key.json#f", "no fragment");
    reject("file:a%00b", "NUL");
    reject("file:a b", "must be percent-encoded");
    reject("file:a%G0", "two hex digits");
}

#[test]
fn constructor_checks_labels() {
    assert!(matches!(
        KeyUri::pkcs11("", "x"),
        Err(Error::InvalidUri { .. })
    ));
    assert!(matches!(
        KeyUri::pkcs11("t", ""),
        Err(Error::InvalidUri { .. })
    ));
    assert_eq!(KeyUri::pkcs11("t", "o").unwrap(), p11("t", "o"));
}
