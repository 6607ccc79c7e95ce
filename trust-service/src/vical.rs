//! The DTS's VICAL: the ISO 18013-5 Annex C list of the IACAs it publishes, signed by a VICAL
//! signer key named by URI whose certificate follows the VICAL signer profile.
//!
//! A new list (next `vicalIssueID`) is signed whenever the set of listed IACAs changes (an
//! ingest adds a root, a root expires) and when the current list has used half of its
//! validity, so a relying party never holds a list past its nextUpdate while the DTS runs.

use std::str::FromStr;

use custody::pkcs11::{find_softhsm2_module, Pkcs11Token};
use custody::softstore::SoftKeystore;
use custody::uri::KeyUri;
use mso::crypto::Signer;
use mso::vical::{ListedIaca, VicalContent};
use mso::x509::{profile, Certificate};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::config::{ConfigError, VicalConfig};
use crate::layout::PublicUrl;
use crate::store::{State, VicalRecord};

/// An opened VICAL signer: its key and certificate chain.
pub struct VicalSigner {
    config: VicalConfig,
    signer: Box<dyn Signer>,
    chain: Vec<Vec<u8>>,
    /// Kept so the token stays logged in while the key is used.
    _token: Option<Pkcs11Token>,
}

impl core::fmt::Debug for VicalSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VicalSigner")
            .field("key", &self.config.key)
            .finish_non_exhaustive()
    }
}

fn invalid(message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(format!("vical: {}", message.into()))
}

impl VicalSigner {
    /// Opens the key `config.key` names with the secret from `config.secret_env`, reads the
    /// certificate chain, and checks that the signer certificate follows the VICAL signer
    /// profile and certifies that key.
    pub fn open(config: &VicalConfig) -> Result<Self, ConfigError> {
        let secret = Zeroizing::new(
            std::env::var(&config.secret_env)
                .map_err(|_| {
                    invalid(format!(
                        "environment variable {} is not set",
                        config.secret_env
                    ))
                })?
                .into_bytes(),
        );
        let pem =
            std::fs::read_to_string(&config.certificates).map_err(|source| ConfigError::Read {
                path: config.certificates.display().to_string(),
                source,
            })?;
        let chain = pem_certificates(&pem).map_err(invalid)?;
        let uri = KeyUri::from_str(&config.key).map_err(|e| invalid(e.to_string()))?;
        let (signer, token): (Box<dyn Signer>, Option<Pkcs11Token>) = match &uri {
            KeyUri::File { .. } => (
                Box::new(
                    SoftKeystore::open_uri(&uri, &secret).map_err(|e| invalid(e.to_string()))?,
                ),
                None,
            ),
            KeyUri::Pkcs11 { token, .. } => {
                let module = config
                    .module
                    .clone()
                    .or_else(find_softhsm2_module)
                    .ok_or_else(|| invalid("no PKCS#11 module"))?;
                let token = Pkcs11Token::activate(module, token, &secret)
                    .map_err(|e| invalid(e.to_string()))?;
                let key = token.open_uri(&uri).map_err(|e| invalid(e.to_string()))?;
                (Box::new(key), Some(token))
            }
        };
        Self::from_parts(config.clone(), signer, chain, token)
    }

    /// A signer from an open key and its chain (signer certificate first), checked as
    /// [`VicalSigner::open`] does.
    pub fn from_parts(
        config: VicalConfig,
        signer: Box<dyn Signer>,
        chain: Vec<Vec<u8>>,
        token: Option<Pkcs11Token>,
    ) -> Result<Self, ConfigError> {
        let certs = chain
            .iter()
            .map(|d| Certificate::from_der(d))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("certificate: {e}")))?;
        let leaf = certs
            .first()
            .ok_or_else(|| invalid("no signer certificate"))?;
        let inspection = profile::inspect_vical_signer(leaf.tbs(), certs.get(1).map(|c| c.tbs()));
        if inspection.has_errors() {
            return Err(invalid(format!(
                "the signer certificate breaks the VICAL signer profile: {}",
                inspection
                    .errors()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        let cert_key = leaf.public_key().map_err(|e| invalid(e.to_string()))?;
        let key = signer.public_key().map_err(|e| invalid(e.to_string()))?;
        if cert_key != key {
            return Err(invalid(
                "the key is not the one the signer certificate certifies",
            ));
        }
        Ok(VicalSigner {
            config,
            signer,
            chain,
            _token: token,
        })
    }

    /// The IACAs a list at `at` carries: every published root valid at `at`.
    pub fn listed(state: &State, at: OffsetDateTime) -> Vec<String> {
        state
            .roots
            .iter()
            .filter(|r| r.certificate.not_before() <= at && at <= r.certificate.not_after())
            .map(|r| r.fingerprint.clone())
            .collect()
    }

    /// Whether a new list is due at `at` given `state` (with the roots that will be in it).
    pub fn due(&self, state: &State, at: OffsetDateTime) -> bool {
        let listed = Self::listed(state, at);
        match &state.vical {
            None => true,
            Some(v) => {
                let half = (v.next_update - v.date) / 2;
                v.roots != listed || at >= v.date + half || at >= v.next_update
            }
        }
    }

    /// Signs the next list over `state`'s roots at `at`.
    pub fn sign(
        &self,
        state: &State,
        public: &PublicUrl,
        at: OffsetDateTime,
    ) -> mso::Result<VicalRecord> {
        let roots = Self::listed(state, at);
        let issue_id = state.vical.as_ref().map_or(1, |v| v.issue_id + 1);
        let next_update = at + time::Duration::days(i64::from(self.config.validity_days));
        let content = VicalContent {
            provider: self.config.provider.clone(),
            date: at,
            issue_id: Some(issue_id),
            next_update: Some(next_update),
            url: Some(public.absolute(&public.vical())),
            iacas: roots
                .iter()
                .filter_map(|fp| state.root(fp))
                .map(|r| ListedIaca {
                    certificate: r.certificate.clone(),
                    doc_types: self.config.doc_types.clone(),
                    certificate_profiles: Vec::new(),
                })
                .collect(),
        };
        let bytes = content.sign(&self.chain, self.signer.as_ref())?;
        Ok(VicalRecord {
            issue_id,
            date: at,
            next_update,
            roots,
            bytes,
        })
    }
}

/// The DER of every CERTIFICATE block of a PEM file, in order.
pub fn pem_certificates(pem: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let block = rest.get(start..).unwrap_or_default();
        let end_marker = "-----END CERTIFICATE-----";
        let end = block
            .find(end_marker)
            .ok_or("unterminated CERTIFICATE block")?
            + end_marker.len();
        let (label, der) = der::pem::decode_vec(block.get(..end).unwrap_or_default().as_bytes())
            .map_err(|e| format!("PEM: {e}"))?;
        if label != "CERTIFICATE" {
            return Err(format!("unexpected PEM label {label}"));
        }
        out.push(der);
        rest = block.get(end..).unwrap_or_default();
    }
    if out.is_empty() {
        return Err("no CERTIFICATE in the PEM file".into());
    }
    Ok(out)
}
