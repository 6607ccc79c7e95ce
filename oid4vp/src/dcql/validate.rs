//! Parsing and checking an untrusted DCQL query: bytes and nesting are bounded before `serde`
//! sees them, then every rule of OpenID4VP 1.0 §6 and every bound of [`super::limits`] is checked.
//! Formats other than `mso_mdoc` pass with their generic rules only: a query may mix formats
//! (the specification's own examples do), and the wallet treats such a credential query as one
//! it holds nothing for ([`super::wallet`]), which `credential_sets` may make harmless.

use std::collections::HashSet;

use serde_json::Value;

use super::error::{ClaimRef, Counted, DcqlError, Field, JsonCategory};
use super::limits::{
    MAX_CLAIMS, MAX_CLAIM_SETS, MAX_CREDENTIALS, MAX_CREDENTIAL_SETS, MAX_DEPTH, MAX_ID_LEN,
    MAX_OPTIONS, MAX_PATH_LEN, MAX_QUERY_BYTES, MAX_STRING_LEN, MAX_TRUSTED_AUTHORITIES,
    MAX_VALUES,
};
use super::model::{ClaimsQuery, CredentialQuery, DcqlQuery, MSO_MDOC};

impl DcqlQuery {
    /// Parses and validates a query received from a verifier.
    pub fn parse(json: &[u8]) -> Result<DcqlQuery, DcqlError> {
        if json.len() > MAX_QUERY_BYTES {
            return Err(DcqlError::TooLarge {
                len: json.len(),
                max: MAX_QUERY_BYTES,
            });
        }
        check_depth(json)?;
        let query: DcqlQuery = serde_json::from_slice(json).map_err(|e| DcqlError::Json {
            category: match e.classify() {
                serde_json::error::Category::Syntax => JsonCategory::Syntax,
                serde_json::error::Category::Data => JsonCategory::Data,
                serde_json::error::Category::Eof => JsonCategory::Eof,
                serde_json::error::Category::Io => JsonCategory::Io,
            },
            line: e.line(),
            column: e.column(),
        })?;
        query.validate()?;
        Ok(query)
    }

