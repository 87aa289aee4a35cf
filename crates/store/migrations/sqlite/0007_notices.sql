-- In-app notices (消息通知) and the deadline reminders already sent.

CREATE TABLE notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id INTEGER REFERENCES applications (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX notices_user ON notices (user_id, read_at);

-- One row per reminder sent: an extension moves deadline_at and so re-arms them.
CREATE TABLE reminders_sent (
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    level INTEGER NOT NULL,
    days_before INTEGER NOT NULL,
    deadline_at INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (application_id, level, days_before, deadline_at)
);
