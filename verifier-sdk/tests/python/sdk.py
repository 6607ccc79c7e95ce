"""Locates the generated bindings, the Annex D vectors and the own-stack fixture.

`scripts/python-sdk-tests.sh` sets VERIFIER_SDK_BINDINGS (the generated Python module with the
cdylib beside it) and VERIFIER_SDK_FIXTURE (written by the `python_fixture` example).
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORKSPACE = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(WORKSPACE, "target"))
BINDINGS = os.environ.get("VERIFIER_SDK_BINDINGS", os.path.join(TARGET, "bindings", "python"))
FIXTURE = os.environ.get("VERIFIER_SDK_FIXTURE", os.path.join(TARGET, "bindings", "fixture"))
VECTORS = os.path.normpath(os.path.join(WORKSPACE, "..", "shared", "vectors", "annex-d"))

sys.path.insert(0, BINDINGS)
import verifier_sdk  # noqa: E402  (the generated module)

# 2021-01-01T00:00:00Z: inside every Annex D validity period.
ANNEX_D_AT = 1609459200


def vector(name):
    with open(os.path.join(VECTORS, name), "rb") as f:
        return f.read()


def vector_text(name):
    return vector(name).decode("ascii")


def fixture(name):
    with open(os.path.join(FIXTURE, name), "rb") as f:
        return f.read()


def fixture_json():
    with open(os.path.join(FIXTURE, "fixture.json")) as f:
        return json.load(f)


def failures(report):
    """(kind, subject) of every failed check of every document."""
    out = []
    for doc in report.documents:
        for check in doc.checks:
            if not check.outcome.is_passed():
                out.append((check.kind, check.subject))
    return out


def outcome(doc, kind):
    """The outcome of the first check of `kind`."""
    for check in doc.checks:
        if check.kind == kind:
            return check.outcome
    raise AssertionError(f"no {kind} check")
