//! The development root CA. **DEVELOPMENT ONLY.**

use std::path::{Path, PathBuf};

use custody::softstore::{KdfParams, SoftKeystore};
use mdoc_ca::crl::{build_crl, CrlParams, RevokedEntry};
use mdoc_ca::csr::{parse_csr, CsrPolicy};
use mdoc_ca::profile::{
    build_ds, build_iaca, build_link, build_list_signer, DsParams, IacaParams, IssuerAltNames,
    LinkKind, LinkParams, SubjectName,
};
use mso::crypto::{Algorithm, Signer, SoftwareKey};
use time::{Duration, OffsetDateTime};

use crate::Result;

/// The dev root's country.
pub const COUNTRY: &str = "NL";
/// A development IACA: its certificate and its key (in the dev file keystore).
pub struct DevPki {
    /// The IACA certificate (DER).
    pub iaca_der: Vec<u8>,
    key: SoftwareKey,
    crl_number: u64,
    crl_url: String,
}

/// The dev root's issuerAltName and its CRL URL: where the dev DTS serves its CRL.
fn locators(crl_url: &str) -> (IssuerAltNames, Vec<String>) {
    (
        IssuerAltNames {
            uris: vec!["https://dev.invalid/dev-iaca".into()],
            emails: Vec::new(),
        },
        vec![crl_url.to_owned()],
    )
}

/// CRL numbers only grow, also across runs of the dev tools: start from the clock.
fn first_crl_number(now: OffsetDateTime) -> u64 {
    u64::try_from(now.unix_timestamp())
        .unwrap_or(1)
        .saturating_mul(1000)
}

fn subject() -> SubjectName {
    SubjectName {
        country: COUNTRY.into(),
        state_or_province: None,
        organization: Some("DEV-ONLY Test Authority".into()),
        common_name: "DEV-ONLY mdoc IACA (not for production)".into(),
    }
}

/// `build_ds` or `build_list_signer`.
type BuildSigner = fn(
    &mdoc_ca::csr::ValidatedCsr,
    &[u8],
    &DsParams,
    &dyn Signer,
) -> std::result::Result<Vec<u8>, mdoc_ca::profile::ProfileError>;

impl DevPki {
    /// Opens the dev root in `dir` (`iaca.key`, `iaca.der`), creating it on first use with
    /// `crl_url` (the dev DTS) as its CRL distribution point. An existing root that names
    /// another CRL URL is refused: its certificates would point where nothing is served.
    pub fn open_or_create(
        dir: &Path,
        secret: &[u8],
        kdf: &KdfParams,
        now: OffsetDateTime,
        crl_url: &str,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let key_path = dir.join("iaca.key");
        let cert_path = dir.join("iaca.der");
        let crl_number = first_crl_number(now);
        if key_path.exists() && cert_path.exists() {
            let key = SoftKeystore::open(&key_path, secret)?;
            let iaca_der = std::fs::read(&cert_path)?;
            let named = mso::x509::Certificate::from_der(&iaca_der)?.crl_distribution_uris()?;
            if named != [crl_url] {
                return Err(format!(
                    "the dev root in {} names CRL URL {named:?}, not {crl_url}; remove the \
                     state directory to start afresh",
                    dir.display()
                )
                .into());
            }
            return Ok(DevPki {
                iaca_der,
                key,
                crl_number,
                crl_url: crl_url.to_owned(),
            });
        }
        let key = SoftKeystore::generate_with(&key_path, Algorithm::Es384, secret, kdf)?;
        let (ian, crldp) = locators(crl_url);
        let params = IacaParams::new(subject(), now - Duration::hours(1), ian, crldp);
        let iaca_der = build_iaca(&params, &key)?;
        std::fs::write(&cert_path, &iaca_der)?;
        Ok(DevPki {
            iaca_der,
            key,
            crl_number,
            crl_url: crl_url.to_owned(),
        })
    }

    /// The root's CRL URL.
    pub fn crl_url(&self) -> &str {
        &self.crl_url
    }

