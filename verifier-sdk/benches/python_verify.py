"""The Python binding path: `verify_device_response` called from Python, on the same document,
trust and transcript as the Rust bench (`benches/verify.rs`), so the two rates compare directly.

    python3 verifier-sdk/benches/python_verify.py BINDINGS_DIR FIXTURE_DIR [SECONDS]

BINDINGS_DIR holds the generated `verifier_sdk` module with its cdylib (a release build for a
fair figure); FIXTURE_DIR is what the Rust bench wrote with `VERIFY_BENCH_OUT`. Prints one JSON
object: the rate per second (median of the slices) and the slices' rates. `scripts/bench.sh`
runs it beside the Rust figures.
"""

import json
import os
import statistics
import sys
import time


def main():
    bindings, fixture = sys.argv[1], sys.argv[2]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 6.0
    sys.path.insert(0, bindings)
    import verifier_sdk as v  # the generated module

    def read(name):
        with open(os.path.join(fixture, name), "rb") as f:
            return f.read()

    params = json.loads(read("params.json"))
    response = read("response.cbor")
    trust = v.TrustStore()
    trust.add_iaca_der(read("iaca.der"))
    options = v.default_verification_options(params["at"])
    transcript = v.SessionTranscriptInput.OPEN_ID4_VP(
        client_id=params["client_id"],
        nonce=params["nonce"],
        jwk_thumbprint=None,
        response_uri=params["response_uri"],
    )

    def verify():
        return v.verify_device_response(response, transcript, trust, options)

    report = verify()  # warms the trust store, as the Rust bench does
    if not report.valid or len(report.documents[0].elements) != 12:
        sys.exit("the bench document does not verify from Python")

    slices = 10
    rates = []
    for _ in range(slices):
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / slices:
            verify()
            n += 1
        rates.append(n / (time.perf_counter() - start))
    print(json.dumps({"per_second": statistics.median(rates), "slices": rates}))


if __name__ == "__main__":
    main()
