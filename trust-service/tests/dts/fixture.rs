//! Real CA artifacts (made by `mdoc-ca`'s builders), bundle directories and a DTS on a manual
//! clock with a VICAL signer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mdoc_ca::crl::{build_crl, CrlParams, RevokedEntry};
use mdoc_ca::csr::{parse_csr, CsrPolicy};
use mdoc_ca::profile::{
    build_ds, build_iaca, build_link, DsParams, IacaParams, IssuerAltNames, LinkKind, LinkParams,
    SubjectName,
};
use mdoc_dts::service::Ingested;
use mdoc_dts::vical::VicalSigner;
use mdoc_dts::{Dts, DtsConfig, DtsError, ManualClock};
use mso::crypto::{Algorithm, Signer, SoftwareKey};
use sha2::{Digest, Sha256};
use test_kit::vical::VicalPki;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The first day of the tests.
pub const T0: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);
/// One day.
pub const DAY: Duration = Duration::days(1);
/// The DTS's public URL in most tests.
pub const PUBLIC: &str = "https://dts.example.go.jp";

pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// A root CA made by the CA's builders.
pub struct Root {
    pub key: SoftwareKey,
    pub der: Vec<u8>,
    pub fp: String,
    pub cdp: String,
}

fn subject(cn: &str) -> SubjectName {
    SubjectName {
        country: "JP".into(),
        state_or_province: None,
        organization: Some("Digital Agency".into()),
        common_name: cn.into(),
    }
}

fn ian() -> IssuerAltNames {
    IssuerAltNames {
        uris: vec!["https://www.example.go.jp/iaca".into()],
        emails: Vec::new(),
    }
}

impl Root {
    /// A root whose CRL URL is `{public}/crl/{name}.crl`.
    pub fn new(public: &str, name: &str) -> Root {
        Self::with_cdp(&format!("{public}/crl/{name}.crl"), "Japan mDL IACA")
    }

    /// A root naming `cdp` as its CRL URL, with common name `cn`.
    pub fn with_cdp(cdp: &str, cn: &str) -> Root {
        let key = SoftwareKey::generate(Algorithm::Es384);
        let params = IacaParams::new(subject(cn), T0 - DAY, ian(), vec![cdp.into()]);
        let der = build_iaca(&params, &key).unwrap();
        Root {
            fp: sha256_hex(&der),
            key,
            der,
            cdp: cdp.into(),
        }
    }

    /// CRL `number` with thisUpdate `this_update` (nextUpdate 3 days later) listing `revoked`.
    pub fn crl(&self, number: u64, this_update: OffsetDateTime, revoked: &[Vec<u8>]) -> Vec<u8> {
        let entries: Vec<RevokedEntry> = revoked
            .iter()
            .map(|s| RevokedEntry {
                serial: s.clone(),
                revocation_date: this_update - Duration::hours(1),
            })
            .collect();
        build_crl(
            &self.der,
            &CrlParams::new(number, this_update),
            &entries,
            &self.key,
        )
        .unwrap()
    }

    /// A DS certificate under this root (a P-256 key the test forgets).
    pub fn ds(&self) -> Vec<u8> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CountryName, "JP");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "DS 1");
        let csr = params.serialize_request(&key).unwrap();
        let csr = parse_csr(csr.der(), &CsrPolicy::default()).unwrap();
        let mut p = DsParams::new(T0, ian(), vec![self.cdp.clone()]);
        p.validity_days = 365;
        build_ds(&csr, &self.der, &p, &self.key).unwrap()
    }

    /// A key rollover: a new root (same DN, CRL URL `{public}/crl/{name}.crl`) and the
    /// NewWithOld and OldWithNew link certificates.
    pub fn rollover(&self, public: &str, name: &str) -> (Root, Vec<u8>, Vec<u8>) {
        let key = SoftwareKey::generate(Algorithm::Es384);
        let cdp = format!("{public}/crl/{name}.crl");
        let der = build_iaca(
            &IacaParams::new(subject("Japan mDL IACA"), T0, ian(), vec![cdp.clone()]),
            &key,
        )
        .unwrap();
        let nwo = LinkParams::for_rollover(LinkKind::NewWithOld, &self.der, &der).unwrap();
        let new_with_old =
            build_link(&key.public_key().unwrap(), &der, &self.der, &nwo, &self.key).unwrap();
        let own = LinkParams::for_rollover(LinkKind::OldWithNew, &self.der, &der).unwrap();
        let old_with_new =
            build_link(&self.key.public_key().unwrap(), &self.der, &der, &own, &key).unwrap();
        let new = Root {
            fp: sha256_hex(&der),
            key,
            der,
            cdp,
        };
        (new, new_with_old, old_with_new)
    }
}

/// A bundle directory as `mdoc-ca export` writes it.
pub struct BundleDir {
    pub dir: tempfile::TempDir,
}

