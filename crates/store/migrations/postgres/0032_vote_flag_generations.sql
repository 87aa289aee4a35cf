-- A scan writes the flags a large cluster gained in short transactions of their own, before
-- the one transaction that publishes the cluster (its count and generation), so the votes'
-- writer is never kept waiting behind hundreds of thousands of rows. A flag counts once its
-- generation is at most its cluster's: a decision never reaches a vote the organiser did not
-- see in the cluster's count.
ALTER TABLE vote_flags ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE vote_clusters ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
