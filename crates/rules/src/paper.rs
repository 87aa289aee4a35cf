//! Paper filing from `[paper]`: who must send it (东莞: every nomination, with it; 广西:
//! the 拟入选's recommenders, after the shortlist), what (the file's items), by when (the
//! deadline, “以当地邮戳为准” where the postmark counts). The office marks each item
//! received with its dates; [`judge`] says of each candidate what is still outstanding,
//! what came late, and what the notice makes of it (东莞: “推荐材料不完整或逾期报送的，报送
//! 候选人材料无效”).

use time::Date;

use crate::campaign::{Paper, PaperWhen, deadline_instant};
use crate::publicity::{beijing_day, day_words};

/// Days the post is given after a deadline “以当地邮戳为准” before an item not received is
/// called missing.
pub const MAIL_DAYS: i64 = 10;

/// The office's latest marking of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    /// Index into `[paper] items`.
    pub item: usize,
    /// `false`: a marking taken back (entered by mistake).
    pub received: bool,
    pub received_on: Date,
    /// The postmark's day, where the parcel has one.
    pub postmark_on: Option<Date>,
}

/// Where one item stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemState {
    Missing,
    Received {
        received_on: Date,
        postmark_on: Option<Date>,
        /// Counted (postmark or arrival) after the deadline.
        late: bool,
    },
}

/// The notice's verdict on a candidate's paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Complete,
    /// Items outstanding, the deadline not passed (or none set).
    Waiting,
    /// An item counted after the deadline.
    Late,
    /// The deadline passed with items outstanding.
    Incomplete,
}

impl Verdict {
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Complete => "complete",
            Verdict::Waiting => "waiting",
            Verdict::Late => "late",
            Verdict::Incomplete => "incomplete",
        }
    }
}

/// A candidate's paper, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    pub items: Vec<(String, ItemState)>,
    pub verdict: Verdict,
    /// The verdict in words, with what the notice makes of it.
    pub text: String,
    /// The items still to send, in the file's words.
    pub outstanding: Vec<String>,
}

/// The deadline's day in Beijing and its moment, when the file sets one.
fn deadline(paper: &Paper) -> Option<(Date, i64)> {
    let t = deadline_instant(paper.deadline.as_ref()?).ok()?;
    Some((beijing_day(t.unix_timestamp()), t.unix_timestamp()))
}

/// Judges a candidate's paper at `now` from the office's latest marking per item.
pub fn judge(paper: &Paper, marks: &[Mark], now: i64) -> Filing {
    let due = deadline(paper);
    let items: Vec<(String, ItemState)> = paper
        .items
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let state = match marks.iter().rev().find(|m| m.item == i) {
                Some(m) if m.received => {
                    // The day that counts: the postmark where it counts and is known.
                    let counted = match (paper.postmark_counts, m.postmark_on) {
                        (true, Some(p)) => p,
                        _ => m.received_on,
                    };
                    ItemState::Received {
                        received_on: m.received_on,
                        postmark_on: m.postmark_on,
                        late: due.is_some_and(|(day, _)| counted > day),
                    }
                }
                _ => ItemState::Missing,
            };
            (name.clone(), state)
        })
        .collect();
    let outstanding: Vec<String> = items
        .iter()
        .filter(|(_, s)| *s == ItemState::Missing)
        .map(|(n, _)| n.clone())
        .collect();
    let late = items
        .iter()
        .filter(|(_, s)| matches!(s, ItemState::Received { late: true, .. }))
        .count();
    // Where the postmark counts, a parcel posted on the last day is still on its way:
    // nothing is called missing until the post has had its days.
    let grace = if paper.postmark_counts {
        MAIL_DAYS * 86_400
    } else {
        0
    };
    let passed = due.is_some_and(|(_, at)| now >= at + grace);
    let verdict = if late > 0 {
        Verdict::Late
    } else if outstanding.is_empty() {
        Verdict::Complete
    } else if passed {
        Verdict::Incomplete
    } else {
        Verdict::Waiting
    };
    let by = due
        .map(|(day, _)| {
            format!(
                "{}（{}）",
                day_words(day),
                if paper.postmark_counts {
                    "以当地邮戳为准"
                } else {
                    "以收到日期为准"
                }
            )
        })
        .unwrap_or_default();
    let invalid = if paper.flawed_invalid {
        "，按通知该候选人报送材料无效"
    } else {
        ""
    };
    let text = match verdict {
        Verdict::Complete => "纸质材料齐全".to_owned(),
        Verdict::Waiting if by.is_empty() => format!("尚缺 {} 项", outstanding.len()),
        Verdict::Waiting => format!("尚缺 {} 项，截止 {by}", outstanding.len()),
        Verdict::Late if outstanding.is_empty() || !passed => {
            format!("{late} 项逾期报送（截止 {by}）{invalid}")
        }
        Verdict::Late => format!(
            "{late} 项逾期报送，另缺 {} 项（截止 {by}）{invalid}",
            outstanding.len()
        ),
        Verdict::Incomplete => format!(
            "已过截止时间 {by}，仍缺 {} 项，材料不完整{invalid}",
            outstanding.len()
        ),
    };
    Filing {
        items,
        verdict,
        text,
        outstanding,
    }
}

