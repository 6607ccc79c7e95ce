//! CRLs per ISO/IEC 18013-5 Annex B and the CPS (§4.9.7, §7.2): X.509 v2, signed by the IACA
//! with the algorithm of its key, issuer = the IACA subject, thisUpdate and nextUpdate present,
//! revokedCertificates omitted when empty, CRL extensions exactly authorityKeyIdentifier (= the
//! IACA's SKI) and cRLNumber (both non-critical), no entry extensions (revocation reasons are
//! recorded by the CA but not published).
//!
//! Like the certificate builders, [`build_crl`] lints before it signs (nothing is signed when
//! there is an error) and checks the new signature with the IACA certificate's key.
//!
//! Scale: the revoked entries are checked and DER-encoded straight from the caller's slice into
//! one pre-sized buffer (no per-entry allocation), which also holds the final CRL; a CRL with
//! 1,000,000 entries takes well under a second and about its own size in memory (see
//! `benches/crl.rs` and `examples/crl_million.rs`).

use der::asn1::Uint;
use der::Encode;
use mso::crypto::Signer;
use time::{Duration, OffsetDateTime, UtcOffset};
use x509_cert::certificate::Version;
use x509_cert::crl::TbsCertList;
use x509_cert::ext::pkix::CrlNumber;
use x509_cert::ext::Extension;

use crate::lint::{
    has_errors, lint_crl_against_issuer, lint_tbs_crl, EntryLinter, Finding, LintPolicy,
};
use crate::profile::{aki_extension, enc_err, sign_x509, x509_time, Issuer, ProfileError};
use mso::x509::{oid, signature, time::truncate};

/// Default CRL validity: nextUpdate = thisUpdate + 3 days (CPS §7.2.2).
pub const DEFAULT_CRL_VALIDITY_DAYS: u32 = crate::lint::MAX_CRL_VALIDITY_DAYS;
/// Default issuance interval: a new CRL every day, also when nothing changed (CPS §4.9.7).
pub const DEFAULT_CRL_UPDATE_INTERVAL_DAYS: u32 = 1;

/// One revoked certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// The certificate's serial number as an unsigned big-endian integer; leading zero octets
    /// are ignored, so the DER INTEGER content octets of a (positive) certificate serial work
    /// as they are.
    pub serial: Vec<u8>,
    /// When the CA revoked it (not after the CRL's thisUpdate); sub-seconds are dropped.
    pub revocation_date: OffsetDateTime,
}

/// Parameters of one CRL. [`CrlParams::new`] fills in the policy defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlParams {
    /// cRLNumber: strictly increasing per IACA; an emergency series uses higher numbers than
    /// any pre-signed one so it supersedes them.
    pub crl_number: u64,
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate (default thisUpdate + 3 days).
    pub next_update: OffsetDateTime,
    /// Days between two CRLs of a pre-signed series (default 1), used by
    /// [`CrlParams::next_in_series`].
    pub update_interval_days: u32,
    /// Lint limits (maximum CRL validity, ...).
    pub policy: LintPolicy,
}

impl CrlParams {
    /// thisUpdate = `this_update`, nextUpdate = thisUpdate + 3 days, interval 1 day.
    pub fn new(crl_number: u64, this_update: OffsetDateTime) -> Self {
        CrlParams {
            crl_number,
            this_update,
            next_update: this_update + Duration::days(i64::from(DEFAULT_CRL_VALIDITY_DAYS)),
            update_interval_days: DEFAULT_CRL_UPDATE_INTERVAL_DAYS,
            policy: LintPolicy::default(),
        }
    }

    /// The parameters of the next CRL of a pre-signed series: number + 1, both times moved by
    /// `update_interval_days`. `None` on overflow.
    pub fn next_in_series(&self) -> Option<Self> {
        let step = Duration::days(i64::from(self.update_interval_days));
        Some(CrlParams {
            crl_number: self.crl_number.checked_add(1)?,
            this_update: self.this_update.checked_add(step)?,
            next_update: self.next_update.checked_add(step)?,
            update_interval_days: self.update_interval_days,
            policy: self.policy.clone(),
        })
    }
}

/// An entry's serial: its magnitude (no leading zeros) and whether DER needs a 0x00 sign octet.
fn serial_parts(serial: &[u8]) -> (&[u8], bool) {
    let start = serial.iter().take_while(|b| **b == 0).count();
    let magnitude = serial.get(start..).unwrap_or_default();
    let pad = magnitude.first().is_some_and(|b| b & 0x80 != 0);
    (magnitude, pad)
}

