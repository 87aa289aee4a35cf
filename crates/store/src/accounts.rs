//! People and their roles: creation, sign-in with lockout, passwords with history.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use pingxuan_rules::Role;
use pingxuan_rules::password::{HISTORY, LOCKOUT_SECS, MAX_FAILURES, locked_for};
use sqlx::Row;

use crate::audit::Audit;
use crate::{Result, Store, StoreError, now, unique_as};

/// What a new account is made of; the password arrives in clear and leaves hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub active: bool,
}

/// One role a person holds, platform-wide or in one campaign (and unit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrant {
    pub role: Role,
    /// `None` for platform-wide roles.
    pub campaign_id: Option<String>,
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
}

/// A row of the account list: one role held by one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHolder {
    pub user_id: i64,
    pub login: String,
    pub display_name: String,
    pub active: bool,
    pub role: Role,
    pub campaign_id: Option<String>,
    pub unit_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    Ok(User),
    /// Wrong login or password; `remaining` tries before the account locks (counted
    /// for a login no account has as well, so the answer does not tell).
    Refused {
        remaining: u32,
    },
    Locked {
        secs_left: i64,
    },
    Inactive,
}

/// Logins are compared case-insensitively and without surrounding spaces.
pub fn normalize_login(login: &str) -> String {
    login.trim().to_lowercase()
}

async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Other(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| StoreError::Other(e.to_string()))?
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// A real hash of a throwaway password, verified against when the login is unknown so
/// that the answer takes as long as for a known login.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            Argon2::default()
                .hash_password(b"pingxuan-timing-equaliser")
                .map(|h| h.to_string())
                .unwrap_or_default()
        })
        .clone()
}

/// A recommending unit or work unit to create with its account.
#[derive(Debug, Clone)]
pub struct NewUnitAccount {
    pub name: String,
    /// `Recommender` or `WorkUnit`.
    pub kind: Role,
    pub category: Option<String>,
    pub user: NewUser,
}

/// A new account checked and with its password hashed, ready to insert.
pub(crate) struct PreparedUser {
    login_enc: String,
    login_hmac: String,
    display_name: String,
    email_enc: Option<String>,
    email_hmac: Option<String>,
    mobile_enc: Option<String>,
    mobile_hmac: Option<String>,
    password_hash: String,
}

