//! A throwaway VICAL provider PKI: a VICAL root CA and a VICAL signer certificate under it with
//! the signer profile (extendedKeyUsage 1.0.18013.5.1.8, keyUsage contentCommitment), made with
//! rcgen. The DTS tests sign VICALs with it; the verifier trusts its root as a VICAL anchor.

use mso::crypto::{Algorithm, Signer, SoftwareKey};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod,
    KeyUsagePurpose,
};
use time::OffsetDateTime;

use crate::pki::{random_serial, rcgen_key};

/// `1.0.18013.5.1.8`, the VICAL signer key purpose, as rcgen's arc list.
const VICAL_SIGNER_EKU: [u64; 6] = [1, 0, 18013, 5, 1, 8];

/// A VICAL root and signer with the signer's key.
pub struct VicalPki {
    /// The VICAL root CA certificate (DER): the verifier's VICAL anchor.
    pub root_der: Vec<u8>,
    /// The signer certificate (DER): the VICAL's x5chain.
    pub signer_der: Vec<u8>,
    /// The signer's key.
    pub signer_key: SoftwareKey,
}

fn ski(key: &SoftwareKey) -> Vec<u8> {
    use sha1::{Digest, Sha1};
    Sha1::digest(key.public_key().unwrap().to_sec1()).to_vec()
}

impl VicalPki {
    /// A root and signer valid from `not_before` to `not_after`, for provider `country`.
    pub fn new(country: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Self {
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
        root.key_identifier_method = KeyIdMethod::PreSpecified(ski(&root_soft));
        let root_cert = root.self_signed(&root_key).unwrap();

        let signer_key = SoftwareKey::generate(Algorithm::Es256);
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
        signer.key_identifier_method = KeyIdMethod::PreSpecified(ski(&signer_key));
        signer.use_authority_key_identifier_extension = true;
        let signer_cert = signer
            .signed_by(&rcgen_key(&signer_key), &root_cert, &root_key)
            .unwrap();
        VicalPki {
            root_der: root_cert.der().to_vec(),
            signer_der: signer_cert.der().to_vec(),
            signer_key,
        }
    }

    /// The signer's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.signer_key.algorithm()
    }
}
