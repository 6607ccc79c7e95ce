//! The development/test software keystore: generate → open → sign → verify, wrong secret,
//! damaged files, no overwrite, file permissions, what the file does and does not contain.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

use base64::Engine as _;
use custody::softstore::{KdfParams, SoftKeystore};
use custody::uri::KeyUri;
use custody::Error;
use mso::crypto::{Algorithm, Signer, SoftwareVerifier, Verifier};

const SECRET: &[u8] = b"correct horse battery staple";

/// Cheap Argon2id parameters so the tests stay fast; one test uses the recommended ones.
fn fast() -> KdfParams {
    KdfParams::new(1024, 1, 1).unwrap()
}

fn sign_and_verify(key: &dyn Signer) {
    let msg = b"Sig_structure bytes";
    let sig = key.sign(msg).unwrap();
    assert_eq!(sig.len(), key.algorithm().signature_len());
    let public = key.public_key().unwrap();
    SoftwareVerifier
        .verify(key.algorithm(), &public, msg, &sig)
        .unwrap();
    assert!(SoftwareVerifier
        .verify(key.algorithm(), &public, b"other bytes", &sig)
        .is_err());
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write_json(path: &Path, v: &serde_json::Value) {
    std::fs::write(path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

fn b64(v: &serde_json::Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap())
        .unwrap()
}

fn expect_keystore_error(path: &Path, what: &str) -> String {
    match SoftKeystore::open(path, SECRET) {
        Err(Error::Keystore(msg)) => msg,
        other => panic!("{what}: expected Error::Keystore, got {other:?}"),
    }
}

#[test]
fn generate_open_sign_verify_every_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    for alg in [
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::Es512,
        Algorithm::EdDsa,
    ] {
        let path = dir.path().join(format!("{alg}.json"));
        let generated = SoftKeystore::generate_with(&path, alg, SECRET, &fast()).unwrap();
        assert_eq!(generated.algorithm(), alg);
        let opened = SoftKeystore::open(&path, SECRET).unwrap();
        assert_eq!(opened.algorithm(), alg);
        assert_eq!(
            opened.public_key().unwrap(),
            generated.public_key().unwrap()
        );
        sign_and_verify(&opened);
        // A signature by the generated key verifies under the opened key's public key.
        let sig = generated.sign(b"m").unwrap();
        SoftwareVerifier
            .verify(alg, &opened.public_key().unwrap(), b"m", &sig)
            .unwrap();
    }
}

#[test]
fn recommended_parameters_and_file_contents() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ds.json");
    let key = SoftKeystore::generate(&path, Algorithm::Es384, SECRET).unwrap();
    let v = read_json(&path);
    assert_eq!(v["format"], "mdoc-custody-softkey");
    assert_eq!(v["version"], 1);
    assert_eq!(v["dev_only"], true);
    assert!(v["warning"]
        .as_str()
        .unwrap()
        .contains("DEVELOPMENT/TEST ONLY"));
    assert_eq!(v["algorithm"], "ES384");
    assert_eq!(v["kdf"]["alg"], "argon2id");
    assert_eq!(v["kdf"]["version"], 19);
    assert_eq!(v["kdf"]["m_cost_kib"], 65536);
    assert_eq!(v["kdf"]["t_cost"], 3);
    assert_eq!(v["kdf"]["p_cost"], 1);
    assert_eq!(b64(&v["kdf"]["salt"]).len(), 16);
    assert_eq!(v["cipher"]["alg"], "A256GCM");
    assert_eq!(b64(&v["cipher"]["nonce"]).len(), 12);

    // The private key appears nowhere in the file, in any encoding.
    let der = key.to_pkcs8_der().unwrap();
    let file = std::fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&file);
    let scalar = match &key {
        mso::crypto::SoftwareKey::P384(k) => k.to_bytes().to_vec(),
        _ => unreachable!(),
    };
    for needle in [der.to_vec(), scalar] {
        assert!(!file.windows(needle.len()).any(|w| w == needle.as_slice()));
        assert!(!text.contains(&hex::encode(&needle)));
        assert!(!text.contains(&base64::engine::general_purpose::STANDARD.encode(&needle)));
    }
    assert!(!text.contains(std::str::from_utf8(SECRET).unwrap()));

    let opened = SoftKeystore::open(&path, SECRET).unwrap();
    assert_eq!(opened.public_key().unwrap(), key.public_key().unwrap());
}

