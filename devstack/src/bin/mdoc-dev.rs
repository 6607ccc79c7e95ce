//! `mdoc-dev`: the whole system on embedded defaults, end to end. **DEVELOPMENT ONLY.**
//!
//! Starts a dev root CA, the Digital Trust Service publishing it (its export ingested, the
//! certificates' CRL URL served) and the issuer service (SQLite, dev file keystore, loopback,
//! following the root's CRL), then walks through what each user does: the portal turns the
//! identified applicant into an OpenID4VCI credential offer with a transaction code, the wallet
//! obtains its mDL over the pre-authorized code flow (DPoP-bound token, key proof) and presents
//! it (QR proximity, device signature), a verifier takes its trust from the DTS (pinned root,
//! the CRL at the DS certificate's URL) and checks it with the published status lists, the portal revokes it, the lists show it revoked, the verifier refuses it and
//! the issuer refuses to refresh it. Everything it made is written to `--dir` (default
//! `out/dev`) for inspection with openssl and other tools; `--serve` keeps the service running
//! afterwards until Ctrl-C, after writing `DIR/state/serve.json` (issuer and DTS URLs, the
//! pinned root fingerprints, an API token) for scripts. `--portal-login-url URL` enables the
//! issuer's authorization-code flow (HAIP: DPoP-bound tokens with server nonces) with the
//! portal's login page at `URL`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use clap::Parser;
use devstack::sample::{issue_body, mdl_claims, MDL};
use devstack::{wallet, DevStack, Result, StackOptions};
use mdoc_issuer::config::ServiceConfig;
use mdoc_issuer::store::Scope;
use mso::cbor::{encode_value, from_slice, wrap_tag24, Limits, Tag24, ToCbor, Value};
use mso::crl::{Crl, CrlVerifyOptions};
use mso::crypto::{Algorithm, Signer as _, SoftwareKey, SoftwareVerifier};
use mso::model::{DeviceResponse, Handover, IssuerSigned, SessionTranscript};
use mso::present::{device_response, present_with_signature};
use mso::status::{IdentifierListToken, StatusListToken};
use mso::verify::{
    verify_device_response, DeviceAuthInput, IssuerTrust, ResponseReport, VerifyOptions,
};
use mso::x509::{Certificate, TrustAnchors};
use time::OffsetDateTime;

#[derive(Parser)]
#[command(
    name = "mdoc-dev",
    about = "DEVELOPMENT ONLY: run the whole mdoc system locally"
)]
struct Args {
    /// Where state and artifacts go.
    #[arg(long, default_value = "out/dev")]
    dir: PathBuf,
    /// Database URL (default: SQLite in the state directory).
    #[arg(long)]
    database_url: Option<String>,
    /// Keep serving after the walkthrough, until Ctrl-C (writes `DIR/state/serve.json`).
    #[arg(long)]
    serve: bool,
    /// Enable the issuer's OpenID4VCI authorization-code flow, sending browsers to this portal
    /// login page; tokens are then DPoP-bound with server nonces (HAIP 1.0).
    #[arg(long, value_name = "URL")]
    portal_login_url: Option<String>,
}

/// `--portal-login-url`, for [`authorization_code_flow`] (a `StackOptions::tweak` is a plain
/// function).
static PORTAL_LOGIN_URL: OnceLock<String> = OnceLock::new();

/// The issuer configuration of a HAIP deployment with a portal: the authorization-code flow
/// (`oid4vci.portal_login_url`), DPoP-bound access tokens and server-provided DPoP nonces.
fn authorization_code_flow(c: &mut ServiceConfig) {
    if let Some(url) = PORTAL_LOGIN_URL.get() {
        c.oid4vci.portal_login_url = Some(url.clone());
        c.oid4vci.require_dpop = true;
        c.oid4vci.dpop_nonce = true;
    }
}

