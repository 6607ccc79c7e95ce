//! The README's first command, `mdoc-dev`, runs end to end: the portal's credential offer, the
//! wallet SDK's OpenID4VCI issuance (verified on receipt, stored, notified), its proximity
//! presentation of the approved elements, the verifier SDK's verification with trust from the
//! DTS and the status lists, revocation and refusal. It exits 0 only when every step had the
//! expected outcome.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

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
        "wallet SDK: trust store synced from",
        "wallet SDK: offer resolved",
        "transaction code",
        "wallet SDK: verified on receipt",
        "consent asked for 8 element(s)",
        "holder approves 6",
        "verifier SDK: trust store synced from",
        "checks passed — verdict: VALID",
        "openid4vp-v1-unsigned request",
        "the holder approves what the query asks for (age_over_18, family_name)",
        "decrypted and verified: ACCEPTED (disclosed: ",
        "; findings: none)",
        "verdict: REFUSED (revoked",
        "result: issued → verified in person and online → revoked → refused, as expected",
    ] {
        assert!(stdout.contains(step), "no {step:?} in:\n{stdout}");
    }
    // What the wallet SDK sent, as the walkthrough prints it from the wire.
    let line = |path: &str| {
        stdout
            .lines()
            .find(|l| l.contains(&format!("wallet SDK: POST {path}")) && !l.contains("→ 4"))
            .unwrap_or_else(|| panic!("no successful POST {path} in:\n{stdout}"))
            .to_owned()
    };
    assert!(line("/oid4vci/token").contains("transaction code"));
    assert!(line("/oid4vci/credential").contains("3 key proof(s)"));
    let notified = line("/oid4vci/notification");
    assert!(
        notified.contains("event credential_accepted") && notified.contains("→ 204"),
        "{notified}"
    );
    for artifact in [
        "issuer_signed.cbor",
        "credential_offer_qr.svg",
        "device_response.cbor",
        "session_transcript.cbor",
        "status_list.cwt",
        "identifier_list.cwt",
        "device_keys.pem",
    ] {
        assert!(
            dir.path().join("artifacts").join(artifact).exists(),
            "{artifact}"
        );
    }
}
