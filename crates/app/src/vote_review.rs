//! The office's review of suspect votes (issue 20). `scan` runs the signals of
//! `rules::vote::signals` over a round's votes off the vote path (a worker every few
//! minutes, the review page's 重新检测, and the freeze before it counts) and keeps their
//! clusters. Each decision is one move: `rules::vote::review` decides, then the store writes
//! the cluster's verdict, the votes it sets aside, the lowered live counts and the audit
//! entry in one transaction — or, above the campaign's size, a proposal another organiser
//! confirms.

use std::collections::HashMap;
use std::time::Duration;

use pingxuan_rules::campaign::StageKind;
use pingxuan_rules::vote::review::{self, Step, Verdict};
use pingxuan_rules::vote::signals::{self, Signal, Thresholds};
use pingxuan_store::Store;
use pingxuan_store::audit::Audit;
use pingxuan_store::vote_review::{Cluster, Decision, Found, Scanned, SetAside};

use crate::access::Access;
use crate::error::{Error, Result};

/// The campaign's vote stage by its key; not found for any other stage.
async fn vote_stage(
    store: &Store,
    campaign_id: &str,
    stage_key: &str,
) -> Result<pingxuan_rules::campaign::Stage> {
    crate::applications::campaign_model(store, campaign_id)
        .await?
        .stages
        .iter()
        .find(|s| s.key == stage_key && s.kind == StageKind::Vote)
        .cloned()
        .ok_or(Error::NotFound)
}

/// Runs the signals over a round's votes and keeps what they find. Nothing once frozen.
/// The reading and the computing run aside (`aside`: their own thread and connection, at
/// lower CPU priority), the clusters are written here: each changed cluster's votes as one
/// row in short transactions first, then one that publishes them (`Store::save_clusters`).
pub async fn scan(store: &Store, campaign_id: &str, stage_key: &str, now: i64) -> Result<Scanned> {
    let _lease = lease_round(store, campaign_id, stage_key).await?;
    scan_leased(store, campaign_id, stage_key, now, false).await
}

/// `scan`, reading every vote of the round afresh rather than only those cast since the
/// last scan of this server: the freeze's, which counts from what it finds.
pub async fn scan_whole(
    store: &Store,
    campaign_id: &str,
    stage_key: &str,
    now: i64,
) -> Result<Scanned> {
    let _lease = lease_round(store, campaign_id, stage_key).await?;
    scan_leased(store, campaign_id, stage_key, now, true).await
}

