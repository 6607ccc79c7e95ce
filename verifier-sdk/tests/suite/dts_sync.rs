//! The trust store synchronised from a real DTS on loopback through an app-side HTTP client:
//! pinned roots and their CRLs, revocation reaching verification, conditional requests, a
//! rollover through a link certificate, and refusals that leave the store unchanged.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mdoc_ca::crl::{build_crl, CrlParams, RevokedEntry};
use mdoc_ca::csr::{parse_csr, CsrPolicy};
use mdoc_ca::profile::{
    build_ds, build_iaca, build_link, DsParams, IacaParams, IssuerAltNames, LinkKind, LinkParams,
    SubjectName,
};
use mdoc_dts::bundle::Bundle;
use mdoc_dts::{Dts, DtsConfig, ManualClock};
use mso::cbor::{to_vec, ToCbor};
use mso::crypto::{Algorithm, Signer, SoftwareKey};
use sha2::{Digest, Sha256};
use test_kit::mdl::issue_mdl;
use test_kit::pki::rcgen_key;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use verifier_sdk::{
    default_verification_options, verify_issuer_signed, CheckKind, CheckOutcome, DtsHttpClient,
    HttpResponse, TrustStore, VerifierError,
};

const T0: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);

fn fp(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

struct Root {
    key: SoftwareKey,
    der: Vec<u8>,
}

fn ian() -> IssuerAltNames {
    IssuerAltNames {
        uris: vec!["https://www.example.go.jp".into()],
        emails: Vec::new(),
    }
}

fn subject() -> SubjectName {
    SubjectName {
        country: "JP".into(),
        state_or_province: None,
        organization: Some("Digital Agency".into()),
        common_name: "Japan mDL IACA".into(),
    }
}

impl Root {
    fn new(cdp: &str, not_before: OffsetDateTime) -> Root {
        let key = SoftwareKey::generate(Algorithm::Es384);
        let der = build_iaca(
            &IacaParams::new(subject(), not_before, ian(), vec![cdp.into()]),
            &key,
        )
        .unwrap();
        Root { key, der }
    }

    fn crl(&self, number: u64, this_update: OffsetDateTime, revoked: &[Vec<u8>]) -> Vec<u8> {
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

    /// A DS under this root and its key.
    fn ds(&self, cdp: &str) -> (SoftwareKey, Vec<u8>) {
        let key = SoftwareKey::generate(Algorithm::Es256);
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CountryName, "JP");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "DS");
        let csr = params.serialize_request(&rcgen_key(&key)).unwrap();
        let csr = parse_csr(csr.der(), &CsrPolicy::default()).unwrap();
        let mut p = DsParams::new(T0, ian(), vec![cdp.into()]);
        p.validity_days = 365;
        (key, build_ds(&csr, &self.der, &p, &self.key).unwrap())
    }
}

fn bundle(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut manifest = String::new();
    for (name, bytes) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        manifest.push_str(&format!("{}  {name}\n", fp(bytes)));
    }
    std::fs::write(dir.path().join("MANIFEST.sha256"), manifest).unwrap();
    dir
}

/// A DTS served on loopback from its own runtime thread.
struct Served {
    runtime: tokio::runtime::Runtime,
    dts: Arc<Dts>,
    url: String,
    _tmp: tempfile::TempDir,
    clock: Arc<ManualClock>,
}

