//! Accepting issued credentials: only what verifies is stored.
//!
//! Every IssuerSigned of a batch goes through the verifier engine (the verifier SDK's
//! `verify_issuer_signed`, over `mso::verify`): the DS certificate chains to an IACA of the
//! app's trust store, the issuer signature and every value digest verify, the MSO is valid at
//! the time given and its doc type is the one expected. Then the wallet's own check: the MSO's
//! deviceKey is the public key of the device key the credential was requested for. One
//! failure refuses the whole batch: nothing is stored and the batch's device keys are
//! deleted.

use std::sync::Arc;

use mso::cbor::{from_slice, Limits};
use mso::crypto::{Curve, PublicKey};
use mso::model::IssuerSigned;
use verifier_sdk::{
    default_verification_options, verify_issuer_signed, CheckFailure, CheckKind, CheckOutcome,
    VerificationReport,
};

use crate::credentials::{CredentialRecord, CredentialSummary, MsoRecord, MAX_BATCH};
use crate::error::{RefusalReason, Result, WalletError};
use crate::keystore::public_key_checked;
use crate::wallet::{random_id, Wallet};

/// One credential of an issuance: the IssuerSigned bytes (an OpenID4VCI `mso_mdoc`
/// credential, base64url-decoded) and the alias of the device key it was requested for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IssuedCredential {
    /// The IssuerSigned, CBOR.
    pub issuer_signed: Vec<u8>,
    /// The device key it must be bound to.
    pub key_alias: String,
}

/// The refusal reason of a failed check.
fn reason_of(kind: CheckKind, failure: &CheckFailure) -> RefusalReason {
    use RefusalReason as R;
    match (kind, failure) {
        (CheckKind::MsoValidity, CheckFailure::MsoNotYetValid { .. }) => R::NotYetValid,
        (CheckKind::MsoValidity, _) => R::Expired,
        (CheckKind::DocType, _) => R::WrongDocType,
        (CheckKind::ValueDigest, _) => R::TamperedElement,
        (CheckKind::DsTrusted | CheckKind::DsRevocation, _) => R::UntrustedIssuer,
        (
            CheckKind::DsCertificate
            | CheckKind::DsProfile
            | CheckKind::DsValidity
            | CheckKind::IacaValidity
            | CheckKind::SignedWithinDsValidity,
            _,
        ) => R::InvalidCertificate,
        (CheckKind::IssuerAlgorithm | CheckKind::IssuerSignature, _) => R::InvalidSignature,
        (CheckKind::StatusList | CheckKind::IdentifierList, _) => R::Revoked,
        _ => R::Other,
    }
}

/// The first failed check of a report that did not pass (skipping checks that could not run
/// because an earlier one failed).
fn refusal(report: &VerificationReport, index: u32) -> WalletError {
    let failed = report
        .documents
        .iter()
        .flat_map(|d| d.checks.iter())
        .filter_map(|c| match &c.outcome {
            CheckOutcome::Failed { failure, reason } => Some((c.kind, failure, reason)),
            CheckOutcome::Passed => None,
        })
        .find(|(_, failure, _)| !matches!(failure, CheckFailure::NotChecked));
    match failed {
        Some((kind, failure, reason)) => WalletError::CredentialRefused {
            reason: reason_of(kind, failure),
            index,
            detail: format!("{kind:?}: {reason}"),
        },
        None => WalletError::CredentialRefused {
            reason: RefusalReason::Other,
            index,
            detail: "the verifier engine did not pass it".into(),
        },
    }
}

