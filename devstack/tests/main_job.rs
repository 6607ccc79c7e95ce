//! The README's first command, `mdoc-dev`, runs end to end: the portal's credential offer, the
//! wallet's OpenID4VCI issuance, presentation, verification with trust from the DTS,
//! revocation and refusal. It exits 0 only when every step had the expected outcome.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::Command;

#[test]
fn the_main_job_walks_through_the_whole_system() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mdoc-dev"))
        .arg("--dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "mdoc-dev failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in [
        "POST /v1/offers → offer",
        "token (DPoP-bound, transaction code)",
        "POST /oid4vci/credential → 200; notification credential_accepted → 204",
        "document checks: all passed",
        "verdict: REFUSED (revoked)",
        "result: issued → verified → revoked → refused, as expected",
    ] {
        assert!(stdout.contains(step), "no {step:?} in:\n{stdout}");
    }
    for artifact in [
        "issuer_signed.cbor",
        "credential_offer_qr.svg",
        "device_response.cbor",
    ] {
        assert!(
            dir.path().join("artifacts").join(artifact).exists(),
            "{artifact}"
        );
    }
}
