//! The issuer service on loopback with its DS certified by the dev root. **DEVELOPMENT ONLY.**

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use custody::softstore::KdfParams;
use mdoc_dts::bundle::Bundle;
use mdoc_dts::{Dts, DtsConfig, SystemClock};
use mdoc_issuer::config::{KeystoreSection, ServiceConfig};
use mdoc_issuer::ds::{
    csr_pem, generate_csr, install_certificate, install_list_signer_certificate, DsKeys, DsSubject,
    KeystoreConfig,
};
use mdoc_issuer::engine::{Issuer, ServerSecret};
use mdoc_issuer::server::{self, Running};
use mdoc_issuer::store::{ApiToken, DsCertificate, DsState, Scope, Store};
use mso::crypto::Algorithm;
use mso::x509::Certificate;
use rand_core::{OsRng, RngCore};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use zeroize::Zeroizing;

use crate::pki::{DevPki, COUNTRY};
use crate::Result;

/// How to start a [`DevStack`].
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// State directory (keys, database, audit log, certificates).
    pub dir: PathBuf,
    /// Database URL; `None` means a SQLite file in `dir`.
    pub database_url: Option<String>,
    /// Argon2id cost of the dev keystore (tests use a cheap one).
    pub kdf: KdfParams,
    /// Listen address (port 0 picks a free one).
    pub listen: SocketAddr,
    /// Configuration adjustments applied before start.
    pub tweak: fn(&mut ServiceConfig),
}

impl StackOptions {
    /// Defaults: SQLite in `dir`, recommended KDF, 127.0.0.1 on a free port.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        StackOptions {
            dir: dir.into(),
            database_url: None,
            kdf: KdfParams::RECOMMENDED,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tweak: |_| {},
        }
    }
}

/// The dev Digital Trust Service: it publishes the dev root and its CRL on loopback.
pub struct DevDts {
    /// The DTS.
    pub dts: Arc<Dts>,
    /// `http://127.0.0.1:<port>`, the public URL its certificates name.
    pub url: String,
    /// Its configuration file (`mdoc-dts --config` serves the same state).
    pub config_path: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl DevDts {
    /// The dev root's fingerprint (SHA-256 of its DER, hex): what a verifier pins.
    pub fn pinned(&self) -> Vec<String> {
        self.dts.config().pins()
    }

    /// Stops serving.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.task.await??;
        self.dts.store().close().await;
        Ok(())
    }
}

/// Binds the dev DTS's address: the one recorded in `dir/dts.addr` (the dev root's CRL URL
/// names it), or a free loopback port on first run, then recorded.
async fn bind_dts(dir: &Path) -> Result<TcpListener> {
    let record = dir.join("dts.addr");
    if let Ok(addr) = std::fs::read_to_string(&record) {
        let addr = addr.trim();
        return TcpListener::bind(addr).await.map_err(|e| {
            format!(
                "the dev DTS address {addr} (named in the dev root's CRL URL) is taken: {e}; \
                 stop what uses it or remove {} to start afresh",
                dir.display()
            )
            .into()
        });
    }
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    std::fs::write(&record, listener.local_addr()?.to_string())?;
    Ok(listener)
}

/// Writes the dev DTS's configuration (pinning the dev root) and opens it.
async fn start_dts(
    dir: &Path,
    listener: TcpListener,
    pki: &DevPki,
    crls: &[Vec<u8>],
    now: OffsetDateTime,
) -> Result<DevDts> {
    let url = format!("http://{}", listener.local_addr()?);
    let dts_dir = dir.join("dts");
    std::fs::create_dir_all(&dts_dir)?;
    let config_path = dts_dir.join("mdoc-dts.toml");
    let fingerprint = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&pki.iaca_der));
    std::fs::write(
        &config_path,
        format!(
            "# DEVELOPMENT ONLY: the dev DTS, written by devstack.\n\
             public_url = {url:?}\npinned_roots = [{fingerprint:?}]\n\
             database_url = \"dts.sqlite\"\naudit_log = \"dts-audit.log\"\n\
             terminal_id = \"dev-dts\"\nlisten = {:?}\n",
            listener.local_addr()?.to_string()
        ),
    )?;
    let config = DtsConfig::load(&config_path)?;
    let dts = Dts::open_with(config, None, Arc::new(SystemClock)).await?;
    // The root's export for this run: the IACA and a fresh CRL, ingested as an operator would.
    let bundle = dts_dir.join(format!("bundle-{}", now.unix_timestamp_nanos()));
    pki.export(&bundle, crls)?;
    let read = Bundle::from_dir(&bundle, &dts.config().limits);
    dts.ingest(read, "devstack", "dev-operator").await?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(mdoc_dts::http::serve(
        listener,
        mdoc_dts::http::App::new(Arc::clone(&dts), mdoc_dts::http::Routes::All),
        async {
            let _ = rx.await;
        },
    ));
    Ok(DevDts {
        dts,
        url,
        config_path,
        stop: Some(tx),
        task,
    })
}

