//! The vote's integrity in the store (issue 20): the signals' clusters with the votes each
//! holds, the office's decision on a cluster (a proposal first where a second organiser
//! must confirm), the votes set aside — marked, never deleted, the live counts lowered in
//! the same transaction so they still agree with the votes at the freeze — and a receipt's
//! standing.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use roaring::RoaringTreemap;
use sqlx::{Any, AnyConnection, Row, Transaction};

use crate::audit::Audit;
use crate::votes::review_lock;
use crate::{Result, Store, StoreError};

/// What the signals read of one vote. The text is shared (`Arc<str>`): most of it repeats
/// (a voter's votes, a network's, a device's), and a round's votes are kept between scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteFact {
    pub id: i64,
    pub cast_at: i64,
    /// `p:{voter id}` or `e:{expert id}`.
    pub voter: Arc<str>,
    pub client_net: Arc<str>,
    pub client_ip: Arc<str>,
    pub device: Arc<str>,
    pub traits: Arc<str>,
    pub candidate: i64,
}

/// A round's votes as far as scans have read them, kept between scans per server: a vote
/// is never changed once committed (a refused one is deleted before its commit, a
/// suspect one set aside in `vote_voids`), so the next scan reads only the votes after
/// `complete`.
#[derive(Default)]
pub(crate) struct RoundFacts {
    /// Every vote read, set aside or not, by id.
    facts: Vec<VoteFact>,
    /// Every committed vote with an id up to this one is in `facts`.
    complete: i64,
    /// PostgreSQL: when each read not yet settled ended and the highest id it saw.
    reads: Vec<(Instant, i64)>,
    /// The round's text, each once.
    names: HashSet<Arc<str>>,
}

impl RoundFacts {
    fn name(&mut self, s: &str) -> Arc<str> {
        if let Some(n) = self.names.get(s) {
            return n.clone();
        }
        let n: Arc<str> = s.into();
        self.names.insert(n.clone());
        n
    }
}

/// Rounds' votes kept between scans, by (campaign, stage); shared by a store's clones.
pub(crate) type FactsCache = Arc<Mutex<HashMap<(String, String), RoundFacts>>>;

/// On PostgreSQL an id is taken when a vote is written, not when it commits: a batch
/// that took lower ids can commit after a read saw higher ones. A vote batch commits in
/// well under a second (the bench's longest: 207 ms), so ids up to the highest a read
/// saw are all settled once this long has passed since it; a later read starts there.
/// The freeze reads the whole round regardless.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(10);

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
    /// The scan that last published it: the members' row of this generation counts.
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

/// Rows a scan reads at a time: each page is a read of its own, short even on a starved
/// thread, so SQLite's WAL is restarted between them (`Store::reading_long`).
const PAGE: i64 = 5_000;

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

/// On PostgreSQL, how far a round's votes are settled after a read that began at `began`
/// and ended as `this` (when, the highest id seen): a read that ended `SETTLE` before it
/// began saw ids that were all committed by the time this one read past them. `reads`
/// keeps the reads not yet settled.
fn settle(
    reads: &mut Vec<(Instant, i64)>,
    complete: i64,
    began: Instant,
    this: (Instant, i64),
) -> i64 {
    let mut complete = complete;
    reads.retain(|&(ended, seen)| {
        let old = began.saturating_duration_since(ended) >= SETTLE;
        if old {
            complete = complete.max(seen);
        }
        !old
    });
    reads.push(this);
    complete
}

