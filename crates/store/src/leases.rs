//! Leases for background work shared by several servers on one database. A worker holds
//! a lease (its owner name and an expiry) while it works and renews it; another server
//! takes the work over only after the lease has lapsed. On PostgreSQL the claims skip rows
//! another transaction holds (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time,
//! so the same single statement is already atomic there.

use crate::{Backend, Result, Store, now};

/// A worker's name in leases: unique per server process.
pub fn owner_name() -> String {
    format!("{}-{:08x}", std::process::id(), rand::random::<u32>())
}

impl Store {
    /// `FOR UPDATE SKIP LOCKED` where the backend has it (a claim's inner select).
    pub(crate) fn skip_locked(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }

    /// Takes or renews the named lease for `secs` seconds; false while another owner
    /// holds it. A periodic sweep runs only where this answers true.
    pub async fn try_lease(&self, name: &str, owner: &str, secs: i64) -> Result<bool> {
        let t = now();
        let n = sqlx::query(
            "INSERT INTO leases (name, owner, until_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until_at = excluded.until_at \
             WHERE leases.until_at < $4 OR leases.owner = excluded.owner",
        )
        .bind(name)
        .bind(owner)
        .bind(t + secs)
        .bind(t)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Gives the named lease back (only its owner's): the next may take it at once.
    pub async fn release_lease(&self, name: &str, owner: &str) -> Result<()> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND owner = $2")
            .bind(name)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