/// Builds, lints and signs a CRL for the IACA `issuer_cert_der` with `signer` (which must hold
/// the IACA key). Entries appear in the order given.
pub fn build_crl(
    issuer_cert_der: &[u8],
    params: &CrlParams,
    revoked: &[RevokedEntry],
    signer: &dyn Signer,
) -> Result<Vec<u8>, ProfileError> {
    let issuer = Issuer::load(issuer_cert_der, signer)?;
    let sig_alg = signature::algorithm_identifier(signer.algorithm());
    let this_update = truncate(params.this_update);
    let this_update_time = x509_time(this_update)?;
    let extensions: Vec<Extension> = vec![
        aki_extension(&issuer.ski)?,
        Extension {
            extn_id: oid::CRL_NUMBER,
            critical: false,
            extn_value: der::asn1::OctetString::new(
                CrlNumber(Uint::new(&params.crl_number.to_be_bytes()).map_err(enc_err)?)
                    .to_der()
                    .map_err(enc_err)?,
            )
            .map_err(enc_err)?,
        },
    ];
    // Everything but the entries, linted as x509-cert's structure and encoded from it.
    let header = TbsCertList {
        version: Version::V2,
        signature: sig_alg.clone(),
        issuer: issuer.tbs().subject.clone(),
        this_update: this_update_time,
        next_update: Some(x509_time(params.next_update)?),
        revoked_certificates: None,
        crl_extensions: Some(extensions),
    };
    let mut findings: Vec<Finding> = lint_tbs_crl(&header, &params.policy);
    findings.extend(lint_crl_against_issuer(&header, issuer.tbs()));

    // Entries: lint and size them in one pass, without allocating per entry.
    let this_unix = this_update.unix_timestamp();
    let mut linter = EntryLinter::new(this_unix, revoked.len());
    let mut entries_len: usize = 0;
    for (i, e) in revoked.iter().enumerate() {
        let (magnitude, pad) = serial_parts(&e.serial);
        let content_len = magnitude.len() + usize::from(pad);
        let date = truncate(e.revocation_date);
        linter.entry(
            i,
            magnitude,
            content_len,
            false,
            date.unix_timestamp(),
            false,
        );
        entries_len += entry_len(content_len, time_len(date)?);
    }
    findings.extend(linter.finish());
    if has_errors(&findings) {
        return Err(ProfileError::Lint(findings));
    }

    let fields = [
        header.version.to_der().map_err(enc_err)?,
        header.signature.to_der().map_err(enc_err)?,
        header.issuer.to_der().map_err(enc_err)?,
        header.this_update.to_der().map_err(enc_err)?,
        header
            .next_update
            .as_ref()
            .map(Encode::to_der)
            .transpose()
            .map_err(enc_err)?
            .unwrap_or_default(),
    ];
    let ext_seq = header
        .crl_extensions
        .as_ref()
        .map(Encode::to_der)
        .transpose()
        .map_err(enc_err)?
        .unwrap_or_default();
    let revoked_tlv = if revoked.is_empty() {
        0
    } else {
        tlv_len(entries_len)
    };
    let tbs_content =
        fields.iter().map(Vec::len).sum::<usize>() + revoked_tlv + tlv_len(ext_seq.len());
    let tbs_len = tlv_len(tbs_content);
    let sig_alg_der = sig_alg.to_der().map_err(enc_err)?;

    // Room in front for the outer SEQUENCE header, written once the signature length is known.
    const HEAD: usize = 8;
    let mut buf = Vec::with_capacity(HEAD + tbs_len + sig_alg_der.len() + 160);
    buf.resize(HEAD, 0);
    put_header(&mut buf, 0x30, tbs_content);
    for f in &fields {
        buf.extend_from_slice(f);
    }
    if !revoked.is_empty() {
        put_header(&mut buf, 0x30, entries_len);
        for e in revoked {
            let (magnitude, pad) = serial_parts(&e.serial);
            let content_len = magnitude.len() + usize::from(pad);
            let date = truncate(e.revocation_date);
            // Each entry is < 128 octets, so every length here is one octet.
            put_header(&mut buf, 0x30, entry_len(content_len, time_len(date)?) - 2);
            put_header(&mut buf, 0x02, content_len);
            if pad {
                buf.push(0);
            }
            buf.extend_from_slice(magnitude);
            put_time(&mut buf, date);
        }
    }
    put_header(&mut buf, 0xa0, ext_seq.len());
    buf.extend_from_slice(&ext_seq);
    if buf.len() != HEAD + tbs_len {
        return Err(ProfileError::Encoding(format!(
            "TBSCertList is {} octets, expected {tbs_len}",
            buf.len() - HEAD
        )));
    }

    let tbs = buf.get(HEAD..).unwrap_or_default();
    let signature = sign_x509(signer, tbs)?;
    mso::x509::verify_x509_signature(&issuer.key, &sig_alg.oid, tbs, &signature)
        .map_err(|e| ProfileError::SignatureCheck(e.to_string()))?;

    buf.extend_from_slice(&sig_alg_der);
    put_header(&mut buf, 0x03, signature.len() + 1);
    buf.push(0);
    buf.extend_from_slice(&signature);

    let mut outer = Vec::with_capacity(HEAD);
    put_header(&mut outer, 0x30, buf.len() - HEAD);
    let start = HEAD
        .checked_sub(outer.len())
        .ok_or_else(|| ProfileError::Encoding("CRL too large".into()))?;
    buf.get_mut(start..HEAD)
        .ok_or_else(|| ProfileError::Encoding("CRL header".into()))?
        .copy_from_slice(&outer);
    buf.drain(..start);
    Ok(buf)
}

