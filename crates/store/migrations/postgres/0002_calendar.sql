-- Working-day calendar years loaded by an organiser, beside the built-in ones.
CREATE TABLE calendar_years (
    year BIGINT PRIMARY KEY,
    source_toml TEXT NOT NULL,
    loaded_at BIGINT NOT NULL
);