impl Store {
    /// Every vote of a round not yet set aside, as the signals read them. What earlier
    /// scans read is kept (`RoundFacts`): only the votes cast since are read, unless
    /// `whole` (the freeze's scan, which counts from everything; `forget_vote_facts` once
    /// the round is frozen). Reads go in pages of 5,000 by id, each its own read, so a
    /// round of millions never holds one snapshot for long (on SQLite the WAL cannot be
    /// reset behind it and grows by the votes); then the round's set-aside votes are read
    /// at once and left out.
    pub async fn vote_facts(
        &self,
        campaign_id: &str,
        stage_key: &str,
        whole: bool,
    ) -> Result<Vec<VoteFact>> {
        let key = (campaign_id.to_owned(), stage_key.to_owned());
        // Taken out while it is read (one scan of a round at a time: its lease); put
        // back only when the read went through.
        let kept = self
            .facts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        let mut round = kept.filter(|_| !whole).unwrap_or_default();
        let began = Instant::now();
        let settled = round.facts.partition_point(|f| f.id <= round.complete);
        round.facts.truncate(settled);
        // Every vote up to `complete` kept? A PostgreSQL batch slower than `SETTLE` to
        // commit (a lock wait, a stalled disk) would have left its votes below it: the
        // round is then read afresh rather than go on without them.
        if round.complete > 0 {
            let page = self.reading_long().await;
            let stored: i64 = sqlx::query(
                "SELECT COUNT(*) FROM votes WHERE campaign_id = $1 AND stage_key = $2 \
                 AND id <= $3",
            )
            .bind(campaign_id)
            .bind(stage_key)
            .bind(round.complete)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
            drop(page);
            if stored != round.facts.len() as i64 {
                tracing::warn!(
                    campaign = campaign_id,
                    stage = stage_key,
                    stored,
                    kept = round.facts.len(),
                    "votes kept for the scan differ from the stored ones: read afresh"
                );
                round = RoundFacts::default();
            }
        }
        let mut yielded = std::time::Duration::ZERO;
        let mut last_page = std::time::Duration::ZERO;
        loop {
            let after = round.facts.last().map_or(round.complete, |f| f.id);
            yielded += self.yield_to_votes(last_page).await;
            let page = self.reading_long().await;
            let paging = Instant::now();
            let rows = sqlx::query(
                "SELECT id, cast_at, voter, client_net, device, client_ip, traits, candidate \
                 FROM votes WHERE campaign_id = $1 AND stage_key = $2 AND id > $3 \
                 ORDER BY id LIMIT $4",
            )
            .bind(campaign_id)
            .bind(stage_key)
            .bind(after)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?;
            drop(page);
            for r in &rows {
                let fact = VoteFact {
                    id: r.try_get(0)?,
                    cast_at: r.try_get(1)?,
                    voter: round.name(r.try_get::<&str, _>(2)?),
                    client_net: round.name(r.try_get::<&str, _>(3)?),
                    device: round.name(r.try_get::<&str, _>(4)?),
                    client_ip: round.name(r.try_get::<&str, _>(5)?),
                    traits: round.name(r.try_get::<&str, _>(6)?),
                    candidate: r.try_get(7)?,
                };
                round.facts.push(fact);
            }
            last_page = paging.elapsed();
            if (rows.len() as i64) < PAGE {
                break;
            }
        }
        if !yielded.is_zero() {
            tracing::debug!(
                yielded_ms = yielded.as_millis() as u64,
                "a scan's read paused for the votes"
            );
        }
        let highest = round.facts.last().map_or(round.complete, |f| f.id);
        round.complete = match self.backend {
            // One writer, ids taken in the order of the commits: all read is settled.
            crate::Backend::Sqlite => highest,
            crate::Backend::Postgres => settle(
                &mut round.reads,
                round.complete,
                began,
                (Instant::now(), highest),
            ),
        };
        // A decided burst can set aside hundreds of thousands: one read, paused for the
        // checkpoint like a page.
        let page = self.reading_long().await;
        let voided: HashSet<i64> =
            sqlx::query("SELECT vote_id FROM vote_voids WHERE campaign_id = $1 AND stage_key = $2")
                .bind(campaign_id)
                .bind(stage_key)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<std::result::Result<_, _>>()?;
        drop(page);
        let out = round
            .facts
            .iter()
            .filter(|f| !voided.contains(&f.id))
            .cloned()
            .collect();
        // Kept after a whole read too: a freeze refused (clusters still open) leaves the
        // round taking scans.
        self.facts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, round);
        Ok(out)
    }

    /// Lets go of what the scans kept of a round (`vote_facts`): once it is frozen no
    /// scan reads it again.
    pub fn forget_vote_facts(&self, campaign_id: &str, stage_key: &str) {
        self.facts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(campaign_id.to_owned(), stage_key.to_owned()));
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

    /// The votes each cluster of a round counts (its members' row of its generation), and
    /// the highest generation of any members' row: what a scan plans from. Read aside with
    /// the votes.
    pub async fn round_flags(&self, campaign_id: &str, stage_key: &str) -> Result<RoundFlags> {
        let mut flags = RoundFlags::default();
        for r in &self.counted_rows("m.ids", campaign_id, stage_key).await? {
            flags
                .counted
                .insert(r.get(0), decode(&r.get::<Vec<u8>, _>(1))?);
        }
        flags.highest = sqlx::query(
            "SELECT COALESCE(MAX(generation), 0) FROM vote_cluster_members \
             WHERE campaign_id = $1 AND stage_key = $2",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?;
        Ok(flags)
    }

    /// Keeps what a scan found: a new cluster is added; an undecided one takes the scan's
    /// evidence and votes; a decided one stays as decided, and votes the scan finds beside
    /// it that it did not hold form a cluster of their own (`{key}+{n}`); an undecided
    /// cluster the scan no longer finds is dropped (a proposal awaiting its second
    /// organiser stays). `flags` are the round's as [`Store::round_flags`] read them before,
    /// `candidate_of` each vote's candidate (for whom a cluster's votes went to). The
    /// caller runs one scan of a round at a time (`pingxuan_app::vote_review::scan` holds
    /// the round's scan lease).
    ///
    /// A cluster's votes are one row, whatever their number (a compressed set of ids:
    /// a burst of a million votes is a few hundred KB), so beside a running vote:
    /// 1. each changed cluster's votes are written as a members' row of a new generation
    ///    no cluster counts yet, in short transactions of their own;
    /// 2. one transaction under the review lock publishes them — each changed cluster
    ///    takes its count and the new generation at once (one still undecided: a decision
    ///    meanwhile stands as its organiser saw it) — and drops the clusters no longer
    ///    found;
    /// 3. the members' rows no cluster counts any more are removed (superseded, dropped,
    ///    decided meanwhile, or left by a scan that died midway).
    ///
    /// Refused once the round is frozen.
    pub async fn save_clusters(
        &self,
        campaign_id: &str,
        stage_key: &str,
        found: &[Found],
        flags: RoundFlags,
        candidate_of: &HashMap<i64, i64>,
        now: i64,
    ) -> Result<Scanned> {
        let planned_on = self.kept_clusters(None, campaign_id, stage_key).await?;
        let (plans, mut seen) = plan(found, &planned_on, &flags);
        let generation = next_generation(&flags, &planned_on);
        // What changed: a cluster not kept yet, or one whose votes are not those it counts.
        let changed: Vec<&Plan> = plans
            .iter()
            .filter(|p| match planned_on.get(&p.key) {
                None => true,
                Some(c) => {
                    c.votes != p.votes.len() as i64 || flags.counted.get(&p.key) != Some(&p.votes)
                }
            })
            .collect();
        // Encoded before any transaction: nothing but the writes inside SQLite's lock.
        let mut batch: Vec<(&Plan, Vec<u8>, String)> = Vec::new();
        let mut bytes = 0;
        for (i, p) in changed.iter().enumerate() {
            let ids = encode(&p.votes);
            bytes += ids.len();
            batch.push((p, ids, targets_json(&p.votes, candidate_of)));
            if bytes < MEMBERS_A_TRANSACTION && batch.len() < 100 && i + 1 < changed.len() {
                continue;
            }
            let began = std::time::Instant::now();
            // In the busy writers' turn: the vote lane waits on the turn and starts the
            // moment this commits, where behind SQLite's lock it slept in the busy
            // handler (a third of the 80%-of-peak run's slow votes came in the seconds
            // a scan saved).
            let turn = self.writing().await;
            let mut tx = self.begin_write().await?;
            for (p, ids, targets) in batch.drain(..) {
                sqlx::query(
                    "INSERT INTO vote_cluster_members (campaign_id, stage_key, cluster_key, \
                     generation, votes, ids, targets) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(campaign_id)
                .bind(stage_key)
                .bind(&p.key)
                .bind(generation)
                .bind(p.votes.len() as i64)
                .bind(ids)
                .bind(targets)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            drop(turn);
            bytes = 0;
            self.let_writers_in(began).await;
        }
        let changed: HashSet<&str> = changed.iter().map(|p| p.key.as_str()).collect();

        let turn = self.writing().await;
        let mut tx = match self.begin_review(campaign_id, stage_key).await {
            Ok(tx) => tx,
            Err(e) => {
                drop(turn);
                // Frozen meanwhile (or the database gone): what this scan wrote goes.
                self.remove_uncounted(campaign_id, stage_key, generation)
                    .await?;
                return Err(e);
            }
        };
        let kept = self
            .kept_clusters(Some(&mut tx), campaign_id, stage_key)
            .await?;
        let mut out = Scanned::default();
        for p in &plans {
            seen.insert(p.key.clone());
            match kept.get(&p.key) {
                // Decided (or proposed) meanwhile: as its organiser saw it.
                Some(c) if c.decided() || c.pending() => {}
                // Its row gone (a clean-up beside it): left as it stands.
                Some(_)
                    if changed.contains(p.key.as_str())
                        && !has_row(&mut tx, campaign_id, stage_key, &p.key, generation)
                            .await? => {}
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
                None if !has_row(&mut tx, campaign_id, stage_key, &p.key, generation).await? => {}
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
            out.dropped += 1;
        }
        tx.commit().await?;
        drop(turn);
        self.remove_uncounted(campaign_id, stage_key, generation)
            .await?;
        Ok(out)
    }

    /// Removes the round's members' rows no cluster counts, up to `generation` (a scan's
    /// own and older: superseded, dropped, decided meanwhile, left by a scan that died) —
    /// never a later scan's, not yet published.
    async fn remove_uncounted(
        &self,
        campaign_id: &str,
        stage_key: &str,
        generation: i64,
    ) -> Result<()> {
        let began = std::time::Instant::now();
        let turn = self.writing().await;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM vote_cluster_members WHERE campaign_id = $1 AND stage_key = $2 \
             AND generation <= $3 AND NOT EXISTS (SELECT 1 FROM vote_clusters c \
               WHERE c.campaign_id = vote_cluster_members.campaign_id \
               AND c.stage_key = vote_cluster_members.stage_key \
               AND c.cluster_key = vote_cluster_members.cluster_key \
               AND c.generation = vote_cluster_members.generation)",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .bind(generation)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        drop(turn);
        self.let_writers_in(began).await;
        Ok(())
    }

    /// After one of a scan's short write transactions begun at `began`, a pause as long as
    /// it took: on SQLite (at least 25 ms) the vote lane, waiting on the writers' turn
    /// meanwhile, writes its batches — back to back, the scan's transactions took the one
    /// write lock before it every time (the bench saw a batch wait 5.6 s, when the lane
    /// still waited in SQLite's busy handler) and would now take the turn in turns with
    /// it; on PostgreSQL the scan's backend gets at most half a core from the votes.
    async fn let_writers_in(&self, began: std::time::Instant) {
        let floor = match self.backend {
            crate::Backend::Sqlite => std::time::Duration::from_millis(25),
            crate::Backend::Postgres => std::time::Duration::ZERO,
        };
        tokio::time::sleep(began.elapsed().max(floor)).await;
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

    /// Whom each cluster's votes went to, for the review page in one query (kept with the
    /// cluster's votes as the scan wrote them): (cluster, candidate, votes).
    pub async fn cluster_targets(
        &self,
        campaign_id: &str,
        stage_key: &str,
    ) -> Result<Vec<(String, i64, i64)>> {
        let mut out = Vec::new();
        for r in &self
            .counted_rows("m.targets", campaign_id, stage_key)
            .await?
        {
            let key: String = r.get(0);
            let targets: Vec<(i64, i64)> = serde_json::from_str(&r.get::<String, _>(1))
                .map_err(|e| StoreError::Other(format!("a cluster's targets: {e}")))?;
            out.extend(targets.into_iter().map(|(c, n)| (key.clone(), c, n)));
        }
        Ok(out)
    }

    /// Each counted members' row of a round as (cluster key, `column`).
    async fn counted_rows(
        &self,
        column: &'static str,
        campaign_id: &str,
        stage_key: &str,
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT m.cluster_key, {column} FROM {COUNTED_MEMBERS} \
             WHERE m.campaign_id = $1 AND m.stage_key = $2"
        )))
        .bind(campaign_id)
        .bind(stage_key)
        .fetch_all(&self.pool)
        .await?)
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
        let mut c = self.pool.acquire().await?;
        let members = members_of(&mut c, campaign_id, stage_key, key).await?;
        let all = votes_of(&mut c, campaign_id, stage_key, &members).await?;
        let mut zeroed = 0;
        for (group, candidate) in candidates_of(&all) {
            zeroed += sqlx::query(
                "SELECT COUNT(*) FROM votes v WHERE v.campaign_id = $1 AND v.stage_key = $2 \
                 AND v.group_key = $3 AND v.candidate = $4 \
                 AND NOT EXISTS (SELECT 1 FROM vote_voids d WHERE d.vote_id = v.id)",
            )
            .bind(campaign_id)
            .bind(stage_key)
            .bind(group)
            .bind(candidate)
            .fetch_one(&mut *c)
            .await?
            .try_get::<i64, _>(0)?;
        }
        let votes = all
            .into_iter()
            .filter(|v| !v.voided)
            .map(|v| (v.id, v.group, v.candidate))
            .collect();
        Ok((votes, zeroed))
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
        let members = members_of(&mut tx, d.campaign_id, d.stage_key, d.key).await?;
        if d.set_aside != SetAside::Nothing && members.len() as i64 != d.seen {
            // The cluster's votes are not those its count says: nothing is set aside.
            tracing::error!(
                cluster = d.key,
                seen = d.seen,
                held = members.len(),
                "a cluster's votes and count disagree"
            );
            return stale(tx).await;
        }
        let reach: Vec<(i64, String, i64)> = match d.set_aside {
            SetAside::Nothing => Vec::new(),
            SetAside::Cluster => votes_of(&mut tx, d.campaign_id, d.stage_key, &members)
                .await?
                .into_iter()
                .filter(|v| !v.voided)
                .map(|v| (v.id, v.group, v.candidate))
                .collect(),
            SetAside::Candidates => {
                let all = votes_of(&mut tx, d.campaign_id, d.stage_key, &members).await?;
                let mut reach = Vec::new();
                for (group, candidate) in candidates_of(&all) {
                    let rows = sqlx::query(
                        "SELECT v.id, v.group_key, v.candidate FROM votes v \
                         WHERE v.campaign_id = $1 AND v.stage_key = $2 AND v.group_key = $3 \
                         AND v.candidate = $4 \
                         AND NOT EXISTS (SELECT 1 FROM vote_voids d WHERE d.vote_id = v.id)",
                    )
                    .bind(d.campaign_id)
                    .bind(d.stage_key)
                    .bind(group)
                    .bind(candidate)
                    .fetch_all(&mut *tx)
                    .await?;
                    reach.extend(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))));
                }
                reach
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
            for (id, _, _) in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *tx).await?;
            for (_, group, candidate) in chunk {
                *lowered.entry((group.clone(), *candidate)).or_default() += 1;
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

impl Store {
    /// The flags kept a row a vote before migration 0033, as members' rows: each
    /// cluster's counted flags become the row of its generation, with whom they went to;
    /// then the flags go. Run after the migrations; nothing to do once converted.
    pub async fn convert_flags(&self) -> Result<usize> {
        let any = sqlx::query("SELECT 1 FROM vote_flags LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        if any.is_none() {
            return Ok(0);
        }
        let rows = sqlx::query(
            "SELECT f.campaign_id, f.stage_key, f.cluster_key, c.generation, f.vote_id, \
             v.candidate FROM vote_flags f JOIN vote_clusters c \
             ON c.campaign_id = f.campaign_id AND c.stage_key = f.stage_key \
             AND c.cluster_key = f.cluster_key AND f.generation <= c.generation \
             JOIN votes v ON v.id = f.vote_id",
        )
        .fetch_all(&self.pool)
        .await?;
        type Key = (String, String, String, i64);
        let mut clusters: BTreeMap<Key, (RoaringTreemap, HashMap<i64, i64>)> = BTreeMap::new();
        for r in &rows {
            let (ids, candidate_of) = clusters
                .entry((r.get(0), r.get(1), r.get(2), r.get(3)))
                .or_default();
            let id: i64 = r.get(4);
            ids.insert(id as u64);
            candidate_of.insert(id, r.get(5));
        }
        let mut tx = self.begin_write().await?;
        for ((campaign_id, stage_key, key, generation), (ids, candidate_of)) in &clusters {
            sqlx::query(
                "INSERT INTO vote_cluster_members (campaign_id, stage_key, cluster_key, \
                 generation, votes, ids, targets) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(campaign_id)
            .bind(stage_key)
            .bind(key)
            .bind(*generation)
            .bind(ids.len() as i64)
            .bind(encode(ids))
            .bind(targets_json(ids, candidate_of))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM vote_flags")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(clusters.len())
    }
}

/// A round's flags: the votes each cluster counts, and the highest generation of any
/// members' row (counted or not).
#[derive(Debug, Clone, Default)]
pub struct RoundFlags {
    counted: HashMap<String, RoaringTreemap>,
    highest: i64,
}

/// What a scan will write of one cluster it found.
#[derive(Debug)]
struct Plan {
    key: String,
    signal: String,
    evidence: String,
    votes: RoaringTreemap,
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
        let votes = set_of(&f.votes);
        match kept.get(&f.key) {
            Some(c) if settled(c) => {
                seen.insert(f.key.clone());
                let follow = format!("{}+", f.key);
                let mut new = votes;
                for (k, _) in kept
                    .iter()
                    .filter(|(k, c)| (*k == &f.key || k.starts_with(&follow)) && settled(c))
                {
                    if let Some(held) = flags.counted.get(k) {
                        new -= held;
                    }
                }
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
                votes,
            }),
        }
    }
    (plans, seen)
}

/// A generation above every members' row and cluster of the round, from the clock in
/// milliseconds so that scans on different servers rarely meet.
fn next_generation(flags: &RoundFlags, kept: &BTreeMap<String, Cluster>) -> i64 {
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let highest = kept
        .values()
        .map(|c| c.generation)
        .chain([flags.highest])
        .max()
        .unwrap_or(0);
    clock.max(highest + 1)
}

/// The members' rows `m` their clusters `c` count: the one of the cluster's generation.
const COUNTED_MEMBERS: &str = "vote_cluster_members m JOIN vote_clusters c \
     ON c.campaign_id = m.campaign_id AND c.stage_key = m.stage_key \
     AND c.cluster_key = m.cluster_key AND c.generation = m.generation";

/// Bytes of members' rows a scan writes in one transaction (a huge cluster alone).
const MEMBERS_A_TRANSACTION: usize = 256 * 1024;

fn set_of(ids: &[i64]) -> RoaringTreemap {
    ids.iter().map(|&id| id as u64).collect()
}

/// A set of vote ids as stored: Roaring's portable format.
fn encode(ids: &RoaringTreemap) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.serialized_size());
    ids.serialize_into(&mut out)
        .expect("serializing into memory");
    out
}

