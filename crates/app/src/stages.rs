//! The selection rounds, run by the organiser from the campaign page: a stage opens with
//! exactly the candidates the stage before advanced (the first with those at the office's
//! desk), closes, and locks who advances; an advance is undone only by a reversal with its
//! reason. 形式审查 records a pass or a fail with its reason per candidate, with the
//! record's checklist beside it. Each move takes the one path: load what it depends on,
//! one decision in `pingxuan_rules::selection`, one transaction with its audit entry.

use std::sync::Arc;

use pingxuan_rules::campaign::{Campaign, StageKind};
use pingxuan_rules::selection::screening::{self, Check};
use pingxuan_rules::selection::stage::{self, Event, Move, Phase, State};
use pingxuan_store::Store;
use pingxuan_store::audit::Audit;
use pingxuan_store::stages::{Screening, StageEvent};
use time::{Date, OffsetDateTime, UtcOffset};

use crate::access::Access;
use crate::error::{Error, Result};

/// A campaign's stages as their events leave them.
#[derive(Debug, Clone)]
pub struct Round {
    pub campaign: Arc<Campaign>,
    pub states: Vec<State>,
    /// The stored events of each stage, oldest first.
    pub events: Vec<Vec<StageEvent>>,
}

impl Round {
    pub fn index(&self, key: &str) -> Option<usize> {
        self.campaign.stages.iter().position(|s| s.key == key)
    }
}

/// The stages of a campaign, for its organisers.
pub async fn load(store: &Store, access: &Access, campaign_id: &str) -> Result<Round> {
    if !access.organizes(campaign_id) {
        return Err(Error::Forbidden);
    }
    let campaign = crate::applications::campaign_model(store, campaign_id).await?;
    let stored = store.stage_events(campaign_id).await?;
    let events: Vec<Vec<StageEvent>> = campaign
        .stages
        .iter()
        .map(|s| {
            stored
                .iter()
                .filter(|e| e.stage_key == s.key)
                .cloned()
                .collect()
        })
        .collect();
    let states = events
        .iter()
        .map(|list| stage::replay(list.iter().map(|e| &e.event)))
        .collect();
    Ok(Round {
        campaign,
        states,
        events,
    })
}

/// One candidate of a stage, as its page lists them.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    /// 推荐领域, matched with the experts' 学科 (empty where the form has none).
    pub field: String,
    /// 形式审查's checklist (screening stages only).
    pub checks: Vec<Check>,
    /// The latest 形式审查 conclusion.
    pub screening: Option<Screening>,
    /// Went on to the next stage.
    pub advanced: bool,
    /// The experts assigned to it with where their sheet stands (review stages):
    /// “王专家（已提交）”.
    pub experts: Vec<String>,
    /// Once the stage has closed: (rank, aggregate as shown, reason), for those scored.
    pub result: Option<(u32, String, String)>,
    /// Who is told of its outcome.
    pub parties: Parties,
    /// Files others sent in about it, each with its sender (东莞 初选's 市直相关部门意见);
    /// read for the page only, like the checklist.
    pub sent: Vec<pingxuan_store::attachments::Attachment>,
    /// On the last stage of a campaign with final rules, once ranked: who it counts as
    /// (院士, 45 岁以下 …) with the source of each.
    pub indicators: Vec<pingxuan_rules::selection::indicators::Reading>,
}

/// The applicant and the units a candidate came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parties {
    pub applicant_id: i64,
    pub work_unit_id: Option<i64>,
    pub recommender_unit_id: Option<i64>,
}

/// A stage with everything its page and its moves need.
#[derive(Debug, Clone)]
pub struct StageView {
    pub round: Round,
    pub index: usize,
    /// In the stage (or, before it opens, those it would open with).
    pub candidates: Vec<Candidate>,
    /// What still stands in the way of closing, in words.
    pub outstanding: Vec<String>,
    /// Who the stage's outcome advances, once it can say.
    pub outcome: Option<Vec<i64>>,
    /// A review stage's live assignments, and the campaign's pool size.
    pub assignments: Vec<pingxuan_store::stages::Assignment>,
    pub pool: usize,
    /// A review stage's active experts, (id, name), for the organiser's manual changes.
    pub pool_list: Vec<(i64, String)>,
    /// Names tied across the cut that the organiser has to order.
    pub tied: Vec<String>,
    /// The same, as (id, name), for the form that orders them.
    pub tied_ids: Vec<(i64, String)>,
    /// The organiser's order made in this closing, with its reason.
    pub tie_break: Option<pingxuan_store::stages::TieBreak>,
    /// Candidates of a review stage with fewer experts than the stage asks, in words.
    pub short: Vec<String>,
    /// Submitted sheets of live assignments the office may reopen: (expert id, candidate
    /// id, “王专家 — 张三”).
    pub submitted: Vec<(i64, i64, String)>,
    /// A panel keyed from paper: the pool to choose a member from, (id, name), and the
    /// members keyed so far with their sheets' count.
    pub panel_pool: Vec<(i64, String)>,
    pub keyed: Vec<(String, usize)>,
    /// The last stage's list drawn under the campaign's final rules, once ranked.
    pub final_draw: Option<crate::final_list::FinalDraw>,
    /// Candidates an upheld objection to the stage's 公示 took off its list: (id, name,
    /// reason).
    pub removed: Vec<(i64, String, String)>,
    /// A frozen vote: how the merged score is made, with each group's totals.
    pub formula: Option<String>,
    /// A frozen vote: each candidate's merged score and its parts, per group.
    pub merged: Option<pingxuan_rules::vote::Merged>,
    /// An online vote: each recommending unit's own share link code, (unit, code).
    pub shares: Vec<(String, String)>,
    /// An online vote: clusters of suspect votes not yet decided (issue 20).
    pub suspects: Option<i64>,
}

impl StageView {
    pub fn state(&self) -> &State {
        &self.round.states[self.index]
    }

    pub fn stage(&self) -> &pingxuan_rules::campaign::Stage {
        &self.round.campaign.stages[self.index]
    }

    /// The seed of the stage's automatic assignment (16 hex digits): the earliest pairs
    /// with a seed. The organiser's own pairs have none; a declared conflict's
    /// replacement has its own, later.
    pub fn seed(&self) -> Option<String> {
        self.assignments
            .iter()
            .filter(|a| !a.seed.is_empty())
            .min_by_key(|a| a.at)
            .map(|a| a.seed.clone())
    }

    /// Who a pending stage opens with: the first those at the office's desk, a later one
    /// what the stage before advanced.
    pub fn opening_list(&self) -> Vec<i64> {
        self.candidates.iter().map(|c| c.id).collect()
    }

    fn case<'a>(&'a self, desk: &'a [i64]) -> stage::Case<'a> {
        stage::Case {
            campaign: &self.round.campaign,
            index: self.index,
            state: self.state(),
            previous: self.index.checked_sub(1).map(|i| &self.round.states[i]),
            next: self.round.states.get(self.index + 1),
            at_desk: desk,
            outstanding: &self.outstanding,
            outcome: self.outcome.as_deref(),
            tied: &self.tied,
            drawing: self.final_draw.as_ref().and_then(|d| d.drawing.as_ref()),
        }
    }
}

/// The day ages are counted on: the campaign's, or today in Beijing while unset.
fn age_day(c: &Campaign) -> (Date, bool) {
    if let Some(d) = c
        .final_list
        .age_reference_date
        .as_ref()
        .and_then(|d| d.date)
        && let Ok(month) = time::Month::try_from(d.month)
        && let Ok(day) = Date::from_calendar_date(i32::from(d.year), month, d.day)
    {
        return (day, true);
    }
    let beijing = UtcOffset::from_hms(8, 0, 0).expect("valid offset");
    (OffsetDateTime::now_utc().to_offset(beijing).date(), false)
}

/// A stage and its candidates, for its organisers, with 形式审查's checklist.
pub async fn view(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    key: &str,
) -> Result<StageView> {
    view_with(store, access, campaign_id, key, true).await
}

/// The same without the checklist, which reads every candidate's case file: what a move
/// decides on, and what a move's answer shows.
pub async fn view_plain(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    key: &str,
) -> Result<StageView> {
    view_with(store, access, campaign_id, key, false).await
}