/// Encoded length of an entry SEQUENCE with a serial of `serial_content` octets and a time TLV
/// of `time_tlv` octets.
fn entry_len(serial_content: usize, time_tlv: usize) -> usize {
    2 + (2 + serial_content) + time_tlv
}

/// Length of the time TLV for `t` (UTC): UTCTime (15) before 2050, GeneralizedTime (17) after.
fn time_len(t: OffsetDateTime) -> Result<usize, ProfileError> {
    match t.year() {
        1970..=2049 => Ok(15),
        2050..=9999 => Ok(17),
        _ => Err(ProfileError::TimeOutOfRange(format!(
            "revocationDate {t} (years 1970 to 9999 only)"
        ))),
    }
}

fn tlv_len(content: usize) -> usize {
    1 + len_of_len(content) + content
}

fn len_of_len(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        1 + (usize::BITS as usize / 8 - len.leading_zeros() as usize / 8)
    }
}

fn put_header(buf: &mut Vec<u8>, tag: u8, len: usize) {
    buf.push(tag);
    if len < 0x80 {
        buf.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = len.leading_zeros() as usize / 8;
        let significant = bytes.get(skip..).unwrap_or_default();
        buf.push(0x80 | significant.len() as u8);
        buf.extend_from_slice(significant);
    }
}

/// Writes `t` (already truncated, years 1970..=9999) as UTCTime or GeneralizedTime.
fn put_time(buf: &mut Vec<u8>, t: OffsetDateTime) {
    let t = t.to_offset(UtcOffset::UTC);
    let year = t.year().clamp(0, 9999) as u32;
    let two = |buf: &mut Vec<u8>, v: u32| {
        buf.push(b'0' + (v / 10 % 10) as u8);
        buf.push(b'0' + (v % 10) as u8);
    };
    if year < 2050 {
        buf.extend_from_slice(&[0x17, 13]);
        two(buf, year % 100);
    } else {
        buf.extend_from_slice(&[0x18, 15]);
        two(buf, year / 100);
        two(buf, year % 100);
    }
    two(buf, u32::from(u8::from(t.month())));
    two(buf, u32::from(t.day()));
    two(buf, u32::from(t.hour()));
    two(buf, u32::from(t.minute()));
    two(buf, u32::from(t.second()));
    buf.push(b'Z');
}

/// The first of `certs` that `earlier` lists, that has not expired at `at` (the next CRL's
/// thisUpdate), and that the next CRL does not keep (`kept`): a CRL entry stays until the
/// certificate expires (CPS §4.9.7), so such a certificate means the next CRL dropped a
/// revocation. The one rule behind the CRL ceremony's check and `audit verify`'s.
pub fn dropped_before_expiry<'a>(
    certs: impl IntoIterator<Item = &'a crate::ledger::CertRecord>,
    earlier: &mso::crl::Crl<'_>,
    at: OffsetDateTime,
    kept: impl Fn(&crate::ledger::CertRecord) -> bool,
) -> Option<&'a crate::ledger::CertRecord> {
    certs.into_iter().find(|c| {
        c.not_after >= at
            && hex::decode(&c.serial).is_ok_and(|serial| earlier.is_revoked(&serial))
            && !kept(c)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        for len in [0usize, 1, 127, 128, 255, 256, 65_535, 65_536, 40_000_000] {
            let mut b = Vec::new();
            put_header(&mut b, 0x30, len);
            assert_eq!(b.len(), 1 + len_of_len(len), "{len}");
        }
    }

    #[test]
    fn times_match_x509_cert() {
        for t in [
            time::macros::datetime!(2026-01-02 03:04:05 UTC),
            time::macros::datetime!(2049-12-31 23:59:59 UTC),
            time::macros::datetime!(2050-01-01 00:00:00 UTC),
            time::macros::datetime!(2101-07-08 09:10:11 +02:00),
        ] {
            let mut b = Vec::new();
            put_time(&mut b, t);
            assert_eq!(b, x509_time(t).unwrap().to_der().unwrap());
            assert_eq!(b.len(), time_len(t.to_offset(UtcOffset::UTC)).unwrap());
        }
    }
}