fn decode(bytes: &[u8]) -> Result<RoaringTreemap> {
    RoaringTreemap::deserialize_from(bytes)
        .map_err(|e| StoreError::Other(format!("a cluster's votes: {e}")))
}

/// Whom `votes` went to, as stored with them: `[[candidate, votes], …]` by candidate.
fn targets_json(votes: &RoaringTreemap, candidate_of: &HashMap<i64, i64>) -> String {
    let mut by: BTreeMap<i64, i64> = BTreeMap::new();
    for id in votes {
        if let Some(c) = candidate_of.get(&(id as i64)) {
            *by.entry(*c).or_default() += 1;
        }
    }
    serde_json::to_string(&by.into_iter().collect::<Vec<_>>()).expect("targets as JSON")
}

/// The votes cluster `key` counts (none for a key without a cluster).
async fn members_of(
    c: &mut AnyConnection,
    campaign_id: &str,
    stage_key: &str,
    key: &str,
) -> Result<RoaringTreemap> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT m.ids FROM {COUNTED_MEMBERS} \
         WHERE m.campaign_id = $1 AND m.stage_key = $2 AND m.cluster_key = $3"
    )))
    .bind(campaign_id)
    .bind(stage_key)
    .bind(key)
    .fetch_optional(&mut *c)
    .await?;
    match row {
        Some(r) => decode(&r.get::<Vec<u8>, _>(0)),
        None => Ok(RoaringTreemap::new()),
    }
}