impl BundleDir {
    pub fn new() -> Self {
        BundleDir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Adds `name` (e.g. `crl/00000001.crl`) and rewrites the manifest over every file.
    pub fn file(self, name: &str, bytes: &[u8]) -> Self {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        self.manifest()
    }

    /// Rewrites MANIFEST.sha256 over every file present.
    pub fn manifest(self) -> Self {
        let mut lines = String::from("# sha256  file\n");
        let mut names = Vec::new();
        for sub in ["iaca", "link", "crl", "ds", "extra"] {
            if let Ok(rd) = std::fs::read_dir(self.dir.path().join(sub)) {
                for e in rd {
                    names.push(format!(
                        "{sub}/{}",
                        e.unwrap().file_name().to_string_lossy()
                    ));
                }
            }
        }
        names.sort();
        for n in names {
            let p = self.dir.path().join(&n);
            if std::fs::symlink_metadata(&p).unwrap().is_file() {
                lines.push_str(&format!(
                    "{}  {n}\n",
                    sha256_hex(&std::fs::read(&p).unwrap())
                ));
            }
        }
        std::fs::write(self.dir.path().join("MANIFEST.sha256"), lines).unwrap();
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The bundle as a tar archive (`./`-prefixed entries, as `tar -C dir -cf - .` writes).
    pub fn tar(&self) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        b.follow_symlinks(false);
        b.append_dir_all(".", self.dir.path()).unwrap();
        b.into_inner().unwrap()
    }
}

/// A DTS on a manual clock, with a VICAL signer, in a temporary directory.
pub struct Env {
    pub tmp: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
    pub vical: Arc<VicalPki>,
    pub dts: Arc<Dts>,
    pub config: DtsConfig,
}

/// SHA-256 of the admin token the tests use.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";

pub fn config_text(dir: &Path, public: &str, pins: &[&str], db: Option<&str>) -> String {
    let pins: Vec<String> = pins.iter().map(|p| format!("{p:?}")).collect();
    format!(
        "public_url = {public:?}\npinned_roots = [{}]\ndatabase_url = {:?}\naudit_log = {:?}\n\
         terminal_id = \"dts-test-01\"\n[limits]\nmax_file_bytes = 1048576\nmax_bundle_bytes = 4194304\n\
         max_files = 64\n[vical]\nprovider = \"Test DTS\"\nkey = \"file:/unused\"\ncertificates = \"unused.pem\"\n\
         [admin]\ntoken_sha256 = [{:?}]\n",
        pins.join(", "),
        db.map_or_else(|| dir.join("dts.sqlite").display().to_string(), str::to_owned),
        dir.join("audit.log").display().to_string(),
        sha256_hex(ADMIN_TOKEN.as_bytes()),
    )
}

impl Env {
    pub async fn new(public: &str, pins: &[&str]) -> Env {
        Self::with_db(public, pins, None).await
    }

    pub async fn with_db(public: &str, pins: &[&str], db: Option<&str>) -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let config = DtsConfig::parse(&config_text(tmp.path(), public, pins, db)).unwrap();
        let vical = Arc::new(VicalPki::new("JP", T0 - 30 * DAY, T0 + 3650 * DAY));
        let clock = Arc::new(ManualClock::new(T0));
        let dts = Self::open(&config, &vical, &clock).await;
        Env {
            tmp,
            clock,
            vical,
            dts,
            config,
        }
    }

    /// Another DTS process over the same database and files (a replica, a restart).
    pub async fn reopen(&self) -> Arc<Dts> {
        Self::open(&self.config, &self.vical, &self.clock).await
    }

    async fn open(config: &DtsConfig, vical: &VicalPki, clock: &Arc<ManualClock>) -> Arc<Dts> {
        let signer = VicalSigner::from_parts(
            config.vical.clone().unwrap(),
            Box::new(vical.signer_key.clone()),
            vec![vical.signer_der.clone()],
            None,
        )
        .unwrap();
        Dts::open_with(config.clone(), Some(signer), clock.clone())
            .await
            .unwrap()
    }

    pub fn set_time(&self, at: OffsetDateTime) {
        self.clock.set(at);
    }

    pub async fn ingest(&self, b: &BundleDir) -> Result<Ingested, DtsError> {
        let read = mdoc_dts::bundle::Bundle::from_dir(b.path(), &self.config.limits);
        self.dts.ingest(read, "cli:test", "op-test").await
    }

    pub fn audit_log(&self) -> String {
        std::fs::read_to_string(self.tmp.path().join("audit.log")).unwrap_or_default()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

/// The refusal inside a DTS error.
pub fn refusal(e: DtsError) -> mdoc_dts::Refusal {
    match e {
        DtsError::Refused(r) => r,
        other => panic!("expected a refusal, got {other}"),
    }
}
