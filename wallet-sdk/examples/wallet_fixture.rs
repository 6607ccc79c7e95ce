//! Test-only: issues mDLs from this project's own stack to a wallet's device keys, for the
//! Python binding tests.
//!
//! `wallet_fixture <dir> <public key hex>...` (uncompressed SEC1 P-256 points, as
//! `Wallet.device_public_key` returns them) writes into `<dir>`:
//! - `iaca.der`: the IACA of a fresh test PKI (IACA P-384 → DS P-256);
//! - `issued_<i>.cbor`: the 12-element sample mDL bound to key `i`, signed by that DS;
//! - `untrusted_<i>.cbor`: the same, signed by a DS of another PKI;
//! - `expired_<i>.cbor`: the same, with an MSO that expired before `at_unix_seconds`;
//! - `reader_root.der`, `reader.der`, `reader_key.der` (PKCS#8): a reader CA and a reader
//!   authentication certificate and key; `rogue_reader.der`, `rogue_reader_key.der`: a reader
//!   certified by a CA the wallet does not trust;
//! - `fixture.json`: `at_unix_seconds`, a time inside every validity.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;

use mso::cbor::to_vec;
use mso::crypto::{Curve, PublicKey, Signer as _};
use mso::issue::validity_for_days;
use test_kit::{mdl, pki, reader::ReaderPki};
use time::macros::datetime;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .expect("usage: wallet_fixture <dir> <key hex>..."),
    );
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();
    let trusted = pki::TestPki::new();
    let other = pki::TestPki::new();
    for (i, hex_key) in args.enumerate() {
        let key = PublicKey::from_sec1(Curve::P256, &hex::decode(hex_key).unwrap()).unwrap();
        write(
            &format!("issued_{i}.cbor"),
            &to_vec(&mdl::issue_mdl(&trusted.ds_key, &trusted.ds_der, &key)),
        );
        write(
            &format!("untrusted_{i}.cbor"),
            &to_vec(&mdl::issue_mdl(&other.ds_key, &other.ds_der, &key)),
        );
        let expired = mdl::mdl_builder(&key)
            .validity(validity_for_days(datetime!(2026-05-01 09:30:00 UTC), 10))
            .prepare(
                trusted.ds_key.algorithm(),
                std::slice::from_ref(&trusted.ds_der),
                &mut rand_core::OsRng,
            )
            .unwrap()
            .sign(&trusted.ds_key)
            .unwrap();
        write(&format!("expired_{i}.cbor"), &to_vec(&expired));
    }
    write("iaca.der", &trusted.iaca_der);
    let reader = ReaderPki::new("Python Test Reader");
    write("reader_root.der", &reader.root_der);
    write("reader.der", &reader.reader_der);
    write("reader_key.der", &reader.reader_key.to_pkcs8_der().unwrap());
    let rogue = ReaderPki::new("Rogue Reader");
    write("rogue_reader.der", &rogue.reader_der);
    write(
        "rogue_reader_key.der",
        &rogue.reader_key.to_pkcs8_der().unwrap(),
    );
    write(
        "fixture.json",
        format!(
            "{{\n  \"at_unix_seconds\": {}\n}}\n",
            pki::AT.unix_timestamp()
        )
        .as_bytes(),
    );
}
