"""The wallet SDK through its Python bindings against a running issuer and DTS (`mdoc-dev
--serve --portal-login-url URL`, started by scripts/python-sdk-tests.sh): an mDL received over
the pre-authorized flow and over the authorization-code flow (PAR, PKCE, DPoP; the test plays
the browser and the portal), verified on receipt against a trust store synced from the DTS,
then presented to the verifier SDK's reader session with only the approved elements and
accepted by the verifier, with its own trust from the DTS and the issuer's status lists (and
refused once the portal revokes the document); forged authorization redirects and a wrong
transaction code are typed refusals that store nothing."""

import os
import shutil
import tempfile
import unittest
import urllib.parse

from wallet import (
    MDL,
    MDL_NS,
    SERVE,
    RunningStack,
    UrllibHttpClient,
    UrllibListFetcher,
    applicant_record,
    approve,
    header,
    mdl_request,
    now,
    verifier_sdk,
    wallet_sdk,
)

CLIENT_ID = "python-wallet-app"
REDIRECT_URI = "https://wallet.example/cb"


def query(url, name):
    """The query parameter `name` of `url` (None when absent)."""
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get(name)
    return values[0] if values else None


@unittest.skipUnless(
    SERVE,
    "needs a running issuer and DTS: WALLET_SDK_ISSUER_SERVE names the serve.json of "
    "`mdoc-dev --serve --portal-login-url URL` (scripts/python-sdk-tests.sh starts one)",
)
class IssuerEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = RunningStack(SERVE)

    def setUp(self):
        self.store_dir = tempfile.mkdtemp(prefix="wallet-e2e-store-")
        self.keys = wallet_sdk.software_key_store()
        # The wallet's issuer trust: the DTS's pinned root and its CRL.
        self.wallet = wallet_sdk.Wallet(
            self.keys, wallet_sdk.file_storage(self.store_dir), self.stack.trust_store()
        )

    def tearDown(self):
        shutil.rmtree(self.store_dir, ignore_errors=True)

    def client(self, authorization_code=False):
        """(recorded HTTP client, OpenID4VCI client over it and the wallet's key store)."""
        options = wallet_sdk.default_oid4vci_options()
        # The dev issuer is plain http on loopback.
        options.allow_http_loopback = True
        if authorization_code:
            options.client_id = CLIENT_ID
            options.redirect_uri = REDIRECT_URI
        http = UrllibHttpClient()
        return http, wallet_sdk.Oid4vciClient(http, self.keys, options)

    def assert_dpop_all_along(self, http):
        """Every token request carried a DPoP proof; every credential and notification
        request a DPoP-bound token and a proof."""
        tokens = http.requests_to("/oid4vci/token")
        self.assertTrue(tokens)
        self.assertTrue(all(header(r, "dpop") for r in tokens))
        for path in ["/oid4vci/credential", "/oid4vci/notification"]:
            requests = http.requests_to(path)
            self.assertTrue(requests, path)
            for r in requests:
                self.assertTrue(header(r, "authorization").startswith("DPoP "), path)
                self.assertTrue(header(r, "dpop"), path)

    def assert_stored(self, summary, count):
        """`summary` is the wallet's one credential: an mDL of `count` MSOs, each bound to
        its own device key."""
        self.assertEqual(summary.doc_type, MDL)
        self.assertEqual(len(summary.msos), count)
        self.assertEqual(self.wallet.credentials(), [summary])
        aliases = [m.key_alias for m in summary.msos]
        self.assertEqual(len(set(aliases)), count)
        for alias in aliases:
            self.assertEqual(len(self.wallet.device_public_key(alias)), 65)
        self.assertEqual([m.use_count for m in summary.msos], [0] * count)

    def receive_pre_authorized(self, count=2):
        """The portal's offer redeemed with its transaction code, `count` credentials
        requested, verified on receipt and stored: (offer, summary, http)."""
        offer = self.stack.offer()
        http, client = self.client()
        info = client.resolve_offer(offer["offer_link"])
        self.assertEqual(info.credential_issuer, self.stack.issuer_url)
        self.assertEqual([c.id for c in info.credentials], [MDL])
        self.assertEqual(info.credentials[0].doctype, MDL)
        self.assertGreaterEqual(info.batch_size, count)
        tx = info.pre_authorized.tx_code
        self.assertEqual((tx.input_mode, tx.length), (wallet_sdk.TxCodeInputMode.NUMERIC, 6))
        client.token_pre_authorized(offer["tx_code"])
        issuance = client.request_credentials(MDL, count)
        self.assertTrue(issuance.is_issued(), issuance)
        self.assertEqual(len(issuance.result.credentials), count)
        summary = self.wallet.receive_issued(client, issuance.result, now())
        self.assert_stored(summary, count)
        client.close()
        return offer, summary, http

    # a. Pre-authorized code flow.

    def test_pre_authorized_flow_stores_a_verified_batch_and_notifies_the_issuer(self):
        offer, summary, http = self.receive_pre_authorized(count=2)
        health = self.wallet.credential_health(summary.id, now())
        self.assertEqual((health.total, health.unused, health.expired), (2, 2, 0))
        self.assertFalse(health.exhausted)
        self.assertGreater(health.earliest_valid_until, now())
        # The issuer saw the offer redeemed, the document issued and the wallet's notification.
        status, view = self.stack.portal("GET", f"/v1/offers/{offer['offer_id']}")
        self.assertEqual(status, 200, view)
        self.assertEqual(view["state"], "issued")
        self.assertEqual(view["wallet_event"], "credential_accepted")
        self.assertRegex(view["document_id"], "^[0-9a-f]{32}$")
        self.assertEqual(view["tx_code_failures"], 0)
        self.assert_dpop_all_along(http)
        # The issuer's first DPoP nonce challenge was answered with a retry.
        self.assertEqual(len(http.requests_to("/oid4vci/token")), 2)

    # b. Authorization-code flow.

    def authorize(self, client):
        """The authorization request (PAR), the browser sent to the portal's login, the
        portal's hand-off of the applicant's record: the redirect the browser delivers."""
        url = client.authorization_url(MDL)
        self.assertTrue(url.startswith(self.stack.issuer_url + "/oid4vci/authorize?"), url)
        status, location = self.stack.browse(url)
        self.assertEqual(status, 302)
        self.assertTrue(location.startswith(self.stack.portal_login_url + "?"), location)
        self.assertEqual(query(location, "doctype"), MDL)
        session = query(location, "session")
        self.assertTrue(session)
        status, handoff = self.stack.portal(
            "POST", f"/v1/authorizations/{session}", {"claims": applicant_record()}
        )
        self.assertEqual(status, 200, handoff)
        redirect = handoff["redirect_to"]
        self.assertTrue(redirect.startswith(REDIRECT_URI + "?"), redirect)
        self.assertTrue(query(redirect, "code"))
        return redirect

    def test_authorization_code_flow_with_par_pkce_and_dpop(self):
        http, client = self.client(authorization_code=True)
        # Wallet-initiated: the app knows the issuer.
        info = client.resolve_issuer(self.stack.issuer_url)
        self.assertTrue(info.authorization_code)
        self.assertIn(MDL, [c.id for c in info.credentials])
        self.assertIsNone(info.pre_authorized)

        # A redirect whose state was altered is refused, and so is one naming another issuer
        # (RFC 9207); neither redeems anything.
        forged = self.authorize(client).replace("state=", "state=x", 1)
        with self.assertRaises(wallet_sdk.WalletError.Protocol):
            client.finish_authorization(forged)
        genuine = self.authorize(client)
        attacker = "https://issuer.attacker.example"
        with self.assertRaises(wallet_sdk.WalletError.IssuerMismatch) as caught:
            client.finish_authorization(
                genuine.replace("iss=", f"iss={urllib.parse.quote(attacker, safe='')}&was=", 1)
            )
        self.assertEqual(
            (caught.exception.expected, caught.exception.found),
            (self.stack.issuer_url, attacker),
        )
        self.assertEqual(http.requests_to("/oid4vci/token"), [])
        # Steps out of order are refused too: no token, no credential request.
        with self.assertRaises(wallet_sdk.WalletError.FlowState):
            client.request_credentials(MDL, 1)

        client.finish_authorization(self.authorize(client))
        # Three pushed requests accepted (a DPoP nonce challenge may have added a retry).
        self.assertEqual(len(http.requests_to("/oid4vci/par", status=201)), 3)
        for par in http.requests_to("/oid4vci/par"):
            self.assertTrue(header(par, "dpop"))
            form = urllib.parse.parse_qs(bytes(par.body).decode())
            self.assertEqual(form["code_challenge_method"], ["S256"])
            self.assertEqual(len(form["code_challenge"][0]), 43)
            self.assertEqual(form["redirect_uri"], [REDIRECT_URI])
            self.assertEqual(form["client_id"], [CLIENT_ID])
        token = http.requests_to("/oid4vci/token")[-1]
        form = urllib.parse.parse_qs(bytes(token.body).decode())
        self.assertEqual(form["grant_type"], ["authorization_code"])
        self.assertTrue(form["code_verifier"][0])

        issuance = client.request_credentials(MDL, 2)
        self.assertTrue(issuance.is_issued(), issuance)
        summary = self.wallet.receive_issued(client, issuance.result, now())
        self.assert_stored(summary, 2)
        self.assert_dpop_all_along(http)
        notified = http.requests_to("/oid4vci/notification")
        self.assertIn(b'"credential_accepted"', bytes(notified[-1].body))
        client.close()

    # c. Presentation to the verifier SDK's reader session.

    def test_a_received_mdl_is_presented_with_only_the_approved_elements(self):
        offer, summary, _ = self.receive_pre_authorized(count=2)
        session = self.wallet.start_presentation()
        reader = verifier_sdk.ReaderSession.from_qr_code(session.qr_code_uri())
        request = reader.device_request(
            mdl_request([
                ("family_name", False), ("given_name", False), ("birth_date", True),
                ("age_over_18", False), ("portrait", False), ("document_number", True),
            ]),
            None,
        )
        consent = session.receive_establishment(reader.establish(request), now())
        self.assertEqual(len(consent.documents), 1)
        doc = consent.documents[0]
        self.assertEqual(doc.credential_id, summary.id)
        self.assertEqual(doc.reader.auth, wallet_sdk.ReaderAuthStatus.ABSENT())
        self.assertEqual(
            sorted((e.identifier, e.intent_to_retain, e.available) for e in doc.elements),
            [("age_over_18", False, True), ("birth_date", True, True),
             ("document_number", True, True), ("family_name", False, True),
             ("given_name", False, True), ("portrait", False, True)],
        )
        # The user approves two of the six.
        received = reader.decrypt(
            session.respond(approve(consent, ["given_name", "age_over_18"]), now())
        )
        # The verifier's own trust, from the DTS.
        verifier_trust = self.stack.trust_store()
        report = reader.verify_response(
            received.data, verifier_trust, verifier_sdk.default_verification_options(now())
        )
        self.assertTrue(report.valid, report)
        document = report.documents[0]
        self.assertEqual(document.doc_type, MDL)
        checks = {c.kind: c.outcome for c in document.checks}
        for kind in [verifier_sdk.CheckKind.DS_TRUSTED, verifier_sdk.CheckKind.DS_REVOCATION,
                     verifier_sdk.CheckKind.ISSUER_SIGNATURE,
                     verifier_sdk.CheckKind.DEVICE_AUTHENTICATION]:
            self.assertTrue(checks[kind].is_passed(), (kind, checks[kind]))
        disclosed = {(e.namespace, e.identifier): e for e in document.elements}
        self.assertEqual(
            sorted(disclosed), [(MDL_NS, "age_over_18"), (MDL_NS, "given_name")]
        )
        self.assertTrue(all(e.verified for e in disclosed.values()))
        record = applicant_record()[MDL_NS]
        self.assertEqual(disclosed[(MDL_NS, "given_name")].value.value, record["given_name"])
        self.assertEqual(disclosed[(MDL_NS, "age_over_18")].value.value, True)
        # One MSO of the batch was used.
        self.assertEqual(sorted(m.use_count for m in self.wallet.credentials()[0].msos), [0, 1])

        # Online, the verifier also fetches the MSO's status and identifier lists from the
        # issuer: not revoked. Once the portal revokes the document, the same response is
        # refused.
        transcript = verifier_sdk.SessionTranscriptInput.ENCODED(
            bytes=reader.session_transcript_bytes()
        )

        def verify_online():
            fetcher = UrllibListFetcher()
            report = verifier_sdk.verify_device_response_online(
                received.data, transcript, verifier_trust,
                verifier_sdk.default_verification_options(now()), fetcher,
            )
            self.assertEqual(len(fetcher.asked), 2, fetcher.asked)
            self.assertTrue(all(u.startswith(self.stack.issuer_url) for u in fetcher.asked))
            return report.valid, {c.kind: c.outcome for c in report.documents[0].checks}

        valid, checks = verify_online()
        self.assertTrue(valid, checks)
        for kind in [verifier_sdk.CheckKind.STATUS_LIST, verifier_sdk.CheckKind.IDENTIFIER_LIST]:
            self.assertTrue(checks[kind].is_passed(), (kind, checks[kind]))
        _, view = self.stack.portal("GET", f"/v1/offers/{offer['offer_id']}")
        status, _ = self.stack.portal(
            "POST", f"/v1/documents/{view['document_id']}/revoke", {"reason": "key_compromise"}
        )
        self.assertEqual(status, 200)
        valid, checks = verify_online()
        self.assertFalse(valid)
        self.assertEqual(
            checks[verifier_sdk.CheckKind.STATUS_LIST].failure,
            verifier_sdk.CheckFailure.MSO_REVOKED(),
        )
        # A verifier that does not trust the DTS's root refuses the same response.
        untrusting = reader.verify_response(
            received.data, verifier_sdk.TrustStore(),
            verifier_sdk.default_verification_options(now()),
        )
        self.assertFalse(untrusting.valid)
        self.assertFalse(
            {c.kind: c.outcome for c in untrusting.documents[0].checks}[
                verifier_sdk.CheckKind.DS_TRUSTED
            ].is_passed()
        )
        self.assertIsNone(session.receive_message(reader.terminate(), now()))
        self.assertTrue(session.is_terminated())

    # d. A wrong transaction code.

    def test_a_wrong_transaction_code_is_the_issuers_typed_refusal_and_nothing_is_stored(self):
        offer = self.stack.offer()
        http, client = self.client()
        client.resolve_offer(offer["offer_link"])
        wrong = "000000" if offer["tx_code"] != "000000" else "111111"
        with self.assertRaises(wallet_sdk.WalletError.IssuerError) as caught:
            client.token_pre_authorized(wrong)
        self.assertEqual((caught.exception.status, caught.exception.code), (400, "invalid_grant"))
        # No token: no credential can be requested, nothing is stored.
        with self.assertRaises(wallet_sdk.WalletError.FlowState):
            client.request_credentials(MDL, 1)
        self.assertEqual(http.requests_to("/oid4vci/credential"), [])
        self.assertEqual(self.wallet.credentials(), [])
        self.assertEqual(os.listdir(self.store_dir), [])
        status, view = self.stack.portal("GET", f"/v1/offers/{offer['offer_id']}")
        self.assertEqual(status, 200, view)
        self.assertEqual((view["state"], view["tx_code_failures"]), ("offered", 1))
        self.assertNotIn("document_id", view)
        client.close()


if __name__ == "__main__":
    unittest.main()
