//! `issuing_country` / `issuing_jurisdiction` against the DS certificate's subject (ISO
//! 18013-5 Annex B; PROFILES.md "Verifier cross-checks").

use super::report::{CheckKind, DocumentReport, Failure};
use crate::cbor::Value;
use crate::model::IssuerSigned;
use crate::x509::Certificate;

const COUNTRY: &str = "issuing_country";
const JURISDICTION: &str = "issuing_jurisdiction";

/// Whether `namespace` belongs to `doc_type`: the docType itself, or a namespace it extends
/// (`org.iso.18013.5.1` for `org.iso.18013.5.1.mDL`). Elements of the same name in other
/// namespaces may mean something else.
fn own_namespace(doc_type: &str, namespace: &str) -> bool {
    doc_type == namespace
        || doc_type
            .strip_prefix(namespace)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// Records one IssuingCountry check per disclosed element; nothing when none is disclosed.
pub(super) fn check_issuing_country(
    report: &mut DocumentReport,
    issuer_signed: &IssuerSigned,
    ds: Option<&Certificate>,
) {
    let Some(name_spaces) = &issuer_signed.name_spaces else {
        return;
    };
    let doc_type = report.doc_type.clone();
    for (namespace, items) in name_spaces {
        if !own_namespace(&doc_type, namespace) {
            continue;
        }
        for item in items {
            let it = item.value();
            let element = match it.element_identifier.as_str() {
                COUNTRY => COUNTRY,
                JURISDICTION => JURISDICTION,
                _ => continue,
            };
            let subject = Some(format!("{namespace}/{element}"));
            let Some(ds) = ds else {
                report.record(
                    CheckKind::IssuingCountry,
                    subject,
                    Err(Failure::NotChecked("no usable DS certificate")),
                );
                continue;
            };
            let certificate = if element == COUNTRY {
                ds.country()
            } else {
                ds.state_or_province()
            };
            let outcome = match (&it.element_value, &certificate) {
                (Value::Text(doc), Some(cert)) if doc == cert => Ok(()),
                // A DS without stateOrProvinceName speaks for the whole country: any
                // jurisdiction in it is consistent (tolerant when consuming).
                (Value::Text(_), None) if element == JURISDICTION => Ok(()),
                (value, _) => Err(Failure::IssuingCountryMismatch {
                    element,
                    document: match value {
                        Value::Text(t) => t.clone(),
                        other => format!("{other:?}"),
                    },
                    certificate,
                }),
            };
            report.record(CheckKind::IssuingCountry, subject, outcome);
        }
    }
}
