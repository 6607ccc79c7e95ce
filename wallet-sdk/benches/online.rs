//! Online presentation, both ends, beside what it is built on (same run):
//!
//! - `verify/oid4vp_dc_api_jwt`: the verifier SDK reads a `dc_api.jwt` response (JWE
//!   ECDH-ES/A128GCM decrypt, VP Token, DeviceResponse verification over the request's
//!   transcript with a warm trust store, DCQL check);
//! - `verify/annex_c`: the same for an ISO 18013-7 Annex C response (HPKE open);
//! - `verify/device_response_reference`: the verifier SDK's `verify_device_response` on the
//!   same DeviceResponse, with the transcript given: the verification without the online layer;
//! - `raw/p256_verify`: one ES256 verification through `DefaultVerifier` (two per document
//!   make 0.5 the ceiling of any verifier); `raw/p256_ecdh`: one P-256 key agreement through
//!   `mso::crypto::ecdh` (the JWE's; HPKE does its own);
//! - `answer/oid4vp_dc_api_jwt`: the wallet SDK reads the request, matches the DCQL query
//!   against its store, signs the DeviceResponse and encrypts it.
//!
//! The mDL is the sample (12 elements, 20 KB portrait); the query asks for three elements,
//! the portrait among them. Each verification needs a fresh request (one response per
//! request), made outside the measured closure.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use mso::cbor::to_vec;
use mso::crypto::{Algorithm, DefaultVerifier, Signer as _, SoftwareKey, Verifier as _};
use mso::model::MDL_DOCTYPE;
use test_kit::{mdl, pki::TestPki};
use verifier_sdk::{
    default_verification_options, verify_device_response, AnnexCRequestConfig, ClaimQuery,
    CredentialQuery, DocumentRequest, ElementRequest, NamespaceRequest, OnlineVerifier,
    OpenId4VpRequestConfig, ResponseEncryption, ResponseMode, SessionTranscriptInput, TrustStore,
};
use wallet_sdk::{
    default_wallet_policy, software_key_store, ApprovedElement, IssuedCredential, OnlineAnswer,
    OnlineApproval, OnlineRequest, Wallet,
};

const ORIGIN: &str = "https://verifier.example";
const ELEMENTS: [&str; 3] = ["family_name", "age_over_18", "portrait"];
const NS: &str = "org.iso.18013.5.1";

fn at() -> i64 {
    test_kit::pki::AT.unix_timestamp()
}

fn oid4vp() -> Arc<OnlineVerifier> {
    OnlineVerifier::openid4vp(OpenId4VpRequestConfig {
        response_mode: ResponseMode::DcApiJwt,
        client_id: None,
        response_uri: None,
        origin: Some(ORIGIN.into()),
        credentials: vec![CredentialQuery {
            id: "mdl".into(),
            doc_type: MDL_DOCTYPE.into(),
            claims: ELEMENTS
                .iter()
                .map(|e| ClaimQuery {
                    id: None,
                    namespace: NS.into(),
                    element: (*e).into(),
                    intent_to_retain: false,
                    values: Vec::new(),
                })
                .collect(),
            claim_sets: Vec::new(),
            multiple: false,
        }],
        credential_sets: Vec::new(),
        encryption: ResponseEncryption::A128Gcm,
        signer: None,
    })
    .unwrap()
}

fn annex_c() -> Arc<OnlineVerifier> {
    OnlineVerifier::annex_c(AnnexCRequestConfig {
        origin: ORIGIN.into(),
        documents: vec![DocumentRequest {
            doc_type: MDL_DOCTYPE.into(),
            namespaces: vec![NamespaceRequest {
                namespace: NS.into(),
                elements: ELEMENTS
                    .iter()
                    .map(|e| ElementRequest {
                        identifier: (*e).into(),
                        intent_to_retain: false,
                    })
                    .collect(),
            }],
        }],
        reader_auth: None,
    })
    .unwrap()
}

/// The wallet's answer (the DC API response data) to `v`'s request.
fn answer(wallet: &Arc<Wallet>, v: &OnlineVerifier) -> String {
    let r = v.request();
    let session = wallet
        .clone()
        .start_online_presentation(
            OnlineRequest::DigitalCredentials {
                protocol: r.protocol,
                data_json: r.data_json,
                origin: ORIGIN.into(),
            },
            at(),
        )
        .unwrap();
    let consent = session.consent_request();
    let approvals = consent
        .credentials
        .iter()
        .map(|c| OnlineApproval {
            query_id: c.query_id.clone(),
            elements: c
                .elements
                .iter()
                .map(|e| ApprovedElement {
                    namespace: e.namespace.clone(),
                    identifier: e.identifier.clone(),
                })
                .collect(),
        })
        .collect();
    match session.respond(approvals, at()).unwrap() {
        OnlineAnswer::DigitalCredentials { data_json, .. } => data_json,
        OnlineAnswer::Post { .. } => unreachable!("a DC API request"),
    }
}

