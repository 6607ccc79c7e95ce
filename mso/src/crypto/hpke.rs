//! HPKE (RFC 9180) in base mode with the one suite ISO/IEC 18013-7 Annex C uses:
//! DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, single-shot (one message per `enc`).
//!
//! A thin layer over the `hpke` crate (rozbb/rust-hpke), never a re-implementation: this module
//! only converts keys, draws the ephemeral key's randomness without panicking, and maps every
//! failure to this crate's errors.

use hpke::aead::AesGcm128;
use hpke::kdf::HkdfSha256;
use hpke::kem::DhP256HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use rand_core::{OsRng, RngCore as _};
use zeroize::Zeroizing;

use super::ecdh::AgreementKey;
use super::PublicKey;
use crate::error::{Error, Result};

type Kem = DhP256HkdfSha256;

/// Length of `enc` for DHKEM(P-256): an uncompressed SEC1 point.
pub const ENC_LEN: usize = 65;

/// Length of the AES-128-GCM tag that ends every ciphertext.
pub const TAG_LEN: usize = 16;

/// Length of the ephemeral key's input keying material: `Nsk` of DHKEM(P-256), the amount
/// RFC 9180 §7.1.3 `GenerateKeyPair` draws before `DeriveKeyPair`.
const IKM_LEN: usize = 32;

/// The output of [`seal`]: the encapsulated ephemeral key and the ciphertext (with its tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The encapsulated key `enc` (65 bytes, uncompressed P-256 point).
    pub enc: Vec<u8>,
    /// The AES-128-GCM ciphertext followed by its 16-byte tag.
    pub ciphertext: Vec<u8>,
}

/// Seals `plaintext` to `recipient` (a P-256 key) with `info` and `aad`, under a fresh
/// ephemeral key.
///
/// Other curves give [`Error::UnsupportedAlgorithm`]; a failing operating-system random number
/// generator gives [`Error::HpkeSeal`].
pub fn seal(recipient: &PublicKey, info: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Sealed> {
    let mut ikm = Zeroizing::new([0u8; IKM_LEN]);
    OsRng
        .try_fill_bytes(ikm.as_mut())
        .map_err(|_| Error::HpkeSeal)?;
    seal_with_ikm(recipient, &ikm, info, aad, plaintext)
}

/// [`seal`] with the ephemeral key derived from `ikm_e` (`DeriveKeyPair(ikmE)`), the path the
/// RFC 9180 vectors pin byte for byte. Private: a caller-chosen ephemeral key is a footgun.
fn seal_with_ikm(
    recipient: &PublicKey,
    ikm_e: &[u8; IKM_LEN],
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Sealed> {
    let pk = recipient_key(recipient)?;
    let mut rng = IkmRng {
        ikm: Zeroizing::new(*ikm_e),
        drawn: 0,
        overdrawn: false,
    };
    let sealed = hpke::single_shot_seal::<AesGcm128, HkdfSha256, Kem, _>(
        &OpModeS::Base,
        &pk,
        info,
        plaintext,
        aad,
        &mut rng,
    );
    // The crate draws exactly Nsk bytes for the ephemeral key; anything else would mean the
    // key was not the one derived from `ikm_e`.
    if rng.overdrawn || rng.drawn != IKM_LEN {
        return Err(Error::HpkeSeal);
    }
    let (enc, ciphertext) = sealed.map_err(|_| Error::HpkeSeal)?;
    Ok(Sealed {
        enc: enc.to_bytes().to_vec(),
        ciphertext,
    })
}

/// Opens a single-shot HPKE `ciphertext` sent with `enc` to `key` (a P-256 private key), with
/// the sender's `info` and `aad`.
///
/// A key on another curve gives [`Error::UnsupportedAlgorithm`]. Everything else that can go
/// wrong (the wrong key, other `info` or `aad`, an `enc` that is not a P-256 point, a damaged
/// ciphertext or tag) gives the one [`Error::HpkeDecryption`], so a sender of forgeries learns
/// nothing more than that the response was refused.
pub fn open(
    key: &AgreementKey,
    enc: &[u8],
    info: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let sk = private_key(key)?;
    let enc =
        <Kem as hpke::Kem>::EncappedKey::from_bytes(enc).map_err(|_| Error::HpkeDecryption)?;
    hpke::single_shot_open::<AesGcm128, HkdfSha256, Kem>(
        &OpModeR::Base,
        &sk,
        &enc,
        info,
        ciphertext,
        aad,
    )
    .map(Zeroizing::new)
    .map_err(|_| Error::HpkeDecryption)
}

fn recipient_key(recipient: &PublicKey) -> Result<<Kem as hpke::Kem>::PublicKey> {
    match recipient {
        PublicKey::P256(_) => <Kem as hpke::Kem>::PublicKey::from_bytes(&recipient.to_sec1())
            .map_err(|_| Error::InvalidKey("not a valid P-256 point".into())),
        other => Err(unsupported(other.curve().name())),
    }
}

fn private_key(key: &AgreementKey) -> Result<<Kem as hpke::Kem>::PrivateKey> {
    match key {
        AgreementKey::P256(k) => {
            let scalar = Zeroizing::new(k.to_bytes());
            let scalar: &[u8] = &scalar;
            <Kem as hpke::Kem>::PrivateKey::from_bytes(scalar)
                .map_err(|_| Error::InvalidKey("P-256 private scalar out of range".into()))
        }
        AgreementKey::P384(_) => Err(unsupported("P-384")),
    }
}

fn unsupported(curve: &str) -> Error {
    Error::UnsupportedAlgorithm(format!("HPKE DHKEM(P-256, HKDF-SHA256) with a {curve} key"))
}

/// Hands the `hpke` crate's `GenerateKeyPair` the input keying material drawn beforehand, so
/// an unavailable system RNG is an error here rather than a panic inside the crate, and the
/// RFC 9180 vectors can fix the ephemeral key. It never repeats bytes: a second draw is
/// recorded and refused by [`seal_with_ikm`].
struct IkmRng {
    ikm: Zeroizing<[u8; IKM_LEN]>,
    drawn: usize,
    overdrawn: bool,
}

impl hpke::rand_core::RngCore for IkmRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        match self
            .ikm
            .get(self.drawn..self.drawn.saturating_add(dst.len()))
        {
            Some(src) => {
                dst.copy_from_slice(src);
                self.drawn += dst.len();
            }
            None => {
                dst.fill(0);
                self.overdrawn = true;
            }
        }
    }
}

