-- Release of the final list (issue 18): written once per campaign, with its list as
-- released — each winner's certificate serial, the words the public gallery shows and the
-- files it shows (the portrait, the photos of their work, the video) — so the gallery and
-- every certificate read what was released, not what the records say later.
CREATE TABLE releases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    campaign_id TEXT NOT NULL UNIQUE REFERENCES campaigns (id),
    stage_key TEXT NOT NULL,
    title TEXT NOT NULL,
    released_on TEXT NOT NULL,
    released_by INTEGER REFERENCES users (id),
    released_at INTEGER NOT NULL
);

CREATE TABLE release_entries (
    release_id INTEGER NOT NULL REFERENCES releases (id),
    seq INTEGER NOT NULL,
    application_id INTEGER NOT NULL REFERENCES applications (id),
    serial TEXT NOT NULL,
    name TEXT NOT NULL,
    work_unit TEXT NOT NULL,
    recommender TEXT NOT NULL,
    field TEXT NOT NULL,
    summary TEXT NOT NULL,
    PRIMARY KEY (release_id, seq),
    -- Serials are the campaign's (prefix, year, place): unique within a release; the
    -- check page names the release too.
    UNIQUE (release_id, serial)
);
CREATE INDEX release_entries_application ON release_entries (application_id);

-- The files the gallery shows of each winner; role is portrait, photo or video.
CREATE TABLE release_files (
    release_id INTEGER NOT NULL REFERENCES releases (id),
    entry_seq INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    attachment_id INTEGER NOT NULL REFERENCES attachments (id),
    PRIMARY KEY (release_id, entry_seq, seq)
);
