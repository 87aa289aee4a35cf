-- The vote's integrity (issue 20). The signals' clusters of suspect votes, found off the
-- vote path and kept with their evidence, and the votes each holds (a vote may be in
-- several). The office decides a cluster once — keep, invalidate, zero — with its reason;
-- above the campaign's size the decision waits as a proposal for a second organiser. A
-- vote set aside is marked in vote_voids with the cluster and the reason, never deleted.
-- The frozen result keeps the invalid counts beside the valid ones and the Merkle root of
-- the valid votes.
CREATE TABLE vote_clusters (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    stage_key TEXT NOT NULL,
    cluster_key TEXT NOT NULL,
    signal TEXT NOT NULL,
    evidence TEXT NOT NULL,
    votes BIGINT NOT NULL,
    found_at BIGINT NOT NULL,
    verdict TEXT,
    reason TEXT,
    proposed_by BIGINT REFERENCES users (id),
    proposed_at BIGINT,
    decided_by BIGINT REFERENCES users (id),
    confirmed_by BIGINT REFERENCES users (id),
    decided_at BIGINT,
    voided BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, stage_key, cluster_key)
);

CREATE TABLE vote_flags (
    campaign_id TEXT NOT NULL,
    stage_key TEXT NOT NULL,
    cluster_key TEXT NOT NULL,
    vote_id BIGINT NOT NULL REFERENCES votes (id),
    PRIMARY KEY (campaign_id, stage_key, cluster_key, vote_id)
);
CREATE INDEX vote_flags_by_vote ON vote_flags (vote_id);

CREATE TABLE vote_voids (
    vote_id BIGINT PRIMARY KEY REFERENCES votes (id),
    campaign_id TEXT NOT NULL,
    stage_key TEXT NOT NULL,
    cluster_key TEXT NOT NULL,
    reason TEXT NOT NULL,
    voided_by BIGINT REFERENCES users (id),
    voided_at BIGINT NOT NULL
);
CREATE INDEX vote_voids_by_round ON vote_voids (campaign_id, stage_key, cluster_key);

ALTER TABLE vote_results ADD COLUMN invalid_counts TEXT NOT NULL DEFAULT '[]';
ALTER TABLE vote_results ADD COLUMN merkle_root TEXT;
ALTER TABLE vote_results ADD COLUMN valid_votes BIGINT;
