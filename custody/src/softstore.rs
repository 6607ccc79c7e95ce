//! The encrypted software keystore — **DEVELOPMENT AND TEST ONLY**.
//!
//! The CPS requires the root and Document Signer keys to be generated and used inside an HSM
//! (§6.1.1, §6.2.1); this keystore exists so that developers, CI and demos can run the same
//! code paths without one. A key file is marked `"dev_only": true` and must never hold a
//! production key. Production configuration names `pkcs11:` keys instead (see
//! [`crate::pkcs11`]).
//!
//! One JSON file per key (named by a `file:` [`KeyUri`]) holds:
//!
//! ```json
//! {
//!   "format": "mdoc-custody-softkey",
//!   "version": 1,
//!   "dev_only": true,
//!   "warning": "DEVELOPMENT/TEST ONLY ...",
//!   "algorithm": "ES256",
//!   "kdf": { "alg": "argon2id", "version": 19, "m_cost_kib": 65536, "t_cost": 3,
//!            "p_cost": 1, "salt": "<base64>" },
//!   "cipher": { "alg": "A256GCM", "nonce": "<base64>", "check": "<base64>",
//!               "ciphertext": "<base64 of AES-256-GCM(PKCS#8 DER)>" }
//! }
//! ```
//!
//! The secret is stretched with Argon2id into 64 bytes: the first 32 are the AES-256-GCM key,
//! a SHA-256 of the last 32 is stored as a public *check value*, so that a wrong secret
//! ([`Error::WrongSecret`]) can be told apart from a damaged ciphertext ([`Error::Keystore`]).
//! The header fields (format, version, algorithm, KDF parameters) are bound to the ciphertext as
//! AES-GCM associated data. A damaged KDF field (salt or cost) changes the derived key and so
//! shows as a wrong secret.
//!
//! Files are written atomically (a temporary file in the same directory, `fsync`, then a
//! no-clobber hard link or rename into place) with permissions `0600`, and an existing key is
//! never overwritten ([`Error::KeyExists`]).
//!
//! The same sealing construction protects the custodians' shares in [`crate::quorum`].

use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::Aes256Gcm;

/// The AES-256-GCM nonce type.
type Nonce = aes_gcm::aead::Nonce<Aes256Gcm>;
use mso::crypto::{Algorithm, Signer as _, SoftwareKey};
use rand_core::{OsRng, RngCore as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::uri::KeyUri;

/// The `format` value of a keystore file.
pub const FORMAT: &str = "mdoc-custody-softkey";

/// The keystore file format version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Largest keystore or share file read, in bytes.
pub(crate) const MAX_FILE_LEN: u64 = 64 * 1024;

const WARNING: &str = "DEVELOPMENT/TEST ONLY: a software key. Production root and Document \
                       Signer keys are generated and used inside an HSM (pkcs11: key URIs).";

const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const CHECK_LEN: usize = 32;
const MAX_CIPHERTEXT_LEN: usize = 16 * 1024;
const ARGON2_VERSION: u32 = 0x13;

/// Argon2id cost parameters for sealing a key file or a custodian share.
///
/// [`KdfParams::default`] is [`KdfParams::RECOMMENDED`]. Parameters read back from a file are
/// bounded by [`KdfParams::MAX_M_COST_KIB`], [`KdfParams::MAX_T_COST`] and
/// [`KdfParams::MAX_P_COST`] so a hostile file cannot make opening it exhaust memory or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
}

impl KdfParams {
    /// 64 MiB, 3 passes, 1 lane (RFC 9106 §4's second recommended option, single lane).
    pub const RECOMMENDED: KdfParams = KdfParams {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };

    /// Largest memory cost accepted, in KiB (1 GiB).
    pub const MAX_M_COST_KIB: u32 = 1024 * 1024;
    /// Largest number of passes accepted.
    pub const MAX_T_COST: u32 = 16;
    /// Largest number of lanes accepted.
    pub const MAX_P_COST: u32 = 16;

    /// Custom parameters: memory in KiB, passes, lanes. Values weaker than
    /// [`KdfParams::RECOMMENDED`] are accepted (tests use them to run fast) but should not be
    /// used for anything that matters.
    pub fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self> {
        let params = KdfParams {
            m_cost_kib,
            t_cost,
            p_cost,
        };
        params.check().map_err(Error::Keystore)?;
        Ok(params)
    }

    /// Memory cost in KiB.
    pub fn m_cost_kib(&self) -> u32 {
        self.m_cost_kib
    }

    /// Number of passes.
    pub fn t_cost(&self) -> u32 {
        self.t_cost
    }

