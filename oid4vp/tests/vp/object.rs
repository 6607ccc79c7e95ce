use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use mdoc_jose::jws::{b64url, JwsError};
use mdoc_oid4vp::request::{
    sign_request_object, verify_request_object, AuthorizationRequest, ClientId, RequestContext,
    RequestError, VerifiedRequest,
};
use mso::crypto::DefaultVerifier;
use mso::x509::{Certificate, PathError, TrustAnchors};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};
use test_kit::verifier::VerifierPki;
use time::macros::datetime;
use time::OffsetDateTime;

use crate::fixtures::*;

const AT: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);
const DNS: &str = "verifier.example.org";
const ORIGIN: &str = "https://verifier.example.org";

fn pki() -> VerifierPki {
    VerifierPki::new(
        &[DNS, "alt.example.org"],
        datetime!(2026-01-01 00:00 UTC),
        datetime!(2027-01-01 00:00 UTC),
    )
}

fn anchors(pki: &VerifierPki) -> TrustAnchors {
    TrustAnchors::new(vec![Certificate::from_der(&pki.root_der).unwrap()])
}

fn request(client_id: &str) -> AuthorizationRequest {
    let mut j = direct_post();
    j["client_id"] = json!(client_id);
    AuthorizationRequest::from_json(&bytes(&j)).unwrap()
}

fn sign(pki: &VerifierPki, r: &AuthorizationRequest) -> String {
    sign_request_object(r, &pki.leaf_key, &[&pki.leaf_der]).unwrap()
}

fn verify(
    pki: &VerifierPki,
    jwt: &str,
    ctx: &RequestContext,
) -> Result<VerifiedRequest, RequestError> {
    verify_request_object(jwt, &anchors(pki), AT, &DefaultVerifier, ctx)
}

fn hash_id(der: &[u8]) -> String {
    format!("x509_hash:{}", b64url(Sha256::digest(der)))
}

/// Re-signs `header` and `claims` with the leaf key, as a hostile verifier could.
fn forge(pki: &VerifierPki, header: &Json, claims: &Json) -> String {
    let input = format!(
        "{}.{}",
        b64url(header.to_string()),
        b64url(claims.to_string())
    );
    let sig = mso::crypto::Signer::sign(&pki.leaf_key, input.as_bytes()).unwrap();
    format!("{input}.{}", b64url(sig))
}

fn header(pki: &VerifierPki) -> Json {
    json!({"alg": "ES256", "typ": "oauth-authz-req+jwt", "x5c": [STANDARD.encode(&pki.leaf_der)]})
}

#[test]
fn x509_san_dns_request_verifies_and_names_the_verifier() {
    let pki = pki();
    let r = request(&format!("x509_san_dns:{DNS}"));
    let jwt = sign(&pki, &r);
    let v = verify(&pki, &jwt, &RequestContext::default()).unwrap();
    assert_eq!(v.client_id, Some(ClientId::X509SanDns(DNS.into())));
    let who = v.verifier.unwrap();
    assert_eq!(
        who.dns_names,
        vec![DNS.to_string(), "alt.example.org".into()]
    );
    assert!(who.subject.contains(DNS));
    assert!(who.anchor_subject.contains("Test Verifier CA"));
    assert_eq!(who.chain[0].der(), pki.leaf_der.as_slice());
    // The signer added the static-discovery audience.
    assert_eq!(v.request.aud.as_deref(), Some("https://self-issued.me/v2"));
    assert_eq!(v.request.nonce, r.nonce);
}

#[test]
fn x509_hash_request_verifies() {
    let pki = pki();
    let jwt = sign(&pki, &request(&hash_id(&pki.leaf_der)));
    let v = verify(&pki, &jwt, &RequestContext::default()).unwrap();
    assert!(matches!(v.client_id, Some(ClientId::X509Hash(_))));
}

#[test]
fn wrong_san_wrong_hash_and_wrong_host_are_refused() {
    let pki = pki();
    let ctx = RequestContext::default();
    let jwt = sign(&pki, &request("x509_san_dns:other.example.org"));
    assert_eq!(
        verify(&pki, &jwt, &ctx).unwrap_err(),
        RequestError::SanMismatch("other.example.org".into())
    );
    let jwt = sign(&pki, &request(&hash_id(&pki.root_der)));
    assert_eq!(
        verify(&pki, &jwt, &ctx).unwrap_err(),
        RequestError::HashMismatch
    );
    // A SAN of the certificate, but the response goes elsewhere.
    let jwt = sign(&pki, &request("x509_san_dns:alt.example.org"));
    assert_eq!(
        verify(&pki, &jwt, &ctx).unwrap_err(),
        RequestError::ResponseUriHost {
            expected: "alt.example.org".into(),
            found: DNS.into()
        }
    );
    let jwt = sign(&pki, &request(&format!("redirect_uri:{RESPONSE_URI}")));
    assert_eq!(
        verify(&pki, &jwt, &ctx).unwrap_err(),
        RequestError::SignedRedirectUri
    );
}

