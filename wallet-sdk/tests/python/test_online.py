"""Online presentation through the Python bindings of both SDKs (one library): the verifier
SDK's OnlineVerifier makes OpenID4VP 1.0 requests in each response mode and ISO 18013-7
Annex C requests, the wallet SDK answers them, and the verifier reads the answers; the
refusals arrive as typed exceptions with named reasons."""

import shutil
import tempfile
import unittest

from wallet import ISSUER, MDL, MDL_NS, Issued, new_wallet, verifier_sdk, wallet_sdk

ORIGIN = "https://verifier.example"
RESPONSE_URI = "https://verifier.example/response"
ASKED = ["family_name", "age_over_18", "portrait"]
MODES = [
    verifier_sdk.ResponseMode.DIRECT_POST,
    verifier_sdk.ResponseMode.DIRECT_POST_JWT,
    verifier_sdk.ResponseMode.DC_API,
    verifier_sdk.ResponseMode.DC_API_JWT,
]


def oid4vp_config(mode, signer=None):
    return verifier_sdk.OpenId4VpRequestConfig(
        response_mode=mode,
        client_id=None,
        response_uri=RESPONSE_URI,
        origin=ORIGIN,
        credentials=[
            verifier_sdk.CredentialQuery(
                id="mdl",
                doc_type=MDL,
                claims=[
                    verifier_sdk.ClaimQuery(
                        id=None,
                        namespace=MDL_NS,
                        element=e,
                        intent_to_retain=(e == "age_over_18"),
                        values=[],
                    )
                    for e in ASKED
                ],
                claim_sets=[],
                multiple=False,
            )
        ],
        credential_sets=[],
        encryption=verifier_sdk.ResponseEncryption.A128_GCM,
        signer=signer,
    )


def delivered(verifier, origin=ORIGIN):
    """What the wallet app receives: over the DC API from `origin`, or by URL."""
    r = verifier.request()
    if r.protocol.startswith("openid4vp-v1") or r.protocol == "org-iso-mdoc":
        return wallet_sdk.OnlineRequest.DIGITAL_CREDENTIALS(
            protocol=r.protocol, data_json=r.data_json, origin=origin
        )
    return wallet_sdk.OnlineRequest.URL(url=r.authorization_url)


def approvals(consent, only=None):
    return [
        wallet_sdk.OnlineApproval(
            query_id=c.query_id,
            elements=[
                wallet_sdk.ApprovedElement(namespace=e.namespace, identifier=e.identifier)
                for e in c.elements
                if only is None or e.identifier in only
            ],
        )
        for c in consent.credentials
    ]


def sent(answer):
    """The form body the app posts, or the data it hands back to the browser."""
    if isinstance(answer, wallet_sdk.OnlineAnswer.POST):
        assert answer.url == RESPONSE_URI, answer.url
        assert answer.content_type == "application/x-www-form-urlencoded"
        return answer.body
    return answer.data_json


