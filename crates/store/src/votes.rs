//! Votes of an online round (issue 19), written in batches: one transaction for every
//! vote waiting (group commit: one fsync acknowledges them all), each vote in a savepoint
//! of its own so one a limit refuses does not sink the others.
//!
//! The limits hold by the database, never by a read then a write: each limit of
//! `pingxuan_rules::vote::claims` is a set of numbered slots under the primary key of
//! `vote_slots`, and a vote inserts the next slot number or nothing (`ON CONFLICT DO
//! NOTHING`). Two servers racing for the last slot insert the same number; the second
//! waits on the first's transaction and then inserts nothing, and is refused.

use std::collections::BTreeMap;

use pingxuan_rules::campaign::VoteRules;
use pingxuan_rules::vote::{self, Claim};
use sqlx::{Any, Row, Transaction};

use crate::{Backend, Result, Store, StoreError};

/// Votes by (group key, candidate).
pub type Counts = BTreeMap<(String, i64), i64>;

/// A vote to store.
#[derive(Debug, Clone)]
pub struct NewVote {
    pub campaign_id: String,
    pub stage_key: String,
    pub group_key: String,
    /// `p:{vote_voters.id}` for a verified phone, `e:{users.id}` for an expert.
    pub voter: String,
    pub candidate: i64,
    /// Made by the caller (random, nothing of the voter in it).
    pub receipt: String,
    /// The client's key for this vote: a repeat returns the first receipt.
    pub idempotency: Option<String>,
    pub client_ip: String,
    /// The client's /24 (IPv4) or /64 (IPv6).
    pub client_net: String,
    pub share: String,
    /// Hash of the first-party device cookie.
    pub device: String,
    pub user_agent: String,
}

/// What became of one vote of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cast {
    /// On disk: the receipt and the voting day (Beijing) it counted on.
    Stored { receipt: String, day: String },
    /// The idempotency key was seen before: the first vote's receipt.
    Repeated { receipt: String },
    /// Refused by the window or a limit; nothing of it was written.
    Refused { code: &'static str, message: String },
}

/// Which clock decides a vote's time and day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The database's (PostgreSQL's `now()` at the batch's start; SQLite's host clock),
    /// so servers with drifting clocks agree on one PostgreSQL.
    Database,
    /// A fixed instant (Unix seconds), for tests of the day's turn.
    Fixed(i64),
}

impl Store {
    /// Stores `votes` of one round under `rules` in one transaction; the answers in the
    /// same order. Nothing is acknowledged before the commit. When PostgreSQL picks this
    /// batch as a deadlock's victim (two servers taking two voters' slots in opposite
    /// orders), the batch is rolled back whole and each vote is tried again alone.
    pub async fn cast_votes(
        &self,
        rules: &VoteRules,
        votes: &[NewVote],
        clock: Clock,
    ) -> Result<Vec<Cast>> {
        match self.cast_batch(rules, votes, clock).await {
            Err(StoreError::Db(e)) if votes.len() > 1 && retryable(&e) => {
                let mut out = Vec::with_capacity(votes.len());
                for v in votes {
                    out.extend(self.cast_alone(rules, v, clock).await?);
                }
                Ok(out)
            }
            other => other,
        }
    }

    async fn cast_alone(&self, rules: &VoteRules, v: &NewVote, clock: Clock) -> Result<Vec<Cast>> {
        let mut tries = 0;
        loop {
            match self.cast_batch(rules, std::slice::from_ref(v), clock).await {
                Err(StoreError::Db(e)) if retryable(&e) && tries < 5 => tries += 1,
                other => return other,
            }
        }
    }

