//! Keys generated and used inside a PKCS#11 token (an HSM; SoftHSM2 in tests and development).
//!
//! A [`Pkcs11Token`] is *activated* by logging in with the user PIN — in production the PIN
//! reconstructed by [`crate::quorum::combine`] from several custodians' shares (CPS §6.2.8) —
//! and *deactivated* by [`Pkcs11Token::logout`], [`Pkcs11Token::close`] or by dropping it
//! (§6.2.9). Keys are EC key pairs generated inside the token ([`Pkcs11Token::generate`]) with
//! `CKA_SENSITIVE=true`, `CKA_EXTRACTABLE=false`: the private key never leaves the token
//! (§6.1.2, §6.2.3–6.2.6). A [`Pkcs11Key`] is an [`mso::crypto::Signer`]: the message is
//! hashed on the host (SHA-256/384/512 per algorithm) and the digest signed with `CKM_ECDSA`
//! inside the token; every signature is verified against the key's public key before it is
//! returned, so a faulty token or a mismatched public object cannot produce a bad signature.
//!
//! Keys are named by `pkcs11:token=…;object=…` URIs ([`crate::uri::KeyUri`]); the object
//! label is the `CKA_LABEL` of both the private and the public key object.
//!
//! Within one process a module is loaded and initialised once and kept loaded; a token can be
//! active only once at a time (PKCS#11 login state is per application and token, so a second
//! login would silently share — and a logout end — the first). Share one [`Pkcs11Token`]
//! (it is `Send + Sync`) instead.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{
    Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::RawAuthPin;
use mso::crypto::{Algorithm, Curve, PublicKey, Signer, SoftwareVerifier, Verifier as _};
use sha2::Digest as _;

use crate::error::{Error, Result};
use crate::uri::KeyUri;

/// Where Debian, Ubuntu, Fedora and source builds put SoftHSM2's PKCS#11 module.
pub const SOFTHSM2_MODULE_PATHS: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/arm-linux-gnueabihf/softhsm/libsofthsm2.so",
    "/usr/lib64/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/lib/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];

/// SoftHSM2's module: `$SOFTHSM2_MODULE` if set and present, else the first of
/// [`SOFTHSM2_MODULE_PATHS`] that exists. `None` when SoftHSM2 is not installed
/// (`scripts/softhsm.sh` installs it).
pub fn find_softhsm2_module() -> Option<PathBuf> {
    std::env::var_os("SOFTHSM2_MODULE")
        .map(PathBuf::from)
        .into_iter()
        .chain(SOFTHSM2_MODULE_PATHS.iter().map(PathBuf::from))
        .find(|p| p.is_file())
}

/// Loaded and initialised modules, by canonical path. Never finalised: other code in the
/// process may share the module.
static MODULES: Mutex<Vec<(PathBuf, Pkcs11)>> = Mutex::new(Vec::new());

/// Tokens active in this process: (canonical module path, slot id).
static ACTIVE: Mutex<Vec<(PathBuf, u64)>> = Mutex::new(Vec::new());

fn ck(context: &str) -> impl FnOnce(CkError) -> Error + '_ {
    move |e| Error::Pkcs11(format!("{context}: {e}"))
}

fn module_context(module: &Path) -> Result<(PathBuf, Pkcs11)> {
    let canonical = std::fs::canonicalize(module).map_err(|e| {
        Error::Pkcs11(format!(
            "PKCS#11 module {}: {e} (for SoftHSM2 run scripts/softhsm.sh)",
            module.display()
        ))
    })?;
    let mut modules = MODULES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, ctx)) = modules.iter().find(|(p, _)| *p == canonical) {
        return Ok((canonical, ctx.clone()));
    }
    let shown = canonical.display().to_string();
    let ctx = Pkcs11::new(&canonical).map_err(ck(&format!("loading {shown}")))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(ck(&format!("initialising {shown}"))(e)),
    }
    modules.push((canonical.clone(), ctx.clone()));
    Ok((canonical, ctx))
}

