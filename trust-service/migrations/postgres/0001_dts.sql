-- The DTS's published material and its history. Times are Unix seconds.
CREATE TABLE write_lock (id BIGINT PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL);
INSERT INTO write_lock (id, n) VALUES (1, 0);

-- Every ingest attempt, accepted or refused.
CREATE TABLE ingests (
    id BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    bundle_sha256 TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);

CREATE TABLE roots (
    fingerprint TEXT PRIMARY KEY,
    der BYTEA NOT NULL,
    crl_url TEXT NOT NULL UNIQUE,
    pinned BIGINT NOT NULL,
    via_link TEXT,
    ingest_id BIGINT NOT NULL REFERENCES ingests (id),
    added_at BIGINT NOT NULL
);

CREATE TABLE links (
    fingerprint TEXT PRIMARY KEY,
    der BYTEA NOT NULL,
    issuer_root TEXT NOT NULL REFERENCES roots (fingerprint),
    subject_root TEXT NOT NULL REFERENCES roots (fingerprint),
    ingest_id BIGINT NOT NULL REFERENCES ingests (id),
    added_at BIGINT NOT NULL
);

-- number: the cRLNumber as 40 hex digits, so text order is number order.
CREATE TABLE crls (
    root TEXT NOT NULL REFERENCES roots (fingerprint),
    number TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    der BYTEA NOT NULL,
    this_update BIGINT NOT NULL,
    next_update BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    ingest_id BIGINT NOT NULL REFERENCES ingests (id),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (root, number)
);

CREATE TABLE vicals (
    issue_id BIGINT PRIMARY KEY,
    date BIGINT NOT NULL,
    next_update BIGINT NOT NULL,
    roots TEXT NOT NULL,
    bytes BYTEA NOT NULL
);
