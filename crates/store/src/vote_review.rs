//! The vote's integrity in the store (issue 20): the signals' clusters with the votes each
//! holds, the office's decision on a cluster (a proposal first where a second organiser
//! must confirm), the votes set aside — marked, never deleted, the live counts lowered in
//! the same transaction so they still agree with the votes at the freeze — and a receipt's
//! standing.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::{Any, Row, Transaction};

use crate::audit::Audit;
use crate::votes::review_lock;
use crate::{Result, Store, StoreError};

/// What the signals read of one vote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteFact {
    pub id: i64,
    pub cast_at: i64,
    /// `p:{voter id}` or `e:{expert id}`.
    pub voter: String,
    pub client_net: String,
    pub client_ip: String,
    pub device: String,
    pub traits: String,
}

/// A cluster the signals found, to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub key: String,
    pub signal: String,
    pub evidence: String,
    pub votes: Vec<i64>,
}

/// A kept cluster and where its review stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub key: String,
    pub signal: String,
    pub evidence: String,
    /// Votes it holds.
    pub votes: i64,
    pub found_at: i64,
    /// keep, invalidate or zero: proposed (awaiting a second organiser) or decided.
    pub verdict: Option<String>,
    pub reason: Option<String>,
    pub proposed_by: Option<i64>,
    pub proposed_at: Option<i64>,
    pub decided_by: Option<i64>,
    pub confirmed_by: Option<i64>,
    pub decided_at: Option<i64>,
    /// Votes the decision set aside.
    pub voided: i64,
    /// The scan that last published it: its flags up to this generation count.
    pub generation: i64,
}

impl Cluster {
    pub fn decided(&self) -> bool {
        self.decided_at.is_some()
    }

    pub fn pending(&self) -> bool {
        self.proposed_by.is_some() && self.decided_at.is_none()
    }
}

/// What a scan changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scanned {
    pub new: usize,
    pub updated: usize,
    /// Undecided clusters the signals no longer find.
    pub dropped: usize,
}

/// A decision to write.
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    pub campaign_id: &'a str,
    pub stage_key: &'a str,
    pub key: &'a str,
    pub verdict: &'a str,
    pub reason: &'a str,
    /// Who decided (or proposed, when confirming).
    pub by: Option<i64>,
    /// The second organiser, confirming `by`'s proposal.
    pub confirmed_by: Option<i64>,
    /// Votes set aside: the cluster's (invalidate), or every vote of its candidates in
    /// its groups (zero); none to keep.
    pub set_aside: SetAside,
    /// The cluster's votes and generation as the decision was made on them: a scan that
    /// changed it since refuses the decision (`Stale`).
    pub seen: i64,
    pub generation: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetAside {
    Nothing,
    Cluster,
    Candidates,
}

/// A receipt's standing, for its voter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub campaign_id: String,
    pub stage_key: String,
    pub group_key: String,
    pub candidate: i64,
    /// Set aside, with the reason.
    pub void_reason: Option<String>,
}

/// Rows a scan reads at a time.
const PAGE: i64 = 50_000;

const CLUSTER_COLUMNS: &str = "cluster_key, signal, evidence, votes, found_at, verdict, reason, \
     proposed_by, proposed_at, decided_by, confirmed_by, decided_at, voided, generation";

fn cluster_of(r: &sqlx::any::AnyRow) -> Cluster {
    Cluster {
        key: r.get(0),
        signal: r.get(1),
        evidence: r.get(2),
        votes: r.get(3),
        found_at: r.get(4),
        verdict: r.get(5),
        reason: r.get(6),
        proposed_by: r.get(7),
        proposed_at: r.get(8),
        decided_by: r.get(9),
        confirmed_by: r.get(10),
        decided_at: r.get(11),
        voided: r.get(12),
        generation: r.get(13),
    }
}

