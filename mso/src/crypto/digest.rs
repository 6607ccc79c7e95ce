//! The MSO digest algorithms.

use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::error::{Error, Result};

/// `digestAlgorithm` of a MobileSecurityObject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// "SHA-256"
    Sha256,
    /// "SHA-384"
    Sha384,
    /// "SHA-512"
    Sha512,
}

impl DigestAlgorithm {
    /// The identifier as written in the MSO.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha384 => "SHA-384",
            DigestAlgorithm::Sha512 => "SHA-512",
        }
    }

    /// Parses the MSO identifier (exact spelling, as 18013-5 defines it).
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "SHA-256" => Ok(DigestAlgorithm::Sha256),
            "SHA-384" => Ok(DigestAlgorithm::Sha384),
            "SHA-512" => Ok(DigestAlgorithm::Sha512),
            other => Err(Error::UnsupportedAlgorithm(format!(
                "digest algorithm {other:?}"
            ))),
        }
    }

    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 => 32,
            DigestAlgorithm::Sha384 => 48,
            DigestAlgorithm::Sha512 => 64,
        }
    }

    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            DigestAlgorithm::Sha256 => Sha256::digest(data).to_vec(),
            DigestAlgorithm::Sha384 => Sha384::digest(data).to_vec(),
            DigestAlgorithm::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}
