-- An idempotency record keeps what kind of outcome its request had ('issued' or 'refreshed'),
-- not the HTTP status it was answered with: the engine no longer knows HTTP, and the API layer
-- maps the kind to the status. The schema-0003 code stored 201 for a new issuance and 200 for a
-- refresh, and no other status; a record with any other status is not given a guessed kind: the
-- migration stops (its transaction rolls back) and names the problem. The sealed replay records
-- in response_body are kept byte for byte.
-- SQLite can change a column only by rebuilding the table (as in 0002); response_kind goes last,
-- where PostgreSQL's ADD COLUMN puts it.
CREATE TABLE idempotency_new (
    client_id      TEXT   NOT NULL REFERENCES api_clients (id),
    idem_key       TEXT   NOT NULL,
    request_sha256 BLOB   NOT NULL CHECK (length(request_sha256) = 32),
    response_body  BLOB   NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    response_kind  TEXT   NOT NULL CHECK (response_kind IN ('issued', 'refreshed')),
    PRIMARY KEY (client_id, idem_key)
);
-- RAISE works only in a trigger: this one lives for the copy below.
CREATE TRIGGER idempotency_0004_unknown_status BEFORE INSERT ON idempotency_new
    WHEN NEW.response_kind IS NULL
BEGIN
    SELECT RAISE(ABORT, 'migration 0004: an idempotency record has a response_status other than 201 (issued) or 200 (refreshed); its kind is unknown, so nothing was migrated');
END;
INSERT INTO idempotency_new (client_id, idem_key, request_sha256, response_body, created_at,
        expires_at, response_kind)
    SELECT client_id, idem_key, request_sha256, response_body, created_at, expires_at,
        CASE response_status WHEN 201 THEN 'issued' WHEN 200 THEN 'refreshed' END
    FROM idempotency;
DROP TRIGGER idempotency_0004_unknown_status;
DROP TABLE idempotency;
ALTER TABLE idempotency_new RENAME TO idempotency;
CREATE INDEX idempotency_by_expiry ON idempotency (expires_at);
