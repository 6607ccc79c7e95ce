//! Wallet-side helpers: device keys, proofs of possession, nonces, and reading what the issuer returned.

use super::*;

// ---------------------------------------------------------------------------------------------
// Wallet-side helpers
// ---------------------------------------------------------------------------------------------

/// A compact JWS over `header` and `claims` signed by `key`.
pub(crate) fn jws(key: &SoftwareKey, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

pub(crate) fn proof(key: &SoftwareKey, aud: &str, nonce: &str, with_jwk: bool) -> String {
    make_proof(key, aud, nonce, now(), with_jwk).unwrap()
}

/// base64url of an EC2 P-256 COSE_Key, optionally with extra members.
pub(crate) fn cose_key_b64(key: &PublicKey, extra: &[(i64, Cbor)]) -> String {
    let sec1 = key.to_sec1();
    let (x, y) = sec1[1..].split_at(32);
    cose_key_xy(x, y, extra)
}

pub(crate) fn cose_key_xy(x: &[u8], y: &[u8], extra: &[(i64, Cbor)]) -> String {
    let mut map = vec![
        (Cbor::from(1), Cbor::from(2)),
        (Cbor::from(-1), Cbor::from(1)),
        (Cbor::from(-2), Cbor::Bytes(x.to_vec())),
        (Cbor::from(-3), Cbor::Bytes(y.to_vec())),
    ];
    map.extend(extra.iter().map(|(k, v)| (Cbor::from(*k), v.clone())));
    URL_SAFE_NO_PAD.encode(encode_value(&Cbor::Map(map)))
}

/// A P-256 point that is not on the curve (y off by one).
pub(crate) fn off_curve(key: &PublicKey) -> (Vec<u8>, Vec<u8>) {
    let sec1 = key.to_sec1();
    let x = sec1[1..33].to_vec();
    let mut y = sec1[33..65].to_vec();
    y[31] ^= 0x01;
    (x, y)
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn b64d(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

pub(crate) fn iaca_anchors(env: &Env) -> TrustAnchors {
    TrustAnchors::new(vec![env.stack.iaca().unwrap()])
}

/// Decodes and verifies one credential against the dev IACA and checks its MSO's status
/// references; returns the decoded IssuerSigned.
pub(crate) fn check_credential(env: &Env, cred: &Credential, key: &PublicKey) -> IssuerSigned {
    let at = now();
    let bytes = b64d(&cred.issuer_signed);
    let issued: IssuerSigned = from_slice(&bytes, &Limits::DEFAULT).unwrap();
    let trust = IssuerTrust::iacas(vec![env.stack.iaca().unwrap()]);
    let opts = VerifyOptions::new(at, &trust, &SoftwareVerifier);
    let report = verify_issuer_signed(&issued, Some(MDL), &opts);
    assert!(
        report.is_valid(),
        "IssuerSigned does not verify: {:?}",
        report.failures().collect::<Vec<_>>()
    );
    let digests = report
        .checks
        .iter()
        .filter(|c| c.kind == CheckKind::ValueDigest)
        .count();
    assert_eq!(digests, 12, "every element of the sample mDL is disclosed");

    let mso = issued.issuer_auth.mso().value();
    assert_eq!(mso.doc_type, MDL);
    assert_eq!(&mso.device_key_info.public_key().unwrap(), key);
    let status = mso.status.as_ref().expect("MSO carries status");
    let sl = status.status_list.as_ref().expect("status_list");
    assert_eq!(sl.idx, cred.status_list.idx);
    assert_eq!(sl.uri, cred.status_list.uri);
    assert!(
        sl.uri
            .starts_with(&format!("{}/v1/status-lists/", env.stack.base_url)),
        "{}",
        sl.uri
    );
    let il = status.identifier_list.as_ref().expect("identifier_list");
    let thumbprint = cose_key_thumbprint(key);
    assert_eq!(
        il.id,
        thumbprint.to_vec(),
        "identifier = RFC 9679 thumbprint"
    );
    assert_eq!(il.uri, format!("{}/v1/identifier-list", env.stack.base_url));
    assert_eq!(cred.identifier_list.uri, il.uri);
    assert_eq!(cred.identifier_list.id, b64(&thumbprint));

    let v = &mso.validity_info;
    assert_eq!(
        cred.valid_from,
        v.valid_from.datetime().format(&Rfc3339).unwrap()
    );
    assert_eq!(
        cred.valid_until,
        v.valid_until.datetime().format(&Rfc3339).unwrap()
    );
    assert!(v.valid_until.datetime() > at);
    assert!(v.valid_from.datetime() <= at + Duration::minutes(5));
    issued
}

/// Every salt (`random`) and every value digest of the MSOs.
pub(crate) fn salts_and_digests(issued: &[&IssuerSigned]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut salts = Vec::new();
    let mut digests = Vec::new();
    for i in issued {
        for items in i.name_spaces.as_ref().unwrap().values() {
            for item in items {
                salts.push(item.value().random.clone());
            }
        }
        for ds in i.issuer_auth.mso().value().value_digests.values() {
            digests.extend(ds.values().cloned());
        }
    }
    (salts, digests)
}

pub(crate) fn all_distinct(v: &[Vec<u8>]) -> bool {
    v.iter().collect::<BTreeSet<_>>().len() == v.len()
}

/// The value of the first sample of `metric` whose labels contain every one of `labels`.
pub(crate) fn metric_value(text: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")) || l.starts_with(&format!("{metric} ")))
        .find(|l| labels.iter().all(|lab| l.contains(lab)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}