impl Store {
    pub async fn create_user(&self, new: NewUser) -> Result<i64> {
        let ready = self.prepare_user(new).await?;
        let mut tx = self.pool.begin().await?;
        let id = Self::insert_user(&mut tx, &ready, now()).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Checks that the e-mail and mobile are free and hashes the password (slow, so
    /// before any transaction starts).
    pub(crate) async fn prepare_user(&self, new: NewUser) -> Result<PreparedUser> {
        let login = normalize_login(&new.login);
        let login_hmac = self.sealer.lookup(&login);
        let email = new.email.as_deref().map(normalize_login);
        let email_hmac = email.as_deref().map(|e| self.sealer.lookup(e));
        if let Some(h) = &email_hmac {
            let taken =
                sqlx::query("SELECT id FROM users WHERE email_hmac = $1 OR login_hmac = $1")
                    .bind(h)
                    .fetch_optional(&self.pool)
                    .await?;
            if taken.is_some() {
                return Err(StoreError::Duplicate("电子邮箱"));
            }
        }
        let mobile = new.mobile.as_deref().map(str::trim).map(str::to_owned);
        let mobile_hmac = mobile.as_deref().map(|m| self.sealer.lookup(m));
        if let Some(h) = &mobile_hmac {
            let taken =
                sqlx::query("SELECT id FROM users WHERE mobile_hmac = $1 OR login_hmac = $1")
                    .bind(h)
                    .fetch_optional(&self.pool)
                    .await?;
            if taken.is_some() {
                return Err(StoreError::Duplicate("手机号码"));
            }
        }
        Ok(PreparedUser {
            login_enc: self.sealer.seal(&login),
            login_hmac,
            display_name: new.display_name.trim().to_owned(),
            email_enc: email.as_deref().map(|e| self.sealer.seal(e)),
            email_hmac,
            mobile_enc: mobile.as_deref().map(|m| self.sealer.seal(m)),
            mobile_hmac,
            password_hash: hash_password(new.password).await?,
        })
    }

    pub(crate) async fn insert_user(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        u: &PreparedUser,
        t: i64,
    ) -> Result<i64> {
        let id: i64 = sqlx::query(
            "INSERT INTO users (login_hmac, login_enc, display_name, email_enc, email_hmac, \
             mobile_enc, mobile_hmac, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(&u.login_hmac)
        .bind(&u.login_enc)
        .bind(&u.display_name)
        .bind(&u.email_enc)
        .bind(&u.email_hmac)
        .bind(&u.mobile_enc)
        .bind(&u.mobile_hmac)
        .bind(&u.password_hash)
        .bind(t)
        .fetch_one(&mut **tx)
        .await
        .map_err(unique_as("登录名、电子邮箱或手机号码"))?
        .try_get(0)?;
        sqlx::query(
            "INSERT INTO password_history (user_id, password_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(&u.password_hash)
        .bind(t)
        .execute(&mut **tx)
        .await?;
        Ok(id)
    }

    fn user_from_row(&self, row: &sqlx::any::AnyRow) -> Result<User> {
        let open = |col: &str| -> Result<Option<String>> {
            let v: Option<String> = row.try_get(col)?;
            Ok(v.and_then(|s| self.sealer.open(&s)))
        };
        Ok(User {
            id: row.try_get("id")?,
            login: open("login_enc")?.unwrap_or_default(),
            display_name: row.try_get("display_name")?,
            email: open("email_enc")?,
            mobile: open("mobile_enc")?,
            active: row.try_get::<i64, _>("active")? != 0,
        })
    }

    pub async fn get_user(&self, id: i64) -> Result<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| self.user_from_row(&r)).transpose()
    }

    /// Finds an account by its login, its e-mail or its mobile number.
    pub async fn find_user(&self, login_or_contact: &str) -> Result<Option<User>> {
        let h = self.sealer.lookup(&normalize_login(login_or_contact));
        let row = sqlx::query(
            "SELECT * FROM users WHERE login_hmac = $1 OR email_hmac = $1 OR mobile_hmac = $1 \
             ORDER BY id LIMIT 1",
        )
        .bind(&h)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.user_from_row(&r)).transpose()
    }

    /// Failed sign-ins of the account behind `login` within the lockout window (0 when
    /// there is no such account).
    pub async fn recent_failures(&self, login: &str) -> Result<u32> {
        let h = self.sealer.lookup(&normalize_login(login));
        let row = sqlx::query(
            "SELECT failed_logins, last_failed_at FROM users \
             WHERE login_hmac = $1 OR email_hmac = $1 OR mobile_hmac = $1 ORDER BY id LIMIT 1",
        )
        .bind(&h)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else {
            return self.unknown_login_failures(&h).await;
        };
        let failures: i64 = r.try_get(0)?;
        let last: Option<i64> = r.try_get(1)?;
        Ok(match last {
            Some(l) if now() - l < LOCKOUT_SECS => failures as u32,
            _ => 0,
        })
    }

    /// Failed sign-ins with a login no account has, within the lockout window, counted
    /// from the audit trail (where each is written under the login's digest): so an
    /// unknown login shows the same tries left, captcha and lock as a real one, and a
    /// refusal does not tell whether an account exists.
    async fn unknown_login_failures(&self, login_hmac: &str) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'login_failed' AND target = $1 AND at > $2",
        )
        .bind(format!("login:{}", &login_hmac[..16]))
        .bind(now() - LOCKOUT_SECS)
        .fetch_one(&self.pool)
        .await?;
        Ok(n as u32)
    }

    /// Checks a password, counting failures and locking the account after too many.
    pub async fn authenticate(&self, login: &str, password: &str) -> Result<LoginOutcome> {
        let h = self.sealer.lookup(&normalize_login(login));
        let row = sqlx::query(
            "SELECT * FROM users WHERE login_hmac = $1 OR email_hmac = $1 OR mobile_hmac = $1 \
             ORDER BY id LIMIT 1",
        )
        .bind(&h)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            let dummy = tokio::task::spawn_blocking(dummy_hash)
                .await
                .unwrap_or_default();
            verify_password(password.to_owned(), dummy).await;
            // This attempt counts too (its audit entry is written after).
            let failures = self.unknown_login_failures(&h).await? + 1;
            if failures >= MAX_FAILURES {
                return Ok(LoginOutcome::Locked {
                    secs_left: LOCKOUT_SECS,
                });
            }
            return Ok(LoginOutcome::Refused {
                remaining: MAX_FAILURES - failures,
            });
        };
        let user = self.user_from_row(&row)?;
        let t = now();
        // The attempt is counted before the password is checked, in one statement that
        // refuses a locked account: parallel guesses cannot slip past the limit.
        let counted = sqlx::query(
            "UPDATE users SET \
             failed_logins = CASE WHEN last_failed_at IS NULL OR last_failed_at <= $2 - $3 THEN 1 ELSE failed_logins + 1 END, \
             last_failed_at = $2 \
             WHERE id = $1 AND NOT (failed_logins >= $4 AND last_failed_at > $2 - $3) \
             RETURNING failed_logins",
        )
        .bind(user.id)
        .bind(t)
        .bind(LOCKOUT_SECS)
        .bind(i64::from(MAX_FAILURES))
        .fetch_optional(&self.pool)
        .await?;
        let Some(counted) = counted else {
            let failures: i64 = row.try_get("failed_logins")?;
            let last: Option<i64> = row.try_get("last_failed_at")?;
            let secs_left = locked_for(failures as u32, last, t).unwrap_or(LOCKOUT_SECS);
            // As slow as a real check, so a lock does not tell that the account exists.
            let dummy = tokio::task::spawn_blocking(dummy_hash)
                .await
                .unwrap_or_default();
            verify_password(password.to_owned(), dummy).await;
            return Ok(LoginOutcome::Locked { secs_left });
        };
        let count: i64 = counted.try_get(0)?;
        let hash: String = row.try_get("password_hash")?;
        if !verify_password(password.to_owned(), hash).await {
            if count as u32 >= MAX_FAILURES {
                return Ok(LoginOutcome::Locked {
                    secs_left: LOCKOUT_SECS,
                });
            }
            return Ok(LoginOutcome::Refused {
                remaining: MAX_FAILURES - count as u32,
            });
        }
        sqlx::query("UPDATE users SET failed_logins = 0, last_failed_at = NULL WHERE id = $1")
            .bind(user.id)
            .execute(&self.pool)
            .await?;
        if !user.active {
            return Ok(LoginOutcome::Inactive);
        }
        Ok(LoginOutcome::Ok(user))
    }

    /// Sets a new password unless it is one of the last few; ends the lockout; with its
    /// audit entry.
    pub async fn set_password(&self, user_id: i64, password: &str, audit: &Audit) -> Result<()> {
        let old: Vec<String> = sqlx::query(
            "SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(HISTORY as i64)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
        for h in old {
            if verify_password(password.to_owned(), h).await {
                return Err(StoreError::Duplicate("最近使用过的密码"));
            }
        }
        let hash = hash_password(password.to_owned()).await?;
        let t = now();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE users SET password_hash = $2, failed_logins = 0, last_failed_at = NULL, \
             updated_at = $3 WHERE id = $1",
        )
        .bind(user_id)
        .bind(&hash)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO password_history (user_id, password_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(user_id)
        .bind(&hash)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates an account holding one role, with its audit entry (named from the new
    /// account's id), in one transaction: nothing half-created remains when the role
    /// cannot be granted.
    pub async fn create_account(
        &self,
        new: NewUser,
        role: Role,
        campaign_id: Option<&str>,
        unit_id: Option<i64>,
        audit: impl FnOnce(i64) -> Audit + Send,
    ) -> Result<i64> {
        let ready = self.prepare_user(new).await?;
        let t = now();
        let mut tx = self.pool.begin().await?;
        let id = Self::insert_user(&mut tx, &ready, t).await?;
        Self::insert_role(&mut tx, id, role, campaign_id, unit_id, t).await?;
        self.append_audit(&mut tx, &audit(id), t).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Creates units of a campaign, each with its account, in one transaction: a list
    /// that fails on any row (a login taken meanwhile) creates nothing. Passwords are
    /// hashed before the transaction starts.
    pub async fn create_unit_accounts(
        &self,
        campaign_id: &str,
        units: Vec<NewUnitAccount>,
        audit: impl Fn(&NewUnitAccount, i64) -> Audit + Send,
    ) -> Result<Vec<i64>> {
        let mut ready = Vec::with_capacity(units.len());
        for u in &units {
            ready.push(self.prepare_user(u.user.clone()).await?);
        }
        let t = now();
        let mut tx = self.pool.begin().await?;
        let mut ids = Vec::with_capacity(units.len());
        for (u, prepared) in units.iter().zip(&ready) {
            let unit_id: i64 = sqlx::query(
                "INSERT INTO units (campaign_id, name, kind, category, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(campaign_id)
            .bind(u.name.trim())
            .bind(u.kind.as_str())
            .bind(u.category.as_deref())
            .bind(t)
            .fetch_one(&mut *tx)
            .await
            .map_err(unique_as("同名单位"))?
            .try_get(0)?;
            let id = Self::insert_user(&mut tx, prepared, t).await?;
            Self::insert_role(&mut tx, id, u.kind, Some(campaign_id), Some(unit_id), t).await?;
            self.append_audit(&mut tx, &audit(u, id), t).await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Everyone holding an assigned role, in one campaign or (with `None`) all; the
    /// platform-wide roles are included only for `None`.
    pub async fn list_role_holders(&self, campaign_id: Option<&str>) -> Result<Vec<RoleHolder>> {
        let rows = sqlx::query(
            "SELECT u.id, u.login_enc, u.display_name, u.active, r.role, r.campaign_id, un.name AS unit_name \
             FROM roles r JOIN users u ON u.id = r.user_id LEFT JOIN units un ON un.id = r.unit_id \
             WHERE r.role <> 'applicant' AND r.role <> 'voter' AND ($1 = '*' OR r.campaign_id = $1) \
             ORDER BY r.campaign_id, r.role, u.id",
        )
        .bind(campaign_id.unwrap_or("*"))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let role: String = r.try_get("role")?;
            let Ok(role) = role.parse() else { continue };
            let login: String = r.try_get("login_enc")?;
            let campaign: String = r.try_get("campaign_id")?;
            out.push(RoleHolder {
                user_id: r.try_get("id")?,
                login: self.sealer.open(&login).unwrap_or_default(),
                display_name: r.try_get("display_name")?,
                active: r.try_get::<i64, _>("active")? != 0,
                role,
                campaign_id: (!campaign.is_empty()).then_some(campaign),
                unit_name: r.try_get("unit_name")?,
            });
        }
        Ok(out)
    }

    /// Removes an account; its roles go with it.
    pub async fn delete_user(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Gives a role; `campaign_id` and `unit_id` scope it.
    pub async fn grant_role(
        &self,
        user_id: i64,
        role: Role,
        campaign_id: Option<&str>,
        unit_id: Option<i64>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        Self::insert_role(&mut tx, user_id, role, campaign_id, unit_id, now()).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn insert_role(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        user_id: i64,
        role: Role,
        campaign_id: Option<&str>,
        unit_id: Option<i64>,
        t: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO roles (user_id, role, campaign_id, unit_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user_id)
        .bind(role.as_str())
        .bind(campaign_id.unwrap_or(""))
        .bind(unit_id.unwrap_or(0))
        .bind(t)
        .execute(&mut **tx)
        .await
        .map_err(unique_as("该角色"))?;
        Ok(())
    }

    pub async fn roles_of(&self, user_id: i64) -> Result<Vec<RoleGrant>> {
        let rows = sqlx::query(
            "SELECT r.role, r.campaign_id, r.unit_id, u.name AS unit_name FROM roles r \
             LEFT JOIN units u ON u.id = r.unit_id WHERE r.user_id = $1 ORDER BY r.id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let role: String = r.try_get("role")?;
            let Ok(role) = role.parse() else { continue };
            let campaign: String = r.try_get("campaign_id")?;
            let unit: i64 = r.try_get("unit_id")?;
            out.push(RoleGrant {
                role,
                campaign_id: (!campaign.is_empty()).then_some(campaign),
                unit_id: (unit != 0).then_some(unit),
                unit_name: r.try_get("unit_name")?,
            });
        }
        Ok(out)
    }
}
