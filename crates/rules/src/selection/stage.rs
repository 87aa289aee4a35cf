//! A stage's life, from the campaign file's `[[stages]]`: 未开始 → 进行中 (opened with
//! exactly the candidates the stage before advanced) → 已结束 (sheets locked, scores
//! shown) → 晋级名单已确定 (locked; the next stage may open). Undoing an advance is a
//! reversal with its reason, never an edit. The state is replayed from the stored events,
//! as an application's flow is, and [`decide`] answers a move with the event to write or
//! every problem that stands in its way.

use crate::campaign::{Campaign, Stage, StageKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Open,
    Closed,
    Advanced,
}

impl Phase {
    pub fn text(self) -> &'static str {
        match self {
            Phase::Pending => "未开始",
            Phase::Open => "进行中",
            Phase::Closed => "已结束，待确定晋级名单",
            Phase::Advanced => "晋级名单已确定",
        }
    }

    /// The stored word.
    pub fn key(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Open => "open",
            Phase::Closed => "closed",
            Phase::Advanced => "advanced",
        }
    }
}

/// What is stored for a stage, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Opened with these candidates (application ids).
    Opened {
        candidates: Vec<i64>,
    },
    Closed,
    /// These go on to the next stage; `note` is the panel's own choice with a reason
    /// per swap (“评审小组另选名单：第 21 名代替第 18 名，理由：…”), empty otherwise.
    Advanced {
        advanced: Vec<i64>,
        note: String,
    },
    /// The advance undone, with the reason; the stage is closed again.
    Reverted {
        reason: String,
    },
    /// The outcome made known: each candidate, their units and their recommender see
    /// their own (passed or not with the reason, advanced or not), nobody else's.
    Published,
}

impl Event {
    /// The stored word, also the audit entry's action suffix.
    pub fn key(&self) -> &'static str {
        match self {
            Event::Opened { .. } => "opened",
            Event::Closed => "closed",
            Event::Advanced { .. } => "advanced",
            Event::Reverted { .. } => "reverted",
            Event::Published => "published",
        }
    }
}

/// A stage as its events leave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub phase: Phase,
    /// Who is in the stage, sorted.
    pub candidates: Vec<i64>,
    /// Who goes on, sorted; empty until advanced.
    pub advanced: Vec<i64>,
    /// The advance in force has been published to the candidates and their units.
    pub published: bool,
    /// An advance was published once and has since been undone: those who saw it are
    /// told it is under review until the next publication.
    pub withdrawn: bool,
}

impl Default for State {
    fn default() -> State {
        State {
            phase: Phase::Pending,
            candidates: Vec::new(),
            advanced: Vec::new(),
            published: false,
            withdrawn: false,
        }
    }
}

/// Replays the stored events.
pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> State {
    let mut s = State::default();
    for e in events {
        match e {
            Event::Opened { candidates } => {
                s.phase = Phase::Open;
                s.candidates = sorted(candidates);
            }
            Event::Closed => s.phase = Phase::Closed,
            Event::Advanced { advanced, .. } => {
                s.phase = Phase::Advanced;
                s.advanced = sorted(advanced);
            }
            Event::Reverted { .. } => {
                s.phase = Phase::Closed;
                s.advanced.clear();
                s.withdrawn |= s.published;
                s.published = false;
            }
            Event::Published => {
                s.published = true;
                s.withdrawn = false;
            }
        }
    }
    s
}

fn sorted(ids: &[i64]) -> Vec<i64> {
    let mut v = ids.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// What the organiser asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Move {
    /// Open with the candidates the page showed (checked against the stage before).
    Open {
        candidates: Vec<i64>,
    },
    Close,
    /// Lock the list the page showed (checked against the stage's outcome).
    Advance {
        advanced: Vec<i64>,
    },
    /// The final list the panel chose instead of the drawn one: checked against the
    /// campaign's hard rules, with a reason for each candidate it brings in (by id).
    Choose {
        list: Vec<i64>,
        reasons: std::collections::BTreeMap<i64, String>,
    },
    Revert {
        reason: String,
    },
    /// Make the confirmed outcome known to each candidate and their units.
    Publish,
}

