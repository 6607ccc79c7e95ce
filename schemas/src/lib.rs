//! Doc-type definitions as data.
//!
//! This crate will own the definition files for each supported doc type (mDL with the AAMVA
//! namespace, EU PID, ISO/IEC 23220 photo ID, operator-supplied profiles such as the Japanese
//! card) and the small loader and validator that checks applicant data against them: CBOR type,
//! mandatory flag and limits per element. An operator adds a doc type by adding a file; no doc
//! type is hard-coded in Rust. Populated by the issuer work (issue 4).