/// Writes `state/serve.json` for scripts driving a `--serve` run: the issuer's and the DTS's
/// URLs, the DTS index, the pinned root fingerprints (as the DTS configuration has them) and
/// the run's API token with its scopes. A dev secret in a dev directory: owner-only (0600),
/// written to a temporary file and renamed, so a reader never sees half of it.
fn write_serve_file(state: &Path, stack: &DevStack, token: &str, scopes: &[Scope]) -> Result<()> {
    let body = serde_json::json!({
        "issuer_url": stack.base_url,
        "dts_url": stack.dts.url,
        "dts_index_url": format!("{}/index.json", stack.dts.url),
        "pinned_roots": stack.dts.pinned(),
        "api_token": token,
        "api_token_scopes": scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "portal_login_url": PORTAL_LOGIN_URL.get(),
    });
    let path = state.join("serve.json");
    let tmp = state.join(".serve.json.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let mut file = open.open(&tmp)?;
    std::io::Write::write_all(&mut file, serde_json::to_string_pretty(&body)?.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, &path)?;
    Ok(())
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    std::fs::write(dir.join(name), bytes)?;
    println!("     wrote {}", dir.join(name).display());
    Ok(())
}

fn print_report(report: &ResponseReport) {
    for doc in &report.documents {
        for check in doc.failures() {
            let subject = check.subject.as_deref().unwrap_or("");
            if let Err(f) = &check.outcome {
                println!("     FAIL {:?} {subject}: {f:?}", check.kind);
            }
        }
    }
}

struct Verifier<'a> {
    base: &'a str,
    http: &'a reqwest::Client,
    anchors: TrustAnchors,
}

impl Verifier<'_> {
    /// Fetches and verifies both lists; returns (status-list status, listed in identifier list,
    /// the subject of the list signer that signed both).
    async fn revocation_status(
        &self,
        issued: &IssuerSigned,
        now: OffsetDateTime,
    ) -> Result<(u8, bool, String)> {
        let status = issued
            .issuer_auth
            .mso()
            .value()
            .status
            .clone()
            .ok_or("the MSO has no status")?;
        let sl = status.status_list.ok_or("no status_list in the MSO")?;
        let il = status
            .identifier_list
            .ok_or("no identifier_list in the MSO")?;
        let bytes = self
            .http
            .get(&sl.uri)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let list = StatusListToken::verify(&bytes, &sl.uri, now, &self.anchors, &SoftwareVerifier)?;
        let ids = self
            .http
            .get(&il.uri)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let ids =
            IdentifierListToken::verify(&ids, &il.uri, now, &self.anchors, &SoftwareVerifier)?;
        let _ = self.base;
        if ids.signer != list.signer {
            return Err("the two lists are signed by different keys".into());
        }
        Ok((
            list.status(sl.idx)?.value(),
            ids.contains(&il.id),
            list.signer.subject().to_string(),
        ))
    }
}

/// What a verifier app does: reads the DTS index, takes the root whose fingerprint it pinned
/// (and checks the bytes against it), fetches the CRL the DS certificate names, verifies it
/// under that root and checks the DS is not on it. Returns the root and the CRL's number.
async fn trust_from_dts(
    http: &reqwest::Client,
    dts: &str,
    pinned: &[String],
    ds_der: &[u8],
    now: OffsetDateTime,
) -> Result<(Certificate, String)> {
    let index: serde_json::Value = http
        .get(format!("{dts}/index.json"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let roots = index
        .get("roots")
        .and_then(|r| r.as_array())
        .ok_or("index.json has no roots")?;
    let root = roots
        .iter()
        .find(|r| {
            r.get("fingerprint")
                .and_then(|f| f.as_str())
                .is_some_and(|f| pinned.iter().any(|p| p == f))
        })
        .ok_or("the DTS publishes no pinned root")?;
    let url = root
        .pointer("/der/url")
        .and_then(|u| u.as_str())
        .ok_or("no root URL")?;
    let der = http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let fingerprint = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&der));
    if !pinned.contains(&fingerprint) {
        return Err(format!("the root at {url} is not the pinned one ({fingerprint})").into());
    }
    let iaca = Certificate::from_der(&der)?;
    let ds = Certificate::from_der(ds_der)?;
    let crl_url = ds
        .crl_distribution_uris()?
        .into_iter()
        .next()
        .ok_or("no CRL URL")?;
    let crl_der = http
        .get(&crl_url)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let crl =
        Crl::from_der(&crl_der)?.verify(&iaca, &CrlVerifyOptions::new(now), &SoftwareVerifier)?;
    if crl.is_certificate_revoked(&ds)? {
        return Err("the DS certificate is on the root's CRL".into());
    }
    let number = crl
        .crl_number()
        .map(|n| hex::encode(n.as_bytes()))
        .unwrap_or_default();
    Ok((iaca, number))
}