async fn view_with(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    key: &str,
    checks: bool,
) -> Result<StageView> {
    use std::collections::{HashMap, HashSet};
    let round = load(store, access, campaign_id).await?;
    let index = round.index(key).ok_or(Error::NotFound)?;
    let state = &round.states[index];
    let stage = &round.campaign.stages[index];
    // Every candidate of every stage stays at the office's desk.
    let at_desk = store.desk_rows(campaign_id).await?;
    let ids: Vec<i64> = match (state.phase, index) {
        (Phase::Pending, 0) => at_desk.iter().map(|c| c.id).collect(),
        (Phase::Pending, i) => round.states[i - 1].advanced.clone(),
        _ => state.candidates.clone(),
    };
    let screenings = if stage.kind == StageKind::Screening {
        store.screenings(campaign_id, key).await?
    } else {
        Vec::new()
    };
    let (mut assignments, pool_list) = if stage.kind == StageKind::Review {
        (
            store.assignments(campaign_id, key).await?,
            store
                .experts(campaign_id)
                .await?
                .into_iter()
                .filter(|e| e.active)
                .map(|e| (e.user_id, e.name))
                .collect::<Vec<_>>(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let pool = pool_list.len();
    let review_sheets = if stage.kind == StageKind::Review {
        store.sheets(campaign_id, key).await?
    } else {
        Vec::new()
    };
    // Looked up by key: a stage of 1,000 candidates has 5,000 assignments and sheets.
    let sheet_of: HashMap<(i64, i64), &pingxuan_store::sheets::Sheet> = review_sheets
        .iter()
        .map(|s| ((s.expert_id, s.application_id), s))
        .collect();
    let mut experts_of: HashMap<i64, Vec<String>> = HashMap::new();
    for a in &assignments {
        let state = match sheet_of.get(&(a.expert_id, a.application_id)) {
            Some(s) if s.submitted_at.is_some() => "已提交",
            Some(_) => "草稿",
            None => "未评",
        };
        experts_of
            .entry(a.application_id)
            .or_default()
            .push(format!("{}（{state}）", a.expert_name));
    }
    let desk_row: HashMap<i64, &pingxuan_store::applications::DeskRow> =
        at_desk.iter().map(|c| (c.id, c)).collect();
    let screening_of: HashMap<i64, &Screening> =
        screenings.iter().map(|s| (s.application_id, s)).collect();
    let advanced: HashSet<i64> = state.advanced.iter().copied().collect();
    let (age_on, reference_set) = age_day(&round.campaign);
    let now = pingxuan_store::now();
    let mut sent_of: HashMap<i64, Vec<pingxuan_store::attachments::Attachment>> = HashMap::new();
    if checks && round.campaign.materials.iter().any(|m| m.sender.is_some()) {
        for a in store.sent_files(campaign_id).await? {
            sent_of.entry(a.application_id).or_default().push(a);
        }
    }
    let mut candidates = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(row) = desk_row.get(&id) else {
            // Sent back down the chain after the stage opened: not the stage's to judge.
            continue;
        };
        let checks = if checks && stage.kind == StageKind::Screening {
            let l = crate::applications::load(store, id).await?;
            screening::checklist(&l.case(now), age_on, reference_set)
        } else {
            Vec::new()
        };
        candidates.push(Candidate {
            id,
            number: row.number.clone(),
            name: row.name.clone(),
            work_unit: row.work_unit.clone(),
            recommender: row.recommender.clone(),
            field: row.field.clone(),
            checks,
            screening: screening_of.get(&id).map(|s| (*s).clone()),
            advanced: advanced.contains(&id),
            experts: experts_of.remove(&id).unwrap_or_default(),
            result: None,
            parties: Parties {
                applicant_id: row.applicant_id,
                work_unit_id: row.work_unit_id,
                recommender_unit_id: row.recommender_unit_id,
            },
            sent: sent_of.remove(&id).unwrap_or_default(),
            indicators: Vec::new(),
        });
    }
    // A candidate sent back down the chain after the stage opened is not the stage's to
    // judge: its assignments and sheets drop out with it.
    let present: HashSet<i64> = candidates.iter().map(|c| c.id).collect();
    assignments.retain(|a| present.contains(&a.application_id));
    let mut tied_ids: Vec<i64> = Vec::new();
    // The organiser's order for a tie, made in this closing.
    // The closing a tie-break belongs to: the stage's events up to its last 结束 (or the
    // reversal that made it closed again), so it still holds once the list is confirmed.
    let closing = round.events[index]
        .iter()
        .rposition(|e| matches!(e.event, Event::Closed | Event::Reverted { .. }))
        .map(|i| i as i64 + 1);
    let broken = match closing {
        Some(after) if stage.scored() || stage.approval() || stage.kind == StageKind::Vote => {
            store.tie_break(campaign_id, key, after).await?
        }
        _ => None,
    };
    // “上一阶段排名” as a tie key: the stage before's ranking, where it was scored.
    let previous_rank = match index.checked_sub(1) {
        Some(i)
            if round.campaign.stages[i].scored()
                && stage
                    .tie_keys
                    .iter()
                    .any(|k| k == pingxuan_rules::campaign::PREVIOUS_RANK) =>
        {
            previous_ranks(store, campaign_id, &round, i).await?
        }
        _ => std::collections::BTreeMap::new(),
    };
    // Taken off this stage's list by an upheld objection to its 公示.
    let removed: HashMap<i64, String> = store
        .removals(campaign_id)
        .await?
        .into_iter()
        .filter(|r| r.stage_key == key)
        .map(|r| (r.application_id, r.reason))
        .collect();
    let mut panel_pool = Vec::new();
    let mut formula = None;
    let mut merged = None;
    let mut keyed: Vec<(String, usize)> = Vec::new();
    let mut ranked: Vec<(i64, u32)> = Vec::new();
    // Under the final rules the list is drawn, not cut at the count: the ranking is whole,
    // and a tie matters where the draw splits it.
    let under_rules = crate::final_list::applies(&round.campaign, index);
    let cut = if under_rules {
        None
    } else {
        stage.advance.map(|n| n as usize)
    };
    let ordering = Ordering {
        broken: broken.as_ref().map_or(&[][..], |b| &b.order),
        previous_rank: &previous_rank,
        cut,
        removed: &removed,
    };
    let (mut outstanding, mut outcome) = match stage.kind {
        StageKind::Screening => {
            let undecided: Vec<String> = candidates
                .iter()
                .filter(|c| c.screening.is_none())
                .map(|c| format!("{}（{}）尚无形式审查结论", c.name, c.number))
                .collect();
            let passed = candidates
                .iter()
                .filter(|c| c.screening.as_ref().is_some_and(|s| s.passed))
                .filter(|c| !removed.contains_key(&c.id))
                .map(|c| c.id)
                .collect();
            (undecided, Some(passed))
        }
        StageKind::UnitRound => (
            Vec::new(),
            Some(
                state
                    .candidates
                    .iter()
                    .copied()
                    .filter(|id| present.contains(id) && !removed.contains_key(id))
                    .collect(),
            ),
        ),
        StageKind::Review => {
            let scored = review_outcome(
                stage,
                state,
                &assignments,
                &review_sheets,
                &mut candidates,
                &ordering,
            );
            tied_ids = scored.tied;
            ranked = scored.ranked;
            (scored.outstanding, scored.outcome)
        }
        StageKind::Panel => {
            let sheets = store.sheets(campaign_id, key).await?;
            let pool = store.experts(campaign_id).await?;
            let mut members: Vec<i64> = sheets.iter().map(|s| s.expert_id).collect();
            members.sort_unstable();
            members.dedup();
            let expected: Vec<pingxuan_store::stages::Assignment> = members
                .iter()
                .flat_map(|m| {
                    let name = pool
                        .iter()
                        .find(|e| e.user_id == *m)
                        .map_or_else(|| m.to_string(), |e| e.name.clone());
                    candidates
                        .iter()
                        .map(move |c| pingxuan_store::stages::Assignment {
                            expert_id: *m,
                            expert_name: name.clone(),
                            application_id: c.id,
                            seed: String::new(),
                            at: 0,
                        })
                })
                .collect();
            let scored =
                review_outcome(stage, state, &expected, &sheets, &mut candidates, &ordering);
            tied_ids = scored.tied;
            ranked = scored.ranked;
            for m in &members {
                let name = pool
                    .iter()
                    .find(|e| e.user_id == *m)
                    .map_or_else(|| m.to_string(), |e| e.name.clone());
                keyed.push((name, sheets.iter().filter(|s| s.expert_id == *m).count()));
            }
            panel_pool = pool
                .iter()
                .filter(|e| e.active && !members.contains(&e.user_id))
                .map(|e| (e.user_id, e.name.clone()))
                .collect();
            (scored.outstanding, scored.outcome)
        }
        // A vote stage closes by its freeze (`votes::freeze`), then ranks by the frozen
        // count merged as the file says.
        StageKind::Vote => {
            let frozen = store.frozen_votes(campaign_id, key).await?;
            let scored = vote_outcome(stage, frozen.as_ref(), &mut candidates, &ordering);
            formula = scored.formula;
            merged = scored.merged;
            tied_ids = scored.tied;
            ranked = scored.ranked;
            (scored.outstanding, scored.outcome)
        }
    };
    // The last stage under the campaign's final rules: the list drawn under them
    // replaces the ranking's top K; no list meeting them stands in the way of advancing.
    let mut final_draw = None;
    if let Some(k) = stage.advance
        && crate::final_list::applies(&round.campaign, index)
        && outcome.is_some()
        && !ranked.is_empty()
    {
        let confirmed = (state.phase == Phase::Advanced).then_some(state.advanced.as_slice());
        // Those taken off the list are not drawn; their rows keep the reason.
        ranked.retain(|(id, _)| !removed.contains_key(id));
        let d = crate::final_list::draw(
            store,
            &round.campaign,
            k,
            &ranked,
            age_day(&round.campaign),
            confirmed,
        )
        .await?;
        for c in &mut candidates {
            if removed.contains_key(&c.id) {
                continue;
            }
            c.indicators = d.readings.get(&c.id).cloned().unwrap_or_default();
            if let (Some(result), Some(reason)) = (c.result.as_mut(), d.reasons.get(&c.id)) {
                result.2 = crate::final_list::with_reason(&result.2, reason);
            }
        }
        match &d.outcome {
            Ok(_) if !d.tied.is_empty() => {
                // Equals the draw split, either of whom could stand: the office orders them.
                tied_ids = d.tied.clone();
                outcome = None;
            }
            Ok(ids) => outcome = Some(ids.clone()),
            Err(words) => {
                outstanding.push(words.clone());
                outcome = None;
            }
        }
        let mut d = d;
        // Further lists confirmed on the final list as it stands.
        if !d.extras.is_empty() {
            let anchor = advanced_at(&round.events[index]);
            let confirmed = store.extra_lists(&round.campaign.campaign.id).await?;
            for x in &mut d.extras {
                // Confirmed on this advance, and the list drawn now is the one confirmed.
                x.confirmed = confirmed
                    .iter()
                    .rev()
                    .find(|c| {
                        c.list_key == x.key
                            && c.stage_events == anchor
                            && x.outcome.as_ref().is_ok_and(|l| *l == c.candidates)
                    })
                    .map(|c| (c.by.clone().unwrap_or_default(), c.at));
            }
        }
        final_draw = Some(d);
    }
    let tied_pairs: Vec<(i64, String)> = candidates
        .iter()
        .filter(|c| tied_ids.contains(&c.id))
        .map(|c| (c.id, c.name.clone()))
        .collect();
    let tied = tied_pairs.iter().map(|(_, n)| n.clone()).collect();
    let mut per_candidate: HashMap<i64, usize> = HashMap::new();
    for a in &assignments {
        *per_candidate.entry(a.application_id).or_default() += 1;
    }
    let short: Vec<String> = match stage.reviewers {
        Some(r) if stage.kind == StageKind::Review && !assignments.is_empty() => candidates
            .iter()
            .filter_map(|c| {
                let n = per_candidate.get(&c.id).copied().unwrap_or(0);
                (n < r as usize).then(|| format!("{}只有 {n} 位评审专家（应为 {r} 位）", c.name))
            })
            .collect(),
        _ => Vec::new(),
    };
    let name_of: HashMap<i64, &str> = candidates.iter().map(|c| (c.id, c.name.as_str())).collect();
    let submitted: Vec<(i64, i64, String)> = assignments
        .iter()
        .filter(|a| {
            sheet_of
                .get(&(a.expert_id, a.application_id))
                .is_some_and(|s| s.submitted_at.is_some())
        })
        .map(|a| {
            let name = name_of.get(&a.application_id).copied().unwrap_or("");
            (
                a.expert_id,
                a.application_id,
                format!("{} — {name}", a.expert_name),
            )
        })
        .collect();
    let removed_list = candidates
        .iter()
        .filter_map(|c| {
            removed
                .get(&c.id)
                .map(|r| (c.id, c.name.clone(), r.clone()))
        })
        .collect();
    let (shares, suspects) = if stage.kind == StageKind::Vote {
        (
            crate::votes::shares(store, campaign_id, key).await?,
            Some(store.undecided_clusters(campaign_id, key).await?),
        )
    } else {
        (Vec::new(), None)
    };
    Ok(StageView {
        round,
        index,
        candidates,
        outstanding,
        outcome,
        assignments,
        pool,
        pool_list,
        tied,
        tied_ids: tied_pairs,
        short,
        submitted,
        tie_break: broken,
        panel_pool,
        keyed,
        final_draw,
        removed: removed_list,
        formula,
        merged,
        shares,
        suspects,
    })
}

/// Where a stage's list was last confirmed: the count of its events up to and including
/// its last 确定晋级名单. A further list confirmed on it holds until the list is confirmed
/// anew (公布 after it changes nothing; a reversal leaves nothing to hold on).
pub(crate) fn advanced_at(events: &[pingxuan_store::stages::StageEvent]) -> i64 {
    events
        .iter()
        .rposition(|e| matches!(e.event, Event::Advanced { .. }))
        .map_or(0, |i| i as i64 + 1)
}

/// What a review stage's sheets say: who still owes sheets, and once it is closed, each
/// candidate's aggregate, rank and reason (scores stay hidden while it is open).
struct Scored {
    outstanding: Vec<String>,
    outcome: Option<Vec<i64>>,
    tied: Vec<i64>,
    /// Once closed, every candidate ranked, best first: (candidate, rank).
    ranked: Vec<(i64, u32)>,
    /// A frozen vote's formula with each group's totals.
    formula: Option<String>,
    /// A frozen vote's merged scores with each group's part.
    merged: Option<pingxuan_rules::vote::Merged>,
}

/// `assignments` are the sheets expected: a review's live assignments, or for a panel
/// keyed from paper each member (an expert with a sheet keyed in) times each candidate.
#[allow(clippy::too_many_arguments)]
/// Ranks with the cut moved past those an upheld objection took off the list, so that
/// the first `n` of the others advance; returns the ranking and the cut it used.
fn passing_over(
    cut: Option<usize>,
    removed: &std::collections::HashMap<i64, String>,
    rank: impl Fn(Option<usize>) -> pingxuan_rules::selection::aggregate::Ranking,
) -> (pingxuan_rules::selection::aggregate::Ranking, Option<usize>) {
    let Some(n) = cut else {
        return (rank(None), None);
    };
    let mut at = n;
    loop {
        let r = rank(Some(at));
        let off = r
            .rows
            .iter()
            .take(at)
            .filter(|row| removed.contains_key(&row.candidate))
            .count();
        if n + off <= at {
            return (r, Some(at));
        }
        at = n + off;
    }
}

/// Those an upheld objection took off the list keep their place in the ranking and the
/// reason; the cut passes over them (`moved`: the cut `passing_over` used).
fn passed_over(
    ranking: &mut pingxuan_rules::selection::aggregate::Ranking,
    removed: &std::collections::HashMap<i64, String>,
    cut: Option<usize>,
    moved: Option<usize>,
) {
    for row in &mut ranking.rows {
        if let Some(reason) = removed.get(&row.candidate) {
            row.advanced = Some(false);
            row.reason = format!("第 {} 名，{reason}", row.rank);
        } else if let (Some(n), Some(at)) = (cut, moved)
            && at > n
        {
            row.reason = row.reason.replace(
                &format!("限 {at} 名"),
                &format!("限 {n} 名，{} 人已移出名单", at - n),
            );
        }
    }
}

/// What orders a ranking besides the sheets: the office's order of a tie, the stage
/// before's ranks, the cut, and those an upheld objection took off the list.
struct Ordering<'a> {
    broken: &'a [i64],
    previous_rank: &'a std::collections::BTreeMap<i64, u32>,
    cut: Option<usize>,
    removed: &'a std::collections::HashMap<i64, String>,
}

fn review_outcome(
    stage: &pingxuan_rules::campaign::Stage,
    state: &State,
    assignments: &[pingxuan_store::stages::Assignment],
    sheets: &[pingxuan_store::sheets::Sheet],
    candidates: &mut [Candidate],
    order: &Ordering,
) -> Scored {
    let Ordering {
        broken,
        previous_rank,
        cut,
        removed,
    } = *order;
    let paper = stage.kind == StageKind::Panel;
    let approval = stage.approval();
    let sheet_word = if approval {
        "表决票"
    } else {
        "纸质评分表"
    };
    use pingxuan_rules::selection::aggregate::{self, Settings, Sheet, TieKey};
    use pingxuan_rules::selection::approval::{self as show_of_hands, Ballot};
    let by_pair: std::collections::HashMap<(i64, i64), &pingxuan_store::sheets::Sheet> = sheets
        .iter()
        .filter(|s| s.submitted_at.is_some())
        .map(|s| ((s.expert_id, s.application_id), s))
        .collect();
    let submitted = |a: &pingxuan_store::stages::Assignment| {
        by_pair.get(&(a.expert_id, a.application_id)).copied()
    };
    let mut outstanding = Vec::new();
    if assignments.is_empty() {
        outstanding.push(if paper {
            format!("尚未录入评审小组的{sheet_word}")
        } else {
            "尚未分配评审专家".to_owned()
        });
    }
    let mut owing: Vec<(String, usize)> = Vec::new();
    for a in assignments.iter().filter(|a| submitted(a).is_none()) {
        match owing.iter_mut().find(|(n, _)| *n == a.expert_name) {
            Some((_, k)) => *k += 1,
            None => owing.push((a.expert_name.clone(), 1)),
        }
    }
    if !paper && !assignments.is_empty() {
        let covered: std::collections::HashSet<i64> =
            assignments.iter().map(|a| a.application_id).collect();
        for c in candidates.iter() {
            if !covered.contains(&c.id) {
                outstanding.push(format!(
                    "{}没有评审专家（分配的专家均已回避），无法评分",
                    c.name
                ));
            }
        }
    }
    outstanding.extend(owing.into_iter().map(|(name, k)| {
        if paper {
            format!("{name}的{sheet_word}还缺 {k} 名候选人")
        } else {
            format!("{name}尚有 {k} 份评分表未提交")
        }
    }));
    if !matches!(state.phase, Phase::Closed | Phase::Advanced) {
        return Scored {
            outstanding,
            outcome: None,
            tied: Vec::new(),
            ranked: Vec::new(),
            formula: None,
            merged: None,
        };
    }
    let counted: Vec<Sheet> = assignments
        .iter()
        .filter_map(|a| {
            submitted(a).map(|s| Sheet {
                expert: s.expert_id,
                candidate: s.application_id,
                points: s.points.iter().map(|p| p.unwrap_or(0)).collect(),
            })
        })
        .collect();
    let previous_is_key = stage
        .tie_keys
        .iter()
        .any(|k| k == pingxuan_rules::campaign::PREVIOUS_RANK);
    let (aggs, (mut ranking, moved)) = if approval {
        let ballots: Vec<Ballot> = counted
            .iter()
            .map(|s| Ballot {
                member: s.expert,
                candidate: s.candidate,
                agree: s.points.first() == Some(&1),
            })
            .collect();
        let tallies = show_of_hands::tally(&ballots);
        let ranking = passing_over(cut, removed, |cut| {
            show_of_hands::rank(&tallies, previous_rank, previous_is_key, cut, broken)
        });
        (tallies, ranking)
    } else {
        let settings = Settings {
            method: stage.aggregation(),
            trim_min: stage.trim_min.unwrap_or(5) as usize,
            criteria: stage.criteria.len(),
        };
        let aggs = aggregate::aggregate(&settings, &counted);
        let keys: Vec<TieKey> = stage
            .tie_keys
            .iter()
            .filter_map(|k| {
                if k == pingxuan_rules::campaign::PREVIOUS_RANK {
                    Some(TieKey::PreviousRank)
                } else {
                    stage
                        .criteria
                        .iter()
                        .position(|c| c == k)
                        .map(TieKey::Criterion)
                }
            })
            .collect();
        let ranking = passing_over(cut, removed, |cut| {
            aggregate::rank(&aggs, previous_rank, &keys, &stage.criteria, cut, broken)
        });
        (aggs, ranking)
    };
    passed_over(&mut ranking, removed, cut, moved);
    let slot: std::collections::HashMap<i64, usize> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    let agg_of: std::collections::HashMap<i64, &aggregate::Aggregate> =
        aggs.iter().map(|a| (a.candidate, a)).collect();
    for row in &ranking.rows {
        if let (Some(&i), Some(a)) = (slot.get(&row.candidate), agg_of.get(&row.candidate)) {
            let c = &mut candidates[i];
            c.result = Some(if approval {
                // The count of 同意 is the value; both counts lead the reason.
                (
                    row.rank,
                    a.total.numer().to_string(),
                    format!("{}；{}", a.note.clone().unwrap_or_default(), row.reason),
                )
            } else {
                (row.rank, a.total.to_string(), row.reason.clone())
            });
        }
    }
    let outcome = advancing(&ranking);
    Scored {
        outstanding,
        outcome,
        tied: ranking.tie_at_cut,
        ranked: ranking.rows.iter().map(|r| (r.candidate, r.rank)).collect(),
        formula: None,
        merged: None,
    }
}

/// Who a ranking advances: those not left out, once no tie straddles the cut.
fn advancing(ranking: &pingxuan_rules::selection::aggregate::Ranking) -> Option<Vec<i64>> {
    ranking.tie_at_cut.is_empty().then(|| {
        ranking
            .rows
            .iter()
            .filter(|r| r.advanced != Some(false))
            .map(|r| r.candidate)
            .collect()
    })
}

/// A vote stage's outcome: before the freeze, what stands in the way; after it, the
/// frozen count merged (`rules::vote::merge`) and ranked as every scored stage is, each
/// candidate's result the merged score with its votes per group.
fn vote_outcome(
    stage: &pingxuan_rules::campaign::Stage,
    frozen: Option<&pingxuan_store::votes::Frozen>,
    candidates: &mut [Candidate],
    order: &Ordering,
) -> Scored {
    use pingxuan_rules::selection::aggregate;
    use pingxuan_rules::vote::{self, GroupTally};
    let not_yet = |why: String| Scored {
        outstanding: vec![why],
        outcome: None,
        tied: Vec::new(),
        ranked: Vec::new(),
        formula: None,
        merged: None,
    };
    let Some(frozen) = frozen else {
        return not_yet(format!(
            "“{}”的投票结果尚未冻结：投票截止 1 分钟后，由活动办公室冻结结果，本阶段随之结束",
            stage.name
        ));
    };
    let ids: Vec<i64> = candidates.iter().map(|c| c.id).collect();
    let tallies: Vec<GroupTally<'_>> = stage
        .groups
        .iter()
        .map(|g| GroupTally {
            group: g,
            counts: frozen
                .counts
                .iter()
                .filter(|((k, _), _)| k == &g.key)
                .map(|((_, c), n)| (*c, (*n).max(0) as u64))
                .collect(),
        })
        .collect();
    let merged = match vote::merge(&tallies, &ids) {
        Ok(m) => m,
        Err(n) => {
            return not_yet(format!("请先在活动设置中设定{}", n.0.join("、")));
        }
    };
    // The groups' counts stand where a review has its criteria: a tie key names them.
    let names: Vec<String> = stage
        .groups
        .iter()
        .map(|g| format!("{}票数", g.name))
        .collect();
    let keys = vote::tie_keys(stage);
    let aggs = merged.aggregates();
    let (mut ranking, moved) = passing_over(order.cut, order.removed, |cut| {
        aggregate::rank(&aggs, order.previous_rank, &keys, &names, cut, order.broken)
    });
    passed_over(&mut ranking, order.removed, order.cut, moved);
    let parts: std::collections::HashMap<i64, &vote::Row> =
        merged.rows.iter().map(|r| (r.candidate, r)).collect();
    for row in &mut ranking.rows {
        row.reason = row.reason.replace("总分相同", "综合得分相同");
        let Some(c) = candidates.iter_mut().find(|c| c.id == row.candidate) else {
            continue;
        };
        let Some(r) = parts.get(&row.candidate) else {
            continue;
        };
        let votes: Vec<String> = stage
            .groups
            .iter()
            .zip(&r.parts)
            .map(|(g, p)| format!("{} {} 票", g.name, p.count))
            .collect();
        c.result = Some((
            row.rank,
            format!("{:.4}", r.total),
            format!("{}；{}", votes.join("，"), row.reason),
        ));
    }
    let outcome = advancing(&ranking);
    let totals: Vec<String> = stage
        .groups
        .iter()
        .zip(&merged.totals)
        .map(|(g, (sum, top))| format!("{}有效票 {sum} 票、最高 {top} 票", g.name))
        .collect();
    Scored {
        outstanding: Vec::new(),
        outcome,
        tied: ranking.tie_at_cut,
        ranked: ranking.rows.iter().map(|r| (r.candidate, r.rank)).collect(),
        formula: Some(format!("{}（{}）", merged.formula, totals.join("；"))),
        merged: Some(merged),
    }
}

fn refused(r: stage::Refusal) -> Error {
    Error::conflict(r.code, r.message())
}

/// Opens, closes, advances or reverts a stage: one decision, then the event and its
/// audit entry in one transaction. Returns the event written.
pub async fn act(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    key: &str,
    mv: Move,
    ip: Option<&str>,
) -> Result<Event> {
    let v = view_plain(store, access, campaign_id, key).await?;
    // A vote stage ends by freezing its count: that is its closing.
    if v.stage().kind == StageKind::Vote && matches!(mv, Move::Close) {
        crate::votes::freeze(store, access, campaign_id, key, ip).await?;
        return Ok(Event::Closed);
    }
    let desk = v.opening_list();
    let event = stage::decide(&v.case(&desk), &mv).map_err(|r| match r.code {
        // A missing reason is the input's fault, not the stage's: said beside the box.
        "reason_required" | "reason_too_long" => {
            Error::invalid(r.code, r.message(), Some("reason"))
        }
        // The panel's own list: what breaks a rule, and each swap without its reason.
        "list_breaks_rules" => Error::invalid(r.code, r.message(), Some("candidates")),
        _ => refused(r),
    })?;
    let stage = v.stage();
    let detail = match &event {
        Event::Opened { candidates } => {
            format!("“{}”开始，候选人 {} 人", stage.name, candidates.len())
        }
        Event::Closed => format!("“{}”结束", stage.name),
        Event::Advanced { advanced, note } => {
            let mut drawn = v
                .final_draw
                .as_ref()
                .map(|d| format!("；{}", d.record))
                .unwrap_or_default();
            if !note.is_empty() {
                drawn.push_str(&format!("；{note}"));
            }
            format!(
                "“{}”确定晋级名单 {} 人（共 {} 人）{drawn}",
                stage.name,
                advanced.len(),
                v.state().candidates.len()
            )
        }
        Event::Reverted { reason } => format!("撤销“{}”的晋级名单，理由：{reason}", stage.name),
        Event::Published => format!(
            "公布“{}”的结果：晋级 {} 人，未晋级 {} 人",
            stage.name,
            v.state().advanced.len(),
            v.state().candidates.len() - v.state().advanced.len()
        ),
    };
    let notices = match &event {
        Event::Published => outcome_notices(store, &v, false).await?,
        // Those who were told the outcome learn that it is under review.
        Event::Reverted { .. } if v.state().published => outcome_notices(store, &v, true).await?,
        _ => Vec::new(),
    };
    let audit = Audit::new(
        access.actor(),
        format!("stage_{}", event.key()),
        format!("campaign:{campaign_id}/stage:{key}"),
    )
    .detail(detail)
    .ip(ip);
    store
        .append_stage_event(
            campaign_id,
            key,
            // The campaign's count: a move on one stage depends on its neighbours too.
            v.round.events.iter().map(Vec::len).sum::<usize>() as i64,
            &event,
            access.actor(),
            &audit,
            &notices,
        )
        .await
        .map_err(crate::error::stale_as(
            "这一阶段刚被别人操作过，您的操作未执行；请刷新页面后再操作",
        ))?;
    Ok(event)
}

/// The accounts of each unit of a campaign by role, read once per unit for a whole
/// stage's notices (a stage of 1,000 candidates has a few dozen units).
pub(crate) struct Told<'a> {
    store: &'a Store,
    campaign_id: &'a str,
    units: std::collections::HashMap<
        (pingxuan_rules::Role, i64),
        Vec<pingxuan_store::notices::Recipient>,
    >,
}

