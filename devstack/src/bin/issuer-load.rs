//! `issuer-load`: sustained issuance throughput and latency of `mdoc-issuer` over real HTTP on
//! loopback, with the raw signing rate of the same key type measured in the same run.
//!
//! ```text
//! cargo run --release -p devstack --bin issuer-load -- --database sqlite
//! cargo run --release -p devstack --bin issuer-load -- --database postgres
//! ```
//!
//! `--flow v1` (the default): each request is a complete `POST /v1/documents`: a 12-element
//! mDL with a 20 KB portrait, one device key with its proof of possession, an
//! `Idempotency-Key`, bearer authentication. The server validates the claims, checks the nonce
//! and proof (an ECDSA verify), signs the MSO (an ECDSA sign), writes the audit record and
//! commits the document. The wallet side — fetching nonces and signing proofs — is prepared
//! before the clock starts, because on a real deployment it runs on phones, not on the
//! issuer's cores.
//!
//! `--flow oid4vci`: each timed issuance is what a wallet does with a credential offer the
//! portal made beforehand (same record, transaction code): `POST /oid4vci/token` (the
//! pre-authorized code and transaction code; DPoP-bound with `--dpop`), `POST /oid4vci/nonce`,
//! a key proof over the `c_nonce` (signed with aws-lc, about 20 µs, inside the clock), `POST
//! /oid4vci/credential`; the latency is that of all three requests. `--flow both` runs the two
//! in one process against one issuer, for the ratio.
//!
//! Client and server share this machine's cores, so the figures are a lower bound for the
//! server alone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use devstack::sample::{mdl_claims, MDL};
use devstack::{wallet, DevStack, Result, StackOptions};
use mdoc_issuer::pop::make_proof;
use mdoc_issuer::store::Scope;
use mso::crypto::AwsLcSigner;
use mso::crypto::{Algorithm, Signer, SoftwareKey};
use rand_core::{OsRng, RngCore};
use sqlx::Connection;
use time::OffsetDateTime;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Flow {
    V1,
    Oid4vci,
    Both,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Database {
    Sqlite,
    Postgres,
}

#[derive(Parser)]
#[command(
    name = "issuer-load",
    about = "Load benchmark of the mdoc issuer over loopback HTTP"
)]
struct Args {
    /// Which database backs the issuer.
    #[arg(long, value_enum, default_value = "sqlite")]
    database: Database,
    /// PostgreSQL server (a fresh schema is created and dropped).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres_url: String,
    /// Timed requests per round.
    #[arg(long, default_value_t = 8_000)]
    requests: usize,
    /// Timed rounds (the machine is shared: report each and the median).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Untimed warm-up requests.
    #[arg(long, default_value_t = 1_000)]
    warmup: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Send no `Idempotency-Key` (the stored, sealed response is most of the write volume).
    #[arg(long)]
    no_idempotency_key: bool,
    /// Which issuance flow to drive.
    #[arg(long, value_enum, default_value = "v1")]
    flow: Flow,
    /// OpenID4VCI flow: DPoP-bound access tokens (a DPoP proof on the token and credential
    /// requests).
    #[arg(long)]
    dpop: bool,
}

struct Prepared {
    nonce: String,
    proof: String,
}

async fn prepare(stack: &DevStack, token: &str, n: usize) -> Result<Vec<Prepared>> {
    let http = reqwest::Client::new();
    let mut nonces = Vec::with_capacity(n);
    for _ in 0..n {
        let v: serde_json::Value = http
            .post(format!("{}/v1/nonces", stack.base_url))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        nonces.push(
            v.get("nonce")
                .and_then(|n| n.as_str())
                .ok_or("no nonce")?
                .to_owned(),
        );
    }
    let audience = stack.base_url.clone();
    // Wallet-side key generation and proof signing, on both cores.
    let now = OffsetDateTime::now_utc();
    let halves: Vec<Vec<String>> = nonces
        .chunks(n.div_ceil(2).max(1))
        .map(<[String]>::to_vec)
        .collect();
    let mut tasks = Vec::new();
    for chunk in halves {
        let audience = audience.clone();
        tasks.push(tokio::task::spawn_blocking(
            move || -> Result<Vec<Prepared>> {
                chunk
                    .into_iter()
                    .map(|nonce| {
                        let key = SoftwareKey::generate(Algorithm::Es256);
                        let proof = make_proof(&key, &audience, &nonce, now, true)?;
                        Ok(Prepared { nonce, proof })
                    })
                    .collect()
            },
        ));
    }
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.extend(t.await??);
    }
    Ok(out)
}

