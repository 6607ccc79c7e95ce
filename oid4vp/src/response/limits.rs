//! The bounds on an untrusted response, each defined once.

/// Largest response body (form or JSON) read, bytes: a few DeviceResponses with portraits.
pub const MAX_RESPONSE_LEN: usize = 4 * 1024 * 1024;
/// Most credential query ids in a VP Token.
pub const MAX_QUERIES: usize = 16;
/// Most presentations per credential query id.
pub const MAX_PRESENTATIONS: usize = 8;
/// Largest DeviceResponse, bytes (decoded).
pub const MAX_PRESENTATION_LEN: usize = 1024 * 1024;
/// Longest credential query id.
pub const MAX_ID_LEN: usize = 64;
/// Longest `state` (the request's bound).
pub const MAX_NONCE_LEN: usize = crate::request::limits::MAX_NONCE_LEN;
