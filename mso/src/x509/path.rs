//! Path validation in the shape of rustls-webpki: one function of (leaf, chain, anchors,
//! time, role) that either returns the verified path or a typed [`PathError`] naming the
//! certificate at fault.
//!
//! An mdoc path is short. A Document Signer, a list signer and a link certificate are issued
//! directly by a trusted IACA (Annex B: one step, IACA pathLen 0); a VICAL signer may sit under
//! intermediates its x5chain carries. The search is depth-first from the leaf: at each step the
//! trust anchors with the issuer's name are tried first (the one whose subjectKeyIdentifier is
//! the authorityKeyIdentifier first, since IACAs keep their DN across key rollovers), then the
//! chain's certificates the role may use. A candidate is accepted when its key verifies the
//! signature, it is a CA allowed to sign certificates (basicConstraints cA, keyCertSign when
//! keyUsage is present, pathLenConstraint), it has no critical extension this crate does not
//! understand, and (unless the policy leaves validity to the caller) it is valid at the
//! verification time. Every certificate is used at most once, so loops end; the search stops
//! with [`PathError::BudgetExceeded`] after [`PathPolicy::max_signature_checks`] signature
//! verifications or [`PathPolicy::max_candidates`] candidates. When no candidate leads to an
//! anchor, the error of the one that got furthest is returned.
//!
//! The leaf is checked after the path is found: no unknown critical extension, its role's
//! profile ([`profile::inspect`], errors refuse, warnings are returned with the path), and
//! its validity.

use der::asn1::ObjectIdentifier;
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::KeyUsages;

use super::anchors::TrustAnchors;
use super::certificate::{CertValidity, Certificate};
use super::error::{Budget, CertRef, NotCaReason, PathError, Position};
use super::profile::{self, Role, Violation};
use super::{policy, signature};
use crate::crypto::Verifier;

/// What [`validate_with`] checks beyond the chain itself, and its limits. Start from
/// [`PathPolicy::default`] and override fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathPolicy {
    /// Tolerated clock skew for validity checks.
    pub skew: Duration,
    /// Most certificates in a path (leaf included).
    pub max_chain_len: usize,
    /// Most signature verifications per search.
    pub max_signature_checks: usize,
    /// Most candidate issuers considered per search.
    pub max_candidates: usize,
    /// Check every certificate's validity at the verification time. A caller that reports
    /// each certificate's validity as its own finding (document verification) turns this off
    /// and checks [`Certificate::validity_at`] itself; the time still chooses among anchors.
    pub check_validity: bool,
    /// Inspect the leaf against its role's profile. A caller that reports the profile as its
    /// own finding turns this off and calls [`profile::inspect`] itself.
    pub inspect_leaf: bool,
}

impl Default for PathPolicy {
    fn default() -> Self {
        PathPolicy {
            skew: policy::DEFAULT_SKEW,
            max_chain_len: policy::DEFAULT_MAX_CHAIN_LEN,
            max_signature_checks: policy::DEFAULT_MAX_SIGNATURE_CHECKS,
            max_candidates: policy::DEFAULT_MAX_CANDIDATES,
            check_validity: true,
            inspect_leaf: true,
        }
    }
}

/// How many intermediate CAs a role's path may have.
fn max_intermediates(role: Role, policy: &PathPolicy) -> usize {
    match role {
        // Annex B: one step from the IACA (pathLen 0).
        Role::DocumentSigner | Role::ListSigner | Role::Link | Role::Iaca => 0,
        Role::VicalSigner => policy.max_chain_len.saturating_sub(2),
    }
}

/// A trusted path: the leaf and the intermediates used (issuer order), borrowed from the
/// caller's chain (`'c`), and the anchor, borrowed from the trust anchors (`'a`).
#[derive(Debug, Clone)]
pub struct VerifiedPath<'c, 'a> {
    leaf: &'c Certificate,
    intermediates: Vec<&'c Certificate>,
    anchor: &'a Certificate,
    anchor_index: usize,
    warnings: Vec<Violation>,
}