/// The round's scan lease, waited for. One scan of a round at a time on every server (the
/// worker's, 重新检测, the freeze's): two that overlapped would each publish flags the
/// other wrote. The lease is given back when dropped — at the scan's end, also when its
/// request is dropped midway — and lapses by itself should its server die.
async fn lease_round(store: &Store, campaign_id: &str, stage_key: &str) -> Result<ScanLease> {
    let lease = ScanLease {
        store: store.clone(),
        name: format!("vote-scan:{campaign_id}:{stage_key}"),
        owner: pingxuan_store::leases::owner_name(),
    };
    let waited = std::time::Instant::now();
    while !store
        .try_lease(&lease.name, &lease.owner, SCAN_LEASE_SECS)
        .await?
    {
        if waited.elapsed() > SCAN_WAIT {
            return Err(Error::conflict(
                "scan_busy",
                "本轮投票正在检测中，请几分钟后再试",
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    Ok(lease)
}

/// How long a scan may hold its round's lease: beside a flat-out vote on SQLite a scan of
/// a million votes took 144 s (its writes wait for the votes'), so with room to spare.
const SCAN_LEASE_SECS: i64 = 1800;
/// How long a scan waits for the one under way before it gives up: the freeze waits for
/// the worker's scan to end rather than fail.
const SCAN_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// A round's scan lease, given back when dropped (the scan's end, or its request gone).
struct ScanLease {
    store: Store,
    name: String,
    owner: String,
}

impl Drop for ScanLease {
    fn drop(&mut self) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (store, name, owner) = (
            self.store.clone(),
            std::mem::take(&mut self.name),
            std::mem::take(&mut self.owner),
        );
        rt.spawn(async move {
            if let Err(e) = store.release_lease(&name, &owner).await {
                // It lapses by itself.
                tracing::warn!(error = %e, lease = %name, "scan lease not given back");
            }
        });
    }
}

async fn scan_leased(
    store: &Store,
    campaign_id: &str,
    stage_key: &str,
    now: i64,
    whole: bool,
) -> Result<Scanned> {
    let stage = vote_stage(store, campaign_id, stage_key).await?;
    let thresholds: Thresholds = stage
        .vote
        .as_ref()
        .and_then(|v| v.signals.clone())
        .unwrap_or_default();
    let (cid, key) = (campaign_id.to_owned(), stage_key.to_owned());
    let began = std::time::Instant::now();
    let (found, flags, candidate_of, (read, computed, rested, votes)) =
        crate::aside::run(store, move |own| async move {
            let began = std::time::Instant::now();
            let (votes, candidate_of) = public_votes(&own, &cid, &key, whole).await?;
            let read = began.elapsed();
            // Beside a running vote (SQLite), a rest after each signal's pass as long as
            // the pass took: at 80% of the vote's peak the machine had a quarter of its
            // CPU left, and 5 s of computing at once over 1.6M votes, even at a lower
            // priority, put a third of those seconds' votes over 50 ms. This thread is
            // the scan's own: sleeping holds up nothing else.
            let (mut mark, mut rested) = (std::time::Instant::now(), Duration::ZERO);
            let found = signals::find_paced(&votes, &thresholds, &mut || {
                if own.votes_coming_in() {
                    let rest = mark.elapsed().min(Duration::from_secs(2));
                    std::thread::sleep(rest);
                    rested += rest;
                }
                mark = std::time::Instant::now();
            });
            let found: Vec<Found> = found
                .into_iter()
                .map(|c| Found {
                    key: c.key,
                    signal: c.signal.key().to_owned(),
                    evidence: c.evidence,
                    votes: c.votes,
                })
                .collect();
            let computed = began.elapsed() - read;
            // The clusters' votes as they stand, read here too; no other scan of the round
            // writes them meanwhile (the lease).
            let flags = own.round_flags(&cid, &key).await?;
            Ok((
                found,
                flags,
                candidate_of,
                (read, computed, rested, votes.len()),
            ))
        })
        .await?;
    let saving = std::time::Instant::now();
    let scanned = store
        .save_clusters(campaign_id, stage_key, &found, flags, &candidate_of, now)
        .await
        .map_err(frozen_as_conflict)?;
    // Where a scan's time goes, for the operator and the benchmark.
    tracing::info!(
        campaign = campaign_id,
        stage = stage_key,
        votes,
        clusters = found.len(),
        read_ms = read.as_millis() as u64,
        compute_ms = computed.saturating_sub(rested).as_millis() as u64,
        rested_ms = rested.as_millis() as u64,
        save_ms = saving.elapsed().as_millis() as u64,
        total_ms = began.elapsed().as_millis() as u64,
        "vote signals scanned"
    );
    Ok(scanned)
}

/// The public's votes of a round as the signals read them, each with its voter's phone
/// (an expert's ballot is cast at once by design and is no 刷票), and each vote's
/// candidate by id. Only the votes cast since this server's last scan of the round are
/// read from the database, unless `whole` (`Store::vote_facts`).
async fn public_votes(
    store: &Store,
    campaign_id: &str,
    stage_key: &str,
    whole: bool,
) -> Result<(Vec<signals::Vote>, HashMap<i64, i64>)> {
    let facts = store.vote_facts(campaign_id, stage_key, whole).await?;
    let candidate_of: HashMap<i64, i64> = facts.iter().map(|f| (f.id, f.candidate)).collect();
    let phones: HashMap<i64, u64> = store
        .voter_phones(campaign_id)
        .await?
        .into_iter()
        .filter_map(|(id, sealed)| {
            let plain = store.sealer.open(&sealed)?;
            Some((id, plain.parse().ok()?))
        })
        .collect();
    let votes = facts
        .into_iter()
        // Voters are `p:{id}` for a phone and `e:{id}` for an expert: experts apart.
        .filter_map(|f| {
            let voter = f.voter.strip_prefix("p:")?.parse().ok()?;
            Some(signals::Vote {
                id: f.id,
                at: f.cast_at,
                voter,
                net: f.client_net,
                ip: f.client_ip,
                device: f.device,
                traits: f.traits,
                phone: phones.get(&voter).copied(),
            })
        })
        .collect();
    Ok((votes, candidate_of))
}

fn frozen_as_conflict(e: pingxuan_store::StoreError) -> Error {
    match e {
        pingxuan_store::StoreError::Stale => Error::conflict(
            "stale",
            "这一组可疑投票刚被别人处理过，或本轮结果已冻结；您的操作未执行，请刷新页面后查看",
        ),
        other => other.into(),
    }
}

/// A cluster as the review page shows it.
#[derive(Debug, Clone)]
pub struct ClusterView {
    pub cluster: Cluster,
    pub signal_name: &'static str,
    /// 待处理, 待确认, or the decision in words.
    pub status: String,
    /// Whom its votes went to, most first: “候选人02 38 票、候选人05 2 票” — what a
    /// zeroing would reach.
    pub targets: String,
}

/// The review of a round: its clusters, what may be decided, whether it is frozen.
#[derive(Debug, Clone)]
pub struct Review {
    pub stage_name: String,
    pub frozen: bool,
    pub zero_allowed: bool,
    pub second_above: Option<u32>,
    pub clusters: Vec<ClusterView>,
}

impl Review {
    /// Undecided clusters and proposals awaiting a second organiser.
    pub fn open(&self) -> usize {
        self.clusters
            .iter()
            .filter(|c| !c.cluster.decided())
            .count()
    }
}

/// A signal's name on the pages, by its key.
pub(crate) fn signal_name(key: &str) -> &'static str {
    signal_of(key).map_or("其他", Signal::name)
}

fn signal_of(key: &str) -> Option<Signal> {
    [
        Signal::Burst,
        Signal::Device,
        Signal::Hour,
        Signal::Run,
        Signal::Prefix,
        Signal::Metronome,
    ]
    .into_iter()
    .find(|s| s.key() == key)
}

/// The round's clusters for its organisers.
pub async fn review(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    stage_key: &str,
) -> Result<Review> {
    if !access.organizes(campaign_id) {
        return Err(Error::Forbidden);
    }
    let stage = vote_stage(store, campaign_id, stage_key).await?;
    let rules = stage.vote.clone().unwrap_or_default();
    let frozen = store.frozen_votes(campaign_id, stage_key).await?.is_some();
    let clusters = store.clusters(campaign_id, stage_key).await?;
    let mut names = std::collections::HashMap::new();
    for c in &clusters {
        for id in [c.proposed_by, c.decided_by, c.confirmed_by]
            .into_iter()
            .flatten()
        {
            if let std::collections::hash_map::Entry::Vacant(e) = names.entry(id) {
                let name = store
                    .get_user(id)
                    .await?
                    .map_or_else(|| id.to_string(), |u| u.display_name);
                e.insert(name);
            }
        }
    }
    let name = |id: Option<i64>| {
        id.and_then(|i| names.get(&i).cloned())
            .unwrap_or_else(|| "命令行".to_owned())
    };
    let who: HashMap<i64, String> = store
        .desk_rows(campaign_id)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let mut per: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
    for (key, candidate, n) in store.cluster_targets(campaign_id, stage_key).await? {
        per.entry(key).or_default().push((candidate, n));
    }
    let mut targets: HashMap<String, String> = per
        .into_iter()
        .map(|(key, mut per)| {
            per.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let text: Vec<String> = per
                .iter()
                .map(|(id, n)| {
                    let name = who.get(id).map_or("（已退回的候选人）", String::as_str);
                    format!("{name} {n} 票")
                })
                .collect();
            (key, text.join("、"))
        })
        .collect();
    let clusters = clusters
        .into_iter()
        .map(|c| {
            let verdict = c.verdict.as_deref().and_then(Verdict::from_key);
            let status = match (c.decided(), verdict) {
                (true, Some(v)) => format!(
                    "{}（{} {}{}）",
                    v.text(),
                    pingxuan_rules::deadline::format_time(c.decided_at.unwrap_or(0)),
                    name(c.decided_by),
                    c.confirmed_by
                        .map(|s| format!(" 提出，{} 确认", name(Some(s))))
                        .unwrap_or_default()
                ),
                (false, Some(v)) if c.pending() => format!(
                    "待另一位组织者确认：{} 提出“{}”",
                    name(c.proposed_by),
                    v.text()
                ),
                _ => "待处理".to_owned(),
            };
            ClusterView {
                signal_name: signal_name(&c.signal),
                status,
                targets: targets.remove(&c.key).unwrap_or_default(),
                cluster: c,
            }
        })
        .collect();
    Ok(Review {
        stage_name: stage.name.clone(),
        frozen,
        zero_allowed: rules.sanction == Some(pingxuan_rules::campaign::Sanction::Zero),
        second_above: rules.second_above,
        clusters,
    })
}

/// What a decision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    /// Written: this many votes set aside.
    Applied(usize),
    /// Kept as a proposal for another organiser.
    Proposed,
}

struct Loaded {
    cluster: Cluster,
    case_size: usize,
    frozen: bool,
    rules: pingxuan_rules::campaign::VoteRules,
}

async fn load(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    stage_key: &str,
    key: &str,
    verdict: Option<Verdict>,
) -> Result<Loaded> {
    if !access.organizes(campaign_id) {
        return Err(Error::Forbidden);
    }
    let stage = vote_stage(store, campaign_id, stage_key).await?;
    let cluster = store
        .clusters(campaign_id, stage_key)
        .await?
        .into_iter()
        .find(|c| c.key == key)
        .ok_or(Error::NotFound)?;
    let (votes, candidates_all) = store.cluster_reach(campaign_id, stage_key, key).await?;
    let case_size = match verdict {
        Some(Verdict::Zero) => candidates_all as usize,
        Some(Verdict::Invalidate) => votes.len(),
        _ => 0,
    };
    Ok(Loaded {
        cluster,
        case_size,
        frozen: store.frozen_votes(campaign_id, stage_key).await?.is_some(),
        rules: stage.vote.clone().unwrap_or_default(),
    })
}

fn case<'a>(l: &'a Loaded, decided: &'a Option<String>) -> review::Case<'a> {
    review::Case {
        frozen: l.frozen,
        decided: decided.as_deref(),
        proposed_by: if l.cluster.pending() {
            l.cluster.proposed_by
        } else {
            None
        },
        size: l.case_size,
        second_above: l.rules.second_above,
        sanction: l.rules.sanction,
        taking_votes: pingxuan_rules::vote::window(&l.rules, pingxuan_store::now()).is_ok(),
    }
}

fn decided_words(c: &Cluster) -> Option<String> {
    c.decided_at.map(|at| {
        format!(
            "{} {}",
            pingxuan_rules::deadline::format_time(at),
            c.verdict
                .as_deref()
                .and_then(Verdict::from_key)
                .map_or("", Verdict::text)
        )
    })
}

fn set_aside(v: Verdict) -> SetAside {
    match v {
        Verdict::Keep => SetAside::Nothing,
        Verdict::Invalidate => SetAside::Cluster,
        Verdict::Zero => SetAside::Candidates,
    }
}

fn refused(r: pingxuan_rules::vote::Refusal) -> Error {
    match r.code {
        "reason_required" | "reason_too_long" => Error::invalid(r.code, r.message, Some("reason")),
        _ => Error::conflict(r.code, r.message),
    }
}

/// A cluster as the organiser's page (or API client) last read it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Seen {
    pub votes: Option<i64>,
    pub generation: Option<i64>,
}

