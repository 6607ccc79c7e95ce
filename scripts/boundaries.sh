#!/usr/bin/env bash
# The crate boundaries of ARCHITECTURE.md: each workspace crate's normal (non-dev) dependencies
# on other workspace crates must be in its allowed set. Fails naming every crossing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
meta="$(mktemp)"
trap 'rm -f "$meta"' EXIT
cargo metadata --format-version 1 --no-deps >"$meta"
python3 - "$meta" <<'PY'
import json, sys

ALLOWED = {
    "mso": set(),
    "schemas": {"mso"},
    "custody": {"mso"},
    "mdoc-httpd": set(),
    "mdoc-jose": {"mso"},
    "mdoc-oid4vp": {"mso", "mdoc-jose"},
    "mdoc-issuer": {"mso", "schemas", "custody", "mdoc-httpd", "mdoc-jose"},
    "mdoc-ca": {"mso", "custody"},
    "mdoc-dts": {"mso", "custody", "mdoc-httpd"},
    "verifier-sdk": {"mso", "schemas", "mdoc-jose", "mdoc-oid4vp"},
    "wallet-sdk": {"mso", "schemas", "verifier-sdk", "mdoc-jose", "mdoc-oid4vp"},
    "mdoc-test-kit": {"mso", "custody"},
    "devstack": {"mso", "schemas", "custody", "mdoc-issuer", "mdoc-ca", "mdoc-dts", "mdoc-httpd",
                 "verifier-sdk", "wallet-sdk"},
    "e2e-tests": {"mso"},
    "uniffi-bindgen": set(),
}
meta = json.load(open(sys.argv[1]))
members = {p["name"] for p in meta["packages"]}
bad = []
for p in meta["packages"]:
    name = p["name"]
    if name not in ALLOWED:
        bad.append(f"{name} is not in the boundary table (ARCHITECTURE.md, scripts/boundaries.sh)")
        continue
    for d in p["dependencies"]:
        if d["name"] in members and d["kind"] is None and d["name"] not in ALLOWED[name]:
            bad.append(f"{name} may not depend on {d['name']}")
for b in bad:
    print("boundary:", b)
print(f"crate boundaries: {len(meta['packages'])} crates, {len(bad)} crossings")
sys.exit(1 if bad else 0)
PY
