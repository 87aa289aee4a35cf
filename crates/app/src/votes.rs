//! The online vote (东莞's 网络投票, issue 19): a vote cast through the group-commit
//! writer, the live counts read through a short cache, the merged ranking of the 公众组
//! and 专业组.
//!
//! A vote is not a move with an audit entry of its own: a city voting would make the
//! audit chain the bottleneck of the vote. Each vote is itself a record written once
//! (who by key, when, from where, its receipt); the round's opening, closing and freezing
//! are moves on the one path with their entries.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pingxuan_rules::Role;
use pingxuan_rules::campaign::{Campaign, StageKind};
use pingxuan_rules::selection::stage::{self, Phase};
use pingxuan_rules::vote::{self, GroupTally, Merged};
use pingxuan_store::Store;
use pingxuan_store::votes::{Cast, Clock, NewVote};
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};

/// Votes waiting at most this many to a transaction.
const BATCH: usize = 512;

/// Live counts are read again at most this often.
const TALLY_TTL: Duration = Duration::from_secs(2);

/// A round as the vote path needs it, cached briefly (the window and the limits are
/// checked again in the vote's transaction).
#[derive(Debug, Clone)]
pub struct Round {
    pub campaign: Arc<Campaign>,
    pub index: usize,
    pub phase: Phase,
    /// The candidates in the round, by id.
    pub candidates: Vec<i64>,
    /// Stage events of the whole campaign when read (a move is written after them).
    pub events: i64,
}

impl Round {
    pub fn stage(&self) -> &pingxuan_rules::campaign::Stage {
        &self.campaign.stages[self.index]
    }
}

struct Pending {
    vote: NewVote,
    reply: oneshot::Sender<Result<Cast>>,
    /// When it joined the lane's queue (the benchmark reads the wait).
    queued: Instant,
}

/// The writers of votes in this server: votes queue while a batch commits and go in the
/// next one together, so one fsync acknowledges many. One lane per writer; a voter's
/// votes always take the same lane.
#[derive(Clone)]
pub struct Ballots {
    store: Store,
    lanes: Arc<Vec<mpsc::Sender<Pending>>>,
    rounds: Cache<Round>,
    tallies: Cache<Arc<Tallies>>,
    decks: Cache<Deck>,
    /// A frozen round's Merkle tree with its leaves in order: built once, never changed.
    trees: Cache<Arc<CountTree>>,
    /// A frozen round's published count (`R.json`), labelled: never changes either.
    published: Cache<Arc<pingxuan_rules::vote::merkle::Published>>,
    /// One rebuild of a round's cards at a time: when they expire under a city's load,
    /// the others wait for it instead of each reading every candidate again.
    building: Arc<tokio::sync::Mutex<()>>,
}

/// Per round (campaign, stage): a value and when it was read.
pub(crate) type Cache<T> = Arc<Mutex<HashMap<(String, String), (Instant, T)>>>;

/// A frozen round's valid votes as the Merkle tree's leaves, in its order, and the tree.
#[derive(Debug)]
pub struct CountTree {
    /// (group, candidate, receipt), sorted.
    pub(crate) leaves: Vec<(String, i64, String)>,
    pub(crate) tree: pingxuan_rules::vote::merkle::Tree,
}

/// Live counts of a round: by group key, candidate → votes.
pub type Tallies = BTreeMap<String, BTreeMap<i64, u64>>;

impl Ballots {
    /// Starts the writers: SQLite's on a thread of its own (`on_own_thread`),
    /// PostgreSQL's on the current Tokio runtime. On PostgreSQL two lanes, each a
    /// writer with a batch of its own under way: one runs its statements while the other
    /// waits on its commit, so the server and the database both work. A voter's votes
    /// always go down the same lane, so two batches of this server never hold rows of one
    /// voter and cannot wait on each other crosswise (a deadlock with another server's
    /// batch is the store's to retry). SQLite has one writer anyway: one lane.
    pub fn start(store: Store, clock: Clock) -> Self {
        let lanes = match store.backend {
            pingxuan_store::Backend::Postgres => 2,
            pingxuan_store::Backend::Sqlite => 1,
        };
        let lanes: Vec<mpsc::Sender<Pending>> = (0..lanes)
            .map(|_| {
                let (queue, rx) = mpsc::channel::<Pending>(BATCH * 8);
                let lane = lane(store.clone(), rx, clock);
                if store.backend == pingxuan_store::Backend::Sqlite {
                    on_own_thread(lane);
                } else {
                    tokio::spawn(lane);
                }
                queue
            })
            .collect();
        Ballots {
            store,
            lanes: Arc::new(lanes),
            rounds: Default::default(),
            tallies: Default::default(),
            decks: Default::default(),
            trees: Default::default(),
            published: Default::default(),
            building: Default::default(),
        }
    }

