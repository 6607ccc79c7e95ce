//! M-of-N activation: a secret (a PKCS#11 user PIN, a keystore secret) is split with Shamir
//! secret sharing over GF(256) (the `blahaj` crate) into one share per key custodian, each
//! share sealed under that custodian's passphrase (Argon2id + AES-256-GCM, the construction of
//! [`crate::softstore`]). Any `M` custodians together reconstruct the secret; fewer learn
//! nothing about it from the shares (CPS §6.2.2, §6.2.8: activation needs several people).
//!
//! ```no_run
//! use custody::quorum;
//! let pin = quorum::random_secret()?;
//! let shares = quorum::split(
//!     &pin,
//!     2,
//!     &[
//!         ("alice", b"alice's passphrase".as_slice()),
//!         ("bob", b"bob's passphrase".as_slice()),
//!         ("carol", b"carol's passphrase".as_slice()),
//!     ],
//! )?;
//! // ... each custodian keeps their share file (SealedShare::save) ...
//! let again = quorum::combine(&[
//!     (shares[0].clone(), b"alice's passphrase".as_slice()),
//!     (shares[2].clone(), b"carol's passphrase".as_slice()),
//! ])?;
//! assert_eq!(again, pin);
//! # Ok::<(), custody::Error>(())
//! ```
//!
//! Each [`SealedShare`] carries the custodian id, its share index, `M`, `N`, a random set id
//! shared by all shares of one split, and a commitment `SHA-256(label ‖ set id ‖ secret)` so
//! that a reconstruction is checked before it is used. All of these are bound to the sealed
//! share as associated data: editing any of them, or giving one custodian's file to another,
//! makes the share fail to open.
//!
//! **The secret must be high-entropy** (use [`random_secret`]): the commitment is public, so a
//! guessable secret could be found from any one share file by trying candidates. Shamir's
//! scheme hides the secret information-theoretically from `M-1` shares; the commitment is what
//! limits that to a computational guarantee for a random 32-character secret (≈190 bits).
//!
//! Memory hygiene: the reconstructed secret and decrypted shares are zeroized on drop; the
//! polynomial coefficients inside `blahaj`'s dealer are not (a limitation of that crate).

use std::collections::HashMap;
use std::path::Path;

use blahaj::{Share, Sharks};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
pub use crate::softstore::KdfParams;
use crate::softstore::{self, CipherRecord, KdfRecord, UnsealError};

/// The `format` value of a share file.
pub const SHARE_FORMAT: &str = "mdoc-custody-share";

/// The share file format version this crate writes and reads.
pub const SHARE_FORMAT_VERSION: u32 = 1;

/// Shortest secret [`split`] accepts, in bytes.
pub const MIN_SECRET_LEN: usize = 16;

/// Longest secret [`split`] accepts, in bytes.
pub const MAX_SECRET_LEN: usize = 1024;

/// Shortest custodian passphrase [`split`] accepts, in bytes.
pub const MIN_PASSPHRASE_LEN: usize = 8;

/// Longest custodian id, in bytes.
pub const MAX_CUSTODIAN_ID_LEN: usize = 128;

/// Length of [`random_secret`]'s output: 32 alphanumeric characters (≈190 bits).
pub const RANDOM_SECRET_LEN: usize = 32;

const SET_ID_LEN: usize = 16;
const COMMITMENT_LEN: usize = 32;

/// Hex text for fixed-size byte arrays in JSON.
mod hex_array {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(text.as_bytes()).map_err(serde::de::Error::custom)?;
        <[u8; N]>::try_from(bytes.as_slice())
            .map_err(|_| serde::de::Error::custom(format!("expected {N} hex-encoded bytes")))
    }
}

/// One custodian's share of a split secret, sealed under the custodian's passphrase.
///
/// Serialisable as JSON (one file per custodian: [`SealedShare::save`], [`SealedShare::load`]);
/// it holds no plaintext secret material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedShare {
    format: String,
    version: u32,
    custodian: String,
    index: u8,
    threshold: u8,
    total: u8,
    #[serde(with = "hex_array")]
    set_id: [u8; SET_ID_LEN],
    #[serde(with = "hex_array")]
    commitment: [u8; COMMITMENT_LEN],
    kdf: KdfRecord,
    cipher: CipherRecord,
}

impl SealedShare {
    /// The custodian holding this share.
    pub fn custodian(&self) -> &str {
        &self.custodian
    }

    /// The share index (the Shamir x-coordinate, 1..=N).
    pub fn index(&self) -> u8 {
        self.index
    }

    /// The threshold M: how many custodians reconstruct the secret.
    pub fn threshold(&self) -> u8 {
        self.threshold
    }

    /// The number of shares N made by the split.
    pub fn total(&self) -> u8 {
        self.total
    }

