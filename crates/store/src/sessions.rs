//! Server-side sessions in the database. The cookie holds a random token; the table
//! keeps only its hash, with the CSRF token and the pending captcha answer.

use pingxuan_rules::password::{ABSOLUTE_TIMEOUT_SECS, IDLE_TIMEOUT_SECS};
use sqlx::Row;

use crate::audit::Audit;
use crate::crypto::{new_token, token_hash};
use crate::{Result, Store, now};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: String,
    pub user_id: Option<i64>,
    pub csrf_token: String,
    /// Failed sign-ins from this browser, for the "captcha after failures" policy.
    pub failed_logins: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// Activity is written back at most this often, not on every request.
const TOUCH_EVERY_SECS: i64 = 60;

impl Store {
    /// Starts a session and returns the token for the cookie; a sign-in's audit entry
    /// (none for a visitor's session) is written with it.
    pub async fn create_session(
        &self,
        user_id: Option<i64>,
        ip: Option<&str>,
        audit: Option<&Audit>,
    ) -> Result<(String, Session)> {
        let token = new_token();
        let s = Session {
            id_hash: token_hash(&token),
            user_id,
            csrf_token: new_token(),
            failed_logins: 0,
            created_at: now(),
            last_seen_at: now(),
        };
        let insert = sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, ip) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(s.id_hash.clone())
        .bind(s.user_id)
        .bind(s.csrf_token.clone())
        .bind(s.created_at)
        .bind(ip.map(str::to_owned));
        // A visitor's session (every first page view) is one statement; a sign-in's
        // carries its audit entry in one transaction.
        match audit {
            None => {
                insert.execute(&self.pool).await?;
            }
            Some(audit) => {
                let mut tx = self.pool.begin().await?;
                insert.execute(&mut *tx).await?;
                self.append_audit(&mut tx, audit, s.created_at).await?;
                tx.commit().await?;
            }
        }
        Ok((token, s))
    }

    /// The live session for a cookie token; expired sessions are removed and not returned.
    pub async fn load_session(&self, token: &str) -> Result<Option<Session>> {
        let id_hash = token_hash(token);
        let row = sqlx::query(
            "SELECT user_id, csrf_token, failed_logins, created_at, last_seen_at FROM sessions WHERE id_hash = $1",
        )
        .bind(&id_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let s = Session {
            id_hash,
            user_id: row.try_get(0)?,
            csrf_token: row.try_get(1)?,
            failed_logins: row.try_get(2)?,
            created_at: row.try_get(3)?,
            last_seen_at: row.try_get(4)?,
        };
        let t = now();
        if t - s.last_seen_at >= IDLE_TIMEOUT_SECS || t - s.created_at >= ABSOLUTE_TIMEOUT_SECS {
            self.delete_session(&s.id_hash, None).await?;
            return Ok(None);
        }
        if t - s.last_seen_at >= TOUCH_EVERY_SECS {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
                .bind(&s.id_hash)
                .bind(t)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(s))
    }

    /// Ends a session; a sign-out's audit entry is written with it.
    pub async fn delete_session(&self, id_hash: &str, audit: Option<&Audit>) -> Result<()> {
        let delete =
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash.to_owned());
        match audit {
            None => {
                delete.execute(&self.pool).await?;
            }
            Some(audit) => {
                let mut tx = self.pool.begin().await?;
                delete.execute(&mut *tx).await?;
                self.append_audit(&mut tx, audit, now()).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Counts a failed sign-in from this session.
    pub async fn count_session_failure(&self, id_hash: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET failed_logins = failed_logins + 1 WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends every session of a person (after a password reset).
    pub async fn delete_sessions_of(&self, user_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends every session of a person but one (after they change their password).
    pub async fn delete_other_sessions(&self, user_id: i64, keep_id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user_id)
            .bind(keep_id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores the answer of the captcha just shown to this session (replacing any other).
    pub async fn set_captcha(&self, id_hash: &str, answer: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET captcha_answer = $2 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(answer.to_lowercase())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Checks a captcha guess; each captcha can be tried once, right or wrong.
    pub async fn check_captcha(&self, id_hash: &str, guess: &str) -> Result<bool> {
        let guess = guess.trim().to_lowercase();
        let hit = sqlx::query(
            "UPDATE sessions SET captcha_answer = NULL WHERE id_hash = $1 AND captcha_answer = $2",
        )
        .bind(id_hash)
        .bind(&guess)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        if !hit {
            sqlx::query("UPDATE sessions SET captcha_answer = NULL WHERE id_hash = $1")
                .bind(id_hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(hit && !guess.is_empty())
    }

    /// Removes sessions past their idle or absolute limit.
    pub async fn purge_sessions(&self) -> Result<u64> {
        let t = now();
        let r = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
            .bind(t - IDLE_TIMEOUT_SECS)
            .bind(t - ABSOLUTE_TIMEOUT_SECS)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }
}
