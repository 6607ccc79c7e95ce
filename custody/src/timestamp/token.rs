//! Verifying a TimeStampResp / TimeStampToken (RFC 3161 §2.4.2) as seed 004 describes it: the
//! imprint is the expected digest, the CMS signature verifies under the TSA certificate, and
//! that certificate is a time-stamping certificate on a path to a trusted TSA root at genTime.

use der::asn1::{Any, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use mso::crypto::{DigestAlgorithm, SoftwareVerifier};
use mso::x509::{oid, Certificate, PathPolicy, TrustAnchors};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::KeyUsages;
use x509_tsp::{TimeStampResp, TstInfo};

use cms::cert::CertificateChoices;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    DigestAlgorithmIdentifiers, EncapsulatedContentInfo, SignerIdentifier, SignerInfo, SignerInfos,
};

use super::error::TimeStampError;
use super::ess::{IssuerSerial, SigningCertificate, SigningCertificateV2};
use super::request::{sha256_imprint, TimeStampRequest};

/// Largest token accepted: a token with its TSA chain is a few KiB; 32 KiB keeps its base64
/// inside one audit log line ([`crate::audit::MAX_LINE_LEN`]).
pub const MAX_TOKEN_LEN: usize = 32 * 1024;

/// Largest TimeStampResp accepted: a token plus the status.
pub const MAX_RESPONSE_LEN: usize = MAX_TOKEN_LEN + 4 * 1024;

/// Largest PEM file of TSA trust anchors read.
const MAX_ANCHORS_PEM_LEN: usize = 1024 * 1024;

/// What a time-stamp token is verified against: the trusted TSA roots (seed 004 §13: the TSA
/// certificate's issuer, whose fingerprint the TSA publishes) and, optionally, the TSA policies
/// accepted.
#[derive(Debug, Clone)]
pub struct TsaTrust {
    anchors: TrustAnchors,
    policies: Vec<ObjectIdentifier>,
    skew: Duration,
}

impl TsaTrust {
    /// Trusts TSA certificates on a path to one of `anchors`; refuses an empty set.
    pub fn new(anchors: Vec<Certificate>) -> Result<Self, TimeStampError> {
        if anchors.is_empty() {
            return Err(TimeStampError::Anchors("no trust anchor given".to_owned()));
        }
        Ok(TsaTrust {
            anchors: TrustAnchors::new(anchors),
            policies: Vec::new(),
            skew: mso::x509::policy::DEFAULT_SKEW,
        })
    }

