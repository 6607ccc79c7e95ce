//! The endpoints' paths (the one place that knows them) and the metadata documents that
//! announce them: Credential Issuer Metadata (OpenID4VCI 1.0 §12.2), generated from the doc
//! types in the registry, and OAuth 2.0 Authorization Server Metadata (RFC 8414), the issuer
//! being its own authorization server.

use mso::crypto::Algorithm;
use schemas::DocType;
use serde_json::{json, Map, Value as Json};

use crate::config::{AttestationPolicy, KeyAttestationPolicy, ServiceConfig};
use crate::engine::Issuer;

/// Credential Issuer Metadata (OpenID4VCI 1.0 §12.2.2).
pub const ISSUER_METADATA_PATH: &str = "/.well-known/openid-credential-issuer";
/// Authorization Server Metadata (RFC 8414 §3).
pub const AS_METADATA_PATH: &str = "/.well-known/oauth-authorization-server";
/// Token endpoint (RFC 6749 §3.2).
pub const TOKEN_PATH: &str = "/oid4vci/token";
/// Nonce endpoint (OpenID4VCI 1.0 §7).
pub const NONCE_PATH: &str = "/oid4vci/nonce";
/// Credential endpoint (§8).
pub const CREDENTIAL_PATH: &str = "/oid4vci/credential";
/// Deferred credential endpoint (§9).
pub const DEFERRED_PATH: &str = "/oid4vci/deferred";
/// Notification endpoint (§11).
pub const NOTIFICATION_PATH: &str = "/oid4vci/notification";
/// Credential offers by reference (`credential_offer_uri`, §4.1.3), followed by `/{ref}`.
pub const OFFERS_PATH: &str = "/oid4vci/offers";
/// The route of one offer by reference: [`OFFERS_PATH`] and the reference.
pub const OFFER_BY_REFERENCE_PATH: &str = "/oid4vci/offers/{reference}";
/// The route of [`ISSUER_METADATA_PATH`] with a path suffix (issuer identifiers with a path,
/// and clients that append the well-known name to it); `{*…}` is axum's catch-all.
pub const ISSUER_METADATA_SUFFIXED_PATH: &str =
    "/.well-known/openid-credential-issuer/{*issuer_path}";
/// The route of [`AS_METADATA_PATH`] with a path suffix.
pub const AS_METADATA_SUFFIXED_PATH: &str =
    "/.well-known/oauth-authorization-server/{*issuer_path}";

/// Pushed authorization request endpoint (RFC 9126 §2).
pub const PAR_PATH: &str = "/oid4vci/par";
/// Authorization endpoint (RFC 6749 §3.1; only pushed requests).
pub const AUTHORIZE_PATH: &str = "/oid4vci/authorize";
/// The portal's hand-off back channel (scope `issue`), followed by `/{session}`.
pub const AUTHORIZATIONS_PATH: &str = "/v1/authorizations";
/// The `request_uri` prefix of pushed requests (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// The authorization code grant type (RFC 6749 §4.1).
pub const AUTHORIZATION_CODE_GRANT: &str = "authorization_code";
/// The pre-authorized code grant type (OpenID4VCI 1.0 §3.5).
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/// JWS algorithms accepted for key proofs and DPoP proofs (the device-key algorithms the
/// engine binds).
pub const PROOF_ALGS: [&str; 4] = ["ES256", "ES384", "ES512", "EdDSA"];

/// The COSE algorithm id of an MSO signing algorithm (RFC 9053).
fn cose_alg(alg: Algorithm) -> i64 {
    match alg {
        Algorithm::Es256 => -7,
        Algorithm::Es384 => -35,
        Algorithm::Es512 => -36,
        Algorithm::EdDsa => -8,
    }
}

fn display(name: &str, locale: &str) -> Json {
    json!([{"name": name, "locale": locale}])
}

/// One credential configuration (§A.2 for `mso_mdoc`): the doc type with every element whose
/// identifier is fixed, its mandatory flag and display name.
fn configuration(doctype: &DocType, algs: &[i64], config: &ServiceConfig) -> Json {
    let locale = config.oid4vci.locale.as_str();
    let def = doctype.definition();
    let claims: Vec<Json> = def
        .namespaces
        .iter()
        .flat_map(|ns| {
            ns.elements.iter().filter_map(move |el| {
                let id = el.identifier.as_deref()?;
                let mut c = Map::new();
                c.insert("path".into(), json!([ns.name, id]));
                c.insert("mandatory".into(), json!(el.mandatory));
                if let Some(name) = &el.display_name {
                    c.insert("display".into(), display(name, locale));
                }
                Some(Json::Object(c))
            })
        })
        .collect();
    let mut jwt = Map::new();
    jwt.insert(
        "proof_signing_alg_values_supported".into(),
        json!(PROOF_ALGS),
    );
    if config.oid4vci.key_attestation == KeyAttestationPolicy::Required {
        jwt.insert("key_attestations_required".into(), json!({}));
    }
    json!({
        "format": "mso_mdoc",
        "doctype": doctype.doctype(),
        "scope": doctype.doctype(),
        "cryptographic_binding_methods_supported": ["cose_key"],
        "credential_signing_alg_values_supported": algs,
        "proof_types_supported": {"jwt": jwt},
        "credential_metadata": {
            "display": display(doctype.display_name(), locale),
            "claims": claims,
        },
    })
}

