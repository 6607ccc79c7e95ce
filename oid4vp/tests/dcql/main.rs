//! The tests of `mdoc_oid4vp::dcql`, one binary with a module per area.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod build;
mod check;
mod evaluate;
mod interop;
mod properties;
mod spec_examples;
mod validation;

use mdoc_oid4vp::dcql::{Candidate, CandidateElement, Disclosure};
use serde_json::Value;

/// The mDL doctype.
pub const MDL: &str = "org.iso.18013.5.1.mDL";
/// The mDL namespace.
pub const MDL_NS: &str = "org.iso.18013.5.1";

/// A candidate holding `elements` (namespace, element, JSON value).
pub fn candidate(
    handle: &str,
    doctype: &str,
    elements: &[(&str, &str, Option<Value>)],
) -> Candidate {
    Candidate {
        handle: handle.to_owned(),
        doctype: doctype.to_owned(),
        elements: elements
            .iter()
            .map(|(namespace, element, value)| CandidateElement {
                namespace: (*namespace).to_owned(),
                element: (*element).to_owned(),
                value: value.clone(),
            })
            .collect(),
    }
}

/// An mDL holding the named elements of `org.iso.18013.5.1`, values as given.
pub fn mdl(handle: &str, elements: &[(&str, Value)]) -> Candidate {
    let elements: Vec<(&str, &str, Option<Value>)> = elements
        .iter()
        .map(|(e, v)| (MDL_NS, *e, Some(v.clone())))
        .collect();
    candidate(handle, MDL, &elements)
}

/// The (namespace, element, retain) triples of a disclosure list.
pub fn triples(d: &[Disclosure]) -> Vec<(&str, &str, bool)> {
    d.iter()
        .map(|d| (d.namespace.as_str(), d.element.as_str(), d.intent_to_retain))
        .collect()
}