    /// Checks every rule of §6 and every bound; the first broken one is returned.
    pub fn validate(&self) -> Result<(), DcqlError> {
        if self.credentials.is_empty() {
            return Err(DcqlError::NoCredentials);
        }
        count(
            Counted::Credentials,
            None,
            self.credentials.len(),
            MAX_CREDENTIALS,
        )?;
        let mut ids = HashSet::new();
        for (index, credential) in self.credentials.iter().enumerate() {
            if !valid_id(&credential.id) {
                return Err(DcqlError::InvalidCredentialId {
                    index,
                    id: clip(&credential.id),
                });
            }
            if !ids.insert(credential.id.as_str()) {
                return Err(DcqlError::DuplicateCredentialId {
                    id: credential.id.clone(),
                });
            }
            validate_credential(credential)?;
        }
        if let Some(sets) = &self.credential_sets {
            if sets.is_empty() {
                return Err(DcqlError::NoCredentialSets);
            }
            count(
                Counted::CredentialSets,
                None,
                sets.len(),
                MAX_CREDENTIAL_SETS,
            )?;
            for (set, query) in sets.iter().enumerate() {
                if query.options.is_empty() {
                    return Err(DcqlError::EmptyOption { set, option: None });
                }
                count(Counted::Options, None, query.options.len(), MAX_OPTIONS)?;
                for (option, members) in query.options.iter().enumerate() {
                    if members.is_empty() {
                        return Err(DcqlError::EmptyOption {
                            set,
                            option: Some(option),
                        });
                    }
                    count(Counted::Options, None, members.len(), MAX_CREDENTIALS)?;
                    if let Some(id) = members.iter().find(|id| !ids.contains(id.as_str())) {
                        return Err(DcqlError::UnknownCredentialId {
                            set,
                            option,
                            id: clip(id),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

fn validate_credential(credential: &CredentialQuery) -> Result<(), DcqlError> {
    let query = credential.id.as_str();
    long(Field::Format, query, &credential.format, MAX_STRING_LEN)?;
    let mdoc = credential.format == MSO_MDOC;
    match &credential.meta.doctype_value {
        Some(doctype) => long(Field::Doctype, query, doctype, MAX_STRING_LEN)?,
        None if mdoc => {
            return Err(DcqlError::MissingDoctype {
                query: query.to_owned(),
            })
        }
        None => {}
    }
    if let Some(authorities) = &credential.trusted_authorities {
        if authorities.is_empty() {
            return Err(DcqlError::EmptyTrustedAuthorities {
                query: query.to_owned(),
                entry: None,
            });
        }
        count(
            Counted::TrustedAuthorities,
            Some(query),
            authorities.len(),
            MAX_TRUSTED_AUTHORITIES,
        )?;
        for (entry, authority) in authorities.iter().enumerate() {
            if authority.values.is_empty() {
                return Err(DcqlError::EmptyTrustedAuthorities {
                    query: query.to_owned(),
                    entry: Some(entry),
                });
            }
            let n = authority.values.len();
            count(
                Counted::TrustedAuthorities,
                Some(query),
                n,
                MAX_TRUSTED_AUTHORITIES,
            )?;
            long(
                Field::TrustedAuthority,
                query,
                &authority.kind,
                MAX_STRING_LEN,
            )?;
            for value in &authority.values {
                long(Field::TrustedAuthority, query, value, MAX_STRING_LEN)?;
            }
        }
    }
    let Some(claims) = &credential.claims else {
        return match credential.claim_sets {
            Some(_) => Err(DcqlError::ClaimSetsWithoutClaims {
                query: query.to_owned(),
            }),
            None => Ok(()),
        };
    };
    if claims.is_empty() {
        return Err(DcqlError::EmptyClaims {
            query: query.to_owned(),
        });
    }
    count(Counted::Claims, Some(query), claims.len(), MAX_CLAIMS)?;
    let mut claim_ids = HashSet::new();
    for (index, claim) in claims.iter().enumerate() {
        let at = || ClaimRef {
            index,
            id: claim.id.as_deref().map(clip),
        };
        if let Some(id) = &claim.id {
            if !valid_id(id) {
                return Err(DcqlError::InvalidClaimId {
                    query: query.to_owned(),
                    claim: at(),
                });
            }
            if !claim_ids.insert(id.as_str()) {
                return Err(DcqlError::DuplicateClaimId {
                    query: query.to_owned(),
                    id: id.clone(),
                });
            }
        } else if credential.claim_sets.is_some() {
            return Err(DcqlError::ClaimWithoutId {
                query: query.to_owned(),
                claim: at(),
            });
        }
        validate_path(query, claim, mdoc, at)?;
        validate_values(query, claim, at)?;
    }
    if let Some(sets) = &credential.claim_sets {
        if sets.is_empty() {
            return Err(DcqlError::EmptyClaimSet {
                query: query.to_owned(),
                option: None,
            });
        }
        count(Counted::ClaimSets, Some(query), sets.len(), MAX_CLAIM_SETS)?;
        for (option, members) in sets.iter().enumerate() {
            if members.is_empty() {
                return Err(DcqlError::EmptyClaimSet {
                    query: query.to_owned(),
                    option: Some(option),
                });
            }
            count(Counted::ClaimSets, Some(query), members.len(), MAX_CLAIMS)?;
            if let Some(id) = members.iter().find(|id| !claim_ids.contains(id.as_str())) {
                return Err(DcqlError::UnknownClaimId {
                    query: query.to_owned(),
                    option,
                    id: clip(id),
                });
            }
        }
    }
    Ok(())
}

fn validate_path(
    query: &str,
    claim: &ClaimsQuery,
    mdoc: bool,
    at: impl Fn() -> ClaimRef,
) -> Result<(), DcqlError> {
    count(
        Counted::PathComponents,
        Some(query),
        claim.path.len(),
        MAX_PATH_LEN,
    )?;
    if mdoc {
        let Some((namespace, element)) = claim.mdoc_path() else {
            return Err(DcqlError::MdocPath {
                query: query.to_owned(),
                claim: at(),
            });
        };
        if namespace.is_empty() || element.is_empty() {
            return Err(DcqlError::MdocPath {
                query: query.to_owned(),
                claim: at(),
            });
        }
    }
    let component_ok = |c: &Value| match c {
        Value::Null => true,
        Value::Number(n) => n.is_u64(),
        Value::String(_) => true,
        _ => false,
    };
    if claim.path.is_empty() || !claim.path.iter().all(component_ok) {
        return Err(DcqlError::InvalidPath {
            query: query.to_owned(),
            claim: at(),
        });
    }
    for component in &claim.path {
        if let Value::String(s) = component {
            long(Field::Path, query, s, MAX_STRING_LEN)?;
        }
    }
    Ok(())
}

fn validate_values(
    query: &str,
    claim: &ClaimsQuery,
    at: impl Fn() -> ClaimRef,
) -> Result<(), DcqlError> {
    let Some(values) = &claim.values else {
        return Ok(());
    };
    if values.is_empty() {
        return Err(DcqlError::EmptyValues {
            query: query.to_owned(),
            claim: at(),
        });
    }
    count(Counted::Values, Some(query), values.len(), MAX_VALUES)?;
    for (value, v) in values.iter().enumerate() {
        match v {
            Value::String(s) => long(Field::Value, query, s, MAX_STRING_LEN)?,
            Value::Bool(_) => {}
            Value::Number(n) if n.is_i64() || n.is_u64() => {}
            _ => {
                return Err(DcqlError::InvalidValue {
                    query: query.to_owned(),
                    claim: at(),
                    value,
                })
            }
        }
    }
    Ok(())
}

/// Non-empty, bounded, `[A-Za-z0-9_-]` only (§6.1, §6.3).
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// An untrusted string echoed in an error, cut so errors stay small.
fn clip(s: &str) -> String {
    s.chars().take(MAX_ID_LEN).collect()
}

fn count(what: Counted, query: Option<&str>, n: usize, max: usize) -> Result<(), DcqlError> {
    if n > max {
        return Err(DcqlError::TooMany {
            what,
            query: query.map(str::to_owned),
            count: n,
            max,
        });
    }
    Ok(())
}

fn long(what: Field, query: &str, s: &str, max: usize) -> Result<(), DcqlError> {
    if s.len() > max {
        return Err(DcqlError::TooLong {
            what,
            query: Some(query.to_owned()),
            len: s.len(),
            max,
        });
    }
    Ok(())
}

/// Refuses JSON whose arrays and objects nest deeper than [`MAX_DEPTH`] before a recursive
/// parser sees them.
fn check_depth(json: &[u8]) -> Result<(), DcqlError> {
    if mdoc_jose::json::nesting_depth(json) > MAX_DEPTH {
        return Err(DcqlError::TooDeep { max: MAX_DEPTH });
    }
    Ok(())
}
