//! The development root CA. **DEVELOPMENT ONLY.**

use std::path::{Path, PathBuf};

use custody::softstore::{KdfParams, SoftKeystore};
use mdoc_ca::crl::{build_crl, CrlParams, RevokedEntry};
use mdoc_ca::csr::{parse_csr, CsrPolicy};
use mdoc_ca::profile::{
    build_ds, build_iaca, build_link, DsParams, IacaParams, IssuerAltNames, LinkKind, LinkParams,
    SubjectName,
};
use mso::crypto::{Algorithm, Signer, SoftwareKey};
use time::{Duration, OffsetDateTime};

use crate::Result;

/// The dev root's country.
pub const COUNTRY: &str = "NL";
/// The dev root's issuerAltName / CRL locations (loopback: nothing is published).
const BASE: &str = "http://127.0.0.1/dev-iaca";

/// A development IACA: its certificate and its key (in the dev file keystore).
pub struct DevPki {
    /// The IACA certificate (DER).
    pub iaca_der: Vec<u8>,
    key: SoftwareKey,
    crl_number: u64,
}

fn locators() -> (IssuerAltNames, Vec<String>) {
    (
        IssuerAltNames {
            uris: vec![format!("{BASE}/info")],
            emails: Vec::new(),
        },
        vec![format!("{BASE}/iaca.crl")],
    )
}

fn subject() -> SubjectName {
    SubjectName {
        country: COUNTRY.into(),
        state_or_province: None,
        organization: Some("DEV-ONLY Test Authority".into()),
        common_name: "DEV-ONLY mdoc IACA (not for production)".into(),
    }
}

impl DevPki {
    /// Opens the dev root in `dir` (`iaca.key`, `iaca.der`), creating it on first use.
    pub fn open_or_create(
        dir: &Path,
        secret: &[u8],
        kdf: &KdfParams,
        now: OffsetDateTime,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let key_path = dir.join("iaca.key");
        let cert_path = dir.join("iaca.der");
        if key_path.exists() && cert_path.exists() {
            let key = SoftKeystore::open(&key_path, secret)?;
            let iaca_der = std::fs::read(&cert_path)?;
            return Ok(DevPki {
                iaca_der,
                key,
                crl_number: 1,
            });
        }
        let key = SoftKeystore::generate_with(&key_path, Algorithm::Es384, secret, kdf)?;
        let (ian, crldp) = locators();
        let params = IacaParams::new(subject(), now - Duration::hours(1), ian, crldp);
        let iaca_der = build_iaca(&params, &key)?;
        std::fs::write(&cert_path, &iaca_der)?;
        Ok(DevPki {
            iaca_der,
            key,
            crl_number: 1,
        })
    }

    /// Where the IACA certificate is kept.
    pub fn cert_path(dir: &Path) -> PathBuf {
        dir.join("iaca.der")
    }

    /// Certifies a DS CSR (PEM or DER) as `mdoc-ca sign-ds` would.
    pub fn sign_csr(&self, csr: &[u8], now: OffsetDateTime) -> Result<Vec<u8>> {
        let csr = parse_csr(csr, &CsrPolicy::default())?;
        let (ian, crldp) = locators();
        let mut params = DsParams::new(now - Duration::minutes(5), ian, crldp);
        params.clip_to_issuer_validity = true;
        Ok(build_ds(&csr, &self.iaca_der, &params, &self.key)?)
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
    /// self-signed certificate, with the NewWithOld and OldWithNew link certificates.
    /// Returns `(new_iaca, new_with_old, old_with_new)`.
    pub fn rollover(&self, now: OffsetDateTime) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        let new_key = SoftwareKey::generate(Algorithm::Es384);
        let (ian, crldp) = locators();
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