async fn walkthrough(args: &Args) -> Result<bool> {
    let dir = &args.dir;
    let art = dir.join("artifacts");
    std::fs::create_dir_all(&art)?;
    println!(
        "mdoc-dev: DEVELOPMENT ONLY — dev root and DS keys are in a file keystore under {}",
        dir.display()
    );

    println!("1. Dev root CA (IACA, P-384), its DTS, and the issuer service (SQLite, loopback)");
    // A serve.json left by an earlier run names services that are gone.
    let serve_file = dir.join("state").join("serve.json");
    let _ = std::fs::remove_file(&serve_file);
    let mut opts = StackOptions::new(dir.join("state"));
    opts.database_url = args.database_url.clone();
    if let Some(url) = &args.portal_login_url {
        PORTAL_LOGIN_URL
            .set(url.clone())
            .map_err(|_| "--portal-login-url set twice")?;
        opts.tweak = authorization_code_flow;
    }
    let stack = DevStack::start(opts).await?;
    println!("     issuer listening on {}", stack.base_url);
    let now = OffsetDateTime::now_utc();
    write(
        &art,
        "iaca.pem",
        pem("CERTIFICATE", &stack.pki.iaca_der).as_bytes(),
    )?;
    write(&art, "ds.pem", pem("CERTIFICATE", &stack.ds_der).as_bytes())?;
    write(
        &art,
        "list_signer.pem",
        pem("CERTIFICATE", &stack.list_signer_der).as_bytes(),
    )?;
    println!(
        "     DTS publishing the root and its CRL on {} (pinned root {})",
        stack.dts.url,
        stack.dts.pinned().join(", ")
    );
    let (new_iaca, new_with_old, old_with_new) = stack
        .pki
        .rollover(now, &format!("{}/crl/dev-iaca-next.crl", stack.dts.url))?;
    write(
        &art,
        "iaca-next.pem",
        pem("CERTIFICATE", &new_iaca).as_bytes(),
    )?;
    write(
        &art,
        "link-new-with-old.pem",
        pem("CERTIFICATE", &new_with_old).as_bytes(),
    )?;
    write(
        &art,
        "link-old-with-new.pem",
        pem("CERTIFICATE", &old_with_new).as_bytes(),
    )?;
    let http = reqwest::Client::new();
    // The CRL at the URL the DS certificate names, as any relying party fetches it.
    let crl_url = Certificate::from_der(&stack.ds_der)?
        .crl_distribution_uris()?
        .into_iter()
        .next()
        .ok_or("the DS certificate names no CRL URL")?;
    let crl = http
        .get(&crl_url)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    write(&art, "iaca.crl.pem", pem("X509 CRL", &crl).as_bytes())?;
    let index = http
        .get(format!("{}/index.json", stack.dts.url))
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    write(&art, "dts-index.json", &index)?;
    println!("     the DS certificate's CRL URL resolves: GET {crl_url} → 200");

    let portal_scopes = [Scope::Issue, Scope::Revoke];
    let portal = stack.client("dev-portal", &portal_scopes).await?;
    let auth = format!("Bearer {}", portal.0);

    println!("2. Portal turns the identified applicant into a credential offer; the wallet obtains its mDL over OpenID4VCI");
    let offer: serde_json::Value = http
        .post(format!("{}/v1/offers", stack.base_url))
        .header("authorization", &auth)
        .json(&serde_json::json!({
            "doctype": MDL,
            "claims": mdl_claims(),
            "tx_code": {"length": 6, "description": "the code the portal sent you by SMS"},
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let field = |name: &str| -> Result<String> {
        offer
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| format!("the offer answer has no {name}").into())
    };
    let (offer_id, link, tx_code) = (field("offer_id")?, field("offer_link")?, field("tx_code")?);
    write(&art, "credential_offer_qr.svg", field("qr_svg")?.as_bytes())?;
    println!("     POST /v1/offers → offer {offer_id}: {link}");
    println!(
        "     (QR code in credential_offer_qr.svg; transaction code {tx_code} sent out of band)"
    );
    let device = SoftwareKey::generate(Algorithm::Es256);
    let dpop_key = SoftwareKey::generate(Algorithm::Es256);
    write(
        &art,
        "device_key.pem",
        pem("PRIVATE KEY", &device.to_pkcs8_der()?).as_bytes(),
    )?;
    let credential_offer = wallet::resolve_offer(&http, &link).await?;
    let vci = wallet::discover(&http, &credential_offer).await?;
    let session = wallet::redeem(
        &http,
        &vci,
        &credential_offer,
        Some(&tx_code),
        Some(&dpop_key),
    )
    .await?;
    println!(
        "     wallet: offer by reference, metadata, token ({}-bound, transaction code), c_nonce, key proof",
        if session.dpop { "DPoP" } else { "bearer" }
    );
    let c_nonce = wallet::c_nonce(&http, &vci).await?;
    let obtained = wallet::request_credential(
        &http,
        &vci,
        &session,
        MDL,
        &c_nonce,
        &[&device],
        Some(&dpop_key),
    )
    .await?;
    let credential_text = obtained.credentials.first().ok_or("no credential")?.clone();
    let issuer_signed_bytes = URL_SAFE_NO_PAD.decode(&credential_text)?;
    write(&art, "issuer_signed.cbor", &issuer_signed_bytes)?;
    if let Some(n) = &obtained.notification_id {
        let status = wallet::notify(
            &http,
            &vci,
            &session,
            n,
            "credential_accepted",
            Some(&dpop_key),
        )
        .await?;
        println!(
            "     POST /oid4vci/credential → 200; notification credential_accepted → {status}"
        );
    }
    let view: serde_json::Value = http
        .get(format!("{}/v1/offers/{offer_id}", stack.base_url))
        .header("authorization", &auth)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let document_id = view
        .get("document_id")
        .and_then(|v| v.as_str())
        .ok_or("the offer names no document")?
        .to_owned();
    let issuer_signed: IssuerSigned = from_slice(&issuer_signed_bytes, &Limits::DEFAULT)?;
    let status_refs = issuer_signed
        .issuer_auth
        .mso()
        .value()
        .status
        .clone()
        .ok_or("the MSO carries no status")?;
    let status_list_uri = status_refs
        .status_list
        .as_ref()
        .ok_or("no status list")?
        .uri
        .clone();
    let identifier_list_uri = status_refs
        .identifier_list
        .as_ref()
        .ok_or("no identifier list")?
        .uri
        .clone();
    println!(
        "     document {document_id} — status list {status_list_uri} idx {}, valid until {}",
        status_refs
            .status_list
            .as_ref()
            .map(|s| s.idx)
            .unwrap_or_default(),
        issuer_signed
            .issuer_auth
            .mso()
            .value()
            .validity_info
            .valid_until
            .datetime()
            .format(&time::format_description::well_known::Rfc3339)?
    );

    println!("3. Wallet presents it over a QR proximity session (device signature)");
    let e_device = SoftwareKey::generate(Algorithm::Es256).public_key()?;
    let engagement = encode_value(&Value::Map(vec![
        (0.into(), "1.0".into()),
        (
            1.into(),
            Value::Array(vec![
                1.into(),
                Tag24::new(e_device.to_cose_key()).to_value(),
            ]),
        ),
    ]));
    let e_reader = SoftwareKey::generate(Algorithm::Es256).public_key()?;
    let transcript = SessionTranscript::proximity(
        &wrap_tag24(&engagement),
        Tag24::new(e_reader.to_cose_key()).tagged_bytes(),
        &Handover::Qr.to_bytes(),
    );
    write(&art, "session_transcript.cbor", &transcript.tagged_bytes())?;
    let document = present_with_signature(&issuer_signed, None, &transcript, &device)?;
    let response = encode_value(&device_response(vec![document]).to_value());
    write(&art, "device_response.cbor", &response)?;

    println!("4. Verifier takes its trust from the DTS (pinned root fingerprint), then checks the document: IACA chain, MSO signature, digests, validity, device signature, DS on the root's CRL, status");
    let (iaca, crl_number) = trust_from_dts(
        &http,
        &stack.dts.url,
        &stack.dts.pinned(),
        &stack.ds_der,
        now,
    )
    .await?;
    println!(
        "     root {} from {}/index.json; DS not on the root's CRL (number {crl_number})",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(iaca.der())),
        stack.dts.url
    );
    let trust = IssuerTrust::iacas(vec![iaca.clone()]);
    let verifier = Verifier {
        base: &stack.base_url,
        http: &http,
        anchors: TrustAnchors::new(vec![iaca]),
    };
    let verify = |at: OffsetDateTime| -> Result<ResponseReport> {
        let parsed: DeviceResponse = from_slice(&response, &Limits::DEFAULT)?;
        Ok(verify_device_response(
            &parsed,
            &DeviceAuthInput {
                transcript: &transcript,
                e_reader_key: None,
            },
            &VerifyOptions::new(at, &trust, &SoftwareVerifier),
        ))
    };
    let report = verify(now)?;
    print_report(&report);
    let (status, listed, _) = verifier.revocation_status(&issuer_signed, now).await?;
    println!(
        "     document checks: {} — status list: {status} (0 = valid) — identifier list: {}",
        if report.is_valid() {
            "all passed"
        } else {
            "FAILED"
        },
        if listed { "LISTED" } else { "not listed" }
    );
    let first_ok = report.is_valid() && status == 0 && !listed;

    println!("5. Portal revokes it (holder reported the phone lost)");
    let resp = http
        .post(format!(
            "{}/v1/documents/{document_id}/revoke",
            stack.base_url
        ))
        .header("authorization", &auth)
        .json(&serde_json::json!({"reason": "key_compromise"}))
        .send()
        .await?;
    println!(
        "     POST /v1/documents/{}/revoke → {}",
        document_id,
        resp.status()
    );
    resp.error_for_status()?;

    println!("6. Verifier fetches the lists again and refuses the document");
    let (status, listed, signer) = verifier.revocation_status(&issuer_signed, now).await?;
    let verdict = if status == 0 && !listed {
        "ACCEPTED"
    } else {
        "REFUSED (revoked)"
    };
    println!(
        "     status list: {status} (1 = invalid) — identifier list: {} — verdict: {verdict}",
        if listed { "LISTED" } else { "not listed" }
    );
    println!("     both lists signed by the list signer ({signer})");
    let sl = http.get(&status_list_uri).send().await?.bytes().await?;
    write(&art, "status_list.cwt", &sl)?;
    let il = http.get(&identifier_list_uri).send().await?.bytes().await?;
    write(&art, "identifier_list.cwt", &il)?;

    println!("7. Portal tries to refresh the revoked document and is refused");
    let nonce: serde_json::Value = http
        .post(format!("{}/v1/nonces", stack.base_url))
        .header("authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    let nonce = nonce
        .get("nonce")
        .and_then(|n| n.as_str())
        .ok_or("no nonce")?;
    let mut refresh = issue_body(MDL, &mdl_claims(), nonce, &stack.base_url, &[device], now)?;
    if let Some(o) = refresh.as_object_mut() {
        o.remove("doctype");
    }
    let resp = http
        .post(format!(
            "{}/v1/documents/{document_id}/refresh",
            stack.base_url
        ))
        .header("authorization", &auth)
        .json(&refresh)
        .send()
        .await?;
    let refused_status = resp.status();
    let refused: serde_json::Value = resp.json().await?;
    println!(
        "     POST …/refresh → {refused_status} {}",
        refused
            .pointer("/error/code")
            .unwrap_or(&serde_json::Value::Null)
    );
    let revoked_ok = status == 1 && listed && refused_status == reqwest::StatusCode::CONFLICT;

    std::fs::write(
        art.join("README.txt"),
        format!(
            "DEVELOPMENT ONLY artifacts from mdoc-dev ({now}).\n\n\
             openssl verify -x509_strict -CAfile iaca.pem -crl_check -CRLfile iaca.crl.pem ds.pem\n\
             iaca.crl.pem was fetched from the DS certificate's CRL URL on the dev DTS;\n\
             dts-index.json is the DTS's index (curl it again while --serve runs).\n\
             openssl crl -in iaca.crl.pem -CAfile iaca.pem -noout -text\n\
             openssl verify -x509_strict -CAfile iaca.pem link-new-with-old.pem\n\
             openssl x509 -in ds.pem -noout -text\n\
             issuer_signed.cbor, device_response.cbor, session_transcript.cbor, status_list.cwt,\n\
             identifier_list.cwt: CBOR (e.g. python3 -m cbor2.tool, cbor.me)\n\
             device_key.pem: the wallet's device key (PKCS#8)\n"
        ),
    )?;
    println!("     artifacts and openssl commands in {}", art.display());

    if args.serve {
        write_serve_file(&dir.join("state"), &stack, &portal.0, &portal_scopes)?;
        println!(
            "serving the issuer on {} and the DTS on {} until Ctrl-C (API token for this run: {})",
            stack.base_url, stack.dts.url, portal.0
        );
        let _ = tokio::signal::ctrl_c().await;
        let _ = std::fs::remove_file(&serve_file);
    }
    stack.stop().await?;
    let ok = first_ok && revoked_ok;
    println!(
        "result: {}",
        if ok {
            "issued → verified → revoked → refused, as expected"
        } else {
            "UNEXPECTED OUTCOME"
        }
    );
    Ok(ok)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mdoc-dev: {e}");
            return ExitCode::from(4);
        }
    };
    match runtime.block_on(walkthrough(&args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("mdoc-dev: {e}");
            ExitCode::from(4)
        }
    }
}
