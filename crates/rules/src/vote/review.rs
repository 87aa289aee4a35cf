//! The office's review of flagged votes (issue 20): one decision per cluster the signals
//! found. Keeping them counts them as they are; invalidating sets them aside with the
//! reason (nothing is deleted); zeroing, where the campaign's sanction says so (福州工匠
//! 2020: “若发现恶意刷票，该候选人票数将被清零”), sets aside every vote of the candidates the
//! cluster voted for. A decision over more votes than the campaign sets takes a second
//! organiser. After the freeze nothing is decided any more.

use crate::campaign::Sanction;

use super::Refusal;

/// What the office decides of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not 刷票: the votes count.
    Keep,
    /// The cluster's votes are set aside.
    Invalidate,
    /// Every vote of the candidates the cluster voted for is set aside.
    Zero,
}

impl Verdict {
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Keep => "keep",
            Verdict::Invalidate => "invalidate",
            Verdict::Zero => "zero",
        }
    }

    pub fn from_key(key: &str) -> Option<Verdict> {
        match key {
            "keep" => Some(Verdict::Keep),
            "invalidate" => Some(Verdict::Invalidate),
            "zero" => Some(Verdict::Zero),
            _ => None,
        }
    }

    /// As the review page and the audit trail say it.
    pub fn text(self) -> &'static str {
        match self {
            Verdict::Keep => "经核查不属刷票，保留计票",
            Verdict::Invalidate => "认定为刷票，选票作废",
            Verdict::Zero => "认定为恶意刷票，相关候选人票数清零",
        }
    }
}

/// The longest reason kept.
pub const REASON_MAX: usize = 500;

/// What a decision is judged on.
#[derive(Debug, Clone)]
pub struct Case<'a> {
    /// The round's count is frozen.
    pub frozen: bool,
    /// When and how the cluster was decided already, in words.
    pub decided: Option<&'a str>,
    /// Who proposed the decision that awaits a second organiser, if one does.
    pub proposed_by: Option<i64>,
    /// The votes the decision sets aside (for zeroing: all of the candidates').
    pub size: usize,
    /// Above this many votes a second organiser confirms (the campaign's `second_above`).
    pub second_above: Option<u32>,
    pub sanction: Option<Sanction>,
    /// The round still takes votes (a zeroing would not hold for the votes to come).
    pub taking_votes: bool,
}

/// What follows a decision the rules allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Written now.
    Apply,
    /// Kept as a proposal until another organiser confirms it.
    AwaitSecond,
}

/// Whether the office may decide `verdict` on the cluster with `reason`, and whether it
/// takes effect now or awaits a second organiser.
pub fn decide(case: &Case<'_>, verdict: Verdict, reason: &str) -> Result<Step, Refusal> {
    open(case)?;
    if case.proposed_by.is_some() {
        return Err(Refusal::new(
            "proposal_pending",
            "这一组已有待另一位组织者确认的处理意见，请先确认或撤回",
        ));
    }
    let reason = reason.trim();
    if reason.chars().count() > REASON_MAX {
        return Err(Refusal::new(
            "reason_too_long",
            format!(
                "理由共 {} 字，超过 {REASON_MAX} 字上限",
                reason.chars().count()
            ),
        ));
    }
    if verdict == Verdict::Keep {
        return Ok(Step::Apply);
    }
    if reason.is_empty() {
        return Err(Refusal::new(
            "reason_required",
            "请填写认定刷票的理由（将记入审计日志并随结果公布）",
        ));
    }
    if verdict == Verdict::Zero && case.sanction != Some(Sanction::Zero) {
        return Err(Refusal::new(
            "zero_not_allowed",
            "本活动规定的处理方式是作废刷票选票，不能将候选人票数清零",
        ));
    }
    if verdict == Verdict::Zero && case.taking_votes {
        return Err(Refusal::new(
            "zero_while_open",
            "清零须在投票截止后进行：截止前仍会有新的选票",
        ));
    }
    Ok(match case.second_above {
        Some(limit) if case.size > limit as usize => Step::AwaitSecond,
        _ => Step::Apply,
    })
}