/// The Credential Issuer Metadata: one configuration per doc type, keyed by the doc type
/// (which is also the configuration's `scope`).
pub fn issuer_metadata(issuer: &Issuer, now: time::OffsetDateTime) -> Json {
    let config = issuer.config();
    let id = issuer.issuer_id();
    // What the DS keys in use sign with; ES256 when none is usable yet.
    let mut algs: Vec<i64> = issuer
        .signing_algorithms(now)
        .into_iter()
        .map(cose_alg)
        .collect();
    if algs.is_empty() {
        algs.push(cose_alg(Algorithm::Es256));
    }
    let configurations: Map<String, Json> = issuer
        .registry()
        .doctypes()
        .map(|d| (d.doctype().to_owned(), configuration(d, &algs, config)))
        .collect();
    json!({
        "credential_issuer": id,
        "authorization_servers": [id],
        "credential_endpoint": format!("{id}{CREDENTIAL_PATH}"),
        "nonce_endpoint": format!("{id}{NONCE_PATH}"),
        "deferred_credential_endpoint": format!("{id}{DEFERRED_PATH}"),
        "notification_endpoint": format!("{id}{NOTIFICATION_PATH}"),
        "batch_credential_issuance": {"batch_size": config.issuance.max_batch},
        "display": display(&config.oid4vci.display_name, &config.oid4vci.locale),
        "credential_configurations_supported": configurations,
    })
}

/// The Authorization Server Metadata. The authorization-code flow (PAR, PKCE S256, the
/// authorization endpoint) is announced only when `oid4vci.portal_login_url` enables it.
pub fn authorization_server_metadata(issuer: &Issuer) -> Json {
    let id = issuer.issuer_id();
    let cfg = &issuer.config().oid4vci;
    let mut auth_methods = Vec::new();
    if cfg.wallet_attestation != AttestationPolicy::Required {
        auth_methods.push("none");
    }
    if cfg.wallet_attestation != AttestationPolicy::Off {
        auth_methods.push("attest_jwt_client_auth");
    }
    let Json::Object(mut m) = json!({
        "issuer": id,
        "token_endpoint": format!("{id}{TOKEN_PATH}"),
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported":
            cfg.wallet_attestation != AttestationPolicy::Required,
        "token_endpoint_auth_methods_supported": auth_methods,
        "dpop_signing_alg_values_supported": PROOF_ALGS,
        "scopes_supported": issuer.registry().doctypes().map(|d| d.doctype()).collect::<Vec<_>>(),
    }) else {
        return Json::Null;
    };
    if cfg.wallet_attestation != AttestationPolicy::Off {
        m.insert(
            "client_attestation_signing_alg_values_supported".into(),
            json!(PROOF_ALGS),
        );
        m.insert(
            "client_attestation_pop_signing_alg_values_supported".into(),
            json!(PROOF_ALGS),
        );
    }
    if cfg.portal_login_url.is_some() {
        m.insert(
            "authorization_endpoint".into(),
            json!(format!("{id}{AUTHORIZE_PATH}")),
        );
        m.insert(
            "pushed_authorization_request_endpoint".into(),
            json!(format!("{id}{PAR_PATH}")),
        );
        m.insert("require_pushed_authorization_requests".into(), json!(true));
        m.insert("response_types_supported".into(), json!(["code"]));
        m.insert("response_modes_supported".into(), json!(["query"]));
        m.insert("code_challenge_methods_supported".into(), json!(["S256"]));
        m.insert(
            "grant_types_supported".into(),
            json!([AUTHORIZATION_CODE_GRANT, PRE_AUTHORIZED_GRANT]),
        );
        m.insert(
            "authorization_response_iss_parameter_supported".into(),
            json!(true),
        );
        m.insert(
            "authorization_details_types_supported".into(),
            json!(["openid_credential"]),
        );
    }
    Json::Object(m)
}
