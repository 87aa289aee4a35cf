-- Background work shared by several servers on one database: a worker claims an export
-- job, a batch of mail or a sweep with a lease (who holds it and until when) and renews
-- it while it works. Another server takes the work over only once the lease has lapsed,
-- so a job runs on one server at a time and is resumed after its server died, and a mail
-- goes out once.
ALTER TABLE export_jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE export_jobs ADD COLUMN lease_until BIGINT;
-- How many times a server took the job (more than once only after a server died).
ALTER TABLE export_jobs ADD COLUMN claims BIGINT NOT NULL DEFAULT 0;
ALTER TABLE mail_outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE mail_outbox ADD COLUMN lease_until BIGINT;
-- Periodic sweeps (reminders, stale uploads, old exports, sessions): one server a round.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until_at BIGINT NOT NULL
);
