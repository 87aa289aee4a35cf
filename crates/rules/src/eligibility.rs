//! Who may be recommended (资格): the campaign's questions answered on the form — where
//! the candidate works, the excluded groups, earlier titles — and the organiser's
//! register of earlier winners, matched on 身份证号码. A strict rule stops the
//! submission with the reason; a “原则上” one is shown to the reviewing units, who
//! decide.

use crate::campaign::{Campaign, Strictness};
use crate::form::{FieldValue, FormValues};

/// A question on the form, answered 是 or 否.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub key: String,
    pub text: String,
    /// The answer that raises the rule (否 for the work region, 是 for the others).
    pub raising: &'static str,
    /// What is said when it is raised.
    pub consequence: String,
    pub strictness: Strictness,
}

/// The campaign's questions, in the notice's order.
pub fn questions(c: &Campaign) -> Vec<Question> {
    let e = &c.eligibility;
    let mut out = Vec::new();
    if let Some(region) = &e.work_region {
        let who = e
            .work_region_note
            .clone()
            .unwrap_or_else(|| format!("在{region}工作的科技工作者"));
        out.push(Question {
            key: "work_region".to_owned(),
            text: format!("您目前是否在{region}工作？"),
            raising: "否",
            consequence: format!("推荐人选须为{who}"),
            strictness: Strictness::Strict,
        });
    }
    for r in &e.exclusions {
        out.push(Question {
            key: r.key.clone(),
            text: format!("您是否属于{}？", r.label),
            raising: "是",
            consequence: format!("{}不在推荐范围内", r.label),
            strictness: r.strictness,
        });
    }
    for r in &e.prior_titles {
        let how = match r.strictness {
            Strictness::Strict => "不再推荐",
            Strictness::InPrinciple => "原则上不再推荐",
        };
        out.push(Question {
            key: r.key.clone(),
            text: format!("您是否{}？", r.label),
            raising: "是",
            consequence: format!("{}的，{how}", r.label),
            strictness: r.strictness,
        });
    }
    out
}

/// The answers stored with the form: rows of (question key, 是/否).
pub fn answers(values: &FormValues) -> Vec<(String, String)> {
    match values.get(&crate::campaign::FieldKey::Eligibility) {
        Some(FieldValue::Rows(rows)) => rows.clone(),
        _ => Vec::new(),
    }
}

/// A raised rule: `blocking` ones stop the submission; the others are shown to the
/// reviewing units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub blocking: bool,
    pub message: String,
}

/// Everything the answers and the register raise. `in_register` is the register's
/// entry for the candidate's 身份证号码, if any (e.g. “2022年 东莞最美科技工作者”).
pub fn assess(c: &Campaign, values: &FormValues, in_register: Option<&str>) -> Vec<Finding> {
    let given = answers(values);
    let mut out = Vec::new();
    for q in questions(c) {
        let answer = given
            .iter()
            .find(|(k, _)| *k == q.key)
            .map(|(_, a)| a.trim());
        match answer {
            None | Some("") => out.push(Finding {
                blocking: true,
                message: format!("请回答资格问题：{}", q.text),
            }),
            Some(a) if a == q.raising => out.push(Finding {
                blocking: q.strictness == Strictness::Strict,
                message: q.consequence.clone(),
            }),
            Some(_) => {}
        }
    }
    if let Some(entry) = in_register
        && let Some(rule) = c.eligibility.prior_titles.iter().find(|r| r.register)
    {
        let strict = rule.strictness == Strictness::Strict;
        out.push(Finding {
            blocking: strict,
            message: format!(
                "经核对往年获奖名单（{entry}），{}的，{}",
                rule.label,
                if strict {
                    "不再推荐"
                } else {
                    "原则上不再推荐"
                }
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::{FieldKey, SEEDS, load};

    fn campaign(i: usize) -> Campaign {
        load(SEEDS[i].1).campaign.unwrap()
    }

    fn with(answers: &[(&str, &str)]) -> FormValues {
        let mut v = FormValues::new();
        v.insert(
            FieldKey::Eligibility,
            FieldValue::Rows(
                answers
                    .iter()
                    .map(|(k, a)| ((*k).to_owned(), (*a).to_owned()))
                    .collect(),
            ),
        );
        v
    }

    #[test]
    fn guangxi_questions_and_answers() {
        let c = campaign(0);
        let qs = questions(&c);
        assert_eq!(qs[0].text, "您目前是否在广西工作？");
        assert_eq!(qs[1].text, "您是否属于各级党政机关工作人员？");
        assert_eq!(qs.len(), 7);
        // Nothing answered: one blocking finding per question.
        let none = assess(&c, &FormValues::new(), None);
        assert_eq!(none.len(), 7);
        assert!(none.iter().all(|f| f.blocking));
        let mut fine: Vec<(&str, &str)> = qs.iter().map(|q| (q.key.as_str(), "否")).collect();
        fine[0].1 = "是";
        assert_eq!(assess(&c, &with(&fine), None), []);
        fine[0].1 = "否";
        fine[4].1 = "是";
        let found = assess(&c, &with(&fine), None);
        assert_eq!(
            found.iter().map(|f| f.message.as_str()).collect::<Vec<_>>(),
            [
                "推荐人选须为目前在广西工作的科技工作者（含区外引进）",
                "离退休科技工作者不在推荐范围内"
            ]
        );
        // “原则上不再推荐”: shown to the units, not blocking.
        fine[4].1 = "否";
        fine[6].1 = "是";
        fine[0].1 = "是";
        let found = assess(&c, &with(&fine), None);
        assert_eq!(found.len(), 1);
        assert!(!found[0].blocking);
        assert_eq!(
            found[0].message,
            "已获得全国、自治区“最美”系列称号的，原则上不再推荐"
        );
    }

    #[test]
    fn the_register_decides_earlier_winners() {
        let c = campaign(1);
        let all_no: Vec<(String, String)> = questions(&c)
            .into_iter()
            .map(|q| (q.key, "否".to_owned()))
            .collect();
        let pairs: Vec<(&str, &str)> = all_no
            .iter()
            .map(|(k, a)| (k.as_str(), a.as_str()))
            .collect();
        let mut fine = pairs.clone();
        if let Some(region) = fine.iter_mut().find(|(k, _)| *k == "work_region") {
            region.1 = "是";
        }
        assert_eq!(assess(&c, &with(&fine), None), []);
        let found = assess(&c, &with(&fine), Some("2022年"));
        assert_eq!(found.len(), 1);
        assert!(found[0].blocking);
        assert_eq!(
            found[0].message,
            "经核对往年获奖名单（2022年），往年获评东莞“最美科技工作者”的，不再推荐"
        );
    }
}
