-- The browser's traits (screen, time zone, language… hashed with the user agent) kept
-- with each vote beside its device cookie: a phone that clears its cookie between numbers
-- keeps its traits (issue 20's device signal). Announced in the round's rules.
ALTER TABLE votes ADD COLUMN traits TEXT NOT NULL DEFAULT '';
