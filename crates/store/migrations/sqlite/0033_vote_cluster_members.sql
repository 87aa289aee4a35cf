-- A cluster's votes as one row per scan that wrote them (issue 20), instead of a row per
-- vote in vote_flags: the vote ids as a compressed set (Roaring's portable format) with
-- whom they went to (`[[candidate, votes], …]`). A burst of a million votes is one row of
-- some hundred KB, written in one short transaction beside the running vote. A cluster
-- counts the row of its generation; a scan publishes a new one by raising the cluster's.
-- The store converts any vote_flags rows into these at start (`Store::convert_flags`).
CREATE TABLE vote_cluster_members (
    campaign_id TEXT NOT NULL,
    stage_key TEXT NOT NULL,
    cluster_key TEXT NOT NULL,
    generation INTEGER NOT NULL,
    votes INTEGER NOT NULL,
    ids BLOB NOT NULL,
    targets TEXT NOT NULL,
    PRIMARY KEY (campaign_id, stage_key, cluster_key, generation)
);
