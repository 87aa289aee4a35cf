//! The online vote (东莞's 网络投票, issue 19): when it is open, what one vote claims
//! against a voter's limits, and the merged ranking of the 公众组 and 专业组.
//!
//! The limits are kept by the database, never by a read then a write: each limit is a
//! numbered set of slots (“voter V's votes for candidate C on day D: slots 0..cap”) and
//! a vote takes the next free slot under a unique key, so two servers racing for the last
//! slot cannot both get it. This module says which slots a vote needs and what to tell
//! the voter when one is full; `crates/store` takes them in the vote's transaction.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use num_rational::Ratio;
use time::Date;

use crate::campaign::{PREVIOUS_RANK, Scaling, Stage, VoteGroup, VoteRules, deadline_instant};
use crate::deadline::format_beijing as format_time;
use crate::publicity::beijing_day;

pub mod verify;

/// Exact fractions: a merged score is a sum of weight × count ÷ total, compared exactly.
pub type Exact = Ratio<i128>;

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
    let tomorrow = "请明日 00:00 后再投";
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
                format!("您已为该候选人投满 {cap} 票，本轮不能再投")
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
            refusal: format!(
                "今日最多可为 {cap} 位候选人投票，您已投了 {cap} 位；可继续为这 {cap} 位投票，或{tomorrow}"
            ),
        });
    }
    if let Some(cap) = rules.candidates {
        out.push(Claim {
            scope: "p".to_owned(),
            cap,
            pick: Some("round".to_owned()),
            code: "limit_candidates",
            refusal: format!("本轮最多可为 {cap} 位候选人投票，您已投了 {cap} 位"),
        });
    }
    out
}

/// The rules in the words the voting page shows before the first vote.
pub fn rules_text(rules: &VoteRules) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(n) = rules.per_candidate_per_day {
        out.push(format!("每人每天可为每位候选人投 {n} 票"));
    }
    if let Some(n) = rules.per_candidate {
        out.push(format!("本轮每人可为每位候选人投 {n} 票"));
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
    out.push("每天的投票次数于北京时间 00:00 起重新计算".to_owned());
    out
}

/// A weight written as a decimal in the file (0.6), as the exact fraction it says (3/5).
pub fn exact_weight(w: f64) -> Exact {
    // `f64`'s Display is the shortest decimal that reads back as the same value, and never
    // uses an exponent: it is what the organiser typed.
    let text = w.to_string();
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let den = 10i128.pow(frac.len() as u32);
    let num: i128 = format!("{whole}{frac}").parse().unwrap_or(0);
    Ratio::new(num, den)
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
    pub scaled: Exact,
    /// `scaled` × the group's weight.
    pub weighted: Exact,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub candidate: i64,
    /// In the groups' order.
    pub parts: Vec<Part>,
    pub total: Exact,
    /// 1-based; rows the tie keys cannot order share the rank.
    pub rank: usize,
    /// Why this row is above the next where the totals are equal (the tie key that
    /// decided), or that it is still equal.
    pub tie: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    pub rows: Vec<Row>,
    /// The formula in words, each group with its scaling and weight.
    pub formula: String,
    /// Each group's total valid votes and its highest count.
    pub totals: Vec<(u64, u64)>,
}

/// Why a merge cannot be made yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady(pub Vec<String>);

/// The merged ranking of `candidates`: each group's count scaled as its file says,
/// weighted, summed exactly; equal totals ordered by the stage's tie keys (a group's name:
/// more of that group's votes first; 上一阶段排名: the better previous rank first, from
/// `previous`). Refused while a weight or a scaling is unset (with more than one group).
pub fn merge(
    stage: &Stage,
    tallies: &[GroupTally<'_>],
    candidates: &[i64],
    previous: &BTreeMap<i64, usize>,
) -> Result<Merged, NotReady> {
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
                        Exact::from_integer(0)
                    } else {
                        Ratio::new(i128::from(count), i128::from(over))
                    };
                    let weight = t.group.weight.map_or(Exact::from_integer(1), exact_weight);
                    Part {
                        count,
                        scaled,
                        weighted: scaled * weight,
                    }
                })
                .collect();
            let total = parts
                .iter()
                .fold(Exact::from_integer(0), |a, p| a + p.weighted);
            Row {
                candidate,
                parts,
                total,
                rank: 0,
                tie: None,
            }
        })
        .collect();
    let key_of = |name: &str| -> Option<TieKey> {
        if name == PREVIOUS_RANK {
            return Some(TieKey::Previous);
        }
        tallies
            .iter()
            .position(|t| t.group.name == name || t.group.key == name)
            .map(TieKey::Group)
    };
    let keys: Vec<(TieKey, &str)> = stage
        .tie_keys
        .iter()
        .filter_map(|n| key_of(n).map(|k| (k, n.as_str())))
        .collect();
    let by_keys = |a: &Row, b: &Row| -> (Ordering, Option<&str>) {
        for (key, name) in &keys {
            let o = match key {
                TieKey::Group(g) => b.parts[*g].count.cmp(&a.parts[*g].count),
                TieKey::Previous => {
                    let p = |r: &Row| previous.get(&r.candidate).copied().unwrap_or(usize::MAX);
                    p(a).cmp(&p(b))
                }
            };
            if o != Ordering::Equal {
                return (o, Some(name));
            }
        }
        (Ordering::Equal, None)
    };
    rows.sort_by(|a, b| {
        b.total
            .cmp(&a.total)
            .then_with(|| by_keys(a, b).0)
            .then(a.candidate.cmp(&b.candidate))
    });
    for i in 0..rows.len() {
        let tied_above = i > 0
            && rows[i - 1].total == rows[i].total
            && by_keys(&rows[i - 1], &rows[i]).0 == Ordering::Equal;
        rows[i].rank = if tied_above { rows[i - 1].rank } else { i + 1 };
        if i + 1 < rows.len() && rows[i + 1].total == rows[i].total {
            rows[i].tie = Some(match by_keys(&rows[i], &rows[i + 1]) {
                (Ordering::Equal, _) => "与下一位综合得分相同，同分规则不能区分".to_owned(),
                (_, Some(name)) => format!("与下一位综合得分相同，按“{name}”排在前"),
                (_, None) => unreachable!("an order without a key"),
            });
        }
    }
    Ok(Merged {
        rows,
        formula: formula(tallies),
        totals,
    })
}

#[derive(Debug, Clone, Copy)]
enum TieKey {
    Group(usize),
    Previous,
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

/// A fraction as a decimal with `places` digits, rounded half up (for display; the order
/// comes from the fraction itself).
pub fn decimal(r: &Exact, places: u32) -> String {
    let scale = 10i128.pow(places);
    let n = *r.numer() * scale * 2 + r.denom();
    let v = n.div_euclid(r.denom() * 2);
    let (whole, frac) = (v / scale, v % scale);
    if places == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:0width$}", width = places as usize)
    }
}

#[cfg(test)]
mod tests;
