//! PKCS#11 keys in SoftHSM2: quorum activation (3-of-5 PIN), P-384/P-256/P-521 keys
//! generated in the token, signing verified in software, non-extractability, missing objects,
//! deactivation, concurrency.
//!
//! These tests need SoftHSM2 (`bash scripts/softhsm.sh` installs it) and are `#[ignore]`d so a
//! plain `cargo test` passes without it; run them with
//! `cargo test -p custody -- --include-ignored`. Without SoftHSM2 they FAIL, saying so.
//!
//! The tests never touch the system's SoftHSM2 configuration: the first one to run sets up a
//! private one with one token per test (`test_kit::softhsm`), before the module is loaded.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use custody::pkcs11::{Pkcs11Key, Pkcs11Token};
use custody::quorum::{self, KdfParams, SealedShare};
use custody::uri::KeyUri;
use custody::Error;
use mso::crypto::{Algorithm, Signer, SoftwareVerifier, Verifier};
use test_kit::softhsm::{SoftHsm, Token};
use zeroize::Zeroizing;

const NEEDS: &str = "needs SoftHSM2: scripts/softhsm.sh";

/// Custodian ids and passphrases for every token's 3-of-5 PIN split.
const CUSTODIANS: [(&str, &[u8]); 5] = [
    ("custodian-1", b"first custodian passphrase"),
    ("custodian-2", b"second custodian passphrase"),
    ("custodian-3", b"third custodian passphrase"),
    ("custodian-4", b"fourth custodian passphrase"),
    ("custodian-5", b"fifth custodian passphrase"),
];

/// One token per test, so tests running in parallel never share a login.
const TOKENS: [&str; 8] = [
    "quorum-p384",
    "es256-es512",
    "extractable",
    "missing",
    "deactivate",
    "threads",
    "wrong-pin",
    "change-pin",
];

struct TokenSetup {
    /// The user PIN as split among the custodians (kept only to check reconstruction).
    pin: Zeroizing<Vec<u8>>,
    shares: Vec<SealedShare>,
}

struct Hsm {
    module: PathBuf,
    tokens: HashMap<&'static str, TokenSetup>,
}

static HSM: OnceLock<Result<Hsm, String>> = OnceLock::new();

fn setup() -> Result<Hsm, String> {
    let mut tokens = HashMap::new();
    let mut pins = Vec::new();
    for label in TOKENS {
        let pin = quorum::random_secret().map_err(|e| e.to_string())?;
        let so_pin = quorum::random_secret().map_err(|e| e.to_string())?;
        // The main test uses the production Argon2id parameters; the rest stay fast.
        let params = if label == "quorum-p384" {
            KdfParams::RECOMMENDED
        } else {
            KdfParams::new(1024, 1, 1).map_err(|e| e.to_string())?
        };
        let shares =
            quorum::split_with(&pin, 3, &CUSTODIANS, &params).map_err(|e| e.to_string())?;
        pins.push((label, so_pin, pin.clone()));
        tokens.insert(label, TokenSetup { pin, shares });
    }
    let specs: Vec<Token<'_>> = pins
        .iter()
        .map(|(label, so_pin, pin)| Token { label, so_pin, pin })
        .collect();
    // Under target/tmp, before any test loads the module (they all wait for this initialiser).
    let hsm = SoftHsm::init(Path::new(env!("CARGO_TARGET_TMPDIR")), &specs)?;
    Ok(Hsm {
        module: hsm.module,
        tokens,
    })
}

fn hsm() -> &'static Hsm {
    match HSM.get_or_init(setup) {
        Ok(hsm) => hsm,
        Err(why) => panic!("{NEEDS}: {why}"),
    }
}

/// Reconstructs the PIN of `label` from the custodians `picks` (indices into CUSTODIANS).
fn pin_from(label: &str, picks: &[usize]) -> Result<Zeroizing<Vec<u8>>, Error> {
    let setup = &hsm().tokens[label];
    let presented: Vec<(SealedShare, &[u8])> = picks
        .iter()
        .map(|&i| (setup.shares[i].clone(), CUSTODIANS[i].1))
        .collect();
    quorum::combine(&presented)
}

/// Activates `label` with custodians 1, 3 and 5.
fn activate(label: &str) -> Pkcs11Token {
    let pin = pin_from(label, &[0, 2, 4]).unwrap();
    Pkcs11Token::activate(&hsm().module, label, &pin).unwrap()
}

