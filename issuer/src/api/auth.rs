//! API client authentication (bearer tokens), scopes and per-client rate limits.
//!
//! Tokens are looked up by their SHA-256 (see [`crate::store`]); a short in-memory cache saves
//! a database round trip per request, so disabling a client takes effect within
//! [`CLIENT_CACHE_TTL`].

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::AppState;
use crate::config::RateLimitConfig;
use crate::engine::ErrorCode;
use crate::store::{Client, Scope};

/// How long a looked-up client is trusted without asking the database again.
pub const CLIENT_CACHE_TTL: Duration = Duration::from_secs(10);
/// Longest accepted `Authorization` header.
const MAX_AUTH_LEN: usize = 512;

/// Token hash → (client, when it was looked up).
type ClientCache = HashMap<[u8; 32], (Option<Client>, Instant)>;

/// Most source addresses a per-source limiter tracks before it forgets the idle ones.
const MAX_TRACKED_SOURCES: usize = 100_000;

/// Authentication state shared by all requests.
pub struct Guard {
    cache: Mutex<ClientCache>,
    limiter: DefaultKeyedRateLimiter<String>,
    unauthenticated: DefaultKeyedRateLimiter<IpAddr>,
    refusal_audit: DefaultKeyedRateLimiter<IpAddr>,
    suppressed: Mutex<HashMap<IpAddr, u64>>,
}

/// The address a source is counted by: an IPv4 address, or the /64 of an IPv6 address (one
/// subscriber's allocation, which a client can walk through freely). No address (a request
/// not from a socket) counts as one source.
pub fn source_key(peer: Option<SocketAddr>) -> IpAddr {
    match peer.map(|p| p.ip()) {
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        Some(v4) => v4,
        None => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

fn quota(per_second: u32, burst: u32) -> Quota {
    Quota::per_second(NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

fn bounded(limiter: &DefaultKeyedRateLimiter<IpAddr>) {
    if limiter.len() > MAX_TRACKED_SOURCES {
        limiter.retain_recent();
    }
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard").finish_non_exhaustive()
    }
}

impl Guard {
    /// A guard applying `limits` per client.
    pub fn new(limits: &RateLimitConfig) -> Self {
        Guard {
            cache: Mutex::new(HashMap::new()),
            limiter: RateLimiter::keyed(quota(limits.per_second, limits.burst)),
            unauthenticated: RateLimiter::keyed(quota(
                limits.unauthenticated_per_second,
                limits.unauthenticated_burst,
            )),
            refusal_audit: RateLimiter::keyed(quota(
                limits.unauthenticated_audit_per_second,
                limits.unauthenticated_audit_burst,
            )),
            suppressed: Mutex::new(HashMap::new()),
        }
    }

    /// The answer to a request from `source` refused as unauthenticated: `refusal`, or 429
    /// once the source exceeds its rate (credential guessing, or a flood that would cost a
    /// token lookup each).
    fn refuse_unauthenticated(&self, source: IpAddr, refusal: ApiError) -> ApiError {
        bounded(&self.unauthenticated);
        if self.unauthenticated.check_key(&source).is_ok() {
            return refusal;
        }
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                "too many unauthenticated requests from this address",
            )
        }
    }

    /// Whether the refusal of an unauthenticated request from `source` gets its own audit
    /// record now: `Some(n)`, with `n` the refusals of that source not recorded since its
    /// last record, or `None` (this one is not recorded, only counted).
    pub fn audit_unauthenticated(&self, source: IpAddr) -> Option<u64> {
        bounded(&self.refusal_audit);
        let mut suppressed = self.suppressed.lock().ok()?;
        if self.refusal_audit.check_key(&source).is_ok() {
            return Some(suppressed.remove(&source).unwrap_or(0));
        }
        if suppressed.len() >= MAX_TRACKED_SOURCES {
            // Counts of many sources: what they lost is in the metrics still.
            suppressed.clear();
        }
        *suppressed.entry(source).or_insert(0) += 1;
        None
    }

    fn cached(&self, hash: &[u8; 32]) -> Option<Option<Client>> {
        let cache = self.cache.lock().ok()?;
        let (client, at) = cache.get(hash)?;
        (at.elapsed() < CLIENT_CACHE_TTL).then(|| client.clone())
    }

    fn remember(&self, hash: [u8; 32], client: Option<Client>) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > 10_000 {
                // Unknown tokens could fill it: start over rather than grow without bound.
                cache.clear();
            }
            cache.insert(hash, (client, Instant::now()));
        }
    }

    /// Drops cached lookups (after a client is disabled through this instance).
    pub fn forget_all(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
    }
}

/// The authenticated API client of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Client);

impl Caller {
    /// Refuses with 403 unless the client holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.0.has_scope(scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::InsufficientScope,
                format!("this operation needs the {:?} scope", scope.as_str()),
            ))
        }
    }

    /// Whether the client holds the `admin` scope, which reaches every client's documents.
    pub fn is_admin(&self) -> bool {
        self.0.has_scope(Scope::Admin)
    }
}

/// Where the extractor leaves the client id for the middleware, which writes the audit record
/// of a refusal after the handler ran (it put the slot in the request's extensions).
#[derive(Debug, Clone, Default)]
pub struct CallerSlot(pub Arc<Mutex<Option<String>>>);

impl CallerSlot {
    /// The client id, if a client was identified.
    pub fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|g| g.clone())
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let source = source_key(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        );
        let refuse = |message: &str| {
            state
                .guard
                .refuse_unauthenticated(source, unauthorized(message))
        };
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| refuse("an Authorization: Bearer token is required"))?;
        if value.len() > MAX_AUTH_LEN {
            return Err(refuse("the Authorization header is too long"));
        }
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .ok_or_else(|| refuse("the Authorization header must be `Bearer <token>`"))?;
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let client = match state.guard.cached(&hash) {
            Some(c) => c,
            None => {
                let c = state
                    .issuer
                    .store()
                    .client_by_token(token)
                    .await
                    .map_err(|e| ApiError::from(crate::engine::EngineError::from(e)))?;
                state.guard.remember(hash, c.clone());
                c
            }
        };
        let client = client.ok_or_else(|| refuse("unknown or disabled API client"))?;
        if let Some(slot) = parts.extensions.get::<CallerSlot>() {
            if let Ok(mut g) = slot.0.lock() {
                *g = Some(client.id.clone());
            }
        }
        if state.guard.limiter.check_key(&client.id).is_err() {
            return Err(ApiError {
                retry_after: Some(1),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    ErrorCode::RateLimited,
                    "request rate limit exceeded for this client",
                )
            });
        }
        Ok(Caller(client))
    }
}
