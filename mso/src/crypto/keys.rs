//! Public keys: the device key of an MSO, the key of a certificate.

use coset::{iana, CoseKey, CoseKeyBuilder, KeyType, Label};
use p256::elliptic_curve::sec1::ToEncodedPoint;

use super::{Algorithm, Curve};
use crate::cbor::Value;
use crate::error::{Error, Result};

/// A validated public key (on its curve, not the identity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// P-256 key.
    P256(p256::PublicKey),
    /// P-384 key.
    P384(p384::PublicKey),
    /// P-521 key.
    P521(p521::PublicKey),
    /// Ed25519 key.
    Ed25519(ed25519_dalek::VerifyingKey),
}

fn invalid(what: &str) -> Error {
    Error::InvalidKey(what.to_owned())
}

impl PublicKey {
    /// The key's curve.
    pub fn curve(&self) -> Curve {
        match self {
            PublicKey::P256(_) => Curve::P256,
            PublicKey::P384(_) => Curve::P384,
            PublicKey::P521(_) => Curve::P521,
            PublicKey::Ed25519(_) => Curve::Ed25519,
        }
    }

    /// Parses an EC point (SEC1, compressed or uncompressed) on `curve`, validating it.
    pub fn from_sec1(curve: Curve, bytes: &[u8]) -> Result<Self> {
        let bad = || invalid(&format!("not a valid {} point", curve.name()));
        Ok(match curve {
            Curve::P256 => {
                PublicKey::P256(p256::PublicKey::from_sec1_bytes(bytes).map_err(|_| bad())?)
            }
            Curve::P384 => {
                PublicKey::P384(p384::PublicKey::from_sec1_bytes(bytes).map_err(|_| bad())?)
            }
            Curve::P521 => {
                PublicKey::P521(p521::PublicKey::from_sec1_bytes(bytes).map_err(|_| bad())?)
            }
            Curve::Ed25519 => {
                let raw: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
                PublicKey::Ed25519(
                    ed25519_dalek::VerifyingKey::from_bytes(&raw).map_err(|_| bad())?,
                )
            }
        })
    }

    /// The uncompressed SEC1 point (or the raw 32 bytes for Ed25519).
    pub fn to_sec1(&self) -> Vec<u8> {
        match self {
            PublicKey::P256(k) => k.to_encoded_point(false).as_bytes().to_vec(),
            PublicKey::P384(k) => k.to_encoded_point(false).as_bytes().to_vec(),
            PublicKey::P521(k) => k.to_encoded_point(false).as_bytes().to_vec(),
            PublicKey::Ed25519(k) => k.to_bytes().to_vec(),
        }
    }

    /// Reads a COSE_Key (EC2 or OKP). `alg`, if present, must fit the curve.
    pub fn from_cose_key(key: &CoseKey) -> Result<Self> {
        let param = |label: i64| {
            key.params
                .iter()
                .find(|(l, _)| *l == Label::Int(label))
                .map(|(_, v)| v)
        };
        let crv = match param(-1) {
            Some(Value::Integer(i)) => i128::from(*i),
            Some(_) => return Err(invalid("COSE_Key crv is not an integer")),
            None => return Err(invalid("COSE_Key without crv")),
        };
        let bytes_param = |label: i64, name: &str| match param(label) {
            Some(Value::Bytes(b)) => Ok(b.as_slice()),
            Some(_) => Err(invalid(&format!("COSE_Key {name} is not a byte string"))),
            None => Err(invalid(&format!("COSE_Key without {name}"))),
        };
        let public = match key.kty {
            KeyType::Assigned(iana::KeyType::EC2) => {
                let (curve, size) = match crv {
                    1 => (Curve::P256, 32),
                    2 => (Curve::P384, 48),
                    3 => (Curve::P521, 66),
                    other => return Err(Error::UnsupportedAlgorithm(format!("EC2 curve {other}"))),
                };
                let x = bytes_param(-2, "x")?;
                if x.len() != size {
                    return Err(invalid(&format!("{} x must be {size} bytes", curve.name())));
                }
                let mut sec1 = Vec::with_capacity(1 + 2 * size);
                match param(-3) {
                    Some(Value::Bytes(y)) if y.len() == size => {
                        sec1.push(0x04);
                        sec1.extend_from_slice(x);
                        sec1.extend_from_slice(y);
                    }
                    Some(Value::Bytes(_)) => {
                        return Err(invalid(&format!("{} y must be {size} bytes", curve.name())))
                    }
                    Some(Value::Bool(sign)) => {
                        sec1.push(if *sign { 0x03 } else { 0x02 });
                        sec1.extend_from_slice(x);
                    }
                    Some(_) => return Err(invalid("COSE_Key y is neither bytes nor bool")),
                    None => return Err(invalid("COSE_Key without y")),
                }
                PublicKey::from_sec1(curve, &sec1)?
            }
            KeyType::Assigned(iana::KeyType::OKP) => {
                if crv != 6 {
                    return Err(Error::UnsupportedAlgorithm(format!("OKP curve {crv}")));
                }
                PublicKey::from_sec1(Curve::Ed25519, bytes_param(-2, "x")?)?
            }
            ref other => {
                return Err(Error::UnsupportedAlgorithm(format!(
                    "COSE key type {other:?}"
                )))
            }
        };
        if let Some(alg) = &key.alg {
            let alg = match alg {
                coset::Algorithm::Assigned(a) => {
                    Algorithm::from_cose_id(*a as i64).ok_or_else(|| {
                        Error::UnsupportedAlgorithm(format!("COSE algorithm {}", *a as i64))
                    })?
                }
                other => return Err(Error::UnsupportedAlgorithm(format!("{other:?}"))),
            };
            public.check_algorithm(alg)?;
        }
        Ok(public)
    }

    /// The COSE_Key form (EC2 with x and y, or OKP), without `alg` (deviceKey may lack it).
    pub fn to_cose_key(&self) -> CoseKey {
        let sec1 = self.to_sec1();
        let coords = |size: usize| {
            let x = sec1.get(1..1 + size).unwrap_or_default().to_vec();
            let y = sec1.get(1 + size..).unwrap_or_default().to_vec();
            (x, y)
        };
        match self {
            PublicKey::P256(_) => {
                let (x, y) = coords(32);
                CoseKeyBuilder::new_ec2_pub_key(iana::EllipticCurve::P_256, x, y).build()
            }
            PublicKey::P384(_) => {
                let (x, y) = coords(48);
                CoseKeyBuilder::new_ec2_pub_key(iana::EllipticCurve::P_384, x, y).build()
            }
            PublicKey::P521(_) => {
                let (x, y) = coords(66);
                CoseKeyBuilder::new_ec2_pub_key(iana::EllipticCurve::P_521, x, y).build()
            }
            PublicKey::Ed25519(k) => CoseKeyBuilder::new_okp_key()
                .param(
                    iana::OkpKeyParameter::Crv as i64,
                    Value::from(iana::EllipticCurve::Ed25519 as i64),
                )
                .param(
                    iana::OkpKeyParameter::X as i64,
                    Value::Bytes(k.to_bytes().to_vec()),
                )
                .build(),
        }
    }

    /// Fails unless `alg` is the algorithm for this key's curve.
    pub fn check_algorithm(&self, alg: Algorithm) -> Result<()> {
        if self.curve().algorithm() == alg {
            Ok(())
        } else {
            Err(Error::AlgorithmMismatch {
                alg: alg.name().into(),
                key: self.curve().name().into(),
            })
        }
    }
}
