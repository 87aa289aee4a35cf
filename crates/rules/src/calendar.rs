//! The Chinese working-day calendar: weekends, public holidays and the 调休 make-up
//! working days, one TOML file per year from the State Council's notice. Counting
//! days in a year the calendar does not hold is an error, never a guess.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use time::{Date, Duration, Weekday};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error(
        "工作日历缺少 {0} 年的节假日安排，无法计算工作日；请先导入该年国务院办公厅的节假日通知"
    )]
    MissingYear(i32),
    #[error("{file}：{message}")]
    Invalid { file: String, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    year: i32,
    source: String,
    holidays: Vec<HolidayFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayFile {
    name: String,
    from: toml::value::Datetime,
    to: toml::value::Datetime,
    #[serde(default)]
    makeup_workdays: Vec<toml::value::Datetime>,
}

/// A named block of days off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub name: String,
    pub from: Date,
    pub to: Date,
    pub makeup_workdays: Vec<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearCalendar {
    pub year: i32,
    pub source: String,
    pub holidays: Vec<Holiday>,
}

/// The years the platform knows, with their days off and make-up working days.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    years: BTreeMap<i32, YearCalendar>,
    days_off: BTreeSet<Date>,
    makeup: BTreeSet<Date>,
}

const BUILTIN: &[(&str, &str)] = &[
    ("2023.toml", include_str!("../../../calendar/2023.toml")),
    ("2024.toml", include_str!("../../../calendar/2024.toml")),
    ("2025.toml", include_str!("../../../calendar/2025.toml")),
    ("2026.toml", include_str!("../../../calendar/2026.toml")),
];

