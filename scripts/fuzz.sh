#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ on stable Rust (no sanitizer) for FUZZ_SECONDS each.
#
#   scripts/fuzz.sh                      # all targets, 20 s each
#   FUZZ_SECONDS=60 scripts/fuzz.sh mso  # one target
#
# Environment:
#   FUZZ_SECONDS    seconds per target (default 20)
#   FUZZ_VECTORS    Annex D vectors directory (default ../shared/vectors/annex-d beside the repo)
#   FUZZ_CRASH_DIR  if set, every new crash/timeout/oom artifact is also copied there
#   FUZZ_ARGS       extra libFuzzer arguments (e.g. "-max_len=65536")
#
# Seeds fuzz/corpus/<target>/ from the Annex D vectors (the corpora are gitignored), builds all
# targets once, runs each, prints execs/s per target, and exits non-zero if any target found a
# crash, printing the artifact path and its hex.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ_DIR="$ROOT/fuzz"
FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
VECTORS="${FUZZ_VECTORS:-$ROOT/../shared/vectors/annex-d}"
CARGO_FUZZ_VERSION="0.13.2"
# Stable Rust: no sanitizer. Debug assertions turn integer overflow into a finding.
BUILD_FLAGS=(--sanitizer none --debug-assertions)

cd "$ROOT"

# 1. cargo-fuzz.
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

# 2. Targets.
if [ "$#" -gt 0 ]; then
    TARGETS=("$@")
else
    mapfile -t TARGETS < <(cargo fuzz list)
fi

# 3. Seed corpora (copies, never moves; existing corpus entries are kept).
if [ -d "$VECTORS" ]; then
    echo "== seeding fuzz/corpus from $VECTORS"
    if command -v python3 >/dev/null 2>&1; then
        python3 "$FUZZ_DIR/tools/make_seeds.py" "$VECTORS" "$FUZZ_DIR/corpus"
    else
        # Without python: plain copies of the vector files (no nested structures).
        for t in "${TARGETS[@]}"; do
            mkdir -p "$FUZZ_DIR/corpus/$t"
            if [ "$t" = certificate ]; then
                cp -f "$VECTORS"/*.der "$VECTORS"/session/*.der "$FUZZ_DIR/corpus/$t/" 2>/dev/null || true
            else
                cp -f "$VECTORS"/*.cbor "$VECTORS"/session/*.cbor "$FUZZ_DIR/corpus/$t/" 2>/dev/null || true
            fi
        done
    fi
else
    echo "== warning: $VECTORS not found; fuzzing from empty corpora" >&2
fi

# 4. Build once.
echo "== building ${#TARGETS[@]} targets"
cargo fuzz build "${BUILD_FLAGS[@]}"

# 5. Run.
artifacts() { find "$FUZZ_DIR/artifacts/$1" -maxdepth 1 -type f 2>/dev/null | sort; }

LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/mso-fuzz.XXXXXX")"
failed=()
summary=()
for t in "${TARGETS[@]}"; do
    mkdir -p "$FUZZ_DIR/corpus/$t" "$FUZZ_DIR/artifacts/$t"
    before="$(artifacts "$t")"
    log="$LOG_DIR/$t.log"
    echo "== fuzzing $t for ${FUZZ_SECONDS}s (log: $log)"
    status=0
    dict=()
    [ "$t" = certificate ] || dict=(-dict="$FUZZ_DIR/mso.dict")
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of libFuzzer flags.
    cargo fuzz run "${BUILD_FLAGS[@]}" "$t" -- \
        -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "${dict[@]}" ${FUZZ_ARGS:-} >"$log" 2>&1 || status=$?
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)"
    cov="$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n1 || true)"
    new="$(comm -13 <(printf '%s\n' "$before") <(artifacts "$t") | sed '/^$/d' || true)"
    if [ "$status" -ne 0 ] || [ -n "$new" ]; then
        failed+=("$t")
        summary+=("$(printf '%-20s FAILED  runs=%s exec/s=%s %s' "$t" "${runs:-?}" "${rate:-?}" "$cov")")
        echo "!! $t: libFuzzer exited with $status"
        grep -E -A12 "panicked at|ERROR: libFuzzer|deadly signal|SUMMARY" "$log" | head -n 40 || true
        for a in $new; do
            echo "!! artifact: $a"
            echo "!! hex: $(od -An -v -tx1 "$a" | tr -d ' \n' | head -c 4096)"
            if [ -n "${FUZZ_CRASH_DIR:-}" ]; then
                mkdir -p "$FUZZ_CRASH_DIR"
                cp -f "$a" "$FUZZ_CRASH_DIR/$t-$(basename "$a")"
            fi
        done
        [ -n "$new" ] || tail -n 30 "$log"
    else
        summary+=("$(printf '%-20s ok      runs=%s exec/s=%s %s' "$t" "${runs:-?}" "${rate:-?}" "$cov")")
    fi
done

echo
echo "== summary (${FUZZ_SECONDS}s per target; logs in $LOG_DIR)"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "== crashes in: ${failed[*]}" >&2
    echo "   reproduce: cargo fuzz run ${BUILD_FLAGS[*]} <target> <artifact>" >&2
    exit 1
fi
echo "== no crashes"
