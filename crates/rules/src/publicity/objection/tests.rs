use time::macros::{date, datetime};

use super::*;
use crate::calendar::WorkCalendar;
use crate::publicity::{Start, period};

fn may() -> Period {
    period(
        &WorkCalendar::builtin(),
        date!(2024 - 04 - 25),
        5,
        Start::NextWorkingDay,
    )
    .unwrap()
}

fn filing<'a>(name: &'a str, phone: &'a str, text: &'a str) -> Filing<'a> {
    Filing {
        name,
        phone,
        text,
        candidate: Some(7),
    }
}

const FACTS: &str = "该同志申报材料中所列获奖情况与事实不符，附获奖证书复印件为证。";

#[test]
fn a_named_objection_in_time_is_taken() {
    let at = datetime!(2024-05-06 23:59:59 +08:00).unix_timestamp();
    let f = check(
        &filing(" 王五 ", "138 1234 5678", FACTS),
        &may(),
        at,
        &[3, 7],
    )
    .unwrap();
    assert_eq!(
        f,
        Filed {
            name: "王五".to_owned(),
            phone: "13812345678".to_owned(),
            text: FACTS.to_owned(),
            candidate: 7,
        }
    );
    // A landline is a telephone too.
    assert!(check(&filing("王五", "0771-5851234", FACTS), &may(), at, &[7]).is_ok());
}

#[test]
fn every_problem_is_placed_at_its_field() {
    let late = datetime!(2024-05-07 00:00 +08:00).unix_timestamp();
    let problems = check(
        &Filing {
            name: "  ",
            phone: "12345",
            text: "不同意",
            candidate: Some(9),
        },
        &may(),
        late,
        &[7],
    )
    .unwrap_err();
    let fields: Vec<(&str, &str)> = problems.iter().map(|p| (p.code, p.field)).collect();
    assert_eq!(
        fields,
        [
            ("objection_late", "received"),
            ("name_required", "name"),
            ("phone_invalid", "phone"),
            ("text_too_short", "text"),
            ("candidate_not_listed", "candidate"),
        ]
    );
    assert_eq!(
        problems[0].message,
        "公示期为2024年4月26日至2024年5月6日（5 个工作日），已于2024年5月6日 24:00 结束，不再受理异议"
    );
    assert!(problems[1].message.contains("匿名异议不予受理"));
    assert_eq!(
        problems[3].message,
        "异议内容 3 字，请具体写明事实和理由（不少于 10 字）"
    );
    let none = check(
        &Filing {
            candidate: None,
            ..filing("王五", "", FACTS)
        },
        &may(),
        late - 3600,
        &[7],
    )
    .unwrap_err();
    assert_eq!(
        none.iter().map(|p| p.code).collect::<Vec<_>>(),
        ["phone_required", "candidate_required"]
    );
}

#[test]
fn a_letter_counts_by_the_day_it_reached_us() {
    // Postmarked on the last day, entered a week later: in time.
    let last = received_on(date!(2024 - 05 - 06));
    assert!(check(&filing("李四", "13812345678", FACTS), &may(), last, &[7]).is_ok());
    let after = received_on(date!(2024 - 05 - 07));
    assert_eq!(
        check(&filing("李四", "13812345678", FACTS), &may(), after, &[7]).unwrap_err()[0].code,
        "objection_late"
    );
}

#[test]
fn outcomes_move_forward_and_settle() {
    use Outcome::*;
    assert_eq!(decide(Received, Checking, ""), Ok(String::new()));
    assert_eq!(
        decide(Checking, Unfounded, " 经核查，所列奖项属实。 "),
        Ok("经核查，所列奖项属实。".to_owned())
    );
    assert_eq!(decide(Received, Rejected, "匿名来信").unwrap(), "匿名来信");
    let r = decide(Checking, Upheld, "").unwrap_err();
    assert_eq!((r.code, r.field), ("opinion_required", Some("opinion")));
    assert_eq!(
        r.message,
        "请填写处理意见：“异议成立”的结果将连同意见反馈给异议人"
    );
    // A second objection about someone already taken off may be upheld too.
    assert_eq!(decide(Checking, Upheld, "属实"), Ok("属实".to_owned()));
    for settled in [Rejected, Unfounded, Upheld] {
        let r = decide(settled, Checking, "").unwrap_err();
        assert_eq!(r.code, "objection_settled");
        assert!(r.message.contains(settled.text()));
    }
    assert_eq!(
        decide(Checking, Checking, "").unwrap_err().code,
        "already_checking"
    );
    assert_eq!(
        decide(Received, Received, "").unwrap_err().code,
        "outcome_invalid"
    );
    let long = "字".repeat(OPINION_MAX_CHARS + 1);
    assert_eq!(
        decide(Checking, Unfounded, &long).unwrap_err().code,
        "opinion_too_long"
    );
    for o in Outcome::ALL {
        assert_eq!(Outcome::from_key(o.key()), Some(o));
    }
    for c in Channel::ALL {
        assert_eq!(Channel::from_key(c.key()), Some(c));
    }
}

#[test]
fn the_objector_reads_the_outcome_with_the_opinion() {
    assert_eq!(
        follow_text(
            date!(2024 - 04 - 28),
            Outcome::Unfounded,
            "经核查，所列奖项属实"
        ),
        "2024年4月28日收到；异议不成立。处理意见：经核查，所列奖项属实"
    );
    assert_eq!(
        follow_text(date!(2024 - 04 - 28), Outcome::Received, ""),
        "2024年4月28日收到；已收到，待处理"
    );
}
