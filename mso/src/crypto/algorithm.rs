//! COSE signature algorithms this crate understands, and the curves they pair with.

use coset::iana;

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

    /// Maps a COSE algorithm identifier (`None` for one this crate does not support).
    pub fn from_cose_id(id: i64) -> Option<Self> {
        match id {
            -7 => Some(Algorithm::Es256),
            -35 => Some(Algorithm::Es384),
            -36 => Some(Algorithm::Es512),
            -8 => Some(Algorithm::EdDsa),
            _ => None,
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

/// Curves a key may be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    /// NIST P-256 (secp256r1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
    /// NIST P-521 (secp521r1).
    P521,
    /// Ed25519.
    Ed25519,
}

impl Curve {
    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
            Curve::Ed25519 => "Ed25519",
        }
    }

    /// The one signature algorithm ISO 18013-5 pairs with this curve.
    pub fn algorithm(self) -> Algorithm {
        match self {
            Curve::P256 => Algorithm::Es256,
            Curve::P384 => Algorithm::Es384,
            Curve::P521 => Algorithm::Es512,
            Curve::Ed25519 => Algorithm::EdDsa,
        }
    }
}
