#!/usr/bin/env python3
"""Check the device authentication of an ISO 18013-5 DeviceResponse with pycose 1.1.0 and cbor2.

pymdoccbor (py_verify.py) checks the issuer side only; this script checks the holder side, which
it never reads: for each document, the deviceSignature (COSE_Sign1, detached payload) over
DeviceAuthenticationBytes (ISO 18013-5 §9.1.3.4) with the MSO's deviceKey.

usage: .venv/bin/python py_device_auth.py DEVICE_RESPONSE SESSION_TRANSCRIPT_BYTES

DEVICE_RESPONSE            the DeviceResponse (CBOR file)
SESSION_TRANSCRIPT_BYTES   SessionTranscriptBytes, #6.24(bstr .cbor SessionTranscript) (CBOR file)

DeviceAuthentication = ["DeviceAuthentication", SessionTranscript, DocType,
DeviceNameSpacesBytes] is assembled from the bytes as received: the SessionTranscript and the
DeviceNameSpacesBytes are spliced in, never re-encoded, so an encoding difference cannot hide
or fake a result.

exit: 0 every document's device signature verifies, 1 one does not (or uses a MAC, which needs
the reader's key), 3 unusable input. stdout: JSON {"result", "documents": [{"docType",
"deviceSignature": "valid"|"invalid"|reason, "deviceNameSpaces": {...}}]}.
"""
import json
import sys

import cbor2
from cbor2 import CBORTag
from pycose.keys.ec2 import EC2Key
from pycose.messages import Sign1Message


def unusable(reason):
    print(json.dumps({"result": "unusable", "reason": reason}))
    sys.exit(3)


def tag24_inner(obj, what):
    """The bytes inside #6.24(bstr)."""
    if not (isinstance(obj, CBORTag) and obj.tag == 24 and isinstance(obj.value, bytes)):
        unusable(f"{what} is not #6.24(bstr)")
    return obj.value


def device_key(document):
    """The COSE_Key of the MSO's deviceKeyInfo."""
    issuer_auth = document["issuerSigned"]["issuerAuth"]
    payload = issuer_auth[2]
    mso_bytes = tag24_inner(cbor2.loads(payload), "the MSO payload")
    mso = cbor2.loads(mso_bytes)
    return mso["deviceKeyInfo"]["deviceKey"]


def check(document, transcript_inner):
    doc_type = document["docType"]
    device_signed = document["deviceSigned"]
    ns_item = device_signed["nameSpaces"]
    ns_bytes = tag24_inner(ns_item, "DeviceNameSpacesBytes")
    auth = device_signed["deviceAuth"]
    out = {"docType": doc_type, "deviceNameSpaces": cbor2.loads(ns_bytes)}
    if "deviceSignature" not in auth:
        out["deviceSignature"] = "absent (deviceMac needs the reader's key)"
        return out, False
    # The array header (4 items) and the label, then the transcript exactly as both sides hold
    # it, the doc type, and the DeviceNameSpacesBytes as received (shortest-form tag and length).
    authentication = (
        b"\x84"
        + cbor2.dumps("DeviceAuthentication")
        + transcript_inner
        + cbor2.dumps(doc_type)
        + cbor2.dumps(CBORTag(24, ns_bytes))
    )
    detached = cbor2.dumps(CBORTag(24, authentication))
    signature = auth["deviceSignature"]
    if signature[2] is not None:
        out["deviceSignature"] = "the payload must be detached (nil)"
        return out, False
    # Built from the decoded array, not through Sign1Message.decode: pycose 1.1.0 requires
    # tag 18, and under cbor2 6 a tagged array decodes as a tuple, which its decode refuses.
    message = Sign1Message.from_cose_obj(list(signature), True)
    message.key = EC2Key.from_dict(device_key(document))
    ok = message.verify_signature(detached_payload=detached)
    out["deviceSignature"] = "valid" if ok else "invalid"
    return out, ok


def main():
    if len(sys.argv) != 3:
        unusable(__doc__.split("\n\n")[1])
    try:
        with open(sys.argv[1], "rb") as f:
            response = cbor2.loads(f.read())
        with open(sys.argv[2], "rb") as f:
            transcript_inner = tag24_inner(cbor2.loads(f.read()), "SessionTranscriptBytes")
        documents = response["documents"]
    except (OSError, ValueError, KeyError, TypeError, cbor2.CBORDecodeError) as e:
        unusable(f"{type(e).__name__}: {e}")
    results, all_ok = [], bool(documents)
    for document in documents:
        try:
            out, ok = check(document, transcript_inner)
        except Exception as e:  # pycose raises several types for a bad signature or key
            out, ok = {"docType": document.get("docType"), "deviceSignature": f"{type(e).__name__}: {e}"}, False
        results.append(out)
        all_ok = all_ok and ok
    print(json.dumps({"result": "valid" if all_ok else "invalid", "documents": results}, default=repr))
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