impl Served {
    fn start(pins: &[&[u8]], listener: std::net::TcpListener) -> Served {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let tmp = tempfile::tempdir().unwrap();
        let pins: Vec<String> = pins.iter().map(|d| format!("{:?}", fp(d))).collect();
        let config = DtsConfig::parse(&format!(
            "public_url = {url:?}\npinned_roots = [{}]\ndatabase_url = {:?}\naudit_log = {:?}\nterminal_id = \"dts\"\n",
            pins.join(","),
            tmp.path().join("dts.sqlite").display().to_string(),
            tmp.path().join("audit.log").display().to_string(),
        ))
        .unwrap();
        let clock = Arc::new(ManualClock::new(T0 + Duration::hours(1)));
        let dts = runtime
            .block_on(Dts::open_with(config, None, clock.clone()))
            .unwrap();
        listener.set_nonblocking(true).unwrap();
        let app = mdoc_dts::http::App::new(dts.clone(), mdoc_dts::http::Routes::All);
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            mdoc_dts::http::serve(listener, app, std::future::pending()).await
        });
        Served {
            runtime,
            dts,
            url,
            _tmp: tmp,
            clock,
        }
    }

    fn ingest(&self, files: &[(&str, &[u8])]) {
        let dir = bundle(files);
        let read = Bundle::from_dir(dir.path(), &self.dts.config().limits);
        self.runtime
            .block_on(self.dts.ingest(read, "test", "test"))
            .unwrap();
    }

    fn index(&self) -> String {
        format!("{}/index.json", self.url)
    }
}

/// The app's HTTP client, with a request count and an optional tamperer.
#[derive(Default)]
struct App {
    client: reqwest::blocking::Client,
    requests: AtomicUsize,
    not_modified: AtomicUsize,
    tamper: Mutex<Option<String>>,
}

impl DtsHttpClient for App {
    fn get(
        &self,
        url: String,
        if_none_match: Option<String>,
    ) -> verifier_sdk::Result<HttpResponse> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let mut r = self.client.get(&url);
        if let Some(e) = if_none_match {
            r = r.header("if-none-match", e);
        }
        let r = r.send().map_err(|e| VerifierError::Fetch {
            uri: url.clone(),
            reason: e.to_string(),
        })?;
        let status = r.status().as_u16();
        if status == 304 {
            self.not_modified.fetch_add(1, Ordering::SeqCst);
        }
        let etag = r
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        let mut body = r.bytes().unwrap().to_vec();
        if self
            .tamper
            .lock()
            .unwrap()
            .as_deref()
            .is_some_and(|t| url.ends_with(t))
        {
            if let Some(b) = body.last_mut() {
                *b ^= 1;
            }
        }
        Ok(HttpResponse { status, etag, body })
    }
}

fn listener() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

fn revocation(
    store: &Arc<TrustStore>,
    ds_key: &SoftwareKey,
    ds_der: &[u8],
    at: OffsetDateTime,
) -> CheckOutcome {
    let device = SoftwareKey::generate(Algorithm::Es256)
        .public_key()
        .unwrap();
    let issued = to_vec(&issue_mdl(ds_key, ds_der, &device).to_value());
    let report = verify_issuer_signed(
        issued,
        None,
        store.clone(),
        default_verification_options(at.unix_timestamp()),
    )
    .unwrap();
    let doc = &report.documents[0];
    let trusted = doc
        .checks
        .iter()
        .find(|c| c.kind == CheckKind::DsTrusted)
        .unwrap();
    assert_eq!(trusted.outcome, CheckOutcome::Passed, "{doc:?}");
    doc.checks
        .iter()
        .find(|c| c.kind == CheckKind::DsRevocation)
        .unwrap()
        .outcome
        .clone()
}

