-- Materials (照片, 视频, 扫描件 …): the files attached to an application, and uploads in
-- progress. The bytes live in the file storage (local folder or S3) under `blob_key`;
-- these rows say what each file is, as measured from its content.

-- A file attached to an application for one of its campaign's materials. `seq` is the
-- 序号 of the download name (张三1.jpg, 张三2.jpg); `public_id` is the unguessable id in
-- URLs. A removed file keeps its row (deleted_at) so the audit trail can name it.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    application_id INTEGER NOT NULL REFERENCES applications (id),
    material_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    blob_key TEXT NOT NULL,
    original_name TEXT NOT NULL,
    format TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    -- SHA-256 chained over the upload's parts: hex(sha256(previous ‖ sha256(part))).
    sha256 TEXT NOT NULL,
    -- What the content measured (pixels, duration, pages), as JSON text.
    measured TEXT NOT NULL DEFAULT '{}',
    uploaded_by INTEGER NOT NULL REFERENCES users (id),
    uploaded_at INTEGER NOT NULL,
    deleted_at INTEGER,
    UNIQUE (application_id, material_key, seq)
);
CREATE INDEX attachments_application ON attachments (application_id, material_key);

-- A resumable upload: parts arrive one by one (a dropped connection resumes at the
-- first missing part); only a completed and checked upload becomes an attachment.
-- Uploads idle for a day are swept with their parts.
CREATE TABLE uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    application_id INTEGER NOT NULL REFERENCES applications (id),
    material_key TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    original_name TEXT NOT NULL,
    total_size INTEGER NOT NULL,
    part_size INTEGER NOT NULL,
    -- Parts received so far, as a count from the start (parts are written in order).
    parts_received INTEGER NOT NULL DEFAULT 0,
    bytes_received INTEGER NOT NULL DEFAULT 0,
    -- SHA-256 chained over the parts' digests so far (parts arrive in separate requests).
    chain_hash TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX uploads_updated ON uploads (updated_at);
