"""Bad input through the Python bindings: a typed exception (a VerifierError subclass), never a
crash of the interpreter and never a valid verdict."""

import random
import unittest

from sdk import ANNEX_D_AT, vector, vector_text, verifier_sdk as v


def verify(data):
    options = v.default_verification_options(ANNEX_D_AT)
    options.reader_key = v.AgreementPrivateKey.PKCS8_PEM(pem=vector_text("annex_d_ereader_key.pem"))
    trust = v.TrustStore()
    trust.pin_document_signer_der(vector("annex_d_ds.der"))
    return v.verify_device_response(
        data,
        v.SessionTranscriptInput.ENCODED(bytes=vector("annex_d_session_transcript_bytes.cbor")),
        trust,
        options,
    )


class BadInput(unittest.TestCase):
    def test_truncated_responses_raise_malformed(self):
        full = vector("annex_d_device_response.cbor")
        for n in list(range(0, 64)) + list(range(64, len(full), 97)) + [len(full) - 1]:
            with self.assertRaises(v.VerifierError.Malformed, msg=f"{n} bytes"):
                verify(full[:n])

    def test_garbage_raises_or_is_invalid(self):
        rng = random.Random(18013)
        for _ in range(300):
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600)))
            try:
                report = verify(data)
            except v.VerifierError:
                continue
            self.assertFalse(report.valid)

    def test_flipped_bytes_are_never_valid(self):
        full = vector("annex_d_device_response.cbor")
        rng = random.Random(5)
        # One byte is outside every signature and MAC (see the Rust test in bad_input.rs): the
        # DeviceResponse's version. The status is not signed either, but any status other than
        # OK makes the response invalid, so it is sampled too.
        unauthenticated = (12,)
        for i in rng.sample([i for i in range(len(full)) if i not in unauthenticated], 200) + [len(full) - 1]:
            data = bytearray(full)
            data[i] ^= 0x10
            try:
                report = verify(bytes(data))
            except v.VerifierError:
                continue
            self.assertFalse(report.valid, f"byte {i}")

    def test_oversized_input_raises_size_limit(self):
        with self.assertRaises(v.VerifierError.SizeLimit):
            verify(bytes(8 * 1024 * 1024 + 1))
        with self.assertRaises(v.VerifierError.SizeLimit):
            verify(b"\x81" * 10000 + b"\x00")

    def test_bad_trust_material_and_options_raise_typed_errors(self):
        with self.assertRaises(v.VerifierError.Certificate):
            v.TrustStore().add_iaca_der(b"\x30\x03\x02\x01\x01")
        with self.assertRaises(v.VerifierError.Certificate):
            v.TrustStore().add_iaca_pem("not a certificate")
        options = v.default_verification_options(ANNEX_D_AT)
        options.reader_key = v.AgreementPrivateKey.SCALAR(curve=v.EcCurve.P256, d=bytes(32))
        with self.assertRaises(v.VerifierError.InvalidKey):
            v.verify_device_response(
                vector("annex_d_device_response.cbor"),
                v.SessionTranscriptInput.ENCODED(bytes=vector("annex_d_session_transcript_bytes.cbor")),
                v.TrustStore(),
                options,
            )
        with self.assertRaises(v.VerifierError.Malformed):
            v.parse_device_engagement_qr("https://example.com")
        with self.assertRaises(v.VerifierError.Malformed):
            v.decode_session_transcript(b"\x83\xf6")

    def test_every_error_is_a_verifier_error(self):
        with self.assertRaises(v.VerifierError):
            verify(b"")


if __name__ == "__main__":
    unittest.main()