/// The office decides a cluster: keep, invalidate, or zero where the campaign says so.
/// Above the campaign's size it is kept as a proposal for another organiser. `seen`: the
/// cluster's votes and generation on the organiser's page, refused when a scan has changed
/// them since (a scan may swap votes and keep their number).
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    stage_key: &str,
    key: &str,
    verdict: Verdict,
    reason: &str,
    seen: Seen,
    ip: Option<&str>,
) -> Result<Decided> {
    let l = load(store, access, campaign_id, stage_key, key, Some(verdict)).await?;
    // Decided on what the organiser saw: a scan since may have grown the cluster.
    if let Some(g) = seen.generation
        && g != l.cluster.generation
        && !l.cluster.decided()
    {
        return Err(Error::conflict(
            "cluster_changed",
            "这一组可疑投票已重新检测，所含选票有变化，请核对后再处理",
        ));
    }
    if let Some(n) = seen.votes
        && n != l.cluster.votes
        && !l.cluster.decided()
    {
        return Err(Error::conflict(
            "cluster_changed",
            format!(
                "这一组可疑投票已重新检测，票数由 {n} 变为 {}，请核对后再处理",
                l.cluster.votes
            ),
        ));
    }
    let decided = decided_words(&l.cluster);
    let step = review::decide(&case(&l, &decided), verdict, reason).map_err(refused)?;
    let reason = reason.trim();
    let d = Decision {
        campaign_id,
        stage_key,
        key,
        verdict: verdict.key(),
        reason,
        by: access.actor(),
        confirmed_by: None,
        set_aside: set_aside(verdict),
        seen: l.cluster.votes,
        generation: l.cluster.generation,
    };
    let target = format!("campaign:{campaign_id}/stage:{stage_key}/cluster:{key}");
    let what = format!(
        "可疑投票“{}”（{}）",
        signal_name(&l.cluster.signal),
        l.cluster.evidence
    );
    let now = pingxuan_store::now();
    match step {
        Step::AwaitSecond => {
            let audit = Audit::new(access.actor(), "vote_cluster_proposed", target)
                .detail(format!(
                    "提出处理{what}：{}，涉及 {} 票，理由：{reason}；超过 {} 票，待另一位组织者确认",
                    verdict.text(),
                    l.case_size,
                    l.rules.second_above.unwrap_or(0)
                ))
                .ip(ip);
            store
                .propose_decision(&d, &audit, now)
                .await
                .map_err(frozen_as_conflict)?;
            Ok(Decided::Proposed)
        }
        Step::Apply => {
            let n = store
                .apply_decision(
                    &d,
                    |n| {
                        Audit::new(access.actor(), "vote_cluster_decided", target)
                            .detail(if verdict == Verdict::Keep {
                                format!("{what}：{}", verdict.text())
                            } else {
                                format!("{what}：{}，{n} 票不计，理由：{reason}", verdict.text())
                            })
                            .ip(ip)
                    },
                    now,
                )
                .await
                .map_err(frozen_as_conflict)?;
            Ok(Decided::Applied(n))
        }
    }
}

