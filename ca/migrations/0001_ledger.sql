-- The offline root CA's ledger. Revocations and CRL numbers only ever grow: triggers refuse
-- UPDATE and DELETE on the tables whose history is evidence.

CREATE TABLE ceremonies (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL,
    config_sha256 TEXT    NOT NULL,
    terminal_id   TEXT    NOT NULL,
    actors        TEXT    NOT NULL,           -- JSON array of operator and custodian ids
    started_at    TEXT    NOT NULL,
    finished_at   TEXT    NOT NULL,
    result        TEXT    NOT NULL CHECK (result IN ('success', 'failure'))
);

CREATE TABLE root_keys (
    label        TEXT PRIMARY KEY,
    key_uri      TEXT NOT NULL,
    spki_sha256  TEXT NOT NULL UNIQUE,
    cert_serial  TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('active', 'retired', 'compromised')),
    created_at   TEXT NOT NULL
);

CREATE TABLE certificates (
    serial       TEXT PRIMARY KEY,            -- lower-case hex
    kind         TEXT NOT NULL CHECK (kind IN ('iaca', 'ds', 'link')),
    subject      TEXT NOT NULL,
    spki_sha256  TEXT NOT NULL,
    signed_by    TEXT NOT NULL,               -- root key label
    not_before   TEXT NOT NULL,
    not_after    TEXT NOT NULL,
    sha256       TEXT NOT NULL UNIQUE,
    der          BLOB NOT NULL,
    ceremony_id  INTEGER NOT NULL REFERENCES ceremonies(id)
);
-- A DS key is certified at most once (no renewal without re-key, policy §4.6).
CREATE UNIQUE INDEX certificates_one_ds_per_key ON certificates(spki_sha256) WHERE kind = 'ds';

CREATE TABLE revocations (
    serial       TEXT PRIMARY KEY REFERENCES certificates(serial),
    revoked_at   TEXT NOT NULL,
    reason       TEXT NOT NULL,               -- recorded, never published (policy §2.2)
    ceremony_id  INTEGER NOT NULL REFERENCES ceremonies(id)
);
CREATE TRIGGER revocations_irreversible_update BEFORE UPDATE ON revocations
BEGIN SELECT RAISE(ABORT, 'revocation is irreversible'); END;
CREATE TRIGGER revocations_irreversible_delete BEFORE DELETE ON revocations
BEGIN SELECT RAISE(ABORT, 'revocation is irreversible'); END;

CREATE TABLE compromised_keys (
    spki_sha256  TEXT PRIMARY KEY,
    reported_at  TEXT NOT NULL,
    note         TEXT NOT NULL
);
CREATE TRIGGER compromised_keys_permanent BEFORE DELETE ON compromised_keys
BEGIN SELECT RAISE(ABORT, 'a compromised key stays compromised'); END;

CREATE TABLE crls (
    number       INTEGER PRIMARY KEY,         -- strictly increasing across all ceremonies
    this_update  TEXT NOT NULL,
    next_update  TEXT NOT NULL,
    signed_by    TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    der          BLOB NOT NULL,
    ceremony_id  INTEGER NOT NULL REFERENCES ceremonies(id)
);
CREATE TRIGGER crls_append_only_update BEFORE UPDATE ON crls
BEGIN SELECT RAISE(ABORT, 'issued CRLs are archived, never changed'); END;
CREATE TRIGGER crls_append_only_delete BEFORE DELETE ON crls
BEGIN SELECT RAISE(ABORT, 'issued CRLs are archived, never changed'); END;

-- Set while DS signing is suspended (root compromise, policy §5.7.3) until a re-key.
CREATE TABLE ds_signing_suspended (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    since        TEXT NOT NULL,
    reason       TEXT NOT NULL
);