/// Runs `one` on every work item with `concurrency` in flight; returns per-item latencies and
/// the wall time.
async fn drive<T, F, Fut>(
    work: Vec<T>,
    concurrency: usize,
    one: F,
) -> Result<(Vec<Duration>, Duration)>
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let queue = Arc::new(std::sync::Mutex::new(work));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (queue, one) = (Arc::clone(&queue), one.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some(item) = queue.lock().ok().and_then(|mut q| q.pop()) else {
                    break;
                };
                let t = Instant::now();
                one(item).await?;
                latencies.push(t.elapsed());
            }
            Ok::<_, devstack::Error>(latencies)
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await??);
    }
    Ok((all, started.elapsed()))
}

/// What one `/v1` request needs.
#[derive(Clone)]
struct V1 {
    http: reqwest::Client,
    url: String,
    token: String,
    claims: Arc<String>,
    idempotency: bool,
}

impl V1 {
    async fn issue(self, p: Prepared) -> Result<()> {
        let body = format!(
            r#"{{"doctype":"{MDL}","claims":{},"nonce":"{}","device_keys":[{{"proof":"{}"}}]}}"#,
            self.claims, p.nonce, p.proof
        );
        let mut req = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .header("content-type", "application/json");
        if self.idempotency {
            let mut key = [0u8; 16];
            OsRng.fill_bytes(&mut key);
            req = req.header("idempotency-key", hex::encode(key));
        }
        let resp = req.body(body).send().await?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        if status != reqwest::StatusCode::CREATED {
            return Err(format!(
                "issuance failed: {status} {}",
                String::from_utf8_lossy(&bytes)
            )
            .into());
        }
        Ok(())
    }
}

/// One wallet's credential offer with its keys, made by the portal before the clock starts.
struct Offered {
    offer: serde_json::Value,
    tx_code: String,
    device: AwsLcSigner,
    dpop: Option<AwsLcSigner>,
}

/// Makes `n` offers through `POST /v1/offers` (the portal's part, untimed).
async fn prepare_offers(
    stack: &DevStack,
    token: &str,
    n: usize,
    dpop: bool,
) -> Result<Vec<Offered>> {
    let http = reqwest::Client::new();
    let body = Arc::new(
        serde_json::json!({"doctype": MDL, "claims": mdl_claims(), "tx_code": {"length": 6}}),
    );
    let url = format!("{}/v1/offers", stack.base_url);
    let out = Arc::new(std::sync::Mutex::new(Vec::with_capacity(n)));
    let (token, sink) = (token.to_owned(), Arc::clone(&out));
    // The portal makes them 16 at a time (each draws a QR code).
    drive(vec![(); n], 16, move |()| {
        let (http, url, token, body, sink) = (
            http.clone(),
            url.clone(),
            token.clone(),
            Arc::clone(&body),
            Arc::clone(&sink),
        );
        async move {
            let v: serde_json::Value = http
                .post(url)
                .bearer_auth(token)
                .json(&*body)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let key = || AwsLcSigner::from_software(&SoftwareKey::generate(Algorithm::Es256));
            let offered = Offered {
                offer: v.get("credential_offer").cloned().ok_or("no offer")?,
                tx_code: v
                    .get("tx_code")
                    .and_then(|t| t.as_str())
                    .ok_or("no tx_code")?
                    .to_owned(),
                device: key()?,
                dpop: if dpop { Some(key()?) } else { None },
            };
            sink.lock().map_err(|_| "lock poisoned")?.push(offered);
            Ok(())
        }
    })
    .await?;
    let out = std::mem::take(&mut *out.lock().map_err(|_| "lock poisoned")?);
    Ok(out)
}

/// token + nonce + key proof + credential, as a wallet does.
async fn obtain(http: reqwest::Client, issuer: Arc<wallet::Issuer>, o: Offered) -> Result<()> {
    let dpop = o.dpop.as_ref().map(|k| k as &dyn Signer);
    let session = wallet::redeem(&http, &issuer, &o.offer, Some(&o.tx_code), dpop).await?;
    let nonce = wallet::c_nonce(&http, &issuer).await?;
    let got = wallet::request_credential(&http, &issuer, &session, MDL, &nonce, &[&o.device], dpop)
        .await?;
    if got.credentials.len() != 1 {
        return Err("expected one credential".into());
    }
    Ok(())
}

/// Raw ES256 signatures per second on two threads (the server's parallelism), over a
/// 300-byte message like an MSO's Sig_structure digest input.
fn raw_sign_rate(key: &AwsLcSigner) -> Result<f64> {
    let msg = vec![0x5a; 300];
    let per_thread = 3000;
    let started = Instant::now();
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| -> mso::Result<()> {
                    for _ in 0..per_thread {
                        key.sign(&msg)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| "signing thread panicked")??;
        }
        Ok(())
    })?;
    Ok(f64::from(2 * per_thread) / started.elapsed().as_secs_f64())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(idx).copied().unwrap_or_default()
}

