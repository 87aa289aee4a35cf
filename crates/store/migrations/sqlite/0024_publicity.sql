-- 公示 (issue 18): the organiser's of the final list (and of those brought onto it after
-- an upheld objection), a recommending unit's of its own candidates. A 公示 is written
-- once with its period and its list as published; nothing in it is edited afterwards.
CREATE TABLE publicities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    kind TEXT NOT NULL,
    unit_id INTEGER REFERENCES units (id),
    stage_key TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    contact TEXT NOT NULL,
    published_on TEXT NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    working_days INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    published_by INTEGER REFERENCES users (id),
    published_at INTEGER NOT NULL
);
CREATE INDEX publicities_campaign ON publicities (campaign_id);

-- Who was on it, as shown then (names and units as they stood at publication).
CREATE TABLE publicity_entries (
    publicity_id INTEGER NOT NULL REFERENCES publicities (id),
    seq INTEGER NOT NULL,
    application_id INTEGER NOT NULL REFERENCES applications (id),
    name TEXT NOT NULL,
    work_unit TEXT NOT NULL,
    recommender TEXT NOT NULL,
    field TEXT NOT NULL,
    PRIMARY KEY (publicity_id, application_id)
);

-- Objections: the objector's name and telephone sealed (only the organiser reads them),
-- the number they follow it by, when it reached us (the letter's postmark, the call).
CREATE TABLE objections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL UNIQUE,
    publicity_id INTEGER NOT NULL REFERENCES publicities (id),
    application_id INTEGER NOT NULL REFERENCES applications (id),
    channel TEXT NOT NULL,
    name_sealed TEXT NOT NULL,
    phone_sealed TEXT NOT NULL,
    phone_lookup TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    entered_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX objections_publicity ON objections (publicity_id);

-- Each step of an objection (核查中, then its outcome) with its 处理意见; the last holds.
-- The key makes two steps decided on the same view resolve to one.
CREATE TABLE objection_steps (
    objection_id INTEGER NOT NULL REFERENCES objections (id),
    seq INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    opinion TEXT NOT NULL,
    decided_by INTEGER REFERENCES users (id),
    decided_at INTEGER NOT NULL,
    PRIMARY KEY (objection_id, seq)
);

-- Files sent with an objection, checked by content as materials are.
CREATE TABLE objection_files (
    objection_id INTEGER NOT NULL REFERENCES objections (id),
    seq INTEGER NOT NULL,
    original_name TEXT NOT NULL,
    format TEXT NOT NULL,
    size INTEGER NOT NULL,
    storage_key TEXT NOT NULL,
    PRIMARY KEY (objection_id, seq)
);

-- Candidates an upheld objection took off a stage's list: the stage's ranking passes
-- over them and the list is drawn again without them.
CREATE TABLE removals (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    stage_key TEXT NOT NULL,
    application_id INTEGER NOT NULL REFERENCES applications (id),
    reason TEXT NOT NULL,
    objection_id INTEGER REFERENCES objections (id),
    removed_by INTEGER REFERENCES users (id),
    removed_at INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, stage_key, application_id)
);
