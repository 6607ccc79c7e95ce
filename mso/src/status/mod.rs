//! MSO revocation (ISO/IEC 18013-5 2nd edition, 12.3.6): Token Status Lists, Identifier Lists
//! and COSE Key thumbprints.
//!
//! - [`StatusList`]: the packed array of statuses (1, 2, 4 or 8 bits per entry, LSB first) and
//!   its zlib form `lst`, with a bounded decompression;
//! - [`StatusListToken`] / [`IdentifierListToken`]: the signed CWTs (COSE_Sign1, tag 18) of
//!   draft-ietf-oauth-status-list and 18013-5, built in two phases ([`PreparedToken`]) and
//!   verified at an explicit time against trusted IACAs;
//! - [`cose_key_thumbprint`]: the RFC 9679 thumbprint under which revoked DeviceKeys are listed.
//!
//! Errors are [`ListTokenError`] (inside [`Error::ListToken`]), so a caller can tell a wrong
//! `typ` from a wrong `sub`, an untrusted signer or an expired token.

use std::collections::BTreeSet;
use std::io::{Read, Write};

use coset::{
    sig_structure_data, AsCborValue, CoseSign1, HeaderBuilder, Label, ProtectedHeader,
    SignatureContext,
};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::cbor::{cose_err, encode_value, node, Kind, Limits, MapView, Node, Value};
use crate::cose::{decode_sign1, sign1_algorithm, sign1_verify, x5chain, x5chain_value, X5CHAIN};
use crate::crypto::{Algorithm, PublicKey, Signer, Verifier};
use crate::error::{Error, Result};
use crate::x509::path::{self, PathPolicy};
use crate::x509::policy::{DEFAULT_ALGORITHMS, DEFAULT_SKEW};
use crate::x509::profile::Role;
use crate::x509::{Certificate, TrustAnchors};

/// `typ` of a Token Status List in CWT form.
pub const TYP_STATUS_LIST: &str = "application/statuslist+cwt";
/// `typ` of an Identifier List in CWT form.
pub const TYP_IDENTIFIER_LIST: &str = "application/identifierlist+cwt";

/// COSE header label of `typ` (RFC 9596).
pub const HEADER_TYP: i64 = 16;
/// CWT claim `sub`.
pub const CLAIM_SUB: i64 = 2;
/// CWT claim `exp`.
pub const CLAIM_EXP: i64 = 4;
/// CWT claim `iat`.
pub const CLAIM_IAT: i64 = 6;
/// CWT claim `ttl` (draft-ietf-oauth-status-list).
pub const CLAIM_TTL: i64 = 65534;
/// CWT claim `status_list` (draft-ietf-oauth-status-list).
pub const CLAIM_STATUS_LIST: i64 = 65533;
/// CWT claim `identifier_list` (ISO/IEC 18013-5 2nd edition).
pub const CLAIM_IDENTIFIER_LIST: i64 = 65530;

/// Default bound on a decompressed status list: 16 MiB (134 million 1-bit entries).
pub const DEFAULT_MAX_LIST_LEN: usize = 16 * 1024 * 1024;

pub(crate) mod error;

pub use error::ListTokenError;

/// One entry of a status list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 0: the MSO is valid.
    Valid,
    /// 1: the MSO is revoked (final).
    Invalid,
    /// 2: the MSO is temporarily suspended.
    Suspended,
    /// Any other value (3 is application-specific, 4.. are reserved).
    Other(u8),
}

impl Status {
    /// The numeric value.
    pub fn value(self) -> u8 {
        match self {
            Status::Valid => 0,
            Status::Invalid => 1,
            Status::Suspended => 2,
            Status::Other(v) => v,
        }
    }

    /// The status with numeric value `v`.
    pub fn from_value(v: u8) -> Self {
        match v {
            0 => Status::Valid,
            1 => Status::Invalid,
            2 => Status::Suspended,
            other => Status::Other(other),
        }
    }
}

/// A packed status list: entry `i` lives in byte ⌊i·bits/8⌋, least significant bits first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

