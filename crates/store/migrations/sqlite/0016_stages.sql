-- The selection rounds after the office's desk (issue 17). A stage's life is its events,
-- in order: opened with its candidates, closed, advanced with who goes on, reverted with
-- a reason; nothing is edited. `seq` counts the campaign's stage events, not one
-- stage's: two moves decided on the same view of the campaign (an advance undone while
-- the next stage opens) write the same seq, and the unique key lets one of them win.
CREATE TABLE stage_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    stage_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    -- Application ids as a JSON array: who the stage opened with, or who advanced.
    candidates TEXT NOT NULL DEFAULT '[]',
    reason TEXT NOT NULL DEFAULT '',
    actor_id INTEGER REFERENCES users (id),
    at INTEGER NOT NULL,
    UNIQUE (campaign_id, seq)
);

-- 形式审查 conclusions, one row per decision: the latest for a candidate counts, the
-- earlier ones stay as its history.
CREATE TABLE screening_decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    stage_key TEXT NOT NULL,
    application_id INTEGER NOT NULL REFERENCES applications (id),
    passed INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    decided_by INTEGER REFERENCES users (id),
    decided_at INTEGER NOT NULL
);
CREATE INDEX screening_decisions_stage ON screening_decisions (campaign_id, stage_key, application_id);
