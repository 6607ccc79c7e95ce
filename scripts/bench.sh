#!/usr/bin/env bash
# Every performance figure of the project beside its raw limit, measured in one run, printed as
# a table and written as JSON for comparison between commits (`scripts/bench-report.py A B`
# compares two such files).
#
#   scripts/bench.sh                       everything; JSON to bench-results/<commit>.json
#   scripts/bench.sh --only mso,sdk        some sections
#   scripts/bench.sh --out FILE            the JSON elsewhere
#
# Sections (each figure beside the reference measured in the same run):
#   mso     issuing one mDL (12 elements, 20 KB portrait) in `mso` with aws-lc and with
#           RustCrypto, beside the raw ES256 sign of each backend; cold and warm verification
#           beside the raw verify (cargo bench -p mso --bench issue_verify)
#   sdk     verifying a DeviceResponse through the verifier SDK and through `mso`, beside raw
#           aws-lc verify, in alternating slices (cargo bench -p verifier-sdk --bench verify)
#   python  the same verification called from Python through the generated bindings (release
#           cdylib), beside the Rust SDK figure of this run
#   crl     loading and verifying a CRL of 1,000,000 entries and looking a serial up (mso), and
#           building and signing it (mdoc-ca)
#   http    HTTP issuance (`issuer-load --flow both`: `/v1` and OpenID4VCI) on SQLite and, when
#           it is up, PostgreSQL at 127.0.0.1:5432, beside the raw ES256 sign rate
#   dts     the DTS beside nginx serving the same files (scripts/bench-dts.sh)
#
# The CPU-bound sections run on one core (`taskset -c 1`). On a machine shared with other work,
# BENCH_CPU_TIME=1 makes the mso section count on-CPU time (rates per core-second). About
# 15 minutes for everything on a 2-core machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

only="mso,sdk,python,crl,http,dts"
out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --only) only="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "usage: scripts/bench.sh [--only SECTIONS] [--out FILE]" >&2; exit 2 ;;
    esac
done
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -n "$(git status --porcelain 2>/dev/null)" ]] && commit="$commit-dirty"
out="${out:-bench-results/$commit.json}"
mkdir -p "$(dirname "$out")"
target="${CARGO_TARGET_DIR:-target}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export CRITERION_HOME="$work/criterion"
wants() { [[ ",$only," == *",$1,"* ]]; }
step() { printf '\n==> %s  [%ds]\n' "$*" "$SECONDS" >&2; }
command -v taskset >/dev/null || { apt-get update -qq && apt-get install -y -qq util-linux >/dev/null; }

if wants mso; then
    step "mso: issuance and verification beside raw ECDSA"
    # The bench checks MSO_BENCH_CPU_TIME's presence, not its value: set it only when asked.
    env ${BENCH_CPU_TIME:+MSO_BENCH_CPU_TIME=1} taskset -c 1 cargo bench -q -p mso --bench issue_verify -- \
        '^(raw/(awslc_p256_sign|p256_sign|p256_verify|sha256_21kb_item)|issue/(awslc_prebuilt_builder_prepare_sign_encode|prebuilt_builder_prepare_sign_encode)|verify/device_response_(warm|cold)_trust_store)$' >&2
fi
if wants sdk || wants python; then
    step "verifier SDK: verification beside raw aws-lc verify"
    VERIFY_BENCH_OUT="$work/sdk" taskset -c 1 cargo bench -q -p verifier-sdk --bench verify >&2
fi
if wants python; then
    step "verifier SDK from Python (release cdylib)"
    cargo build -q --release -p verifier-sdk -p uniffi-bindgen
    case "$(uname -s)" in Darwin) lib=libverifier_sdk.dylib ;; *) lib=libverifier_sdk.so ;; esac
    "$target/release/uniffi-bindgen" generate "$target/release/$lib" \
        --language python --out-dir "$work/python" >/dev/null
    cp "$target/release/$lib" "$work/python/"
    taskset -c 1 python3 verifier-sdk/benches/python_verify.py "$work/python" "$work/sdk" >"$work/python.json"
fi
if wants crl; then
    step "CRL of 1,000,000 entries: load and verify, look up (mso); build and sign (mdoc-ca)"
    taskset -c 1 cargo bench -q -p mso --bench crl >&2
    taskset -c 1 cargo bench -q -p mdoc-ca --bench crl >&2
fi
if wants http; then
    step "HTTP issuance: /v1 and OpenID4VCI on SQLite and PostgreSQL"
    cargo build -q --release -p devstack --bin issuer-load
    load=("$target/release/issuer-load" --flow both --requests 4000 --rounds 3 --warmup 500)
    "${load[@]}" --database sqlite --json "$work/http-sqlite.json" >&2
    if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    fi
    if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
        "${load[@]}" --database postgres --json "$work/http-postgres.json" >&2
    else
        echo "PostgreSQL is not up at 127.0.0.1:5432: its figures are skipped" >&2
    fi
fi
if wants dts; then
    step "DTS beside nginx"
    JSON="$work/dts.json" bash scripts/bench-dts.sh >&2
fi

step "report"
python3 scripts/bench-report.py collect "$work" --commit "$commit" --out "$out"
echo "figures written to $out" >&2