impl Wallet {
    /// Verifies one credential of a batch; returns its stored form.
    fn check_one(
        &self,
        index: u32,
        item: &IssuedCredential,
        expected_doc_type: &str,
        at: i64,
    ) -> Result<MsoRecord> {
        let refused = |reason, detail: String| WalletError::CredentialRefused {
            reason,
            index,
            detail,
        };
        let report = verify_issuer_signed(
            item.issuer_signed.clone(),
            Some(expected_doc_type.to_owned()),
            Arc::clone(&self.trust),
            default_verification_options(at),
        )
        .map_err(|e| refused(RefusalReason::Malformed, e.to_string()))?;
        if !report.valid {
            return Err(refusal(&report, index));
        }
        let decoded: IssuerSigned = from_slice(&item.issuer_signed, &Limits::DEFAULT)
            .map_err(|e| refused(RefusalReason::Malformed, e.to_string()))?;
        let bound =
            PublicKey::from_cose_key(&decoded.issuer_auth.mso().value().device_key_info.device_key)
                .map_err(|e| refused(RefusalReason::BoundToAnotherKey, e.to_string()))?;
        let own = public_key_checked(self.keys.as_ref(), &item.key_alias)?;
        let own = PublicKey::from_sec1(Curve::P256, &own)?;
        if bound != own {
            return Err(refused(
                RefusalReason::BoundToAnotherKey,
                format!(
                    "the MSO's deviceKey is not the key {:?} it was issued for",
                    item.key_alias
                ),
            ));
        }
        Ok(MsoRecord::new(
            item.key_alias.clone(),
            &item.issuer_signed,
            &decoded,
        ))
    }

    fn check_batch(
        &self,
        expected_doc_type: &str,
        issued: &[IssuedCredential],
        at: i64,
    ) -> Result<Vec<MsoRecord>> {
        if issued.is_empty() {
            return Err(WalletError::invalid_argument("no credential to accept"));
        }
        if issued.len() > MAX_BATCH {
            return Err(WalletError::SizeLimit {
                reason: format!(
                    "a batch of {} credentials; at most {MAX_BATCH}",
                    issued.len()
                ),
            });
        }
        let mut records: Vec<MsoRecord> = Vec::with_capacity(issued.len());
        for (index, item) in (0u32..).zip(issued) {
            if records.iter().any(|r| r.key_alias == item.key_alias) {
                return Err(WalletError::invalid_argument(format!(
                    "device key {:?} appears twice in the batch",
                    item.key_alias
                )));
            }
            records.push(self.check_one(index, item, expected_doc_type, at)?);
        }
        Ok(records)
    }
}

#[uniffi::export]
impl Wallet {
    /// Accepts a batch of credentials issued for `expected_doc_type` by `issuer` (the credential
    /// issuer identifier, kept for display), verified at `at_unix_seconds` (normally now).
    ///
    /// All or nothing: if any credential does not verify, is of another doc type, or is bound
    /// to a key other than its `key_alias`, the call fails with
    /// [`WalletError::CredentialRefused`] naming the first one and why, nothing is stored, and
    /// the device keys of the whole batch are deleted.
    pub fn accept_credentials(
        &self,
        expected_doc_type: String,
        issued: Vec<IssuedCredential>,
        issuer: String,
        at_unix_seconds: i64,
    ) -> Result<CredentialSummary> {
        let msos = match self.check_batch(&expected_doc_type, &issued, at_unix_seconds) {
            Ok(msos) => msos,
            Err(e) => {
                // Keys of a refused batch are never used again (but a key of a credential
                // already held is never deleted by someone else's refusal).
                let held: Vec<String> = self
                    .credentials()
                    .map(|cs| {
                        cs.into_iter()
                            .flat_map(|c| c.msos.into_iter().map(|m| m.key_alias))
                            .collect()
                    })
                    .unwrap_or_default();
                let _ = self.delete_keys(
                    issued
                        .iter()
                        .map(|i| i.key_alias.as_str())
                        .filter(|a| !held.iter().any(|h| h == a)),
                );
                return Err(e);
            }
        };
        let record = CredentialRecord::new(
            random_id(),
            expected_doc_type,
            issuer,
            at_unix_seconds,
            msos,
        );
        let _guard = self.lock_records()?;
        self.store().save(&record)?;
        Ok(record.summary())
    }
}