    /// Number of lanes.
    pub fn p_cost(&self) -> u32 {
        self.p_cost
    }

    fn check(&self) -> core::result::Result<(), String> {
        if self.m_cost_kib > Self::MAX_M_COST_KIB
            || self.t_cost > Self::MAX_T_COST
            || self.p_cost > Self::MAX_P_COST
        {
            return Err(format!(
                "Argon2 parameters m={} KiB t={} p={} exceed the limits m<={} t<={} p<={}",
                self.m_cost_kib,
                self.t_cost,
                self.p_cost,
                Self::MAX_M_COST_KIB,
                Self::MAX_T_COST,
                Self::MAX_P_COST
            ));
        }
        self.argon2_params().map(|_| ())
    }

    fn argon2_params(&self) -> core::result::Result<argon2::Params, String> {
        argon2::Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(64))
            .map_err(|e| format!("invalid Argon2 parameters: {e}"))
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::RECOMMENDED
    }
}

/// Base64 (standard alphabet, padded) for byte fields in JSON.
pub(crate) mod b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes bytes as base64 text.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// Reads base64 text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// The KDF record of a sealed object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KdfRecord {
    alg: String,
    version: u32,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    #[serde(with = "b64")]
    salt: Vec<u8>,
}

impl KdfRecord {
    /// A short canonical text of the record, for associated data.
    pub(crate) fn canonical(&self) -> String {
        format!(
            "{};v={};m={};t={};p={};salt={}",
            self.alg,
            self.version,
            self.m_cost_kib,
            self.t_cost,
            self.p_cost,
            hex::encode(&self.salt)
        )
    }

    fn params(&self) -> core::result::Result<KdfParams, String> {
        if self.alg != "argon2id" {
            return Err(format!("KDF {:?} is not argon2id", self.alg));
        }
        if self.version != ARGON2_VERSION {
            return Err(format!("Argon2 version {} is not 19", self.version));
        }
        if self.salt.len() != SALT_LEN {
            return Err(format!("salt must be {SALT_LEN} bytes"));
        }
        let params = KdfParams {
            m_cost_kib: self.m_cost_kib,
            t_cost: self.t_cost,
            p_cost: self.p_cost,
        };
        params.check()?;
        Ok(params)
    }
}

/// The cipher record of a sealed object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CipherRecord {
    alg: String,
    #[serde(with = "b64")]
    nonce: Vec<u8>,
    #[serde(with = "b64")]
    check: Vec<u8>,
    #[serde(with = "b64")]
    ciphertext: Vec<u8>,
}

/// Why unsealing failed.
pub(crate) enum UnsealError {
    /// The secret does not derive the stored check value.
    WrongSecret,
    /// The record is malformed or the ciphertext/associated data were altered.
    Corrupt(String),
}

/// Fills `buf` from the OS CSPRNG.
pub(crate) fn random_bytes(buf: &mut [u8]) -> Result<()> {
    OsRng
        .try_fill_bytes(buf)
        .map_err(|e| Error::Keystore(format!("OS random source: {e}")))
}

/// Argon2id(secret, salt) → 64 bytes: the first 32 are the AES-256-GCM key, the last 32 are
/// hashed into the public check value (independent halves of one Argon2 output).
fn derive(
    secret: &[u8],
    salt: &[u8],
    params: &KdfParams,
) -> core::result::Result<(Zeroizing<[u8; 32]>, [u8; CHECK_LEN]), String> {
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params.argon2_params()?,
    );
    let mut out = Zeroizing::new([0u8; 64]);
    argon
        .hash_password_into(secret, salt, out.as_mut())
        .map_err(|e| format!("Argon2id: {e}"))?;
    let (key_half, check_half) = out.split_at(32);
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(key_half);
    let mut h = Sha256::new();
    h.update(b"mdoc-custody/v1/check-value\0");
    h.update(check_half);
    let check: [u8; CHECK_LEN] = h.finalize().into();
    Ok((key, check))
}

