-- Experts assigned to candidates in a review stage (issue 17). A row is never deleted: a
-- declared conflict or the organiser's change ends it (ended_at, with why) and a new row
-- takes its place. Each automatic run keeps its seed (a u64 as 16 hex digits) with its
-- rows, so the same pool and seed can be shown to give the same panel.
CREATE TABLE assignments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    stage_key TEXT NOT NULL,
    expert_id BIGINT NOT NULL REFERENCES users (id),
    application_id BIGINT NOT NULL REFERENCES applications (id),
    seed TEXT NOT NULL DEFAULT '',
    assigned_by BIGINT REFERENCES users (id),
    assigned_at BIGINT NOT NULL,
    ended_at BIGINT,
    ended_reason TEXT NOT NULL DEFAULT ''
);
-- One live assignment of an expert to a candidate in a stage.
CREATE UNIQUE INDEX assignments_live ON assignments (campaign_id, stage_key, expert_id, application_id) WHERE ended_at IS NULL;
