//! The office's review of suspect votes (issue 20). `scan` runs the signals of
//! `rules::vote::signals` over a round's votes off the vote path (a worker every few
//! minutes, the review page's 重新检测, and the freeze before it counts) and keeps their
//! clusters. Each decision is one move: `rules::vote::review` decides, then the store writes
//! the cluster's verdict, the votes it sets aside, the lowered live counts and the audit
//! entry in one transaction — or, above the campaign's size, a proposal another organiser
//! confirms.

use pingxuan_rules::campaign::StageKind;
use pingxuan_rules::vote::merkle::{self, Proof, Published, Tally};
use pingxuan_rules::vote::review::{self, Step, Verdict};
use pingxuan_rules::vote::signals::{self, Signal, Thresholds};
use pingxuan_store::Store;
use pingxuan_store::audit::Audit;
use pingxuan_store::vote_review::{Cluster, Decision, Found, Scanned, SetAside};

use crate::access::Access;
use crate::error::{Error, Result};

/// Runs the signals over a round's votes and keeps what they find. Nothing once frozen.
pub async fn scan(store: &Store, campaign_id: &str, stage_key: &str, now: i64) -> Result<Scanned> {
    let campaign = crate::applications::campaign_model(store, campaign_id).await?;
    let stage = campaign
        .stages
        .iter()
        .find(|s| s.key == stage_key && s.kind == StageKind::Vote)
        .ok_or(Error::NotFound)?;
    let thresholds: Thresholds = stage
        .vote
        .as_ref()
        .and_then(|v| v.signals.clone())
        .unwrap_or_default();
    let facts = store.vote_facts(campaign_id, stage_key).await?;
    let phones: std::collections::HashMap<i64, u64> = store
        .voter_phones(campaign_id)
        .await?
        .into_iter()
        .filter_map(|(id, sealed)| {
            let plain = store.sealer.open(&sealed)?;
            Some((id, plain.parse().ok()?))
        })
        .collect();
    let votes: Vec<signals::Vote> = facts
        .into_iter()
        .map(|f| {
            // Voters are `p:{id}` for a phone and `e:{id}` for an expert: experts apart.
            let (public, id) = match f.voter.split_once(':') {
                Some(("p", n)) => (true, n.parse().unwrap_or(0)),
                Some((_, n)) => (false, -n.parse::<i64>().unwrap_or(0)),
                None => (false, 0),
            };
            signals::Vote {
                id: f.id,
                at: f.cast_at,
                voter: id,
                net: f.client_net,
                device: f.device,
                phone: if public {
                    phones.get(&id).copied()
                } else {
                    None
                },
            }
        })
        .collect();
    let found: Vec<Found> = tokio::task::spawn_blocking(move || {
        signals::find(&votes, &thresholds)
            .into_iter()
            .map(|c| Found {
                key: c.key,
                signal: c.signal.key().to_owned(),
                evidence: c.evidence,
                votes: c.votes,
            })
            .collect()
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?;
    store
        .save_clusters(campaign_id, stage_key, &found, now)
        .await
        .map_err(frozen_as_conflict)
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
    let campaign = crate::applications::campaign_model(store, campaign_id).await?;
    let stage = campaign
        .stages
        .iter()
        .find(|s| s.key == stage_key && s.kind == StageKind::Vote)
        .ok_or(Error::NotFound)?;
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
                        .map(|s| format!("提出，{} 确认", name(Some(s))))
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
                signal_name: signal_of(&c.signal).map_or("其他", Signal::name),
                status,
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
    let campaign = crate::applications::campaign_model(store, campaign_id).await?;
    let stage = campaign
        .stages
        .iter()
        .find(|s| s.key == stage_key && s.kind == StageKind::Vote)
        .ok_or(Error::NotFound)?;
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

/// The office decides a cluster: keep, invalidate, or zero where the campaign says so.
/// Above the campaign's size it is kept as a proposal for another organiser.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    stage_key: &str,
    key: &str,
    verdict: Verdict,
    reason: &str,
    ip: Option<&str>,
) -> Result<Decided> {
    let l = load(store, access, campaign_id, stage_key, key, Some(verdict)).await?;
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
    };
    let target = format!("campaign:{campaign_id}/stage:{stage_key}/cluster:{key}");
    let what = format!(
        "可疑投票“{}”（{}）",
        signal_of(&l.cluster.signal).map_or("其他", Signal::name),
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
    };
    let what = format!(
        "可疑投票“{}”（{}）",
        signal_of(&l.cluster.signal).map_or("其他", Signal::name),
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
        let round = crate::stages::load(store, &Access::operator(), &c.id).await?;
        for (stage, state) in round.campaign.stages.iter().zip(&round.states) {
            if stage.kind != StageKind::Vote
                || state.phase != pingxuan_rules::selection::stage::Phase::Open
                || store.frozen_votes(&c.id, &stage.key).await?.is_some()
            {
                continue;
            }
            scan(store, &c.id, &stage.key, now).await?;
            scanned += 1;
        }
    }
    Ok(scanned)
}

/// A frozen round's valid votes as the Merkle tree's leaves, in its order, and the tree.
#[derive(Debug)]
pub struct CountTree {
    /// (group, candidate, receipt), sorted.
    leaves: Vec<(String, i64, String)>,
    tree: merkle::Tree,
}

/// The round's published count (`R.json`): the root and every valid tally, in leaf order.
/// Not found before the freeze, nor for a round frozen before roots were kept.
pub async fn published(store: &Store, campaign_id: &str, stage_key: &str) -> Result<Published> {
    let f = store
        .frozen_votes(campaign_id, stage_key)
        .await?
        .ok_or(Error::NotFound)?;
    let (Some(root), Some(total)) = (f.root, f.valid_votes) else {
        return Err(Error::NotFound);
    };
    Ok(Published {
        campaign: campaign_id.to_owned(),
        stage: stage_key.to_owned(),
        root,
        total: total as u64,
        // `Counts` is ordered by (group, candidate): the leaves' order.
        tallies: f
            .counts
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|((group, candidate), n)| Tally {
                group: group.clone(),
                candidate: *candidate,
                count: *n as u64,
            })
            .collect(),
    })
}