/// Another organiser confirms a proposal: it is written as proposed.
pub async fn confirm(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    stage_key: &str,
    key: &str,
    ip: Option<&str>,
) -> Result<usize> {
    let l = load(store, access, campaign_id, stage_key, key, None).await?;
    let decided = decided_words(&l.cluster);
    let me = access.actor().unwrap_or(0);
    review::confirm(&case(&l, &decided), me).map_err(refused)?;
    let verdict = l
        .cluster
        .verdict
        .as_deref()
        .and_then(Verdict::from_key)
        .ok_or_else(|| Error::Internal("a proposal without its verdict".into()))?;
    let reason = l.cluster.reason.clone().unwrap_or_default();
    let d = Decision {
        campaign_id,
        stage_key,
        key,
        verdict: verdict.key(),
        reason: &reason,
        by: l.cluster.proposed_by,
        confirmed_by: access.actor(),
        set_aside: set_aside(verdict),
        seen: l.cluster.votes,
        generation: l.cluster.generation,
    };
    let what = format!(
        "可疑投票“{}”（{}）",
        signal_name(&l.cluster.signal),
        l.cluster.evidence
    );
    let target = format!("campaign:{campaign_id}/stage:{stage_key}/cluster:{key}");
    store
        .apply_decision(
            &d,
            |n| {
                Audit::new(access.actor(), "vote_cluster_confirmed", target)
                    .detail(format!(
                        "确认{what}的处理：{}，{n} 票不计，理由：{reason}",
                        verdict.text()
                    ))
                    .ip(ip)
            },
            pingxuan_store::now(),
        )
        .await
        .map_err(frozen_as_conflict)
}

