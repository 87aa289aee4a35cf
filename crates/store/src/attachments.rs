//! Materials attached to applications, and resumable uploads on their way to becoming
//! one. The bytes are in the file storage; these rows say what each file is. Ids in
//! URLs are random (`public_id`), never the row id, so a file's address cannot be guessed.

use pingxuan_rules::campaign::Material;
use sqlx::Row;

use crate::audit::Audit;
use crate::{Result, Store, StoreError, now};

/// An unguessable id for URLs: 128 random bits in hex.
fn public_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: i64,
    pub public_id: String,
    pub application_id: i64,
    pub material_key: String,
    pub user_id: i64,
    pub original_name: String,
    pub total_size: i64,
    pub part_size: i64,
    pub parts_received: i64,
    pub bytes_received: i64,
    /// SHA-256 chained over the parts so far (empty before the first).
    pub chain_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Who sent the file in, for the materials that ask (empty otherwise).
    pub sender: String,
}

impl Upload {
    /// How many parts the whole file takes.
    pub fn parts_total(&self) -> i64 {
        if self.total_size == 0 {
            1
        } else {
            (self.total_size + self.part_size - 1) / self.part_size
        }
    }

    pub fn is_complete(&self) -> bool {
        self.bytes_received == self.total_size && self.parts_received == self.parts_total()
    }
}

#[derive(Debug, Clone)]
pub struct NewUpload<'a> {
    pub application_id: i64,
    pub material_key: &'a str,
    pub user_id: i64,
    pub original_name: &'a str,
    pub total_size: i64,
    pub part_size: i64,
    pub sender: &'a str,
}

const UPLOAD_COLUMNS: &str = "id, public_id, application_id, material_key, user_id, original_name, \
     total_size, part_size, parts_received, bytes_received, chain_hash, created_at, updated_at, sender";

