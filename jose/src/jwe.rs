//! Compact JWE (RFC 7516) with `alg: ECDH-ES` direct key agreement (RFC 7518 §4.6) and
//! `enc` A128GCM or A256GCM: what OpenID4VP 1.0 uses for `direct_post.jwt` and `dc_api.jwt`
//! responses.
//!
//! The content key is the Concat KDF (NIST SP 800-56A, SHA-256; the `concat-kdf` crate) of the
//! ECDH shared secret, with AlgorithmID = the `enc` name, PartyUInfo = `apu`, PartyVInfo =
//! `apv` (each a 32-bit big-endian length and the bytes) and SuppPubInfo = the key length in
//! bits; the encrypted-key part is empty. Content is AES-GCM (`aes-gcm`) with a 96-bit random
//! IV, a 128-bit tag, and the ASCII of the base64url protected header as AAD. ECDH goes
//! through the project's one ECDH, [`AgreementKey`] (P-256 and P-384).
//!
//! Only this profile is read: any other `alg` (`none`, `dir`, RSA, key wrapping), `zip`
//! (a compression oracle) and `crit` are refused with a typed error before any key is used;
//! every tag mismatch is the one [`JweError::DecryptionFailed`], which tells nothing more.
//!
//! # Why not a JOSE crate
//!
//! The issue asked for a maintained pure-Rust JOSE crate where one fits; none does (surveyed
//! from their documentation and sources, December 2026):
//!
//! - `josekit` does ECDH-ES but needs OpenSSL, which the phone builds cannot take;
//! - `biscuit`'s JWE has AES key wrap, AES-GCM key wrap and `dir` only, no ECDH-ES;
//! - `jwt-simple` (0.12–0.15) has `ECDH-ES+A128KW`/`+A256KW` only, not the direct `ECDH-ES`
//!   OpenID4VP uses, and its crypto is BoringSSL by default;
//! - `compact_jwt` 0.5 has `ECDH-ES+A256KW` on P-256 only;
//! - RustCrypto's `jose-jwe` is an early release without ECDH-ES;
//! - `picky` and the young `reallyme-jose` (P-384 only with a non-default feature) bring their
//!   own key types, so the recipient's key could not be the project's [`AgreementKey`], the one
//!   ECDH of 18013-5 sessions, Annex C and this.
//!
//! The JOSE framing is small, so it is written here over maintained primitives (`concat-kdf`,
//! `aes-gcm`, `p256`/`p384`), pinned by RFC 7518 Appendix C and proven against joserfc
//! (`tests/jwe_interop.rs`).

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Aes256Gcm, KeyInit, Nonce, Tag};
use mso::crypto::ecdh::AgreementKey;
use mso::crypto::{Curve, PublicKey};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value as Json};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::jwk::{from_jwk, to_jwk, JwkError};
use crate::jws::{b64url, b64url_decode};

/// The only key management algorithm read or written here.
pub const ALG_ECDH_ES: &str = "ECDH-ES";

/// At most this many base64url characters of protected header: an ECDH-ES header with a P-384
/// `epk`, a `kid` and OpenID4VP's `apu`/`apv` is a few hundred.
pub const MAX_HEADER_LEN: usize = 4096;

/// AES-GCM IV length (96 bits, RFC 7518 §5.3).
const IV_LEN: usize = 12;
/// AES-GCM tag length (128 bits, RFC 7518 §5.3).
const TAG_LEN: usize = 16;
/// At most this many characters of a name taken from a JWE go into an error.
const MAX_ECHO: usize = 40;

fn short(s: &str) -> String {
    s.chars().take(MAX_ECHO).collect()
}

/// The content encryption algorithm (`enc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentEncryption {
    /// AES-128-GCM.
    A128Gcm,
    /// AES-256-GCM.
    A256Gcm,
}

