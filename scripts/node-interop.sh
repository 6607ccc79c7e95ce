#!/usr/bin/env bash
# Installs the independent OpenID4VCI wallet client used by tests/tests/oid4vci_interop.rs
# (tests/interop/oid4vci-wallet: @openid4vc/openid4vci and jose, pinned by package-lock.json)
# with `npm ci` into tests/interop/oid4vci-wallet/node_modules (gitignored). Idempotent: an
# install whose lockfile hash matches is left alone. Needs Node >= 20, npm and the npm registry.
# Prints the project directory on stdout; export it as OID4VCI_WALLET.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
project="$root/tests/interop/oid4vci-wallet"
stamp="$project/node_modules/.package-lock.sha256"

command -v node >/dev/null && command -v npm >/dev/null \
    || { echo "node-interop.sh: node and npm are needed (Node >= 20)" >&2; exit 1; }
major="$(node -p 'process.versions.node.split(".")[0]')"
if (( major < 20 )); then
    echo "node-interop.sh: Node >= 20 is needed, found $(node --version)" >&2
    exit 1
fi

want="$(sha256sum "$project/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -d "$project/node_modules/@openid4vc/openid4vci" ]]; then
    echo "$project"
    exit 0
fi

# --ignore-scripts: no package in the closure needs an install script, so none runs.
(cd "$project" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) >&2
(cd "$project" && node -e '
    const v = require("./node_modules/@openid4vc/openid4vci/package.json").version;
    const want = require("./package.json").dependencies["@openid4vc/openid4vci"];
    if (v !== want) { console.error(`@openid4vc/openid4vci ${v} installed, ${want} pinned`); process.exit(1); }
') >&2
echo "$want" > "$stamp"
echo "$project"