impl<'a> Told<'a> {
    pub(crate) fn new(store: &'a Store, campaign_id: &'a str) -> Told<'a> {
        Told {
            store,
            campaign_id,
            units: std::collections::HashMap::new(),
        }
    }

    /// Everyone told of a candidate's outcome: the applicant, and the accounts of the
    /// work unit and the recommending unit it came through.
    pub(crate) async fn of(
        &mut self,
        p: Parties,
    ) -> Result<Vec<pingxuan_store::notices::Recipient>> {
        use pingxuan_rules::Role;
        let mut to = self.store.user_recipient(p.applicant_id).await?;
        for (role, unit) in [
            (Role::WorkUnit, p.work_unit_id),
            (Role::Recommender, p.recommender_unit_id),
        ] {
            let Some(u) = unit else { continue };
            if !self.units.contains_key(&(role, u)) {
                let found = self
                    .store
                    .level_recipients(self.campaign_id, role, Some(u))
                    .await?;
                self.units.insert((role, u), found);
            }
            to.extend(self.units[&(role, u)].iter().cloned());
        }
        to.sort();
        to.dedup();
        Ok(to)
    }
}

/// What a candidate's outcome in a stage says, in the words the candidate and the units
/// read: passed or not with the reason (形式审查), advanced or not.
pub fn outcome_words(v: &StageView, c: &Candidate) -> String {
    let next = v
        .round
        .campaign
        .stages
        .get(v.index + 1)
        .map(|s| s.name.as_str());
    words(
        c.screening.as_ref(),
        v.state().advanced.contains(&c.id),
        next,
    )
}

