"""The wallet SDK through its Python bindings: keys, receipt, refusals, presentation to the
verifier SDK's reader session (the same library), unlinkability."""

import os
import shutil
import tempfile
import unittest

from wallet import (
    ISSUER,
    MDL,
    Issued,
    approve,
    mdl_request,
    new_wallet,
    verifier_sdk,
    wallet_sdk,
)


class WalletTest(unittest.TestCase):
    def setUp(self):
        self.store_dir = tempfile.mkdtemp(prefix="wallet-store-")
        self.wallet = new_wallet(self.store_dir)
        self.aliases = self.wallet.new_device_keys(8)
        self.issued = Issued(self.wallet, self.aliases)
        self.wallet.trust_store().add_iaca_der(self.issued.read("iaca.der"))
        self.at = self.issued.at

    def tearDown(self):
        shutil.rmtree(self.store_dir, ignore_errors=True)
        shutil.rmtree(self.issued.dir, ignore_errors=True)

    def accept(self, credentials, doc_type=MDL):
        return self.wallet.accept_credentials(doc_type, credentials, ISSUER, self.at)

    def hold(self, indexes):
        return self.accept([self.issued.credential("issued", i) for i in indexes])

    # Receipt.

    def test_keys_are_fresh_p256_points(self):
        self.assertEqual(len(set(self.aliases)), 8)
        for alias in self.aliases:
            key = self.wallet.device_public_key(alias)
            self.assertEqual((len(key), key[0]), (65, 4))

    def test_a_verified_batch_is_stored(self):
        summary = self.hold([0, 1, 2])
        self.assertEqual(summary.doc_type, MDL)
        self.assertEqual([m.key_alias for m in summary.msos], self.aliases[:3])
        self.assertEqual([m.use_count for m in summary.msos], [0, 0, 0])
        self.assertEqual(self.wallet.credentials(), [summary])
        # A new wallet over the same files sees it.
        again = new_wallet(self.store_dir)
        self.assertEqual([c.id for c in again.credentials()], [summary.id])
        health = self.wallet.credential_health(summary.id, self.at)
        self.assertEqual((health.total, health.unused), (3, 3))
        self.assertFalse(health.needs_refresh)
        self.wallet.delete_credential(summary.id)
        self.assertEqual(self.wallet.credentials(), [])
        with self.assertRaises(wallet_sdk.WalletError.KeyStore):
            self.wallet.device_public_key(self.aliases[0])

    def assert_refused(self, credentials, reason, doc_type=MDL):
        with self.assertRaises(wallet_sdk.WalletError.CredentialRefused) as caught:
            self.accept(credentials, doc_type)
        self.assertEqual(caught.exception.reason, reason, str(caught.exception))
        self.assertEqual(self.wallet.credentials(), [])
        self.assertEqual(os.listdir(self.store_dir), [])
        for c in credentials:
            with self.assertRaises(wallet_sdk.WalletError.KeyStore):
                self.wallet.device_public_key(c.key_alias)

    def test_untrusted_iaca_is_refused(self):
        self.assert_refused(
            [self.issued.credential("untrusted", 0)], wallet_sdk.RefusalReason.UNTRUSTED_ISSUER
        )

    def test_tampered_element_is_refused(self):
        good = self.issued.credential("issued", 0)
        bad = self.issued.credential("issued", 1)
        bad.issuer_signed = bad.issuer_signed.replace(b"Yamada", b"Yamade", 1)
        # All or nothing: the good one is not kept either.
        self.assert_refused([good, bad], wallet_sdk.RefusalReason.TAMPERED_ELEMENT)

    def test_mso_bound_to_another_key_is_refused(self):
        self.assert_refused(
            [self.issued.credential("issued", 2, alias=self.aliases[3])],
            wallet_sdk.RefusalReason.BOUND_TO_ANOTHER_KEY,
        )

    def test_wrong_doc_type_is_refused(self):
        self.assert_refused(
            [self.issued.credential("issued", 4)],
            wallet_sdk.RefusalReason.WRONG_DOC_TYPE,
            doc_type="org.iso.23220.photoid.1",
        )

    def test_expired_mso_is_refused(self):
        self.assert_refused(
            [self.issued.credential("expired", 5)], wallet_sdk.RefusalReason.EXPIRED
        )

    # Presentation.

    def engage(self, reader_cert=None, reader_key=None):
        session = self.wallet.start_presentation()
        reader = verifier_sdk.ReaderSession.from_qr_code(session.qr_code_uri())
        auth = None
        if reader_cert is not None:
            auth = verifier_sdk.ReaderAuthKey(
                private_key=verifier_sdk.SigningPrivateKey.PKCS8_DER(
                    der=self.issued.read(reader_key)
                ),
                certificate_chain=[self.issued.read(reader_cert)],
            )
        request = reader.device_request(
            mdl_request([("family_name", False), ("age_over_18", True), ("portrait", False)]),
            auth,
        )
        consent = session.receive_establishment(reader.establish(request), self.at)
        return session, reader, consent

    def present(self, identifiers):
        """One presentation approving `identifiers`; the DeviceResponse bytes."""
        session, reader, consent = self.engage()
        received = reader.decrypt(session.respond(approve(consent, identifiers), self.at))
        report = reader.verify_response(
            received.data,
            self.wallet.trust_store(),
            verifier_sdk.default_verification_options(self.at),
        )
        self.assertTrue(report.valid, report)
        return received.data

    def test_only_approved_elements_reach_the_verifier(self):
        summary = self.hold([0, 1])
        self.wallet.set_reader_trust_anchors([self.issued.read("reader_root.der")])
        session, reader, consent = self.engage("reader.der", "reader_key.der")
        doc = consent.documents[0]
        self.assertEqual(doc.credential_id, summary.id)
        self.assertEqual(doc.reader.auth, wallet_sdk.ReaderAuthStatus.VERIFIED())
        self.assertIn("Python Test Reader", doc.reader.subject)
        self.assertEqual(
            [(e.identifier, e.intent_to_retain, e.available) for e in doc.elements],
            [("age_over_18", True, True), ("family_name", False, True), ("portrait", False, True)],
        )
        message = session.respond(approve(consent, ["age_over_18"]), self.at)
        received = reader.decrypt(message)
        report = reader.verify_response(
            received.data,
            self.wallet.trust_store(),
            verifier_sdk.default_verification_options(self.at),
        )
        self.assertTrue(report.valid, report)
        self.assertEqual([e.identifier for e in report.documents[0].elements], ["age_over_18"])
        self.assertIsNone(session.receive_message(reader.terminate(), self.at))
        self.assertTrue(session.is_terminated())

    def test_a_reader_whose_authentication_fails_is_unverified(self):
        self.hold([0])
        self.wallet.set_reader_trust_anchors([self.issued.read("reader_root.der")])
        _, _, consent = self.engage("rogue_reader.der", "rogue_reader_key.der")
        reader = consent.documents[0].reader
        self.assertTrue(reader.auth.is_unverified(), reader)
        self.assertIn("Rogue Reader", reader.subject)

    def test_presentations_use_different_msos_until_the_batch_is_used_up(self):
        self.hold([0, 1])
        # Each MSO holds its device key: its x coordinate says which MSO (with its own
        # digests and salts) a response carries.
        xs = [self.wallet.device_public_key(a)[1:33] for a in self.aliases[:2]]
        shown = []
        for _ in range(2):
            data = self.present(["family_name"])
            shown.append([x in data for x in xs].index(True))
        self.assertEqual(sorted(shown), [0, 1])
        self.assertEqual([m.use_count for m in self.wallet.credentials()[0].msos], [1, 1])
        with self.assertRaises(wallet_sdk.WalletError.NoUsableMso):
            self.present(["family_name"])
        policy = self.wallet.policy()
        policy.reuse_when_exhausted = True
        self.wallet.set_policy(policy)
        self.present(["family_name"])
        self.assertEqual(sorted(m.use_count for m in self.wallet.credentials()[0].msos), [1, 2])
    def test_a_broken_session_message_ends_the_session_with_a_status(self):
        summary = self.hold([0])
        for message, code in [(b"\xa0", 11), (b"", 11), (b"\x5a\xff\xff\xff\xff", 11)]:
            session = self.wallet.start_presentation()
            with self.assertRaises(wallet_sdk.WalletError.Session) as caught:
                session.receive_establishment(message, self.at)
            self.assertEqual(caught.exception.status_code, code)
            # The reply is the SessionData status message the reader understands.
            self.assertEqual(caught.exception.reply, verifier_sdk.session_status_message(
                verifier_sdk.SessionStatus.CBOR_DECODING_ERROR()))
            self.assertTrue(session.is_terminated())
        self.assertEqual(self.wallet.credentials(), [summary])
        self.assertEqual(self.wallet.credentials()[0].msos[0].use_count, 0)


if __name__ == "__main__":
    unittest.main()