    pub(crate) fn building(&self) -> &tokio::sync::Mutex<()> {
        &self.building
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Frozen rounds' published counts (`vote_receipts::published`).
    pub(crate) fn published(&self) -> &Cache<Arc<pingxuan_rules::vote::merkle::Published>> {
        &self.published
    }

    /// Frozen rounds' trees (`vote_receipts::receipt`).
    pub(crate) fn trees(&self) -> &Cache<Arc<CountTree>> {
        &self.trees
    }

    /// The voting page's cards per round (`vote_page::cards`).
    pub(crate) fn decks(&self) -> &Cache<Deck> {
        &self.decks
    }

    /// The round of `stage_key`, from the cache when it is under 2 s old.
    pub async fn round(&self, campaign_id: &str, stage_key: &str) -> Result<Round> {
        let key = (campaign_id.to_owned(), stage_key.to_owned());
        if let Some((at, r)) = self.rounds.lock().unwrap().get(&key)
            && at.elapsed() < TALLY_TTL
        {
            return Ok(r.clone());
        }
        let r = load_round(&self.store, campaign_id, stage_key).await?;
        self.rounds
            .lock()
            .unwrap()
            .insert(key, (Instant::now(), r.clone()));
        Ok(r)
    }

    /// The live counts, at most 2 s old; no page scans the votes.
    pub async fn tallies(&self, campaign_id: &str, stage_key: &str) -> Result<Arc<Tallies>> {
        let key = (campaign_id.to_owned(), stage_key.to_owned());
        if let Some((at, t)) = self.tallies.lock().unwrap().get(&key)
            && at.elapsed() < TALLY_TTL
        {
            return Ok(t.clone());
        }
        let mut t = Tallies::new();
        for ((group, candidate), n) in self.store.vote_tallies(campaign_id, stage_key).await? {
            t.entry(group)
                .or_default()
                .insert(candidate, n.max(0) as u64);
        }
        let t = Arc::new(t);
        self.tallies
            .lock()
            .unwrap()
            .insert(key, (Instant::now(), t.clone()));
        Ok(t)
    }
}

/// A lane's writer: takes the votes waiting, as one batch, one batch at a time, until
/// every sender is gone.
async fn lane(store: Store, mut rx: mpsc::Receiver<Pending>, clock: Clock) {
    // The lane's own connection, opened with its first vote: SQLite
    // throws a connection's page cache away whenever another connection
    // wrote since its last transaction, so a batch on whichever pool
    // connection came next read every index page afresh; on one of its
    // own, only the lane writes and its pages stay. While it cannot be
    // opened, a batch goes through the pool and the next tries again.
    // PostgreSQL keeps no such cache: its lanes use the pool.
    let mut writer: Option<Store> = None;
    while let Some(first) = rx.recv().await {
        let writer = match &writer {
            Some(w) => w.clone(),
            None if store.backend == pingxuan_store::Backend::Sqlite => {
                match store.detached().await {
                    Ok(own) => writer.insert(own).clone(),
                    Err(e) => {
                        tracing::warn!(error = %e, "this batch of votes goes through the pool");
                        store.clone()
                    }
                }
            }
            None => store.clone(),
        };
        // SQLite's turn (a WAL restart may hold it a few ms); the votes
        // that came meanwhile join this batch.
        let turning = Instant::now();
        let turn = writer.writing().await;
        let turned = turning.elapsed();
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        // A panic in one batch (its voters get an error) must not stop the
        // writer.
        let (n, began) = (batch.len(), Instant::now());
        let waited = batch
            .iter()
            .map(|p| began - p.queued)
            .max()
            .unwrap_or_default();
        writer.note_vote_batch(waited, n);
        if let Err(e) = tokio::spawn(write(writer.clone(), batch, clock)).await {
            tracing::error!(error = %e, "a batch of votes panicked");
        }
        drop(turn);
        // For the benchmark's reading of batch times as the tables grow.
        tracing::debug!(
            votes = n,
            ms = began.elapsed().as_millis() as u64,
            waited_ms = waited.as_millis() as u64,
            turn_us = turned.as_micros() as u64,
            "vote batch"
        );
    }
}

/// SQLite's one lane runs on a thread of its own with a runtime of its own: on the
/// server's runtime each of a batch's statements, answered by SQLite's connection thread,
/// waited behind the requests' tasks to be seen — at 80% of the peak, thousands of them a
/// second — and the batch held the writers' turn meanwhile. Where the thread cannot be
/// started, the lane runs on the server's runtime.
fn on_own_thread(lane: impl std::future::Future<Output = ()> + Send + 'static) {
    // The senders find the lane gone if its runtime cannot be built: each vote answers
    // an error.
    if let Err(lane) = pingxuan_store::own_thread::run("pingxuan-votes", move || lane) {
        tracing::warn!("the vote lane runs on the server's runtime");
        tokio::spawn(lane());
    }
}

async fn write(store: Store, batch: Vec<Pending>, clock: Clock) {
    // One transaction per round in the batch (the limits are the round's, read in it).
    let mut by_round: BTreeMap<(String, String), Vec<Pending>> = BTreeMap::new();
    for p in batch {
        by_round
            .entry((p.vote.campaign_id.clone(), p.vote.stage_key.clone()))
            .or_default()
            .push(p);
    }
    for pending in by_round.into_values() {
        let votes: Vec<NewVote> = pending.iter().map(|p| p.vote.clone()).collect();
        match store.cast_round_votes(&votes, clock).await {
            Ok(casts) => {
                for (p, c) in pending.into_iter().zip(casts) {
                    let _ = p.reply.send(Ok(c));
                }
            }
            Err(e) => fail(pending, &e.to_string()),
        }
    }
}

fn fail(pending: Vec<Pending>, why: &str) {
    tracing::error!(votes = pending.len(), error = why, "votes not stored");
    for p in pending {
        let _ = p
            .reply
            .send(Err(Error::Internal(format!("votes not stored: {why}"))));
    }
}

/// The round as its events leave it, for anyone (the voting page is public).
pub(crate) async fn load_round(store: &Store, campaign_id: &str, stage_key: &str) -> Result<Round> {
    let campaign = crate::applications::campaign_model(store, campaign_id).await?;
    let index = campaign
        .stages
        .iter()
        .position(|s| s.key == stage_key && s.kind == StageKind::Vote)
        .ok_or(Error::NotFound)?;
    let events = store.stage_events(campaign_id).await?;
    Ok(round_of(campaign, index, &events))
}

/// The round of the stage at `index` as the campaign's stage `events` leave it.
pub(crate) fn round_of(
    campaign: Arc<Campaign>,
    index: usize,
    events: &[pingxuan_store::stages::StageEvent],
) -> Round {
    let key = &campaign.stages[index].key;
    let state = stage::replay(
        events
            .iter()
            .filter(|e| &e.stage_key == key)
            .map(|e| &e.event),
    );
    Round {
        index,
        phase: state.phase,
        candidates: state.candidates,
        events: events.len() as i64,
        campaign,
    }
}

/// Refuses a vote or a ballot while the round is not open, in its words.
fn taking(round: &Round) -> Result<()> {
    let name = &round.stage().name;
    match round.phase {
        Phase::Open => Ok(()),
        Phase::Pending => Err(Error::conflict(
            "vote_not_open",
            format!("“{name}”尚未开始"),
        )),
        _ => Err(Error::conflict(
            "vote_closed",
            format!("“{name}”投票已结束"),
        )),
    }
}

/// Who casts a vote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Voter {
    /// A member of the public by their verified phone (`vote_voters.id`).
    Public(i64),
    /// An expert of the campaign's pool (`users.id`).
    Expert(i64),
}

