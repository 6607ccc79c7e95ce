//! Signed request objects (JAR, RFC 9101, as OpenID4VP 1.0 §5 and A.3.1 profile it): the
//! verifier signs with its certificate's key and puts the chain in `x5c`; the wallet checks the
//! JWS through `mdoc_jose::jws`, the chain through `mso::x509::path` to its verifier anchors,
//! then what the client identifier prefix binds to the certificate.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use mdoc_jose::jws::{self, KeyRef};
use mdoc_jose::sign::{sign_jwt, x5c, JoseError};
use mso::crypto::{Signer, Verifier};
use mso::x509::path::{parse_chain, validate_with, PathPolicy};
use mso::x509::profile::Role;
use mso::x509::{policy, TrustAnchors};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::check::{
    check_channel, read_client_id, RequestContext, VerifiedRequest, VerifierIdentity,
};
use super::client_id::ClientId;
use super::error::RequestError;
use super::limits::{MAX_REQUEST_LEN, MAX_X5C_LEN};
use super::model::{AuthorizationRequest, Raw};

/// The request object's media type (RFC 9101 §10.2; §5 requires it).
pub const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";
/// The `aud` of a request object under static discovery (§5.8).
pub const SELF_ISSUED_AUD: &str = "https://self-issued.me/v2";

/// Signs `request` as a request object: header `{alg, typ: oauth-authz-req+jwt, x5c}`, claims
/// the request with `aud` set to [`SELF_ISSUED_AUD`] unless the request names one.
/// `chain` is the signer's certificate chain, DER, leaf first.
pub fn sign_request_object(
    request: &AuthorizationRequest,
    signer: &dyn Signer,
    chain: &[impl AsRef<[u8]>],
) -> Result<String, JoseError> {
    let mut claims = request.to_json();
    if let Json::Object(map) = &mut claims {
        map.entry("aud")
            .or_insert_with(|| Json::String(SELF_ISSUED_AUD.into()));
    }
    let mut header = Map::new();
    header.insert("x5c".into(), x5c(chain));
    sign_jwt(signer, REQUEST_OBJECT_TYP, header, &claims)
}

/// The verifier anchors' path rules: one step to an anchor like a reader certificate
/// (`mso::verify::reader`), validity at `at`; no profile and no EKU (OpenID4VP names none).
fn path_policy() -> PathPolicy {
    PathPolicy {
        skew: policy::DEFAULT_SKEW,
        inspect_leaf: false,
        ..PathPolicy::default()
    }
}

