#!/usr/bin/env bash
# Creates (or refreshes) <repo>/.venv with the pinned pymdoccbor, joserfc, pyhpke and
# openapi-spec-validator used by the interop tests (tests/tests/pymdoccbor.rs, tests/interop/,
# issuer/tests/jose/interop.rs) and the check of the issuer's generated OpenAPI document
# (issuer/tests/api/openapi.rs). Idempotent: a venv whose installed requirements match
# tests/interop/requirements.txt is left alone. Needs python3 (with venv) and PyPI only.
# Prints the interpreter path on stdout; export it as MDOC_PYTHON to use another venv.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
req="$root/tests/interop/requirements.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
    && "$venv/bin/python" -c 'import pymdoccbor, joserfc, openapi_spec_validator, pyhpke' 2>/dev/null; then
    echo "$venv/bin/python"
    exit 0
fi

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
    rm -rf "$venv"
    if ! "$python" -m venv "$venv" >&2; then
        echo "python-venv.sh: '$python -m venv' failed (on Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2
"$venv/bin/python" -c 'import pymdoccbor; assert pymdoccbor.__version__ == "1.4.0", pymdoccbor.__version__'
"$venv/bin/python" -c 'import joserfc; assert joserfc.__version__ == "1.8.0", joserfc.__version__'
"$venv/bin/python" -c 'import importlib.metadata as m; v = m.version("pyhpke"); assert v == "0.6.5", v'
echo "$want" > "$stamp"
echo "$venv/bin/python"
