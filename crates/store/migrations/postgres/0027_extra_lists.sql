-- Further lists confirmed (issue 18: 新疆's 10 全国“最美科技工作者”推荐人选 from the 20): each
-- confirmation records the list drawn from the final list as it stood — the last stage's
-- events up to that list's confirmation (stage_events) — so a list confirmed again after a
-- reversal is a new row, and an old one no longer holds once the final list moved.
CREATE TABLE extra_lists (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    list_key TEXT NOT NULL,
    stage_key TEXT NOT NULL,
    stage_events BIGINT NOT NULL,
    candidates TEXT NOT NULL,
    how TEXT NOT NULL,
    confirmed_by BIGINT REFERENCES users (id),
    confirmed_at BIGINT NOT NULL,
    UNIQUE (campaign_id, list_key, stage_events)
);
