//! DS revocation against the trust store's CRLs, and MSO status against list tokens.

use super::options::{ListToken, VerifyOptions};
use super::report::{CheckKind, DocumentReport, Failure};
use crate::cbor::Limits;
use crate::crl::CrlFreshness;
use crate::error::Error;
use crate::model::MobileSecurityObject;
use crate::status::{
    token_subject, IdentifierListToken, ListTokenError, Status, StatusListToken, TokenClaims,
    TokenVerifyOptions,
};
use crate::trust::{ExpiredCrlPolicy, MissingCrlPolicy, TrustStore};
use crate::x509::Certificate;

fn hex(bytes: &[u8]) -> String {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes
        .get(first..)
        .unwrap_or_default()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Records DsRevocation (or a warning) for `ds`, issued by `iaca` (None: not trusted).
pub(super) fn check_ds_revocation(
    report: &mut DocumentReport,
    ds: &Certificate,
    iaca: Option<&Certificate>,
    store: &TrustStore,
    opts: &VerifyOptions<'_>,
) {
    const KIND: CheckKind = CheckKind::DsRevocation;
    let Some(iaca) = iaca else {
        report.fail(KIND, Failure::NotChecked("no trusted IACA issued the DS"));
        return;
    };
    let policy = store.policy();
    let Some(crl) = store.crl_for(iaca) else {
        match policy.missing_crl {
            MissingCrlPolicy::Fail => report.fail(KIND, Failure::NoCrl),
            MissingCrlPolicy::Warn => report.warn(KIND, None, Failure::NoCrl),
        }
        return;
    };
    // A root revoked on its own CRL (the compromise procedure) trusts nothing any more.
    if crl.is_certificate_revoked(iaca).unwrap_or(false) {
        report.fail(
            KIND,
            Failure::IacaRevoked {
                serial: hex(iaca.serial_number()),
            },
        );
        return;
    }
    match crl.is_certificate_revoked(ds) {
        Err(e) => report.fail(KIND, Failure::Error(e)),
        // Revocation is final: an expired CRL still proves it.
        Ok(true) => report.fail(
            KIND,
            Failure::DsRevoked {
                serial: hex(ds.serial_number()),
            },
        ),
        Ok(false) => match crl.freshness_at(opts.at, opts.skew) {
            CrlFreshness::Fresh { .. } => report.pass(KIND, None),
            CrlFreshness::Expired { next_update } => {
                let failure = Failure::CrlExpired {
                    next_update,
                    at: opts.at,
                };
                match policy.expired_crl {
                    ExpiredCrlPolicy::Fail => report.fail(KIND, failure),
                    ExpiredCrlPolicy::Warn => {
                        report.pass(KIND, None);
                        report.warn(KIND, None, failure);
                    }
                }
            }
        },
    }
}

/// The two kinds of list, as the MSO's `status` names them.
#[derive(Clone, Copy)]
enum Kind {
    Status,
    Identifier,
}

impl Kind {
    fn check(self) -> CheckKind {
        match self {
            Kind::Status => CheckKind::StatusList,
            Kind::Identifier => CheckKind::IdentifierList,
        }
    }

    fn bytes<'a>(self, token: &ListToken<'a>) -> Option<&'a [u8]> {
        match (self, *token) {
            (Kind::Status, ListToken::StatusList(b))
            | (Kind::Identifier, ListToken::IdentifierList(b)) => Some(b),
            _ => None,
        }
    }
}

/// Maps a token verification error to its failure.
fn token_failure(e: Error) -> Failure {
    match e {
        Error::ListToken(ListTokenError::Expired { exp, at }) => Failure::ListTokenExpired {
            expired_at: exp,
            at,
        },
        Error::ListToken(ListTokenError::Signer(path)) => Failure::ListTokenUntrusted(path),
        Error::ListToken(ListTokenError::Typ { expected, found }) => {
            Failure::ListTokenWrongType { expected, found }
        }
        other => Failure::Error(other),
    }
}

/// `ttl` bounds how long after `iat` the list may be used.
fn check_ttl(claims: &TokenClaims, opts: &VerifyOptions<'_>) -> Result<(), Failure> {
    let Some(ttl) = claims.ttl else {
        return Ok(());
    };
    let ttl = time::Duration::seconds(i64::try_from(ttl).unwrap_or(i64::MAX));
    let until = claims.iat.saturating_add(ttl);
    if opts.at.saturating_sub(opts.skew) > until {
        Err(Failure::ListTokenExpired {
            expired_at: until,
            at: opts.at,
        })
    } else {
        Ok(())
    }
}