/// Compares without an early exit.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Seals `plaintext` under `secret`. `aad` binds the caller's header; it gets the KDF record
/// appended, so the header, the KDF and the ciphertext stand or fall together.
pub(crate) fn seal(
    secret: &[u8],
    params: &KdfParams,
    aad: &str,
    plaintext: &[u8],
) -> Result<(KdfRecord, CipherRecord)> {
    params.check().map_err(Error::Keystore)?;
    let mut salt = [0u8; SALT_LEN];
    random_bytes(&mut salt)?;
    let mut nonce = [0u8; NONCE_LEN];
    random_bytes(&mut nonce)?;
    let kdf = KdfRecord {
        alg: "argon2id".into(),
        version: ARGON2_VERSION,
        m_cost_kib: params.m_cost_kib,
        t_cost: params.t_cost,
        p_cost: params.p_cost,
        salt: salt.to_vec(),
    };
    let (key, check) = derive(secret, &salt, params).map_err(Error::Keystore)?;
    let cipher = Aes256Gcm::new_from_slice(key.as_ref())
        .map_err(|_| Error::Keystore("AES-256-GCM key".into()))?;
    let full_aad = format!("{aad}|{}", kdf.canonical());
    let ciphertext = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: full_aad.as_bytes(),
            },
        )
        .map_err(|_| Error::Keystore("AES-256-GCM encryption failed".into()))?;
    Ok((
        kdf,
        CipherRecord {
            alg: "A256GCM".into(),
            nonce: nonce.to_vec(),
            check: check.to_vec(),
            ciphertext,
        },
    ))
}

/// Opens what [`seal`] produced.
pub(crate) fn unseal(
    secret: &[u8],
    aad: &str,
    kdf: &KdfRecord,
    cipher_rec: &CipherRecord,
) -> core::result::Result<Zeroizing<Vec<u8>>, UnsealError> {
    let params = kdf.params().map_err(UnsealError::Corrupt)?;
    if cipher_rec.alg != "A256GCM" {
        return Err(UnsealError::Corrupt(format!(
            "cipher {:?} is not A256GCM",
            cipher_rec.alg
        )));
    }
    let nonce: [u8; NONCE_LEN] = cipher_rec
        .nonce
        .as_slice()
        .try_into()
        .map_err(|_| UnsealError::Corrupt(format!("nonce must be {NONCE_LEN} bytes")))?;
    if cipher_rec.check.len() != CHECK_LEN {
        return Err(UnsealError::Corrupt(format!(
            "check value must be {CHECK_LEN} bytes"
        )));
    }
    if cipher_rec.ciphertext.len() > MAX_CIPHERTEXT_LEN {
        return Err(UnsealError::Corrupt("ciphertext too long".into()));
    }
    let (key, check) = derive(secret, &kdf.salt, &params).map_err(UnsealError::Corrupt)?;
    if !ct_eq(&check, &cipher_rec.check) {
        return Err(UnsealError::WrongSecret);
    }
    let cipher = Aes256Gcm::new_from_slice(key.as_ref())
        .map_err(|_| UnsealError::Corrupt("AES-256-GCM key".into()))?;
    let full_aad = format!("{aad}|{}", kdf.canonical());
    cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &cipher_rec.ciphertext,
                aad: full_aad.as_bytes(),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| {
            UnsealError::Corrupt(
                "authentication failed: the ciphertext or its header was altered".into(),
            )
        })
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads a small file, refusing anything longer than [`MAX_FILE_LEN`].
pub(crate) fn read_small_file(path: &Path) -> Result<Vec<u8>> {
    let file = fs::File::open(path).map_err(io_err(path))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err(path))?;
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(Error::Keystore(format!(
            "{} is larger than {MAX_FILE_LEN} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Writes a new file atomically with mode 0600; never replaces an existing file
/// ([`Error::KeyExists`]).
pub(crate) fn write_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::Keystore(format!("{} has no file name", path.display())))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut rnd = [0u8; 8];
    random_bytes(&mut rnd)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        hex::encode(rnd)
    ));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io_err(&tmp))?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(&tmp)(e));
    }
    // A hard link never replaces an existing file, so two writers cannot clobber each other.
    let placed = match fs::hard_link(&tmp, path) {
        Ok(()) => {
            let _ = fs::remove_file(&tmp);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let _ = fs::remove_file(&tmp);
            Err(Error::KeyExists(path.display().to_string()))
        }
        Err(_) => {
            // File systems without hard links: check, then rename (not race-free).
            if path.exists() {
                let _ = fs::remove_file(&tmp);
                Err(Error::KeyExists(path.display().to_string()))
            } else {
                fs::rename(&tmp, path).map_err(|e| {
                    let _ = fs::remove_file(&tmp);
                    io_err(path)(e)
                })
            }
        }
    };
    placed?;
    #[cfg(unix)]
    {
        // Make the new directory entry durable.
        fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(&dir))?;
    }
    Ok(())
}

