//! M-of-N quorum: split/combine, not enough shares (checked before any decryption), wrong
//! passphrase naming the custodian, mixed sets, tampering, share files, random secrets, and an
//! illustration of Shamir's "M-1 shares say nothing" property.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use custody::quorum::{self, KdfParams, SealedShare};
use custody::Error;

const CUSTODIANS: [(&str, &[u8]); 5] = [
    ("alice", b"alice passphrase 1"),
    ("bob", b"bob passphrase 22"),
    ("carol", b"carol passphrase 333"),
    ("dave", b"dave passphrase 4444"),
    ("erin", b"erin passphrase 55555"),
];

fn fast() -> KdfParams {
    KdfParams::new(1024, 1, 1).unwrap()
}

fn split_3_of_5(secret: &[u8]) -> Vec<SealedShare> {
    quorum::split_with(secret, 3, &CUSTODIANS, &fast()).unwrap()
}

fn with_passphrases(shares: &[SealedShare], picks: &[usize]) -> Vec<(SealedShare, &'static [u8])> {
    picks
        .iter()
        .map(|&i| (shares[i].clone(), CUSTODIANS[i].1))
        .collect()
}

#[test]
fn every_three_of_five_reconstructs() {
    let secret = quorum::random_secret().unwrap();
    let shares = split_3_of_5(&secret);
    assert_eq!(shares.len(), 5);
    for (i, share) in shares.iter().enumerate() {
        assert_eq!(share.custodian(), CUSTODIANS[i].0);
        assert_eq!(share.threshold(), 3);
        assert_eq!(share.total(), 5);
        assert_eq!(share.set_id(), shares[0].set_id());
        assert_eq!(share.commitment(), shares[0].commitment());
    }
    let mut indices: Vec<u8> = shares.iter().map(SealedShare::index).collect();
    indices.sort_unstable();
    assert_eq!(indices, vec![1, 2, 3, 4, 5]);

    let mut subsets = 0;
    for a in 0..5 {
        for b in a + 1..5 {
            for c in b + 1..5 {
                // Order of presentation does not matter.
                let got = quorum::combine(&with_passphrases(&shares, &[c, a, b])).unwrap();
                assert_eq!(got.as_slice(), secret.as_slice());
                subsets += 1;
            }
        }
    }
    assert_eq!(subsets, 10);
    // More than M shares work too.
    let got = quorum::combine(&with_passphrases(&shares, &[0, 1, 2, 3])).unwrap();
    assert_eq!(got.as_slice(), secret.as_slice());
    let got = quorum::combine(&with_passphrases(&shares, &[4, 3, 2, 1, 0])).unwrap();
    assert_eq!(got.as_slice(), secret.as_slice());
}

#[test]
fn recommended_parameters_round_trip() {
    let secret = quorum::random_secret().unwrap();
    let shares = quorum::split(&secret, 2, &CUSTODIANS[..3]).unwrap();
    let got = quorum::combine(&with_passphrases(&shares, &[2, 0])).unwrap();
    assert_eq!(got.as_slice(), secret.as_slice());
    let json = shares[0].to_json().unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["kdf"]["alg"], "argon2id");
    assert_eq!(v["kdf"]["m_cost_kib"], 65536);
}

#[test]
fn not_enough_shares_is_checked_before_decryption() {
    let secret = quorum::random_secret().unwrap();
    let shares = split_3_of_5(&secret);
    match quorum::combine(&with_passphrases(&shares, &[0, 3])) {
        Err(Error::NotEnoughShares { have: 2, need: 3 }) => {}
        other => panic!("expected NotEnoughShares, got {other:?}"),
    }
    // With wrong passphrases the answer is still NotEnoughShares: nothing was decrypted.
    let wrong: Vec<(SealedShare, &[u8])> = vec![
        (shares[0].clone(), b"wrong wrong"),
        (shares[1].clone(), b"wrong wrong"),
    ];
    assert!(matches!(
        quorum::combine(&wrong),
        Err(Error::NotEnoughShares { have: 2, need: 3 })
    ));
    // Copies of one custodian's share count once.
    match quorum::combine(&with_passphrases(&shares, &[1, 1, 1, 4, 4])) {
        Err(Error::NotEnoughShares { have: 2, need: 3 }) => {}
        other => panic!("expected NotEnoughShares, got {other:?}"),
    }
    // ...and do no harm once the quorum is there.
    let got = quorum::combine(&with_passphrases(&shares, &[1, 1, 4, 0, 4])).unwrap();
    assert_eq!(got.as_slice(), secret.as_slice());
    // No shares at all.
    assert!(matches!(quorum::combine(&[]), Err(Error::Quorum(_))));
}

