//! Issuing an mdoc: salts, digest IDs, shuffling, the MSO, and two-phase signing.
//!
//! ```text
//! MdocBuilder ──prepare──► PreparedMdoc ──to_be_signed()──► HSM / remote signer
//!                                 └──────complete(signature)──► IssuerSigned
//! ```

use std::collections::{BTreeMap, BTreeSet};

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRngCore, RngCore, SeedableRng};

use crate::cbor::{TDate, Tag24, Value};
use crate::cose::PreparedSign1;
use crate::crypto::{Algorithm, DigestAlgorithm, PublicKey, Signer};
use crate::error::{Error, Result};
use crate::model::{
    DeviceKeyInfo, IssuerAuth, IssuerNameSpaces, IssuerSigned, IssuerSignedItem,
    MobileSecurityObject, Status, ValidityInfo,
};

/// Salt length used for every IssuerSignedItem (18013-5 requires at least 16).
pub const SALT_LEN: usize = 32;

/// digestIDs stay below 2^31: a widely used parser models them as signed 32-bit integers.
pub const DIGEST_ID_BOUND: u32 = 1 << 31;

/// Collects what an mdoc will contain.
#[derive(Debug, Clone)]
pub struct MdocBuilder {
    doc_type: String,
    digest_algorithm: DigestAlgorithm,
    elements: BTreeMap<String, Vec<(String, Value)>>,
    device_key_info: Option<DeviceKeyInfo>,
    validity: Option<ValidityInfo>,
    status: Option<Status>,
    decoys_per_namespace: usize,
}

impl MdocBuilder {
    /// Starts a document of `doc_type` with SHA-256 digests.
    pub fn new(doc_type: impl Into<String>) -> Self {
        MdocBuilder {
            doc_type: doc_type.into(),
            digest_algorithm: DigestAlgorithm::Sha256,
            elements: BTreeMap::new(),
            device_key_info: None,
            validity: None,
            status: None,
            decoys_per_namespace: 0,
        }
    }

    /// Chooses the MSO digest algorithm.
    pub fn digest_algorithm(mut self, alg: DigestAlgorithm) -> Self {
        self.digest_algorithm = alg;
        self
    }

    /// Adds a data element. Use [`crate::cbor::FullDate`] / [`TDate`] values for dates.
    pub fn element(mut self, namespace: &str, identifier: &str, value: Value) -> Self {
        self.elements
            .entry(namespace.to_owned())
            .or_default()
            .push((identifier.to_owned(), value));
        self
    }

    /// Binds the document to the holder's device key.
    pub fn device_key(mut self, key: &PublicKey) -> Self {
        self.device_key_info = Some(DeviceKeyInfo::new(key));
        self
    }

    /// Binds the document to a device key with authorizations or key info.
    pub fn device_key_info(mut self, info: DeviceKeyInfo) -> Self {
        self.device_key_info = Some(info);
        self
    }

    /// Sets validityInfo.
    pub fn validity(mut self, validity: ValidityInfo) -> Self {
        self.validity = Some(validity);
        self
    }

    /// Sets the 2nd-edition revocation `status`.
    pub fn status(mut self, status: Status) -> Self {
        self.status = Some(status);
        self
    }

    /// Adds `n` random decoy digests to each namespace, hiding how many elements it holds.
    pub fn decoy_digests(mut self, n: usize) -> Self {
        self.decoys_per_namespace = n;
        self
    }

    fn check(&self) -> Result<(&DeviceKeyInfo, ValidityInfo)> {
        if self.doc_type.is_empty() {
            return Err(Error::InvalidRequest("docType is empty".into()));
        }
        if self.elements.is_empty() {
            return Err(Error::InvalidRequest("no data elements".into()));
        }
        for (ns, items) in &self.elements {
            // Sorted once and compared with the neighbour: one allocation per namespace.
            let mut ids: Vec<&str> = items.iter().map(|(id, _)| id.as_str()).collect();
            ids.sort_unstable();
            if let Some(pair) = ids.windows(2).find(|pair| pair.first() == pair.get(1)) {
                let id = pair.first().copied().unwrap_or_default();
                return Err(Error::InvalidRequest(format!(
                    "element {ns}/{id} given twice"
                )));
            }
        }
        let key = self
            .device_key_info
            .as_ref()
            .ok_or_else(|| Error::InvalidRequest("no device key".into()))?;
        key.public_key()?;
        let v = self
            .validity
            .ok_or_else(|| Error::InvalidRequest("no validityInfo".into()))?;
        if v.valid_from > v.valid_until {
            return Err(Error::InvalidRequest(
                "validFrom is after validUntil".into(),
            ));
        }
        if v.signed > v.valid_until {
            return Err(Error::InvalidRequest("signed is after validUntil".into()));
        }
        if let Some(e) = v.expected_update {
            if e < v.signed {
                return Err(Error::InvalidRequest(
                    "expectedUpdate is before signed".into(),
                ));
            }
        }
        Ok((key, v))
    }