impl ContentEncryption {
    /// The `enc` name (`A128GCM`, `A256GCM`).
    pub fn name(self) -> &'static str {
        match self {
            ContentEncryption::A128Gcm => "A128GCM",
            ContentEncryption::A256Gcm => "A256GCM",
        }
    }

    /// The algorithm an `enc` name denotes (exact, case-sensitive), `None` for any other.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "A128GCM" => Some(ContentEncryption::A128Gcm),
            "A256GCM" => Some(ContentEncryption::A256Gcm),
            _ => None,
        }
    }

    /// The content key length, bytes.
    fn key_len(self) -> usize {
        match self {
            ContentEncryption::A128Gcm => 16,
            ContentEncryption::A256Gcm => 32,
        }
    }
}

/// A part of the compact serialization, or a header member, that is not strict unpadded
/// base64url.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The protected header.
    Header,
    /// The encrypted key.
    EncryptedKey,
    /// The initialization vector.
    Iv,
    /// The ciphertext.
    Ciphertext,
    /// The authentication tag.
    Tag,
    /// The header's `apu`.
    Apu,
    /// The header's `apv`.
    Apv,
}

/// What is structurally wrong with a JWE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// Not five dot-separated parts.
    #[error("not a compact JWE (five dot-separated parts)")]
    Parts,
    /// A part or member is not strict unpadded base64url.
    #[error("{0:?} is not unpadded base64url")]
    Base64(Part),
    /// The protected header is not a JSON object, or repeats a member.
    #[error("protected header is not a JSON object with unique members")]
    Header,
    /// A required header member is missing.
    #[error("header member {0} is missing")]
    MissingField(&'static str),
    /// A header member has the wrong JSON type (e.g. `kid` not a string).
    #[error("header member {0} has the wrong type")]
    FieldType(&'static str),
}

/// Why the ephemeral public key (`epk`) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EpkError {
    /// Not a public EC JWK: private `d`, missing coordinates, unknown `kty`/`crv`, off the
    /// curve (the reason from [`from_jwk`]).
    #[error("epk: {0}")]
    Jwk(JwkError),
    /// A valid key on a curve ECDH-ES is not done on here (only P-256 and P-384).
    #[error("epk is on {0}, not P-256 or P-384")]
    Curve(&'static str),
    /// On another curve than the recipient's key.
    #[error("epk is on {epk}, the recipient key on {key}")]
    WrongCurve {
        /// The recipient key's curve.
        key: &'static str,
        /// The `epk`'s curve.
        epk: &'static str,
    },
}

/// Why a JWE was refused or could not be made. Never carries key material; names taken from
/// the JWE are shortened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JweError {
    /// Longer than the caller allows.
    #[error("JWE is longer than {max} bytes")]
    TooLarge {
        /// The limit, bytes.
        max: usize,
    },
    /// The protected header is longer than [`MAX_HEADER_LEN`].
    #[error("JWE protected header is longer than {max} characters")]
    HeaderTooLarge {
        /// The limit, base64url characters.
        max: usize,
    },
    /// Structurally malformed.
    #[error("malformed JWE: {0}")]
    Malformed(Malformed),
    /// `alg` is not `ECDH-ES` (`none`, `dir`, RSA, key wrapping, …).
    #[error("alg {0:?} is not supported (ECDH-ES)")]
    UnsupportedAlg(String),
    /// `enc` is not A128GCM or A256GCM.
    #[error("enc {0:?} is not supported (A128GCM, A256GCM)")]
    UnsupportedEnc(String),
    /// `enc` is supported but not among those the caller accepts.
    #[error("enc {} is not accepted here", .0.name())]
    EncNotAccepted(ContentEncryption),
    /// `zip` is present: compressing before encrypting leaks the plaintext's content through
    /// its length, so no compressed JWE is read.
    #[error("zip is not allowed")]
    Zip,
    /// `crit` is present; no extension is understood here.
    #[error("crit header parameters are not understood")]
    Crit,
    /// The encrypted-key part is not empty, as ECDH-ES direct agreement requires.
    #[error("the encrypted key must be empty for ECDH-ES")]
    EncryptedKeyNotEmpty,
    /// The ephemeral public key is refused.
    #[error(transparent)]
    Epk(EpkError),
    /// The IV is not 96 bits.
    #[error("IV must be 12 bytes, found {0}")]
    IvLength(usize),
    /// The tag is not 128 bits.
    #[error("tag must be 16 bytes, found {0}")]
    TagLength(usize),
    /// The recipient key given to [`encrypt`] is not P-256 or P-384.
    #[error("cannot encrypt to a {0} key (P-256, P-384)")]
    UnsupportedRecipient(&'static str),
    /// AES-GCM refused to encrypt (a plaintext beyond its 64 GiB limit).
    #[error("content encryption failed")]
    EncryptionFailed,
    /// The tag does not verify: wrong key, or anything changed.
    #[error("JWE decryption failed")]
    DecryptionFailed,
}

impl From<Malformed> for JweError {
    fn from(m: Malformed) -> Self {
        JweError::Malformed(m)
    }
}

/// How a JWE is made.
#[derive(Debug, Clone, Copy)]
pub struct EncryptParams<'a> {
    /// The content encryption.
    pub enc: ContentEncryption,
    /// The recipient key's identifier, written as the header's `kid`.
    pub kid: Option<&'a str>,
    /// Agreement PartyUInfo, written as `apu`.
    pub apu: Option<&'a [u8]>,
    /// Agreement PartyVInfo, written as `apv`.
    pub apv: Option<&'a [u8]>,
}