fn check_bits(bits: u8) -> Result<()> {
    if matches!(bits, 1 | 2 | 4 | 8) {
        Ok(())
    } else {
        Err(ListTokenError::Bits {
            bits: u64::from(bits),
        }
        .into())
    }
}

impl StatusList {
    /// A list of `len` entries of `bits` bits each, all [`Status::Valid`]. The byte array is
    /// rounded up to whole bytes, so a few more (valid) entries may be addressable.
    pub fn new(bits: u8, len: usize) -> Result<Self> {
        check_bits(bits)?;
        let total_bits = len
            .checked_mul(usize::from(bits))
            .ok_or(ListTokenError::TooManyEntries { len })?;
        Ok(StatusList {
            bits,
            bytes: vec![0; total_bits.div_ceil(8)],
        })
    }

    /// A list over existing packed bytes.
    pub fn from_bytes(bits: u8, bytes: Vec<u8>) -> Result<Self> {
        check_bits(bits)?;
        Ok(StatusList { bits, bytes })
    }

    /// Bits per entry.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// The packed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of addressable entries (`bytes · 8 / bits`).
    pub fn len(&self) -> usize {
        self.bytes.len().saturating_mul(8) / usize::from(self.bits.max(1))
    }

    /// True when no entry is addressable.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn out_of_range(&self, idx: usize) -> Error {
        ListTokenError::IndexOutOfRange {
            index: u64::try_from(idx).unwrap_or(u64::MAX),
            len: self.len(),
        }
        .into()
    }

    /// Byte index, shift and mask of entry `idx`.
    fn locate(&self, idx: usize) -> Result<(usize, u32, u8)> {
        if idx >= self.len() {
            return Err(self.out_of_range(idx));
        }
        let bits = usize::from(self.bits);
        let per_byte = 8 / bits;
        let byte = idx / per_byte;
        let shift = u32::try_from((idx % per_byte) * bits).unwrap_or(0);
        let mask = u8::try_from((1u16 << bits) - 1).unwrap_or(u8::MAX);
        Ok((byte, shift, mask))
    }

    /// The status of entry `idx`; an index outside the list is an error, never "valid".
    pub fn get(&self, idx: usize) -> Result<Status> {
        let (byte, shift, mask) = self.locate(idx)?;
        let b = self
            .bytes
            .get(byte)
            .copied()
            .ok_or_else(|| self.out_of_range(idx))?;
        Ok(Status::from_value((b >> shift) & mask))
    }

    /// Sets entry `idx`; the status value must fit in `bits` bits.
    pub fn set(&mut self, idx: usize, status: Status) -> Result<()> {
        let (byte, shift, mask) = self.locate(idx)?;
        let value = status.value();
        if value & !mask != 0 {
            return Err(ListTokenError::ValueTooWide {
                value,
                bits: self.bits,
            }
            .into());
        }
        let len = self.len();
        let b = self
            .bytes
            .get_mut(byte)
            .ok_or(ListTokenError::IndexOutOfRange {
                index: u64::try_from(idx).unwrap_or(u64::MAX),
                len,
            })?;
        *b = (*b & !(mask << shift)) | (value << shift);
        Ok(())
    }

    /// The `lst` form: zlib (RFC 1950) at best compression.
    pub fn compress(&self) -> Result<Vec<u8>> {
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&self.bytes)
            .and_then(|()| enc.finish())
            .map_err(|e| Error::InvalidRequest(format!("zlib compression failed: {e}")))
    }

    /// Reads `lst`, refusing a decompressed size above `max_len` bytes (at most `max_len + 1`
    /// bytes are ever inflated, so a zip bomb costs bounded memory and work).
    pub fn decompress(bits: u8, lst: &[u8], max_len: usize) -> Result<Self> {
        check_bits(bits)?;
        let decoder = flate2::read::ZlibDecoder::new(lst);
        let mut out = Vec::new();
        decoder
            .take(u64::try_from(max_len).unwrap_or(u64::MAX).saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| ListTokenError::Lst {
                reason: e.to_string(),
            })?;
        if out.len() > max_len {
            return Err(Error::TooLarge {
                size: out.len(),
                limit: max_len,
            });
        }
        Ok(StatusList { bits, bytes: out })
    }
}

