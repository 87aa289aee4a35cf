//! Deadlines along the chain. A level's deadline comes from the campaign file; a level
//! without one works to the nearest deadline above it (广西: “3月26日24时前登录评审系统
//! 进行申报或推荐” binds the applicant's 申报 and the work unit as much as the
//! recommender). The organiser may push a deadline back for everyone or for one
//! recommending unit's channel; the latest applicable date wins.

use time::{OffsetDateTime, UtcOffset};

use crate::campaign::{Campaign, deadline_instant};
use crate::workflow::Chain;

/// Beijing time (UTC+8), in which every notice writes its dates.
pub const BEIJING: UtcOffset = time::macros::offset!(+8);

/// An organiser's extension of one level's deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The campaign file's level key whose deadline moves.
    pub level_key: String,
    /// The recommending unit whose channel gets the time; `None` for everyone.
    pub unit_id: Option<i64>,
    /// Unix seconds.
    pub until: i64,
}

/// The deadline binding a level of an application's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The level whose deadline it is (the level itself, or one above it).
    pub level_key: String,
    pub level_name: String,
    /// Unix seconds, extensions included.
    pub at: i64,
    pub extended: bool,
}

/// The deadline for submitting from `level`, or `None` when no level at or above it has
/// one. `unit` is the application's recommending unit.
pub fn binding(
    campaign: &Campaign,
    chain: &Chain,
    level: usize,
    unit: Option<i64>,
    extensions: &[Extension],
) -> Option<Binding> {
    chain.levels.iter().skip(level).find_map(|l| {
        let cfg = campaign.levels.iter().find(|c| c.key == l.key)?;
        let base = deadline_instant(cfg.deadline.as_ref()?)
            .ok()?
            .unix_timestamp();
        let later = extensions
            .iter()
            .filter(|e| e.level_key == l.key && (e.unit_id.is_none() || e.unit_id == unit))
            .map(|e| e.until)
            .max()
            .filter(|u| *u > base);
        Some(Binding {
            level_key: l.key.clone(),
            level_name: l.name.clone(),
            at: later.unwrap_or(base),
            extended: later.is_some(),
        })
    })
}

/// “2024年3月26日 24:00”, Beijing time as the notices write it: a deadline at the last
/// second of a day (23:59:59, the notices' “24时前”) is that day's 24:00.
pub fn format_beijing(unix: i64) -> String {
    let offset = BEIJING;
    match OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => {
            let t = t.to_offset(offset);
            let (hour, minute) = if (t.hour(), t.minute(), t.second()) == (23, 59, 59) {
                (24, 0)
            } else {
                (t.hour(), t.minute())
            };
            format!(
                "{}年{}月{}日 {hour:02}:{minute:02}",
                t.year(),
                t.month() as u8,
                t.day(),
            )
        }
        Err(_) => unix.to_string(),
    }
}

/// The deadline in force as every page shows it: “2027年2月3日 24:00（剩余 59 天）”.
pub fn in_force_text(at: i64, now: i64) -> String {
    format!("{}（{}）", format_beijing(at), remaining(at, now))
}

