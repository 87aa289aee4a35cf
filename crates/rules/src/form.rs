//! Checks of the 推荐表's fields. A draft is saved with whatever is filled; the full
//! check runs at 提交 and lists every problem at once, each beside its field, in words
//! that give the measured value.

use std::collections::BTreeMap;

use crate::campaign::{Campaign, FieldKey, FormField};
use crate::idcard::{IdNumber, Sex};

/// What the applicant entered in one field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldValue {
    Text(String),
    /// Ticked choices, or the parts of a repeatable text (感人故事).
    List(Vec<String>),
    /// 学习工作经历: (起止年月, 在何单位从事何工作).
    Rows(Vec<(String, String)>),
    Flag(bool),
}

impl FieldValue {
    fn is_empty(&self) -> bool {
        match self {
            FieldValue::Text(t) => t.trim().is_empty(),
            FieldValue::List(v) => v.iter().all(|t| t.trim().is_empty()),
            FieldValue::Rows(r) => r
                .iter()
                .all(|(a, b)| a.trim().is_empty() && b.trim().is_empty()),
            FieldValue::Flag(_) => false,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(t) => Some(t.trim()),
            _ => None,
        }
    }

    /// The value as printed on paper: a list joined with “、”, a flag as 是/否; rows have
    /// no one-line form and print as nothing.
    pub fn display(&self) -> String {
        match self {
            FieldValue::Text(t) => t.trim().to_owned(),
            FieldValue::List(items) => items
                .iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("、"),
            FieldValue::Flag(b) => if *b { "是" } else { "否" }.to_owned(),
            FieldValue::Rows(_) => String::new(),
        }
    }
}

/// A field's printed text, nothing when the field is absent.
pub fn printed(values: &FormValues, key: FieldKey) -> String {
    values
        .get(&key)
        .map(FieldValue::display)
        .unwrap_or_default()
}

/// 工作单位及职务职称 as the 汇总表 and the 考察材料 print it: the work unit and post, with
/// the title added when the post does not already name it.
pub fn employer_and_title(values: &FormValues) -> String {
    let employer = printed(values, FieldKey::EmployerAndPost);
    let title = printed(values, FieldKey::Title);
    if title.is_empty() || employer.contains(&title) {
        employer
    } else if employer.is_empty() {
        title
    } else {
        format!("{employer}，{title}")
    }
}

pub type FormValues = BTreeMap<FieldKey, FieldValue>;

/// What is stored is what the standards write: a 身份证号码 typed with a small x, or with
/// spaces, is kept as GB 11643 writes it (capital X, no spaces).
pub fn normalize(values: &mut FormValues) {
    if let Some(FieldValue::Text(t)) = values.get_mut(&FieldKey::IdNumber) {
        *t = t
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
    }
}

/// A mobile number (11 digits starting 1[3-9]) or an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    Mobile(String),
    Email(String),
}

pub fn parse_contact(s: &str) -> Option<Contact> {
    let s = s.trim();
    let is_mobile = s.len() == 11
        && s.starts_with('1')
        && s.chars().all(|c| c.is_ascii_digit())
        && matches!(s.as_bytes()[1], b'3'..=b'9');
    if is_mobile {
        return Some(Contact::Mobile(s.to_owned()));
    }
    let (user, domain) = s.split_once('@')?;
    let ok = !user.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
        && s.len() <= 254;
    ok.then(|| Contact::Email(s.to_lowercase()))
}

/// A problem with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: FieldKey,
    pub message: String,
}

/// Characters as Word's 字数 counts them in Chinese text: each Chinese character or
/// full-width mark counts one, each run of Latin letters or digits counts one word,
/// spaces and line breaks count nothing.
pub fn count_chars(text: &str) -> usize {
    let mut n = 0;
    let mut in_word = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if !in_word {
                n += 1;
                in_word = true;
            }
            continue;
        }
        in_word = false;
        if !c.is_whitespace() {
            n += 1;
        }
    }
    n
}

pub fn check_mobile(s: &str) -> Result<(), String> {
    let ok = s.len() == 11
        && s.starts_with('1')
        && s.chars().all(|c| c.is_ascii_digit())
        && matches!(s.as_bytes()[1], b'3'..=b'9');
    ok.then_some(())
        .ok_or_else(|| format!("手机号码“{s}”无效：应为 1 开头的 11 位数字"))
}

