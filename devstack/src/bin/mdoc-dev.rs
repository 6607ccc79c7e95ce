//! `mdoc-dev`: the whole system on embedded defaults, end to end. **DEVELOPMENT ONLY.**
//!
//! Starts a dev root CA, the Digital Trust Service publishing it (its export ingested, the
//! certificates' CRL URL served) and the issuer service (SQLite, dev file keystore, loopback,
//! following the root's CRL), then walks through what each user does: the portal turns the
//! identified applicant into an OpenID4VCI credential offer with a transaction code; the
//! holder's wallet, the wallet SDK (`wallet-sdk`), obtains its mDL over the pre-authorized code
//! flow (DPoP, key proofs), verifies it on receipt against a trust store synced from the DTS,
//! stores it, tells the issuer, and presents it in proximity (QR engagement, consent to a
//! subset of the requested elements, device signature); the verifier app, the verifier SDK
//! (`verifier-sdk`), reads it over its reader session and verifies it with trust synced from
//! the DTS (pinned root, the root's CRL) and the status lists it fetches; the wallet presents
//! it online to a web verifier (OpenID4VP 1.0 over the Digital Credentials API, DCQL, an
//! encrypted `dc_api.jwt` response); the portal revokes
//! it; the wallet presents it again and the verifier refuses it; the issuer refuses to refresh
//! it. Everything it made is written to `--dir` (default `out/dev`) for inspection with
//! openssl and other tools; `--serve` keeps the service running afterwards until Ctrl-C,
//! after writing `DIR/state/serve.json` (issuer and DTS URLs, the pinned root fingerprints,
//! an API token) for scripts. `--portal-login-url URL` enables the issuer's
//! authorization-code flow (HAIP: DPoP-bound tokens with server nonces) with the portal's
//! login page at `URL`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use clap::Parser;
use der::Encode as _;
use devstack::app_http::{AppHttp, Exchange};
use devstack::sample::{issue_body, mdl_claims, MDL, MDL_NS};
use devstack::{DevStack, Result, StackOptions};
use mdoc_issuer::config::ServiceConfig;
use mdoc_issuer::store::Scope;
use mso::crypto::{Algorithm, Curve, PublicKey, SoftwareKey};
use mso::x509::Certificate;
use serde_json::Value as Json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use verifier_sdk::{
    default_verification_options, verify_device_response_online, CheckFailure, CheckKind,
    CheckOutcome, ClaimQuery, CredentialQuery, DocumentRequest, ElementRequest, ElementValue,
    NamespaceRequest, OnlineVerificationReport, OnlineVerifier, OpenId4VpRequestConfig,
    ReaderSession, ResponseEncryption, ResponseMode, SessionTranscriptInput, TrustStore,
    VerificationReport,
};
use wallet_sdk::{
    default_oid4vci_options, file_storage, ApprovedDocument, ApprovedElement, CredentialSummary,
    Issuance, Oid4vciClient, OnlineAnswer, OnlineApproval, OnlineRequest, ReaderAuthStatus,
    SoftwareKeyStore, TxCodeInputMode, Wallet,
};

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

/// The mDL elements the verifier asks for.
const REQUESTED: [&str; 8] = [
    "family_name",
    "given_name",
    "birth_date",
    "portrait",
    "issuing_country",
    "document_number",
    "age_over_18",
    "driving_privileges",
];

/// The ones the holder approves: `age_over_18` is enough, so no birth date, and no document
/// number.
const APPROVED: [&str; 6] = [
    "family_name",
    "given_name",
    "portrait",
    "issuing_country",
    "age_over_18",
    "driving_privileges",
];

/// MSOs the wallet asks for: each presentation uses an unused one (the wallet SDK's default
/// policy), and the walkthrough presents three times (in person, online, in person again).
const BATCH: u32 = 3;

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

/// The SDKs take time as Unix seconds and never read the clock: the apps do.
fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// Runs SDK calls (blocking, and blocking HTTP) off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await?
}

