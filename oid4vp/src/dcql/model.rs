//! The DCQL data model (OpenID4VP 1.0 §6), as it travels in JSON. Unknown members are ignored on
//! input, as §6 requires; defaults (`multiple`, `required`,
//! `require_cryptographic_holder_binding`, `intent_to_retain`) are left out on output.
//! Shapes that a query may get wrong in a way this crate names (paths, values) are kept as JSON
//! here and checked by [`super::validate`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The Credential Format Identifier of ISO mdocs, the only format this crate evaluates.
pub const MSO_MDOC: &str = "mso_mdoc";

/// A DCQL query: the credentials requested and, optionally, which combinations of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcqlQuery {
    /// The credential queries; non-empty.
    pub credentials: Vec<CredentialQuery>,
    /// Which combinations of credential queries satisfy the verifier; without it, all are required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_sets: Option<Vec<CredentialSetQuery>>,
}

/// A request for one (or, with `multiple`, several) credentials of one format and type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialQuery {
    /// Names the credential in the response (`vp_token` key) and in `credential_sets`.
    pub id: String,
    /// Credential Format Identifier, e.g. [`MSO_MDOC`].
    pub format: String,
    /// Whether more than one credential may be returned for this query.
    #[serde(default, skip_serializing_if = "is_false")]
    pub multiple: bool,
    /// Format-specific constraints on the credential's type and metadata.
    pub meta: Meta,
    /// The claims requested; absent means none that are selectively disclosable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimsQuery>>,
    /// Acceptable combinations of claim ids, the verifier's preferred first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_sets: Option<Vec<Vec<String>>>,
    /// Whether a presentation must prove holder binding (device authentication for mdocs).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub require_cryptographic_holder_binding: bool,
    /// Authorities the verifier accepts as certifying the issuer; carried, not evaluated here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_authorities: Option<Vec<TrustedAuthoritiesQuery>>,
}

/// The `meta` object of a credential query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// `mso_mdoc`: the doctype requested (required for that format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctype_value: Option<String>,
    /// Every other member, kept for other formats and extensions.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A request for one claim of a credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimsQuery {
    /// Names the claim in `claim_sets`; required when those are present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Claims path pointer; for `mso_mdoc` exactly `[namespace, element]`.
    pub path: Vec<Value>,
    /// Accepted values (strings, integers, booleans); absent means any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
    /// `mso_mdoc`: the verifier's ISO 18013-5 IntentToRetain for this element. Absent ("no
    /// statement", Appendix B.2.4) reads as `false`, the value a DeviceRequest then carries.
    #[serde(default, skip_serializing_if = "is_false")]
    pub intent_to_retain: bool,
}

/// A constraint on which combinations of credential queries the verifier accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialSetQuery {
    /// Each option is a list of credential query ids that together satisfy this set.
    pub options: Vec<Vec<String>>,
    /// Whether this set must be satisfied.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub required: bool,
    /// Draft-era purpose, kept when present (OpenID4VP 1.0 final no longer defines it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Value>,
}

/// An authority or trust framework the verifier accepts; carried, not evaluated here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrustedAuthoritiesQuery {
    /// The kind of reference (`aki`, `etsi_tl`, `openid_federation`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// The references, meaning defined by `type`.
    pub values: Vec<String>,
}

impl ClaimsQuery {
    /// The `[namespace, element]` of an mdoc claims path, when the path has that shape.
    pub fn mdoc_path(&self) -> Option<(&str, &str)> {
        match self.path.as_slice() {
            [Value::String(namespace), Value::String(element)] => {
                Some((namespace.as_str(), element.as_str()))
            }
            _ => None,
        }
    }

    /// Whether `value` is allowed by `values`: always without `values`; with them, only a value
    /// of the same JSON type and equal (`None`, a value that cannot be compared, never is).
    pub fn allows(&self, value: Option<&Value>) -> bool {
        match &self.values {
            None => true,
            Some(allowed) => value.is_some_and(|v| allowed.iter().any(|a| same_scalar(a, v))),
        }
    }
}

/// Equal JSON scalars of the same type; integers compare by value whatever their sign encoding.
fn same_scalar(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        },
        (Value::String(_), Value::String(_)) | (Value::Bool(_), Value::Bool(_)) => a == b,
        _ => false,
    }
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}
