#!/usr/bin/env python3
"""Collects what `scripts/bench.sh` measured into one JSON file and a table, and compares two
such files.

    bench-report.py collect WORK_DIR --commit C --out FILE
    bench-report.py compare BEFORE.json AFTER.json

Every figure is a rate per second beside the reference it is held to, measured in the same run
(the raw signature operation of the same backend, nginx serving the same file, the Rust SDK
under the Python binding), and their ratio. `compare` prints each figure's change between two
runs and the change of its ratio, which is the number to trust on a shared machine.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys


def criterion_rate(work, bench):
    """Rate per second from criterion's median estimate (Throughput: 1 element per iteration)."""
    path = os.path.join(work, "criterion", *bench.split("/"), "new", "estimates.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        ns = json.load(f)["median"]["point_estimate"]
    return 1e9 / ns


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def figure(section, name, per_second, reference=None, reference_name=None, **extra):
    row = {"section": section, "name": name, "per_second": per_second}
    if reference is not None:
        row["reference"] = {"name": reference_name, "per_second": reference}
        row["ratio"] = per_second / reference
    row.update(extra)
    return row


def mso_figures(work):
    rows = []
    c = lambda b: criterion_rate(work, b)  # noqa: E731
    pairs = [
        ("issue one mDL, aws-lc", "issue/awslc_prebuilt_builder_prepare_sign_encode",
         "raw/awslc_p256_sign", "aws-lc ES256 sign"),
        ("issue one mDL, RustCrypto", "issue/prebuilt_builder_prepare_sign_encode",
         "raw/p256_sign", "p256 ES256 sign"),
        ("verify a DeviceResponse in mso, RustCrypto, warm trust store",
         "verify/device_response_warm_trust_store", "raw/p256_verify", "p256 ES256 verify"),
        ("verify a DeviceResponse in mso, RustCrypto, cold trust store",
         "verify/device_response_cold_trust_store", "raw/p256_verify", "p256 ES256 verify"),
    ]
    for name, bench, ref, ref_name in pairs:
        rate, ref_rate = c(bench), c(ref)
        if rate is not None and ref_rate is not None:
            rows.append(figure("mso", name, rate, ref_rate, ref_name))
    sha = c("raw/sha256_21kb_item")
    if sha is not None:
        rows.append(figure("mso", "SHA-256 of the 21 KB portrait item", sha))
    return rows


def sdk_figures(work):
    summary = load(os.path.join(work, "sdk", "summary.json"))
    if summary is None:
        return []
    ref = summary["reference"]
    rows = [figure("sdk", ref["label"], ref["per_second"])]
    for f in summary["figures"]:
        # The ratio is the median of the per-slice ratios, not the ratio of the medians.
        rows.append(
            figure("sdk", "verify: " + f["label"], f["per_second"], ref["per_second"],
                   ref["label"], ratio=f["ratio"])
        )
    return rows


def python_figures(work, sdk_rows):
    py = load(os.path.join(work, "python.json"))
    rust = [r for r in sdk_rows if r["name"] == "verify: verifier SDK"]
    if py is None or not rust:
        return []
    return [figure("python", "verify through the Python binding", py["per_second"],
                   rust[0]["per_second"], "verifier SDK from Rust, same run")]


def crl_figures(work):
    rows = []
    for name, bench in [
        ("load and verify a CRL of 1,000,000 entries", "crl_1m/load_verify"),
        ("look up a revoked serial in it", "crl_1m/is_revoked_hit"),
        ("look up a serial not in it", "crl_1m/is_revoked_miss"),
        ("build and sign a CRL of 1,000,000 entries (P-384)", "crl/build_sign_1m_entries_p384"),
    ]:
        rate = criterion_rate(work, bench)
        if rate is not None:
            rows.append(figure("crl", name, rate))
    return rows


def http_figures(work):
    rows = []
    for database in ("sqlite", "postgres"):
        flows = load(os.path.join(work, f"http-{database}.json"))
        for flow in flows or []:
            rounds = flow["rounds"]
            rows.append(figure(
                "http", f"{flow['label']} on {database}", flow["median_per_second"],
                statistics.median(r["raw_es256_sign_per_second"] for r in rounds),
                "raw ES256 sign, same process",
                p50_ms=statistics.median(r["p50_ms"] for r in rounds),
                p99_ms=statistics.median(r["p99_ms"] for r in rounds),
                p99_ms_worst=max(r["p99_ms"] for r in rounds),
            ))
    return rows


def dts_figures(work):
    rows = []
    for r in load(os.path.join(work, "dts.json")) or []:
        rows.append(figure(
            "dts", f"{r['resource']} ({r['answer']})", r["dts_per_second"],
            r["nginx_per_second"], "nginx, same file", p99=r["dts_p99"], nginx_p99=r["nginx_p99"],
        ))
    return rows


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model, "platform": platform.platform()}


def print_table(rows, out=sys.stdout):
    print(f"{'section':<7} {'figure':<62} {'per second':>12} {'reference/s':>12} {'ratio':>6}",
          file=out)
    for r in rows:
        ref = r.get("reference")
        extra = f"  p99 {r['p99_ms']:.1f} ms" if "p99_ms" in r else ""
        print(
            f"{r['section']:<7} {r['name'][:62]:<62} {r['per_second']:>12,.0f} "
            f"{(format(ref['per_second'], ',.0f') if ref else ''):>12} "
            f"{(format(r['ratio'], '.3f') if 'ratio' in r else ''):>6}{extra}",
            file=out,
        )


def collect(args):
    sdk_rows = sdk_figures(args.work)
    rows = (mso_figures(args.work) + sdk_rows + python_figures(args.work, sdk_rows)
            + crl_figures(args.work) + http_figures(args.work) + dts_figures(args.work))
    doc = {
        "commit": args.commit,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "figures": rows,
    }
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
    print_table(rows)


def compare(args):
    before, after = load(args.before), load(args.after)
    old = {(r["section"], r["name"]): r for r in before["figures"]}
    print(f"{before['commit']} -> {after['commit']}")
    print(f"{'figure':<70} {'before/s':>10} {'after/s':>10} {'change':>7} {'ratio before':>12} "
          f"{'after':>6}")
    new = {(r["section"], r["name"]) for r in after["figures"]}
    for r in after["figures"]:
        o = old.get((r["section"], r["name"]))
        if o is None:
            print(f"{(r['section'] + ': ' + r['name'])[:70]:<70} {'—':>10} "
                  f"{r['per_second']:>10,.0f}   (new)")
            continue
        change = r["per_second"] / o["per_second"] - 1
        ratios = ""
        if "ratio" in r and "ratio" in o:
            ratios = f"{o['ratio']:>12.3f} {r['ratio']:>6.3f}"
        print(f"{(r['section'] + ': ' + r['name'])[:70]:<70} {o['per_second']:>10,.0f} "
              f"{r['per_second']:>10,.0f} {change:>+7.1%} {ratios}")
    for key, o in old.items():
        if key not in new:
            print(f"{(o['section'] + ': ' + o['name'])[:70]:<70} {o['per_second']:>10,.0f} "
                  f"{'—':>10}   (not measured after)")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("work")
    c.add_argument("--commit", required=True)
    c.add_argument("--out", required=True)
    c.set_defaults(run=collect)
    d = sub.add_parser("compare")
    d.add_argument("before")
    d.add_argument("after")
    d.set_defaults(run=compare)
    args = p.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
