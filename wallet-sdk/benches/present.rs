//! Building and signing a DeviceResponse (the sample mDL: 12 elements with a 20 KB portrait,
//! every element disclosed) with a device key in the `SoftwareKeyStore`, through the SDK's
//! checked signing path, beside the raw P-256 ES256 sign rate of the same backend.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mso::cbor::to_vec;
use mso::crypto::{Curve, PublicKey};
use mso::model::{DeviceEngagement, Handover, SessionTranscript};
use mso::present::{device_response, present_with_signature};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use test_kit::{mdl, pki::TestPki};
use wallet_sdk::{DeviceSigner, KeyStore, SoftwareKeyStore};

fn bench(c: &mut Criterion) {
    let pki = TestPki::new();
    let store = SoftwareKeyStore::new();
    let public = store.create_key("device".into()).unwrap();
    let device = PublicKey::from_sec1(Curve::P256, &public).unwrap();
    let issued = mdl::issue_mdl(&pki.ds_key, &pki.ds_der, &device);
    // A proximity transcript (QR handover) with fresh ephemeral keys.
    let e_device =
        mso::crypto::ecdh::AgreementKey::P256(p256::SecretKey::random(&mut rand_core::OsRng))
            .public_key();
    let engagement = DeviceEngagement::new(&e_device, None).unwrap();
    let reader_key = mso::cbor::Tag24::new(e_device.to_cose_key());
    let transcript = SessionTranscript::proximity(
        &engagement.tagged_bytes(),
        reader_key.tagged_bytes(),
        &Handover::Qr.to_bytes(),
    );
    let signer = DeviceSigner::new(&store, "device").unwrap();

    let mut group = c.benchmark_group("present");
    group.throughput(Throughput::Elements(1));
    group.bench_function("device_response_build_sign_12_elements_20kb", |b| {
        b.iter(|| {
            let doc = present_with_signature(&issued, None, &transcript, &signer).unwrap();
            to_vec(&device_response(vec![doc]))
        })
    });
    let raw = SigningKey::random(&mut rand_core::OsRng);
    let message = [0x5au8; 128];
    group.bench_function("p256_es256_sign_raw", |b| {
        b.iter(|| {
            let sig: Signature = raw.sign(&message);
            sig
        })
    });
    group.bench_function("software_keystore_sign_der", |b| {
        b.iter(|| store.sign("device".into(), message.to_vec()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