#[test]
fn untrusted_and_expired_chains_are_refused() {
    let pki = pki();
    let other = VerifierPki::new(
        &[DNS],
        datetime!(2026-01-01 00:00 UTC),
        datetime!(2027-01-01 00:00 UTC),
    );
    let jwt = sign(&pki, &request(&format!("x509_san_dns:{DNS}")));
    let err = verify_request_object(
        &jwt,
        &anchors(&other),
        AT,
        &DefaultVerifier,
        &RequestContext::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            RequestError::Path(PathError::UnknownIssuer { .. })
                | RequestError::Path(PathError::BadSignature { .. })
        ),
        "{err:?}"
    );
    let late = datetime!(2027-02-01 00:00 UTC);
    let err = verify_request_object(
        &jwt,
        &anchors(&pki),
        late,
        &DefaultVerifier,
        &RequestContext::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, RequestError::Path(PathError::Expired { .. })),
        "{err:?}"
    );
}

#[test]
fn alg_none_crit_typ_and_key_reference_are_refused() {
    let pki = pki();
    let claims = request(&format!("x509_san_dns:{DNS}")).to_json();
    let ctx = RequestContext::default();
    let mut h = header(&pki);
    assert!(verify(&pki, &forge(&pki, &h, &claims), &ctx).is_ok());
    h["alg"] = json!("none");
    let none = format!("{}.{}.", b64url(h.to_string()), b64url(claims.to_string()));
    assert_eq!(
        verify(&pki, &none, &ctx).unwrap_err(),
        RequestError::Jws(JwsError::UnsupportedAlg("none".into()))
    );
    let mut h = header(&pki);
    h["crit"] = json!(["exp"]);
    assert_eq!(
        verify(&pki, &forge(&pki, &h, &claims), &ctx).unwrap_err(),
        RequestError::Jws(JwsError::Crit(vec!["exp".into()]))
    );
    let mut h = header(&pki);
    h["typ"] = json!("JWT");
    assert!(matches!(
        verify(&pki, &forge(&pki, &h, &claims), &ctx).unwrap_err(),
        RequestError::Jws(JwsError::Typ { .. })
    ));
    let h = json!({"alg": "ES256", "typ": "oauth-authz-req+jwt", "kid": "1"});
    assert_eq!(
        verify(&pki, &forge(&pki, &h, &claims), &ctx).unwrap_err(),
        RequestError::NoX5c
    );
    // A signature by another key than the leaf's.
    let jwt = sign_request_object(
        &request(&format!("x509_san_dns:{DNS}")),
        &mso::crypto::SoftwareKey::generate(mso::crypto::Algorithm::Es256),
        &[&pki.leaf_der],
    )
    .unwrap();
    assert_eq!(
        verify(&pki, &jwt, &ctx).unwrap_err(),
        RequestError::Jws(JwsError::BadSignature)
    );
}

#[test]
fn claims_time_and_audience_are_checked_at_the_time_given() {
    let pki = pki();
    let ctx = RequestContext::default();
    let base = request(&format!("x509_san_dns:{DNS}")).to_json();
    let set = |m: &str, v: Json| {
        let mut c = base.clone();
        c[m] = v;
        verify(&pki, &forge(&pki, &header(&pki), &c), &ctx)
    };
    assert!(matches!(
        set("exp", json!(AT.unix_timestamp() - 3600)).unwrap_err(),
        RequestError::Expired { .. }
    ));
    assert!(set("exp", json!(AT.unix_timestamp() + 60)).is_ok());
    assert!(matches!(
        set("iat", json!(AT.unix_timestamp() + 3600)).unwrap_err(),
        RequestError::IssuedInFuture { .. }
    ));
    assert_eq!(
        set("aud", json!("https://wallet.example")).unwrap_err(),
        RequestError::Audience("https://wallet.example".into())
    );
}