/// Everything a stage move depends on, loaded once.
#[derive(Debug, Clone)]
pub struct Case<'a> {
    pub campaign: &'a Campaign,
    pub index: usize,
    pub state: &'a State,
    /// The stage before, replayed; `None` for the first.
    pub previous: Option<&'a State>,
    /// The stage after; an advance cannot be undone once it has opened.
    pub next: Option<&'a State>,
    /// The candidates at the office's desk (for a later stage, those of the stage before
    /// that are still there).
    pub at_desk: &'a [i64],
    /// At close: what is still outstanding, in words (“张三尚有 2 份评分表未提交”,
    /// “李四未作形式审查结论”).
    pub outstanding: &'a [String],
    /// At advance: who the stage's outcome advances (the ranking's first N, those who
    /// passed a screening), or `None` while it cannot say (a tie across the cut).
    pub outcome: Option<&'a [i64]>,
    /// Names tied across the cut that the organiser has not ordered.
    pub tied: &'a [String],
    /// The last stage under the campaign's final rules, once ranked: the drawing the
    /// panel's own list is checked against.
    pub drawing: Option<&'a crate::selection::final_list::Drawing>,
}

impl Case<'_> {
    pub fn stage(&self) -> &Stage {
        &self.campaign.stages[self.index]
    }
}

/// Why a move cannot be made: a code for the API and every problem in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub problems: Vec<String>,
}

impl Refusal {
    fn one(code: &'static str, problem: impl Into<String>) -> Refusal {
        Refusal {
            code,
            problems: vec![problem.into()],
        }
    }

    pub fn message(&self) -> String {
        self.problems.join("；")
    }
}

/// Where the selection rounds hold candidate `id` now, in words that follow its name:
/// “已进入评选阶段“网上评选””, while a stage it is in is open or closed; “已晋级，待进入
/// 评选阶段“集中评选””, once advanced into one not yet opened; “已列入“集中评选”的晋级名单”,
/// on the last stage's list. `None` before any stage took it, or once one left it out.
/// While the rounds hold a candidate the office may not send it back down the chain, nor
/// may a unit take it back.
pub fn holding(campaign: &Campaign, states: &[State], id: i64) -> Option<String> {
    let mut advanced_from: Option<&str> = None;
    for (stage, s) in campaign.stages.iter().zip(states) {
        if !s.candidates.contains(&id) {
            return match (advanced_from, s.phase) {
                (Some(_), Phase::Pending) => {
                    Some(format!("已晋级，待进入评选阶段“{}”", stage.name))
                }
                // Opened without it (sent back meanwhile), or never taken.
                _ => None,
            };
        }
        match s.phase {
            Phase::Open | Phase::Closed => {
                return Some(format!("已进入评选阶段“{}”", stage.name));
            }
            Phase::Advanced if s.advanced.contains(&id) => advanced_from = Some(&stage.name),
            _ => return None,
        }
    }
    advanced_from.map(|name| format!("已列入“{name}”的晋级名单"))
}

/// The settings a stage needs before it opens, each named as the 活动设置 form names it.
pub fn unset(stage: &Stage) -> Vec<String> {
    let mut out = Vec::new();
    if stage.kind != StageKind::UnitRound && stage.advance.is_none() {
        out.push(format!("“{}：晋级人数”", stage.name));
    }
    if stage.kind == StageKind::Review && stage.reviewers.is_none() {
        out.push(format!("“{}：每位候选人的评审专家人数”", stage.name));
    }
    if stage.kind == StageKind::Vote {
        let v = stage.vote.clone().unwrap_or_default();
        if v.opens.is_none() {
            out.push(format!("“{}：投票开始时间”", stage.name));
        }
        if v.closes.is_none() {
            out.push(format!("“{}：投票截止时间”", stage.name));
        }
        if stage.groups.len() > 1 {
            for g in &stage.groups {
                if g.weight.is_none() {
                    out.push(format!("“{}：{}权重”", stage.name, g.name));
                }
                if g.scaling.is_none() {
                    out.push(format!("“{}：{}票数换算方式”", stage.name, g.name));
                }
            }
        }
    }
    if stage.scored() {
        for c in &stage.criteria {
            if !stage.max_points.contains_key(c) {
                out.push(format!("“{}：“{c}”满分”", stage.name));
            }
        }
    }
    out
}

