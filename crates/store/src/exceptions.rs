//! What an organiser grants beyond the campaign file: later deadlines (for everyone or
//! one recommending unit's channel) and extra places where a quota holds “原则上”.
//! Each carries its reason and who granted it; none is ever deleted.

use pingxuan_rules::deadline::Extension;
use sqlx::Row;

use crate::audit::Audit;
use crate::{Result, Store, now};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub id: i64,
    /// The level key (deadlines) or "" (quota).
    pub level_key: String,
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
    /// Unix seconds (deadlines) or extra places (quota).
    pub value: i64,
    pub reason: String,
    pub granted_by: Option<String>,
    pub granted_at: i64,
}

impl Granted {
    pub fn extension(&self) -> Extension {
        Extension {
            level_key: self.level_key.clone(),
            unit_id: self.unit_id,
            until: self.value,
        }
    }
}

fn granted_of(r: &sqlx::any::AnyRow) -> Result<Granted> {
    let unit: i64 = r.try_get(2)?;
    Ok(Granted {
        id: r.try_get(0)?,
        level_key: r.try_get(1)?,
        unit_id: (unit != 0).then_some(unit),
        unit_name: r.try_get(3)?,
        value: r.try_get(4)?,
        reason: r.try_get(5)?,
        granted_by: r.try_get(6)?,
        granted_at: r.try_get(7)?,
    })
}

impl Store {
    /// Moves a level's deadline to `until` for everyone (`unit_id` None) or one channel,
    /// with its audit entry.
    #[allow(clippy::too_many_arguments)]
    pub async fn extend_deadline(
        &self,
        campaign_id: &str,
        level_key: &str,
        unit_id: Option<i64>,
        until: i64,
        reason: &str,
        granted_by: i64,
        audit: &Audit,
    ) -> Result<i64> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        let id = sqlx::query(
            "INSERT INTO deadline_extensions (campaign_id, level_key, unit_id, until_at, reason, granted_by, granted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(campaign_id)
        .bind(level_key)
        .bind(unit_id.unwrap_or(0))
        .bind(until)
        .bind(reason.trim())
        .bind(granted_by)
        .bind(t)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A campaign's deadline extensions, oldest first.
    pub async fn deadline_extensions(&self, campaign_id: &str) -> Result<Vec<Granted>> {
        let mut c = self.pool.acquire().await?;
        extensions_on(&mut c, campaign_id).await
    }

    /// Grants a recommending unit `extra` places beyond its “原则上” quota, with its audit
    /// entry.
    pub async fn grant_quota(
        &self,
        campaign_id: &str,
        unit_id: i64,
        extra: i64,
        reason: &str,
        granted_by: i64,
        audit: &Audit,
    ) -> Result<i64> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        let id = sqlx::query(
            "INSERT INTO quota_exceptions (campaign_id, unit_id, extra, reason, granted_by, granted_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(campaign_id)
        .bind(unit_id)
        .bind(extra)
        .bind(reason.trim())
        .bind(granted_by)
        .bind(t)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A campaign's quota exceptions, oldest first.
    pub async fn quota_exceptions(&self, campaign_id: &str) -> Result<Vec<Granted>> {
        let rows = sqlx::query(
            "SELECT q.id, '' AS level_key, q.unit_id, u.name, q.extra, q.reason, g.display_name, q.granted_at \
             FROM quota_exceptions q LEFT JOIN units u ON u.id = q.unit_id \
             LEFT JOIN users g ON g.id = q.granted_by WHERE q.campaign_id = $1 ORDER BY q.id",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(granted_of).collect()
    }

    /// The extra places granted to one unit.
    pub async fn quota_extra(&self, unit_id: i64) -> Result<i64> {
        let n: Option<i64> =
            sqlx::query("SELECT CAST(COALESCE(SUM(extra), 0) AS BIGINT) FROM quota_exceptions WHERE unit_id = $1")
                .bind(unit_id)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?;
        Ok(n.unwrap_or(0))
    }
}

/// A campaign's deadline extensions, oldest first, on `c`.
pub(crate) async fn extensions_on(
    c: &mut sqlx::AnyConnection,
    campaign_id: &str,
) -> Result<Vec<Granted>> {
    let rows = sqlx::query(
        "SELECT e.id, e.level_key, e.unit_id, u.name, e.until_at, e.reason, g.display_name, e.granted_at \
         FROM deadline_extensions e LEFT JOIN units u ON u.id = e.unit_id \
         LEFT JOIN users g ON g.id = e.granted_by WHERE e.campaign_id = $1 ORDER BY e.id",
    )
    .bind(campaign_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(granted_of).collect()
}
