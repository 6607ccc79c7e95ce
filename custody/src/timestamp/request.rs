//! Building a TimeStampReq (RFC 3161 §2.4.1): a SHA-256 imprint, a random nonce, certReq.

use der::asn1::{Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use rand_core::{OsRng, RngCore};
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

use super::error::TimeStampError;

/// Bytes of the random nonce (RFC 3161 §2.4.1: a large random number; 64 bits).
const NONCE_LEN: usize = 8;

/// A time-stamp request for one SHA-256 digest, kept with what its reply must echo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeStampRequest {
    digest: [u8; 32],
    nonce: Vec<u8>,
    policy: Option<ObjectIdentifier>,
    der: Vec<u8>,
}

impl TimeStampRequest {
    /// A request for `digest` (a SHA-256 value) with a fresh random nonce, `certReq` true (so
    /// the token carries the TSA certificate and verifies on its own) and, when given, the
    /// policy the TSA is asked to stamp under.
    pub fn new(digest: [u8; 32], policy: Option<ObjectIdentifier>) -> Result<Self, TimeStampError> {
        let mut nonce = vec![0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        // A positive INTEGER in minimal form: high bit clear, first octet non-zero.
        if let Some(first) = nonce.first_mut() {
            *first = (*first & 0x7f).max(1);
        }
        let req = TimeStampReq {
            version: TspVersion::V1,
            message_imprint: imprint(&digest)?,
            req_policy: policy,
            nonce: Some(Int::new(&nonce).map_err(|e| malformed(&e))?),
            cert_req: true,
            extensions: None,
        };
        let der = req.to_der().map_err(|e| malformed(&e))?;
        Ok(TimeStampRequest {
            digest,
            nonce,
            policy,
            der,
        })
    }

    /// Reads a request written earlier (a `.tsq` file), accepting only what [`new`](Self::new)
    /// makes: a SHA-256 imprint and a nonce.
    pub fn from_der(der: &[u8]) -> Result<Self, TimeStampError> {
        const LIMIT: usize = 4 * 1024;
        if der.len() > LIMIT {
            return Err(TimeStampError::TooLarge {
                what: "time-stamp request",
                size: der.len(),
                limit: LIMIT,
            });
        }
        let req = TimeStampReq::from_der(der).map_err(|e| TimeStampError::Malformed {
            what: "TimeStampReq",
            reason: e.to_string(),
        })?;
        let digest = sha256_imprint(&req.message_imprint)?;
        let nonce = req
            .nonce
            .ok_or(TimeStampError::Missing("nonce in the request"))?
            .as_bytes()
            .to_vec();
        Ok(TimeStampRequest {
            digest,
            nonce,
            policy: req.req_policy,
            der: der.to_vec(),
        })
    }

    /// The DER TimeStampReq (what `openssl ts -query` writes to a `.tsq` file).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The SHA-256 digest to be time-stamped.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// The nonce's INTEGER content octets.
    pub fn nonce(&self) -> &[u8] {
        &self.nonce
    }

    /// The requested policy, if any.
    pub fn policy(&self) -> Option<ObjectIdentifier> {
        self.policy
    }
}

/// The MessageImprint of a SHA-256 digest (parameters absent, RFC 5754 §2).
fn imprint(digest: &[u8; 32]) -> Result<MessageImprint, TimeStampError> {
    Ok(MessageImprint {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: mso::x509::oid::SHA256,
            parameters: None,
        },
        hashed_message: OctetString::new(digest.as_slice()).map_err(|e| malformed(&e))?,
    })
}

/// The digest of a SHA-256 imprint; any other algorithm is refused (this crate only asks for
/// SHA-256). Parameters must be absent or NULL (RFC 5754 §2 allows both).
pub(crate) fn sha256_imprint(imprint: &MessageImprint) -> Result<[u8; 32], TimeStampError> {
    let alg = &imprint.hash_algorithm;
    let null_or_absent = alg.parameters.as_ref().is_none_or(|p| p.is_null());
    if alg.oid != mso::x509::oid::SHA256 || !null_or_absent {
        return Err(TimeStampError::UnsupportedAlgorithm {
            what: "imprint hash",
            oid: alg.oid,
        });
    }
    imprint
        .hashed_message
        .as_bytes()
        .try_into()
        .map_err(|_| TimeStampError::Malformed {
            what: "MessageImprint",
            reason: "a SHA-256 imprint that is not 32 bytes".to_owned(),
        })
}

fn malformed(e: &der::Error) -> TimeStampError {
    TimeStampError::Malformed {
        what: "TimeStampReq",
        reason: e.to_string(),
    }
}