class OnlineTest(unittest.TestCase):
    def setUp(self):
        self.store_dir = tempfile.mkdtemp(prefix="wallet-store-")
        self.wallet = new_wallet(self.store_dir)
        self.aliases = self.wallet.new_device_keys(8)
        self.issued = Issued(self.wallet, self.aliases)
        self.wallet.trust_store().add_iaca_der(self.issued.read("iaca.der"))
        self.at = self.issued.at
        self.wallet.accept_credentials(
            MDL, [self.issued.credential("issued", i) for i in range(8)], ISSUER, self.at
        )

    def tearDown(self):
        shutil.rmtree(self.store_dir, ignore_errors=True)
        shutil.rmtree(self.issued.dir, ignore_errors=True)

    def answer(self, verifier, origin=ORIGIN, only=None):
        session = self.wallet.start_online_presentation(delivered(verifier, origin), self.at)
        return sent(session.respond(approvals(session.consent_request(), only), self.at))

    def verify(self, verifier, response):
        return verifier.verify_response(
            response,
            self.wallet.trust_store(),
            verifier_sdk.default_verification_options(self.at),
        )

    def refusal(self, verifier, response):
        with self.assertRaises(verifier_sdk.VerifierError.ResponseRefused) as caught:
            self.verify(verifier, response)
        return caught.exception.refusal

    def test_every_mode_discloses_exactly_the_query(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                verifier = verifier_sdk.OnlineVerifier.openid4vp(oid4vp_config(mode))
                session = self.wallet.start_online_presentation(delivered(verifier), self.at)
                consent = session.consent_request()
                self.assertTrue(consent.satisfiable)
                self.assertEqual(
                    [(e.identifier, e.intent_to_retain) for e in consent.credentials[0].elements],
                    [("family_name", False), ("age_over_18", True), ("portrait", False)],
                )
                report = self.verify(verifier, sent(session.respond(approvals(consent), self.at)))
                self.assertTrue(report.valid, report)
                disclosed = sorted(
                    e.identifier for e in report.presentations[0].report.documents[0].elements
                )
                self.assertEqual(disclosed, sorted(ASKED))
                self.assertTrue(report.queries[0].satisfied)

    def test_signed_request_names_a_verified_verifier(self):
        self.wallet.set_reader_trust_anchors([self.issued.read("reader_root.der")])
        signer = verifier_sdk.RequestSigner(
            private_key=verifier_sdk.SigningPrivateKey.PKCS8_DER(
                der=self.issued.read("reader_key.der")
            ),
            certificate_chain=[self.issued.read("reader.der")],
        )
        verifier = verifier_sdk.OnlineVerifier.openid4vp(
            oid4vp_config(verifier_sdk.ResponseMode.DC_API_JWT, signer)
        )
        self.assertEqual(verifier.request().protocol, "openid4vp-v1-signed")
        session = self.wallet.start_online_presentation(delivered(verifier), self.at)
        who = session.consent_request().verifier
        self.assertEqual(who.auth, wallet_sdk.ReaderAuthStatus.VERIFIED())
        self.assertTrue(who.client_id.startswith("x509_hash:"))
        report = self.verify(
            verifier, sent(session.respond(approvals(session.consent_request()), self.at))
        )
        self.assertTrue(report.valid, report)

    def test_annex_c_round_trip(self):
        verifier = verifier_sdk.OnlineVerifier.annex_c(
            verifier_sdk.AnnexCRequestConfig(
                origin=ORIGIN,
                documents=[
                    verifier_sdk.DocumentRequest(
                        doc_type=MDL,
                        namespaces=[
                            verifier_sdk.NamespaceRequest(
                                namespace=MDL_NS,
                                elements=[
                                    verifier_sdk.ElementRequest(identifier=e, intent_to_retain=False)
                                    for e in ASKED
                                ],
                            )
                        ],
                    )
                ],
                reader_auth=None,
            )
        )
        self.assertEqual(verifier.request().protocol, "org-iso-mdoc")
        report = self.verify(verifier, self.answer(verifier))
        self.assertTrue(report.valid, report)
        self.assertEqual(report.presentations[0].query_id, MDL)

    def test_replay_and_another_request_are_refused_by_name(self):
        mode = verifier_sdk.ResponseMode.DC_API_JWT
        verifier = verifier_sdk.OnlineVerifier.openid4vp(oid4vp_config(mode))
        response = self.answer(verifier)
        self.assertTrue(self.verify(verifier, response).valid)
        self.assertEqual(self.refusal(verifier, response), verifier_sdk.ResponseRefusal.REPLAYED)
        other = verifier_sdk.OnlineVerifier.openid4vp(oid4vp_config(mode))
        self.assertEqual(
            self.refusal(other, response), verifier_sdk.ResponseRefusal.NOT_FOR_THIS_KEY
        )
        post = verifier_sdk.ResponseMode.DIRECT_POST
        first = verifier_sdk.OnlineVerifier.openid4vp(oid4vp_config(post))
        second = verifier_sdk.OnlineVerifier.openid4vp(oid4vp_config(post))
        self.assertEqual(
            self.refusal(second, self.answer(first)),
            verifier_sdk.ResponseRefusal.STATE_MISMATCH,
        )

    def test_another_origin_is_a_transcript_mismatch(self):
        verifier = verifier_sdk.OnlineVerifier.openid4vp(
            oid4vp_config(verifier_sdk.ResponseMode.DC_API)
        )
        report = self.verify(verifier, self.answer(verifier, origin="https://elsewhere.example"))
        self.assertFalse(report.valid)
        self.assertEqual(
            report.findings, [verifier_sdk.ResponseFinding.TRANSCRIPT_MISMATCH(query_id="mdl")]
        )

    def test_the_holder_cannot_approve_what_was_not_asked(self):
        verifier = verifier_sdk.OnlineVerifier.openid4vp(
            oid4vp_config(verifier_sdk.ResponseMode.DC_API)
        )
        session = self.wallet.start_online_presentation(delivered(verifier), self.at)
        extra = [
            wallet_sdk.OnlineApproval(
                query_id="mdl",
                elements=[wallet_sdk.ApprovedElement(namespace=MDL_NS, identifier="birth_date")],
            )
        ]
        with self.assertRaises(wallet_sdk.WalletError.InvalidArgument):
            session.respond(extra, self.at)

    def test_malformed_requests_are_typed_errors(self):
        for protocol, data in [
            ("openid4vp-v1-unsigned", "not json"),
            ("openid4vp-v1-unsigned", "{}"),
            ("openid4vp-v1-signed", '{"request": "a.b.c"}'),
            ("org-iso-mdoc", '{"deviceRequest": "!", "encryptionInfo": "!"}'),
            ("something-else", "{}"),
        ]:
            with self.subTest(protocol=protocol, data=data):
                with self.assertRaises(wallet_sdk.WalletError):
                    self.wallet.start_online_presentation(
                        wallet_sdk.OnlineRequest.DIGITAL_CREDENTIALS(
                            protocol=protocol, data_json=data, origin=ORIGIN
                        ),
                        self.at,
                    )


if __name__ == "__main__":
    unittest.main()