fn bench(c: &mut Criterion) {
    let pki = TestPki::new();
    let trust = TrustStore::new();
    trust.add_iaca_der(pki.iaca_der.clone()).unwrap();
    let wallet = Wallet::new(
        software_key_store(),
        Arc::new(test_kit_storage::Mem::default()),
        trust.clone(),
    );
    // One MSO, presented again and again.
    let mut policy = default_wallet_policy();
    policy.reuse_when_exhausted = true;
    wallet.set_policy(policy).unwrap();
    let alias = wallet.new_device_keys(1).unwrap().remove(0);
    let device = mso::crypto::PublicKey::from_sec1(
        mso::crypto::Curve::P256,
        &wallet.device_public_key(alias.clone()).unwrap(),
    )
    .unwrap();
    wallet
        .accept_credentials(
            MDL_DOCTYPE.into(),
            vec![IssuedCredential {
                issuer_signed: to_vec(&mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device)),
                key_alias: alias,
            }],
            "https://issuer.example".into(),
            at(),
        )
        .unwrap();
    let options = default_verification_options(at());

    let mut g = c.benchmark_group("online");
    g.throughput(Throughput::Elements(1));
    // Warm the trust store's DS cache.
    let v = oid4vp();
    assert!(
        v.verify_response(answer(&wallet, &v), trust.clone(), options.clone())
            .unwrap()
            .valid
    );
    g.bench_function("verify/oid4vp_dc_api_jwt", |b| {
        b.iter_batched(
            || {
                let v = oid4vp();
                let a = answer(&wallet, &v);
                (v, a)
            },
            |(v, a)| {
                v.verify_response(a, trust.clone(), options.clone())
                    .unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("verify/annex_c", |b| {
        b.iter_batched(
            || {
                let v = annex_c();
                let a = answer(&wallet, &v);
                (v, a)
            },
            |(v, a)| {
                v.verify_response(a, trust.clone(), options.clone())
                    .unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    // The same DeviceResponse verified with its transcript given, no online layer: built by
    // hand over the transcript of a dc_api request (no encryption key).
    let key = SoftwareKey::generate(Algorithm::Es256);
    let issued = mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &key.public_key().unwrap());
    let transcript = SessionTranscriptInput::OpenId4VpDcApi {
        origin: ORIGIN.into(),
        nonce: "bench-nonce-0123456789".into(),
        jwk_thumbprint: None,
    };
    let transcript_bytes = verifier_sdk::session_transcript_bytes(transcript.clone()).unwrap();
    let mso_transcript =
        mso::model::SessionTranscript::from_bytes(&transcript_bytes, &mso::cbor::Limits::DEFAULT)
            .unwrap();
    let selection = std::collections::BTreeMap::from([(
        NS.to_owned(),
        ELEMENTS.iter().map(|s| (*s).to_owned()).collect(),
    )]);
    let doc =
        mso::present::present_with_signature(&issued, Some(&selection), &mso_transcript, &key)
            .unwrap();
    let response = to_vec(&mso::present::device_response(vec![doc]));
    g.bench_function("verify/device_response_reference", |b| {
        b.iter(|| {
            verify_device_response(
                response.clone(),
                transcript.clone(),
                trust.clone(),
                options.clone(),
            )
            .unwrap()
        })
    });
    let msg = vec![0x5au8; 600];
    let sig = pki.ds_key.sign(&msg).unwrap();
    let ds = pki.ds_key.public_key().unwrap();
    g.bench_function("raw/p256_verify", |b| {
        b.iter(|| {
            DefaultVerifier
                .verify(Algorithm::Es256, &ds, &msg, &sig)
                .unwrap()
        })
    });
    // One P-256 key agreement through mso (the JWE's ECDH-ES), the online layer's own
    // public-key operation.
    let ours =
        mso::crypto::ecdh::AgreementKey::P256(p256::SecretKey::random(&mut rand_core::OsRng));
    let theirs =
        mso::crypto::ecdh::AgreementKey::P256(p256::SecretKey::random(&mut rand_core::OsRng))
            .public_key();
    g.bench_function("raw/p256_ecdh", |b| {
        b.iter(|| ours.shared_secret(&theirs).unwrap())
    });
    g.bench_function("answer/oid4vp_dc_api_jwt", |b| {
        b.iter_batched(oid4vp, |v| answer(&wallet, &v), BatchSize::SmallInput)
    });
    g.finish();
}

mod test_kit_storage {
    //! Storage in memory: the bench measures the protocol, not the file system.
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use wallet_sdk::{Storage, WalletError};

    #[derive(Default)]
    pub struct Mem(Mutex<BTreeMap<String, Vec<u8>>>);

    impl Storage for Mem {
        fn get(&self, key: String) -> Result<Option<Vec<u8>>, WalletError> {
            Ok(self.0.lock().unwrap().get(&key).cloned())
        }
        fn put(&self, key: String, value: Vec<u8>) -> Result<(), WalletError> {
            self.0.lock().unwrap().insert(key, value);
            Ok(())
        }
        fn delete(&self, key: String) -> Result<(), WalletError> {
            self.0.lock().unwrap().remove(&key);
            Ok(())
        }
        fn list(&self, prefix: String) -> Result<Vec<String>, WalletError> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .keys()
                .filter(|k| k.starts_with(&prefix))
                .cloned()
                .collect())
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