/// Curve, `CKA_EC_PARAMS` (DER named-curve OID) and coordinate length for an algorithm.
fn curve_for(alg: Algorithm) -> Result<(Curve, &'static [u8], usize)> {
    match alg {
        // 1.2.840.10045.3.1.7
        Algorithm::Es256 => Ok((
            Curve::P256,
            &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07],
            32,
        )),
        // 1.3.132.0.34
        Algorithm::Es384 => Ok((Curve::P384, &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22], 48)),
        // 1.3.132.0.35
        Algorithm::Es512 => Ok((Curve::P521, &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23], 66)),
        Algorithm::EdDsa => Err(Error::Pkcs11(
            "EdDSA keys are not supported in PKCS#11 tokens (ES256, ES384, ES512 are)".into(),
        )),
    }
}

fn algorithm_for_params(params: &[u8]) -> Result<Algorithm> {
    [Algorithm::Es256, Algorithm::Es384, Algorithm::Es512]
        .into_iter()
        .find(|alg| curve_for(*alg).is_ok_and(|(_, der, _)| der == params))
        .ok_or_else(|| {
            Error::Pkcs11(format!(
                "unsupported CKA_EC_PARAMS {} (P-256, P-384 and P-521 named curves are)",
                hex::encode(params)
            ))
        })
}

/// `CKA_EC_POINT` is a DER OCTET STRING around the SEC1 point; some tokens return the bare
/// point.
fn decode_ec_point(raw: &[u8], coord_len: usize) -> Result<Vec<u8>> {
    use der::Decode as _;
    if raw.len() == 1 + 2 * coord_len && raw.first() == Some(&0x04) {
        return Ok(raw.to_vec());
    }
    der::asn1::OctetString::from_der(raw)
        .map(|os| os.as_bytes().to_vec())
        .map_err(|e| Error::Pkcs11(format!("CKA_EC_POINT is not a DER OCTET STRING: {e}")))
}

fn digest(alg: Algorithm, message: &[u8]) -> Vec<u8> {
    match alg {
        Algorithm::Es384 => sha2::Sha384::digest(message).to_vec(),
        Algorithm::Es512 => sha2::Sha512::digest(message).to_vec(),
        _ => sha2::Sha256::digest(message).to_vec(),
    }
}

struct State {
    /// `None` once deactivated.
    session: Option<Session>,
    /// Whether this token holds its entry in [`ACTIVE`].
    registered: bool,
}

struct TokenInner {
    module: PathBuf,
    label: String,
    slot: Slot,
    state: Mutex<State>,
}

impl TokenInner {
    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        self.state.lock().map_err(|_| {
            Error::Pkcs11(format!(
                "token {:?}: state lost after a panic; deactivate and activate again",
                self.label
            ))
        })
    }

    /// Logs out, closes the session, releases the token. Idempotent.
    fn deactivate(&self) -> Result<()> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let session = state.session.take();
        let registered = std::mem::replace(&mut state.registered, false);
        drop(state);
        let result = match session {
            None => Ok(()),
            Some(session) => {
                let logout = match session.logout() {
                    Ok(()) | Err(CkError::Pkcs11(RvError::UserNotLoggedIn, _)) => Ok(()),
                    Err(e) => Err(ck("logout")(e)),
                };
                let close = session.close().map_err(ck("closing the session"));
                logout.and(close)
            }
        };
        // Released only after the session is gone, and only by the token that registered.
        if registered {
            let mut active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
            active.retain(|(m, s)| !(*m == self.module && *s == self.slot.id()));
        }
        result
    }

    fn uri(&self, object: &str) -> String {
        KeyUri::Pkcs11 {
            token: self.label.clone(),
            object: object.to_owned(),
        }
        .to_string()
    }
}

fn session_of<'a>(state: &'a State, label: &str) -> Result<&'a Session> {
    state
        .session
        .as_ref()
        .ok_or_else(|| Error::Pkcs11(format!("token {label:?} has been deactivated")))
}

/// An activated PKCS#11 token: a logged-in user session on the token with a given label.
///
/// `Send + Sync`; the one session is guarded by a mutex. Dropping it logs out and closes the
/// session; the [`Pkcs11Key`]s taken from it stop working then.
pub struct Pkcs11Token {
    inner: Arc<TokenInner>,
}

impl core::fmt::Debug for Pkcs11Token {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pkcs11Token")
            .field("module", &self.inner.module)
            .field("label", &self.inner.label)
            .field("active", &self.is_active())
            .finish()
    }
}

