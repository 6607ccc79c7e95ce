//! Building queries for verifiers from application input. The builders only assemble; every
//! rule is checked once, by [`DcqlQuery::validate`], which [`DcqlQuery::to_json`] runs, so a
//! verifier cannot send a query a wallet would refuse.

use serde_json::Value;

use super::error::DcqlError;
use super::model::{ClaimsQuery, CredentialQuery, CredentialSetQuery, DcqlQuery, Meta, MSO_MDOC};

impl DcqlQuery {
    /// A query for one mdoc of `doctype`, requesting every `(namespace, element,
    /// intent_to_retain)` of `claims`.
    pub fn mdoc(id: &str, doctype: &str, claims: &[(&str, &str, bool)]) -> DcqlQuery {
        DcqlQuery::of(CredentialQuery::mdoc(id, doctype, claims))
    }

    /// A query made of one credential query.
    pub fn of(credential: CredentialQuery) -> DcqlQuery {
        DcqlQuery {
            credentials: vec![credential],
            credential_sets: None,
        }
    }

    /// Adds a credential query.
    pub fn with_credential(mut self, credential: CredentialQuery) -> DcqlQuery {
        self.credentials.push(credential);
        self
    }

    /// Adds a credential set query: `options` lists alternatives, each a list of credential
    /// query ids.
    pub fn with_credential_set(mut self, options: &[&[&str]], required: bool) -> DcqlQuery {
        let options = options
            .iter()
            .map(|o| o.iter().map(|s| (*s).to_owned()).collect())
            .collect();
        self.credential_sets
            .get_or_insert_with(Vec::new)
            .push(CredentialSetQuery {
                options,
                required,
                purpose: None,
            });
        self
    }

    /// The query as JSON, after [`DcqlQuery::validate`].
    pub fn to_json(&self) -> Result<String, DcqlError> {
        self.validate()?;
        // Serializing plain structs, strings and JSON values into a String cannot fail; an
        // error would be a serde_json bug, reported as malformed rather than panicking.
        serde_json::to_string(self).map_err(|e| DcqlError::Json {
            category: super::error::JsonCategory::Data,
            line: e.line(),
            column: e.column(),
        })
    }
}

impl CredentialQuery {
    /// An `mso_mdoc` credential query for `doctype`, requesting every `(namespace, element,
    /// intent_to_retain)` of `claims` (none: only the doctype is asked for).
    pub fn mdoc(id: &str, doctype: &str, claims: &[(&str, &str, bool)]) -> CredentialQuery {
        let claims: Vec<ClaimsQuery> = claims
            .iter()
            .map(|(ns, el, retain)| ClaimsQuery::mdoc(ns, el, *retain))
            .collect();
        CredentialQuery {
            id: id.to_owned(),
            format: MSO_MDOC.to_owned(),
            multiple: false,
            meta: Meta {
                doctype_value: Some(doctype.to_owned()),
                other: Default::default(),
            },
            claims: (!claims.is_empty()).then_some(claims),
            claim_sets: None,
            require_cryptographic_holder_binding: true,
            trusted_authorities: None,
        }
    }

    /// Adds a claims query.
    pub fn with_claim(mut self, claim: ClaimsQuery) -> CredentialQuery {
        self.claims.get_or_insert_with(Vec::new).push(claim);
        self
    }

    /// Sets `claim_sets`: alternatives of claim ids, preferred first. Claims built by
    /// [`CredentialQuery::mdoc`] have no ids; give them with [`ClaimsQuery::with_id`] or
    /// [`CredentialQuery::with_element_ids`].
    pub fn with_claim_sets(mut self, sets: &[&[&str]]) -> CredentialQuery {
        let sets = sets
            .iter()
            .map(|s| s.iter().map(|id| (*id).to_owned()).collect())
            .collect();
        self.claim_sets = Some(sets);
        self
    }

    /// Gives every claim without an id its element identifier as id (mdoc element identifiers
    /// are usually valid ids, e.g. `age_over_18`; validation says when one is not).
    pub fn with_element_ids(mut self) -> CredentialQuery {
        for claim in self.claims.iter_mut().flatten() {
            if claim.id.is_none() {
                claim.id = claim.mdoc_path().map(|(_, element)| element.to_owned());
            }
        }
        self
    }

    /// Sets `multiple`.
    pub fn with_multiple(mut self, multiple: bool) -> CredentialQuery {
        self.multiple = multiple;
        self
    }
}

impl ClaimsQuery {
    /// A claims query for the mdoc data element `element` of `namespace`.
    pub fn mdoc(namespace: &str, element: &str, intent_to_retain: bool) -> ClaimsQuery {
        ClaimsQuery {
            id: None,
            path: vec![Value::from(namespace), Value::from(element)],
            values: None,
            intent_to_retain,
        }
    }

    /// Sets the claim's id.
    pub fn with_id(mut self, id: &str) -> ClaimsQuery {
        self.id = Some(id.to_owned());
        self
    }

    /// Restricts the claim to these values (strings, integers or booleans).
    pub fn with_values(mut self, values: Vec<Value>) -> ClaimsQuery {
        self.values = Some(values);
        self
    }
}
