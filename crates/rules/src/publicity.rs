//! 公示 periods: N working days on the holiday and 调休 calendar, from the working day
//! after publication (or the day itself, a campaign's setting), ending at 24:00 Beijing
//! time of the last day — “公示满5个工作日”. Objections are taken from publication until
//! it ends ([`objection`]); [`draft`] writes the notice the organiser or the unit edits.

pub mod objection;
pub mod unit;

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

impl From<crate::campaign::PublicityStart> for Start {
    fn from(s: crate::campaign::PublicityStart) -> Start {
        match s {
            crate::campaign::PublicityStart::NextWorkingDay => Start::NextWorkingDay,
            crate::campaign::PublicityStart::SameDay => Start::SameDay,
        }
    }
}

/// A 公示's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub published: Date,
    pub first: Date,
    pub last: Date,
    pub working_days: u32,
}

/// “2024年4月25日”.
pub fn day_words(d: Date) -> String {
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
    /// A period read back from its stored days (`YYYY-MM-DD`).
    pub fn stored(published_on: &str, first: &str, last: &str, working_days: i64) -> Period {
        let day = |s: &str| crate::calendar::parse_day(s).unwrap_or(Date::MIN);
        Period {
            published: day(published_on),
            first: day(first),
            last: day(last),
            working_days: u32::try_from(working_days).unwrap_or(0),
        }
    }

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

    /// The moment of publication: 00:00 Beijing time of its day. Objections count from
    /// then: a reader who objects the evening the notice went up is not turned away
    /// because the working days start counting the next morning.
    pub fn published_at(&self) -> i64 {
        self.published
            .midnight()
            .assume_offset(BEIJING)
            .unix_timestamp()
    }

    /// Whether an objection made at `now` is in time; the words say why not.
    pub fn objection_in_time(&self, now: i64) -> Result<(), String> {
        if now < self.published_at() {
            return Err(format!(
                "公示于{}发布，公示期为{}；此前的反映不作为对本次公示的异议",
                day_words(self.published),
                self.text()
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

    /// The line a 公示's page states: “公示期：…（5 个工作日），至2024年5月6日 24:00 止”.
    pub fn closing_text(&self) -> String {
        format!(
            "公示期：{}，至{} 24:00 止",
            self.text(),
            day_words(self.last)
        )
    }

    /// Whether the period is over at `now` (what comes after a 公示 waits for it).
    pub fn is_over(&self, now: i64) -> bool {
        now >= self.ends_at()
    }
}

/// Which 公示.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A recommending unit's own, of the candidates it forwards (广西, 东莞, 新疆's 初评).
    Unit,
    /// The organiser's, of the final list.
    Final,
    /// The organiser's, of those who came onto the list after an upheld objection.
    Supplement,
}

impl Kind {
    pub fn key(self) -> &'static str {
        match self {
            Kind::Unit => "unit",
            Kind::Final => "final",
            Kind::Supplement => "supplement",
        }
    }

    pub fn from_key(key: &str) -> Option<Kind> {
        [Kind::Unit, Kind::Final, Kind::Supplement]
            .into_iter()
            .find(|k| k.key() == key)
    }

    pub fn text(self) -> &'static str {
        match self {
            Kind::Unit => "推荐单位公示",
            Kind::Final => "拟入选人选公示",
            Kind::Supplement => "递补人选公示",
        }
    }
}

pub const TITLE_MAX_CHARS: usize = 100;
pub const BODY_MAX_CHARS: usize = 3000;
pub const MAX_WORKING_DAYS: u32 = 30;

/// Checks what the publisher typed: a title and a text within their lengths, how to
/// object, 1 to 30 working days. The first problem, at its field.
pub fn check_notice(
    title: &str,
    body: &str,
    contact: &str,
    working_days: u32,
) -> Result<(), objection::Problem> {
    let problem = |code, field, message: String| objection::Problem {
        code,
        field,
        message,
    };
    for (value, field, noun, max) in [
        (title, "title", "公示标题", TITLE_MAX_CHARS),
        (body, "body", "公示正文", BODY_MAX_CHARS),
        (contact, "contact", "受理异议的联系方式", 200),
    ] {
        let n = crate::form::count_chars(value.trim());
        if n == 0 {
            return Err(problem("required", field, format!("请填写{noun}")));
        }
        if n > max {
            return Err(problem(
                "too_long",
                field,
                format!("{noun} {n} 字，超过 {max} 字上限"),
            ));
        }
    }
    if !(1..=MAX_WORKING_DAYS).contains(&working_days) {
        return Err(problem(
            "working_days",
            "working_days",
            format!("公示天数应为 1～{MAX_WORKING_DAYS} 个工作日，填写的是 {working_days}"),
        ));
    }
    Ok(())
}

/// A 公示's notice as drafted, for its publisher to edit before publishing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub title: String,
    pub body: String,
}