/// One notice (with its mail) per person told of each candidate of the stage: the
/// outcome as published, or that a published outcome is under review again.
pub(crate) async fn outcome_notices(
    store: &Store,
    v: &StageView,
    withdrawn: bool,
) -> Result<Vec<pingxuan_store::notices::Outgoing>> {
    let stage = v.stage();
    let subject = if withdrawn {
        format!("“{}”结果复核中", stage.name)
    } else {
        format!("“{}”结果已公布", stage.name)
    };
    let mut told = Told {
        store,
        campaign_id: &v.round.campaign.campaign.id,
        units: std::collections::HashMap::new(),
    };
    let mut out = Vec::new();
    for c in &v.candidates {
        let text = if withdrawn {
            format!(
                "“{}”已公布的结果正在复核，{}（编号 {}）的结果以重新公布的为准。",
                stage.name, c.name, c.number
            )
        } else {
            format!(
                "{}（编号 {}）在“{}”“{}”中的结果：{}。",
                c.name,
                c.number,
                v.round.campaign.campaign.name,
                stage.name,
                outcome_words(v, c)
            )
        };
        out.extend(crate::notify::outgoing(
            told.of(c.parties).await?,
            None,
            c.id,
            "outcome",
            &subject,
            &text,
        ));
    }
    Ok(out)
}

