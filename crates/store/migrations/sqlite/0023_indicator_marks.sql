-- The organiser's marking of who counts as what for the final list's rules (基层一线,
-- which no 推荐表 asks; a 院士 the form got wrong), with the reason (issue 18). The
-- latest per candidate and indicator holds; earlier ones stay for the record.
-- `value`: 1 has it, 0 has not, NULL back to what the 推荐表 says.
CREATE TABLE indicator_marks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    application_id INTEGER NOT NULL REFERENCES applications (id),
    indicator TEXT NOT NULL,
    value INTEGER,
    reason TEXT NOT NULL,
    marked_by INTEGER REFERENCES users (id),
    marked_at INTEGER NOT NULL
);
CREATE INDEX indicator_marks_campaign ON indicator_marks (campaign_id, application_id);
