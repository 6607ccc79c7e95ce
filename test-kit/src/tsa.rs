//! A real RFC 3161 time-stamping authority for tests: `openssl ts -reply` over a throwaway TSA
//! PKI (a root, optionally an intermediate, and a TSA certificate with the critical
//! extendedKeyUsage id-kp-timeStamping), made with the `openssl` command line. Tests using it
//! need `openssl` on the PATH and are `#[ignore]`d (the second pass of `scripts/test.sh`).
//!
//! [`TsaServer`] puts one behind a loopback HTTP endpoint (RFC 3161 §3.4), one `openssl ts
//! -reply` per request.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How the fixture's TSA is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TsaOptions {
    /// The openssl curve name of every key (`P-256`, `P-384`).
    pub curve: &'static str,
    /// A CA between the root and the TSA certificate, carried in the tokens.
    pub intermediate: bool,
    /// The ESS certificate id hash: `sha1` (signingCertificate v1, openssl's default) or
    /// `sha256` (signingCertificateV2).
    pub ess_cert_id_alg: &'static str,
}

impl Default for TsaOptions {
    fn default() -> Self {
        TsaOptions {
            curve: "P-256",
            intermediate: false,
            ess_cert_id_alg: "sha256",
        }
    }
}

/// The policy every fixture TSA stamps under by default.
pub const DEFAULT_POLICY: &str = "1.2.3.4.1";
/// Another policy the fixture TSA accepts when asked for it.
pub const OTHER_POLICY: &str = "1.2.3.4.5";

