//! What a relying party asks for online: the records an app fills to make an OpenID4VP 1.0
//! request (response mode, DCQL query, client identifier, response encryption, request signing)
//! or an ISO 18013-7 Annex C request.

use crate::keys::SigningPrivateKey;
use crate::request::{DocumentRequest, ReaderAuthKey};

/// How the wallet returns its response (OpenID4VP 1.0 §8 and Appendix A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ResponseMode {
    /// `direct_post`: the wallet posts `vp_token` (and `state`) to the response URI.
    DirectPost,
    /// `direct_post.jwt`: the wallet posts `response`, a JWE encrypted to this request's key.
    DirectPostJwt,
    /// `dc_api`: the browser hands `{vp_token}` back through the Digital Credentials API.
    DcApi,
    /// `dc_api.jwt`: the browser hands back `{response}`, a JWE encrypted to this request's key.
    DcApiJwt,
}

/// The content encryption of an encrypted response (JWE `enc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ResponseEncryption {
    /// AES-128-GCM (OpenID4VP's default).
    A128Gcm,
    /// AES-256-GCM.
    A256Gcm,
}

/// One claim of a DCQL credential query: a data element of an mdoc.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClaimQuery {
    /// The claim's id, needed only when claim sets refer to it.
    pub id: Option<String>,
    /// The namespace (e.g. `org.iso.18013.5.1`).
    pub namespace: String,
    /// The data element identifier (e.g. `age_over_18`).
    pub element: String,
    /// Whether the relying party will keep the value after the transaction.
    pub intent_to_retain: bool,
    /// The values the relying party accepts (empty: any value). A credential whose value is
    /// not one of them does not satisfy the claim.
    pub values: Vec<ClaimValue>,
}

/// A value a DCQL claim may be restricted to (JSON scalars only).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ClaimValue {
    /// A string.
    Text {
        /// The string.
        value: String,
    },
    /// An integer.
    Integer {
        /// The integer.
        value: i64,
    },
    /// A boolean.
    Bool {
        /// The boolean.
        value: bool,
    },
}

/// One DCQL credential query for an mdoc (`format: mso_mdoc`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CredentialQuery {
    /// The query's id: the key of its presentations in the response's `vp_token`.
    pub id: String,
    /// The doc type asked for (`meta.doctype_value`).
    pub doc_type: String,
    /// The data elements asked for.
    pub claims: Vec<ClaimQuery>,
    /// Alternative sets of claim ids, in order of preference (empty: all claims).
    pub claim_sets: Vec<Vec<String>>,
    /// Whether more than one credential may answer.
    pub multiple: bool,
}

/// A DCQL credential set: which combinations of credential queries satisfy the request.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CredentialSet {
    /// Alternatives, each a list of credential query ids.
    pub options: Vec<Vec<String>>,
    /// Whether the set must be satisfied.
    pub required: bool,
}

/// Signs the request object (JAR, `typ: oauth-authz-req+jwt`) for the `x509_san_dns:` and
/// `x509_hash:` client identifier prefixes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RequestSigner {
    /// The verifier's signing key.
    pub private_key: SigningPrivateKey,
    /// Its certificate chain (DER), leaf first; the leaf's key must be the private key's.
    pub certificate_chain: Vec<Vec<u8>>,
}

/// An OpenID4VP 1.0 request for mdocs.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpenId4VpRequestConfig {
    /// How the response comes back.
    pub response_mode: ResponseMode,
    /// The client identifier with its prefix (`redirect_uri:…`, `x509_san_dns:…`,
    /// `x509_hash:…`). `None` only for an unsigned Digital Credentials API request, where the
    /// browser's origin identifies the verifier.
    pub client_id: Option<String>,
    /// Where the wallet posts its response (`direct_post`, `direct_post.jwt`).
    pub response_uri: Option<String>,
    /// The verifier's web origin (`https://verifier.example`) for the Digital Credentials
    /// API modes: the response is bound to it and a signed request lists it in
    /// `expected_origins`.
    pub origin: Option<String>,
    /// The credential queries (DCQL `credentials`).
    pub credentials: Vec<CredentialQuery>,
    /// DCQL `credential_sets` (empty: every credential query is required).
    pub credential_sets: Vec<CredentialSet>,
    /// The content encryption asked for in the encrypted modes.
    pub encryption: ResponseEncryption,
    /// Signs the request object; required by the `x509_san_dns:` and `x509_hash:` prefixes.
    pub signer: Option<RequestSigner>,
}

/// An ISO 18013-7 Annex C request (`org-iso-mdoc` over the Digital Credentials API).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AnnexCRequestConfig {
    /// The verifier's web origin: the response is bound to it.
    pub origin: String,
    /// The documents and elements asked for.
    pub documents: Vec<DocumentRequest>,
    /// Reader authentication over the request's SessionTranscript, if the verifier has a
    /// reader certificate.
    pub reader_auth: Option<ReaderAuthKey>,
}
