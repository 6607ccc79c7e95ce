#!/usr/bin/env bash
# Serving benchmark of the DTS beside nginx (Debian) serving the `mdoc-dts export` tree of the
# same state, same machine, same load tool (wrk), same run. The server under test is pinned to
# CPU 0 and wrk to CPU 1; nginx runs one worker. For each resource: requests/s and p99 latency
# of full 200 answers and of 304 answers (If-None-Match), and the ratio DTS / nginx. Each
# figure is the median of RUNS runs, the two servers' runs interleaved so both see the same
# machine (a shared VM's neighbours move the numbers by tens of percent from run to run).
#
#   scripts/bench-dts.sh            (DURATION=5 RUNS=3 CONNECTIONS=32 by default)
#   JSON=dts.json scripts/bench-dts.sh   also writes the table's rows as JSON
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION="${DURATION:-5}"
RUNS="${RUNS:-3}"
CONNECTIONS="${CONNECTIONS:-32}"
DTS_PORT=18480
NGINX_PORT=18481

if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
    apt-get update -qq && apt-get install -y -qq nginx wrk >/dev/null
fi
cargo build --release -q -p mdoc-dts --bin mdoc-dts --example bench_fixture
release="${CARGO_TARGET_DIR:-target}/release"
work="$(mktemp -d)"
chmod 755 "$work" # nginx workers run as an unprivileged user
cleanup() {
    [[ -n "${dts_pid:-}" ]] && kill "$dts_pid" 2>/dev/null || true
    [[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

"$release/examples/bench_fixture" "$work/dts" "http://127.0.0.1:$DTS_PORT" >/dev/null
"$release/mdoc-dts" --config "$work/dts/mdoc-dts.toml" export "$work/tree" >/dev/null 2>&1

# One core, one runtime worker: as nginx runs one worker process on that core.
TOKIO_WORKER_THREADS=1 RUST_LOG=warn taskset -c 0 "$release/mdoc-dts" --config "$work/dts/mdoc-dts.toml" serve 2>"$work/dts.log" &
dts_pid=$!
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=1000 inactive=60s;  # no open()/stat() per request: nginx at its best
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $work/tree;
        include $work/tree/_nginx.conf;
    }
}
CONF
taskset -c 0 nginx -c "$work/nginx.conf"
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$DTS_PORT/index.json" >/dev/null && curl -sf "http://127.0.0.1:$NGINX_PORT/index.json" >/dev/null && break
    sleep 0.2
done

index="$(curl -sf "http://127.0.0.1:$DTS_PORT/index.json")"
root_path="$(python3 -c 'import json,sys; d=json.load(sys.stdin); print([r for r in d["roots"] if "small" in r["crl_url"]][0]["der"]["url"].split("/",3)[3])' <<<"$index")"
paths=("crl/small.crl" "index.json" "$root_path" "crl/big.crl")
names=("CRL (empty)" "index.json" "root DER" "CRL 1,000,000 entries")

# Each served file must be byte-identical on both servers before anything is measured.
for p in "${paths[@]}"; do
    cmp <(curl -sf "http://127.0.0.1:$DTS_PORT/$p") <(curl -sf "http://127.0.0.1:$NGINX_PORT/$p")
done

run() { # port path [etag]
    local extra=()
    [[ -n "${3:-}" ]] && extra=(-H "If-None-Match: $3")
    taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "${extra[@]}" "http://127.0.0.1:$1/$2" 2>&1
}
rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'; }
p99() { sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*$/\1/p'; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
# wrk prints latencies as 950.00us, 1.20ms or 1.10s: the median by value, printed as given.
median_time() {
    for t in $@; do
        python3 -c "import sys; t=sys.argv[1]; u={'us':1e-6,'ms':1e-3,'s':1}; n=t.rstrip('usm'); print(float(n)*u[t[len(n):]], t)" "$t"
    done | sort -g | sed -n "$(( ($# + 1) / 2 ))p" | cut -d' ' -f2
}

rows=()
printf '%-24s %-6s %14s %10s %14s %10s %7s\n' resource answer "DTS req/s" "DTS p99" "nginx req/s" "nginx p99" ratio
for i in "${!paths[@]}"; do
    p="${paths[$i]}"
    for mode in 200 304; do
        dts_etag="" nginx_etag=""
        if [[ $mode == 304 ]]; then
            dts_etag="$(curl -sfI "http://127.0.0.1:$DTS_PORT/$p" | sed -n 's/^etag: *//Ip' | tr -d '\r')"
            nginx_etag="$(curl -sfI "http://127.0.0.1:$NGINX_PORT/$p" | sed -n 's/^etag: *//Ip' | tr -d '\r')"
            [[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $dts_etag" "http://127.0.0.1:$DTS_PORT/$p")" == 304 ]]
            [[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $nginx_etag" "http://127.0.0.1:$NGINX_PORT/$p")" == 304 ]]
        fi
        d_rps=() d_p99=() n_rps=() n_p99=()
        for _ in $(seq "$RUNS"); do
            d="$(run $DTS_PORT "$p" "$dts_etag")"
            n="$(run $NGINX_PORT "$p" "$nginx_etag")"
            d_rps+=("$(rps <<<"$d")"); d_p99+=("$(p99 <<<"$d")")
            n_rps+=("$(rps <<<"$n")"); n_p99+=("$(p99 <<<"$n")")
        done
        dr="$(median "${d_rps[@]}")"; nr="$(median "${n_rps[@]}")"
        dp="$(median_time "${d_p99[@]}")"; np="$(median_time "${n_p99[@]}")"
        printf '%-24s %-6s %14s %10s %14s %10s %7s\n' "${names[$i]}" "$mode" "$dr" "$dp" "$nr" "$np" \
            "$(python3 -c "print(f'{$dr/$nr:.2f}')")"
        rows+=("${names[$i]}|$mode|$dr|$dp|$nr|$np")
    done
done
if [[ -n "${JSON:-}" ]]; then
    printf '%s\n' "${rows[@]}" | python3 -c '
import json, sys
rows = []
for line in sys.stdin.read().splitlines():
    name, answer, dr, dp, nr, np = line.split("|")
    rows.append({"resource": name, "answer": int(answer), "dts_per_second": float(dr),
                 "dts_p99": dp, "nginx_per_second": float(nr), "nginx_p99": np,
                 "ratio": float(dr) / float(nr)})
json.dump(rows, open(sys.argv[1], "w"), indent=1)
' "$JSON"
fi
