"""The real AAMVA VICAL (../shared/vectors/aamva) through the Python bindings: verified against
the AAMVA root at its issue date with its 14 IACAs, reported stale today, refused when first
added today, and kept across a serialised store."""

import os
import time
import unittest

from sdk import VECTORS, verifier_sdk as v

AAMVA = os.path.join(os.path.dirname(VECTORS), "aamva")
VICAL = "aamva-vical-2025-11-18-1763491092481.cbor"
# 2025-11-18T18:38:12Z, the VICAL's date.
ISSUED_AT = 1763491092


def read(name):
    with open(os.path.join(AAMVA, name), "rb") as f:
        return f.read()


def store_at(at):
    s = v.TrustStore()
    s.add_vical_anchor(read("aamva_ca_root.crt"))
    return s, s.add_vical(read(VICAL), at)


class AamvaVical(unittest.TestCase):
    def test_loads_at_its_issue_date_with_fourteen_iacas(self):
        s, outcome = store_at(ISSUED_AT)
        self.assertEqual(outcome, v.AddOutcome.ADDED)
        [info] = s.vicals(ISSUED_AT)
        self.assertEqual(info.iaca_count, 14)
        self.assertTrue(info.fresh, info.stale_reasons)
        self.assertEqual(info.date, ISSUED_AT)

    def test_is_reported_stale_today(self):
        s, _ = store_at(ISSUED_AT)
        [info] = s.vicals(int(time.time()))
        self.assertFalse(info.fresh)
        self.assertTrue(info.stale_reasons)

    def test_is_refused_when_first_added_today(self):
        with self.assertRaises(v.VerifierError):
            store_at(int(time.time()))

    def test_without_its_anchor_it_is_refused(self):
        with self.assertRaises(v.VerifierError):
            v.TrustStore().add_vical(read(VICAL), ISSUED_AT)

    def test_survives_a_serialised_store(self):
        s, _ = store_at(ISSUED_AT)
        today = int(time.time())
        reloaded = v.TrustStore.from_bytes(s.to_bytes(), today)
        [info] = reloaded.vicals(today)
        self.assertEqual(info.iaca_count, 14)
        self.assertFalse(info.fresh)


if __name__ == "__main__":
    unittest.main()
