//! Anchoring the audit log in time: a checkpoint's `hash` is time-stamped by a TSA and the token
//! is kept in the log itself, in a record of the reserved event [`TIMESTAMP_EVENT`] after it.
//!
//! The imprint is the checkpoint record's own `hash` (SHA-256 of its canonical bytes, so anyone
//! can check a token with `openssl ts -verify -digest <hash> -in token.der -CAfile tsa-root.pem`).
//! Since every hash commits to the whole history before it, one token dates every record up to
//! its checkpoint — and every artifact whose digest those records carry.
//!
//! A time-stamp record's `details` are exactly: `covers_seq` and `covers_hash` (the checkpoint),
//! `gen_time` (RFC 3339), `policy`, `serial` (hex) and `tsa` (hex SHA-256 of the TSA
//! certificate) as the token states them, and `token` (base64 DER). [`verify_log`] checks, on
//! top of [`audit::verify`](crate::audit::verify): each record covers an earlier checkpoint by
//! seq and hash; its genTime is not before the checkpoint's `time` nor after its own `time`
//! (both within the skew); genTimes never go backwards along the log; and, with TSA trust
//! anchors, that the token verifies for that checkpoint's hash and states what the details say.
//! Without anchors the tokens are counted as unchecked, never reported as verified.

use std::collections::BTreeMap;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use der::asn1::ObjectIdentifier;
use mso::crypto::PublicKey;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::error::TimeStampError;
use super::request::TimeStampRequest;
use super::token::{verify_response, verify_token, TsaTrust, VerifiedTimeStamp};
use crate::audit::{self, AuditEvent, AuditLog, AuditRecord, VerifySummary, TIMESTAMP_EVENT};
use crate::error::{Error, Result};

/// The `details` keys of a time-stamp record, sorted.
const DETAIL_KEYS: [&str; 7] = [
    "covers_hash",
    "covers_seq",
    "gen_time",
    "policy",
    "serial",
    "token",
    "tsa",
];

/// A checkpoint record to be time-stamped: its seq, `hash` and `time`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRef {
    /// The checkpoint's sequence number.
    pub seq: u64,
    /// Its `hash` (hex SHA-256): the imprint.
    pub hash: String,
    /// Its `time`.
    pub time: OffsetDateTime,
}

impl CheckpointRef {
    /// The checkpoint a record is, if it is one.
    pub fn of(record: &AuditRecord) -> Option<Self> {
        if !record.is_checkpoint() {
            return None;
        }
        Some(CheckpointRef {
            seq: record.seq,
            hash: record.hash.clone(),
            time: OffsetDateTime::parse(&record.time, &Rfc3339).ok()?,
        })
    }

    /// The imprint: the `hash` as 32 bytes.
    pub fn digest(&self) -> Result<[u8; 32]> {
        let bytes = hex::decode(&self.hash).map_err(|_| bad_hash(&self.hash))?;
        bytes.try_into().map_err(|_| bad_hash(&self.hash))
    }

    /// A time-stamp request for this checkpoint (fresh nonce, certReq, optional policy).
    pub fn request(&self, policy: Option<ObjectIdentifier>) -> Result<TimeStampRequest> {
        Ok(TimeStampRequest::new(self.digest()?, policy)?)
    }
}

fn bad_hash(hash: &str) -> Error {
    Error::AuditRefused(format!("checkpoint hash {hash:?} is not 64 hex digits"))
}

