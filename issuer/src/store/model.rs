//! The records the store reads and writes.

use std::fmt;

use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use time::OffsetDateTime;

use super::error::{Result, StoreError};

/// Fills `N` bytes from the operating system's random number generator.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    OsRng
        .try_fill_bytes(&mut out)
        .map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(out)
}

/// A document id: 128 random bits, shown as lower-case hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId(pub [u8; 16]);

impl DocumentId {
    /// A fresh random id.
    pub fn random() -> Result<Self> {
        Ok(DocumentId(random_bytes()?))
    }

    /// Parses 32 hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        let bytes = hex::decode(s).ok()?;
        Some(DocumentId(bytes.try_into().ok()?))
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A keyed hash (HMAC-SHA-256 under a server secret) of a canonical encoding of the applicant
/// record. It lets a refresh find the applicant's existing document without the store ever
/// holding the personal data itself (policy §9.4); without the secret it cannot be reversed by
/// guessing names and birth dates.
pub fn applicant_ref(secret: &[u8], canonical_applicant_record: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail; fall back to zeros defensively.
    match <Hmac<Sha256> as Mac>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(canonical_applicant_record);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0u8; 32],
    }
}

/// The state of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentState {
    /// Issued and not revoked.
    Active,
    /// Revoked (final).
    Revoked,
}

/// Why a document was revoked. Codes are stored; they are stable and never reused. On the API
/// they are named in snake case (`key_compromise`); `ds_revoked` is set by the issuer only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// No reason given (code 0).
    Unspecified,
    /// The device key was compromised or the phone lost (code 1).
    KeyCompromise,
    /// Replaced by a new document (code 4).
    Superseded,
    /// The holder is no longer entitled to the document (code 5).
    CessationOfOperation,
    /// The holder asked for revocation (code 16).
    HolderRequest,
    /// The DS certificate that signed one of its MSOs was revoked (code 17).
    DsRevoked,
}

impl RevocationReason {
    /// The stored code.
    pub fn code(self) -> i64 {
        match self {
            RevocationReason::Unspecified => 0,
            RevocationReason::KeyCompromise => 1,
            RevocationReason::Superseded => 4,
            RevocationReason::CessationOfOperation => 5,
            RevocationReason::HolderRequest => 16,
            RevocationReason::DsRevoked => 17,
        }
    }

    /// The reason for a stored code.
    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            0 => RevocationReason::Unspecified,
            1 => RevocationReason::KeyCompromise,
            4 => RevocationReason::Superseded,
            5 => RevocationReason::CessationOfOperation,
            16 => RevocationReason::HolderRequest,
            17 => RevocationReason::DsRevoked,
            _ => return None,
        })
    }
}

/// A document to be recorded at issuance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    /// Its id (generate with [`DocumentId::random`]).
    pub id: DocumentId,
    /// The mdoc doctype, e.g. `org.iso.18013.5.1.mDL`.
    pub doctype: String,
    /// [`applicant_ref`] of the applicant record.
    pub applicant_ref: [u8; 32],
    /// Issuance time.
    pub created_at: OffsetDateTime,
    /// The API client that issued it, the only client besides admins that may act on it.
    pub client_id: String,
}

/// A stored document. Times have one-second resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Its id.
    pub id: DocumentId,
    /// The mdoc doctype.
    pub doctype: String,
    /// [`applicant_ref`] of the applicant record.
    pub applicant_ref: [u8; 32],
    /// Issuance time.
    pub created_at: OffsetDateTime,
    /// Active or revoked.
    pub state: DocumentState,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// Why it was revoked.
    pub revocation_reason: Option<RevocationReason>,
    /// The API client that issued it (`None` for documents stored before owners were recorded,
    /// which only admins may act on).
    pub client_id: Option<String>,
}

impl Document {
    /// Whether `client_id` may read, refresh or revoke this document: its issuer may, and so
    /// may an admin.
    pub fn is_accessible_by(&self, client_id: &str, admin: bool) -> bool {
        admin || self.client_id.as_deref() == Some(client_id)
    }
}

/// One signed MSO, as recorded at issuance or refresh. Times have one-second resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsoRecord {
    /// Serial (lower-case hex) of the DS certificate that signed it.
    pub ds_serial: String,
    /// URI of the status list it points into.
    pub status_list_uri: String,
    /// Its index in that list, from [`Store::allocate_status_indices`](super::Store::allocate_status_indices).
    pub status_index: u64,
    /// Its random identifier for the identifier list (unique).
    pub identifier: Vec<u8>,
    /// RFC 9679 COSE Key thumbprint (SHA-256) of the device key it binds.
    pub device_key_thumbprint: [u8; 32],
    /// MSO validFrom.
    pub valid_from: OffsetDateTime,
    /// MSO validUntil.
    pub valid_until: OffsetDateTime,
    /// Signing time.
    pub created_at: OffsetDateTime,
}

