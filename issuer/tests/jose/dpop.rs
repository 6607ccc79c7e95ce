//! RFC 9449 DPoP proofs: round trips and every refusal.

use mdoc_issuer::jose::dpop::{
    access_token_hash, make_dpop, normalize_htu, verify_dpop, DpopCheck, DpopError, DpopProof,
    DPOP_TYP,
};
use mdoc_issuer::jose::jwk::{thumbprint, JwkError};
use mdoc_issuer::jose::jws::JwsError;
use mso::crypto::{Algorithm, Signer, SoftwareKey};
use serde_json::{json, Value as Json};
use time::Duration;

use crate::common::{b64, forge, jwk_of, key, with_signature, ALGS, NOW, VERIFIER};

const HTU: &str = "https://issuer.example/credential";
const TOKEN: &str = "access-token-1";
const DPOP_NONCE: &str = "server-nonce-1";

fn check() -> DpopCheck<'static> {
    DpopCheck {
        method: "POST",
        htu: HTU,
        access_token: Some(TOKEN),
        nonce: Some(DPOP_NONCE),
        now: NOW,
        max_age: Duration::minutes(5),
    }
}

fn make(k: &SoftwareKey) -> String {
    make_dpop(k, "POST", HTU, Some(TOKEN), Some(DPOP_NONCE), NOW, "jti-1").unwrap()
}

fn verify(proof: &str) -> Result<DpopProof, DpopError> {
    verify_dpop(proof, &check(), &VERIFIER)
}

fn header(k: &SoftwareKey) -> Json {
    json!({"typ": DPOP_TYP, "alg": k.algorithm().name(), "jwk": jwk_of(k)})
}

fn claims() -> Json {
    json!({
        "jti": "jti-1", "htm": "POST", "htu": HTU, "iat": NOW.unix_timestamp(),
        "ath": access_token_hash(TOKEN), "nonce": DPOP_NONCE
    })
}

#[test]
fn every_algorithm_round_trips() {
    for alg in ALGS {
        let k = key(alg);
        let p = verify(&make(&k)).unwrap();
        assert_eq!(p.jkt, thumbprint(&k.public_key().unwrap()), "{alg}");
        assert_eq!(p.key, k.public_key().unwrap());
        assert_eq!(p.jti, "jti-1");
        assert_eq!(p.iat, NOW);
    }
}

#[test]
fn token_endpoint_without_token_or_nonce() {
    let k = key(Algorithm::Es256);
    let proof = make_dpop(
        &k,
        "POST",
        "https://issuer.example/token",
        None,
        None,
        NOW,
        "j",
    )
    .unwrap();
    let cx = DpopCheck {
        htu: "https://issuer.example/token",
        access_token: None,
        nonce: None,
        ..check()
    };
    verify_dpop(&proof, &cx, &VERIFIER).unwrap();
}

