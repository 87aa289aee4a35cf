//! Mail waits in the database until it is sent, so a failing mail server delays mail
//! but never blocks or loses the action that wrote it.

use sqlx::Row;

use crate::{Result, Store, now};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub id: i64,
    pub to_addr: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

impl Store {
    pub async fn enqueue_mail(&self, to: &str, subject: &str, body: &str) -> Result<i64> {
        let t = now();
        let row = sqlx::query(
            "INSERT INTO mail_outbox (to_addr, subject, body, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(to)
        .bind(subject)
        .bind(body)
        .bind(t)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Unsent mail whose next attempt is due, oldest first (what a sender would claim).
    pub async fn due_mail(&self, limit: i64) -> Result<Vec<Mail>> {
        let rows = sqlx::query(
            "SELECT id, to_addr, subject, body, attempts FROM mail_outbox \
             WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2",
        )
        .bind(now())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(mail_from_row).collect()
    }

    /// Claims up to `limit` due mails for `owner` for `lease_secs`, oldest first: another
    /// server's sender skips them until they are sent, failed, or the lease lapses (their
    /// sender died), so two servers never send the same mail.
    pub async fn claim_due_mail(
        &self,
        owner: &str,
        limit: i64,
        lease_secs: i64,
    ) -> Result<Vec<Mail>> {
        let t = now();
        // Looked for first, read-only: on SQLite the UPDATE takes the write lock even when
        // nothing is due (see `claim_export_job`).
        let due = sqlx::query(
            "SELECT 1 FROM mail_outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 \
             AND (lease_until IS NULL OR lease_until < $1) LIMIT 1",
        )
        .bind(t)
        .fetch_optional(&self.pool)
        .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE mail_outbox SET lease_owner = $1, lease_until = $2 \
             WHERE id IN (SELECT id FROM mail_outbox WHERE sent_at IS NULL AND next_attempt_at <= $3 \
               AND (lease_until IS NULL OR lease_until < $3) ORDER BY id LIMIT $4{}) \
             RETURNING id, to_addr, subject, body, attempts",
            self.skip_locked()
        )))
        .bind(owner)
        .bind(t + lease_secs)
        .bind(t)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut mails = rows.iter().map(mail_from_row).collect::<Result<Vec<_>>>()?;
        mails.sort_by_key(|m| m.id);
        Ok(mails)
    }

    pub async fn mark_mail_sent(&self, id: i64) -> Result<()> {
        // The body (reset links among them) is not kept once sent.
        sqlx::query(
            "UPDATE mail_outbox SET sent_at = $2, attempts = attempts + 1, last_error = NULL, body = '', \
             lease_until = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failure and schedules the next try with a growing delay (1, 2, 4 … 60 min).
    pub async fn mark_mail_failed(&self, id: i64, attempts: i64, error: &str) -> Result<()> {
        let delay = 60 * (1i64 << attempts.clamp(0, 6)).min(60);
        sqlx::query(
            "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3, \
             lease_until = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(error)
        .bind(now() + delay)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// All mail to one address, newest first (for tests and the admin page).
    pub async fn mail_to(&self, to: &str) -> Result<Vec<Mail>> {
        let rows = sqlx::query(
            "SELECT id, to_addr, subject, body, attempts FROM mail_outbox WHERE to_addr = $1 ORDER BY id DESC",
        )
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(mail_from_row).collect()
    }
}

/// Rows selected as `id, to_addr, subject, body, attempts`.
fn mail_from_row(r: &sqlx::any::AnyRow) -> Result<Mail> {
    Ok(Mail {
        id: r.try_get(0)?,
        to_addr: r.try_get(1)?,
        subject: r.try_get(2)?,
        body: r.try_get(3)?,
        attempts: r.try_get(4)?,
    })
}