/// Drafts the notice: who publishes (`by`: the office or the unit), what (`award`, the
/// campaign's award, and `count` people) and how to object (`contact`: the telephone and
/// address the publisher gives). The period is not in the text: the page states it
/// from the stored days, so an edited notice cannot contradict it. The objection rules in
/// it are those [`objection::check`] applies, so what the page promises is what it does.
pub fn draft(kind: Kind, award: &str, by: &str, count: usize, contact: &str) -> Draft {
    let (title, opening) = match kind {
        Kind::Final => (
            format!("{award}拟入选人选公示"),
            format!(
                "经推荐、资格审查和专家评选，{by}确定{award}拟入选人选 {count} 人，现予以公示（名单见下，排名不分先后）。"
            ),
        ),
        Kind::Supplement => (
            format!("{award}递补人选公示"),
            format!(
                "拟入选名单经调整，{by}按评选结果递补{award}拟入选人选 {count} 人，现予以公示。"
            ),
        ),
        Kind::Unit => (
            format!("{by}关于推荐{award}候选人的公示"),
            format!("经{by}研究，拟推荐以下 {count} 人为{award}候选人，现予以公示。"),
        ),
    };
    let contact = contact.trim();
    let mut body = format!(
        "{opening}\n\n公示期间，任何单位和个人对公示对象有异议的，可在本页在线提出，也可通过电话、来信或来访向{by}反映。反映情况应实事求是、具体翔实，并提供必要的证明材料；以个人名义反映的请署真实姓名并留下联系电话，以单位名义反映的请加盖单位公章。匿名反映不予受理。{by}对反映人的信息严格保密，并将处理意见反馈给反映人。"
    );
    if !contact.is_empty() {
        body.push_str(&format!("\n\n联系方式：{contact}"));
    }
    Draft { title, body }
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
        // The evening of publication is in time; the day before is not.
        assert!(
            p.objection_in_time(at(datetime!(2024-04-25 18:00 +08:00)))
                .is_ok()
        );
        assert!(
            p.objection_in_time(at(datetime!(2024-04-24 18:00 +08:00)))
                .unwrap_err()
                .contains("此前的反映不作为")
        );
        assert!(!p.is_over(at(datetime!(2024-05-06 12:00 +08:00))));
        assert_eq!(
            beijing_day(at(datetime!(2024-04-25 17:30 UTC))),
            date!(2024 - 04 - 26)
        );
    }

    #[test]
    fn the_notice_says_the_period_and_how_to_object() {
        let cal = WorkCalendar::builtin();
        let p = period(&cal, date!(2024 - 04 - 25), 5, Start::NextWorkingDay).unwrap();
        let d = draft(
            Kind::Final,
            "2024年广西“最美科技工作者”",
            "自治区活动办公室",
            10,
            "0771-5851234，南宁市古城路31号",
        );
        assert_eq!(d.title, "2024年广西“最美科技工作者”拟入选人选公示");
        assert!(d.body.contains("拟入选人选 10 人"), "{}", d.body);
        assert_eq!(
            p.closing_text(),
            "公示期：2024年4月26日至2024年5月6日（5 个工作日），至2024年5月6日 24:00 止"
        );
        assert!(d.body.contains("匿名反映不予受理"));
        assert!(d.body.ends_with("联系方式：0771-5851234，南宁市古城路31号"));
        let unit = draft(
            Kind::Unit,
            "第二届东莞“最美科技工作者”",
            "东莞理工学院",
            2,
            "",
        );
        assert_eq!(
            unit.title,
            "东莞理工学院关于推荐第二届东莞“最美科技工作者”候选人的公示"
        );
        assert!(!unit.body.contains("联系方式"));
        for k in [Kind::Unit, Kind::Final, Kind::Supplement] {
            assert_eq!(Kind::from_key(k.key()), Some(k));
        }
    }

    #[test]
    fn what_the_publisher_types_is_checked() {
        assert!(check_notice("标题", "正文", "0991-6386020", 5).is_ok());
        let p = check_notice("标题", " ", "0991-6386020", 5).unwrap_err();
        assert_eq!((p.field, p.message.as_str()), ("body", "请填写公示正文"));
        let p = check_notice("标题", "正文", "", 5).unwrap_err();
        assert_eq!(p.field, "contact");
        let p = check_notice("标题", "正文", "电话", 0).unwrap_err();
        assert_eq!(p.message, "公示天数应为 1～30 个工作日，填写的是 0");
        let long = "字".repeat(TITLE_MAX_CHARS + 1);
        let p = check_notice(&long, "正文", "电话", 5).unwrap_err();
        assert_eq!(p.message, "公示标题 101 字，超过 100 字上限");
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
