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
//! By default client and server share this machine's cores in one process, so the figures
//! are a lower bound for the server alone. With `--server-cpus` and `--client-cpus` (CPU lists
//! as `taskset` takes them) the issuer runs in a child process pinned to the first and the
//! load generator is pinned to the second, and each round reports how many cores each used
//! (from `/proc/<pid>/stat`):
//!
//! ```text
//! issuer-load --flow both --server-cpus 1 --client-cpus 0 --json load.json
//! ```
//!
//! `--json PATH` writes every round's figures (rate, p50, p99, max, the raw signing rate, the
//! cores used) and the medians, for comparison between commits.

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
    /// Run the issuer in a child process pinned to these CPUs (`taskset -c` syntax); needs
    /// `--client-cpus`.
    #[arg(long, requires = "client_cpus")]
    server_cpus: Option<String>,
    /// Pin the load generator to these CPUs; needs `--server-cpus`.
    #[arg(long, requires = "server_cpus")]
    client_cpus: Option<String>,
    /// Write the figures as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Internal: be the issuer process of `--server-cpus` (prints its URL and API token as one
    /// JSON line, serves until stdin closes).
    #[arg(long, hide = true)]
    serve: bool,
}

/// Where the load goes: the issuer's URL and a portal client's API token.
#[derive(serde::Serialize, serde::Deserialize)]
struct Target {
    base_url: String,
    token: String,
}

/// The issuer under load: in this process, or a pinned child process.
enum Server {
    InProcess(Box<DevStack>),
    Child(std::process::Child),
}

/// Process CPU time (user + system, every thread) of `pid`, in seconds, from `/proc`.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // utime and stime are fields 14 and 15 of the line (11 and 12 here), in USER_HZ, which
    // the kernel ABI fixes at 100 per second.
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// One timed round, for `--json`.
#[derive(serde::Serialize)]
struct RoundFigures {
    issuances: usize,
    seconds: f64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    raw_es256_sign_per_second: f64,
    /// Cores the issuer used (its process), when it runs apart.
    server_cores: Option<f64>,
    /// Cores this process used (the load generator, and the issuer when in-process).
    client_cores: Option<f64>,
}

/// One flow's rounds and median, for `--json`.
#[derive(serde::Serialize)]
struct FlowFigures {
    label: String,
    rounds: Vec<RoundFigures>,
    median_per_second: f64,
}

struct Prepared {
    nonce: String,
    proof: String,
}

