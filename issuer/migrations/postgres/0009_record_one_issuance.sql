-- PostgreSQL only (SQLite group-commits the same rows in-process, `store/sqlite_batch.rs`).
--
-- Records a one-MSO issuance in one statement, so a caller pays one round trip and one commit
-- instead of eight (BEGIN, idempotency, DS state, nonce, document, device key, MSO, COMMIT).
-- Concurrent commits share their WAL flush (PostgreSQL's own group commit). The statements
-- and their order are those of `Store::record_issuance`'s transaction, so the locks are taken
-- in the same order as before (idempotency row, then the DS row FOR SHARE, as
-- `revoke_by_ds` expects).
--
-- Outcomes: one row ('recorded', NULL, NULL) or ('replayed', kind, body). Refusals raise one
-- of these SQLSTATEs, which rolls back everything the call wrote (the idempotency record
-- included); `store/issuance.rs` maps each to its `StoreError`:
--   MDC01 idempotency key reused with another request   MDC02 signing DS revoked
--   MDC03 nonce already used                            MDC04 device key bound elsewhere
--   MDC05 the redeemed offer is no longer open
-- A duplicate status index or MSO identifier raises the unique violation it always did.
CREATE FUNCTION record_one_issuance(
    p_client TEXT, p_idem_key TEXT, p_request_sha256 BYTEA, p_response_kind TEXT,
    p_response_body BYTEA, p_now BIGINT, p_idem_expires_at BIGINT,
    p_nonce_sha256 BYTEA, p_nonce_expires_at BIGINT,
    p_document BYTEA, p_doctype TEXT, p_document_created_at BIGINT, p_applicant_ref BYTEA,
    p_document_client TEXT,
    p_thumbprint BYTEA, p_ds_serial TEXT, p_status_list_uri TEXT, p_status_index BIGINT,
    p_identifier BYTEA, p_valid_from BIGINT, p_valid_until BIGINT, p_mso_created_at BIGINT,
    p_offer BYTEA, p_notification_id TEXT)
RETURNS TABLE (outcome TEXT, response_kind TEXT, response_body BYTEA)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    n BIGINT;
    stored_sha256 BYTEA;
    stored_kind TEXT;
    stored_body BYTEA;
    ds_state TEXT;
    owner BYTEA;
BEGIN
    IF p_idem_key IS NOT NULL THEN
        INSERT INTO idempotency (client_id, idem_key, request_sha256, response_kind,
                                 response_body, created_at, expires_at)
            VALUES (p_client, p_idem_key, p_request_sha256, p_response_kind, p_response_body,
                    p_now, p_idem_expires_at)
            ON CONFLICT (client_id, idem_key) DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n = 0 THEN
            -- An expired record frees the key (re-checked under the row lock).
            UPDATE idempotency SET request_sha256 = p_request_sha256,
                    response_kind = p_response_kind, response_body = p_response_body,
                    created_at = p_now, expires_at = p_idem_expires_at
                WHERE client_id = p_client AND idem_key = p_idem_key AND expires_at <= p_now;
            GET DIAGNOSTICS n = ROW_COUNT;
        END IF;
        IF n = 0 THEN
            SELECT i.request_sha256, i.response_kind, i.response_body
                INTO stored_sha256, stored_kind, stored_body
                FROM idempotency i WHERE i.client_id = p_client AND i.idem_key = p_idem_key;
            IF stored_sha256 IS DISTINCT FROM p_request_sha256 THEN
                RAISE EXCEPTION 'idempotency key reused' USING ERRCODE = 'MDC01';
            END IF;
            RETURN QUERY SELECT 'replayed'::TEXT, stored_kind, stored_body;
            RETURN;
        END IF;
    END IF;
    SELECT d.state INTO ds_state FROM ds_certificates d WHERE d.serial = p_ds_serial FOR SHARE;
    IF ds_state = 'revoked' THEN
        RAISE EXCEPTION 'signing DS revoked' USING ERRCODE = 'MDC02';
    END IF;
    IF p_nonce_sha256 IS NOT NULL THEN
        INSERT INTO used_nonces (nonce_sha256, expires_at)
            VALUES (p_nonce_sha256, p_nonce_expires_at)
            ON CONFLICT (nonce_sha256) DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n = 0 THEN
            RAISE EXCEPTION 'nonce already used' USING ERRCODE = 'MDC03';
        END IF;
    END IF;
    INSERT INTO documents (id, doctype, state, created_at, revoked_at, revocation_reason,
                           applicant_ref, client_id)
        VALUES (p_document, p_doctype, 'active', p_document_created_at, NULL, NULL,
                p_applicant_ref, p_document_client);
    INSERT INTO device_keys (thumbprint, document_id) VALUES (p_thumbprint, p_document)
        ON CONFLICT (thumbprint) DO UPDATE SET thumbprint = excluded.thumbprint
        RETURNING document_id INTO owner;
    IF owner IS DISTINCT FROM p_document THEN
        RAISE EXCEPTION 'device key bound to another document' USING ERRCODE = 'MDC04';
    END IF;
    INSERT INTO msos (document_id, ds_serial, status_list_uri, status_index, identifier,
                      device_key_thumbprint, valid_from, valid_until, created_at, revoked_at)
        VALUES (p_document, p_ds_serial, p_status_list_uri, p_status_index, p_identifier,
                p_thumbprint, p_valid_from, p_valid_until, p_mso_created_at, NULL);
    IF p_offer IS NOT NULL THEN
        UPDATE credential_offers SET state = 'issued', document_id = p_document,
                notification_id = p_notification_id, updated_at = p_now
            WHERE id = p_offer AND state IN ('redeemed', 'deferred');
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n <> 1 THEN
            RAISE EXCEPTION 'offer no longer open' USING ERRCODE = 'MDC05';
        END IF;
    END IF;
    RETURN QUERY SELECT 'recorded'::TEXT, NULL::TEXT, NULL::BYTEA;
END $$;
