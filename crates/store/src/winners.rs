//! The register of earlier winners (往年获奖名单) an organiser loads per campaign.
//! Loading replaces the register as a whole; 身份证号码 are sealed, found by digest.

use sqlx::Row;

use crate::audit::Audit;
use crate::{Result, Store, now};

/// One person on the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Winner {
    pub name: String,
    /// As typed; normalised to upper case before sealing.
    pub id_number: String,
    /// E.g. “2022年 东莞最美科技工作者”.
    pub note: String,
}

impl Store {
    /// Replaces the campaign's register with `rows`, in one transaction with its audit entry.
    pub async fn replace_winners(
        &self,
        campaign_id: &str,
        rows: &[Winner],
        loaded_by: i64,
        audit: &Audit,
    ) -> Result<()> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM earlier_winners WHERE campaign_id = $1")
            .bind(campaign_id)
            .execute(&mut *tx)
            .await?;
        for w in rows {
            let id = w.id_number.trim().to_ascii_uppercase();
            sqlx::query(
                "INSERT INTO earlier_winners (campaign_id, name, id_number_enc, id_number_hmac, note, loaded_by, loaded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (campaign_id, id_number_hmac) DO NOTHING",
            )
            .bind(campaign_id)
            .bind(w.name.trim())
            .bind(self.sealer.seal(&id))
            .bind(self.sealer.lookup(&id))
            .bind(w.note.trim())
            .bind(loaded_by)
            .bind(t)
            .execute(&mut *tx)
            .await?;
        }
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn winners_count(&self, campaign_id: &str) -> Result<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM earlier_winners WHERE campaign_id = $1")
                .bind(campaign_id)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }
}