#[cfg(unix)]
#[test]
fn file_mode_is_0600_and_no_temp_files_remain() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.json");
    SoftKeystore::generate_with(&path, Algorithm::Es256, SECRET, &fast()).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("k.json")]);
}

#[test]
fn wrong_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.json");
    SoftKeystore::generate_with(&path, Algorithm::Es256, SECRET, &fast()).unwrap();
    match SoftKeystore::open(&path, b"Tr0ub4dor&3") {
        Err(e @ Error::WrongSecret(_)) => {
            let Error::WrongSecret(what) = &e else {
                unreachable!()
            };
            assert!(what.contains("k.json"), "{what}");
            assert!(!e.to_string().contains("Tr0ub4dor"));
        }
        other => panic!("expected WrongSecret, got {other:?}"),
    }
    assert!(matches!(
        SoftKeystore::open(&path, b""),
        Err(Error::WrongSecret(_))
    ));
}

#[test]
fn corrupted_ciphertext_is_a_keystore_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.json");
    SoftKeystore::generate_with(&path, Algorithm::Es256, SECRET, &fast()).unwrap();
    let original = read_json(&path);
    let ct = b64(&original["cipher"]["ciphertext"]);
    // Flip one bit at several positions (start, middle, tag).
    for pos in [0, ct.len() / 2, ct.len() - 1] {
        let mut bad = ct.clone();
        bad[pos] ^= 0x01;
        let mut v = original.clone();
        v["cipher"]["ciphertext"] = base64::engine::general_purpose::STANDARD
            .encode(&bad)
            .into();
        write_json(&path, &v);
        let msg = expect_keystore_error(&path, "flipped ciphertext");
        assert!(msg.contains("authentication failed"), "{msg}");
    }
    // Truncated ciphertext.
    let mut v = original.clone();
    v["cipher"]["ciphertext"] = base64::engine::general_purpose::STANDARD
        .encode(&ct[..10])
        .into();
    write_json(&path, &v);
    expect_keystore_error(&path, "truncated ciphertext");
    // Altered nonce.
    let mut v = original.clone();
    let mut nonce = b64(&original["cipher"]["nonce"]);
    nonce[0] ^= 0x80;
    v["cipher"]["nonce"] = base64::engine::general_purpose::STANDARD
        .encode(&nonce)
        .into();
    write_json(&path, &v);
    expect_keystore_error(&path, "altered nonce");
    // Restored, it opens again.
    write_json(&path, &original);
    SoftKeystore::open(&path, SECRET).unwrap();
}

#[test]
fn altered_header_is_a_keystore_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.json");
    SoftKeystore::generate_with(&path, Algorithm::Es256, SECRET, &fast()).unwrap();
    let original = read_json(&path);
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        // Bound as associated data.
        ("algorithm", Box::new(|v| v["algorithm"] = "ES384".into())),
        (
            "unknown algorithm",
            Box::new(|v| v["algorithm"] = "RS256".into()),
        ),
        ("format", Box::new(|v| v["format"] = "other".into())),
        ("version", Box::new(|v| v["version"] = 2.into())),
        ("dev_only", Box::new(|v| v["dev_only"] = false.into())),
        ("kdf alg", Box::new(|v| v["kdf"]["alg"] = "argon2i".into())),
        ("kdf version", Box::new(|v| v["kdf"]["version"] = 16.into())),
        (
            "huge memory cost",
            Box::new(|v| v["kdf"]["m_cost_kib"] = 4_000_000.into()),
        ),
        (
            "huge time cost",
            Box::new(|v| v["kdf"]["t_cost"] = 1000.into()),
        ),
        (
            "zero time cost",
            Box::new(|v| v["kdf"]["t_cost"] = 0.into()),
        ),
        ("short salt", Box::new(|v| v["kdf"]["salt"] = "AAAA".into())),
        (
            "cipher alg",
            Box::new(|v| v["cipher"]["alg"] = "A128GCM".into()),
        ),
        (
            "short nonce",
            Box::new(|v| v["cipher"]["nonce"] = "AAAA".into()),
        ),
        (
            "short check",
            Box::new(|v| v["cipher"]["check"] = "AAAA".into()),
        ),
        (
            "bad base64",
            Box::new(|v| v["cipher"]["ciphertext"] = "!!".into()),
        ),
        ("extra field", Box::new(|v| v["extra"] = 1.into())),
        (
            "missing field",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("cipher");
            }),
        ),
    ];
    for (what, edit) in cases {
        let mut v = original.clone();
        edit(&mut v);
        write_json(&path, &v);
        expect_keystore_error(&path, what);
    }
}