impl Store {
    /// Every vote of a round not yet set aside, as the signals read them: in pages of
    /// 50,000 by id, each its own read, so a round of millions never holds one snapshot
    /// for seconds (on SQLite the WAL cannot be reset behind it and grows by the votes).
    pub async fn vote_facts(&self, campaign_id: &str, stage_key: &str) -> Result<Vec<VoteFact>> {
        let mut out: Vec<VoteFact> = Vec::new();
        loop {
            let after = out.last().map_or(0, |f| f.id);
            let page: Vec<VoteFact> = sqlx::query(
                "SELECT v.id, v.cast_at, v.voter, v.client_net, v.device, v.client_ip, v.traits \
                 FROM votes v \
                 WHERE v.campaign_id = $1 AND v.stage_key = $2 AND v.id > $3 \
                 AND NOT EXISTS (SELECT 1 FROM vote_voids d WHERE d.vote_id = v.id) \
                 ORDER BY v.id LIMIT $4",
            )
            .bind(campaign_id)
            .bind(stage_key)
            .bind(after)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| VoteFact {
                id: r.get(0),
                cast_at: r.get(1),
                voter: r.get(2),
                client_net: r.get(3),
                device: r.get(4),
                client_ip: r.get(5),
                traits: r.get(6),
            })
            .collect();
            let last = (page.len() as i64) < PAGE;
            out.extend(page);
            if last {
                return Ok(out);
            }
        }
    }

    /// A campaign's voters' phones, sealed: (voter id, sealed phone).
    pub async fn voter_phones(&self, campaign_id: &str) -> Result<Vec<(i64, String)>> {
        Ok(
            sqlx::query("SELECT id, phone_sealed FROM vote_voters WHERE campaign_id = $1")
                .bind(campaign_id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect(),
        )
    }

    /// Every flag of a round, counted or not yet, by cluster: what a scan plans from. Read
    /// aside with the votes (it is as large as the clusters), in pages as they are.
    pub async fn round_flags(&self, campaign_id: &str, stage_key: &str) -> Result<RoundFlags> {
        let mut flags = RoundFlags::default();
        let mut after: (String, i64) = (String::new(), 0);
        loop {
            let rows = sqlx::query(
                "SELECT cluster_key, vote_id, generation FROM vote_flags \
                 WHERE campaign_id = $1 AND stage_key = $2 AND (cluster_key, vote_id) > ($3, $4) \
                 ORDER BY cluster_key, vote_id LIMIT $5",
            )
            .bind(campaign_id)
            .bind(stage_key)
            .bind(&after.0)
            .bind(after.1)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                flags
                    .0
                    .entry(r.get(0))
                    .or_default()
                    .insert(r.get(1), r.get(2));
            }
            match rows.last() {
                Some(r) if rows.len() as i64 == PAGE => after = (r.get(0), r.get(1)),
                _ => return Ok(flags),
            }
        }
    }

    /// Keeps what a scan found: a new cluster is added; an undecided one takes the scan's
    /// evidence and votes; a decided one stays as decided, and votes the scan finds beside
    /// it that it did not hold form a cluster of their own (`{key}+{n}`); an undecided
    /// cluster the scan no longer finds is dropped (a proposal awaiting its second
    /// organiser stays). `flags` are the round's as [`Store::round_flags`] read them before.
    /// The caller runs one scan of a round at a time (`pingxuan_app::vote_review::scan`
    /// holds the round's scan lease).
    ///
    /// On SQLite the votes wait while a write transaction is open, and a burst cluster
    /// gains (or loses) hundreds of thousands of votes between two scans; so the rows are
    /// written in short transactions of 2,000 and only the clusters under the review lock:
    /// 1. the flags a cluster gains, under a new generation no cluster counts yet;
    /// 2. the flags an undecided cluster lost, each transaction under the review lock and
    ///    only while the cluster is still undecided (a decision meanwhile reaches at most
    ///    what its organiser saw counted, never a vote more);
    /// 3. one transaction publishes each changed cluster — its count and the generation, so
    ///    its gains count from now — and drops the clusters no longer found (their row only);
    /// 4. the flags of dropped clusters, and the gains of clusters decided meanwhile (never
    ///    counted), are removed.
    ///
    /// Refused once the round is frozen.
    pub async fn save_clusters(
        &self,
        campaign_id: &str,
        stage_key: &str,
        found: &[Found],
        flags: RoundFlags,
        now: i64,
    ) -> Result<Scanned> {
        let planned_on = self.kept_clusters(None, campaign_id, stage_key).await?;
        let (plans, mut seen) = plan(found, &planned_on, &flags);
        let generation = next_generation(&flags, &planned_on);
        let round = (campaign_id, stage_key);
        let gains: Vec<(&str, i64)> = plans
            .iter()
            .flat_map(|p| {
                let had = flags.0.get(&p.key);
                p.votes
                    .iter()
                    .filter(move |v| !had.is_some_and(|h| h.contains_key(v)))
                    .map(move |v| (p.key.as_str(), *v))
            })
            .collect();
        let insert = |n: usize| {
            rows_sql(
                "INSERT INTO vote_flags (campaign_id, stage_key, cluster_key, generation, \
                 vote_id) VALUES ",
                "$1, $2, $3, $4",
                4,
                n,
            ) + " ON CONFLICT DO NOTHING"
        };
        for rows in gains.chunks(2000) {
            let began = std::time::Instant::now();
            let mut tx = self.begin_write().await?;
            for_keys(&mut tx, round, Some(generation), rows, insert).await?;
            tx.commit().await?;
            self.let_writers_in(began).await;
        }
        // What each cluster the scan will write lost — an undecided one, or a key with
        // flags and no row (a scan that stopped before publishing, a dropped cluster whose
        // flags were not all removed) —, removed while it stays so.
        let mut lost: Vec<(&str, i64)> = Vec::new();
        let mut changed: HashSet<&str> = gains.iter().map(|(k, _)| *k).collect();
        for p in &plans {
            let c = planned_on.get(&p.key);
            if c.is_some_and(|c| c.decided() || c.pending()) {
                continue;
            }
            let counted_up_to = c.map_or(i64::MIN, |c| c.generation);
            let want: HashSet<i64> = p.votes.iter().copied().collect();
            let had = flags.0.get(&p.key);
            let before = lost.len();
            lost.extend(
                had.into_iter()
                    .flat_map(|h| h.keys())
                    .filter(|v| !want.contains(v))
                    .map(|v| (p.key.as_str(), *v)),
            );
            // A wanted flag above the cluster's generation (a scan that wrote it and
            // could not publish) counts once this one publishes; a count that is not the
            // scan's is set right.
            let uncounted = had.is_some_and(|h| {
                h.iter()
                    .any(|(v, g)| *g > counted_up_to && want.contains(v))
            });
            let recount = c.is_some_and(|c| c.votes != p.votes.len() as i64);
            if lost.len() > before || uncounted || recount {
                changed.insert(&p.key);
            }
        }
        // Keys whose losses a decision or proposal stopped: not published by this scan.
        let mut held_back: HashSet<&str> = HashSet::new();
        for rows in lost.chunks(2000) {
            let began = std::time::Instant::now();
            let mut tx = self.begin_review(campaign_id, stage_key).await?;
            let mut open: Vec<(&str, i64)> = Vec::with_capacity(rows.len());
            // Per key: whether it may lose flags, and its counted generation.
            let mut checked: HashMap<&str, Option<i64>> = HashMap::new();
            for &(key, id) in rows {
                let state = match checked.get(key) {
                    Some(s) => *s,
                    None => {
                        let row = sqlx::query(
                            "SELECT generation, decided_at, proposed_by FROM vote_clusters \
                             WHERE campaign_id = $1 AND stage_key = $2 AND cluster_key = $3",
                        )
                        .bind(campaign_id)
                        .bind(stage_key)
                        .bind(key)
                        .fetch_optional(&mut *tx)
                        .await?;
                        let s = match row {
                            None => Some(i64::MIN),
                            Some(r)
                                if r.get::<Option<i64>, _>(1).is_none()
                                    && r.get::<Option<i64>, _>(2).is_none() =>
                            {
                                Some(r.get(0))
                            }
                            Some(_) => None,
                        };
                        checked.insert(key, s);
                        s
                    }
                };
                match state {
                    Some(_) => open.push((key, id)),
                    None => {
                        held_back.insert(key);
                    }
                }
            }
            for_keys(&mut tx, round, None, &open, delete_flags).await?;
            // The count stays the number of flags that count, whatever comes between.
            let mut fewer: BTreeMap<&str, i64> = BTreeMap::new();
            for &(key, id) in &open {
                let counted_up_to = checked.get(key).copied().flatten().unwrap_or(i64::MIN);
                if flags
                    .0
                    .get(key)
                    .and_then(|h| h.get(&id))
                    .is_some_and(|g| *g <= counted_up_to)
                {
                    *fewer.entry(key).or_default() += 1;
                }
            }
            for (key, n) in fewer {
                sqlx::query(
                    "UPDATE vote_clusters SET votes = votes - $4 WHERE campaign_id = $1 \
                     AND stage_key = $2 AND cluster_key = $3",
                )
                .bind(campaign_id)
                .bind(stage_key)
                .bind(key)
                .bind(n)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            self.let_writers_in(began).await;
        }

        let mut tx = self.begin_review(campaign_id, stage_key).await?;
        let kept = self
            .kept_clusters(Some(&mut tx), campaign_id, stage_key)
            .await?;
        let mut out = Scanned::default();
        let mut uncounted: Vec<&str> = Vec::new();
        for p in &plans {
            seen.insert(p.key.clone());
            match kept.get(&p.key) {
                Some(c) if c.decided() || c.pending() || held_back.contains(p.key.as_str()) => {
                    uncounted.push(&p.key)
                }
                Some(c) => {
                    // Nothing gained or lost: count and generation stay, and with them
                    // the form an organiser has open.
                    let (votes, generation) = if changed.contains(p.key.as_str()) {
                        (p.votes.len() as i64, generation)
                    } else {
                        (c.votes, c.generation)
                    };
                    sqlx::query(
                        "UPDATE vote_clusters SET evidence = $4, votes = $5, generation = $6 \
                         WHERE campaign_id = $1 AND stage_key = $2 AND cluster_key = $3",
                    )
                    .bind(campaign_id)
                    .bind(stage_key)
                    .bind(&p.key)
                    .bind(&p.evidence)
                    .bind(votes)
                    .bind(generation)
                    .execute(&mut *tx)
                    .await?;
                    out.updated += 1;
                }
                None => {
                    sqlx::query(
                        "INSERT INTO vote_clusters (campaign_id, stage_key, cluster_key, \
                         signal, evidence, votes, found_at, generation) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(campaign_id)
                    .bind(stage_key)
                    .bind(&p.key)
                    .bind(&p.signal)
                    .bind(&p.evidence)
                    .bind(p.votes.len() as i64)
                    .bind(now)
                    .bind(generation)
                    .execute(&mut *tx)
                    .await?;
                    out.new += 1;
                }
            }
        }
        let mut dropped: Vec<&str> = Vec::new();
        for (key, c) in &kept {
            if seen.contains(key) || c.decided() || c.pending() {
                continue;
            }
            sqlx::query(
                "DELETE FROM vote_clusters WHERE campaign_id = $1 AND stage_key = $2 \
                 AND cluster_key = $3",
            )
            .bind(campaign_id)
            .bind(stage_key)
            .bind(key)
            .execute(&mut *tx)
            .await?;
            dropped.push(key);
            out.dropped += 1;
        }
        tx.commit().await?;

        // Rows no cluster counts any more: a dropped cluster's (its row is gone), the
        // gains of one decided meanwhile (above its generation).
        let mut stale_rows: Vec<(&str, i64)> = Vec::new();
        for key in &dropped {
            stale_rows.extend(
                flags
                    .0
                    .get(*key)
                    .into_iter()
                    .flat_map(|h| h.keys())
                    .map(|v| (*key, *v)),
            );
        }
        let uncounted: HashSet<&str> = uncounted.into_iter().collect();
        stale_rows.extend(gains.iter().filter(|(k, _)| uncounted.contains(k)).copied());
        for rows in stale_rows.chunks(2000) {
            let began = std::time::Instant::now();
            let mut tx = self.begin_write().await?;
            for_keys(&mut tx, round, None, rows, delete_flags).await?;
            tx.commit().await?;
            self.let_writers_in(began).await;
        }
        Ok(out)
    }

    /// After one of a scan's short write transactions begun at `began`, on SQLite a pause
    /// as long as it took (at least 25 ms): a vote batch waiting for the one write lock is
    /// in SQLite's busy handler, which looks again only every few milliseconds — back to
    /// back, the scan's transactions would take the lock before it every time (the bench
    /// saw a batch wait 5.6 s). PostgreSQL locks rows: no pause.
    async fn let_writers_in(&self, began: std::time::Instant) {
        if self.backend == crate::Backend::Sqlite {
            let took = began.elapsed();
            tokio::time::sleep(took.max(std::time::Duration::from_millis(25))).await;
        }
    }

    /// A round's clusters by key: inside `tx` when given, else from the pool.
    async fn kept_clusters(
        &self,
        tx: Option<&mut Transaction<'static, Any>>,
        campaign_id: &str,
        stage_key: &str,
    ) -> Result<BTreeMap<String, Cluster>> {
        let q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CLUSTER_COLUMNS} FROM vote_clusters WHERE campaign_id = $1 AND stage_key = $2"
        )))
        .bind(campaign_id)
        .bind(stage_key);
        let rows = match tx {
            Some(tx) => q.fetch_all(&mut **tx).await?,
            None => q.fetch_all(&self.pool).await?,
        };
        Ok(rows
            .iter()
            .map(|r| {
                let c = cluster_of(r);
                (c.key.clone(), c)
            })
            .collect())
    }

    /// A round's clusters, the undecided first, then by when they were found.
    pub async fn clusters(&self, campaign_id: &str, stage_key: &str) -> Result<Vec<Cluster>> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CLUSTER_COLUMNS} FROM vote_clusters WHERE campaign_id = $1 AND stage_key = $2 \
             ORDER BY CASE WHEN decided_at IS NULL THEN 0 ELSE 1 END, found_at, cluster_key"
        )))
        .bind(campaign_id)
        .bind(stage_key)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(cluster_of)
        .collect())
    }

    /// Whom each cluster's votes went to, for the review page in one query:
    /// (cluster, candidate, votes).
    pub async fn cluster_targets(
        &self,
        campaign_id: &str,
        stage_key: &str,
    ) -> Result<Vec<(String, i64, i64)>> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT f.cluster_key, v.candidate, COUNT(*) FROM {COUNTED_FLAGS} \
             JOIN votes v ON v.id = f.vote_id WHERE f.campaign_id = $1 AND f.stage_key = $2 \
             GROUP BY f.cluster_key, v.candidate"
        )))
        .bind(campaign_id)
        .bind(stage_key)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
    }

    /// The votes of a cluster not yet set aside (what invalidating it reaches): (vote id,
    /// group, candidate), and for zeroing the count of every vote of its candidates in its
    /// groups not yet set aside.
    pub async fn cluster_reach(
        &self,
        campaign_id: &str,
        stage_key: &str,
        key: &str,
    ) -> Result<(Vec<(i64, String, i64)>, i64)> {
        let votes: Vec<(i64, String, i64)> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT v.id, v.group_key, v.candidate FROM {COUNTED_FLAGS} \
             JOIN votes v ON v.id = f.vote_id \
             WHERE f.campaign_id = $1 AND f.stage_key = $2 AND f.cluster_key = $3 \
             AND NOT EXISTS (SELECT 1 FROM vote_voids d WHERE d.vote_id = v.id) ORDER BY v.id"
        )))
        .bind(campaign_id)
        .bind(stage_key)
        .bind(key)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
        let all: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM votes v WHERE v.campaign_id = $1 AND v.stage_key = $2 \
             AND EXISTS (SELECT 1 FROM {COUNTED_FLAGS} JOIN votes w ON w.id = f.vote_id \
               WHERE f.campaign_id = $1 AND f.stage_key = $2 AND f.cluster_key = $3 \
               AND w.group_key = v.group_key AND w.candidate = v.candidate) \
             AND NOT EXISTS (SELECT 1 FROM vote_voids d WHERE d.vote_id = v.id)"
        )))
        .bind(campaign_id)
        .bind(stage_key)
        .bind(key)
        .fetch_one(&self.pool)
        .await?
        .get(0);
        Ok((votes, all))
    }

    /// A review move's prologue: a write transaction holding the round's review lock, or
    /// `Stale` once the round is frozen.
    async fn begin_review(
        &self,
        campaign_id: &str,
        stage_key: &str,
    ) -> Result<Transaction<'static, Any>> {
        let mut tx = self.begin_write().await?;
        review_lock(&mut tx, self.backend, campaign_id, stage_key).await?;
        if frozen(&mut tx, campaign_id, stage_key).await? {
            return stale(tx).await;
        }
        Ok(tx)
    }

    /// A review move's epilogue: its one guarded row written (else `Stale`), its audit
    /// entry, the commit.
    async fn end_review(
        &self,
        mut tx: Transaction<'static, Any>,
        rows: u64,
        audit: &Audit,
        now: i64,
    ) -> Result<()> {
        if rows != 1 {
            return stale(tx).await;
        }
        self.append_audit(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Keeps a decision as a proposal for a second organiser: only on a cluster neither
    /// decided nor proposed, before the freeze (else `Stale`); with its audit entry.
    pub async fn propose_decision(&self, d: &Decision<'_>, audit: &Audit, now: i64) -> Result<()> {
        let mut tx = self.begin_review(d.campaign_id, d.stage_key).await?;
        let n = sqlx::query(
            "UPDATE vote_clusters SET verdict = $4, reason = $5, proposed_by = $6, \
             proposed_at = $7 WHERE campaign_id = $1 AND stage_key = $2 AND cluster_key = $3 \
             AND decided_at IS NULL AND proposed_by IS NULL AND votes = $8 AND generation = $9",
        )
        .bind(d.campaign_id)
        .bind(d.stage_key)
        .bind(d.key)
        .bind(d.verdict)
        .bind(d.reason)
        .bind(d.by)
        .bind(now)
        .bind(d.seen)
        .bind(d.generation)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        self.end_review(tx, n, audit, now).await
    }

    /// Withdraws a proposal (its proposer or another organiser), with the audit entry.
    pub async fn withdraw_proposal(
        &self,
        campaign_id: &str,
        stage_key: &str,
        key: &str,
        audit: &Audit,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin_review(campaign_id, stage_key).await?;
        let n = sqlx::query(
            "UPDATE vote_clusters SET verdict = NULL, reason = NULL, proposed_by = NULL, \
             proposed_at = NULL WHERE campaign_id = $1 AND stage_key = $2 AND cluster_key = $3 \
             AND decided_at IS NULL AND proposed_by IS NOT NULL",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .bind(key)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        self.end_review(tx, n, audit, now).await
    }

    /// Writes a decision in one transaction: the cluster decided (only if undecided and,
    /// when confirming, still proposed by `by` with the same verdict; else `Stale`), the
    /// votes it sets aside marked with the reason — those already set aside stay as they
    /// were —, the live counts lowered by them, and the audit entry `audit` makes of the
    /// number set aside. Refused once the round is frozen. Returns the number set aside.
    pub async fn apply_decision(
        &self,
        d: &Decision<'_>,
        audit: impl FnOnce(usize) -> Audit,
        now: i64,
    ) -> Result<usize> {
        let mut tx = self.begin_review(d.campaign_id, d.stage_key).await?;
        let guard = if d.confirmed_by.is_some() {
            "AND proposed_by = $7 AND verdict = $4"
        } else {
            "AND proposed_by IS NULL"
        };
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE vote_clusters SET verdict = $4, reason = $5, decided_by = $7, \
             confirmed_by = $6, decided_at = $8 WHERE campaign_id = $1 AND stage_key = $2 \
             AND cluster_key = $3 AND decided_at IS NULL AND votes = $9 AND generation = $10 {guard}"
        )))
        .bind(d.campaign_id)
        .bind(d.stage_key)
        .bind(d.key)
        .bind(d.verdict)
        .bind(d.reason)
        .bind(d.confirmed_by)
        .bind(d.by)
        .bind(now)
        .bind(d.seen)
        .bind(d.generation)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return stale(tx).await;
        }
        let reach = match d.set_aside {
            SetAside::Nothing => Vec::new(),
            SetAside::Cluster => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT v.id, v.group_key, v.candidate FROM {COUNTED_FLAGS} \
                     JOIN votes v ON v.id = f.vote_id WHERE f.campaign_id = $1 \
                     AND f.stage_key = $2 AND f.cluster_key = $3 \
                     AND NOT EXISTS (SELECT 1 FROM vote_voids d WHERE d.vote_id = v.id)"
                )))
                .bind(d.campaign_id)
                .bind(d.stage_key)
                .bind(d.key)
                .fetch_all(&mut *tx)
                .await?
            }
            SetAside::Candidates => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT v.id, v.group_key, v.candidate FROM votes v \
                     WHERE v.campaign_id = $1 AND v.stage_key = $2 \
                     AND EXISTS (SELECT 1 FROM {COUNTED_FLAGS} JOIN votes w ON w.id = f.vote_id \
                       WHERE f.campaign_id = $1 AND f.stage_key = $2 AND f.cluster_key = $3 \
                       AND w.group_key = v.group_key AND w.candidate = v.candidate) \
                     AND NOT EXISTS (SELECT 1 FROM vote_voids d WHERE d.vote_id = v.id)"
                )))
                .bind(d.campaign_id)
                .bind(d.stage_key)
                .bind(d.key)
                .fetch_all(&mut *tx)
                .await?
            }
        };
        let mut lowered: BTreeMap<(String, i64), i64> = BTreeMap::new();
        for chunk in reach.chunks(500) {
            // Under the review lock no other decision sets these aside meanwhile; the
            // conflict clause only keeps a vote's first reason should one ever have.
            let sql = format!(
                "{} ON CONFLICT (vote_id) DO NOTHING",
                rows_sql(
                    "INSERT INTO vote_voids (campaign_id, stage_key, cluster_key, reason, \
                     voided_by, voided_at, vote_id) VALUES ",
                    "$1, $2, $3, $4, $5, $6",
                    6,
                    chunk.len(),
                )
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(d.campaign_id)
                .bind(d.stage_key)
                .bind(d.key)
                .bind(d.reason)
                .bind(d.confirmed_by.or(d.by))
                .bind(now);
            for r in chunk {
                q = q.bind(r.get::<i64, _>(0));
            }
            q.execute(&mut *tx).await?;
            for r in chunk {
                *lowered.entry((r.get(1), r.get(2))).or_default() += 1;
            }
        }
        for ((group, candidate), n) in &lowered {
            sqlx::query(
                "UPDATE vote_tallies SET votes = votes - $5 WHERE campaign_id = $1 \
                 AND stage_key = $2 AND group_key = $3 AND candidate = $4",
            )
            .bind(d.campaign_id)
            .bind(d.stage_key)
            .bind(group)
            .bind(*candidate)
            .bind(*n)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE vote_clusters SET voided = $4 WHERE campaign_id = $1 AND stage_key = $2 \
             AND cluster_key = $3",
        )
        .bind(d.campaign_id)
        .bind(d.stage_key)
        .bind(d.key)
        .bind(reach.len() as i64)
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, &audit(reach.len()), now).await?;
        tx.commit().await?;
        Ok(reach.len())
    }

    /// A receipt's round, candidate and whether it was set aside (with the reason).
    pub async fn receipt_standing(&self, receipt: &str) -> Result<Option<Standing>> {
        Ok(sqlx::query(
            "SELECT v.campaign_id, v.stage_key, v.group_key, v.candidate, d.reason FROM votes v \
             LEFT JOIN vote_voids d ON d.vote_id = v.id WHERE v.receipt = $1",
        )
        .bind(receipt)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| Standing {
            campaign_id: r.get(0),
            stage_key: r.get(1),
            group_key: r.get(2),
            candidate: r.get(3),
            void_reason: r.get(4),
        }))
    }

    /// A round's valid votes as the count's leaves: (group, candidate, receipt), unsorted.
    pub async fn valid_leaves(
        &self,
        campaign_id: &str,
        stage_key: &str,
    ) -> Result<Vec<(String, i64, String)>> {
        crate::votes::valid_leaves(&self.pool, campaign_id, stage_key).await
    }

    /// Undecided clusters and proposals awaiting confirmation: what stands before a freeze.
    pub async fn undecided_clusters(&self, campaign_id: &str, stage_key: &str) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM vote_clusters WHERE campaign_id = $1 AND stage_key = $2 \
             AND decided_at IS NULL",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .fetch_one(&self.pool)
        .await?
        .get(0))
    }
}