/// Verifies a signed request object for the wallet, at `at`:
///
/// 1. the compact JWS (bounded, `typ` `oauth-authz-req+jwt`, an asymmetric `alg`: `none` and
///    `HS*` refused, no `crit`) names its key by `x5c` only;
/// 2. the leaf has a path to `anchors` valid at `at` and its key verifies the signature;
/// 3. the claims pass [`AuthorizationRequest::from_json`]'s rules, `aud` (when present) is
///    [`SELF_ISSUED_AUD`], `exp`/`iat` fit `at`, the mode fits the channel, the request URL's
///    `client_id` and the `wallet_nonce` (when the context has them) match;
/// 4. per client identifier prefix: `x509_san_dns` needs that dNSName SAN on the leaf and,
///    outside the DC API, the response URI's host equal to it; `x509_hash` needs
///    base64url(SHA-256(leaf DER)) equal to it; `redirect_uri` cannot be signed; other prefixes
///    are unsupported;
/// 5. over the DC API, `expected_origins` must be present and contain the caller's origin.
pub fn verify_request_object(
    jwt: &str,
    anchors: &TrustAnchors,
    at: OffsetDateTime,
    verifier: &dyn Verifier,
    context: &RequestContext,
) -> Result<VerifiedRequest, RequestError> {
    let compact =
        jws::parse(jwt, MAX_REQUEST_LEN, REQUEST_OBJECT_TYP).map_err(RequestError::Jws)?;
    let KeyRef::X5c(x5c) = compact.header().key_ref().map_err(RequestError::Jws)? else {
        return Err(RequestError::NoX5c);
    };
    if x5c.is_empty() || x5c.len() > MAX_X5C_LEN {
        return Err(RequestError::X5c(format!(
            "1..={MAX_X5C_LEN} certificates expected"
        )));
    }
    let ders = x5c
        .iter()
        .enumerate()
        .map(|(i, c)| {
            STANDARD
                .decode(c)
                .map_err(|_| RequestError::X5c(format!("entry {i} is not base64")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let chain = parse_chain(&ders).map_err(RequestError::Path)?;
    let (leaf, rest) = chain
        .split_first()
        .ok_or_else(|| RequestError::X5c("empty".into()))?;
    let path = validate_with(
        leaf,
        rest,
        anchors,
        at,
        Role::DocumentSigner,
        verifier,
        &path_policy(),
    )
    .map_err(RequestError::Path)?;
    let anchor_subject = path.anchor().subject().to_string();
    let leaf_key = leaf
        .public_key()
        .map_err(|e| RequestError::Certificate(e.to_string()))?;
    compact
        .verify(&leaf_key, verifier)
        .map_err(RequestError::Jws)?;

    let raw: Raw = compact.claims().map_err(RequestError::Jws)?;
    let iat = raw.iat.as_ref().map(|n| (jws::numeric_date(n), "iat"));
    let exp = raw.exp.as_ref().map(|n| (jws::numeric_date(n), "exp"));
    let request = AuthorizationRequest::from_raw(raw)?;
    check_times(iat, exp, at)?;
    if let Some(aud) = &request.aud {
        if aud != SELF_ISSUED_AUD {
            return Err(RequestError::Audience(aud.chars().take(40).collect()));
        }
    }
    check_channel(&request, context)?;
    if let Some(outer) = &context.url_client_id {
        if request.client_id.as_ref() != Some(outer) {
            return Err(RequestError::ClientIdMismatch);
        }
    }
    if let Some(sent) = &context.wallet_nonce {
        if request.wallet_nonce.as_ref() != Some(sent) {
            return Err(RequestError::WalletNonce);
        }
    }

    let id = read_client_id(&request)?;
    let dns_names = leaf
        .san_dns_names()
        .map_err(|e| RequestError::Certificate(e.to_string()))?;
    match &id {
        ClientId::X509SanDns(name) => {
            if !dns_names.iter().any(|d| d.eq_ignore_ascii_case(name)) {
                return Err(RequestError::SanMismatch(name.clone()));
            }
            if !request.response_mode.is_dc_api() {
                // §5.9.3: without a list of trusted client ids, the response URI's host must
                // be the authenticated name.
                let host = request
                    .response_target()
                    .and_then(|u| url::Url::parse(u).ok())
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_default();
                if !host.eq_ignore_ascii_case(name) {
                    return Err(RequestError::ResponseUriHost {
                        expected: name.clone(),
                        found: host.chars().take(80).collect(),
                    });
                }
            }
        }
        ClientId::X509Hash(hash) => {
            let digest: [u8; 32] = Sha256::digest(leaf.der()).into();
            if &digest != hash {
                return Err(RequestError::HashMismatch);
            }
        }
        ClientId::RedirectUri(_) => return Err(RequestError::SignedRedirectUri),
        ClientId::Unsupported { .. } | ClientId::PreRegistered(_) => {
            return Err(RequestError::UnsupportedClientId(None))
        }
    }
    if let Some(origin) = &context.dc_api_origin {
        let expected = request
            .expected_origins
            .as_ref()
            .ok_or(RequestError::ExpectedOriginsMissing)?;
        if !expected.iter().any(|o| o == origin) {
            return Err(RequestError::OriginNotExpected(
                origin.chars().take(80).collect(),
            ));
        }
    }
    Ok(VerifiedRequest {
        request,
        client_id: Some(id),
        verifier: Some(VerifierIdentity {
            subject: leaf.subject().to_string(),
            dns_names,
            anchor_subject,
            chain,
        }),
    })
}

type Date = Option<(Option<OffsetDateTime>, &'static str)>;

/// `exp` must not have passed and `iat` must not be ahead, within the PKI's clock skew.
fn check_times(iat: Date, exp: Date, at: OffsetDateTime) -> Result<(), RequestError> {
    let skew = policy::DEFAULT_SKEW;
    if let Some((exp, what)) = exp {
        let exp = exp.ok_or(RequestError::Date(what))?;
        if at.saturating_sub(skew) > exp {
            return Err(RequestError::Expired { exp, at });
        }
    }
    if let Some((iat, what)) = iat {
        let iat = iat.ok_or(RequestError::Date(what))?;
        if at.saturating_add(skew) < iat {
            return Err(RequestError::IssuedInFuture { iat, at });
        }
    }
    Ok(())
}