/// The one decision for a stage move: the event to write, or why not.
pub fn decide(case: &Case, mv: &Move) -> Result<Event, Refusal> {
    let stage = case.stage();
    let phase = case.state.phase;
    let wrong = |want: &str| {
        Refusal::one(
            "stage_state",
            format!("“{}”{}，不能{want}", stage.name, phase.text()),
        )
    };
    match mv {
        Move::Open { candidates } => {
            if phase != Phase::Pending {
                return Err(wrong("开始"));
            }
            let expected: Vec<i64> = match (case.index, case.previous) {
                (0, _) => sorted(case.at_desk),
                // What the stage before advanced and is still at the office's desk (one
                // sent back down the chain since is not this stage's).
                (_, Some(prev)) if prev.phase == Phase::Advanced => prev
                    .advanced
                    .iter()
                    .copied()
                    .filter(|id| case.at_desk.contains(id))
                    .collect(),
                (i, _) => {
                    let before = &case.campaign.stages[i - 1];
                    return Err(Refusal::one(
                        "previous_not_advanced",
                        format!(
                            "上一阶段“{}”尚未确定晋级名单，“{}”还不能开始",
                            before.name, stage.name
                        ),
                    ));
                }
            };
            let mut problems: Vec<String> = unset(stage)
                .into_iter()
                .map(|s| format!("请先在活动设置中设定{s}"))
                .collect();
            if expected.is_empty() {
                problems.push(if case.index == 0 {
                    "活动办公室尚无待评选的候选人".to_owned()
                } else {
                    "上一阶段没有晋级的候选人".to_owned()
                });
            }
            if !problems.is_empty() {
                return Err(Refusal {
                    code: "stage_not_ready",
                    problems,
                });
            }
            if sorted(candidates) != expected {
                return Err(Refusal::one(
                    "list_changed",
                    format!(
                        "候选人名单已变化（现为 {} 人），请刷新页面后重新确认",
                        expected.len()
                    ),
                ));
            }
            Ok(Event::Opened {
                candidates: expected,
            })
        }
        Move::Close => {
            if phase != Phase::Open {
                return Err(wrong("结束"));
            }
            if !case.outstanding.is_empty() {
                return Err(Refusal {
                    code: "stage_outstanding",
                    problems: case.outstanding.to_vec(),
                });
            }
            Ok(Event::Closed)
        }
        Move::Advance { advanced } => {
            if phase != Phase::Closed {
                return Err(wrong("确定晋级名单"));
            }
            if !case.tied.is_empty() {
                return Err(Refusal::one(
                    "tie_unresolved",
                    format!(
                        "{} 在晋级线上同分，请先确定他们的先后并写明理由",
                        case.tied.join("、")
                    ),
                ));
            }
            let Some(outcome) = case.outcome else {
                // The final list's rules no list meets, an age day unset: said as found.
                if !case.outstanding.is_empty() {
                    return Err(Refusal::one("no_list", case.outstanding.join("；")));
                }
                return Err(Refusal::one(
                    "tie_unresolved",
                    "本阶段结果尚不能确定晋级名单",
                ));
            };
            let outcome = sorted(outcome);
            if let Some(cap) = stage.advance
                && outcome.len() > cap as usize
            {
                return Err(Refusal::one(
                    "over_cap",
                    format!(
                        "“{}”晋级 {} 人，超过晋级人数 {cap} 人，请复核",
                        stage.name,
                        outcome.len()
                    ),
                ));
            }
            if sorted(advanced) != outcome {
                return Err(Refusal::one(
                    "list_changed",
                    format!(
                        "晋级名单已变化（现为 {} 人），请刷新页面后重新确认",
                        outcome.len()
                    ),
                ));
            }
            Ok(Event::Advanced {
                advanced: outcome,
                note: String::new(),
            })
        }
        Move::Choose { list, reasons } => {
            if phase != Phase::Closed {
                return Err(wrong("另选名单"));
            }
            let Some(drawing) = case.drawing else {
                return Err(Refusal::one(
                    "not_final",
                    format!(
                        "“{}”按排名确定晋级名单；只有按名单规则抽定的最终名单可以另选",
                        stage.name
                    ),
                ));
            };
            match drawing.choose(list, reasons) {
                Ok(note) => Ok(Event::Advanced {
                    advanced: sorted(list),
                    note,
                }),
                Err(problems) => Err(Refusal {
                    code: "list_breaks_rules",
                    problems,
                }),
            }
        }
        Move::Revert { reason } => {
            if phase != Phase::Advanced {
                return Err(wrong("撤销晋级名单"));
            }
            if let Some(next) = case.next
                && next.phase != Phase::Pending
            {
                let name = &case.campaign.stages[case.index + 1].name;
                return Err(Refusal::one(
                    "next_started",
                    format!(
                        "下一阶段“{name}”已经开始，不能撤销“{}”的晋级名单",
                        stage.name
                    ),
                ));
            }
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(Refusal::one("reason_required", "撤销晋级名单须写明理由"));
            }
            Ok(Event::Reverted {
                reason: reason.to_owned(),
            })
        }
        Move::Publish => {
            if phase != Phase::Advanced {
                return Err(wrong("公布结果（须先确定晋级名单）"));
            }
            if case.state.published {
                return Err(Refusal::one(
                    "published",
                    format!("“{}”的结果已经公布", stage.name),
                ));
            }
            Ok(Event::Published)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::{SEEDS, load};

    fn seed(name: &str) -> Campaign {
        let (_, text) = SEEDS.iter().find(|(f, _)| f.contains(name)).unwrap();
        load(text).campaign.unwrap()
    }

    fn case<'a>(c: &'a Campaign, index: usize, state: &'a State) -> Case<'a> {
        Case {
            campaign: c,
            index,
            state,
            previous: None,
            next: None,
            at_desk: &[],
            outstanding: &[],
            outcome: None,
            tied: &[],
            drawing: None,
        }
    }

    #[test]
    fn a_stage_opens_closes_advances_and_is_reverted_with_a_reason() {
        let c = seed("dongguan");
        let mut events = Vec::new();
        let desk = [3, 1, 2, 4];
        let s = replay(&events);
        let mut k = case(&c, 0, &s);
        k.at_desk = &desk;
        let e = decide(
            &k,
            &Move::Open {
                candidates: vec![1, 2, 3, 4],
            },
        )
        .unwrap();
        events.push(e);
        let s = replay(&events);
        assert_eq!(
            (s.phase, s.candidates.clone()),
            (Phase::Open, vec![1, 2, 3, 4])
        );

        let outstanding = ["王五未作形式审查结论".to_owned()];
        let mut k = case(&c, 0, &s);
        k.outstanding = &outstanding;
        let r = decide(&k, &Move::Close).unwrap_err();
        assert_eq!(r.code, "stage_outstanding");
        assert_eq!(r.message(), "王五未作形式审查结论");
        events.push(decide(&case(&c, 0, &s), &Move::Close).unwrap());
        let s = replay(&events);
        assert_eq!(s.phase, Phase::Closed);

        let passed = [1, 2, 4];
        let mut k = case(&c, 0, &s);
        k.outcome = Some(&passed);
        let stale = decide(
            &k,
            &Move::Advance {
                advanced: vec![1, 2],
            },
        )
        .unwrap_err();
        assert_eq!(stale.code, "list_changed");
        events.push(
            decide(
                &k,
                &Move::Advance {
                    advanced: vec![4, 2, 1],
                },
            )
            .unwrap(),
        );
        let s = replay(&events);
        assert_eq!(
            (s.phase, s.advanced.clone()),
            (Phase::Advanced, vec![1, 2, 4])
        );

        let k = case(&c, 0, &s);
        let r = decide(&k, &Move::Revert { reason: " ".into() }).unwrap_err();
        assert_eq!(r.code, "reason_required");
        let started = State {
            phase: Phase::Open,
            ..State::default()
        };
        let mut k2 = case(&c, 0, &s);
        k2.next = Some(&started);
        assert_eq!(
            decide(
                &k2,
                &Move::Revert {
                    reason: "复核".into()
                }
            )
            .unwrap_err()
            .code,
            "next_started"
        );
        events.push(
            decide(
                &k,
                &Move::Revert {
                    reason: "王五材料补正".into(),
                },
            )
            .unwrap(),
        );
        let s = replay(&events);
        assert_eq!((s.phase, s.advanced.len()), (Phase::Closed, 0));
    }

    #[test]
    fn a_stage_takes_exactly_what_the_one_before_advanced() {
        let c = seed("dongguan");
        let pending = State::default();
        // 东莞's 评审小组终选 (index 2) after a 网络投票 that has not advanced.
        let mut k = case(&c, 2, &pending);
        k.previous = Some(&pending);
        let r = decide(
            &k,
            &Move::Open {
                candidates: vec![1],
            },
        )
        .unwrap_err();
        assert_eq!(r.code, "previous_not_advanced");
        assert!(r.message().contains("网络投票"), "{}", r.message());

        let before = State {
            phase: Phase::Advanced,
            candidates: vec![1, 2, 3],
            advanced: vec![1, 3],
            ..State::default()
        };
        let mut k = case(&c, 2, &pending);
        k.previous = Some(&before);
        // Points are not set in the seed: the form's names of what is missing.
        let r = decide(
            &k,
            &Move::Open {
                candidates: vec![1, 3],
            },
        )
        .unwrap_err();
        assert_eq!(r.code, "stage_not_ready");
        assert!(
            r.problems
                .iter()
                .any(|p| p.contains("评审小组终选：“工作实绩”满分")),
            "{r:?}"
        );
    }

    #[test]
    fn unset_values_block_opening_a_vote_included() {
        let c = seed("xinjiang");
        let s = State::default();
        let before = State {
            phase: Phase::Advanced,
            candidates: vec![1, 2],
            advanced: vec![1, 2],
            ..State::default()
        };
        let mut k = case(&c, 1, &s);
        k.previous = Some(&before);
        let r = decide(
            &k,
            &Move::Open {
                candidates: vec![1, 2],
            },
        )
        .unwrap_err();
        assert_eq!(r.code, "stage_not_ready");
        assert!(r.problems.iter().any(|p| p.contains("网上评选：晋级人数")));
        assert!(
            r.problems
                .iter()
                .any(|p| p.contains("每位候选人的评审专家人数"))
        );

        let dg = seed("dongguan");
        let mut k = case(&dg, 1, &s);
        k.previous = Some(&before);
        // 东莞's vote: nothing of it is in the notice, each named as the form names it.
        let r = decide(
            &k,
            &Move::Open {
                candidates: vec![1, 2],
            },
        )
        .unwrap_err();
        assert_eq!(r.code, "stage_not_ready");
        assert_eq!(
            r.problems,
            [
                "请先在活动设置中设定“网络投票：投票开始时间”",
                "请先在活动设置中设定“网络投票：投票截止时间”",
                "请先在活动设置中设定“网络投票：公众组权重”",
                "请先在活动设置中设定“网络投票：公众组票数换算方式”",
                "请先在活动设置中设定“网络投票：专业组权重”",
                "请先在活动设置中设定“网络投票：专业组票数换算方式”",
                "上一阶段没有晋级的候选人",
            ]
        );
    }

    #[test]
    fn moves_out_of_turn_and_ties_are_refused() {
        let c = seed("dongguan");
        let s = State::default();
        assert_eq!(
            decide(&case(&c, 0, &s), &Move::Close).unwrap_err().code,
            "stage_state"
        );
        let closed = State {
            phase: Phase::Closed,
            candidates: vec![1, 2, 3],
            advanced: vec![],
            ..State::default()
        };
        let tied = ["张三".to_owned(), "李四".to_owned()];
        let mut k = case(&c, 0, &closed);
        k.tied = &tied;
        let r = decide(&k, &Move::Advance { advanced: vec![1] }).unwrap_err();
        assert_eq!(r.code, "tie_unresolved");
        assert!(r.message().contains("张三、李四"));
        // 初选 advances at most 40.
        let many: Vec<i64> = (1..=41).collect();
        let mut k = case(&c, 0, &closed);
        k.outcome = Some(&many);
        assert_eq!(
            decide(
                &k,
                &Move::Advance {
                    advanced: many.clone()
                }
            )
            .unwrap_err()
            .code,
            "over_cap"
        );
    }

    #[test]
    fn a_candidate_is_held_by_the_stage_it_is_in_or_advanced_into() {
        let c = seed("xinjiang");
        let open = |ids: &[i64]| State {
            phase: Phase::Open,
            candidates: ids.to_vec(),
            ..State::default()
        };
        let advanced = |ids: &[i64], on: &[i64]| State {
            phase: Phase::Advanced,
            candidates: ids.to_vec(),
            advanced: on.to_vec(),
            ..State::default()
        };
        let pending = State::default();
        let at = |states: &[State], id| holding(&c, states, id);
        assert_eq!(
            at(&[pending.clone(), pending.clone(), pending.clone()], 1),
            None
        );
        let first = [open(&[1, 2]), pending.clone(), pending.clone()];
        assert_eq!(at(&first, 1).as_deref(), Some("已进入评选阶段“初评”"));
        assert_eq!(at(&first, 3), None, "never taken");
        let second = [advanced(&[1, 2], &[1]), pending.clone(), pending.clone()];
        assert_eq!(
            at(&second, 1).as_deref(),
            Some("已晋级，待进入评选阶段“网上评选”")
        );
        assert_eq!(at(&second, 2), None, "left out");
        // The next stage opened without it (sent back meanwhile): nothing holds it.
        let without = [advanced(&[1, 2], &[1, 2]), open(&[1]), pending.clone()];
        assert_eq!(at(&without, 2), None);
        let last = [
            advanced(&[1, 2], &[1]),
            advanced(&[1], &[1]),
            advanced(&[1], &[1]),
        ];
        assert_eq!(at(&last, 1).as_deref(), Some("已列入“集中评选”的晋级名单"));
    }

    #[test]
    fn an_outcome_is_published_once_and_a_reversal_withdraws_it() {
        let c = seed("dongguan");
        let mut events = vec![
            Event::Opened {
                candidates: vec![1, 2],
            },
            Event::Closed,
        ];
        let s = replay(&events);
        let r = decide(&case(&c, 0, &s), &Move::Publish).unwrap_err();
        assert_eq!(r.code, "stage_state");
        assert!(r.message().contains("须先确定晋级名单"), "{}", r.message());
        events.push(Event::Advanced {
            advanced: vec![1],
            note: String::new(),
        });
        let s = replay(&events);
        events.push(decide(&case(&c, 0, &s), &Move::Publish).unwrap());
        let s = replay(&events);
        assert!(s.published && !s.withdrawn);
        assert_eq!(
            decide(&case(&c, 0, &s), &Move::Publish).unwrap_err().code,
            "published"
        );
        events.push(Event::Reverted {
            reason: "复核".into(),
        });
        let s = replay(&events);
        assert!(!s.published && s.withdrawn);
        events.push(Event::Advanced {
            advanced: vec![1, 2],
            note: String::new(),
        });
        events.push(Event::Published);
        let s = replay(&events);
        assert!(s.published && !s.withdrawn);
        assert_eq!(s.advanced, vec![1, 2]);
    }
}

/// The organiser's order for candidates tied across the cut: only on a closed stage, an
/// order of exactly the tied candidates, each once, with a reason (kept with the order).
pub fn decide_tie_break(
    phase: Phase,
    tied: &[i64],
    order: &[i64],
    reason: &str,
) -> Result<String, Refusal> {
    if phase != Phase::Closed {
        return Err(Refusal::one(
            "stage_state",
            format!("本阶段{}，不能排定同分先后", phase.text()),
        ));
    }
    if tied.is_empty() {
        return Err(Refusal::one(
            "no_tie",
            "晋级线上没有需要排定先后的同分候选人",
        ));
    }
    if sorted(order) != sorted(tied) || order.len() != tied.len() {
        return Err(Refusal::one(
            "bad_order",
            format!("请为同分的 {} 名候选人各排一个不同的先后次序", tied.len()),
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Refusal::one("reason_required", "排定同分先后须写明理由"));
    }
    Ok(reason.to_owned())
}

#[cfg(test)]
mod tie_tests {
    use super::*;

    #[test]
    fn a_tie_break_orders_exactly_the_tied_with_a_reason() {
        let tied = [4, 7];
        assert_eq!(
            decide_tie_break(Phase::Closed, &tied, &[7, 4], " 工作实绩更突出 ").unwrap(),
            "工作实绩更突出"
        );
        let code = |r: Result<String, Refusal>| r.unwrap_err().code;
        assert_eq!(
            code(decide_tie_break(Phase::Open, &tied, &[7, 4], "x")),
            "stage_state"
        );
        assert_eq!(
            code(decide_tie_break(Phase::Closed, &[], &[], "x")),
            "no_tie"
        );
        assert_eq!(
            code(decide_tie_break(Phase::Closed, &tied, &[7, 7], "x")),
            "bad_order"
        );
        assert_eq!(
            code(decide_tie_break(Phase::Closed, &tied, &[7], "x")),
            "bad_order"
        );
        assert_eq!(
            code(decide_tie_break(Phase::Closed, &tied, &[4, 7], "")),
            "reason_required"
        );
    }
}