/// A round's flags: per cluster, each vote's generation (counted or not yet).
#[derive(Debug, Clone, Default)]
pub struct RoundFlags(HashMap<String, HashMap<i64, i64>>);

impl RoundFlags {
    /// The votes a cluster counts: its flags up to its published generation.
    fn counted<'a>(&'a self, key: &str, c: &'a Cluster) -> impl Iterator<Item = i64> + 'a {
        self.0
            .get(key)
            .into_iter()
            .flatten()
            .filter(move |(_, g)| **g <= c.generation)
            .map(|(v, _)| *v)
    }
}

/// What a scan will write of one cluster it found.
#[derive(Debug)]
struct Plan {
    key: String,
    signal: String,
    evidence: String,
    votes: Vec<i64>,
}

/// Where each found cluster goes — its own key, or beside a decided (or proposed) one
/// the votes that one did not hold as `{key}+{n}` —, and every key the scan found.
fn plan(
    found: &[Found],
    kept: &BTreeMap<String, Cluster>,
    flags: &RoundFlags,
) -> (Vec<Plan>, HashSet<String>) {
    let mut plans = Vec::new();
    let mut seen = HashSet::new();
    for f in found {
        let settled = |c: &Cluster| c.decided() || c.pending();
        match kept.get(&f.key) {
            Some(c) if settled(c) => {
                seen.insert(f.key.clone());
                let follow = format!("{}+", f.key);
                let held: HashSet<i64> = kept
                    .iter()
                    .filter(|(k, c)| (*k == &f.key || k.starts_with(&follow)) && settled(c))
                    .flat_map(|(k, c)| flags.counted(k, c))
                    .collect();
                let new: Vec<i64> = f
                    .votes
                    .iter()
                    .copied()
                    .filter(|v| !held.contains(v))
                    .collect();
                if new.is_empty() {
                    continue;
                }
                let mut n = 2;
                let key = loop {
                    let k = format!("{}+{n}", f.key);
                    match kept.get(&k) {
                        Some(c) if settled(c) => n += 1,
                        _ => break k,
                    }
                };
                plans.push(Plan {
                    key,
                    signal: f.signal.clone(),
                    evidence: format!("这一组处理之后新出现 {} 票 —— {}", new.len(), f.evidence),
                    votes: new,
                });
            }
            _ => plans.push(Plan {
                key: f.key.clone(),
                signal: f.signal.clone(),
                evidence: f.evidence.clone(),
                votes: f.votes.clone(),
            }),
        }
    }
    (plans, seen)
}

