//! Deciding what a bundle adds: every file classified, verified and checked against what is
//! already held, or the whole bundle refused with the first [`Refusal`].
//!
//! - `iaca/*.der` must be a self-signed CA certificate passing the IACA profile. It is trusted
//!   if its SHA-256 fingerprint is pinned, or if a link certificate signed by a trusted root
//!   certifies its exact subject name and key (a rollover), possibly through a chain of such
//!   links in the same bundle.
//! - `link/*.der` must be a CA certificate, not self-signed, passing the link profile against
//!   its issuer, signed by a trusted root, and certifying the name and key of a root in the
//!   store or the bundle; a link that leads nowhere (another DN, another key) is refused.
//! - `crl/*.crl` must be signed by a trusted root (issuer name, key identifier, signature,
//!   checked at its own thisUpdate so a pre-signed CRL verifies), follow the Annex B CRL
//!   profile (`mso::crl::profile`, the checks the CA ran before signing), and be numbered above
//!   every CRL already held for that root. The
//!   same number with the same bytes is a CRL already held (a later export repeats the
//!   series); with other bytes it is refused.
//! - A Document Signer certificate is refused wherever it appears (policy §4.4.2.3), as is any
//!   file outside those three directories.
//!
//! Each new root's CRL URL (its single CRLDistributionPoints URI) must be one the DTS can
//! serve ([`crate::layout`]) and no other root's.

use std::collections::BTreeMap;

use der::{Decode, Encode};
use mso::crl::profile as crl_profile;
use mso::crl::{Crl, CrlVerifyOptions, DEFAULT_MAX_CRL_LEN};
use mso::crypto::{DefaultVerifier, Verifier};
use mso::x509::{oid, profile, Certificate};
use time::{Duration, OffsetDateTime};
use x509_cert::crl::CertificateList;

use crate::bundle::Bundle;
use crate::error::{CrlUrlProblem, Refusal};
use crate::layout::PublicUrl;
use crate::store::{sha256_hex, CrlNumberHex, CrlRecord, LinkRecord, RootRecord, State};

/// What an accepted bundle adds.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// New roots.
    pub roots: Vec<RootRecord>,
    /// New link certificates.
    pub links: Vec<LinkRecord>,
    /// New CRLs with their DER.
    pub crls: Vec<(CrlRecord, Vec<u8>)>,
    /// Files already held byte for byte.
    pub already_held: usize,
}

impl Plan {
    /// Whether the bundle adds nothing.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty() && self.links.is_empty() && self.crls.is_empty()
    }

    /// One line for the audit log and the ingest record.
    pub fn summary(&self) -> String {
        format!(
            "roots +{} links +{} crls +{} already held {}",
            self.roots.len(),
            self.links.len(),
            self.crls.len(),
            self.already_held
        )
    }
}

struct Candidate<'b> {
    name: &'b str,
    cert: Certificate,
    fingerprint: String,
}

fn undecodable(name: &str, e: impl ToString) -> Refusal {
    Refusal::Undecodable {
        name: name.to_owned(),
        reason: e.to_string(),
    }
}

/// A DS certificate is named as such wherever it is and whatever its file name.
fn document_signer(name: &str, bytes: &[u8]) -> Option<Refusal> {
    let cert = Certificate::from_der(bytes).ok()?;
    let eku = cert.extended_key_usage().ok()??;
    eku.contains(&oid::MDL_DS_EKU)
        .then(|| Refusal::DocumentSigner {
            name: name.to_owned(),
        })
}

fn spki_der(cert: &Certificate) -> Vec<u8> {
    cert.tbs()
        .subject_public_key_info
        .to_der()
        .unwrap_or_default()
}

fn is_ca(cert: &Certificate) -> bool {
    matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.ca)
}

