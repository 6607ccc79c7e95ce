//! `issuer-load`: sustained issuance throughput and latency of `mdoc-issuer` over real HTTP on
//! loopback, with the raw signing rate of the same key type measured in the same run.
//!
//! ```text
//! cargo run --release -p devstack --bin issuer-load -- --database sqlite
//! cargo run --release -p devstack --bin issuer-load -- --database postgres
//! ```
//!
//! Each request is a complete `POST /v1/documents`: a 12-element mDL with a 20 KB portrait,
//! one device key with its proof of possession, an `Idempotency-Key`, bearer authentication.
//! The server validates the claims, checks the nonce and proof (an ECDSA verify), signs the
//! MSO (an ECDSA sign), writes the audit record and commits the document. The wallet side —
//! fetching nonces and signing proofs — is prepared before the clock starts, because on a real
//! deployment it runs on phones, not on the issuer's cores. Client and server share this
//! machine's cores, so the figures are a lower bound for the server alone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use devstack::sample::{mdl_claims, MDL};
use devstack::{DevStack, Result, StackOptions};
use mdoc_issuer::fast_crypto::AwsLcSigner;
use mdoc_issuer::pop::make_proof;
use mdoc_issuer::store::Scope;
use mso::crypto::{Algorithm, Signer, SoftwareKey};
use rand_core::{OsRng, RngCore};
use sqlx::Connection;
use time::OffsetDateTime;

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

/// Sends every prepared request with `concurrency` in flight; returns per-request latencies
/// and the wall time.
async fn drive(
    base: &str,
    token: &str,
    claims: Arc<String>,
    work: Vec<Prepared>,
    concurrency: usize,
    idempotency: bool,
) -> Result<(Vec<Duration>, Duration)> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let queue = Arc::new(std::sync::Mutex::new(work));
    let url = format!("{base}/v1/documents");
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, queue, url, token, claims) = (
            http.clone(),
            Arc::clone(&queue),
            url.clone(),
            token.to_owned(),
            Arc::clone(&claims),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while let Some(p) = queue.lock().ok().and_then(|mut q| q.pop()) {
                let body = format!(
                    r#"{{"doctype":"{MDL}","claims":{claims},"nonce":"{}","device_keys":[{{"proof":"{}"}}]}}"#,
                    p.nonce, p.proof
                );
                let mut key = [0u8; 16];
                OsRng.fill_bytes(&mut key);
                let t = Instant::now();
                let mut req = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json");
                if idempotency {
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

    let total = args.warmup + args.requests * args.rounds;
    eprintln!("preparing {total} nonces and wallet proofs…");
    let mut work = prepare(&stack, &token, total).await?;
    let idem = !args.no_idempotency_key;
    let base = stack.base_url.as_str();
    let rest = work.split_off(args.warmup);
    drive(
        base,
        &token,
        Arc::clone(&claims),
        work,
        args.concurrency,
        idem,
    )
    .await?;
    let db = match args.database {
        Database::Sqlite => "SQLite",
        Database::Postgres => "PostgreSQL",
    };
    let mut rates = Vec::new();
    let mut chunks = rest;
    for round in 1..=args.rounds {
        let timed = chunks.split_off(chunks.len().saturating_sub(args.requests));
        let (mut latencies, wall) = drive(
            base,
            &token,
            Arc::clone(&claims),
            timed,
            args.concurrency,
            idem,
        )
        .await?;
        latencies.sort();
        let rate = latencies.len() as f64 / wall.as_secs_f64();
        // The raw limit, measured right after each round on the same cores: the backend (aws-lc)
        // and key type the DS signs with.
        let ds_like = AwsLcSigner::from_software(&SoftwareKey::generate(Algorithm::Es256))?;
        let sign_rate = raw_sign_rate(&ds_like)?;
        println!(
            "issuer-load {db}{} round {round}: {} issuances in {:.2} s = {rate:.0}/s \
             (concurrency {}), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; \
             raw ES256 sign (aws-lc, 2 threads) {sign_rate:.0}/s",
            if idem { "" } else { " (no Idempotency-Key)" },
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
    println!(
        "issuer-load {db}: median of {} rounds {:.0}/s",
        rates.len(),
        rates.get(rates.len() / 2).copied().unwrap_or_default()
    );
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