/// A set of identifiers (for the MSO revocation list: COSE Key thumbprints of revoked
/// DeviceKeys, see [`cose_key_thumbprint`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentifierList {
    identifiers: BTreeSet<Vec<u8>>,
}

impl IdentifierList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `id`; returns false if it was already present.
    pub fn insert(&mut self, id: impl Into<Vec<u8>>) -> bool {
        self.identifiers.insert(id.into())
    }

    /// Whether `id` is listed (listed = revoked).
    pub fn contains(&self, id: &[u8]) -> bool {
        self.identifiers.contains(id)
    }

    /// Number of identifiers.
    pub fn len(&self) -> usize {
        self.identifiers.len()
    }

    /// True when nothing is listed.
    pub fn is_empty(&self) -> bool {
        self.identifiers.is_empty()
    }

    /// The identifiers in byte order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.identifiers.iter().map(Vec::as_slice)
    }
}

/// The CWT claims common to both list tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// `sub` (2): the URI the MSO's `status` points to.
    pub sub: String,
    /// `iat` (6).
    pub iat: OffsetDateTime,
    /// `exp` (4). Required here: a list without expiry could be replayed forever.
    pub exp: OffsetDateTime,
    /// `ttl` (65534), seconds the list may be cached.
    pub ttl: Option<u64>,
}

fn unix(t: OffsetDateTime, field: &'static str) -> Result<Value> {
    u64::try_from(t.unix_timestamp())
        .map(|s| Value::Integer(s.into()))
        .map_err(|_| Error::InvalidRequest(format!("{field} is before 1970")))
}

impl TokenClaims {
    fn entries(&self) -> Result<Vec<(Value, Value)>> {
        let mut v = vec![
            (Value::from(CLAIM_SUB), Value::Text(self.sub.clone())),
            (Value::from(CLAIM_IAT), unix(self.iat, "iat")?),
            (Value::from(CLAIM_EXP), unix(self.exp, "exp")?),
        ];
        if let Some(ttl) = self.ttl {
            v.push((Value::from(CLAIM_TTL), Value::Integer(ttl.into())));
        }
        Ok(v)
    }

    fn from_map(m: &MapView<'_, '_>) -> Result<Self> {
        let req = |label: i64, field: &'static str| {
            m.get_int(label).ok_or(Error::MissingField {
                context: "list token claims",
                field,
            })
        };
        let time = |label: i64, field: &'static str| -> Result<OffsetDateTime> {
            let secs = req(label, field)?.uint(field)?;
            i64::try_from(secs)
                .ok()
                .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
                .ok_or(Error::ListToken(ListTokenError::Timestamp { claim: field }))
        };
        Ok(TokenClaims {
            sub: req(CLAIM_SUB, "sub")?.text(m.src(), "sub")?.to_owned(),
            iat: time(CLAIM_IAT, "iat")?,
            exp: time(CLAIM_EXP, "exp")?,
            ttl: m.get_int(CLAIM_TTL).map(|n| n.uint("ttl")).transpose()?,
        })
    }
}

/// A list token waiting for its signature: prepare → [`PreparedToken::to_be_signed`] (for an
/// HSM or remote signer) → [`PreparedToken::complete`].
#[derive(Debug, Clone)]
pub struct PreparedToken {
    sign1: CoseSign1,
    alg: Algorithm,
    tbs: Vec<u8>,
}

impl PreparedToken {
    fn new(alg: Algorithm, typ: &str, payload: Vec<u8>, x5chain: &[Vec<u8>]) -> Result<Self> {
        // ISO/IEC 18013-5 (second edition) 12.3.6.3: the x5chain goes in the protected header.
        let header = HeaderBuilder::new()
            .algorithm(alg.iana())
            .value(HEADER_TYP, Value::Text(typ.to_owned()))
            .value(X5CHAIN, x5chain_value(x5chain)?)
            .build();
        let encoded = header.clone().to_cbor_value().map_err(cose_err)?;
        let protected = ProtectedHeader {
            original_data: Some(encode_value(&encoded)),
            header,
        };
        let unprotected = HeaderBuilder::new().build();
        let tbs = sig_structure_data(
            SignatureContext::CoseSign1,
            protected.clone(),
            None,
            &[],
            &payload,
        );
        Ok(PreparedToken {
            sign1: CoseSign1 {
                protected,
                unprotected,
                payload: Some(payload),
                signature: Vec::new(),
            },
            alg,
            tbs,
        })
    }

