//! Shared fixtures: an in-memory storage counting writes, a key store counting signatures,
//! a wallet trusting a fresh test PKI, and mDLs issued to the wallet's own device keys.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mso::cbor::to_vec;
use mso::crypto::{Curve, PublicKey};
use test_kit::{mdl, pki::TestPki};
use verifier_sdk::TrustStore;
use wallet_sdk::{IssuedCredential, KeyStore, SoftwareKeyStore, Storage, Wallet, WalletError};

pub type Result<T> = std::result::Result<T, WalletError>;

/// The verification time of the test PKI.
pub fn at() -> i64 {
    test_kit::pki::AT.unix_timestamp()
}

/// A [`Storage`] in memory that counts writes.
#[derive(Default)]
pub struct MemStorage {
    pub values: Mutex<BTreeMap<String, Vec<u8>>>,
    pub puts: AtomicUsize,
}

impl Storage for MemStorage {
    fn get(&self, key: String) -> Result<Option<Vec<u8>>> {
        Ok(self.values.lock().unwrap().get(&key).cloned())
    }
    fn put(&self, key: String, value: Vec<u8>) -> Result<()> {
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.values.lock().unwrap().insert(key, value);
        Ok(())
    }
    fn delete(&self, key: String) -> Result<()> {
        self.values.lock().unwrap().remove(&key);
        Ok(())
    }
    fn list(&self, prefix: String) -> Result<Vec<String>> {
        Ok(self
            .values
            .lock()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect())
    }
}

/// A [`SoftwareKeyStore`] that counts signatures.
#[derive(Default)]
pub struct CountingKeyStore {
    pub inner: SoftwareKeyStore,
    pub signs: AtomicUsize,
}

impl KeyStore for CountingKeyStore {
    fn create_key(&self, alias: String) -> Result<Vec<u8>> {
        self.inner.create_key(alias)
    }
    fn public_key(&self, alias: String) -> Result<Vec<u8>> {
        self.inner.public_key(alias)
    }
    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>> {
        self.signs.fetch_add(1, Ordering::SeqCst);
        self.inner.sign(alias, message)
    }
    fn delete_key(&self, alias: String) -> Result<()> {
        self.inner.delete_key(alias)
    }
    fn key_attestation(&self, alias: String, nonce: Option<String>) -> Result<Option<String>> {
        self.inner.key_attestation(alias, nonce)
    }
}

pub struct Fixture {
    pub pki: TestPki,
    pub wallet: Arc<Wallet>,
    pub keys: Arc<CountingKeyStore>,
    pub storage: Arc<MemStorage>,
    pub trust: Arc<TrustStore>,
}

impl Fixture {
    pub fn new() -> Self {
        let pki = TestPki::new();
        let trust = TrustStore::new();
        trust.add_iaca_der(pki.iaca_der.clone()).unwrap();
        let keys = Arc::new(CountingKeyStore::default());
        let storage = Arc::new(MemStorage::default());
        let wallet = Wallet::new(keys.clone(), storage.clone(), trust.clone());
        Fixture {
            pki,
            wallet,
            keys,
            storage,
            trust,
        }
    }

    pub fn signs(&self) -> usize {
        self.keys.signs.load(Ordering::SeqCst)
    }

    pub fn puts(&self) -> usize {
        self.storage.puts.load(Ordering::SeqCst)
    }

    pub fn device_key(&self, alias: &str) -> PublicKey {
        PublicKey::from_sec1(
            Curve::P256,
            &self.wallet.device_public_key(alias.into()).unwrap(),
        )
        .unwrap()
    }

    /// `count` new device keys, and the sample mDL issued by this fixture's DS to each.
    pub fn issue(&self, count: u32) -> Vec<IssuedCredential> {
        self.wallet
            .new_device_keys(count)
            .unwrap()
            .into_iter()
            .map(|alias| IssuedCredential {
                issuer_signed: to_vec(&mdl::issue_mdl(
                    &self.pki.ds_key,
                    &self.pki.ds_der,
                    &self.device_key(&alias),
                )),
                key_alias: alias,
            })
            .collect()
    }

    /// A stored mDL credential of `count` MSOs; its id.
    pub fn holding(&self, count: u32) -> String {
        let issued = self.issue(count);
        self.wallet
            .accept_credentials(
                mso::model::MDL_DOCTYPE.into(),
                issued,
                "https://issuer.example.jp".into(),
                at(),
            )
            .unwrap()
            .id
    }
}
