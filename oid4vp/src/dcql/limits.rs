//! The bounds a DCQL query from an untrusted verifier must respect. A wallet checks them before
//! it spends work on a query; every number is defined here once.

/// Largest serialized query accepted, in bytes (a query naming every element of several
/// documents stays well below it).
pub const MAX_QUERY_BYTES: usize = 64 * 1024;
/// Deepest nesting of JSON arrays and objects (a query needs 5; `meta` and extensions get room).
pub const MAX_DEPTH: usize = 16;
/// Most credential queries in one query.
pub const MAX_CREDENTIALS: usize = 32;
/// Most claims queries in one credential query (an mDL has about 40 data elements).
pub const MAX_CLAIMS: usize = 64;
/// Most options in `claim_sets` of one credential query.
pub const MAX_CLAIM_SETS: usize = 16;
/// Most credential set queries.
pub const MAX_CREDENTIAL_SETS: usize = 16;
/// Most options in one credential set query.
pub const MAX_OPTIONS: usize = 16;
/// Most entries in one claims query's `values`.
pub const MAX_VALUES: usize = 32;
/// Most trusted authorities queries in one credential query, and values in each.
pub const MAX_TRUSTED_AUTHORITIES: usize = 16;
/// Most components of a claims path pointer (an mdoc path has exactly 2).
pub const MAX_PATH_LEN: usize = 16;
/// Longest identifier (credential query, claim), in bytes.
pub const MAX_ID_LEN: usize = 64;
/// Longest other string (format, doctype, namespace, element, value, authority), in bytes.
pub const MAX_STRING_LEN: usize = 256;
