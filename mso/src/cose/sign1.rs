//! COSE_Sign1: decoding under limits, two-phase signing, verification.

use coset::{
    sig_structure_data, AsCborValue, CborSerializable, CoseKey, CoseSign1, HeaderBuilder,
    ProtectedHeader, SignatureContext, TaggedCborSerializable,
};

use super::x5chain::{x5chain_value, X5CHAIN};
use crate::cbor::{cose_err, node, write_head, Kind, Limits, Node};
use crate::crypto::{Algorithm, PublicKey, Signer, Verifier};
use crate::error::{Error, Result};

const TAG_COSE_SIGN1: u64 = 18;

/// Decodes a COSE_Sign1 that `node` spans in `src`, tagged (18) or untagged.
pub fn decode_sign1(n: &Node, src: &[u8]) -> Result<CoseSign1> {
    match &n.kind {
        Kind::Tag(TAG_COSE_SIGN1, inner) => {
            check_cose_shape(inner.array("COSE_Sign1")?, "COSE_Sign1")?;
            CoseSign1::from_tagged_slice(n.raw(src)).map_err(cose_err)
        }
        Kind::Tag(other, _) => Err(Error::WrongTag {
            context: "COSE_Sign1",
            expected: TAG_COSE_SIGN1,
            found: Some(*other),
            offset: n.span.start,
        }),
        Kind::Array(items) if items.len() == 4 => {
            check_cose_shape(items, "COSE_Sign1")?;
            CoseSign1::from_slice(n.raw(src)).map_err(cose_err)
        }
        _ => Err(n.wrong("COSE_Sign1", "a 4-element array")),
    }
}

/// Unprotected header labels that verification reads: x5chain (33, RFC 9360), where ISO
/// 18013-5 puts the Document Signer certificate. Never treated as an ignorable placeholder.
pub const LABELS_READ_UNPROTECTED: &[i64] = &[33];

/// Decodes a COSE_Sign1 like [`decode_sign1`], except that an unprotected header entry whose
/// value is `null` or `undefined` (with an integer label) is dropped instead of failing the
/// whole structure, and its label returned.
///
/// Such an entry lies outside every signature and carries nothing: a widely used issuer
/// library writes `{4: undefined}` as `kid`, which `coset` (rightly, for a bstr label) refuses.
/// The rest is decoded from the received bytes with only that entry left out of the
/// unprotected map, so the protected header, payload and signature are exactly as received.
/// Verification decides what the dropped labels mean (`crate::verify::Placeholders`).
///
/// A placeholder for a label that verification reads from the unprotected header
/// ([`LABELS_READ_UNPROTECTED`]: x5chain) is not dropped: the structure fails to decode as
/// before, because what the signature check needs is missing.
pub fn decode_sign1_tolerant(n: &Node, src: &[u8]) -> Result<(CoseSign1, Vec<i64>)> {
    let items = match &n.kind {
        Kind::Tag(TAG_COSE_SIGN1, inner) => inner.array("COSE_Sign1")?,
        Kind::Array(items) if items.len() == 4 => items.as_slice(),
        _ => return decode_sign1(n, src).map(|s| (s, Vec::new())),
    };
    check_cose_shape(items, "COSE_Sign1")?;
    let [protected, unprotected, payload, signature] = items else {
        return decode_sign1(n, src).map(|s| (s, Vec::new()));
    };
    let Kind::Map(entries) = &unprotected.kind else {
        return decode_sign1(n, src).map(|s| (s, Vec::new()));
    };
    let placeholder = |(k, v): &(Node, Node)| {
        matches!(v.kind, Kind::Null | Kind::Undefined)
            && matches!(k.kind, Kind::Uint(_) | Kind::Nint(_))
            && k.int("COSE header label")
                .is_ok_and(|label| !LABELS_READ_UNPROTECTED.contains(&label))
    };
    let dropped: Vec<i64> = entries
        .iter()
        .filter(|e| placeholder(e))
        .map(|(k, _)| k.int("COSE header label"))
        .collect::<Result<_>>()?;
    if dropped.is_empty() {
        return decode_sign1(n, src).map(|s| (s, Vec::new()));
    }
    // The same structure with the placeholder entries left out, every other item as received.
    let kept: Vec<&(Node, Node)> = entries.iter().filter(|e| !placeholder(e)).collect();
    let mut bytes = Vec::with_capacity(n.raw(src).len());
    write_head(&mut bytes, 4, 4);
    bytes.extend_from_slice(protected.raw(src));
    write_head(&mut bytes, 5, kept.len() as u64);
    for (k, v) in kept {
        bytes.extend_from_slice(k.raw(src));
        bytes.extend_from_slice(v.raw(src));
    }
    bytes.extend_from_slice(payload.raw(src));
    bytes.extend_from_slice(signature.raw(src));
    let sign1 = CoseSign1::from_slice(&bytes).map_err(cose_err)?;
    Ok((sign1, dropped))
}

