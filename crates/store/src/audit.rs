//! The audit trail (等保 2.0): who did what, to which record, when and from where, as a
//! hash chain (`pingxuan_rules::audit` holds the canonical form and the verifier).
//!
//! Rows are only ever added: the database refuses UPDATE and DELETE (triggers, migration
//! 0014). A move writes its entry inside its own transaction ([`Store::append_audit`]),
//! so a move whose entry cannot be written does not happen. Entries are chained in the
//! order they commit: the new entry's `prev_hash` is the newest entry's hash. Appenders
//! queue for the head (SQLite's write lock; a transaction-scoped advisory lock on
//! PostgreSQL), and the unique key on `prev_hash` is the last guard: a writer that read
//! a head another took first fails and retries on the new one (a savepoint, so the rest
//! of its transaction stands).

use pingxuan_rules::audit::{Entry, GENESIS, Line};
use sqlx::{Acquire, Any, AnyConnection, Row, Transaction};

use crate::{Backend, Result, Store, StoreError, now};

/// An entry to append: who, what, to which record, and from where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audit {
    pub user_id: Option<i64>,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: Option<String>,
}

impl Audit {
    pub fn new(user_id: Option<i64>, action: impl Into<String>, target: impl Into<String>) -> Self {
        Audit {
            user_id,
            action: action.into(),
            target: target.into(),
            ..Default::default()
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn ip(mut self, ip: Option<&str>) -> Self {
        self.ip = ip.map(str::to_owned);
        self
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub user_id: Option<i64>,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: Option<String>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

impl AuditEntry {
    /// The entry as the chain hashes it.
    pub fn chained(&self) -> Entry {
        Entry {
            action: self.action.clone(),
            at: self.at,
            detail: self.detail.clone(),
            ip: self.ip.clone(),
            prev: self.prev_hash.clone().unwrap_or_default(),
            target: self.target.clone(),
            user: self.user_id,
        }
    }

    /// The line `pingxuan audit export` writes for it.
    pub fn line(&self) -> Line {
        Line {
            id: Some(self.id),
            entry: self.chained(),
            hash: self.hash.clone().unwrap_or_default(),
        }
    }
}

/// How long the chain is and where it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub entries: i64,
    /// The newest entry's hash ([`GENESIS`] for an empty log).
    pub hash: String,
}

/// Tries before an append gives up when other writers keep taking the head (only a
/// writer that did not queue on [`AUDIT_LOCK`] can take it).
const APPEND_TRIES: usize = 64;

/// The PostgreSQL advisory lock appenders queue on ("audit" in ASCII).
const AUDIT_LOCK: i64 = 0x0061_7564_6974;

const COLUMNS: &str = "id, at, user_id, action, target, detail, ip, prev_hash, hash";

fn entry_of(r: &sqlx::any::AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.try_get(0)?,
        at: r.try_get(1)?,
        user_id: r.try_get(2)?,
        action: r.try_get(3)?,
        target: r.try_get(4)?,
        detail: r.try_get(5)?,
        ip: r.try_get(6)?,
        prev_hash: r.try_get(7)?,
        hash: r.try_get(8)?,
    })
}

impl Store {
    /// Appends one entry in a transaction of its own (sign-in events, downloads: things
    /// that are not a write of their own). Moves append inside their own transaction.
    pub async fn audit(
        &self,
        user_id: Option<i64>,
        action: &str,
        target: &str,
        detail: &str,
        ip: Option<&str>,
    ) -> Result<()> {
        self.record_audit(&Audit::new(user_id, action, target).detail(detail).ip(ip))
            .await
            .map(drop)
    }

    /// [`Store::audit`] with an [`Audit`]; returns the new entry's hash.
    pub async fn record_audit(&self, audit: &Audit) -> Result<String> {
        let mut tx = self.begin_write().await?;
        let hash = self.append_audit(&mut tx, audit, now()).await?;
        tx.commit().await?;
        Ok(hash)
    }

