#!/usr/bin/env python3
"""Verify an mdoc made by another implementation with pymdoccbor 1.4.0, for tests/tests/pymdoccbor.rs.

usage: .venv/bin/python py_verify.py INPUT [--shape auto|device-response|document|issuer-signed]
                                           [--doctype DT] [--trust-root CERT]... [--at TIME] [--strict]

INPUT         a binary CBOR file. An outer #6.24(bstr) is unwrapped.
--shape       what INPUT holds (default auto: guessed from the top-level keys). pymdoccbor's
              MdocCbor.verify() only reads a DeviceResponse, so a Document or an IssuerSigned is
              spliced, byte for byte (never re-encoded), into {"status", "version", "documents"}.
--doctype     docType for a wrapped IssuerSigned (default: the MSO's docType).
--trust-root  IACA certificate (PEM or DER), repeatable. Without one pymdoccbor SKIPS the DS chain
              and DS validity checks (mso/verifier.py:137). With one it checks the DS certificate
              signature against it and the DS validity against the clock (mso/verifier.py:172).
--at          ISO-8601 instant that replaces the wall clock inside pymdoccbor, e.g. 2026-06-01T12:00:00Z.
--strict      also fail on the ISO 18013-5 checks pymdoccbor never makes (listed as "notes"):
              MSO docType, MSO validityInfo at --at, digestAlgorithm, namespaces missing from the MSO.

exit: 0 verified, 1 pymdoccbor rejected it, 2 a --strict note, 3 unusable input.
stdout: JSON {"result", "reason"?, "documents": [{"docType", "valid", "disclosed": {ns: {id: value}},
        "mso", "notes", ...}]}; bytes are {"$bytes_b64", "$len"}, full-dates {"$full-date"}.
"""
import argparse
import base64
import datetime as dt
import json
import logging
import sys

import cbor2
from cryptography import x509

import pymdoccbor
import pymdoccbor.mso.verifier as mso_verifier
from pymdoccbor.mdoc.verifier import MdocCbor, MobileDocument


def head(buf, pos):
    """(major type, argument, offset after the head) of the CBOR item at buf[pos]."""
    mt, ai = buf[pos] >> 5, buf[pos] & 0x1F
    if ai < 24:
        return mt, ai, pos + 1
    n = 1 << (ai - 24)
    return mt, int.from_bytes(buf[pos + 1:pos + 1 + n], "big"), pos + 1 + n


def wrap_documents(raw_docs):
    """Splice raw Document bytes into a DeviceResponse (same key order as pymdoccbor's dump)."""
    return (b"\xa3" + cbor2.dumps("status") + b"\x00" + cbor2.dumps("version") + cbor2.dumps("1.0")
            + cbor2.dumps("documents") + cbor2.dumps([None] * len(raw_docs))[:-len(raw_docs)] + b"".join(raw_docs))


def jsonable(v):
    if isinstance(v, (bytes, bytearray)):
        return {"$bytes_b64": base64.b64encode(v).decode(), "$len": len(v)}
    if isinstance(v, dt.datetime):
        return v.isoformat().replace("+00:00", "Z")
    if isinstance(v, dt.date):
        return {"$full-date": v.isoformat()}
    if isinstance(v, cbor2.CBORTag):
        return {"$tag": v.tag, "value": jsonable(v.value)}
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return v


def load_cert(path):
    data = open(path, "rb").read()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def freeze_clock(instant):
    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return instant if tz is None else instant.astimezone(tz)

    mso_verifier.datetime = Frozen  # mso/verifier.py: `from datetime import datetime, timezone`