/// The protected header of an ECDH-ES JWE, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JweHeader {
    /// The content encryption.
    pub enc: ContentEncryption,
    /// The recipient key's identifier, if named.
    pub kid: Option<String>,
    /// The sender's ephemeral public key (P-256 or P-384, validated).
    pub epk: PublicKey,
    /// Agreement PartyUInfo, decoded.
    pub apu: Option<Vec<u8>>,
    /// Agreement PartyVInfo, decoded.
    pub apv: Option<Vec<u8>>,
}

/// A decrypted JWE.
pub struct Decrypted {
    /// The protected header.
    pub header: JweHeader,
    /// The plaintext, zeroized when dropped.
    pub plaintext: Zeroizing<Vec<u8>>,
}

/// The plaintext (a presentation: personal data) is never printed, only its length.
impl core::fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decrypted")
            .field("header", &self.header)
            .field("plaintext_len", &self.plaintext.len())
            .finish()
    }
}

/// A member that is present, even as `null` (plain `Option` would read `null` as absent, and
/// `"zip": null` must be refused like any `zip`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(d).map(Some)
}

/// The members read; others are ignored as RFC 7516 allows (no `crit` can make them matter).
/// serde refuses a repeated member, so no reader sees another value than this one.
#[derive(Deserialize)]
struct RawHeader {
    #[serde(default, deserialize_with = "present")]
    alg: Option<Json>,
    #[serde(default, deserialize_with = "present")]
    enc: Option<Json>,
    #[serde(default, deserialize_with = "present")]
    epk: Option<Json>,
    #[serde(default, deserialize_with = "present")]
    kid: Option<Json>,
    #[serde(default, deserialize_with = "present")]
    apu: Option<Json>,
    #[serde(default, deserialize_with = "present")]
    apv: Option<Json>,
    #[serde(default, deserialize_with = "present")]
    zip: Option<Json>,
    #[serde(default, deserialize_with = "present")]
    crit: Option<Json>,
}

fn string<'a>(v: Option<&'a Json>, name: &'static str) -> Result<&'a str, Malformed> {
    v.ok_or(Malformed::MissingField(name))?
        .as_str()
        .ok_or(Malformed::FieldType(name))
}

fn optional_string<'a>(
    v: Option<&'a Json>,
    name: &'static str,
) -> Result<Option<&'a str>, Malformed> {
    v.map(|j| j.as_str().ok_or(Malformed::FieldType(name)))
        .transpose()
}

fn optional_bytes(
    v: Option<&Json>,
    name: &'static str,
    part: Part,
) -> Result<Option<Vec<u8>>, Malformed> {
    optional_string(v, name)?
        .map(|s| b64url_decode(s).ok_or(Malformed::Base64(part)))
        .transpose()
}

/// A JWE whose structure and header passed; nothing is decrypted yet.
struct Parsed<'a> {
    header: JweHeader,
    protected: &'a str,
    iv: [u8; IV_LEN],
    ciphertext: Vec<u8>,
    tag: [u8; TAG_LEN],
}