async fn prepare(base_url: &str, token: &str, n: usize) -> Result<Vec<Prepared>> {
    let http = reqwest::Client::new();
    let mut nonces = Vec::with_capacity(n);
    for _ in 0..n {
        let v: serde_json::Value = http
            .post(format!("{base_url}/v1/nonces"))
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
    let audience = base_url.to_owned();
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
async fn prepare_offers(base_url: &str, token: &str, n: usize, dpop: bool) -> Result<Vec<Offered>> {
    let http = reqwest::Client::new();
    let body = Arc::new(
        serde_json::json!({"doctype": MDL, "claims": mdl_claims(), "tx_code": {"length": 6}}),
    );
    let url = format!("{base_url}/v1/offers");
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
async fn rounds<T, F, Fut>(
    args: &Args,
    server_pid: Option<u32>,
    label: &str,
    mut work: Vec<T>,
    one: F,
) -> Result<FlowFigures>
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let rest = work.split_off(args.warmup.min(work.len()));
    drive(work, args.concurrency, one.clone()).await?;
    let mut chunks = rest;
    let mut rounds = Vec::new();
    for round in 1..=args.rounds {
        let timed = chunks.split_off(chunks.len().saturating_sub(args.requests));
        eprintln!("{label} round {round}: timing {} issuances…", timed.len());
        let me = std::process::id();
        let cpu_before = (server_pid.and_then(cpu_seconds), cpu_seconds(me));
        let (mut latencies, wall) = drive(timed, args.concurrency, one.clone()).await?;
        let cores = |before: Option<f64>, pid: Option<u32>| {
            Some((pid.and_then(cpu_seconds)? - before?) / wall.as_secs_f64())
        };
        let (server_cores, client_cores) = (
            cores(cpu_before.0, server_pid),
            cores(cpu_before.1, Some(me)),
        );
        latencies.sort();
        let rate = latencies.len() as f64 / wall.as_secs_f64();
        // The raw limit, measured right after each round on the same cores: the backend (aws-lc)
        // and key type the DS signs with.
        let ds_like = AwsLcSigner::from_software(&SoftwareKey::generate(Algorithm::Es256))?;
        let sign_rate = raw_sign_rate(&ds_like)?;
        let figures = RoundFigures {
            issuances: latencies.len(),
            seconds: wall.as_secs_f64(),
            per_second: rate,
            p50_ms: percentile(&latencies, 0.50).as_secs_f64() * 1e3,
            p99_ms: percentile(&latencies, 0.99).as_secs_f64() * 1e3,
            max_ms: latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
            raw_es256_sign_per_second: sign_rate,
            server_cores,
            client_cores,
        };
        let used = match (server_cores, client_cores) {
            (Some(s), Some(c)) => format!("; cores used: issuer {s:.2}, load generator {c:.2}"),
            (None, Some(c)) => format!("; cores used by the process {c:.2}"),
            _ => String::new(),
        };
        println!(
            "issuer-load {label} round {round}: {} issuances in {:.2} s = {rate:.0}/s \
             (concurrency {}), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; \
             raw ES256 sign (aws-lc, 2 threads{}) {sign_rate:.0}/s{used}",
            figures.issuances,
            figures.seconds,
            args.concurrency,
            figures.p50_ms,
            figures.p99_ms,
            figures.max_ms,
            if args.client_cpus.is_some() {
                ", on the load generator's CPUs"
            } else {
                ""
            },
        );
        rounds.push(figures);
    }
    let mut rates: Vec<f64> = rounds.iter().map(|r| r.per_second).collect();
    rates.sort_by(f64::total_cmp);
    let median = rates.get(rates.len() / 2).copied().unwrap_or_default();
    println!(
        "issuer-load {label}: median of {} rounds {median:.0}/s",
        rates.len()
    );
    Ok(FlowFigures {
        label: label.to_owned(),
        rounds,
        median_per_second: median,
    })
}

/// Starts the issuer this run loads, on `args.database`; returns it with the PostgreSQL
/// schema to drop and the directory to remove afterwards.
async fn start_stack(args: &Args) -> Result<(DevStack, Option<(sqlx::PgConnection, String)>)> {
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
    Ok((DevStack::start(opts).await?, schema))
}

/// Stops the issuer and drops what [`start_stack`] made.
async fn stop_stack(stack: DevStack, schema: Option<(sqlx::PgConnection, String)>) -> Result<()> {
    stack.stop().await?;
    if let Some((mut admin, name)) = schema {
        sqlx::query(&format!("DROP SCHEMA {name} CASCADE"))
            .execute(&mut admin)
            .await?;
    }
    let tmp = std::env::temp_dir().join(format!("issuer-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

/// `--serve`: the issuer process of a pinned run. Prints its [`Target`] as one JSON line and
/// serves until the parent closes stdin.
async fn serve(args: Args) -> Result<()> {
    let (stack, schema) = start_stack(&args).await?;
    let token = stack.client("load", &[Scope::Issue]).await?.0;
    let target = Target {
        base_url: stack.base_url.clone(),
        token,
    };
    println!("{}", serde_json::to_string(&target)?);
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink)
    })
    .await??;
    stop_stack(stack, schema).await
}

/// Starts the issuer in a child process pinned to `cpus`, and reads its [`Target`].
fn spawn_server(args: &Args, cpus: &str) -> Result<(std::process::Child, Target)> {
    use std::io::BufRead;
    let exe = std::env::current_exe()?;
    let database = match args.database {
        Database::Sqlite => "sqlite",
        Database::Postgres => "postgres",
    };
    let mut child = std::process::Command::new("taskset")
        .arg("-c")
        .arg(cpus)
        .arg(exe)
        .args(["--serve", "--database", database, "--postgres-url"])
        .arg(&args.postgres_url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or("no stdout from the issuer process")?;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    match serde_json::from_str(&line) {
        Ok(target) => Ok((child, target)),
        Err(e) => {
            let _ = child.kill();
            Err(format!("the issuer process did not start: {e}").into())
        }
    }
}

async fn run(args: Args) -> Result<()> {
    if args.serve {
        return serve(args).await;
    }
    let (server, target, schema) = match &args.server_cpus {
        Some(cpus) => {
            let (child, target) = spawn_server(&args, cpus)?;
            (Server::Child(child), target, None)
        }
        None => {
            let (stack, schema) = start_stack(&args).await?;
            let token = stack.client("load", &[Scope::Issue]).await?.0;
            let target = Target {
                base_url: stack.base_url.clone(),
                token,
            };
            (Server::InProcess(Box::new(stack)), target, schema)
        }
    };
    let server_pid = match &server {
        Server::Child(c) => Some(c.id()),
        Server::InProcess(_) => None,
    };
    let outcome = load(&args, server_pid, &target).await;
    match server {
        Server::InProcess(stack) => stop_stack(*stack, schema).await?,
        Server::Child(mut child) => {
            // Closing its stdin stops it.
            drop(child.stdin.take());
            child.wait()?;
        }
    }
    let flows = outcome?;
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&flows)?)?;
    }
    Ok(())
}

