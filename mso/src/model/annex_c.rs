//! ISO/IEC TS 18013-7 Annex C: `org-iso-mdoc` over the W3C Digital Credentials API.
//!
//! The reader sends `EncryptionInfo = ["dcapi", {"nonce": bstr, "recipientPublicKey":
//! COSE_Key}]` (base64url beside its DeviceRequest); the mdoc answers `EncryptedResponse =
//! ["dcapi", {"enc": bstr, "cipherText": bstr}]`, its DeviceResponse sealed with HPKE
//! ([`crate::crypto::hpke`]) to the reader's key.
//!
//! Both maps are closed: the Annex C CDDL gives them no `* tstr => any` extension point, so an
//! unknown key is refused ([`Error::UnknownField`]) as for the closed maps of 18013-5.
//!
//! HPKE `info` is the SessionTranscript's plain CBOR array (`[null, null, ["dcapi", hash]]`,
//! [`SessionTranscript::as_bytes`]), not the `#6.24`-wrapped SessionTranscriptBytes, and `aad`
//! is empty. That is what Multipaz (openwallet-foundation/multipaz,
//! `digitalCredentialsPresentment.kt`: `Hpke.getEncrypter(..., info =
//! Cbor.encode(sessionTranscript))`, `encrypt(..., aad = ByteArray(0))`) does, and its earlier
//! Tink-based code passed the same array as Tink's `contextInfo`, which Tink's `HpkeEncrypt`
//! uses as HPKE `info` with empty associated data.

use base64::Engine as _;
use coset::AsCborValue;
use zeroize::Zeroizing;

use super::transcript::{Handover, SessionTranscript};
use crate::cbor::{encode_value, node, Limits, Node, Value};
use crate::cose::parse_cose_key;
use crate::crypto::ecdh::AgreementKey;
use crate::crypto::{hpke, Curve, PublicKey};
use crate::error::{Error, Result};

/// The first element of both Annex C arrays.
pub const DCAPI: &str = "dcapi";

/// The shortest nonce accepted: Annex C asks for at least 16 bytes of entropy.
pub const MIN_NONCE_LEN: usize = 16;

/// The longest nonce accepted; far above any real one, it bounds what a reader can make the
/// wallet hash and echo.
pub const MAX_NONCE_LEN: usize = 256;

/// The largest EncryptionInfo read, whatever the caller's [`Limits`]: a nonce and one P-256
/// COSE_Key fit many times over.
pub const MAX_ENCRYPTION_INFO_LEN: usize = 4096;

const INFO_CTX: &str = "EncryptionInfo";
const RESPONSE_CTX: &str = "EncryptedResponse";

/// `EncryptionInfo = ["dcapi", EncryptionParameters]`, kept with the bytes it was read from
/// (the SessionTranscript hashes their base64url form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionInfo {
    raw: Vec<u8>,
    nonce: Vec<u8>,
    recipient_key: PublicKey,
}

impl EncryptionInfo {
    /// The EncryptionInfo a reader sends: `nonce` (16 to 256 bytes, fresh per request) and its
    /// P-256 `recipient` key, encoded deterministically.
    pub fn new(nonce: &[u8], recipient: &PublicKey) -> Result<Self> {
        check_nonce(nonce)?;
        check_p256(recipient)?;
        let key = recipient
            .to_cose_key()
            .to_cbor_value()
            .map_err(|e| Error::Cose(e.to_string()))?;
        let value = Value::Array(vec![
            Value::Text(DCAPI.into()),
            Value::Map(vec![
                (Value::Text("nonce".into()), Value::Bytes(nonce.to_vec())),
                (Value::Text("recipientPublicKey".into()), key),
            ]),
        ]);
        Ok(EncryptionInfo {
            raw: encode_value(&value),
            nonce: nonce.to_vec(),
            recipient_key: recipient.clone(),
        })
    }