fn upload_of(r: &sqlx::any::AnyRow) -> Result<Upload> {
    Ok(Upload {
        id: r.try_get(0)?,
        public_id: r.try_get(1)?,
        application_id: r.try_get(2)?,
        material_key: r.try_get(3)?,
        user_id: r.try_get(4)?,
        original_name: r.try_get(5)?,
        total_size: r.try_get(6)?,
        part_size: r.try_get(7)?,
        parts_received: r.try_get(8)?,
        bytes_received: r.try_get(9)?,
        chain_hash: r.try_get(10)?,
        created_at: r.try_get(11)?,
        updated_at: r.try_get(12)?,
        sender: r.try_get(13)?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: i64,
    pub public_id: String,
    pub application_id: i64,
    pub material_key: String,
    /// Orders the files of one material; download names number the live ones 1, 2, 3 ….
    pub seq: i64,
    pub blob_key: String,
    pub original_name: String,
    /// By content: jpg, png, mp4, mov, pdf.
    pub format: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// The content's measurements as JSON text.
    pub measured: String,
    pub uploaded_by: i64,
    pub uploaded_at: i64,
    /// Who sent the file in (东莞's 市直相关部门意见: the 来文单位); empty for the
    /// materials that do not ask.
    pub sender: String,
}

#[derive(Debug, Clone)]
pub struct NewAttachment<'a> {
    pub application_id: i64,
    pub material_key: &'a str,
    pub blob_key: &'a str,
    pub original_name: &'a str,
    pub format: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a str,
    pub measured: &'a str,
    pub uploaded_by: i64,
    pub sender: &'a str,
}

const ATTACHMENT_COLUMNS: &str = "id, public_id, application_id, material_key, seq, blob_key, \
     original_name, format, content_type, size, sha256, measured, uploaded_by, uploaded_at, sender";

fn attachment_of(r: &sqlx::any::AnyRow) -> Result<Attachment> {
    Ok(Attachment {
        id: r.try_get(0)?,
        public_id: r.try_get(1)?,
        application_id: r.try_get(2)?,
        material_key: r.try_get(3)?,
        seq: r.try_get(4)?,
        blob_key: r.try_get(5)?,
        original_name: r.try_get(6)?,
        format: r.try_get(7)?,
        content_type: r.try_get(8)?,
        size: r.try_get(9)?,
        sha256: r.try_get(10)?,
        measured: r.try_get(11)?,
        uploaded_by: r.try_get(12)?,
        uploaded_at: r.try_get(13)?,
        sender: r.try_get(14)?,
    })
}

impl Store {
    pub async fn create_upload(&self, new: &NewUpload<'_>) -> Result<Upload> {
        let t = now();
        let id = public_id();
        sqlx::query(
            "INSERT INTO uploads (public_id, application_id, material_key, user_id, original_name, \
             total_size, part_size, created_at, updated_at, sender) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)",
        )
        .bind(&id)
        .bind(new.application_id)
        .bind(new.material_key)
        .bind(new.user_id)
        .bind(new.original_name)
        .bind(new.total_size)
        .bind(new.part_size)
        .bind(t)
        .bind(new.sender)
        .execute(&self.pool)
        .await?;
        self.get_upload(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn get_upload(&self, public_id: &str) -> Result<Option<Upload>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE public_id = $1"
        )))
        .bind(public_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(upload_of).transpose()
    }

    /// Counts part number `part` (from 0) of `len` bytes as received. Parts arrive in
    /// order: anything but the next one (a repeat after a dropped answer, a gap) is
    /// `Stale`, and the caller tells the client where to resume. `chain_hash` is the
    /// digest chained over the parts up to this one.
    pub async fn record_part(
        &self,
        upload_id: i64,
        part: i64,
        len: i64,
        chain_hash: &str,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE uploads SET parts_received = parts_received + 1, \
             bytes_received = bytes_received + $3, updated_at = $4, chain_hash = $5 \
             WHERE id = $1 AND parts_received = $2 AND bytes_received + $3 <= total_size",
        )
        .bind(upload_id)
        .bind(part)
        .bind(len)
        .bind(now())
        .bind(chain_hash)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if done == 1 {
            Ok(())
        } else {
            Err(StoreError::Stale)
        }
    }

    pub async fn delete_upload(&self, upload_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(upload_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Uploads nobody touched since `before` (unix seconds): to be swept with their parts.
    pub async fn idle_uploads(&self, before: i64) -> Result<Vec<Upload>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE updated_at < $1 ORDER BY id"
        )))
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(upload_of).collect()
    }

    /// Attaches a checked file. The application's row is written first so that two
    /// uploads finishing at once queue up and the second sees the first: the material's
    /// `max_count` holds (`QuotaFull` with the count in words otherwise).
    pub async fn add_attachment(
        &self,
        new: &NewAttachment<'_>,
        material: &Material,
        audit: &Audit,
    ) -> Result<Attachment> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE applications SET updated_at = $2 WHERE id = $1")
            .bind(new.application_id)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        // Removed files keep their seq, so a number is never given twice.
        let row = sqlx::query(
            "SELECT COUNT(CASE WHEN deleted_at IS NULL THEN 1 END), COALESCE(MAX(seq), 0) \
             FROM attachments WHERE application_id = $1 AND material_key = $2",
        )
        .bind(new.application_id)
        .bind(new.material_key)
        .fetch_one(&mut *tx)
        .await?;
        let (live, last): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        if let Some(max) = material.max_count
            && live >= i64::from(max)
        {
            tx.rollback().await?;
            let words = pingxuan_rules::materials::count_problem(material, max + 1)
                .unwrap_or_else(|| format!("{}最多 {max} 个", material.name));
            return Err(StoreError::QuotaFull(words));
        }
        let id = public_id();
        sqlx::query(
            "INSERT INTO attachments (public_id, application_id, material_key, seq, blob_key, original_name, \
             format, content_type, size, sha256, measured, uploaded_by, uploaded_at, sender) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&id)
        .bind(new.application_id)
        .bind(new.material_key)
        .bind(last + 1)
        .bind(new.blob_key)
        .bind(new.original_name)
        .bind(new.format)
        .bind(new.content_type)
        .bind(new.size)
        .bind(new.sha256)
        .bind(new.measured)
        .bind(new.uploaded_by)
        .bind(now())
        .bind(new.sender)
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, audit, now()).await?;
        tx.commit().await?;
        self.get_attachment(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn get_attachment(&self, public_id: &str) -> Result<Option<Attachment>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE public_id = $1 AND deleted_at IS NULL"
        )))
        .bind(public_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(attachment_of).transpose()
    }

    /// The live files sent in by others (those with a sender) about the applications of
    /// a campaign, by application, material and order: one read for a stage's page.
    pub async fn sent_files(&self, campaign_id: &str) -> Result<Vec<Attachment>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE deleted_at IS NULL AND sender <> '' \
             AND application_id IN (SELECT id FROM applications WHERE campaign_id = $1) \
             ORDER BY application_id, material_key, seq"
        )))
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attachment_of).collect()
    }

    /// The live files of an application, by material and order.
    pub async fn attachments_of(&self, application_id: i64) -> Result<Vec<Attachment>> {
        let mut c = self.pool.acquire().await?;
        attachments_on(&mut c, application_id).await
    }
}

/// The live files of an application, on `c`.
pub(crate) async fn attachments_on(
    c: &mut sqlx::AnyConnection,
    application_id: i64,
) -> Result<Vec<Attachment>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE application_id = $1 AND deleted_at IS NULL \
             ORDER BY material_key, seq"
        )))
        .bind(application_id)
        .fetch_all(&mut *c)
        .await?;
    rows.iter().map(attachment_of).collect()
}

impl Store {
    /// Removes a file from the application (the row stays, marked, for the audit trail),
    /// with its audit entry.
    pub async fn remove_attachment(&self, id: i64, audit: &Audit) -> Result<()> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE attachments SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id)
        .bind(t)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done != 1 {
            tx.rollback().await?;
            return Err(StoreError::NotFound);
        }
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// One attachment by its row id, removed or not.
pub(crate) async fn attachment_by_id(pool: &sqlx::AnyPool, id: i64) -> Result<Option<Attachment>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(attachment_of).transpose()
}
