//! SubjectPublicKeyInfo (RFC 5480, RFC 8410): reading a key out of it, writing a key into it,
//! the curve OIDs, and the RFC 5280 method-1 key identifier.

use der::asn1::{Any, BitString, ObjectIdentifier};
use der::{Decode, Encode};
use sha1::{Digest, Sha1};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};

use super::oid;
use crate::crypto::{Curve, PublicKey};
use crate::error::{Error, Result};

/// The namedCurve OID of an EC curve (`None` for Ed25519, which has no parameters).
pub fn curve_oid(curve: Curve) -> Option<ObjectIdentifier> {
    match curve {
        Curve::P256 => Some(oid::SECP256R1),
        Curve::P384 => Some(oid::SECP384R1),
        Curve::P521 => Some(oid::SECP521R1),
        Curve::Ed25519 => None,
    }
}

/// The EC curve a namedCurve OID names, if this crate supports it.
pub fn curve_from_oid(curve: &ObjectIdentifier) -> Option<Curve> {
    [Curve::P256, Curve::P384, Curve::P521]
        .into_iter()
        .find(|c| curve_oid(*c).as_ref() == Some(curve))
}

/// A name for a curve OID in messages: the curve's name when supported, else the OID.
pub fn curve_name(curve: &ObjectIdentifier) -> String {
    match curve_from_oid(curve) {
        Some(c) => c.name().to_owned(),
        None if *curve == oid::SECP256K1 => format!("secp256k1 ({curve})"),
        None => curve.to_string(),
    }
}

fn invalid(what: &str) -> Error {
    Error::InvalidKey(what.to_owned())
}

/// Reads and validates the key of a DER SubjectPublicKeyInfo: id-ecPublicKey with a named
/// P-256/P-384/P-521 curve (point on the curve, not the identity), or id-Ed25519.
pub fn decode(spki: &SubjectPublicKeyInfoRef<'_>) -> Result<PublicKey> {
    let point = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| invalid("public key BIT STRING has unused bits"))?;
    let alg = &spki.algorithm;
    if alg.oid == oid::ED25519 {
        if alg.parameters.is_some() {
            return Err(invalid("Ed25519 key with parameters"));
        }
        return PublicKey::from_sec1(Curve::Ed25519, point);
    }
    if alg.oid != oid::EC_PUBLIC_KEY {
        return Err(Error::UnsupportedAlgorithm(format!(
            "public key algorithm {}",
            alg.oid
        )));
    }
    let named: ObjectIdentifier = alg
        .parameters
        .as_ref()
        .ok_or_else(|| invalid("EC key without named curve"))?
        .decode_as()
        .map_err(|_| invalid("EC key parameters are not a named curve"))?;
    let curve = curve_from_oid(&named)
        .ok_or_else(|| Error::UnsupportedAlgorithm(format!("EC curve {}", curve_name(&named))))?;
    PublicKey::from_sec1(curve, point)
}

/// Reads and validates the key of a decoded SubjectPublicKeyInfo (see [`decode`]).
pub fn decode_owned(spki: &SubjectPublicKeyInfoOwned) -> Result<PublicKey> {
    let der = spki
        .to_der()
        .map_err(|e| invalid(&format!("SubjectPublicKeyInfo: {e}")))?;
    let spki = SubjectPublicKeyInfoRef::from_der(&der)
        .map_err(|e| invalid(&format!("SubjectPublicKeyInfo: {e}")))?;
    decode(&spki)
}

/// The curve a SubjectPublicKeyInfo names (id-ecPublicKey with a supported namedCurve, or
/// id-Ed25519), read from the algorithm alone: the point is not decoded or validated, which
/// [`decode_owned`] does. For checks that only relate an algorithm to a key type.
pub fn curve_of(spki: &SubjectPublicKeyInfoOwned) -> Option<Curve> {
    let alg = &spki.algorithm;
    if alg.oid == oid::ED25519 {
        return alg.parameters.is_none().then_some(Curve::Ed25519);
    }
    if alg.oid != oid::EC_PUBLIC_KEY {
        return None;
    }
    let named: ObjectIdentifier = alg.parameters.as_ref()?.decode_as().ok()?;
    curve_from_oid(&named)
}

/// The SubjectPublicKeyInfo of a key: id-ecPublicKey with its named curve and the
/// uncompressed point (RFC 5480), or id-Ed25519 without parameters (RFC 8410).
pub fn encode(key: &PublicKey) -> Result<SubjectPublicKeyInfoOwned> {
    let enc = |e: der::Error| Error::InvalidKey(format!("encoding the key: {e}"));
    let algorithm = match curve_oid(key.curve()) {
        Some(curve) => AlgorithmIdentifierOwned {
            oid: oid::EC_PUBLIC_KEY,
            parameters: Some(Any::encode_from(&curve).map_err(enc)?),
        },
        None => AlgorithmIdentifierOwned {
            oid: oid::ED25519,
            parameters: None,
        },
    };
    Ok(SubjectPublicKeyInfoOwned {
        algorithm,
        subject_public_key: BitString::from_bytes(&key.to_sec1()).map_err(enc)?,
    })
}

/// The RFC 5280 §4.2.1.2 method-1 key identifier: SHA-1 of the subjectPublicKey BIT STRING
/// contents (without tag, length and unused-bits octet). Annex B asks for it; some verifiers
/// refuse other key identifiers.
pub fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> [u8; 20] {
    Sha1::digest(spki.subject_public_key.raw_bytes()).into()
}
