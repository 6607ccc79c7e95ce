//! JSON from servers, read under bounds: the size is bounded by the caller (per kind of
//! answer), the nesting depth is checked by a linear scan before `serde_json` parses, and
//! every failure is typed: broken JSON is [`WalletError::Malformed`], JSON of the wrong shape
//! (a missing field, a wrong type) is [`WalletError::Protocol`].

use mdoc_jose::json::nesting_depth;
use serde::de::DeserializeOwned;

use crate::error::{Result, WalletError};

/// Deepest nesting of arrays and objects accepted.
pub const MAX_JSON_DEPTH: usize = 32;

/// Parses `bytes` as a `T`; `what` names the document in errors.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    if nesting_depth(bytes) > MAX_JSON_DEPTH {
        return Err(WalletError::SizeLimit {
            reason: format!("{what}: JSON nested deeper than {MAX_JSON_DEPTH}"),
        });
    }
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => WalletError::Protocol {
            reason: format!("{what}: {e}"),
        },
        _ => WalletError::Malformed {
            reason: format!("{what} is not JSON: {e}"),
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn depth_and_errors_are_typed() {
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert!(matches!(
            parse::<serde_json::Value>(deep.as_bytes(), "x"),
            Err(WalletError::SizeLimit { .. })
        ));
        assert!(matches!(
            parse::<serde_json::Value>(b"{\"a\":", "x"),
            Err(WalletError::Malformed { .. })
        ));
        #[derive(serde::Deserialize)]
        struct T {
            #[allow(dead_code)]
            a: String,
        }
        assert!(matches!(
            parse::<T>(b"{\"a\":1}", "x"),
            Err(WalletError::Protocol { .. })
        ));
    }
}