    /// Reads an EncryptionInfo from untrusted bytes under `limits` (and at most
    /// [`MAX_ENCRYPTION_INFO_LEN`] bytes): exactly `["dcapi", {"nonce", "recipientPublicKey"}]`,
    /// a nonce of 16 to 256 bytes, and a valid P-256 EC2 key. The key's `alg`, if any, is not
    /// read: Annex C fixes the key's one use, HPKE with this suite.
    pub fn from_bytes(bytes: &[u8], limits: &Limits) -> Result<Self> {
        let limits = Limits {
            max_size: limits.max_size.min(MAX_ENCRYPTION_INFO_LEN),
            ..*limits
        };
        let n = node::parse(bytes, &limits)?;
        let params = dcapi_body(&n, bytes, INFO_CTX)?;
        let m = params.map(bytes, INFO_CTX)?;
        m.deny_unknown(&["nonce", "recipientPublicKey"])?;
        let nonce = m.required("nonce")?.bytes(bytes, INFO_CTX)?;
        check_nonce(nonce)?;
        let mut key = parse_cose_key(m.required("recipientPublicKey")?, bytes)?;
        key.alg = None;
        let recipient_key = PublicKey::from_cose_key(&key)?;
        check_p256(&recipient_key)?;
        Ok(EncryptionInfo {
            raw: bytes.to_vec(),
            nonce: nonce.to_vec(),
            recipient_key,
        })
    }

    /// Reads the request's `encryptionInfo` member: base64url without padding, strictly (no
    /// padding, no stray bits), so that re-encoding the bytes gives back the string the
    /// SessionTranscript must hash.
    pub fn from_base64url(text: &str, limits: &Limits) -> Result<Self> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| Error::InvalidValue {
                context: INFO_CTX,
                reason: "not base64url without padding".into(),
            })?;
        Self::from_bytes(&bytes, limits)
    }

    /// The bytes as received (or as encoded by [`EncryptionInfo::new`]).
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// The bytes in base64url without padding, the form of the request and of the transcript.
    pub fn to_base64url(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&self.raw)
    }

    /// The reader's nonce.
    pub fn nonce(&self) -> &[u8] {
        &self.nonce
    }

    /// The reader's HPKE recipient key (P-256).
    pub fn recipient_key(&self) -> &PublicKey {
        &self.recipient_key
    }

    /// `SessionTranscript = [null, null, ["dcapi", SHA-256(cbor([base64url(EncryptionInfo),
    /// origin]))]]` for the request made from `origin` (the web origin the browser reports,
    /// e.g. `https://verifier.example`).
    pub fn session_transcript(&self, origin: &str) -> SessionTranscript {
        SessionTranscript::online(&Handover::Iso18013_7AnnexC {
            encryption_info_b64: self.to_base64url(),
            origin: origin.to_owned(),
        })
    }
}

/// `EncryptedResponse = ["dcapi", {"enc": bstr, "cipherText": bstr}]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedResponse {
    /// The HPKE encapsulated key (65 bytes for P-256; checked when opened).
    pub enc: Vec<u8>,
    /// The HPKE ciphertext of the DeviceResponse, tag included.
    pub cipher_text: Vec<u8>,
}

impl EncryptedResponse {
    /// Reads an EncryptedResponse from untrusted bytes under `limits`: exactly
    /// `["dcapi", {"enc": bstr, "cipherText": bstr}]`.
    pub fn from_bytes(bytes: &[u8], limits: &Limits) -> Result<Self> {
        let n = node::parse(bytes, limits)?;
        let data = dcapi_body(&n, bytes, RESPONSE_CTX)?;
        let m = data.map(bytes, RESPONSE_CTX)?;
        m.deny_unknown(&["enc", "cipherText"])?;
        Ok(EncryptedResponse {
            enc: m.required("enc")?.bytes(bytes, RESPONSE_CTX)?.to_vec(),
            cipher_text: m
                .required("cipherText")?
                .bytes(bytes, RESPONSE_CTX)?
                .to_vec(),
        })
    }

