//! COSE on `coset`: COSE_Sign1 and COSE_Mac0 as ISO 18013-5 uses them.
//!
//! - issuerAuth and deviceSignature are produced untagged and accepted tagged (18) or not;
//! - the algorithm is read from the protected header only;
//! - x5chain (label 33) is read from either header, as a bstr or an array, and written in the
//!   unprotected header as a bstr for one certificate and an array for more.

mod mac0;
pub(crate) mod sign1;
mod x5chain;

pub use coset::{CoseKey, CoseMac0, CoseSign1};
pub use mac0::{mac0_create_detached, mac0_verify_detached, Mac0Algorithm, MAC_ALG_HMAC_256_256};
pub use sign1::{
    decode_sign1, decode_sign1_bytes, decode_sign1_tolerant, parse_cose_key, sign1_algorithm,
    sign1_verify, sign1_verify_detached, PreparedSign1, LABELS_READ_UNPROTECTED,
};
pub use x5chain::{x5chain, x5chain_value, X5CHAIN};