/// A generation above every flag and cluster of the round, from the clock in
/// milliseconds so that scans on different servers rarely meet.
fn next_generation(flags: &RoundFlags, kept: &BTreeMap<String, Cluster>) -> i64 {
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let highest = flags
        .0
        .values()
        .flat_map(|h| h.values())
        .chain(kept.values().map(|c| &c.generation))
        .max()
        .copied()
        .unwrap_or(0);
    clock.max(highest + 1)
}

/// The flags `f` their clusters `c` count.
const COUNTED_FLAGS: &str = "vote_flags f JOIN vote_clusters c ON c.campaign_id = f.campaign_id \
     AND c.stage_key = f.stage_key AND c.cluster_key = f.cluster_key \
     AND f.generation <= c.generation";

/// Runs `sql(n)` over `rows` — grouped by cluster key, each group in statements of at
/// most 500 — with the round as `$1`, `$2`, the key as `$3`, `generation` as `$4` when
/// given, and the rows' vote ids after them.
async fn for_keys(
    tx: &mut Transaction<'static, Any>,
    (campaign_id, stage_key): (&str, &str),
    generation: Option<i64>,
    mut rows: &[(&str, i64)],
    sql: impl Fn(usize) -> String,
) -> Result<()> {
    while let Some(&(key, _)) = rows.first() {
        let n = rows.iter().take(500).take_while(|(k, _)| *k == key).count();
        let (these, rest) = rows.split_at(n);
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql(n)))
            .bind(campaign_id)
            .bind(stage_key)
            .bind(key);
        if let Some(g) = generation {
            q = q.bind(g);
        }
        for (_, id) in these {
            q = q.bind(*id);
        }
        q.execute(&mut **tx).await?;
        rows = rest;
    }
    Ok(())
}

