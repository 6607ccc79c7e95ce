//! Errors: [`SchemaError`] for definition files, [`ValidationError`] for applicant data.

use std::fmt;

use serde::Serialize;

/// A definition file (or directory of them) that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The directory or a file in it could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path that failed.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not have the shape of a definition file.
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        /// File name.
        file: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The file parses but a definition in it is inconsistent (bad regex, limit on the wrong
    /// type, missing identifier ...).
    #[error("{file}: {location}: {message}")]
    Invalid {
        /// File name.
        file: String,
        /// Where in the definition: `namespace/element/...`.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// Two files of one directory (or of the built-in set) define the same doctype.
    #[error("doctype {doctype:?} is defined in both {first} and {second}")]
    DuplicateDoctype {
        /// The doctype string.
        doctype: String,
        /// File that defined it first.
        first: String,
        /// File that defined it again.
        second: String,
    },
}

/// Machine-readable reason of a [`ValidationError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The doctype is not in the registry.
    UnknownDoctype,
    /// The namespace is not part of the doctype.
    UnknownNamespace,
    /// The element (or map field) is not part of the namespace (or map).
    UnknownElement,
    /// A mandatory element or field is absent.
    MissingMandatory,
    /// The JSON value has the wrong type for the element's CBOR type.
    WrongType,
    /// Too many characters (tstr) or items (array).
    TooLong,
    /// Too few characters, bytes or items.
    TooShort,
    /// An integer outside `min..=max`.
    OutOfRange,
    /// A string that does not match the element's pattern (or ISO 3166-2 shape).
    PatternMismatch,
    /// A value outside the allowed list or named value set.
    NotAllowedValue,
    /// A character outside the element's repertoire (e.g. Latin-1).
    InvalidCharacter,
    /// A bstr that is not valid base64url.
    InvalidEncoding,
    /// A full-date or tdate string that does not parse.
    InvalidDate,
    /// A bstr that is not in the required image format (JPEG / JPEG 2000).
    NotJpeg,
    /// A bstr with more bytes than allowed.
    TooLarge,
    /// A generically converted value nested too deeply.
    TooDeep,
    /// Reporting stopped after [`MAX_ERRORS`](crate::MAX_ERRORS) errors.
    TooManyErrors,
}

impl ErrorCode {
    /// The snake_case code as it appears in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::UnknownDoctype => "unknown_doctype",
            ErrorCode::UnknownNamespace => "unknown_namespace",
            ErrorCode::UnknownElement => "unknown_element",
            ErrorCode::MissingMandatory => "missing_mandatory",
            ErrorCode::WrongType => "wrong_type",
            ErrorCode::TooLong => "too_long",
            ErrorCode::TooShort => "too_short",
            ErrorCode::OutOfRange => "out_of_range",
            ErrorCode::PatternMismatch => "pattern_mismatch",
            ErrorCode::NotAllowedValue => "not_allowed_value",
            ErrorCode::InvalidCharacter => "invalid_character",
            ErrorCode::InvalidEncoding => "invalid_encoding",
            ErrorCode::InvalidDate => "invalid_date",
            ErrorCode::NotJpeg => "not_jpeg",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::TooDeep => "too_deep",
            ErrorCode::TooManyErrors => "too_many_errors",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with the applicant data: where, which rule, and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationError {
    /// JSON pointer (RFC 6901) into the applicant data, e.g.
    /// `/org.iso.18013.5.1/driving_privileges/0/vehicle_category_code`; empty for the whole
    /// document (e.g. `unknown_doctype`).
    pub path: String,
    /// The rule that failed.
    pub code: ErrorCode,
    /// Human-readable explanation (never echoes a whole bstr).
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        write!(f, "{path}: {}: {}", self.code, self.message)
    }
}