#[test]
fn a_pinned_root_and_its_crl_sync_and_a_revocation_reaches_verification() {
    let l = listener();
    let cdp = format!("http://{}/crl/iaca.crl", l.local_addr().unwrap());
    let root = Root::new(&cdp, T0 - Duration::days(1));
    let (ds_key, ds_der) = root.ds(&cdp);
    let served = Served::start(&[&root.der], l);
    served.ingest(&[
        ("iaca/01.der", &root.der),
        ("crl/00000001.crl", &root.crl(1, T0, &[])),
    ]);

    let store = TrustStore::new();
    let app = Arc::new(App::default());
    let at = (T0 + Duration::hours(2)).unix_timestamp();
    let report = store
        .sync_from_dts(
            served.index(),
            vec![fp(&root.der).to_uppercase()],
            app.clone(),
            at,
        )
        .unwrap();
    assert!(report.changed);
    assert_eq!(report.roots_added, [fp(&root.der)]);
    assert_eq!(report.crls_updated, 1);
    assert_eq!(store.iacas().unwrap().len(), 1);
    assert_eq!(
        revocation(&store, &ds_key, &ds_der, T0 + Duration::hours(2)),
        CheckOutcome::Passed
    );

    // Nothing changed: one conditional request, answered 304.
    let before = app.requests.load(Ordering::SeqCst);
    let again = store
        .sync_from_dts(served.index(), vec![fp(&root.der)], app.clone(), at)
        .unwrap();
    assert!(!again.changed);
    assert_eq!(app.requests.load(Ordering::SeqCst), before + 1);
    assert_eq!(app.not_modified.load(Ordering::SeqCst), 1);

    // The root revokes the DS: an emergency CRL, ingested, synced, and the document fails.
    let serial = mso::x509::Certificate::from_der(&ds_der)
        .unwrap()
        .serial_number()
        .to_vec();
    let t = T0 + Duration::hours(3);
    served.clock.set(t);
    served.ingest(&[("crl/00000002.crl", &root.crl(2, t, &[serial]))]);
    let report = store
        .sync_from_dts(
            served.index(),
            vec![fp(&root.der)],
            app.clone(),
            (t + Duration::minutes(1)).unix_timestamp(),
        )
        .unwrap();
    assert_eq!(report.crls_updated, 1);
    assert_eq!(store.crls().unwrap()[0].revoked_count, 1);
    assert!(matches!(
        revocation(&store, &ds_key, &ds_der, t + Duration::minutes(1)),
        CheckOutcome::Failed { .. }
    ));
}

#[test]
fn tampered_bytes_an_unpinned_root_or_another_origin_change_nothing() {
    let l = listener();
    let cdp = format!("http://{}/crl/iaca.crl", l.local_addr().unwrap());
    let root = Root::new(&cdp, T0 - Duration::days(1));
    let served = Served::start(&[&root.der], l);
    served.ingest(&[
        ("iaca/01.der", &root.der),
        ("crl/00000001.crl", &root.crl(1, T0, &[])),
    ]);
    let at = (T0 + Duration::hours(2)).unix_timestamp();

    let store = TrustStore::new();
    let app = Arc::new(App::default());
    *app.tamper.lock().unwrap() = Some(".crl".into());
    let e = store
        .sync_from_dts(served.index(), vec![fp(&root.der)], app.clone(), at)
        .unwrap_err();
    assert!(
        matches!(&e, VerifierError::DtsSync { reason, .. } if reason.contains("SHA-256")),
        "{e}"
    );
    assert!(store.iacas().unwrap().is_empty() && store.crls().unwrap().is_empty());

    // Not pinned: nothing is trusted, and that is an error, not an empty success.
    let app = Arc::new(App::default());
    let e = store
        .sync_from_dts(served.index(), vec!["00".repeat(32)], app.clone(), at)
        .unwrap_err();
    assert!(matches!(e, VerifierError::Untrusted { .. }), "{e}");
    assert!(store.iacas().unwrap().is_empty());

    // An index that lists files on another host is refused before any of them is fetched.
    struct Redirecting(Arc<App>, String);
    impl DtsHttpClient for Redirecting {
        fn get(&self, url: String, e: Option<String>) -> verifier_sdk::Result<HttpResponse> {
            let mut r = self.0.get(url.clone(), e)?;
            if url.ends_with("index.json") {
                r.body = String::from_utf8(r.body)
                    .unwrap()
                    .replace(&self.1, "http://evil.example")
                    .into_bytes();
            }
            Ok(r)
        }
    }
    let e = store
        .sync_from_dts(
            served.index(),
            vec![fp(&root.der)],
            Arc::new(Redirecting(Arc::new(App::default()), served.url.clone())),
            at,
        )
        .unwrap_err();
    assert!(
        matches!(&e, VerifierError::DtsSync { reason, .. } if reason.contains("origin")),
        "{e}"
    );
    assert!(store.iacas().unwrap().is_empty());
}

