//! Web origins as the Digital Credentials API reports them: `scheme://host[:port]`, nothing
//! more, so that the origin bound into a SessionTranscript is the one the browser vouches for.

use crate::error::{Result, VerifierError};

/// Longest origin accepted.
pub const MAX_ORIGIN_LEN: usize = 2048;

/// Refuses anything but a serialized tuple origin (`https://host[:port]`; `http` only for
/// loopback hosts, as browsers treat them as secure contexts).
pub(crate) fn check_origin(origin: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(VerifierError::invalid_argument(format!(
            "origin {origin:?}: {why}"
        )))
    };
    if origin.is_empty() || origin.len() > MAX_ORIGIN_LEN {
        return bad("empty or too long");
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return bad("not scheme://host");
    };
    let host = rest.rsplit_once(':').map_or(rest, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) && !port.is_empty() {
            h
        } else {
            rest
        }
    });
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    if !(scheme == "https" || (scheme == "http" && loopback)) {
        return bad("not https");
    }
    if host.is_empty()
        || rest.contains(['/', '?', '#', '@'])
        || !rest.chars().all(|c| c.is_ascii_graphic())
        || rest.ends_with('.')
    {
        return bad("not a bare origin (no path, query, fragment or user info)");
    }
    Ok(())
}
