-- mdoc-issuer storage (SQLite). Kept column-for-column identical to ../postgres/0001_store.sql
-- so the same SQL serves both backends. Times are Unix seconds (UTC). No applicant personal
-- data is stored (policy §9.4): a document carries only a keyed hash of the applicant record.

CREATE TABLE api_clients (
    id                TEXT    PRIMARY KEY,              -- 128-bit random, lower-case hex
    name              TEXT    NOT NULL,
    scopes            TEXT    NOT NULL,                 -- space-separated: issue revoke admin
    credential_sha256 BLOB    NOT NULL UNIQUE CHECK (length(credential_sha256) = 32),
    created_at        BIGINT  NOT NULL,
    disabled          BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE ds_certificates (
    serial     TEXT   PRIMARY KEY,                      -- lower-case hex
    der        BLOB   NOT NULL,
    not_before BIGINT NOT NULL,
    not_after  BIGINT NOT NULL,
    state      TEXT   NOT NULL CHECK (state IN ('pending', 'active', 'retired', 'revoked')),
    key_uri    TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE documents (
    id                BLOB   PRIMARY KEY CHECK (length(id) = 16),
    doctype           TEXT   NOT NULL,
    state             TEXT   NOT NULL CHECK (state IN ('active', 'revoked')),
    created_at        BIGINT NOT NULL,
    revoked_at        BIGINT,
    revocation_reason BIGINT,
    applicant_ref     BLOB   NOT NULL CHECK (length(applicant_ref) = 32),
    CHECK ((state = 'active' AND revoked_at IS NULL AND revocation_reason IS NULL)
        OR (state = 'revoked' AND revoked_at IS NOT NULL AND revocation_reason IS NOT NULL))
);
CREATE INDEX documents_by_applicant ON documents (doctype, applicant_ref);

-- Status-list index allocation: next_index only ever grows, so an index is never reused.
CREATE TABLE status_lists (
    uri        TEXT   PRIMARY KEY,
    next_index BIGINT NOT NULL CHECK (next_index >= 0)
);

CREATE TABLE msos (
    id                    INTEGER PRIMARY KEY,
    document_id           BLOB    NOT NULL REFERENCES documents (id),
    ds_serial             TEXT    NOT NULL REFERENCES ds_certificates (serial),
    status_list_uri       TEXT    NOT NULL REFERENCES status_lists (uri),
    status_index          BIGINT  NOT NULL CHECK (status_index >= 0),
    identifier            BLOB    NOT NULL UNIQUE CHECK (length(identifier) > 0),
    device_key_thumbprint BLOB    NOT NULL CHECK (length(device_key_thumbprint) = 32),
    valid_from            BIGINT  NOT NULL,
    valid_until           BIGINT  NOT NULL CHECK (valid_until >= valid_from),
    created_at            BIGINT  NOT NULL,
    revoked_at            BIGINT,
    UNIQUE (status_list_uri, status_index)
);
CREATE INDEX msos_by_document ON msos (document_id);
CREATE INDEX msos_by_ds ON msos (ds_serial);
CREATE INDEX msos_revoked ON msos (valid_until) WHERE revoked_at IS NOT NULL;

CREATE TABLE idempotency (
    client_id       TEXT   NOT NULL REFERENCES api_clients (id),
    idem_key        TEXT   NOT NULL,
    request_sha256  BLOB   NOT NULL CHECK (length(request_sha256) = 32),
    response_status BIGINT NOT NULL,
    response_body   BLOB   NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    PRIMARY KEY (client_id, idem_key)
);
CREATE INDEX idempotency_by_expiry ON idempotency (expires_at);
