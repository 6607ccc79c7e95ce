//! Client attestations (OAuth attestation-based client authentication) and OpenID4VCI key
//! attestations.

use mdoc_issuer::jose::attestation::{
    verify_client_attestation, verify_key_attestation, AttestationError, AttestationTrust,
    ClientAttestationCheck, CLIENT_ATTESTATION_POP_TYP, CLIENT_ATTESTATION_TYP,
    KEY_ATTESTATION_TYP,
};
use mdoc_issuer::jose::jwk::JwkError;
use mdoc_issuer::jose::jws::JwsError;
use mdoc_issuer::jose::sign::{sign_jwt, x5c};
use mso::crypto::{Algorithm, Signer, SoftwareKey};
use serde_json::{json, Map, Value as Json};
use test_kit::pki::TestPki;
use time::Duration;

use crate::common::{b64, forge, jwk_of, key, NOW, VERIFIER};

const ISSUER: &str = "https://issuer.example";
const CLIENT: &str = "wallet-client-1";

/// A wallet provider: its CA (the trust anchor) and a signing certificate under it.
struct Provider {
    pki: TestPki,
}

impl Provider {
    fn new() -> Self {
        Provider {
            pki: TestPki::new(),
        }
    }

    fn trust(&self) -> AttestationTrust {
        AttestationTrust::new(vec![self.pki.iaca()], Vec::new())
    }

    /// Signs `claims` as `typ` with the provider key and its certificate in `x5c`.
    fn sign(&self, typ: &str, claims: &Json) -> String {
        let mut h = Map::new();
        h.insert("x5c".into(), x5c(&[&self.pki.ds_der]));
        sign_jwt(&self.pki.ds_key, typ, h, claims).unwrap()
    }
}

fn attestation_claims(instance: &SoftwareKey) -> Json {
    json!({
        "iss": "https://wallet-provider.example", "sub": CLIENT,
        "iat": (NOW - Duration::hours(1)).unix_timestamp(),
        "exp": (NOW + Duration::days(1)).unix_timestamp(),
        "cnf": {"jwk": jwk_of(instance)}
    })
}

fn pop_claims() -> Json {
    json!({"iss": CLIENT, "aud": ISSUER, "jti": "pop-1", "iat": NOW.unix_timestamp(),
        "challenge": "ch-1"})
}

fn pop(instance: &SoftwareKey, claims: &Json) -> String {
    sign_jwt(instance, CLIENT_ATTESTATION_POP_TYP, Map::new(), claims).unwrap()
}

fn check() -> ClientAttestationCheck<'static> {
    ClientAttestationCheck {
        audience: ISSUER,
        client_id: Some(CLIENT),
        challenge: Some("ch-1"),
        now: NOW,
        max_age: Duration::minutes(5),
    }
}

#[test]
fn client_attestation_with_x5c_verifies() {
    let provider = Provider::new();
    let instance = key(Algorithm::Es256);
    let att = provider.sign(CLIENT_ATTESTATION_TYP, &attestation_claims(&instance));
    let v = verify_client_attestation(
        &att,
        &pop(&instance, &pop_claims()),
        &check(),
        &provider.trust(),
        &VERIFIER,
    )
    .unwrap();
    assert_eq!(v.client_id, CLIENT);
    assert_eq!(v.key, instance.public_key().unwrap());
    assert_eq!(v.pop_jti, "pop-1");
    assert_eq!(v.pop_iat, NOW);
    assert_eq!(
        v.provider.as_deref(),
        Some("https://wallet-provider.example")
    );
    assert_eq!(v.expires_at, NOW + Duration::days(1));
}

