//! Doc-type definitions as data, and the loader and validator for them.
//!
//! This crate owns the definition files in `schemas/doctypes/` — the mDL
//! (`org.iso.18013.5.1.mDL` with the AAMVA namespace), the EU PID, both ISO/IEC 23220 photo-ID
//! identifier sets and an example operator profile for the Japanese card — together with:
//!
//! * the file format ([`model`]): a TOML file per doc type giving its doctype string, version,
//!   namespaces and elements, each element with a CBOR type (recursively for arrays and maps), a
//!   mandatory flag and limits (lengths, ranges, patterns, allowed values, named value sets such as
//!   ISO 3166-1 alpha-2, the Latin-1 repertoire, image format and size);
//! * the portrait checks ([`image`]): a JPEG or JPEG 2000 file's structure, not just its magic;
//! * the loader ([`Registry`]): the shipped files are embedded ([`Registry::builtin`]) and an
//!   operator's directory adds or overrides doc types ([`Registry::builtin_with_dir`]); an
//!   invalid file is refused with its name and location ([`SchemaError`]);
//! * the validator ([`Registry::validate`]): applicant data as JSON (`namespace → element →
//!   value`, bstr as base64url, dates as strings) becomes typed CBOR values (tag 1004 full-date,
//!   tag 0 tdate) for the MSO, or a list of every error with a JSON-pointer path and a code
//!   ([`ValidationError`]).
//!
//! No doc type is hard-coded in Rust: an operator adds one by adding a file.

pub mod error;
pub mod image;
pub mod model;
mod registry;
mod validate;
mod value_sets;

pub use error::{ErrorCode, SchemaError, ValidationError};
pub use model::{
    AllowedValue, Charset, DocTypeDef, ElementDef, ElementType, ImageFormat, NamespaceDef, ValueSet,
};
pub use registry::{DocType, Registry, BUILTIN_FILES, MAX_SCHEMA_DEPTH, MAX_SCHEMA_FILE_BYTES};
pub use validate::{ValidateOptions, Validated, MAX_ERRORS, MAX_GENERIC_DEPTH};
pub use value_sets::{check_iso3166_2, is_iso3166_alpha2, ISO3166_ALPHA2, ISO5218};