/// A stored MSO with its document and revocation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMso {
    /// The document it belongs to.
    pub document_id: DocumentId,
    /// What was recorded.
    pub record: MsoRecord,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

/// Everything one issuance records, committed atomically by
/// [`Store::record_issuance`](super::Store::record_issuance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuanceRecord {
    /// The new document.
    pub document: NewDocument,
    /// Its MSOs (one per device key in a batch).
    pub msos: Vec<MsoRecord>,
    /// The proof-of-possession nonce the request used, consumed in the same transaction.
    pub nonce: Option<UsedNonce>,
    /// The OpenID4VCI offer this issuance redeems: closed (`issued`, with the document and
    /// its notification id) in the same transaction, or the whole issuance fails with
    /// [`StoreError::OfferClosed`](super::StoreError::OfferClosed) if it was withdrawn meanwhile.
    pub offer: Option<OfferIssued>,
}

/// The OpenID4VCI offer an issuance closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferIssued {
    /// The offer's id.
    pub id: [u8; 16],
    /// The notification id the wallet is given with the credential.
    pub notification_id: String,
}

/// A single-use proof-of-possession nonce, identified by its SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsedNonce {
    /// SHA-256 of the nonce string.
    pub sha256: [u8; 32],
    /// When the nonce expires (the record may be purged afterwards).
    pub expires_at: OffsetDateTime,
}

/// The idempotency context of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    /// The authenticated API client.
    pub client_id: String,
    /// The key the client chose for the request (the API takes it from `Idempotency-Key`).
    pub key: String,
    /// SHA-256 of the canonical request (method, path, body).
    pub request_hash: [u8; 32],
    /// When the record may be forgotten and the key reused.
    pub expires_at: OffsetDateTime,
}

/// What a request recorded under an `Idempotency-Key` did, stored so that its retry is
/// answered the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    /// A new document was issued (stored as `issued`).
    Issued,
    /// An existing document got new MSOs (stored as `refreshed`).
    Refreshed,
}

impl OutcomeKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Issued => "issued",
            OutcomeKind::Refreshed => "refreshed",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "issued" => OutcomeKind::Issued,
            "refreshed" => OutcomeKind::Refreshed,
            _ => return None,
        })
    }
}

/// What is stored for replaying a request: what kind of outcome it had and an opaque body (the
/// issuer stores a sealed replay record here, from which the retry's answer is rebuilt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// What the request did.
    pub kind: OutcomeKind,
    /// Opaque bytes, returned as stored.
    pub body: Vec<u8>,
}

/// What [`Store::record_issuance`](super::Store::record_issuance) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// The records were written.
    Recorded,
    /// The same request was already recorded under this `Idempotency-Key`: nothing was
    /// written and this is the response stored the first time.
    Replayed(StoredResponse),
}

/// State of a DS certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsState {
    /// Installed but not yet used for signing.
    Pending,
    /// Usable for signing.
    Active,
    /// No longer used for signing; its MSOs stay valid.
    Retired,
    /// Revoked: every MSO it signed is revoked.
    Revoked,
}

impl DsState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DsState::Pending => "pending",
            DsState::Active => "active",
            DsState::Retired => "retired",
            DsState::Revoked => "revoked",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => DsState::Pending,
            "active" => DsState::Active,
            "retired" => DsState::Retired,
            "revoked" => DsState::Revoked,
            _ => return None,
        })
    }
}

/// A signer certificate installed in the issuer: a DS, or (in a table of its own, active or
/// revoked only) a list signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsCertificate {
    /// Serial, lower-case hex.
    pub serial: String,
    /// DER.
    pub der: Vec<u8>,
    /// notBefore.
    pub not_before: OffsetDateTime,
    /// notAfter.
    pub not_after: OffsetDateTime,
    /// Lifecycle state.
    pub state: DsState,
    /// URI of its private key in the keystore.
    pub key_uri: String,
    /// When it was installed (one-second resolution).
    pub installed_at: OffsetDateTime,
}

/// What an API client may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Issue and refresh documents.
    Issue,
    /// Revoke documents.
    Revoke,
    /// Administer clients and DS keys.
    Admin,
}

impl Scope {
    /// The scope's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Issue => "issue",
            Scope::Revoke => "revoke",
            Scope::Admin => "admin",
        }
    }

    /// Parses a scope name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "issue" => Scope::Issue,
            "revoke" => Scope::Revoke,
            "admin" => Scope::Admin,
            _ => return None,
        })
    }
}

/// An API client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Its id (128 random bits, hex).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Granted scopes (sorted, no duplicates).
    pub scopes: Vec<Scope>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Whether it was disabled.
    pub disabled: bool,
}

impl Client {
    /// Whether the client holds `scope`.
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// A bearer token, shown once at creation. Its `Debug` hides the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(pub String);

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(..)")
    }
}
