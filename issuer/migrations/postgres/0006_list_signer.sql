-- MSO revocation list signers (ISO/IEC 18013-5 second edition, 12.3.6 and Table B.9): the
-- certificates whose keys sign the status and identifier lists, issued by the root from a CSR
-- under their own profile, so the lists stay published when every DS is revoked. Revoked
-- when the root's CRL lists them; never deleted.
CREATE TABLE list_signer_certificates (
    serial     TEXT   PRIMARY KEY,                      -- lower-case hex
    der        BYTEA   NOT NULL,
    not_before BIGINT NOT NULL,
    not_after  BIGINT NOT NULL,
    state      TEXT   NOT NULL CHECK (state IN ('active', 'revoked')),
    key_uri    TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