    async fn cast_batch(
        &self,
        rules: &VoteRules,
        votes: &[NewVote],
        clock: Clock,
    ) -> Result<Vec<Cast>> {
        let mut tx = self.begin_write().await?;
        let now = match clock {
            Clock::Fixed(t) => t,
            Clock::Database => match self.backend {
                Backend::Postgres => {
                    sqlx::query("SELECT CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)")
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get::<i64, _>(0)?
                }
                Backend::Sqlite => crate::now(),
            },
        };
        let day = vote::day(now).to_string();
        let mut out = Vec::with_capacity(votes.len());
        // Tallies go in at the end, in one order, so two batches never wait on each
        // other's tally rows crosswise.
        let mut tallies: BTreeMap<(&str, &str, &str, i64), i64> = BTreeMap::new();
        for v in votes {
            if let Err(r) = vote::window(rules, now) {
                out.push(Cast::Refused {
                    code: r.code,
                    message: r.message,
                });
                continue;
            }
            sqlx::query("SAVEPOINT vote").execute(&mut *tx).await?;
            let cast = self.cast_one(&mut tx, rules, v, now, &day).await;
            match cast {
                Ok(c @ Cast::Stored { .. }) => {
                    sqlx::query("RELEASE SAVEPOINT vote")
                        .execute(&mut *tx)
                        .await?;
                    *tallies
                        .entry((&v.campaign_id, &v.stage_key, &v.group_key, v.candidate))
                        .or_default() += 1;
                    out.push(c);
                }
                Ok(c) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT vote")
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("RELEASE SAVEPOINT vote")
                        .execute(&mut *tx)
                        .await?;
                    out.push(c);
                }
                // The same idempotency key stored meanwhile by another server's batch:
                // its receipt is the answer.
                Err(StoreError::Db(sqlx::Error::Database(d))) if d.is_unique_violation() => {
                    sqlx::query("ROLLBACK TO SAVEPOINT vote")
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("RELEASE SAVEPOINT vote")
                        .execute(&mut *tx)
                        .await?;
                    match self.repeated(&mut tx, v).await? {
                        Some(receipt) => out.push(Cast::Repeated { receipt }),
                        None => {
                            return Err(StoreError::Other(format!(
                                "vote {} refused by a unique key: {}",
                                v.receipt,
                                d.message()
                            )));
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        for ((campaign, stage, group, candidate), n) in tallies {
            sqlx::query(
                "INSERT INTO vote_tallies (campaign_id, stage_key, group_key, candidate, votes) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (campaign_id, stage_key, group_key, candidate) \
                 DO UPDATE SET votes = vote_tallies.votes + $5",
            )
            .bind(campaign)
            .bind(stage)
            .bind(group)
            .bind(candidate)
            .bind(n)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// One vote inside its savepoint: the row, then a slot of every limit. A refusal
    /// comes back as `Ok(Refused)` for the caller to roll the savepoint back.
    async fn cast_one(
        &self,
        tx: &mut Transaction<'static, Any>,
        rules: &VoteRules,
        v: &NewVote,
        now: i64,
        day: &str,
    ) -> Result<Cast> {
        if let Some(receipt) = self.repeated(tx, v).await? {
            return Ok(Cast::Repeated { receipt });
        }
        let id: i64 = sqlx::query(
            "INSERT INTO votes (campaign_id, stage_key, group_key, voter, candidate, day, \
             cast_at, receipt, idempotency, client_ip, client_net, share, device, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(&v.campaign_id)
        .bind(&v.stage_key)
        .bind(&v.group_key)
        .bind(&v.voter)
        .bind(v.candidate)
        .bind(day)
        .bind(now)
        .bind(&v.receipt)
        .bind(&v.idempotency)
        .bind(&v.client_ip)
        .bind(&v.client_net)
        .bind(&v.share)
        .bind(&v.device)
        .bind(&v.user_agent)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
        let date = vote::day(now);
        for claim in vote::claims(rules, v.candidate, date) {
            if !self.take_slot(tx, v, &claim, id).await? {
                return Ok(Cast::Refused {
                    code: claim.code,
                    message: claim.refusal,
                });
            }
        }
        Ok(Cast::Stored {
            receipt: v.receipt.clone(),
            day: day.to_owned(),
        })
    }

    /// The first receipt of a vote with the same idempotency key, if any.
    async fn repeated(
        &self,
        tx: &mut Transaction<'static, Any>,
        v: &NewVote,
    ) -> Result<Option<String>> {
        let Some(key) = &v.idempotency else {
            return Ok(None);
        };
        Ok(sqlx::query(
            "SELECT receipt FROM votes WHERE campaign_id = $1 AND stage_key = $2 \
             AND voter = $3 AND idempotency = $4",
        )
        .bind(&v.campaign_id)
        .bind(&v.stage_key)
        .bind(&v.voter)
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.get(0)))
    }

    /// Takes the next slot of `claim` for the voter; `false` when all `cap` are taken.
    async fn take_slot(
        &self,
        tx: &mut Transaction<'static, Any>,
        v: &NewVote,
        claim: &Claim,
        vote_id: i64,
    ) -> Result<bool> {
        if let Some(period) = &claim.pick {
            // A candidate already chosen in the period takes no further place.
            let new = sqlx::query(
                "INSERT INTO vote_picks (campaign_id, stage_key, voter, period, candidate) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(&v.campaign_id)
            .bind(&v.stage_key)
            .bind(&v.voter)
            .bind(period)
            .bind(v.candidate)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if new == 0 {
                return Ok(true);
            }
        }
        loop {
            // The next number, or nothing when the limit is reached; a number another
            // transaction took first conflicts (after waiting for it) and inserts nothing.
            let taken = sqlx::query(
                "INSERT INTO vote_slots (campaign_id, stage_key, voter, scope, slot, vote_id) \
                 SELECT $1, $2, $3, $4, n, $5 FROM (SELECT COALESCE(MAX(slot) + 1, 0) AS n \
                 FROM vote_slots WHERE campaign_id = $1 AND stage_key = $2 AND voter = $3 \
                 AND scope = $4) AS next WHERE n < $6 ON CONFLICT DO NOTHING",
            )
            .bind(&v.campaign_id)
            .bind(&v.stage_key)
            .bind(&v.voter)
            .bind(&claim.scope)
            .bind(vote_id)
            .bind(i64::from(claim.cap))
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if taken == 1 {
                return Ok(true);
            }
            let used: i64 = sqlx::query(
                "SELECT COUNT(*) FROM vote_slots WHERE campaign_id = $1 AND stage_key = $2 \
                 AND voter = $3 AND scope = $4",
            )
            .bind(&v.campaign_id)
            .bind(&v.stage_key)
            .bind(&v.voter)
            .bind(&claim.scope)
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?;
            if used >= i64::from(claim.cap) {
                return Ok(false);
            }
        }
    }

    /// The live counts of a round, by (group, candidate).
    pub async fn vote_tallies(&self, campaign_id: &str, stage_key: &str) -> Result<Counts> {
        self.counts(
            "SELECT group_key, candidate, votes FROM vote_tallies \
             WHERE campaign_id = $1 AND stage_key = $2",
            campaign_id,
            stage_key,
        )
        .await
    }

    /// The votes of a round counted from the votes themselves (the freeze's count, and the
    /// check of the live counts).
    pub async fn count_votes(&self, campaign_id: &str, stage_key: &str) -> Result<Counts> {
        self.counts(
            "SELECT group_key, candidate, COUNT(*) FROM votes \
             WHERE campaign_id = $1 AND stage_key = $2 GROUP BY group_key, candidate",
            campaign_id,
            stage_key,
        )
        .await
    }

    async fn counts(
        &self,
        sql: &'static str,
        campaign_id: &str,
        stage_key: &str,
    ) -> Result<Counts> {
        let rows = sqlx::query(sql)
            .bind(campaign_id)
            .bind(stage_key)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| ((r.get(0), r.get(1)), r.get(2)))
            .collect())
    }

    /// Whether a receipt was issued in the round, and for which candidate.
    pub async fn vote_by_receipt(&self, receipt: &str) -> Result<Option<(String, String, i64)>> {
        Ok(
            sqlx::query("SELECT campaign_id, stage_key, candidate FROM votes WHERE receipt = $1")
                .bind(receipt)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| (r.get(0), r.get(1), r.get(2))),
        )
    }
}

/// A PostgreSQL deadlock or serialization failure: nothing of the transaction stands and
/// it can be tried again.
fn retryable(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40P01" | "40001")))
}
