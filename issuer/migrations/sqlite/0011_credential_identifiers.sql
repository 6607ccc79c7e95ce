-- Kept equivalent to ../postgres/0011_credential_identifiers.sql (see there for the reasons).
ALTER TABLE authorization_requests
    ADD COLUMN by_authorization_details BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE credential_offers
    ADD COLUMN credential_identifier_sha256 BLOB CHECK (credential_identifier_sha256 IS NULL
        OR length(credential_identifier_sha256) = 32);
