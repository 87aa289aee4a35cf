-- What the organiser grants beyond the campaign file, each with its reason.

-- A later deadline for one level, for everyone (unit_id 0) or one recommending
-- unit's channel.
CREATE TABLE deadline_extensions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    level_key TEXT NOT NULL,
    unit_id BIGINT NOT NULL DEFAULT 0,
    until_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    granted_by BIGINT REFERENCES users (id),
    granted_at BIGINT NOT NULL
);
CREATE INDEX deadline_extensions_campaign ON deadline_extensions (campaign_id);

-- More places for a recommending unit where the quota holds “原则上” (东莞 五（一）).
CREATE TABLE quota_exceptions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    extra BIGINT NOT NULL,
    reason TEXT NOT NULL,
    granted_by BIGINT REFERENCES users (id),
    granted_at BIGINT NOT NULL
);
CREATE INDEX quota_exceptions_unit ON quota_exceptions (unit_id);