    /// The deterministic CBOR encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode_value(&Value::Array(vec![
            Value::Text(DCAPI.into()),
            Value::Map(vec![
                (Value::Text("enc".into()), Value::Bytes(self.enc.clone())),
                (
                    Value::Text("cipherText".into()),
                    Value::Bytes(self.cipher_text.clone()),
                ),
            ]),
        ]))
    }
}

/// The mdoc's side: seals `device_response` (DeviceResponse bytes) for the request whose
/// EncryptionInfo bytes were `encryption_info` (read under `limits`) and which came from
/// `origin`. Returns the EncryptedResponse bytes and the SessionTranscript, which the
/// DeviceResponse's device authentication must already have signed.
pub fn seal_response(
    encryption_info: &[u8],
    origin: &str,
    device_response: &[u8],
    limits: &Limits,
) -> Result<(Vec<u8>, SessionTranscript)> {
    let info = EncryptionInfo::from_bytes(encryption_info, limits)?;
    let transcript = info.session_transcript(origin);
    let sealed = hpke::seal(
        info.recipient_key(),
        transcript.as_bytes(),
        &[],
        device_response,
    )?;
    let response = EncryptedResponse {
        enc: sealed.enc,
        cipher_text: sealed.ciphertext,
    };
    Ok((response.to_bytes(), transcript))
}

/// The reader's side: opens `encrypted_response` (read under `limits`) with `key`, the private
/// key of the request's EncryptionInfo `encryption_info`, for a request made from `origin`.
/// Returns the DeviceResponse bytes and the SessionTranscript to verify its device
/// authentication against. A response for another key, origin or EncryptionInfo, or a damaged
/// one, gives [`Error::HpkeDecryption`].
pub fn open_response(
    key: &AgreementKey,
    encryption_info: &[u8],
    origin: &str,
    encrypted_response: &[u8],
    limits: &Limits,
) -> Result<(Vec<u8>, SessionTranscript)> {
    let info = EncryptionInfo::from_bytes(encryption_info, limits)?;
    let response = EncryptedResponse::from_bytes(encrypted_response, limits)?;
    let transcript = info.session_transcript(origin);
    let mut plaintext: Zeroizing<Vec<u8>> = hpke::open(
        key,
        &response.enc,
        transcript.as_bytes(),
        &[],
        &response.cipher_text,
    )?;
    // The DeviceResponse is personal data, not key material: moved out, not copied.
    Ok((std::mem::take(&mut *plaintext), transcript))
}

/// The second element of `["dcapi", body]`, after checking the array and its tag string.
fn dcapi_body<'n>(n: &'n Node, src: &[u8], context: &'static str) -> Result<&'n Node> {
    let [tag, body] = n.array(context)? else {
        return Err(Error::InvalidValue {
            context,
            reason: format!("{} elements, expected 2", n.array(context)?.len()),
        });
    };
    if tag.text(src, context)? != DCAPI {
        return Err(Error::InvalidValue {
            context,
            reason: "first element is not \"dcapi\"".into(),
        });
    }
    Ok(body)
}

fn check_nonce(nonce: &[u8]) -> Result<()> {
    if (MIN_NONCE_LEN..=MAX_NONCE_LEN).contains(&nonce.len()) {
        Ok(())
    } else {
        Err(Error::InvalidValue {
            context: INFO_CTX,
            reason: format!(
                "nonce of {} bytes, expected {MIN_NONCE_LEN} to {MAX_NONCE_LEN}",
                nonce.len()
            ),
        })
    }
}

fn check_p256(key: &PublicKey) -> Result<()> {
    match key.curve() {
        Curve::P256 => Ok(()),
        other => Err(Error::UnsupportedAlgorithm(format!(
            "Annex C recipient key on {}, expected P-256",
            other.name()
        ))),
    }
}
