//! Every object identifier the workspace uses, once, each with the text that defines it.
//!
//! Grouped by what they name: name attributes, certificate and CRL extensions, key purposes,
//! key and signature algorithms. Nothing else in the workspace writes an OID literal.

use der::asn1::ObjectIdentifier as Oid;

// Name attributes (X.520 / RFC 5280 §4.1.2.4, Appendix A).

/// commonName (X.520, 2.5.4.3).
pub const COMMON_NAME: Oid = Oid::new_unwrap("2.5.4.3");
/// serialNumber attribute (X.520, 2.5.4.5).
pub const SERIAL_NUMBER: Oid = Oid::new_unwrap("2.5.4.5");
/// countryName (X.520, 2.5.4.6).
pub const COUNTRY_NAME: Oid = Oid::new_unwrap("2.5.4.6");
/// localityName (X.520, 2.5.4.7).
pub const LOCALITY_NAME: Oid = Oid::new_unwrap("2.5.4.7");
/// stateOrProvinceName (X.520, 2.5.4.8).
pub const STATE_OR_PROVINCE_NAME: Oid = Oid::new_unwrap("2.5.4.8");
/// organizationName (X.520, 2.5.4.10).
pub const ORGANIZATION_NAME: Oid = Oid::new_unwrap("2.5.4.10");
/// organizationalUnitName (X.520, 2.5.4.11).
pub const ORGANIZATIONAL_UNIT_NAME: Oid = Oid::new_unwrap("2.5.4.11");
/// organizationIdentifier (X.520, 2.5.4.97).
pub const ORGANIZATION_IDENTIFIER: Oid = Oid::new_unwrap("2.5.4.97");

// Certificate extensions (RFC 5280 §4.2).

/// subjectKeyIdentifier (RFC 5280 §4.2.1.2).
pub const SUBJECT_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.14");
/// keyUsage (RFC 5280 §4.2.1.3).
pub const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
/// privateKeyUsagePeriod (RFC 3280 §4.2.1.4; deprecated, seen in production IACAs).
pub const PRIVATE_KEY_USAGE_PERIOD: Oid = Oid::new_unwrap("2.5.29.16");
/// subjectAltName (RFC 5280 §4.2.1.6).
pub const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
/// issuerAltName (RFC 5280 §4.2.1.7).
pub const ISSUER_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.18");
/// basicConstraints (RFC 5280 §4.2.1.9).
pub const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
/// nameConstraints (RFC 5280 §4.2.1.10; forbidden by Annex B and CPS §7.1.5).
pub const NAME_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.30");
/// cRLDistributionPoints (RFC 5280 §4.2.1.13).
pub const CRL_DISTRIBUTION_POINTS: Oid = Oid::new_unwrap("2.5.29.31");
/// certificatePolicies (RFC 5280 §4.2.1.4; not used, CPS §7.1.6).
pub const CERTIFICATE_POLICIES: Oid = Oid::new_unwrap("2.5.29.32");
/// policyMappings (RFC 5280 §4.2.1.5; forbidden by Annex B).
pub const POLICY_MAPPINGS: Oid = Oid::new_unwrap("2.5.29.33");
/// authorityKeyIdentifier (RFC 5280 §4.2.1.1).
pub const AUTHORITY_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.35");
/// policyConstraints (RFC 5280 §4.2.1.11; forbidden by Annex B and CPS §7.1.7).
pub const POLICY_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.36");
/// extKeyUsage (RFC 5280 §4.2.1.12).
pub const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
/// freshestCRL (RFC 5280 §4.2.1.15; forbidden by Annex B: no delta CRLs).
pub const FRESHEST_CRL: Oid = Oid::new_unwrap("2.5.29.46");
/// inhibitAnyPolicy (RFC 5280 §4.2.1.14; forbidden by Annex B).
pub const INHIBIT_ANY_POLICY: Oid = Oid::new_unwrap("2.5.29.54");
/// authorityInfoAccess (RFC 5280 §4.2.2.1).
pub const AUTHORITY_INFO_ACCESS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.1");

// CRL and CRL entry extensions (RFC 5280 §5.2, §5.3).

/// cRLNumber (RFC 5280 §5.2.3).
pub const CRL_NUMBER: Oid = Oid::new_unwrap("2.5.29.20");
/// reasonCode, a CRL entry extension (RFC 5280 §5.3.1; not used, Annex B and CPS §2.2).
pub const CRL_REASON: Oid = Oid::new_unwrap("2.5.29.21");
/// invalidityDate, a CRL entry extension (RFC 5280 §5.3.2).
pub const INVALIDITY_DATE: Oid = Oid::new_unwrap("2.5.29.24");
/// deltaCRLIndicator (RFC 5280 §5.2.4).
pub const DELTA_CRL_INDICATOR: Oid = Oid::new_unwrap("2.5.29.27");
/// issuingDistributionPoint (RFC 5280 §5.2.5).
pub const ISSUING_DISTRIBUTION_POINT: Oid = Oid::new_unwrap("2.5.29.28");
/// certificateIssuer, a CRL entry extension (RFC 5280 §5.3.3).
pub const CERTIFICATE_ISSUER: Oid = Oid::new_unwrap("2.5.29.29");

