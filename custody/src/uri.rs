//! Key URIs: how configuration names a signing key without ever carrying a secret.
//!
//! Two schemes are understood:
//!
//! - `pkcs11:token=<token label>;object=<key label>` (RFC 7512): a key pair generated inside a
//!   PKCS#11 token. Path attributes are separated by `;`, values are percent-decoded (UTF-8),
//!   `token` and `object` are required, other standard or vendor attributes (`id`, `serial`,
//!   `manufacturer`, `type=private`, `x-…`) are accepted and ignored. A query part (`?…`) is
//!   refused: in particular `pin-value` and `pin-source` — a PIN never goes in a URI, it comes
//!   from the custodians' quorum.
//! - `file:<path>` (also `file:///absolute/path`, RFC 8089): a key in the encrypted
//!   development keystore ([`crate::softstore`]). Not for production keys.
//!
//! [`KeyUri`]'s [`Display`](core::fmt::Display) prints a canonical form that parses back to
//! the same value; attributes that were ignored on input are not printed.
//!
//! ```
//! use custody::uri::KeyUri;
//! let uri: KeyUri = "pkcs11:token=IACA%20root;object=root-2025;type=private".parse()?;
//! assert_eq!(
//!     uri,
//!     KeyUri::Pkcs11 { token: "IACA root".into(), object: "root-2025".into() }
//! );
//! assert_eq!(uri.to_string(), "pkcs11:token=IACA%20root;object=root-2025");
//! # Ok::<(), custody::Error>(())
//! ```

use core::fmt;
use core::str::FromStr;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// Longest URI accepted, in bytes (bounds the work done on untrusted configuration).
pub const MAX_URI_LEN: usize = 4096;

/// Longest PKCS#11 token label, in bytes (`CK_TOKEN_INFO.label` is 32 bytes).
pub const MAX_TOKEN_LABEL_LEN: usize = 32;

/// Longest object label accepted, in bytes.
pub const MAX_OBJECT_LABEL_LEN: usize = 255;

/// Where a signing key lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyUri {
    /// A private key inside a PKCS#11 token (an HSM), named by labels.
    Pkcs11 {
        /// The token label (`CKA_LABEL` of the token, at most 32 bytes).
        token: String,
        /// The key's object label (`CKA_LABEL` of the private and public key objects).
        object: String,
    },
    /// A key file of the development/test software keystore ([`crate::softstore`]).
    File {
        /// The keystore file.
        path: PathBuf,
    },
}

impl KeyUri {
    /// A PKCS#11 key URI, with the labels checked as the parser checks them.
    pub fn pkcs11(token: &str, object: &str) -> Result<Self> {
        let uri = KeyUri::Pkcs11 {
            token: token.to_owned(),
            object: object.to_owned(),
        };
        check_labels(&uri.to_string(), token, object)?;
        Ok(uri)
    }

    /// A software keystore key URI.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        KeyUri::File { path: path.into() }
    }

    /// The scheme, `pkcs11` or `file`.
    pub fn scheme(&self) -> &'static str {
        match self {
            KeyUri::Pkcs11 { .. } => "pkcs11",
            KeyUri::File { .. } => "file",
        }
    }
}

fn invalid(uri: &str, reason: impl Into<String>) -> Error {
    // Only a bounded prefix of the URI, without any query part, goes into the error.
    let (head, query) = match uri.split_once('?') {
        Some((head, _)) => (head, "?…"),
        None => (uri, ""),
    };
    let mut shown: String = head.chars().take(256).collect();
    shown.push_str(query);
    Error::InvalidUri {
        uri: shown,
        reason: reason.into(),
    }
}

/// Names of RFC 7512 attributes that carry a PIN (query attributes; refused anywhere).
const PIN_ATTRIBUTES: &[&str] = &["pin-value", "pin-source"];

/// Whether `uri` mentions a PIN attribute anywhere (also percent-encoded or in another case).
fn mentions_pin(uri: &str) -> bool {
    let lower = uri.to_ascii_lowercase();
    let decoded = percent_decode("", "", &lower, |_| true)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    PIN_ATTRIBUTES
        .iter()
        .any(|name| lower.contains(name) || decoded.contains(name))
}

/// RFC 3986 `unreserved`.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 7512 `pk11-pchar` without `pct-encoded` (the value characters of a path attribute):
/// unreserved, `pk11-res-avail` minus the separators handled by the parser, and `&`.
fn is_pk11_pchar(b: u8) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b':' | b'['
                | b']'
                | b'@'
                | b'!'
                | b'$'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b'='
                | b'&'
        )
}

/// RFC 3986 `pchar` plus `/` (the characters of a `file:` path), without `pct-encoded`.
fn is_path_char(b: u8) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b'/' | b':'
                | b'@'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
        )
}

