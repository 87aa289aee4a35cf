//! Campaign files as loaded by organisers. The TOML text is the record; it is checked
//! by the rules crate before it gets here and parsed again when read.

use pingxuan_rules::campaign::{Campaign, load};
use sqlx::Row;

use crate::audit::Audit;
use crate::{Result, Store, StoreError, now};

#[derive(Debug, Clone)]
pub struct StoredCampaign {
    pub id: String,
    pub name: String,
    pub year: i64,
    pub revision: i64,
    pub source_toml: String,
    pub updated_at: i64,
}

impl StoredCampaign {
    /// The campaign model; a stored file always passed the checks when it was saved.
    pub fn model(&self) -> Result<Campaign> {
        load(&self.source_toml)
            .campaign
            .ok_or_else(|| StoreError::Other(format!("活动 {} 的配置文件无法读取", self.id)))
    }
}

/// Campaign files parsed once per revision: every page and move needs the campaign's
/// rules, and parsing its file each time would cost more than the request.
pub(crate) type ModelCache = std::sync::Arc<
    std::sync::Mutex<std::collections::HashMap<String, (i64, std::sync::Arc<Campaign>)>>,
>;

impl Store {
    /// The campaign's rules, parsed from its current file (cached per revision; a new
    /// revision is seen at once, from any server sharing the database).
    pub async fn campaign_model(&self, id: &str) -> Result<Option<std::sync::Arc<Campaign>>> {
        let mut c = self.pool.acquire().await?;
        let revision: Option<i64> = sqlx::query("SELECT revision FROM campaigns WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        match revision {
            Some(revision) => self.model_at(&mut c, id, revision).await,
            None => Ok(None),
        }
    }

    /// The model of campaign `id` at `revision`: from the cache, or parsed from the
    /// stored file when the revision is new to this server — read on `c`, the caller's
    /// connection, so a loader holding one never waits for a second.
    pub(crate) async fn model_at(
        &self,
        c: &mut sqlx::AnyConnection,
        id: &str,
        revision: i64,
    ) -> Result<Option<std::sync::Arc<Campaign>>> {
        {
            let cache = self.models.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((rev, model)) = cache.get(id)
                && *rev == revision
            {
                return Ok(Some(model.clone()));
            }
        }
        let Some(stored) = campaign_on(c, id).await? else {
            return Ok(None);
        };
        let model = std::sync::Arc::new(stored.model()?);
        self.models
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned(), (stored.revision, model.clone()));
        Ok(Some(model))
    }

    /// Saves a checked campaign file, creating the campaign or replacing its file, with
    /// its audit entry (named from the new revision). Returns the new revision.
    pub async fn save_campaign(
        &self,
        c: &Campaign,
        source_toml: &str,
        by: Option<i64>,
        audit: impl FnOnce(i64) -> Audit + Send,
    ) -> Result<i64> {
        self.save_campaign_over(c, source_toml, by, None, audit)
            .await
    }

    /// Saves a new revision only over revision `over` (when given): a change made from
    /// an older page does not silently undo someone else's (`Stale` instead).
    pub async fn save_campaign_over(
        &self,
        c: &Campaign,
        source_toml: &str,
        by: Option<i64>,
        over: Option<i64>,
        audit: impl FnOnce(i64) -> Audit + Send,
    ) -> Result<i64> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO campaigns (id, name, year, source_toml, revision, loaded_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $6, $6) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, year = excluded.year, \
             source_toml = excluded.source_toml, revision = campaigns.revision + 1, \
             loaded_by = excluded.loaded_by, updated_at = excluded.updated_at \
             WHERE campaigns.revision = COALESCE($7, campaigns.revision) \
             RETURNING revision",
        )
        .bind(&c.campaign.id)
        .bind(&c.campaign.name)
        .bind(i64::from(c.campaign.year))
        .bind(source_toml)
        .bind(by)
        .bind(t)
        .bind(over)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::Stale)?;
        let revision: i64 = row.try_get(0)?;
        self.append_audit(&mut tx, &audit(revision), t).await?;
        tx.commit().await?;
        Ok(revision)
    }

    pub async fn get_campaign(&self, id: &str) -> Result<Option<StoredCampaign>> {
        let mut c = self.pool.acquire().await?;
        campaign_on(&mut c, id).await
    }

    pub async fn list_campaigns(&self) -> Result<Vec<StoredCampaign>> {
        let rows = sqlx::query(
            "SELECT id, name, year, revision, source_toml, updated_at FROM campaigns ORDER BY year DESC, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(campaign_from_row).collect()
    }
}

async fn campaign_on(c: &mut sqlx::AnyConnection, id: &str) -> Result<Option<StoredCampaign>> {
    let row = sqlx::query(
        "SELECT id, name, year, revision, source_toml, updated_at FROM campaigns WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    row.map(|r| campaign_from_row(&r)).transpose()
}

fn campaign_from_row(r: &sqlx::any::AnyRow) -> Result<StoredCampaign> {
    Ok(StoredCampaign {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        year: r.try_get(2)?,
        revision: r.try_get(3)?,
        source_toml: r.try_get(4)?,
        updated_at: r.try_get(5)?,
    })
}