    /// The random id shared by all shares of one split.
    pub fn set_id(&self) -> &[u8; 16] {
        &self.set_id
    }

    /// The commitment to the secret, `SHA-256(label ‖ set id ‖ secret)`.
    pub fn commitment(&self) -> &[u8; 32] {
        &self.commitment
    }

    /// The share as pretty-printed JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| Error::Quorum(format!("encoding share: {e}")))
    }

    /// Reads a share from JSON, checking its format and metadata.
    pub fn from_json(json: &str) -> Result<Self> {
        let share: SealedShare = serde_json::from_str(json)
            .map_err(|e| Error::Quorum(format!("not a share file: {e}")))?;
        share.check_metadata()?;
        Ok(share)
    }

    /// Writes the share to a new file (mode 0600, atomic; never overwrites: [`Error::KeyExists`]).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut json = self.to_json()?;
        json.push('\n');
        softstore::write_new_file(path.as_ref(), json.as_bytes())
    }

    /// Reads a share file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = softstore::read_small_file(path)?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Error::Quorum(format!("{}: share file is not UTF-8", path.display())))?;
        Self::from_json(text)
    }

    /// Checks that `passphrase` opens this share, without reconstructing anything (a custodian's
    /// rehearsal before a ceremony). Wrong passphrase: [`Error::WrongSecret`] with the custodian
    /// id.
    pub fn check_passphrase(&self, passphrase: &[u8]) -> Result<()> {
        self.check_metadata()?;
        self.open(passphrase).map(drop)
    }

    fn check_metadata(&self) -> Result<()> {
        let bad = |reason: String| Err(Error::Quorum(reason));
        if self.format != SHARE_FORMAT {
            return bad(format!("format {:?} is not {SHARE_FORMAT:?}", self.format));
        }
        if self.version != SHARE_FORMAT_VERSION {
            return bad(format!(
                "share format version {} is not {SHARE_FORMAT_VERSION}",
                self.version
            ));
        }
        check_custodian_id(&self.custodian)?;
        if self.threshold < 2 || self.threshold > self.total {
            return bad(format!(
                "share of {}: threshold {} of {} is invalid",
                self.custodian, self.threshold, self.total
            ));
        }
        if self.index == 0 || self.index > self.total {
            return bad(format!(
                "share of {}: index {} outside 1..={}",
                self.custodian, self.index, self.total
            ));
        }
        Ok(())
    }

    fn aad(&self) -> String {
        share_aad(
            &self.custodian,
            self.index,
            self.threshold,
            self.total,
            &self.set_id,
            &self.commitment,
        )
    }

    /// Decrypts the share bytes (`x ‖ y…`).
    fn open(&self, passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let plain = softstore::unseal(passphrase, &self.aad(), &self.kdf, &self.cipher).map_err(
            |e| match e {
                UnsealError::WrongSecret => Error::WrongSecret(self.custodian.clone()),
                UnsealError::Corrupt(reason) => {
                    Error::Quorum(format!("share of {} is damaged: {reason}", self.custodian))
                }
            },
        )?;
        if plain.first() != Some(&self.index) || plain.len() < 2 {
            return Err(Error::Quorum(format!(
                "share of {} does not match its index",
                self.custodian
            )));
        }
        Ok(plain)
    }
}

fn share_aad(
    custodian: &str,
    index: u8,
    threshold: u8,
    total: u8,
    set_id: &[u8; SET_ID_LEN],
    commitment: &[u8; COMMITMENT_LEN],
) -> String {
    format!(
        "{SHARE_FORMAT}|v={SHARE_FORMAT_VERSION}|custodian={}|index={index}|m={threshold}|n={total}\
         |set={}|commitment={}",
        hex::encode(custodian.as_bytes()),
        hex::encode(set_id),
        hex::encode(commitment)
    )
}

fn commitment(set_id: &[u8; SET_ID_LEN], secret: &[u8]) -> [u8; COMMITMENT_LEN] {
    let mut h = Sha256::new();
    h.update(b"mdoc-custody/v1/quorum-commitment\0");
    h.update(set_id);
    h.update(secret);
    h.finalize().into()
}