fn parse_header(protected: &str) -> Result<JweHeader, JweError> {
    if protected.len() > MAX_HEADER_LEN {
        return Err(JweError::HeaderTooLarge {
            max: MAX_HEADER_LEN,
        });
    }
    let raw = b64url_decode(protected).ok_or(Malformed::Base64(Part::Header))?;
    // serde's derived struct would also read a JSON array positionally; a header is an object.
    if raw.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Malformed::Header.into());
    }
    let h: RawHeader = serde_json::from_slice(&raw).map_err(|_| Malformed::Header)?;
    let alg = string(h.alg.as_ref(), "alg")?;
    if alg != ALG_ECDH_ES {
        return Err(JweError::UnsupportedAlg(short(alg)));
    }
    let enc_name = string(h.enc.as_ref(), "enc")?;
    let enc = ContentEncryption::from_name(enc_name)
        .ok_or_else(|| JweError::UnsupportedEnc(short(enc_name)))?;
    if h.zip.is_some() {
        return Err(JweError::Zip);
    }
    if h.crit.is_some() {
        return Err(JweError::Crit);
    }
    let epk = h.epk.as_ref().ok_or(Malformed::MissingField("epk"))?;
    let epk = from_jwk(epk).map_err(|e| JweError::Epk(EpkError::Jwk(e)))?;
    if !matches!(epk.curve(), Curve::P256 | Curve::P384) {
        return Err(JweError::Epk(EpkError::Curve(epk.curve().name())));
    }
    Ok(JweHeader {
        enc,
        kid: optional_string(h.kid.as_ref(), "kid")?.map(str::to_owned),
        epk,
        apu: optional_bytes(h.apu.as_ref(), "apu", Part::Apu)?,
        apv: optional_bytes(h.apv.as_ref(), "apv", Part::Apv)?,
    })
}

fn parse(jwe: &str, max_len: usize) -> Result<Parsed<'_>, JweError> {
    if jwe.len() > max_len {
        return Err(JweError::TooLarge { max: max_len });
    }
    let mut parts = jwe.split('.');
    let (Some(protected), Some(ek), Some(iv), Some(ct), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(Malformed::Parts.into());
    };
    let header = parse_header(protected)?;
    if !ek.is_empty() {
        // Empty is valid base64url; anything else is refused whether it decodes or not.
        return Err(JweError::EncryptedKeyNotEmpty);
    }
    let iv = b64url_decode(iv).ok_or(Malformed::Base64(Part::Iv))?;
    let iv: [u8; IV_LEN] = iv
        .as_slice()
        .try_into()
        .map_err(|_| JweError::IvLength(iv.len()))?;
    let tag = b64url_decode(tag).ok_or(Malformed::Base64(Part::Tag))?;
    let tag: [u8; TAG_LEN] = tag
        .as_slice()
        .try_into()
        .map_err(|_| JweError::TagLength(tag.len()))?;
    let ciphertext = b64url_decode(ct).ok_or(Malformed::Base64(Part::Ciphertext))?;
    Ok(Parsed {
        header,
        protected,
        iv,
        ciphertext,
        tag,
    })
}

/// The 32-bit big-endian length prefix of a Concat KDF datum (RFC 7518 §4.6.2). Header
/// members are bounded by [`MAX_HEADER_LEN`] and callers' `apu`/`apv` by memory, far below
/// 2^32; a longer one saturates, which no honest peer can produce.
fn prefixed(out: &mut Vec<u8>, data: &[u8]) {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data);
}