/// Decodes `%XX` escapes; every other byte must satisfy `allowed`.
fn percent_decode(
    uri: &str,
    what: &str,
    input: &str,
    allowed: impl Fn(u8) -> bool,
) -> Result<Vec<u8>> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|c| (*c as char).to_digit(16));
            let lo = bytes.get(i + 2).and_then(|c| (*c as char).to_digit(16));
            match (hi, lo) {
                (Some(hi), Some(lo)) => {
                    // Two hex digits are at most 0xFF.
                    out.push(u8::try_from(hi * 16 + lo).unwrap_or(u8::MAX));
                    i += 3;
                }
                _ => {
                    return Err(invalid(
                        uri,
                        format!("{what}: '%' must be followed by two hex digits"),
                    ))
                }
            }
        } else if allowed(b) {
            out.push(b);
            i += 1;
        } else {
            let shown = input
                .get(i..)
                .and_then(|rest| rest.chars().next())
                .unwrap_or('?');
            return Err(invalid(
                uri,
                format!("{what}: character {shown:?} must be percent-encoded"),
            ));
        }
    }
    Ok(out)
}

/// Appends `bytes`, percent-encoding every byte for which `keep` is false.
fn percent_encode(out: &mut String, bytes: &[u8], keep: impl Fn(u8) -> bool) {
    let hex = |nibble: u8| {
        char::from_digit(u32::from(nibble), 16)
            .unwrap_or('0')
            .to_ascii_uppercase()
    };
    for &b in bytes {
        if keep(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(hex(b >> 4));
            out.push(hex(b & 0x0F));
        }
    }
}

/// Standard RFC 7512 path attribute names (besides `token` and `object`), accepted and ignored.
const KNOWN_PATH_ATTRIBUTES: &[&str] = &[
    "id",
    "library-description",
    "library-manufacturer",
    "library-version",
    "manufacturer",
    "model",
    "serial",
    "slot-description",
    "slot-id",
    "slot-manufacturer",
    "type",
];

/// Object classes RFC 7512 defines for `type`.
const KNOWN_TYPES: &[&str] = &["public", "private", "cert", "secret-key", "data"];

fn is_vendor_attribute_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_labels(uri: &str, token: &str, object: &str) -> Result<()> {
    if token.is_empty() {
        return Err(invalid(uri, "token label is empty"));
    }
    if token.len() > MAX_TOKEN_LABEL_LEN {
        return Err(invalid(
            uri,
            format!(
                "token label is {} bytes, PKCS#11 allows at most {MAX_TOKEN_LABEL_LEN}",
                token.len()
            ),
        ));
    }
    if token.ends_with(' ') {
        // Token labels are blank-padded on the wire; a trailing space cannot be matched.
        return Err(invalid(uri, "token label ends with a space"));
    }
    if object.is_empty() {
        return Err(invalid(uri, "object label is empty"));
    }
    if object.len() > MAX_OBJECT_LABEL_LEN {
        return Err(invalid(
            uri,
            format!(
                "object label is {} bytes, at most {MAX_OBJECT_LABEL_LEN} are accepted",
                object.len()
            ),
        ));
    }
    if token.chars().any(char::is_control) || object.chars().any(char::is_control) {
        return Err(invalid(uri, "labels must not contain control characters"));
    }
    Ok(())
}

fn parse_pkcs11(uri: &str, rest: &str) -> Result<KeyUri> {
    if mentions_pin(rest) {
        // The URI itself is not echoed: it may hold the PIN.
        return Err(Error::InvalidUri {
            uri: "pkcs11:<redacted>".into(),
            reason: "a PIN never goes in a key URI (pin-value/pin-source refused): the PIN \
                     comes from the custodians' quorum"
                .into(),
        });
    }
    if rest.contains('?') {
        return Err(invalid(
            uri,
            "query attributes are not accepted in a key URI (the PKCS#11 module is configuration)",
        ));
    }
    if rest.contains('#') {
        return Err(invalid(uri, "a key URI has no fragment"));
    }
    if rest.is_empty() {
        return Err(invalid(uri, "token and object are required"));
    }
    let mut token: Option<String> = None;
    let mut object: Option<String> = None;
    let mut seen: Vec<&str> = Vec::new();
    for attr in rest.split(';') {
        if attr.is_empty() {
            return Err(invalid(uri, "empty path attribute (stray ';')"));
        }
        let Some((name, value)) = attr.split_once('=') else {
            return Err(invalid(
                uri,
                format!("path attribute {attr:?} is not name=value"),
            ));
        };
        if seen.contains(&name) {
            return Err(invalid(
                uri,
                format!("attribute {name:?} appears more than once"),
            ));
        }
        seen.push(name);
        let decoded = percent_decode(uri, name, value, is_pk11_pchar)?;
        match name {
            "token" | "object" => {
                let text = String::from_utf8(decoded)
                    .map_err(|_| invalid(uri, format!("{name} is not UTF-8")))?;
                if name == "token" {
                    token = Some(text);
                } else {
                    object = Some(text);
                }
            }
            "type" => {
                let ty = String::from_utf8_lossy(&decoded);
                if ty != "private" {
                    let reason = if KNOWN_TYPES.contains(&ty.as_ref()) {
                        format!("type={ty} does not name a private (signing) key")
                    } else {
                        format!("unknown object type {ty:?}")
                    };
                    return Err(invalid(uri, reason));
                }
            }
            known if KNOWN_PATH_ATTRIBUTES.contains(&known) => {}
            vendor if is_vendor_attribute_name(vendor) => {}
            other => {
                return Err(invalid(uri, format!("bad attribute name {other:?}")));
            }
        }
    }
    let token = token.ok_or_else(|| invalid(uri, "the token attribute is required"))?;
    let object = object.ok_or_else(|| invalid(uri, "the object attribute is required"))?;
    check_labels(uri, &token, &object)?;
    Ok(KeyUri::Pkcs11 { token, object })
}