/// A proposal withdrawn (by anyone of the office), with the audit entry.
pub async fn withdraw(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    stage_key: &str,
    key: &str,
    ip: Option<&str>,
) -> Result<()> {
    let l = load(store, access, campaign_id, stage_key, key, None).await?;
    if !l.cluster.pending() {
        return Err(Error::conflict(
            "nothing_to_confirm",
            "这一组没有待确认的处理意见",
        ));
    }
    let audit = Audit::new(
        access.actor(),
        "vote_cluster_withdrawn",
        format!("campaign:{campaign_id}/stage:{stage_key}/cluster:{key}"),
    )
    .detail(format!(
        "撤回对可疑投票（{}）的处理意见",
        l.cluster.evidence
    ))
    .ip(ip);
    store
        .withdraw_proposal(campaign_id, stage_key, key, &audit, pingxuan_store::now())
        .await
        .map_err(frozen_as_conflict)
}

/// Scans every round that is taking votes or has closed without its freeze; the worker's
/// run (every few minutes, off the vote path). Returns the rounds scanned.
pub async fn scan_open(store: &Store, now: i64) -> Result<usize> {
    let mut scanned = 0;
    for c in store.list_campaigns().await? {
        let (campaign, events) = match (
            crate::applications::campaign_model(store, &c.id).await,
            store.stage_events(&c.id).await,
        ) {
            (Ok(m), Ok(e)) => (m, e),
            (Err(e), _) => {
                tracing::warn!(campaign = %c.id, error = %e, "campaign unreadable for the vote scan");
                continue;
            }
            (_, Err(e)) => {
                tracing::warn!(campaign = %c.id, error = %e, "stages unreadable for the vote scan");
                continue;
            }
        };
        for stage in &campaign.stages {
            let state = pingxuan_rules::selection::stage::replay(
                events
                    .iter()
                    .filter(|e| e.stage_key == stage.key)
                    .map(|e| &e.event),
            );
            if stage.kind != StageKind::Vote
                || state.phase != pingxuan_rules::selection::stage::Phase::Open
                || store.frozen_votes(&c.id, &stage.key).await?.is_some()
            {
                continue;
            }
            // One round's failure is logged; the others are still scanned.
            match scan(store, &c.id, &stage.key, now).await {
                Ok(_) => scanned += 1,
                Err(e) => {
                    tracing::warn!(campaign = %c.id, stage = %stage.key, error = %e, "vote signal scan failed")
                }
            }
        }
    }
    Ok(scanned)
}