/// The ECDH-ES content key (RFC 7518 §4.6.2) of `key` and `peer` for `enc`; the first
/// `enc.key_len()` bytes are the key.
fn derive_key(
    key: &AgreementKey,
    peer: &PublicKey,
    enc: ContentEncryption,
    apu: &[u8],
    apv: &[u8],
) -> Result<Zeroizing<[u8; 32]>, JweError> {
    let z = key.shared_secret(peer).map_err(|_| {
        JweError::Epk(EpkError::WrongCurve {
            key: key.public_key().curve().name(),
            epk: peer.curve().name(),
        })
    })?;
    let mut other_info = Vec::with_capacity(16 + enc.name().len() + apu.len() + apv.len());
    prefixed(&mut other_info, enc.name().as_bytes());
    prefixed(&mut other_info, apu);
    prefixed(&mut other_info, apv);
    // SuppPubInfo: keydatalen in bits; SuppPrivInfo is empty.
    let bits = u32::try_from(enc.key_len() * 8).unwrap_or(u32::MAX);
    other_info.extend_from_slice(&bits.to_be_bytes());
    let mut cek = Zeroizing::new([0u8; 32]);
    let out = cek
        .get_mut(..enc.key_len())
        .ok_or(JweError::DecryptionFailed)?;
    // Fails only for an empty or over-long output, which key_len (16 or 32) never is.
    concat_kdf::derive_key_into::<Sha256>(&z, &other_info, out)
        .map_err(|_| JweError::DecryptionFailed)?;
    Ok(cek)
}

fn cek_slice(cek: &[u8; 32], enc: ContentEncryption) -> &[u8] {
    cek.get(..enc.key_len()).unwrap_or(cek)
}

/// Encrypts with a given ephemeral key and IV; [`encrypt`] draws both at random. Crate-private
/// so that no caller can reuse an ephemeral key or IV.
fn encrypt_with(
    ephemeral: &AgreementKey,
    iv: [u8; IV_LEN],
    recipient: &PublicKey,
    params: &EncryptParams<'_>,
    plaintext: &[u8],
) -> Result<String, JweError> {
    let enc = params.enc;
    let mut header = Map::new();
    header.insert("alg".into(), ALG_ECDH_ES.into());
    header.insert("enc".into(), enc.name().into());
    if let Some(kid) = params.kid {
        header.insert("kid".into(), kid.into());
    }
    header.insert("epk".into(), to_jwk(&ephemeral.public_key()));
    if let Some(apu) = params.apu {
        header.insert("apu".into(), b64url(apu).into());
    }
    if let Some(apv) = params.apv {
        header.insert("apv".into(), b64url(apv).into());
    }
    let protected = b64url(Json::Object(header).to_string());
    let cek = derive_key(
        ephemeral,
        recipient,
        enc,
        params.apu.unwrap_or_default(),
        params.apv.unwrap_or_default(),
    )?;
    let mut buf = plaintext.to_vec();
    let nonce = &Nonce::from(iv);
    let aad = protected.as_bytes();
    let key = cek_slice(&cek, enc);
    // Key lengths are right by construction; encryption fails only past AES-GCM's limit.
    let tag = match enc {
        ContentEncryption::A128Gcm => Aes128Gcm::new_from_slice(key)
            .map_err(|_| JweError::EncryptionFailed)?
            .encrypt_in_place_detached(nonce, aad, &mut buf),
        ContentEncryption::A256Gcm => Aes256Gcm::new_from_slice(key)
            .map_err(|_| JweError::EncryptionFailed)?
            .encrypt_in_place_detached(nonce, aad, &mut buf),
    }
    .map_err(|_| JweError::EncryptionFailed)?;
    Ok(format!(
        "{protected}..{}.{}.{}",
        b64url(iv),
        b64url(&buf),
        b64url(tag)
    ))
}

/// Encrypts `plaintext` to `recipient` (P-256 or P-384) as a compact JWE with `alg: ECDH-ES`,
/// a fresh ephemeral key and a random IV.
pub fn encrypt(
    recipient: &PublicKey,
    params: &EncryptParams<'_>,
    plaintext: &[u8],
) -> Result<String, JweError> {
    let ephemeral = match recipient.curve() {
        Curve::P256 => AgreementKey::P256(p256::SecretKey::random(&mut OsRng)),
        Curve::P384 => AgreementKey::P384(p384::SecretKey::random(&mut OsRng)),
        other => return Err(JweError::UnsupportedRecipient(other.name())),
    };
    let mut iv = [0u8; IV_LEN];
    OsRng.fill_bytes(&mut iv);
    encrypt_with(&ephemeral, iv, recipient, params, plaintext)
}

/// Checks the structure and protected header of `jwe` (as [`decrypt`] does, short of the
/// accepted `enc` and the key) and returns the header, to pick the key by `kid` or `epk`
/// curve. Nothing in it is authenticated until [`decrypt`] succeeds.
pub fn peek_header(jwe: &str, max_len: usize) -> Result<JweHeader, JweError> {
    parse(jwe, max_len).map(|p| p.header)
}