/// Protection attributes of a private key object (CKA_* values as the token reports them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyProtection {
    /// `CKA_TOKEN`: a persistent token object.
    pub token: bool,
    /// `CKA_PRIVATE`: usable only after login.
    pub private: bool,
    /// `CKA_SENSITIVE`: the value can never be read in plaintext.
    pub sensitive: bool,
    /// `CKA_EXTRACTABLE`: could be wrapped out of the token.
    pub extractable: bool,
    /// `CKA_ALWAYS_SENSITIVE`: has been sensitive since it was created.
    pub always_sensitive: bool,
    /// `CKA_NEVER_EXTRACTABLE`: has never been extractable.
    pub never_extractable: bool,
    /// Whether reading `CKA_VALUE` (the private scalar) succeeded — it must not.
    pub value_readable: bool,
}

impl KeyProtection {
    /// True when the key was generated in the token and can never leave it.
    pub fn is_protected(&self) -> bool {
        self.token
            && self.private
            && self.sensitive
            && !self.extractable
            && self.always_sensitive
            && self.never_extractable
            && !self.value_readable
    }
}

fn read_protection(session: &Session, private: ObjectHandle) -> Result<KeyProtection> {
    let attrs = session
        .get_attributes(
            private,
            &[
                AttributeType::Token,
                AttributeType::Private,
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::AlwaysSensitive,
                AttributeType::NeverExtractable,
            ],
        )
        .map_err(ck("reading key attributes"))?;
    let mut p = KeyProtection {
        token: false,
        private: false,
        sensitive: false,
        extractable: true,
        always_sensitive: false,
        never_extractable: false,
        value_readable: true,
    };
    for attr in attrs {
        match attr {
            Attribute::Token(v) => p.token = v,
            Attribute::Private(v) => p.private = v,
            Attribute::Sensitive(v) => p.sensitive = v,
            Attribute::Extractable(v) => p.extractable = v,
            Attribute::AlwaysSensitive(v) => p.always_sensitive = v,
            Attribute::NeverExtractable(v) => p.never_extractable = v,
            _ => {}
        }
    }
    // Ask only for the size of CKA_VALUE: the value itself is never fetched into memory here.
    let info = session
        .get_attribute_info(private, &[AttributeType::Value])
        .map_err(ck("querying CKA_VALUE"))?;
    p.value_readable = matches!(info.first(), Some(AttributeInfo::Available(_)));
    Ok(p)
}

