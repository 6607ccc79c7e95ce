"""ISO 18013-5 Annex D through the Python bindings: the DeviceResponse with deviceMac, its
expiry at today's date, and the session vectors through ReaderSession."""

import time
import unittest

from sdk import ANNEX_D_AT, failures, outcome, vector, vector_text, verifier_sdk as v


def reader_key():
    return v.AgreementPrivateKey.PKCS8_PEM(pem=vector_text("annex_d_ereader_key.pem"))


def options(at):
    o = v.default_verification_options(at)
    o.clock_skew_seconds = 0
    o.reader_key = reader_key()
    return o


def pinned():
    trust = v.TrustStore()
    info = trust.pin_document_signer_der(vector("annex_d_ds.der"))
    assert info.subject == "C=US,CN=utopia ds", info.subject
    return trust


def transcript():
    return v.SessionTranscriptInput.ENCODED(bytes=vector("annex_d_session_transcript_bytes.cbor"))


class AnnexDVerification(unittest.TestCase):
    def test_the_ds_profile_passes_with_the_dns_name_distribution_point_named(self):
        report = v.verify_device_response(
            vector("annex_d_device_response.cbor"), transcript(), pinned(), options(ANNEX_D_AT)
        )
        self.assertTrue(report.valid, failures(report))
        doc = report.documents[0]
        self.assertTrue(outcome(doc, v.CheckKind.DS_PROFILE).is_passed())
        codes = [
            violation.code
            for w in doc.warnings
            if w.kind == v.CheckKind.DS_PROFILE and w.failure.is_profile()
            for violation in w.failure.violations
        ]
        # The Annex D DS names its CRL with a dNSName, not an http(s) URI: a warning.
        self.assertIn("annexb.crldp.uri", codes)

    def test_verifies_at_2021_01_01_with_the_pinned_ds_and_device_mac(self):
        report = v.verify_device_response(
            vector("annex_d_device_response.cbor"), transcript(), pinned(), options(ANNEX_D_AT)
        )
        self.assertTrue(report.valid, failures(report))
        doc = report.documents[0]
        self.assertEqual(doc.doc_type, "org.iso.18013.5.1.mDL")
        self.assertTrue(outcome(doc, v.CheckKind.DEVICE_AUTHENTICATION).is_passed())
        digests = [c for c in doc.checks if c.kind == v.CheckKind.VALUE_DIGEST]
        self.assertEqual(len(digests), 6)
        values = {e.identifier: e.value for e in doc.elements}
        self.assertTrue(all(e.verified for e in doc.elements))
        self.assertEqual(values["family_name"], v.ElementValue.TEXT(value="Doe"))
        self.assertEqual(values["issue_date"], v.ElementValue.FULL_DATE(iso="2019-10-20"))
        self.assertTrue(values["portrait"].is_bytes())
        self.assertEqual(bytes(values["portrait"].value[:2]), b"\xff\xd8")
        self.assertTrue(values["driving_privileges"].is_array())

    def test_verifies_through_the_annex_d_iaca(self):
        trust = v.TrustStore()
        infos = trust.add_iaca_pem(vector_text("annex_d_iaca.pem"))
        self.assertEqual([i.country for i in infos], ["US"])
        report = v.verify_device_response(
            vector("annex_d_device_response.cbor"), transcript(), trust, options(ANNEX_D_AT)
        )
        self.assertTrue(report.valid, failures(report))

    def test_at_todays_date_the_ds_certificate_is_reported_expired(self):
        now = int(time.time())
        report = v.verify_device_response(
            vector("annex_d_device_response.cbor"), transcript(), pinned(), options(now)
        )
        self.assertFalse(report.valid)
        doc = report.documents[0]
        ds = outcome(doc, v.CheckKind.DS_VALIDITY)
        self.assertTrue(ds.is_failed())
        self.assertEqual(
            ds.failure,
            v.CheckFailure.CERTIFICATE_EXPIRED(
                certificate=v.CertificateRole.DOCUMENT_SIGNER(), not_after=1633046400, at=now
            ),
        )
        self.assertIn("DS certificate expired: notAfter 2021-10-01T00:00:00Z", ds.reason)
        self.assertEqual(
            failures(report),
            [(v.CheckKind.DS_VALIDITY, "DS"), (v.CheckKind.MSO_VALIDITY, None)],
        )

    def test_without_the_reader_key_the_device_mac_is_reported_unverifiable(self):
        report = v.verify_device_response(
            vector("annex_d_device_response.cbor"),
            transcript(),
            pinned(),
            v.default_verification_options(ANNEX_D_AT),
        )
        self.assertFalse(report.valid)
        auth = outcome(report.documents[0], v.CheckKind.DEVICE_AUTHENTICATION)
        self.assertEqual(auth.failure, v.CheckFailure.MISSING_READER_KEY())


