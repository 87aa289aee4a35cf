//! The online vote (东莞's 网络投票, issue 19): when it is open, what one vote claims
//! against a voter's limits, and the merged ranking of the 公众组 and 专业组.
//!
//! The limits are kept by the database, never by a read then a write: each limit is a
//! numbered set of slots (“voter V's votes for candidate C on day D: slots 0..cap”) and
//! a vote takes the next free slot under a unique key, so two servers racing for the last
//! slot cannot both get it. This module says which slots a vote needs and what to tell
//! the voter when one is full; `crates/store` takes them in the vote's transaction.

use std::collections::BTreeMap;

use time::Date;

use crate::campaign::{
    CardOrder, PREVIOUS_RANK, Sanction, Scaling, Stage, VoteGroup, VoteRules, deadline_instant,
};
use crate::deadline::format_beijing as format_time;
use crate::publicity::beijing_day;
use crate::selection::aggregate::{Aggregate, Score, TieKey};

pub mod merkle;
pub mod review;
pub mod signals;
pub mod slots;
pub mod verify;

/// Why a vote is refused, with the code the API answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

/// Whether the round takes votes at `now` (Unix seconds): not before it opens, not from
/// the instant it closes; a round without both times takes none.
pub fn window(rules: &VoteRules, now: i64) -> Result<(), Refusal> {
    let at = |t: &Option<crate::campaign::Deadline>| {
        t.as_ref()
            .and_then(|t| deadline_instant(t).ok())
            .map(|t| t.unix_timestamp())
    };
    let (Some(opens), Some(closes)) = (at(&rules.opens), at(&rules.closes)) else {
        return Err(Refusal::new(
            "vote_not_set",
            "活动办公室尚未设定投票时间，暂不能投票",
        ));
    };
    if now < opens {
        return Err(Refusal::new(
            "vote_not_open",
            format!(
                "投票尚未开始：投票时间为 {} 至 {}",
                format_time(opens),
                format_time(closes)
            ),
        ));
    }
    if now >= closes {
        return Err(Refusal::new(
            "vote_closed",
            format!(
                "投票已于 {} 截止（投票时间为 {} 至 {}）",
                format_time(closes),
                format_time(opens),
                format_time(closes)
            ),
        ));
    }
    Ok(())
}

/// Seconds after the close before the count may be frozen: a batch of votes that began
/// before the close has committed by then.
pub const FREEZE_AFTER: i64 = 60;

/// Whether the office may freeze the round at `now`: voting has closed (a minute ago) and
/// the round has not been frozen; the refusal names the times.
pub fn may_freeze(rules: &VoteRules, frozen: bool, now: i64) -> Result<(), Refusal> {
    if frozen {
        return Err(Refusal::new(
            "vote_frozen",
            "本轮投票结果已冻结，不能再次冻结",
        ));
    }
    let closes = rules
        .closes
        .as_ref()
        .and_then(|t| deadline_instant(t).ok())
        .map(|t| t.unix_timestamp())
        .ok_or_else(|| Refusal::new("vote_not_set", "活动办公室尚未设定投票截止时间"))?;
    if now < closes + FREEZE_AFTER {
        return Err(Refusal::new(
            "vote_still_open",
            format!(
                "投票截止时间为 {}，截止 1 分钟后方可冻结结果",
                format_time(closes)
            ),
        ));
    }
    Ok(())
}

/// The voting day of an instant: days turn at 00:00 Beijing time, whatever the server's
/// zone.
pub fn day(now: i64) -> Date {
    beijing_day(now)
}

/// One limit a vote must fit under: a set of `cap` numbered slots named `scope`, of which
/// the vote takes the next free one; when none is free the vote is refused with `refusal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub scope: String,
    pub cap: u32,
    /// A limit on distinct candidates: only the voter's first vote for this candidate in
    /// `period` takes a slot (the store keeps which candidates were picked per period).
    pub pick: Option<String>,
    pub code: &'static str,
    pub refusal: String,
}