/// One line for what an SDK sent and what came back, read from the recorded exchange.
fn describe(e: &Exchange) -> String {
    let mut sent = Vec::new();
    let form = e
        .request_header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if form {
        for (k, v) in form_urlencoded::parse(&e.request_body) {
            match k.as_ref() {
                "grant_type" => sent.push(v.rsplit(':').next().unwrap_or_default().to_owned()),
                "tx_code" => sent.push("transaction code".to_owned()),
                _ => {}
            }
        }
    }
    let body: Option<Json> = serde_json::from_slice(&e.request_body).ok();
    if let Some(proofs) = body
        .as_ref()
        .and_then(|b| b.pointer("/proofs/jwt"))
        .and_then(Json::as_array)
    {
        sent.push(format!("{} key proof(s)", proofs.len()));
    }
    if let Some(event) = body
        .as_ref()
        .and_then(|b| b.get("event"))
        .and_then(Json::as_str)
    {
        sent.push(format!("event {event}"));
    }
    match e.request_header("authorization") {
        Some(a) if a.starts_with("DPoP ") => sent.push("DPoP-bound token".to_owned()),
        Some(a) if a.starts_with("Bearer ") => sent.push("bearer token".to_owned()),
        _ => {}
    }
    if e.request_header("dpop").is_some() {
        sent.push("DPoP proof".to_owned());
    }
    if e.request_header("if-none-match").is_some() {
        sent.push("If-None-Match".to_owned());
    }
    let answer: Option<Json> = serde_json::from_slice(&e.response_body).ok();
    let field = |name: &str| answer.as_ref().and_then(|a| a.get(name));
    let mut got = Vec::new();
    if let Some(error) = field("error").and_then(Json::as_str) {
        got.push(error.to_owned());
    }
    if let Some(kind) = field("token_type").and_then(Json::as_str) {
        got.push(format!("{kind} access token"));
    }
    if field("c_nonce").is_some() {
        got.push("c_nonce".to_owned());
    }
    if let Some(n) = field("credentials").and_then(Json::as_array) {
        got.push(format!("{} credential(s)", n.len()));
    }
    if field("notification_id").is_some() {
        got.push("notification_id".to_owned());
    }
    let sent = if sent.is_empty() {
        String::new()
    } else {
        format!(" [{}]", sent.join(", "))
    };
    let got = if got.is_empty() {
        format!(" ({} bytes)", e.response_body.len())
    } else {
        format!(" ({})", got.join(", "))
    };
    format!("{} {}{sent} → {}{got}", e.method, e.path(), e.status)
}

fn print_trace(who: &str, exchanges: &[Exchange]) {
    for e in exchanges {
        println!("     {who}: {}", describe(e));
    }
}

/// What a wallet or verifier app does to trust issuers: a fresh trust store synced from the DTS
/// with the root fingerprints the app ships pinned (the roots' CRLs come with it).
fn trust_from_dts(who: &str, index_url: &str, pins: &[String]) -> Result<Arc<TrustStore>> {
    let http = AppHttp::new()?;
    let trust = TrustStore::new();
    let report = trust.sync_from_dts(
        index_url.to_owned(),
        pins.to_vec(),
        http.clone(),
        unix_now(),
    )?;
    print_trace(who, &http.take_exchanges());
    let crls = trust
        .crls()?
        .iter()
        .map(|c| {
            format!(
                "number {}, {} revoked",
                c.crl_number.as_deref().map(hex::encode).unwrap_or_default(),
                c.revoked_count
            )
        })
        .collect::<Vec<_>>();
    println!(
        "     {who}: trust store synced from {index_url}: root(s) {} trusted (pinned), {} CRL(s) ({})",
        report.roots_added.join(", "),
        report.crls_updated,
        crls.join("; ")
    );
    if report.roots_added.is_empty() {
        return Err("the DTS publishes no pinned root".into());
    }
    Ok(trust)
}

/// The holder's wallet with its mDL, and the IssuerSigned bytes of each MSO received.
struct Holder {
    wallet: Arc<Wallet>,
    credential: CredentialSummary,
    issued: Vec<Vec<u8>>,
}