impl hpke::rand_core::CryptoRng for IkmRng {}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    //! RFC 9180 Appendix A.3.1 through the private paths `seal` and `open` are built on: the
    //! vector's ephemeral key reproduces `enc` and every ciphertext of its 257-message context,
    //! and the receiving context opens them all. The integration suite checks the public
    //! single-shot functions against the same fixture.

    use hpke::{Kem as _, OpModeR, OpModeS};
    use serde_json::Value;

    use super::*;

    fn vector() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/hpke/rfc9180-dhkem-p256-hkdf-sha256-aes128gcm-base.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn hex_field(v: &Value, name: &str) -> Vec<u8> {
        hex::decode(v[name].as_str().unwrap()).unwrap()
    }

    #[test]
    fn the_vector_ephemeral_key_reproduces_enc_and_every_ciphertext() {
        let v = vector();
        let ikm_e: [u8; IKM_LEN] = hex_field(&v, "ikmE").try_into().unwrap();
        let pk_r = PublicKey::from_sec1(super::super::Curve::P256, &hex_field(&v, "pkRm")).unwrap();
        let info = hex_field(&v, "info");
        let encryptions = v["encryptions"].as_array().unwrap();
        assert_eq!(encryptions.len(), 257);

        // Single-shot (sequence 0) through the function `seal` calls.
        let first = &encryptions[0];
        let sealed = seal_with_ikm(
            &pk_r,
            &ikm_e,
            &info,
            &hex_field(first, "aad"),
            &hex_field(first, "pt"),
        )
        .unwrap();
        assert_eq!(sealed.enc, hex_field(&v, "enc"));
        assert_eq!(sealed.ciphertext, hex_field(first, "ct"));

        // The whole context: the same key schedule, sequence numbers 0..=256.
        let mut rng = IkmRng {
            ikm: Zeroizing::new(ikm_e),
            drawn: 0,
            overdrawn: false,
        };
        let (enc, mut ctx) = hpke::setup_sender::<AesGcm128, HkdfSha256, Kem, _>(
            &OpModeS::Base,
            &recipient_key(&pk_r).unwrap(),
            &info,
            &mut rng,
        )
        .unwrap();
        assert_eq!(enc.to_bytes().to_vec(), hex_field(&v, "enc"));
        for (seq, e) in encryptions.iter().enumerate() {
            let ct = ctx.seal(&hex_field(e, "pt"), &hex_field(e, "aad")).unwrap();
            assert_eq!(ct, hex_field(e, "ct"), "sequence {seq}");
        }
    }

    #[test]
    fn the_vector_recipient_key_opens_every_ciphertext() {
        let v = vector();
        // skRm is DeriveKeyPair(ikmR), as RFC 9180 §7.1.3 defines it.
        let (sk_derived, _) = Kem::derive_keypair(&hex_field(&v, "ikmR"));
        assert_eq!(sk_derived.to_bytes().to_vec(), hex_field(&v, "skRm"));
        let key =
            AgreementKey::from_scalar(super::super::Curve::P256, &hex_field(&v, "skRm")).unwrap();
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&hex_field(&v, "enc")).unwrap();
        let mut ctx = hpke::setup_receiver::<AesGcm128, HkdfSha256, Kem>(
            &OpModeR::Base,
            &private_key(&key).unwrap(),
            &enc,
            &hex_field(&v, "info"),
        )
        .unwrap();
        for (seq, e) in v["encryptions"].as_array().unwrap().iter().enumerate() {
            let pt = ctx.open(&hex_field(e, "ct"), &hex_field(e, "aad")).unwrap();
            assert_eq!(pt, hex_field(e, "pt"), "sequence {seq}");
        }
    }

    #[test]
    fn a_second_draw_of_randomness_is_refused_not_repeated() {
        let mut rng = IkmRng {
            ikm: Zeroizing::new([7u8; IKM_LEN]),
            drawn: 0,
            overdrawn: false,
        };
        let mut a = [0u8; IKM_LEN];
        hpke::rand_core::RngCore::fill_bytes(&mut rng, &mut a);
        assert_eq!(a, [7u8; IKM_LEN]);
        assert!(!rng.overdrawn);
        let mut b = [1u8; 4];
        hpke::rand_core::RngCore::fill_bytes(&mut rng, &mut b);
        assert!(rng.overdrawn);
        assert_eq!(b, [0u8; 4]);
    }
}