fn sign_and_verify(key: &Pkcs11Key, alg: Algorithm) {
    assert_eq!(key.algorithm(), alg);
    let public = key.public_key().unwrap();
    public.check_algorithm(alg).unwrap();
    for msg in [&b""[..], b"Sig_structure", &[0xA5; 10_000]] {
        let sig = key.sign(msg).unwrap();
        assert_eq!(sig.len(), alg.signature_len());
        SoftwareVerifier.verify(alg, &public, msg, &sig).unwrap();
        assert!(matches!(
            SoftwareVerifier.verify(alg, &public, b"something else", &sig),
            Err(mso::Error::BadSignature)
        ));
    }
}

#[test]
#[ignore = "needs SoftHSM2: scripts/softhsm.sh"]
fn quorum_activation_p384_generate_sign_verify() {
    let label = "quorum-p384";
    let setup = &hsm().tokens[label];
    // 3 of 5 custodians reconstruct the token PIN.
    let pin = pin_from(label, &[4, 0, 2]).unwrap();
    assert_eq!(pin.as_slice(), setup.pin.as_slice());
    let token = Pkcs11Token::activate(&hsm().module, label, &pin).unwrap();
    drop(pin);
    assert!(token.is_active());
    assert_eq!(token.label(), label);

    let key = token.generate("iaca-root-2025", Algorithm::Es384).unwrap();
    assert_eq!(key.uri(), KeyUri::pkcs11(label, "iaca-root-2025").unwrap());
    sign_and_verify(&key, Algorithm::Es384);
    assert!(matches!(
        key.public_key().unwrap(),
        mso::crypto::PublicKey::P384(_)
    ));

    // Opened again by label and by URI: the same key.
    let again = token.open("iaca-root-2025").unwrap();
    assert_eq!(again.public_key().unwrap(), key.public_key().unwrap());
    let sig = again.sign(b"tbs").unwrap();
    SoftwareVerifier
        .verify(Algorithm::Es384, &key.public_key().unwrap(), b"tbs", &sig)
        .unwrap();
    let uri: KeyUri = "pkcs11:token=quorum-p384;object=iaca-root-2025;type=private"
        .parse()
        .unwrap();
    let by_uri = token.open_uri(&uri).unwrap();
    assert_eq!(by_uri.public_key().unwrap(), key.public_key().unwrap());
    assert!(matches!(
        token.open_uri(&KeyUri::pkcs11("other-token", "iaca-root-2025").unwrap()),
        Err(Error::InvalidUri { .. })
    ));
    assert!(matches!(
        token.open_uri(&KeyUri::file("k.json")),
        Err(Error::InvalidUri { .. })
    ));

    // Keys are never overwritten.
    match token.generate("iaca-root-2025", Algorithm::Es384) {
        Err(Error::KeyExists(name)) => assert!(name.contains("iaca-root-2025"), "{name}"),
        other => panic!("expected KeyExists, got {other:?}"),
    }
    token.close().unwrap();

    // Fewer than three custodians cannot activate the token.
    assert!(matches!(
        pin_from(label, &[1, 3]),
        Err(Error::NotEnoughShares { have: 2, need: 3 })
    ));
    assert!(matches!(
        pin_from(label, &[1, 1, 3]),
        Err(Error::NotEnoughShares { have: 2, need: 3 })
    ));
    // A custodian with the wrong passphrase is named.
    let presented: Vec<(SealedShare, &[u8])> = vec![
        (setup.shares[0].clone(), CUSTODIANS[0].1),
        (setup.shares[1].clone(), b"custodian-2 misremembers"),
        (setup.shares[2].clone(), CUSTODIANS[2].1),
    ];
    assert!(matches!(
        quorum::combine(&presented),
        Err(Error::WrongSecret(id)) if id == "custodian-2"
    ));

    // A later activation by another three custodians finds the key.
    let token =
        Pkcs11Token::activate(&hsm().module, label, &pin_from(label, &[1, 2, 3]).unwrap()).unwrap();
    let key2 = token.open("iaca-root-2025").unwrap();
    assert_eq!(key2.public_key().unwrap(), key.public_key().unwrap());
    sign_and_verify(&key2, Algorithm::Es384);
}

