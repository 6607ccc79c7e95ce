//! The integration tests of `ca`, one binary (one link step) with a module per area.

mod ceremonies;
mod ceremony_common;
mod ceremony_pkcs11;
mod cli;
mod x509_common;
mod x509_crl;
mod x509_csr;
mod x509_openssl;
mod x509_pkilint;
mod x509_profile;