    /// The bytes to sign (the COSE `Sig_structure`).
    pub fn to_be_signed(&self) -> &[u8] {
        &self.tbs
    }

    /// The algorithm the signature must use.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Attaches a raw COSE signature and returns the token: a COSE_Sign1 tagged 18.
    pub fn complete(mut self, signature: Vec<u8>) -> Result<Vec<u8>> {
        if signature.len() != self.alg.signature_len() {
            return Err(Error::MalformedSignature(format!(
                "{} signature must be {} bytes, the signer returned {}",
                self.alg,
                self.alg.signature_len(),
                signature.len()
            )));
        }
        self.sign1.signature = signature;
        let value = self.sign1.to_cbor_value().map_err(cose_err)?;
        Ok(encode_value(&Value::Tag(18, Box::new(value))))
    }

    /// Signs with `signer` in one step.
    pub fn sign(self, signer: &dyn Signer) -> Result<Vec<u8>> {
        if signer.algorithm() != self.alg {
            return Err(Error::AlgorithmMismatch {
                alg: self.alg.name().into(),
                key: signer.algorithm().name().into(),
            });
        }
        let sig = signer.sign(&self.tbs)?;
        self.complete(sig)
    }
}

/// Policy for verifying a list token.
#[derive(Debug, Clone, Copy)]
pub struct TokenVerifyOptions<'a> {
    /// The moment to verify at.
    pub at: OffsetDateTime,
    /// Tolerated clock skew, applied to every time comparison.
    pub skew: Duration,
    /// IACAs the list signer's certificate must be issued by.
    pub trust: &'a TrustAnchors,
    /// Signature algorithms accepted.
    pub allowed_algorithms: &'a [Algorithm],
    /// Bounds on the token's CBOR.
    pub limits: Limits,
    /// Largest accepted decompressed status list, in bytes.
    pub max_list_len: usize,
}

impl<'a> TokenVerifyOptions<'a> {
    /// Defaults: [`DEFAULT_SKEW`], every supported algorithm, default limits,
    /// [`DEFAULT_MAX_LIST_LEN`].
    pub fn new(at: OffsetDateTime, trust: &'a TrustAnchors) -> Self {
        TokenVerifyOptions {
            at,
            skew: DEFAULT_SKEW,
            trust,
            allowed_algorithms: DEFAULT_ALGORITHMS,
            limits: Limits::DEFAULT,
            max_list_len: DEFAULT_MAX_LIST_LEN,
        }
    }
}

/// What the common checks of both tokens establish.
struct Checked {
    claims: TokenClaims,
    signer: Certificate,
    iaca: Certificate,
    payload: Vec<u8>,
}