/// A running dev system.
pub struct DevStack {
    /// The dev root.
    pub pki: DevPki,
    /// The engine.
    pub issuer: Arc<Issuer>,
    /// The HTTP server.
    pub running: Running,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The state directory.
    pub dir: PathBuf,
    /// The DS certificate in use (DER).
    pub ds_der: Vec<u8>,
    /// The list signer certificate in use (DER).
    pub list_signer_der: Vec<u8>,
    /// The dev DTS publishing the root and its CRL.
    pub dts: DevDts,
}

/// Reads `dir/<name>` or creates it with 32 random bytes (hex). DEV ONLY: real deployments
/// take secrets from a secret manager through the environment.
fn dev_secret(dir: &Path, name: &str) -> Result<Zeroizing<Vec<u8>>> {
    let path = dir.join(name);
    if let Ok(s) = std::fs::read_to_string(&path) {
        return Ok(Zeroizing::new(s.trim().as_bytes().to_vec()));
    }
    let mut raw = [0u8; 32];
    OsRng.try_fill_bytes(&mut raw)?;
    let text = hex::encode(raw);
    std::fs::write(&path, &text)?;
    Ok(Zeroizing::new(text.into_bytes()))
}

impl DevStack {
    /// Starts (or restarts) the dev system in `opts.dir`: dev root, DS key and certificate
    /// (first run only), database, audit log, HTTP server.
    pub async fn start(opts: StackOptions) -> Result<DevStack> {
        let dir = opts.dir.clone();
        std::fs::create_dir_all(&dir)?;
        let now = OffsetDateTime::now_utc();
        let root_secret = dev_secret(&dir, "DEV-ONLY-root-keystore.secret")?;
        // The DTS's address comes first: the root's CRL URL names it.
        let dts_listener = bind_dts(&dir).await?;
        let crl_url = format!("http://{}/crl/dev-iaca.crl", dts_listener.local_addr()?);
        let mut pki =
            DevPki::open_or_create(&dir.join("root"), &root_secret, &opts.kdf, now, &crl_url)?;
        let iaca_path = DevPki::cert_path(&dir.join("root"));

        let mut config = ServiceConfig::default();
        config.server.listen = opts.listen;
        config.database.url = opts
            .database_url
            .clone()
            .unwrap_or_else(|| dir.join("issuer.sqlite").display().to_string());
        config.keystore = KeystoreSection::DevFile {
            dir: dir.join("ds-keys"),
            secret_env: "unused-in-dev".into(),
        };
        config.trust.iaca = vec![iaca_path];
        // The issuer follows its root's CRL on the DTS.
        config.crl_intake.enabled = true;
        config.audit.path = dir.join("issuer-audit.log");
        (opts.tweak)(&mut config);

        // The public URL must be known before the MSOs are signed: bind first.
        let listener = TcpListener::bind(config.server.listen).await?;
        let addr = listener.local_addr()?;
        config.server.public_url = format!("http://{addr}");

        let ds_secret = dev_secret(&dir, "DEV-ONLY-ds-keystore.secret")?;
        std::fs::create_dir_all(dir.join("ds-keys"))?;
        let keys = DsKeys::open(KeystoreConfig::DevFile {
            dir: dir.join("ds-keys"),
            secret: ds_secret,
            kdf: opts.kdf,
        })?;
        // The audit log's checkpoints are signed with a key of their own (made once).
        let audit_key = dir.join("ds-keys").join(format!("{AUDIT_KEY_LABEL}.key"));
        if !audit_key.exists() {
            keys.generate(AUDIT_KEY_LABEL, Algorithm::Es256)?;
        }
        if config.audit.checkpoint_key_uri.is_none() {
            config.audit.checkpoint_key_uri =
                Some(custody::uri::KeyUri::file(audit_key).to_string());
        }
        let store = Store::open(&config.database.url).await?;
        let ds_der = ensure_signer(Signer::Ds, &pki, &keys, &store, &dir, now).await?;
        let list_signer_der =
            ensure_signer(Signer::ListSigner, &pki, &keys, &store, &dir, now).await?;
        store.close().await;
        let crl = pki.crl(&[], now)?;
        let dts = start_dts(&dir, dts_listener, &pki, &[crl], now).await?;

        let secret = ServerSecret::new(dev_secret(&dir, "DEV-ONLY-server.secret")?.to_vec())?;
        let started: Result<_> = async {
            let issuer = server::build_with(config, keys, secret).await?;
            let running = server::start(Arc::clone(&issuer), listener).await?;
            Ok((issuer, running))
        }
        .await;
        // A refused start (e.g. an altered audit log) frees the DTS's address for the next one.
        let (issuer, running) = match started {
            Ok(started) => started,
            Err(e) => {
                let _ = dts.stop().await;
                return Err(e);
            }
        };
        Ok(DevStack {
            pki,
            issuer,
            base_url: format!("http://{}", running.addr),
            running,
            dir,
            ds_der,
            list_signer_der,
            dts,
        })
    }

