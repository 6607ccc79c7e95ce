//! The issuer service on loopback with its DS certified by the dev root. **DEVELOPMENT ONLY.**

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use custody::softstore::KdfParams;
use mdoc_issuer::config::{KeystoreSection, ServiceConfig};
use mdoc_issuer::ds::{
    csr_pem, generate_csr, install_certificate, DsKeys, DsSubject, KeystoreConfig,
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
        let pki = DevPki::open_or_create(&dir.join("root"), &root_secret, &opts.kdf, now)?;
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
        let store = Store::open(&config.database.url).await?;
        let ds_der = ensure_ds(&pki, &keys, &store, &dir, now).await?;
        store.close().await;

        let secret = ServerSecret::new(dev_secret(&dir, "DEV-ONLY-server.secret")?.to_vec())?;
        let issuer = server::build_with(config, keys, secret).await?;
        let running = server::start(Arc::clone(&issuer), listener).await?;
        Ok(DevStack {
            pki,
            issuer,
            base_url: format!("http://{}", running.addr),
            running,
            dir,
            ds_der,
        })
    }

    /// Creates an API client with `scopes`.
    pub async fn client(&self, name: &str, scopes: &[Scope]) -> Result<ApiToken> {
        Ok(self.issuer.store().create_client(name, scopes).await?.1)
    }

    /// The IACA certificate.
    pub fn iaca(&self) -> Result<Certificate> {
        Ok(Certificate::from_der(&self.pki.iaca_der)?)
    }

    /// Stops the server gracefully.
    pub async fn stop(self) -> Result<()> {
        self.running.shutdown().await?;
        self.issuer.store().close().await;
        Ok(())
    }
}

/// Makes sure an active DS exists: on first run, generates the DS key in the dev keystore,
/// writes its CSR, has the dev root certify it, checks and installs the certificate.
async fn ensure_ds(
    pki: &DevPki,
    keys: &DsKeys,
    store: &Store,
    dir: &Path,
    now: OffsetDateTime,
) -> Result<Vec<u8>> {
    if let Some(ds) = store
        .ds_certificates()
        .await?
        .into_iter()
        .find(|c| c.state == DsState::Active && c.not_after > now)
    {
        return Ok(ds.der);
    }
    let label = format!("ds-{}", now.unix_timestamp());
    let key = keys.generate(&label, Algorithm::Es256)?;
    let subject = DsSubject {
        country: COUNTRY.into(),
        state: None,
        organization: Some("DEV-ONLY Test Authority".into()),
        common_name: "DEV-ONLY mdoc Document Signer".into(),
    };
    let csr = generate_csr(key.signer.as_ref(), &subject)?;
    std::fs::write(dir.join("ds.csr.pem"), csr_pem(&csr)?)?;
    let cert = pki.sign_csr(&csr, now)?;
    let iaca = Certificate::from_der(&pki.iaca_der)?;
    let checked = install_certificate(&cert, key.signer.as_ref(), &[iaca], now)?;
    store
        .insert_ds_certificate(&DsCertificate {
            serial: checked.serial().to_owned(),
            der: cert.clone(),
            not_before: checked.not_before(),
            not_after: checked.not_after(),
            state: DsState::Active,
            key_uri: key.uri.to_string(),
            installed_at: now - time::Duration::minutes(5),
        })
        .await?;
    Ok(cert)
}