/// Whether cluster `key`'s members' row of `generation` is there.
async fn has_row(
    tx: &mut Transaction<'static, Any>,
    campaign_id: &str,
    stage_key: &str,
    key: &str,
    generation: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "SELECT 1 FROM vote_cluster_members WHERE campaign_id = $1 AND stage_key = $2 \
         AND cluster_key = $3 AND generation = $4",
    )
    .bind(campaign_id)
    .bind(stage_key)
    .bind(key)
    .bind(generation)
    .fetch_optional(&mut **tx)
    .await?
    .is_some())
}

/// One vote of a cluster as a decision reaches it.
struct Member {
    id: i64,
    group: String,
    candidate: i64,
    voided: bool,
}

/// The votes `ids` of the round with their group, candidate and whether they are set
/// aside: dense ids (a burst) read as a range in pages, sparse ones by id.
async fn votes_of(
    c: &mut AnyConnection,
    campaign_id: &str,
    stage_key: &str,
    ids: &RoaringTreemap,
) -> Result<Vec<Member>> {
    let (Some(lo), Some(hi)) = (ids.min(), ids.max()) else {
        return Ok(Vec::new());
    };
    const COLUMNS: &str = "SELECT v.id, v.group_key, v.candidate, d.vote_id FROM votes v \
         LEFT JOIN vote_voids d ON d.vote_id = v.id \
         WHERE v.campaign_id = $1 AND v.stage_key = $2";
    let member = |r: &sqlx::any::AnyRow| Member {
        id: r.get(0),
        group: r.get(1),
        candidate: r.get(2),
        voided: r.get::<Option<i64>, _>(3).is_some(),
    };
    let mut out = Vec::with_capacity(ids.len() as usize);
    if hi - lo < 4 * ids.len() {
        let mut after = lo as i64 - 1;
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{COLUMNS} AND v.id > $3 AND v.id <= $4 ORDER BY v.id LIMIT $5"
            )))
            .bind(campaign_id)
            .bind(stage_key)
            .bind(after)
            .bind(hi as i64)
            .bind(PAGE)
            .fetch_all(&mut *c)
            .await?;
            out.extend(
                rows.iter()
                    .map(member)
                    .filter(|m| ids.contains(m.id as u64)),
            );
            match rows.last() {
                Some(r) if rows.len() as i64 == PAGE => after = r.get(0),
                _ => return Ok(out),
            }
        }
    }
    let all: Vec<u64> = ids.iter().collect();
    for chunk in all.chunks(500) {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{COLUMNS} AND v.id IN {} ORDER BY v.id",
            crate::value_rows("", 1, chunk.len(), 3)
        )))
        .bind(campaign_id)
        .bind(stage_key);
        let mut q = rows;
        for id in chunk {
            q = q.bind(*id as i64);
        }
        out.extend(q.fetch_all(&mut *c).await?.iter().map(member));
    }
    Ok(out)
}

