#!/usr/bin/env bash
# Runs the verifier SDK's Python tests (stdlib unittest) against freshly generated Python
# bindings and the debug cdylib: the ISO 18013-5 Annex D vectors, an mdoc issued by this
# project's own stack, the Annex D session vectors, bad input, and the trust store synced from
# the main job's DTS served by `mdoc-dts serve`. Exits non-zero on failure
# and prints `python sdk tests: N passed`.
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
trap 'rm -f "$log"; kill "$dts_pid" 2>/dev/null || true' EXIT
status=0
VERIFIER_SDK_BINDINGS="$out/python" VERIFIER_SDK_FIXTURE="$out/fixture" \
    VERIFIER_SDK_ISSUER_ARTIFACTS="$out/mdoc-dev/artifacts" \
    VERIFIER_SDK_DTS_INDEX="$dts_url/index.json" VERIFIER_SDK_DTS_PIN="$dts_pin" \
    python3 -m unittest discover -s verifier-sdk/tests/python -p 'test_*.py' -v 2>&1 | tee "$log" \
    || status=$?
ran="$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' "$log" | tail -n1)"
if [[ $status -ne 0 ]] || ! grep -q '^OK' "$log"; then
    echo "python sdk tests: FAILED (${ran:-0} run)"
    exit 1
fi
skipped="$(sed -n 's/^OK (skipped=\([0-9]*\)).*/\1/p' "$log")"
echo "python sdk tests: $(( ${ran:-0} - ${skipped:-0} )) passed"