#[test]
fn dc_api_signed_request_needs_the_origin_in_expected_origins() {
    let pki = pki();
    let mut j = dc_api_jwt(&enc_key());
    j["client_id"] = json!(format!("x509_san_dns:{DNS}"));
    j["expected_origins"] = json!([ORIGIN]);
    let r = AuthorizationRequest::from_json(&bytes(&j)).unwrap();
    let jwt = sign(&pki, &r);
    let ctx = |o: &str| RequestContext {
        dc_api_origin: Some(o.into()),
        ..RequestContext::default()
    };
    let v = verify(&pki, &jwt, &ctx(ORIGIN)).unwrap();
    assert_eq!(v.request.expected_origins, Some(vec![ORIGIN.to_string()]));
    assert_eq!(
        verify(&pki, &jwt, &ctx("https://evil.example")).unwrap_err(),
        RequestError::OriginNotExpected("https://evil.example".into())
    );
    // The same request outside the DC API is refused for its mode.
    assert!(matches!(
        verify(&pki, &jwt, &RequestContext::default()).unwrap_err(),
        RequestError::Channel { .. }
    ));
    j.as_object_mut().unwrap().remove("expected_origins");
    let jwt = sign(&pki, &AuthorizationRequest::from_json(&bytes(&j)).unwrap());
    assert_eq!(
        verify(&pki, &jwt, &ctx(ORIGIN)).unwrap_err(),
        RequestError::ExpectedOriginsMissing
    );
}

#[test]
fn url_client_id_and_wallet_nonce_must_match() {
    let pki = pki();
    let mut r = request(&format!("x509_san_dns:{DNS}"));
    r.wallet_nonce = Some("wn-123".into());
    let jwt = sign(&pki, &r);
    let ok = RequestContext {
        url_client_id: Some(format!("x509_san_dns:{DNS}")),
        wallet_nonce: Some("wn-123".into()),
        ..RequestContext::default()
    };
    assert!(verify(&pki, &jwt, &ok).is_ok());
    let other_id = RequestContext {
        url_client_id: Some(DNS.into()),
        ..ok.clone()
    };
    assert_eq!(
        verify(&pki, &jwt, &other_id).unwrap_err(),
        RequestError::ClientIdMismatch
    );
    let other_nonce = RequestContext {
        wallet_nonce: Some("wn-999".into()),
        ..ok
    };
    assert_eq!(
        verify(&pki, &jwt, &other_nonce).unwrap_err(),
        RequestError::WalletNonce
    );
}

#[test]
fn every_changed_character_of_a_request_object_is_refused() {
    let pki = pki();
    let jwt = sign(&pki, &request(&format!("x509_san_dns:{DNS}")));
    let anchors = anchors(&pki);
    let ctx = RequestContext::default();
    for i in 0..jwt.len() {
        let mut b = jwt.clone().into_bytes();
        b[i] = match b[i] {
            b'.' => b'A',
            b'A' => b'B',
            _ => b'A',
        };
        let changed = String::from_utf8(b).unwrap();
        assert!(
            verify_request_object(&changed, &anchors, AT, &DefaultVerifier, &ctx).is_err(),
            "accepted with character {i} changed"
        );
    }
}

#[test]
fn dc_api_protocols_dispatch_to_the_right_check() {
    use mdoc_oid4vp::request::{dc_api_request, PROTOCOL_SIGNED, PROTOCOL_UNSIGNED};
    let pki = pki();
    let a = anchors(&pki);
    let mut j = dc_api_jwt(&enc_key());
    let unsigned = dc_api_request(
        PROTOCOL_UNSIGNED,
        &bytes(&j),
        ORIGIN,
        &a,
        AT,
        &DefaultVerifier,
    )
    .unwrap();
    assert!(unsigned.verifier.is_none());
    j["client_id"] = json!(format!("x509_san_dns:{DNS}"));
    j["expected_origins"] = json!([ORIGIN]);
    let jwt = sign(&pki, &AuthorizationRequest::from_json(&bytes(&j)).unwrap());
    let data = bytes(&json!({ "request": jwt }));
    let signed = dc_api_request(PROTOCOL_SIGNED, &data, ORIGIN, &a, AT, &DefaultVerifier).unwrap();
    assert_eq!(signed.client_id, Some(ClientId::X509SanDns(DNS.into())));
    // Signed data under the unsigned protocol is not a request; the multi-signed form is refused.
    assert!(dc_api_request(PROTOCOL_UNSIGNED, &data, ORIGIN, &a, AT, &DefaultVerifier).is_err());
    assert_eq!(
        dc_api_request(
            "openid4vp-v1-multisigned",
            &data,
            ORIGIN,
            &a,
            AT,
            &DefaultVerifier
        )
        .unwrap_err(),
        RequestError::Protocol("openid4vp-v1-multisigned".into())
    );
    assert!(matches!(
        dc_api_request(
            PROTOCOL_SIGNED,
            &bytes(&j),
            ORIGIN,
            &a,
            AT,
            &DefaultVerifier
        )
        .unwrap_err(),
        RequestError::Malformed(_)
    ));
}
