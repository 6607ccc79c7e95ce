//! COSE signature algorithms this crate understands.

use coset::iana;

use crate::error::{Error, Result};

/// A COSE signature algorithm (RFC 9053), with its curve and hash fixed as ISO 18013-5 uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA P-256 with SHA-256 (COSE -7).
    Es256,
    /// ECDSA P-384 with SHA-384 (COSE -35).
    Es384,
    /// ECDSA P-521 with SHA-512 (COSE -36).
    Es512,
    /// EdDSA with Ed25519 (COSE -8).
    EdDsa,
}

impl Algorithm {
    /// The COSE algorithm identifier.
    pub fn cose_id(self) -> i64 {
        self.iana() as i64
    }

    /// The `coset` registry value.
    pub fn iana(self) -> iana::Algorithm {
        match self {
            Algorithm::Es256 => iana::Algorithm::ES256,
            Algorithm::Es384 => iana::Algorithm::ES384,
            Algorithm::Es512 => iana::Algorithm::ES512,
            Algorithm::EdDsa => iana::Algorithm::EdDSA,
        }
    }

    /// Maps a COSE algorithm identifier.
    pub fn from_cose_id(id: i64) -> Result<Self> {
        match id {
            -7 => Ok(Algorithm::Es256),
            -35 => Ok(Algorithm::Es384),
            -36 => Ok(Algorithm::Es512),
            -8 => Ok(Algorithm::EdDsa),
            other => Err(Error::UnsupportedAlgorithm(format!(
                "COSE algorithm {other}"
            ))),
        }
    }

    /// Length of a raw (COSE) signature for this algorithm.
    pub fn signature_len(self) -> usize {
        match self {
            Algorithm::Es256 => 64,
            Algorithm::Es384 => 96,
            Algorithm::Es512 => 132,
            Algorithm::EdDsa => 64,
        }
    }

    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::Es512 => "ES512",
            Algorithm::EdDsa => "EdDSA",
        }
    }
}

impl core::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
