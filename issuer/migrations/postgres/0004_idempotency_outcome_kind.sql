-- Kept equivalent to ../sqlite/0004_idempotency_outcome_kind.sql (see there for the reasons):
-- response_status (201 issued, 200 refreshed) becomes response_kind, and any other status stops
-- the migration.
DO $$
DECLARE
    unknown BIGINT;
    how_many BIGINT;
BEGIN
    SELECT min(response_status), count(*) INTO unknown, how_many
        FROM idempotency WHERE response_status NOT IN (200, 201);
    IF how_many > 0 THEN
        RAISE EXCEPTION 'migration 0004: % idempotency record(s) have a response_status other than 201 (issued) or 200 (refreshed), e.g. %; their kind is unknown, so nothing was migrated', how_many, unknown;
    END IF;
END $$;
ALTER TABLE idempotency ADD COLUMN response_kind TEXT
    CHECK (response_kind IN ('issued', 'refreshed'));
UPDATE idempotency
    SET response_kind = CASE response_status WHEN 201 THEN 'issued' WHEN 200 THEN 'refreshed' END;
ALTER TABLE idempotency ALTER COLUMN response_kind SET NOT NULL;
ALTER TABLE idempotency DROP COLUMN response_status;
