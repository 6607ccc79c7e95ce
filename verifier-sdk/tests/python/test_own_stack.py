"""An mdoc issued by this project's own stack (the `python_fixture` example) through the Python
bindings: it verifies end to end with typed values, and mutations fail the specific check."""

import unittest

from sdk import failures, fixture, fixture_json, outcome, verifier_sdk as v

NS = "org.iso.18013.5.1"


def trust():
    t = v.TrustStore()
    t.add_iaca_der(fixture("iaca.der"))
    return t


def transcript(nonce=None):
    f = fixture_json()
    return v.SessionTranscriptInput.OPEN_ID4_VP(
        client_id=f["client_id"],
        nonce=nonce or f["nonce"],
        jwk_thumbprint=None,
        response_uri=f["response_uri"],
    )


def options():
    return v.default_verification_options(fixture_json()["at_unix_seconds"])


class OwnStack(unittest.TestCase):
    def test_the_device_response_verifies_with_typed_values(self):
        report = v.verify_device_response(fixture("device_response.cbor"), transcript(), trust(), options())
        self.assertTrue(report.valid, failures(report))
        doc = report.documents[0]
        self.assertEqual(len(doc.elements), 12)
        values = {e.identifier: e.value for e in doc.elements}
        self.assertEqual(values["family_name"], v.ElementValue.TEXT(value="Yamada"))
        self.assertEqual(values["birth_date"], v.ElementValue.FULL_DATE(iso="1990-02-28"))
        self.assertEqual(values["age_over_18"], v.ElementValue.BOOL(value=True))
        self.assertEqual(len(values["portrait"].value), 20 * 1024)
        privilege = values["driving_privileges"].items[0]
        keys = {e.key.value: e.value for e in privilege.entries}
        self.assertEqual(keys["vehicle_category_code"], v.ElementValue.TEXT(value="B"))
        self.assertEqual(keys["issue_date"], v.ElementValue.FULL_DATE(iso="2020-04-01"))
        self.assertTrue(outcome(doc, v.CheckKind.DS_TRUSTED).is_passed())
        # Typed by the mDL definition in schemas/doctypes, and conforming to it.
        schemas = {e.identifier: e.schema for e in doc.elements}
        self.assertEqual(schemas["birth_date"].declared_type, "full-date")
        self.assertEqual(schemas["portrait"].declared_type, "bstr")
        self.assertTrue(all(s is not None and s.type_matches for s in schemas.values()), schemas)

    def test_the_issuer_signed_verifies_as_a_wallet_does(self):
        report = v.verify_issuer_signed(
            fixture("issuer_signed.cbor"), "org.iso.18013.5.1.mDL", trust(), options()
        )
        self.assertTrue(report.valid, failures(report))
        report = v.verify_issuer_signed(fixture("issuer_signed.cbor"), "org.example.x", trust(), options())
        self.assertEqual(failures(report), [(v.CheckKind.DOC_TYPE, None)])

    def test_a_changed_element_value_fails_its_digest(self):
        data = bytearray(fixture("device_response.cbor"))
        i = data.find(b"Yamada")
        data[i : i + 6] = b"Tanaka"
        report = v.verify_device_response(bytes(data), transcript(), trust(), options())
        self.assertFalse(report.valid)
        self.assertEqual(failures(report), [(v.CheckKind.VALUE_DIGEST, NS + "/family_name")])
        digest = [c for c in report.documents[0].checks if c.subject == NS + "/family_name"][0]
        self.assertEqual(digest.outcome.failure, v.CheckFailure.DIGEST_MISMATCH())

    def test_a_wrong_transcript_fails_device_authentication(self):
        report = v.verify_device_response(
            fixture("device_response.cbor"), transcript("another-nonce"), trust(), options()
        )
        self.assertEqual(failures(report), [(v.CheckKind.DEVICE_AUTHENTICATION, None)])

    def test_an_untrusted_issuer_fails_the_trust_check(self):
        report = v.verify_device_response(
            fixture("device_response.cbor"), transcript(), v.TrustStore(), options()
        )
        # Revocation cannot be judged for an untrusted DS: reported as not checked.
        self.assertEqual(
            failures(report),
            [(v.CheckKind.DS_TRUSTED, None), (v.CheckKind.DS_REVOCATION, None)],
        )
        # The empty store holds no certificate with the DS's issuer name: the path failure
        # says so and names the DS (the leaf).
        failure = outcome(report.documents[0], v.CheckKind.DS_TRUSTED).failure
        self.assertTrue(failure.is_no_trusted_issuer(), failure)
        self.assertTrue(failure.path.is_unknown_issuer(), failure.path)
        self.assertEqual(failure.path.position, v.CertificatePosition.LEAF())
        self.assertEqual(
            outcome(report.documents[0], v.CheckKind.DS_REVOCATION).failure,
            v.CheckFailure.NOT_CHECKED(),
        )

    def test_after_its_validity_the_mso_is_expired(self):
        o = options()
        o.at_unix_seconds += 400 * 86400
        report = v.verify_device_response(fixture("device_response.cbor"), transcript(), trust(), o)
        self.assertFalse(report.valid)
        self.assertTrue(outcome(report.documents[0], v.CheckKind.MSO_VALIDITY).failure.is_mso_expired())


if __name__ == "__main__":
    unittest.main()