impl<'c, 'a> VerifiedPath<'c, 'a> {
    /// The leaf.
    pub fn leaf(&self) -> &'c Certificate {
        self.leaf
    }

    /// The intermediate CAs, from the leaf's issuer up.
    pub fn intermediates(&self) -> &[&'c Certificate] {
        &self.intermediates
    }

    /// The trust anchor the path ends at.
    pub fn anchor(&self) -> &'a Certificate {
        self.anchor
    }

    /// The anchor's index in the [`TrustAnchors`].
    pub fn anchor_index(&self) -> usize {
        self.anchor_index
    }

    /// The certificate that issued the leaf.
    pub fn leaf_issuer(&self) -> &Certificate {
        self.intermediates.first().copied().unwrap_or(self.anchor)
    }

    /// Every certificate, leaf first, anchor last.
    pub fn certificates(&self) -> impl Iterator<Item = &Certificate> + '_ {
        core::iter::once(self.leaf)
            .chain(self.intermediates.iter().copied())
            .chain(core::iter::once(self.anchor))
    }

    /// The leaf's profile warnings (empty when the policy did not inspect it).
    pub fn warnings(&self) -> &[Violation] {
        &self.warnings
    }
}

/// Parses an x5chain (DER certificates, leaf first) for [`validate`], naming the entry that
/// does not parse.
pub fn parse_chain(ders: &[impl AsRef<[u8]>]) -> Result<Vec<Certificate>, PathError> {
    ders.iter()
        .enumerate()
        .map(|(index, der)| {
            Certificate::from_der(der.as_ref()).map_err(|e| PathError::Malformed {
                index,
                reason: e.to_string(),
            })
        })
        .collect()
}

/// Validates `leaf` for `role` at `at` with the default [`PathPolicy`]: a path through
/// `chain` (the x5chain after the leaf; may be empty) to one of `anchors`. See the
/// [module documentation](self).
pub fn validate<'c, 'a>(
    leaf: &'c Certificate,
    chain: &'c [Certificate],
    anchors: &'a TrustAnchors,
    at: OffsetDateTime,
    role: Role,
    verifier: &dyn Verifier,
) -> Result<VerifiedPath<'c, 'a>, PathError> {
    validate_with(
        leaf,
        chain,
        anchors,
        at,
        role,
        verifier,
        &PathPolicy::default(),
    )
}

/// [`validate`] with an explicit policy.
pub fn validate_with<'c, 'a>(
    leaf: &'c Certificate,
    chain: &'c [Certificate],
    anchors: &'a TrustAnchors,
    at: OffsetDateTime,
    role: Role,
    verifier: &dyn Verifier,
    policy: &PathPolicy,
) -> Result<VerifiedPath<'c, 'a>, PathError> {
    let len = chain.len().saturating_add(1);
    if len > policy.max_chain_len {
        return Err(PathError::ChainTooLong {
            len,
            max: policy.max_chain_len,
        });
    }
    for (i, cert) in chain.iter().enumerate() {
        if cert == leaf || chain.iter().take(i).any(|c| c == cert) {
            return Err(PathError::DuplicateCertificate {
                cert: cert_ref(cert, Position::Chain(i)),
            });
        }
    }
    let leaf_ref = || cert_ref(leaf, Position::Leaf);
    if let Some(oid) = unknown_critical(leaf) {
        return Err(PathError::UnknownCriticalExtension {
            cert: leaf_ref(),
            oid,
        });
    }
    let mut search = Search {
        chain,
        anchors,
        at,
        policy,
        verifier,
        max_intermediates: max_intermediates(role, policy),
        signature_checks: 0,
        candidates: 0,
    };
    let mut on_path: Vec<Node> = vec![Node::Leaf];
    let anchor_index = search.extend(leaf, Position::Leaf, &mut on_path)?;
    let intermediates: Vec<&Certificate> = on_path
        .iter()
        .filter_map(|n| match n {
            Node::Chain(i) => chain.get(*i),
            Node::Leaf => None,
        })
        .collect();
    let anchor = anchors
        .anchors()
        .get(anchor_index)
        .ok_or_else(|| PathError::UnknownIssuer {
            cert: leaf_ref(),
            issuer: leaf.issuer().to_string(),
        })?;
    let issuer = intermediates.first().copied().unwrap_or(anchor);
    let mut warnings = Vec::new();
    if policy.inspect_leaf {
        let inspection = profile::inspect(role, leaf.tbs(), Some(issuer.tbs()));
        let errors: Vec<Violation> = inspection.errors().cloned().collect();
        if !errors.is_empty() {
            return Err(PathError::Profile {
                cert: leaf_ref(),
                role,
                violations: errors,
            });
        }
        warnings = inspection.warnings().cloned().collect();
    }
    if policy.check_validity {
        check_validity(leaf, Position::Leaf, at, policy.skew)?;
    }
    Ok(VerifiedPath {
        leaf,
        intermediates,
        anchor,
        anchor_index,
        warnings,
    })
}