/// The slots a vote for `candidate` on `day` takes, tightest wording first: per candidate
/// a day, per candidate in all, votes a day, distinct candidates a day and in all.
pub fn claims(rules: &VoteRules, candidate: i64, day: Date) -> Vec<Claim> {
    let mut out = Vec::new();
    // On the last day there is no tomorrow to wait for.
    let closes_day = rules
        .closes
        .as_ref()
        .and_then(|t| deadline_instant(t).ok())
        .map(|t| beijing_day(t.unix_timestamp() - 1));
    let last_day = closes_day.is_some_and(|d| d <= day);
    let tomorrow = if last_day {
        "投票今日截止，不能再为其投票"
    } else {
        "请明日 00:00 后再投"
    };
    if let Some(cap) = rules.per_candidate_per_day {
        out.push(Claim {
            scope: format!("cd:{day}:{candidate}"),
            cap,
            pick: None,
            code: "limit_candidate_day",
            refusal: if cap == 1 {
                format!("今日已为该候选人投票，{tomorrow}")
            } else {
                format!("今日已为该候选人投满 {cap} 票，{tomorrow}")
            },
        });
    }
    if let Some(cap) = rules.per_candidate {
        out.push(Claim {
            scope: format!("c:{candidate}"),
            cap,
            pick: None,
            code: "limit_candidate",
            refusal: if cap == 1 {
                "您已为该候选人投过票，本轮每人只能为每位候选人投 1 票".to_owned()
            } else {
                format!("您已为该候选人投满 {cap} 票，本轮不能再为其投票")
            },
        });
    }
    if let Some(cap) = rules.per_day {
        out.push(Claim {
            scope: format!("d:{day}"),
            cap,
            pick: None,
            code: "limit_day",
            refusal: format!("今日 {cap} 票已投完，{tomorrow}"),
        });
    }
    if let Some(cap) = rules.candidates_per_day {
        out.push(Claim {
            scope: format!("pd:{day}"),
            cap,
            pick: Some(format!("d:{day}")),
            code: "limit_candidates_day",
            refusal: if last_day {
                format!("今日已为 {cap} 位候选人投票（每天最多 {cap} 位），不能再为其他候选人投票")
            } else {
                format!(
                    "今日已为 {cap} 位候选人投票（每天最多 {cap} 位），今天不能再为其他候选人投票，明日 00:00 后可投其他候选人"
                )
            },
        });
    }
    if let Some(cap) = rules.candidates {
        out.push(Claim {
            scope: "p".to_owned(),
            cap,
            pick: Some("round".to_owned()),
            code: "limit_candidates",
            refusal: format!(
                "本轮最多可为 {cap} 位候选人投票，您已投了 {cap} 位，不能再为其他候选人投票"
            ),
        });
    }
    out
}

/// An expert's ballot of the 专业组 as chosen: the candidates (each once, in id order),
/// or every problem — nobody chosen, someone not in the round, more than `size`, someone
/// the expert must not judge (`conflicts`: id → name and why).
pub fn ballot(
    chosen: &[i64],
    in_round: &[i64],
    size: u32,
    conflicts: &BTreeMap<i64, (String, String)>,
) -> Result<Vec<i64>, Vec<String>> {
    let mut list: Vec<i64> = chosen.to_vec();
    list.sort_unstable();
    list.dedup();
    let mut problems = Vec::new();
    if list.is_empty() {
        problems.push("请至少选择 1 位候选人".to_owned());
    }
    if list.iter().any(|id| !in_round.contains(id)) {
        problems.push("所选候选人中有人不在本轮名单中，请刷新页面后重新选择".to_owned());
    }
    if list.len() > size as usize {
        problems.push(format!(
            "最多可选 {size} 位候选人，您选了 {} 位",
            list.len()
        ));
    }
    for id in &list {
        if let Some((name, why)) = conflicts.get(id) {
            problems.push(format!("{name}：{why}，须回避，不能选择"));
        }
    }
    if problems.is_empty() {
        Ok(list)
    } else {
        Err(problems)
    }
}

