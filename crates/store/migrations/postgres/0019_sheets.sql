-- An expert's 回避声明 per assigned candidate (issue 17), filed before any candidate is
-- opened: empty relation for “无”, else the relation in the expert's words.
CREATE TABLE declarations (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    stage_key TEXT NOT NULL,
    expert_id BIGINT NOT NULL REFERENCES users (id),
    application_id BIGINT NOT NULL REFERENCES applications (id),
    relation TEXT NOT NULL DEFAULT '',
    declared_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, stage_key, expert_id, application_id)
);

-- Score sheets: points per criterion as a JSON array (null for a box left empty in a
-- draft), a comment; submitted_at locks it. Keyed from paper by the office: keyed_by.
-- `version` guards a save against one made meanwhile in another window.
CREATE TABLE sheets (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    stage_key TEXT NOT NULL,
    expert_id BIGINT NOT NULL REFERENCES users (id),
    application_id BIGINT NOT NULL REFERENCES applications (id),
    points TEXT NOT NULL DEFAULT '[]',
    comment TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    submitted_at BIGINT,
    keyed_by BIGINT REFERENCES users (id),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, stage_key, expert_id, application_id)
);