#[test]
fn client_attestation_with_a_configured_key_verifies() {
    let provider_key = key(Algorithm::Es256);
    let instance = key(Algorithm::EdDsa);
    let trust = AttestationTrust::new(Vec::new(), vec![provider_key.public_key().unwrap()]);
    let mut h = Map::new();
    h.insert("kid".into(), json!("provider-2026"));
    let att = sign_jwt(
        &provider_key,
        CLIENT_ATTESTATION_TYP,
        h,
        &attestation_claims(&instance),
    )
    .unwrap();
    verify_client_attestation(
        &att,
        &pop(&instance, &pop_claims()),
        &check(),
        &trust,
        &VERIFIER,
    )
    .unwrap();
}

#[test]
fn unconfigured_providers_are_refused() {
    let configured = Provider::new();
    let other = Provider::new();
    let instance = key(Algorithm::Es256);
    let att = other.sign(CLIENT_ATTESTATION_TYP, &attestation_claims(&instance));
    let p = pop(&instance, &pop_claims());
    assert!(matches!(
        verify_client_attestation(&att, &p, &check(), &configured.trust(), &VERIFIER),
        Err(AttestationError::UntrustedChain(_))
    ));
    // A key the token brings itself proves nothing.
    let rogue = key(Algorithm::Es256);
    let mut h = Map::new();
    h.insert("jwk".into(), jwk_of(&rogue));
    let att = sign_jwt(
        &rogue,
        CLIENT_ATTESTATION_TYP,
        h,
        &attestation_claims(&instance),
    )
    .unwrap();
    let keyed = AttestationTrust::new(
        Vec::new(),
        vec![key(Algorithm::Es256).public_key().unwrap()],
    );
    assert_eq!(
        verify_client_attestation(&att, &p, &check(), &keyed, &VERIFIER),
        Err(AttestationError::UntrustedProvider)
    );
    assert_eq!(
        verify_client_attestation(&att, &p, &check(), &configured.trust(), &VERIFIER),
        Err(AttestationError::UntrustedProvider)
    );
    // The configured leaf certificate, but the token signed by another key.
    let mut h = Map::new();
    h.insert("x5c".into(), x5c(&[&configured.pki.ds_der]));
    let att = sign_jwt(
        &rogue,
        CLIENT_ATTESTATION_TYP,
        h,
        &attestation_claims(&instance),
    )
    .unwrap();
    assert_eq!(
        verify_client_attestation(&att, &p, &check(), &configured.trust(), &VERIFIER),
        Err(AttestationError::Jws(JwsError::BadSignature))
    );
    // An x5c entry that is not base64.
    let h = json!({"typ": CLIENT_ATTESTATION_TYP, "alg": "ES256", "x5c": ["!!"]});
    let att = forge(&configured.pki.ds_key, &h, &attestation_claims(&instance));
    assert!(matches!(
        verify_client_attestation(&att, &p, &check(), &configured.trust(), &VERIFIER),
        Err(AttestationError::X5c(_))
    ));
}

#[test]
fn expired_or_future_attestations_are_refused() {
    let provider = Provider::new();
    let instance = key(Algorithm::Es256);
    let p = pop(&instance, &pop_claims());
    let mut c = attestation_claims(&instance);
    c["exp"] = json!((NOW - Duration::minutes(2)).unix_timestamp());
    let att = provider.sign(CLIENT_ATTESTATION_TYP, &c);
    assert_eq!(
        verify_client_attestation(&att, &p, &check(), &provider.trust(), &VERIFIER),
        Err(AttestationError::Expired)
    );
    let mut c = attestation_claims(&instance);
    c["nbf"] = json!((NOW + Duration::minutes(2)).unix_timestamp());
    let att = provider.sign(CLIENT_ATTESTATION_TYP, &c);
    assert_eq!(
        verify_client_attestation(&att, &p, &check(), &provider.trust(), &VERIFIER),
        Err(AttestationError::NotYetValid)
    );
    let mut c = attestation_claims(&instance);
    c.as_object_mut().unwrap().remove("exp");
    let att = provider.sign(CLIENT_ATTESTATION_TYP, &c);
    assert_eq!(
        verify_client_attestation(&att, &p, &check(), &provider.trust(), &VERIFIER),
        Err(AttestationError::MissingClaim("exp"))
    );
}