def finish(code, summary, reason=None):
    summary["result"] = "VERIFIED" if code == 0 else "FAILED"
    if reason:
        summary["reason"] = reason
        print("VERIFICATION FAILED: " + reason, file=sys.stderr)
    print(json.dumps(summary, indent=2))
    sys.exit(code)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("--shape", default="auto", choices=["auto", "device-response", "document", "issuer-signed"])
    ap.add_argument("--doctype")
    ap.add_argument("--trust-root", action="append", default=[])
    ap.add_argument("--at")
    ap.add_argument("--strict", action="store_true")
    a = ap.parse_args()
    summary = {"pymdoccbor_version": pymdoccbor.__version__, "input": a.input}

    raw = open(a.input, "rb").read()
    try:
        if raw[:2] == b"\xd8\x18":  # #6.24(bstr): unwrap
            _, n, p = head(raw, 2)
            raw = raw[p:p + n]
        top = cbor2.loads(raw)
    except Exception as e:  # noqa: BLE001
        finish(3, summary, "input is not well-formed CBOR: %r" % e)
    if not isinstance(top, dict):
        finish(3, summary, "top-level item is not a map")
    shape = a.shape
    if shape == "auto":
        shape = ("device-response" if "documents" in top else "document" if "issuerSigned" in top
                 else "issuer-signed" if "issuerAuth" in top else None)
        if shape is None:
            finish(3, summary, "cannot tell the shape from keys %s" % list(top))
    summary["input_shape"] = shape
    if shape == "document":
        raw = wrap_documents([raw])
    elif shape == "issuer-signed":
        doctype = a.doctype
        if not doctype:
            ia = top["issuerAuth"]
            ia = ia.value if isinstance(ia, cbor2.CBORTag) else ia
            doctype = cbor2.loads(cbor2.loads(ia[2]).value)["docType"]
        raw = wrap_documents([b"\xa2" + cbor2.dumps("docType") + cbor2.dumps(doctype)
                              + cbor2.dumps("issuerSigned") + raw])

    roots = [load_cert(p) for p in a.trust_root] or None
    now = dt.datetime.fromisoformat(a.at.replace("Z", "+00:00")) if a.at else dt.datetime.now(dt.timezone.utc)
    if a.at:
        freeze_clock(now)
    summary["clock"] = now.isoformat() if a.at else "wall clock"

    log = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda r: log.append("%s: %s" % (r.levelname, r.getMessage()))
    lg = logging.getLogger("pymdoccbor")
    lg.addHandler(handler)
    lg.setLevel(logging.DEBUG)
    lg.propagate = False

    mdoc = MdocCbor()
    try:
        mdoc.loads(raw)
        ok = mdoc.verify(trusted_root_certs=roots, verify_hashes=True)
    except Exception as e:  # noqa: BLE001  (MobileDocument(**doc) runs outside pymdoccbor's try)
        summary["pymdoccbor_log"] = log
        finish(1, summary, "pymdoccbor raised %s: %s" % (type(e).__name__, e))
    summary["pymdoccbor_log"] = [m for m in log if m.startswith(("WARNING", "ERROR"))]

    docs, reasons, strict = [], [], []
    for d, accepted in [(d, True) for d in mdoc.documents] + [(d, False) for d in mdoc.documents_invalid]:
        if not isinstance(d, MobileDocument):  # pymdoccbor keeps the raw dict after an exception
            docs.append({"docType": d.get("docType"), "valid": False})
            reasons += [m for m in log if m.startswith("ERROR")]
            continue
        ia = d.issuersigned.issuer_auth
        mso = ia.payload_as_dict
        vi = mso.get("validityInfo", {})
        entry = {
            "docType": d.doctype, "valid": bool(accepted and d.is_valid),
            "hash_verification": d.hash_verification,
            "x5chain": [c.subject.rfc4514_string() for c in ia.x509_certificates],
            "chain_verified_to": ia.verified_root.subject.rfc4514_string() if ia.verified_root else None,
            "mso": {"docType": mso.get("docType"), "digestAlgorithm": mso.get("digestAlgorithm"),
                    "validityInfo": jsonable(vi)},
            "disclosed": {ns: jsonable(mdoc._decode_claims(items)) for ns, items in d.issuersigned.namespaces.items()},
            "deviceSigned_present": bool(d.devicesigned),
        }
        # ISO 18013-5 checks that pymdoccbor does not make.
        notes = []
        if mso.get("docType") != d.doctype:
            notes.append("MSO docType %r != Document docType %r" % (mso.get("docType"), d.doctype))
        if mso.get("digestAlgorithm") != "SHA-256":
            notes.append("digestAlgorithm %r, but pymdoccbor always hashes with SHA-256" % mso.get("digestAlgorithm"))
        vf, vu = vi.get("validFrom"), vi.get("validUntil")
        if not (isinstance(vf, dt.datetime) and isinstance(vu, dt.datetime) and vf <= now <= vu):
            notes.append("MSO validityInfo [%s, %s] does not contain %s" % (vf, vu, now))
        notes += ["namespace %r is not in the MSO valueDigests (pymdoccbor only warns)" % ns
                  for ns in d.issuersigned.namespaces if ns not in mso.get("valueDigests", {})]
        if roots is None:
            notes.append("no --trust-root: the DS certificate was not checked at all")
        entry["notes"] = notes
        strict += ["%s: %s" % (d.doctype, n) for n in notes]
        if d.devicesigned:
            entry["notes"].append("deviceSigned present, but pymdoccbor never verifies device authentication")
        if not entry["valid"]:
            hv = d.hash_verification
            reasons.append("%s: %s" % (d.doctype, "issuerAuth signature did not verify" if hv is None
                                       else "value digest check failed: %s" % json.dumps(hv["failed"])))
        docs.append(entry)
    summary["documents"] = docs

    if not ok or not docs or any(not e["valid"] for e in docs):
        finish(1, summary, "; ".join(reasons) or "pymdoccbor returned False")
    if a.strict and strict:
        finish(2, summary, "--strict: " + "; ".join(strict))
    finish(0, summary)


if __name__ == "__main__":
    main()
