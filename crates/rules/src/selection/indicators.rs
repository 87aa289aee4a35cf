//! Who counts for the final list's rules and the panel's guidance — 院士, 青年, 女性,
//! 基层一线 — read from the 推荐表 or marked by the organiser, each with its source, so
//! the page can say where a count comes from and the organiser can correct it.

use time::Date;

use crate::campaign::{Campaign, FieldKey, Indicator};
use crate::form::{FieldValue, FormValues};
use crate::idcard::{IdNumber, Sex};

/// Where a reading comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A field of the 推荐表, by its label.
    Form(String),
    /// The 身份证号码: the birth date or the sex digit.
    IdCard,
    /// The organiser's marking, which overrides the form.
    Organiser,
    /// Nothing says: counted as not having it until marked.
    Unknown,
}

impl Source {
    /// The key the API gives: form, id_card, organiser, unknown.
    pub fn key(&self) -> &'static str {
        match self {
            Source::Form(_) => "form",
            Source::IdCard => "id_card",
            Source::Organiser => "organiser",
            Source::Unknown => "unknown",
        }
    }

    pub fn words(&self) -> String {
        match self {
            Source::Form(label) => format!("推荐表“{label}”"),
            Source::IdCard => "身份证号码".to_owned(),
            Source::Organiser => "活动办公室标记".to_owned(),
            Source::Unknown => "未标记".to_owned(),
        }
    }
}

/// One candidate's reading of one indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub indicator: Indicator,
    /// `None` when nothing says.
    pub has: Option<bool>,
    pub source: Source,
    /// For the page: “是（推荐表“是否两院院士”）”, “46 周岁，不属 45 岁以下（身份证号码）”.
    pub text: String,
}

impl Reading {
    /// Counted for the rules: unknown counts as not having it.
    pub fn counts(&self) -> bool {
        self.has == Some(true)
    }
}

