-- Reminders to experts before a stage's deadline (3 days and 1 day before), each sent
-- once per expert, stage, day and deadline even with two servers sweeping.
CREATE TABLE stage_reminders_sent (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    stage_key TEXT NOT NULL,
    expert_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    days_before BIGINT NOT NULL,
    deadline_at BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, stage_key, expert_id, days_before, deadline_at)
);