#[test]
fn attestation_claims_are_checked() {
    let provider = Provider::new();
    let instance = key(Algorithm::Es256);
    let p = pop(&instance, &pop_claims());
    let run = |c: &Json| {
        let att = provider.sign(CLIENT_ATTESTATION_TYP, c);
        verify_client_attestation(&att, &p, &check(), &provider.trust(), &VERIFIER)
    };
    let mut c = attestation_claims(&instance);
    c["sub"] = json!("another-client");
    assert_eq!(
        run(&c),
        Err(AttestationError::Subject {
            expected: CLIENT.into()
        })
    );
    let mut c = attestation_claims(&instance);
    c["cnf"]["jwk"]["d"] = json!(b64([1u8; 32]));
    assert_eq!(
        run(&c),
        Err(AttestationError::CnfKey(JwkError::PrivateKey("d")))
    );
    let mut c = attestation_claims(&instance);
    c.as_object_mut().unwrap().remove("cnf");
    assert_eq!(run(&c), Err(AttestationError::MissingClaim("cnf.jwk")));
    // The wrong typ.
    let att = provider.sign(KEY_ATTESTATION_TYP, &attestation_claims(&instance));
    assert!(matches!(
        verify_client_attestation(&att, &p, &check(), &provider.trust(), &VERIFIER),
        Err(AttestationError::Jws(JwsError::Typ { .. }))
    ));
}

#[test]
fn pop_refusals() {
    let provider = Provider::new();
    let instance = key(Algorithm::Es256);
    let att = provider.sign(CLIENT_ATTESTATION_TYP, &attestation_claims(&instance));
    let run = |p: &str| verify_client_attestation(&att, p, &check(), &provider.trust(), &VERIFIER);
    // Signed by a key other than cnf.
    let other = key(Algorithm::Es256);
    assert_eq!(
        run(&pop(&other, &pop_claims())),
        Err(AttestationError::Pop(JwsError::BadSignature))
    );
    let with = |f: &dyn Fn(&mut Json)| {
        let mut c = pop_claims();
        f(&mut c);
        pop(&instance, &c)
    };
    assert_eq!(
        run(&with(&|c| c["aud"] = json!("https://other.example"))),
        Err(AttestationError::Audience {
            expected: ISSUER.into()
        })
    );
    assert_eq!(
        run(&with(&|c| c["challenge"] = json!("ch-old"))),
        Err(AttestationError::Challenge)
    );
    assert_eq!(
        run(&with(&|c| c["iss"] = json!("someone-else"))),
        Err(AttestationError::PopIssuer)
    );
    assert_eq!(
        run(&with(
            &|c| c["iat"] = json!((NOW - Duration::minutes(6)).unix_timestamp())
        )),
        Err(AttestationError::PopTooOld)
    );
    assert_eq!(
        run(&with(
            &|c| c["iat"] = json!((NOW + Duration::minutes(2)).unix_timestamp())
        )),
        Err(AttestationError::NotYetValid)
    );
    assert_eq!(
        run(&with(&|c| {
            c.as_object_mut().unwrap().remove("jti");
        })),
        Err(AttestationError::MissingClaim("jti"))
    );
    let wrong_typ = sign_jwt(&instance, "JWT", Map::new(), &pop_claims()).unwrap();
    assert!(matches!(
        run(&wrong_typ),
        Err(AttestationError::Pop(JwsError::Typ { .. }))
    ));
    let h = json!({"typ": CLIENT_ATTESTATION_POP_TYP, "alg": "none"});
    let none = format!("{}.{}.", b64(h.to_string()), b64(pop_claims().to_string()));
    assert_eq!(
        run(&none),
        Err(AttestationError::Pop(JwsError::UnsupportedAlg(
            "none".into()
        )))
    );
}