fn check_token(
    bytes: &[u8],
    typ: &'static str,
    expected_uri: &str,
    opts: &TokenVerifyOptions<'_>,
    verifier: &dyn Verifier,
) -> Result<Checked> {
    let n = node::parse(bytes, &opts.limits)?;
    let sign1 = decode_sign1(&n, bytes)?;

    // typ, from the protected header only.
    let found = sign1
        .protected
        .header
        .rest
        .iter()
        .find(|(l, _)| *l == Label::Int(HEADER_TYP))
        .map(|(_, v)| v);
    match found {
        Some(Value::Text(t)) if t == typ => {}
        other => {
            return Err(ListTokenError::Typ {
                expected: typ,
                found: other.map(|v| match v {
                    Value::Text(t) => t.clone(),
                    v => format!("{v:?}"),
                }),
            }
            .into())
        }
    }

    let alg = sign1_algorithm(&sign1)?;
    if !opts.allowed_algorithms.contains(&alg) {
        return Err(ListTokenError::AlgorithmNotAllowed { algorithm: alg }.into());
    }

    // The signer: x5chain leaf (the IACA is not in the chain).
    let chain = x5chain(&sign1)?;
    let leaf_der = chain
        .first()
        .ok_or_else(|| Error::X5Chain("empty x5chain".into()))?;
    let signer = Certificate::from_der(leaf_der)?;
    sign1_verify(&sign1, &signer.public_key()?, verifier)?;

    // The signer must be issued directly by a trusted IACA (a certificate under a DS is not),
    // fit the list signer profile, and be valid with its IACA at the verification time.
    let policy = PathPolicy {
        skew: opts.skew,
        ..PathPolicy::default()
    };
    let iaca = path::validate_with(
        &signer,
        &[],
        opts.trust,
        opts.at,
        Role::ListSigner,
        verifier,
        &policy,
    )
    .map_err(ListTokenError::Signer)?
    .anchor()
    .clone();

    let payload = sign1
        .payload
        .ok_or_else(|| Error::Cose("list token payload must be embedded".into()))?;
    let claims = {
        let pn = node::parse(&payload, &opts.limits)?;
        let m = pn.map(&payload, "list token claims")?;
        TokenClaims::from_map(&m)?
    };
    if claims.sub != expected_uri {
        return Err(ListTokenError::Sub {
            expected: expected_uri.to_owned(),
            found: claims.sub,
        }
        .into());
    }
    if opts.at.saturating_sub(opts.skew) >= claims.exp {
        return Err(ListTokenError::Expired {
            exp: claims.exp,
            at: opts.at,
        }
        .into());
    }
    if claims.iat > opts.at.saturating_add(opts.skew) {
        return Err(ListTokenError::IssuedInFuture {
            iat: claims.iat,
            at: opts.at,
        }
        .into());
    }
    Ok(Checked {
        claims,
        signer,
        iaca,
        payload,
    })
}

/// The `sub` claim of a list token, read without verifying anything: only for choosing which
/// of several tokens to verify against an MSO's `uri` (verification checks `sub` again).
pub fn token_subject(bytes: &[u8], limits: &Limits) -> Result<String> {
    let n = node::parse(bytes, limits)?;
    let sign1 = decode_sign1(&n, bytes)?;
    let payload = sign1
        .payload
        .ok_or_else(|| Error::Cose("list token payload must be embedded".into()))?;
    let pn = node::parse(&payload, limits)?;
    let m = pn.map(&payload, "list token claims")?;
    let sub = m.get_int(CLAIM_SUB).ok_or(Error::MissingField {
        context: "list token claims",
        field: "sub",
    })?;
    Ok(sub.text(&payload, "sub")?.to_owned())
}

/// The list claim (`status_list` or `identifier_list`) of a checked payload.
fn list_claim<'n>(root: &'n Node, src: &[u8], label: i64, field: &'static str) -> Result<&'n Node> {
    root.map(src, "list token claims")?
        .get_int(label)
        .ok_or(Error::MissingField {
            context: "list token claims",
            field,
        })
}

fn aggregation_uri(m: &MapView<'_, '_>) -> Result<Option<String>> {
    m.get("aggregation_uri")
        .map(|n| n.text(m.src(), "aggregation_uri").map(str::to_owned))
        .transpose()
}

/// A list token's CWT: the common claims plus `list_claim` (with `aggregation_uri` when given)
/// under `claim_label`, typed `typ`.
fn prepare_token(
    typ: &str,
    claim_label: i64,
    mut list_claim: Vec<(Value, Value)>,
    aggregation_uri: Option<&str>,
    claims: &TokenClaims,
    alg: Algorithm,
    x5chain: &[Vec<u8>],
) -> Result<PreparedToken> {
    if let Some(uri) = aggregation_uri {
        list_claim.push((
            Value::Text("aggregation_uri".into()),
            Value::Text(uri.into()),
        ));
    }
    let mut entries = claims.entries()?;
    entries.push((Value::from(claim_label), Value::Map(list_claim)));
    PreparedToken::new(alg, typ, encode_value(&Value::Map(entries)), x5chain)
}

/// The Token Status List CWT.
#[derive(Debug, Clone, Copy)]
pub struct StatusListToken;