#[test]
fn a_rolled_over_root_is_trusted_through_its_link_certificate() {
    let l = listener();
    let base = format!("http://{}", l.local_addr().unwrap());
    let old = Root::new(&format!("{base}/crl/old.crl"), T0 - Duration::days(1));
    let new = Root::new(&format!("{base}/crl/new.crl"), T0);
    let nwo = LinkParams::for_rollover(LinkKind::NewWithOld, &old.der, &new.der).unwrap();
    let link = build_link(
        &new.key.public_key().unwrap(),
        &new.der,
        &old.der,
        &nwo,
        &old.key,
    )
    .unwrap();
    let served = Served::start(&[&old.der], l);
    served.ingest(&[
        ("iaca/01.der", &old.der),
        ("crl/00000001.crl", &old.crl(1, T0, &[])),
    ]);
    served.ingest(&[
        ("iaca/02.der", &new.der),
        ("link/01.der", &link),
        ("crl/00000001.crl", &new.crl(1, T0, &[])),
    ]);
    let store = TrustStore::new();
    let report = store
        .sync_from_dts(
            served.index(),
            vec![fp(&old.der)],
            Arc::new(App::default()),
            (T0 + Duration::hours(2)).unix_timestamp(),
        )
        .unwrap();
    let mut added = report.roots_added.clone();
    added.sort();
    let mut want = vec![fp(&old.der), fp(&new.der)];
    want.sort();
    assert_eq!(added, want);
    assert_eq!(report.links_added, 1);
    assert_eq!(report.crls_updated, 2);
    // A DS of the new root verifies.
    let (ds_key, ds_der) = new.ds(&format!("{base}/crl/new.crl"));
    assert_eq!(
        revocation(&store, &ds_key, &ds_der, T0 + Duration::hours(2)),
        CheckOutcome::Passed
    );
}

#[test]
fn a_root_the_app_does_not_pin_is_skipped_with_its_crl_and_a_new_pin_takes_it() {
    let l = listener();
    let base = format!("http://{}", l.local_addr().unwrap());
    let a = Root::new(&format!("{base}/crl/a.crl"), T0 - Duration::days(1));
    let b = Root::new(&format!("{base}/crl/b.crl"), T0 - Duration::days(1));
    let served = Served::start(&[&a.der, &b.der], l);
    served.ingest(&[
        ("iaca/01.der", &a.der),
        ("iaca/02.der", &b.der),
        ("crl/00000001.crl", &a.crl(1, T0, &[])),
        ("crl/00000002.crl", &b.crl(1, T0, &[])),
    ]);
    let at = (T0 + Duration::hours(2)).unix_timestamp();
    let store = TrustStore::new();
    let app = Arc::new(App::default());
    let report = store
        .sync_from_dts(served.index(), vec![fp(&a.der)], app.clone(), at)
        .unwrap();
    assert_eq!(report.roots_added, [fp(&a.der)]);
    assert_eq!(report.roots_skipped, [fp(&b.der)]);
    assert_eq!(report.crls_updated, 1);
    assert_eq!(store.crls().unwrap().len(), 1);
    // The app now pins both: the unchanged index is not a reason to skip the new root.
    let report = store
        .sync_from_dts(
            served.index(),
            vec![fp(&a.der), fp(&b.der)],
            app.clone(),
            at,
        )
        .unwrap();
    assert!(report.changed);
    assert_eq!(report.roots_added, [fp(&b.der)]);
    assert_eq!(store.iacas().unwrap().len(), 2);
    assert_eq!(store.crls().unwrap().len(), 2);
}
