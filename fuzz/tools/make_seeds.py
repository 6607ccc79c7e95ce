#!/usr/bin/env python3
"""Seeds the fuzz corpora from the ISO/IEC 18013-5 Annex D vectors.

usage: make_seeds.py VECTORS_DIR CORPUS_DIR

Copies every Annex D `*.cbor` (and `session/*.cbor`) into each CBOR target's corpus, and adds
the nested structures no vector file holds on its own, sliced byte-for-byte out of the vectors:
IssuerSigned, MobileSecurityObjectBytes and the MSO, the DeviceEngagement inside the
transcript, a DeviceResponse whose deviceMac is replaced by a deviceSignature (untagged and
tagged 18), and the DER certificates for the `certificate` target. Standard library only.
"""

import glob
import hashlib
import os
import shutil
import sys

CBOR_TARGETS = [
    "issuer_signed",
    "device_response",
    "mso",
    "device_request",
    "device_engagement",
    "session_transcript",
    "cbor_node",
]


class Item:
    """One CBOR item: major type, argument, span, and children (key/value pairs for maps)."""

    def __init__(self, major, arg, start, end, content_start, children):
        self.major, self.arg = major, arg
        self.start, self.end, self.content_start = start, end, content_start
        self.children = children

    def raw(self, buf):
        return buf[self.start:self.end]

    def content(self, buf):
        """Byte/text string content."""
        return buf[self.content_start:self.end]

    def get(self, buf, key):
        """Map value under text key `key`."""
        for k, v in self.children:
            if k.major == 3 and k.content(buf) == key.encode():
                return v
        return None


def parse(buf, pos=0):
    """Parses one definite-length item at `pos`; returns (Item, next_pos)."""
    ib = buf[pos]
    major, info = ib >> 5, ib & 0x1F
    p = pos + 1
    if info < 24:
        arg = info
    elif info <= 27:
        n = 1 << (info - 24)
        arg = int.from_bytes(buf[p:p + n], "big")
        p += n
    else:
        raise ValueError(f"unsupported additional info {info} at {pos}")
    children = []
    if major in (2, 3):
        end = p + arg
        return Item(major, arg, pos, end, p, []), end
    if major == 4:
        for _ in range(arg):
            child, p = parse(buf, p)
            children.append(child)
    elif major == 5:
        for _ in range(arg):
            k, p = parse(buf, p)
            v, p = parse(buf, p)
            children.append((k, v))
    elif major == 6:
        child, p = parse(buf, p)
        children.append(child)
    return Item(major, arg, pos, p, p, children), p


def head(major, n):
    m = major << 5
    if n < 24:
        return bytes([m | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < (1 << (8 * size)):
            return bytes([m | info]) + n.to_bytes(size, "big")
    raise ValueError(n)


def text(s):
    b = s.encode()
    return head(3, len(b)) + b


def write(corpus, target, data, name=None):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    vectors, corpus = sys.argv[1], sys.argv[2]
    files = sorted(glob.glob(os.path.join(vectors, "*.cbor")))
    files += sorted(glob.glob(os.path.join(vectors, "session", "*.cbor")))
    for path in files:
        for target in CBOR_TARGETS:
            d = os.path.join(corpus, target)
            os.makedirs(d, exist_ok=True)
            shutil.copyfile(path, os.path.join(d, os.path.basename(path)))

    ders = sorted(glob.glob(os.path.join(vectors, "*.der")))
    ders += sorted(glob.glob(os.path.join(vectors, "session", "*.der")))
    ders += sorted(glob.glob(os.path.join(vectors, "..", "aamva", "*.der")))
    for path in ders:
        d = os.path.join(corpus, "certificate")
        os.makedirs(d, exist_ok=True)
        shutil.copyfile(path, os.path.join(d, os.path.basename(path)))

    # Nested structures out of the Annex D DeviceResponse.
    with open(os.path.join(vectors, "annex_d_device_response.cbor"), "rb") as f:
        resp = f.read()
    root, _ = parse(resp)
    doc_item = root.get(resp, "documents").children[0]
    issuer_signed = doc_item.get(resp, "issuerSigned")
    write(corpus, "issuer_signed", issuer_signed.raw(resp), "annex_d_issuer_signed")
    write(corpus, "cbor_node", issuer_signed.raw(resp), "annex_d_issuer_signed")
    issuer_auth = issuer_signed.get(resp, "issuerAuth")
    sign1 = issuer_auth.children[0] if issuer_auth.major == 6 else issuer_auth
    payload = sign1.children[2].content(resp)  # #6.24(bstr .cbor MSO)
    write(corpus, "mso", payload, "annex_d_mso_bytes")
    tag24, _ = parse(payload)
    mso = tag24.children[0].content(payload)
    write(corpus, "mso", mso, "annex_d_mso")
    write(corpus, "cbor_node", mso, "annex_d_mso")
    # x5chain (label 33) from the unprotected header.
    for k, v in sign1.children[1].children:
        if k.major == 0 and k.arg == 33 and v.major == 2:
            write(corpus, "certificate", v.content(resp), "annex_d_x5chain_leaf")

    # The same response with deviceSignature instead of deviceMac: protected {1: -7}, empty
    # unprotected, nil payload, a 64-byte signature (it will not verify; the path is exercised).
    device_signed = doc_item.get(resp, "deviceSigned")
    device_auth = device_signed.get(resp, "deviceAuth")
    protected = bytes([0xA1, 0x01, 0x26])
    sig = head(4, 4) + head(2, len(protected)) + protected + bytes([0xA0, 0xF6])
    sig += head(2, 64) + bytes(range(64))
    for name, cose in (("untagged", sig), ("tagged18", bytes([0xD2]) + sig)):
        new_auth = head(5, 1) + text("deviceSignature") + cose
        swapped = resp[:device_auth.start] + new_auth + resp[device_auth.end:]
        write(corpus, "device_response", swapped, f"annex_d_device_signature_{name}")

    # The DeviceEngagement and EReaderKey inside the transcript, and the bare transcript array.
    with open(os.path.join(vectors, "annex_d_session_transcript_bytes.cbor"), "rb") as f:
        stb = f.read()
    outer, _ = parse(stb)
    st = outer.children[0].content(stb)
    write(corpus, "session_transcript", st, "annex_d_session_transcript_array")
    arr, _ = parse(st)
    de = arr.children[0].children[0].content(st)
    write(corpus, "device_engagement", de, "annex_d_device_engagement_from_transcript")
    write(corpus, "cbor_node", arr.children[1].raw(st), "annex_d_ereader_key_bytes")
    write(corpus, "session_transcript", bytes([0x83, 0xF6, 0xF6, 0xF6]), "online_null_handover")


if __name__ == "__main__":
    main()
