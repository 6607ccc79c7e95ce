-- Kept equivalent to ../postgres/0010_offer_claims.sql. (There is no SQLite 0009: PostgreSQL's
-- 0009 is a function SQLite does not need.)
--
-- The sealed applicant record moves out of credential_offers into a table of its own. It is
-- the large part of an offer (with a portrait, some 28 KB against a few hundred bytes), and
-- SQLite rewrites a row's whole payload on every UPDATE: each change of the offer's state (the
-- code exchange, then the issuance) wrote the record again into the WAL and, under the
-- issuance batch's savepoints, into the sub-journal. Now those updates touch a small row; the
-- record is written once and deleted when it is dropped (withdrawal, purge).
CREATE TABLE credential_offer_claims (
    offer_id      BLOB NOT NULL PRIMARY KEY REFERENCES credential_offers (id)
        CHECK (length(offer_id) = 16),
    claims_sealed BLOB NOT NULL
);
INSERT INTO credential_offer_claims (offer_id, claims_sealed)
    SELECT id, claims_sealed FROM credential_offers WHERE claims_sealed IS NOT NULL;
ALTER TABLE credential_offers DROP COLUMN claims_sealed;