impl Voter {
    fn key(&self) -> String {
        match self {
            Voter::Public(id) => format!("p:{id}"),
            Voter::Expert(id) => format!("e:{id}"),
        }
    }

    fn role(&self) -> Role {
        match self {
            Voter::Public(_) => Role::Voter,
            Voter::Expert(_) => Role::Expert,
        }
    }
}

/// Where a vote came from, kept for a later review.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: String,
    pub share: String,
    /// The first-party device cookie as sent (hashed before it is kept).
    pub device: String,
    /// The browser's traits as the page sent them (hashed with the user agent).
    pub traits: String,
    pub user_agent: String,
    pub idempotency: Option<String>,
}

/// The /24 of an IPv4 address or the /64 of an IPv6 one (carrier NAT puts many voters
/// behind one address; a review looks at networks as much as addresses).
pub fn network_of(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        // An IPv4 client seen through an IPv6 socket is its IPv4 network.
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_some() => network_of(
            &v6.to_ipv4_mapped()
                .map(|a| a.to_string())
                .unwrap_or_default(),
        ),
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Err(_) => String::new(),
    }
}

/// A receipt: 16 characters of Crockford's base32 in groups of four, no phone and nothing
/// that names the voter. The first four count the seconds (wrapping every 12 days: who
/// holds a receipt learns roughly when it was issued, nothing more), so receipts
/// issued together sit together in the receipts' index — a page written for many votes,
/// not one each —; the twelve after them are random (60 bits), so a receipt cannot be
/// guessed even knowing when it was issued.
pub fn new_receipt() -> String {
    receipt_at(pingxuan_store::now())
}

