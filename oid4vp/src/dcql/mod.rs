//! DCQL, the Digital Credentials Query Language of OpenID4VP 1.0 §6, for `mso_mdoc`: the model
//! ([`model`]), validation of untrusted queries within [`limits`] ([`validate`]), a builder for
//! verifiers ([`build`]), the wallet's evaluation against the credentials it holds
//! ([`wallet`]) and the verifier's check of what was presented ([`verifier`]).
//!
//! A query may name other formats (§6 mixes them freely); it stays valid, and the credential
//! queries of other formats are unsatisfiable for the wallet and unchecked (a finding) for the
//! verifier, so `credential_sets` decides whether the query as a whole can still be answered.

pub mod build;
pub mod error;
pub mod limits;
pub mod model;
pub mod validate;
pub mod verifier;
pub mod wallet;

pub use error::{ClaimRef, Counted, DcqlError, Field, JsonCategory};
pub use model::{
    ClaimsQuery, CredentialQuery, CredentialSetQuery, DcqlQuery, Meta, TrustedAuthoritiesQuery,
    MSO_MDOC,
};
pub use verifier::{CheckReport, Finding, Presented, QueryCheck, SetCheck};
pub use wallet::{
    Candidate, CandidateElement, CandidateMatch, ClaimProblem, Disclosure, Match, QueryMatch,
    Rejected, SetMatch, Unsatisfiable,
};
