-- The form's JSON (主要事迹, 感人故事 … several KB) moves to its own table: lists and
-- searches scan the narrow applications table only, and read a form when it is opened.
CREATE TABLE application_forms (
    application_id BIGINT PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    form_json TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO application_forms (application_id, form_json) SELECT id, form_json FROM applications;
ALTER TABLE applications DROP COLUMN form_json;