fn receipt_at(unix: i64) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let seconds = unix as u64 & 0xF_FFFF;
    let random: [u8; 12] = rand::random();
    let chars: Vec<char> = (0..4)
        .map(|i| ALPHABET[(seconds >> (15 - 5 * i) & 31) as usize] as char)
        .chain(random.iter().map(|b| ALPHABET[usize::from(b % 32)] as char))
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A receipt as typed back (lower case, spaces, no dashes, O for 0, I or L for 1) in the
/// form `new_receipt` makes: `7K2M-…`.
pub fn receipt_as_typed(typed: &str) -> String {
    let chars: Vec<char> = typed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(64)
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    if chars.len() != 16 {
        return chars.into_iter().collect();
    }
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A stored vote's receipt and the voting day it counted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub code: String,
    pub day: String,
    /// The idempotency key was seen before: this is the first vote's receipt.
    pub repeated: bool,
}

/// Casts `voter`'s vote for `candidate` in the round `stage_key`: the round open, the
/// candidate in it, the group the voter's; then the window and every limit, by the
/// database, in the batch's transaction. Acknowledged only once on disk.
pub async fn cast(
    ballots: &Ballots,
    campaign_id: &str,
    stage_key: &str,
    voter: &Voter,
    candidate: i64,
    client: &Client,
) -> Result<Receipt> {
    // An expert votes on a ballot of its own (`submit_ballot`), never vote by vote.
    if matches!(voter, Voter::Expert(_)) {
        return Err(Error::Forbidden);
    }
    let round = ballots.round(campaign_id, stage_key).await?;
    let stage = round.stage();
    let group = stage
        .groups
        .iter()
        .find(|g| g.role == voter.role())
        .ok_or(Error::Forbidden)?;
    taking(&round)?;
    if !round.candidates.contains(&candidate) {
        return Err(Error::invalid(
            "not_in_round",
            "该候选人不在本轮投票名单中",
            Some("candidate"),
        ));
    }
    let device = if client.device.is_empty() {
        String::new()
    } else {
        ballots.store.sealer.lookup(&client.device)[..32].to_owned()
    };
    // Keyed like the cookie: the same traits on one server's key hash alike, and nothing
    // of them can be read back.
    let traits = if client.traits.trim().is_empty() {
        String::new()
    } else {
        let seen: String = client.traits.chars().take(300).collect();
        ballots
            .store
            .sealer
            .lookup(&format!("traits\n{seen}\n{}", client.user_agent))[..32]
            .to_owned()
    };
    let vote = NewVote {
        campaign_id: campaign_id.to_owned(),
        stage_key: stage_key.to_owned(),
        group_key: group.key.clone(),
        voter: voter.key(),
        candidate,
        receipt: new_receipt(),
        idempotency: client
            .idempotency
            .as_ref()
            .map(|k| k.chars().take(64).collect()),
        client_ip: client.ip.clone(),
        client_net: network_of(&client.ip),
        share: client.share.chars().take(64).collect(),
        device,
        traits,
        user_agent: client.user_agent.chars().take(300).collect(),
    };
    let (reply, answer) = oneshot::channel();
    let lane = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        vote.voter.hash(&mut h);
        (h.finish() % ballots.lanes.len() as u64) as usize
    };
    ballots.lanes[lane]
        .send(Pending {
            vote,
            reply,
            queued: Instant::now(),
        })
        .await
        .map_err(|_| Error::Internal("the vote writer has stopped".to_owned()))?;
    let cast = answer
        .await
        .map_err(|_| Error::Internal("the vote writer dropped a vote".to_owned()))??;
    match cast {
        Cast::Stored { receipt, day } => Ok(Receipt {
            code: receipt,
            day,
            repeated: false,
        }),
        Cast::Repeated { receipt } => Ok(Receipt {
            code: receipt,
            day: String::new(),
            repeated: true,
        }),
        Cast::Refused { code, message } => Err(Error::conflict(code, message)),
    }
}