/// Records a 形式审查 pass or fail on one candidate of an open screening stage.
#[allow(clippy::too_many_arguments)]
pub async fn screen(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    key: &str,
    application_id: i64,
    passed: bool,
    reason: &str,
    ip: Option<&str>,
) -> Result<()> {
    let v = view_plain(store, access, campaign_id, key).await?;
    if v.stage().kind != StageKind::Screening {
        return Err(Error::NotFound);
    }
    let candidate = v.candidates.iter().find(|c| c.id == application_id);
    let reason = screening::conclude(v.state().phase, candidate.is_some(), passed, reason)
        .map_err(|r| match r.code {
            "reason_required" | "reason_too_long" => {
                Error::invalid(r.code, r.message(), Some("reason"))
            }
            _ => refused(r),
        })?;
    let c = candidate.expect("checked by conclude");
    let audit = Audit::new(
        access.actor(),
        if passed {
            "screening_passed"
        } else {
            "screening_failed"
        },
        format!("application:{}", c.number),
    )
    .detail(if passed {
        format!("“{}”形式审查通过", v.stage().name)
    } else {
        format!("“{}”形式审查不通过：{reason}", v.stage().name)
    })
    .ip(ip);
    store
        .record_screening(
            campaign_id,
            key,
            v.round.events[v.index].len() as i64,
            application_id,
            passed,
            &reason,
            access.actor(),
            &audit,
        )
        .await
        .map_err(crate::error::stale_as(
            "形式审查刚被结束或重新开始，您的结论未保存；请刷新页面后查看",
        ))
}

/// The ranks a scored stage gave, from its counted sheets (a review's live assignments,
/// a panel's keyed sheets), with its own tie-break; for the next stage's tie key.
async fn previous_ranks(
    store: &Store,
    campaign_id: &str,
    round: &Round,
    i: usize,
) -> Result<std::collections::BTreeMap<i64, u32>> {
    use pingxuan_rules::selection::aggregate::{self, Settings, Sheet};
    let stage = &round.campaign.stages[i];
    let sheets = store.sheets(campaign_id, &stage.key).await?;
    let live = if stage.kind == StageKind::Review {
        Some(store.assignments(campaign_id, &stage.key).await?)
    } else {
        None
    };
    let counted: Vec<Sheet> = sheets
        .iter()
        .filter(|s| s.submitted_at.is_some())
        .filter(|s| {
            live.as_ref().is_none_or(|l| {
                l.iter()
                    .any(|a| a.expert_id == s.expert_id && a.application_id == s.application_id)
            })
        })
        .map(|s| Sheet {
            expert: s.expert_id,
            candidate: s.application_id,
            points: s.points.iter().map(|p| p.unwrap_or(0)).collect(),
        })
        .collect();
    let aggs = aggregate::aggregate(
        &Settings {
            method: stage.aggregation(),
            trim_min: stage.trim_min.unwrap_or(5) as usize,
            criteria: stage.criteria.len(),
        },
        &counted,
    );
    let ranking = aggregate::rank(
        &aggs,
        &std::collections::BTreeMap::new(),
        &[],
        &stage.criteria,
        None,
        &[],
    );
    Ok(ranking.rows.iter().map(|r| (r.candidate, r.rank)).collect())
}

/// What an assignment is computed from: the active experts of the pool, the stage's
/// candidates with their 推荐领域, and every conflict — found in the records (same 工作单位,
/// the expert at the 推荐单位) and declared by the experts in their 回避声明.
pub(crate) struct Panel {
    pub experts: Vec<pingxuan_rules::selection::assign::Expert>,
    pub candidates: Vec<pingxuan_rules::selection::assign::Candidate>,
    pub conflicts: pingxuan_rules::selection::conflict::Conflicts,
}

