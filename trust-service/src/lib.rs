//! The Digital Trust Service (`mdoc-dts`): the online publisher of the IACA root certificates,
//! link certificates, CRLs and the VICAL that verifiers fetch (CPS §1.3.4.1, §2.2, §2.4).
//!
//! Still to be built: it will ingest the offline root CA's export bundle, accepting only what
//! chains to its pinned roots through [`mso::x509`], and serve it read-only. It depends on
//! `mso` alone, never on the root CA's crate (`mdoc-ca`, in `ca/`).

#![forbid(unsafe_code)]

pub use mso;