/// The merged ranking of a round from its live counts, with the formula and each
/// candidate's parts; refused in words while a weight or a scaling is unset.
pub async fn merged(ballots: &Ballots, campaign_id: &str, stage_key: &str) -> Result<Merged> {
    let round = ballots.round(campaign_id, stage_key).await?;
    let tallies = ballots.tallies(campaign_id, stage_key).await?;
    let stage = round.stage();
    let groups: Vec<GroupTally<'_>> = stage
        .groups
        .iter()
        .map(|g| GroupTally {
            group: g,
            counts: tallies.get(&g.key).cloned().unwrap_or_default(),
        })
        .collect();
    vote::merge(&groups, &round.candidates).map_err(|n| {
        Error::conflict(
            "vote_not_set",
            format!("请先在活动设置中设定{}", n.0.join("、")),
        )
    })
}

/// Freezes a round once voting has closed (a minute after, so every batch begun before the
/// close has committed): the votes counted once from the votes, checked against the live
/// counts, kept with their digest; the stage closes with it and ranks by the frozen count.
/// One move: the decision in `rules::vote::may_freeze`, the count, the stage's closing and
/// the audit entry in one transaction.
pub async fn freeze(
    store: &Store,
    access: &crate::Access,
    campaign_id: &str,
    stage_key: &str,
    ip: Option<&str>,
) -> Result<pingxuan_store::votes::Frozen> {
    if !access.organizes(campaign_id) {
        return Err(Error::Forbidden);
    }
    let round = load_round(store, campaign_id, stage_key).await?;
    let stage = round.stage();
    if round.phase != Phase::Open {
        return Err(Error::conflict(
            "stage_state",
            format!("“{}”{}，不能冻结结果", stage.name, round.phase.text()),
        ));
    }
    let rules = stage.vote.clone().unwrap_or_default();
    let frozen = store.frozen_votes(campaign_id, stage_key).await?;
    vote::may_freeze(&rules, frozen.is_some(), pingxuan_store::now())
        .map_err(|r| Error::conflict(r.code, r.message))?;
    // The signals once more over every vote, the last ones too, read afresh (not what a
    // server kept from its earlier scans); what they find is reviewed before anything is
    // counted.
    crate::vote_review::scan_whole(store, campaign_id, stage_key, pingxuan_store::now()).await?;
    let open = store.undecided_clusters(campaign_id, stage_key).await?;
    if open > 0 {
        return Err(Error::conflict(
            "suspects_open",
            format!(
                "尚有 {open} 组可疑投票未处理（含待另一位组织者确认的），请先在“可疑投票核查”中逐组处理，再冻结结果"
            ),
        ));
    }
    // The campaign's count of stage events, as every stage move is written after.
    let after = round.events;
    let groups: Vec<(String, String)> = stage
        .groups
        .iter()
        .map(|g| (g.key.clone(), g.name.clone()))
        .collect();
    let name = stage.name.clone();
    let frozen = store
        .freeze_votes(campaign_id, stage_key, after, access.actor(), |f| {
            let per_group: Vec<String> = groups
                .iter()
                .map(|(key, name)| {
                    let n: i64 = f
                        .counts
                        .iter()
                        .filter(|((g, _), _)| g == key)
                        .map(|(_, n)| n)
                        .sum();
                    format!("{name} {n} 票")
                })
                .collect();
            let check = if f.live_matched {
                "与实时计数一致".to_owned()
            } else {
                "与实时计数不一致，以逐票清点为准".to_owned()
            };
            let invalid: i64 = f.invalid.values().sum();
            let root = f.root.clone().unwrap_or_default();
            pingxuan_store::audit::Audit::new(
                access.actor(),
                "vote_frozen",
                format!("campaign:{campaign_id}/stage:{stage_key}"),
            )
            .detail(format!(
                "冻结“{name}”投票结果：逐票清点有效票{}，{check}；作废 {invalid} 票；清点摘要 sha256:{}；有效票默克尔根 {root}",
                per_group.join("、"),
                f.digest
            ))
            .ip(ip)
        })
        .await
        .map_err(crate::error::stale_as(
            "这一阶段刚被别人操作过（或结果已冻结），您的操作未执行；请刷新页面后查看",
        ))?;
    // No scan reads a frozen round again.
    store.forget_vote_facts(campaign_id, stage_key);
    Ok(frozen)
}