pub(crate) async fn panel(
    store: &Store,
    campaign_id: &str,
    key: &str,
    v: &StageView,
) -> Result<Panel> {
    use pingxuan_rules::selection::{assign as flow, conflict};
    let pool: Vec<_> = store
        .experts(campaign_id)
        .await?
        .into_iter()
        .filter(|e| e.active)
        .collect();
    // The same person: an expert's mobile and a candidate's, compared by digest.
    let persons: std::collections::HashMap<i64, String> = store
        .candidate_person_keys(campaign_id)
        .await?
        .into_iter()
        .collect();
    let mut conflicts = conflict::find(
        &pool
            .iter()
            .map(|e| conflict::Expert {
                id: e.user_id,
                person: e.person.clone(),
                work_unit: e.work_unit.clone(),
            })
            .collect::<Vec<_>>(),
        &v.candidates
            .iter()
            .map(|c| conflict::Candidate {
                id: c.id,
                person: persons.get(&c.id).cloned(),
                work_unit: c.work_unit.clone(),
                recommender: c.recommender.clone(),
            })
            .collect::<Vec<_>>(),
        // The built-in 简称 table with the campaign file's own (`[conflicts] aliases`).
        &conflict::Aliases::with(
            &v.round
                .campaign
                .conflicts
                .aliases
                .iter()
                .map(|(short, full)| (short.as_str(), full.as_str()))
                .collect::<Vec<_>>(),
        ),
    );
    for d in store.declarations(campaign_id, key).await? {
        if !d.relation.is_empty() {
            conflicts.add(
                d.expert_id,
                d.application_id,
                conflict::Reason::Declared(d.relation),
            );
        }
    }
    Ok(Panel {
        experts: pool
            .iter()
            .map(|e| flow::Expert {
                id: e.user_id,
                capacity: None,
                fields: e.fields.clone(),
            })
            .collect(),
        candidates: v
            .candidates
            .iter()
            .map(|c| flow::Candidate {
                id: c.id,
                field: (!c.field.is_empty()).then(|| c.field.clone()),
            })
            .collect(),
        conflicts,
    })
}

/// What an automatic assignment did.
#[derive(Debug, Clone)]
pub struct Assigned {
    pub pairs: usize,
    pub seed: u64,
    /// Candidates left short of the stage's number, each with why.
    pub short: Vec<String>,
}

/// Assigns the campaign's experts to an open review stage's candidates: conflicts of
/// interest found first (same 工作单位, expert at the 推荐单位), then the min-cost flow of
/// `pingxuan_rules::selection::assign` with a fresh seed that is kept with the rows; the
/// pairs and the audit entry in one transaction.
pub async fn assign(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    key: &str,
    ip: Option<&str>,
) -> Result<Assigned> {
    use pingxuan_rules::selection::assign as flow;
    let v = view_plain(store, access, campaign_id, key).await?;
    let stage = v.stage();
    if stage.kind != StageKind::Review {
        return Err(Error::NotFound);
    }
    if v.state().phase != Phase::Open {
        return Err(Error::conflict(
            "stage_state",
            format!(
                "“{}”{}，不能分配评审专家",
                stage.name,
                v.state().phase.text()
            ),
        ));
    }
    if !v.assignments.is_empty() {
        return Err(Error::conflict(
            "already_assigned",
            "本阶段已分配评审专家，不能再次自动分配",
        ));
    }
    let r = stage.reviewers.ok_or_else(|| {
        Error::conflict(
            "stage_not_ready",
            format!(
                "请先在活动设置中设定“{}：每位候选人的评审专家人数”",
                stage.name
            ),
        )
    })?;
    let panel = panel(store, campaign_id, key, &v).await?;
    if panel.experts.is_empty() {
        return Err(Error::conflict(
            "no_experts",
            "专家库中还没有评审专家，请先在“账号管理”中导入评审专家库",
        ));
    }
    let (pool_size, conflicts) = (panel.experts.len(), panel.conflicts.len());
    let seed = rand::random::<u64>();
    let outcome = flow::assign(
        &panel.experts,
        &panel.candidates,
        r,
        &panel.conflicts,
        seed,
        &[],
    );
    let name_of = |id: i64| {
        v.candidates
            .iter()
            .find(|c| c.id == id)
            .map_or_else(|| id.to_string(), |c| c.name.clone())
    };
    let short: Vec<String> = outcome
        .short
        .iter()
        .map(|s| format!("{}：{}", name_of(s.candidate), s.why))
        .collect();
    let mut detail = format!(
        "“{}”分配评审专家：专家 {} 位，候选人 {} 名，每名 {r} 位，共 {} 对，避开利益冲突 {} 对，随机种子 {}",
        stage.name,
        pool_size,
        v.candidates.len(),
        outcome.pairs.len(),
        conflicts,
        pingxuan_store::stages::seed_text(seed)
    );
    if !short.is_empty() {
        detail.push_str(&format!("；未满 {r} 位：{}", short.join("；")));
    }
    let audit = Audit::new(
        access.actor(),
        "stage_assigned",
        format!("campaign:{campaign_id}/stage:{key}"),
    )
    .detail(detail)
    .ip(ip);
    store
        .assign_experts(
            campaign_id,
            key,
            v.round.events[v.index].len() as i64,
            &outcome.pairs,
            seed,
            access.actor(),
            &audit,
        )
        .await
        .map_err(crate::error::stale_as(
            "这一阶段刚被别人操作过（或已分配），请刷新页面后查看",
        ))?;
    Ok(Assigned {
        pairs: outcome.pairs.len(),
        seed,
        short,
    })
}

/// Adds an expert to a candidate of an open review stage, or ends one's assignment with a
/// reason: the organiser's change, checked as the automatic run is (no conflicted pair,
/// none twice; a removal names its reason) and written with its audit entry. A candidate
/// left short, or loads drifting more than one apart, is said in the entry and on the page.
#[allow(clippy::too_many_arguments)]
pub async fn change_assignment(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    key: &str,
    expert_id: i64,
    application_id: i64,
    add: bool,
    reason: &str,
    ip: Option<&str>,
) -> Result<()> {
    use pingxuan_rules::selection::assign as flow;
    use pingxuan_store::stages::AssignmentChange;
    let v = view_plain(store, access, campaign_id, key).await?;
    let stage = v.stage();
    if stage.kind != StageKind::Review {
        return Err(Error::NotFound);
    }
    if v.state().phase != Phase::Open {
        return Err(Error::conflict(
            "stage_state",
            format!(
                "“{}”{}，不能调整评审专家",
                stage.name,
                v.state().phase.text()
            ),
        ));
    }
    let candidate = v
        .candidates
        .iter()
        .find(|c| c.id == application_id)
        .ok_or_else(|| {
            Error::invalid(
                "unknown_candidate",
                "本阶段没有这位候选人",
                Some("application_id"),
            )
        })?;
    let expert = v
        .pool_list
        .iter()
        .find(|(id, _)| *id == expert_id)
        .map(|(_, n)| n.clone())
        .ok_or_else(|| {
            Error::invalid(
                "unknown_expert",
                "专家库中没有这位专家（或已停用）",
                Some("expert_id"),
            )
        })?;
    let current: Vec<(i64, i64)> = v
        .assignments
        .iter()
        .map(|a| (a.expert_id, a.application_id))
        .collect();
    let (change, detail) = if add {
        if current.is_empty() {
            // The automatic run comes first (it is refused once any pair exists).
            return Err(Error::conflict(
                "not_assigned",
                "请先自动分配评审专家，再手动调整",
            ));
        }
        let panel = panel(store, campaign_id, key, &v).await?;
        let spread = flow::check_manual(&current, (expert_id, application_id), &panel.conflicts)
            .map_err(|m| Error::invalid("assignment_refused", m, Some("expert_id")))?;
        let uneven = if spread.max - spread.min > 1 {
            format!("；各专家工作量现为 {}–{} 人", spread.min, spread.max)
        } else {
            String::new()
        };
        let reason = reason.trim();
        (
            AssignmentChange::Add {
                expert_id,
                application_id,
            },
            format!(
                "“{}”手动分配{expert}评审{}（{}）{}{uneven}",
                stage.name,
                candidate.name,
                candidate.number,
                if reason.is_empty() {
                    String::new()
                } else {
                    format!("，理由：{reason}")
                }
            ),
        )
    } else {
        let reason =
            flow::check_removal(&current, (expert_id, application_id), reason).map_err(|m| {
                let field = if m.contains("理由") {
                    "reason"
                } else {
                    "expert_id"
                };
                Error::invalid("assignment_refused", m, Some(field))
            })?;
        let left = current.iter().filter(|(_, a)| *a == application_id).count() - 1;
        let short = match stage.reviewers {
            Some(r) if (left as u32) < r => {
                format!("；{}现有 {left} 位评审专家（应为 {r} 位）", candidate.name)
            }
            _ => String::new(),
        };
        (
            AssignmentChange::End {
                expert_id,
                application_id,
                reason: reason.clone(),
            },
            format!(
                "“{}”取消{expert}对{}（{}）的评审，理由：{reason}{short}",
                stage.name, candidate.name, candidate.number
            ),
        )
    };
    let audit = Audit::new(
        access.actor(),
        if add {
            "assignment_added"
        } else {
            "assignment_ended"
        },
        format!("application:{}", candidate.number),
    )
    .detail(detail)
    .ip(ip);
    store
        .change_assignment(
            campaign_id,
            key,
            v.round.events[v.index].len() as i64,
            &change,
            access.actor(),
            &audit,
        )
        .await
        .map_err(crate::error::stale_as(
            "分配刚被调整过（或本阶段已结束），您的调整未执行；请刷新页面后再操作",
        ))
}

