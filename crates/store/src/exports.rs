//! Export jobs: exports that take a while run in the background, one at a time, and
//! report how far they got. A job is claimed by moving it from `queued` to `running`
//! in one statement, so two workers never take the same job; a job found `running` when
//! the server starts was cut short and goes back to the queue.

use sqlx::Row;

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
}

const COLUMNS: &str = "id, public_id, campaign_id, kind, unit_ids, requested_by, state, total, \
     done, file_name, manifest, bytes, error, created_at, started_at, finished_at";

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
    })
}

impl Store {
    /// Queues an export of `kind` for the given units' candidates (none: the whole campaign).
    pub async fn create_export_job(
        &self,
        campaign_id: &str,
        kind: &str,
        unit_ids: Option<&[i64]>,
        requested_by: i64,
    ) -> Result<ExportJob> {
        let id = hex::encode(rand::random::<[u8; 16]>());
        let units = match unit_ids {
            Some(ids) => serde_json::to_string(ids).expect("ids as JSON"),
            None => String::new(),
        };
        sqlx::query(
            "INSERT INTO export_jobs (public_id, campaign_id, kind, unit_ids, requested_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(campaign_id)
        .bind(kind)
        .bind(units)
        .bind(requested_by)
        .bind(now())
        .execute(&self.pool)
        .await?;
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

    /// Takes the oldest queued job for running; none when the queue is empty or another
    /// worker took it first.
    pub async fn claim_export_job(&self) -> Result<Option<ExportJob>> {
        loop {
            let Some(row) = sqlx::query(
                "SELECT public_id FROM export_jobs WHERE state = 'queued' ORDER BY id LIMIT 1",
            )
            .fetch_optional(&self.pool)
            .await?
            else {
                return Ok(None);
            };
            let public_id: String = row.try_get(0)?;
            let taken = sqlx::query(
                "UPDATE export_jobs SET state = 'running', started_at = $2, done = 0 \
                 WHERE public_id = $1 AND state = 'queued'",
            )
            .bind(&public_id)
            .bind(now())
            .execute(&self.pool)
            .await?
            .rows_affected();
            if taken == 1 {
                return self.export_job(&public_id).await;
            }
        }
    }

    /// Jobs a stopped server left running go back to the queue; returns how many.
    pub async fn requeue_export_jobs(&self) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE export_jobs SET state = 'queued', done = 0, started_at = NULL \
             WHERE state = 'running'",
        )
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    pub async fn export_job_progress(&self, id: i64, done: i64, total: i64) -> Result<()> {
        sqlx::query("UPDATE export_jobs SET done = $2, total = $3 WHERE id = $1")
            .bind(id)
            .bind(done)
            .bind(total)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn finish_export_job(
        &self,
        id: i64,
        file_name: &str,
        manifest: &str,
        bytes: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE export_jobs SET state = 'done', done = total, file_name = $2, manifest = $3, \
             bytes = $4, finished_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(file_name)
        .bind(manifest)
        .bind(bytes)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn fail_export_job(&self, id: i64, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE export_jobs SET state = 'failed', error = $2, finished_at = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(error)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
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
