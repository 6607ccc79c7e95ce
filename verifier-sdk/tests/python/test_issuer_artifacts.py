"""A document issued over HTTP by `mdoc-issuer` (the artifacts `mdoc-dev` writes, see the
README's first command) through the Python bindings: the trust store with the dev IACA, its CRL
and the rollover link certificate; the DeviceResponse verified with the issuer's own status and
identifier list tokens (supplied, and fetched through a Python `ListFetcher`), which show the
document revoked; and the store serialised and reloaded."""

import base64
import os
import unittest

from sdk import failures, outcome, verifier_sdk as v

ARTIFACTS = os.environ.get("VERIFIER_SDK_ISSUER_ARTIFACTS")


def art(name):
    with open(os.path.join(ARTIFACTS, name), "rb") as f:
        return f.read()


def pem_der(name):
    body = [l for l in art(name).decode("ascii").splitlines() if l and not l.startswith("-----")]
    return base64.b64decode("".join(body))


def now():
    # The moment mdoc-dev fetched the lists: the lists' short ttl is honoured, so verifying
    # at the wall clock would fail the token rather than test the document.
    return int(os.path.getmtime(os.path.join(ARTIFACTS, "status_list.cwt")))


def store():
    s = v.TrustStore()
    s.add_iaca_pem(art("iaca.pem").decode("ascii"))
    return s


def options(**tokens):
    o = v.default_verification_options(now())
    o.status_list_tokens = tokens.get("status", [])
    o.identifier_list_tokens = tokens.get("ids", [])
    return o


def transcript():
    return v.SessionTranscriptInput.ENCODED(bytes=art("session_transcript.cbor"))


def verify(trust, opts):
    return v.verify_device_response(art("device_response.cbor"), transcript(), trust, opts)


class ListsByUri(v.ListFetcher):
    """The app's HTTP client, here serving the lists mdoc-dev fetched from the issuer."""

    def __init__(self, fail=False):
        self.fail = fail
        self.asked = []

    def fetch(self, uri):
        self.asked.append(uri)
        if self.fail:
            raise v.VerifierError.Fetch(uri=uri, reason="offline")
        if "identifier" in uri:
            return art("identifier_list.cwt")
        return art("status_list.cwt")


@unittest.skipUnless(ARTIFACTS, "VERIFIER_SDK_ISSUER_ARTIFACTS not set (run mdoc-dev first)")
class IssuerArtifacts(unittest.TestCase):
    def test_without_lists_it_verifies_and_warns_that_status_was_not_checked(self):
        s = store()
        self.assertEqual(s.add_crl(pem_der("iaca.crl.pem"), now()), v.AddOutcome.ADDED)
        report = verify(s, options())
        self.assertTrue(report.valid, failures(report))
        doc = report.documents[0]
        self.assertTrue(outcome(doc, v.CheckKind.DS_REVOCATION).is_passed())
        warned = [(w.kind, w.failure) for w in doc.warnings]
        self.assertIn((v.CheckKind.STATUS_LIST, v.CheckFailure.NO_LIST_TOKEN()), warned)
        self.assertIn((v.CheckKind.IDENTIFIER_LIST, v.CheckFailure.NO_LIST_TOKEN()), warned)

    def test_the_issuers_lists_show_it_revoked(self):
        report = verify(
            store(), options(status=[art("status_list.cwt")], ids=[art("identifier_list.cwt")])
        )
        self.assertFalse(report.valid)
        doc = report.documents[0]
        self.assertEqual(outcome(doc, v.CheckKind.STATUS_LIST).failure, v.CheckFailure.MSO_REVOKED())
        self.assertEqual(
            outcome(doc, v.CheckKind.IDENTIFIER_LIST).failure, v.CheckFailure.MSO_REVOKED()
        )
        # Everything else about the document is genuine.
        self.assertEqual(
            {k for k, _ in failures(report)},
            {v.CheckKind.STATUS_LIST, v.CheckKind.IDENTIFIER_LIST},
        )

    def test_an_expired_list_token_is_refused(self):
        o = options(status=[art("status_list.cwt")], ids=[art("identifier_list.cwt")])
        o.at_unix_seconds += 86400
        report = verify(store(), o)
        doc = report.documents[0]
        failure = outcome(doc, v.CheckKind.STATUS_LIST).failure
        self.assertTrue(failure.is_list_token_expired(), failure)
        self.assertEqual(failure.at, o.at_unix_seconds)
        self.assertLess(failure.expired_at, o.at_unix_seconds)

    def test_lists_fetched_through_the_apps_fetcher(self):
        fetcher = ListsByUri()
        report = v.verify_device_response_online(
            art("device_response.cbor"), transcript(), store(), options(), fetcher
        )
        self.assertFalse(report.valid)
        self.assertEqual(len(fetcher.asked), 2, fetcher.asked)
        doc = report.documents[0]
        self.assertEqual(outcome(doc, v.CheckKind.STATUS_LIST).failure, v.CheckFailure.MSO_REVOKED())
        with self.assertRaises(v.VerifierError.Fetch):
            v.verify_device_response_online(
                art("device_response.cbor"), transcript(), store(), options(), ListsByUri(fail=True)
            )

    def test_an_untrusted_document_makes_the_app_fetch_nothing(self):
        fetcher = ListsByUri()
        report = v.verify_device_response_online(
            art("device_response.cbor"), transcript(), v.TrustStore(), options(), fetcher
        )
        self.assertFalse(report.valid)
        self.assertEqual(fetcher.asked, [])

    def test_a_list_token_as_the_wrong_kind_is_refused(self):
        report = verify(store(), options(status=[art("identifier_list.cwt")]))
        self.assertFalse(report.valid)
        failure = outcome(report.documents[0], v.CheckKind.STATUS_LIST).failure
        self.assertTrue(
            failure.is_list_token_wrong_type() or failure.is_list_token_uri_mismatch(), failure
        )

    def test_the_link_certificate_and_the_serialised_store(self):
        s = store()
        s.add_crl(pem_der("iaca.crl.pem"), now())
        links = s.add_link_certificate(art("link-new-with-old.pem"))
        self.assertEqual(len(links), 1)
        self.assertEqual(len(s.link_certificates()), 1)
        saved = s.to_bytes()
        reloaded = v.TrustStore.from_bytes(saved, now())
        self.assertEqual(reloaded.to_bytes(), saved)
        self.assertEqual(len(reloaded.crls()), 1)
        report = verify(reloaded, options())
        self.assertTrue(report.valid, failures(report))
        damaged = bytearray(saved)
        damaged[len(damaged) // 2] ^= 0x01
        with self.assertRaises(v.VerifierError):
            v.TrustStore.from_bytes(bytes(damaged), now())
        with self.assertRaises(v.VerifierError):
            v.TrustStore.from_bytes(saved[:-1], now())

    def test_a_ds_certificate_is_not_an_iaca(self):
        with self.assertRaises(v.VerifierError.Certificate):
            v.TrustStore().add_iaca_pem(art("ds.pem").decode("ascii"))


if __name__ == "__main__":
    unittest.main()