#[test]
fn wrong_passphrase_names_the_custodian() {
    let secret = quorum::random_secret().unwrap();
    let shares = split_3_of_5(&secret);
    let presented: Vec<(SealedShare, &[u8])> = vec![
        (shares[0].clone(), CUSTODIANS[0].1),
        (shares[2].clone(), b"not carol's passphrase"),
        (shares[4].clone(), CUSTODIANS[4].1),
    ];
    match quorum::combine(&presented) {
        Err(e @ Error::WrongSecret(_)) => {
            assert!(matches!(&e, Error::WrongSecret(id) if id == "carol"));
            assert!(!e.to_string().contains("not carol's passphrase"));
        }
        other => panic!("expected WrongSecret(carol), got {other:?}"),
    }
    // A custodian can rehearse their passphrase alone.
    shares[1].check_passphrase(CUSTODIANS[1].1).unwrap();
    assert!(matches!(
        shares[1].check_passphrase(b"bob's guess 1"),
        Err(Error::WrongSecret(id)) if id == "bob"
    ));
}

#[test]
fn shares_from_different_splits_are_refused() {
    let secret = quorum::random_secret().unwrap();
    let first = split_3_of_5(&secret);
    // Same secret, same custodians, a second split: shares must not mix.
    let second = split_3_of_5(&secret);
    assert_ne!(first[0].set_id(), second[0].set_id());
    let mixed: Vec<(SealedShare, &[u8])> = vec![
        (first[0].clone(), CUSTODIANS[0].1),
        (first[1].clone(), CUSTODIANS[1].1),
        (second[2].clone(), CUSTODIANS[2].1),
    ];
    assert!(matches!(quorum::combine(&mixed), Err(Error::Quorum(_))));
}

fn edited(share: &SealedShare, edit: impl Fn(&mut serde_json::Value)) -> SealedShare {
    let mut v: serde_json::Value = serde_json::from_str(&share.to_json().unwrap()).unwrap();
    edit(&mut v);
    serde_json::from_value(v).unwrap()
}

#[test]
fn tampered_shares_are_refused() {
    let secret = quorum::random_secret().unwrap();
    let shares = split_3_of_5(&secret);
    let present = |replacement: SealedShare| {
        let list: Vec<(SealedShare, &[u8])> = vec![
            (shares[0].clone(), CUSTODIANS[0].1),
            (shares[1].clone(), CUSTODIANS[1].1),
            (replacement, CUSTODIANS[2].1),
        ];
        quorum::combine(&list)
    };
    // Changing the index (bound as associated data) is detected.
    let moved = edited(&shares[2], |v| v["index"] = 4.into());
    assert!(matches!(present(moved), Err(Error::Quorum(_))));
    // Claiming another custodian's index.
    let clash = edited(&shares[2], |v| v["index"] = shares[0].index().into());
    assert!(matches!(present(clash), Err(Error::Quorum(_))));
    // A lower threshold on one share disagrees with the others.
    let lowered = edited(&shares[2], |v| v["threshold"] = 2.into());
    assert!(matches!(present(lowered), Err(Error::Quorum(_))));
    // Flipped ciphertext.
    let flipped = edited(&shares[2], |v| {
        let ct = v["cipher"]["ciphertext"].as_str().unwrap().to_owned();
        let mut bytes =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, ct).unwrap();
        bytes[1] ^= 0x40;
        v["cipher"]["ciphertext"] =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes).into();
    });
    assert!(matches!(present(flipped), Err(Error::Quorum(_))));
    // Carol's file relabelled as Dave's, opened with Carol's passphrase: refused.
    let relabelled = edited(&shares[2], |v| v["custodian"] = "dave".into());
    assert!(matches!(present(relabelled), Err(Error::Quorum(_))));
    // One custodian presenting two different shares.
    let twice = edited(&shares[2], |v| v["custodian"] = "alice".into());
    assert!(matches!(present(twice), Err(Error::Quorum(_))));
    // Invalid metadata.
    let zero = edited(&shares[2], |v| v["index"] = 0.into());
    assert!(matches!(present(zero), Err(Error::Quorum(_))));
    let big = edited(&shares[2], |v| v["index"] = 6.into());
    assert!(matches!(present(big), Err(Error::Quorum(_))));
}

