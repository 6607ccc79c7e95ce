//! Distinguished names: reading attributes out of an X.500 `Name`.

use der::asn1::ObjectIdentifier;
use der::asn1::{Any, PrintableStringRef};
use der::{Tag, Tagged};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::Name;

/// Every attribute of type `oid` in `name`, in order.
pub fn attributes<'a>(
    name: &'a Name,
    oid: ObjectIdentifier,
) -> impl Iterator<Item = &'a AttributeTypeAndValue> + 'a {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(move |a| a.oid == oid)
}

/// The text of a DirectoryString-like attribute value (PrintableString, UTF8String,
/// IA5String), or `None` for other encodings or invalid text.
pub fn attribute_text(value: &Any) -> Option<&str> {
    match value.tag() {
        Tag::PrintableString => PrintableStringRef::new(value.value())
            .ok()
            .map(|s| s.as_str()),
        Tag::Utf8String | Tag::Ia5String => core::str::from_utf8(value.value()).ok(),
        _ => None,
    }
}

/// The texts of every `oid` attribute of `name` (unreadable values as `<unreadable>`), for
/// comparing two names attribute by attribute.
pub fn attribute_texts(name: &Name, oid: ObjectIdentifier) -> Vec<String> {
    attributes(name, oid)
        .map(|a| {
            attribute_text(&a.value)
                .unwrap_or("<unreadable>")
                .to_owned()
        })
        .collect()
}

/// The text of the first `oid` attribute of `name`.
pub fn first_text(name: &Name, oid: ObjectIdentifier) -> Option<&str> {
    attributes(name, oid).find_map(|a| attribute_text(&a.value))
}
