"""The trust store synchronised from a running DTS (the main job's, served by `mdoc-dts serve`)
through a Python HTTP client implementing the SDK's `DtsHttpClient`: the pinned root and its
CRL arrive, the main job's document then verifies with its DS trusted and not revoked, an
unchanged DTS costs one conditional request, and a tampered answer changes nothing."""

import os
import time
import unittest
import urllib.error
import urllib.request

from sdk import verifier_sdk as v

INDEX = os.environ.get("VERIFIER_SDK_DTS_INDEX")
PIN = os.environ.get("VERIFIER_SDK_DTS_PIN")
ARTIFACTS = os.environ.get("VERIFIER_SDK_ISSUER_ARTIFACTS")


class UrllibClient(v.DtsHttpClient):
    """The app's HTTP client: urllib from the standard library."""

    def __init__(self, tamper=None):
        self.requests = []
        self.not_modified = 0
        self.tamper = tamper

    def get(self, url, if_none_match):
        self.requests.append(url)
        request = urllib.request.Request(url)
        if if_none_match is not None:
            request.add_header("If-None-Match", if_none_match)
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                body = r.read()
                if self.tamper and url.endswith(self.tamper):
                    body = body[:-1] + bytes([body[-1] ^ 1])
                return v.HttpResponse(status=r.status, etag=r.headers.get("ETag"), body=body)
        except urllib.error.HTTPError as e:
            if e.code == 304:
                self.not_modified += 1
            return v.HttpResponse(status=e.code, etag=e.headers.get("ETag"), body=b"")
        except OSError as e:
            raise v.VerifierError.Fetch(uri=url, reason=str(e))


def now():
    return int(time.time())


@unittest.skipUnless(INDEX and PIN, "needs a running DTS (scripts/python-sdk-tests.sh starts one)")
class DtsSync(unittest.TestCase):
    def test_the_pinned_root_and_its_crl_arrive_and_the_document_verifies(self):
        store = v.TrustStore()
        client = UrllibClient()
        report = store.sync_from_dts(INDEX, [PIN], client, now())
        self.assertTrue(report.changed)
        self.assertEqual(report.roots_added, [PIN])
        self.assertEqual(report.crls_updated, 1)
        self.assertEqual(len(store.crls()), 1)
        with open(os.path.join(ARTIFACTS, "issuer_signed.cbor"), "rb") as f:
            issued = f.read()
        result = v.verify_issuer_signed(issued, None, store, v.default_verification_options(now()))
        checks = {c.kind: c.outcome for c in result.documents[0].checks}
        self.assertTrue(checks[v.CheckKind.DS_TRUSTED].is_passed(), checks)
        self.assertTrue(checks[v.CheckKind.DS_REVOCATION].is_passed(), checks)
        # Unchanged: one conditional request for the index, answered 304, nothing else.
        before = len(client.requests)
        again = store.sync_from_dts(INDEX, [PIN], client, now())
        self.assertFalse(again.changed)
        self.assertEqual(len(client.requests), before + 1)
        self.assertEqual(client.not_modified, 1)

    def test_a_tampered_crl_or_an_unknown_pin_changes_nothing(self):
        store = v.TrustStore()
        with self.assertRaises(v.VerifierError.DtsSync):
            store.sync_from_dts(INDEX, [PIN], UrllibClient(tamper=".crl"), now())
        self.assertEqual(store.iacas(), [])
        self.assertEqual(store.crls(), [])
        with self.assertRaises(v.VerifierError.Untrusted):
            store.sync_from_dts(INDEX, ["00" * 32], UrllibClient(), now())
        self.assertEqual(store.iacas(), [])


if __name__ == "__main__":
    unittest.main()