/// Beijing time, as every notice writes dates.
pub fn format_time(unix: i64) -> String {
    let offset = BEIJING;
    match OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => {
            let t = t.to_offset(offset);
            format!(
                "{}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                t.month() as u8,
                t.day(),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => String::new(),
    }
}

/// Why a 提交 at `now` is refused, naming the date and whom to ask.
pub fn submit_problem(b: &Binding, office: &str, now: i64) -> Option<String> {
    (now > b.at).then(|| {
        format!(
            "{}提交截止时间为{}，已截止，不能再提交；如需延期请联系{office}",
            b.level_name,
            format_beijing(b.at)
        )
    })
}

/// How long is left, for the pages: “剩余 3 天”, “剩余 5 小时”, “已截止”.
pub fn remaining(at: i64, now: i64) -> String {
    let left = at - now;
    if left < 0 {
        "已截止".to_owned()
    } else if left >= 86_400 {
        format!("剩余 {} 天", left / 86_400)
    } else if left >= 3_600 {
        format!("剩余 {} 小时", left / 3_600)
    } else {
        format!("剩余 {} 分钟", left.max(60) / 60)
    }
}

/// Which reminder is due at `now` for a deadline at `at`: the smallest of `days`
/// (e.g. 3 and 1 days before) whose moment has come, while the deadline is ahead.
/// Reminders already sent are the caller's to skip.
pub fn reminder_due(at: i64, now: i64, days: &[i64]) -> Option<i64> {
    if now >= at {
        return None;
    }
    days.iter()
        .copied()
        .filter(|d| now >= at - d * 86_400)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::{SEEDS, load};

    fn guangxi() -> (Campaign, Chain) {
        let c = load(SEEDS[0].1).campaign.unwrap();
        let chain = Chain::for_application(&c, false);
        (c, chain)
    }

    /// 2024-03-26T23:59:59+08:00
    const GX: i64 = 1_711_468_799;

    #[test]
    fn lower_levels_work_to_the_recommenders_deadline() {
        let (c, chain) = guangxi();
        for level in 0..=2 {
            let b = binding(&c, &chain, level, None, &[]).unwrap();
            assert_eq!((b.level_name.as_str(), b.at), ("推荐单位", GX));
        }
        assert_eq!(
            binding(&c, &chain, 3, None, &[]),
            None,
            "the office has none"
        );
        assert_eq!(format_beijing(GX), "2024年3月26日 24:00");
        assert_eq!(format_beijing(GX - 59), "2024年3月26日 23:59");
        assert_eq!(
            in_force_text(GX, GX - 59 * 86_400),
            "2024年3月26日 24:00（剩余 59 天）"
        );
        assert_eq!(in_force_text(GX, GX + 1), "2024年3月26日 24:00（已截止）");
        let b = binding(&c, &chain, 0, None, &[]).unwrap();
        assert_eq!(submit_problem(&b, "自治区活动办公室", GX), None);
        assert_eq!(
            submit_problem(&b, "自治区活动办公室", GX + 1).unwrap(),
            "推荐单位提交截止时间为2024年3月26日 24:00，已截止，不能再提交；如需延期请联系自治区活动办公室"
        );
        let xinjiang = load(SEEDS[2].1).campaign.unwrap();
        let xc = Chain::for_application(&xinjiang, false);
        assert_eq!(binding(&xinjiang, &xc, 0, None, &[]), None);
    }

    #[test]
    fn extensions_for_everyone_or_one_channel() {
        let (c, chain) = guangxi();
        let ext = |unit, days: i64| Extension {
            level_key: "recommender".into(),
            unit_id: unit,
            until: GX + days * 86_400,
        };
        let all = [ext(None, 2), ext(Some(7), 5), ext(Some(8), 1)];
        let b = binding(&c, &chain, 2, Some(7), &all).unwrap();
        assert_eq!((b.at, b.extended), (GX + 5 * 86_400, true));
        let b = binding(&c, &chain, 1, Some(9), &all).unwrap();
        assert_eq!(b.at, GX + 2 * 86_400, "everyone's extension");
        // An “extension” to an earlier date does not shorten the deadline.
        let b = binding(&c, &chain, 2, None, &[ext(None, -3)]).unwrap();
        assert_eq!((b.at, b.extended), (GX, false));
        let other = [Extension {
            level_key: "work_unit".into(),
            unit_id: None,
            until: GX + 86_400 * 30,
        }];
        assert_eq!(binding(&c, &chain, 2, None, &other).unwrap().at, GX);
    }

    #[test]
    fn reminders_three_days_and_one_day_before() {
        let at = 10 * 86_400;
        assert_eq!(reminder_due(at, 6 * 86_400, &[3, 1]), None, "4 days ahead");
        assert_eq!(reminder_due(at, 7 * 86_400, &[3, 1]), Some(3));
        assert_eq!(reminder_due(at, 9 * 86_400 + 5, &[3, 1]), Some(1));
        assert_eq!(reminder_due(at, at, &[3, 1]), None, "passed");
    }

    #[test]
    fn remaining_time() {
        assert_eq!(remaining(100, 200), "已截止");
        assert_eq!(remaining(3 * 86_400 + 5, 0), "剩余 3 天");
        assert_eq!(remaining(5 * 3_600, 0), "剩余 5 小时");
        assert_eq!(remaining(30, 0), "剩余 1 分钟");
    }
}