/// Parses a certificate and refuses a DS certificate or a non-CA.
fn parse_ca_certificate<'b>(
    name: &'b str,
    der: &[u8],
    expected: &'static str,
) -> Result<Candidate<'b>, Refusal> {
    let cert = Certificate::from_der(der).map_err(|e| undecodable(name, e))?;
    let eku = cert
        .extended_key_usage()
        .map_err(|e| undecodable(name, e))?;
    if eku.is_some_and(|k| k.contains(&oid::MDL_DS_EKU)) {
        return Err(Refusal::DocumentSigner {
            name: name.to_owned(),
        });
    }
    if !is_ca(&cert) {
        return Err(Refusal::WrongKind {
            name: name.to_owned(),
            expected,
        });
    }
    Ok(Candidate {
        name,
        fingerprint: sha256_hex(der),
        cert,
    })
}

fn profile_errors(name: &str, inspection: &profile::Inspection) -> Result<(), Refusal> {
    if inspection.has_errors() {
        return Err(Refusal::Profile {
            name: name.to_owned(),
            violations: inspection.errors().map(|v| v.to_string()).collect(),
        });
    }
    Ok(())
}

/// Whether `link` was issued by `root`: names, key identifiers, signature and the link profile
/// against it. `Err` says why not.
fn issued_by(
    link: &Certificate,
    root: &Certificate,
    verifier: &dyn Verifier,
) -> Result<(), String> {
    if link.issuer() != root.subject() {
        return Err("issuer name is no trusted root's".into());
    }
    if let (Some(aki), Some(ski)) = (link.authority_key_id(), root.subject_key_id()) {
        if aki != ski {
            return Err("authority key identifier is no trusted root's".into());
        }
    }
    link.verify_issued_by(root, verifier)
        .map_err(|e| format!("signature: {e}"))?;
    let inspection = profile::inspect_link(link.tbs(), Some(root.tbs()));
    if inspection.has_errors() {
        return Err(format!(
            "breaks the link profile: {}",
            inspection
                .errors()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    Ok(())
}

/// Decides what `bundle` adds to `state` at `at`, or refuses it.
pub fn plan(
    state: &State,
    bundle: &Bundle,
    pins: &[String],
    public: &PublicUrl,
    at: OffsetDateTime,
    max_crl_validity: Duration,
) -> Result<Plan, Refusal> {
    let verifier = DefaultVerifier;
    let mut plan = Plan::default();
    let mut roots = Vec::new();
    let mut links = Vec::new();
    let mut crls = Vec::new();
    for (name, bytes) in bundle.files() {
        let (dir, _) = name.split_once('/').unwrap_or(("", name));
        match dir {
            "iaca" if name.ends_with(".der") => {
                let c = parse_ca_certificate(name, bytes, "self-signed IACA")?;
                if !c.cert.is_self_issued() || c.cert.verify_issued_by(&c.cert, &verifier).is_err()
                {
                    return Err(Refusal::WrongKind {
                        name: name.to_owned(),
                        expected: "self-signed IACA",
                    });
                }
                profile_errors(name, &profile::inspect_iaca(c.cert.tbs()))?;
                roots.push(c);
            }
            "link" if name.ends_with(".der") => {
                let c = parse_ca_certificate(name, bytes, "link certificate")?;
                if c.cert.verify_issued_by(&c.cert, &verifier).is_ok() {
                    return Err(Refusal::WrongKind {
                        name: name.to_owned(),
                        expected: "link certificate",
                    });
                }
                links.push(c);
            }
            "crl" if name.ends_with(".crl") => {
                let crl = Crl::from_der_with_limit(bytes, DEFAULT_MAX_CRL_LEN)
                    .map_err(|e| document_signer(name, bytes).unwrap_or(undecodable(name, e)))?;
                crls.push((name, bytes, crl));
            }
            _ => {
                return Err(
                    document_signer(name, bytes).unwrap_or(Refusal::UnexpectedFile {
                        name: name.to_owned(),
                    }),
                );
            }
        }
    }

    // Trust: held roots, pinned roots, then roots reached by links, until nothing changes.
    let mut trusted: BTreeMap<String, Certificate> = state
        .roots
        .iter()
        .map(|r| (r.fingerprint.clone(), r.certificate.clone()))
        .collect();
    let mut via: BTreeMap<String, Option<String>> = BTreeMap::new();
    for r in &roots {
        if state.root(&r.fingerprint).is_some() {
            plan.already_held += 1;
        } else if pins.contains(&r.fingerprint) {
            trusted.insert(r.fingerprint.clone(), r.cert.clone());
            via.insert(r.fingerprint.clone(), None);
        }
    }
    let held_links: Vec<&str> = state.links.iter().map(|l| l.fingerprint.as_str()).collect();
    let all_roots: Vec<(String, Certificate)> = state
        .roots
        .iter()
        .map(|r| (r.fingerprint.clone(), r.certificate.clone()))
        .chain(
            roots
                .iter()
                .map(|r| (r.fingerprint.clone(), r.cert.clone())),
        )
        .collect();
    let mut link_result: BTreeMap<usize, Result<(String, String), String>> = BTreeMap::new();
    loop {
        let mut changed = false;
        for (i, link) in links.iter().enumerate() {
            if matches!(link_result.get(&i), Some(Ok(_))) {
                continue;
            }
            let mut outcome = Err("no trusted root issued it".to_owned());
            for (fp, root) in &trusted {
                match issued_by(&link.cert, root, &verifier) {
                    Ok(()) => {
                        outcome = Err(
                            "certifies no root's subject name and key (another DN or key)".into(),
                        );
                        let key = spki_der(&link.cert);
                        if let Some((target, _)) = all_roots.iter().find(|(tfp, t)| {
                            tfp != fp && t.subject() == link.cert.subject() && spki_der(t) == key
                        }) {
                            outcome = Ok((fp.clone(), target.clone()));
                        }
                        break;
                    }
                    Err(reason) => {
                        if link.cert.issuer() == root.subject() {
                            outcome = Err(reason);
                        }
                    }
                }
            }
            if let Ok((_, target)) = &outcome {
                if !trusted.contains_key(target) {
                    if let Some((_, cert)) = all_roots.iter().find(|(f, _)| f == target) {
                        trusted.insert(target.clone(), cert.clone());
                        via.insert(target.clone(), Some(link.fingerprint.clone()));
                    }
                }
                changed = true;
            }
            link_result.insert(i, outcome);
        }
        if !changed {
            break;
        }
    }
    for (i, link) in links.iter().enumerate() {
        match link_result.remove(&i) {
            Some(Ok((issuer_root, subject_root))) => {
                if held_links.contains(&link.fingerprint.as_str()) {
                    plan.already_held += 1;
                } else {
                    plan.links.push(LinkRecord {
                        fingerprint: link.fingerprint.clone(),
                        certificate: link.cert.clone(),
                        issuer_root,
                        subject_root,
                        added_at: at,
                    });
                }
            }
            other => {
                let reason = match other {
                    Some(Err(r)) => r,
                    _ => "no trusted root issued it".to_owned(),
                };
                return Err(Refusal::LinkUnverified {
                    name: link.name.to_owned(),
                    reason,
                });
            }
        }
    }
    let mut crl_urls: BTreeMap<String, String> = state
        .roots
        .iter()
        .map(|r| (r.crl_url.clone(), r.fingerprint.clone()))
        .collect();
    for r in &roots {
        if state.root(&r.fingerprint).is_some() {
            continue;
        }
        let Some(via_link) = via.get(&r.fingerprint) else {
            return Err(Refusal::UnknownRoot {
                name: r.name.to_owned(),
                fingerprint: r.fingerprint.clone(),
            });
        };
        let url_refusal = |url: &str, problem| Refusal::CrlUrl {
            name: r.name.to_owned(),
            url: url.to_owned(),
            problem,
        };
        let uris = r
            .cert
            .crl_distribution_uris()
            .map_err(|e| undecodable(r.name, e))?;
        let [url] = uris.as_slice() else {
            return Err(url_refusal(&uris.join(" "), CrlUrlProblem::NotExactlyOne));
        };
        public
            .crl_path(url)
            .map_err(|e| url_refusal(url, CrlUrlProblem::Path(e)))?;
        if let Some(other) = crl_urls.insert(url.clone(), r.fingerprint.clone()) {
            return Err(url_refusal(url, CrlUrlProblem::Shared(other)));
        }
        plan.roots.push(RootRecord {
            fingerprint: r.fingerprint.clone(),
            certificate: r.cert.clone(),
            crl_url: url.clone(),
            pinned: via_link.is_none(),
            via_link: via_link.clone(),
            added_at: at,
        });
    }

    // CRLs: verified under a trusted root, then numbered above everything held for it.
    let mut verified = Vec::new();
    for (name, bytes, crl) in crls {
        let Some(aki) = crl.authority_key_id().map(<[u8]>::to_vec) else {
            return Err(Refusal::CrlIncomplete {
                name: name.to_owned(),
                missing: "authorityKeyIdentifier",
            });
        };
        let number = crl
            .crl_number()
            .and_then(|n| CrlNumberHex::from_be_bytes(n.as_bytes()))
            .ok_or(Refusal::CrlIncomplete {
                name: name.to_owned(),
                missing: "cRLNumber",
            })?;
        let mut reason = "no trusted root has its issuer name and key identifier".to_owned();
        let mut found = None;
        for (fp, root) in &trusted {
            if root.subject() != crl.issuer() || root.subject_key_id().as_deref() != Some(&aki) {
                continue;
            }
            match crl
                .clone()
                .verify(root, &CrlVerifyOptions::new(crl.this_update()), &verifier)
            {
                Ok(v) => {
                    found = Some((fp.clone(), v));
                    break;
                }
                Err(e) => reason = e.to_string(),
            }
        }
        let Some((root, v)) = found else {
            return Err(Refusal::CrlUnverified {
                name: name.to_owned(),
                reason,
            });
        };
        // The Annex B CRL profile, as the CA checked it before signing.
        let list = CertificateList::from_der(bytes).map_err(|e| undecodable(name, e))?;
        let mut violations = crl_profile::inspect_tbs_crl(&list.tbs_cert_list, max_crl_validity);
        if let Some(issuer) = trusted.get(&root) {
            violations.extend(crl_profile::inspect_crl_against_issuer(
                &list.tbs_cert_list,
                issuer.tbs(),
            ));
        }
        if !violations.is_empty() {
            return Err(Refusal::Profile {
                name: name.to_owned(),
                violations: violations
                    .iter()
                    .take(20)
                    .map(ToString::to_string)
                    .collect(),
            });
        }
        verified.push((
            name,
            CrlRecord {
                root,
                number,
                sha256: sha256_hex(bytes),
                this_update: v.this_update(),
                next_update: v.next_update(),
                entries: v.len() as u64,
                added_at: at,
            },
            bytes.to_vec(),
        ));
    }
    verified.sort_by(|a, b| (&a.1.root, &a.1.number).cmp(&(&b.1.root, &b.1.number)));
    let mut held: BTreeMap<(String, CrlNumberHex), String> = state
        .crls
        .iter()
        .map(|c| ((c.root.clone(), c.number.clone()), c.sha256.clone()))
        .collect();
    for (name, record, der) in verified {
        let key = (record.root.clone(), record.number.clone());
        if let Some(sha) = held.get(&key) {
            if *sha == record.sha256 {
                plan.already_held += 1;
                continue;
            }
            return Err(Refusal::CrlNumberReused {
                name: name.to_owned(),
                root: record.root,
                number: record.number.short().to_owned(),
            });
        }
        if let Some(((_, max), _)) = held.iter().rfind(|((r, _), _)| *r == record.root) {
            if *max > record.number {
                return Err(Refusal::CrlRollback {
                    name: name.to_owned(),
                    root: record.root,
                    number: record.number.short().to_owned(),
                    held: max.short().to_owned(),
                });
            }
        }
        held.insert(key, record.sha256.clone());
        plan.crls.push((record, der));
    }
    Ok(plan)
}