/// `[protected: bstr, unprotected: map, payload: bstr / nil, signature-or-tag: bstr]`, checked
/// before `coset` sees it: `coset` reads `undefined` as a detached payload, which the COSE
/// grammar does not allow and which would leave a byte of the structure unauthenticated.
pub(crate) fn check_cose_shape(items: &[Node], context: &'static str) -> Result<()> {
    let ok = matches!(
        items,
        [p, u, payload, sig]
            if matches!(p.kind, Kind::Bytes(_))
                && matches!(u.kind, Kind::Map(_))
                && matches!(payload.kind, Kind::Bytes(_) | Kind::Null)
                && matches!(sig.kind, Kind::Bytes(_))
    );
    if ok {
        Ok(())
    } else {
        Err(Error::Cose(format!(
            "{context} must be [bstr, map, bstr / nil, bstr]"
        )))
    }
}

/// Decodes a COSE_Key from the bytes `node` spans, keeping integer labels as integers.
pub fn parse_cose_key(n: &Node, src: &[u8]) -> Result<CoseKey> {
    if !matches!(n.kind, Kind::Map(_)) {
        return Err(n.wrong("COSE_Key", "a map"));
    }
    CoseKey::from_slice(n.raw(src)).map_err(cose_err)
}

/// Decodes a standalone COSE_Sign1 from untrusted bytes.
pub fn decode_sign1_bytes(bytes: &[u8], limits: &Limits) -> Result<CoseSign1> {
    let n = node::parse(bytes, limits)?;
    decode_sign1(&n, bytes)
}

/// The algorithm in the protected header (an algorithm only in the unprotected header is not
/// accepted: it would not be covered by the signature).
pub fn sign1_algorithm(sign1: &CoseSign1) -> Result<Algorithm> {
    match &sign1.protected.header.alg {
        Some(coset::Algorithm::Assigned(a)) => Algorithm::from_cose_id(*a as i64)
            .ok_or_else(|| Error::UnsupportedAlgorithm(format!("COSE algorithm {}", *a as i64))),
        Some(other) => Err(Error::UnsupportedAlgorithm(format!("{other:?}"))),
        None if sign1.unprotected.alg.is_some() => Err(Error::Cose(
            "alg is in the unprotected header; 18013-5 requires it protected".into(),
        )),
        None => Err(Error::Cose("no alg in the protected header".into())),
    }
}

/// The `Sig_structure` for `sign1` over `payload`, with no external AAD.
///
/// When the protected header's bytes are known (always, for structures built or decoded here)
/// it is written directly, `["Signature1", protected, h'', payload]` with shortest heads, the
/// same bytes `coset` produces without copying the header and payload into a `Value` tree.
fn tbs(sign1: &CoseSign1, payload: &[u8]) -> Vec<u8> {
    const CONTEXT: &str = "Signature1";
    let Some(protected) = sign1.protected.original_data.as_deref() else {
        return sig_structure_data(
            SignatureContext::CoseSign1,
            sign1.protected.clone(),
            None,
            &[],
            payload,
        );
    };
    let mut out = Vec::with_capacity(32 + protected.len() + payload.len());
    write_head(&mut out, 4, 4);
    write_head(&mut out, 3, CONTEXT.len() as u64);
    out.extend_from_slice(CONTEXT.as_bytes());
    write_head(&mut out, 2, protected.len() as u64);
    out.extend_from_slice(protected);
    write_head(&mut out, 2, 0);
    write_head(&mut out, 2, payload.len() as u64);
    out.extend_from_slice(payload);
    out
}

/// Verifies a COSE_Sign1 with an embedded payload.
pub fn sign1_verify(sign1: &CoseSign1, key: &PublicKey, verifier: &dyn Verifier) -> Result<()> {
    let payload = sign1
        .payload
        .as_deref()
        .ok_or_else(|| Error::Cose("payload is detached; expected embedded".into()))?;
    let alg = sign1_algorithm(sign1)?;
    verifier.verify(alg, key, &tbs(sign1, payload), &sign1.signature)
}

