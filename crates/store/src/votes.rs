//! Votes of an online round (issue 19), written in batches: one transaction for every
//! vote waiting (group commit: one fsync acknowledges them all). No statement of a vote
//! can fail on a key (each insert is `ON CONFLICT DO NOTHING`), so no savepoint is needed:
//! a vote a limit refuses takes back its own rows in the batch's transaction, and the
//! others stand (two statements a vote fewer than a savepoint and its release).
//!
//! The limits hold by the database, never by a read then a write: each limit of
//! `pingxuan_rules::vote::claims` is a set of numbered slots under the primary key of
//! `vote_slots`, and a vote inserts the next slot number or nothing (`ON CONFLICT DO
//! NOTHING`). Two servers racing for the last slot insert the same number; the second
//! waits on the first's transaction and then inserts nothing, and is refused.

use std::collections::{BTreeMap, HashSet};

use pingxuan_rules::campaign::VoteRules;
use pingxuan_rules::vote::slots::{self, Ask, Held, Plan};
use pingxuan_rules::vote::{self, Claim};
use sqlx::{Any, Row, Transaction};

use crate::audit::Audit;
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
    /// Hash of the browser's traits with the user agent.
    pub traits: String,
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

/// The rules a batch of votes is cast under.
#[derive(Debug, Clone, Copy)]
enum RulesOf<'a> {
    /// As given (the store's tests, the bench of the store).
    Given(&'a VoteRules),
    /// The round's as its campaign stands when the batch's transaction begins: its
    /// revision read in the statement that checks the freeze, the model from the cache.
    Stored,
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
        self.cast_under(RulesOf::Given(rules), votes, clock).await
    }

    /// `cast_votes` under the round's rules as its campaign stands in the batch's own
    /// transaction (a change of the window or a limit counts from the next batch), read
    /// with the freeze's check: no statement of its own, no second connection.
    pub async fn cast_round_votes(&self, votes: &[NewVote], clock: Clock) -> Result<Vec<Cast>> {
        self.cast_under(RulesOf::Stored, votes, clock).await
    }

    async fn cast_under(
        &self,
        rules: RulesOf<'_>,
        votes: &[NewVote],
        clock: Clock,
    ) -> Result<Vec<Cast>> {
        match self.cast_batch(rules, votes, clock).await {
            // Whatever sank the batch (a deadlock, one vote's fault), nothing of it stands:
            // each vote is tried alone, so one cannot fail the others.
            Err(e) if votes.len() > 1 => {
                tracing::warn!(error = %e, votes = votes.len(), "vote batch retried vote by vote");
                let mut out = Vec::with_capacity(votes.len());
                for v in votes {
                    // One vote's failure is that vote's answer: the others stand as written.
                    match self.cast_alone(rules, v, clock).await {
                        Ok(mut one) => out.push(one.remove(0)),
                        Err(e) => {
                            tracing::error!(error = %e, receipt = %v.receipt, "a vote not stored");
                            out.push(Cast::Refused {
                                code: "vote_not_stored",
                                message: "系统繁忙，这一票未能保存，请稍后重试".to_owned(),
                            });
                        }
                    }
                }
                Ok(out)
            }
            Err(StoreError::Db(e)) if retryable(&e) => {
                self.cast_alone(rules, &votes[0], clock).await
            }
            other => other,
        }
    }

    /// One vote in a transaction of its own, tried again while PostgreSQL picks it as a
    /// deadlock's victim (at most five times).
    async fn cast_alone(&self, rules: RulesOf<'_>, v: &NewVote, clock: Clock) -> Result<Vec<Cast>> {
        let mut tries = 0;
        loop {
            match self.cast_batch(rules, std::slice::from_ref(v), clock).await {
                Err(StoreError::Db(e)) if retryable(&e) && tries < 5 => tries += 1,
                other => return other,
            }
        }
    }

    /// A transaction for votes of a round: its instant by the clock, and on PostgreSQL
    /// the round's advisory lock shared, so a freeze (which takes it alone) waits for the
    /// batches under way and every batch after it — queued behind the freeze, not ahead of
    /// it — sees the frozen result; other moves of the campaign never wait on votes.
    /// SQLite's write lock orders them the same way. The refusal when the round is frozen.
    async fn begin_votes(
        &self,
        rules: RulesOf<'_>,
        campaign_id: &str,
        stage_key: &str,
        clock: Clock,
    ) -> Result<std::result::Result<(Transaction<'static, Any>, i64, VoteRules), Cast>> {
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
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock_shared($1)")
                .bind(round_lock(campaign_id, stage_key))
                .execute(&mut *tx)
                .await?;
        }
        // The freeze and the campaign's revision in one statement: a batch's statements
        // are its fixed cost, and on SQLite each waits for the connection's thread.
        let r = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM vote_results WHERE campaign_id = $1 \
             AND stage_key = $2), (SELECT revision FROM campaigns WHERE id = $1)",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .fetch_one(&mut *tx)
        .await?;
        let (frozen, revision): (i64, Option<i64>) = (r.try_get(0)?, r.try_get(1)?);
        let rules = match (rules, revision) {
            (RulesOf::Given(rules), _) => rules.clone(),
            (RulesOf::Stored, Some(revision)) => self
                .model_at(&mut tx, campaign_id, revision)
                .await?
                .and_then(|c| {
                    c.stages
                        .iter()
                        .find(|s| s.key == stage_key)
                        .and_then(|s| s.vote.clone())
                })
                .unwrap_or_default(),
            (RulesOf::Stored, None) => VoteRules::default(),
        };
        // Outside the window nothing is written.
        if let Err(r) = vote::window(&rules, now) {
            tx.rollback().await?;
            return Ok(Err(Cast::Refused {
                code: r.code,
                message: r.message,
            }));
        }
        if frozen > 0 {
            tx.rollback().await?;
            return Ok(Err(Cast::Refused {
                code: "vote_closed",
                message: "本轮投票已结束，结果已冻结".to_owned(),
            }));
        }
        Ok(Ok((tx, now, rules)))
    }

    /// An expert's ballot of the 专业组: within the window, once (the ballot's key), its
    /// votes — one per candidate with its receipt, voter `e:{expert}` — and their counts in
    /// the same transaction. `Ok(None)` when stored; else the refusal.
    #[allow(clippy::too_many_arguments)]
    pub async fn cast_ballot(
        &self,
        rules: &VoteRules,
        campaign_id: &str,
        stage_key: &str,
        group_key: &str,
        expert_id: i64,
        chosen: &[(i64, String)],
        clock: Clock,
    ) -> Result<Option<Cast>> {
        let (mut tx, now, _) = match self
            .begin_votes(RulesOf::Given(rules), campaign_id, stage_key, clock)
            .await?
        {
            Ok(open) => open,
            Err(refused) => return Ok(Some(refused)),
        };
        let ids: Vec<i64> = chosen.iter().map(|(id, _)| *id).collect();
        let first = sqlx::query(
            "INSERT INTO vote_ballots (campaign_id, stage_key, expert_id, candidates, submitted_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .bind(expert_id)
        .bind(serde_json::to_string(&ids).expect("ids as JSON"))
        .bind(now)
        .execute(&mut *tx)
        .await;
        match first {
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                tx.rollback().await?;
                return Ok(Some(Cast::Refused {
                    code: "ballot_submitted",
                    message: "您的专业组投票已提交，不能更改".to_owned(),
                }));
            }
            other => {
                other?;
            }
        }
        let day = vote::day(now).to_string();
        let voter = format!("e:{expert_id}");
        for (candidate, receipt) in chosen {
            sqlx::query(
                "INSERT INTO votes (campaign_id, stage_key, group_key, voter, candidate, day, \
                 cast_at, receipt, idempotency, client_ip, client_net, share, device, user_agent) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, '', '', '', '', '')",
            )
            .bind(campaign_id)
            .bind(stage_key)
            .bind(group_key)
            .bind(&voter)
            .bind(candidate)
            .bind(&day)
            .bind(now)
            .bind(receipt)
            .execute(&mut *tx)
            .await?;
        }
        let mut adds: Adds = BTreeMap::new();
        for (candidate, _) in chosen {
            *adds
                .entry((campaign_id, stage_key, group_key, *candidate))
                .or_default() += 1;
        }
        add_tallies(&mut tx, &adds).await?;
        tx.commit().await?;
        Ok(None)
    }

    /// The candidates of an expert's submitted ballot, if any.
    pub async fn ballot_of(
        &self,
        campaign_id: &str,
        stage_key: &str,
        expert_id: i64,
    ) -> Result<Option<Vec<i64>>> {
        let Some(r) = sqlx::query(
            "SELECT candidates FROM vote_ballots WHERE campaign_id = $1 AND stage_key = $2 \
             AND expert_id = $3",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .bind(expert_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        serde_json::from_str(&r.get::<String, _>(0))
            .map(Some)
            .map_err(|e| StoreError::Other(format!("ballot: {e}")))
    }

    /// A batch in a handful of statements whatever its size (each statement of SQLite's
    /// one writer crosses to its thread and back): the rows in one insert, the slots the
    /// voters already hold read in one, the plan of `rules::vote::slots` over them, the
    /// slots and picks it takes written in one insert each under their unique keys, the
    /// refused votes' rows deleted in one. A slot or pick that did not insert (another
    /// server's batch took it meanwhile) sends that voter's votes of the batch back to
    /// the slot-by-slot path; a row that did not insert (a repeated idempotency key) is
    /// answered by the path of one vote.
    async fn cast_batch(
        &self,
        rules: RulesOf<'_>,
        votes: &[NewVote],
        clock: Clock,
    ) -> Result<Vec<Cast>> {
        let Some(first) = votes.first() else {
            return Ok(Vec::new());
        };
        let (campaign, stage) = (first.campaign_id.as_str(), first.stage_key.as_str());
        if votes
            .iter()
            .any(|v| v.campaign_id != campaign || v.stage_key != stage)
        {
            return Err(StoreError::Other("a vote batch spans rounds".to_owned()));
        }
        // Where a batch's time goes, step by step, for the benchmark's reading (debug).
        let mut steps = Steps::new();
        let (mut tx, now, rules) = match self.begin_votes(rules, campaign, stage, clock).await? {
            Ok(open) => open,
            Err(refused) => return Ok(votes.iter().map(|_| refused.clone()).collect()),
        };
        let rules = &rules;
        steps.mark();
        let date = vote::day(now);
        let day = date.to_string();
        let mut out: Vec<Option<Cast>> = votes.iter().map(|_| None).collect();
        // The votes by voter (a voter's own in the order they came): batches take the
        // rows of different voters in one order, so two servers' batches do not wait on
        // each other crosswise over two voters. Over one voter's rows (a candidate's slot,
        // then the day's) they still may: PostgreSQL then picks a victim, retried above.
        // One server never has two batches of one voter under way (`Ballots`' lanes).
        let mut order: Vec<usize> = (0..votes.len()).collect();
        order.sort_by(|&a, &b| votes[a].voter.cmp(&votes[b].voter));
        let ids = insert_votes(&mut tx, votes, &order, now, &day).await?;
        steps.mark();
        let placed: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| ids[i].is_some())
            .collect();
        let claims: Vec<Vec<Claim>> = placed
            .iter()
            .map(|&i| vote::claims(rules, votes[i].candidate, date))
            .collect();
        let asks: Vec<Ask<'_>> = placed
            .iter()
            .zip(&claims)
            .map(|(&i, claims)| Ask {
                voter: &votes[i].voter,
                candidate: votes[i].candidate,
                claims,
            })
            .collect();
        let held = read_held(&mut tx, campaign, stage, &asks).await?;
        steps.mark();
        let plans = slots::plan(&asks, &held);
        let rows: Vec<Planned<'_>> = placed
            .iter()
            .zip(&plans)
            .map(|(&i, p)| {
                let v = &votes[i];
                (v.voter.as_str(), v.candidate, ids[i].expect("placed"), p)
            })
            .collect();
        let written = write_plan(&mut tx, campaign, stage, &rows).await?;
        steps.mark();
        let mut refused = Vec::new();
        let mut contested = Vec::new();
        for (k, &i) in placed.iter().enumerate() {
            let id = ids[i].expect("placed");
            if written.contested.contains(votes[i].voter.as_str()) {
                contested.push((i, id));
                continue;
            }
            out[i] = Some(match &plans[k] {
                Plan::Takes { .. } => Cast::Stored {
                    receipt: votes[i].receipt.clone(),
                    day: day.clone(),
                },
                Plan::Refused { code, message } => {
                    refused.push(id);
                    Cast::Refused {
                        code,
                        message: message.clone(),
                    }
                }
            });
        }
        delete_votes(&mut tx, &refused).await?;
        if !contested.is_empty() {
            // What the plan wrote for them goes, then each takes its slots one by one.
            tracing::debug!(
                votes = contested.len(),
                "vote slots contested, taken one by one"
            );
            let theirs: Vec<i64> = contested.iter().map(|&(_, id)| id).collect();
            undo_plan(&mut tx, campaign, stage, &theirs, &written).await?;
            for (i, id) in contested {
                out[i] = Some(
                    self.claim_slots(&mut tx, rules, &votes[i], id, date, &day)
                        .await?,
                );
            }
        }
        for &i in &order {
            if ids[i].is_none() {
                out[i] = Some(self.cast_one(&mut tx, rules, &votes[i], now, &day).await?);
            }
        }
        // Tallies go in at the end, in one order, so two batches never wait on each
        // other's tally rows crosswise.
        let mut tallies: Adds = BTreeMap::new();
        for (v, c) in votes.iter().zip(&out) {
            if matches!(c, Some(Cast::Stored { .. })) {
                *tallies
                    .entry((&v.campaign_id, &v.stage_key, &v.group_key, v.candidate))
                    .or_default() += 1;
            }
        }
        steps.mark();
        add_tallies(&mut tx, &tallies).await?;
        steps.mark();
        tx.commit().await?;
        steps.mark();
        steps.log(votes.len());
        Ok(out
            .into_iter()
            .map(|c| c.expect("every vote of the batch answered"))
            .collect())
    }

    /// One vote: the row, then a slot of every limit. When a limit refuses,
    /// what the vote took (its slots, the picks it made, its row) is deleted again in the
    /// same transaction — never committed, so as if never written. A repeated idempotency
    /// key is not looked up first: the row's unique key inserts nothing, and the answer
    /// is the first receipt (one statement less per vote).
    async fn cast_one(
        &self,
        tx: &mut Transaction<'static, Any>,
        rules: &VoteRules,
        v: &NewVote,
        now: i64,
        day: &str,
    ) -> Result<Cast> {
        let inserted = insert_votes(tx, std::slice::from_ref(v), &[0], now, day).await?[0];
        let id: i64 = match inserted {
            Some(id) => id,
            // The same idempotency key stored before (or meanwhile by another server's
            // batch): its receipt is the answer.
            None => {
                return self.repeated(tx, v).await?.ok_or_else(|| {
                    StoreError::Other(format!("vote {} refused by a unique key", v.receipt))
                });
            }
        };
        self.claim_slots(tx, rules, v, id, vote::day(now), day)
            .await
    }

    /// The slots of every limit for a stored row `id`, one statement at a time; when a
    /// limit refuses, what the vote took and its row are deleted again.
    async fn claim_slots(
        &self,
        tx: &mut Transaction<'static, Any>,
        rules: &VoteRules,
        v: &NewVote,
        id: i64,
        date: time::Date,
        day: &str,
    ) -> Result<Cast> {
        let mut took: Vec<Took> = Vec::new();
        for claim in vote::claims(rules, v.candidate, date) {
            match self.take_slot(tx, v, &claim, id).await? {
                Slot::Taken(t) => took.push(t),
                Slot::Full(t) => {
                    took.push(t);
                    self.take_back(tx, v, id, &took).await?;
                    return Ok(Cast::Refused {
                        code: claim.code,
                        message: claim.refusal,
                    });
                }
            }
        }
        Ok(Cast::Stored {
            receipt: v.receipt.clone(),
            day: day.to_owned(),
        })
    }

    /// The answer to a vote whose idempotency key was seen before: the first receipt, or a
    /// refusal when the key was used for another candidate.
    async fn repeated(
        &self,
        tx: &mut Transaction<'static, Any>,
        v: &NewVote,
    ) -> Result<Option<Cast>> {
        let Some(key) = &v.idempotency else {
            return Ok(None);
        };
        let first = sqlx::query(
            "SELECT receipt, candidate FROM votes WHERE campaign_id = $1 AND stage_key = $2 \
             AND voter = $3 AND idempotency = $4",
        )
        .bind(&v.campaign_id)
        .bind(&v.stage_key)
        .bind(&v.voter)
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(first.map(|r| {
            if r.get::<i64, _>(1) == v.candidate {
                Cast::Repeated { receipt: r.get(0) }
            } else {
                Cast::Refused {
                    code: "idempotency_reused",
                    message: "这一票与您之前的一次投票重复，请刷新页面后重新投票".to_owned(),
                }
            }
        }))
    }

    /// Deletes what a refused vote wrote in the batch's transaction — the slots it took and
    /// the picks it made, each by its key, then its row (children before the row they name).
    async fn take_back(
        &self,
        tx: &mut Transaction<'static, Any>,
        v: &NewVote,
        vote_id: i64,
        took: &[Took],
    ) -> Result<()> {
        for t in took {
            if let Some(scope) = &t.scope {
                sqlx::query(
                    "DELETE FROM vote_slots WHERE campaign_id = $1 AND stage_key = $2 \
                     AND voter = $3 AND scope = $4 AND vote_id = $5",
                )
                .bind(&v.campaign_id)
                .bind(&v.stage_key)
                .bind(&v.voter)
                .bind(scope)
                .bind(vote_id)
                .execute(&mut **tx)
                .await?;
            }
            if let Some(period) = &t.pick {
                sqlx::query(
                    "DELETE FROM vote_picks WHERE campaign_id = $1 AND stage_key = $2 \
                     AND voter = $3 AND period = $4 AND candidate = $5",
                )
                .bind(&v.campaign_id)
                .bind(&v.stage_key)
                .bind(&v.voter)
                .bind(period)
                .bind(v.candidate)
                .execute(&mut **tx)
                .await?;
            }
        }
        sqlx::query("DELETE FROM votes WHERE id = $1")
            .bind(vote_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Takes the next slot of `claim` for the voter, or finds all `cap` taken.
    async fn take_slot(
        &self,
        tx: &mut Transaction<'static, Any>,
        v: &NewVote,
        claim: &Claim,
        vote_id: i64,
    ) -> Result<Slot> {
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
                return Ok(Slot::Taken(Took::default()));
            }
        }
        let pick = claim.pick.clone();
        let mut tries = 0;
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
                return Ok(Slot::Taken(Took {
                    scope: Some(claim.scope.clone()),
                    pick,
                }));
            }
            // Full when the next number is past the cap (the same test as the insert's);
            // else another transaction took the number first: try the next, a few times.
            let next: i64 = sqlx::query(
                "SELECT COALESCE(MAX(slot) + 1, 0) FROM vote_slots WHERE campaign_id = $1 \
                 AND stage_key = $2 AND voter = $3 AND scope = $4",
            )
            .bind(&v.campaign_id)
            .bind(&v.stage_key)
            .bind(&v.voter)
            .bind(&claim.scope)
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?;
            if next >= i64::from(claim.cap) {
                return Ok(Slot::Full(Took { scope: None, pick }));
            }
            tries += 1;
            if tries > 8 {
                return Err(StoreError::Other(format!(
                    "slot {} of voter {} still contended after 8 tries",
                    claim.scope, v.voter
                )));
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

    /// Every vote of a round counted from the votes themselves, those set aside too (the
    /// tests' check of what was stored; the freeze counts the valid and the set aside
    /// apart).
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

/// A round's count as frozen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frozen {
    /// The valid votes.
    pub counts: Counts,
    /// The votes the office set aside (issue 20), by the same keys.
    pub invalid: Counts,
    pub frozen_at: i64,
    /// SHA-256 of the counts as stored (JSON `[[group, candidate, votes], …]`).
    pub digest: String,
    /// Whether the live counts agreed with the count from the votes.
    pub live_matched: bool,
    /// The Merkle root over the valid votes (`rules::vote::merkle`), hex, and the votes
    /// under it; `None` for a round frozen before roots were kept.
    pub root: Option<String>,
    pub valid_votes: Option<i64>,
}

fn counts_json(counts: &Counts) -> String {
    let rows: Vec<(&str, i64, i64)> = counts
        .iter()
        .map(|((g, c), n)| (g.as_str(), *c, *n))
        .collect();
    serde_json::to_string(&rows).expect("counts as JSON")
}

impl Store {
    /// Freezes a round: inside the campaign's selection lock its votes are counted from
    /// the votes, checked against the live counts read in the same transaction, kept once
    /// with their digest, the stage closed as its event `after + 1`, and the audit entry
    /// `audit` makes of the result written — one transaction. A second freeze, or any
    /// stage move meanwhile, is `Stale`.
    pub async fn freeze_votes(
        &self,
        campaign_id: &str,
        stage_key: &str,
        after: i64,
        actor: Option<i64>,
        audit: impl FnOnce(&Frozen) -> Audit,
    ) -> Result<Frozen> {
        use sha2::{Digest, Sha256};
        let t = crate::now();
        let mut tx = crate::stages::locked(self, campaign_id).await?;
        if self.backend == Backend::Postgres {
            // Waits for the batches under way; those after it queue behind it and then
            // see the frozen result. The review lock as well: no scan or decision lands
            // beside the count.
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(round_lock(campaign_id, stage_key))
                .execute(&mut *tx)
                .await?;
            review_lock(&mut tx, self.backend, campaign_id, stage_key).await?;
        }
        // A candidate whose every vote was set aside keeps a row at zero; the count from
        // the votes has none.
        let live: Counts = sqlx::query(
            "SELECT group_key, candidate, votes FROM vote_tallies \
             WHERE campaign_id = $1 AND stage_key = $2 AND votes <> 0",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect();
        // Nothing is frozen while a cluster of suspect votes is undecided (the use case
        // says so first; this holds it against a scan meanwhile).
        let undecided: i64 = sqlx::query(
            "SELECT COUNT(*) FROM vote_clusters WHERE campaign_id = $1 AND stage_key = $2 \
             AND decided_at IS NULL",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        if undecided > 0 {
            tx.rollback().await?;
            return Err(StoreError::Stale);
        }
        let count = |void: &'static str| {
            format!(
                "SELECT v.group_key, v.candidate, COUNT(*) FROM votes v \
                 WHERE v.campaign_id = $1 AND v.stage_key = $2 \
                 AND {void} (SELECT 1 FROM vote_voids d WHERE d.vote_id = v.id) \
                 GROUP BY v.group_key, v.candidate"
            )
        };
        let mut counted = Vec::new();
        for void in ["NOT EXISTS", "EXISTS"] {
            let rows = sqlx::query(sqlx::AssertSqlSafe(count(void)))
                .bind(campaign_id)
                .bind(stage_key)
                .fetch_all(&mut *tx)
                .await?;
            counted.push(
                rows.iter()
                    .map(|r| ((r.get(0), r.get(1)), r.get(2)))
                    .collect::<Counts>(),
            );
        }
        let invalid = counted.pop().expect("two counts");
        let counts = counted.pop().expect("two counts");
        // The valid votes as leaves, in the tree's order (sorted here, not by the
        // database's collation).
        let mut leaves = valid_leaves(&mut *tx, campaign_id, stage_key).await?;
        let root =
            tokio::task::spawn_blocking(move || vote::merkle::Tree::of_votes(&mut leaves).root())
                .await
                .map_err(|e| StoreError::Other(format!("the count's tree: {e}")))?;
        let json = counts_json(&counts);
        let frozen = Frozen {
            digest: hex::encode(Sha256::digest(json.as_bytes())),
            live_matched: counts == live,
            counts,
            invalid,
            frozen_at: t,
            root: Some(root.hex()),
            valid_votes: Some(root.count as i64),
        };
        sqlx::query(
            "INSERT INTO vote_results (campaign_id, stage_key, frozen_at, frozen_by, counts, \
             digest, live_matched, invalid_counts, merkle_root, valid_votes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .bind(t)
        .bind(actor)
        .bind(&json)
        .bind(&frozen.digest)
        .bind(i64::from(frozen.live_matched))
        .bind(counts_json(&frozen.invalid))
        .bind(&frozen.root)
        .bind(frozen.valid_votes)
        .execute(&mut *tx)
        .await
        .map_err(|e| match crate::unique_as("vote_results")(e) {
            StoreError::Duplicate(_) => StoreError::Stale,
            other => other,
        })?;
        crate::stages::insert_event(
            &mut tx,
            campaign_id,
            stage_key,
            after + 1,
            &pingxuan_rules::selection::stage::Event::Closed,
            actor,
            t,
        )
        .await?;
        self.append_audit(&mut tx, &audit(&frozen), t).await?;
        tx.commit().await?;
        Ok(frozen)
    }

    /// A round's frozen count, once frozen.
    pub async fn frozen_votes(&self, campaign_id: &str, stage_key: &str) -> Result<Option<Frozen>> {
        let Some(r) = sqlx::query(
            "SELECT counts, frozen_at, digest, live_matched, invalid_counts, merkle_root, \
             valid_votes FROM vote_results WHERE campaign_id = $1 AND stage_key = $2",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let read = |i: usize| -> Result<Counts> {
            let rows: Vec<(String, i64, i64)> = serde_json::from_str(&r.get::<String, _>(i))
                .map_err(|e| StoreError::Other(format!("frozen counts: {e}")))?;
            Ok(rows.into_iter().map(|(g, c, n)| ((g, c), n)).collect())
        };
        Ok(Some(Frozen {
            counts: read(0)?,
            invalid: read(4)?,
            frozen_at: r.get(1),
            digest: r.get(2),
            live_matched: r.get::<i64, _>(3) != 0,
            root: r.get(5),
            valid_votes: r.get(6),
        }))
    }
}

/// The key of a round's advisory lock on PostgreSQL: the first 8 bytes of SHA-256 of
/// its campaign and stage, the same on every server.
pub(crate) fn round_lock(campaign_id: &str, stage_key: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("vote-round:{campaign_id}:{stage_key}").as_bytes());
    i64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// The times of a vote batch's steps (begin with the frozen check, insert, read the held
/// slots, write the plan, the refused and contested, tallies, commit), logged at debug for
/// the benchmark: a batch's fixed cost is in the number of its statements.
struct Steps {
    last: Option<std::time::Instant>,
    micros: Vec<u64>,
}

impl Steps {
    fn new() -> Steps {
        Steps {
            last: tracing::enabled!(tracing::Level::DEBUG).then(std::time::Instant::now),
            micros: Vec::with_capacity(7),
        }
    }

    fn mark(&mut self) {
        if let Some(last) = self.last {
            let now = std::time::Instant::now();
            self.micros.push((now - last).as_micros() as u64);
            self.last = Some(now);
        }
    }

    fn log(&self, votes: usize) {
        if self.last.is_some() {
            tracing::debug!(votes, steps_us = ?self.micros, "vote batch steps");
        }
    }
}

/// Tallies to add: votes by (campaign, stage, group, candidate), in key order.
type Adds<'a> = BTreeMap<(&'a str, &'a str, &'a str, i64), i64>;

/// Adds the votes of `adds` to the live counts in one statement (a batch's forty
/// candidates were forty statements), its rows in key order so two batches never wait on
/// each other's tally rows crosswise.
async fn add_tallies(tx: &mut Transaction<'static, Any>, adds: &Adds<'_>) -> Result<()> {
    if adds.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO vote_tallies (campaign_id, stage_key, group_key, candidate, votes) \
         VALUES {} ON CONFLICT (campaign_id, stage_key, group_key, candidate) \
         DO UPDATE SET votes = vote_tallies.votes + excluded.votes",
        crate::Marks::on(tx).rows(adds.len(), 5)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (&(campaign, stage, group, candidate), &n) in adds {
        q = q
            .bind(campaign)
            .bind(stage)
            .bind(group)
            .bind(candidate)
            .bind(n);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// Rows of a statement: a batch's parameters stay well under SQLite's 32,766 and
/// PostgreSQL's 65,535.
const ROWS_A_STATEMENT: usize = 500;

/// Inserts a batch's rows in `order`, in statements of up to 500 rows; each vote's id,
/// or `None` where a unique key (a repeated idempotency key) inserted nothing.
async fn insert_votes(
    tx: &mut Transaction<'static, Any>,
    votes: &[NewVote],
    order: &[usize],
    now: i64,
    day: &str,
) -> Result<Vec<Option<i64>>> {
    let mut ids = vec![None; votes.len()];
    let mut by_receipt: std::collections::HashMap<&str, usize> = Default::default();
    for &i in order {
        by_receipt.entry(votes[i].receipt.as_str()).or_insert(i);
    }
    for chunk in order.chunks(ROWS_A_STATEMENT) {
        let sql = format!(
            "INSERT INTO votes (campaign_id, stage_key, day, cast_at, group_key, voter, \
             candidate, receipt, idempotency, client_ip, client_net, share, device, \
             user_agent, traits) VALUES {} ON CONFLICT DO NOTHING RETURNING id, receipt",
            crate::Marks::on(tx).rows(chunk.len(), 15)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for &i in chunk {
            let v = &votes[i];
            q = q
                .bind(&v.campaign_id)
                .bind(&v.stage_key)
                .bind(day)
                .bind(now)
                .bind(&v.group_key)
                .bind(&v.voter)
                .bind(v.candidate)
                .bind(&v.receipt)
                .bind(&v.idempotency)
                .bind(&v.client_ip)
                .bind(&v.client_net)
                .bind(&v.share)
                .bind(&v.device)
                .bind(&v.user_agent)
                .bind(&v.traits);
        }
        for r in q.fetch_all(&mut **tx).await? {
            let receipt: String = r.try_get(1)?;
            if let Some(&i) = by_receipt.get(receipt.as_str()) {
                ids[i] = Some(r.try_get(0)?);
            }
        }
    }
    Ok(ids)
}

/// What the round's voters of `asks` already hold: the next slot of each limit they
/// claim and the picks they could make, each key looked up by its primary key — in one
/// statement when the keys fit one (a batch's statements are its fixed cost).
async fn read_held(
    tx: &mut Transaction<'static, Any>,
    campaign_id: &str,
    stage_key: &str,
    asks: &[Ask<'_>],
) -> Result<Held> {
    let (slot_keys, pick_keys) = slots::keys(asks);
    // Each statement: some slot keys and some pick keys.
    let statements: Vec<(&[slots::SlotKey], &[slots::PickKey])> =
        if slot_keys.len() <= ROWS_A_STATEMENT && pick_keys.len() <= ROWS_A_STATEMENT {
            vec![(&slot_keys[..], &pick_keys[..])]
        } else {
            slot_keys
                .chunks(ROWS_A_STATEMENT)
                .map(|c| (c, &[][..]))
                .chain(pick_keys.chunks(ROWS_A_STATEMENT).map(|c| (&[][..], c)))
                .collect()
        };
    let mut held = Held::default();
    for (slot_keys, pick_keys) in statements {
        if slot_keys.is_empty() && pick_keys.is_empty() {
            continue;
        }
        // The placeholders in the order of the text: the keys, then the round of each
        // branch.
        let mut marks = crate::Marks::on(tx);
        let mut ctes = Vec::new();
        if !slot_keys.is_empty() {
            ctes.push(format!(
                "s (voter, scope) AS (VALUES {})",
                marks.rows(slot_keys.len(), 2)
            ));
        }
        if !pick_keys.is_empty() {
            ctes.push(format!(
                "k (voter, period, candidate) AS (VALUES {})",
                marks.rows(pick_keys.len(), 3)
            ));
        }
        let mut selects = Vec::new();
        if !slot_keys.is_empty() {
            selects.push(format!(
                "SELECT CAST(0 AS BIGINT), s.voter, s.scope, CAST(0 AS BIGINT), \
                 (SELECT COALESCE(MAX(h.slot) + 1, 0) FROM vote_slots h \
                  WHERE h.campaign_id = {} AND h.stage_key = {} AND h.voter = s.voter \
                  AND h.scope = s.scope) FROM s",
                marks.one(),
                marks.one()
            ));
        }
        if !pick_keys.is_empty() {
            // A scalar subquery, not `EXISTS`: PostgreSQL turns an `EXISTS` into a join
            // and, on a young table's statistics, scanned every pick of the round for it
            // (115 ms a batch at 70,000 picks); a scalar subquery is a primary-key look-up
            // per key.
            selects.push(format!(
                "SELECT CAST(1 AS BIGINT), k.voter, k.period, k.candidate, \
                 (SELECT p.candidate FROM vote_picks p WHERE p.campaign_id = {} \
                  AND p.stage_key = {} AND p.voter = k.voter AND p.period = k.period \
                  AND p.candidate = k.candidate) FROM k",
                marks.one(),
                marks.one()
            ));
        }
        let sql = format!("WITH {} {}", ctes.join(", "), selects.join(" UNION ALL "));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (voter, scope) in slot_keys {
            q = q.bind(voter).bind(scope);
        }
        for (voter, period, candidate) in pick_keys {
            q = q.bind(voter).bind(period).bind(*candidate);
        }
        for _ in 0..selects.len() {
            q = q.bind(campaign_id).bind(stage_key);
        }
        for r in q.fetch_all(&mut **tx).await? {
            let (kind, found): (i64, Option<i64>) = (r.try_get(0)?, r.try_get(4)?);
            match (kind, found) {
                (0, Some(next)) if next > 0 => {
                    held.next.insert((r.try_get(1)?, r.try_get(2)?), next);
                }
                (1, Some(_)) => {
                    held.picked
                        .insert((r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
                }
                _ => {}
            }
        }
    }
    Ok(held)
}

/// One planned vote: its voter, candidate, row and plan.
type Planned<'a> = (&'a str, i64, i64, &'a Plan);

/// What a batch's plan wrote: the voters with a planned slot or pick that did not insert,
/// and the picks that did.
struct Written {
    contested: HashSet<String>,
    picks: HashSet<slots::PickKey>,
}

/// Writes the picks and the slots of `rows`' plans, one statement each (per 500 rows),
/// each row under its unique key: one another transaction holds inserts nothing.
async fn write_plan(
    tx: &mut Transaction<'static, Any>,
    campaign_id: &str,
    stage_key: &str,
    rows: &[Planned<'_>],
) -> Result<Written> {
    let mut slots: Vec<(&str, &str, i64, i64)> = Vec::new();
    let mut picks: Vec<(&str, &str, i64)> = Vec::new();
    for &(voter, candidate, id, plan) in rows {
        if let Plan::Takes { slots: s, picks: p } = plan {
            slots.extend(s.iter().map(|(scope, at)| (voter, scope.as_str(), *at, id)));
            picks.extend(p.iter().map(|period| (voter, period.as_str(), candidate)));
        }
    }
    let mut written = Written {
        contested: HashSet::new(),
        picks: HashSet::new(),
    };
    // Picks before slots, in the order the slot-by-slot path takes them (a pick, then
    // its slot), so two servers' batches over one voter do not wait on each other
    // crosswise.
    for chunk in picks.chunks(ROWS_A_STATEMENT) {
        let sql = format!(
            "INSERT INTO vote_picks (campaign_id, stage_key, voter, period, candidate) \
             VALUES {} ON CONFLICT DO NOTHING RETURNING voter, period, candidate",
            crate::Marks::on(tx).rows(chunk.len(), 5)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for &(voter, period, candidate) in chunk {
            q = q
                .bind(campaign_id)
                .bind(stage_key)
                .bind(voter)
                .bind(period)
                .bind(candidate);
        }
        for r in q.fetch_all(&mut **tx).await? {
            written
                .picks
                .insert((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?));
        }
    }
    for &(voter, period, candidate) in &picks {
        if !written
            .picks
            .contains(&(voter.to_owned(), period.to_owned(), candidate))
        {
            written.contested.insert(voter.to_owned());
        }
    }
    let mut taken: HashSet<(i64, String)> = HashSet::new();
    for chunk in slots.chunks(ROWS_A_STATEMENT) {
        let sql = format!(
            "INSERT INTO vote_slots (campaign_id, stage_key, voter, scope, slot, vote_id) \
             VALUES {} ON CONFLICT DO NOTHING RETURNING vote_id, scope",
            crate::Marks::on(tx).rows(chunk.len(), 6)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for &(voter, scope, at, id) in chunk {
            q = q
                .bind(campaign_id)
                .bind(stage_key)
                .bind(voter)
                .bind(scope)
                .bind(at)
                .bind(id);
        }
        for r in q.fetch_all(&mut **tx).await? {
            taken.insert((r.try_get(0)?, r.try_get(1)?));
        }
    }
    for &(voter, scope, _, id) in &slots {
        if !taken.contains(&(id, scope.to_owned())) {
            written.contested.insert(voter.to_owned());
        }
    }
    Ok(written)
}

/// Takes back what a plan wrote for the contested voters' rows `ids`: their slots, and
/// the picks it made for those voters.
async fn undo_plan(
    tx: &mut Transaction<'static, Any>,
    campaign_id: &str,
    stage_key: &str,
    ids: &[i64],
    written: &Written,
) -> Result<()> {
    delete_where_in(tx, "DELETE FROM vote_slots WHERE vote_id IN", ids).await?;
    for (voter, period, candidate) in &written.picks {
        if written.contested.contains(voter) {
            sqlx::query(
                "DELETE FROM vote_picks WHERE campaign_id = $1 AND stage_key = $2 \
                 AND voter = $3 AND period = $4 AND candidate = $5",
            )
            .bind(campaign_id)
            .bind(stage_key)
            .bind(voter)
            .bind(period)
            .bind(*candidate)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Deletes the rows of votes a limit refused (they took no slot): never committed.
async fn delete_votes(tx: &mut Transaction<'static, Any>, ids: &[i64]) -> Result<()> {
    delete_where_in(tx, "DELETE FROM votes WHERE id IN", ids).await
}

/// `head` (`DELETE … WHERE column IN`) over `ids`, 500 a statement.
async fn delete_where_in(
    tx: &mut Transaction<'static, Any>,
    head: &str,
    ids: &[i64],
) -> Result<()> {
    for chunk in ids.chunks(ROWS_A_STATEMENT) {
        let sql = format!("{head} {}", crate::Marks::on(tx).rows(1, chunk.len()));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// One limit's slot for a vote: taken, or every slot already taken; either way with what
/// the claim wrote.
enum Slot {
    Taken(Took),
    Full(Took),
}

/// What one claim of a vote wrote, which a refusal of the vote deletes again: the slot it
/// took (by its scope) and the pick it newly made (by its period).
#[derive(Default)]
struct Took {
    scope: Option<String>,
    pick: Option<String>,
}

/// A PostgreSQL deadlock or serialization failure: nothing of the transaction stands and
/// it can be tried again.
fn retryable(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40P01" | "40001")))
}

/// A round's votes not set aside as (group, candidate, receipt), through `e` (the pool, or
/// the freeze's transaction).
pub(crate) async fn valid_leaves<'e, E>(
    e: E,
    campaign_id: &str,
    stage_key: &str,
) -> Result<Vec<(String, i64, String)>>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    Ok(sqlx::query(
        "SELECT v.group_key, v.candidate, v.receipt FROM votes v \
         WHERE v.campaign_id = $1 AND v.stage_key = $2 \
         AND NOT EXISTS (SELECT 1 FROM vote_voids d WHERE d.vote_id = v.id)",
    )
    .bind(campaign_id)
    .bind(stage_key)
    .fetch_all(e)
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect())
}

/// On PostgreSQL the round's review lock, alone: scans, decisions and the freeze of one
/// round take it, so each reads what the one before wrote (a scan never rewrites a cluster
/// decided meanwhile, two decisions never set the same vote aside, nothing is written
/// after the freeze). Votes never wait on it. SQLite's write lock orders them the same.
pub(crate) async fn review_lock(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    campaign_id: &str,
    stage_key: &str,
) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(round_lock(campaign_id, &format!("{stage_key}:review")))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
