-- Tamper evidence for the audit log (spec privacy.md §6): every row is chained to the previous one
-- by a SHA-256 over its content and the previous hash; rows cannot be updated or deleted except
-- by the retention purge, which sets `pss.audit_purge` for its own transaction.
CREATE OR REPLACE FUNCTION audit_log_digest(r audit_log) RETURNS varchar LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(concat_ws('|',
    r.id::text, r.seq::text, coalesce(r.prev_hash, ''),
    ((extract(epoch FROM r.at) * 1000000)::bigint)::text,
    coalesce(r.actor_id::text, ''), coalesce(r.actor_role, ''), coalesce(r.ip, ''), coalesce(r.user_agent, ''),
    coalesce(r.request_id, ''), r.action, r.resource_type, coalesce(r.resource_id, ''),
    coalesce(r.subject_user_id::text, ''), coalesce(r.fields::text, ''), coalesce(r.changes::text, ''),
    r.outcome, coalesce(r.reason, ''), coalesce(r.metadata::text, '')
  ), 'UTF8')), 'hex')
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  last_seq bigint;
  last_hash varchar(64);
BEGIN
  -- One writer at a time, in commit order: the lock is held until the inserting transaction ends.
  PERFORM pg_advisory_xact_lock(727002);
  SELECT seq, hash INTO last_seq, last_hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1;
  NEW.seq := coalesce(last_seq, 0) + 1;
  NEW.prev_hash := last_hash;
  NEW.hash := audit_log_digest(NEW);
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('pss.audit_purge', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
