//! The ISO 18013-5 data structures (and the ISO 18013-7 Annex C envelope, [`annex_c`]), each decoding from the span-keeping CBOR tree (keeping the
//! bytes that signatures and digests cover) and encoding deterministically.

pub mod annex_c;
mod engagement;
mod issuer_signed;
mod items;
mod mso;
mod request;
mod response;
mod transcript;

pub use annex_c::{open_response, seal_response, EncryptedResponse, EncryptionInfo};
pub use engagement::DeviceEngagement;
pub use issuer_signed::{IssuerAuth, IssuerSigned};
pub use items::{IssuerNameSpaces, IssuerSignedItem, IssuerSignedItemBytes};
pub use mso::{
    DeviceKeyInfo, IdentifierListRef, KeyAuthorizations, MobileSecurityObject, Status,
    StatusListRef, ValidityInfo, ValueDigests,
};
pub use request::{DeviceRequest, DocRequest, ItemsRequest};
pub use response::{DeviceAuth, DeviceNameSpaces, DeviceResponse, DeviceSigned, Document};
pub use transcript::{
    device_authentication_bytes, reader_authentication_bytes, Handover, SessionTranscript,
};

/// The mDL doc type.
pub const MDL_DOCTYPE: &str = "org.iso.18013.5.1.mDL";
/// The mDL namespace.
pub const MDL_NAMESPACE: &str = "org.iso.18013.5.1";