#[test]
#[ignore = "needs SoftHSM2: scripts/softhsm.sh"]
fn es256_and_es512_keys() {
    let token = activate("es256-es512");
    let p256 = token.generate("ds-2025-q1", Algorithm::Es256).unwrap();
    sign_and_verify(&p256, Algorithm::Es256);
    assert!(matches!(
        p256.public_key().unwrap(),
        mso::crypto::PublicKey::P256(_)
    ));
    let p521 = token.generate("ds-p521", Algorithm::Es512).unwrap();
    sign_and_verify(&p521, Algorithm::Es512);
    assert!(matches!(
        token.generate("ed", Algorithm::EdDsa),
        Err(Error::Pkcs11(_))
    ));
    // Nothing was left behind by the refused EdDSA request.
    assert!(matches!(token.open("ed"), Err(Error::KeyNotFound(_))));
    // Reopened, each key keeps its algorithm.
    assert_eq!(
        token.open("ds-2025-q1").unwrap().algorithm(),
        Algorithm::Es256
    );
    assert_eq!(token.open("ds-p521").unwrap().algorithm(), Algorithm::Es512);
    // ECDSA signatures are randomised; both verify.
    let a = p256.sign(b"m").unwrap();
    let b = p256.sign(b"m").unwrap();
    assert_ne!(a, b);
    // Bad object labels are refused before reaching the token.
    assert!(matches!(
        token.generate("", Algorithm::Es256),
        Err(Error::InvalidUri { .. })
    ));
}

#[test]
#[ignore = "needs SoftHSM2: scripts/softhsm.sh"]
fn private_key_is_not_extractable() {
    use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
    use cryptoki::object::{Attribute, AttributeInfo, AttributeType, ObjectClass};

    let label = "extractable";
    let token = activate(label);
    let key = token.generate("no-export", Algorithm::Es384).unwrap();

    // What the token says about the key.
    let protection = key.protection().unwrap();
    assert!(protection.is_protected(), "{protection:?}");
    assert!(protection.token && protection.private && protection.sensitive);
    assert!(!protection.extractable);
    assert!(protection.always_sensitive && protection.never_extractable);
    assert!(!protection.value_readable);

    // And independently, through raw PKCS#11 calls in a session of our own: CKA_VALUE of the
    // private key cannot be read, not even while the user is logged in.
    let ctx = Pkcs11::new(&hsm().module).unwrap();
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) => {}
        Err(cryptoki::error::Error::Pkcs11(
            cryptoki::error::RvError::CryptokiAlreadyInitialized,
            _,
        )) => {}
        Err(e) => panic!("C_Initialize: {e}"),
    }
    let slot = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).unwrap().label() == label)
        .unwrap();
    let session = ctx.open_ro_session(slot).unwrap();
    let private = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(b"no-export".to_vec()),
        ])
        .unwrap();
    assert_eq!(
        private.len(),
        1,
        "the application's login makes the key visible"
    );
    let info = session
        .get_attribute_info(private[0], &[AttributeType::Value])
        .unwrap();
    assert!(matches!(info[0], AttributeInfo::Sensitive), "{info:?}");
    let values = session
        .get_attributes(private[0], &[AttributeType::Value])
        .unwrap();
    assert!(
        values.iter().all(|a| !matches!(a, Attribute::Value(_))),
        "CKA_VALUE was returned"
    );
    // The attributes cannot be switched back to exportable.
    let rw = ctx.open_rw_session(slot).unwrap();
    assert!(rw
        .update_attributes(
            private[0],
            &[Attribute::Sensitive(false), Attribute::Extractable(true)]
        )
        .is_err());
    drop(rw);
    drop(session);
    assert!(key.protection().unwrap().is_protected());
}

#[test]
#[ignore = "needs SoftHSM2: scripts/softhsm.sh"]
fn missing_object_and_token() {
    let token = activate("missing");
    match token.open("never-generated") {
        Err(Error::KeyNotFound(name)) => {
            assert_eq!(name, "pkcs11:token=missing;object=never-generated")
        }
        other => panic!("expected KeyNotFound, got {other:?}"),
    }
    // The same through a URI.
    assert!(matches!(
        token.open_uri(&"pkcs11:token=missing;object=ghost".parse().unwrap()),
        Err(Error::KeyNotFound(_))
    ));
    drop(token);

    let pin = pin_from("missing", &[0, 1, 2]).unwrap();
    match Pkcs11Token::activate(&hsm().module, "no-such-token", &pin) {
        Err(Error::Pkcs11(msg)) => assert!(msg.contains("no-such-token"), "{msg}"),
        other => panic!("expected a missing-token error, got {other:?}"),
    }
    match Pkcs11Token::activate("/nonexistent/libpkcs11.so", "missing", &pin) {
        Err(Error::Pkcs11(msg)) => assert!(msg.contains("scripts/softhsm.sh"), "{msg}"),
        other => panic!("expected a missing-module error, got {other:?}"),
    }
    assert!(matches!(
        Pkcs11Token::activate(&hsm().module, "missing", b""),
        Err(Error::Pkcs11(_))
    ));
}