/// 办公电话: an area code and a 7–8 digit number, with an optional extension
/// (0771-2863980, 0991-6386020-801, 22119720).
pub fn check_office_phone(s: &str) -> Result<(), String> {
    let bad = || format!("办公电话“{s}”无效：应写成 区号-号码，如 0771-2863980");
    let (main, ext) = match s.rsplit_once(['-', '转']) {
        Some((m, e)) if m.contains('-') || s.contains('转') => (m, Some(e)),
        _ => (s, None),
    };
    if let Some(e) = ext
        && !(1..=6).contains(&e.len())
    {
        return Err(bad());
    }
    let digits: String = main.chars().filter(|c| *c != '-').collect();
    let well_formed = main.chars().all(|c| c.is_ascii_digit() || c == '-')
        && ext.is_none_or(|e| e.chars().all(|c| c.is_ascii_digit()))
        && main.matches('-').count() <= 1;
    let length_ok = if main.contains('-') || main.starts_with('0') {
        (10..=12).contains(&digits.len()) && digits.starts_with('0')
    } else {
        (7..=8).contains(&digits.len())
    };
    (well_formed && length_ok).then_some(()).ok_or_else(bad)
}

pub fn check_email(s: &str) -> Result<(), String> {
    let ok = match s.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(|c| c.is_whitespace() || !c.is_ascii())
        }
        None => false,
    };
    ok.then_some(()).ok_or_else(|| format!("电子邮箱“{s}”无效"))
}

pub fn check_postcode(s: &str) -> Result<(), String> {
    (s.len() == 6 && s.chars().all(|c| c.is_ascii_digit()))
        .then_some(())
        .ok_or_else(|| format!("邮编“{s}”无效：应为 6 位数字"))
}

/// Reads 出生年月 written in Arabic numerals: 1980年05月, 1980年5月, 1980-05, 1980.05,
/// 1980/5 (a day, if given, is ignored).
pub fn parse_year_month(s: &str) -> Result<(i32, u8), String> {
    let t = s.trim();
    if t.chars().any(|c| "〇零一二三四五六七八九十".contains(c)) {
        return Err(format!("日期“{t}”请用阿拉伯数字，如 1980年05月"));
    }
    let parts: Vec<&str> = t
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .collect();
    let bad = || format!("日期“{t}”无法识别，请写成 1980年05月");
    let (Some(y), Some(m)) = (parts.first(), parts.get(1)) else {
        return Err(bad());
    };
    let year: i32 = y.parse().map_err(|_| bad())?;
    let month: u8 = m.parse().map_err(|_| bad())?;
    if y.len() != 4 || !(1..=12).contains(&month) || !(1900..=2100).contains(&year) {
        return Err(bad());
    }
    Ok((year, month))
}

/// Grades that are not titles (填表说明: 请勿填写“正高”、“副高”等).
const GRADES: &[&str] = &[
    "正高",
    "副高",
    "中级",
    "初级",
    "正高级",
    "副高级",
    "高级",
    "中级职称",
    "高级职称",
    "正高职称",
    "副高职称",
    "正高级职称",
    "副高级职称",
    "初级职称",
    "教授级",
    "副教授级",
];

pub fn check_title(s: &str) -> Result<(), String> {
    let t = s.trim();
    if GRADES.contains(&t) {
        return Err(format!(
            "专业技术职务请填写具体职务，如“研究员”“研究员级高级工程师”，不能只写“{t}”"
        ));
    }
    Ok(())
}

fn length_problem(field: &FormField, part: Option<usize>, text: &str) -> Option<String> {
    let max = field.max_chars?;
    let n = count_chars(text);
    (n > max as usize).then(|| {
        let which = match part {
            Some(i) => format!(
                "{}（{}）",
                field.label,
                ["一", "二", "三", "四", "五"].get(i).unwrap_or(&"…")
            ),
            None => field.label.clone(),
        };
        format!("{which}共 {n} 字，超过 {max} 字上限")
    })
}