fn find(session: &Session, class: ObjectClass, label: &str) -> Result<Vec<ObjectHandle>> {
    session
        .find_objects(&[
            Attribute::Class(class),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .map_err(ck("finding objects"))
}

impl Pkcs11Token {
    /// Loads `module` (once per process), finds the token labelled `token_label` and logs in
    /// as the user with `user_pin` (copied only into a zeroizing buffer).
    ///
    /// Errors: [`Error::WrongSecret`] for an incorrect PIN, [`Error::Pkcs11`] for a missing
    /// module or token, a locked PIN, or a token already active in this process.
    pub fn activate(module: impl AsRef<Path>, token_label: &str, user_pin: &[u8]) -> Result<Self> {
        let (module, ctx) = module_context(module.as_ref())?;
        if user_pin.is_empty() {
            return Err(Error::Pkcs11("the user PIN is empty".into()));
        }
        let mut matches = Vec::new();
        for slot in ctx.get_slots_with_token().map_err(ck("listing slots"))? {
            let info = ctx.get_token_info(slot).map_err(ck("reading token info"))?;
            if info.label() == token_label {
                matches.push((slot, info));
            }
        }
        let (slot, info) = match matches.len() {
            0 => {
                return Err(Error::Pkcs11(format!(
                    "no token labelled {token_label:?} in {}",
                    module.display()
                )))
            }
            1 => matches
                .pop()
                .ok_or_else(|| Error::Pkcs11("token list changed".into()))?,
            n => {
                return Err(Error::Pkcs11(format!(
                    "{n} tokens are labelled {token_label:?}; labels must be unique"
                )))
            }
        };
        if !info.user_pin_initialized() {
            return Err(Error::Pkcs11(format!(
                "token {token_label:?} has no user PIN set"
            )));
        }
        if info.user_pin_locked() {
            return Err(Error::Pkcs11(format!(
                "the user PIN of token {token_label:?} is locked"
            )));
        }
        {
            let mut active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
            if active.iter().any(|(m, s)| *m == module && *s == slot.id()) {
                return Err(Error::Pkcs11(format!(
                    "token {token_label:?} is already active in this process; share its \
                     Pkcs11Token"
                )));
            }
            active.push((module.clone(), slot.id()));
        }
        let inner = Arc::new(TokenInner {
            module,
            label: token_label.to_owned(),
            slot,
            state: Mutex::new(State {
                session: None,
                registered: true,
            }),
        });
        // From here on, dropping `token` releases the registration.
        let token = Pkcs11Token {
            inner: Arc::clone(&inner),
        };
        let session = ctx.open_rw_session(slot).map_err(ck("opening a session"))?;
        let pin = RawAuthPin::new(Box::new(user_pin.to_vec()));
        match session.login_with_raw(UserType::User, &pin) {
            Ok(()) => {}
            Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
                return Err(Error::WrongSecret(format!(
                    "user PIN of token {token_label}"
                )))
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => {
                return Err(Error::Pkcs11(format!(
                    "the user PIN of token {token_label:?} is locked"
                )))
            }
            Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
                return Err(Error::Pkcs11(format!(
                    "token {token_label:?} is already logged in by other code in this process"
                )))
            }
            Err(e) => return Err(ck("login")(e)),
        }
        drop(pin);
        inner.lock()?.session = Some(session);
        Ok(token)
    }

    /// The token label.
    pub fn label(&self) -> &str {
        &self.inner.label
    }

    /// The canonical path of the PKCS#11 module.
    pub fn module(&self) -> &Path {
        &self.inner.module
    }

    /// Whether the token is still activated (logged in).
    pub fn is_active(&self) -> bool {
        self.inner
            .state
            .lock()
            .map(|s| s.session.is_some())
            .unwrap_or(false)
    }

    /// Generates an EC key pair inside the token, labelled `object`: P-256 for ES256, P-384
    /// for ES384, P-521 for ES512. The private key is a token object with `CKA_PRIVATE`,
    /// `CKA_SENSITIVE`, `CKA_SIGN` true and `CKA_EXTRACTABLE`, `CKA_DERIVE` false.
    ///
    /// Refuses ([`Error::KeyExists`]) if any object already carries the label.
    pub fn generate(&self, object: &str, alg: Algorithm) -> Result<Pkcs11Key> {
        let uri = KeyUri::pkcs11(&self.inner.label, object)?.to_string();
        let (_, ec_params, _) = curve_for(alg)?;
        let state = self.inner.lock()?;
        let session = session_of(&state, &self.inner.label)?;
        let existing = session
            .find_objects(&[Attribute::Label(object.as_bytes().to_vec())])
            .map_err(ck("finding objects"))?;
        if !existing.is_empty() {
            return Err(Error::KeyExists(uri));
        }
        let mut id = [0u8; 16];
        crate::softstore::random_bytes(&mut id)?;
        let label = object.as_bytes().to_vec();
        let public_template = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::KeyType(KeyType::EC),
            Attribute::EcParams(ec_params.to_vec()),
            Attribute::Label(label.clone()),
            Attribute::Id(id.to_vec()),
        ];
        let private_template = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Derive(false),
            Attribute::KeyType(KeyType::EC),
            Attribute::Label(label),
            Attribute::Id(id.to_vec()),
        ];
        let (public, private) = session
            .generate_key_pair(
                &Mechanism::EccKeyPairGen,
                &public_template,
                &private_template,
            )
            .map_err(ck(&format!("generating {alg} key {uri}")))?;
        match self.load(session, object) {
            Ok(key) if key.alg == alg => Ok(key),
            outcome => {
                // Never leave a key behind that does not meet the policy.
                let _ = session.destroy_object(private);
                let _ = session.destroy_object(public);
                match outcome {
                    Err(e) => Err(e),
                    Ok(key) => Err(Error::Pkcs11(format!(
                        "token generated a {} key for {alg}",
                        key.alg
                    ))),
                }
            }
        }
    }

    /// Opens the existing key pair labelled `object` ([`Error::KeyNotFound`] if there is no
    /// private key with that label). Refuses a key that is not protected (sensitive, never
    /// extractable, generated in the token).
    pub fn open(&self, object: &str) -> Result<Pkcs11Key> {
        KeyUri::pkcs11(&self.inner.label, object)?;
        let state = self.inner.lock()?;
        let session = session_of(&state, &self.inner.label)?;
        self.load(session, object)
    }

    /// Opens the key a `pkcs11:` URI names; its token label must be this token's.
    pub fn open_uri(&self, uri: &KeyUri) -> Result<Pkcs11Key> {
        match uri {
            KeyUri::Pkcs11 { token, object } if *token == self.inner.label => self.open(object),
            KeyUri::Pkcs11 { token, .. } => Err(Error::InvalidUri {
                uri: uri.to_string(),
                reason: format!(
                    "names token {token:?}, this token is {:?}",
                    self.inner.label
                ),
            }),
            KeyUri::File { .. } => Err(Error::InvalidUri {
                uri: uri.to_string(),
                reason: "a PKCS#11 token opens pkcs11: URIs only".into(),
            }),
        }
    }

    fn load(&self, session: &Session, object: &str) -> Result<Pkcs11Key> {
        let uri = self.inner.uri(object);
        let one = |handles: Vec<ObjectHandle>, what: &str| -> Result<Option<ObjectHandle>> {
            match handles.as_slice() {
                [] => Ok(None),
                [h] => Ok(Some(*h)),
                _ => Err(Error::Pkcs11(format!(
                    "{uri}: {} {what} objects carry this label",
                    handles.len()
                ))),
            }
        };
        let private = one(
            find(session, ObjectClass::PRIVATE_KEY, object)?,
            "private key",
        )?
        .ok_or_else(|| Error::KeyNotFound(uri.clone()))?;
        let public = one(
            find(session, ObjectClass::PUBLIC_KEY, object)?,
            "public key",
        )?
        .ok_or_else(|| Error::Pkcs11(format!("{uri}: the public key object is missing")))?;

        let mut key_type = None;
        let mut can_sign = false;
        for attr in session
            .get_attributes(private, &[AttributeType::KeyType, AttributeType::Sign])
            .map_err(ck("reading private key attributes"))?
        {
            match attr {
                Attribute::KeyType(t) => key_type = Some(t),
                Attribute::Sign(s) => can_sign = s,
                _ => {}
            }
        }
        if key_type != Some(KeyType::EC) {
            return Err(Error::Pkcs11(format!("{uri}: not an EC private key")));
        }
        if !can_sign {
            return Err(Error::Pkcs11(format!("{uri}: CKA_SIGN is false")));
        }
        let protection = read_protection(session, private)?;
        if !protection.is_protected() {
            return Err(Error::Pkcs11(format!(
                "{uri}: the private key is not protected as policy requires \
                 (sensitive, never extractable, generated in the token): {protection:?}"
            )));
        }

        let mut params = None;
        let mut point = None;
        for attr in session
            .get_attributes(public, &[AttributeType::EcParams, AttributeType::EcPoint])
            .map_err(ck("reading public key attributes"))?
        {
            match attr {
                Attribute::EcParams(p) => params = Some(p),
                Attribute::EcPoint(p) => point = Some(p),
                _ => {}
            }
        }
        let params = params.ok_or_else(|| Error::Pkcs11(format!("{uri}: no CKA_EC_PARAMS")))?;
        let point = point.ok_or_else(|| Error::Pkcs11(format!("{uri}: no CKA_EC_POINT")))?;
        let alg = algorithm_for_params(&params)?;
        let (curve, _, coord_len) = curve_for(alg)?;
        let sec1 = decode_ec_point(&point, coord_len)?;
        let public_key = PublicKey::from_sec1(curve, &sec1)?;
        Ok(Pkcs11Key {
            token: Arc::clone(&self.inner),
            object: object.to_owned(),
            private,
            alg,
            public: public_key,
        })
    }

    /// Deactivates the token now: logs out and closes the session. Keys taken from it stop
    /// working. Idempotent; usable while the token is shared.
    pub fn logout(&self) -> Result<()> {
        self.inner.deactivate()
    }

    /// Deactivates the token (as [`Pkcs11Token::logout`]) and reports any error doing so.
    pub fn close(self) -> Result<()> {
        self.inner.deactivate()
    }
}

