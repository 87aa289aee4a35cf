-- In-app notices (消息通知) and the deadline reminders already sent.

CREATE TABLE notices (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id BIGINT REFERENCES applications (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notices_user ON notices (user_id, read_at);

-- One row per reminder sent: an extension moves deadline_at and so re-arms them.
CREATE TABLE reminders_sent (
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    level BIGINT NOT NULL,
    days_before BIGINT NOT NULL,
    deadline_at BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (application_id, level, days_before, deadline_at)
);
