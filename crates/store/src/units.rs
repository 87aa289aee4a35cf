//! Recommending units and work units of a campaign.

use pingxuan_rules::Role;
use sqlx::Row;

use crate::{Result, Store, now, unique_as};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub id: i64,
    pub campaign_id: String,
    pub name: String,
    /// `Recommender` or `WorkUnit`.
    pub kind: Role,
    /// The campaign's recommender category key.
    pub category: Option<String>,
}

impl Store {
    pub async fn create_unit(
        &self,
        campaign_id: &str,
        name: &str,
        kind: Role,
        category: Option<&str>,
    ) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO units (campaign_id, name, kind, category, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(campaign_id)
        .bind(name.trim())
        .bind(kind.as_str())
        .bind(category)
        .bind(now())
        .fetch_one(&self.pool)
        .await
        .map_err(unique_as("同名单位"))?;
        Ok(row.try_get(0)?)
    }

    pub async fn list_units(&self, campaign_id: &str) -> Result<Vec<Unit>> {
        let rows = sqlx::query(
            "SELECT id, campaign_id, name, kind, category FROM units WHERE campaign_id = $1 ORDER BY kind, id",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get(3)?;
                Ok(Unit {
                    id: r.try_get(0)?,
                    campaign_id: r.try_get(1)?,
                    name: r.try_get(2)?,
                    kind: kind.parse().unwrap_or(Role::Recommender),
                    category: r.try_get(4)?,
                })
            })
            .collect()
    }
}
