-- A round's votes in the order they were cast (issue 20): a scan reads them in pages of
-- ids after the last one read. Without it both databases answered each page from
-- votes_by_candidate — every vote of the round fetched and sorted to return 5,000 —
-- PostgreSQL whenever its statistics were missing. Ids grow within a round, so each
-- batch of votes adds to the index's last page only.
CREATE INDEX votes_by_round_id ON votes (campaign_id, stage_key, id);
