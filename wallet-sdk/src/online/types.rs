//! The records of an online presentation as the app sees them: the request it received, what
//! the holder is asked to approve, the approval, and what the app must send back.

use crate::consent::{ApprovedElement, ReaderAuthStatus, RequestedElement};

/// A presentation request received online.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum OnlineRequest {
    /// A W3C Digital Credentials API request as the platform hands it to the wallet: the
    /// protocol identifier (`openid4vp-v1-unsigned`, `openid4vp-v1-signed`, `org-iso-mdoc`),
    /// the request's `data` (JSON) and the origin of the page or app that made it, as the
    /// platform reports it (the wallet binds its answer to it).
    DigitalCredentials {
        /// The protocol identifier.
        protocol: String,
        /// The request's `data` member, as JSON.
        data_json: String,
        /// The caller's origin (e.g. `https://verifier.example`).
        origin: String,
    },
    /// An OpenID4VP request by URL (QR code or link: `openid4vp://?…`) carrying the request
    /// by value: either its parameters or a signed request object (`request=`).
    Url {
        /// The URL.
        url: String,
    },
}

/// Who asks, as far as the request proves it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifierIdentity {
    /// The client identifier with its prefix, when the request has one.
    pub client_id: Option<String>,
    /// The web origin the request came from (Digital Credentials API).
    pub origin: Option<String>,
    /// Whether the verifier's certificate was verified: `Verified` for a signed request
    /// object whose certificate chains to a verifier trust anchor the app configured and
    /// matches the client identifier; `Absent` for an unsigned request.
    pub auth: ReaderAuthStatus,
    /// The verifier certificate's subject DN, if it has one.
    pub subject: Option<String>,
    /// The verifier certificate (DER), if any.
    pub certificate: Option<Vec<u8>>,
}

/// One credential the verifier asks for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RequestedCredential {
    /// The request's id for it (the DCQL credential query id; the doc type for Annex C).
    pub query_id: String,
    /// The doc type asked for.
    pub doc_type: String,
    /// The stored credential that would answer, if the wallet holds one that can.
    pub credential_id: Option<String>,
    /// The elements asked for: for DCQL, those of the first claim set the credential can
    /// satisfy (all asked-for claims when none can).
    pub elements: Vec<RequestedElement>,
    /// Whether the request cannot be satisfied without it.
    pub required: bool,
    /// Why no stored credential can answer, when none can.
    pub unsatisfiable: Option<String>,
}

/// The consent request the app shows the holder.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OnlineConsentRequest {
    /// Who asks.
    pub verifier: VerifierIdentity,
    /// What is asked for, in request order.
    pub credentials: Vec<RequestedCredential>,
    /// Whether the wallet can answer every required part of the request.
    pub satisfiable: bool,
}

/// What the holder approved for one requested credential; a credential left out of the
/// approval is not presented.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OnlineApproval {
    /// The [`RequestedCredential::query_id`].
    pub query_id: String,
    /// The approved elements: each must have been asked for and be available.
    pub elements: Vec<ApprovedElement>,
}

/// What the app sends back.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum OnlineAnswer {
    /// POST `body` to `url` with this content type (`direct_post`, `direct_post.jwt`); the
    /// verifier may answer with a `redirect_uri` to open.
    Post {
        /// The response URI.
        url: String,
        /// `application/x-www-form-urlencoded`.
        content_type: String,
        /// The form body.
        body: String,
    },
    /// Hand `data_json` back to the platform as the Digital Credentials API response's
    /// `data` (with the request's protocol identifier).
    DigitalCredentials {
        /// The protocol identifier the request used.
        protocol: String,
        /// The response `data`, as JSON.
        data_json: String,
    },
}