/// What a receipt shows its voter once the round is frozen.
#[derive(Debug, Clone)]
pub enum ReceiptCheck {
    /// Counted, with the proof that checks against `published`.
    Counted(Proof),
    /// Set aside by the office, with the reason.
    Invalid { candidate: i64, reason: String },
}

/// A receipt's standing in a frozen round. A receipt of another round, one never issued
/// and one mistyped get the same not-found, so receipts cannot be probed.
pub async fn receipt(
    ballots: &crate::votes::Ballots,
    campaign_id: &str,
    stage_key: &str,
    code: &str,
) -> Result<ReceiptCheck> {
    let store = ballots.store();
    let code = code.trim().to_ascii_uppercase();
    let standing = store
        .receipt_standing(&code)
        .await?
        .filter(|s| s.campaign_id == campaign_id && s.stage_key == stage_key)
        .ok_or(Error::NotFound)?;
    if let Some(reason) = standing.void_reason {
        return Ok(ReceiptCheck::Invalid {
            candidate: standing.candidate,
            reason,
        });
    }
    let tree = count_tree(ballots, campaign_id, stage_key).await?;
    let leaf = (standing.group_key, standing.candidate, code);
    let at = tree
        .leaves
        .binary_search(&leaf)
        .map_err(|_| Error::Internal(format!("receipt {} not among the leaves", leaf.2)))?;
    Ok(ReceiptCheck::Counted(Proof {
        campaign: campaign_id.to_owned(),
        stage: stage_key.to_owned(),
        group: leaf.0,
        candidate: leaf.1,
        receipt: leaf.2,
        path: tree.tree.proof(at).unwrap_or_default(),
    }))
}

/// The frozen round's tree, built once from its valid votes (the freeze built the same).
async fn count_tree(
    ballots: &crate::votes::Ballots,
    campaign_id: &str,
    stage_key: &str,
) -> Result<std::sync::Arc<CountTree>> {
    let key = (campaign_id.to_owned(), stage_key.to_owned());
    if let Some((_, t)) = ballots.trees().lock().unwrap().get(&key) {
        return Ok(t.clone());
    }
    let store = ballots.store();
    if store.frozen_votes(campaign_id, stage_key).await?.is_none() {
        return Err(Error::NotFound);
    }
    let mut leaves = store.valid_leaves(campaign_id, stage_key).await?;
    let built = tokio::task::spawn_blocking(move || {
        leaves.sort_unstable();
        let tree = merkle::Tree::build(
            leaves
                .iter()
                .map(|(g, c, r)| merkle::leaf_hash(g, *c, r))
                .collect(),
        );
        CountTree { leaves, tree }
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?;
    let built = std::sync::Arc::new(built);
    ballots
        .trees()
        .lock()
        .unwrap()
        .insert(key, (std::time::Instant::now(), built.clone()));
    Ok(built)
}