/// Keys in one panel member's paper sheets for an open panel (集中评选 in a room): a row
/// of typed points per candidate, every candidate of the stage, each checked as an
/// expert's 提交 is; all written, marked as keyed by the organiser, or none. `Ok(Err)`
/// lists every problem, each with the candidate's name.
pub async fn key_in(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    key: &str,
    expert_id: i64,
    typed: &[(i64, Vec<String>)],
    ip: Option<&str>,
) -> Result<std::result::Result<Keyed, Vec<String>>> {
    use pingxuan_rules::selection::{approval, sheet};
    let v = view_plain(store, access, campaign_id, key).await?;
    let stage = v.stage();
    if stage.kind != StageKind::Panel {
        return Err(Error::NotFound);
    }
    let voting = stage.approval();
    if v.state().phase != Phase::Open {
        return Err(Error::conflict(
            "stage_state",
            format!("“{}”{}，不能录入评分表", stage.name, v.state().phase.text()),
        ));
    }
    let by = access.actor().ok_or(Error::Forbidden)?;
    let expert = store
        .experts(campaign_id)
        .await?
        .into_iter()
        .find(|e| e.user_id == expert_id && e.active)
        .ok_or_else(|| {
            Error::invalid("unknown_expert", "请选择专家库中的专家", Some("expert_id"))
        })?;
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    for c in &v.candidates {
        let boxes = typed
            .iter()
            .find(|(id, _)| *id == c.id)
            .map(|(_, b)| b.as_slice())
            .unwrap_or(&[]);
        if voting {
            // One box: 同意 (kept as 1) or 不同意 (0).
            match approval::read(boxes.first().map_or("", String::as_str)) {
                Ok(agree) => rows.push((c.id, vec![Some(u32::from(agree))])),
                Err(m) => problems.push(format!("{}：{m}", c.name)),
            }
            continue;
        }
        match sheet::read(stage, boxes).and_then(|p| sheet::check(stage, &p, true).map(|()| p)) {
            Ok(points) => rows.push((c.id, points)),
            Err(found) => problems.extend(
                found
                    .into_iter()
                    .map(|p| format!("{}：{}", c.name, p.message)),
            ),
        }
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let audit = Audit::new(
        access.actor(),
        "sheets_keyed",
        format!("campaign:{campaign_id}/stage:{key}"),
    )
    .detail(format!(
        "“{}”录入{}的{} {} 份：{}",
        stage.name,
        expert.name,
        if voting {
            "表决票"
        } else {
            "纸质评分表"
        },
        rows.len(),
        rows.iter()
            .map(|(id, p)| {
                let name = v
                    .candidates
                    .iter()
                    .find(|c| c.id == *id)
                    .map_or("", |c| c.name.as_str());
                if voting {
                    let word = if p.first() == Some(&Some(1)) {
                        "同意"
                    } else {
                        "不同意"
                    };
                    format!("{name} {word}")
                } else {
                    format!("{name} {} 分", sheet::total(p))
                }
            })
            .collect::<Vec<_>>()
            .join("，")
    ))
    .ip(ip);
    store
        .key_in_sheets(
            campaign_id,
            key,
            v.round.events[v.index].len() as i64,
            expert_id,
            &rows,
            by,
            &audit,
        )
        .await
        .map_err(|e| match e {
            pingxuan_store::StoreError::Duplicate(_) => Error::conflict(
                "already_keyed",
                format!(
                    "{}的{}已录入过，不能重复录入",
                    expert.name,
                    if voting {
                        "表决票"
                    } else {
                        "纸质评分表"
                    }
                ),
            ),
            pingxuan_store::StoreError::Stale => Error::conflict(
                "stale",
                "这一阶段刚被别人操作过，评分表未录入；请刷新页面后再录入",
            ),
            other => other.into(),
        })?;
    Ok(Ok(Keyed {
        sheets: rows.len(),
        votes: voting,
    }))
}

/// What a keying-in wrote: one sheet per candidate, and whether they were votes
/// (同意/不同意) rather than points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyed {
    pub sheets: usize,
    pub votes: bool,
}

/// The organiser orders candidates tied across the cut, with a reason: checked by
/// `rules::selection::stage::decide_tie_break`, written with its audit entry; the
/// ranking then follows it and the advance can be confirmed.
pub async fn break_tie(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    key: &str,
    order: &[i64],
    reason: &str,
    ip: Option<&str>,
) -> Result<()> {
    let v = view_plain(store, access, campaign_id, key).await?;
    let tied: Vec<i64> = v.tied_ids.iter().map(|(id, _)| *id).collect();
    let reason =
        stage::decide_tie_break(v.state().phase, &tied, order, reason).map_err(|r| {
            match r.code {
                "reason_required" => Error::invalid(r.code, r.message(), Some("reason")),
                "bad_order" => Error::invalid(r.code, r.message(), Some("order")),
                _ => refused(r),
            }
        })?;
    let names: Vec<String> = order
        .iter()
        .filter_map(|id| v.tied_ids.iter().find(|(t, _)| t == id))
        .map(|(_, n)| n.clone())
        .collect();
    let audit = Audit::new(
        access.actor(),
        "stage_tie_broken",
        format!("campaign:{campaign_id}/stage:{key}"),
    )
    .detail(format!(
        "“{}”晋级线上同分排定先后：{}；理由：{reason}",
        v.stage().name,
        names.join(" > ")
    ))
    .ip(ip);
    store
        .break_tie(
            campaign_id,
            key,
            v.round.events[v.index].len() as i64,
            order,
            &reason,
            access.actor(),
            &audit,
        )
        .await
        .map_err(|e| match e {
            pingxuan_store::StoreError::Stale => {
                Error::conflict("stale", "这一阶段刚被别人操作过，请刷新页面后再排定")
            }
            other => other.into(),
        })
}

/// The office reopens an expert's submitted sheet, with a reason the audit trail keeps,
/// so the expert can correct and submit it again.
#[allow(clippy::too_many_arguments)]
pub async fn reopen_sheet(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    key: &str,
    expert_id: i64,
    application_id: i64,
    reason: &str,
    ip: Option<&str>,
) -> Result<()> {
    let v = view_plain(store, access, campaign_id, key).await?;
    if v.stage().kind != StageKind::Review {
        return Err(Error::NotFound);
    }
    let Some((_, _, pair)) = v
        .submitted
        .iter()
        .find(|(e, a, _)| *e == expert_id && *a == application_id)
    else {
        return Err(Error::conflict(
            "not_submitted",
            "没有这份已提交的评分表，请刷新页面后再选择",
        ));
    };
    let reason = pingxuan_rules::selection::sheet::decide_reopen(v.state().phase, true, reason)
        .map_err(|r| match r.code {
            "reason_required" => Error::invalid(r.code, r.message(), Some("reason")),
            _ => refused(r),
        })?;
    let audit = Audit::new(
        access.actor(),
        "sheet_reopened",
        format!("campaign:{campaign_id}/stage:{key}"),
    )
    .detail(format!(
        "“{}”退回评分表 {pair}，理由：{reason}",
        v.stage().name
    ))
    .ip(ip);
    store
        .reopen_sheet(
            campaign_id,
            key,
            v.round.events[v.index].len() as i64,
            expert_id,
            application_id,
            &audit,
        )
        .await
        .map_err(|e| match e {
            pingxuan_store::StoreError::Stale => {
                Error::conflict("stale", "这一阶段或这份评分表刚有变动，请刷新页面后再操作")
            }
            other => other.into(),
        })
}

/// A scored stage's results as XLSX once it has closed (scores stay hidden before): the
/// ranking with reasons and every counted sheet, per expert and criterion. The download
/// is audited, as every export of personal data is.
pub async fn results(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    key: &str,
    ip: Option<&str>,
) -> Result<crate::exports::Download> {
    let v = view_plain(store, access, campaign_id, key).await?;
    let stage = v.stage();
    if !stage.scored() && !stage.approval() && stage.kind != StageKind::Vote {
        return Err(Error::NotFound);
    }
    if !matches!(v.state().phase, Phase::Closed | Phase::Advanced) {
        return Err(Error::conflict(
            "stage_state",
            format!(
                "“{}”{}，结束后才能导出评选结果",
                stage.name,
                v.state().phase.text()
            ),
        ));
    }
    let names = store.experts(campaign_id).await?;
    let table = stage_table(store, &v, &names).await?;
    let bytes =
        pingxuan_export::results::xlsx(&table).map_err(|e| Error::Internal(e.to_string()))?;
    crate::exports::Download {
        name: format!("{}评选结果.xlsx", stage.name),
        content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    }
    .audited(
        store,
        access,
        ip,
        &format!("campaign:{campaign_id}/stage:{key}"),
    )
    .await
}

