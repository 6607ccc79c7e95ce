-- Kept equivalent to ../sqlite/0010_offer_claims.sql (see there for the reasons; PostgreSQL
-- keeps large values out of line already, but both backends share one schema).
CREATE TABLE credential_offer_claims (
    offer_id      BYTEA NOT NULL PRIMARY KEY REFERENCES credential_offers (id)
        CHECK (octet_length(offer_id) = 16),
    claims_sealed BYTEA NOT NULL
);
INSERT INTO credential_offer_claims (offer_id, claims_sealed)
    SELECT id, claims_sealed FROM credential_offers WHERE claims_sealed IS NOT NULL;
ALTER TABLE credential_offers DROP COLUMN claims_sealed;
