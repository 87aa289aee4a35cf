-- A vote a limit refuses deletes its own row in the batch's transaction; the foreign key
-- of vote_slots.vote_id is then checked by this index instead of a scan of every slot.
CREATE INDEX vote_slots_by_vote ON vote_slots (vote_id);
