//! The policy numbers every check shares, each defined once. They are defaults: options structs
//! ([`PathPolicy`](super::path::PathPolicy), `VerifyOptions`, the CA's configuration) start from
//! these and may override them.

use time::Duration;

use crate::crypto::Algorithm;

/// Tolerated clock skew, applied to every time comparison a relying party makes (certificate
/// validity, MSO validity, CRL and list token freshness): phones' clocks drift
/// (`docs/INTEROP.md` item 14).
pub const DEFAULT_SKEW: Duration = Duration::minutes(5);

/// Signature algorithms accepted by default: every one ISO/IEC 18013-5 Table 22 lists that
/// the crypto backend supports.
pub const DEFAULT_ALGORITHMS: &[Algorithm] = &[
    Algorithm::Es256,
    Algorithm::Es384,
    Algorithm::Es512,
    Algorithm::EdDsa,
];

/// Longest Document Signer certificate validity, in days of 86,400 s, counted inclusively as
/// RFC 5280 §4.1.2.5 counts validity (ISO/IEC 18013-5 Annex B, Table B.3: 457 days).
pub const MAX_DS_VALIDITY_DAYS: u32 = 457;

/// Longest MSO revocation list signer certificate validity, in days of 86,400 s counted
/// inclusively (ISO/IEC 18013-5 second edition, Table B.9: 1187 days).
pub const MAX_LIST_SIGNER_VALIDITY_DAYS: u32 = 1187;

/// Longest IACA (and link) certificate validity in calendar months (Annex B, Table B.1:
/// 20 years). The CPS's own value (5 years 4 months, §6.3.2) is the CA's configuration.
pub const MAX_IACA_VALIDITY_MONTHS: u32 = 240;

/// Longest CRL validity, nextUpdate − thisUpdate, in days (CPS §7.2.2: three days). The CA
/// refuses to sign a longer one and the DTS to publish it.
pub const MAX_CRL_VALIDITY_DAYS: u32 = 3;

/// Most certificates an x5chain may carry for a path to be built from it (signer,
/// intermediates, optionally the root, as the AAMVA VICAL does).
pub const DEFAULT_MAX_CHAIN_LEN: usize = 5;

/// Most signature verifications one path search may make. A hostile chain (many certificates
/// with the same name, loops) costs at most this many verifications before
/// [`PathError::BudgetExceeded`](super::PathError::BudgetExceeded).
pub const DEFAULT_MAX_SIGNATURE_CHECKS: usize = 64;

/// Most candidate issuers one path search may consider (each costs a name comparison and
/// possibly a signature check).
pub const DEFAULT_MAX_CANDIDATES: usize = 1_024;
