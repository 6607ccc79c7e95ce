-- OpenID4VCI 1.0 §5.1.1, §6.2, §8.2: a wallet that asks for a credential configuration with
-- `authorization_details` (in its pushed authorization request or its token request) is
-- granted an opaque credential identifier with its access token, and must name it (not the
-- configuration) in its credential request.
--
-- The pushed request remembers whether `authorization_details` named its configuration, so
-- the token endpoint knows to grant an identifier when the code is redeemed. The offer the
-- token is redeemed from keeps the identifier's SHA-256 beside the token's: the identifier
-- is random (256 bits) and bound to that one token, and a credential request with any other
-- is refused. NULL: no identifier was granted (scope or plain pre-authorized requests), and
-- the credential request names the configuration.
ALTER TABLE authorization_requests
    ADD COLUMN by_authorization_details BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE credential_offers
    ADD COLUMN credential_identifier_sha256 BYTEA CHECK (credential_identifier_sha256 IS NULL
        OR octet_length(credential_identifier_sha256) = 32);