/// The timed flows against `target`.
async fn load(args: &Args, server_pid: Option<u32>, target: &Target) -> Result<Vec<FlowFigures>> {
    let (base_url, token) = (target.base_url.as_str(), target.token.as_str());
    let claims = Arc::new(mdl_claims().to_string());
    let db = match args.database {
        Database::Sqlite => "SQLite",
        Database::Postgres => "PostgreSQL",
    };
    let total = args.warmup + args.requests * args.rounds;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let mut flows = Vec::new();
    if args.flow != Flow::Oid4vci {
        eprintln!("preparing {total} nonces and wallet proofs…");
        let work = prepare(base_url, token, total).await?;
        let v1 = V1 {
            http: http.clone(),
            url: format!("{base_url}/v1/documents"),
            token: token.to_owned(),
            claims: Arc::clone(&claims),
            idempotency: !args.no_idempotency_key,
        };
        let label = if args.no_idempotency_key {
            format!("{db} /v1 (no Idempotency-Key)")
        } else {
            format!("{db} /v1")
        };
        let f = rounds(args, server_pid, &label, work, move |p| v1.clone().issue(p)).await?;
        flows.push(f);
    }
    if args.flow != Flow::V1 {
        eprintln!("preparing {total} credential offers (the portal's part)…");
        let work = prepare_offers(base_url, token, total, args.dpop).await?;
        let first = work.first().ok_or("no offers")?;
        let issuer = Arc::new(wallet::discover(&http, &first.offer).await?);
        let label = format!(
            "{db} OpenID4VCI{}",
            if args.dpop { " (DPoP)" } else { " (bearer)" }
        );
        let h = http.clone();
        let f = rounds(args, server_pid, &label, work, move |o| {
            obtain(h.clone(), Arc::clone(&issuer), o)
        })
        .await?;
        flows.push(f);
    }
    if let [a, b] = flows.as_slice() {
        println!(
            "issuer-load: {} / {} = {:.2}",
            b.label,
            a.label,
            b.median_per_second / a.median_per_second
        );
    }
    Ok(flows)
}

/// Pins this process (every thread it will start) to `cpus`, before the runtime starts.
fn pin_self(cpus: &str) -> Result<()> {
    let status = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", cpus])
        .arg(std::process::id().to_string())
        .stdout(std::process::Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("taskset could not pin the load generator to CPUs {cpus}").into())
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if let Some(cpus) = &args.client_cpus {
        if let Err(e) = pin_self(cpus) {
            eprintln!("issuer-load: {e}");
            return std::process::ExitCode::from(4);
        }
    }
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
