//! 推荐码: issued by a recommending unit up to its quota, used once to start an
//! application, revocable while unused.

use pingxuan_rules::code;
use sqlx::Row;

use crate::audit::Audit;
use crate::{Result, Store, StoreError, now};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub id: i64,
    pub campaign_id: String,
    pub unit_id: i64,
    /// Canonical form (no dashes); show it with [`code::display`].
    pub code: String,
    pub candidate_name: String,
    pub work_unit_id: Option<i64>,
    pub work_unit_name: Option<String>,
    pub merged: bool,
    pub issued_at: i64,
    pub revoked_at: Option<i64>,
    pub application_id: Option<i64>,
    pub application_number: Option<String>,
    /// The name the applicant gave on the form, once used.
    pub applicant_name: Option<String>,
    pub used_at: Option<i64>,
}

/// What a unit asks for when issuing a code.
#[derive(Debug, Clone)]
pub struct NewCode<'a> {
    pub campaign_id: &'a str,
    pub unit_id: i64,
    pub candidate_name: &'a str,
    pub work_unit_id: Option<i64>,
    pub merged: bool,
    pub issued_by: i64,
}

const SELECT: &str = "SELECT c.id, c.campaign_id, c.unit_id, c.code, c.candidate_name, c.work_unit_id, \
     w.name, c.merged, c.issued_at, c.revoked_at, c.application_id, a.number, a.name, c.used_at \
     FROM recommendation_codes c LEFT JOIN units w ON w.id = c.work_unit_id \
     LEFT JOIN applications a ON a.id = c.application_id";

fn code_of(r: &sqlx::any::AnyRow) -> Result<Code> {
    Ok(Code {
        id: r.try_get(0)?,
        campaign_id: r.try_get(1)?,
        unit_id: r.try_get(2)?,
        code: r.try_get(3)?,
        candidate_name: r.try_get(4)?,
        work_unit_id: r.try_get(5)?,
        work_unit_name: r.try_get(6)?,
        merged: r.try_get::<i64, _>(7)? != 0,
        issued_at: r.try_get(8)?,
        revoked_at: r.try_get(9)?,
        application_id: r.try_get(10)?,
        application_number: r.try_get(11)?,
        applicant_name: r.try_get(12)?,
        used_at: r.try_get(13)?,
    })
}

fn random_code() -> String {
    let mut idx = [0usize; code::LENGTH];
    for i in &mut idx {
        *i = rand::random_range(0..code::ALPHABET.len());
    }
    code::from_indices(&idx)
}

impl Store {
    /// Issues a code if the unit's live codes leave room under `limit` (`None`: no
    /// limit). The unit's row is written first so that two issuers at once queue up
    /// (a row lock on PostgreSQL, the write lock on SQLite) and cannot both take the
    /// last place. `QuotaFull` carries the refusal in words.
    /// `audit` names the entry from the new code's id, written in the same transaction.
    pub async fn issue_code(
        &self,
        new: &NewCode<'_>,
        limit: Option<(u32, u32)>,
        audit: impl FnOnce(i64) -> Audit + Send,
    ) -> Result<Code> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE units SET category = category WHERE id = $1")
            .bind(new.unit_id)
            .execute(&mut *tx)
            .await?;
        let live: i64 = sqlx::query(
            "SELECT COUNT(*) FROM recommendation_codes WHERE unit_id = $1 AND revoked_at IS NULL",
        )
        .bind(new.unit_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        if let Some((max, extra)) = limit
            && let Some(problem) = code::issue_problem(live, Some(max), extra)
        {
            tx.rollback().await?;
            return Err(StoreError::QuotaFull(problem));
        }
        // 31^12 codes: a collision is astronomically rare, but retry rather than fail.
        let mut id = None;
        for _ in 0..3 {
            let inserted = sqlx::query(
                "INSERT INTO recommendation_codes (campaign_id, unit_id, code, candidate_name, work_unit_id, \
                 merged, issued_by, issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(new.campaign_id)
            .bind(new.unit_id)
            .bind(random_code())
            .bind(new.candidate_name.trim())
            .bind(new.work_unit_id)
            .bind(i64::from(new.merged))
            .bind(new.issued_by)
            .bind(t)
            .fetch_one(&mut *tx)
            .await;
            match inserted {
                Ok(r) => {
                    id = Some(r.try_get::<i64, _>(0)?);
                    break;
                }
                Err(sqlx::Error::Database(d)) if d.is_unique_violation() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let id = id.ok_or_else(|| StoreError::Other("推荐码生成失败，请重试".to_owned()))?;
        self.append_audit(&mut tx, &audit(id), t).await?;
        tx.commit().await?;
        self.get_code(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn get_code(&self, id: i64) -> Result<Option<Code>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE c.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(code_of).transpose()
    }

    /// The code as typed (already normalised), whatever its state.
    pub async fn find_code(&self, canonical: &str) -> Result<Option<Code>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE c.code = $1")))
            .bind(canonical)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(code_of).transpose()
    }

    /// A unit's codes, newest first.
    pub async fn codes_of_unit(&self, unit_id: i64) -> Result<Vec<Code>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE c.unit_id = $1 ORDER BY c.id DESC"
        )))
        .bind(unit_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(code_of).collect()
    }

    /// Revokes an unused code of `unit_id`; `CodeUsed` when it was used (or revoked)
    /// meanwhile, `NotFound` when it is not this unit's.
    pub async fn revoke_code(&self, id: i64, unit_id: i64, audit: &Audit) -> Result<()> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE recommendation_codes SET revoked_at = $3 \
             WHERE id = $1 AND unit_id = $2 AND application_id IS NULL AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(unit_id)
        .bind(t)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            self.append_audit(&mut tx, audit, t).await?;
            tx.commit().await?;
            return Ok(());
        }
        tx.rollback().await?;
        match self.get_code(id).await? {
            Some(c) if c.unit_id == unit_id => Err(StoreError::CodeUsed),
            _ => Err(StoreError::NotFound),
        }
    }
}