    /// Reads the anchors from a PEM file of one or more `CERTIFICATE` blocks.
    pub fn from_pem(pem: &[u8]) -> Result<Self, TimeStampError> {
        if pem.len() > MAX_ANCHORS_PEM_LEN {
            return Err(TimeStampError::TooLarge {
                what: "TSA trust anchor file",
                size: pem.len(),
                limit: MAX_ANCHORS_PEM_LEN,
            });
        }
        let certs = x509_cert::Certificate::load_pem_chain(pem)
            .map_err(|e| TimeStampError::Anchors(e.to_string()))?;
        let certs = certs
            .iter()
            .map(|c| {
                let der = c
                    .to_der()
                    .map_err(|e| TimeStampError::Anchors(e.to_string()))?;
                Certificate::from_der(&der).map_err(|e| TimeStampError::Anchors(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(certs)
    }

    /// Accepts only tokens issued under one of `policies` (seed 004 §6: the token names the
    /// TSA policy); empty accepts any.
    #[must_use]
    pub fn with_policies(mut self, policies: Vec<ObjectIdentifier>) -> Self {
        self.policies = policies;
        self
    }

    /// The clock skew tolerated when comparing genTime with other times (default
    /// [`mso::x509::policy::DEFAULT_SKEW`]).
    pub fn skew(&self) -> Duration {
        self.skew
    }

    /// The trusted TSA roots.
    pub fn anchors(&self) -> &TrustAnchors {
        &self.anchors
    }
}

/// CMS SignedData (RFC 5652 §5.1) as a token carries it, read tolerantly where real TSAs are
/// sloppy: `certificates` may hold the same certificate twice (openssl does when its `certs`
/// file repeats the signer's), which a strict SET OF decoder refuses. Everything signed is read
/// strictly.
#[derive(Clone, Debug, Eq, PartialEq, der::Sequence)]
struct SignedData {
    version: CmsVersion,
    digest_algorithms: DigestAlgorithmIdentifiers,
    encap_content_info: EncapsulatedContentInfo,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    certificates: Option<Vec<CertificateChoices>>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    crls: Option<Vec<Any>>,
    signer_infos: SignerInfos,
}

/// A token that verified: what it asserts and who asserted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTimeStamp {
    /// When the TSA saw the digest (genTime).
    pub gen_time: OffsetDateTime,
    /// The TSA policy the token was issued under.
    pub policy: ObjectIdentifier,
    /// The token's serial number, hex.
    pub serial: String,
    /// The TSA certificate that signed it.
    pub tsa_certificate: Certificate,
    /// Hex SHA-256 of the TSA certificate's DER.
    pub tsa_fingerprint: String,
    /// The token (DER ContentInfo), as verified.
    pub token: Vec<u8>,
}

/// Checks a TimeStampResp's status and returns its token (DER), unverified.
pub fn token_from_response(response: &[u8]) -> Result<Vec<u8>, TimeStampError> {
    bound("time-stamp response", response, MAX_RESPONSE_LEN)?;
    let resp = TimeStampResp::from_der(response).map_err(malformed("TimeStampResp"))?;
    // PKIStatus (RFC 3161 §2.4.2): granted (0) and grantedWithMods (1) carry a token.
    let status = resp.status.status as u8;
    if status > 1 {
        let text = resp
            .status
            .status_string
            .as_ref()
            .map(|t| {
                t.iter()
                    .map(|s| s.as_str().to_owned())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        return Err(TimeStampError::NotGranted { status, text });
    }
    let token = resp.time_stamp_token.ok_or(TimeStampError::NoToken)?;
    token.to_der().map_err(malformed("TimeStampToken"))
}

/// Verifies a TSA's reply to `request`: granted, and the token verifies for the request's
/// digest and nonce (see [`verify_token`]).
pub fn verify_response(
    response: &[u8],
    request: &TimeStampRequest,
    trust: &TsaTrust,
) -> Result<VerifiedTimeStamp, TimeStampError> {
    let token = token_from_response(response)?;
    verify_token(&token, request.digest(), Some(request.nonce()), trust)
}

/// Verifies a time-stamp token for `digest` (SHA-256): the imprint, the nonce when `nonce` is
/// given, the TSA policy when `trust` restricts it, the CMS signature with its signed
/// attributes (content type, message digest, ESS signing certificate), the TSA certificate's
/// purpose (critical extendedKeyUsage id-kp-timeStamping only) and its path to a trusted root,
/// every certificate valid at genTime.
pub fn verify_token(
    token: &[u8],
    digest: &[u8; 32],
    nonce: Option<&[u8]>,
    trust: &TsaTrust,
) -> Result<VerifiedTimeStamp, TimeStampError> {
    bound("time-stamp token", token, MAX_TOKEN_LEN)?;
    let info = ContentInfo::from_der(token).map_err(malformed("TimeStampToken"))?;
    if info.content_type != oid::CMS_SIGNED_DATA {
        return Err(TimeStampError::ContentType {
            what: "token",
            found: info.content_type,
        });
    }
    let signed: SignedData = info.content.decode_as().map_err(malformed("SignedData"))?;
    let encap = &signed.encap_content_info;
    if encap.econtent_type != oid::CT_TST_INFO {
        return Err(TimeStampError::ContentType {
            what: "eContent",
            found: encap.econtent_type,
        });
    }
    let econtent = encap
        .econtent
        .as_ref()
        .ok_or(TimeStampError::Missing("eContent"))?;
    let tst_bytes = econtent
        .decode_as::<OctetString>()
        .map_err(malformed("eContent"))?;
    let tst_bytes = tst_bytes.as_bytes();
    let tst = TstInfo::from_der(tst_bytes).map_err(malformed("TSTInfo"))?;

    // What the token asserts, checked first: a token for another digest fails here, named.
    let found = sha256_imprint(&tst.message_imprint)?;
    if found != *digest {
        return Err(TimeStampError::ImprintMismatch {
            expected: hex::encode(digest),
            found: hex::encode(found),
        });
    }
    if let Some(nonce) = nonce {
        if tst.nonce.as_ref().map(|n| n.as_bytes()) != Some(nonce) {
            return Err(TimeStampError::NonceMismatch);
        }
    }
    if !trust.policies.is_empty() && !trust.policies.contains(&tst.policy) {
        return Err(TimeStampError::PolicyNotAccepted(tst.policy));
    }
    let gen_time = gen_time(&tst)?;

    // Who asserts it.
    let signer = match signed.signer_infos.0.as_slice() {
        [one] => one,
        other => return Err(TimeStampError::SignerCount(other.len())),
    };
    // The unsigned envelope must agree with what is signed (RFC 5652 §5.1: version 3 for a
    // content other than id-data; digestAlgorithms lists the signer's digest algorithm).
    if signed.version != CmsVersion::V3 {
        return Err(TimeStampError::Malformed {
            what: "SignedData",
            reason: format!("version {:?}, expected 3", signed.version),
        });
    }
    if !signed
        .digest_algorithms
        .iter()
        .any(|a| *a == signer.digest_alg)
    {
        return Err(TimeStampError::Malformed {
            what: "SignedData",
            reason: "digestAlgorithms does not list the signer's digest algorithm".to_owned(),
        });
    }
    // RFC 5652 §5.3: version 1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier.
    let signer_version = match signer.sid {
        SignerIdentifier::IssuerAndSerialNumber(_) => CmsVersion::V1,
        SignerIdentifier::SubjectKeyIdentifier(_) => CmsVersion::V3,
    };
    if signer.version != signer_version {
        return Err(TimeStampError::Malformed {
            what: "SignerInfo",
            reason: format!(
                "version {:?} does not fit its signer identifier",
                signer.version
            ),
        });
    }
    let certs = certificates(&signed)?;
    let leaf = certs
        .iter()
        .find(|c| names_signer(&signer.sid, c))
        .ok_or(TimeStampError::SignerCertificateMissing)?
        .clone();
    let mut chain: Vec<Certificate> = Vec::new();
    for c in &certs {
        if *c != leaf && !chain.contains(c) {
            chain.push(c.clone());
        }
    }
    check_tsa_profile(&leaf)?;
    check_signature(signer, tst_bytes, &leaf)?;
    // The role only bounds the path length (the VICAL signer's is the one that may have
    // intermediates, as a TSA's often does); the TSA profile was checked above.
    let policy = PathPolicy {
        inspect_leaf: false,
        skew: trust.skew,
        ..PathPolicy::default()
    };
    let path = mso::x509::validate_with(
        &leaf,
        &chain,
        &trust.anchors,
        gen_time,
        mso::x509::profile::Role::VicalSigner,
        &SoftwareVerifier,
        &policy,
    )?;
    // The certificate bag is not signed: it may hold only the path, so that no byte of a
    // stored token can change without its verification failing.
    if let Some(extra) = chain
        .iter()
        .find(|c| !path.intermediates().contains(c) && !trust.anchors.anchors().contains(c))
    {
        return Err(TimeStampError::Malformed {
            what: "SignedData",
            reason: format!(
                "certificates holds {}, which is not on the TSA's path",
                extra.subject()
            ),
        });
    }
    Ok(VerifiedTimeStamp {
        gen_time,
        policy: tst.policy,
        serial: hex::encode(tst.serial_number.as_bytes()),
        tsa_fingerprint: hex::encode(Sha256::digest(leaf.der())),
        tsa_certificate: leaf,
        token: token.to_vec(),
    })
}

fn gen_time(tst: &TstInfo) -> Result<OffsetDateTime, TimeStampError> {
    let secs = i64::try_from(tst.gen_time.to_unix_duration().as_secs())
        .map_err(|_| TimeStampError::GenTime("out of range".to_owned()))?;
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| TimeStampError::GenTime(e.to_string()))
}

/// The certificates the token carries (other certificate formats are ignored).
fn certificates(signed: &SignedData) -> Result<Vec<Certificate>, TimeStampError> {
    let Some(set) = &signed.certificates else {
        return Ok(Vec::new());
    };
    set.iter()
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(c) => Some(c),
            CertificateChoices::Other(_) => None,
        })
        .map(|c| {
            let der = c.to_der().map_err(malformed("certificate"))?;
            Certificate::from_der(&der).map_err(|e| TimeStampError::Malformed {
                what: "certificate",
                reason: e.to_string(),
            })
        })
        .collect()
}

fn names_signer(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            ias.issuer == *cert.issuer() && ias.serial_number.as_bytes() == cert.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            cert.subject_key_id().as_deref() == Some(ski.0.as_bytes())
        }
    }
}