    /// Writes a DTS bundle to the new directory `out` as `mdoc-ca export` lays it out: the
    /// IACA, the given CRLs and the SHA-256 manifest.
    pub fn export(&self, out: &Path, crls: &[Vec<u8>]) -> Result<()> {
        use sha2::{Digest, Sha256};
        let mut files = vec![("iaca/01.der".to_owned(), self.iaca_der.clone())];
        for (i, crl) in crls.iter().enumerate() {
            files.push((format!("crl/{:08}.crl", i + 1), crl.clone()));
        }
        let mut manifest = String::from("# sha256  file\n");
        for (name, bytes) in &files {
            manifest.push_str(&format!("{}  {name}\n", hex::encode(Sha256::digest(bytes))));
            let path = out.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, bytes)?;
        }
        std::fs::write(out.join("MANIFEST.sha256"), manifest)?;
        Ok(())
    }

    /// Where the IACA certificate is kept.
    pub fn cert_path(dir: &Path) -> PathBuf {
        dir.join("iaca.der")
    }

    /// Certifies a DS CSR (PEM or DER) as `mdoc-ca sign-ds` would.
    pub fn sign_csr(&self, csr: &[u8], now: OffsetDateTime) -> Result<Vec<u8>> {
        self.certify(csr, now, build_ds)
    }

    /// Certifies a list signer CSR (PEM or DER) as `mdoc-ca sign-list-signer` would.
    pub fn sign_list_signer_csr(&self, csr: &[u8], now: OffsetDateTime) -> Result<Vec<u8>> {
        self.certify(csr, now, build_list_signer)
    }

    fn certify(&self, csr: &[u8], now: OffsetDateTime, build: BuildSigner) -> Result<Vec<u8>> {
        let csr = parse_csr(csr, &CsrPolicy::default())?;
        let (ian, crldp) = locators(&self.crl_url);
        let mut params = DsParams::new(now - Duration::minutes(5), ian, crldp);
        params.clip_to_issuer_validity = true;
        Ok(build(&csr, &self.iaca_der, &params, &self.key)?)
    }

    /// A CRL listing `revoked` serials (big-endian bytes), valid for 3 days from `now`.
    pub fn crl(&mut self, revoked: &[Vec<u8>], now: OffsetDateTime) -> Result<Vec<u8>> {
        let entries: Vec<RevokedEntry> = revoked
            .iter()
            .map(|s| RevokedEntry {
                serial: s.clone(),
                revocation_date: now - Duration::minutes(1),
            })
            .collect();
        let params = CrlParams::new(self.crl_number, now - Duration::minutes(1));
        self.crl_number += 1;
        Ok(build_crl(&self.iaca_der, &params, &entries, &self.key)?)
    }

    /// A rehearsed root key rollover: a new IACA key (kept in memory only) and its
    /// self-signed certificate naming `next_crl_url` (each root its own CRL URL), with the
    /// NewWithOld and OldWithNew link certificates. Returns `(new_iaca, new_with_old,
    /// old_with_new)`.
    pub fn rollover(
        &self,
        now: OffsetDateTime,
        next_crl_url: &str,
    ) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        let new_key = SoftwareKey::generate(Algorithm::Es384);
        let (ian, crldp) = locators(next_crl_url);
        let new_iaca = build_iaca(&IacaParams::new(subject(), now, ian, crldp), &new_key)?;
        let nwo = LinkParams::for_rollover(LinkKind::NewWithOld, &self.iaca_der, &new_iaca)?;
        let new_with_old = build_link(
            &new_key.public_key()?,
            &new_iaca,
            &self.iaca_der,
            &nwo,
            &self.key,
        )?;
        let own = LinkParams::for_rollover(LinkKind::OldWithNew, &self.iaca_der, &new_iaca)?;
        let old_with_new = build_link(
            &self.key.public_key()?,
            &self.iaca_der,
            &new_iaca,
            &own,
            &new_key,
        )?;
        Ok((new_iaca, new_with_old, old_with_new))
    }
}
