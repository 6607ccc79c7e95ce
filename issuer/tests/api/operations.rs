//! Operational endpoints and graceful shutdown (the OpenAPI document: `openapi.rs`).

use super::*;

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn operational_endpoints_and_graceful_shutdown() {
    let env = Env::start(|c| c.server.shutdown_grace_secs = 5).await;
    let r = env.send(env.get("/healthz", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!({"status": "ok"}));
    let r = env.send(env.get("/readyz", None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json(), json!({"status": "ready"}));

    env.issue(&claims_with_portrait(2048), &[device_key()])
        .await;
    let r = env.send(env.get("/metrics", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/plain")));
    let m = r.text();
    assert!(m.contains("mdoc_issuer_http_requests_total"), "{m}");
    assert!(m.contains("mdoc_issuer_msos_signed_total"), "{m}");
    assert_eq!(
        metric_value(
            &m,
            "mdoc_issuer_http_requests_total",
            &[
                "route=\"/v1/documents\"",
                "status=\"201\"",
                "method=\"POST\""
            ]
        ),
        Some(1.0)
    );
    assert!(metric_value(
        &m,
        "mdoc_issuer_http_requests_total",
        &["route=\"/healthz\""]
    )
    .is_some());

    // Refusals are counted by code.
    let r = env.send(env.http.post(env.url("/v1/nonces"))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let m = env.send(env.get("/metrics", None)).await.text();
    assert!(
        metric_value(&m, "mdoc_issuer_refusals_total", &["code=\"unauthorized\""])
            .is_some_and(|v| v >= 1.0),
        "{m}"
    );

    // Graceful shutdown completes, the port closes, the audit log records the stop.
    let base = env.stack.base_url.clone();
    let audit_path = env.audit_path();
    let http = env.http.clone();
    env.db.close().await;
    let Env { stack, _tmp, .. } = env;
    tokio::time::timeout(std::time::Duration::from_secs(120), stack.stop())
        .await
        .expect("graceful shutdown hangs")
        .unwrap();
    assert!(
        http.get(format!("{base}/healthz")).send().await.is_err(),
        "the server still answers after shutdown"
    );
    // The stop record, then the signed checkpoint covering it.
    let records: Vec<Value> = std::fs::read_to_string(audit_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .collect();
    let [.., stop, checkpoint] = records.as_slice() else {
        panic!("{records:?}")
    };
    assert_eq!(stop["event"], "issuer.stop");
    assert_eq!(checkpoint["event"], custody::audit::CHECKPOINT_EVENT);
    assert_eq!(checkpoint["details"]["covers_seq"], stop["seq"].to_string());
}

/// A client that opens a connection and never finishes its request head (slowloris), or
/// leaves a keep-alive connection idle, is disconnected after the header-read timeout
/// (issue 12: 3,000 half-open requests were held for 75 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn half_open_and_idle_connections_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let env = Env::start(|c| c.server.header_read_timeout_secs = 1).await;
    let addr = env.stack.base_url.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"POST /v1/documents HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    for (name, stream) in [("half-open", &mut slow), ("idle", &mut idle)] {
        let mut buf = vec![0u8; 4096];
        let closed = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(
            closed.is_ok(),
            "the {name} connection is still open after 10 s"
        );
    }
}

/// Issue 12, item 3: after `kill -9` between an issuance's audit record and its commit, the
/// log kept a success record for a document that never existed. At start-up the issuer now
/// finds such records (since the previous start) and writes their rollback; committed
/// operations are left alone, and a second start adds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn an_audited_issuance_never_committed_is_rolled_back_at_start_up() {
    use custody::audit::{AuditEvent, AuditLog};
    let env = Env::start(|_| {}).await;
    let issued = env
        .issue(&claims_with_portrait(1024), &[device_key()])
        .await;
    let stopped = env.stop_keeping_state().await;

    // What a crash between the record and the commit leaves behind.
    let ghost = "00112233445566778899aabbccddeeff";
    let ghost_seq = {
        let mut log = AuditLog::open(&stopped.audit_path, "mdoc-issuer").unwrap();
        log.append(
            AuditEvent::success("issuer.issue")
                .actor("portal")
                .detail("document", ghost)
                .detail("doctype", MDL)
                .detail("ds_serial", "01")
                .detail("msos", "1")
                .detail("status_list", "http://127.0.0.1/v1/status-lists/1")
                .detail("status_indices", "4242"),
        )
        .unwrap()
    };
    let restart = || async { stopped.start().await.unwrap().stop().await.unwrap() };
    restart().await;
    let rollbacks = |log: &[Value]| -> Vec<Value> {
        log.iter()
            .filter(|r| r["details"]["rolled_back"] == mdoc_issuer::engine::NOT_COMMITTED)
            .cloned()
            .collect()
    };
    let log = stopped.audit();
    let found = rollbacks(&log);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["event"], "issuer.issue");
    assert_eq!(found[0]["result"], "failure");
    assert_eq!(found[0]["details"]["document"], ghost);
    assert_eq!(found[0]["details"]["record"], ghost_seq.to_string());
    assert!(
        !log.iter().any(|r| r["details"]["rolled_back"].is_string()
            && r["details"]["document"] == issued.document_id.as_str()),
        "the committed issuance was rolled back"
    );
    let start = log
        .iter()
        .rev()
        .find(|r| r["event"] == "issuer.start")
        .unwrap();
    assert_eq!(start["details"]["rolled_back"], "1");

    // Reconciled once: the next start checks only what came after this start.
    restart().await;
    assert_eq!(rollbacks(&stopped.audit()).len(), 1);
}

/// Issue 12 (`kill -9` under load): a revocation was committed before its audit record, so a
/// crash between the two left a revoked document (or DS) with no record of the change. The
/// record now comes first, and a crash between it and the commit is reconciled at the next
/// start like an issuance: the revocations recorded but not committed get their rollback,
/// the committed one keeps its record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn audited_revocations_never_committed_are_rolled_back_at_start_up() {
    use custody::audit::{AuditEvent, AuditLog};
    let env = Env::start(|_| {}).await;
    let revoked = env
        .issue(&claims_with_portrait(1024), &[device_key()])
        .await;
    let untouched = env
        .issue(&claims_with_portrait(1024), &[device_key()])
        .await;
    let r = env
        .send(env.post_json(
            &format!("/v1/documents/{}/revoke", revoked.document_id),
            Some(&env.token),
            &json!({}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // The revocation's record is on disk, claiming the change.
    let record = |log: &[Value], doc: &str| {
        log.iter()
            .find(|r| {
                r["event"] == "issuer.revoke"
                    && r["result"] == "success"
                    && r["details"]["document"] == doc
            })
            .cloned()
    };
    assert_eq!(
        record(&env.audit(), &revoked.document_id).unwrap()["details"]["changed"],
        "true"
    );
    let serial = env.stack.issuer.store().ds_certificates().await.unwrap()[0]
        .serial
        .clone();
    let stopped = env.stop_keeping_state().await;

    // What a crash between each record and its commit leaves behind.
    let (ghost_revoke, ghost_ds) = {
        let mut log = AuditLog::open(&stopped.audit_path, "mdoc-issuer").unwrap();
        let a = log
            .append(
                AuditEvent::success("issuer.revoke")
                    .actor("portal")
                    .detail("document", untouched.document_id.as_str())
                    .detail("reason", "unspecified")
                    .detail("changed", "true"),
            )
            .unwrap();
        let b = log
            .append(
                AuditEvent::success("issuer.revoke_ds")
                    .actor("admin")
                    .detail("ds_serial", serial.as_str()),
            )
            .unwrap();
        (a, b)
    };
    stopped.start().await.unwrap().stop().await.unwrap();
    let log = stopped.audit();
    let rollbacks: Vec<&Value> = log
        .iter()
        .filter(|r| r["details"]["rolled_back"] == mdoc_issuer::engine::NOT_COMMITTED)
        .collect();
    assert_eq!(rollbacks.len(), 2, "{rollbacks:?}");
    assert_eq!(rollbacks[0]["event"], "issuer.revoke");
    assert_eq!(
        rollbacks[0]["details"]["document"],
        untouched.document_id.as_str()
    );
    assert_eq!(rollbacks[0]["details"]["record"], ghost_revoke.to_string());
    assert_eq!(rollbacks[1]["event"], "issuer.revoke_ds");
    assert_eq!(rollbacks[1]["details"]["ds_serial"], serial.as_str());
    assert_eq!(rollbacks[1]["details"]["record"], ghost_ds.to_string());
    let start = log
        .iter()
        .rev()
        .find(|r| r["event"] == "issuer.start")
        .unwrap();
    assert_eq!(start["details"]["rolled_back"], "2");
}

/// Issue 16: an issuance's audit record and its commit are now flushed at the same time, so a
/// crash can leave a committed issuance (or refresh) whose record never reached the disk. At
/// start-up every MSO above the last start's mark that no record names gets its record
/// (written by `system`, marked recovered, with the details the lost record had: a refresh
/// as a refresh), the log still verifies, the client's retry then replays its answer, and a
/// second start adds nothing. The refreshed document's issuance, whose record is on disk,
/// is not recorded again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_committed_issuance_without_its_record_is_recorded_at_start_up() {
    let env = Env::start(|_| {}).await;
    let kept = env
        .issue(&claims_with_portrait(1024), &[device_key()])
        .await;
    let claims = claims_with_portrait(1024);
    let nonce = env.nonce().await;
    let body = env.issue_body(&claims, &nonce, &[device_key()]);
    let idem = format!("crash-{}", hex::encode(rand_bytes()));
    let first = env
        .send(
            env.post_json("/v1/documents", Some(&env.token), &body)
                .header("Idempotency-Key", &idem),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let doc = first.json()["document_id"].as_str().unwrap().to_owned();
    let nonce = env.nonce().await;
    let r = env
        .send(env.post_json(
            &format!("/v1/documents/{}/refresh", kept.document_id),
            Some(&env.token),
            &env.refresh_body(&claims, &nonce, &[device_key(), device_key()]),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let token = env.token.clone();
    let listen: std::net::SocketAddr = env
        .stack
        .base_url
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let stopped = env.stop_keeping_state().await;

    // What a crash after both commits and before the log's flush leaves: the log ends just
    // before the issuance's record (the refresh's record, the stop and its checkpoint are
    // gone with it).
    let text = std::fs::read_to_string(&stopped.audit_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let is_lost = |l: &str| {
        let v: Value = serde_json::from_str(l).unwrap();
        (v["event"] == "issuer.issue" && v["details"]["document"] == doc.as_str())
            || v["event"] == "issuer.refresh"
    };
    let cut = lines.iter().position(|l| is_lost(l)).unwrap();
    let lost: Vec<Value> = lines[cut..]
        .iter()
        .filter(|l| is_lost(l))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lost.len(), 2, "{lost:?}");
    let kept_len: usize = lines[..cut].iter().map(|l| l.len() + 1).sum();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&stopped.audit_path)
        .unwrap()
        .set_len(kept_len as u64)
        .unwrap();

    let recovered = |log: &[Value]| -> Vec<Value> {
        log.iter()
            .filter(|r| r["details"]["recovered"] == mdoc_issuer::engine::RECOVERED)
            .cloned()
            .collect()
    };
    let stack = stopped.start_at(listen).await.unwrap();
    let log = stopped.audit();
    let found = recovered(&log);
    assert_eq!(found.len(), 2, "{found:?}");
    for (record, lost) in found.iter().zip(&lost) {
        assert_eq!(record["event"], lost["event"]);
        assert_eq!(record["result"], "success");
        assert_eq!(record["actors"], json!(["system"]));
        assert_eq!(record["details"]["owner"], lost["actors"][0]);
        for detail in [
            "document",
            "doctype",
            "ds_serial",
            "msos",
            "status_list",
            "status_indices",
        ] {
            assert_eq!(
                record["details"][detail], lost["details"][detail],
                "{detail}"
            );
        }
    }
    assert_eq!(found[0]["details"]["document"], doc.as_str());
    assert_eq!(found[1]["event"], "issuer.refresh");
    assert_eq!(found[1]["details"]["document"], kept.document_id.as_str());
    assert_eq!(found[1]["details"]["msos"], "2");
    let start = log
        .iter()
        .rev()
        .find(|r| r["event"] == "issuer.start")
        .unwrap();
    assert_eq!(start["details"]["recovered"], "2");
    assert_eq!(start["details"]["rolled_back"], "0");

    // The client that never got its answer retries and gets it now.
    let retry = reqwest::Client::new()
        .post(format!("{}/v1/documents", stack.base_url))
        .bearer_auth(&token)
        .header("Idempotency-Key", &idem)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = retry.status();
    let headers = retry.headers().clone();
    let bytes = retry.bytes().await.unwrap();
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(
        headers
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(bytes, first.body);
    stack.stop().await.unwrap();
    let (code, said) = stopped.audit_verify();
    assert_eq!(code, Some(0), "{said}");

    // Recorded once: the next start finds every MSO named.
    stopped.start().await.unwrap().stop().await.unwrap();
    assert_eq!(recovered(&stopped.audit()).len(), 2);
}

/// Every record of the log, sealed segments first, then the live log.
fn whole_log(live: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = custody::audit::sealed_segments(live)
        .unwrap()
        .into_iter()
        .map(|s| s.path)
        .collect();
    files.push(live.to_path_buf());
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Issue 16: a run longer than a segment has its start record in an older segment than the
/// ones start-up reconciliation reads, so it had no mark to check MSOs against and would not
/// have found a commit whose record was lost. The upkeep now marks the MSOs recorded so far
/// (`issuer.mark`, only when there are new ones), and reconciliation reads back to the last
/// segment holding a start or mark record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_commit_without_its_record_is_found_when_the_start_is_segments_back() {
    use mdoc_issuer::store::{
        IssuanceRecord, MsoRecord, NewDocument, OutcomeKind, Store, StoredResponse,
    };
    // Every checkpoint seals the live log.
    let env = Env::start(|c| c.audit.segment_max_bytes = 1).await;
    let kept = env
        .issue(&claims_with_portrait(1024), &[device_key()])
        .await;
    let high = env.stack.issuer.store().max_mso_id().await.unwrap();
    env.stack.issuer.upkeep(now()).await.unwrap();
    // Idle: no new MSOs, no new mark.
    env.stack.issuer.upkeep(now()).await.unwrap();
    let marks: Vec<Value> = whole_log(&env.audit_path())
        .into_iter()
        .filter(|r| r["event"] == "issuer.mark")
        .collect();
    assert_eq!(marks.len(), 1, "{marks:?}");
    assert_eq!(
        marks[0]["details"][mdoc_issuer::engine::HIGH_WATER],
        high.to_string()
    );
    let issued = whole_log(&env.audit_path())
        .into_iter()
        .find(|r| r["event"] == "issuer.issue")
        .unwrap();
    assert_eq!(issued["details"]["document"], kept.document_id.as_str());
    let stopped = env.stop_keeping_state().await;

    // The segments reconciliation used to read hold neither the start nor the mark.
    let sealed = custody::audit::sealed_segments(&stopped.audit_path).unwrap();
    let recent = std::fs::read_to_string(&sealed.last().unwrap().path).unwrap()
        + &std::fs::read_to_string(&stopped.audit_path).unwrap();
    assert!(!recent.contains("issuer.start") && !recent.contains("issuer.mark"));

    // A commit whose record a crash lost, as the store holds it.
    let store = Store::open(&stopped.dir.join("issuer.sqlite").display().to_string())
        .await
        .unwrap();
    let list = issued["details"]["status_list"].as_str().unwrap();
    let index = store.allocate_status_indices(list, 1).await.unwrap()[0];
    let thumbprint: [u8; 32] = Sha256::digest(rand_bytes()).into();
    let ghost = DocumentId::random().unwrap();
    let signed = now().replace_nanosecond(0).unwrap();
    let record = IssuanceRecord {
        document: NewDocument {
            id: ghost,
            doctype: MDL.into(),
            applicant_ref: Sha256::digest(b"an applicant").into(),
            created_at: signed,
            client_id: issued["actors"][0].as_str().unwrap().into(),
        },
        msos: vec![MsoRecord {
            ds_serial: issued["details"]["ds_serial"].as_str().unwrap().into(),
            status_list_uri: list.into(),
            status_index: index,
            identifier: thumbprint.to_vec(),
            device_key_thumbprint: thumbprint,
            valid_from: signed,
            valid_until: signed + Duration::days(30),
            created_at: signed,
        }],
        nonce: None,
        offer: None,
    };
    let response = StoredResponse {
        kind: OutcomeKind::Issued,
        body: vec![0],
    };
    store
        .record_issuance(&record, None, &response)
        .await
        .unwrap();
    store.close().await;

    stopped.start().await.unwrap().stop().await.unwrap();
    let recovered: Vec<Value> = whole_log(&stopped.audit_path)
        .into_iter()
        .filter(|r| r["details"]["recovered"] == mdoc_issuer::engine::RECOVERED)
        .collect();
    assert_eq!(recovered.len(), 1, "{recovered:?}");
    assert_eq!(recovered[0]["event"], "issuer.issue");
    assert_eq!(recovered[0]["details"]["document"], ghost.to_hex());
    assert_eq!(recovered[0]["details"]["status_indices"], index.to_string());
    custody::audit::verify_segments(&stopped.audit_path, &stopped.audit_public_key()).unwrap();
}

/// Issue 16: when an issuance is committed but its audit record cannot be written, the log is
/// fenced until a restart has reconciled it. While fenced the service says it is not ready,
/// and refuses issuance before signing anything (no document, no status-list index, no used
/// nonce); a restart lifts the fence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_fenced_audit_log_makes_the_issuer_unready_and_refuses_issuance() {
    let env = Env::start(|_| {}).await;
    env.issue(&claims_with_portrait(1024), &[device_key()])
        .await;
    env.stack.issuer.audit().fence();

    let r = env.send(env.get("/readyz", None)).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert_eq!(r.json()["status"], "not_ready");
    assert!(
        r.json()["reason"].as_str().unwrap().contains("fenced"),
        "{}",
        r.text()
    );
    let before = env.counts().await;
    let nonce = env.nonce().await;
    let body = env.issue_body(&sample::mdl_claims(), &nonce, &[device_key()]);
    let r = env
        .send(env.post_json("/v1/documents", Some(&env.token), &body))
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "audit_unavailable");
    assert_eq!(
        env.counts().await,
        before,
        "a fenced issuer changed its store"
    );

    let stopped = env.stop_keeping_state().await;
    let stack = stopped.start().await.unwrap();
    let ready = reqwest::get(format!("{}/readyz", stack.base_url))
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    stack.stop().await.unwrap();
}

/// Issue 12, item 2: a record deleted and the chain recomputed went unnoticed, and the issuer
/// started on the rewritten log. The log's checkpoints are now signed with a key of its own
/// (at every upkeep and at shutdown); the rewrite breaks them and the issuer refuses to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_rechained_audit_log_is_refused_at_start_up() {
    use custody::audit::AuditRecord;
    let env = Env::start(|_| {}).await;
    env.issue(&claims_with_portrait(1024), &[device_key()])
        .await;
    let stopped = env.stop_keeping_state().await;
    let records = || -> Vec<AuditRecord> {
        std::fs::read_to_string(&stopped.audit_path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    // The log ends on a signed checkpoint.
    let last = records().pop().unwrap();
    assert_eq!(last.event, custody::audit::CHECKPOINT_EVENT);
    assert!(last.sig.is_some());
    // Untouched, it starts.
    stopped.start().await.unwrap().stop().await.unwrap();
    let mut records = records();

    // Delete the issuance record and recompute every later link, as someone with write
    // access but without the key would.
    let at = records
        .iter()
        .position(|r| r.event == "issuer.issue")
        .unwrap();
    records.remove(at);
    for i in at..records.len() {
        records[i].seq -= 1;
        records[i].prev = records[i - 1].hash.clone();
        if records[i].event == custody::audit::CHECKPOINT_EVENT {
            // Even the checkpoints' own claims are made consistent: only their signatures,
            // which need the key, cannot follow.
            let (seq, prev) = (records[i].seq - 1, records[i].prev.clone());
            records[i]
                .details
                .insert("covers_seq".into(), seq.to_string());
            records[i].details.insert("covers_hash".into(), prev);
        }
        records[i].hash = records[i].compute_hash().unwrap();
    }
    let rewritten: String = records
        .iter()
        .map(|r| r.to_line().unwrap() + "\n")
        .collect::<Vec<_>>()
        .concat();
    std::fs::write(&stopped.audit_path, &rewritten).unwrap();
    let refused = stopped.start().await;
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("audit") && message.contains("signature"),
        "the issuer started on a rewritten log: {message:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&stopped.audit_path).unwrap(),
        rewritten,
        "nothing appended"
    );
}

/// Issue 12, Build 2: the running service seals its log into chained segments when they are
/// due (here: at every checkpoint, by size), the segments and the live log verify as one
/// chain under the audit key, and the service restarts on a log that continues a sealed one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn the_service_seals_its_log_into_segments_that_verify_as_one_chain() {
    let env = Env::start(|c| c.audit.segment_max_bytes = 1).await;
    env.issue(&claims_with_portrait(1024), &[device_key()])
        .await;
    env.stack.issuer.audit_checkpoint().await.unwrap();
    env.issue(&claims_with_portrait(1024), &[device_key()])
        .await;
    env.stack.issuer.audit_checkpoint().await.unwrap();
    let stopped = env.stop_keeping_state().await;
    let key = stopped.audit_public_key();
    let summary = custody::audit::verify_segments(&stopped.audit_path, &key).unwrap();
    assert!(summary.sealed.len() >= 2, "{summary:?}");
    assert_eq!(summary.first_seq, 1);
    let issued = |events: &[Value]| {
        events
            .iter()
            .filter(|r| r["event"] == "issuer.issue")
            .count()
    };
    let sealed_events: Vec<Value> = summary
        .sealed
        .iter()
        .flat_map(|(s, _)| {
            std::fs::read_to_string(&s.path)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        issued(&sealed_events),
        2,
        "both issuances are in sealed segments"
    );
    // It starts again on the live segment, which continues the sealed ones.
    stopped.start().await.unwrap().stop().await.unwrap();
    custody::audit::verify_segments(&stopped.audit_path, &key).unwrap();
}
