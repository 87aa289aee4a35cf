//! Objections to a 公示: who may raise one (实名, a telephone to be answered on, the facts
//! in words, in time), and the life of each — 待处理 → 核查中 → 异议不成立 / 异议成立, or
//! 不予受理 — each outcome with the 处理意见 that is sent back. Only the organiser sees who
//! objected; the objector follows theirs by its number.

use time::Date;

use crate::form::{check_mobile, check_office_phone, count_chars};
use crate::publicity::{Period, day_words};

/// Shortest account of the facts: a line of grievance without substance is no objection.
pub const TEXT_MIN_CHARS: usize = 10;
pub const TEXT_MAX_CHARS: usize = 2000;
pub const OPINION_MAX_CHARS: usize = 1000;
pub const NAME_MAX_CHARS: usize = 30;

/// Where an objection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Received, nobody has taken it up yet.
    Received,
    /// Being checked: the 公示 is not settled while one is.
    Checking,
    /// 不予受理: anonymous, outside the period, not about the list.
    Rejected,
    /// 异议不成立: checked, the candidate stays.
    Unfounded,
    /// 异议成立: checked, the candidate leaves the list.
    Upheld,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Received,
        Outcome::Checking,
        Outcome::Rejected,
        Outcome::Unfounded,
        Outcome::Upheld,
    ];

    /// The stored word.
    pub fn key(self) -> &'static str {
        match self {
            Outcome::Received => "received",
            Outcome::Checking => "checking",
            Outcome::Rejected => "rejected",
            Outcome::Unfounded => "unfounded",
            Outcome::Upheld => "upheld",
        }
    }

    pub fn from_key(key: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.key() == key)
    }

    pub fn text(self) -> &'static str {
        match self {
            Outcome::Received => "已收到，待处理",
            Outcome::Checking => "核查中",
            Outcome::Rejected => "不予受理",
            Outcome::Unfounded => "异议不成立",
            Outcome::Upheld => "异议成立",
        }
    }

    /// Settled: nothing changes it any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Outcome::Rejected | Outcome::Unfounded | Outcome::Upheld
        )
    }
}

/// How it reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Online,
    Phone,
    Letter,
    Visit,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Online,
        Channel::Phone,
        Channel::Letter,
        Channel::Visit,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Phone => "phone",
            Channel::Letter => "letter",
            Channel::Visit => "visit",
        }
    }

    pub fn from_key(key: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.key() == key)
    }

    pub fn text(self) -> &'static str {
        match self {
            Channel::Online => "网上提交",
            Channel::Phone => "电话",
            Channel::Letter => "来信",
            Channel::Visit => "来访",
        }
    }
}

/// An objection as typed (online) or as the office writes down a call or a letter.
#[derive(Debug, Clone, Copy)]
pub struct Filing<'a> {
    pub name: &'a str,
    pub phone: &'a str,
    pub text: &'a str,
    /// The candidate objected to, by id; `None` when none was chosen.
    pub candidate: Option<i64>,
}

/// What is kept of a filing that passed: trimmed, the phone without spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    pub name: String,
    pub phone: String,
    pub text: String,
    pub candidate: i64,
}

/// One problem of a filing, placed at its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: &'static str,
    pub field: &'static str,
    pub message: String,
}

fn problem(code: &'static str, field: &'static str, message: impl Into<String>) -> Problem {
    Problem {
        code,
        field,
        message: message.into(),
    }
}

