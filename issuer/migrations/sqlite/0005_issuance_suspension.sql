-- The emergency stop of new issuance (policy §5.7.3): while this one row exists, no document
-- is issued or refreshed by any instance; revocation and the lists go on. Resuming deletes it.
CREATE TABLE issuance_suspension (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    since     BIGINT  NOT NULL,
    reason    TEXT    NOT NULL,
    suspended_by TEXT NOT NULL
);