/// RFC 3161 §2.3: the TSA certificate has exactly one extendedKeyUsage, id-kp-timeStamping,
/// marked critical; it is not a CA; a keyUsage, when present, allows signing.
fn check_tsa_profile(cert: &Certificate) -> Result<(), TimeStampError> {
    let refuse = |reason: &str| TimeStampError::TsaCertificate {
        subject: cert.subject().to_string(),
        reason: reason.to_owned(),
    };
    let undecodable = |e: mso::Error| refuse(&e.to_string());
    match cert.extended_key_usage().map_err(undecodable)? {
        Some(purposes) if purposes == [oid::TIME_STAMPING_EKU] => {}
        Some(_) => return Err(refuse("extendedKeyUsage is not exactly id-kp-timeStamping")),
        None => return Err(refuse("no extendedKeyUsage id-kp-timeStamping")),
    }
    if !cert.critical_extensions().any(|o| o == oid::EXT_KEY_USAGE) {
        return Err(refuse("extendedKeyUsage is not critical"));
    }
    if cert
        .basic_constraints()
        .map_err(undecodable)?
        .is_some_and(|bc| bc.ca)
    {
        return Err(refuse("a CA certificate"));
    }
    if let Some(ku) = cert.key_usage().map_err(undecodable)? {
        if !ku.0.contains(KeyUsages::DigitalSignature) && !ku.0.contains(KeyUsages::NonRepudiation)
        {
            return Err(refuse(
                "keyUsage allows neither digitalSignature nor nonRepudiation",
            ));
        }
    }
    Ok(())
}

