-- Kept equivalent to ../sqlite/0002_device_keys_nonces.sql (see there for the reasons).
ALTER TABLE msos DROP CONSTRAINT msos_identifier_key;
CREATE INDEX msos_by_identifier ON msos (identifier);

CREATE TABLE device_keys (
    thumbprint  BYTEA NOT NULL PRIMARY KEY CHECK (octet_length(thumbprint) = 32),
    document_id BYTEA NOT NULL REFERENCES documents (id)
);
INSERT INTO device_keys (thumbprint, document_id)
    SELECT DISTINCT ON (device_key_thumbprint) device_key_thumbprint, document_id
    FROM msos ORDER BY device_key_thumbprint, id;

CREATE TABLE used_nonces (
    nonce_sha256 BYTEA  NOT NULL PRIMARY KEY CHECK (octet_length(nonce_sha256) = 32),
    expires_at   BIGINT NOT NULL
);
CREATE INDEX used_nonces_by_expiry ON used_nonces (expires_at);
