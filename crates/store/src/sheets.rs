//! The experts' side of a review stage: their assignments across campaigns, the 回避声明
//! filed per candidate (a declared relation ends the assignment and, where someone is
//! eligible, hands the candidate to another expert in the same transaction), and score
//! sheets saved as drafts and submitted, after which they are locked.

use sqlx::Row;

use crate::audit::Audit;
use crate::{Result, Store, StoreError, now, unique_as};

/// An assignment seen from the expert's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub campaign_id: String,
    pub stage_key: String,
    pub application_id: i64,
}

/// A 回避声明: empty `relation` is “无”.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub expert_id: i64,
    pub application_id: i64,
    pub relation: String,
    pub at: i64,
}

/// A score sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub expert_id: i64,
    pub application_id: i64,
    /// Per criterion, in the campaign's order; `None` for a box left empty in a draft.
    pub points: Vec<Option<u32>>,
    pub comment: String,
    pub version: i64,
    pub submitted_at: Option<i64>,
    pub keyed_by: Option<i64>,
}

/// A sheet to write.
#[derive(Debug, Clone)]
pub struct SheetWrite<'a> {
    pub campaign_id: &'a str,
    pub stage_key: &'a str,
    pub expert_id: i64,
    pub application_id: i64,
    pub points: &'a [Option<u32>],
    pub comment: &'a str,
    /// The version the edit began from (0 for a sheet not yet saved).
    pub version: i64,
    pub submit: bool,
    /// The office keying in a paper sheet.
    pub keyed_by: Option<i64>,
    /// The stage's events the decision saw: a stage closed meanwhile refuses the save.
    pub after: i64,
}