/// Verifies a COSE_Sign1 whose payload is detached (nil) against `payload`.
pub fn sign1_verify_detached(
    sign1: &CoseSign1,
    payload: &[u8],
    key: &PublicKey,
    verifier: &dyn Verifier,
) -> Result<()> {
    if sign1.payload.is_some() {
        return Err(Error::Cose(
            "payload is embedded; expected detached (nil)".into(),
        ));
    }
    let alg = sign1_algorithm(sign1)?;
    verifier.verify(alg, key, &tbs(sign1, payload), &sign1.signature)
}

/// A COSE_Sign1 waiting for its signature: phase one of two-phase signing.
///
/// [`PreparedSign1::to_be_signed`] gives the exact `Sig_structure` bytes for an HSM or remote
/// signer; [`PreparedSign1::complete`] attaches the returned signature.
#[derive(Debug, Clone)]
pub struct PreparedSign1 {
    sign1: CoseSign1,
    alg: Algorithm,
    detached_payload: bool,
    tbs: Vec<u8>,
}

impl PreparedSign1 {
    /// Prepares a COSE_Sign1 over `payload` with `{1: alg}` protected and, if `x5chain` is
    /// non-empty, the chain in the unprotected header. `detached` leaves the payload nil.
    pub fn new(
        alg: Algorithm,
        payload: Vec<u8>,
        x5chain: &[Vec<u8>],
        detached: bool,
    ) -> Result<Self> {
        let header = HeaderBuilder::new().algorithm(alg.iana()).build();
        // Keep the serialised protected header, so the structure compares equal to its own
        // decoding and the signed bytes are explicit.
        let encoded = header.clone().to_cbor_value().map_err(cose_err)?;
        let protected = ProtectedHeader {
            original_data: Some(crate::cbor::encode_value(&encoded)),
            header,
        };
        let mut unprotected = HeaderBuilder::new();
        if !x5chain.is_empty() {
            unprotected = unprotected.value(X5CHAIN, x5chain_value(x5chain)?);
        }
        let mut sign1 = CoseSign1 {
            protected,
            unprotected: unprotected.build(),
            payload: None,
            signature: Vec::new(),
        };
        let tbs = tbs(&sign1, &payload);
        if !detached {
            sign1.payload = Some(payload);
        }
        Ok(PreparedSign1 {
            sign1,
            alg,
            detached_payload: detached,
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

    /// Whether the payload is left out of the structure.
    pub fn is_detached(&self) -> bool {
        self.detached_payload
    }

    /// Attaches a raw COSE signature, checking its length for the algorithm.
    pub fn complete(mut self, signature: Vec<u8>) -> Result<CoseSign1> {
        if signature.len() != self.alg.signature_len() {
            return Err(Error::MalformedSignature(format!(
                "{} signature must be {} bytes, the signer returned {}",
                self.alg,
                self.alg.signature_len(),
                signature.len()
            )));
        }
        self.sign1.signature = signature;
        Ok(self.sign1)
    }

    /// Signs with `signer` in one step.
    pub fn sign(self, signer: &dyn Signer) -> Result<CoseSign1> {
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

/// Appends `sign1` untagged, the same bytes as encoding [`sign1_to_value`], without copying
/// the payload and signature into a `Value` first (only the small unprotected header is).
pub(crate) fn write_sign1(sign1: &CoseSign1, out: &mut Vec<u8>) {
    let protected: Option<&[u8]> = match &sign1.protected.original_data {
        Some(bytes) => Some(bytes),
        None if sign1.protected.is_empty() => Some(&[]),
        None => None,
    };
    let unprotected = sign1.unprotected.clone().to_cbor_value();
    let (Some(protected), Ok(unprotected)) = (protected, unprotected) else {
        crate::cbor::encode_value_into(&sign1_to_value(sign1), out);
        return;
    };
    write_head(out, 4, 4);
    write_head(out, 2, protected.len() as u64);
    out.extend_from_slice(protected);
    crate::cbor::encode_value_into(&unprotected, out);
    match &sign1.payload {
        Some(payload) => {
            write_head(out, 2, payload.len() as u64);
            out.extend_from_slice(payload);
        }
        None => out.push(0xf6),
    }
    write_head(out, 2, sign1.signature.len() as u64);
    out.extend_from_slice(&sign1.signature);
}

/// Serialises a COSE_Sign1 untagged, as 18013-5 requires for issuerAuth and deviceSignature.
pub(crate) fn sign1_to_value(sign1: &CoseSign1) -> crate::cbor::Value {
    use coset::AsCborValue;
    // coset keeps the protected header as the bytes that were signed.
    sign1
        .clone()
        .to_cbor_value()
        .unwrap_or(crate::cbor::Value::Null)
}
