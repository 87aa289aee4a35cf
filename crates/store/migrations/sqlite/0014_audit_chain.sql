-- The audit trail becomes a hash chain (the canonical form is documented in
-- crates/rules/src/audit.rs): each entry keeps the previous entry's hash and its own.
-- The unique key on prev_hash lets only one entry follow any other, so two servers
-- appending at once cannot fork the chain: the loser's insert fails and it retries on
-- the new head. Entries written before this change are chained once, in their order,
-- right after migrating (Store::chain_unchained_audit; SQLite has no SHA-256).
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_prev ON audit_log (prev_hash);
-- The check for unchained entries after every migration reads this, not the whole log.
CREATE INDEX audit_log_unchained ON audit_log (id) WHERE hash IS NULL;
-- backend-specific: the log refuses DELETE, and UPDATE except the one-time chaining of
-- an entry written before this change (its hash set, nothing else changed).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN OLD.hash IS NOT NULL OR NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at
  OR NEW.user_id IS NOT OLD.user_id OR NEW.action IS NOT OLD.action
  OR NEW.target IS NOT OLD.target OR NEW.detail IS NOT OLD.detail OR NEW.ip IS NOT OLD.ip
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- end backend-specific
