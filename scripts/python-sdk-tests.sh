#!/usr/bin/env bash
# Runs the verifier SDK's Python tests (stdlib unittest) against freshly generated Python
# bindings and the debug cdylib: the ISO 18013-5 Annex D vectors, an mdoc issued by this
# project's own stack, the Annex D session vectors, and bad input. Exits non-zero on failure
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

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
VERIFIER_SDK_BINDINGS="$out/python" VERIFIER_SDK_FIXTURE="$out/fixture" \
    VERIFIER_SDK_ISSUER_ARTIFACTS="$out/mdoc-dev/artifacts" \
    python3 -m unittest discover -s verifier-sdk/tests/python -p 'test_*.py' -v 2>&1 | tee "$log" \
    || status=$?
ran="$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' "$log" | tail -n1)"
if [[ $status -ne 0 ]] || ! grep -q '^OK' "$log"; then
    echo "python sdk tests: FAILED (${ran:-0} run)"
    exit 1
fi
skipped="$(sed -n 's/^OK (skipped=\([0-9]*\)).*/\1/p' "$log")"
echo "python sdk tests: $(( ${ran:-0} - ${skipped:-0} )) passed"
