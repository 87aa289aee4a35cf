-- The organiser's register of earlier winners (往年获奖名单), matched on the 身份证号码's
-- look-up digest; the number itself is kept sealed.
CREATE TABLE earlier_winners (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    name TEXT NOT NULL,
    id_number_enc TEXT NOT NULL,
    id_number_hmac TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    loaded_by INTEGER REFERENCES users (id),
    loaded_at INTEGER NOT NULL,
    UNIQUE (campaign_id, id_number_hmac)
);