/// The first critical extension of `cert` this crate does not understand.
fn unknown_critical(cert: &Certificate) -> Option<ObjectIdentifier> {
    cert.critical_extensions()
        .find(|oid| !profile::UNDERSTOOD.contains(oid))
}

fn cert_ref(cert: &Certificate, position: Position) -> CertRef {
    CertRef {
        position,
        subject: cert.subject().to_string(),
    }
}

fn check_validity(
    cert: &Certificate,
    position: Position,
    at: OffsetDateTime,
    skew: Duration,
) -> Result<(), PathError> {
    match cert.validity_at(at, skew) {
        CertValidity::Valid => Ok(()),
        CertValidity::NotYetValid => Err(PathError::NotYetValid {
            cert: cert_ref(cert, position),
            not_before: cert.not_before(),
            at,
        }),
        CertValidity::Expired => Err(PathError::Expired {
            cert: cert_ref(cert, position),
            not_after: cert.not_after(),
            at,
        }),
    }
}

/// A certificate on the path being built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Leaf,
    Chain(usize),
}

struct Search<'s> {
    chain: &'s [Certificate],
    anchors: &'s TrustAnchors,
    at: OffsetDateTime,
    policy: &'s PathPolicy,
    verifier: &'s dyn Verifier,
    max_intermediates: usize,
    signature_checks: usize,
    candidates: usize,
}

/// Keeps the error of the candidate that got furthest.
fn keep_best(best: &mut Option<PathError>, e: PathError) {
    if best.as_ref().is_none_or(|b| e.rank() > b.rank()) {
        *best = Some(e);
    }
}

