-- The organiser's order for candidates tied across a stage's cut (issue 17), with the
-- reason. It holds for the closing it was made in (`after`: the stage's events then); a
-- later one supersedes it, and none is edited.
CREATE TABLE tie_breaks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    stage_key TEXT NOT NULL,
    after INTEGER NOT NULL,
    order_ids TEXT NOT NULL,
    reason TEXT NOT NULL,
    decided_by INTEGER REFERENCES users (id),
    decided_at INTEGER NOT NULL
);
CREATE INDEX tie_breaks_stage ON tie_breaks (campaign_id, stage_key);
