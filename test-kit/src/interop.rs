//! Running the independent Python implementations of `tests/interop/` (pymdoccbor, pycose,
//! joserfc, pyhpke, openapi-spec-validator) from any crate's tests: one place that knows where the
//! pinned venv is (`scripts/python-venv.sh` makes `<repo>/.venv`; `MDOC_PYTHON` names another
//! interpreter) and how a script's outcome comes back.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace root (the parent of `test-kit/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-kit/ has a parent")
        .to_path_buf()
}

/// The interpreter of the pinned venv: `MDOC_PYTHON`, else `<repo>/.venv/bin/python`. Panics
/// with the command that makes it when it is missing.
pub fn python() -> PathBuf {
    let python = std::env::var_os("MDOC_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    assert!(
        python.exists(),
        "no Python interpreter at {}: run `bash scripts/python-venv.sh` (the pinned versions of \
         tests/interop/requirements.txt) or set MDOC_PYTHON",
        python.display()
    );
    python
}

/// What a script run returned.
#[derive(Debug)]
pub struct PyRun {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `tests/interop/SCRIPT ARGS...` with [`python`].
pub fn run_script(script: &str, args: &[&str]) -> PyRun {
    let path = repo_root().join("tests/interop").join(script);
    let out = Command::new(python())
        .arg(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
    PyRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the Python script at `script` with [`python`], `request` as JSON on its standard input,
/// and returns the JSON it prints: the protocol of the joserfc drivers. Panics with the
/// script's standard error when it fails.
pub fn run_json(script: &Path, request: &serde_json::Value) -> serde_json::Value {
    let mut child = Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(request.to_string().as_bytes())
        .expect("the script reads its request");
    let out = child.wait_with_output().expect("the script ends");
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}
