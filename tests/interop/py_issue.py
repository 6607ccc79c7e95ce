#!/usr/bin/env python3
"""Issue an ISO 18013-5 mDL with pymdoccbor 1.4.0 (MdocCborIssuer), for tests/tests/pymdoccbor.rs.

usage: .venv/bin/python py_issue.py OUT_DIR [--now 2026-03-01T08:00:00Z] [--x5chain-array]

  --now            instant used as "now" by this script AND inside pymdoccbor (whose MSO issuer
                   reads datetime.utcnow() for `signed` and clamps validFrom to it), so the output
                   is reproducible apart from keys, salts and signatures. Default: the wall clock.
  --x5chain-array  x5chain = [DS, IACA] (pymdoccbor writes an array of bstr); default [DS] alone
                   (pymdoccbor writes a single bstr, as ISO 18013-5 9.1.2.4 expects).

Writes into OUT_DIR:
  pymdoccbor_output.cbor  the exact bytes of MdocCborIssuer.dump(): a DeviceResponse-like map
                          {"status", "version", "documents": [{"docType", "issuerSigned"}]}
                          (no deviceSigned: see README.md)
  iaca_cert.pem / .der    self-signed P-256 IACA that signed the DS certificate
  ds_cert.der             the Document Signer certificate (P-256)
  device_key.pem          the holder's device private key (P-256, PKCS#8) bound in the MSO
  elements.json           what was issued
"""
import argparse
import base64
import copy
import datetime as dt
import json
import os
import types

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

import pymdoccbor.mso.issuer as mso_issuer
from pymdoccbor.mdoc.issuer import MdocCborIssuer

DOCTYPE = "org.iso.18013.5.1.mDL"
NS = "org.iso.18013.5.1"


def freeze_clock(now):
    """Make pymdoccbor's MSO issuer see `now` (mso/issuer.py: `import datetime`, utcnow())."""

    class Frozen(dt.datetime):
        @classmethod
        def utcnow(cls):
            return now.replace(tzinfo=None)

        @classmethod
        def now(cls, tz=None):
            return now if tz is None else now.astimezone(tz)

    mso_issuer.datetime = types.SimpleNamespace(datetime=Frozen, timedelta=dt.timedelta)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(now):
    """IACA (P-256, self-signed) -> DS (P-256, EKU id-mdl-kp-mdlDS), shaped like 18013-5 Annex B."""
    iaca_key, ds_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    iaca = (x509.CertificateBuilder()
            .subject_name(name("pymdoccbor interop IACA")).issuer_name(name("pymdoccbor interop IACA"))
            .public_key(iaca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(iaca_key.public_key()), critical=False)
            .sign(iaca_key, hashes.SHA256()))
    ds = (x509.CertificateBuilder()
          .subject_name(name("pymdoccbor interop DS")).issuer_name(iaca.subject)
          .public_key(ds_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
          .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
          .add_extension(x509.ExtendedKeyUsage([ObjectIdentifier("1.0.18013.5.1.2")]), critical=True)
          .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(iaca_key.public_key()), critical=False)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ds_key.public_key()), critical=False)
          .sign(iaca_key, hashes.SHA256()))
    return iaca, ds_key, ds


def b32(n):
    return n.to_bytes(32, "big")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--now", help="ISO-8601 instant, e.g. 2026-03-01T08:00:00Z")
    ap.add_argument("--x5chain-array", action="store_true")
    a = ap.parse_args()
    if a.now:
        now = dt.datetime.fromisoformat(a.now.replace("Z", "+00:00")).astimezone(dt.timezone.utc)
        freeze_clock(now)
    else:
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    os.makedirs(a.out_dir, exist_ok=True)
    out = lambda n: os.path.join(a.out_dir, n)  # noqa: E731

    iaca, ds_key, ds = make_pki(now)
    dev_key = ec.generate_private_key(ec.SECP256R1())
    dev = dev_key.public_key().public_numbers()
    today = now.date()

    # Dates go in as RFC 8943 strings: pymdoccbor wraps birth_date / issue_date / expiry_date
    # (also inside driving_privileges) in tag 1004 itself; a datetime.date would be tagged twice.
    elements = {
        "family_name": "Doe",
        "given_name": "Jane",
        "birth_date": "1990-02-28",
        "issue_date": today.isoformat(),
        "expiry_date": (today + dt.timedelta(days=5 * 365)).isoformat(),
        "issuing_country": "US",
        "issuing_authority": "pymdoccbor interop DMV",
        "document_number": "PY-123456789",
        "portrait": bytes.fromhex("ffd8ffe0") + bytes(i * 7 % 251 for i in range(3000)) + bytes.fromhex("ffd9"),
        "driving_privileges": [{"vehicle_category_code": "B", "issue_date": "2020-04-01",
                                "expiry_date": "2031-04-01"}],
        "age_over_18": True,
    }

    issuer = MdocCborIssuer(alg="ES256", private_key={
        "KTY": "EC2", "CURVE": "P_256", "ALG": "ES256",
        "D": b32(ds_key.private_numbers().private_value), "KID": b"pyinterop-ds"})
    issuer.new(
        data={NS: copy.deepcopy(elements)},  # pymdoccbor tags dates in place
        doctype=DOCTYPE,
        validity={"issuance_date": today.isoformat(),
                  "expiry_date": (today + dt.timedelta(days=365)).isoformat()},
        devicekeyinfo={"KTY": "EC2", "CURVE": "P_256", "X": b32(dev.x), "Y": b32(dev.y)},
        x509_chain=[ds, iaca] if a.x5chain_array else [ds],
    )
    with open(out("pymdoccbor_output.cbor"), "wb") as f:
        f.write(issuer.dump())

    der, pem = serialization.Encoding.DER, serialization.Encoding.PEM
    for fname, data in (
        ("iaca_cert.pem", iaca.public_bytes(pem)),
        ("iaca_cert.der", iaca.public_bytes(der)),
        ("ds_cert.der", ds.public_bytes(der)),
        ("device_key.pem", dev_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption())),
        ("elements.json", json.dumps({"docType": DOCTYPE, "now": now.isoformat(), "nameSpaces": {NS: {
            k: {"bytes_b64": base64.b64encode(v).decode()} if isinstance(v, bytes) else v
            for k, v in elements.items()}}}, indent=2).encode()),
    ):
        with open(out(fname), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
