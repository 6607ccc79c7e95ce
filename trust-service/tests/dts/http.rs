//! The site over a real HTTP server on loopback: artifacts at their URLs, caching done right,
//! CORS, odd requests, the admin upload, readiness, metrics, the VICAL and the export tree.

use std::collections::BTreeMap;
use std::sync::Arc;

use mdoc_dts::http::{serve, App, Routes};
use mdoc_dts::Dts;
use mso::crypto::SoftwareVerifier;
use mso::vical::VerifiedVical;
use mso::x509::{Certificate, TrustAnchors};
use reqwest::header;
use serde_json::Value;

use crate::fixture::*;

/// A running server for `dts` at `http://127.0.0.1:PORT`.
pub struct Server {
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub async fn start(dts: Arc<Dts>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    start_on(listener, dts)
}

pub fn start_on(listener: tokio::net::TcpListener, dts: Arc<Dts>) -> Server {
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, App::new(dts, Routes::All), async {
        let _ = rx.await;
    }));
    Server {
        base,
        stop: Some(tx),
    }
}

/// A DTS whose public URL is the server's own address, with `root` (whose CRL URL is under that
/// address) ingested with a three-day series.
async fn served_root() -> (Env, Server, Root) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = format!("http://{}", listener.local_addr().unwrap());
    let root = Root::new(&public, "iaca-2026");
    let env = Env::new(&public, &[&root.fp]).await;
    let bundle = BundleDir::new()
        .file("iaca/01.der", &root.der)
        .file("crl/00000001.crl", &root.crl(1, T0, &[]))
        .file("crl/00000002.crl", &root.crl(2, T0 + DAY, &[]))
        .file("crl/00000003.crl", &root.crl(3, T0 + 2 * DAY, &[]));
    env.ingest(&bundle).await.unwrap();
    let server = start_on(listener, env.dts.clone());
    (env, server, root)
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn index(base: &str) -> Value {
    let r = client()
        .get(format!("{base}/index.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
}

#[tokio::test]
async fn every_artifact_is_at_its_url_with_its_media_type_and_digest() {
    let (_env, server, root) = served_root().await;
    let idx = index(&server.base).await;
    assert_eq!(idx["format"], "mdoc-dts-index/1");
    assert_eq!(idx["roots"][0]["fingerprint"], root.fp.as_str());
    assert_eq!(idx["roots"][0]["crl_url"], root.cdp.as_str());
    // Every URL in the index answers with the bytes its digest names.
    let mut urls = vec![
        (idx["roots"][0]["der"].clone(), "application/pkix-cert"),
        (idx["roots"][0]["pem"].clone(), "application/x-pem-file"),
        (idx["crls"][0].clone(), "application/pkix-crl"),
        (
            idx["vical"].clone(),
            "application/cose; cose-type=\"cose-sign1\"",
        ),
    ];
    for (entry, media) in urls.drain(..) {
        let url = entry["url"].as_str().unwrap();
        let r = client().get(url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        assert_eq!(r.headers()[header::CONTENT_TYPE], media, "{url}");
        let body = r.bytes().await.unwrap();
        assert_eq!(
            sha256_hex(&body),
            entry["sha256"].as_str().unwrap(),
            "{url}"
        );
        assert_eq!(body.len() as u64, entry["size"].as_u64().unwrap());
    }
    // The root's DER is the root, at its fingerprint.
    let der = client()
        .get(format!("{}/roots/{}.der", server.base, root.fp))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(der.as_ref(), root.der.as_slice());
    // The CRL is served at exactly the URL the CA wrote into the certificates.
    let crl = client().get(&root.cdp).send().await.unwrap();
    assert_eq!(crl.status(), 200);
    assert_eq!(
        crl.bytes().await.unwrap().as_ref(),
        root.crl(1, T0, &[]).as_slice()
    );
    let page = client()
        .get(format!("{}/", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let html = page.text().await.unwrap();
    let colon: Vec<String> = root
        .fp
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect();
    assert!(html.contains(&colon.join(":")), "{html}");
}

#[tokio::test]
async fn caching_etags_conditional_requests_and_head() {
    let (env, server, root) = served_root().await;
    env.set_time(T0 + DAY / 2);
    let c = client();
    let r = c.get(&root.cdp).send().await.unwrap();
    let etag = r.headers()[header::ETAG].to_str().unwrap().to_owned();
    let last_modified = r.headers()[header::LAST_MODIFIED]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong: {etag}"
    );
    // Until the next CRL of the series takes over (12 h), capped at the configured hour.
    assert_eq!(
        r.headers()[header::CACHE_CONTROL],
        "public, max-age=3600, must-revalidate"
    );
    env.set_time(T0 + DAY - time::Duration::seconds(100));
    let r = c.get(&root.cdp).send().await.unwrap();
    assert_eq!(
        r.headers()[header::CACHE_CONTROL],
        "public, max-age=100, must-revalidate",
        "a cache never keeps a CRL past the moment the next one is served"
    );
    assert_eq!(r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert!(r.headers()[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .unwrap()
        .contains("ETag"));
    assert_eq!(last_modified, "Mon, 01 Jun 2026 00:00:00 GMT");

    let r = c
        .get(&root.cdp)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    assert_eq!(r.headers()[header::ETAG], etag.as_str());
    assert!(r.bytes().await.unwrap().is_empty());
    let r = c
        .get(&root.cdp)
        .header(header::IF_NONE_MATCH, "\"something-else\"")
        .header(header::IF_MODIFIED_SINCE, &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "If-None-Match wins over If-Modified-Since");
    let r = c
        .get(&root.cdp)
        .header(header::IF_MODIFIED_SINCE, &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let r = c
        .get(&root.cdp)
        .header(header::IF_MODIFIED_SINCE, "Sun, 31 May 2026 00:00:00 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let head = c.head(&root.cdp).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()[header::ETAG], etag.as_str());
    let len: usize = head.headers()[header::CONTENT_LENGTH]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(len, root.crl(1, T0, &[]).len());
    assert!(head.bytes().await.unwrap().is_empty());

    // Certificates by fingerprint never change.
    let r = c
        .get(format!("{}/roots/{}.der", server.base, root.fp))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    // The next day the ETag changes with the CRL.
    env.set_time(T0 + DAY);
    env.dts.refresh().await.unwrap();
    let r = c
        .get(&root.cdp)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_ne!(r.headers()[header::ETAG], etag.as_str());
}

#[tokio::test]
async fn odd_requests_get_a_4xx_never_a_5xx() {
    let (_env, server, root) = served_root().await;
    let c = client();
    for path in [
        "/nope",
        "/roots/",
        "/roots/../index.json.bak",
        "/crl/other.crl",
        "/admin",
    ] {
        let r = c
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let r = c.post(&root.cdp).body("x").send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()[header::ALLOW], "GET, HEAD, OPTIONS");
    let r = c
        .request(reqwest::Method::OPTIONS, &root.cdp)
        .header("Origin", "https://verifier.example")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let r = c
        .request(reqwest::Method::from_bytes(b"PROPFIND").unwrap(), &root.cdp)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = c
        .get(&root.cdp)
        .header("X-Huge", "a".repeat(512 * 1024))
        .send()
        .await;
    // hyper refuses an oversized head with 431 (or closes the connection).
    if let Ok(r) = r {
        assert_eq!(r.status(), 431);
    }
    // The server still answers.
    assert_eq!(c.get(&root.cdp).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_admin_upload_ingests_a_tar_for_a_valid_token_only() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = format!("http://{}", listener.local_addr().unwrap());
    let root = Root::new(&public, "iaca");
    let env = Env::new(&public, &[&root.fp]).await;
    let server = start_on(listener, env.dts.clone());
    let url = format!("{}/admin/bundles", server.base);
    let bundle = BundleDir::new()
        .file("iaca/01.der", &root.der)
        .file("crl/00000001.crl", &root.crl(1, T0, &[]));
    let c = client();
    let r = c.post(&url).body(bundle.tar()).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .post(&url)
        .bearer_auth("wrong-token")
        .body(bundle.tar())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(env.dts.store().state().await.unwrap().roots.is_empty());
    let bad = BundleDir::new().file("iaca/01.der", &root.ds());
    let r = c
        .post(&url)
        .bearer_auth(ADMIN_TOKEN)
        .body(bad.tar())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(body["code"], "document_signer_certificate");
    let r = c
        .post(&url)
        .bearer_auth(ADMIN_TOKEN)
        .body(b"garbage, not a tar".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = c
        .post(&url)
        .bearer_auth(ADMIN_TOKEN)
        .body(bundle.tar())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(c.get(&root.cdp).send().await.unwrap().status(), 200);
    let log = env.audit_log();
    assert!(log.contains("admin-api") && log.contains("document_signer_certificate"));
}

#[tokio::test]
async fn readiness_fails_while_a_served_crl_is_past_its_next_update() {
    let (env, server, _root) = served_root().await;
    let c = client();
    let ready = |t| {
        env.set_time(t);
        let c = c.clone();
        let url = format!("{}/readyz", server.base);
        async move { c.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(ready(T0 + DAY / 2).await, 200);
    // The last CRL (thisUpdate day 2) runs out at day 5.
    env.set_time(T0 + 5 * DAY + time::Duration::SECOND);
    env.dts.refresh().await.unwrap();
    assert_eq!(ready(T0 + 5 * DAY + time::Duration::SECOND).await, 503);
    let metrics = c
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("dts_crl_seconds_to_next_update{root="),
        "{metrics}"
    );
    assert!(metrics.contains("dts_crl_reserve_alarm{root="), "{metrics}");
    assert!(
        metrics.contains("dts_ingests_total{outcome=\"accepted\"} 1"),
        "{metrics}"
    );
    let alarm_line = metrics
        .lines()
        .find(|l| l.starts_with("dts_crl_reserve_alarm{"))
        .unwrap();
    assert!(alarm_line.ends_with(" 1"), "{alarm_line}");
}

#[tokio::test]
async fn the_vical_lists_the_published_roots_and_verifies_under_the_vical_anchor() {
    let (env, server, root) = served_root().await;
    let bytes = client()
        .get(format!("{}/vical.cbor", server.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let anchors = TrustAnchors::new(vec![Certificate::from_der(&env.vical.root_der).unwrap()]);
    let v = VerifiedVical::verify(&bytes, T0 + DAY, &anchors, &SoftwareVerifier).unwrap();
    assert!(v.warnings().is_empty(), "{:?}", v.warnings());
    assert_eq!(v.provider(), "Test DTS");
    assert_eq!(v.issue_id(), Some(1));
    let listed: Vec<&[u8]> = v.entries().iter().map(|e| e.certificate.der()).collect();
    assert_eq!(listed, [root.der.as_slice()]);
    assert_eq!(
        v.url(),
        Some(format!("{}/vical.cbor", server.base).as_str())
    );
    // Half-way through its validity a new list is signed.
    env.set_time(T0 + 16 * DAY);
    env.dts.refresh().await.unwrap();
    let state = env.dts.store().state().await.unwrap();
    assert_eq!(state.vical.unwrap().issue_id, 2);
}

#[tokio::test]
async fn the_export_tree_is_byte_identical_to_what_is_served() {
    let (env, server, _root) = served_root().await;
    env.set_time(T0 + DAY + time::Duration::hours(3));
    env.dts.refresh().await.unwrap();
    let dir = env.path("export");
    let (site, _) = env.dts.build_site(env.dts.now()).await.unwrap();
    let n = mdoc_dts::export::export(&site, &dir, env.dts.now(), 3600).unwrap();
    assert!(n >= 6, "{n}");
    let mut compared = BTreeMap::new();
    for path in site.paths() {
        let response = client()
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        // The export tells a static server to send exactly the headers the DTS sends.
        let resource = &site.resources[path];
        for (name, value) in mdoc_dts::export::headers_for(resource, env.dts.now(), 3600) {
            assert_eq!(response.headers()[&name], value.as_str(), "{path} {name}");
        }
        let served = response.bytes().await.unwrap();
        let file = std::fs::read(mdoc_dts::export::file_for(&dir, path)).unwrap();
        assert_eq!(file, served.as_ref(), "{path}");
        compared.insert(path.to_owned(), file.len());
    }
    assert!(compared.keys().any(|p| p.ends_with(".crl")));
    let headers = std::fs::read_to_string(dir.join("_headers")).unwrap();
    assert!(headers.contains("application/pkix-crl") && headers.contains("immutable"));
    let nginx = std::fs::read_to_string(dir.join("_nginx.conf")).unwrap();
    assert!(nginx.contains("location = /index.json"));
    // An export never overwrites.
    assert!(mdoc_dts::export::export(&site, &dir, env.dts.now(), 3600).is_err());
}