/// A day as typed in forms and stored: `2024-04-25` (spaces around allowed).
pub fn parse_day(s: &str) -> Option<Date> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// A day as forms and the database hold it: `2024-04-25`.
pub fn day_text(d: Date) -> String {
    format!("{}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

fn to_date(d: &toml::value::Datetime, file: &str) -> Result<Date, CalendarError> {
    let invalid = || CalendarError::Invalid {
        file: file.to_owned(),
        message: format!("{d} 不是日期（应写作 2024-02-10）"),
    };
    match (d.date, d.time) {
        (Some(date), None) => {
            let month = time::Month::try_from(date.month).map_err(|_| invalid())?;
            Date::from_calendar_date(i32::from(date.year), month, date.day).map_err(|_| invalid())
        }
        _ => Err(invalid()),
    }
}

pub fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

impl YearCalendar {
    /// Parses and checks one year's file.
    pub fn parse(file: &str, src: &str) -> Result<Self, CalendarError> {
        let raw: YearFile = toml::from_str(src).map_err(|e| CalendarError::Invalid {
            file: file.to_owned(),
            message: e.message().to_owned(),
        })?;
        let bad = |message: String| CalendarError::Invalid {
            file: file.to_owned(),
            message,
        };
        let mut holidays = Vec::new();
        for h in &raw.holidays {
            let from = to_date(&h.from, file)?;
            let to = to_date(&h.to, file)?;
            if from > to {
                return Err(bad(format!(
                    "{}：开始日期 {from} 晚于结束日期 {to}",
                    h.name
                )));
            }
            if to.year() != raw.year {
                return Err(bad(format!(
                    "{}：结束日期 {to} 不在 {} 年",
                    h.name, raw.year
                )));
            }
            let mut makeup = Vec::new();
            for m in &h.makeup_workdays {
                let m = to_date(m, file)?;
                if !is_weekend(m) {
                    return Err(bad(format!("{}：调休上班日 {m} 不是周末", h.name)));
                }
                makeup.push(m);
            }
            holidays.push(Holiday {
                name: h.name.clone(),
                from,
                to,
                makeup_workdays: makeup,
            });
        }
        Ok(YearCalendar {
            year: raw.year,
            source: raw.source,
            holidays,
        })
    }
}

impl WorkCalendar {
    /// The years shipped with the platform (2023–2026).
    pub fn builtin() -> Self {
        let mut cal = WorkCalendar::default();
        for (file, src) in BUILTIN {
            let year = YearCalendar::parse(file, src)
                .expect("built-in calendar files are checked by tests");
            cal.add_year(year);
        }
        cal
    }

    /// Adds (or replaces) one year.
    pub fn add_year(&mut self, year: YearCalendar) {
        if let Some(old) = self.years.remove(&year.year) {
            for h in &old.holidays {
                let mut d = h.from;
                while d <= h.to {
                    self.days_off.remove(&d);
                    d += Duration::days(1);
                }
                for m in &h.makeup_workdays {
                    self.makeup.remove(m);
                }
            }
        }
        for h in &year.holidays {
            let mut d = h.from;
            while d <= h.to {
                self.days_off.insert(d);
                d += Duration::days(1);
            }
            self.makeup.extend(h.makeup_workdays.iter().copied());
        }
        self.years.insert(year.year, year);
    }

    pub fn years(&self) -> impl Iterator<Item = &YearCalendar> {
        self.years.values()
    }

    pub fn is_working_day(&self, d: Date) -> Result<bool, CalendarError> {
        if !self.years.contains_key(&d.year()) {
            return Err(CalendarError::MissingYear(d.year()));
        }
        if self.makeup.contains(&d) {
            return Ok(true);
        }
        Ok(!is_weekend(d) && !self.days_off.contains(&d))
    }

    /// The day on which `n` working days are complete, counting `start` itself when it
    /// is a working day: a 5-working-day 公示 that starts on a Monday ends that Friday.
    pub fn nth_working_day(&self, start: Date, n: u32) -> Result<Date, CalendarError> {
        let mut d = start;
        let mut counted = 0;
        loop {
            if self.is_working_day(d)? {
                counted += 1;
                if counted >= n {
                    return Ok(d);
                }
            }
            d += Duration::days(1);
        }
    }

    /// Working days from `from` to `to`, both included (0 when `to` is before `from`).
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<u32, CalendarError> {
        let mut d = from;
        let mut n = 0;
        while d <= to {
            if self.is_working_day(d)? {
                n += 1;
            }
            d += Duration::days(1);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn builtin_years_load() {
        let cal = WorkCalendar::builtin();
        let years: Vec<i32> = cal.years().map(|y| y.year).collect();
        assert_eq!(years, vec![2023, 2024, 2025, 2026]);
        for y in cal.years() {
            assert!(y.source.contains("国务院办公厅"), "{}", y.source);
            assert!(
                y.holidays.len() >= 6,
                "{} has {} holidays",
                y.year,
                y.holidays.len()
            );
        }
    }

    #[test]
    fn holidays_and_makeup_days() {
        let cal = WorkCalendar::builtin();
        // 2024 春节: 2/10–2/17 off, Sunday 2/4 and Sunday 2/18 worked.
        assert!(!cal.is_working_day(date!(2024 - 02 - 12)).unwrap());
        assert!(cal.is_working_day(date!(2024 - 02 - 04)).unwrap());
        assert!(cal.is_working_day(date!(2024 - 02 - 18)).unwrap());
        // 2023 国庆: Saturday 10/7 worked.
        assert!(cal.is_working_day(date!(2023 - 10 - 07)).unwrap());
        assert!(!cal.is_working_day(date!(2023 - 10 - 02)).unwrap());
        // An ordinary weekend.
        assert!(!cal.is_working_day(date!(2024 - 03 - 16)).unwrap());
    }

    #[test]
    fn five_working_day_publicity_spans_holidays() {
        let cal = WorkCalendar::builtin();
        // Starting Monday 2024-03-11: ends Friday 2024-03-15.
        assert_eq!(
            cal.nth_working_day(date!(2024 - 03 - 11), 5).unwrap(),
            date!(2024 - 03 - 15)
        );
        // Starting Sunday 2024-04-07, the make-up working day after 清明 (4/4–4/6).
        assert_eq!(
            cal.nth_working_day(date!(2024 - 04 - 07), 5).unwrap(),
            date!(2024 - 04 - 11)
        );
        // Starting Thursday 2023-09-28 before 中秋国庆 9/29–10/6: 9/28, 10/7, 10/8, 10/9, 10/10.
        assert_eq!(
            cal.nth_working_day(date!(2023 - 09 - 28), 5).unwrap(),
            date!(2023 - 10 - 10)
        );
        assert_eq!(
            cal.working_days_between(date!(2023 - 09 - 28), date!(2023 - 10 - 10))
                .unwrap(),
            5
        );
    }

    #[test]
    fn missing_year_is_an_error() {
        let cal = WorkCalendar::builtin();
        assert_eq!(
            cal.is_working_day(date!(2027 - 01 - 04)),
            Err(CalendarError::MissingYear(2027))
        );
        // Counting across the end of the known years fails instead of guessing.
        assert_eq!(
            cal.nth_working_day(date!(2026 - 12 - 28), 10),
            Err(CalendarError::MissingYear(2027))
        );
    }

    #[test]
    fn rejects_makeup_day_on_weekday() {
        let src = "year = 2030\nsource = \"x\"\n[[holidays]]\nname = \"元旦\"\nfrom = 2030-01-01\nto = 2030-01-01\nmakeup_workdays = [2030-01-02]\n";
        let err = YearCalendar::parse("2030.toml", src).unwrap_err();
        assert!(err.to_string().contains("不是周末"), "{err}");
    }
}
