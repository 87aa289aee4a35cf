-- The online vote (issue 19). A vote is a row written once, with what a later review needs
-- (time, client address and its /24 or /64, share link, hashed device cookie, user agent)
-- and a random receipt. A voter's limits are kept as numbered slots under a primary key
-- (vote_slots): a vote takes the next free slot of each limit in its own transaction, so
-- two servers cannot both take the last one. vote_picks holds which candidates a voter has
-- chosen in a period, for the limits on distinct candidates. vote_tallies are the live
-- counts, kept in the votes' transaction; the frozen result is counted from the votes.
CREATE TABLE vote_voters (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    phone_lookup TEXT NOT NULL,
    phone_sealed TEXT NOT NULL,
    phone_masked TEXT NOT NULL,
    verified_at BIGINT NOT NULL,
    UNIQUE (campaign_id, phone_lookup)
);

CREATE TABLE votes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    stage_key TEXT NOT NULL,
    group_key TEXT NOT NULL,
    voter TEXT NOT NULL,
    candidate BIGINT NOT NULL REFERENCES applications (id),
    day TEXT NOT NULL,
    cast_at BIGINT NOT NULL,
    receipt TEXT NOT NULL UNIQUE,
    idempotency TEXT,
    client_ip TEXT NOT NULL,
    client_net TEXT NOT NULL,
    share TEXT NOT NULL,
    device TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    UNIQUE (campaign_id, stage_key, voter, idempotency)
);
CREATE INDEX votes_by_candidate ON votes (campaign_id, stage_key, group_key, candidate);

CREATE TABLE vote_slots (
    campaign_id TEXT NOT NULL,
    stage_key TEXT NOT NULL,
    voter TEXT NOT NULL,
    scope TEXT NOT NULL,
    slot BIGINT NOT NULL,
    vote_id BIGINT NOT NULL REFERENCES votes (id),
    PRIMARY KEY (campaign_id, stage_key, voter, scope, slot)
);

CREATE TABLE vote_picks (
    campaign_id TEXT NOT NULL,
    stage_key TEXT NOT NULL,
    voter TEXT NOT NULL,
    period TEXT NOT NULL,
    candidate BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, stage_key, voter, period, candidate)
);

CREATE TABLE vote_tallies (
    campaign_id TEXT NOT NULL,
    stage_key TEXT NOT NULL,
    group_key TEXT NOT NULL,
    candidate BIGINT NOT NULL,
    votes BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, stage_key, group_key, candidate)
);

-- Verifying voters' phones: per phone, the day's count and the last send, updated by one
-- conditional statement (a second request in the same minute updates nothing); per
-- client address, the hour's count the same way; each code hashed, valid until its
-- time, counting down its tries, usable only once delivered (a code the gateway did not
-- take is never usable). A verified voter signs in for the round with a session of its own.
CREATE TABLE vote_phones (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    phone_lookup TEXT NOT NULL,
    day TEXT NOT NULL,
    sent_today BIGINT NOT NULL,
    last_sent BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, phone_lookup)
);

CREATE TABLE vote_ip_sends (
    client_ip TEXT NOT NULL,
    hour BIGINT NOT NULL,
    sent BIGINT NOT NULL,
    PRIMARY KEY (client_ip, hour)
);

CREATE TABLE vote_codes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    phone_lookup TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    tries_left BIGINT NOT NULL,
    delivered BIGINT NOT NULL,
    used_at BIGINT,
    client_ip TEXT NOT NULL
);
CREATE INDEX vote_codes_by_phone ON vote_codes (campaign_id, phone_lookup, id);

CREATE TABLE vote_sessions (
    id_hash TEXT PRIMARY KEY,
    voter_id BIGINT NOT NULL REFERENCES vote_voters (id),
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- A round's frozen count: counted once from the votes when the office freezes the round
-- (after its close), kept with its digest and whether the live counts agreed, written in
-- the same transaction as the stage's closing; never changed.
CREATE TABLE vote_results (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    stage_key TEXT NOT NULL,
    frozen_at BIGINT NOT NULL,
    frozen_by BIGINT REFERENCES users (id),
    counts TEXT NOT NULL,
    digest TEXT NOT NULL,
    live_matched BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, stage_key)
);

-- An expert's ballot of the 专业组: written once with its candidates (the votes beside
-- it, one per candidate, in the same transaction); a second is refused by the key.
CREATE TABLE vote_ballots (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    stage_key TEXT NOT NULL,
    expert_id BIGINT NOT NULL REFERENCES users (id),
    candidates TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, stage_key, expert_id)
);
