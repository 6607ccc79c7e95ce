//! The OpenAPI document generated from the code (`mdoc_issuer::api::openapi`) against the
//! running issuer.
//!
//! [`Contract::conform`] checks one real response against the document: the operation of its
//! method and path, a documented status for it, a documented content type, and the body
//! against that response's JSON Schema (with `$ref`s resolved into `#/components/schemas`,
//! formats asserted). An unknown route must be the documented 404, a method a path does not
//! list the documented 405. [`Env::send`] applies it to every response of this test binary, so
//! each topic's requests are checked too; the tests here drive every operation and error
//! status on purpose and prove that the check refuses what is not documented.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use jsonschema::{Draft, Validator};

use super::*;

/// The generated document and compiled schemas, shared by every test of the binary.
pub(crate) struct Contract {
    doc: Value,
    compiled: Mutex<HashMap<String, Arc<Validator>>>,
}

/// The HTTP methods an OpenAPI path item may list.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// A concrete request path for a templated one: a well-formed but unknown document id, DS
/// serial and list number, `0` for any other parameter.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|seg| match seg {
            "{id}" => "00000000000000000000000000000000",
            "{serial}" => "01",
            "{n}" => "1",
            s if s.starts_with('{') => "0",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether `path` is an instance of the OpenAPI path `template` (`{x}` = one segment, or
/// the rest of the path when `rest` and it ends the template: axum's catch-all `{*x}`, which
/// the document writes `{x}`).
fn matches_template(template: &str, path: &str, rest: bool) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    let param = |seg: &str| seg.starts_with('{') && seg.ends_with('}');
    let segments = |t: &[&str], p: &[&str]| {
        t.iter()
            .zip(p)
            .all(|(t, p)| (param(t) && !p.is_empty()) || t == p)
    };
    if t.len() == p.len() {
        return segments(&t, &p);
    }
    rest && p.len() > t.len() && t.last().is_some_and(|l| param(l)) && segments(&t, &p[..t.len()])
}

