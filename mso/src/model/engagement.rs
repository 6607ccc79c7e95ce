//! DeviceEngagement, kept with its raw bytes (the SessionTranscript hashes them as received).

use coset::{AsCborValue, CoseKey};

use crate::cbor::{node, FromCbor, Limits, Node, Tag24, ToCbor, Value};
use crate::cose::parse_cose_key;
use crate::crypto::PublicKey;
use crate::error::{Error, Result};

impl FromCbor for CoseKey {
    fn from_node(n: &Node, src: &[u8], _: &Limits) -> Result<Self> {
        parse_cose_key(n, src)
    }
}

impl ToCbor for CoseKey {
    fn to_value(&self) -> Value {
        self.clone().to_cbor_value().unwrap_or(Value::Null)
    }
}

/// `DeviceEngagement = { 0: tstr, 1: Security, ? 2: DeviceRetrievalMethods,
/// ? 3: ServerRetrievalMethods, ? 4: ProtocolInfo, * any => any }`.
///
/// Unknown and 2nd-edition keys (5, 6, …) are tolerated and preserved in the raw bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceEngagement {
    raw: Vec<u8>,
    /// "1.0" or "1.1".
    pub version: String,
    /// Cipher suite identifier (1 in 18013-5).
    pub cipher_suite: i64,
    /// The mdoc's ephemeral key, as `#6.24(bstr .cbor COSE_Key)` bytes.
    pub e_device_key: Tag24<CoseKey>,
    /// Device retrieval methods (BLE, NFC, Wi-Fi Aware), as received.
    pub device_retrieval_methods: Option<Value>,
}

impl DeviceEngagement {
    /// Decodes from untrusted bytes, keeping them.
    pub fn from_bytes(bytes: &[u8], limits: &Limits) -> Result<Self> {
        let n = node::parse(bytes, limits)?;
        Self::from_node(&n, bytes, limits)
    }

    /// Decodes from the QR form `mdoc:<base64url(DeviceEngagement)>`.
    pub fn from_qr_uri(uri: &str, limits: &Limits) -> Result<Self> {
        use base64::Engine;
        let b64 = uri
            .strip_prefix("mdoc:")
            .ok_or_else(|| Error::InvalidValue {
                context: "DeviceEngagement QR",
                reason: "missing mdoc: scheme".into(),
            })?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64.trim_end_matches('='))
            .map_err(|_| Error::InvalidValue {
                context: "DeviceEngagement QR",
                reason: "not base64url".into(),
            })?;
        Self::from_bytes(&bytes, limits)
    }

    /// The engagement an mdoc shows (version "1.0", cipher suite 1, `e_device_key`), with
    /// `retrieval_methods` (the DeviceRetrievalMethods array, e.g. BLE with its UUIDs) when
    /// the transport needs them in the engagement; QR and NFC handovers with an out-of-band
    /// transport leave it out.
    pub fn new(e_device_key: &PublicKey, retrieval_methods: Option<Value>) -> Result<Self> {
        let mut entries = vec![
            (Value::Integer(0.into()), Value::Text("1.0".into())),
            (
                Value::Integer(1.into()),
                Value::Array(vec![
                    Value::Integer(1.into()),
                    Tag24::new(e_device_key.to_cose_key()).to_value(),
                ]),
            ),
        ];
        if let Some(methods) = retrieval_methods {
            entries.push((Value::Integer(2.into()), methods));
        }
        let bytes = crate::cbor::encode_value(&Value::Map(entries));
        Self::from_bytes(&bytes, &Limits::DEFAULT)
    }

    /// The QR form: `mdoc:` followed by the engagement's bytes in base64url without padding
    /// (ISO 18013-5 §8.2.2.3).
    pub fn to_qr_uri(&self) -> String {
        use base64::Engine;
        format!(
            "mdoc:{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&self.raw)
        )
    }

    /// The bytes exactly as received.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// `DeviceEngagementBytes = #6.24(bstr .cbor DeviceEngagement)` over the received bytes.
    pub fn tagged_bytes(&self) -> Vec<u8> {
        crate::cbor::wrap_tag24(&self.raw)
    }
}

impl FromCbor for DeviceEngagement {
    fn from_node(n: &Node, src: &[u8], limits: &Limits) -> Result<Self> {
        const CTX: &str = "DeviceEngagement";
        let m = n.map(src, CTX)?;
        let missing = |field| Error::MissingField {
            context: CTX,
            field,
        };
        let version = m
            .get_int(0)
            .ok_or(missing("0 (version)"))?
            .text(src, CTX)?
            .to_owned();
        if !version.starts_with("1.") {
            return Err(Error::InvalidValue {
                context: CTX,
                reason: format!("unsupported version {version:?}"),
            });
        }
        let security = m.get_int(1).ok_or(missing("1 (security)"))?.array(CTX)?;
        let [suite, key] = security else {
            return Err(Error::InvalidValue {
                context: CTX,
                reason: "Security must be [cipherSuite, EDeviceKeyBytes]".into(),
            });
        };
        Ok(DeviceEngagement {
            raw: n.raw(src).to_vec(),
            version,
            cipher_suite: suite.int(CTX)?,
            e_device_key: Tag24::from_node(key, src, limits)?,
            device_retrieval_methods: m.get_int(2).map(|d| d.to_value(src)),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::crypto::ecdh::AgreementKey;

    #[test]
    fn a_built_engagement_reads_back_through_its_qr_code() {
        let key = AgreementKey::P256(p256::SecretKey::random(&mut rand_core::OsRng)).public_key();
        let methods = Value::Array(vec![Value::Integer(2.into())]);
        let e = DeviceEngagement::new(&key, Some(methods.clone())).unwrap();
        assert_eq!(e.version, "1.0");
        assert_eq!(e.cipher_suite, 1);
        assert_eq!(
            PublicKey::from_cose_key(e.e_device_key.value()).unwrap(),
            key
        );
        assert_eq!(e.device_retrieval_methods, Some(methods));
        let uri = e.to_qr_uri();
        assert!(uri.starts_with("mdoc:") && !uri.ends_with('='));
        let back = DeviceEngagement::from_qr_uri(&uri, &Limits::DEFAULT).unwrap();
        assert_eq!(back.raw(), e.raw());
        assert_eq!(back, e);
    }
}