/// The indicators the final list reads, each once: those its rules count, then those
/// the notice's leanings for the panel name.
pub fn shown(campaign: &Campaign) -> Vec<Indicator> {
    let mut out: Vec<Indicator> = Vec::new();
    let rules = campaign.final_list.constraints.iter().map(|c| c.indicator);
    let leanings = campaign
        .guidance
        .iter()
        .flat_map(|g| g.indicators.iter().copied());
    for i in rules.chain(leanings) {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// The notice's leanings for the panel (广西 “注重向基层一线科技工作者倾斜”), counted on a
/// list from its candidates' readings, the unmarked said: shown, never enforced.
/// “兼顾……——名单 20 人中基层一线 6 人（2 人未标记），45 岁以下 5 人”.
pub fn leanings(campaign: &Campaign, list: &[&[Reading]]) -> Vec<String> {
    use crate::campaign::Audience;
    campaign
        .guidance
        .iter()
        .filter(|g| g.audience == Audience::Selection && !g.indicators.is_empty())
        .map(|g| {
            let counts: Vec<String> = g
                .indicators
                .iter()
                .map(|&ind| {
                    let (mut yes, mut unknown) = (0, 0);
                    for readings in list {
                        match readings.iter().find(|r| r.indicator == ind).map(|r| r.has) {
                            Some(Some(true)) => yes += 1,
                            Some(None) | None => unknown += 1,
                            Some(Some(false)) => {}
                        }
                    }
                    let noun =
                        crate::selection::final_list::noun(ind, campaign.final_list.young_max_age);
                    if unknown > 0 {
                        format!("{noun} {yes} 人（{unknown} 人未标记）")
                    } else {
                        format!("{noun} {yes} 人")
                    }
                })
                .collect();
            format!("{}——名单 {} 人中{}", g.text, list.len(), counts.join("，"))
        })
        .collect()
}

fn yes_no(b: bool) -> &'static str {
    if b { "是" } else { "否" }
}

/// Reads `indicator` for a candidate whose 推荐表 is `form`, ages counted on `age_on`;
/// `mark` is the organiser's marking, which wins over the form.
pub fn read(
    campaign: &Campaign,
    form: &FormValues,
    indicator: Indicator,
    age_on: Date,
    mark: Option<bool>,
) -> Reading {
    let done = |has: Option<bool>, source: Source, what: String| Reading {
        indicator,
        has,
        // Nothing to cite when nothing says.
        text: if source == Source::Unknown {
            what
        } else {
            format!("{what}（{}）", source.words())
        },
        source,
    };
    if let Some(m) = mark {
        return done(Some(m), Source::Organiser, yes_no(m).to_owned());
    }
    let label = |key: FieldKey| {
        campaign
            .form
            .fields
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.label.clone())
    };
    let text = |key: FieldKey| form.get(&key).and_then(FieldValue::text).map(str::trim);
    let id = text(FieldKey::IdNumber).and_then(|t| IdNumber::parse(t).ok());
    match indicator {
        Indicator::Academician => {
            let answer = match form.get(&FieldKey::Academician) {
                Some(FieldValue::Flag(b)) => Some(*b),
                Some(v) => match v.text().map(str::trim) {
                    Some("是") => Some(true),
                    Some("否") => Some(false),
                    _ => None,
                },
                None => None,
            };
            match (label(FieldKey::Academician), answer) {
                (Some(l), Some(b)) => done(Some(b), Source::Form(l), yes_no(b).to_owned()),
                _ => done(
                    None,
                    Source::Unknown,
                    "推荐表未填写，请活动办公室标记".to_owned(),
                ),
            }
        }
        Indicator::Young => {
            let Some(limit) = campaign.final_list.young_max_age else {
                return done(None, Source::Unknown, "青年的年龄界限未设定".to_owned());
            };
            match id {
                Some(id) => {
                    let age = id.age_on(age_on);
                    // “45岁以下” includes 45 (民法典 第一千二百五十九条).
                    let young = age <= limit as i32;
                    let what = if young {
                        format!("{age} 周岁，属于 {limit} 岁以下")
                    } else {
                        format!("{age} 周岁，不属于 {limit} 岁以下")
                    };
                    done(Some(young), Source::IdCard, what)
                }
                None => done(None, Source::Unknown, "身份证号码无法读出年龄".to_owned()),
            }
        }
        Indicator::Female => match (id, label(FieldKey::Sex), text(FieldKey::Sex)) {
            (Some(id), _, _) => done(
                Some(id.sex == Sex::Female),
                Source::IdCard,
                id.sex.label().to_owned(),
            ),
            (None, Some(l), Some(t @ ("男" | "女" | "男性" | "女性"))) => {
                done(Some(t.starts_with('女')), Source::Form(l), t.to_owned())
            }
            _ => done(None, Source::Unknown, "性别未知".to_owned()),
        },
        // No 推荐表 asks it: the organiser marks it.
        Indicator::Grassroots => done(None, Source::Unknown, "未标记，请活动办公室标记".to_owned()),
    }
}

/// The longest reason a marking keeps.
pub const MARK_REASON_MAX_CHARS: usize = 200;

/// Why the organiser's marking is not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkRefusal {
    /// The final list is confirmed: what it was drawn on stays.
    Confirmed,
    /// Not a candidate at the office's desk.
    Unknown,
    /// The reason is missing or too long.
    Reason(String),
}

impl MarkRefusal {
    pub fn message(&self) -> String {
        match self {
            MarkRefusal::Confirmed => {
                "最终名单已确定，按确定时的标记核算；如需更正，请先撤销名单".to_owned()
            }
            MarkRefusal::Unknown => "这位候选人不在活动办公室的候选人中".to_owned(),
            MarkRefusal::Reason(words) => words.clone(),
        }
    }
}