impl Contract {
    pub(crate) fn get() -> &'static Contract {
        static CONTRACT: LazyLock<Contract> = LazyLock::new(|| Contract {
            doc: serde_json::to_value(mdoc_issuer::api::openapi::document()).unwrap(),
            compiled: Mutex::new(HashMap::new()),
        });
        &CONTRACT
    }

    pub(crate) fn doc(&self) -> &Value {
        &self.doc
    }

    /// Every documented (method, path template).
    pub(crate) fn operations(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                if METHODS.contains(&method.as_str()) {
                    out.push((method.clone(), path.clone()));
                }
            }
        }
        out
    }

    /// The documented path template `path` is an instance of; literal paths win over
    /// templated ones.
    fn template_of(&self, path: &str) -> Option<&str> {
        let paths = self.doc["paths"].as_object().unwrap();
        if paths.contains_key(path) {
            return paths.get_key_value(path).map(|(k, _)| k.as_str());
        }
        [false, true].into_iter().find_map(|rest| {
            paths
                .keys()
                .find(|t| matches_template(t, path, rest))
                .map(String::as_str)
        })
    }

    /// Follows a `#/components/...` reference.
    fn resolve<'a>(&'a self, v: &'a Value) -> Result<&'a Value, String> {
        match v.get("$ref").and_then(Value::as_str) {
            None => Ok(v),
            Some(r) => {
                let pointer = r
                    .strip_prefix('#')
                    .ok_or_else(|| format!("non-local $ref {r}"))?;
                self.doc
                    .pointer(pointer)
                    .ok_or_else(|| format!("$ref {r} points nowhere"))
            }
        }
    }

    fn validator(&self, schema: &Value) -> Result<Arc<Validator>, String> {
        let key = schema.to_string();
        let mut cache = self.compiled.lock().unwrap();
        if let Some(v) = cache.get(&key) {
            return Ok(Arc::clone(v));
        }
        // The schema is the root resource and carries the components, so that
        // `#/components/schemas/X` resolves inside it.
        let mut root = schema.clone();
        let obj = root
            .as_object_mut()
            .ok_or_else(|| format!("schema is not an object: {schema}"))?;
        obj.insert("components".into(), self.doc["components"].clone());
        let v = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("schema does not compile ({e}): {schema}"))?;
        let v = Arc::new(v);
        cache.insert(key, Arc::clone(&v));
        Ok(v)
    }

    /// Checks a body against a (resolved) response object.
    fn body_conforms(&self, response: &Value, resp: &Resp, head: bool) -> Result<(), String> {
        let response = self.resolve(response)?;
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return if resp.body.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "documented without a body, answered {} bytes",
                    resp.body.len()
                ))
            };
        };
        let got = resp.header("content-type").unwrap_or_default();
        let base = |m: &str| {
            m.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        };
        let (media, content) = content
            .iter()
            .find(|(m, _)| m.eq_ignore_ascii_case(&got))
            .or_else(|| content.iter().find(|(m, _)| base(m) == base(&got)))
            .ok_or_else(|| {
                format!(
                    "Content-Type {got:?} not documented (documented: {:?})",
                    content.keys().collect::<Vec<_>>()
                )
            })?;
        if head {
            return Ok(());
        }
        let Some(schema) = content.get("schema") else {
            return Ok(());
        };
        if base(media) != "application/json" {
            return Ok(());
        }
        let body: Value = serde_json::from_slice(&resp.body)
            .map_err(|e| format!("{media} body is not JSON ({e}): {}", resp.text()))?;
        let validator = self.validator(schema)?;
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "body does not match the schema {schema}: {errors:?}; body: {body}"
            ))
        }
    }

    /// Checks the real response `resp` to `method path` against the document.
    pub(crate) fn conform(&self, method: &str, path: &str, resp: &Resp) -> Result<(), String> {
        let status = resp.status.as_u16().to_string();
        let components = &self.doc["components"]["responses"];
        let fail = |e: String| Err(format!("{method} {path} → {status}: {e}"));
        let Some(template) = self.template_of(path) else {
            if status != "404" {
                return fail("undocumented route not answered 404".into());
            }
            return self
                .body_conforms(&components["NotFound"], resp, false)
                .or_else(fail);
        };
        let method = method.to_ascii_lowercase();
        let item = &self.doc["paths"][template];
        // HEAD is answered by the GET operation, without a body.
        let (op, head) = match (item.get(method.as_str()), method.as_str()) {
            (Some(op), _) => (op, false),
            (None, "head") if item.get("get").is_some() => (&item["get"], true),
            (None, _) => {
                if status != "405" {
                    return fail(format!("method not documented for {template}, not 405"));
                }
                return self
                    .body_conforms(&components["MethodNotAllowed"], resp, false)
                    .or_else(fail);
            }
        };
        let Some(response) = op["responses"].get(status.as_str()) else {
            return fail(format!(
                "status not documented for {method} {template} (documented: {:?})",
                op["responses"]
                    .as_object()
                    .map(|r| r.keys().collect::<Vec<_>>())
            ));
        };
        self.body_conforms(response, resp, head).or_else(fail)
    }
}

