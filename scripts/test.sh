#!/usr/bin/env bash
# The full test suite: formatting, lints, unit/integration/property tests, the pymdoccbor
# interop tests, and a short bounded fuzz run of every decoder. CI runs exactly this.
#
#   scripts/test.sh              everything
#   FUZZ_SECONDS=0 scripts/test.sh   skip fuzzing (e.g. for a quick local run)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s  [%ds]\n' "$*" "$SECONDS"; }
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

step "rustfmt"
cargo fmt --all -- --check

step "clippy (-D warnings)"
cargo clippy --workspace --all-targets -- -D warnings

step "tests"
cargo test --workspace 2>&1 | tee -a "$log"

step "interop with pymdoccbor (PyPI)"
MDOC_PYTHON="$(bash scripts/python-venv.sh)"
export MDOC_PYTHON
cargo test -p e2e-tests --test pymdoccbor -- --include-ignored 2>&1 | tee -a "$log"

if [[ "${FUZZ_SECONDS:-20}" != "0" ]]; then
    step "fuzz (${FUZZ_SECONDS:-20} s per target)"
    bash scripts/fuzz.sh
fi

step "all checks passed"
# One closing line summing every cargo test run above.
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