/// The rules in the words the voting page shows before the first vote.
pub fn rules_text(rules: &VoteRules) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(n) = rules.per_candidate_per_day {
        out.push(format!("每人每天可为每位候选人投 {n} 票"));
    }
    if let Some(n) = rules.per_candidate {
        out.push(format!("本轮每人最多可为每位候选人投 {n} 票"));
    }
    if let Some(n) = rules.per_day {
        out.push(format!("每人每天最多投 {n} 票"));
    }
    if let Some(n) = rules.candidates_per_day {
        out.push(format!("每人每天最多可为 {n} 位候选人投票"));
    }
    if let Some(n) = rules.candidates {
        out.push(format!("本轮每人最多可为 {n} 位候选人投票"));
    }
    if rules.per_candidate_per_day.is_some()
        || rules.per_day.is_some()
        || rules.candidates_per_day.is_some()
    {
        out.push("每天的投票次数于北京时间 00:00 起重新计算".to_owned());
    }
    out
}

/// The times of a round in words: “2027年1月5日 09:00 至 2027年1月12日 18:00（北京时间）”;
/// `None` while either is unset.
pub fn window_text(rules: &VoteRules) -> Option<String> {
    let at = |t: &Option<crate::campaign::Deadline>| {
        t.as_ref()
            .and_then(|t| deadline_instant(t).ok())
            .map(|t| t.unix_timestamp())
    };
    Some(format!(
        "{} 至 {}（北京时间）",
        format_time(at(&rules.opens)?),
        format_time(at(&rules.closes)?)
    ))
}

/// Where the round stands at `now` for a voter: 未开始, 投票中, 已截止.
pub fn status(rules: &VoteRules, now: i64) -> &'static str {
    match window(rules, now) {
        Ok(()) => "投票中",
        Err(r) if r.code == "vote_closed" => "已截止",
        Err(_) => "未开始",
    }
}

/// What the page says before the first vote about 刷票 and what a vote keeps: the
/// campaign's sanction (福州工匠 2020: “若发现恶意刷票，该候选人票数将被清零”) and the
/// record a later review reads, so nobody is checked on grounds they were not told.
pub fn integrity_text(rules: &VoteRules) -> Vec<String> {
    let mut out = vec![
        "投票前须验证手机号码；每张选票记录投票时间、网络地址、分享来源、本浏览器的匿名标识和浏览器特征（屏幕、时区、语言等）的摘要，仅用于核查刷票".to_owned(),
    ];
    out.push(match rules.sanction {
        Some(Sanction::Zero) => "严禁刷票：经核实存在恶意刷票的，该候选人票数将被清零".to_owned(),
        Some(Sanction::Invalidate) | None => {
            "严禁刷票：经核实的刷票选票一律作废，不计入得票".to_owned()
        }
    });
    out
}

/// The order the page lists `count` candidates in, as indices into the round's list:
/// the round's own order, or — `shuffled` — an order of the voter's own from `seed` (the
/// browser's anonymous cookie), the same on every visit, so nobody holds the top for all.
pub fn shown_order(order: CardOrder, count: usize, seed: &str) -> Vec<usize> {
    use sha2::{Digest, Sha256};
    let mut idx: Vec<usize> = (0..count).collect();
    if order == CardOrder::Shuffled && !seed.is_empty() {
        idx.sort_by_cached_key(|i| Sha256::digest(format!("{seed}|{i}").as_bytes()));
    }
    idx
}

/// A weight written as a decimal in the file (0.6), as the exact fraction it says (3/5).
pub fn exact_weight(w: f64) -> Score {
    // `f64`'s Display is the shortest decimal that reads back as the same value, and never
    // uses an exponent: it is what the organiser typed.
    let text = w.to_string();
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let den = 10i128.pow(frac.len() as u32);
    let num: i128 = format!("{whole}{frac}").parse().unwrap_or(0);
    Score::new(num, den)
}

/// One group's tally as the merge reads it.
#[derive(Debug, Clone)]
pub struct GroupTally<'a> {
    pub group: &'a VoteGroup,
    /// Valid votes per candidate; a candidate not here has none.
    pub counts: BTreeMap<i64, u64>,
}

/// A candidate's part from one group.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub count: u64,
    /// The count over the group's total or top.
    pub scaled: Score,
    /// `scaled` × the group's weight.
    pub weighted: Score,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub candidate: i64,
    /// In the groups' order.
    pub parts: Vec<Part>,
    pub total: Score,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// Higher total first, then by candidate id (the ranking proper, with the tie keys
    /// and the organiser's order, is `selection::aggregate::rank` over `aggregates`).
    pub rows: Vec<Row>,
    /// The formula in words, each group with its scaling and weight.
    pub formula: String,
    /// Each group's total valid votes and its highest count.
    pub totals: Vec<(u64, u64)>,
}