#[test]
fn ath_is_rfc9449s() {
    // RFC 9449 §7.1's example: the access token "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
    // has ath "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo".
    assert_eq!(
        access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
}

#[test]
fn htu_is_normalised() {
    let same = [
        "https://issuer.example/credential",
        "HTTPS://Issuer.Example/credential",
        "https://issuer.example:443/credential",
        "https://issuer.example/credential?x=1",
        "https://issuer.example/credential#frag",
        "https://issuer.example/a/../credential",
    ];
    for htu in same {
        assert_eq!(
            normalize_htu(htu).as_deref(),
            Some(HTU),
            "{htu} should equal {HTU}"
        );
        let k = key(Algorithm::Es256);
        let mut c = claims();
        c["htu"] = json!(htu);
        verify(&forge(&k, &header(&k), &c)).unwrap();
    }
    assert_eq!(
        normalize_htu("http://issuer.example:80").as_deref(),
        Some("http://issuer.example/")
    );
    for bad in [
        "issuer.example/credential",
        "ftp://issuer.example/",
        "/credential",
        "",
    ] {
        assert_eq!(normalize_htu(bad), None, "{bad}");
    }
}

#[test]
fn another_url_or_method_is_refused() {
    let k = key(Algorithm::Es256);
    for htu in [
        "https://issuer.example/token",
        "https://issuer.example:8443/credential",
        "http://issuer.example/credential",
        "https://evil.example/credential",
        "https://issuer.example/credential/",
    ] {
        let mut c = claims();
        c["htu"] = json!(htu);
        assert_eq!(
            verify(&forge(&k, &header(&k), &c)),
            Err(DpopError::Url {
                expected: HTU.into()
            }),
            "{htu}"
        );
    }
    let mut c = claims();
    c["htu"] = json!("not a url");
    assert_eq!(verify(&forge(&k, &header(&k), &c)), Err(DpopError::BadHtu));
    for htm in ["GET", "post"] {
        let mut c = claims();
        c["htm"] = json!(htm);
        assert!(matches!(
            verify(&forge(&k, &header(&k), &c)),
            Err(DpopError::Method { .. })
        ));
    }
}

#[test]
fn ath_is_checked() {
    let k = key(Algorithm::Es256);
    let mut c = claims();
    c["ath"] = json!(access_token_hash("another-token"));
    assert_eq!(
        verify(&forge(&k, &header(&k), &c)),
        Err(DpopError::AthMismatch)
    );
    c.as_object_mut().unwrap().remove("ath");
    assert_eq!(
        verify(&forge(&k, &header(&k), &c)),
        Err(DpopError::MissingAth)
    );
}

#[test]
fn server_nonce_is_required_when_set() {
    let k = key(Algorithm::Es256);
    let mut c = claims();
    c.as_object_mut().unwrap().remove("nonce");
    let e = verify(&forge(&k, &header(&k), &c)).unwrap_err();
    assert_eq!(e, DpopError::UseDpopNonce);
    assert!(e.is_use_dpop_nonce());
    c["nonce"] = json!("stale-nonce");
    assert_eq!(
        verify(&forge(&k, &header(&k), &c)),
        Err(DpopError::UseDpopNonce)
    );
    assert!(!DpopError::AthMismatch.is_use_dpop_nonce());
}

#[test]
fn iat_window_and_claims() {
    let k = key(Algorithm::Es256);
    let with = |name: &str, v: Option<Json>| {
        let mut c = claims();
        match v {
            Some(v) => c[name] = v,
            None => {
                c.as_object_mut().unwrap().remove(name);
            }
        }
        verify(&forge(&k, &header(&k), &c))
    };
    let at = |d: Duration| Some(json!((NOW + d).unix_timestamp()));
    assert_eq!(
        with("iat", at(Duration::minutes(2))),
        Err(DpopError::IatInFuture)
    );
    assert_eq!(
        with("iat", at(-Duration::minutes(6))),
        Err(DpopError::IatTooOld)
    );
    with("iat", at(-Duration::minutes(4))).unwrap();
    for name in ["jti", "htm", "htu", "iat"] {
        assert!(
            matches!(with(name, None), Err(DpopError::MissingClaim(n)) if n == name),
            "{name}"
        );
    }
    assert_eq!(with("jti", Some(json!(""))), Err(DpopError::BadJti));
    assert_eq!(
        with("jti", Some(json!("x".repeat(257)))),
        Err(DpopError::BadJti)
    );
}

#[test]
fn header_refusals() {
    let k = key(Algorithm::Es256);
    let mut h = header(&k);
    h["typ"] = json!("JWT");
    assert!(matches!(
        verify(&forge(&k, &h, &claims())),
        Err(DpopError::Jws(JwsError::Typ {
            expected: "dpop+jwt",
            ..
        }))
    ));
    let mut h = header(&k);
    h["alg"] = json!("none");
    assert_eq!(
        verify(&with_signature(&h, &claims(), &[])),
        Err(DpopError::Jws(JwsError::UnsupportedAlg("none".into())))
    );
    h["alg"] = json!("HS256");
    assert_eq!(
        verify(&forge(&k, &h, &claims())),
        Err(DpopError::Jws(JwsError::UnsupportedAlg("HS256".into())))
    );
    let mut h = header(&k);
    h["crit"] = json!(["htm"]);
    assert!(matches!(
        verify(&forge(&k, &h, &claims())),
        Err(DpopError::Jws(JwsError::Crit(_)))
    ));
    let mut h = header(&k);
    h["jwk"]["d"] = json!(b64([3u8; 32]));
    assert_eq!(
        verify(&forge(&k, &h, &claims())),
        Err(DpopError::Key(JwkError::PrivateKey("d")))
    );
    let mut h = header(&k);
    h.as_object_mut().unwrap().remove("jwk");
    h["kid"] = json!("k1");
    assert_eq!(
        verify(&forge(&k, &h, &claims())),
        Err(DpopError::KeyReference)
    );
    let other = key(Algorithm::Es256);
    assert_eq!(
        verify(&forge(&other, &header(&k), &claims())),
        Err(DpopError::Jws(JwsError::BadSignature))
    );
}
