//! DS keys generated and used inside a keystore: a PKCS#11 token (production) or the encrypted
//! file keystore (**development and tests only**). Keys are generated where they are used and
//! never exported: this module has no way to read a private key out.

use std::path::PathBuf;

use custody::pkcs11::Pkcs11Token;
use custody::softstore::{KdfParams, SoftKeystore};
use custody::uri::KeyUri;
use mso::crypto::{Algorithm, Signer};
use zeroize::Zeroizing;

use super::error::{DsError, Result};

/// Longest file-keystore key label, in bytes.
const MAX_FILE_LABEL_LEN: usize = 64;

/// Where DS keys are generated. Secrets are held in zeroizing buffers and never printed.
pub enum KeystoreConfig {
    /// **DEVELOPMENT AND TEST ONLY**: the encrypted software keystore of
    /// [`custody::softstore`], one file `<dir>/<label>.key` per key, sealed under `secret`.
    /// A software key lives in process memory while in use; production DS keys belong in an
    /// HSM ([`KeystoreConfig::Pkcs11`]).
    DevFile {
        /// Directory holding the key files.
        dir: PathBuf,
        /// The keystore secret (must not be empty).
        secret: Zeroizing<Vec<u8>>,
        /// Argon2id cost (use [`KdfParams::RECOMMENDED`] outside tests).
        kdf: KdfParams,
    },
    /// A PKCS#11 token (an HSM; SoftHSM2 in tests): keys are generated inside it as
    /// sensitive, non-extractable objects.
    Pkcs11 {
        /// The PKCS#11 module (shared library).
        module: PathBuf,
        /// The token label.
        token: String,
        /// The user PIN.
        pin: Zeroizing<Vec<u8>>,
    },
}

impl core::fmt::Debug for KeystoreConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            KeystoreConfig::DevFile { dir, .. } => f
                .debug_struct("DevFile")
                .field("dir", dir)
                .field("secret", &"<redacted>")
                .finish_non_exhaustive(),
            KeystoreConfig::Pkcs11 { module, token, .. } => f
                .debug_struct("Pkcs11")
                .field("module", module)
                .field("token", token)
                .field("pin", &"<redacted>")
                .finish(),
        }
    }
}

/// An opened keystore for DS keys (a PKCS#11 token is logged in once and kept active).
pub enum DsKeys {
    /// **DEVELOPMENT AND TEST ONLY** file keystore.
    DevFile {
        /// Directory holding the key files.
        dir: PathBuf,
        /// The keystore secret.
        secret: Zeroizing<Vec<u8>>,
        /// Argon2id cost for new keys.
        kdf: KdfParams,
    },
    /// An activated PKCS#11 token.
    Pkcs11(Pkcs11Token),
}

impl core::fmt::Debug for DsKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DsKeys::DevFile { dir, .. } => f
                .debug_struct("DevFile")
                .field("dir", dir)
                .field("secret", &"<redacted>")
                .finish_non_exhaustive(),
            DsKeys::Pkcs11(token) => f.debug_tuple("Pkcs11").field(token).finish(),
        }
    }
}

/// A freshly generated DS key: its URI (what the inventory records) and a signer for it.
pub struct GeneratedKey {
    /// Where the key lives.
    pub uri: KeyUri,
    /// Signs with the key inside its keystore.
    pub signer: Box<dyn Signer>,
}

impl core::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("uri", &self.uri.to_string())
            .field("algorithm", &self.signer.algorithm())
            .finish_non_exhaustive()
    }
}

fn check_file_label(label: &str) -> Result<()> {
    let bad = |reason| DsError::InvalidLabel {
        label: label.to_owned(),
        reason,
    };
    if label.is_empty() || label.len() > MAX_FILE_LABEL_LEN {
        return Err(bad("must be 1 to 64 bytes"));
    }
    if label.starts_with('.') {
        return Err(bad("must not start with '.'"));
    }
    if !label
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(bad(
            "only ASCII letters, digits, '.', '_' and '-' are allowed",
        ));
    }
    Ok(())
}

impl DsKeys {
    /// Opens the keystore `config` names; for PKCS#11 this loads the module and logs in to the
    /// token (a token can be active once per process, so keep the returned value).
    pub fn open(config: KeystoreConfig) -> Result<Self> {
        match config {
            KeystoreConfig::DevFile { dir, secret, kdf } => {
                if secret.is_empty() {
                    return Err(DsError::Keystore(custody::Error::Keystore(
                        "the keystore secret must not be empty".into(),
                    )));
                }
                Ok(DsKeys::DevFile { dir, secret, kdf })
            }
            KeystoreConfig::Pkcs11 { module, token, pin } => {
                Ok(DsKeys::Pkcs11(Pkcs11Token::activate(module, &token, &pin)?))
            }
        }
    }

    /// One-shot form of [`DsKeys::open`] then [`DsKeys::generate`].
    pub fn generate_in(
        config: KeystoreConfig,
        label: &str,
        alg: Algorithm,
    ) -> Result<GeneratedKey> {
        Self::open(config)?.generate(label, alg)
    }

    /// Whether this keystore is the development-only file keystore.
    pub fn is_dev_only(&self) -> bool {
        matches!(self, DsKeys::DevFile { .. })
    }

    /// Generates a new DS key labelled `label` for `alg` inside the keystore. Refuses a label
    /// that already exists (nothing is overwritten); PKCS#11 tokens support the ECDSA
    /// algorithms only.
    pub fn generate(&self, label: &str, alg: Algorithm) -> Result<GeneratedKey> {
        match self {
            DsKeys::DevFile { dir, secret, kdf } => {
                check_file_label(label)?;
                let path = dir.join(format!("{label}.key"));
                let key = SoftKeystore::generate_with(&path, alg, secret, kdf)?;
                Ok(GeneratedKey {
                    uri: KeyUri::file(path),
                    signer: Box::new(key),
                })
            }
            DsKeys::Pkcs11(token) => {
                let key = token.generate(label, alg)?;
                Ok(GeneratedKey {
                    uri: key.uri(),
                    signer: Box::new(key),
                })
            }
        }
    }

    /// Opens the existing key `uri` names (a `file:` URI for the file keystore, a `pkcs11:`
    /// URI of this token otherwise).
    pub fn open_key(&self, uri: &KeyUri) -> Result<Box<dyn Signer>> {
        match self {
            // The decrypted key is handed to the platform's fast backend (aws-lc on the server).
            DsKeys::DevFile { secret, .. } => Ok(Box::new(
                mso::crypto::default_signer(&SoftKeystore::open_uri(uri, secret)?)
                    .map_err(DsError::Signer)?,
            )),
            DsKeys::Pkcs11(token) => Ok(Box::new(token.open_uri(uri)?)),
        }
    }
}
