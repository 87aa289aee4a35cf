//! Release of the final list (issue 18): whether it may go out now, the certificates'
//! serial numbers and words. 广西: “经公示无异议后公布遴选结果” — a release waits for the
//! list's confirmation, for every name on it to have been through 公示 where the campaign
//! holds one, for every 公示 to have ended and every objection to be settled.

use time::Date;

/// Where the campaign stands, as the release's decision reads it.
#[derive(Debug, Clone, Default)]
pub struct Standing {
    /// The last stage's name (“终评”).
    pub stage_name: String,
    /// Its list is confirmed (确定晋级名单) and not undone since.
    pub confirmed: bool,
    /// How many are on the confirmed list, less those taken off.
    pub listed: usize,
    /// The campaign holds a final 公示 (`[publicity] final_publicity`).
    pub final_publicity: bool,
    /// Names on the list that no 公示 of the final stage has shown yet.
    pub not_publicized: Vec<String>,
    /// What still stands, in words: a 公示 running (with its dates), an objection open.
    pub unsettled: Vec<String>,
    /// The day of an earlier release, if any.
    pub released_on: Option<Date>,
}

/// Every reason the list cannot be released now, in words, or `Ok` when it can.
pub fn decide(s: &Standing) -> Result<(), Vec<String>> {
    if let Some(day) = s.released_on {
        return Err(vec![format!(
            "评选结果已于 {} 发布，不能再次发布",
            crate::publicity::day_words(day)
        )]);
    }
    let mut why = Vec::new();
    if !s.confirmed {
        why.push(format!(
            "最终名单尚未确定：请先在“{}”确定晋级名单",
            s.stage_name
        ));
    } else if s.listed == 0 {
        why.push("最终名单上没有人选".to_owned());
    }
    if s.final_publicity && s.confirmed && !s.not_publicized.is_empty() {
        why.push(format!(
            "{} 尚未公示：按通知须经公示无异议后公布结果",
            s.not_publicized.join("、")
        ));
    }
    why.extend(s.unsettled.iter().cloned());
    if why.is_empty() { Ok(()) } else { Err(why) }
}

/// A certificate's serial: the campaign's number prefix, its year and the place on the
/// list, “ZMKJ2023-007”.
pub fn serial(prefix: &str, year: i32, place: usize) -> String {
    format!("{prefix}{year}-{place:03}")
}

/// Reads a serial as typed (spaces, small letters): the canonical form, or `None`.
pub fn read_serial(s: &str) -> Option<String> {
    let s: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let (head, tail) = s.rsplit_once('-')?;
    let ok = !head.is_empty()
        && head.len() <= 40
        && head.chars().all(|c| c.is_ascii_alphanumeric())
        && (3..=6).contains(&tail.len())
        && tail.chars().all(|c| c.is_ascii_digit());
    ok.then_some(s)
}

/// What a certificate says, line by line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Certificate {
    pub heading: String,
    /// “张三 同志：”
    pub salutation: String,
    pub body: String,
    pub closing: String,
    /// The 主办单位, in the notice's order.
    pub issuers: Vec<String>,
    /// “二〇二四年五月二十日”.
    pub date: String,
    pub serial: String,
}

/// The certificate of `name` on the list of `award` (“第二届东莞“最美科技工作者””).
pub fn certificate(
    award: &str,
    name: &str,
    issuers: &[String],
    day: Date,
    serial: &str,
) -> Certificate {
    Certificate {
        heading: "荣誉证书".to_owned(),
        salutation: format!("{name} 同志："),
        body: format!("荣获{award}称号。"),
        closing: "特发此证，以资鼓励。".to_owned(),
        issuers: issuers.to_vec(),
        date: chinese_date(day),
        serial: serial.to_owned(),
    }
}

const DIGITS: [char; 10] = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/// 1..=31 as a certificate writes it: 十, 十二, 二十, 二十一, 三十一.
fn number_words(n: u8) -> String {
    let (tens, ones) = (n / 10, n % 10);
    let mut s = String::new();
    match tens {
        0 => {}
        1 => s.push('十'),
        t => {
            s.push(DIGITS[t as usize]);
            s.push('十');
        }
    }
    if ones > 0 || tens == 0 {
        s.push(DIGITS[ones as usize]);
    }
    s
}