/// A time-stamping authority made of files in a directory and the `openssl` command.
#[derive(Debug)]
pub struct OpensslTsa {
    dir: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

impl OpensslTsa {
    /// Creates the TSA PKI under `dir` (which must exist and be empty of these files).
    pub fn new(dir: &Path, options: TsaOptions) -> Self {
        let dir = dir.to_path_buf();
        let config = format!(
            r#"[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa]
default_tsa = tsa_config
[tsa_config]
dir = {dir}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/chain.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = {DEFAULT_POLICY}
other_policies = {OTHER_POLICY}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = {ess}
"#,
            dir = dir.display(),
            ess = options.ess_cert_id_alg,
        );
        std::fs::write(dir.join("tsa.cnf"), config).unwrap();
        std::fs::write(dir.join("tsaserial"), "01\n").unwrap();
        let curve = format!("ec_paramgen_curve:{}", options.curve);
        for key in ["root.key", "intermediate.key", "tsa.key"] {
            openssl(
                &dir,
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    &curve,
                    "-out",
                    key,
                ],
            );
        }
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "root.key",
                "-config",
                "tsa.cnf",
                "-extensions",
                "ca_ext",
                "-subj",
                "/CN=Test TSA Root",
                "-days",
                "3650",
                "-out",
                "root.pem",
            ],
        );
        let issuer = if options.intermediate {
            Self::issue(&dir, "intermediate", "/CN=Test TSA CA", "root", "ca_ext");
            "intermediate"
        } else {
            "root"
        };
        Self::issue(&dir, "tsa", "/CN=Test TSA", issuer, "tsa_ext");
        // The chain openssl adds to each token repeats the signer's certificate, as operators'
        // chain files do (openssl adds the signer's own on certReq too).
        let mut chain = std::fs::read(dir.join("tsa.pem")).unwrap();
        if options.intermediate {
            chain.extend(std::fs::read(dir.join("intermediate.pem")).unwrap());
        }
        std::fs::write(dir.join("chain.pem"), chain).unwrap();
        OpensslTsa { dir }
    }

    /// `name.key` certified by `issuer` under `subject` with the config section `ext`.
    fn issue(dir: &Path, name: &str, subject: &str, issuer: &str, ext: &str) {
        let csr = format!("{name}.csr");
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-key",
                &format!("{name}.key"),
                "-config",
                "tsa.cnf",
                "-subj",
                subject,
                "-out",
                &csr,
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &format!("{issuer}.pem"),
                "-CAkey",
                &format!("{issuer}.key"),
                "-set_serial",
                "0x1f2e3d4c5b6a",
                "-days",
                "365",
                "-extfile",
                "tsa.cnf",
                "-extensions",
                ext,
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }

    /// The TSA's answer to a DER TimeStampReq: a DER TimeStampResp (`openssl ts -reply`).
    pub fn reply(&self, query: &[u8]) -> Vec<u8> {
        // Unique names: several requests may be answered at once.
        let id = format!(
            "{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let (tsq, tsr) = (format!("q-{id}.tsq"), format!("r-{id}.tsr"));
        std::fs::write(self.dir.join(&tsq), query).unwrap();
        openssl(
            &self.dir,
            &[
                "ts",
                "-reply",
                "-config",
                "tsa.cnf",
                "-queryfile",
                &tsq,
                "-out",
                &tsr,
            ],
        );
        let reply = std::fs::read(self.dir.join(&tsr)).unwrap();
        let _ = std::fs::remove_file(self.dir.join(&tsq));
        let _ = std::fs::remove_file(self.dir.join(&tsr));
        reply
    }

    /// The trusted root (PEM file).
    pub fn root_pem_path(&self) -> PathBuf {
        self.dir.join("root.pem")
    }

    /// The trusted root, PEM.
    pub fn root_pem(&self) -> Vec<u8> {
        std::fs::read(self.root_pem_path()).unwrap()
    }

    /// Whether `openssl ts -verify` accepts `token` (DER TimeStampToken) for the SHA-256
    /// `digest` against this TSA's root; the second value is openssl's output.
    pub fn openssl_verifies(&self, token: &[u8], digest: &[u8; 32]) -> (bool, String) {
        let file = self.dir.join(format!("verify-{}.der", hex(digest)));
        std::fs::write(&file, token).unwrap();
        let mut args: Vec<String> = vec![
            "ts".into(),
            "-verify".into(),
            "-digest".into(),
            hex(digest),
            "-in".into(),
            file.display().to_string(),
            "-token_in".into(),
            "-CAfile".into(),
            self.root_pem_path().display().to_string(),
        ];
        if self.dir.join("intermediate.pem").exists() {
            args.extend([
                "-untrusted".into(),
                self.dir.join("intermediate.pem").display().to_string(),
            ]);
        }
        let out = Command::new("openssl").args(&args).output().unwrap();
        let _ = std::fs::remove_file(&file);
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    /// The directory holding the TSA's files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An [`OpensslTsa`] behind `http://127.0.0.1:PORT/` (one thread, one request per connection):
/// a `POST` of `application/timestamp-query` is answered `application/timestamp-reply`.
/// Stops when dropped.
#[derive(Debug)]
pub struct TsaServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl TsaServer {
    /// Serves `tsa` until dropped.
    pub fn start(tsa: OpensslTsa) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let _ = serve(&tsa, &mut stream);
            }
        });
        TsaServer { addr, stop }
    }

    /// The URL to POST requests to.
    pub fn url(&self) -> String {
        format!("http://{}/tsa", self.addr)
    }
}

impl Drop for TsaServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(self.addr);
    }
}

fn serve(tsa: &OpensslTsa, stream: &mut std::net::TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let post = line.starts_with("POST ");
    let mut length = 0usize;
    let mut content_type = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "content-type" => content_type = value.trim().to_owned(),
                _ => {}
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    if !post || content_type != "application/timestamp-query" {
        return stream.write_all(
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        );
    }
    let reply = tsa.reply(&body);
    stream.write_all(
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/timestamp-reply\r\ncontent-length: \
             {}\r\nconnection: close\r\n\r\n",
            reply.len()
        )
        .as_bytes(),
    )?;
    stream.write_all(&reply)
}
