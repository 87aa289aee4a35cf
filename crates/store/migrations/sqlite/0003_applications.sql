-- Applications (申请书/推荐表) and every move on them.

-- The last application number handed out per campaign; numbers are never reused.
CREATE TABLE campaign_counters (
    campaign_id TEXT PRIMARY KEY REFERENCES campaigns (id),
    last_number INTEGER NOT NULL
);

CREATE TABLE applications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    number TEXT NOT NULL,
    applicant_id INTEGER NOT NULL REFERENCES users (id),
    recommender_unit_id INTEGER REFERENCES units (id),
    work_unit_id INTEGER REFERENCES units (id),
    merged INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL DEFAULT '',
    employer TEXT NOT NULL DEFAULT '',
    field TEXT NOT NULL DEFAULT '',
    id_number_enc TEXT,
    id_number_hmac TEXT,
    mobile_enc TEXT,
    form_json TEXT NOT NULL DEFAULT '{}',
    form_version INTEGER NOT NULL DEFAULT 1,
    flow_version INTEGER NOT NULL DEFAULT 0,
    holder_level INTEGER NOT NULL DEFAULT 0,
    -- the role of the holding level, and the highest level the application has reached
    -- (a level sees an application once it has reached it)
    holder_role TEXT NOT NULL DEFAULT 'applicant',
    reached_level INTEGER NOT NULL DEFAULT 0,
    state_text TEXT NOT NULL,
    committed_at INTEGER,
    moved_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (campaign_id, number)
);
CREATE INDEX applications_applicant ON applications (applicant_id);
CREATE INDEX applications_holder ON applications (campaign_id, holder_role);
CREATE INDEX applications_recommender ON applications (recommender_unit_id, reached_level);
CREATE INDEX applications_id_hmac ON applications (id_number_hmac);

-- seq is the application's flow_version after the event: two writers acting on the
-- same state both claim the same seq, and the UNIQUE lets only one of them through.
CREATE TABLE application_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    by_level INTEGER NOT NULL,
    to_level INTEGER,
    actor_id INTEGER REFERENCES users (id),
    comment TEXT NOT NULL DEFAULT '',
    at INTEGER NOT NULL,
    UNIQUE (application_id, seq)
);
