//! The audit trail (等保 2.0): who did what, to which record, when and from where.
//! Rows are only ever added.

use sqlx::Row;

use crate::{Result, Store, now};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: i64,
    pub user_id: Option<i64>,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: Option<String>,
}

impl Store {
    pub async fn audit(
        &self,
        user_id: Option<i64>,
        action: &str,
        target: &str,
        detail: &str,
        ip: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (at, user_id, action, target, detail, ip) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now())
        .bind(user_id)
        .bind(action)
        .bind(target)
        .bind(detail)
        .bind(ip)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest entries first.
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT at, user_id, action, target, detail, ip FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: r.try_get(0)?,
                    user_id: r.try_get(1)?,
                    action: r.try_get(2)?,
                    target: r.try_get(3)?,
                    detail: r.try_get(4)?,
                    ip: r.try_get(5)?,
                })
            })
            .collect()
    }
}
