-- MSO identifiers become the RFC 9679 thumbprint of the MSO's device key (the identifier list
-- lists revoked device keys), so MSOs of one document refreshed with the same key share it:
-- the UNIQUE constraint goes (SQLite can only drop it by rebuilding the table).
CREATE TABLE msos_new (
    id                    INTEGER PRIMARY KEY,
    document_id           BLOB    NOT NULL REFERENCES documents (id),
    ds_serial             TEXT    NOT NULL REFERENCES ds_certificates (serial),
    status_list_uri       TEXT    NOT NULL REFERENCES status_lists (uri),
    status_index          BIGINT  NOT NULL CHECK (status_index >= 0),
    identifier            BLOB    NOT NULL CHECK (length(identifier) > 0),
    device_key_thumbprint BLOB    NOT NULL CHECK (length(device_key_thumbprint) = 32),
    valid_from            BIGINT  NOT NULL,
    valid_until           BIGINT  NOT NULL CHECK (valid_until >= valid_from),
    created_at            BIGINT  NOT NULL,
    revoked_at            BIGINT,
    UNIQUE (status_list_uri, status_index)
);
INSERT INTO msos_new SELECT id, document_id, ds_serial, status_list_uri, status_index, identifier,
    device_key_thumbprint, valid_from, valid_until, created_at, revoked_at FROM msos;
DROP TABLE msos;
ALTER TABLE msos_new RENAME TO msos;
CREATE INDEX msos_by_document ON msos (document_id);
CREATE INDEX msos_by_ds ON msos (ds_serial);
CREATE INDEX msos_by_identifier ON msos (identifier);
CREATE INDEX msos_revoked ON msos (valid_until) WHERE revoked_at IS NOT NULL;

-- A device key binds one document only: revoking a document lists its keys' thumbprints, which
-- must not revoke another document by accident. The primary key makes the check race-free.
CREATE TABLE device_keys (
    thumbprint  BLOB NOT NULL PRIMARY KEY CHECK (length(thumbprint) = 32),
    document_id BLOB NOT NULL REFERENCES documents (id)
);
INSERT OR IGNORE INTO device_keys (thumbprint, document_id)
    SELECT device_key_thumbprint, document_id FROM msos ORDER BY id;

-- Proof-of-possession nonces are single use: consumed in the issuance's own transaction.
CREATE TABLE used_nonces (
    nonce_sha256 BLOB   NOT NULL PRIMARY KEY CHECK (length(nonce_sha256) = 32),
    expires_at   BIGINT NOT NULL
);
CREATE INDEX used_nonces_by_expiry ON used_nonces (expires_at);