fn check_custodian_id(id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(Error::Quorum("a custodian id is empty".into()));
    }
    if id.len() > MAX_CUSTODIAN_ID_LEN {
        return Err(Error::Quorum(format!(
            "custodian id longer than {MAX_CUSTODIAN_ID_LEN} bytes"
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(Error::Quorum(format!(
            "custodian id {id:?} contains control characters"
        )));
    }
    Ok(())
}

/// Splits `secret` into one sealed share per custodian, any `threshold` of which reconstruct
/// it; sealed with [`KdfParams::RECOMMENDED`].
///
/// `custodians` are `(custodian id, passphrase)` pairs; N = `custodians.len()`, and
/// 2 ≤ M = `threshold` ≤ N ≤ 255. Ids must be unique, passphrases at least
/// [`MIN_PASSPHRASE_LEN`] bytes, the secret [`MIN_SECRET_LEN`]..=[`MAX_SECRET_LEN`] bytes and
/// high-entropy (see [`random_secret`]). Share `i` goes to `custodians[i]`.
pub fn split(
    secret: &[u8],
    threshold: u8,
    custodians: &[(&str, &[u8])],
) -> Result<Vec<SealedShare>> {
    split_with(secret, threshold, custodians, &KdfParams::RECOMMENDED)
}

/// As [`split`], with explicit Argon2id parameters for sealing the shares.
pub fn split_with(
    secret: &[u8],
    threshold: u8,
    custodians: &[(&str, &[u8])],
    params: &KdfParams,
) -> Result<Vec<SealedShare>> {
    let total = u8::try_from(custodians.len())
        .map_err(|_| Error::Quorum("at most 255 custodians".into()))?;
    if threshold < 2 {
        return Err(Error::Quorum(format!(
            "threshold {threshold}: at least 2 custodians must be needed"
        )));
    }
    if threshold > total {
        return Err(Error::Quorum(format!(
            "threshold {threshold} exceeds the {total} custodians"
        )));
    }
    if secret.len() < MIN_SECRET_LEN || secret.len() > MAX_SECRET_LEN {
        return Err(Error::Quorum(format!(
            "the secret must be {MIN_SECRET_LEN}..={MAX_SECRET_LEN} bytes"
        )));
    }
    for (i, (id, passphrase)) in custodians.iter().enumerate() {
        check_custodian_id(id)?;
        if custodians.iter().take(i).any(|(other, _)| other == id) {
            return Err(Error::Quorum(format!("custodian {id:?} appears twice")));
        }
        if passphrase.len() < MIN_PASSPHRASE_LEN {
            return Err(Error::Quorum(format!(
                "custodian {id:?}: passphrase shorter than {MIN_PASSPHRASE_LEN} bytes"
            )));
        }
    }
    let mut set_id = [0u8; SET_ID_LEN];
    softstore::random_bytes(&mut set_id)?;
    let commitment = commitment(&set_id, secret);
    let sharks = Sharks(threshold);
    let shares: Vec<Share> = sharks.dealer(secret).take(custodians.len()).collect();
    if shares.len() != custodians.len() {
        return Err(Error::Quorum("the dealer produced too few shares".into()));
    }
    let mut sealed = Vec::with_capacity(custodians.len());
    for (share, (id, passphrase)) in shares.iter().zip(custodians) {
        let bytes = Zeroizing::new(Vec::<u8>::from(share));
        let index = *bytes
            .first()
            .ok_or_else(|| Error::Quorum("empty share".into()))?;
        let aad = share_aad(id, index, threshold, total, &set_id, &commitment);
        let (kdf, cipher) = softstore::seal(passphrase, params, &aad, &bytes)?;
        sealed.push(SealedShare {
            format: SHARE_FORMAT.into(),
            version: SHARE_FORMAT_VERSION,
            custodian: (*id).to_owned(),
            index,
            threshold,
            total,
            set_id,
            commitment,
            kdf,
            cipher,
        });
    }
    Ok(sealed)
}

/// Reconstructs the secret from custodians' shares and passphrases.
///
/// Checks, in this order and before any passphrase is tried (so no Argon2 work is wasted):
/// every share's format and metadata; that all shares come from one split (same set id, M, N
/// and commitment; otherwise [`Error::Quorum`]); that no two custodians claim one share
/// index; and that at least M *distinct* custodians are present — several copies of one
/// custodian's share count once ([`Error::NotEnoughShares`]). Then every distinct share is
/// opened (a wrong passphrase gives [`Error::WrongSecret`] with the custodian id), the secret
/// is interpolated and compared with the commitment ([`Error::Quorum`] if it differs).
pub fn combine(shares: &[(SealedShare, &[u8])]) -> Result<Zeroizing<Vec<u8>>> {
    let Some((first, _)) = shares.first() else {
        return Err(Error::Quorum("no shares presented".into()));
    };
    for (share, _) in shares {
        share.check_metadata()?;
        if share.set_id != first.set_id {
            return Err(Error::Quorum(format!(
                "the shares of {} and {} come from different splits",
                first.custodian, share.custodian
            )));
        }
        if share.threshold != first.threshold
            || share.total != first.total
            || share.commitment != first.commitment
        {
            return Err(Error::Quorum(format!(
                "the shares of {} and {} disagree on the split parameters",
                first.custodian, share.custodian
            )));
        }
    }
    // One entry per custodian, in presentation order.
    let mut distinct: Vec<&(SealedShare, &[u8])> = Vec::new();
    let mut by_custodian: HashMap<&str, u8> = HashMap::new();
    let mut by_index: HashMap<u8, &str> = HashMap::new();
    for entry in shares {
        let share = &entry.0;
        match by_custodian.get(share.custodian.as_str()) {
            Some(index) if *index == share.index => continue,
            Some(_) => {
                return Err(Error::Quorum(format!(
                    "custodian {} presented two different shares",
                    share.custodian
                )))
            }
            None => {}
        }
        if let Some(other) = by_index.get(&share.index) {
            return Err(Error::Quorum(format!(
                "custodians {other} and {} both claim share index {}",
                share.custodian, share.index
            )));
        }
        by_custodian.insert(&share.custodian, share.index);
        by_index.insert(share.index, &share.custodian);
        distinct.push(entry);
    }
    let need = usize::from(first.threshold);
    if distinct.len() < need {
        return Err(Error::NotEnoughShares {
            have: distinct.len(),
            need,
        });
    }
    let mut opened: Vec<Share> = Vec::with_capacity(distinct.len());
    let mut secret_len: Option<usize> = None;
    for (share, passphrase) in distinct {
        let bytes = share.open(passphrase)?;
        let len = bytes.len();
        if *secret_len.get_or_insert(len) != len {
            return Err(Error::Quorum(format!(
                "the share of {} has a different length",
                share.custodian
            )));
        }
        let parsed = Share::try_from(bytes.as_slice())
            .map_err(|e| Error::Quorum(format!("share of {}: {e}", share.custodian)))?;
        opened.push(parsed);
    }
    let secret = Zeroizing::new(
        Sharks(first.threshold)
            .recover(&opened)
            .map_err(|e| Error::Quorum(format!("reconstruction failed: {e}")))?,
    );
    let check = commitment(&first.set_id, &secret);
    if !softstore::ct_eq(&check, &first.commitment) {
        return Err(Error::Quorum(
            "the reconstructed secret does not match the commitment (a share was altered)".into(),
        ));
    }
    Ok(secret)
}

/// A fresh random secret of [`RANDOM_SECRET_LEN`] ASCII letters and digits from the OS CSPRNG
/// (≈190 bits), suitable as a PKCS#11 user PIN or keystore secret to split among custodians.
pub fn random_secret() -> Result<Zeroizing<Vec<u8>>> {
    random_secret_len(RANDOM_SECRET_LEN)
}

/// As [`random_secret`] with `len` characters (16..=255; PKCS#11 tokens bound PIN length).
pub fn random_secret_len(len: usize) -> Result<Zeroizing<Vec<u8>>> {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    if !(MIN_SECRET_LEN..=255).contains(&len) {
        return Err(Error::Quorum(format!(
            "a random secret must be {MIN_SECRET_LEN}..=255 characters"
        )));
    }
    let mut out = Zeroizing::new(Vec::with_capacity(len));
    let mut pool = Zeroizing::new([0u8; 64]);
    while out.len() < len {
        softstore::random_bytes(pool.as_mut())?;
        for &b in pool.iter() {
            // 248 = 4 × 62: rejection sampling keeps every character equally likely.
            if b < 248 && out.len() < len {
                if let Some(&c) = ALPHABET.get(usize::from(b % 62)) {
                    out.push(c);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;

    /// A share whose content was altered by someone able to re-seal it (who knows the
    /// custodian's passphrase) still cannot make `combine` return a wrong secret: the
    /// reconstruction is checked against the commitment.
    #[test]
    fn resealed_altered_share_fails_the_commitment() {
        let params = KdfParams::new(1024, 1, 1).unwrap();
        let custodians: [(&str, &[u8]); 3] = [
            ("a", b"passphrase a"),
            ("b", b"passphrase b"),
            ("c", b"passphrase c"),
        ];
        let secret = random_secret().unwrap();
        let mut shares = split_with(&secret, 2, &custodians, &params).unwrap();
        let victim = &shares[1];
        let mut bytes = victim.open(custodians[1].1).unwrap();
        bytes[5] ^= 0x01;
        let (kdf, cipher) =
            softstore::seal(custodians[1].1, &params, &victim.aad(), &bytes).unwrap();
        shares[1].kdf = kdf;
        shares[1].cipher = cipher;
        let presented: Vec<(SealedShare, &[u8])> = vec![
            (shares[0].clone(), custodians[0].1),
            (shares[1].clone(), custodians[1].1),
        ];
        match combine(&presented) {
            Err(Error::Quorum(msg)) => assert!(msg.contains("commitment"), "{msg}"),
            other => panic!("expected a commitment mismatch, got {other:?}"),
        }
        // The untouched pair still works.
        let presented: Vec<(SealedShare, &[u8])> = vec![
            (shares[0].clone(), custodians[0].1),
            (shares[2].clone(), custodians[2].1),
        ];
        assert_eq!(combine(&presented).unwrap().as_slice(), secret.as_slice());
    }
}
