//! 公示 periods: N working days on the holiday and 调休 calendar, from the working day
//! after publication (or the day itself, a campaign's setting), ending at 24:00 Beijing
//! time of the last day — “公示满5个工作日”. Objections are taken while it runs.

use time::{Date, Duration, OffsetDateTime};

use crate::calendar::{CalendarError, WorkCalendar};
use crate::deadline::BEIJING;

/// Where the count of working days begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Start {
    /// The first working day after the day of publication (the usual reading: a notice
    /// put up in the afternoon does not count that day).
    #[default]
    NextWorkingDay,
    /// The day of publication itself when it is a working day.
    SameDay,
}

/// A 公示's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub published: Date,
    pub first: Date,
    pub last: Date,
    pub working_days: u32,
}

fn day_words(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), d.month() as u8, d.day())
}

/// The day a moment falls on in Beijing.
pub fn beijing_day(unix: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.to_offset(BEIJING).date())
        .unwrap_or(Date::MIN)
}

/// The period of a 公示 of `days` working days published on `published` (Beijing).
/// Counting past the calendar's known years is an error, never a guess.
pub fn period(
    cal: &WorkCalendar,
    published: Date,
    days: u32,
    start: Start,
) -> Result<Period, CalendarError> {
    let mut first = match start {
        Start::SameDay => published,
        Start::NextWorkingDay => published + Duration::days(1),
    };
    while !cal.is_working_day(first)? {
        first += Duration::days(1);
    }
    let last = cal.nth_working_day(first, days.max(1))?;
    Ok(Period {
        published,
        first,
        last,
        working_days: days.max(1),
    })
}

impl Period {
    /// The first moment of the period: 00:00 Beijing time of its first day.
    pub fn opens_at(&self) -> i64 {
        self.first
            .midnight()
            .assume_offset(BEIJING)
            .unix_timestamp()
    }

    /// The moment it ends: 24:00 Beijing time of its last day (the next day's 00:00).
    pub fn ends_at(&self) -> i64 {
        (self.last + Duration::days(1))
            .midnight()
            .assume_offset(BEIJING)
            .unix_timestamp()
    }

    /// “2024年4月26日至2024年5月6日（5 个工作日）”.
    pub fn text(&self) -> String {
        format!(
            "{}至{}（{} 个工作日）",
            day_words(self.first),
            day_words(self.last),
            self.working_days
        )
    }

    /// Whether an objection made at `now` is in time; the words say why not.
    pub fn objection_in_time(&self, now: i64) -> Result<(), String> {
        if now < self.opens_at() {
            return Err(format!(
                "公示期为{}，尚未开始，请于{}起提出异议",
                self.text(),
                day_words(self.first)
            ));
        }
        if now >= self.ends_at() {
            return Err(format!(
                "公示期为{}，已于{} 24:00 结束，不再受理异议",
                self.text(),
                day_words(self.last)
            ));
        }
        Ok(())
    }

    /// Whether the period is over at `now` (what comes after a 公示 waits for it).
    pub fn is_over(&self, now: i64) -> bool {
        now >= self.ends_at()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn at(t: time::OffsetDateTime) -> i64 {
        t.unix_timestamp()
    }

    /// The two periods the issue names: 劳动节 2024 (5/1–5/5 off, Sunday 4/28 worked) and
    /// 中秋国庆 2023 (9/29–10/6 off, 10/7 and 10/8 worked).
    #[test]
    fn five_working_days_across_the_holidays() {
        let cal = WorkCalendar::builtin();
        let may = period(&cal, date!(2024 - 04 - 25), 5, Start::NextWorkingDay).unwrap();
        assert_eq!(
            (may.first, may.last),
            (date!(2024 - 04 - 26), date!(2024 - 05 - 06))
        );
        assert_eq!(may.text(), "2024年4月26日至2024年5月6日（5 个工作日）");
        let october = period(&cal, date!(2023 - 09 - 27), 5, Start::NextWorkingDay).unwrap();
        assert_eq!(
            (october.first, october.last),
            (date!(2023 - 09 - 28), date!(2023 - 10 - 10))
        );
        // Published on a Friday: the count starts on Monday; the same day when set so.
        let friday = date!(2024 - 03 - 08);
        let next = period(&cal, friday, 5, Start::NextWorkingDay).unwrap();
        assert_eq!(
            (next.first, next.last),
            (date!(2024 - 03 - 11), date!(2024 - 03 - 15))
        );
        let same = period(&cal, friday, 5, Start::SameDay).unwrap();
        assert_eq!((same.first, same.last), (friday, date!(2024 - 03 - 14)));
    }

    #[test]
    fn it_ends_at_midnight_beijing_time() {
        let cal = WorkCalendar::builtin();
        let p = period(&cal, date!(2024 - 04 - 25), 5, Start::NextWorkingDay).unwrap();
        assert_eq!(p.ends_at(), at(datetime!(2024-05-07 00:00 +08:00)));
        assert_eq!(p.opens_at(), at(datetime!(2024-04-26 00:00 +08:00)));
        assert!(
            p.objection_in_time(at(datetime!(2024-05-06 23:59:59 +08:00)))
                .is_ok()
        );
        assert_eq!(
            p.objection_in_time(at(datetime!(2024-05-07 00:00 +08:00)))
                .unwrap_err(),
            "公示期为2024年4月26日至2024年5月6日（5 个工作日），已于2024年5月6日 24:00 结束，不再受理异议"
        );
        assert!(
            p.objection_in_time(at(datetime!(2024-04-25 18:00 +08:00)))
                .unwrap_err()
                .contains("尚未开始")
        );
        assert!(!p.is_over(at(datetime!(2024-05-06 12:00 +08:00))));
        assert_eq!(
            beijing_day(at(datetime!(2024-04-25 17:30 UTC))),
            date!(2024 - 04 - 26)
        );
    }

    #[test]
    fn a_year_missing_from_the_calendar_is_said() {
        let cal = WorkCalendar::builtin();
        assert_eq!(
            period(&cal, date!(2026 - 12 - 28), 5, Start::NextWorkingDay),
            Err(CalendarError::MissingYear(2027))
        );
    }
}