/// Verifies the TSA's `response` to `request` (made by [`CheckpointRef::request`]) and appends
/// the time-stamp record for `checkpoint` to `log`, stamped `at`; returns its seq and the
/// verified token.
///
/// Refused ([`Error::TimeStamp`], nothing written) if the request is not for this checkpoint,
/// the response does not verify against `trust`, or genTime is before the checkpoint's time
/// (beyond the skew): a log clock ahead of the TSA's would make every later check fail.
pub fn record_response(
    log: &mut AuditLog,
    checkpoint: &CheckpointRef,
    request: &TimeStampRequest,
    response: &[u8],
    trust: &TsaTrust,
    at: OffsetDateTime,
) -> Result<(u64, VerifiedTimeStamp)> {
    // A token is kept in the segment of the checkpoint it covers (a seal since the request:
    // the next checkpoint's token covers this one through the chain).
    if checkpoint.seq < log.first_seq() {
        return Err(Error::AuditRefused(format!(
            "checkpoint {} was sealed into an earlier segment before its time-stamp arrived",
            checkpoint.seq
        )));
    }
    if *request.digest() != checkpoint.digest()? {
        return Err(Error::AuditRefused(format!(
            "the time-stamp request is not for checkpoint {} (its imprint is another hash)",
            checkpoint.seq
        )));
    }
    let stamp = verify_response(response, request, trust)?;
    if stamp.gen_time < checkpoint.time.saturating_sub(trust.skew()) {
        return Err(TimeStampError::GenTime(format!(
            "{} is before checkpoint {}'s time {}: the log's clock is ahead of the TSA's",
            rfc3339(stamp.gen_time)?,
            checkpoint.seq,
            rfc3339(checkpoint.time)?
        ))
        .into());
    }
    let event = AuditEvent::success(TIMESTAMP_EVENT)
        .detail("covers_seq", checkpoint.seq.to_string())
        .detail("covers_hash", checkpoint.hash.clone())
        .detail("gen_time", rfc3339(stamp.gen_time)?)
        .detail("policy", stamp.policy.to_string())
        .detail("serial", stamp.serial.clone())
        .detail("tsa", stamp.tsa_fingerprint.clone())
        .detail("token", BASE64.encode(&stamp.token));
    let seq = log.append_reserved_at(event, at)?;
    Ok((seq, stamp))
}

/// One time-stamp record found in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The time-stamp record's seq.
    pub seq: u64,
    /// The checkpoint it covers.
    pub covers_seq: u64,
    /// genTime (verified when the report says so).
    pub gen_time: OffsetDateTime,
    /// Hex SHA-256 of the TSA certificate.
    pub tsa: String,
}

/// What [`verify_log`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnchorReport {
    /// The chain and checkpoints, as [`audit::verify`] reports them.
    pub summary: VerifySummary,
    /// The time-stamp records, in log order.
    pub stamps: Vec<Stamp>,
    /// Whether the tokens were verified against TSA trust anchors; `false` means they were
    /// only counted and checked for form (`stamps` then holds what the records claim).
    pub tokens_verified: bool,
    /// The last checkpoint of the log.
    pub last_checkpoint: Option<CheckpointRef>,
}

impl AnchorReport {
    /// The highest checkpoint seq a token covers: every record up to it existed at that
    /// token's genTime.
    pub fn stamped_through(&self) -> Option<u64> {
        self.stamps.iter().map(|s| s.covers_seq).max()
    }

    /// The time-stamp covering record `seq` earliest (the first stamp over a checkpoint at or
    /// after it), if any.
    pub fn stamp_covering(&self, seq: u64) -> Option<&Stamp> {
        self.stamps
            .iter()
            .filter(|s| s.covers_seq >= seq)
            .min_by_key(|s| s.gen_time)
    }
}

/// Verifies the log as [`audit::verify`] does and checks every time-stamp record (see the
/// [module docs](self)); with `trust`, the tokens too. The first problem is
/// [`Error::AuditTampered`] at the offending record's seq.
pub fn verify_log(
    path: impl AsRef<Path>,
    audit_key: &PublicKey,
    trust: Option<&TsaTrust>,
) -> Result<AnchorReport> {
    let mut checkpoints: BTreeMap<u64, CheckpointRef> = BTreeMap::new();
    let mut stamps: Vec<Stamp> = Vec::new();
    let mut visit = |record: &AuditRecord| -> core::result::Result<(), String> {
        if let Some(cp) = CheckpointRef::of(record) {
            checkpoints.insert(cp.seq, cp);
        } else if record.event == TIMESTAMP_EVENT {
            let stamp = check_stamp(record, &checkpoints, stamps.last(), trust)
                .map_err(|reason| format!("time-stamp record {}: {reason}", record.seq))?;
            stamps.push(stamp);
        }
        Ok(())
    };
    let summary = audit::verify_visiting(path.as_ref(), audit_key, &mut visit)?;
    Ok(AnchorReport {
        summary,
        stamps,
        tokens_verified: trust.is_some(),
        last_checkpoint: checkpoints.into_values().next_back(),
    })
}

