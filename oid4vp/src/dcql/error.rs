//! Why a DCQL query was refused: one typed error per rule, naming where it was broken.

use std::fmt;

/// A claims query, by its position in `claims` and its `id` when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRef {
    /// Position in the credential query's `claims`.
    pub index: usize,
    /// The claims query's `id`, if present.
    pub id: Option<String>,
}

impl fmt::Display for ClaimRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "claim {} ({id})", self.index),
            None => write!(f, "claim {}", self.index),
        }
    }
}

/// Which bounded list was too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// `credentials`
    Credentials,
    /// `claims` of a credential query
    Claims,
    /// `claim_sets` of a credential query, or the ids in one of its options
    ClaimSets,
    /// `credential_sets`
    CredentialSets,
    /// `options` of a credential set query, or the ids in one option
    Options,
    /// `values` of a claims query
    Values,
    /// `trusted_authorities` of a credential query, or the values of one
    TrustedAuthorities,
    /// components of a claims path pointer
    PathComponents,
}

/// Which string field was too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// an `id`
    Id,
    /// `format`
    Format,
    /// `meta.doctype_value`
    Doctype,
    /// a claims path component
    Path,
    /// a string in `values`
    Value,
    /// a trusted authority `type` or value
    TrustedAuthority,
}

/// What a JSON parse failure was, as `serde_json` classes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonCategory {
    /// not JSON
    Syntax,
    /// JSON, but not the shape of a DCQL query (missing or mistyped member)
    Data,
    /// the input ended early
    Eof,
    /// reading failed
    Io,
}

