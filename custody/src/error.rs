//! The crate's one error type. Messages never contain a PIN, passphrase, share or key.

use thiserror::Error;

/// Everything that can go wrong in key custody and auditing.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A key URI could not be parsed.
    #[error("invalid key URI {uri:?}: {reason}")]
    InvalidUri {
        /// The URI as given (URIs never carry secrets).
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The PKCS#11 module or token failed.
    #[error("PKCS#11: {0}")]
    Pkcs11(String),
    /// No key with this name exists.
    #[error("no key named {0:?}")]
    KeyNotFound(String),
    /// A key with this name already exists (keys are never overwritten).
    #[error("a key named {0:?} already exists")]
    KeyExists(String),
    /// The software keystore could not be read or written.
    #[error("keystore: {0}")]
    Keystore(String),
    /// A passphrase or secret did not open what it should.
    #[error("wrong passphrase or secret for {0}")]
    WrongSecret(String),
    /// Fewer shares than the threshold were presented.
    #[error("{have} of the required {need} custodian shares presented")]
    NotEnoughShares {
        /// Shares presented.
        have: usize,
        /// Threshold.
        need: usize,
    },
    /// Shares do not belong together or do not reconstruct the committed secret.
    #[error("quorum: {0}")]
    Quorum(String),
    /// The audit log is malformed or has been tampered with.
    #[error("audit log: record {seq}: {reason}")]
    AuditTampered {
        /// Sequence number where the problem was found.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
    /// An audit record was refused before anything was written: it would carry something that
    /// looks like a secret, a malformed or reserved field, or exceed the line limit; or the log
    /// cannot take appends in its current state. The message names fields, never values.
    #[error("audit record refused: {0}")]
    AuditRefused(String),
    /// I/O on keystore, share or log files.
    #[error("I/O on {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A time-stamp response or token was refused.
    #[error("time stamp: {0}")]
    TimeStamp(#[from] crate::timestamp::TimeStampError),
    /// A signing or key operation in `mso` failed.
    #[error(transparent)]
    Mso(#[from] mso::Error),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;