/// One candidate on an expert's ballot.
#[derive(Debug, Clone)]
pub struct BallotLine {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    /// Why the expert must not choose this candidate, if so.
    pub conflict: Option<String>,
}

/// An expert's ballot of the 专业组 as their page shows it.
#[derive(Debug, Clone)]
pub struct BallotView {
    pub round: Round,
    /// How many the expert may choose.
    pub size: u32,
    pub lines: Vec<BallotLine>,
    /// The candidates of the ballot already submitted (final).
    pub submitted: Option<Vec<i64>>,
}

/// The ballot of an expert of the campaign's pool: the round's candidates with those they
/// must not judge marked (the same conflicts as an assignment: the same person, the same
/// 工作单位, the expert at the 推荐单位), the size, and what they submitted.
pub async fn ballot_view(
    store: &Store,
    access: &crate::Access,
    campaign_id: &str,
    stage_key: &str,
) -> Result<BallotView> {
    use pingxuan_rules::selection::conflict;
    let round = load_round(store, campaign_id, stage_key).await?;
    let stage = round.stage();
    if !stage.groups.iter().any(|g| g.role == Role::Expert) {
        return Err(Error::NotFound);
    }
    let pool = store.experts(campaign_id).await?;
    let me = pool
        .iter()
        .find(|e| e.user_id == access.user.id && e.active)
        .ok_or(Error::Forbidden)?;
    let persons: std::collections::HashMap<i64, String> = store
        .candidate_person_keys(campaign_id)
        .await?
        .into_iter()
        .collect();
    let rows: Vec<_> = store
        .desk_rows(campaign_id)
        .await?
        .into_iter()
        .filter(|r| round.candidates.contains(&r.id))
        .collect();
    let found = conflict::find(
        &[conflict::Expert {
            id: me.user_id,
            person: me.person.clone(),
            work_unit: me.work_unit.clone(),
        }],
        &rows
            .iter()
            .map(|r| conflict::Candidate {
                id: r.id,
                person: persons.get(&r.id).cloned(),
                work_unit: r.work_unit.clone(),
                recommender: r.recommender.clone(),
            })
            .collect::<Vec<_>>(),
        &conflict::Aliases::with(
            &round
                .campaign
                .conflicts
                .aliases
                .iter()
                .map(|(short, full)| (short.as_str(), full.as_str()))
                .collect::<Vec<_>>(),
        ),
    );
    let size = stage
        .vote
        .as_ref()
        .and_then(|v| v.ballot_size)
        .or(stage.advance)
        .unwrap_or(round.candidates.len() as u32);
    let lines = rows
        .into_iter()
        .map(|r| BallotLine {
            conflict: found.text(me.user_id, r.id),
            id: r.id,
            number: r.number,
            name: r.name,
            work_unit: r.work_unit,
            recommender: r.recommender,
        })
        .collect();
    let submitted = store.ballot_of(campaign_id, stage_key, me.user_id).await?;
    Ok(BallotView {
        round,
        size,
        lines,
        submitted,
    })
}