/// Whether `by` may confirm the proposal awaiting a second organiser.
pub fn confirm(case: &Case<'_>, by: i64) -> Result<(), Refusal> {
    open(case)?;
    match case.proposed_by {
        None => Err(Refusal::new(
            "nothing_to_confirm",
            "这一组没有待确认的处理意见",
        )),
        Some(p) if p == by => Err(Refusal::new(
            "second_same",
            "须由另一位组织者确认，提出处理意见的组织者本人不能确认",
        )),
        Some(_) => Ok(()),
    }
}

/// Neither frozen nor decided.
fn open(case: &Case<'_>) -> Result<(), Refusal> {
    if case.frozen {
        return Err(Refusal::new(
            "vote_frozen",
            "本轮投票结果已冻结，不能再处理可疑投票",
        ));
    }
    if let Some(when) = case.decided {
        return Err(Refusal::new(
            "cluster_decided",
            format!("这一组可疑投票已处理（{when}），不能重复处理"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> Case<'static> {
        Case {
            frozen: false,
            decided: None,
            proposed_by: None,
            size: 300,
            second_above: Some(100),
            sanction: Some(Sanction::Invalidate),
            taking_votes: false,
        }
    }

    #[test]
    fn a_decision_needs_its_reason_and_above_the_size_a_second_organiser() {
        let small = Case {
            size: 100,
            ..case()
        };
        assert_eq!(
            decide(&small, Verdict::Invalidate, "同一网段集中投票"),
            Ok(Step::Apply)
        );
        assert_eq!(
            decide(&case(), Verdict::Invalidate, "同一网段集中投票"),
            Ok(Step::AwaitSecond)
        );
        assert_eq!(
            decide(&case(), Verdict::Invalidate, "  ").unwrap_err().code,
            "reason_required"
        );
        // Keeping needs no reason and no second organiser.
        assert_eq!(decide(&case(), Verdict::Keep, ""), Ok(Step::Apply));
        let long = "刷".repeat(501);
        assert_eq!(
            decide(&case(), Verdict::Invalidate, &long)
                .unwrap_err()
                .message,
            "理由共 501 字，超过 500 字上限"
        );
        let pending = Case {
            proposed_by: Some(1),
            ..case()
        };
        assert_eq!(
            decide(&pending, Verdict::Keep, "").unwrap_err().code,
            "proposal_pending"
        );
        assert_eq!(confirm(&pending, 1).unwrap_err().code, "second_same");
        assert_eq!(confirm(&pending, 2), Ok(()));
        assert_eq!(confirm(&case(), 2).unwrap_err().code, "nothing_to_confirm");
    }

    #[test]
    fn zeroing_only_where_the_campaign_says_and_nothing_after_the_freeze() {
        assert_eq!(
            decide(&case(), Verdict::Zero, "刷票").unwrap_err().code,
            "zero_not_allowed"
        );
        let fuzhou = Case {
            sanction: Some(Sanction::Zero),
            second_above: None,
            ..case()
        };
        assert_eq!(decide(&fuzhou, Verdict::Zero, "刷票"), Ok(Step::Apply));
        let open = Case {
            taking_votes: true,
            ..fuzhou.clone()
        };
        assert_eq!(
            decide(&open, Verdict::Zero, "刷票").unwrap_err().code,
            "zero_while_open"
        );
        assert_eq!(decide(&open, Verdict::Invalidate, "刷票"), Ok(Step::Apply));
        assert_eq!(
            decide(&open, Verdict::Keep, &"长".repeat(501))
                .unwrap_err()
                .code,
            "reason_too_long"
        );
        let frozen = Case {
            frozen: true,
            ..fuzhou.clone()
        };
        assert_eq!(
            decide(&frozen, Verdict::Keep, "").unwrap_err().code,
            "vote_frozen"
        );
        assert_eq!(confirm(&frozen, 2).unwrap_err().code, "vote_frozen");
        let decided = Case {
            decided: Some("12月3日 由张三作废"),
            ..fuzhou
        };
        assert_eq!(
            decide(&decided, Verdict::Invalidate, "刷票")
                .unwrap_err()
                .message,
            "这一组可疑投票已处理（12月3日 由张三作废），不能重复处理"
        );
        assert_eq!(Verdict::from_key("zero"), Some(Verdict::Zero));
        assert_eq!(Verdict::from_key("x"), None);
    }
}