/// Checks a filing against the 公示: in time (`received`, the moment it reached us —
/// now online, the day of the call or the letter's postmark when the office enters it),
/// 实名 with a telephone, the facts in words, about someone on the list (`listed`).
/// Every problem is returned, the period's first since it makes the rest moot.
pub fn check(
    filing: &Filing,
    period: &Period,
    received: i64,
    listed: &[i64],
) -> Result<Filed, Vec<Problem>> {
    let mut problems = Vec::new();
    if let Err(words) = period.objection_in_time(received) {
        problems.push(problem("objection_late", "received", words));
    }
    let name = filing.name.trim();
    if name.is_empty() {
        problems.push(problem(
            "name_required",
            "name",
            "请填写真实姓名（以单位名义反映的填写单位全称）：匿名异议不予受理",
        ));
    } else if count_chars(name) > NAME_MAX_CHARS {
        problems.push(problem(
            "name_too_long",
            "name",
            format!(
                "姓名或单位名称 {} 字，超过 {NAME_MAX_CHARS} 字上限",
                count_chars(name)
            ),
        ));
    }
    let phone: String = filing
        .phone
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if phone.is_empty() {
        problems.push(problem(
            "phone_required",
            "phone",
            "请留下联系电话，以便核实情况和反馈处理意见",
        ));
    } else if check_mobile(&phone).is_err() && check_office_phone(&phone).is_err() {
        problems.push(problem(
            "phone_invalid",
            "phone",
            format!("联系电话“{phone}”无效：应为 11 位手机号码，或 区号-号码 的固定电话"),
        ));
    }
    let text = filing.text.trim();
    let chars = count_chars(text);
    if chars < TEXT_MIN_CHARS {
        problems.push(problem(
            "text_too_short",
            "text",
            format!("异议内容 {chars} 字，请具体写明事实和理由（不少于 {TEXT_MIN_CHARS} 字）"),
        ));
    } else if chars > TEXT_MAX_CHARS {
        problems.push(problem(
            "text_too_long",
            "text",
            format!("异议内容 {chars} 字，超过 {TEXT_MAX_CHARS} 字上限；详细材料请作为附件上传"),
        ));
    }
    let candidate = match filing.candidate {
        Some(id) if listed.contains(&id) => Some(id),
        Some(_) => {
            problems.push(problem(
                "candidate_not_listed",
                "candidate",
                "所选人员不在本次公示名单中",
            ));
            None
        }
        None => {
            problems.push(problem(
                "candidate_required",
                "candidate",
                "请选择异议针对的公示对象",
            ));
            None
        }
    };
    match candidate {
        Some(candidate) if problems.is_empty() => Ok(Filed {
            name: name.to_owned(),
            phone,
            text: text.to_owned(),
            candidate,
        }),
        _ => Err(problems),
    }
}

/// The day an objection the office enters reached it (the call, the letter's postmark),
/// as the moment [`check`] measures: noon of that day in Beijing, so that a day inside
/// the period is in time whatever the hour the office writes it down.
pub fn received_on(day: Date) -> i64 {
    day.with_hms(12, 0, 0)
        .expect("noon")
        .assume_offset(crate::deadline::BEIJING)
        .unix_timestamp()
}

/// Why an outcome cannot be given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    /// The input at fault, when one is.
    pub field: Option<&'static str>,
    pub message: String,
}

/// The organiser's (or, for its own 公示, the unit's) step on an objection: from where it
/// stands (`now`) to `next`, with the 处理意见 (`opinion`) sent back to the objector —
/// required for every settled outcome, optional while it is being checked. Upholding
/// takes the candidate off the list (the caller's write); about someone another
/// objection already took off, the outcome is recorded and sent back all the same.
/// Returns the opinion as kept.
pub fn decide(now: Outcome, next: Outcome, opinion: &str) -> Result<String, Refusal> {
    let refuse = |code, field, message: String| Refusal {
        code,
        field,
        message,
    };
    if now.is_final() {
        return Err(refuse(
            "objection_settled",
            None,
            format!("该异议已办结（{}），不能再更改处理结果", now.text()),
        ));
    }
    match next {
        Outcome::Received => {
            return Err(refuse(
                "outcome_invalid",
                Some("outcome"),
                "处理结果应为 核查中、不予受理、异议不成立 或 异议成立".to_owned(),
            ));
        }
        Outcome::Checking if now == Outcome::Checking => {
            return Err(refuse(
                "already_checking",
                Some("outcome"),
                "该异议已在核查中".to_owned(),
            ));
        }
        _ => {}
    }
    let opinion = opinion.trim();
    let chars = count_chars(opinion);
    if next.is_final() && chars == 0 {
        return Err(refuse(
            "opinion_required",
            Some("opinion"),
            format!(
                "请填写处理意见：“{}”的结果将连同意见反馈给异议人",
                next.text()
            ),
        ));
    }
    if chars > OPINION_MAX_CHARS {
        return Err(refuse(
            "opinion_too_long",
            Some("opinion"),
            format!("处理意见 {chars} 字，超过 {OPINION_MAX_CHARS} 字上限"),
        ));
    }
    Ok(opinion.to_owned())
}

/// What the objector reads when following theirs: “2024年4月28日收到；异议不成立：…”.
pub fn follow_text(received: Date, outcome: Outcome, opinion: &str) -> String {
    let mut s = format!("{}收到；{}", day_words(received), outcome.text());
    if !opinion.is_empty() {
        s.push_str("。处理意见：");
        s.push_str(opinion);
    }
    s
}

#[cfg(test)]
mod tests;