    /// Creates an API client with `scopes`.
    pub async fn client(&self, name: &str, scopes: &[Scope]) -> Result<ApiToken> {
        Ok(self.issuer.store().create_client(name, scopes).await?.1)
    }

    /// Certifies and installs another DS, which the engine then signs with (the newest usable
    /// one): a spare, so issuance goes on after the DS in use is revoked. Returns its serial.
    pub async fn add_ds(&self, kdf: KdfParams) -> Result<String> {
        let keys = DsKeys::open(KeystoreConfig::DevFile {
            dir: self.dir.join("ds-keys"),
            secret: dev_secret(&self.dir, "DEV-ONLY-ds-keystore.secret")?,
            kdf,
        })?;
        let now = OffsetDateTime::now_utc();
        let store = self.issuer.store();
        let (serial, _) = certify(Signer::Ds, &self.pki, &keys, store, &self.dir, now).await?;
        self.issuer.reload_ds(now).await?;
        Ok(serial)
    }

    /// The IACA certificate.
    pub fn iaca(&self) -> Result<Certificate> {
        Ok(Certificate::from_der(&self.pki.iaca_der)?)
    }

    /// Stops the server gracefully.
    pub async fn stop(self) -> Result<()> {
        self.running.shutdown().await?;
        self.issuer.store().close().await;
        self.dts.stop().await
    }
}

/// The dev keystore label of the key that signs the issuer's audit checkpoints.
pub const AUDIT_KEY_LABEL: &str = "DEV-ONLY-audit-checkpoints";

/// The two signer keys the dev root certifies for the issuer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Signer {
    Ds,
    ListSigner,
}

/// The active certificate of `signer` in the store, or a new one ([`certify`]).
async fn ensure_signer(
    signer: Signer,
    pki: &DevPki,
    keys: &DsKeys,
    store: &Store,
    dir: &Path,
    now: OffsetDateTime,
) -> Result<Vec<u8>> {
    let installed = match signer {
        Signer::Ds => store.ds_certificates().await?,
        Signer::ListSigner => store.list_signer_certificates().await?,
    };
    if let Some(c) = installed
        .into_iter()
        .find(|c| c.state == DsState::Active && c.not_after > now)
    {
        return Ok(c.der);
    }
    Ok(certify(signer, pki, keys, store, dir, now).await?.1)
}

/// A new `signer` key in the dev keystore, certified by the dev root and installed as an
/// operator would (`mdoc-issuer ds|list-signer csr`, the root's ceremony, `... install`);
/// returns its serial and DER.
async fn certify(
    signer: Signer,
    pki: &DevPki,
    keys: &DsKeys,
    store: &Store,
    dir: &Path,
    now: OffsetDateTime,
) -> Result<(String, Vec<u8>)> {
    let (prefix, name) = match signer {
        Signer::Ds => ("ds", "DEV-ONLY mdoc Document Signer"),
        Signer::ListSigner => ("list-signer", "DEV-ONLY mdoc Revocation List Signer"),
    };
    // Nanoseconds: several keys may be made within one second.
    let key = keys.generate(
        &format!("{prefix}-{}", now.unix_timestamp_nanos()),
        Algorithm::Es256,
    )?;
    let subject = DsSubject {
        country: COUNTRY.into(),
        state: None,
        organization: Some("DEV-ONLY Test Authority".into()),
        common_name: name.into(),
    };
    let csr = generate_csr(key.signer.as_ref(), &subject)?;
    std::fs::write(dir.join(format!("{prefix}.csr.pem")), csr_pem(&csr)?)?;
    let iaca = [Certificate::from_der(&pki.iaca_der)?];
    let (cert, checked) = match signer {
        Signer::Ds => {
            let cert = pki.sign_csr(&csr, now)?;
            let checked = install_certificate(&cert, key.signer.as_ref(), &iaca, now)?;
            (cert, checked)
        }
        Signer::ListSigner => {
            let cert = pki.sign_list_signer_csr(&csr, now)?;
            let checked = install_list_signer_certificate(&cert, key.signer.as_ref(), &iaca, now)?;
            (cert, checked)
        }
    };
    let serial = checked.serial().to_owned();
    let row = DsCertificate {
        serial: serial.clone(),
        der: cert.clone(),
        not_before: checked.not_before(),
        not_after: checked.not_after(),
        state: DsState::Active,
        key_uri: key.uri.to_string(),
        installed_at: now - time::Duration::minutes(5),
    };
    match signer {
        Signer::Ds => store.insert_ds_certificate(&row).await?,
        Signer::ListSigner => store.insert_list_signer_certificate(&row).await?,
    }
    Ok((serial, cert))
}