/// Whether paper is due from this campaign's candidates now: with the nomination, every
/// one at the office's desk; after the shortlist, once the final list is confirmed.
pub fn due_now(paper: &Paper, shortlist_confirmed: bool) -> bool {
    match paper.when {
        PaperWhen::WithNomination => true,
        PaperWhen::AfterShortlist => shortlist_confirmed,
    }
}

/// Why a marking is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub field: &'static str,
    pub message: String,
}

/// The office marks an item of a candidate's paper (`mark`), today being `today`: the
/// candidate must be one paper is due from (`due`, their name in `name`), the item one of
/// the file's, the days not in the future, the postmark not after the arrival, and a
/// parcel arriving after a deadline “以当地邮戳为准” needs its postmark. Taking a marking
/// back needs only the item.
pub fn decide_mark(
    paper: &Paper,
    name: &str,
    due: bool,
    mark: &Mark,
    today: Date,
) -> Result<(), Refusal> {
    let (item, received_on, postmark_on) = (mark.item, mark.received_on, mark.postmark_on);
    let refuse = |code, field, message: String| {
        Err(Refusal {
            code,
            field,
            message,
        })
    };
    if !due {
        return refuse(
            "paper_not_due",
            "application_id",
            match paper.when {
                PaperWhen::AfterShortlist => {
                    format!("{name}不在拟入选名单中，无需报送纸质材料")
                }
                PaperWhen::WithNomination => {
                    format!("{name}的推荐未报送到活动办公室，无需登记纸质材料")
                }
            },
        );
    }
    if item >= paper.items.len() {
        return refuse(
            "paper_item",
            "item",
            format!(
                "纸质材料共 {} 项，没有第 {} 项",
                paper.items.len(),
                item + 1
            ),
        );
    }
    if received_on > today {
        return refuse(
            "received_on",
            "received_on",
            format!(
                "收到日期{}晚于今天（{}）",
                day_words(received_on),
                day_words(today)
            ),
        );
    }
    if !mark.received {
        return Ok(());
    }
    if paper.postmark_counts
        && postmark_on.is_none()
        && deadline(paper).is_some_and(|(day, _)| received_on > day)
    {
        return refuse(
            "postmark_required",
            "postmark_on",
            format!(
                "{}收到，晚于截止日；本活动以当地邮戳为准，请填写邮戳日期（当面送达的，收到日期应不晚于截止日）",
                day_words(received_on)
            ),
        );
    }
    if let Some(p) = postmark_on
        && p > received_on
    {
        return refuse(
            "postmark_on",
            "postmark_on",
            format!(
                "邮戳日期{}晚于收到日期{}",
                day_words(p),
                day_words(received_on)
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
