//! Personal API tokens for scripts and integrations, and one-time password-reset links.
//! Only hashes are stored; the clear token is shown once.

use sqlx::Row;

use crate::audit::Audit;
use crate::crypto::{new_token, token_hash};
use crate::{Result, Store, StoreError, now};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Every API token starts with this, so a leaked one is easy to recognise in logs.
pub const TOKEN_PREFIX: &str = "pxt_";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetError {
    Unknown,
    Expired,
    Used,
}

impl Store {
    /// Creates a token with its audit entry (named from the token's id) and returns
    /// (id, clear token).
    pub async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        audit: impl FnOnce(i64) -> Audit + Send,
    ) -> Result<(i64, String)> {
        let token = format!("{TOKEN_PREFIX}{}", new_token());
        let t = now();
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(user_id)
        .bind(name.trim())
        .bind(token_hash(&token))
        .bind(t)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        self.append_audit(&mut tx, &audit(id), t).await?;
        tx.commit().await?;
        Ok((id, token))
    }

    /// The user a live token belongs to: not revoked, younger than the maximum age,
    /// used within the idle limit (see `rules::password::api_token_expires_at`).
    pub async fn user_of_api_token(&self, token: &str) -> Result<Option<i64>> {
        use pingxuan_rules::password::{API_TOKEN_IDLE_SECS, API_TOKEN_MAX_AGE_SECS};
        let t = now();
        let row = sqlx::query(
            "UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL \
             AND created_at > $3 AND COALESCE(last_used_at, created_at) > $4 RETURNING user_id",
        )
        .bind(token_hash(token))
        .bind(t)
        .bind(t - API_TOKEN_MAX_AGE_SECS)
        .bind(t - API_TOKEN_IDLE_SECS)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    pub async fn list_api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_used_at FROM api_tokens \
             WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiToken {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    created_at: r.try_get(2)?,
                    last_used_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Revokes one of a person's tokens, with its audit entry.
    pub async fn revoke_api_token(&self, user_id: i64, id: i64, audit: &Audit) -> Result<()> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(user_id)
        .bind(t)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            tx.rollback().await?;
            return Err(StoreError::NotFound);
        }
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revokes every API token of a person (after a password reset).
    pub async fn revoke_api_tokens_of(&self, user_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives a claimed reset link back (the new password was refused), so the person
    /// can try another password with the same link.
    pub async fn release_password_reset(&self, token: &str) -> Result<()> {
        sqlx::query("UPDATE password_resets SET used_at = NULL WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks every open reset link of a person used (after a successful reset).
    pub async fn close_password_resets_of(&self, user_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Creates a reset link token valid for `ttl_secs`.
    pub async fn create_password_reset(&self, user_id: i64, ttl_secs: i64) -> Result<String> {
        let token = new_token();
        let t = now();
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(t)
        .bind(t + ttl_secs)
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// Whose reset link this is, if it can still be used (does not use it up).
    pub async fn peek_password_reset(
        &self,
        token: &str,
    ) -> Result<std::result::Result<i64, ResetError>> {
        let row = sqlx::query(
            "SELECT user_id, expires_at, used_at FROM password_resets WHERE token_hash = $1",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(Err(ResetError::Unknown));
        };
        let used: Option<i64> = row.try_get(2)?;
        if used.is_some() {
            return Ok(Err(ResetError::Used));
        }
        let expires: i64 = row.try_get(1)?;
        if expires <= now() {
            return Ok(Err(ResetError::Expired));
        }
        Ok(Ok(row.try_get(0)?))
    }

    /// Marks a reset link used; only one of two concurrent uses succeeds.
    pub async fn use_password_reset(&self, token: &str) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash(token))
        .bind(now())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}
