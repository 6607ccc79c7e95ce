//! What the verification of an online response says: each presentation's full
//! [`VerificationReport`], which DCQL queries the response satisfied, and every finding that
//! makes it unacceptable, each named.

use crate::report::VerificationReport;

/// A data element, by namespace and identifier.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClaimRef {
    /// The namespace.
    pub namespace: String,
    /// The data element identifier.
    pub element: String,
}

/// One DeviceResponse of the response and its verification.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct QueryPresentation {
    /// The credential query it answers (the `vp_token` key; the doc type for Annex C).
    pub query_id: String,
    /// Every check of the DeviceResponse, over this request's SessionTranscript.
    pub report: VerificationReport,
}

/// How one credential query was answered.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QueryOutcome {
    /// The credential query's id.
    pub query_id: String,
    /// True when a presentation of the right doc type disclosed a full claim set (or every
    /// claim without claim sets) and nothing the query did not ask for.
    pub satisfied: bool,
    /// The index of the claim set satisfied, when the query has claim sets.
    pub claim_set: Option<u32>,
    /// Claims asked for (in the best claim set) that no presentation disclosed.
    pub missing: Vec<ClaimRef>,
    /// Claims disclosed that the query did not ask for.
    pub unrequested: Vec<ClaimRef>,
}

/// Why a response that was read is not acceptable, each by name.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ResponseFinding {
    /// A presentation failed a check other than device authentication (see its report).
    PresentationInvalid {
        /// The credential query.
        query_id: String,
    },
    /// Device authentication failed over this request's SessionTranscript: the
    /// DeviceResponse was made for another transcript (another nonce, client, origin,
    /// response URI or encryption key).
    TranscriptMismatch {
        /// The credential query.
        query_id: String,
    },
    /// The presentation disclosed claims the query did not ask for.
    UnrequestedClaims {
        /// The credential query.
        query_id: String,
        /// What was disclosed without being asked for.
        claims: Vec<ClaimRef>,
    },
    /// A presentation lacks claims its query asks for (or has a value the query does not
    /// accept).
    MissingClaims {
        /// The credential query.
        query_id: String,
        /// What is missing.
        claims: Vec<ClaimRef>,
    },
    /// A presentation is of another doc type than its query asks for.
    WrongDocType {
        /// The credential query.
        query_id: String,
        /// The doc type asked for.
        expected: String,
        /// The doc type presented.
        found: String,
    },
    /// More presentations than the query allows (`multiple` is false), or more than one
    /// document in one DeviceResponse.
    TooManyPresentations {
        /// The credential query.
        query_id: String,
    },
    /// The response answers a query the request did not make.
    UnknownQuery {
        /// The id found in the response.
        query_id: String,
    },
    /// A query the request requires (directly or through a required credential set) is not
    /// satisfied.
    RequiredQueryUnsatisfied {
        /// The credential query, or the options of the credential set, joined by `|`.
        query_id: String,
    },
}

/// The verification of an online presentation.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct OnlineVerificationReport {
    /// True when every presentation verified, every required query is satisfied and no
    /// finding was made.
    pub valid: bool,
    /// Every presentation, in response order.
    pub presentations: Vec<QueryPresentation>,
    /// Every credential query of the request, answered or not.
    pub queries: Vec<QueryOutcome>,
    /// What makes the response unacceptable (empty when `valid`).
    pub findings: Vec<ResponseFinding>,
}

/// Why the SDK refused to read a response at all (a [`crate::VerifierError::ResponseRefused`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ResponseRefusal {
    /// This request has already accepted a response: one request, one response.
    Replayed,
    /// The response's `state` is not this request's.
    StateMismatch,
    /// The response is not encrypted to this request's key (another key, or tampered).
    NotForThisKey,
    /// The response is in plain text where the request asked for encryption, or the other
    /// way round, or uses an encryption the request did not offer.
    WrongEncryption,
    /// The wallet answered with an OAuth error (e.g. `access_denied`) instead of a response.
    WalletError,
}
