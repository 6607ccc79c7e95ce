-- The DTS's published material and its history. Times are Unix seconds.
CREATE TABLE write_lock (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
INSERT INTO write_lock (id, n) VALUES (1, 0);

-- Every ingest attempt, accepted or refused.
CREATE TABLE ingests (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    bundle_sha256 TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);

CREATE TABLE roots (
    fingerprint TEXT PRIMARY KEY,
    der BLOB NOT NULL,
    crl_url TEXT NOT NULL UNIQUE,
    pinned INTEGER NOT NULL,
    via_link TEXT,
    ingest_id INTEGER NOT NULL REFERENCES ingests (id),
    added_at INTEGER NOT NULL
);

CREATE TABLE links (
    fingerprint TEXT PRIMARY KEY,
    der BLOB NOT NULL,
    issuer_root TEXT NOT NULL REFERENCES roots (fingerprint),
    subject_root TEXT NOT NULL REFERENCES roots (fingerprint),
    ingest_id INTEGER NOT NULL REFERENCES ingests (id),
    added_at INTEGER NOT NULL
);

-- number: the cRLNumber as 40 hex digits, so text order is number order.
CREATE TABLE crls (
    root TEXT NOT NULL REFERENCES roots (fingerprint),
    number TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    der BLOB NOT NULL,
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    entries INTEGER NOT NULL,
    ingest_id INTEGER NOT NULL REFERENCES ingests (id),
    added_at INTEGER NOT NULL,
    PRIMARY KEY (root, number)
);

CREATE TABLE vicals (
    issue_id INTEGER PRIMARY KEY,
    date INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    roots TEXT NOT NULL,
    bytes BLOB NOT NULL
);