impl Drop for Pkcs11Token {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; the session is closed either way.
        let _ = self.inner.deactivate();
    }
}

/// A private key inside an activated [`Pkcs11Token`], usable as an [`mso::crypto::Signer`].
///
/// `Send + Sync`; signing takes the token's session lock.
pub struct Pkcs11Key {
    token: Arc<TokenInner>,
    object: String,
    private: ObjectHandle,
    alg: Algorithm,
    public: PublicKey,
}

impl core::fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pkcs11Key")
            .field("uri", &self.token.uri(&self.object))
            .field("alg", &self.alg)
            .finish()
    }
}

impl Pkcs11Key {
    /// The object label.
    pub fn label(&self) -> &str {
        &self.object
    }

    /// The key's URI, `pkcs11:token=…;object=…`.
    pub fn uri(&self) -> KeyUri {
        KeyUri::Pkcs11 {
            token: self.token.label.clone(),
            object: self.object.clone(),
        }
    }

    /// Reads the private key's protection attributes from the token (for ceremony records).
    pub fn protection(&self) -> Result<KeyProtection> {
        let state = self.token.lock()?;
        let session = session_of(&state, &self.token.label)?;
        read_protection(session, self.private)
    }

    fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>> {
        let state = self.token.lock()?;
        let session = session_of(&state, &self.token.label)?;
        session
            .sign(&Mechanism::Ecdsa, self.private, digest)
            .map_err(ck(&format!(
                "signing with {}",
                self.token.uri(&self.object)
            )))
    }
}

