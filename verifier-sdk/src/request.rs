//! DeviceRequests from typed records, optionally with reader authentication.

use std::collections::BTreeMap;

use mso::cbor::{to_vec, Tag24};
use mso::cose::PreparedSign1;
use mso::crypto::Signer;
use mso::model::{
    reader_authentication_bytes, DeviceRequest, DocRequest, ItemsRequest, SessionTranscript,
};
use mso::x509::Certificate;

use crate::error::{Result, VerifierError};
use crate::keys::SigningPrivateKey;

/// One requested data element.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ElementRequest {
    /// The data element identifier (e.g. `family_name`).
    pub identifier: String,
    /// Whether the reader intends to retain the value.
    pub intent_to_retain: bool,
}

/// The elements requested from one namespace.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NamespaceRequest {
    /// The namespace (e.g. `org.iso.18013.5.1`).
    pub namespace: String,
    /// The elements.
    pub elements: Vec<ElementRequest>,
}

/// The request for one document type.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DocumentRequest {
    /// The document type (e.g. `org.iso.18013.5.1.mDL`).
    pub doc_type: String,
    /// The requested namespaces.
    pub namespaces: Vec<NamespaceRequest>,
}

/// The reader authentication key and its certificate chain (reader certificate first, with
/// EKU 1.0.18013.5.1.6; the root excluded).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReaderAuthKey {
    /// The private key.
    pub private_key: SigningPrivateKey,
    /// DER certificates, reader certificate first.
    pub certificate_chain: Vec<Vec<u8>>,
}

fn items_request(request: &DocumentRequest) -> Result<ItemsRequest> {
    if request.doc_type.is_empty() {
        return Err(VerifierError::invalid_argument("empty docType"));
    }
    let mut name_spaces = BTreeMap::new();
    for ns in &request.namespaces {
        let mut elements = BTreeMap::new();
        for e in &ns.elements {
            if elements
                .insert(e.identifier.clone(), e.intent_to_retain)
                .is_some()
            {
                return Err(VerifierError::invalid_argument(format!(
                    "element {:?} requested twice in {:?}",
                    e.identifier, ns.namespace
                )));
            }
        }
        if elements.is_empty() {
            return Err(VerifierError::invalid_argument(format!(
                "namespace {:?} requests no element",
                ns.namespace
            )));
        }
        if name_spaces.insert(ns.namespace.clone(), elements).is_some() {
            return Err(VerifierError::invalid_argument(format!(
                "namespace {:?} listed twice",
                ns.namespace
            )));
        }
    }
    if name_spaces.is_empty() {
        return Err(VerifierError::invalid_argument(
            "a request needs a namespace",
        ));
    }
    Ok(ItemsRequest {
        doc_type: request.doc_type.clone(),
        name_spaces,
        request_info: None,
    })
}

/// The signer and chain for ReaderAuth, checked to belong together.
struct ReaderSigner {
    key: mso::crypto::SoftwareKey,
    chain: Vec<Vec<u8>>,
}

impl ReaderSigner {
    fn new(auth: &ReaderAuthKey) -> Result<Self> {
        let key = auth.private_key.to_mso()?;
        let leaf = auth
            .certificate_chain
            .first()
            .ok_or_else(|| VerifierError::invalid_argument("empty reader certificate chain"))?;
        if Certificate::from_der(leaf)?.public_key()? != key.public_key()? {
            return Err(VerifierError::InvalidKey {
                reason: "the reader key is not the reader certificate's key".into(),
            });
        }
        for cert in auth.certificate_chain.iter().skip(1) {
            Certificate::from_der(cert)?;
        }
        Ok(ReaderSigner {
            key,
            chain: auth.certificate_chain.clone(),
        })
    }
}

/// Encodes a DeviceRequest (version "1.0"); with `reader_auth`, each DocRequest carries a
/// ReaderAuth COSE_Sign1 over ReaderAuthenticationBytes for `transcript`.
pub(crate) fn device_request(
    requests: &[DocumentRequest],
    reader_auth: Option<(&ReaderAuthKey, &SessionTranscript)>,
) -> Result<Vec<u8>> {
    if requests.is_empty() {
        return Err(VerifierError::invalid_argument(
            "a DeviceRequest needs a document request",
        ));
    }
    let signer = reader_auth
        .map(|(auth, transcript)| ReaderSigner::new(auth).map(|s| (s, transcript)))
        .transpose()?;
    let mut doc_requests = Vec::with_capacity(requests.len());
    for request in requests {
        let items = Tag24::new(items_request(request)?);
        let reader_auth = match &signer {
            Some((s, transcript)) => {
                let payload = reader_authentication_bytes(transcript, items.tagged_bytes());
                Some(PreparedSign1::new(s.key.algorithm(), payload, &s.chain, true)?.sign(&s.key)?)
            }
            None => None,
        };
        doc_requests.push(DocRequest {
            items_request: items,
            reader_auth,
        });
    }
    Ok(to_vec(&DeviceRequest {
        version: "1.0".into(),
        doc_requests,
    }))
}

/// Encodes a DeviceRequest without reader authentication (e.g. for an online request that
/// carries it elsewhere, or a reader without a certificate).
#[uniffi::export]
pub fn encode_device_request(requests: Vec<DocumentRequest>) -> Result<Vec<u8>> {
    device_request(&requests, None)
}
