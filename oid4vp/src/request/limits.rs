//! The bounds on an untrusted authorization request, each defined once.

/// Largest request (JSON, query string or request object) read, bytes.
pub const MAX_REQUEST_LEN: usize = 64 * 1024;
/// Shortest accepted `nonce`: 16 characters of the URL-safe alphabet carry at least 96 bits
/// when random; shorter values cannot bind a response to one transaction.
pub const MIN_NONCE_LEN: usize = 16;
/// Longest accepted `nonce` or `state`.
pub const MAX_NONCE_LEN: usize = 256;
/// Longest accepted URI (`response_uri`, `redirect_uri`, `request_uri`, an origin).
pub const MAX_URI_LEN: usize = 2048;
/// Longest accepted `client_id`.
pub const MAX_CLIENT_ID_LEN: usize = 2048;
/// Most keys read from `client_metadata.jwks`.
pub const MAX_JWKS_KEYS: usize = 16;
/// Most entries of `expected_origins` or `encrypted_response_enc_values_supported`.
pub const MAX_LIST_LEN: usize = 16;
/// Most certificates in a request object's `x5c`.
pub const MAX_X5C_LEN: usize = 5;