/// Verifies the token for `uri` and looks the MSO up in it.
fn check_one(
    report: &mut DocumentReport,
    kind: Kind,
    uri: &str,
    lookup: &dyn Fn(&VerifiedList) -> Result<(), Failure>,
    iaca: Option<&Certificate>,
    opts: &VerifyOptions<'_>,
) {
    let check = kind.check();
    let subject = Some(uri.to_owned());
    let tokens: Vec<&[u8]> = opts
        .list_tokens
        .iter()
        .filter_map(|t| kind.bytes(t))
        .collect();
    if tokens.is_empty() {
        report.warn(check, subject, Failure::NoListToken);
        return;
    }
    let limits = Limits::DEFAULT;
    let mut found = Vec::new();
    let mut chosen = None;
    for token in tokens {
        match token_subject(token, &limits) {
            Ok(sub) if sub == uri => {
                chosen = Some(token);
                break;
            }
            Ok(sub) => found.push(sub),
            Err(e) => found.push(format!("<unreadable: {e}>")),
        }
    }
    let outcome = match chosen {
        None => Err(Failure::ListTokenUriMismatch {
            expected: uri.to_owned(),
            found,
        }),
        Some(token) => verify_token(&report.doc_type, kind, token, uri, lookup, iaca, opts),
    };
    report.record(check, subject, outcome);
}

/// Verifies `token` for `uri`, issued under the DS's IACA, then looks the MSO up in it.
fn verify_token(
    doc_type: &str,
    kind: Kind,
    token: &[u8],
    uri: &str,
    lookup: &dyn Fn(&VerifiedList) -> Result<(), Failure>,
    iaca: Option<&Certificate>,
    opts: &VerifyOptions<'_>,
) -> Result<(), Failure> {
    let anchors = opts.trust.anchors_for(doc_type).ok_or(Failure::NotChecked(
        "list tokens need trusted IACAs, not a pinned DS",
    ))?;
    let iaca = iaca.ok_or(Failure::NotChecked("no trusted IACA issued the DS"))?;
    let token_opts = TokenVerifyOptions {
        skew: opts.skew,
        allowed_algorithms: opts.allowed_algorithms,
        ..TokenVerifyOptions::new(opts.at, anchors)
    };
    let list = match kind {
        Kind::Status => VerifiedList::Status(
            StatusListToken::verify_with(token, uri, &token_opts, opts.verifier)
                .map_err(token_failure)?,
        ),
        Kind::Identifier => VerifiedList::Identifier(
            IdentifierListToken::verify_with(token, uri, &token_opts, opts.verifier)
                .map_err(token_failure)?,
        ),
    };
    // Issued by the DS's own authority (same DN; the key may have rolled over), not by any
    // other trusted IACA.
    if list.iaca().subject() != iaca.subject() {
        return Err(Failure::ListTokenFromOtherIssuer);
    }
    check_ttl(list.claims(), opts)?;
    lookup(&list)
}

/// A verified token of either kind.
enum VerifiedList {
    Status(crate::status::VerifiedStatusList),
    Identifier(crate::status::VerifiedIdentifierList),
}

impl VerifiedList {
    fn iaca(&self) -> &Certificate {
        match self {
            VerifiedList::Status(l) => &l.iaca,
            VerifiedList::Identifier(l) => &l.iaca,
        }
    }

    fn claims(&self) -> &TokenClaims {
        match self {
            VerifiedList::Status(l) => &l.claims,
            VerifiedList::Identifier(l) => &l.claims,
        }
    }
}

/// Records StatusList / IdentifierList for the MSO's `status` entries (nothing without one).
pub(super) fn check_mso_status(
    report: &mut DocumentReport,
    mso: &MobileSecurityObject,
    iaca: Option<&Certificate>,
    opts: &VerifyOptions<'_>,
) {
    let Some(status) = &mso.status else {
        return;
    };
    if let Some(r) = &status.status_list {
        let idx = r.idx;
        let lookup = move |list: &VerifiedList| match list {
            VerifiedList::Status(l) => match l.status(idx).map_err(Failure::Error)? {
                Status::Valid => Ok(()),
                Status::Invalid => Err(Failure::MsoRevoked),
                Status::Suspended => Err(Failure::MsoSuspended),
                Status::Other(v) => Err(Failure::MsoStatusUnknown(v)),
            },
            VerifiedList::Identifier(_) => Err(Failure::NotChecked("wrong list kind")),
        };
        check_one(report, Kind::Status, &r.uri, &lookup, iaca, opts);
    }
    if let Some(r) = &status.identifier_list {
        let id = r.id.as_slice();
        let lookup = move |list: &VerifiedList| match list {
            VerifiedList::Identifier(l) if l.contains(id) => Err(Failure::MsoRevoked),
            VerifiedList::Identifier(_) => Ok(()),
            VerifiedList::Status(_) => Err(Failure::NotChecked("wrong list kind")),
        };
        check_one(report, Kind::Identifier, &r.uri, &lookup, iaca, opts);
    }
}
