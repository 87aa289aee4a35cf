//! A campaign's expert pool: accounts with the expert role in the campaign, each with
//! the 工作单位 conflicts are found by and the 学科/专业领域 candidates are matched on.

use pingxuan_rules::Role;
use sqlx::Row;

use crate::accounts::NewUser;
use crate::audit::Audit;
use crate::{Result, Store, now};

/// An expert to create with their account.
#[derive(Debug, Clone)]
pub struct NewExpert {
    pub user: NewUser,
    pub work_unit: String,
    pub fields: Vec<String>,
}

/// An expert of the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expert {
    pub user_id: i64,
    pub name: String,
    pub work_unit: String,
    pub fields: Vec<String>,
    pub active: bool,
    /// The look-up digest of the expert's mobile, when given: the same person as a
    /// candidate with that mobile (see [`Store::candidate_person_keys`]).
    pub person: Option<String>,
}

impl Store {
    /// Creates every expert with their account and role in one transaction, each with
    /// its audit entry; nothing when one fails (a login taken meanwhile).
    pub async fn create_expert_accounts(
        &self,
        campaign_id: &str,
        experts: Vec<NewExpert>,
        audit: impl Fn(&NewExpert, i64) -> Audit + Send,
    ) -> Result<Vec<i64>> {
        let mut ready = Vec::with_capacity(experts.len());
        for e in &experts {
            ready.push(self.prepare_user(e.user.clone()).await?);
        }
        let t = now();
        let mut tx = self.pool.begin().await?;
        let mut ids = Vec::with_capacity(experts.len());
        for (e, prepared) in experts.iter().zip(&ready) {
            let id = Self::insert_user(&mut tx, prepared, t).await?;
            Self::insert_role(&mut tx, id, Role::Expert, Some(campaign_id), None, t).await?;
            sqlx::query(
                "INSERT INTO experts (campaign_id, user_id, name, work_unit, fields, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(campaign_id)
            .bind(id)
            .bind(e.user.display_name.trim())
            .bind(e.work_unit.trim())
            .bind(e.fields.join("、"))
            .bind(t)
            .execute(&mut *tx)
            .await?;
            self.append_audit(&mut tx, &audit(e, id), t).await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Each candidate at the office's desk with a mobile, keyed as an account's mobile is
    /// (the look-up digest of the number), so an expert who is a candidate is found
    /// without either number leaving its seal.
    pub async fn candidate_person_keys(&self, campaign_id: &str) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT id, mobile_enc FROM applications \
             WHERE campaign_id = $1 AND holder_role = 'organizer' AND mobile_enc IS NOT NULL",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let sealed: String = r.try_get(1)?;
            if let Some(m) = self.sealer.open(&sealed) {
                let m = m.trim();
                if !m.is_empty() {
                    out.push((r.try_get(0)?, self.sealer.lookup(m)));
                }
            }
        }
        Ok(out)
    }

    /// A campaign's experts, in the order they were added.
    pub async fn experts(&self, campaign_id: &str) -> Result<Vec<Expert>> {
        let rows = sqlx::query(
            "SELECT e.user_id, e.name, e.work_unit, e.fields, u.active, u.mobile_hmac FROM experts e \
             JOIN users u ON u.id = e.user_id WHERE e.campaign_id = $1 ORDER BY e.created_at, e.user_id",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let fields: String = r.try_get(3)?;
                Ok(Expert {
                    user_id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    work_unit: r.try_get(2)?,
                    fields: fields
                        .split('、')
                        .filter(|f| !f.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    active: r.try_get::<i64, _>(4)? != 0,
                    person: r.try_get(5)?,
                })
            })
            .collect()
    }
}
