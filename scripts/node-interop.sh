#!/usr/bin/env bash
# Installs one of the independent OpenID4VCI components from the npm registry, pinned exactly
# by its package-lock.json, with `npm ci` into tests/interop/<project>/node_modules (gitignored):
#
#   oid4vci-wallet (default)  the wallet client run against our issuer by
#                             tests/tests/oid4vci_interop.rs (@openid4vc/openid4vci, jose);
#                             export the printed directory as OID4VCI_WALLET
#   oid4vci-issuer            the issuer our wallet SDK is run against by
#                             tests/tests/wallet_sdk/npm_issuer.rs (@openid4vc/openid4vci,
#                             @openid4vc/oauth2, @animo-id/mdoc); export it as OID4VCI_ISSUER
#   dcql                      the DCQL implementation (dcql, dcql-ts) whose verdicts
#                             oid4vp/tests/dcql/interop.rs compares with ours; export it as DCQL_TS
#   oid4vp-verifier           the OpenID4VP 1.0 verifier the wallet SDK's online presentation
#                             is checked against by tests/tests/wallet_sdk/npm_verifier.rs
#                             (@openid4vc/openid4vp, dcql, jose, @animo-id/mdoc); export it as
#                             OID4VP_VERIFIER
#
# Idempotent: an install whose lockfile hash matches is left alone. Every dependency pinned in
# package.json must be installed at exactly that version. Needs Node >= 20, npm and the npm
# registry. Prints the project directory on stdout.
set -euo pipefail

name="${1:-oid4vci-wallet}"
case "$name" in
    oid4vci-wallet | oid4vci-issuer | dcql | oid4vp-verifier) ;;
    *) echo "node-interop.sh: unknown project $name (oid4vci-wallet, oid4vci-issuer, dcql or oid4vp-verifier)" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
project="$root/tests/interop/$name"
stamp="$project/node_modules/.package-lock.sha256"

command -v node >/dev/null && command -v npm >/dev/null \
    || { echo "node-interop.sh: node and npm are needed (Node >= 20)" >&2; exit 1; }
major="$(node -p 'process.versions.node.split(".")[0]')"
if (( major < 20 )); then
    echo "node-interop.sh: Node >= 20 is needed, found $(node --version)" >&2
    exit 1
fi

want="$(sha256sum "$project/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -d "$project/node_modules" ]]; then
    echo "$project"
    exit 0
fi

# --ignore-scripts: no package in any of the closures needs an install script, so none runs.
(cd "$project" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) >&2
(cd "$project" && node -e '
    const pins = require("./package.json").dependencies;
    let bad = 0;
    for (const [dep, want] of Object.entries(pins)) {
        const v = require(`./node_modules/${dep}/package.json`).version;
        if (v !== want) { console.error(`${dep} ${v} installed, ${want} pinned`); bad++; }
    }
    process.exit(bad ? 1 : 0);
') >&2
echo "$want" > "$stamp"
echo "$project"