impl StatusListToken {
    /// Prepares a token for `list`, to be signed by the key of `x5chain`'s leaf (the list
    /// signer's chain, leaf first, IACA excluded).
    pub fn prepare(
        list: &StatusList,
        aggregation_uri: Option<&str>,
        claims: &TokenClaims,
        alg: Algorithm,
        x5chain: &[Vec<u8>],
    ) -> Result<PreparedToken> {
        let list_claim = vec![
            (Value::Text("bits".into()), Value::from(list.bits())),
            (Value::Text("lst".into()), Value::Bytes(list.compress()?)),
        ];
        prepare_token(
            TYP_STATUS_LIST,
            CLAIM_STATUS_LIST,
            list_claim,
            aggregation_uri,
            claims,
            alg,
            x5chain,
        )
    }

    /// Verifies a token at `at` with default policy ([`TokenVerifyOptions::new`]).
    pub fn verify(
        bytes: &[u8],
        expected_uri: &str,
        at: OffsetDateTime,
        trust: &TrustAnchors,
        verifier: &dyn Verifier,
    ) -> Result<VerifiedStatusList> {
        Self::verify_with(
            bytes,
            expected_uri,
            &TokenVerifyOptions::new(at, trust),
            verifier,
        )
    }

    /// Verifies a token: COSE shape, `typ`, algorithm, signature by the x5chain leaf, leaf
    /// issued by a trusted IACA, leaf and IACA validity, `sub`, `exp` / `iat`, and a bounded
    /// decompression of `lst`.
    pub fn verify_with(
        bytes: &[u8],
        expected_uri: &str,
        opts: &TokenVerifyOptions<'_>,
        verifier: &dyn Verifier,
    ) -> Result<VerifiedStatusList> {
        let c = check_token(bytes, TYP_STATUS_LIST, expected_uri, opts, verifier)?;
        let src = c.payload.as_slice();
        let root = node::parse(src, &opts.limits)?;
        let m =
            list_claim(&root, src, CLAIM_STATUS_LIST, "status_list")?.map(src, "status_list")?;
        let bits = m.required("bits")?.uint("bits")?;
        let bits = u8::try_from(bits).map_err(|_| ListTokenError::Bits { bits })?;
        let lst = m.required("lst")?.bytes(src, "lst")?;
        let list = StatusList::decompress(bits, lst, opts.max_list_len)?;
        Ok(VerifiedStatusList {
            aggregation_uri: aggregation_uri(&m)?,
            claims: c.claims,
            signer: c.signer,
            iaca: c.iaca,
            list,
        })
    }
}

/// A verified Token Status List.
#[derive(Debug, Clone)]
pub struct VerifiedStatusList {
    /// The token's claims.
    pub claims: TokenClaims,
    /// The list signer's certificate (the x5chain leaf).
    pub signer: Certificate,
    /// The trusted IACA that issued the signer's certificate.
    pub iaca: Certificate,
    /// The decompressed list.
    pub list: StatusList,
    /// `aggregation_uri`, if present.
    pub aggregation_uri: Option<String>,
}

impl VerifiedStatusList {
    /// The status at `idx` (the MSO's `status_list.idx`); out of range is an error.
    pub fn status(&self, idx: u64) -> Result<Status> {
        let idx = usize::try_from(idx).map_err(|_| ListTokenError::IndexOutOfRange {
            index: idx,
            len: self.list.len(),
        })?;
        self.list.get(idx)
    }
}

/// The Identifier List CWT (ISO/IEC 18013-5 2nd edition).
#[derive(Debug, Clone, Copy)]
pub struct IdentifierListToken;

impl IdentifierListToken {
    /// Prepares a token for `list`, to be signed by the key of `x5chain`'s leaf.
    pub fn prepare(
        list: &IdentifierList,
        aggregation_uri: Option<&str>,
        claims: &TokenClaims,
        alg: Algorithm,
        x5chain: &[Vec<u8>],
    ) -> Result<PreparedToken> {
        let ids = list
            .iter()
            .map(|id| (Value::Bytes(id.to_vec()), Value::Map(Vec::new())))
            .collect();
        prepare_token(
            TYP_IDENTIFIER_LIST,
            CLAIM_IDENTIFIER_LIST,
            vec![(Value::Text("identifiers".into()), Value::Map(ids))],
            aggregation_uri,
            claims,
            alg,
            x5chain,
        )
    }

