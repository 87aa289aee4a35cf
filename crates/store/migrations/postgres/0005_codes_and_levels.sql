-- 推荐码 (recommendation codes) and chains with a 所在单位 level.

-- The index of the recommender's level in the application's chain (1 in 新疆 and in a
-- merged 广西 chain, 2 when the work unit signs first): the recommender sees the
-- application once it has reached that level.
ALTER TABLE applications ADD COLUMN recommender_level BIGINT NOT NULL DEFAULT 1;
CREATE INDEX applications_work_unit ON applications (work_unit_id, reached_level);

-- 东莞 填表说明10: the actual employer signs beside the personnel-relation unit.
ALTER TABLE application_events ADD COLUMN co_signer TEXT NOT NULL DEFAULT '';
ALTER TABLE application_events ADD COLUMN co_opinion TEXT NOT NULL DEFAULT '';

-- A recommender hands a code to each candidate it has chosen; the candidate starts
-- the application with it, which binds the application to the recommender and, where
-- the chain has one, to the candidate's work unit.
CREATE TABLE recommendation_codes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    code TEXT NOT NULL UNIQUE,
    candidate_name TEXT NOT NULL DEFAULT '',
    work_unit_id BIGINT REFERENCES units (id),
    merged BIGINT NOT NULL DEFAULT 0,
    issued_by BIGINT REFERENCES users (id),
    issued_at BIGINT NOT NULL,
    revoked_at BIGINT,
    application_id BIGINT REFERENCES applications (id),
    used_at BIGINT
);
CREATE INDEX recommendation_codes_unit ON recommendation_codes (unit_id);
