#!/usr/bin/env bash
# The full test suite: formatting, lints, unit/integration/property tests, the tests against
# independent components (pymdoccbor, pkilint, openssl, SoftHSM2, an OpenID4VCI wallet client and issuer),
# and a short bounded fuzz run of every decoder. CI runs exactly this. Installs what it needs
# (Python venvs from PyPI, SoftHSM2 from Debian, the wallet client, issuer and verifier from npm, cargo-fuzz from
# crates.io).
#
#   scripts/test.sh              everything
#   FUZZ_SECONDS=0 scripts/test.sh   skip fuzzing (e.g. for a quick local run)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# A clean build gains nothing from incremental compilation and pays for writing its state.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step() { printf '\n==> %s  [%ds]\n' "$*" "$SECONDS"; }
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

step "rustfmt"
cargo fmt --all -- --check

step "crate boundaries (ARCHITECTURE.md)"
bash scripts/boundaries.sh

step "clippy (-D warnings)"
cargo clippy --workspace --all-targets -- -D warnings

step "tests"
# The issuer's storage tests also run against PostgreSQL at 127.0.0.1:5432 (see README).
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
cargo test --workspace 2>&1 | tee -a "$log"

step "verifier and wallet SDKs: Kotlin/Swift/Python bindings (uniffi library mode) and the Python tests"
# Reuses the debug build the tests just made; fails the run if a Python test fails.
bash scripts/python-sdk-tests.sh 2>&1 | tee -a "$log"

step "tests against independent components: pymdoccbor and pkilint (PyPI), SoftHSM2 (Debian), @openid4vc/openid4vci wallet and issuer, @openid4vc/openid4vp verifier, @animo-id/mdoc (npm)"
MDOC_PYTHON="$(bash scripts/python-venv.sh)"
PKILINT_PYTHON="$(bash scripts/pkilint-venv.sh)"
OID4VCI_WALLET="$(bash scripts/node-interop.sh oid4vci-wallet)"
OID4VCI_ISSUER="$(bash scripts/node-interop.sh oid4vci-issuer)"
OID4VP_VERIFIER="$(bash scripts/node-interop.sh oid4vp-verifier)"
DCQL_TS="$(bash scripts/node-interop.sh dcql)"
bash scripts/softhsm.sh >/dev/null
command -v openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq openssl; }
export MDOC_PYTHON PKILINT_PYTHON OID4VCI_WALLET OID4VCI_ISSUER OID4VP_VERIFIER DCQL_TS
# The tests marked #[ignore] are exactly those that need these components.
cargo test --workspace -- --ignored 2>&1 | tee -a "$log"

# 8 s per target keeps the whole run well under 30 minutes; run scripts/fuzz.sh longer by hand.
if [[ "${FUZZ_SECONDS:-8}" != "0" ]]; then
    step "fuzz (${FUZZ_SECONDS:-8} s per target)"
    FUZZ_SECONDS="${FUZZ_SECONDS:-8}" bash scripts/fuzz.sh
fi

step "all checks passed"
# One closing line summing every cargo test run above.
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
grep -h "^python sdk tests:" "$log" | tail -n1