fn check_stamp(
    record: &AuditRecord,
    checkpoints: &BTreeMap<u64, CheckpointRef>,
    previous: Option<&Stamp>,
    trust: Option<&TsaTrust>,
) -> core::result::Result<Stamp, String> {
    let keys: Vec<&str> = record.details.keys().map(String::as_str).collect();
    if keys != DETAIL_KEYS {
        return Err(format!(
            "details must be exactly {}",
            DETAIL_KEYS.join(", ")
        ));
    }
    let detail = |k: &str| record.details.get(k).map(String::as_str).unwrap_or("");
    if record.result != audit::Outcome::Success {
        return Err("result is not success".to_owned());
    }
    let covers_seq: u64 = detail("covers_seq")
        .parse()
        .map_err(|_| "covers_seq is not a number".to_owned())?;
    let checkpoint = checkpoints
        .get(&covers_seq)
        .ok_or_else(|| format!("covers_seq {covers_seq} is not an earlier checkpoint"))?;
    if detail("covers_hash") != checkpoint.hash {
        return Err(format!(
            "covers_hash is not the hash of checkpoint {covers_seq}"
        ));
    }
    let claimed = OffsetDateTime::parse(detail("gen_time"), &Rfc3339)
        .map_err(|_| "gen_time is not RFC 3339".to_owned())?;
    let mut stamp = Stamp {
        seq: record.seq,
        covers_seq,
        gen_time: claimed,
        tsa: detail("tsa").to_owned(),
    };
    let skew = trust.map_or(mso::x509::policy::DEFAULT_SKEW, TsaTrust::skew);
    if let Some(trust) = trust {
        let token = BASE64
            .decode(detail("token"))
            .map_err(|_| "token is not base64".to_owned())?;
        let digest = checkpoint.digest().map_err(|e| e.to_string())?;
        let verified = verify_token(&token, &digest, None, trust)
            .map_err(|e| format!("the token does not verify for checkpoint {covers_seq}: {e}"))?;
        let states = [
            (
                "gen_time",
                rfc3339(verified.gen_time).map_err(|e| e.to_string())?,
            ),
            ("policy", verified.policy.to_string()),
            ("serial", verified.serial.clone()),
            ("tsa", verified.tsa_fingerprint.clone()),
        ];
        if let Some((key, _)) = states.iter().find(|(k, v)| detail(k) != v) {
            return Err(format!("{key} differs from what the token states"));
        }
        stamp.gen_time = verified.gen_time;
        stamp.tsa = verified.tsa_fingerprint;
    }
    if stamp.gen_time < checkpoint.time.saturating_sub(skew) {
        return Err(format!(
            "genTime {} is before checkpoint {covers_seq}'s time {}",
            detail("gen_time"),
            rfc3339(checkpoint.time).unwrap_or_default()
        ));
    }
    let own_time = OffsetDateTime::parse(&record.time, &Rfc3339)
        .map_err(|_| "time is not RFC 3339".to_owned())?;
    if stamp.gen_time > own_time.saturating_add(skew) {
        return Err(format!(
            "genTime {} is after the record's own time {}",
            detail("gen_time"),
            record.time
        ));
    }
    if let Some(previous) = previous {
        if stamp.gen_time < previous.gen_time {
            return Err(format!(
                "genTime {} is before the genTime of time-stamp record {}: tokens out of order",
                detail("gen_time"),
                previous.seq
            ));
        }
    }
    Ok(stamp)
}

fn rfc3339(at: OffsetDateTime) -> Result<String> {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|e| Error::AuditRefused(format!("time {at}: {e}")))
}
