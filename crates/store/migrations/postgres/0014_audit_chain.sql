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
-- backend-specific: the log refuses DELETE and TRUNCATE, and UPDATE except the one-time
-- chaining of an entry written before this change (its hash set, nothing else changed).
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.hash IS NULL AND NEW.id = OLD.id AND NEW.at = OLD.at
           AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id AND NEW.action = OLD.action
           AND NEW.target = OLD.target AND NEW.detail = OLD.detail
           AND NEW.ip IS NOT DISTINCT FROM OLD.ip THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
-- end backend-specific