// Key purposes (ISO/IEC 18013-5 Annex B, RFC 5280 §4.2.1.12).

/// id-mdl-kp-mdlDS: the Document Signer (ISO/IEC 18013-5 Annex B, Table B.4).
pub const MDL_DS_EKU: Oid = Oid::new_unwrap("1.0.18013.5.1.2");
/// id-mdl-kp-mdlReaderAuth: mdoc reader authentication (ISO/IEC 18013-5 Annex B, Table B.7).
pub const MDL_READER_AUTH_EKU: Oid = Oid::new_unwrap("1.0.18013.5.1.6");
/// id-vical-kp-vicalSigner: the VICAL signer (ISO/IEC 18013-5 Annex C).
pub const VICAL_SIGNER_EKU: Oid = Oid::new_unwrap("1.0.18013.5.1.8");
/// anyExtendedKeyUsage (RFC 5280 §4.2.1.12).
pub const ANY_EXTENDED_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37.0");
/// id-kp-timeStamping: a time-stamping authority (RFC 5280 §4.2.1.12, RFC 3161 §2.3).
pub const TIME_STAMPING_EKU: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");

// Key algorithms and curves (RFC 5480, RFC 8410).

/// id-ecPublicKey (RFC 5480 §2.1.1).
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
/// secp256r1 / P-256 (RFC 5480 §2.1.1.1).
pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
/// secp384r1 / P-384 (RFC 5480 §2.1.1.1).
pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
/// secp521r1 / P-521 (RFC 5480 §2.1.1.1).
pub const SECP521R1: Oid = Oid::new_unwrap("1.3.132.0.35");
/// secp256k1 (SEC 2; never accepted, named in error messages).
pub const SECP256K1: Oid = Oid::new_unwrap("1.3.132.0.10");
/// id-Ed25519, key and signature algorithm (RFC 8410 §3).
pub const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
/// rsaEncryption (RFC 8017; never accepted, named in error messages).
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");

// Hash algorithms (RFC 5754 §2, RFC 3279 §2.2.1).

/// id-sha1 (RFC 3279 §2.2.1; only to match ESS signingCertificate v1 certificate ids).
pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
/// id-sha256 (RFC 5754 §2.2).
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
/// id-sha384 (RFC 5754 §2.3).
pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
/// id-sha512 (RFC 5754 §2.4).
pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

// CMS content types and attributes (RFC 5652, RFC 3161, RFC 2634, RFC 5035).

/// id-signedData (RFC 5652 §5.1).
pub const CMS_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
/// id-ct-TSTInfo, the content type of a time-stamp token (RFC 3161 §2.4.2).
pub const CT_TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// id-contentType, a signed attribute (RFC 5652 §11.1).
pub const CMS_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest, a signed attribute (RFC 5652 §11.2).
pub const CMS_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
/// id-aa-signingCertificate, ESS (RFC 2634 §5.4).
pub const SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// id-aa-signingCertificateV2, ESS (RFC 5035 §3).
pub const SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");

// Signature algorithms (RFC 5758 §3.2).

/// ecdsa-with-SHA256 (RFC 5758 §3.2).
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
/// ecdsa-with-SHA384 (RFC 5758 §3.2).
pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
/// ecdsa-with-SHA512 (RFC 5758 §3.2).
pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");

/// The name of a certificate or CRL extension this module knows, for messages
/// (`None` for others).
pub fn extension_name(oid: &Oid) -> Option<&'static str> {
    const NAMES: &[(Oid, &str)] = &[
        (SUBJECT_KEY_IDENTIFIER, "subjectKeyIdentifier"),
        (KEY_USAGE, "keyUsage"),
        (PRIVATE_KEY_USAGE_PERIOD, "privateKeyUsagePeriod"),
        (SUBJECT_ALT_NAME, "subjectAltName"),
        (ISSUER_ALT_NAME, "issuerAltName"),
        (BASIC_CONSTRAINTS, "basicConstraints"),
        (NAME_CONSTRAINTS, "nameConstraints"),
        (CRL_DISTRIBUTION_POINTS, "cRLDistributionPoints"),
        (CERTIFICATE_POLICIES, "certificatePolicies"),
        (POLICY_MAPPINGS, "policyMappings"),
        (AUTHORITY_KEY_IDENTIFIER, "authorityKeyIdentifier"),
        (POLICY_CONSTRAINTS, "policyConstraints"),
        (EXT_KEY_USAGE, "extendedKeyUsage"),
        (FRESHEST_CRL, "freshestCRL"),
        (INHIBIT_ANY_POLICY, "inhibitAnyPolicy"),
        (AUTHORITY_INFO_ACCESS, "authorityInfoAccess"),
        (CRL_NUMBER, "cRLNumber"),
        (CRL_REASON, "reasonCode"),
        (INVALIDITY_DATE, "invalidityDate"),
        (DELTA_CRL_INDICATOR, "deltaCRLIndicator"),
        (ISSUING_DISTRIBUTION_POINT, "issuingDistributionPoint"),
        (CERTIFICATE_ISSUER, "certificateIssuer"),
    ];
    NAMES.iter().find(|(o, _)| o == oid).map(|(_, n)| *n)
}
