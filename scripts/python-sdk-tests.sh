#!/usr/bin/env bash
# Runs the verifier and wallet SDKs' Python tests (stdlib unittest) against freshly generated Python
# bindings and the debug cdylib: the ISO 18013-5 Annex D vectors, an mdoc issued by this
# project's own stack, the Annex D session vectors, bad input, and the trust store synced from
# the main job's DTS served by `mdoc-dts serve`; then the wallet SDK's (wallet-sdk/tests/python:
# keys, receipt and refusals, presentation to the verifier SDK's reader session, with mDLs the
# `wallet_fixture` example issues to the wallet's keys; and, against a running issuer and DTS
# (`mdoc-dev --serve --portal-login-url`, its serve.json in WALLET_SDK_ISSUER_SERVE), mDLs
# received over the pre-authorized and the authorization-code flows, verified on receipt and
# presented to the verifier). Exits non-zero on failure and prints `python sdk tests: N passed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

target="${CARGO_TARGET_DIR:-target}"
out="$target/bindings"
bash scripts/bindings.sh "$out"
# bindings.sh built every target of the workspace: run those builds, not `cargo run -p`, which
# would resolve features for one package and rebuild.
"$target/debug/examples/python_fixture" "$out/fixture" >/dev/null
# A document issued over HTTP by mdoc-issuer, with its lists: the main job's artifacts.
rm -rf "$out/mdoc-dev"
"$target/debug/mdoc-dev" --dir "$out/mdoc-dev" >/dev/null
# A second dev stack kept serving (issuer with the authorization-code flow, its DTS) for the
# wallet's end-to-end tests; it writes serve.json once it serves. Its own directory: the DTS
# below is served again from the first run's state.
rm -rf "$out/wallet-e2e"
mkdir -p "$out/wallet-e2e"
serve_log="$out/wallet-e2e/mdoc-dev.log"
"$target/debug/mdoc-dev" --dir "$out/wallet-e2e" --serve \
    --portal-login-url https://portal.example/login >"$serve_log" 2>&1 &
serve_pid=$!
serve_json="$out/wallet-e2e/state/serve.json"
dts_pid=""
log=""
wallet_log=""
cleanup() {
    rm -f "$log" "$wallet_log"
    kill "$serve_pid" 2>/dev/null || true
    [[ -z "$dts_pid" ]] || kill "$dts_pid" 2>/dev/null || true
}
trap cleanup EXIT
# The main job's DTS, served again from its state by the real binary, for the trust-sync tests.
dts_config="$out/mdoc-dev/state/dts/mdoc-dts.toml"
"$target/debug/mdoc-dts" --config "$dts_config" serve 2>"$out/mdoc-dts.log" &
dts_pid=$!
dts_url="http://$(cat "$out/mdoc-dev/state/dts.addr")"
dts_pin="$(sed -n 's/^pinned_roots = \["\([0-9a-f]*\)"\]$/\1/p' "$dts_config")"
for _ in $(seq 100); do
    python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
        "$dts_url/readyz" 2>/dev/null && break
    sleep 0.1
done

log="$(mktemp)"
status=0
VERIFIER_SDK_BINDINGS="$out/python" VERIFIER_SDK_FIXTURE="$out/fixture" \
    VERIFIER_SDK_ISSUER_ARTIFACTS="$out/mdoc-dev/artifacts" \
    VERIFIER_SDK_DTS_INDEX="$dts_url/index.json" VERIFIER_SDK_DTS_PIN="$dts_pin" \
    python3 -m unittest discover -s verifier-sdk/tests/python -p 'test_*.py' -v 2>&1 | tee "$log" \
    || status=$?
wallet_log="$(mktemp)"
# The serving stack's walkthrough ran meanwhile: wait (bounded) for its serve.json.
for _ in $(seq 3000); do
    [[ -s "$serve_json" ]] && break
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
done
if [[ ! -s "$serve_json" ]]; then
    echo "mdoc-dev --serve wrote no $serve_json (exited or timed out after 300 s); its log:"
    cat "$serve_log"
    echo "python sdk tests: FAILED"
    exit 1
fi
wallet_status=0
WALLET_SDK_BINDINGS="$out/wallet/python" WALLET_SDK_FIXTURE_BIN="$target/debug/examples/wallet_fixture" \
    WALLET_SDK_ISSUER_SERVE="$serve_json" \
    python3 -m unittest discover -s wallet-sdk/tests/python -p 'test_*.py' -v 2>&1 \
    | tee "$wallet_log" || wallet_status=$?
passed=0
failed=0
for l in "$log" "$wallet_log"; do
    ran="$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' "$l" | tail -n1)"
    skipped="$(sed -n 's/^OK (skipped=\([0-9]*\)).*/\1/p' "$l")"
    if grep -q '^OK' "$l"; then
        passed=$(( passed + ${ran:-0} - ${skipped:-0} ))
    else
        failed=1
    fi
done
if [[ $status -ne 0 || $wallet_status -ne 0 || $failed -ne 0 ]]; then
    echo "python sdk tests: FAILED"
    exit 1
fi
echo "python sdk tests: $passed passed"
