//! A sample mDL: 12 elements including a 20 KB portrait.

use mso::cbor::{FullDate, TDate, Value};
use mso::crypto::{PublicKey, Signer, SoftwareKey};
use mso::issue::{validity_for_days, MdocBuilder};
use mso::model::{IssuerSigned, MDL_DOCTYPE, MDL_NAMESPACE};
use time::macros::{date, datetime};

/// A JPEG-looking portrait of `len` bytes (SOI marker, filler, EOI marker).
pub fn portrait(len: usize) -> Vec<u8> {
    let mut p = vec![0xffu8, 0xd8, 0xff, 0xe0];
    p.extend((0..len.saturating_sub(6)).map(|i| (i * 31 % 251) as u8));
    p.extend_from_slice(&[0xff, 0xd9]);
    p
}

/// The sample holder's `family_name`.
pub const FAMILY_NAME: &str = "Yamada";

/// The builder for the sample mDL bound to `device`.
pub fn mdl_builder(device: &PublicKey) -> MdocBuilder {
    let privileges = Value::Array(vec![Value::Map(vec![
        (
            Value::Text("vehicle_category_code".into()),
            Value::Text("B".into()),
        ),
        (
            Value::Text("issue_date".into()),
            FullDate(date!(2020 - 04 - 01)).to_value(),
        ),
        (
            Value::Text("expiry_date".into()),
            FullDate(date!(2031 - 04 - 01)).to_value(),
        ),
    ])]);
    use mso::cbor::ToCbor;
    MdocBuilder::new(MDL_DOCTYPE)
        .element(
            MDL_NAMESPACE,
            "family_name",
            Value::Text(FAMILY_NAME.into()),
        )
        .element(MDL_NAMESPACE, "given_name", Value::Text("Hanako".into()))
        .element(
            MDL_NAMESPACE,
            "birth_date",
            FullDate(date!(1990 - 02 - 28)).to_value(),
        )
        .element(
            MDL_NAMESPACE,
            "issue_date",
            FullDate(date!(2026 - 01 - 15)).to_value(),
        )
        .element(
            MDL_NAMESPACE,
            "expiry_date",
            FullDate(date!(2031 - 01 - 15)).to_value(),
        )
        .element(MDL_NAMESPACE, "issuing_country", Value::Text("JP".into()))
        .element(
            MDL_NAMESPACE,
            "issuing_authority",
            Value::Text("Tokyo Public Safety Commission".into()),
        )
        .element(
            MDL_NAMESPACE,
            "document_number",
            Value::Text("123456789012".into()),
        )
        .element(MDL_NAMESPACE, "portrait", Value::Bytes(portrait(20 * 1024)))
        .element(MDL_NAMESPACE, "driving_privileges", privileges)
        .element(
            MDL_NAMESPACE,
            "un_distinguishing_sign",
            Value::Text("J".into()),
        )
        .element(MDL_NAMESPACE, "age_over_18", Value::Bool(true))
        .device_key(device)
        .validity(validity_for_days(datetime!(2026-05-01 09:30:00 UTC), 365))
}

/// Issues the sample mDL with `ds_key` / `ds_der`, bound to `device`.
pub fn issue_mdl(ds_key: &SoftwareKey, ds_der: &[u8], device: &PublicKey) -> IssuerSigned {
    mdl_builder(device)
        .prepare(
            ds_key.algorithm(),
            &[ds_der.to_vec()],
            &mut rand_core::OsRng,
        )
        .unwrap()
        .sign(ds_key)
        .unwrap()
}

/// A tdate value for `portrait_capture_date`-like elements.
pub fn tdate_value() -> Value {
    use mso::cbor::ToCbor;
    TDate::new(datetime!(2026-01-10 10:00:00 UTC)).to_value()
}
