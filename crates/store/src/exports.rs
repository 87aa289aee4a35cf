//! Export jobs: exports that take a while run in the background, one at a time, and
//! report how far they got. A job is claimed by moving it from `queued` to `running`
//! in one statement, so two workers never take the same job; a job found `running` when
//! the server starts was cut short and goes back to the queue.

use sqlx::Row;

use crate::audit::Audit;
use crate::{Result, Store, StoreError, now};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> JobState {
        match s {
            "running" => JobState::Running,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            _ => JobState::Queued,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportJob {
    pub id: i64,
    pub public_id: String,
    pub campaign_id: String,
    pub kind: String,
    /// The recommending units whose candidates the export holds; none for the whole campaign.
    pub unit_ids: Option<Vec<i64>>,
    pub requested_by: i64,
    pub state: JobState,
    pub total: i64,
    pub done: i64,
    pub file_name: String,
    /// What the finished export is made of, as the job wrote it (JSON).
    pub manifest: String,
    pub bytes: i64,
    pub error: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The server holding the job while it runs (its lease), and how many times a server
    /// took it: more than once only when a server stopped mid-job and another resumed it.
    pub lease_owner: Option<String>,
    pub claims: i64,
}

const COLUMNS: &str = "id, public_id, campaign_id, kind, unit_ids, requested_by, state, total, \
     done, file_name, manifest, bytes, error, created_at, started_at, finished_at, lease_owner, claims";

fn job_of(r: &sqlx::any::AnyRow) -> Result<ExportJob> {
    let units: String = r.try_get(4)?;
    let state: String = r.try_get(6)?;
    Ok(ExportJob {
        id: r.try_get(0)?,
        public_id: r.try_get(1)?,
        campaign_id: r.try_get(2)?,
        kind: r.try_get(3)?,
        unit_ids: if units.is_empty() {
            None
        } else {
            Some(
                serde_json::from_str(&units)
                    .map_err(|e| StoreError::Other(format!("export job units: {e}")))?,
            )
        },
        requested_by: r.try_get(5)?,
        state: JobState::parse(&state),
        total: r.try_get(7)?,
        done: r.try_get(8)?,
        file_name: r.try_get(9)?,
        manifest: r.try_get(10)?,
        bytes: r.try_get(11)?,
        error: r.try_get(12)?,
        created_at: r.try_get(13)?,
        started_at: r.try_get(14)?,
        finished_at: r.try_get(15)?,
        lease_owner: r.try_get(16)?,
        claims: r.try_get(17)?,
    })
}

impl Store {
    /// Queues an export of `kind` for the given units' candidates (none: the whole
    /// campaign), with its audit entry (named from the job's public id).
    pub async fn create_export_job(
        &self,
        campaign_id: &str,
        kind: &str,
        unit_ids: Option<&[i64]>,
        requested_by: i64,
        audit: impl FnOnce(&str) -> Audit + Send,
    ) -> Result<ExportJob> {
        let id = hex::encode(rand::random::<[u8; 16]>());
        let units = match unit_ids {
            Some(ids) => serde_json::to_string(ids).expect("ids as JSON"),
            None => String::new(),
        };
        let t = now();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO export_jobs (public_id, campaign_id, kind, unit_ids, requested_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(campaign_id)
        .bind(kind)
        .bind(units)
        .bind(requested_by)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, &audit(&id), t).await?;
        tx.commit().await?;
        self.export_job(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn export_job(&self, public_id: &str) -> Result<Option<ExportJob>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM export_jobs WHERE public_id = $1"
        )))
        .bind(public_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(job_of).transpose()
    }

    /// One person's exports in a campaign, newest first.
    pub async fn export_jobs_of(
        &self,
        requested_by: i64,
        campaign_id: &str,
        limit: i64,
    ) -> Result<Vec<ExportJob>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM export_jobs WHERE requested_by = $1 AND campaign_id = $2 \
             ORDER BY id DESC LIMIT $3"
        )))
        .bind(requested_by)
        .bind(campaign_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_of).collect()
    }

    /// How many jobs wait ahead of this one (the one running counts).
    pub async fn export_jobs_ahead(&self, id: i64) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM export_jobs WHERE id < $1 AND state IN ('queued', 'running')",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Takes the oldest job waiting to run for `owner`, with a lease of `lease_secs`:
    /// a queued one, or one whose server stopped renewing its lease (it died or was cut
    /// off); that one starts again from the beginning. None when there is nothing to do.
    pub async fn claim_export_job(
        &self,
        owner: &str,
        lease_secs: i64,
    ) -> Result<Option<ExportJob>> {
        let t = now();
        // On SQLite an UPDATE takes the database's one write lock even when it matches
        // nothing, and an idle worker polls every few seconds: between a vote's batches
        // it would queue the next behind it. Looked for first, read-only.
        let waiting = sqlx::query(
            "SELECT 1 FROM export_jobs WHERE state = 'queued' \
             OR (state = 'running' AND (lease_until IS NULL OR lease_until < $1)) LIMIT 1",
        )
        .bind(t)
        .fetch_optional(&self.pool)
        .await?;
        if waiting.is_none() {
            return Ok(None);
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE export_jobs SET state = 'running', started_at = $1, done = 0, \
             lease_owner = $2, lease_until = $3, claims = claims + 1 \
             WHERE id = (SELECT id FROM export_jobs WHERE state = 'queued' \
               OR (state = 'running' AND (lease_until IS NULL OR lease_until < $1)) \
               ORDER BY id LIMIT 1{}) RETURNING {COLUMNS}",
            self.skip_locked()
        )))
        .bind(t)
        .bind(owner)
        .bind(t + lease_secs)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(job_of).transpose()
    }

    /// Extends `owner`'s lease on a running job; false when the lease was lost (another
    /// server took the job over after it lapsed): the worker then stops.
    pub async fn renew_export_lease(&self, id: i64, owner: &str, lease_secs: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE export_jobs SET lease_until = $3 \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(owner)
        .bind(now() + lease_secs)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Progress of a job its `owner` still holds; false when the lease was lost.
    pub async fn export_job_progress(
        &self,
        id: i64,
        owner: &str,
        done: i64,
        total: i64,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE export_jobs SET done = $3, total = $4 \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(owner)
        .bind(done)
        .bind(total)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Marks a job done by the `owner` of its lease; false (nothing written) when another
    /// server holds it now.
    pub async fn finish_export_job(
        &self,
        id: i64,
        owner: &str,
        file_name: &str,
        manifest: &str,
        bytes: i64,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE export_jobs SET state = 'done', done = total, file_name = $3, manifest = $4, \
             bytes = $5, finished_at = $6, lease_until = NULL \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(owner)
        .bind(file_name)
        .bind(manifest)
        .bind(bytes)
        .bind(now())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Marks a job failed by the `owner` of its lease; false when another server holds it.
    pub async fn fail_export_job(&self, id: i64, owner: &str, error: &str) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE export_jobs SET state = 'failed', error = $3, finished_at = $4, lease_until = NULL \
             WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(owner)
        .bind(error)
        .bind(now())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Finished jobs older than `before` (unix seconds), to be removed with their files.
    pub async fn expired_export_jobs(&self, before: i64) -> Result<Vec<ExportJob>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM export_jobs WHERE state IN ('done', 'failed') \
             AND finished_at < $1 ORDER BY id"
        )))
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_of).collect()
    }

    pub async fn delete_export_job(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM export_jobs WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
