"""Locates the generated wallet bindings and issues mDLs to a wallet's keys.

`scripts/python-sdk-tests.sh` sets WALLET_SDK_BINDINGS (the directory holding the generated
`mdoc_wallet` package: wallet_sdk and verifier_sdk from one library) and WALLET_SDK_FIXTURE_BIN
(the `wallet_fixture` example, which issues mDLs from this project's own stack to given keys).
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WORKSPACE = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(WORKSPACE, "target"))
BINDINGS = os.environ.get("WALLET_SDK_BINDINGS", os.path.join(TARGET, "bindings", "wallet", "python"))
FIXTURE_BIN = os.environ.get(
    "WALLET_SDK_FIXTURE_BIN", os.path.join(TARGET, "debug", "examples", "wallet_fixture")
)

sys.path.insert(0, BINDINGS)
from mdoc_wallet import verifier_sdk, wallet_sdk  # noqa: E402  (the generated modules)

MDL = "org.iso.18013.5.1.mDL"
MDL_NS = "org.iso.18013.5.1"
ISSUER = "https://issuer.example.jp"


class Issued:
    """mDLs the fixture issued to `aliases` (in order), with its PKI and readers."""

    def __init__(self, wallet, aliases):
        self.dir = tempfile.mkdtemp(prefix="wallet-fixture-")
        keys = [wallet.device_public_key(a).hex() for a in aliases]
        subprocess.run([FIXTURE_BIN, self.dir, *keys], check=True, stdout=subprocess.DEVNULL)
        self.aliases = aliases
        with open(os.path.join(self.dir, "fixture.json")) as f:
            self.at = json.load(f)["at_unix_seconds"]

    def read(self, name):
        with open(os.path.join(self.dir, name), "rb") as f:
            return f.read()

    def credential(self, kind, index, alias=None):
        """IssuedCredential of `<kind>_<index>.cbor` for `alias` (default: its own key)."""
        return wallet_sdk.IssuedCredential(
            issuer_signed=self.read(f"{kind}_{index}.cbor"),
            key_alias=alias if alias is not None else self.aliases[index],
        )


def new_wallet(store_dir):
    """A wallet with software keys, file storage in `store_dir` and an empty trust store."""
    trust = verifier_sdk.TrustStore()
    return wallet_sdk.Wallet(
        wallet_sdk.software_key_store(), wallet_sdk.file_storage(store_dir), trust
    )


def mdl_request(elements):
    """A DocumentRequest for the mDL elements [(identifier, intent_to_retain)]."""
    return [
        verifier_sdk.DocumentRequest(
            doc_type=MDL,
            namespaces=[
                verifier_sdk.NamespaceRequest(
                    namespace=MDL_NS,
                    elements=[
                        verifier_sdk.ElementRequest(identifier=i, intent_to_retain=r)
                        for i, r in elements
                    ],
                )
            ],
        )
    ]


def approve(consent, identifiers):
    """Approves `identifiers` of every requested document."""
    return [
        wallet_sdk.ApprovedDocument(
            doc_type=d.doc_type,
            elements=[
                wallet_sdk.ApprovedElement(namespace=MDL_NS, identifier=i) for i in identifiers
            ],
        )
        for d in consent.documents
    ]