    /// Salts, numbers, shuffles and digests the items and builds the MSO, ready to sign with
    /// `alg` and `x5chain` (DS certificate first, IACA excluded).
    ///
    /// The builder is kept, so every element value is copied; [`MdocBuilder::into_prepared`]
    /// moves them instead and gives the same result for the same randomness.
    pub fn prepare(
        &self,
        alg: Algorithm,
        x5chain: &[Vec<u8>],
        rng: &mut impl CryptoRngCore,
    ) -> Result<PreparedMdoc> {
        self.clone().into_prepared(alg, x5chain, rng)
    }

    /// [`MdocBuilder::prepare`], consuming the builder: element values (a 20 KB portrait) move
    /// into their items instead of being copied.
    pub fn into_prepared(
        self,
        alg: Algorithm,
        x5chain: &[Vec<u8>],
        rng: &mut impl CryptoRngCore,
    ) -> Result<PreparedMdoc> {
        self.check()?;
        if x5chain.is_empty() {
            return Err(Error::X5Chain("the DS certificate is required".into()));
        }
        // Draw this issuance's randomness in a few large reads rather than dozens of small ones
        // (each OS read is a system call); the values are the same kind of CSPRNG output.
        let mut rng = Prefetched::new(rng, self.random_bytes_needed());
        let MdocBuilder {
            doc_type,
            digest_algorithm,
            elements,
            device_key_info,
            validity,
            status,
            decoys_per_namespace,
        } = self;
        let (Some(device_key_info), Some(validity_info)) = (device_key_info, validity) else {
            // `check` refused both cases already.
            return Err(Error::InvalidRequest(
                "no device key or validityInfo".into(),
            ));
        };
        let mut name_spaces = IssuerNameSpaces::new();
        let mut value_digests = BTreeMap::new();
        for (ns, elements) in elements {
            let ids = unique_digest_ids(elements.len() + decoys_per_namespace, &mut rng);
            let (item_ids, decoy_ids) = ids.split_at(elements.len());
            let mut items = Vec::with_capacity(elements.len());
            let mut digests = BTreeMap::new();
            for ((identifier, value), &digest_id) in elements.into_iter().zip(item_ids) {
                let mut random = vec![0u8; SALT_LEN];
                rng.fill_bytes(&mut random);
                let item = IssuerSignedItem {
                    digest_id: u64::from(digest_id),
                    random,
                    element_identifier: identifier,
                    element_value: value,
                }
                .into_tagged();
                digests.insert(
                    u64::from(digest_id),
                    digest_algorithm.digest(item.tagged_bytes()),
                );
                items.push(item);
            }
            for &decoy in decoy_ids {
                let mut fake = vec![0u8; digest_algorithm.output_len()];
                rng.fill_bytes(&mut fake);
                digests.insert(u64::from(decoy), fake);
            }
            shuffle(&mut items, &mut rng);
            value_digests.insert(ns.clone(), digests);
            name_spaces.insert(ns, items);
        }
        let mso = Tag24::new(MobileSecurityObject {
            version: "1.0".into(),
            digest_algorithm,
            value_digests,
            device_key_info,
            doc_type,
            validity_info,
            status,
        });
        let sign1 = PreparedSign1::new(alg, mso.tagged_bytes().to_vec(), x5chain, false)?;
        Ok(PreparedMdoc {
            name_spaces,
            mso,
            sign1,
        })
    }
}

impl MdocBuilder {
    /// Random bytes one issuance normally consumes: salts, digest IDs, decoys, shuffling.
    fn random_bytes_needed(&self) -> usize {
        self.elements
            .values()
            .map(|e| {
                let ids = e.len() + self.decoys_per_namespace;
                e.len() * (SALT_LEN + 8)
                    + ids * 4
                    + self.decoys_per_namespace * self.digest_algorithm.output_len()
            })
            .sum()
    }
}

/// The randomness of one issuance (salts, digest IDs, decoys, order), as a ChaCha20 stream
/// keyed by a 32-byte seed.
///
/// [`MdocBuilder::into_prepared`] draws from its generator in a fixed order, so the same
/// builder and the same seed give the same MSO bytes. An issuer can therefore keep the 32-byte
/// seed and the signature instead of the signed credential, and rebuild its answer to a retried
/// request byte for byte. That order and this stream are part of this crate's contract: a test
/// pins the bytes a fixed seed gives, because a seed sealed before an upgrade must still
/// rebuild the same MSO after it.
///
/// ChaCha20 keyed with 256 bits from a CSPRNG is itself a CSPRNG (the kernel's own
/// construction), so the salts stay unpredictable to anyone without the seed. Keep the seed as
/// secret as the salts: with it and the document, anyone could recompute them.
pub struct SeededRng(ChaCha20Rng);