/// The (group, candidate) pairs of `votes`, each once: what zeroing reaches.
fn candidates_of(votes: &[Member]) -> BTreeSet<(String, i64)> {
    votes
        .iter()
        .map(|v| (v.group.clone(), v.candidate))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A read's ids count as settled only once a later read began `SETTLE` after it ended;
    /// until then each read is kept, and the highest settled one wins.
    #[test]
    fn reads_settle_once_a_later_read_begins_long_enough_after_them() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut reads = Vec::new();
        assert_eq!(settle(&mut reads, 0, t0, (at(1), 100)), 0);
        // Begun 5 s after the first ended: nothing settled yet.
        assert_eq!(settle(&mut reads, 0, at(6), (at(7), 180)), 0);
        assert_eq!(reads.len(), 2);
        // Begun 11 s after the first and 5 s after the second: the first's ids settle.
        assert_eq!(settle(&mut reads, 0, at(12), (at(13), 250)), 100);
        assert_eq!(reads, vec![(at(7), 180), (at(13), 250)]);
        // Long after both: the highest of them.
        assert_eq!(settle(&mut reads, 100, at(60), (at(61), 300)), 250);
        assert_eq!(reads, vec![(at(61), 300)]);
        // What was settled never goes back.
        assert_eq!(settle(&mut reads, 400, at(80), (at(81), 300)), 400);
    }
}
