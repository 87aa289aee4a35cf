//! 形式审查's checklist: what the record already says about a candidate, so the examiner
//! confirms instead of hunting — materials complete, the recommender's quota (with the
//! “原则上” places granted), the eligibility answers and the register of earlier winners,
//! the age from the 身份证. A check never decides: the examiner passes or fails.

use time::Date;

use crate::campaign::{FieldKey, Strictness};
use crate::decide::Case;
use crate::form::FieldValue;
use crate::idcard::IdNumber;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Ok,
    /// Worth a look: a “原则上” rule bent, a value that cannot be read.
    Warn,
    /// Against a rule the notice states without “原则上”.
    Fail,
}

impl Mark {
    pub fn key(self) -> &'static str {
        match self {
            Mark::Ok => "ok",
            Mark::Warn => "warn",
            Mark::Fail => "fail",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub label: &'static str,
    pub mark: Mark,
    pub text: String,
}

/// The checklist of one candidate, ages counted on `age_on` (the campaign's reference
/// day, or today while the organiser has not set one: said in the text).
pub fn checklist(case: &Case, age_on: Date, reference_set: bool) -> Vec<Check> {
    let mut out = Vec::new();
    let missing: Vec<String> = (0..case.chain.levels.len())
        .flat_map(|level| case.missing_materials(level))
        .collect();
    out.push(if missing.is_empty() {
        Check {
            label: "材料",
            mark: Mark::Ok,
            text: "齐全".to_owned(),
        }
    } else {
        Check {
            label: "材料",
            mark: Mark::Fail,
            text: missing.join("；"),
        }
    });
    out.push(match case.quota() {
        None => Check {
            label: "推荐名额",
            mark: Mark::Ok,
            text: "不限名额".to_owned(),
        },
        Some(q) => {
            let granted = case.recommender.as_ref().map_or(0, |r| r.granted);
            let extra = if granted > 0 && q.strictness == Strictness::InPrinciple {
                format!("（含特批 {granted} 人）")
            } else {
                String::new()
            };
            let text = format!("已推荐 {} 人，名额 {} 人{extra}", q.used, q.max);
            let mark = match (q.used > i64::from(q.max), q.strictness) {
                (false, _) => Mark::Ok,
                (true, Strictness::InPrinciple) => Mark::Warn,
                (true, Strictness::Strict) => Mark::Fail,
            };
            Check {
                label: "推荐名额",
                mark,
                text,
            }
        }
    });
    let findings = case.findings();
    out.push(if findings.is_empty() {
        Check {
            label: "申报条件",
            mark: Mark::Ok,
            text: "符合；未见往届获奖记录".to_owned(),
        }
    } else {
        Check {
            label: "申报条件",
            mark: if findings.iter().any(|f| f.blocking) {
                Mark::Fail
            } else {
                Mark::Warn
            },
            text: findings
                .iter()
                .map(|f| f.message.as_str())
                .collect::<Vec<_>>()
                .join("；"),
        }
    });
    let id = case
        .form
        .get(&FieldKey::IdNumber)
        .and_then(FieldValue::text)
        .map(IdNumber::parse);
    out.push(match id {
        Some(Ok(id)) => {
            let on = format!(
                "{}年{}月{}日",
                age_on.year(),
                age_on.month() as u8,
                age_on.day()
            );
            Check {
                label: "年龄",
                mark: Mark::Ok,
                text: if reference_set {
                    format!("{} 周岁（按 {on} 计）", id.age_on(age_on))
                } else {
                    format!(
                        "{} 周岁（按今天 {on} 计；年龄计算基准日未设定）",
                        id.age_on(age_on)
                    )
                },
            }
        }
        Some(Err(e)) => Check {
            label: "年龄",
            mark: Mark::Warn,
            text: format!("身份证号码无法读出出生日期：{e}"),
        },
        None => Check {
            label: "年龄",
            mark: Mark::Warn,
            text: "未填身份证号码".to_owned(),
        },
    });
    out
}

/// Reasons an examiner picks from; free text is as good.
pub const FAIL_REASONS: [&str; 5] = [
    "申报材料不完整",
    "不符合申报条件",
    "超出推荐名额",
    "材料内容与推荐表不符",
    "曾获同类荣誉",
];

/// The longest reason kept, in characters.
pub const REASON_MAX: usize = 500;

/// A conclusion on one candidate: only while the stage is open, only on its
/// candidates, a fail with its reason (the recommending unit reads it). Returns the
/// reason as kept.
pub fn conclude(
    phase: super::stage::Phase,
    in_stage: bool,
    passed: bool,
    reason: &str,
) -> Result<String, super::stage::Refusal> {
    use super::stage::{Phase, Refusal};
    let refuse = |code, problem: String| Refusal {
        code,
        problems: vec![problem],
    };
    if phase != Phase::Open {
        return Err(refuse(
            "stage_state",
            format!("形式审查{}，不能再作结论", phase.text()),
        ));
    }
    if !in_stage {
        return Err(refuse("not_in_stage", "该候选人不在本阶段".to_owned()));
    }
    let reason = reason.trim();
    if !passed && reason.is_empty() {
        return Err(refuse(
            "reason_required",
            "不通过须写明理由（推荐单位将看到）".to_owned(),
        ));
    }
    let n = reason.chars().count();
    if n > REASON_MAX {
        return Err(refuse(
            "reason_too_long",
            format!("理由最多 {REASON_MAX} 字，现为 {n} 字"),
        ));
    }
    Ok(reason.to_owned())
}
