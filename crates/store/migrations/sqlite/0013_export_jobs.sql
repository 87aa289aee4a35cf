-- Exports that take a while (the 推荐材料 bundle with a 推荐表 PDF per candidate) run as
-- jobs in the background; the page that started one shows how far it got. A finished job
-- holds the list of files its ZIP is made of (`manifest`, JSON); the ZIP itself is
-- written only while it is downloaded, never stored whole. Files the job made (the PDFs,
-- the 汇总表) are in the file storage under exports/{public_id}/.
CREATE TABLE export_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    kind TEXT NOT NULL,
    -- Whose candidates: the recommending units' ids as JSON, or '' for the whole campaign.
    unit_ids TEXT NOT NULL DEFAULT '',
    requested_by INTEGER NOT NULL REFERENCES users (id),
    -- queued, running, done or failed.
    state TEXT NOT NULL DEFAULT 'queued',
    total INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    file_name TEXT NOT NULL DEFAULT '',
    manifest TEXT NOT NULL DEFAULT '',
    -- The bytes of the files the ZIP holds.
    bytes INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
);
CREATE INDEX export_jobs_state ON export_jobs (state, id);
CREATE INDEX export_jobs_requested ON export_jobs (requested_by, campaign_id);