fn signer_error(e: Error) -> mso::Error {
    match e {
        Error::Mso(inner) => inner,
        other => mso::Error::Signer(other.to_string()),
    }
}

impl Signer for Pkcs11Key {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }

    fn public_key(&self) -> mso::Result<PublicKey> {
        Ok(self.public.clone())
    }

    fn sign(&self, tbs: &[u8]) -> mso::Result<Vec<u8>> {
        let digest = digest(self.alg, tbs);
        let signature = self.sign_digest(&digest).map_err(signer_error)?;
        if signature.len() != self.alg.signature_len() {
            return Err(mso::Error::Signer(format!(
                "{}: token returned a {}-byte signature, {} expects {}",
                self.token.uri(&self.object),
                signature.len(),
                self.alg,
                self.alg.signature_len()
            )));
        }
        SoftwareVerifier
            .verify(self.alg, &self.public, tbs, &signature)
            .map_err(|_| {
                mso::Error::Signer(format!(
                    "{}: the token's signature does not verify under the key's public key",
                    self.token.uri(&self.object)
                ))
            })?;
        Ok(signature)
    }
}

impl Pkcs11Token {
    /// Replaces the user PIN of this activated token (`C_SetPIN`): used once at root-key
    /// initialisation to swap the HSM administrator's temporary PIN for the quorum secret.
    pub fn change_pin(&self, old_pin: &[u8], new_pin: &[u8]) -> Result<()> {
        use cryptoki::types::AuthPin;
        let state = self.inner.lock()?;
        let session = session_of(&state, &self.inner.label)?;
        let old = std::str::from_utf8(old_pin)
            .map_err(|_| Error::Pkcs11("the current PIN is not UTF-8".into()))?;
        let new = std::str::from_utf8(new_pin)
            .map_err(|_| Error::Pkcs11("the new PIN is not UTF-8".into()))?;
        if new_pin.is_empty() {
            return Err(Error::Pkcs11("the new PIN is empty".into()));
        }
        match session.set_pin(&AuthPin::new(old.into()), &AuthPin::new(new.into())) {
            Ok(()) => Ok(()),
            Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => Err(Error::WrongSecret(format!(
                "user PIN of token {}",
                self.inner.label
            ))),
            Err(CkError::Pkcs11(RvError::PinLenRange, _)) => Err(Error::Pkcs11(format!(
                "token {:?} does not accept a PIN of that length",
                self.inner.label
            ))),
            Err(e) => Err(ck("set PIN")(e)),
        }
    }
}
