-- MSO revocation list signer certificates (ISO/IEC 18013-5 second edition, Table B.9) join the
-- ledger's certificates. SQLite cannot change a CHECK constraint in place, so the table is
-- rebuilt, and with it `revocations`, which references it: the migration runs in one
-- transaction with foreign keys enforced, so the children are copied to a table that
-- references the new parent before the old ones are dropped (no row is ever orphaned), and
-- the renames carry the references over.
CREATE TABLE certificates_v2 (
    serial       TEXT PRIMARY KEY,            -- lower-case hex
    kind         TEXT NOT NULL CHECK (kind IN ('iaca', 'ds', 'link', 'list_signer')),
    subject      TEXT NOT NULL,
    spki_sha256  TEXT NOT NULL,
    signed_by    TEXT NOT NULL,               -- root key label
    not_before   TEXT NOT NULL,
    not_after    TEXT NOT NULL,
    sha256       TEXT NOT NULL UNIQUE,
    der          BLOB NOT NULL,
    ceremony_id  INTEGER NOT NULL REFERENCES ceremonies(id)
);
INSERT INTO certificates_v2
    (serial, kind, subject, spki_sha256, signed_by, not_before, not_after, sha256, der, ceremony_id)
    SELECT serial, kind, subject, spki_sha256, signed_by, not_before, not_after, sha256, der, ceremony_id
    FROM certificates;

CREATE TABLE revocations_v2 (
    serial       TEXT PRIMARY KEY REFERENCES certificates_v2(serial),
    revoked_at   TEXT NOT NULL,
    reason       TEXT NOT NULL,               -- recorded, never published (policy §2.2)
    ceremony_id  INTEGER NOT NULL REFERENCES ceremonies(id)
);
INSERT INTO revocations_v2 (serial, revoked_at, reason, ceremony_id)
    SELECT serial, revoked_at, reason, ceremony_id FROM revocations;

DROP TABLE revocations;
DROP TABLE certificates;
ALTER TABLE certificates_v2 RENAME TO certificates;
ALTER TABLE revocations_v2 RENAME TO revocations;

-- A signer key is certified at most once and for one role (no renewal without re-key, policy
-- §4.6; a DS key never signs lists, nor a list signer key MSOs).
CREATE UNIQUE INDEX certificates_one_signer_per_key ON certificates(spki_sha256)
    WHERE kind IN ('ds', 'list_signer');
CREATE TRIGGER revocations_irreversible_update BEFORE UPDATE ON revocations
BEGIN SELECT RAISE(ABORT, 'revocation is irreversible'); END;
CREATE TRIGGER revocations_irreversible_delete BEFORE DELETE ON revocations
BEGIN SELECT RAISE(ABORT, 'revocation is irreversible'); END;
