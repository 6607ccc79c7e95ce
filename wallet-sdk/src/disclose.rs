//! Building one Document from a stored credential for a presentation, in person or online:
//! the credential's least-used unused MSO at the time given, only the approved elements, and
//! the device signature over the presentation's SessionTranscript made through the app's
//! [`crate::KeyStore`]; then counting the MSOs used once the response is handed out.

use std::collections::BTreeMap;

use mso::model::{Document, IssuerSigned, SessionTranscript};
use mso::present::{present_with_signature, Disclosure};

use crate::credentials::CredentialRecord;
use crate::error::{Result, WalletError};
use crate::keystore::DeviceSigner;
use crate::wallet::Wallet;

/// A Document made from an MSO of a credential: the Document, and which MSO it used.
pub(crate) struct Disclosed {
    pub(crate) document: Document,
    record: CredentialRecord,
    index: usize,
}

impl Wallet {
    /// The credential that would answer a request for `doc_type` at `at`, and its MSO.
    pub(crate) fn answering(
        &self,
        doc_type: &str,
        at: i64,
    ) -> Result<Option<(CredentialRecord, usize)>> {
        let policy = self.current_policy()?;
        let store = self.store();
        for id in store.ids()? {
            let record = store.load(&id)?;
            if record.doc_type != doc_type {
                continue;
            }
            if let Ok(index) = record.select_mso(at, &policy) {
                return Ok(Some((record, index)));
            }
        }
        Ok(None)
    }

    /// The Document disclosing `disclosure` from credential `id` over `transcript` at `at`.
    /// The caller holds the records lock until the uses are counted.
    pub(crate) fn disclose(
        &self,
        id: &str,
        disclosure: &Disclosure,
        transcript: &SessionTranscript,
        at: i64,
    ) -> Result<Disclosed> {
        let record = self.store().load(id)?;
        let index = record.select_mso(at, &self.current_policy()?)?;
        let mso = record
            .msos
            .get(index)
            .ok_or_else(|| WalletError::internal("MSO index out of range"))?;
        let issuer_signed: IssuerSigned = mso.issuer_signed()?;
        let signer = DeviceSigner::new(self.keys.as_ref(), &mso.key_alias)?;
        let document =
            present_with_signature(&issuer_signed, Some(disclosure), transcript, &signer).map_err(
                |e| match e {
                    mso::Error::InvalidRequest(reason) => WalletError::InvalidArgument { reason },
                    other => other.into(),
                },
            )?;
        Ok(Disclosed {
            document,
            record,
            index,
        })
    }

    /// Counts one use of each MSO the documents were made from.
    pub(crate) fn count_uses(&self, used: Vec<Disclosed>) -> Result<Vec<Document>> {
        let mut documents = Vec::with_capacity(used.len());
        for Disclosed {
            document,
            mut record,
            index,
        } in used
        {
            if let Some(m) = record.msos.get_mut(index) {
                m.use_count = m.use_count.saturating_add(1);
            }
            self.store().save(&record)?;
            documents.push(document);
        }
        Ok(documents)
    }
}

/// namespace → element identifiers held by MSO `index` of `record`.
pub(crate) fn available(
    record: &CredentialRecord,
    index: usize,
) -> Result<BTreeMap<String, Vec<String>>> {
    let mso = record
        .msos
        .get(index)
        .ok_or_else(|| WalletError::internal("MSO index out of range"))?;
    let issuer_signed = mso.issuer_signed()?;
    Ok(issuer_signed
        .name_spaces
        .iter()
        .flatten()
        .map(|(ns, items)| {
            (
                ns.clone(),
                items
                    .iter()
                    .map(|i| i.value().element_identifier.clone())
                    .collect(),
            )
        })
        .collect())
}