    /// Verifies a token at `at` with default policy ([`TokenVerifyOptions::new`]).
    pub fn verify(
        bytes: &[u8],
        expected_uri: &str,
        at: OffsetDateTime,
        trust: &TrustAnchors,
        verifier: &dyn Verifier,
    ) -> Result<VerifiedIdentifierList> {
        Self::verify_with(
            bytes,
            expected_uri,
            &TokenVerifyOptions::new(at, trust),
            verifier,
        )
    }

    /// Verifies a token with the same checks as [`StatusListToken::verify_with`], then reads
    /// `identifiers` (every key a bstr, every value an empty map).
    pub fn verify_with(
        bytes: &[u8],
        expected_uri: &str,
        opts: &TokenVerifyOptions<'_>,
        verifier: &dyn Verifier,
    ) -> Result<VerifiedIdentifierList> {
        let c = check_token(bytes, TYP_IDENTIFIER_LIST, expected_uri, opts, verifier)?;
        let src = c.payload.as_slice();
        let root = node::parse(src, &opts.limits)?;
        let m = list_claim(&root, src, CLAIM_IDENTIFIER_LIST, "identifier_list")?
            .map(src, "identifier_list")?;
        let ids = m.required("identifiers")?.map(src, "identifiers")?;
        let mut list = IdentifierList::new();
        for (k, v) in ids.entries() {
            let id = k.bytes(src, "identifier")?;
            match &v.kind {
                Kind::Map(e) if e.is_empty() => {}
                _ => return Err(v.wrong("identifier info", "an empty map")),
            }
            list.insert(id);
        }
        Ok(VerifiedIdentifierList {
            aggregation_uri: aggregation_uri(&m)?,
            claims: c.claims,
            signer: c.signer,
            iaca: c.iaca,
            list,
        })
    }
}

/// A verified Identifier List.
#[derive(Debug, Clone)]
pub struct VerifiedIdentifierList {
    /// The token's claims.
    pub claims: TokenClaims,
    /// The list signer's certificate (the x5chain leaf).
    pub signer: Certificate,
    /// The trusted IACA that issued the signer's certificate.
    pub iaca: Certificate,
    /// The identifiers.
    pub list: IdentifierList,
    /// `aggregation_uri`, if present.
    pub aggregation_uri: Option<String>,
}

impl VerifiedIdentifierList {
    /// Whether `id` is listed (listed = revoked).
    pub fn contains(&self, id: &[u8]) -> bool {
        self.list.contains(id)
    }
}

/// The RFC 9679 COSE Key thumbprint: SHA-256 over the deterministic CBOR of the required
/// members only — EC2 `{1: 2, -1: crv, -2: x, -3: y}` (uncompressed, y as bytes), OKP
/// `{1: 1, -1: crv, -2: x}`.
pub fn cose_key_thumbprint(key: &PublicKey) -> [u8; 32] {
    let sec1 = key.to_sec1();
    let int = |i: i64| Value::from(i);
    let map = match key {
        PublicKey::Ed25519(_) => vec![
            (int(1), int(1)),
            (int(-1), int(6)),
            (int(-2), Value::Bytes(sec1)),
        ],
        PublicKey::P256(_) | PublicKey::P384(_) | PublicKey::P521(_) => {
            let (crv, size) = match key {
                PublicKey::P256(_) => (1, 32),
                PublicKey::P384(_) => (2, 48),
                _ => (3, 66),
            };
            let x = sec1.get(1..1 + size).unwrap_or_default().to_vec();
            let y = sec1.get(1 + size..).unwrap_or_default().to_vec();
            vec![
                (int(1), int(2)),
                (int(-1), int(crv)),
                (int(-2), Value::Bytes(x)),
                (int(-3), Value::Bytes(y)),
            ]
        }
    };
    Sha256::digest(encode_value(&Value::Map(map))).into()
}