/// Submits an expert's ballot: checked whole by `rules::vote::ballot` (in the round, at
/// most the size, nobody they must not judge), then stored once with a vote and a receipt
/// per candidate, within the window; a submitted ballot is final. Returns the receipts.
pub async fn submit_ballot(
    store: &Store,
    access: &crate::Access,
    campaign_id: &str,
    stage_key: &str,
    chosen: &[i64],
) -> Result<Vec<String>> {
    let v = ballot_view(store, access, campaign_id, stage_key).await?;
    let stage = v.round.stage();
    taking(&v.round)?;
    if v.submitted.is_some() {
        return Err(Error::conflict(
            "ballot_submitted",
            "您的专业组投票已提交，不能更改",
        ));
    }
    let conflicts: BTreeMap<i64, (String, String)> = v
        .lines
        .iter()
        .filter_map(|l| l.conflict.clone().map(|c| (l.id, (l.name.clone(), c))))
        .collect();
    let list = vote::ballot(chosen, &v.round.candidates, v.size, &conflicts)
        .map_err(|p| Error::invalid("ballot_invalid", p.join("；"), Some("candidates")))?;
    let group = stage
        .groups
        .iter()
        .find(|g| g.role == Role::Expert)
        .ok_or(Error::NotFound)?;
    let with_receipts: Vec<(i64, String)> = list.iter().map(|id| (*id, new_receipt())).collect();
    match store
        .cast_ballot(
            &stage.vote.clone().unwrap_or_default(),
            campaign_id,
            stage_key,
            &group.key,
            access.user.id,
            &with_receipts,
            Clock::Database,
        )
        .await?
    {
        None => Ok(with_receipts.into_iter().map(|(_, r)| r).collect()),
        Some(Cast::Refused { code, message }) => Err(Error::conflict(code, message)),
        Some(other) => Err(Error::Internal(format!(
            "unexpected ballot answer {other:?}"
        ))),
    }
}

/// A candidate as the voting page shows them.
#[derive(Debug, Clone)]
pub struct Card {
    /// Their number in the round (1, 2 …, the round's order): what voters search by and
    /// what a vote names.
    pub number: usize,
    pub id: i64,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    /// 事迹简介 as a card shows it (cut like the 汇总表's).
    pub summary: String,
    /// 主要事迹 in full, for the candidate's page.
    pub deeds: String,
    /// A portrait, photos of their work, the video: the gallery's choice of files.
    pub files: Vec<pingxuan_store::release::ReleaseFile>,
}

impl Card {
    pub fn portrait(&self) -> Option<i64> {
        self.files
            .iter()
            .find(|f| f.role == "portrait")
            .map(|f| f.seq)
    }
}

/// The cards of a round with the round's event count they were built at.
#[derive(Debug, Clone)]
pub struct Deck {
    pub events: i64,
    pub cards: Arc<Vec<Card>>,
    /// The recommending units' share codes of the round (a vote keeps only one of these).
    pub shares: Arc<Vec<String>>,
    /// Once the round is frozen: its result as the public reads it.
    pub standings: Option<Arc<Standings>>,
}

/// A frozen round's result for the public: the count as frozen, merged as the file says,
/// ranked, and who goes on once the office has advanced them.
#[derive(Debug, Clone)]
pub struct Standings {
    /// The groups' names, in the order of each row's counts.
    pub groups: Vec<String>,
    /// “综合得分 = …” with each group's totals.
    pub formula: String,
    /// Best first.
    pub rows: Vec<Standing>,
    /// SHA-256 of the frozen count, as the audit trail keeps it.
    pub digest: String,
    pub frozen_at: i64,
    /// The office has advanced the stage: who goes on is final.
    pub confirmed: bool,
    /// How many go on, as the file says.
    pub advance: Option<u32>,
    /// The stage they go on to.
    pub next: Option<String>,
    /// The Merkle root over the valid votes (issue 20), when the freeze kept one.
    pub root: Option<String>,
    /// Votes set aside in all, and each decision that set votes aside: (signal, votes,
    /// reason) — what and why, without the networks and devices of the evidence.
    pub invalid: i64,
    pub set_aside: Vec<(String, i64, String)>,
}

#[derive(Debug, Clone)]
pub struct Standing {
    pub rank: u32,
    /// The candidate's number in the round.
    pub number: usize,
    pub name: String,
    pub work_unit: String,
    /// Valid votes per group, in `Standings::groups`' order.
    pub counts: Vec<u64>,
    /// Votes set aside per group, the same order.
    pub invalid: Vec<u64>,
    /// The merged score as shown (four places).
    pub total: String,
    /// Goes on to the next stage (once confirmed).
    pub advanced: bool,
    /// Where an objection to the 公示 took them off the list, that it did (not why).
    pub note: String,
}