/// Deletes `n` flags of one cluster by vote id (`for_keys`).
fn delete_flags(n: usize) -> String {
    let ids: Vec<String> = (0..n).map(|i| format!("${}", i + 4)).collect();
    format!(
        "DELETE FROM vote_flags WHERE campaign_id = $1 AND stage_key = $2 \
         AND cluster_key = $3 AND vote_id IN ({})",
        ids.join(", ")
    )
}

/// Rolls back a move whose guard found the record changed or the round frozen.
async fn stale<T>(tx: Transaction<'static, Any>) -> Result<T> {
    tx.rollback().await?;
    Err(StoreError::Stale)
}

/// `head` then `n` rows of the shared parameters `shared` (the first `fixed` of them)
/// followed by one parameter of its own: `($1, $2, $3, $4), ($1, $2, $3, $5)`.
fn rows_sql(head: &str, shared: &str, fixed: usize, n: usize) -> String {
    format!("{head}{}", crate::value_rows(shared, n, 1, fixed + 1))
}

/// Whether the round's count is frozen.
pub(crate) async fn frozen(
    tx: &mut Transaction<'static, Any>,
    campaign_id: &str,
    stage_key: &str,
) -> Result<bool> {
    let n: i64 =
        sqlx::query("SELECT COUNT(*) FROM vote_results WHERE campaign_id = $1 AND stage_key = $2")
            .bind(campaign_id)
            .bind(stage_key)
            .fetch_one(&mut **tx)
            .await?
            .get(0);
    Ok(n > 0)
}