/// Decrypts `jwe` (at most `max_len` bytes) with the recipient's `key`. `enc` must be one of
/// `accepted`; `epk` must be on the key's curve. Any change to any part, or another key, is
/// [`JweError::DecryptionFailed`].
pub fn decrypt(
    jwe: &str,
    key: &AgreementKey,
    accepted: &[ContentEncryption],
    max_len: usize,
) -> Result<Decrypted, JweError> {
    let p = parse(jwe, max_len)?;
    let enc = p.header.enc;
    if !accepted.contains(&enc) {
        return Err(JweError::EncNotAccepted(enc));
    }
    let key_curve = key.public_key().curve();
    if p.header.epk.curve() != key_curve {
        return Err(JweError::Epk(EpkError::WrongCurve {
            key: key_curve.name(),
            epk: p.header.epk.curve().name(),
        }));
    }
    let cek = derive_key(
        key,
        &p.header.epk,
        enc,
        p.header.apu.as_deref().unwrap_or_default(),
        p.header.apv.as_deref().unwrap_or_default(),
    )?;
    // Decrypted in place inside Zeroizing, so no copy of the plaintext outlives the caller's.
    let mut plaintext = Zeroizing::new(p.ciphertext);
    let nonce = &Nonce::from(p.iv);
    let tag = &Tag::from(p.tag);
    let aad = p.protected.as_bytes();
    let ck = cek_slice(&cek, enc);
    match enc {
        ContentEncryption::A128Gcm => Aes128Gcm::new_from_slice(ck)
            .map_err(|_| JweError::DecryptionFailed)?
            .decrypt_in_place_detached(nonce, aad, &mut plaintext, tag),
        ContentEncryption::A256Gcm => Aes256Gcm::new_from_slice(ck)
            .map_err(|_| JweError::DecryptionFailed)?
            .decrypt_in_place_detached(nonce, aad, &mut plaintext, tag),
    }
    .map_err(|_| JweError::DecryptionFailed)?;
    Ok(Decrypted {
        header: p.header,
        plaintext,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// RFC 7518 Appendix C: Alice's ephemeral and Bob's static P-256 keys.
    const ALICE_D: &str = "0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo";
    const BOB_X: &str = "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ";
    const BOB_Y: &str = "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck";
    const BOB_D: &str = "VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw";

    fn key(d: &str) -> AgreementKey {
        AgreementKey::from_scalar(Curve::P256, &b64url_decode(d).unwrap()).unwrap()
    }

    /// The sending side's derivation (Alice's ephemeral key, Bob's public key) gives the RFC's
    /// key, and `encrypt_with` uses exactly that key: Bob decrypts what it made, and the
    /// header carries Alice's `epk`.
    #[test]
    fn rfc7518_appendix_c_sender_side() {
        let alice = key(ALICE_D);
        let bob_public = from_jwk(&serde_json::json!({
            "kty": "EC", "crv": "P-256", "x": BOB_X, "y": BOB_Y
        }))
        .unwrap();
        let bob = key(BOB_D);
        assert_eq!(bob.public_key(), bob_public);
        let cek = derive_key(
            &alice,
            &bob_public,
            ContentEncryption::A128Gcm,
            b"Alice",
            b"Bob",
        )
        .unwrap();
        assert_eq!(b64url(&cek[..16]), "VqqN6vgjbSBcIijNcacQGg");
        assert_eq!(cek[16..], [0u8; 16]);

        let params = EncryptParams {
            enc: ContentEncryption::A128Gcm,
            kid: None,
            apu: Some(b"Alice"),
            apv: Some(b"Bob"),
        };
        let jwe = encrypt_with(&alice, [7; IV_LEN], &bob_public, &params, b"hi").unwrap();
        let d = decrypt(&jwe, &bob, &[ContentEncryption::A128Gcm], 4096).unwrap();
        assert_eq!(d.header.epk, alice.public_key());
        assert_eq!(&d.plaintext[..], b"hi");
    }
}
