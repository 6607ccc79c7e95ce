//! `uniffi-bindgen` for this workspace, at the same uniffi version as the SDK crates.
//!
//! Library mode, e.g.:
//! `uniffi-bindgen generate --library target/debug/libverifier_sdk.so --language python --out-dir out`
//! (see `scripts/bindings.sh`).

fn main() {
    uniffi::uniffi_bindgen_main()
}