impl Merged {
    /// The rows as a stage's aggregates: the merged score as the total and each group's
    /// count in place of a criterion, so a group's name works as a tie key.
    pub fn aggregates(&self) -> Vec<Aggregate> {
        self.rows
            .iter()
            .map(|r| Aggregate {
                candidate: r.candidate,
                sheets: 0,
                total: r.total,
                per_criterion: r
                    .parts
                    .iter()
                    .map(|p| Score::new(i128::from(p.count), 1))
                    .collect(),
                note: None,
            })
            .collect()
    }
}

/// The tie keys of a vote stage: a group's name or key (more of that group's votes
/// first) and 上一阶段排名.
pub fn tie_keys(stage: &Stage) -> Vec<TieKey> {
    stage
        .tie_keys
        .iter()
        .filter_map(|k| {
            if k == PREVIOUS_RANK {
                return Some(TieKey::PreviousRank);
            }
            stage
                .groups
                .iter()
                .position(|g| &g.name == k || &g.key == k)
                .map(TieKey::Criterion)
        })
        .collect()
}

/// Why a merge cannot be made yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady(pub Vec<String>);

/// The merged score of each of `candidates`: each group's count scaled as its file says,
/// weighted, summed exactly. Refused while a weight or a scaling is unset (with more than
/// one group).
pub fn merge(tallies: &[GroupTally<'_>], candidates: &[i64]) -> Result<Merged, NotReady> {
    let mut missing = Vec::new();
    let several = tallies.len() > 1;
    for t in tallies {
        if t.group.weight.is_none() && several {
            missing.push(format!("{}的权重", t.group.name));
        }
        if t.group.scaling.is_none() && several {
            missing.push(format!("{}票数的换算方式", t.group.name));
        }
    }
    if !missing.is_empty() {
        return Err(NotReady(missing));
    }
    let totals: Vec<(u64, u64)> = tallies
        .iter()
        .map(|t| {
            let in_round = || {
                t.counts
                    .iter()
                    .filter(|(c, _)| candidates.contains(c))
                    .map(|(_, n)| *n)
            };
            (in_round().sum(), in_round().max().unwrap_or(0))
        })
        .collect();
    let mut rows: Vec<Row> = candidates
        .iter()
        .map(|&candidate| {
            let parts: Vec<Part> = tallies
                .iter()
                .zip(&totals)
                .map(|(t, &(sum, top))| {
                    let count = t.counts.get(&candidate).copied().unwrap_or(0);
                    let over = match t.group.scaling.unwrap_or(Scaling::Share) {
                        Scaling::Share => sum,
                        Scaling::Top => top,
                    };
                    let scaled = if over == 0 {
                        Score::ZERO
                    } else {
                        Score::new(i128::from(count), i128::from(over))
                    };
                    let weight = t.group.weight.map_or(Score::new(1, 1), exact_weight);
                    Part {
                        count,
                        scaled,
                        weighted: scaled * weight,
                    }
                })
                .collect();
            let total = parts.iter().fold(Score::ZERO, |a, p| a + p.weighted);
            Row {
                candidate,
                parts,
                total,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.total.cmp(&a.total).then(a.candidate.cmp(&b.candidate)));
    Ok(Merged {
        rows,
        formula: formula(tallies),
        totals,
    })
}

/// “综合得分 = 公众组票数 ÷ 公众组有效票总数 × 0.6 + 专业组票数 ÷ 专业组最高票数 × 0.4”.
pub fn formula(tallies: &[GroupTally<'_>]) -> String {
    let parts: Vec<String> = tallies
        .iter()
        .map(|t| {
            let g = t.group;
            let over = match g.scaling.unwrap_or(Scaling::Share) {
                Scaling::Share => "有效票总数",
                Scaling::Top => "最高票数",
            };
            match g.weight {
                Some(w) if tallies.len() > 1 => {
                    format!("{name}票数 ÷ {name}{over} × {w}", name = g.name)
                }
                _ => format!("{name}票数 ÷ {name}{over}", name = g.name),
            }
        })
        .collect();
    format!("综合得分 = {}", parts.join(" + "))
}

#[cfg(test)]
mod tests;