/// Warm-up, then `args.rounds` timed rounds of `args.requests` items each, with the raw
/// signing limit measured after each; prints each round and returns the median rate.
async fn rounds<T, F, Fut>(args: &Args, label: &str, mut work: Vec<T>, one: F) -> Result<f64>
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let rest = work.split_off(args.warmup.min(work.len()));
    drive(work, args.concurrency, one.clone()).await?;
    let mut chunks = rest;
    let mut rates = Vec::new();
    for round in 1..=args.rounds {
        let timed = chunks.split_off(chunks.len().saturating_sub(args.requests));
        eprintln!("{label} round {round}: timing {} issuances…", timed.len());
        let (mut latencies, wall) = drive(timed, args.concurrency, one.clone()).await?;
        latencies.sort();
        let rate = latencies.len() as f64 / wall.as_secs_f64();
        // The raw limit, measured right after each round on the same cores: the backend (aws-lc)
        // and key type the DS signs with.
        let ds_like = AwsLcSigner::from_software(&SoftwareKey::generate(Algorithm::Es256))?;
        let sign_rate = raw_sign_rate(&ds_like)?;
        println!(
            "issuer-load {label} round {round}: {} issuances in {:.2} s = {rate:.0}/s \
             (concurrency {}), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; \
             raw ES256 sign (aws-lc, 2 threads) {sign_rate:.0}/s",
            latencies.len(),
            wall.as_secs_f64(),
            args.concurrency,
            percentile(&latencies, 0.50).as_secs_f64() * 1e3,
            percentile(&latencies, 0.99).as_secs_f64() * 1e3,
            latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates.get(rates.len() / 2).copied().unwrap_or_default();
    println!(
        "issuer-load {label}: median of {} rounds {median:.0}/s",
        rates.len()
    );
    Ok(median)
}

async fn run(args: Args) -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("issuer-load-{}", std::process::id()));
    let mut opts = StackOptions::new(&tmp);
    opts.tweak = |c| {
        c.rate_limit.per_second = 1_000_000;
        c.rate_limit.burst = 1_000_000;
        c.issuance.nonce_ttl_secs = 3600;
    };
    let mut schema = None;
    if args.database == Database::Postgres {
        let mut admin = sqlx::PgConnection::connect(&args.postgres_url).await?;
        let name = format!("load_{}", std::process::id());
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut admin)
            .await?;
        let sep = if args.postgres_url.contains('?') {
            '&'
        } else {
            '?'
        };
        opts.database_url = Some(format!(
            "{}{sep}options=-csearch_path%3D{name}",
            args.postgres_url
        ));
        schema = Some((admin, name));
    }
    let stack = DevStack::start(opts).await?;
    let token = stack.client("load", &[Scope::Issue]).await?.0;
    let claims = Arc::new(mdl_claims().to_string());

    let db = match args.database {
        Database::Sqlite => "SQLite",
        Database::Postgres => "PostgreSQL",
    };
    let total = args.warmup + args.requests * args.rounds;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let mut medians = Vec::new();
    if args.flow != Flow::Oid4vci {
        eprintln!("preparing {total} nonces and wallet proofs…");
        let work = prepare(&stack, &token, total).await?;
        let v1 = V1 {
            http: http.clone(),
            url: format!("{}/v1/documents", stack.base_url),
            token: token.clone(),
            claims: Arc::clone(&claims),
            idempotency: !args.no_idempotency_key,
        };
        let label = if args.no_idempotency_key {
            format!("{db} /v1 (no Idempotency-Key)")
        } else {
            format!("{db} /v1")
        };
        let m = rounds(&args, &label, work, move |p| v1.clone().issue(p)).await?;
        medians.push((label, m));
    }
    if args.flow != Flow::V1 {
        eprintln!("preparing {total} credential offers (the portal's part)…");
        let work = prepare_offers(&stack, &token, total, args.dpop).await?;
        let first = work.first().ok_or("no offers")?;
        let issuer = Arc::new(wallet::discover(&http, &first.offer).await?);
        let label = format!(
            "{db} OpenID4VCI{}",
            if args.dpop { " (DPoP)" } else { " (bearer)" }
        );
        let h = http.clone();
        let m = rounds(&args, &label, work, move |o| {
            obtain(h.clone(), Arc::clone(&issuer), o)
        })
        .await?;
        medians.push((label, m));
    }
    if let [(a, ra), (b, rb)] = medians.as_slice() {
        println!("issuer-load: {b} / {a} = {:.2}", rb / ra);
    }
    stack.stop().await?;
    if let Some((mut admin, name)) = schema {
        sqlx::query(&format!("DROP SCHEMA {name} CASCADE"))
            .execute(&mut admin)
            .await?;
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("issuer-load: {e}");
            return std::process::ExitCode::from(4);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("issuer-load: {e}");
            std::process::ExitCode::from(4)
        }
    }
}