fn algorithm_from_name(name: &str) -> Option<Algorithm> {
    [
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::Es512,
        Algorithm::EdDsa,
    ]
    .into_iter()
    .find(|a| a.name() == name)
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    format: String,
    version: u32,
    dev_only: bool,
    warning: String,
    algorithm: String,
    kdf: KdfRecord,
    cipher: CipherRecord,
}

fn key_aad(algorithm: &str) -> String {
    format!("{FORMAT}|v={FORMAT_VERSION}|dev_only=true|alg={algorithm}")
}

/// The development/test software keystore: one encrypted JSON file per key.
///
/// **DEVELOPMENT AND TEST ONLY** — see the [module documentation](self).
#[derive(Debug, Clone, Copy, Default)]
pub struct SoftKeystore;

impl SoftKeystore {
    /// Generates a fresh key for `alg`, seals it under `secret` with
    /// [`KdfParams::RECOMMENDED`] and writes it to a new file at `path`.
    ///
    /// Fails with [`Error::KeyExists`] if `path` exists (nothing is overwritten).
    pub fn generate(path: impl AsRef<Path>, alg: Algorithm, secret: &[u8]) -> Result<SoftwareKey> {
        Self::generate_with(path, alg, secret, &KdfParams::RECOMMENDED)
    }

    /// As [`SoftKeystore::generate`], with explicit Argon2id parameters.
    pub fn generate_with(
        path: impl AsRef<Path>,
        alg: Algorithm,
        secret: &[u8],
        params: &KdfParams,
    ) -> Result<SoftwareKey> {
        let path = path.as_ref();
        if secret.is_empty() {
            return Err(Error::Keystore(
                "the keystore secret must not be empty".into(),
            ));
        }
        // Cheap early refusal; write_new_file is the race-free check.
        if fs::symlink_metadata(path).is_ok() {
            return Err(Error::KeyExists(path.display().to_string()));
        }
        let key = SoftwareKey::generate(alg);
        let der = key.to_pkcs8_der()?;
        let (kdf, cipher) = seal(secret, params, &key_aad(alg.name()), &der)?;
        let file = KeyFile {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            dev_only: true,
            warning: WARNING.into(),
            algorithm: alg.name().into(),
            kdf,
            cipher,
        };
        let mut json = serde_json::to_vec_pretty(&file)
            .map_err(|e| Error::Keystore(format!("encoding the key file: {e}")))?;
        json.push(b'\n');
        write_new_file(path, &json)?;
        Ok(key)
    }

    /// Opens the key at `path` with `secret`.
    ///
    /// A wrong secret gives [`Error::WrongSecret`] (naming the file); a damaged or foreign file
    /// gives [`Error::Keystore`].
    pub fn open(path: impl AsRef<Path>, secret: &[u8]) -> Result<SoftwareKey> {
        let path = path.as_ref();
        let bytes = read_small_file(path)?;
        let shown = path.display().to_string();
        let corrupt = |reason: String| Error::Keystore(format!("{shown}: {reason}"));
        let file: KeyFile = serde_json::from_slice(&bytes)
            .map_err(|e| corrupt(format!("not a keystore file: {e}")))?;
        if file.format != FORMAT {
            return Err(corrupt(format!(
                "format {:?} is not {FORMAT:?}",
                file.format
            )));
        }
        if file.version != FORMAT_VERSION {
            return Err(corrupt(format!(
                "format version {} is not {FORMAT_VERSION}",
                file.version
            )));
        }
        if !file.dev_only {
            return Err(corrupt("dev_only must be true".into()));
        }
        let alg = algorithm_from_name(&file.algorithm)
            .ok_or_else(|| corrupt(format!("unknown algorithm {:?}", file.algorithm)))?;
        let der =
            unseal(secret, &key_aad(alg.name()), &file.kdf, &file.cipher).map_err(|e| match e {
                UnsealError::WrongSecret => Error::WrongSecret(shown.clone()),
                UnsealError::Corrupt(reason) => corrupt(reason),
            })?;
        let key =
            SoftwareKey::from_pkcs8_der(&der).map_err(|e| corrupt(format!("sealed key: {e}")))?;
        if key.algorithm() != alg {
            return Err(corrupt(format!(
                "the sealed key is {}, the header says {alg}",
                key.algorithm()
            )));
        }
        Ok(key)
    }

    /// Opens the key a `file:` URI names.
    pub fn open_uri(uri: &KeyUri, secret: &[u8]) -> Result<SoftwareKey> {
        match uri {
            KeyUri::File { path } => Self::open(path, secret),
            other => Err(Error::InvalidUri {
                uri: other.to_string(),
                reason: "the software keystore opens file: URIs only".into(),
            }),
        }
    }
}
