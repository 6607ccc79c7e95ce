-- Each document records the API client that issued it: only that client (or an admin) may read,
-- refresh or revoke it, so one portal cannot act on another portal's documents. Documents issued
-- before this migration have no owner and are reachable by admins only.
ALTER TABLE documents ADD COLUMN client_id TEXT;