/// Decides the organiser's marking: only before the final list is confirmed, only of a
/// candidate at the desk, always with a reason (kept with the marking and in the audit
/// trail). Returns the reason as kept.
pub fn decide_mark(confirmed: bool, known: bool, reason: &str) -> Result<String, MarkRefusal> {
    if confirmed {
        return Err(MarkRefusal::Confirmed);
    }
    if !known {
        return Err(MarkRefusal::Unknown);
    }
    let reason = reason.trim();
    let n = reason.chars().count();
    if n == 0 {
        return Err(MarkRefusal::Reason(
            "请写明标记的理由（如“乡镇卫生院一线医生”）".to_owned(),
        ));
    }
    if n > MARK_REASON_MAX_CHARS {
        return Err(MarkRefusal::Reason(format!(
            "理由不超过 {MARK_REASON_MAX_CHARS} 字，现有 {n} 字"
        )));
    }
    Ok(reason.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::{SEEDS, load};
    use time::macros::date;

    fn xinjiang() -> Campaign {
        let src = SEEDS
            .iter()
            .find(|(n, _)| n.starts_with("xinjiang"))
            .unwrap()
            .1;
        load(src).campaign.unwrap()
    }

    fn form(pairs: &[(FieldKey, &str)]) -> FormValues {
        pairs
            .iter()
            .map(|(k, v)| (*k, FieldValue::Text((*v).to_owned())))
            .collect()
    }

    /// A valid 身份证号码 for someone born on `birth` (yyyymmdd), the 17th digit `sex`.
    fn id_number(birth: &str, sex: u32) -> String {
        let body = format!("650102{birth}01{sex}");
        format!("{body}{}", crate::idcard::check_char(&body).unwrap())
    }

    #[test]
    fn a_marking_needs_a_reason_and_an_open_list() {
        assert_eq!(
            decide_mark(false, true, " 乡镇卫生院医生 "),
            Ok("乡镇卫生院医生".to_owned())
        );
        assert_eq!(decide_mark(true, true, "x"), Err(MarkRefusal::Confirmed));
        assert_eq!(decide_mark(false, false, "x"), Err(MarkRefusal::Unknown));
        assert!(
            decide_mark(false, true, "  ")
                .unwrap_err()
                .message()
                .contains("请写明")
        );
        assert_eq!(
            decide_mark(false, true, &"因".repeat(201))
                .unwrap_err()
                .message(),
            "理由不超过 200 字，现有 201 字"
        );
        assert_eq!(
            Indicator::from_key("grassroots"),
            Some(Indicator::Grassroots)
        );
        assert_eq!(Indicator::from_key("elite"), None);
    }

    #[test]
    fn each_indicator_with_its_source() {
        let c = xinjiang();
        let on = date!(2023 - 09 - 01);
        // 45 on the day counts as 45 岁以下; 46 does not.
        let f45 = form(&[
            (FieldKey::IdNumber, &id_number("19780901", 2)),
            (FieldKey::Academician, "否"),
        ]);
        let young = read(&c, &f45, Indicator::Young, on, None);
        assert_eq!(
            (young.counts(), young.text.as_str()),
            (true, "45 周岁，属于 45 岁以下（身份证号码）")
        );
        let f46 = form(&[(FieldKey::IdNumber, &id_number("19770831", 1))]);
        let old = read(&c, &f46, Indicator::Young, on, None);
        assert_eq!(old.text, "46 周岁，不属于 45 岁以下（身份证号码）");
        assert_eq!(
            read(&c, &f45, Indicator::Female, on, None).text,
            "女（身份证号码）"
        );
        assert!(!read(&c, &f46, Indicator::Female, on, None).counts());
        let acad = read(&c, &f45, Indicator::Academician, on, None);
        assert_eq!(
            (acad.has, acad.text.as_str()),
            (Some(false), "否（推荐表“是否两院院士”）")
        );
        let unknown = read(&c, &f46, Indicator::Academician, on, None);
        assert_eq!((unknown.has, unknown.source), (None, Source::Unknown));
        // The organiser's marking wins and says so.
        let marked = read(&c, &f45, Indicator::Academician, on, Some(true));
        assert_eq!(
            (marked.counts(), marked.text.as_str()),
            (true, "是（活动办公室标记）")
        );
        let grass = read(&c, &f45, Indicator::Grassroots, on, None);
        assert_eq!(grass.text, "未标记，请活动办公室标记");
        let flagged = FormValues::from([(FieldKey::Academician, FieldValue::Flag(true))]);
        assert!(read(&c, &flagged, Indicator::Academician, on, None).counts());
    }
}