#[test]
#[ignore = "needs SoftHSM2: scripts/softhsm.sh"]
fn wrong_pin_is_refused() {
    let label = "wrong-pin";
    match Pkcs11Token::activate(&hsm().module, label, b"not-the-pin-0000") {
        Err(e @ Error::WrongSecret(_)) => {
            assert!(e.to_string().contains(label));
            assert!(!e.to_string().contains("not-the-pin-0000"));
        }
        other => panic!("expected WrongSecret, got {other:?}"),
    }
    // The failed attempt left nothing registered: the right PIN works.
    let token = activate(label);
    assert!(token.is_active());
}

#[test]
#[ignore = "needs SoftHSM2: scripts/softhsm.sh"]
fn deactivation() {
    let label = "deactivate";
    let token = activate(label);
    let key = token.generate("k", Algorithm::Es256).unwrap();
    key.sign(b"works").unwrap();

    // One activation per token and process.
    let pin = pin_from(label, &[0, 1, 2]).unwrap();
    match Pkcs11Token::activate(&hsm().module, label, &pin) {
        Err(Error::Pkcs11(msg)) => assert!(msg.contains("already active"), "{msg}"),
        other => panic!("expected already-active, got {other:?}"),
    }

    // logout: keys stop working at once.
    token.logout().unwrap();
    assert!(!token.is_active());
    assert!(matches!(
        key.sign(b"after logout"),
        Err(mso::Error::Signer(_))
    ));
    assert!(matches!(token.open("k"), Err(Error::Pkcs11(_))));
    assert!(matches!(
        token.generate("k2", Algorithm::Es256),
        Err(Error::Pkcs11(_))
    ));
    assert!(key.protection().is_err());
    token.logout().unwrap(); // idempotent
    drop(token);

    // Dropping an active token deactivates it too.
    let token = Pkcs11Token::activate(&hsm().module, label, &pin).unwrap();
    let key = token.open("k").unwrap();
    key.sign(b"active again").unwrap();
    drop(token);
    assert!(matches!(
        key.sign(b"after drop"),
        Err(mso::Error::Signer(_))
    ));

    // And close reports success.
    let token = Pkcs11Token::activate(&hsm().module, label, &pin).unwrap();
    let key = token.open("k").unwrap();
    token.close().unwrap();
    assert!(key.sign(b"after close").is_err());
}

#[test]
#[ignore = "needs SoftHSM2: scripts/softhsm.sh"]
fn shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Pkcs11Token>();
    send_sync::<Pkcs11Key>();

    let token = activate("threads");
    let key = token.generate("shared", Algorithm::Es384).unwrap();
    let public = key.public_key().unwrap();
    let signer: &dyn Signer = &key;
    std::thread::scope(|s| {
        for t in 0..4 {
            let public = &public;
            s.spawn(move || {
                for i in 0..10 {
                    let msg = format!("thread {t} message {i}");
                    let sig = signer.sign(msg.as_bytes()).unwrap();
                    SoftwareVerifier
                        .verify(Algorithm::Es384, public, msg.as_bytes(), &sig)
                        .unwrap();
                }
            });
        }
    });
}

#[test]
#[ignore = "needs SoftHSM2: scripts/softhsm.sh"]
fn change_pin_to_a_new_quorum_secret() {
    let label = "change-pin";
    let old_pin = pin_from(label, &[0, 1, 2]).unwrap();
    let token = Pkcs11Token::activate(&hsm().module, label, &old_pin).unwrap();
    let key = token.generate("k", Algorithm::Es256).unwrap();
    // A new secret, split afresh 2-of-3 among other custodians.
    let new_pin = quorum::random_secret().unwrap();
    let fast = KdfParams::new(1024, 1, 1).unwrap();
    let shares = quorum::split_with(&new_pin, 2, &CUSTODIANS[2..], &fast).unwrap();
    assert!(matches!(
        token.change_pin(b"not-the-current-pin", &new_pin),
        Err(Error::WrongSecret(_))
    ));
    token.change_pin(&old_pin, &new_pin).unwrap();
    token.close().unwrap();
    assert!(key.sign(b"closed").is_err());

    assert!(matches!(
        Pkcs11Token::activate(&hsm().module, label, &old_pin),
        Err(Error::WrongSecret(_))
    ));
    let presented: Vec<(SealedShare, &[u8])> = vec![
        (shares[2].clone(), CUSTODIANS[4].1),
        (shares[0].clone(), CUSTODIANS[2].1),
    ];
    let pin = quorum::combine(&presented).unwrap();
    let token = Pkcs11Token::activate(&hsm().module, label, &pin).unwrap();
    sign_and_verify(&token.open("k").unwrap(), Algorithm::Es256);
}