fn key_attestation_claims(keys: &[&SoftwareKey]) -> Json {
    json!({
        "iat": NOW.unix_timestamp(),
        "exp": (NOW + Duration::days(30)).unix_timestamp(),
        "attested_keys": keys.iter().map(|k| jwk_of(*k)).collect::<Vec<_>>(),
        "key_storage": ["iso_18045_high"],
        "user_authentication": ["iso_18045_moderate"],
        "nonce": "c-nonce-1"
    })
}

#[test]
fn key_attestation_verifies_and_lists_its_keys() {
    let provider = Provider::new();
    let (a, b) = (key(Algorithm::Es256), key(Algorithm::Es256));
    let jwt = provider.sign(KEY_ATTESTATION_TYP, &key_attestation_claims(&[&a, &b]));
    let ka = verify_key_attestation(&jwt, &provider.trust(), NOW, &VERIFIER).unwrap();
    assert_eq!(
        ka.keys,
        vec![a.public_key().unwrap(), b.public_key().unwrap()]
    );
    assert_eq!(ka.key_storage, vec!["iso_18045_high".to_owned()]);
    assert_eq!(
        ka.user_authentication,
        vec!["iso_18045_moderate".to_owned()]
    );
    assert_eq!(ka.nonce.as_deref(), Some("c-nonce-1"));
    ka.ensure_attested(&a.public_key().unwrap()).unwrap();
    assert_eq!(
        ka.ensure_attested(&key(Algorithm::Es256).public_key().unwrap()),
        Err(AttestationError::KeyNotAttested)
    );
}

#[test]
fn key_attestation_refusals() {
    let provider = Provider::new();
    let a = key(Algorithm::Es256);
    let run = |c: &Json| {
        let jwt = provider.sign(KEY_ATTESTATION_TYP, c);
        verify_key_attestation(&jwt, &provider.trust(), NOW, &VERIFIER)
    };
    let mut c = key_attestation_claims(&[&a]);
    c["exp"] = json!((NOW - Duration::hours(1)).unix_timestamp());
    assert_eq!(run(&c), Err(AttestationError::Expired));
    let mut c = key_attestation_claims(&[&a]);
    c["attested_keys"] = json!([]);
    assert_eq!(run(&c), Err(AttestationError::AttestedKeyCount));
    let mut c = key_attestation_claims(&[&a]);
    c["attested_keys"][0]["d"] = json!(b64([1u8; 32]));
    assert_eq!(
        run(&c),
        Err(AttestationError::AttestedKey {
            index: 0,
            error: JwkError::PrivateKey("d")
        })
    );
    let mut c = key_attestation_claims(&[&a]);
    c.as_object_mut().unwrap().remove("iat");
    assert_eq!(run(&c), Err(AttestationError::MissingClaim("iat")));
    let other = Provider::new();
    let jwt = other.sign(KEY_ATTESTATION_TYP, &key_attestation_claims(&[&a]));
    assert!(matches!(
        verify_key_attestation(&jwt, &provider.trust(), NOW, &VERIFIER),
        Err(AttestationError::UntrustedChain(_))
    ));
    let jwt = provider.sign(CLIENT_ATTESTATION_TYP, &key_attestation_claims(&[&a]));
    assert!(matches!(
        verify_key_attestation(&jwt, &provider.trust(), NOW, &VERIFIER),
        Err(AttestationError::Jws(JwsError::Typ { .. }))
    ));
    // After the provider certificate's validity, the path fails.
    let jwt = provider.sign(KEY_ATTESTATION_TYP, &key_attestation_claims(&[&a]));
    assert!(matches!(
        verify_key_attestation(
            &jwt,
            &provider.trust(),
            NOW + Duration::days(400),
            &VERIFIER
        ),
        Err(AttestationError::UntrustedChain(_))
    ));
}
