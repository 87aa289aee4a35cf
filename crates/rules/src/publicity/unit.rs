//! A recommending unit's own 公示 of its candidates before it sends them up — 广西 三（二）
//! “在推荐人选所在单位和推选单位进行公示（时间为5个工作日）”, 东莞 五（一） “公示满5个工作日，公示
//! 无异议后加盖推荐单位公章方可上报”, 新疆's 初评 公示: what the unit's 提交 reads of it.

use super::Period;

/// A candidate's latest 公示 by their recommending unit, with its objections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub period: Period,
    /// Objections about this candidate filed on it.
    pub objections: usize,
    /// Of those, not yet settled.
    pub open: usize,
    /// Of those, upheld.
    pub upheld: usize,
    /// Of those, not taken up (不予受理).
    pub rejected: usize,
}

impl Record {
    /// What the 提交 carries upward: “公示情况：2024年4月26日至2024年5月6日（5 个工作日）
    /// 在推荐单位公示，无异议”.
    pub fn words(&self) -> String {
        let outcome = match (self.objections, self.rejected) {
            (0, _) => "无异议".to_owned(),
            (n, 0) => format!("收到异议 {n} 项，经核查均不成立"),
            (n, r) if r == n => format!("收到异议 {n} 项，均不予受理"),
            (n, r) => format!(
                "收到异议 {n} 项，其中不予受理 {r} 项、经核查不成立 {} 项",
                n - r
            ),
        };
        format!("公示情况：{}在推荐单位公示，{outcome}", self.period.text())
    }
}

/// Whether the recommending unit may send the candidate up at `now`: `Ok` with the
/// record's words for the opinion (`None` when the unit published no 公示 here — it may
/// have put one up elsewhere, which its 推荐工作情况简要报告 states), or the refusal. A 公示
/// shorter than the notice's `required` working days does not count.
pub fn forward(
    record: Option<&Record>,
    required: Option<u32>,
    now: i64,
) -> Result<Option<String>, String> {
    let Some(r) = record else {
        return Ok(None);
    };
    if let Some(days) = required
        && r.period.working_days < days
    {
        return Err(format!(
            "该候选人的公示只有 {} 个工作日，按通知须公示满 {days} 个工作日，请重新公示",
            r.period.working_days
        ));
    }
    if !r.period.is_over(now) {
        return Err(format!(
            "该候选人的公示期为{}，至{} 24:00 止；按通知须公示期满、无异议后方可上报",
            r.period.text(),
            super::day_words(r.period.last)
        ));
    }
    if r.upheld > 0 {
        return Err("公示期间对该候选人的异议经核查成立，不能上报".to_owned());
    }
    if r.open > 0 {
        return Err(format!(
            "公示期间收到的异议尚有 {} 项未办结，办结后方可上报",
            r.open
        ));
    }
    Ok(Some(r.words()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn record(objections: usize, open: usize, upheld: usize) -> Record {
        record_with(objections, open, upheld, 0)
    }

    fn record_with(objections: usize, open: usize, upheld: usize, rejected: usize) -> Record {
        Record {
            period: Period {
                published: date!(2024 - 04 - 25),
                first: date!(2024 - 04 - 26),
                last: date!(2024 - 05 - 06),
                working_days: 5,
            },
            objections,
            open,
            upheld,
            rejected,
        }
    }

    /// 2024-05-07 00:00 Beijing time, the moment after the period.
    const AFTER: i64 = 1_715_011_200;

    #[test]
    fn without_a_publicity_here_nothing_is_carried() {
        assert_eq!(forward(None, Some(5), AFTER), Ok(None));
    }

    #[test]
    fn a_running_publicity_holds_the_submission_with_its_dates() {
        assert_eq!(
            forward(Some(&record(0, 0, 0)), Some(5), AFTER - 1),
            Err("该候选人的公示期为2024年4月26日至2024年5月6日（5 个工作日），至2024年5月6日 24:00 止；按通知须公示期满、无异议后方可上报".to_owned())
        );
    }

    #[test]
    fn an_ended_publicity_is_carried_upward() {
        assert_eq!(
            forward(Some(&record(0, 0, 0)), Some(5), AFTER),
            Ok(Some(
                "公示情况：2024年4月26日至2024年5月6日（5 个工作日）在推荐单位公示，无异议"
                    .to_owned()
            ))
        );
        assert_eq!(
            forward(Some(&record(2, 0, 0)), Some(5), AFTER)
                .unwrap()
                .unwrap(),
            "公示情况：2024年4月26日至2024年5月6日（5 个工作日）在推荐单位公示，收到异议 2 项，经核查均不成立"
        );
    }

    #[test]
    fn objections_open_or_upheld_hold_it() {
        assert_eq!(
            forward(Some(&record(2, 1, 0)), Some(5), AFTER),
            Err("公示期间收到的异议尚有 1 项未办结，办结后方可上报".to_owned())
        );
        assert_eq!(
            forward(Some(&record(2, 1, 1)), Some(5), AFTER),
            Err("公示期间对该候选人的异议经核查成立，不能上报".to_owned())
        );
    }

    #[test]
    fn a_short_publicity_does_not_count() {
        assert_eq!(
            forward(Some(&record(0, 0, 0)), Some(7), AFTER),
            Err("该候选人的公示只有 5 个工作日，按通知须公示满 7 个工作日，请重新公示".to_owned())
        );
        assert!(forward(Some(&record(0, 0, 0)), None, AFTER).is_ok());
    }

    #[test]
    fn objections_not_taken_up_are_said_as_such() {
        let words = |r: Record| forward(Some(&r), None, AFTER).unwrap().unwrap();
        assert!(words(record_with(2, 0, 0, 2)).ends_with("收到异议 2 项，均不予受理"));
        assert!(
            words(record_with(3, 0, 0, 1))
                .ends_with("收到异议 3 项，其中不予受理 1 项、经核查不成立 2 项")
        );
    }
}