fn parse_file(uri: &str, rest: &str) -> Result<KeyUri> {
    if rest.contains('?') {
        return Err(invalid(uri, "a file: key URI has no query"));
    }
    if rest.contains('#') {
        return Err(invalid(uri, "a file: key URI has no fragment"));
    }
    // RFC 8089 authority form: file://[localhost]/path.
    let path_part = match rest.strip_prefix("//") {
        Some(after) => {
            let (host, path) = match after.find('/') {
                Some(slash) => after.split_at(slash),
                None => (after, ""),
            };
            if !(host.is_empty() || host.eq_ignore_ascii_case("localhost")) {
                return Err(invalid(
                    uri,
                    format!("remote file host {host:?} not supported"),
                ));
            }
            path
        }
        None => rest,
    };
    if path_part.is_empty() {
        return Err(invalid(uri, "the file path is empty"));
    }
    let bytes = percent_decode(uri, "path", path_part, is_path_char)?;
    if bytes.contains(&0) {
        return Err(invalid(uri, "the file path contains a NUL byte"));
    }
    Ok(KeyUri::File {
        path: path_from_bytes(uri, bytes)?,
    })
}

#[cfg(unix)]
fn path_from_bytes(_uri: &str, bytes: Vec<u8>) -> Result<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    Ok(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
}

#[cfg(not(unix))]
fn path_from_bytes(uri: &str, bytes: Vec<u8>) -> Result<PathBuf> {
    String::from_utf8(bytes)
        .map(PathBuf::from)
        .map_err(|_| invalid(uri, "the file path is not UTF-8"))
}

#[cfg(unix)]
fn path_bytes(path: &std::path::Path) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    std::borrow::Cow::Borrowed(path.as_os_str().as_bytes())
}

#[cfg(not(unix))]
fn path_bytes(path: &std::path::Path) -> std::borrow::Cow<'_, [u8]> {
    match path.to_string_lossy() {
        std::borrow::Cow::Borrowed(s) => std::borrow::Cow::Borrowed(s.as_bytes()),
        std::borrow::Cow::Owned(s) => std::borrow::Cow::Owned(s.into_bytes()),
    }
}

impl FromStr for KeyUri {
    type Err = Error;

    fn from_str(uri: &str) -> Result<Self> {
        if uri.len() > MAX_URI_LEN {
            return Err(invalid(uri, format!("longer than {MAX_URI_LEN} bytes")));
        }
        let Some((scheme, rest)) = uri.split_once(':') else {
            return Err(invalid(uri, "no scheme (expected pkcs11: or file:)"));
        };
        if scheme.eq_ignore_ascii_case("pkcs11") {
            parse_pkcs11(uri, rest)
        } else if scheme.eq_ignore_ascii_case("file") {
            parse_file(uri, rest)
        } else {
            Err(invalid(
                uri,
                format!("unsupported scheme {scheme:?} (expected pkcs11: or file:)"),
            ))
        }
    }
}

impl fmt::Display for KeyUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        match self {
            KeyUri::Pkcs11 { token, object } => {
                out.push_str("pkcs11:token=");
                percent_encode(&mut out, token.as_bytes(), is_unreserved);
                out.push_str(";object=");
                percent_encode(&mut out, object.as_bytes(), is_unreserved);
            }
            KeyUri::File { path } => {
                out.push_str("file:");
                let bytes = path_bytes(path);
                if bytes.starts_with(b"//") {
                    // Keep a leading "//" from being read back as an authority.
                    out.push_str("//");
                }
                percent_encode(&mut out, &bytes, is_path_char);
            }
        }
        f.write_str(&out)
    }
}