/// A recommending unit's own share code for a round: kept with each vote that came by its
/// link, so a review sees which channel brought which votes. Derived, not stored: keyed by
/// the sealing key, so nobody can make another unit's code.
pub fn share_code(
    store: &pingxuan_store::Store,
    campaign_id: &str,
    stage_key: &str,
    unit_id: i64,
) -> String {
    store
        .sealer
        .lookup(&format!("vote-share|{campaign_id}|{stage_key}|{unit_id}"))[..8]
        .to_owned()
}

/// Each recommending unit of the campaign with its share code, for the organiser to hand out.
pub async fn shares(
    store: &pingxuan_store::Store,
    campaign_id: &str,
    stage_key: &str,
) -> Result<Vec<(String, String)>> {
    Ok(store
        .list_units(campaign_id)
        .await?
        .into_iter()
        .filter(|u| u.kind == Role::Recommender)
        .map(|u| {
            let code = share_code(store, campaign_id, stage_key, u.id);
            (u.name, code)
        })
        .collect())
}

/// A 专业组 ballot open to an expert, for their 我的评审 page.
#[derive(Debug, Clone)]
pub struct MyBallot {
    pub campaign_id: String,
    pub campaign_name: String,
    pub stage_key: String,
    pub stage_name: String,
    pub submitted: bool,
}

/// The 专业组 ballots of the expert: every vote stage with a 专业组 that is open, in the
/// campaigns whose active pool they are in.
pub async fn my_ballots(store: &Store, access: &crate::Access) -> Result<Vec<MyBallot>> {
    let mut out = Vec::new();
    let campaigns: std::collections::BTreeSet<String> = access
        .roles
        .iter()
        .filter(|r| r.role == Role::Expert)
        .filter_map(|r| r.campaign_id.clone())
        .collect();
    for campaign_id in campaigns {
        let campaign = crate::applications::campaign_model(store, &campaign_id).await?;
        if !campaign
            .stages
            .iter()
            .any(|s| s.kind == StageKind::Vote && s.groups.iter().any(|g| g.role == Role::Expert))
        {
            continue;
        }
        if !store
            .experts(&campaign_id)
            .await?
            .iter()
            .any(|e| e.user_id == access.user.id && e.active)
        {
            continue;
        }
        let events = store.stage_events(&campaign_id).await?;
        for (i, s) in campaign.stages.iter().enumerate() {
            if s.kind != StageKind::Vote || !s.groups.iter().any(|g| g.role == Role::Expert) {
                continue;
            }
            if round_of(campaign.clone(), i, &events).phase != Phase::Open {
                continue;
            }
            out.push(MyBallot {
                campaign_id: campaign_id.clone(),
                campaign_name: campaign.campaign.name.clone(),
                stage_key: s.key.clone(),
                stage_name: s.name.clone(),
                submitted: store
                    .ballot_of(&campaign_id, &s.key, access.user.id)
                    .await?
                    .is_some(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_of_addresses() {
        assert_eq!(network_of("203.0.113.77"), "203.0.113.0/24");
        assert_eq!(
            network_of("2001:db8:85a3:8d3:1319:8a2e:370:7348"),
            "2001:db8:85a3:8d3::/64"
        );
        assert_eq!(network_of("::ffff:203.0.113.77"), "203.0.113.0/24");
        assert_eq!(network_of("not an address"), "");
    }

    #[test]
    fn receipts_are_random_and_readable() {
        let a = new_receipt();
        assert_eq!(a.len(), 19);
        assert_eq!(a.matches('-').count(), 3);
        assert_ne!(a, new_receipt());
    }

    #[test]
    fn receipts_of_one_second_share_their_head_and_follow_the_clock() {
        let t = 1_700_000_000;
        let (a, b) = (receipt_at(t), receipt_at(t));
        assert_eq!(a[..4], b[..4]);
        assert_ne!(a[5..], b[5..]);
        let later = receipt_at(t + 1);
        assert!(later[..4] > a[..4], "{a} {later}");
        // 2^20 seconds later the head comes round again.
        assert_eq!(receipt_at(t + (1 << 20))[..4], a[..4]);
    }

    #[test]
    fn a_receipt_typed_back_reads_as_issued() {
        let a = new_receipt();
        assert_eq!(receipt_as_typed(&a.to_lowercase().replace('-', " ")), a);
        assert_eq!(
            receipt_as_typed("7k2m o1il 0000 abcd"),
            "7K2M-0111-0000-ABCD"
        );
        assert_eq!(receipt_as_typed("NOSUCH"), "N0SUCH");
    }
}
