-- OpenID4VCI 1.0 authorization-code flow (HAIP 1.0): pushed authorization requests (RFC 9126)
-- and the portal hand-off that authenticates the user. A row moves 'pushed' (request_uri
-- handed out) -> 'login' (the browser was sent to the portal) -> 'approved' (the portal gave or
-- confirmed the record; an authorization code was issued and the offer row it redeems exists)
-- or 'denied'. Secrets are kept as SHA-256 only: the request_uri, the hand-off session and
-- the authorization code (which is also the linked offer's pre_auth_sha256, so the token
-- endpoint redeems it through the offers' single-transaction path).
CREATE TABLE authorization_requests (
    id                  BYTEA   NOT NULL PRIMARY KEY CHECK (octet_length(id) = 16),
    request_uri_sha256  BYTEA   NOT NULL UNIQUE CHECK (octet_length(request_uri_sha256) = 32),
    client_id           TEXT    NOT NULL,
    redirect_uri        TEXT    NOT NULL,
    code_challenge      TEXT    NOT NULL,
    doctype             TEXT    NOT NULL,
    oauth_state         TEXT,
    dpop_jkt            TEXT,
    attested_by         TEXT,
    status              TEXT    NOT NULL
        CHECK (status IN ('pushed', 'login', 'approved', 'denied')),
    request_expires_at  BIGINT  NOT NULL,
    session_sha256      BYTEA   UNIQUE CHECK (session_sha256 IS NULL OR octet_length(session_sha256) = 32),
    session_expires_at  BIGINT,
    code_sha256         BYTEA   UNIQUE CHECK (code_sha256 IS NULL OR octet_length(code_sha256) = 32),
    offer_id            BYTEA   REFERENCES credential_offers (id),
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);
CREATE INDEX authorization_requests_by_expiry ON authorization_requests (request_expires_at);