/// The one value of the signed attribute `id`, if present; several values are refused.
fn attribute<'s>(
    signer: &'s SignerInfo,
    id: ObjectIdentifier,
    name: &'static str,
) -> Result<Option<&'s Any>, TimeStampError> {
    let Some(attrs) = &signer.signed_attrs else {
        return Ok(None);
    };
    let mut matching = attrs.iter().filter(|a| a.oid == id);
    let Some(attr) = matching.next() else {
        return Ok(None);
    };
    match (attr.values.as_slice(), matching.next()) {
        ([value], None) => Ok(Some(value)),
        _ => Err(TimeStampError::Malformed {
            what: name,
            reason: "not exactly one attribute with one value".to_owned(),
        }),
    }
}

fn digest_algorithm(id: &ObjectIdentifier) -> Option<DigestAlgorithm> {
    match *id {
        oid::SHA256 => Some(DigestAlgorithm::Sha256),
        oid::SHA384 => Some(DigestAlgorithm::Sha384),
        oid::SHA512 => Some(DigestAlgorithm::Sha512),
        _ => None,
    }
}

/// The signed attributes and the signature over them (RFC 5652 §5.4, §5.6).
fn check_signature(
    signer: &SignerInfo,
    tst_bytes: &[u8],
    cert: &Certificate,
) -> Result<(), TimeStampError> {
    // SHA-2 parameters are absent or NULL (RFC 5754 §2); ECDSA's are absent (RFC 5758 §3.2).
    let digest_alg = digest_algorithm(&signer.digest_alg.oid)
        .filter(|_| {
            signer
                .digest_alg
                .parameters
                .as_ref()
                .is_none_or(Any::is_null)
        })
        .ok_or(TimeStampError::UnsupportedAlgorithm {
            what: "digest",
            oid: signer.digest_alg.oid,
        })?;
    if signer.signature_algorithm.parameters.is_some() {
        return Err(TimeStampError::UnsupportedAlgorithm {
            what: "signature (with parameters)",
            oid: signer.signature_algorithm.oid,
        });
    }
    let content_type = attribute(signer, oid::CMS_CONTENT_TYPE, "contentType attribute")?
        .ok_or(TimeStampError::Missing("contentType signed attribute"))?
        .decode_as::<ObjectIdentifier>()
        .map_err(malformed("contentType attribute"))?;
    if content_type != oid::CT_TST_INFO {
        return Err(TimeStampError::ContentType {
            what: "contentType attribute",
            found: content_type,
        });
    }
    let message_digest = attribute(signer, oid::CMS_MESSAGE_DIGEST, "messageDigest attribute")?
        .ok_or(TimeStampError::Missing("messageDigest signed attribute"))?
        .decode_as::<OctetString>()
        .map_err(malformed("messageDigest attribute"))?;
    if message_digest.as_bytes() != digest_alg.digest(tst_bytes).as_slice() {
        return Err(TimeStampError::MessageDigestMismatch);
    }
    check_signing_certificate(signer, cert)?;

    let signed_attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or(TimeStampError::Missing("signed attributes"))?;
    // The signature covers the DER SET OF, not the [0] IMPLICIT form in the SignerInfo.
    let message = signed_attrs
        .to_der()
        .map_err(malformed("signed attributes"))?;
    let sig_oid = match signer.signature_algorithm.oid {
        // Some signers name the key type and leave the hash to digestAlgorithm.
        oid::EC_PUBLIC_KEY => match digest_alg {
            DigestAlgorithm::Sha256 => oid::ECDSA_WITH_SHA256,
            DigestAlgorithm::Sha384 => oid::ECDSA_WITH_SHA384,
            DigestAlgorithm::Sha512 => oid::ECDSA_WITH_SHA512,
        },
        other => other,
    };
    let key = cert
        .public_key()
        .map_err(|e| TimeStampError::BadSignature(e.to_string()))?;
    mso::x509::verify_x509_signature_with(
        &SoftwareVerifier,
        &key,
        &sig_oid,
        &message,
        signer.signature.as_bytes(),
    )
    .map_err(|e| TimeStampError::BadSignature(e.to_string()))
}