/// A stage's table for the file: every candidate with rank, aggregate (or 形式审查's
/// conclusion), advanced or not and the reason; the counted sheets where it was scored.
/// Scores of a stage still open are not shown (`results` refuses; the campaign's
/// workbook lists the candidates alone).
pub(crate) async fn stage_table(
    store: &Store,
    v: &StageView,
    names: &[pingxuan_store::experts::Expert],
) -> Result<pingxuan_export::results::StageResults> {
    use pingxuan_export::results::{Detail, ResultRow, SheetRow, StageResults};
    let stage = v.stage();
    let campaign_id = v.round.campaign.campaign.id.as_str();
    let voting = stage.approval();
    let online = stage.kind == StageKind::Vote;
    let scored = stage.scored() || voting;
    let closed = matches!(v.state().phase, Phase::Closed | Phase::Advanced);
    let mut ranked: Vec<&Candidate> = v.candidates.iter().collect();
    ranked.sort_by_key(|c| c.result.as_ref().map_or(u32::MAX, |r| r.0));
    let advanced = |id: i64| match v.state().phase {
        Phase::Advanced => Some(v.state().advanced.contains(&id)),
        Phase::Closed => v.outcome.as_ref().map(|o| o.contains(&id)),
        _ => None,
    };
    let rows = ranked
        .iter()
        .map(|c| {
            let (rank, total, reason) = match (&c.result, &c.screening) {
                (Some((rank, total, reason)), _) => {
                    (rank.to_string(), total.clone(), reason.clone())
                }
                (None, Some(s)) => (
                    String::new(),
                    if s.passed { "合格" } else { "不合格" }.to_owned(),
                    s.reason.clone(),
                ),
                (None, None) => Default::default(),
            };
            ResultRow {
                rank,
                number: c.number.clone(),
                name: c.name.clone(),
                work_unit: c.work_unit.clone(),
                recommender: c.recommender.clone(),
                total,
                advanced: match advanced(c.id) {
                    Some(true) => "晋级",
                    Some(false) => "未晋级",
                    None => "",
                }
                .to_owned(),
                reason,
            }
        })
        .collect();
    let counted: Vec<(i64, i64)> = if stage.kind == StageKind::Review {
        v.assignments
            .iter()
            .map(|a| (a.expert_id, a.application_id))
            .collect()
    } else {
        Vec::new()
    };
    let sheets = if scored && closed {
        store
            .sheets(campaign_id, &stage.key)
            .await?
            .into_iter()
            .filter(|s| s.submitted_at.is_some())
            .filter(|s| {
                stage.kind != StageKind::Review
                    || counted.contains(&(s.expert_id, s.application_id))
            })
            .filter_map(|s| {
                let c = v.candidates.iter().find(|c| c.id == s.application_id)?;
                Some(SheetRow {
                    candidate: c.name.clone(),
                    expert: names
                        .iter()
                        .find(|e| e.user_id == s.expert_id)
                        .map_or_else(|| s.expert_id.to_string(), |e| e.name.clone()),
                    points: if voting {
                        let agree = s.points.first() == Some(&Some(1));
                        vec![if agree { "同意" } else { "不同意" }.to_owned()]
                    } else {
                        s.points
                            .iter()
                            .map(|p| p.map(|p| p.to_string()).unwrap_or_default())
                            .collect()
                    },
                    total: pingxuan_rules::selection::sheet::total(&s.points).to_string(),
                    source: if s.keyed_by.is_some() {
                        "纸质录入"
                    } else {
                        ""
                    }
                    .to_owned(),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    // An online vote's detail is its count: each group's votes, scaled and weighted.
    let sheets = match (&v.merged, online && closed) {
        (Some(m), true) => {
            let of: std::collections::HashMap<i64, &pingxuan_rules::vote::Row> =
                m.rows.iter().map(|r| (r.candidate, r)).collect();
            ranked
                .iter()
                .filter_map(|c| {
                    let r = of.get(&c.id)?;
                    Some(SheetRow {
                        candidate: c.name.clone(),
                        expert: c.number.clone(),
                        points: r
                            .parts
                            .iter()
                            .flat_map(|p| {
                                [
                                    p.count.to_string(),
                                    format!("{:.4}", p.scaled),
                                    format!("{:.4}", p.weighted),
                                ]
                            })
                            .collect(),
                        total: format!("{:.4}", r.total),
                        source: String::new(),
                    })
                })
                .collect()
        }
        _ => sheets,
    };
    let method = if online {
        v.formula
            .clone()
            .unwrap_or_else(|| "网络投票：公众组与专业组票数按活动设置换算、加权后相加".to_owned())
    } else if voting {
        "表决：每位专家对每位候选人表示同意或不同意，按同意票数排名".to_owned()
    } else if stage.scored() {
        format!("汇总方法：{}", stage.aggregation().name())
    } else {
        String::new()
    };
    let line = [
        method,
        v.state().phase.text().to_owned(),
        stage
            .advance
            .map(|n| format!("晋级 {n} 人"))
            .unwrap_or_default(),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(" · ");
    Ok(StageResults {
        title: format!("{}结果（{}）", stage.name, v.round.campaign.campaign.name),
        line,
        criteria: if online && closed && v.merged.is_some() {
            stage
                .groups
                .iter()
                .flat_map(|g| {
                    [
                        format!("{}票数", g.name),
                        format!("{}换算", g.name),
                        format!("{}得分", g.name),
                    ]
                })
                .collect()
        } else if !(scored && closed) {
            Vec::new()
        } else if voting {
            vec!["表决".to_owned()]
        } else {
            stage.criteria.clone()
        },
        value_label: if online {
            "综合得分"
        } else if voting {
            "同意票数"
        } else if stage.scored() {
            "汇总分"
        } else if stage.kind == StageKind::Screening {
            "审查结论"
        } else {
            "结果"
        }
        .to_owned(),
        rows,
        sheets,
        detail: if online {
            Detail::Votes
        } else {
            Detail::Sheets
        },
    })
}

/// A stage's published outcome for one application, as the candidate and the units it
/// came through read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conclusion {
    pub stage: String,
    /// ok (passed, advanced), fail (not), warn (withdrawn, under review).
    pub mark: &'static str,
    pub text: String,
}

/// The words of one outcome: passed or not with the reason (形式审查), advanced or not,
/// and where to.
fn words(screening: Option<&Screening>, advanced: bool, next: Option<&str>) -> String {
    let onward = match next {
        Some(n) => format!("，进入“{n}”"),
        None => String::new(),
    };
    match (screening, advanced) {
        // The notice adds its own full stop.
        (Some(s), _) if !s.passed => {
            format!("不通过。理由：{}", s.reason.trim_end_matches('。'))
        }
        (Some(_), true) => format!("通过{onward}"),
        (Some(_), false) => "通过，但未列入晋级名单".to_owned(),
        // The last stage's list goes on to the final list under its rules.
        (None, true) if next.is_none() => "列入本阶段晋级名单，待最终名单确定".to_owned(),
        (None, true) => format!("晋级{onward}"),
        (None, false) => "未晋级".to_owned(),
    }
}

/// What the selection rounds concluded about one application, for those who already see
/// it (the caller has checked): each stage whose outcome the organiser has published and
/// that the application was in. Nothing shows before publication, and an outcome
/// published and then undone shows as under review.
pub async fn conclusions_for(
    store: &Store,
    campaign: &Campaign,
    application_id: i64,
) -> Result<Vec<Conclusion>> {
    let id = &campaign.campaign.id;
    let mut out = Vec::new();
    if campaign.stages.is_empty() {
        return Ok(out);
    }
    let events = store.stage_events(id).await?;
    for (i, s) in campaign.stages.iter().enumerate() {
        let state = stage::replay(
            events
                .iter()
                .filter(|e| e.stage_key == s.key)
                .map(|e| &e.event),
        );
        if !state.candidates.contains(&application_id) {
            continue;
        }
        if state.withdrawn {
            out.push(Conclusion {
                stage: s.name.clone(),
                mark: "warn",
                text: "已公布的结果正在复核，以重新公布的为准".to_owned(),
            });
            continue;
        }
        if !state.published {
            continue;
        }
        let screening = if s.kind == StageKind::Screening {
            store
                .screenings(id, &s.key)
                .await?
                .into_iter()
                .find(|c| c.application_id == application_id)
        } else {
            None
        };
        let advanced = state.advanced.contains(&application_id);
        let next = campaign.stages.get(i + 1).map(|n| n.name.as_str());
        out.push(Conclusion {
            stage: s.name.clone(),
            mark: if advanced { "ok" } else { "fail" },
            text: words(screening.as_ref(), advanced, next),
        });
    }
    Ok(out)
}
