//! Helpers shared by the `x509_*` integration tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use mdoc_ca::crl::{build_crl, CrlParams, RevokedEntry};
use mdoc_ca::csr::{parse_csr, CsrPolicy, ValidatedCsr};
use mdoc_ca::profile::{
    build_ds, build_iaca, build_link, DsParams, IacaParams, IssuerAltNames, LinkKind, LinkParams,
    SubjectName,
};
use mso::crypto::{Algorithm, PublicKey, Signer, SoftwareKey};
use time::{Duration, OffsetDateTime};

/// A signer that counts its calls (to prove that a failed lint signs nothing) and can be told
/// to misbehave like a faulty HSM.
pub struct RecordingSigner {
    pub key: SoftwareKey,
    pub calls: AtomicUsize,
    pub fault: Fault,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Flip a bit of the signature (r ‖ s still in range, but wrong).
    FlipBit,
    /// Sign with another key while reporting the right public key.
    OtherKey,
}

impl RecordingSigner {
    pub fn new(key: SoftwareKey) -> Self {
        RecordingSigner {
            key,
            calls: AtomicUsize::new(0),
            fault: Fault::None,
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Signer for RecordingSigner {
    fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }
    fn public_key(&self) -> mso::Result<PublicKey> {
        self.key.public_key()
    }
    fn sign(&self, tbs: &[u8]) -> mso::Result<Vec<u8>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.fault {
            Fault::None => self.key.sign(tbs),
            Fault::FlipBit => {
                let mut sig = self.key.sign(tbs)?;
                let last = sig.len() - 1;
                sig[last] ^= 1;
                Ok(sig)
            }
            Fault::OtherKey => SoftwareKey::generate(self.key.algorithm()).sign(tbs),
        }
    }
}

pub fn now() -> OffsetDateTime {
    // A little in the past so OpenSSL (which checks against the wall clock) accepts everything.
    OffsetDateTime::now_utc() - Duration::hours(1)
}

pub fn subject() -> SubjectName {
    SubjectName {
        country: "JP".into(),
        state_or_province: None,
        organization: Some("Digital Agency".into()),
        common_name: "mDL Test IACA".into(),
    }
}

pub fn locators() -> (IssuerAltNames, Vec<String>) {
    (
        IssuerAltNames {
            uris: vec!["https://iaca.example.jp/".into()],
            emails: vec!["pki@example.jp".into()],
        },
        vec!["http://crl.example.jp/iaca.crl".into()],
    )
}

pub fn iaca_params(not_before: OffsetDateTime) -> IacaParams {
    let (ian, dp) = locators();
    IacaParams::new(subject(), not_before, ian, dp)
}

pub fn ds_params(not_before: OffsetDateTime) -> DsParams {
    let (ian, dp) = locators();
    DsParams::new(not_before, ian, dp)
}

pub fn iaca_key() -> SoftwareKey {
    SoftwareKey::generate(Algorithm::Es384)
}

pub fn make_iaca(key: &SoftwareKey, not_before: OffsetDateTime) -> Vec<u8> {
    build_iaca(&iaca_params(not_before), key).unwrap()
}

/// A PKCS#10 request (DER) from rcgen with the given DN parts.
pub fn rcgen_csr(
    alg: &'static rcgen::SignatureAlgorithm,
    country: Option<&str>,
    state: Option<&str>,
    cn: &str,
) -> Vec<u8> {
    let kp = rcgen::KeyPair::generate_for(alg).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut dn = rcgen::DistinguishedName::new();
    if let Some(c) = country {
        dn.push(
            rcgen::DnType::CountryName,
            rcgen::DnValue::PrintableString(c.try_into().unwrap()),
        );
    }
    if let Some(st) = state {
        dn.push(rcgen::DnType::StateOrProvinceName, st);
    }
    dn.push(rcgen::DnType::OrganizationName, "Digital Agency");
    dn.push(rcgen::DnType::CommonName, cn);
    params.distinguished_name = dn;
    params.serialize_request(&kp).unwrap().der().to_vec()
}

pub fn ds_csr() -> ValidatedCsr {
    let der = rcgen_csr(&rcgen::PKCS_ECDSA_P256_SHA256, Some("JP"), None, "DS 0001");
    parse_csr(&der, &CsrPolicy::default()).unwrap()
}

pub fn make_ds(iaca_der: &[u8], key: &SoftwareKey, not_before: OffsetDateTime) -> Vec<u8> {
    build_ds(&ds_csr(), iaca_der, &ds_params(not_before), key).unwrap()
}

/// Rollover material: old and new self-signed IACAs (same DN) and both link certificates.
pub struct Rollover {
    pub old_key: SoftwareKey,
    pub new_key: SoftwareKey,
    pub old_iaca: Vec<u8>,
    pub new_iaca: Vec<u8>,
    pub new_with_old: Vec<u8>,
    pub old_with_new: Vec<u8>,
}

pub fn rollover() -> Rollover {
    let old_key = iaca_key();
    let new_key = iaca_key();
    let old_iaca = make_iaca(&old_key, now() - Duration::days(365 * 5));
    let new_iaca = make_iaca(&new_key, now());
    let nwo_params = LinkParams::for_rollover(LinkKind::NewWithOld, &old_iaca, &new_iaca).unwrap();
    let new_with_old = build_link(
        &new_key.public_key().unwrap(),
        &new_iaca,
        &old_iaca,
        &nwo_params,
        &old_key,
    )
    .unwrap();
    let own_params = LinkParams::for_rollover(LinkKind::OldWithNew, &old_iaca, &new_iaca).unwrap();
    let old_with_new = build_link(
        &old_key.public_key().unwrap(),
        &old_iaca,
        &new_iaca,
        &own_params,
        &new_key,
    )
    .unwrap();
    Rollover {
        old_key,
        new_key,
        old_iaca,
        new_iaca,
        new_with_old,
        old_with_new,
    }
}

pub fn crl(
    iaca_der: &[u8],
    key: &SoftwareKey,
    number: u64,
    this_update: OffsetDateTime,
    revoked: &[RevokedEntry],
) -> Vec<u8> {
    build_crl(iaca_der, &CrlParams::new(number, this_update), revoked, key).unwrap()
}

pub fn serial_of(cert_der: &[u8]) -> Vec<u8> {
    use der::Decode;
    x509_cert::Certificate::from_der(cert_der)
        .unwrap()
        .tbs_certificate
        .serial_number
        .as_bytes()
        .to_vec()
}

pub fn pem(label: &str, der: &[u8]) -> String {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der).unwrap()
}

/// Writes files into a temporary directory.
pub struct Dir(pub tempfile::TempDir);

impl Dir {
    pub fn new() -> Self {
        Dir(tempfile::tempdir().unwrap())
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
    pub fn cert(&self, name: &str, der: &[u8]) -> PathBuf {
        self.write(name, pem("CERTIFICATE", der).as_bytes())
    }
    pub fn crl(&self, name: &str, der: &[u8]) -> PathBuf {
        self.write(name, pem("X509 CRL", der).as_bytes())
    }
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

/// Runs a command; returns (success, stdout + stderr).
pub fn run(program: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) -> (bool, String) {
    let (ok, stdout, stderr) = run_split(program, args);
    (ok, stdout + &stderr)
}

/// Runs a command; returns (success, stdout, stderr) apart, for a tool whose stdout is a
/// document to parse and whose stderr may carry warnings (a Python library's deprecations).
pub fn run_split(program: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) -> (bool, String, String) {
    let out = Command::new(program)
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn p(path: &Path) -> &std::ffi::OsStr {
    path.as_os_str()
}