/// The ESS signing-certificate attribute (v2 preferred, v1 accepted) names `cert` first.
fn check_signing_certificate(
    signer: &SignerInfo,
    cert: &Certificate,
) -> Result<(), TimeStampError> {
    let (hash, expected, issuer_serial) = if let Some(v2) = attribute(
        signer,
        oid::SIGNING_CERTIFICATE_V2,
        "signingCertificateV2 attribute",
    )? {
        let v2: SigningCertificateV2 = v2
            .decode_as()
            .map_err(malformed("signingCertificateV2 attribute"))?;
        let first = v2
            .certs
            .into_iter()
            .next()
            .ok_or(TimeStampError::SigningCertificateMismatch)?;
        let alg = first.hash_algorithm.as_ref().map_or(oid::SHA256, |a| a.oid);
        let computed = digest_algorithm(&alg)
            .ok_or(TimeStampError::UnsupportedAlgorithm {
                what: "ESS certificate hash",
                oid: alg,
            })?
            .digest(cert.der());
        (first.cert_hash, computed, first.issuer_serial)
    } else if let Some(v1) = attribute(
        signer,
        oid::SIGNING_CERTIFICATE,
        "signingCertificate attribute",
    )? {
        let v1: SigningCertificate = v1
            .decode_as()
            .map_err(malformed("signingCertificate attribute"))?;
        let first = v1
            .certs
            .into_iter()
            .next()
            .ok_or(TimeStampError::SigningCertificateMismatch)?;
        let computed = sha1::Sha1::digest(cert.der()).to_vec();
        (first.cert_hash, computed, first.issuer_serial)
    } else {
        return Err(TimeStampError::Missing(
            "ESS signing-certificate signed attribute",
        ));
    };
    if hash.as_bytes() != expected.as_slice() {
        return Err(TimeStampError::SigningCertificateMismatch);
    }
    if let Some(IssuerSerial {
        issuer,
        serial_number,
    }) = issuer_serial
    {
        let named = issuer
            .iter()
            .any(|n| matches!(n, GeneralName::DirectoryName(dn) if dn == cert.issuer()));
        if !named || serial_number.as_bytes() != cert.serial_number() {
            return Err(TimeStampError::SigningCertificateMismatch);
        }
    }
    Ok(())
}

fn bound(what: &'static str, bytes: &[u8], limit: usize) -> Result<(), TimeStampError> {
    if bytes.len() > limit {
        Err(TimeStampError::TooLarge {
            what,
            size: bytes.len(),
            limit,
        })
    } else {
        Ok(())
    }
}

fn malformed(what: &'static str) -> impl Fn(der::Error) -> TimeStampError {
    move |e| TimeStampError::Malformed {
        what,
        reason: e.to_string(),
    }
}
