-- A campaign's expert pool (issue 17): each expert is an account holding the expert
-- role in the campaign, with the 工作单位 that conflicts of interest are found by and the
-- 学科/专业领域 that candidates are matched on (、-separated).
CREATE TABLE experts (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    work_unit TEXT NOT NULL,
    fields TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, user_id)
);
