"""The independent side of mso's HPKE and ISO 18013-7 Annex C interop tests
(mso/tests/suite/annex_c_interop.rs): pyhpke for RFC 9180, cbor2 for the envelopes and the
SessionTranscript, hashlib for its hash. Nothing here comes from the Rust code.

  py_hpke.py seal PKR_HEX INFO_HEX AAD_HEX PT_HEX          -> "ENC_HEX CT_HEX"
  py_hpke.py open SKR_HEX ENC_HEX INFO_HEX AAD_HEX CT_HEX  -> "PT_HEX"
  py_hpke.py annexc-seal ENCRYPTION_INFO_B64 ORIGIN PT_HEX -> EncryptedResponse hex
  py_hpke.py annexc-open SKR_HEX ENCRYPTION_INFO_B64 ORIGIN RESPONSE_HEX -> "PT_HEX"

Suite: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode. A failure to open exits
with status 3.
"""

import base64
import hashlib
import sys

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec
from pyhpke import AEADId, CipherSuite, KDFId, KEMId, KEMKey

SUITE = CipherSuite.new(KEMId.DHKEM_P256_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES128_GCM)


def public_key(sec1: bytes):
    pk = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sec1)
    return KEMKey.from_pyca_cryptography_key(pk)


def private_key(scalar: bytes):
    sk = ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256R1())
    return KEMKey.from_pyca_cryptography_key(sk)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def transcript(encryption_info_b64: str, origin: str) -> bytes:
    """[null, null, ["dcapi", SHA-256(cbor([base64url(EncryptionInfo), origin]))]], plain array."""
    digest = hashlib.sha256(cbor2.dumps([encryption_info_b64, origin])).digest()
    return cbor2.dumps([None, None, ["dcapi", digest]])


def recipient_of(encryption_info_b64: str):
    tag, params = cbor2.loads(b64url_decode(encryption_info_b64))
    assert tag == "dcapi", tag
    key = params["recipientPublicKey"]
    assert key[1] == 2 and key[-1] == 1, key  # EC2, P-256
    return public_key(b"\x04" + key[-2] + key[-3])


def seal(pk, info: bytes, aad: bytes, pt: bytes):
    enc, sender = SUITE.create_sender_context(pk, info)
    return enc, sender.seal(pt, aad)


def open_(sk, enc: bytes, info: bytes, aad: bytes, ct: bytes) -> bytes:
    try:
        return SUITE.create_recipient_context(enc, sk, info).open(ct, aad)
    except Exception as e:  # pyhpke raises OpenError; anything else is a refusal too
        print(f"open failed: {e!r}", file=sys.stderr)
        sys.exit(3)


def main(argv):
    cmd, args = argv[1], argv[2:]
    h = bytes.fromhex
    if cmd == "seal":
        enc, ct = seal(public_key(h(args[0])), h(args[1]), h(args[2]), h(args[3]))
        print(enc.hex(), ct.hex())
    elif cmd == "open":
        print(open_(private_key(h(args[0])), h(args[1]), h(args[2]), h(args[3]), h(args[4])).hex())
    elif cmd == "annexc-seal":
        info_b64, origin, pt = args[0], args[1], h(args[2])
        enc, ct = seal(recipient_of(info_b64), transcript(info_b64, origin), b"", pt)
        print(cbor2.dumps(["dcapi", {"enc": enc, "cipherText": ct}]).hex())
    elif cmd == "annexc-open":
        sk, info_b64, origin, response = private_key(h(args[0])), args[1], args[2], h(args[3])
        tag, data = cbor2.loads(response)
        assert tag == "dcapi" and set(data) == {"enc", "cipherText"}, (tag, data)
        print(open_(sk, data["enc"], transcript(info_b64, origin), b"", data["cipherText"]).hex())
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