/// A DCQL query broke a rule of OpenID4VP 1.0 §6 or a bound of [`super::limits`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DcqlError {
    /// The serialized query is larger than [`super::limits::MAX_QUERY_BYTES`].
    #[error("query of {len} bytes, at most {max} accepted")]
    TooLarge {
        /// its length
        len: usize,
        /// the bound
        max: usize,
    },
    /// Arrays and objects nest deeper than [`super::limits::MAX_DEPTH`].
    #[error("query nests deeper than {max}")]
    TooDeep {
        /// the bound
        max: usize,
    },
    /// The bytes are not JSON of a DCQL query's shape.
    #[error("query is not a DCQL JSON object ({category:?} at line {line}, column {column})")]
    Json {
        /// the kind of failure
        category: JsonCategory,
        /// 1-based line of the failure
        line: usize,
        /// 1-based column of the failure
        column: usize,
    },
    /// `credentials` is empty.
    #[error("credentials is empty")]
    NoCredentials,
    /// A list is longer than its bound; `query` names the credential query when it is inside one.
    #[error("{what:?} has {count} entries, at most {max} accepted (credential query {query:?})")]
    TooMany {
        /// the list
        what: Counted,
        /// the credential query it is in, if any
        query: Option<String>,
        /// its length
        count: usize,
        /// the bound
        max: usize,
    },
    /// A string is longer than its bound.
    #[error("{what:?} of {len} bytes in credential query {query:?}, at most {max} accepted")]
    TooLong {
        /// the field
        what: Field,
        /// the credential query it is in, if any
        query: Option<String>,
        /// its length
        len: usize,
        /// the bound
        max: usize,
    },
    /// A credential query's `id` is empty, longer than [`super::limits::MAX_ID_LEN`] or has a
    /// character outside `[A-Za-z0-9_-]`.
    #[error("credential query {index} has an invalid id {id:?}")]
    InvalidCredentialId {
        /// position in `credentials`
        index: usize,
        /// the id
        id: String,
    },
    /// Two credential queries share an `id`.
    #[error("credential query id {id:?} appears more than once")]
    DuplicateCredentialId {
        /// the id
        id: String,
    },
    /// A claims query's `id` is empty, longer than [`super::limits::MAX_ID_LEN`] or has a
    /// character outside `[A-Za-z0-9_-]`.
    #[error("credential query {query:?}: {claim} has an invalid id")]
    InvalidClaimId {
        /// the credential query
        query: String,
        /// the claim
        claim: ClaimRef,
    },
    /// Two claims queries of one credential query share an `id`.
    #[error("credential query {query:?}: claim id {id:?} appears more than once")]
    DuplicateClaimId {
        /// the credential query
        query: String,
        /// the id
        id: String,
    },
    /// `claims` is present but empty.
    #[error("credential query {query:?}: claims is empty")]
    EmptyClaims {
        /// the credential query
        query: String,
    },
    /// `claim_sets` is present without `claims`.
    #[error("credential query {query:?}: claim_sets without claims")]
    ClaimSetsWithoutClaims {
        /// the credential query
        query: String,
    },
    /// `claim_sets` is present but empty, or one of its options is empty.
    #[error("credential query {query:?}: claim_sets or its option {option:?} is empty")]
    EmptyClaimSet {
        /// the credential query
        query: String,
        /// the empty option, `None` when `claim_sets` itself is empty
        option: Option<usize>,
    },
    /// `claim_sets` is present and a claims query has no `id`.
    #[error("credential query {query:?}: {claim} has no id, which claim_sets requires")]
    ClaimWithoutId {
        /// the credential query
        query: String,
        /// the claim
        claim: ClaimRef,
    },
    /// An option of `claim_sets` names a claim id that `claims` does not have.
    #[error("credential query {query:?}: claim_sets option {option} names unknown claim {id:?}")]
    UnknownClaimId {
        /// the credential query
        query: String,
        /// the option
        option: usize,
        /// the unknown id
        id: String,
    },
    /// An `mso_mdoc` credential query has no `meta.doctype_value`.
    #[error("credential query {query:?}: mso_mdoc without meta.doctype_value")]
    MissingDoctype {
        /// the credential query
        query: String,
    },
    /// A claims path pointer is empty or has a component other than a string, null or
    /// non-negative integer.
    #[error("credential query {query:?}: {claim} has an invalid path")]
    InvalidPath {
        /// the credential query
        query: String,
        /// the claim
        claim: ClaimRef,
    },
    /// An `mso_mdoc` claims path is not exactly `[namespace, element]`, two non-empty strings.
    #[error("credential query {query:?}: {claim} path is not [namespace, element]")]
    MdocPath {
        /// the credential query
        query: String,
        /// the claim
        claim: ClaimRef,
    },
    /// `values` is present but empty.
    #[error("credential query {query:?}: {claim} has empty values")]
    EmptyValues {
        /// the credential query
        query: String,
        /// the claim
        claim: ClaimRef,
    },
    /// An entry of `values` is not a string, an integer or a boolean.
    #[error(
        "credential query {query:?}: {claim} value {value} is not a string, integer or boolean"
    )]
    InvalidValue {
        /// the credential query
        query: String,
        /// the claim
        claim: ClaimRef,
        /// position in `values`
        value: usize,
    },
    /// `trusted_authorities` is present but empty, or one entry has no values.
    #[error("credential query {query:?}: trusted_authorities or entry {entry:?} is empty")]
    EmptyTrustedAuthorities {
        /// the credential query
        query: String,
        /// the entry without values, `None` when the list itself is empty
        entry: Option<usize>,
    },
    /// `credential_sets` is present but empty.
    #[error("credential_sets is empty")]
    NoCredentialSets,
    /// A credential set query's `options`, or one option, is empty.
    #[error("credential set {set}: options or option {option:?} is empty")]
    EmptyOption {
        /// position in `credential_sets`
        set: usize,
        /// the empty option, `None` when `options` itself is empty
        option: Option<usize>,
    },
    /// An option of a credential set query names a credential query id the query does not have.
    #[error("credential set {set} option {option} names unknown credential query {id:?}")]
    UnknownCredentialId {
        /// position in `credential_sets`
        set: usize,
        /// position in `options`
        option: usize,
        /// the unknown id
        id: String,
    },
}
