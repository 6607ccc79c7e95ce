//! A throwaway VICAL provider PKI: a VICAL root CA and a VICAL signer certificate under it with
//! the signer profile (extendedKeyUsage 1.0.18013.5.1.8, keyUsage contentCommitment), made with
//! rcgen. The DTS tests sign VICALs with it; the verifier trusts its root as a VICAL anchor.

use mso::crypto::{Algorithm, Curve, PublicKey, Signer, SoftwareKey};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod,
    KeyUsagePurpose,
};
use time::OffsetDateTime;

use crate::pki::{random_serial, rcgen_key};

/// `1.0.18013.5.1.8`, the VICAL signer key purpose, as rcgen's arc list.
const VICAL_SIGNER_EKU: [u64; 6] = [1, 0, 18013, 5, 1, 8];

/// A public key held elsewhere, as rcgen takes a subject key.
struct RawKey {
    sec1: Vec<u8>,
    alg: &'static rcgen::SignatureAlgorithm,
}

impl rcgen::PublicKeyData for RawKey {
    fn der_bytes(&self) -> &[u8] {
        &self.sec1
    }

    fn algorithm(&self) -> &rcgen::SignatureAlgorithm {
        self.alg
    }
}

/// A VICAL root and signer with the signer's key.
pub struct VicalPki {
    /// The VICAL root CA certificate (DER): the verifier's VICAL anchor.
    pub root_der: Vec<u8>,
    /// The signer certificate (DER): the VICAL's x5chain.
    pub signer_der: Vec<u8>,
    /// The signer's key.
    pub signer_key: SoftwareKey,
}

fn ski(key: &PublicKey) -> Vec<u8> {
    use sha1::{Digest, Sha1};
    Sha1::digest(key.to_sec1()).to_vec()
}

impl VicalPki {
    /// A root and signer (a new P-256 key) valid from `not_before` to `not_after`, for
    /// provider `country`.
    pub fn new(country: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Self {
        let signer_key = SoftwareKey::generate(Algorithm::Es256);
        let (root_der, signer_der) = Self::certify(
            country,
            not_before,
            not_after,
            &signer_key.public_key().unwrap(),
        );
        VicalPki {
            root_der,
            signer_der,
            signer_key,
        }
    }

    /// A VICAL root and a signer certificate for `key` (held elsewhere: a file keystore, an
    /// HSM): `(root_der, signer_der)`.
    pub fn certify(
        country: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
        key: &PublicKey,
    ) -> (Vec<u8>, Vec<u8>) {
        let root_soft = SoftwareKey::generate(Algorithm::Es384);
        let root_key = rcgen_key(&root_soft);
        let mut root = CertificateParams::default();
        root.distinguished_name = rcgen::DistinguishedName::new();
        root.distinguished_name.push(DnType::CountryName, country);
        root.distinguished_name
            .push(DnType::CommonName, "Test VICAL Root");
        root.not_before = not_before;
        root.not_after = not_after;
        root.serial_number = Some(random_serial());
        root.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        root.key_identifier_method =
            KeyIdMethod::PreSpecified(ski(&root_soft.public_key().unwrap()));
        let root_cert = root.self_signed(&root_key).unwrap();

        let mut signer = CertificateParams::default();
        signer.distinguished_name = rcgen::DistinguishedName::new();
        signer.distinguished_name.push(DnType::CountryName, country);
        signer
            .distinguished_name
            .push(DnType::CommonName, "Test VICAL Signer");
        signer.not_before = not_before;
        signer.not_after = not_after;
        signer.serial_number = Some(random_serial());
        signer.key_usages = vec![KeyUsagePurpose::ContentCommitment];
        signer.extended_key_usages =
            vec![ExtendedKeyUsagePurpose::Other(VICAL_SIGNER_EKU.to_vec())];
        signer.key_identifier_method = KeyIdMethod::PreSpecified(ski(key));
        signer.use_authority_key_identifier_extension = true;
        let spki = RawKey {
            sec1: key.to_sec1(),
            alg: match key.curve() {
                Curve::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
                Curve::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
                other => panic!("no VICAL signer certificate for a {other:?} key in the test kit"),
            },
        };
        let signer_cert = signer.signed_by(&spki, &root_cert, &root_key).unwrap();
        (root_cert.der().to_vec(), signer_cert.der().to_vec())
    }

    /// The signer's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.signer_key.algorithm()
    }
}
