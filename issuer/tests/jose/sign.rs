//! Signing compact JWS through the `Signer` seam.

use mdoc_issuer::jose::jws::{self, JwsError};
use mdoc_issuer::jose::sign::{sign_jwt, x5c, JoseError, ISSUER_METADATA_TYP};
use mso::crypto::{Algorithm, PublicKey, Signer, SoftwareKey};
use serde_json::{json, Map, Value as Json};
use test_kit::pki::TestPki;

use crate::common::{key, ALGS, VERIFIER};

#[test]
fn signed_metadata_with_x5c_verifies() {
    let pki = TestPki::new();
    let mut extra = Map::new();
    extra.insert("x5c".into(), x5c(&[&pki.ds_der]));
    let claims = json!({"sub": "https://issuer.example", "iat": 1_780_000_000,
        "credential_issuer": "https://issuer.example"});
    let jwt = sign_jwt(&pki.ds_key, ISSUER_METADATA_TYP, extra, &claims).unwrap();
    let parsed = jws::parse(&jwt, 64 * 1024, ISSUER_METADATA_TYP).unwrap();
    let chain = parsed.header().x5c.clone().unwrap();
    // Standard base64 with padding, not base64url (RFC 7515 §4.1.6).
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(&chain[0])
        .unwrap();
    assert_eq!(der, pki.ds_der);
    parsed
        .verify(&pki.ds().public_key().unwrap(), &VERIFIER)
        .unwrap();
    assert_eq!(parsed.claims::<Json>().unwrap(), claims);
    assert_eq!(
        parsed.verify(&key(Algorithm::Es256).public_key().unwrap(), &VERIFIER),
        Err(JwsError::BadSignature)
    );
}

#[test]
fn every_algorithm_signs_raw_signatures() {
    for alg in ALGS {
        let k = key(alg);
        let jwt = sign_jwt(&k, "test+jwt", Map::new(), &json!({"a": 1})).unwrap();
        let sig = jwt.rsplit('.').next().unwrap();
        assert_eq!(
            jws::b64url_decode(sig).unwrap().len(),
            alg.signature_len(),
            "{alg}"
        );
        let parsed = jws::parse(&jwt, 4096, "test+jwt").unwrap();
        assert_eq!(parsed.alg(), alg);
        parsed.verify(&k.public_key().unwrap(), &VERIFIER).unwrap();
    }
}

#[test]
fn refusals() {
    let k = key(Algorithm::Es256);
    for reserved in ["alg", "typ", "crit"] {
        let mut extra = Map::new();
        extra.insert(reserved.into(), json!("x"));
        assert_eq!(
            sign_jwt(&k, "t", extra, &json!({})),
            Err(JoseError::ReservedHeader(reserved.into()))
        );
    }
    assert_eq!(
        sign_jwt(&k, "t", Map::new(), &json!([1])),
        Err(JoseError::ClaimsNotObject)
    );
    assert!(matches!(
        sign_jwt(&DerSigner(k), "t", Map::new(), &json!({})),
        Err(JoseError::SignatureLength {
            alg: Algorithm::Es256,
            expected: 64,
            ..
        })
    ));
}

/// A broken HSM binding that returns signatures of a DER encoding's length (`30 44 02 20 r 02 20
/// s`, 70 bytes) instead of raw `r ‖ s`.
struct DerSigner(SoftwareKey);

impl Signer for DerSigner {
    fn algorithm(&self) -> Algorithm {
        self.0.algorithm()
    }
    fn public_key(&self) -> mso::Result<PublicKey> {
        self.0.public_key()
    }
    fn sign(&self, tbs: &[u8]) -> mso::Result<Vec<u8>> {
        let raw = self.0.sign(tbs)?;
        let (r, s) = raw.split_at(32);
        Ok([&[0x30, 0x44, 0x02, 0x20][..], r, &[0x02, 0x20], s].concat())
    }
}
