"""Locates the generated wallet bindings, issues mDLs to a wallet's keys, and talks to a
running issuer and DTS.

`scripts/python-sdk-tests.sh` sets WALLET_SDK_BINDINGS (the directory holding the generated
`mdoc_wallet` package: wallet_sdk and verifier_sdk from one library), WALLET_SDK_FIXTURE_BIN
(the `wallet_fixture` example, which issues mDLs from this project's own stack to given keys)
and WALLET_SDK_ISSUER_SERVE (the `serve.json` of a running `mdoc-dev --serve
--portal-login-url URL`: the issuer's and the DTS's URLs, the pinned root, an API token).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

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


# ---- A running issuer and DTS (`mdoc-dev --serve`) ----

SERVE = os.environ.get("WALLET_SDK_ISSUER_SERVE")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Returns a 3xx answer as it is (urllib raises it as an HTTPError) instead of following."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# No proxies (the services are on loopback), no redirects.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
TIMEOUT_SECONDS = 30


def _read_bounded(response, limit):
    """At most `limit` bytes of `response`'s body, or None when it has more."""
    body = response.read(limit + 1)
    return None if len(body) > limit else body


def _exchange(request, limit):
    """(status, [(name, value)], body) of `request`; a 3xx or 4xx/5xx is an answer too.
    Raises OSError when there is no answer, ValueError when the body exceeds `limit`."""
    try:
        response = _OPENER.open(request, timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError as e:
        response = e
    with response:
        body = _read_bounded(response, limit)
        if body is None:
            raise ValueError(f"{request.full_url}: answer larger than {limit} bytes")
        return response.status, list(response.headers.items()), body


class UrllibHttpClient(wallet_sdk.HttpClient):
    """The app's HTTP stack for the OpenID4VCI client: urllib, no redirects followed, the
    body read only up to the bound the SDK announces; every request is recorded."""

    def __init__(self):
        self.requests = []
        self.statuses = []

    def send(self, request):
        self.requests.append(request)
        self.statuses.append(None)
        post = request.method == wallet_sdk.HttpMethod.POST
        r = urllib.request.Request(
            request.url, data=bytes(request.body) if post else None,
            method="POST" if post else "GET",
        )
        for h in request.headers:
            r.add_header(h.name, h.value)
        try:
            status, headers, body = _exchange(r, request.max_response_bytes)
        except ValueError as e:
            raise wallet_sdk.WalletError.SizeLimit(reason=str(e))
        except OSError as e:
            raise wallet_sdk.WalletError.Http(reason=str(e))
        self.statuses[-1] = status
        return wallet_sdk.WalletHttpResponse(
            status=status,
            headers=[wallet_sdk.HttpHeader(name=n, value=v) for n, v in headers],
            body=body,
        )

    def requests_to(self, path, status=None):
        """The recorded requests to `path` (only those answered with `status`, if given)."""
        return [
            r for r, s in zip(self.requests, self.statuses)
            if urllib.parse.urlsplit(r.url).path == path and status in (None, s)
        ]


def header(request, name):
    """The value of header `name` of a recorded request, or None."""
    for h in request.headers:
        if h.name.lower() == name.lower():
            return h.value
    return None


class UrllibDtsClient(verifier_sdk.DtsHttpClient):
    """The app's HTTP stack for the trust store's DTS sync."""

    MAX_BYTES = 16 * 1024 * 1024

    def get(self, url, if_none_match):
        r = urllib.request.Request(url)
        if if_none_match is not None:
            r.add_header("If-None-Match", if_none_match)
        try:
            status, headers, body = _exchange(r, self.MAX_BYTES)
        except (OSError, ValueError) as e:
            raise verifier_sdk.VerifierError.Fetch(uri=url, reason=str(e))
        etag = next((v for n, v in headers if n.lower() == "etag"), None)
        return verifier_sdk.HttpResponse(status=status, etag=etag, body=body)


class UrllibListFetcher(verifier_sdk.ListFetcher):
    """The verifier app's HTTP client for the MSOs' status and identifier lists."""

    MAX_BYTES = 4 * 1024 * 1024

    def __init__(self):
        self.asked = []

    def fetch(self, uri):
        self.asked.append(uri)
        try:
            status, _, body = _exchange(urllib.request.Request(uri), self.MAX_BYTES)
        except (OSError, ValueError) as e:
            raise verifier_sdk.VerifierError.Fetch(uri=uri, reason=str(e))
        if status != 200:
            raise verifier_sdk.VerifierError.Fetch(uri=uri, reason=f"HTTP {status}")
        return body


def now():
    return int(time.time())


def sample_jpeg():
    """A structurally valid baseline JPEG of one 8x8 grey block (169 bytes): a stand-in
    portrait, the same construction as `schemas::image::sample_jpeg` without padding."""
    v = bytearray(b"\xff\xd8")
    v += bytes([0xFF, 0xE0, 0x00, 0x10]) + b"JFIF\x00" + bytes([1, 1, 0, 0, 1, 0, 1, 0, 0])
    v += bytes([0xFF, 0xDB, 0x00, 0x43, 0x00]) + bytes([1] * 64)
    v += bytes([0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00])
    for table_class in (0x00, 0x10):
        v += bytes([0xFF, 0xC4, 0x00, 0x14, table_class, 1]) + bytes(15) + b"\x00"
    v += bytes([0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x3F])
    v += b"\xff\xd9"
    return bytes(v)


def applicant_record():
    """The portal's record of a fictitious applicant (the mDL's mandatory elements and
    age_over_18), as `POST /v1/offers` and the authorization hand-off take it."""
    import base64

    portrait = base64.urlsafe_b64encode(sample_jpeg()).rstrip(b"=").decode()
    return {
        MDL_NS: {
            "family_name": "Okafor",
            "given_name": "Ada Nneka",
            "birth_date": "1988-11-03",
            "issue_date": "2026-02-01",
            "expiry_date": "2036-01-31",
            "issuing_country": "NL",
            "issuing_authority": "DEV-ONLY Test Authority",
            "document_number": "PY0098765",
            "portrait": portrait,
            "driving_privileges": [
                {"vehicle_category_code": "B", "issue_date": "2010-06-01",
                 "expiry_date": "2036-01-31"}
            ],
            "un_distinguishing_sign": "NL",
            "age_over_18": True,
        }
    }


class RunningStack:
    """The services `mdoc-dev --serve` runs, read from its serve.json; the test plays the
    portal (the API token) and the user's browser with it."""

    def __init__(self, path):
        with open(path) as f:
            serve = json.load(f)
        self.issuer_url = serve["issuer_url"]
        self.dts_index_url = serve["dts_index_url"]
        self.pinned_roots = serve["pinned_roots"]
        self.portal_login_url = serve["portal_login_url"]
        self._token = serve["api_token"]

    def portal(self, method, path, body=None):
        """(status, JSON answer) of the portal's call to the issuer's API."""
        data = None if body is None else json.dumps(body).encode()
        r = urllib.request.Request(self.issuer_url + path, data=data, method=method)
        r.add_header("Authorization", f"Bearer {self._token}")
        if data is not None:
            r.add_header("Content-Type", "application/json")
        status, _, answer = _exchange(r, 1024 * 1024)
        return status, json.loads(answer) if answer else None

    def offer(self, tx_code_length=6):
        """The portal's credential offer of the applicant's mDL, with a transaction code."""
        status, offer = self.portal("POST", "/v1/offers", {
            "doctype": MDL,
            "claims": applicant_record(),
            "tx_code": {"length": tx_code_length, "description": "sent by SMS"},
        })
        if status != 201:
            raise AssertionError(f"POST /v1/offers answered {status}: {offer}")
        return offer

    def browse(self, url):
        """(status, Location) of the browser's GET of `url`."""
        status, headers, _ = _exchange(urllib.request.Request(url), 64 * 1024)
        return status, next((v for n, v in headers if n.lower() == "location"), None)

    def trust_store(self):
        """A trust store synced from the DTS: the pinned root and its CRL."""
        store = verifier_sdk.TrustStore()
        store.sync_from_dts(self.dts_index_url, self.pinned_roots, UrllibDtsClient(), now())
        return store