impl Store {
    /// Every live assignment of an expert, in every campaign.
    pub async fn tasks_of(&self, expert_id: i64) -> Result<Vec<Task>> {
        let rows = sqlx::query(
            "SELECT campaign_id, stage_key, application_id FROM assignments \
             WHERE expert_id = $1 AND ended_at IS NULL ORDER BY campaign_id, stage_key, application_id",
        )
        .bind(expert_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Task {
                    campaign_id: r.try_get(0)?,
                    stage_key: r.try_get(1)?,
                    application_id: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// The 回避声明 of a stage (every expert's).
    pub async fn declarations(&self, campaign_id: &str, stage_key: &str) -> Result<Vec<Declared>> {
        self.declarations_where(campaign_id, stage_key, None).await
    }

    /// One expert's 回避声明 in a stage.
    pub async fn declarations_of(
        &self,
        campaign_id: &str,
        stage_key: &str,
        expert_id: i64,
    ) -> Result<Vec<Declared>> {
        self.declarations_where(campaign_id, stage_key, Some(expert_id))
            .await
    }

    async fn declarations_where(
        &self,
        campaign_id: &str,
        stage_key: &str,
        expert: Option<i64>,
    ) -> Result<Vec<Declared>> {
        // 0: every expert's.
        let rows = sqlx::query(
            "SELECT expert_id, application_id, relation, declared_at FROM declarations \
             WHERE campaign_id = $1 AND stage_key = $2 AND ($3 = 0 OR expert_id = $3) \
             ORDER BY expert_id, application_id",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .bind(expert.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Declared {
                    expert_id: r.try_get(0)?,
                    application_id: r.try_get(1)?,
                    relation: r.try_get(2)?,
                    at: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Files a 回避声明. With a relation, the assignment ends with it as the reason and,
    /// when `replacement` names another expert, they take the candidate (with the seed of
    /// the choice); all with the audit entry in one transaction. A second declaration for
    /// the same candidate is `Duplicate`.
    #[allow(clippy::too_many_arguments)]
    pub async fn declare(
        &self,
        campaign_id: &str,
        stage_key: &str,
        after: i64,
        expert_id: i64,
        application_id: i64,
        relation: &str,
        replacement: Option<(i64, u64)>,
        audit: &Audit,
    ) -> Result<()> {
        let t = now();
        let mut tx = crate::stages::locked_at(self, campaign_id, stage_key, after).await?;
        sqlx::query(
            "INSERT INTO declarations (campaign_id, stage_key, expert_id, application_id, relation, declared_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .bind(expert_id)
        .bind(application_id)
        .bind(relation)
        .bind(t)
        .execute(&mut *tx)
        .await
        .map_err(unique_as("回避声明"))?;
        if !relation.is_empty() {
            let ended = sqlx::query(
                "UPDATE assignments SET ended_at = $1, ended_reason = $2 \
                 WHERE campaign_id = $3 AND stage_key = $4 AND expert_id = $5 AND application_id = $6 AND ended_at IS NULL",
            )
            .bind(t)
            .bind(format!("本人声明回避：{relation}"))
            .bind(campaign_id)
            .bind(stage_key)
            .bind(expert_id)
            .bind(application_id)
            .execute(&mut *tx)
            .await?;
            if ended.rows_affected() != 1 {
                return Err(StoreError::Stale);
            }
            if let Some((other, seed)) = replacement {
                let pair = crate::stages::NewPair {
                    campaign_id,
                    stage_key,
                    expert_id: other,
                    application_id,
                    seed: Some(seed),
                    by: None,
                    at: t,
                };
                crate::stages::insert_pair(&mut tx, &pair).await?;
            }
        }
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The sheets of a stage (every expert's).
    pub async fn sheets(&self, campaign_id: &str, stage_key: &str) -> Result<Vec<Sheet>> {
        self.sheets_where(campaign_id, stage_key, None).await
    }

    /// One expert's sheets in a stage.
    pub async fn sheets_of(
        &self,
        campaign_id: &str,
        stage_key: &str,
        expert_id: i64,
    ) -> Result<Vec<Sheet>> {
        self.sheets_where(campaign_id, stage_key, Some(expert_id))
            .await
    }

    async fn sheets_where(
        &self,
        campaign_id: &str,
        stage_key: &str,
        expert: Option<i64>,
    ) -> Result<Vec<Sheet>> {
        // 0: every expert's.
        let rows = sqlx::query(
            "SELECT expert_id, application_id, points, comment, version, submitted_at, keyed_by \
             FROM sheets WHERE campaign_id = $1 AND stage_key = $2 AND ($3 = 0 OR expert_id = $3) \
             ORDER BY application_id, expert_id",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .bind(expert.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let points: String = r.try_get(2)?;
                Ok(Sheet {
                    expert_id: r.try_get(0)?,
                    application_id: r.try_get(1)?,
                    points: serde_json::from_str(&points)
                        .map_err(|e| StoreError::Other(format!("sheet points: {e}")))?,
                    comment: r.try_get(3)?,
                    version: r.try_get(4)?,
                    submitted_at: r.try_get(5)?,
                    keyed_by: r.try_get(6)?,
                })
            })
            .collect()
    }

    /// Saves a sheet over the version the edit began from, submitting it when asked,
    /// with its audit entry; `Stale` when it changed meanwhile or is already submitted.
    /// Returns the new version.
    pub async fn save_sheet(&self, w: &SheetWrite<'_>, audit: &Audit) -> Result<i64> {
        let t = now();
        let points = serde_json::to_string(w.points).expect("points as JSON");
        let submitted = w.submit.then_some(t);
        let mut tx = crate::stages::locked_at(self, w.campaign_id, w.stage_key, w.after).await?;
        let done = if w.version == 0 {
            sqlx::query(
                "INSERT INTO sheets (campaign_id, stage_key, expert_id, application_id, points, comment, version, submitted_at, keyed_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9)",
            )
            .bind(w.campaign_id)
            .bind(w.stage_key)
            .bind(w.expert_id)
            .bind(w.application_id)
            .bind(&points)
            .bind(w.comment)
            .bind(submitted)
            .bind(w.keyed_by)
            .bind(t)
            .execute(&mut *tx)
            .await
            .map_err(|e| match unique_as("sheet")(e) {
                StoreError::Duplicate(_) => StoreError::Stale,
                other => other,
            })?
            .rows_affected()
        } else {
            sqlx::query(
                "UPDATE sheets SET points = $1, comment = $2, version = version + 1, submitted_at = $3, keyed_by = $4, updated_at = $5 \
                 WHERE campaign_id = $6 AND stage_key = $7 AND expert_id = $8 AND application_id = $9 \
                 AND version = $10 AND submitted_at IS NULL",
            )
            .bind(&points)
            .bind(w.comment)
            .bind(submitted)
            .bind(w.keyed_by)
            .bind(t)
            .bind(w.campaign_id)
            .bind(w.stage_key)
            .bind(w.expert_id)
            .bind(w.application_id)
            .bind(w.version)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        };
        if done != 1 {
            return Err(StoreError::Stale);
        }
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(w.version + 1)
    }
}

impl Store {
    /// Keys in one panel member's paper sheets (one per candidate, each submitted and
    /// marked with who keyed it) with the audit entry, in one transaction, only while
    /// the stage has the events the decision saw; a candidate already keyed for this
    /// member is `Duplicate`, and nothing is written.
    #[allow(clippy::too_many_arguments)]
    pub async fn key_in_sheets(
        &self,
        campaign_id: &str,
        stage_key: &str,
        after: i64,
        expert_id: i64,
        sheets: &[(i64, Vec<Option<u32>>)],
        keyed_by: i64,
        audit: &Audit,
    ) -> Result<()> {
        let t = now();
        let mut tx = crate::stages::locked_at(self, campaign_id, stage_key, after).await?;
        for (application_id, points) in sheets {
            sqlx::query(
                "INSERT INTO sheets (campaign_id, stage_key, expert_id, application_id, points, comment, version, submitted_at, keyed_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, '', 1, $6, $7, $6)",
            )
            .bind(campaign_id)
            .bind(stage_key)
            .bind(expert_id)
            .bind(application_id)
            .bind(serde_json::to_string(points).expect("points as JSON"))
            .bind(t)
            .bind(keyed_by)
            .execute(&mut *tx)
            .await
            .map_err(unique_as("该专家的纸质评分表"))?;
        }
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Reopens a submitted sheet (a new version, no longer locked) with its audit entry,
    /// only while the stage has the events the decision saw; `Stale` otherwise.
    pub async fn reopen_sheet(
        &self,
        campaign_id: &str,
        stage_key: &str,
        after: i64,
        expert_id: i64,
        application_id: i64,
        audit: &Audit,
    ) -> Result<()> {
        let t = now();
        let mut tx = crate::stages::locked_at(self, campaign_id, stage_key, after).await?;
        let done = sqlx::query(
            "UPDATE sheets SET submitted_at = NULL, version = version + 1, updated_at = $1 \
             WHERE campaign_id = $2 AND stage_key = $3 AND expert_id = $4 AND application_id = $5 \
             AND submitted_at IS NOT NULL",
        )
        .bind(t)
        .bind(campaign_id)
        .bind(stage_key)
        .bind(expert_id)
        .bind(application_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }
}