/// The holder's wallet app obtains the offered mDL with the wallet SDK: offer, token with the
/// transaction code, nonce and key proofs, credential, verification on receipt, storage,
/// notification.
fn obtain(
    link: String,
    tx_code: String,
    trust: Arc<TrustStore>,
    storage_dir: PathBuf,
) -> Result<Holder> {
    let http = AppHttp::new()?;
    let keys = Arc::new(SoftwareKeyStore::new());
    let storage = file_storage(storage_dir.display().to_string())?;
    let wallet = Wallet::new(keys.clone(), storage, trust);
    let mut options = default_oid4vci_options();
    // The dev stack is plain http on loopback; an app keeps the default (https only).
    options.allow_http_loopback = true;
    let client = Oid4vciClient::new(http.clone(), keys, options)?;

    let offer = client.resolve_offer(link)?;
    let configuration = offer
        .credentials
        .iter()
        .find(|c| c.doctype == MDL)
        .ok_or("the offer holds no mDL configuration")?
        .clone();
    let tx = offer
        .pre_authorized
        .as_ref()
        .ok_or("the offer has no pre-authorized code")?
        .tx_code
        .clone();
    print_trace("wallet SDK", &http.take_exchanges());
    println!(
        "     wallet SDK: offer resolved: {} offers {} ({} claims), pre-authorized code{}, batch size {}",
        offer.credential_issuer,
        configuration.id,
        configuration.claims.len(),
        match &tx {
            Some(t) => format!(
                " with a {}-{} transaction code ({:?})",
                t.length.map_or("?".to_owned(), |l| l.to_string()),
                match t.input_mode {
                    TxCodeInputMode::Numeric => "digit",
                    TxCodeInputMode::Text => "character",
                },
                t.description.as_deref().unwrap_or_default()
            ),
            None => String::new(),
        },
        offer.batch_size
    );
    // The holder types the code the portal sent by SMS.
    client.token_pre_authorized(tx.is_some().then_some(tx_code))?;
    let issued = match client.request_credentials(configuration.id.clone(), BATCH)? {
        Issuance::Issued { result } => result,
        Issuance::Deferred { .. } => return Err("the issuer deferred the credential".into()),
    };
    print_trace("wallet SDK", &http.take_exchanges());
    let bytes = issued
        .credentials
        .iter()
        .map(|c| c.issuer_signed.clone())
        .collect();
    let credential = wallet.receive_issued(client.clone(), issued, unix_now())?;
    println!(
        "     wallet SDK: verified on receipt (DS chain to the DTS's root, CRL, issuer signature, digests, validity, doc type, each MSO bound to its device key) and stored credential {}: {} MSO(s)",
        credential.id,
        credential.msos.len()
    );
    print_trace("wallet SDK", &http.take_exchanges());
    client.close()?;
    Ok(Holder {
        wallet,
        credential,
        issued: bytes,
    })
}

/// One proximity presentation: the DeviceResponse the verifier decrypted and the session's
/// SessionTranscriptBytes.
struct Presented {
    response: Vec<u8>,
    transcript: Vec<u8>,
}

/// The verifier's request: the [`REQUESTED`] mDL elements, none to be retained.
fn mdl_request() -> DocumentRequest {
    DocumentRequest {
        doc_type: MDL.to_owned(),
        namespaces: vec![NamespaceRequest {
            namespace: MDL_NS.to_owned(),
            elements: REQUESTED
                .iter()
                .map(|id| ElementRequest {
                    identifier: (*id).to_owned(),
                    intent_to_retain: false,
                })
                .collect(),
        }],
    }
}

