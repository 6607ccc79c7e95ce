//! The `x5chain` header (RFC 9360, label 33).

use coset::{CoseSign1, Header, Label};

use crate::cbor::Value;
use crate::error::{Error, Result};

/// COSE header label of x5chain.
pub const X5CHAIN: i64 = 33;

/// Most certificates an x5chain may carry. A DS chain is the DS certificate and at most a few
/// intermediates below the IACA; a longer chain is refused before any certificate in it is
/// copied or parsed (11,000 copies of one certificate were once accepted).
pub const MAX_X5CHAIN_CERTS: usize = 8;

/// The header value for `certs` (DER, leaf first): a bstr for one, an array for more.
pub fn x5chain_value(certs: &[Vec<u8>]) -> Result<Value> {
    match certs {
        [] => Err(Error::X5Chain(
            "at least one certificate is required".into(),
        )),
        [one] => Ok(Value::Bytes(one.clone())),
        many => Ok(Value::Array(
            many.iter().cloned().map(Value::Bytes).collect(),
        )),
    }
}

fn find(header: &Header) -> Option<&Value> {
    header
        .rest
        .iter()
        .find(|(l, _)| *l == Label::Int(X5CHAIN))
        .map(|(_, v)| v)
}

/// The certificates (DER, leaf first) of a COSE_Sign1's x5chain, from the protected header if
/// present there, else from the unprotected header.
pub fn x5chain(sign1: &CoseSign1) -> Result<Vec<Vec<u8>>> {
    let value = find(&sign1.protected.header)
        .or_else(|| find(&sign1.unprotected))
        .ok_or_else(|| Error::X5Chain("no x5chain (label 33) in either header".into()))?;
    match value {
        Value::Bytes(b) if !b.is_empty() => Ok(vec![b.clone()]),
        Value::Array(items) if items.len() > MAX_X5CHAIN_CERTS => Err(Error::X5Chain(format!(
            "{} certificates; at most {MAX_X5CHAIN_CERTS}",
            items.len()
        ))),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|v| match v {
                Value::Bytes(b) if !b.is_empty() => Ok(b.clone()),
                _ => Err(Error::X5Chain("array entry is not a non-empty bstr".into())),
            })
            .collect(),
        _ => Err(Error::X5Chain(
            "neither a bstr nor a non-empty array of bstr".into(),
        )),
    }
}
