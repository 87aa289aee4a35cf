//! Paper filing (issue 18): the office's markings of each `[paper]` item received, the
//! latest per item holding and the earlier kept; and whose recommenders were asked to
//! send it, each once, with the notices in the same transaction.

use sqlx::Row;

use crate::audit::Audit;
use crate::notices::Outgoing;
use crate::{Result, Store, now};

/// One marking, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperMark {
    pub application_id: i64,
    pub item: i64,
    pub received: bool,
    /// Days as YYYY-MM-DD.
    pub received_on: String,
    pub postmark_on: Option<String>,
    pub by: Option<String>,
    pub at: i64,
}

impl Store {
    /// Every marking of a campaign's paper, oldest first.
    pub async fn paper_marks(&self, campaign_id: &str) -> Result<Vec<PaperMark>> {
        let rows = sqlx::query(
            "SELECT m.application_id, m.item, m.received, m.received_on, m.postmark_on, u.display_name, m.marked_at \
             FROM paper_marks m LEFT JOIN users u ON u.id = m.marked_by \
             WHERE m.campaign_id = $1 ORDER BY m.id",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PaperMark {
                    application_id: r.try_get(0)?,
                    item: r.try_get(1)?,
                    received: r.try_get::<i64, _>(2)? != 0,
                    received_on: r.try_get(3)?,
                    postmark_on: r.try_get(4)?,
                    by: r.try_get(5)?,
                    at: r.try_get(6)?,
                })
            })
            .collect()
    }

    /// Writes a marking with its audit entry.
    pub async fn mark_paper(
        &self,
        campaign_id: &str,
        mark: &PaperMark,
        by: Option<i64>,
        audit: &Audit,
    ) -> Result<()> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO paper_marks (campaign_id, application_id, item, received, received_on, postmark_on, marked_by, marked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(campaign_id)
        .bind(mark.application_id)
        .bind(mark.item)
        .bind(i64::from(mark.received))
        .bind(&mark.received_on)
        .bind(mark.postmark_on.as_deref())
        .bind(by)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }

    /// When each candidate's recommender was asked for paper: (application, at).
    pub async fn paper_requests(&self, campaign_id: &str) -> Result<Vec<(i64, i64)>> {
        let rows = sqlx::query(
            "SELECT application_id, requested_at FROM paper_requests WHERE campaign_id = $1 ORDER BY application_id",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Records the request for these candidates' paper, their recommenders' notices and
    /// the audit entry in one transaction. A candidate asked for already is `Duplicate`
    /// (the caller asks only the others).
    pub async fn request_paper(
        &self,
        campaign_id: &str,
        ids: &[i64],
        by: Option<i64>,
        notices: &[Outgoing],
        audit: &Audit,
    ) -> Result<()> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        for id in ids {
            sqlx::query(
                "INSERT INTO paper_requests (campaign_id, application_id, requested_by, requested_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(campaign_id)
            .bind(id)
            .bind(by)
            .bind(t)
            .execute(&mut *tx)
            .await
            .map_err(crate::unique_as("paper request"))?;
        }
        Self::write_notices(&mut tx, notices, t).await?;
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }
}
