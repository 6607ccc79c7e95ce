//! A private SoftHSM2 set-up for tests: a token directory and configuration of its own (the
//! system's SoftHSM2 configuration is never touched), `SOFTHSM2_CONF` pointed at it before any
//! PKCS#11 module is loaded (SoftHSM2 reads its configuration once per process), and tokens
//! initialised with `softhsm2-util`. Install SoftHSM2 with `bash scripts/softhsm.sh`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Directories this module creates start with this, so stale ones can be found.
const PREFIX: &str = "softhsm-";

/// Directories older than this are left over from earlier runs and removed.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// One token to initialise.
pub struct Token<'a> {
    /// The token label.
    pub label: &'a str,
    /// The security officer PIN.
    pub so_pin: &'a [u8],
    /// The user PIN.
    pub pin: &'a [u8],
}

/// A SoftHSM2 set-up: the PKCS#11 module and the configuration now in `SOFTHSM2_CONF`.
#[derive(Debug, Clone)]
pub struct SoftHsm {
    /// The SoftHSM2 PKCS#11 module (`libsofthsm2.so`).
    pub module: PathBuf,
    /// The private configuration file.
    pub conf: PathBuf,
    /// The token directory.
    pub tokens: PathBuf,
}

impl SoftHsm {
    /// Creates a fresh directory under `parent` (e.g. Cargo's `CARGO_TARGET_TMPDIR`) holding
    /// a token directory and a configuration naming it, sets `SOFTHSM2_CONF`, and initialises
    /// `tokens`. Call it once per test process, before any module is loaded (a `OnceLock` in
    /// the test binary). The directory is kept for the process; directories older than an
    /// hour left by earlier runs are removed first.
    pub fn init(parent: &Path, tokens: &[Token<'_>]) -> Result<SoftHsm, String> {
        let module = custody::pkcs11::find_softhsm2_module().ok_or_else(|| {
            "SoftHSM2's PKCS#11 module (libsofthsm2.so) was not found: run \
             `bash scripts/softhsm.sh`"
                .to_owned()
        })?;
        let util_ok = Command::new("softhsm2-util")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !util_ok {
            return Err("softhsm2-util is not on PATH: run `bash scripts/softhsm.sh`".into());
        }
        remove_stale(parent);
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        let dir = tempfile::Builder::new()
            .prefix(PREFIX)
            .tempdir_in(parent)
            .map_err(|e| e.to_string())?
            .keep();
        let token_dir = dir.join("tokens");
        std::fs::create_dir_all(&token_dir).map_err(|e| e.to_string())?;
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n\
                 slots.removable = false\n",
                token_dir.display()
            ),
        )
        .map_err(|e| e.to_string())?;
        std::env::set_var("SOFTHSM2_CONF", &conf);
        for token in tokens {
            let text = |b: &[u8]| std::str::from_utf8(b).map(str::to_owned);
            let so_pin = text(token.so_pin).map_err(|e| e.to_string())?;
            let pin = text(token.pin).map_err(|e| e.to_string())?;
            let out = Command::new("softhsm2-util")
                .env("SOFTHSM2_CONF", &conf)
                .args(["--init-token", "--free", "--label", token.label])
                .args(["--so-pin", &so_pin, "--pin", &pin])
                .output()
                .map_err(|e| format!("running softhsm2-util: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "softhsm2-util --init-token {} failed: {}",
                    token.label,
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        Ok(SoftHsm {
            module,
            conf,
            tokens: token_dir,
        })
    }
}

fn remove_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if stale && entry.file_name().to_string_lossy().starts_with(PREFIX) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
