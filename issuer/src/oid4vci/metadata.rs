//! The endpoints' paths (the one place that knows them) and the metadata documents that
//! announce them: Credential Issuer Metadata (OpenID4VCI 1.0 §12.2), generated from the doc
//! types in the registry, and OAuth 2.0 Authorization Server Metadata (RFC 8414), the issuer
//! being its own authorization server.

use mso::crypto::Algorithm;
use schemas::DocType;
use serde_json::{json, Map, Value as Json};

use crate::config::ServiceConfig;
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
    json!({
        "format": "mso_mdoc",
        "doctype": doctype.doctype(),
        "scope": doctype.doctype(),
        "cryptographic_binding_methods_supported": ["cose_key"],
        "credential_signing_alg_values_supported": algs,
        "proof_types_supported": {
            "jwt": {"proof_signing_alg_values_supported": PROOF_ALGS}
        },
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

/// The Authorization Server Metadata.
pub fn authorization_server_metadata(issuer: &Issuer) -> Json {
    let id = issuer.issuer_id();
    json!({
        "issuer": id,
        "token_endpoint": format!("{id}{TOKEN_PATH}"),
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": true,
        "token_endpoint_auth_methods_supported": ["none"],
        "dpop_signing_alg_values_supported": PROOF_ALGS,
        "scopes_supported": issuer.registry().doctypes().map(|d| d.doctype()).collect::<Vec<_>>(),
    })
}