impl Search<'_> {
    fn count_candidate(&mut self) -> Result<(), PathError> {
        self.candidates += 1;
        if self.candidates > self.policy.max_candidates {
            return Err(PathError::BudgetExceeded {
                what: Budget::Candidates,
                limit: self.policy.max_candidates,
            });
        }
        Ok(())
    }

    /// Checks that `issuer` signed `cert`, counting the verification.
    fn check_signature(
        &mut self,
        cert: &Certificate,
        cert_at: Position,
        issuer: &Certificate,
        issuer_at: Position,
    ) -> Result<(), PathError> {
        let outer = &cert.inner().signature_algorithm;
        if *outer != cert.tbs().signature || signature::algorithm_from_oid(&outer.oid).is_none() {
            return Err(PathError::SignatureAlgorithm {
                cert: cert_ref(cert, cert_at),
                oid: outer.oid,
            });
        }
        self.signature_checks += 1;
        if self.signature_checks > self.policy.max_signature_checks {
            return Err(PathError::BudgetExceeded {
                what: Budget::SignatureChecks,
                limit: self.policy.max_signature_checks,
            });
        }
        cert.verify_issued_by(issuer, self.verifier)
            .map_err(|_| PathError::BadSignature {
                cert: cert_ref(cert, cert_at),
                issuer: cert_ref(issuer, issuer_at),
            })
    }

    /// The checks on a candidate issuer `ca` with `below` intermediates under it.
    fn check_issuer(&self, ca: &Certificate, at: Position, below: usize) -> Result<(), PathError> {
        let not_ca = |reason| PathError::IssuerNotCa {
            cert: cert_ref(ca, at),
            reason,
        };
        let bc = ca
            .basic_constraints()
            .map_err(|_| not_ca(NotCaReason::Undecodable))?
            .ok_or_else(|| not_ca(NotCaReason::NoBasicConstraints))?;
        if !bc.ca {
            return Err(not_ca(NotCaReason::NotCa));
        }
        if let Some(path_len) = bc.path_len_constraint {
            if below > usize::from(path_len) {
                return Err(PathError::PathLenExceeded {
                    cert: cert_ref(ca, at),
                    path_len,
                    below,
                });
            }
        }
        let ku = ca
            .key_usage()
            .map_err(|_| not_ca(NotCaReason::Undecodable))?;
        if ku.is_some_and(|ku| !ku.0.contains(KeyUsages::KeyCertSign)) {
            return Err(not_ca(NotCaReason::NoKeyCertSign));
        }
        if let Some(oid) = unknown_critical(ca) {
            return Err(PathError::UnknownCriticalExtension {
                cert: cert_ref(ca, at),
                oid,
            });
        }
        if self.policy.check_validity {
            check_validity(ca, at, self.at, self.policy.skew)?;
        }
        Ok(())
    }

    /// Extends the path above `cert` (the last of `on_path`) to an anchor; returns its index.
    fn extend(
        &mut self,
        cert: &Certificate,
        cert_at: Position,
        on_path: &mut Vec<Node>,
    ) -> Result<usize, PathError> {
        let below = on_path.len() - 1;
        let mut best: Option<PathError> = None;
        let aki = cert.authority_key_id();

        // Anchors first; a leaf remembered under an anchor tries that one first.
        let mut candidates: Vec<(usize, &Certificate)> = self
            .anchors
            .candidates(cert.issuer(), aki.as_deref())
            .collect();
        let remembered = (below == 0).then(|| self.anchors.recall(cert)).flatten();
        if let Some(r) = remembered {
            if let Some(pos) = candidates.iter().position(|(i, _)| *i == r) {
                let hit = candidates.remove(pos);
                candidates.insert(0, hit);
            }
        }
        // Prefer anchors valid at the verification time (a root re-issued for the same key).
        candidates
            .sort_by_key(|(_, a)| a.validity_at(self.at, self.policy.skew) != CertValidity::Valid);
        for (index, anchor) in candidates {
            self.count_candidate()?;
            let anchor_at = Position::Anchor(index);
            let signed = if remembered == Some(index) {
                Ok(())
            } else {
                self.check_signature(cert, cert_at, anchor, anchor_at)
            };
            let outcome = signed.and_then(|()| self.check_issuer(anchor, anchor_at, below));
            match outcome {
                Ok(()) => {
                    if below == 0 && remembered != Some(index) {
                        self.anchors.remember(cert, index);
                    }
                    return Ok(index);
                }
                Err(e @ PathError::BudgetExceeded { .. }) => return Err(e),
                Err(e) => keep_best(&mut best, e),
            }
        }

        // Then intermediates from the chain, if the role allows one more.
        let mut looped = false;
        if below < self.max_intermediates {
            let chain = self.chain;
            let mut order: Vec<usize> = (0..chain.len())
                .filter(|&i| chain.get(i).is_some_and(|c| c.subject() == cert.issuer()))
                .collect();
            order.sort_by_key(|&i| {
                aki.is_none() || chain.get(i).and_then(Certificate::subject_key_id) != aki
            });
            for i in order {
                let Some(ca) = chain.get(i) else { continue };
                // A self-issued certificate is not its own intermediate: an untrusted root at
                // the top of an x5chain has an unknown issuer, not a loop.
                if ca == cert {
                    continue;
                }
                if on_path.contains(&Node::Chain(i)) {
                    looped = true;
                    continue;
                }
                // A copy of an anchor in the x5chain adds nothing: the anchor was tried above.
                if self.anchors.anchors().contains(ca) {
                    continue;
                }
                self.count_candidate()?;
                let ca_at = Position::Chain(i);
                let step = self
                    .check_signature(cert, cert_at, ca, ca_at)
                    .and_then(|()| self.check_issuer(ca, ca_at, below));
                if let Err(e) = step {
                    if matches!(e, PathError::BudgetExceeded { .. }) {
                        return Err(e);
                    }
                    keep_best(&mut best, e);
                    continue;
                }
                on_path.push(Node::Chain(i));
                match self.extend(ca, ca_at, on_path) {
                    Ok(anchor) => return Ok(anchor),
                    Err(e @ PathError::BudgetExceeded { .. }) => return Err(e),
                    Err(e) => keep_best(&mut best, e),
                }
                on_path.pop();
            }
        }
        Err(best.unwrap_or_else(|| {
            if looped {
                PathError::Loop {
                    cert: cert_ref(cert, cert_at),
                }
            } else {
                PathError::UnknownIssuer {
                    cert: cert_ref(cert, cert_at),
                    issuer: cert.issuer().to_string(),
                }
            }
        }))
    }
}