impl SeededRng {
    /// The stream of `seed`; the same seed always gives the same stream.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        SeededRng(ChaCha20Rng::from_seed(seed))
    }

    /// A fresh seed from `rng` (the operating system's generator, say) and its stream.
    pub fn fresh(rng: &mut impl CryptoRngCore) -> Self {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        Self::from_seed(*seed)
    }
}

impl std::fmt::Debug for SeededRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The stream's state is its seed: never printed.
        f.write_str("SeededRng(..)")
    }
}

impl RngCore for SeededRng {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> core::result::Result<(), rand_core::Error> {
        self.0.try_fill_bytes(dest)
    }
}

impl rand_core::CryptoRng for SeededRng {}

/// Serves random bytes from one up-front read of the caller's CSPRNG, reading more only if an
/// issuance needs more than estimated (digest ID collisions, shuffle rejections).
struct Prefetched<'r, R: CryptoRngCore> {
    inner: &'r mut R,
    buf: zeroize::Zeroizing<Vec<u8>>,
    pos: usize,
}

impl<'r, R: CryptoRngCore> Prefetched<'r, R> {
    fn new(inner: &'r mut R, n: usize) -> Self {
        let mut buf = zeroize::Zeroizing::new(vec![0u8; n]);
        inner.fill_bytes(&mut buf);
        Prefetched { inner, buf, pos: 0 }
    }
}

impl<R: CryptoRngCore> RngCore for Prefetched<'_, R> {
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

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let available = self.buf.len() - self.pos;
        if dest.len() <= available {
            let end = self.pos + dest.len();
            dest.copy_from_slice(self.buf.get(self.pos..end).unwrap_or_default());
            // Bytes handed out are erased from the buffer: never served twice.
            self.buf.get_mut(self.pos..end).unwrap_or_default().fill(0);
            self.pos = end;
        } else {
            self.inner.fill_bytes(dest);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> core::result::Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl<R: CryptoRngCore> rand_core::CryptoRng for Prefetched<'_, R> {}

/// `n` distinct random digest IDs below [`DIGEST_ID_BOUND`].
///
/// The draws and the rejection of repeats are part of [`SeededRng`]'s contract (a seed rebuilds
/// the same IDs): only how a repeat is found may change, never which draw is kept.
fn unique_digest_ids(n: usize, rng: &mut impl RngCore) -> Vec<u32> {
    // A namespace usually holds a few dozen elements: a linear scan beats a tree there.
    const SCAN_UP_TO: usize = 64;
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let id = rng.next_u32() & (DIGEST_ID_BOUND - 1);
        let fresh = if n <= SCAN_UP_TO {
            !out.contains(&id)
        } else {
            seen.insert(id)
        };
        if fresh {
            out.push(id);
        }
    }
    out
}

/// Fisher–Yates with rejection sampling, so the order carries no information.
fn shuffle<T>(items: &mut [T], rng: &mut impl RngCore) {
    for i in (1..items.len()).rev() {
        let bound = (i + 1) as u64;
        let zone = u64::MAX - (u64::MAX % bound);
        let j = loop {
            let r = rng.next_u64();
            if r < zone {
                break (r % bound) as usize;
            }
        };
        items.swap(i, j);
    }
}

/// An mdoc whose MSO is built and waiting for the issuer's signature.
#[derive(Debug, Clone)]
pub struct PreparedMdoc {
    name_spaces: IssuerNameSpaces,
    mso: Tag24<MobileSecurityObject>,
    sign1: PreparedSign1,
}

impl PreparedMdoc {
    /// The COSE `Sig_structure` to sign.
    pub fn to_be_signed(&self) -> &[u8] {
        self.sign1.to_be_signed()
    }

    /// The MSO being signed.
    pub fn mso(&self) -> &MobileSecurityObject {
        self.mso.value()
    }

    /// The algorithm the signature must use.
    pub fn algorithm(&self) -> Algorithm {
        self.sign1.algorithm()
    }

    /// Attaches the signature returned by the signer.
    pub fn complete(self, signature: Vec<u8>) -> Result<IssuerSigned> {
        let sign1 = self.sign1.complete(signature)?;
        Ok(IssuerSigned {
            name_spaces: Some(self.name_spaces),
            issuer_auth: IssuerAuth::from_parts(sign1, self.mso),
        })
    }

    /// Signs with `signer` in one step.
    pub fn sign(self, signer: &dyn Signer) -> Result<IssuerSigned> {
        let sign1 = self.sign1.sign(signer)?;
        Ok(IssuerSigned {
            name_spaces: Some(self.name_spaces),
            issuer_auth: IssuerAuth::from_parts(sign1, self.mso),
        })
    }
}

/// A validityInfo of `signed = valid_from = at` lasting `days`.
pub fn validity_for_days(at: time::OffsetDateTime, days: i64) -> ValidityInfo {
    let signed = TDate::new(at);
    ValidityInfo {
        signed,
        valid_from: signed,
        valid_until: TDate::new(signed.datetime().saturating_add(time::Duration::days(days))),
        expected_update: None,
    }
}