/// The wallet shows a QR code, the verifier's reader session scans it and sends its request,
/// the holder approves [`APPROVED`], the wallet answers, the reader ends the session.
fn present(wallet: Arc<Wallet>) -> Result<Presented> {
    let at = unix_now();
    let session = wallet.start_presentation()?;
    let qr = session.qr_code_uri()?;
    println!(
        "     wallet SDK: device engagement shown as a QR code ({} characters: {}…)",
        qr.len(),
        qr.chars().take(24).collect::<String>()
    );
    let reader = ReaderSession::from_qr_code(qr)?;
    let request = reader.device_request(vec![mdl_request()], None)?;
    let establishment = reader.establish(request)?;
    println!(
        "     verifier SDK: reader session from the QR code; SessionEstablishment with the encrypted DeviceRequest ({} bytes)",
        establishment.len()
    );
    let consent = session.receive_establishment(establishment, at)?;
    let document = consent
        .documents
        .first()
        .ok_or("the consent request names no document")?;
    let reader_auth = match &document.reader.auth {
        ReaderAuthStatus::Absent => "anonymous reader (no reader authentication)".to_owned(),
        ReaderAuthStatus::Verified => format!(
            "reader {} (verified)",
            document.reader.subject.as_deref().unwrap_or("?")
        ),
        ReaderAuthStatus::Unverified { reason } => format!("reader not verified: {reason}"),
    };
    let available = document.elements.iter().filter(|e| e.available).count();
    println!(
        "     wallet SDK: consent asked for {} element(s) of {} ({available} held), {reader_auth}",
        document.elements.len(),
        document.doc_type,
    );
    let (approved, declined): (Vec<_>, Vec<_>) = document
        .elements
        .iter()
        .partition(|e| e.available && APPROVED.contains(&e.identifier.as_str()));
    let names = |v: &[&wallet_sdk::RequestedElement]| {
        v.iter()
            .map(|e| e.identifier.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "     holder approves {}: {}; declines: {}",
        approved.len(),
        names(approved.as_slice()),
        names(declined.as_slice())
    );
    let answer = ApprovedDocument {
        doc_type: document.doc_type.clone(),
        elements: approved
            .iter()
            .map(|e| ApprovedElement {
                namespace: e.namespace.clone(),
                identifier: e.identifier.clone(),
            })
            .collect(),
    };
    let reply = session.respond(vec![answer], at)?;
    println!(
        "     wallet SDK: DeviceResponse signed with the MSO's device key, sent encrypted ({} bytes)",
        reply.len()
    );
    let received = reader.decrypt(reply)?;
    let response = received
        .data
        .ok_or("the wallet's answer carries no DeviceResponse")?;
    // The reader ends the session; the wallet sees the end.
    if session.receive_message(reader.terminate()?, at)?.is_some() {
        return Err("the wallet read a request in the reader's termination".into());
    }
    println!(
        "     verifier SDK: decrypted the DeviceResponse ({} bytes); session terminated by the reader (status 20)",
        response.len()
    );
    Ok(Presented {
        response,
        transcript: reader.session_transcript_bytes()?,
    })
}

/// The web verifier's online request: OpenID4VP 1.0 over the Digital Credentials API with an
/// encrypted response (`dc_api.jwt`), a DCQL query for two mDL elements; the browser hands it
/// to the wallet with the page's origin, the holder approves, and the verifier SDK decrypts
/// the answer and verifies it over the request's SessionTranscript, fetching the MSO's status
/// lists through its own HTTP stack.
fn present_online(wallet: Arc<Wallet>, trust: Arc<TrustStore>) -> Result<OnlineVerificationReport> {
    const ORIGIN: &str = "https://verifier.example";
    let claim = |element: &str| ClaimQuery {
        id: None,
        namespace: MDL_NS.to_owned(),
        element: element.to_owned(),
        intent_to_retain: false,
        values: Vec::new(),
    };
    let verifier = OnlineVerifier::openid4vp(OpenId4VpRequestConfig {
        response_mode: ResponseMode::DcApiJwt,
        client_id: None,
        response_uri: None,
        origin: Some(ORIGIN.to_owned()),
        credentials: vec![CredentialQuery {
            id: "mdl".to_owned(),
            doc_type: MDL.to_owned(),
            claims: vec![claim("age_over_18"), claim("family_name")],
            claim_sets: Vec::new(),
            multiple: false,
        }],
        credential_sets: Vec::new(),
        encryption: ResponseEncryption::A128Gcm,
        signer: None,
    })?;
    let request = verifier.request();
    println!(
        "     verifier SDK: {} request ({} bytes of data) with a DCQL query for age_over_18 and family_name, an ephemeral ECDH-ES key",
        request.protocol,
        request.data_json.len()
    );
    let at = unix_now();
    let session = wallet.start_online_presentation(
        OnlineRequest::DigitalCredentials {
            protocol: request.protocol,
            data_json: request.data_json,
            origin: ORIGIN.to_owned(),
        },
        at,
    )?;
    let consent = session.consent_request();
    let approvals = consent
        .credentials
        .iter()
        .map(|c| OnlineApproval {
            query_id: c.query_id.clone(),
            elements: c
                .elements
                .iter()
                .filter(|e| e.available)
                .map(|e| ApprovedElement {
                    namespace: e.namespace.clone(),
                    identifier: e.identifier.clone(),
                })
                .collect(),
        })
        .collect();
    println!(
        "     wallet SDK: request from {ORIGIN}; the holder approves what the query asks for ({})",
        consent
            .credentials
            .iter()
            .flat_map(|c| c.elements.iter().map(|e| e.identifier.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let OnlineAnswer::DigitalCredentials { data_json, .. } = session.respond(approvals, at)? else {
        return Err("a Digital Credentials API request answered by POST".into());
    };
    println!(
        "     wallet SDK: DeviceResponse over the OpenID4VPDCAPIHandover transcript, encrypted as a JWE ({} bytes)",
        data_json.len()
    );
    let http = AppHttp::new()?;
    let report = verifier.verify_response_online(
        data_json,
        trust,
        default_verification_options(at),
        http.clone(),
    )?;
    print_trace("verifier SDK", &http.take_exchanges());
    let disclosed: Vec<String> = report
        .presentations
        .iter()
        .flat_map(|p| p.report.documents.iter())
        .flat_map(|d| d.elements.iter())
        .map(|e| format!("{}={}", e.identifier, show(&e.value)))
        .collect();
    println!(
        "     verifier SDK: decrypted and verified: {} (disclosed: {}; findings: {})",
        if report.valid { "ACCEPTED" } else { "REFUSED" },
        disclosed.join(", "),
        if report.findings.is_empty() {
            "none".to_owned()
        } else {
            format!("{:?}", report.findings)
        }
    );
    Ok(report)
}

/// The verifier app checks a presentation with the verifier SDK, the MSO's status and
/// identifier lists fetched through its own HTTP stack (only for an MSO whose issuer signature
/// verified); returns the report and the exchanges (the lists it was given).
fn verify(
    trust: Arc<TrustStore>,
    presented: &Presented,
) -> Result<(VerificationReport, Vec<Exchange>)> {
    let http = AppHttp::new()?;
    let report = verify_device_response_online(
        presented.response.clone(),
        SessionTranscriptInput::Encoded {
            bytes: presented.transcript.clone(),
        },
        trust,
        default_verification_options(unix_now()),
        http.clone(),
    )?;
    let exchanges = http.take_exchanges();
    print_trace("verifier SDK", &exchanges);
    Ok((report, exchanges))
}

fn show(value: &ElementValue) -> String {
    match value {
        ElementValue::Text { value } => format!("{value:?}"),
        ElementValue::Integer { value } => value.to_string(),
        ElementValue::Bool { value } => value.to_string(),
        ElementValue::FullDate { iso } => iso.clone(),
        ElementValue::TDate { rfc3339, .. } => rfc3339.clone(),
        ElementValue::Bytes { value } => format!("<{} bytes>", value.len()),
        ElementValue::Array { items } => format!("[{} item(s)]", items.len()),
        _ => "…".to_owned(),
    }
}

/// What the verifier SDK reported, check by check.
fn print_report(report: &VerificationReport) {
    for doc in &report.documents {
        let passed = doc.checks.iter().filter(|c| c.passed()).count();
        println!(
            "     verifier SDK: {}: {passed} of {} checks passed — verdict: {}",
            doc.doc_type,
            doc.checks.len(),
            if doc.valid { "VALID" } else { "NOT VALID" }
        );
        for check in &doc.checks {
            if let CheckOutcome::Failed { reason, .. } = &check.outcome {
                let subject = check.subject.as_deref().unwrap_or("");
                println!("       FAIL {:?} {subject}: {reason}", check.kind);
            }
        }
        for w in &doc.warnings {
            println!("       warning {:?}: {}", w.kind, w.reason);
        }
        let shown = doc
            .elements
            .iter()
            .map(|e| {
                format!(
                    "{} = {}{}",
                    e.identifier,
                    show(&e.value),
                    if e.verified { "" } else { " (NOT VERIFIED)" }
                )
            })
            .collect::<Vec<_>>();
        println!("       disclosed: {}", shown.join(", "));
    }
}

/// The outcome of check `kind` of the first document, if it ran.
fn outcome(report: &VerificationReport, kind: CheckKind) -> Option<&CheckOutcome> {
    report
        .documents
        .first()?
        .checks
        .iter()
        .find(|c| c.kind == kind)
        .map(|c| &c.outcome)
}

/// Valid, with both lists checked.
fn accepted(report: &VerificationReport) -> bool {
    report.valid
        && [CheckKind::StatusList, CheckKind::IdentifierList]
            .into_iter()
            .all(|k| matches!(outcome(report, k), Some(CheckOutcome::Passed)))
}

/// Refused for revocation only: both lists say revoked and every other check passed.
fn refused_as_revoked(report: &VerificationReport) -> bool {
    let revoked = |k| {
        matches!(
            outcome(report, k),
            Some(CheckOutcome::Failed {
                failure: CheckFailure::MsoRevoked,
                ..
            })
        )
    };
    !report.valid
        && revoked(CheckKind::StatusList)
        && revoked(CheckKind::IdentifierList)
        && report
            .failures()
            .all(|c| matches!(c.kind, CheckKind::StatusList | CheckKind::IdentifierList))
}

/// The wallet's device public keys (SPKI PEM), one per MSO: the private keys stay in its key
/// store.
fn device_keys_pem(wallet: &Wallet, credential: &CredentialSummary) -> Result<String> {
    let mut out = String::new();
    for mso in &credential.msos {
        let sec1 = wallet.device_public_key(mso.key_alias.clone())?;
        let spki = mso::x509::spki::encode(&PublicKey::from_sec1(Curve::P256, &sec1)?)?;
        out.push_str(&pem("PUBLIC KEY", &spki.to_der()?));
    }
    Ok(out)
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
    let index_url = format!("{}/index.json", stack.dts.url);
    let index = http
        .get(&index_url)
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

    println!("2. Portal turns the identified applicant into a credential offer; the wallet SDK obtains the mDL over OpenID4VCI");
    let offer: Json = http
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
    // The software key store lives in memory for this run only, so the wallet's storage starts
    // empty too: credentials of an earlier run could not be presented without their keys.
    let wallet_dir = dir.join("state").join("wallet");
    if wallet_dir.exists() {
        std::fs::remove_dir_all(&wallet_dir)?;
    }
    let pins = stack.dts.pinned();
    let holder = {
        let (index_url, pins) = (index_url.clone(), pins.clone());
        blocking(move || {
            let trust = trust_from_dts("wallet SDK", &index_url, &pins)?;
            obtain(link, tx_code, trust, wallet_dir)
        })
        .await?
    };
    let first = holder
        .issued
        .first()
        .ok_or("the wallet received no credential")?;
    write(&art, "issuer_signed.cbor", first)?;
    write(
        &art,
        "device_keys.pem",
        device_keys_pem(&holder.wallet, &holder.credential)?.as_bytes(),
    )?;
    let view: Json = http
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
    println!("     document {document_id}:");
    for mso in &holder.credential.msos {
        println!(
            "       MSO on status list {} idx {}, valid until {}",
            mso.status_list_uri.as_deref().unwrap_or("(none)"),
            mso.status_list_index
                .map_or("(none)".to_owned(), |i| i.to_string()),
            rfc3339(mso.valid_until)
        );
    }

    println!("3. The wallet presents it in proximity (QR engagement, consent, device signature) to the verifier's reader session");
    let presented = blocking({
        let wallet = Arc::clone(&holder.wallet);
        move || present(wallet)
    })
    .await?;
    write(&art, "session_transcript.cbor", &presented.transcript)?;
    write(&art, "device_response.cbor", &presented.response)?;

    println!("4. The verifier SDK takes its trust from the DTS (pinned root fingerprint, the root's CRL) and checks the response: IACA chain, DS not revoked, MSO signature, digests, validity, device signature, issuing country, status lists");
    let (verifier_trust, first_report) = {
        let index_url = index_url.clone();
        blocking(move || {
            let trust = trust_from_dts("verifier SDK", &index_url, &pins)?;
            let (report, _) = verify(Arc::clone(&trust), &presented)?;
            Ok((trust, report))
        })
        .await?
    };
    print_report(&first_report);
    let first_ok = accepted(&first_report);

    println!("4b. The wallet presents it online to a web verifier: OpenID4VP 1.0 over the Digital Credentials API (dc_api.jwt), a DCQL query for two elements");
    let online = blocking({
        let wallet = Arc::clone(&holder.wallet);
        let trust = Arc::clone(&verifier_trust);
        move || present_online(wallet, trust)
    })
    .await?;

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

    println!("6. The wallet presents it again (the batch's next MSO); the verifier SDK fetches the lists and refuses it");
    let (second_report, lists) = blocking({
        let wallet = Arc::clone(&holder.wallet);
        move || verify(verifier_trust, &present(wallet)?)
    })
    .await?;
    print_report(&second_report);
    let refused = refused_as_revoked(&second_report);
    println!(
        "     verdict: {}",
        if refused {
            "REFUSED (revoked: status list and identifier list)"
        } else if second_report.valid {
            "ACCEPTED"
        } else {
            "REFUSED for another reason"
        }
    );
    // The lists exactly as the verifier was given them, for the SDKs' Python tests.
    let first_mso = holder
        .credential
        .msos
        .first()
        .ok_or("the credential has no MSO")?;
    for (uri, name) in [
        (&first_mso.status_list_uri, "status_list.cwt"),
        (&first_mso.identifier_list_uri, "identifier_list.cwt"),
    ] {
        let uri = uri.as_deref().ok_or("the MSO names no list")?;
        let token = lists
            .iter()
            .find(|e| e.url == uri && e.status == 200)
            .ok_or_else(|| format!("the verifier fetched no list from {uri}"))?;
        write(&art, name, &token.response_body)?;
    }

    println!("7. Portal tries to refresh the revoked document and is refused");
    let nonce: Json = http
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
    // A refresh binds a fresh batch to fresh device keys.
    let fresh = SoftwareKey::generate(Algorithm::Es256);
    let mut refresh = issue_body(MDL, &mdl_claims(), nonce, &stack.base_url, &[fresh], now)?;
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
    let refusal: Json = resp.json().await?;
    println!(
        "     POST …/refresh → {refused_status} {}",
        refusal.pointer("/error/code").unwrap_or(&Json::Null)
    );
    let revoked_ok = refused && refused_status == reqwest::StatusCode::CONFLICT;

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
             issuer_signed.cbor (the first MSO the wallet received), device_response.cbor (its\n\
             first presentation, device-signed over session_transcript.cbor), status_list.cwt,\n\
             identifier_list.cwt (as the verifier fetched them after the revocation): CBOR\n\
             (e.g. python3 -m cbor2.tool, cbor.me)\n\
             device_keys.pem: the wallet's device public keys, one per MSO (the private keys\n\
             never leave its key store): openssl pkey -pubin -in device_keys.pem -noout -text\n"
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
    let ok = first_ok && online.valid && revoked_ok;
    println!(
        "result: {}",
        if ok {
            "issued → verified in person and online → revoked → refused, as expected"
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