/// A date as certificates and official documents write it: “二〇二四年五月二十日”.
pub fn chinese_date(day: Date) -> String {
    let year: String = day
        .year()
        .to_string()
        .chars()
        .map(|c| DIGITS[c.to_digit(10).unwrap_or(0) as usize])
        .collect();
    format!(
        "{year}年{}月{}日",
        number_words(u8::from(day.month())),
        number_words(day.day())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn ready() -> Standing {
        Standing {
            stage_name: "终评".into(),
            confirmed: true,
            listed: 10,
            final_publicity: true,
            ..Standing::default()
        }
    }

    #[test]
    fn a_confirmed_list_past_its_publicity_goes_out() {
        assert_eq!(decide(&ready()), Ok(()));
    }

    #[test]
    fn every_reason_is_said_together() {
        let s = Standing {
            not_publicized: vec!["张三".into(), "李四".into()],
            unsettled: vec!["异议 1234-5678 尚未办结（核查中）".into()],
            ..ready()
        };
        assert_eq!(
            decide(&s),
            Err(vec![
                "张三、李四 尚未公示：按通知须经公示无异议后公布结果".to_owned(),
                "异议 1234-5678 尚未办结（核查中）".to_owned(),
            ])
        );
    }

    #[test]
    fn an_unconfirmed_list_names_its_stage() {
        let s = Standing {
            confirmed: false,
            not_publicized: vec!["张三".into()],
            ..ready()
        };
        assert_eq!(
            decide(&s),
            Err(vec![
                "最终名单尚未确定：请先在“终评”确定晋级名单".to_owned()
            ])
        );
    }

    #[test]
    fn without_a_final_publicity_nobody_waits_for_one() {
        let s = Standing {
            final_publicity: false,
            not_publicized: vec!["张三".into()],
            ..ready()
        };
        assert_eq!(decide(&s), Ok(()));
    }

    #[test]
    fn a_second_release_is_refused_with_the_first_day() {
        let s = Standing {
            released_on: Some(date!(2024 - 05 - 20)),
            ..ready()
        };
        assert_eq!(
            decide(&s),
            Err(vec![
                "评选结果已于 2024年5月20日 发布，不能再次发布".to_owned()
            ])
        );
    }

    #[test]
    fn an_empty_list_is_not_released() {
        let s = Standing {
            listed: 0,
            ..ready()
        };
        assert_eq!(decide(&s), Err(vec!["最终名单上没有人选".to_owned()]));
    }

    #[test]
    fn serials_read_back_as_typed() {
        let s = serial("ZMKJ", 2023, 7);
        assert_eq!(s, "ZMKJ2023-007");
        assert_eq!(
            read_serial(" zmkj2023-007 ").as_deref(),
            Some("ZMKJ2023-007")
        );
        assert_eq!(read_serial("ZMKJ2023007"), None);
        assert_eq!(read_serial("ZMKJ2023-0a7"), None);
        assert_eq!(read_serial("../x-001"), None);
    }

    #[test]
    fn dates_in_words() {
        assert_eq!(chinese_date(date!(2024 - 05 - 20)), "二〇二四年五月二十日");
        assert_eq!(chinese_date(date!(2023 - 10 - 01)), "二〇二三年十月一日");
        assert_eq!(
            chinese_date(date!(2026 - 12 - 31)),
            "二〇二六年十二月三十一日"
        );
        assert_eq!(
            chinese_date(date!(2025 - 11 - 16)),
            "二〇二五年十一月十六日"
        );
    }

    #[test]
    fn a_certificate_names_the_award() {
        let c = certificate(
            "第二届东莞“最美科技工作者”",
            "张三",
            &["东莞市科学技术协会".into()],
            date!(2023 - 12 - 01),
            "ZMKJ2023-001",
        );
        assert_eq!(c.salutation, "张三 同志：");
        assert_eq!(c.body, "荣获第二届东莞“最美科技工作者”称号。");
        assert_eq!(c.date, "二〇二三年十二月一日");
    }
}