    /// A transaction that will write: on SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so reading the chain's head and appending to it cannot be
    /// overtaken by another connection.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Appends `audit` to the chain inside `tx`, the transaction of the move it records.
    /// On SQLite the transaction must already hold the write lock (a write before, or
    /// [`Store::begin_write`]); on PostgreSQL a writer that lost the head to another
    /// retries on a savepoint. Personal numbers are replaced by digests first.
    pub(crate) async fn append_audit(
        &self,
        tx: &mut Transaction<'_, Any>,
        audit: &Audit,
        at: i64,
    ) -> Result<String> {
        let digest = |v: &str| self.sealer.lookup(v)[..16].to_owned();
        let mut entry = Entry {
            action: audit.action.clone(),
            at,
            detail: pingxuan_rules::audit::scrub(&audit.detail, digest),
            ip: audit.ip.clone(),
            prev: String::new(),
            target: pingxuan_rules::audit::scrub(&audit.target, digest),
            user: audit.user_id,
        };
        if self.backend == Backend::Postgres {
            // Appenders queue here until the transaction before them commits, so the head
            // each one reads is the latest; without it, eight busy writers keep taking
            // each other's head and retry without end. Released at commit or rollback.
            sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS queued")
                .bind(AUDIT_LOCK)
                .execute(&mut **tx)
                .await?;
        }
        for _ in 0..APPEND_TRIES {
            let mut savepoint = tx.begin().await?;
            entry.prev = head_in(&mut savepoint)
                .await?
                .unwrap_or_else(|| GENESIS.into());
            let hash = entry.hash();
            let inserted = sqlx::query(
                "INSERT INTO audit_log (at, user_id, action, target, detail, ip, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(entry.at)
            .bind(entry.user)
            .bind(&entry.action)
            .bind(&entry.target)
            .bind(&entry.detail)
            .bind(&entry.ip)
            .bind(&entry.prev)
            .bind(&hash)
            .execute(&mut *savepoint)
            .await;
            match inserted {
                Ok(_) => {
                    savepoint.commit().await?;
                    return Ok(hash);
                }
                // Another writer appended to the same head first: read the new head.
                Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                    savepoint.rollback().await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Other(
            "审计日志写入冲突过多，请稍后再试".to_owned(),
        ))
    }

    /// The newest entries first.
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_log ORDER BY id DESC LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_of).collect()
    }

    /// Entries after row `after_id` in chain order, at most `limit`: the export pages
    /// through the log with it.
    pub async fn audit_after(&self, after_id: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2"
        )))
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_of).collect()
    }

    /// How many entries the log holds and the newest one's hash: the head to publish
    /// and to check an export against.
    pub async fn audit_head(&self) -> Result<AuditHead> {
        let mut conn = self.pool.acquire().await?;
        let entries: i64 = sqlx::query("SELECT COUNT(*) FROM audit_log")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let hash = head_in(&mut conn).await?.unwrap_or_else(|| GENESIS.into());
        Ok(AuditHead { entries, hash })
    }

    /// Chains the entries written before the log was a chain, in their order. Runs after
    /// every migration; a no-op once they are chained.
    pub async fn chain_unchained_audit(&self) -> Result<u64> {
        let mut chained = 0;
        loop {
            let mut tx = self.begin_write().await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM audit_log WHERE hash IS NULL ORDER BY id LIMIT 1000"
            )))
            .fetch_all(&mut *tx)
            .await?;
            let Some(first) = rows.first() else {
                tx.rollback().await?;
                return Ok(chained);
            };
            // The entry just before the first of this batch; then each follows the last.
            let mut prev: String = sqlx::query(
                "SELECT hash FROM audit_log WHERE id < $1 AND hash IS NOT NULL \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(first.try_get::<i64, _>(0)?)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or_else(|| GENESIS.into());
            for row in &rows {
                let mut e = entry_of(row)?;
                e.prev_hash = Some(prev);
                let hash = e.chained().hash();
                sqlx::query("UPDATE audit_log SET prev_hash = $2, hash = $3 WHERE id = $1")
                    .bind(e.id)
                    .bind(&e.prev_hash)
                    .bind(&hash)
                    .execute(&mut *tx)
                    .await?;
                prev = hash;
                chained += 1;
            }
            tx.commit().await?;
        }
    }
}

/// The newest chained entry's hash, read on `conn`.
async fn head_in(conn: &mut AnyConnection) -> Result<Option<String>> {
    Ok(
        sqlx::query("SELECT hash FROM audit_log WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1")
            .fetch_optional(conn)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?,
    )
}