#[test]
fn garbage_files_are_keystore_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.json");
    for bytes in [
        b"".to_vec(),
        b"not json".to_vec(),
        b"{}".to_vec(),
        b"[1,2,3]".to_vec(),
        vec![0xFF; 100],
    ] {
        std::fs::write(&path, &bytes).unwrap();
        expect_keystore_error(&path, "garbage");
    }
    // Truncated genuine file.
    std::fs::remove_file(&path).unwrap();
    SoftKeystore::generate_with(&path, Algorithm::Es256, SECRET, &fast()).unwrap();
    let full = std::fs::read(&path).unwrap();
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();
    expect_keystore_error(&path, "truncated file");
    // Oversized file: refused before parsing.
    std::fs::write(&path, vec![b' '; 100 * 1024]).unwrap();
    let msg = expect_keystore_error(&path, "oversized");
    assert!(msg.contains("larger than"), "{msg}");
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        SoftKeystore::open(dir.path().join("absent.json"), SECRET),
        Err(Error::Io { .. })
    ));
}

#[test]
fn never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.json");
    let first = SoftKeystore::generate_with(&path, Algorithm::Es256, SECRET, &fast()).unwrap();
    let before = std::fs::read(&path).unwrap();
    match SoftKeystore::generate_with(&path, Algorithm::Es384, b"another secret", &fast()) {
        Err(Error::KeyExists(name)) => assert!(name.contains("k.json")),
        other => panic!("expected KeyExists, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let opened = SoftKeystore::open(&path, SECRET).unwrap();
    assert_eq!(opened.public_key().unwrap(), first.public_key().unwrap());

    // Any existing file counts, even one that is not a key.
    let other = dir.path().join("notes.txt");
    std::fs::write(&other, b"keep me").unwrap();
    assert!(matches!(
        SoftKeystore::generate_with(&other, Algorithm::Es256, SECRET, &fast()),
        Err(Error::KeyExists(_))
    ));
    assert_eq!(std::fs::read(&other).unwrap(), b"keep me");
}

#[test]
fn concurrent_generation_has_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race.json");
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| SoftKeystore::generate_with(&path, Algorithm::Es256, SECRET, &fast()))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(results
        .iter()
        .filter(|r| r.is_err())
        .all(|r| matches!(r, Err(Error::KeyExists(_)))));
    let opened = SoftKeystore::open(&path, SECRET).unwrap();
    assert_eq!(
        opened.public_key().unwrap(),
        winners[0].public_key().unwrap()
    );
}

#[test]
fn open_by_uri() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dev key.json");
    let key = SoftKeystore::generate_with(&path, Algorithm::Es256, SECRET, &fast()).unwrap();
    let uri: KeyUri = KeyUri::file(&path).to_string().parse().unwrap();
    let opened = SoftKeystore::open_uri(&uri, SECRET).unwrap();
    assert_eq!(opened.public_key().unwrap(), key.public_key().unwrap());
    let p11 = KeyUri::pkcs11("IACA", "root").unwrap();
    assert!(matches!(
        SoftKeystore::open_uri(&p11, SECRET),
        Err(Error::InvalidUri { .. })
    ));
}

#[test]
fn empty_secret_and_bad_parameters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.json");
    assert!(matches!(
        SoftKeystore::generate_with(&path, Algorithm::Es256, b"", &fast()),
        Err(Error::Keystore(_))
    ));
    assert!(!path.exists());
    assert!(KdfParams::new(4_000_000, 1, 1).is_err());
    assert!(KdfParams::new(1024, 0, 1).is_err());
    assert!(KdfParams::new(1024, 1, 0).is_err());
    assert!(KdfParams::new(1024, 1, 64).is_err());
    assert_eq!(KdfParams::default(), KdfParams::RECOMMENDED);
}
