//! Issuance output pinned byte for byte: the same builder, key and randomness must give the same
//! IssuerSigned bytes whatever encoder path writes them (the digests cover the exact item bytes
//! that are sent, and the issuer's replays re-derive documents from a seed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use test_kit::mdl;

use mso::cbor::{encode_value, from_slice, to_vec, FullDate, Limits, TDate, ToCbor, Value};
use mso::crypto::{Algorithm, DigestAlgorithm, Signer, SoftwareKey};
use mso::issue::{validity_for_days, MdocBuilder, SeededRng};
use mso::model::{IssuerSigned, Status, StatusListRef, MDL_DOCTYPE, MDL_NAMESPACE};
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};

/// A fixed, seedable generator (SplitMix64): not for keys in production, only to make an
/// issuance reproducible in a test.
struct Fixed(u64);

impl RngCore for Fixed {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for Fixed {}

/// A stand-in x5chain: issuance copies the certificates without reading them.
fn chain() -> Vec<Vec<u8>> {
    vec![(0..700u32).map(|i| (i * 13 % 256) as u8).collect()]
}

/// The sample mDL plus a second namespace with values of every shape (negative integers,
/// floats, nested maps with keys of several lengths and types, tags), decoys and a status.
fn builder(device: &SoftwareKey) -> MdocBuilder {
    let odd = Value::Map(vec![
        (Value::Text("zz".into()), Value::Float(1.5)),
        (Value::Integer((-3).into()), Value::Float(0.1)),
        (
            Value::Text("a".into()),
            Value::Array(vec![Value::Null, Value::Bool(false)]),
        ),
        (Value::Bytes(vec![1, 2]), Value::Integer(u64::MAX.into())),
        (
            Value::Text("longer_key_of_more_than_twenty_four_bytes".into()),
            Value::Tag(1004, Box::new(Value::Text("2020-01-01".into()))),
        ),
    ]);
    mdl::mdl_builder(&device.public_key().unwrap())
        .element("org.example.b", "odd", odd)
        .element("org.example.b", "n", Value::Integer((-100_000).into()))
        .element(
            "org.example.b",
            "born",
            FullDate(time::macros::date!(1990 - 02 - 28)).to_value(),
        )
        .element(
            "org.example.b",
            "seen",
            TDate::new(time::macros::datetime!(2026-01-01 00:00:00.5 UTC)).to_value(),
        )
        .element("org.ex", "short_ns", Value::Text("x".into()))
        .decoy_digests(3)
        .status(Status {
            status_list: Some(StatusListRef {
                idx: 7,
                uri: "https://issuer.example/status/1".into(),
                certificate: None,
            }),
            identifier_list: None,
        })
        .validity(validity_for_days(
            time::macros::datetime!(2026-05-01 09:30:00 UTC),
            365,
        ))
}

fn issue(seed: u64, alg: DigestAlgorithm) -> (IssuerSigned, SoftwareKey) {
    let mut rng = Fixed(seed);
    let ds = SoftwareKey::generate_with(Algorithm::Es256, &mut rng);
    let device = SoftwareKey::generate_with(Algorithm::Es256, &mut rng);
    let issued = builder(&device)
        .digest_algorithm(alg)
        .prepare(Algorithm::Es256, &chain(), &mut rng)
        .unwrap()
        .sign(&ds)
        .unwrap();
    (issued, ds)
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// SHA-256 of the IssuerSigned bytes that the encoder before the direct-write path (every item
/// through a `ciborium::Value` tree) produced for these inputs. A change here changes what
/// issuers send for the same randomness: it must never happen silently.
const PINNED: [(u64, DigestAlgorithm, &str); 2] = [
    (
        1,
        DigestAlgorithm::Sha256,
        "e55f7fcf9e2fe447a0e6d10938bb27af76d69771bb4e75c544e55c865c303261",
    ),
    (
        2,
        DigestAlgorithm::Sha512,
        "62cc2f0e4e7ca056159f944503072ba178daa81603ef892d81f8f6d6a298fcec",
    ),
];

#[test]
fn issued_bytes_are_pinned() {
    let got: Vec<String> = PINNED
        .iter()
        .map(|&(seed, alg, _)| sha256_hex(&to_vec(&issue(seed, alg).0)))
        .collect();
    for ((seed, _, want), got) in PINNED.iter().zip(&got) {
        assert_eq!(got, want, "seed {seed}");
    }
}

#[test]
fn direct_encoding_equals_the_value_tree_encoding() {
    for seed in 0..8 {
        let (issued, _) = issue(seed, DigestAlgorithm::Sha256);
        let direct = to_vec(&issued);
        assert_eq!(direct, encode_value(&issued.to_value()), "seed {seed}");
        // Decoded and written again: the same bytes (items are sent exactly as digested).
        let decoded: IssuerSigned = from_slice(&direct, &Limits::DEFAULT).unwrap();
        assert_eq!(to_vec(&decoded), direct);
        assert_eq!(encode_value(&decoded.to_value()), direct);
        // Each item's digest in the MSO is over the exact tagged bytes inside the output.
        let mso = issued.issuer_auth.mso().value();
        for (ns, items) in issued.name_spaces.as_ref().unwrap() {
            for item in items {
                let d = &mso.value_digests[ns][&item.value().digest_id];
                assert_eq!(d, &mso.digest_algorithm.digest(item.tagged_bytes()));
                assert!(direct
                    .windows(item.tagged_bytes().len())
                    .any(|w| w == item.tagged_bytes()));
            }
        }
    }
}

#[test]
fn the_mdl_fixture_is_written_as_its_value_tree() {
    let mut rng = Fixed(9);
    let ds = SoftwareKey::generate_with(Algorithm::Es256, &mut rng);
    let issued = mdl::mdl_builder(&ds.public_key().unwrap())
        .prepare(Algorithm::Es256, &chain(), &mut rng)
        .unwrap()
        .sign(&ds)
        .unwrap();
    assert_eq!(to_vec(&issued), encode_value(&issued.to_value()));
    assert_eq!(
        issued.name_spaces.as_ref().unwrap()[MDL_NAMESPACE].len(),
        12
    );
    assert_eq!(issued.issuer_auth.mso().value().doc_type, MDL_DOCTYPE);
}

#[test]
fn namespaces_are_written_shorter_first_like_the_value_tree() {
    // "z" sorts after "org.…" bytewise but before it in deterministic (length-first) order.
    let mut rng = Fixed(11);
    let ds = SoftwareKey::generate_with(Algorithm::Es256, &mut rng);
    let issued = builder(&ds)
        .element("z", "e", Value::Integer(1.into()))
        .element("zz.long.namespace.name.x", "e", Value::Integer(2.into()))
        .prepare(Algorithm::Es256, &chain(), &mut rng)
        .unwrap()
        .sign(&ds)
        .unwrap();
    let mso = issued.issuer_auth.mso();
    assert_eq!(mso.inner_bytes(), encode_value(&mso.value().to_value()));
    assert_eq!(to_vec(mso.value()), mso.inner_bytes());
    let bytes = to_vec(&issued);
    assert_eq!(bytes, encode_value(&issued.to_value()));
    let decoded: IssuerSigned = from_slice(&bytes, &Limits::DEFAULT).unwrap();
    assert_eq!(to_vec(decoded.issuer_auth.mso().value()), mso.inner_bytes());
}

/// SHA-256 of the Sig_structure and of every item's bytes that [`SeededRng`] with the seed
/// `[7; 32]` gives this builder: the bytes an issuer rebuilds from a stored seed to answer a
/// retried request. Records are sealed with seeds for as long as the idempotency window lasts,
/// across upgrades, so a change here breaks the replay of every record sealed before it.
const SEEDED_PIN: &str = "3f3adffb1c463d78034596a94488c71660aceac759ab1b9c47705f756a745a6a";

fn seeded_prepare(rng: &mut impl rand_core::CryptoRngCore) -> Vec<u8> {
    let device = SoftwareKey::generate_with(Algorithm::Es256, &mut Fixed(3));
    let prepared = builder(&device)
        .into_prepared(Algorithm::Es256, &chain(), rng)
        .unwrap();
    let mut covered = prepared.to_be_signed().to_vec();
    let issued = prepared.complete(vec![0; 64]).unwrap();
    for items in issued.name_spaces.as_ref().unwrap().values() {
        for item in items {
            covered.extend_from_slice(item.tagged_bytes());
        }
    }
    covered
}

#[test]
fn a_seed_rebuilds_the_same_mso_in_every_version() {
    use rand_chacha::rand_core::SeedableRng as _;
    let seeded = seeded_prepare(&mut SeededRng::from_seed([7; 32]));
    assert_eq!(sha256_hex(&seeded), SEEDED_PIN);
    // Records sealed before `SeededRng` existed were built from a bare ChaCha20 stream.
    let bare = seeded_prepare(&mut rand_chacha::ChaCha20Rng::from_seed([7; 32]));
    assert_eq!(bare, seeded);
    // Another seed, other salts.
    assert_ne!(seeded_prepare(&mut SeededRng::from_seed([8; 32])), seeded);
}

#[test]
fn an_element_given_twice_in_a_namespace_is_refused_by_name() {
    let device = SoftwareKey::generate_with(Algorithm::Es256, &mut Fixed(4));
    let err = builder(&device)
        .element("org.example.b", "odd", Value::Null)
        .prepare(Algorithm::Es256, &chain(), &mut Fixed(5))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("element org.example.b/odd given twice"),
        "{err}"
    );
    // The same identifier in another namespace is another element.
    builder(&device)
        .element("org.ex", "odd", Value::Null)
        .prepare(Algorithm::Es256, &chain(), &mut Fixed(5))
        .unwrap();
}

/// Randomness in which every 32-bit word comes twice in a row (1, 1, 2, 2, …): each second
/// digest ID drawn repeats the one before, so issuance must reject half its draws.
struct Pairs(u32, bool);

impl RngCore for Pairs {
    fn next_u32(&mut self) -> u32 {
        if self.1 {
            self.0 += 1;
        }
        self.1 = !self.1;
        self.0
    }
    // Bytes are the words in order (little-endian), so the pairs survive into `fill_bytes`,
    // which is what issuance draws from.
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_u32(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for Pairs {}

#[test]
fn repeated_digest_id_draws_are_rejected_in_namespaces_of_every_size() {
    let device = SoftwareKey::generate_with(Algorithm::Es256, &mut Fixed(6));
    // Below, at and above the size where repeats stop being found by a scan.
    for n in [2usize, 61, 62, 100] {
        let mut b = MdocBuilder::new(MDL_DOCTYPE)
            .device_key(&device.public_key().unwrap())
            .validity(validity_for_days(
                time::macros::datetime!(2026-05-01 09:30:00 UTC),
                365,
            ))
            .decoy_digests(3);
        for i in 0..n {
            b = b.element("org.many", &format!("e{i}"), Value::Integer(i.into()));
        }
        let prepared = b
            .prepare(Algorithm::Es256, &chain(), &mut Pairs(0, true))
            .unwrap();
        let digests = &prepared.mso().value_digests["org.many"];
        // n elements and 3 decoys, each under its own ID (a map would fold repeats).
        assert_eq!(digests.len(), n + 3, "{n} elements");
    }
}
