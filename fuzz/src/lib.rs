//! Fixtures and shared checks for the `mso` fuzz targets.
//!
//! Every target decodes arbitrary bytes with [`Limits::DEFAULT`] (or tighter) and, when the
//! decode succeeds, drives the re-encoding and verification code over the decoded value. A target
//! fails only on a panic (including an arithmetic overflow when built with `--debug-assertions`)
//! or on a broken invariant asserted here:
//!
//! - deterministic re-encoding is a fixpoint: `encode(decode(encode(x))) == encode(x)` for any
//!   decoded `x`, and the re-encoded bytes decode again;
//! - verification never panics, whatever the input.
//!
//! The trust anchors and session material are the ISO/IEC 18013-5 Annex D vectors (copied into
//! `fixtures/` so the crate builds from a clean checkout), and verification runs at
//! 2021-01-01T00:00:00Z, inside the vectors' validity, so the Annex D seeds reach every check.

use std::fmt::Debug;
use std::sync::OnceLock;

use mso::cbor::{from_slice, to_vec, FromCbor, Limits, ToCbor};
use mso::crypto::ecdh::AgreementKey;
use mso::crypto::{Algorithm, SoftwareKey, SoftwareVerifier};
use mso::model::SessionTranscript;
use mso::verify::{DeviceAuthInput, IssuerTrust, VerifyOptions};
use mso::x509::Certificate;
use time::OffsetDateTime;

/// Annex D IACA "CN=utopia iaca, C=US" (P-256).
pub const IACA_DER: &[u8] = include_bytes!("../fixtures/annex_d_iaca.der");
/// Annex D DS "CN=utopia ds, C=US": the x5chain of the Annex D issuerAuth.
pub const DS_DER: &[u8] = include_bytes!("../fixtures/annex_d_ds.der");
/// Annex D SessionTranscriptBytes (`#6.24(bstr .cbor SessionTranscript)`).
pub const TRANSCRIPT_BYTES: &[u8] =
    include_bytes!("../fixtures/annex_d_session_transcript_bytes.cbor");
/// Annex D EReaderKey private key (needed to check the deviceMac).
pub const EREADER_KEY_PEM: &str = include_str!("../fixtures/annex_d_ereader_key.pem");

/// 2021-01-01T00:00:00Z: inside the Annex D DS and MSO validity.
pub fn at() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_609_459_200).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Trust the Annex D IACA (exercises AKI/SKI selection and the DS ← IACA signature check).
pub fn iaca_trust() -> &'static IssuerTrust {
    static T: OnceLock<IssuerTrust> = OnceLock::new();
    T.get_or_init(|| {
        IssuerTrust::iacas(vec![
            Certificate::from_der(IACA_DER).expect("fixture: Annex D IACA parses")
        ])
    })
}

/// Trust exactly the Annex D DS certificate.
pub fn pinned_trust() -> &'static IssuerTrust {
    static T: OnceLock<IssuerTrust> = OnceLock::new();
    T.get_or_init(|| {
        IssuerTrust::PinnedDocumentSigner(
            Certificate::from_der(DS_DER)
                .expect("fixture: Annex D DS parses")
                .into(),
        )
    })
}

/// The fixed Annex D SessionTranscript.
pub fn transcript() -> &'static SessionTranscript {
    static T: OnceLock<SessionTranscript> = OnceLock::new();
    T.get_or_init(|| {
        SessionTranscript::from_bytes(TRANSCRIPT_BYTES, &Limits::DEFAULT)
            .expect("fixture: Annex D SessionTranscriptBytes parse")
    })
}

/// The Annex D reader's ephemeral private key.
pub fn ereader_key() -> &'static AgreementKey {
    static K: OnceLock<AgreementKey> = OnceLock::new();
    K.get_or_init(|| {
        AgreementKey::from_pkcs8_pem(EREADER_KEY_PEM).expect("fixture: EReaderKey PEM parses")
    })
}

/// A fixed P-256 device key for the holder-side presentation paths.
pub fn device_key() -> &'static SoftwareKey {
    static K: OnceLock<SoftwareKey> = OnceLock::new();
    K.get_or_init(|| {
        // Fixed seed, so runs (and crash reproductions) are deterministic.
        SoftwareKey::generate_with(Algorithm::Es256, &mut FixedRng(0x5eed))
    })
}

/// A deterministic (non-cryptographic) RNG for fixtures only.
pub struct FixedRng(pub u64);

impl rand_core::RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        // splitmix64
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

impl rand_core::CryptoRng for FixedRng {}

/// Verification options at [`at`] with `trust`, every default algorithm, the software verifier.
pub fn opts(trust: &'static IssuerTrust) -> VerifyOptions<'static> {
    VerifyOptions::new(at(), trust, &SoftwareVerifier)
}

/// Device-authentication input over the Annex D transcript, with the reader key for deviceMac.
pub fn session() -> DeviceAuthInput<'static> {
    DeviceAuthInput {
        transcript: transcript(),
        e_reader_key: Some(ereader_key()),
    }
}

/// Re-encodes a decoded value and checks that deterministic encoding is a fixpoint:
/// the encoding decodes again (under the same limits) and re-encodes to the same bytes.
pub fn check_reencoding<T: FromCbor + ToCbor + Debug>(value: &T) -> Vec<u8> {
    let bytes = to_vec(value);
    let again: T = match from_slice(&bytes, &Limits::DEFAULT) {
        Ok(v) => v,
        Err(e) => panic!(
            "the re-encoding of a decoded value does not decode: {e}\nre-encoded: {}",
            hex(&bytes)
        ),
    };
    let bytes2 = to_vec(&again);
    assert!(
        bytes == bytes2,
        "deterministic re-encoding is not a fixpoint\nfirst:  {}\nsecond: {}",
        hex(&bytes),
        hex(&bytes2)
    );
    bytes
}

/// True when `MSO_FUZZ_VERBOSE` is set: targets then print their verification reports (for
/// checking that the seeds reach the checks, e.g. `cargo fuzz run <target> <seed>`).
pub fn verbose() -> bool {
    static V: OnceLock<bool> = OnceLock::new();
    *V.get_or_init(|| std::env::var_os("MSO_FUZZ_VERBOSE").is_some())
}

/// Lower-case hex, for assertion messages.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