#[test]
fn commitment_mismatch_is_refused() {
    // Re-commit every share to a different value: the associated data changes with it, so
    // the shares no longer open — and even an attacker able to re-seal could not make a
    // wrong secret pass, because combine checks the commitment.
    let secret = quorum::random_secret().unwrap();
    let shares = split_3_of_5(&secret);
    let forged: Vec<(SealedShare, &[u8])> = (0..3)
        .map(|i| {
            (
                edited(&shares[i], |v| v["commitment"] = "00".repeat(32).into()),
                CUSTODIANS[i].1,
            )
        })
        .collect();
    assert!(matches!(quorum::combine(&forged), Err(Error::Quorum(_))));
}

#[test]
fn share_files() {
    let dir = tempfile::tempdir().unwrap();
    let secret = quorum::random_secret().unwrap();
    let shares = split_3_of_5(&secret);
    for share in &shares {
        share
            .save(dir.path().join(format!("{}.json", share.custodian())))
            .unwrap();
    }
    // Never overwritten.
    assert!(matches!(
        shares[0].save(dir.path().join("alice.json")),
        Err(Error::KeyExists(_))
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("bob.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let loaded: Vec<SealedShare> = ["erin", "bob", "carol"]
        .iter()
        .map(|id| SealedShare::load(dir.path().join(format!("{id}.json"))).unwrap())
        .collect();
    assert_eq!(loaded[0], shares[4]);
    let presented: Vec<(SealedShare, &[u8])> = vec![
        (loaded[0].clone(), CUSTODIANS[4].1),
        (loaded[1].clone(), CUSTODIANS[1].1),
        (loaded[2].clone(), CUSTODIANS[2].1),
    ];
    let got = quorum::combine(&presented).unwrap();
    assert_eq!(got.as_slice(), secret.as_slice());

    // The file holds neither the secret nor a passphrase.
    let text = std::fs::read_to_string(dir.path().join("carol.json")).unwrap();
    assert!(!text.contains(std::str::from_utf8(&secret).unwrap()));
    assert!(!text.contains("carol passphrase"));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for field in [
        "custodian",
        "index",
        "threshold",
        "total",
        "set_id",
        "commitment",
    ] {
        assert!(v.get(field).is_some(), "{field}");
    }
    assert_eq!(v["set_id"].as_str().unwrap().len(), 32);

    // Garbage is refused.
    assert!(matches!(
        SealedShare::from_json("{}"),
        Err(Error::Quorum(_))
    ));
    assert!(matches!(
        SealedShare::from_json("nope"),
        Err(Error::Quorum(_))
    ));
    let bad = edited(&shares[0], |v| v["format"] = "other".into());
    assert!(matches!(
        SealedShare::from_json(&serde_json::to_string(&bad).unwrap()),
        Err(Error::Quorum(_))
    ));
}

#[test]
fn split_parameter_validation() {
    let secret = quorum::random_secret().unwrap();
    let p = fast();
    let quorum_err = |r: Result<Vec<SealedShare>, Error>| matches!(r, Err(Error::Quorum(_)));
    assert!(quorum_err(quorum::split_with(&secret, 1, &CUSTODIANS, &p)));
    assert!(quorum_err(quorum::split_with(&secret, 0, &CUSTODIANS, &p)));
    assert!(quorum_err(quorum::split_with(&secret, 6, &CUSTODIANS, &p)));
    assert!(quorum_err(quorum::split_with(
        &secret,
        2,
        &CUSTODIANS[..1],
        &p
    )));
    assert!(quorum_err(quorum::split_with(&secret, 2, &[], &p)));
    let dup = [
        CUSTODIANS[0],
        CUSTODIANS[1],
        ("alice", b"other passphrase".as_slice()),
    ];
    assert!(quorum_err(quorum::split_with(&secret, 2, &dup, &p)));
    let empty_id = [CUSTODIANS[0], ("", b"a passphrase".as_slice())];
    assert!(quorum_err(quorum::split_with(&secret, 2, &empty_id, &p)));
    let short = [CUSTODIANS[0], ("bob", b"short".as_slice())];
    assert!(quorum_err(quorum::split_with(&secret, 2, &short, &p)));
    assert!(quorum_err(quorum::split_with(
        b"too short",
        2,
        &CUSTODIANS,
        &p
    )));
    assert!(quorum_err(quorum::split_with(
        &[7u8; 2000],
        2,
        &CUSTODIANS,
        &p
    )));

    // 255 custodians is the maximum; 256 is refused.
    let ids: Vec<String> = (0..256).map(|i| format!("c{i}")).collect();
    let many: Vec<(&str, &[u8])> = ids
        .iter()
        .map(|id| (id.as_str(), b"passphrase".as_slice()))
        .collect();
    assert!(quorum_err(quorum::split_with(&secret, 2, &many, &p)));
    let shares = quorum::split_with(&secret, 255, &many[..255], &p).unwrap();
    assert_eq!(shares.len(), 255);
    assert_eq!(shares[254].index(), 255);
    let all: Vec<(SealedShare, &[u8])> = shares
        .into_iter()
        .map(|s| (s, b"passphrase".as_slice()))
        .collect();
    assert_eq!(quorum::combine(&all).unwrap().as_slice(), secret.as_slice());
    assert!(matches!(
        quorum::combine(&all[..254]),
        Err(Error::NotEnoughShares {
            have: 254,
            need: 255
        })
    ));
}

#[test]
fn random_secrets() {
    let a = quorum::random_secret().unwrap();
    let b = quorum::random_secret().unwrap();
    assert_eq!(a.len(), quorum::RANDOM_SECRET_LEN);
    assert_eq!(a.len(), 32);
    assert!(a.iter().all(u8::is_ascii_alphanumeric));
    assert_ne!(a, b);
    assert_eq!(quorum::random_secret_len(64).unwrap().len(), 64);
    assert!(quorum::random_secret_len(8).is_err());
    assert!(quorum::random_secret_len(256).is_err());
    // Every character class shows up over many draws (a sanity check of the alphabet).
    let many: Vec<u8> = (0..20)
        .flat_map(|_| quorum::random_secret().unwrap().to_vec())
        .collect();
    assert!(many.iter().any(u8::is_ascii_uppercase));
    assert!(many.iter().any(u8::is_ascii_lowercase));
    assert!(many.iter().any(u8::is_ascii_digit));
}

/// Shamir's scheme gives M-1 shares no information about the secret: every secret is equally
/// consistent with them. A test cannot prove that; it can only show that interpolating M-1
/// shares (as if the threshold were M-1) does not yield the secret, over several trials, and
/// that our `combine` refuses before trying.
#[test]
fn fewer_than_m_shares_do_not_give_the_secret() {
    use blahaj::{Share, Sharks};
    for _ in 0..8 {
        let secret = quorum::random_secret().unwrap();
        let shares: Vec<Share> = Sharks(3).dealer(&secret).take(5).collect();
        // blahaj itself refuses M-1 shares at threshold M...
        assert!(Sharks(3).recover(&shares[..2]).is_err());
        // ...and interpolating them anyway gives something else.
        for pair in [[0, 1], [1, 4], [2, 3]] {
            let two: Vec<Share> = pair.iter().map(|&i| shares[i].clone()).collect();
            let guess = Sharks(2).recover(&two).unwrap();
            assert_eq!(guess.len(), secret.len());
            assert_ne!(guess.as_slice(), secret.as_slice());
        }
        let three: Vec<Share> = [0, 2, 4].iter().map(|&i| shares[i].clone()).collect();
        assert_eq!(Sharks(3).recover(&three).unwrap(), secret.to_vec());
    }
}
