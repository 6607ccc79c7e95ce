//! COSE_Mac0 for deviceMac (HMAC 256/256 with EMacKey).

use coset::{mac_structure_data, CoseMac0, MacContext};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};

/// COSE algorithm identifier of HMAC 256/256.
pub const MAC_ALG_HMAC_256_256: i64 = 5;

/// MAC algorithms accepted for deviceMac.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mac0Algorithm {
    /// HMAC with SHA-256, full 256-bit tag (COSE 5).
    Hmac256,
}

fn algorithm(mac0: &CoseMac0) -> Result<Mac0Algorithm> {
    match &mac0.protected.header.alg {
        Some(coset::Algorithm::Assigned(a)) if *a as i64 == MAC_ALG_HMAC_256_256 => {
            Ok(Mac0Algorithm::Hmac256)
        }
        Some(other) => Err(Error::UnsupportedAlgorithm(format!("MAC {other:?}"))),
        None => Err(Error::Cose(
            "no alg in the COSE_Mac0 protected header".into(),
        )),
    }
}

/// Verifies a detached-payload COSE_Mac0 tag over `payload` with `key` (constant time).
pub fn mac0_verify_detached(mac0: &CoseMac0, payload: &[u8], key: &[u8]) -> Result<()> {
    if mac0.payload.is_some() {
        return Err(Error::Cose(
            "deviceMac payload must be detached (nil)".into(),
        ));
    }
    let Mac0Algorithm::Hmac256 = algorithm(mac0)?;
    let data = mac_structure_data(MacContext::CoseMac0, mac0.protected.clone(), &[], payload);
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|_| Error::InvalidKey("MAC key length".into()))?;
    mac.update(&data);
    mac.verify_slice(&mac0.tag).map_err(|_| Error::BadSignature)
}

/// Computes a detached-payload COSE_Mac0 with HMAC 256/256 (used by the holder side and tests).
pub fn mac0_create_detached(payload: &[u8], key: &[u8]) -> Result<CoseMac0> {
    let protected = coset::ProtectedHeader {
        original_data: None,
        header: coset::HeaderBuilder::new()
            .algorithm(coset::iana::Algorithm::HMAC_256_256)
            .build(),
    };
    let data = mac_structure_data(MacContext::CoseMac0, protected.clone(), &[], payload);
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|_| Error::InvalidKey("MAC key length".into()))?;
    mac.update(&data);
    Ok(CoseMac0 {
        protected,
        unprotected: Default::default(),
        payload: None,
        tag: mac.finalize().into_bytes().to_vec(),
    })
}
