-- Paper filing (issue 18): the office's marking of each item of `[paper]` received for a
-- candidate, with the day it arrived and its postmark; the latest per item holds, the
-- earlier stay (a marking taken back is a row with received = 0).
CREATE TABLE paper_marks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    application_id BIGINT NOT NULL REFERENCES applications (id),
    item BIGINT NOT NULL,
    received BIGINT NOT NULL,
    received_on TEXT NOT NULL,
    postmark_on TEXT,
    marked_by BIGINT REFERENCES users (id),
    marked_at BIGINT NOT NULL
);
CREATE INDEX paper_marks_campaign ON paper_marks (campaign_id, application_id);

-- Whose recommenders were asked to send paper (广西: after the shortlist), once each.
CREATE TABLE paper_requests (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    application_id BIGINT NOT NULL REFERENCES applications (id),
    requested_by BIGINT REFERENCES users (id),
    requested_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, application_id)
);
