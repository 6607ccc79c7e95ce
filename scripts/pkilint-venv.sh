#!/usr/bin/env bash
# Creates (or refreshes) <repo>/.venv-pkilint with pkilint and its dependency closure pinned by
# tests/interop/pkilint-requirements.txt (PyPI), used by the ignored-by-default pkilint tests in
# ca/tests/suite/x509_pkilint.rs. Idempotent: a venv whose installed requirements match that
# file is left alone. Needs python3 (with venv) and PyPI only.
# Prints the interpreter path on stdout; export it as PKILINT_PYTHON to use another venv.
set -euo pipefail

PKILINT_VERSION="0.13.3"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PKILINT_VENV:-$root/.venv-pkilint}"
req="$root/tests/interop/pkilint-requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
python="${PYTHON:-python3}"

installed() {
    "$venv/bin/python" - "$PKILINT_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("pkilint") == sys.argv[1] else 1)
PY
}

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && installed; then
    echo "$venv/bin/python"
    exit 0
fi

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
    rm -rf "$venv"
    if ! "$python" -m venv "$venv" >&2; then
        echo "pkilint-venv.sh: '$python -m venv' failed (on Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2
if ! installed; then
    echo "pkilint-venv.sh: pkilint $PKILINT_VERSION did not install into $venv" >&2
    exit 1
fi
echo "$want" > "$stamp"
echo "$venv/bin/python"
