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
    /// The votes the decision sets aside (for zeroing: all of the candidates').
    pub size: usize,
    /// Above this many votes a second organiser confirms (the campaign's `second_above`).
    pub second_above: Option<usize>,
    pub sanction: Option<Sanction>,
    pub reason: &'a str,
    pub by: i64,
    pub second: Option<i64>,
}

/// Whether the office may decide `verdict` on the cluster.
pub fn decide(case: &Case<'_>, verdict: Verdict) -> Result<(), Refusal> {
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
    if verdict == Verdict::Keep {
        return Ok(());
    }
    let reason = case.reason.trim();
    if reason.is_empty() {
        return Err(Refusal::new(
            "reason_required",
            "请填写认定刷票的理由（将记入审计日志并随结果公布）",
        ));
    }
    if reason.chars().count() > REASON_MAX {
        return Err(Refusal::new(
            "reason_too_long",
            format!(
                "理由共 {} 字，超过 {REASON_MAX} 字上限",
                reason.chars().count()
            ),
        ));
    }
    if verdict == Verdict::Zero && case.sanction != Some(Sanction::Zero) {
        return Err(Refusal::new(
            "zero_not_allowed",
            "本活动规定的处理方式是作废刷票选票，不能将候选人票数清零",
        ));
    }
    if let Some(limit) = case.second_above
        && case.size > limit
    {
        match case.second {
            None => {
                return Err(Refusal::new(
                    "second_required",
                    format!(
                        "这一处理涉及 {} 票，超过 {limit} 票，须由另一位组织者确认",
                        case.size
                    ),
                ));
            }
            Some(s) if s == case.by => {
                return Err(Refusal::new(
                    "second_same",
                    "确认人须是另一位组织者，不能由处理人本人确认",
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(reason: &str) -> Case<'_> {
        Case {
            frozen: false,
            decided: None,
            size: 300,
            second_above: Some(100),
            sanction: Some(Sanction::Invalidate),
            reason,
            by: 1,
            second: Some(2),
        }
    }

    #[test]
    fn a_decision_needs_its_reason_and_above_the_size_a_second_organiser() {
        assert_eq!(
            decide(&case("同一网段集中投票"), Verdict::Invalidate),
            Ok(())
        );
        assert_eq!(
            decide(&case("  "), Verdict::Invalidate).unwrap_err().code,
            "reason_required"
        );
        // Keeping needs no reason.
        assert_eq!(decide(&case(""), Verdict::Keep), Ok(()));
        let alone = Case {
            second: None,
            ..case("同一网段")
        };
        assert_eq!(
            decide(&alone, Verdict::Invalidate).unwrap_err().message,
            "这一处理涉及 300 票，超过 100 票，须由另一位组织者确认"
        );
        let small = Case {
            size: 100,
            ..alone.clone()
        };
        assert_eq!(decide(&small, Verdict::Invalidate), Ok(()));
        let same = Case {
            second: Some(1),
            ..case("同一网段")
        };
        assert_eq!(
            decide(&same, Verdict::Invalidate).unwrap_err().code,
            "second_same"
        );
        let long = "刷".repeat(501);
        assert_eq!(
            decide(&case(&long), Verdict::Invalidate)
                .unwrap_err()
                .message,
            "理由共 501 字，超过 500 字上限"
        );
    }

    #[test]
    fn zeroing_only_where_the_campaign_says_and_nothing_after_the_freeze() {
        assert_eq!(
            decide(&case("刷票"), Verdict::Zero).unwrap_err().code,
            "zero_not_allowed"
        );
        let fuzhou = Case {
            sanction: Some(Sanction::Zero),
            ..case("刷票")
        };
        assert_eq!(decide(&fuzhou, Verdict::Zero), Ok(()));
        let frozen = Case {
            frozen: true,
            ..fuzhou.clone()
        };
        assert_eq!(
            decide(&frozen, Verdict::Keep).unwrap_err().code,
            "vote_frozen"
        );
        let decided = Case {
            decided: Some("12月3日 由张三作废"),
            ..fuzhou
        };
        assert_eq!(
            decide(&decided, Verdict::Invalidate).unwrap_err().message,
            "这一组可疑投票已处理（12月3日 由张三作废），不能重复处理"
        );
        assert_eq!(Verdict::from_key("zero"), Some(Verdict::Zero));
        assert_eq!(Verdict::from_key("x"), None);
    }
}