def annex_d_reader():
    parts = v.decode_session_transcript(vector("annex_d_session_transcript_bytes.cbor"))
    assert parts.proximity_handover.is_nfc()
    return v.ReaderSession.with_ephemeral_key(
        parts.device_engagement, parts.proximity_handover, reader_key()
    )


class AnnexDSession(unittest.TestCase):
    def test_the_session_vectors_encrypt_and_decrypt_byte_for_byte(self):
        reader = annex_d_reader()
        self.assertEqual(
            reader.session_transcript_bytes(), vector("annex_d_session_transcript_bytes.cbor")
        )
        establishment = reader.establish(vector("session/device_request.cbor"))
        # The vector's two entries, which mso writes in deterministic order ("data" first).
        split = establishment.index(b"\x6aeReaderKey")
        reordered = b"\xa2" + establishment[split:] + establishment[1:split]
        self.assertEqual(reordered, vector("session/session_establishment.cbor"))

        received = reader.decrypt(vector("session/session_data.cbor"))
        self.assertIsNone(received.status)
        self.assertEqual(received.data, vector("annex_d_device_response.cbor"))
        report = reader.verify_response(
            received.data, pinned(), v.default_verification_options(ANNEX_D_AT)
        )
        self.assertTrue(report.valid, failures(report))

        end = reader.decrypt(vector("session/session_termination.cbor"))
        self.assertEqual(end.status, v.SessionStatus.TERMINATION())
        self.assertTrue(reader.is_terminated())
        with self.assertRaises(v.VerifierError.SessionState):
            reader.encrypt(b"\xa0")

    def test_a_tampered_message_is_a_decryption_error(self):
        reader = annex_d_reader()
        reader.establish(vector("session/device_request.cbor"))
        data = bytearray(vector("session/session_data.cbor"))
        data[-1] ^= 1
        with self.assertRaises(v.VerifierError.SessionDecryption):
            reader.decrypt(bytes(data))
        self.assertTrue(reader.is_terminated())

    def test_a_qr_engagement_starts_a_session_with_a_fresh_key(self):
        import base64

        raw = vector("annex_d_device_engagement.cbor")
        uri = "mdoc:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
        info = v.parse_device_engagement_qr(uri)
        self.assertEqual(info.device_engagement, raw)
        a = v.ReaderSession.from_qr_code(uri)
        b = v.ReaderSession.from_qr_code(uri)
        self.assertNotEqual(a.e_reader_key_bytes(), b.e_reader_key_bytes())
        request = a.device_request(
            [
                v.DocumentRequest(
                    doc_type="org.iso.18013.5.1.mDL",
                    namespaces=[
                        v.NamespaceRequest(
                            namespace="org.iso.18013.5.1",
                            elements=[v.ElementRequest(identifier="family_name", intent_to_retain=False)],
                        )
                    ],
                )
            ],
            None,
        )
        establishment = a.establish(request)
        self.assertGreater(len(establishment), len(request))


if __name__ == "__main__":
    unittest.main()
