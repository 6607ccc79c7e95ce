//! Private keys handed in by the app: the reader's ephemeral key (deviceMac, session) and the
//! reader authentication key (ReaderAuth).

use mso::crypto::ecdh::AgreementKey;
use mso::crypto::{Curve, SoftwareKey};

use crate::error::Result;

/// Curves usable for ECDH in ISO 18013-5 sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EcCurve {
    /// NIST P-256.
    P256,
    /// NIST P-384.
    P384,
}

/// An ECDH private key: the reader's ephemeral key (EReaderKey).
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum AgreementPrivateKey {
    /// PEM `PRIVATE KEY` (PKCS#8) on P-256 or P-384.
    Pkcs8Pem {
        /// The PEM text.
        pem: String,
    },
    /// The raw private scalar, big-endian.
    Scalar {
        /// The curve.
        curve: EcCurve,
        /// The scalar (32 bytes for P-256, 48 for P-384).
        d: Vec<u8>,
    },
}

impl core::fmt::Debug for AgreementPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print key material.
        f.write_str("AgreementPrivateKey(..)")
    }
}

impl AgreementPrivateKey {
    pub(crate) fn to_mso(&self) -> Result<AgreementKey> {
        Ok(match self {
            AgreementPrivateKey::Pkcs8Pem { pem } => AgreementKey::from_pkcs8_pem(pem)?,
            AgreementPrivateKey::Scalar { curve, d } => AgreementKey::from_scalar(
                match curve {
                    EcCurve::P256 => Curve::P256,
                    EcCurve::P384 => Curve::P384,
                },
                d,
            )?,
        })
    }
}

/// A signing private key (PKCS#8: EC P-256/384/521 or Ed25519).
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SigningPrivateKey {
    /// PKCS#8 DER.
    Pkcs8Der {
        /// The DER bytes.
        der: Vec<u8>,
    },
    /// PEM `PRIVATE KEY` (PKCS#8).
    Pkcs8Pem {
        /// The PEM text.
        pem: String,
    },
}

impl core::fmt::Debug for SigningPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SigningPrivateKey(..)")
    }
}

impl SigningPrivateKey {
    pub(crate) fn to_mso(&self) -> Result<SoftwareKey> {
        Ok(match self {
            SigningPrivateKey::Pkcs8Der { der } => SoftwareKey::from_pkcs8_der(der)?,
            SigningPrivateKey::Pkcs8Pem { pem } => SoftwareKey::from_pkcs8_pem(pem)?,
        })
    }
}
