-- OpenID4VCI 1.0 credential offers made by the portal for an identified applicant, and the
-- grant each one carries (pre-authorized code, optional transaction code, the access token it
-- was exchanged for). Every secret is stored as a hash or sealed: the pre-authorized code,
-- the offer reference and the access token as SHA-256, the transaction code as an HMAC under
-- the server secret, the applicant record and the offer JSON (which holds the code) AES-GCM
-- sealed. The record is dropped (claims NULL) once it is no longer needed to issue or replay.
CREATE TABLE credential_offers (
    id                 BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    client_id          TEXT    NOT NULL,
    doctype            TEXT    NOT NULL,
    claims_sealed      BLOB,
    state              TEXT    NOT NULL
        CHECK (state IN ('offered', 'redeemed', 'deferred', 'issued', 'withdrawn', 'locked')),
    pre_auth_sha256    BLOB    NOT NULL UNIQUE CHECK (length(pre_auth_sha256) = 32),
    offer_ref_sha256   BLOB    NOT NULL UNIQUE CHECK (length(offer_ref_sha256) = 32),
    offer_sealed       BLOB    NOT NULL,
    tx_code_mac        BLOB    CHECK (tx_code_mac IS NULL OR length(tx_code_mac) = 32),
    tx_attempts        BIGINT  NOT NULL DEFAULT 0 CHECK (tx_attempts >= 0),
    expires_at         BIGINT  NOT NULL,
    token_sha256       BLOB    UNIQUE CHECK (token_sha256 IS NULL OR length(token_sha256) = 32),
    token_expires_at   BIGINT,
    dpop_jkt           TEXT,
    transaction_sha256 BLOB    UNIQUE,
    deferred_keys      BLOB,
    document_id        BLOB    REFERENCES documents (id),
    notification_id    TEXT    UNIQUE,
    last_event         TEXT,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL
);
CREATE INDEX credential_offers_by_expiry ON credential_offers (expires_at);

-- DPoP proof identifiers (RFC 9449 §11.1): each `jti` is accepted once within its window.
CREATE TABLE dpop_jtis (
    jti_sha256 BLOB   NOT NULL PRIMARY KEY CHECK (length(jti_sha256) = 32),
    expires_at BIGINT NOT NULL
);
CREATE INDEX dpop_jtis_by_expiry ON dpop_jtis (expires_at);