/// The full check at 提交: every problem of every field the campaign shows.
pub fn check_submission(campaign: &Campaign, values: &FormValues) -> Vec<FieldProblem> {
    let mut out = Vec::new();
    let mut add = |field: FieldKey, message: String| out.push(FieldProblem { field, message });
    for f in &campaign.form.fields {
        let value = values.get(&f.key);
        let empty = value.is_none_or(FieldValue::is_empty);
        if empty {
            if f.required {
                add(f.key, format!("请填写{}", f.label));
            }
            continue;
        }
        let value = value.expect("not empty");
        let text = value.text();
        let format_check = match (f.key, text) {
            (FieldKey::Mobile, Some(t)) => check_mobile(t).err(),
            (FieldKey::OfficePhone, Some(t)) => check_office_phone(t).err(),
            (FieldKey::Email, Some(t)) => check_email(t).err(),
            (FieldKey::Postcode, Some(t)) => check_postcode(t).err(),
            (FieldKey::BirthMonth, Some(t)) => parse_year_month(t).err(),
            (FieldKey::Title, Some(t)) => check_title(t).err(),
            (FieldKey::IdNumber, Some(t)) => IdNumber::parse(t).err().map(|e| e.to_string()),
            // 新疆's 院士 ≤10% is counted from it: only a plain 是 or 否 will do.
            (FieldKey::Academician | FieldKey::Sex, Some(t)) => {
                let allowed = if f.key == FieldKey::Sex {
                    ["男", "女"]
                } else {
                    ["是", "否"]
                };
                (!allowed.contains(&t.trim())).then(|| {
                    format!(
                        "{}请选择“{}”或“{}”，现为“{t}”",
                        f.label, allowed[0], allowed[1]
                    )
                })
            }
            _ => None,
        };
        if let Some(m) = format_check {
            add(f.key, m);
        }
        if f.key.is_choice() {
            let picked: Vec<&str> = match value {
                FieldValue::Text(t) => vec![t.trim()],
                FieldValue::List(v) => v
                    .iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect(),
                _ => Vec::new(),
            };
            for p in &picked {
                if !f.choices.iter().any(|c| c == p) {
                    add(f.key, format!("{}“{p}”不在可选范围内", f.label));
                }
            }
            if !f.multiple && picked.len() > 1 {
                add(
                    f.key,
                    format!("{}只能选一项，现选了 {} 项", f.label, picked.len()),
                );
            }
        }
        match value {
            FieldValue::Text(t) => {
                if let Some(m) = length_problem(f, None, t) {
                    add(f.key, m);
                }
            }
            FieldValue::List(parts) if f.key.is_repeatable() => {
                let parts: Vec<&String> = parts.iter().filter(|p| !p.trim().is_empty()).collect();
                if let Some(max) = f.max_items
                    && parts.len() > max as usize
                {
                    add(
                        f.key,
                        format!("{}最多 {max} 个，现有 {} 个", f.label, parts.len()),
                    );
                }
                if let Some(min) = f.min_items
                    && parts.len() < min as usize
                {
                    add(
                        f.key,
                        format!("{}至少 {min} 个，现有 {} 个", f.label, parts.len()),
                    );
                }
                for (i, p) in parts.iter().enumerate() {
                    if let Some(m) = length_problem(f, Some(i), p) {
                        add(f.key, m);
                    }
                }
            }
            FieldValue::Rows(rows) => {
                for (i, (when, what)) in rows.iter().enumerate() {
                    if when.trim().is_empty() != what.trim().is_empty() {
                        add(
                            f.key,
                            format!("{}第 {} 行须同时填写起止年月和单位与工作", f.label, i + 1),
                        );
                    } else if when.chars().any(|c| "〇零一二三四五六七八九十".contains(c))
                    {
                        add(
                            f.key,
                            format!("{}第 {} 行的日期请用阿拉伯数字", f.label, i + 1),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    // The 身份证 encodes the birth date and the sex; the form must agree with it.
    if let Some(id) = values
        .get(&FieldKey::IdNumber)
        .and_then(FieldValue::text)
        .and_then(|t| IdNumber::parse(t).ok())
    {
        if let Some(Ok((y, m))) = values
            .get(&FieldKey::BirthMonth)
            .and_then(FieldValue::text)
            .map(parse_year_month)
            && (y, m) != (id.birth_date.year(), id.birth_date.month() as u8)
        {
            out.push(FieldProblem {
                field: FieldKey::BirthMonth,
                message: format!(
                    "出生年月 {y}年{m:02}月 与身份证号码中的出生日期 {}年{:02}月 不一致",
                    id.birth_date.year(),
                    id.birth_date.month() as u8
                ),
            });
        }
        if let Some(sex) = values.get(&FieldKey::Sex).and_then(FieldValue::text) {
            let expected = id.sex.label();
            let given = match sex {
                "男" | "男性" => Some(Sex::Male.label()),
                "女" | "女性" => Some(Sex::Female.label()),
                _ => None,
            };
            match given {
                None => out.push(FieldProblem {
                    field: FieldKey::Sex,
                    message: format!("性别“{sex}”请填写“男”或“女”"),
                }),
                Some(g) if g != expected => out.push(FieldProblem {
                    field: FieldKey::Sex,
                    message: format!("性别“{g}”与身份证号码（{expected}）不一致"),
                }),
                _ => {}
            }
        }
    }
    out
}

/// Where the recommender's category fixes the 推荐组别 (广西 填表说明5: 各设区市推荐对象统一勾选
/// “地市”), a different choice is refused with what it should be.
pub fn group_problem(category: &str, required: &str, values: &FormValues) -> Option<String> {
    let chosen = values
        .get(&FieldKey::Group)
        .and_then(FieldValue::text)
        .map(str::trim)
        .unwrap_or("");
    (!chosen.is_empty() && chosen != required)
        .then(|| format!("{category}推荐的候选人，推荐组别应选“{required}”，现为“{chosen}”"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_kept_as_the_standard_writes_them() {
        let mut v = FormValues::new();
        v.insert(
            FieldKey::IdNumber,
            FieldValue::Text(" 110105 19491231 002x".to_owned()),
        );
        normalize(&mut v);
        assert_eq!(
            v[&FieldKey::IdNumber],
            FieldValue::Text("11010519491231002X".to_owned())
        );
    }
    use crate::campaign::{SEEDS, load};

    #[test]
    fn printed_text() {
        let mut v = FormValues::new();
        v.insert(
            FieldKey::EmployerAndPost,
            FieldValue::Text(" 新疆农科院 ".into()),
        );
        v.insert(FieldKey::Title, FieldValue::Text("研究员".into()));
        v.insert(
            FieldKey::Field,
            FieldValue::List(vec![
                "面向世界科技前沿".into(),
                " ".into(),
                "面向人民生命健康".into(),
            ]),
        );
        v.insert(FieldKey::Academician, FieldValue::Flag(false));
        assert_eq!(
            printed(&v, FieldKey::Field),
            "面向世界科技前沿、面向人民生命健康"
        );
        assert_eq!(printed(&v, FieldKey::Academician), "否");
        assert_eq!(printed(&v, FieldKey::Name), "");
        assert_eq!(employer_and_title(&v), "新疆农科院，研究员");
        v.insert(
            FieldKey::EmployerAndPost,
            FieldValue::Text("东莞理工学院 教授".into()),
        );
        v.insert(FieldKey::Title, FieldValue::Text("教授".into()));
        assert_eq!(employer_and_title(&v), "东莞理工学院 教授");
        v.remove(&FieldKey::EmployerAndPost);
        assert_eq!(employer_and_title(&v), "教授");
    }

    #[test]
    fn counts_like_word() {
        assert_eq!(count_chars("主要事迹"), 4);
        // 2023 · 年 · 获 · 得 · IEEE · Fellow · 。
        assert_eq!(count_chars("2023年获得 IEEE Fellow。"), 7);
        assert_eq!(count_chars("  \n\t"), 0);
        assert_eq!(count_chars(&"科".repeat(1001)), 1001);
    }

    #[test]
    fn formats() {
        assert!(check_mobile("13800000000").is_ok());
        assert!(check_mobile("12800000000").unwrap_err().contains("11 位"));
        for ok in [
            "0771-2863980",
            "0991-6386020-801",
            "22119720",
            "07712863980",
        ] {
            assert!(check_office_phone(ok).is_ok(), "{ok}");
        }
        for bad in ["12345", "0771-28", "abc", "0771--2863980"] {
            assert!(check_office_phone(bad).is_err(), "{bad}");
        }
        assert!(check_postcode("530022").is_ok());
        assert!(check_postcode("53002").is_err());
        assert!(check_email("a@b.cn").is_ok());
        assert!(check_email("a@b").is_err());
        assert_eq!(parse_year_month("1980年05月"), Ok((1980, 5)));
        assert_eq!(parse_year_month("1980-5"), Ok((1980, 5)));
        assert_eq!(parse_year_month("1980年5月3日"), Ok((1980, 5)));
        assert!(
            parse_year_month("一九八〇年五月")
                .unwrap_err()
                .contains("阿拉伯数字")
        );
        assert!(parse_year_month("1980年13月").is_err());
        assert!(check_title("正高").unwrap_err().contains("不能只写“正高”"));
        assert!(check_title("研究员级高级工程师").is_ok());
    }

    fn guangxi() -> Campaign {
        load(SEEDS[0].1).campaign.unwrap()
    }

    fn text(s: &str) -> FieldValue {
        FieldValue::Text(s.to_owned())
    }

    #[test]
    fn every_problem_at_once() {
        let c = guangxi();
        let mut v = FormValues::new();
        v.insert(FieldKey::Name, text("张三"));
        v.insert(FieldKey::IdNumber, text("11010519491231002X"));
        v.insert(FieldKey::Sex, text("男"));
        v.insert(FieldKey::BirthMonth, text("1950年01月"));
        v.insert(FieldKey::Title, text("副高"));
        v.insert(FieldKey::Mobile, text("1380000"));
        v.insert(FieldKey::Group, text("文科"));
        v.insert(
            FieldKey::Stories,
            FieldValue::List(vec![
                "科".repeat(1032),
                "好".to_owned(),
                "第三个".to_owned(),
            ]),
        );
        let problems = check_submission(&c, &v);
        let msg = |k: FieldKey| -> Vec<String> {
            problems
                .iter()
                .filter(|p| p.field == k)
                .map(|p| p.message.clone())
                .collect()
        };
        assert!(msg(FieldKey::Sex)[0].contains("性别“男”与身份证号码（女）不一致"));
        assert!(
            msg(FieldKey::BirthMonth)[0].contains("与身份证号码中的出生日期 1949年12月 不一致")
        );
        assert!(msg(FieldKey::Title)[0].contains("副高"));
        assert!(msg(FieldKey::Mobile)[0].contains("1380000"));
        assert!(msg(FieldKey::Group)[0].contains("“文科”不在可选范围内"));
        let stories = msg(FieldKey::Stories);
        assert!(
            stories.contains(&"感人故事最多 2 个，现有 3 个".to_owned()),
            "{stories:?}"
        );
        assert!(
            stories.contains(&"感人故事（一）共 1032 字，超过 1000 字上限".to_owned()),
            "{stories:?}"
        );
        assert!(msg(FieldKey::Deeds).contains(&"请填写主要事迹".to_owned()));
        // Optional fields left empty are fine.
        assert!(msg(FieldKey::OfficePhone).is_empty());
        assert!(msg(FieldKey::Degree).is_empty());
    }

    #[test]
    fn a_category_fixes_the_group() {
        let mut v = FormValues::new();
        v.insert(FieldKey::Group, text("工科"));
        assert_eq!(
            group_problem("设区市", "地市", &v).unwrap(),
            "设区市推荐的候选人，推荐组别应选“地市”，现为“工科”"
        );
        v.insert(FieldKey::Group, text("地市"));
        assert_eq!(group_problem("设区市", "地市", &v), None);
    }

    #[test]
    fn yes_no_and_sex_take_their_two_answers() {
        let c = load(SEEDS[2].1).campaign.unwrap();
        let mut v = FormValues::new();
        v.insert(FieldKey::Academician, text("是的"));
        v.insert(FieldKey::Sex, text("未知"));
        let problems = check_submission(&c, &v);
        let words: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert!(
            words.contains(&"是否两院院士请选择“是”或“否”，现为“是的”"),
            "{words:?}"
        );
        assert!(
            words.contains(&"性别请选择“男”或“女”，现为“未知”"),
            "{words:?}"
        );
        v.insert(FieldKey::Academician, text("否"));
        let problems = check_submission(&c, &v);
        assert!(problems.iter().all(|p| p.field != FieldKey::Academician));
    }

    #[test]
    fn resume_rows() {
        let c = guangxi();
        let mut v = FormValues::new();
        v.insert(
            FieldKey::Resume,
            FieldValue::Rows(vec![
                ("2001.09-2005.07".into(), "广西大学 学习".into()),
                ("".into(), "没有日期".into()),
                ("二〇〇五年".into(), "广西科学院".into()),
            ]),
        );
        let p: Vec<String> = check_submission(&c, &v)
            .into_iter()
            .filter(|p| p.field == FieldKey::Resume)
            .map(|p| p.message)
            .collect();
        assert_eq!(
            p,
            [
                "学习工作经历第 2 行须同时填写起止年月和单位与工作",
                "学习工作经历第 3 行的日期请用阿拉伯数字"
            ]
        );
    }
}