/// A fabricated answer, to prove the contract refuses what is not documented.
fn fake(status: u16, content_type: &str, body: &str) -> Resp {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", content_type.parse().unwrap());
    Resp {
        status: StatusCode::from_u16(status).unwrap(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

/// The check is not vacuous: undocumented statuses, routes, methods, content types and
/// shapes are refused, and documented ones pass.
#[test]
fn the_contract_refuses_what_is_not_documented() {
    let c = Contract::get();
    let json = "application/json";
    let ok = |m: &str, p: &str, r: Resp| {
        c.conform(m, p, &r)
            .unwrap_or_else(|e| panic!("refused a documented answer: {e}"))
    };
    let bad = |m: &str, p: &str, r: Resp, why: &str| {
        assert!(c.conform(m, p, &r).is_err(), "accepted {why}");
    };
    ok("GET", "/healthz", fake(200, json, r#"{"status":"ok"}"#));
    bad(
        "GET",
        "/healthz",
        fake(418, json, r#"{"status":"ok"}"#),
        "a status not documented",
    );
    bad(
        "GET",
        "/healthz",
        fake(200, json, r#"{"status":"fine"}"#),
        "a value not in the enum",
    );
    bad(
        "GET",
        "/healthz",
        fake(200, json, r#"{"status":"ok","x":1}"#),
        "an extra member",
    );
    bad(
        "GET",
        "/healthz",
        fake(200, "text/html", "<p>ok</p>"),
        "an undocumented media type",
    );
    bad(
        "GET",
        "/no/such/route",
        fake(200, json, "{}"),
        "an undocumented route",
    );
    ok(
        "GET",
        "/no/such/route",
        fake(
            404,
            json,
            r#"{"error":{"code":"not_found","message":"no such route"}}"#,
        ),
    );
    ok(
        "DELETE",
        "/healthz",
        fake(
            405,
            json,
            r#"{"error":{"code":"method_not_allowed","message":"m"}}"#,
        ),
    );
    bad(
        "DELETE",
        "/healthz",
        fake(200, json, r#"{"status":"ok"}"#),
        "an undocumented method not answered 405",
    );
    // An error code the status does not document.
    bad(
        "POST",
        "/v1/nonces",
        fake(401, json, r#"{"error":{"code":"not_found","message":"m"}}"#),
        "401 with code not_found",
    );
    ok(
        "POST",
        "/v1/nonces",
        fake(
            401,
            json,
            r#"{"error":{"code":"unauthorized","message":"m"}}"#,
        ),
    );
    // A credential missing its identifier-list entry; dates and patterns are asserted.
    let doc_id = "0123456789abcdef0123456789abcdef";
    let credential = json!({
        "issuer_signed": "o2Zmb28", "ds_serial": "0a1b",
        "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z",
        "status_list": {"uri": "https://i.example/v1/status-lists/1", "idx": 3},
        "identifier_list": {"uri": "https://i.example/v1/identifier-list", "id": "abc"}
    });
    let issued =
        |c: Value| json!({"document_id": doc_id, "doctype": MDL, "credentials": [c]}).to_string();
    ok(
        "POST",
        "/v1/documents",
        fake(201, json, &issued(credential.clone())),
    );
    let mut missing = credential.clone();
    missing.as_object_mut().unwrap().remove("identifier_list");
    bad(
        "POST",
        "/v1/documents",
        fake(201, json, &issued(missing)),
        "a missing member",
    );
    let mut date = credential.clone();
    date["valid_from"] = json!("yesterday");
    bad(
        "POST",
        "/v1/documents",
        fake(201, json, &issued(date)),
        "a malformed date-time",
    );
    let mut serial = credential;
    serial["ds_serial"] = json!("0A1B");
    bad(
        "POST",
        "/v1/documents",
        fake(201, json, &issued(serial)),
        "a serial off its pattern",
    );
    bad(
        "POST",
        "/v1/documents",
        fake(200, json, &issued(json!({}))),
        "200 for an issuance",
    );
}

/// Every `$ref` of the document resolves, every operation has an id and a tag that the
/// document describes.
#[test]
fn the_document_is_closed() {
    let c = Contract::get();
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(c.doc(), &mut all);
    assert!(all.len() > 30, "{all:?}");
    for r in all {
        assert!(
            c.resolve(&json!({ "$ref": r })).is_ok(),
            "{r} does not resolve"
        );
    }
    let tags: BTreeSet<&str> = c.doc()["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut ids = BTreeSet::new();
    for (method, path) in c.operations() {
        let op = &c.doc()["paths"][&path][&method];
        let id = op["operationId"].as_str().expect("operationId");
        assert!(ids.insert(id.to_owned()), "operationId {id} twice");
        let op_tags = op["tags"].as_array().expect("tags");
        assert!(!op_tags.is_empty(), "{method} {path} has no tag");
        for t in op_tags {
            assert!(
                tags.contains(t.as_str().unwrap()),
                "{method} {path}: tag {t}"
            );
        }
        assert!(op["summary"].is_string(), "{method} {path} has no summary");
    }
    // Every error code the service can answer with is documented, once.
    let codes = c.doc()["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("ErrorCode enum");
    assert!(codes.len() >= 20, "{codes:?}");
}

/// The scopes each operation documents are the ones the server enforces: with a client
/// holding one scope only, an operation needing another is 403 `insufficient_scope` and one
/// it holds is not refused for scope; without a token every authenticated operation is 401.
async fn documented_scopes_are_enforced(env: &Env) {
    let c = Contract::get();
    let tokens = [
        (
            Scope::Issue,
            env.client("only-issue", &[Scope::Issue]).await,
        ),
        (
            Scope::Revoke,
            env.client("only-revoke", &[Scope::Revoke]).await,
        ),
        (
            Scope::Admin,
            env.client("only-admin", &[Scope::Admin]).await,
        ),
    ];
    let mut checked = 0;
    for (method, path) in c.operations() {
        let op = &c.doc()["paths"][&path][&method];
        // Operations under the API clients' bearer scheme (others, if any, have their own).
        let Some(security) = op["security"].as_array().filter(|s| !s.is_empty()) else {
            continue;
        };
        if !security.iter().all(|req| req.get("bearer").is_some()) {
            continue;
        }
        let allowed: BTreeSet<&str> = security
            .iter()
            .flat_map(|req| req["bearer"].as_array().unwrap().iter())
            .map(|s| s.as_str().unwrap())
            .collect();
        let request = |token: Option<&str>| {
            let rb = env.http.request(
                method.to_uppercase().parse().unwrap(),
                env.url(&concrete(&path)),
            );
            match token {
                Some(t) => rb.bearer_auth(t),
                None => rb,
            }
        };
        let r = env.send(request(None)).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a token"
        );
        for (scope, token) in &tokens {
            let r = env.send(request(Some(token))).await;
            if allowed.contains(scope.as_str()) {
                assert!(
                    r.status != StatusCode::FORBIDDEN && r.status != StatusCode::UNAUTHORIZED,
                    "{method} {path} documents scope {scope:?} but refused it: {}",
                    r.text()
                );
            } else {
                assert_eq!(
                    (r.status, r.json()["error"]["code"].clone()),
                    (StatusCode::FORBIDDEN, json!("insufficient_scope")),
                    "{method} {path} does not document scope {scope:?}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 27, "{checked} scope checks");
}

/// Every documented operation is served (neither the 404 fallback nor 405), every other
/// method on a documented path is 405, an unknown path is 404, and the routes the server
/// counted in its metrics are all documented.
async fn routes_are_the_documented_ones(env: &Env) {
    let c = Contract::get();
    let ops = c.operations();
    assert!(ops.len() >= 15, "{ops:?}");
    let paths: BTreeSet<&str> = ops.iter().map(|(_, p)| p.as_str()).collect();
    for path in &paths {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            let documented = ops
                .iter()
                .any(|(m, p)| p == path && m.eq_ignore_ascii_case(method));
            let r = env
                .send(
                    env.http
                        .request(method.parse().unwrap(), env.url(&concrete(path)))
                        .bearer_auth(&env.token),
                )
                .await;
            if documented {
                assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                if r.status == StatusCode::NOT_FOUND {
                    assert_ne!(
                        r.json()["error"]["message"],
                        "no such route",
                        "{method} {path}"
                    );
                }
            } else {
                assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                assert_eq!(r.json()["error"]["code"], "method_not_allowed");
            }
        }
    }
    let r = env
        .send(env.get("/v1/no-such-route", Some(&env.token)))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["message"], "no such route");
    // The router's matched routes, as counted by the metrics middleware.
    let m = env.send(env.get("/metrics", None)).await.text();
    let served: BTreeSet<String> = m
        .lines()
        .filter(|l| l.starts_with("mdoc_issuer_http_requests_total{"))
        .filter_map(|l| {
            l.split("route=\"")
                .nth(1)?
                .split('"')
                .next()
                .map(str::to_owned)
        })
        .filter(|r| r != "unmatched")
        // axum's catch-all `{*x}` is the document's `{x}`.
        .map(|r| r.replace("{*", "{"))
        .collect();
    let documented: BTreeSet<String> = paths.iter().map(|p| (*p).to_owned()).collect();
    assert_eq!(served, documented, "routes served vs documented");
}

/// Drives every operation through its success and error statuses; [`Env::send`] checks each
/// answer against the document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn real_responses_match_the_generated_document() {
    let env = Env::start(|c| c.server.max_body_bytes = 64 * 1024).await;
    let t = Some(env.token.as_str());
    let admin = env.client("ops", &[Scope::Admin]).await;
    let status = |r: &Resp| r.status.as_u16();

    // The document served is the one generated from the code.
    let r = env.send(env.get("/openapi.json", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), *Contract::get().doc());
    assert!(r.json()["openapi"].as_str().unwrap().starts_with("3.1"));

    routes_are_the_documented_ones(&env).await;
    documented_scopes_are_enforced(&env).await;

    // Operations.
    assert_eq!(status(&env.send(env.get("/healthz", None)).await), 200);
    assert_eq!(status(&env.send(env.get("/readyz", None)).await), 200);

    // Issue, batch, replay, get, refresh.
    let claims = claims_with_portrait(1024);
    let (k1, k2, k3) = (device_key(), device_key(), device_key());
    let nonce = env.nonce().await;
    let body = env.issue_body(&claims, &nonce, std::slice::from_ref(&k1));
    let issue = || {
        env.post_json("/v1/documents", t, &body)
            .header("Idempotency-Key", "k-1")
    };
    let first = env.send(issue()).await;
    assert_eq!(status(&first), 201, "{}", first.text());
    let again = env.send(issue()).await;
    assert_eq!(status(&again), 201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    let id = first.json()["document_id"].as_str().unwrap().to_owned();
    let batch = env.issue(&claims, &[k2.clone(), k3.clone()]).await;
    assert_eq!(batch.credentials.len(), 2);
    let r = env.send(env.get(&format!("/v1/documents/{id}"), t)).await;
    assert_eq!(status(&r), 200);
    let nonce = env.nonce().await;
    let refresh = format!("/v1/documents/{id}/refresh");
    let r = env
        .send(env.post_json(
            &refresh,
            t,
            &env.refresh_body(&claims, &nonce, std::slice::from_ref(&k1)),
        ))
        .await;
    assert_eq!(status(&r), 200, "{}", r.text());

    // Lists: a token, then 304 for its ETag, 404 for an unknown list.
    let r = env.send(env.get("/v1/status-lists/1", None)).await;
    assert_eq!(status(&r), 200);
    let etag = r.header("etag").unwrap();
    let r = env
        .send(
            env.get("/v1/status-lists/1", None)
                .header("If-None-Match", &etag),
        )
        .await;
    assert_eq!(status(&r), 304);
    assert_eq!(
        status(&env.send(env.get("/v1/status-lists/999", None)).await),
        404
    );
    assert_eq!(
        status(&env.send(env.get("/v1/identifier-list", None)).await),
        200
    );

    // Errors: 400, 401, 403, 404, 405, 409, 413, 415, 422.
    let cases: Vec<(u16, &str, RequestBuilder)> = vec![
        (
            400,
            "malformed_request",
            env.post_raw("/v1/documents", t, "application/json", b"{".to_vec()),
        ),
        (
            400,
            "malformed_request",
            env.http
                .post(env.url("/v1/ds/xyz/revoke"))
                .bearer_auth(&admin),
        ),
        (401, "unauthorized", env.http.post(env.url("/v1/nonces"))),
        (
            401,
            "unauthorized",
            env.http
                .post(env.url("/v1/nonces"))
                .bearer_auth("mdi_wrong"),
        ),
        (
            403,
            "insufficient_scope",
            env.http.post(env.url("/v1/nonces")).bearer_auth(&admin),
        ),
        (
            404,
            "not_found",
            env.get("/v1/documents/00000000000000000000000000000000", t),
        ),
        (404, "not_found", env.get("/v1/documents/not-hex", t)),
        (404, "not_found", env.get("/v2/documents", t)),
        (
            405,
            "method_not_allowed",
            env.http.delete(env.url(&format!("/v1/documents/{id}"))),
        ),
        (405, "method_not_allowed", env.get("/v1/nonces", t)),
        (409, "idempotency_conflict", {
            // The same key for another request.
            let nonce = env.nonce().await;
            let other = env.issue_body(&claims, &nonce, &[device_key()]);
            env.post_json("/v1/documents", t, &other)
                .header("Idempotency-Key", "k-1")
        }),
        (
            413,
            "body_too_large",
            env.post_raw(
                "/v1/documents",
                t,
                "application/json",
                vec![b' '; 65 * 1024],
            ),
        ),
        (
            415,
            "unsupported_media_type",
            env.post_raw("/v1/documents", t, "text/plain", b"{}".to_vec()),
        ),
        (
            422,
            "invalid_nonce",
            env.post_json(
                "/v1/documents",
                t,
                &env.issue_body(&claims, "forged", &[device_key()]),
            ),
        ),
        (422, "validation_failed", {
            let nonce = env.nonce().await;
            let mut bad = claims.clone();
            bad[MDL_NS]["birth_date"] = json!("1990-02-30");
            env.post_json(
                "/v1/documents",
                t,
                &env.issue_body(&bad, &nonce, &[device_key()]),
            )
        }),
    ];
    for (want, code, rb) in cases {
        let r = env.send(rb).await;
        assert_eq!(
            (status(&r), r.json()["error"]["code"].clone()),
            (want, json!(code)),
            "{}",
            r.text()
        );
    }
    // 409 of an issuance: a device key bound to another document.
    let nonce = env.nonce().await;
    let r = env
        .send(env.post_json(
            "/v1/documents",
            t,
            &env.issue_body(&claims, &nonce, std::slice::from_ref(&k2)),
        ))
        .await;
    assert_eq!(
        (status(&r), r.json()["error"]["code"].clone()),
        (409, json!("device_key_in_use"))
    );

    // Revocation: with a reason, then again without a body; a revoked document cannot be
    // refreshed (409) and shows its revocation.
    let revoke = format!("/v1/documents/{id}/revoke");
    let r = env
        .send(env.post_json(&revoke, t, &json!({"reason": "holder_request"})))
        .await;
    assert_eq!(
        (status(&r), r.json()["changed"].clone()),
        (200, json!(true))
    );
    let r = env
        .send(env.http.post(env.url(&revoke)).bearer_auth(&env.token))
        .await;
    assert_eq!(
        (status(&r), r.json()["changed"].clone()),
        (200, json!(false))
    );
    let r = env
        .send(env.post_json(&revoke, t, &json!({"reason": "ds_revoked"})))
        .await;
    assert_eq!(status(&r), 400);
    let r = env.send(env.get(&format!("/v1/documents/{id}"), t)).await;
    assert_eq!(r.json()["revocation_reason"], "holder_request");
    let nonce = env.nonce().await;
    let r = env
        .send(env.post_json(
            &refresh,
            t,
            &env.refresh_body(&claims, &nonce, &[device_key()]),
        ))
        .await;
    assert_eq!(
        (status(&r), r.json()["error"]["code"].clone()),
        (409, json!("document_revoked"))
    );

    // Administration: state, the emergency stop (issuance 503), resume.
    let a = Some(admin.as_str());
    assert_eq!(
        status(&env.send(env.get("/v1/admin/issuance", a)).await),
        200
    );
    let r = env
        .send(env.post_json("/v1/admin/issuance/suspend", a, &json!({"reason": "drill"})))
        .await;
    assert_eq!(
        (status(&r), r.json()["suspended"].clone()),
        (200, json!(true))
    );
    let nonce = env.nonce().await;
    let r = env
        .send(env.post_json(
            "/v1/documents",
            t,
            &env.issue_body(&claims, &nonce, &[device_key()]),
        ))
        .await;
    assert_eq!(
        (status(&r), r.json()["error"]["code"].clone()),
        (503, json!("issuance_suspended"))
    );
    let r = env
        .send(
            env.http
                .post(env.url("/v1/admin/issuance/resume"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(
        (status(&r), r.json()["suspended"].clone()),
        (200, json!(false))
    );

    // OpenID4VCI: a portal offer (made, read, withdrawn, then no longer withdrawable), the
    // wallet's metadata and nonce, and OAuth errors of the token and credential endpoints.
    let r = env
        .send(env.post_json("/v1/offers", t, &json!({"doctype": MDL, "claims": claims})))
        .await;
    assert_eq!(status(&r), 201, "{}", r.text());
    let offer = format!("/v1/offers/{}", r.json()["offer_id"].as_str().unwrap());
    assert_eq!(status(&env.send(env.get(&offer, t)).await), 200);
    let withdraw = || env.http.delete(env.url(&offer)).bearer_auth(&env.token);
    assert_eq!(status(&env.send(withdraw()).await), 200);
    let r = env.send(withdraw()).await;
    assert_eq!(
        (status(&r), r.json()["error"]["code"].clone()),
        (409, json!("offer_state"))
    );
    for path in [
        "/.well-known/openid-credential-issuer",
        "/.well-known/openid-credential-issuer/a/b",
        "/.well-known/oauth-authorization-server",
    ] {
        assert_eq!(status(&env.send(env.get(path, None)).await), 200, "{path}");
    }
    assert_eq!(
        status(&env.send(env.http.post(env.url("/oid4vci/nonce"))).await),
        200
    );
    let r = env
        .send(env.post_raw("/oid4vci/token", None, "application/json", b"{}".to_vec()))
        .await;
    assert_eq!(
        (status(&r), r.json()["error"].clone()),
        (400, json!("invalid_request"))
    );
    let r = env
        .send(env.post_json("/oid4vci/credential", None, &json!({})))
        .await;
    assert_eq!(
        (status(&r), r.json()["error"].clone()),
        (401, json!("invalid_token"))
    );
    assert_eq!(
        status(&env.send(env.get("/oid4vci/offers/unknown", None)).await),
        404
    );

    // A DS revocation: every document it signed is revoked.
    let serial = batch.credentials[0].ds_serial.clone();
    let r = env
        .send(
            env.http
                .post(env.url(&format!("/v1/ds/{serial}/revoke")))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(status(&r), 200, "{}", r.text());
    assert!(r.json()["documents_revoked"].as_u64().unwrap() >= 1);
    assert_eq!(status(&env.send(env.get("/readyz", None)).await), 503);

    // Metrics last, so it has counted everything above.
    let r = env.send(env.get("/metrics", None)).await;
    assert_eq!(status(&r), 200);
}

/// An independent check of the generated document: the PyPI package openapi-spec-validator
/// (pinned in tests/interop/requirements.txt, installed by scripts/python-venv.sh) validates it
/// as OpenAPI 3.1, including that every `$ref` resolves.
#[test]
#[ignore = "needs MDOC_PYTHON with openapi-spec-validator (scripts/python-venv.sh)"]
fn openapi_spec_validator_accepts_the_document() {
    let python = test_kit::interop::python();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, mdoc_issuer::api::openapi::json().unwrap()).unwrap();
    let script = r#"
import json, sys
import openapi_spec_validator
from openapi_spec_validator import validate
from openapi_spec_validator.versions import consts, get_spec_version
assert openapi_spec_validator.__version__ == "0.9.0", openapi_spec_validator.__version__
spec = json.load(open(sys.argv[1]))
print(get_spec_version(spec))
validate(spec)
print("valid")
"#;
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("valid"),
        "openapi-spec-validator refused the document:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("3.1"), "{stdout}");
}
