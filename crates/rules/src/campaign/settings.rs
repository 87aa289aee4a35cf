//! The values an organiser sets on the campaign page instead of in the file: each
//! level's deadline and every value `campaign check` warns the notice leaves open (the
//! day ages are counted on, the “青年” age limit, 公示 days, vote weights), named in the
//! notices' words. A change is written into the campaign file's text (comments and
//! layout kept, `toml_edit`) and the new text is checked as any file is: the file stays
//! the source of truth.

use time::{Date, OffsetDateTime};
use toml_edit::{DocumentMut, Item, Value};

use super::{Campaign, Indicator, Problem, Severity, StageKind, deadline_instant, load};

/// What kind of value a setting takes, and so its input on the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    /// A moment in Beijing time (`datetime-local`); 23:59 means the day's 24:00.
    Deadline,
    /// A calendar day.
    Date,
    /// A whole number within `1..=max`.
    Count { max: u32 },
    /// A share between 0 and 1.
    Weight,
    /// One of a closed set: (the file's word, its name on the form).
    Choice {
        options: &'static [(&'static str, &'static str)],
    },
}

/// The aggregation methods as a choice.
const AGGREGATIONS: &[(&str, &str)] = &[
    ("mean", "平均分"),
    ("trimmed_mean", "去掉一个最高分和一个最低分后的平均分"),
    ("z_score", "各专家评分标准化（z 分数）后的平均分"),
];

/// One value on the settings form.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The key path in the file, e.g. `levels[2].deadline`; also the form field's name.
    pub key: String,
    /// In the notice's words, e.g. “推荐单位提交截止时间”.
    pub label: String,
    pub hint: String,
    pub kind: SettingKind,
    /// As the form's input shows it; empty when unset.
    pub value: String,
    /// What `campaign check` says about it, when it warns.
    pub warning: Option<String>,
}

impl Setting {
    /// The HTML input type for the form.
    pub fn input_type(&self) -> &'static str {
        match self.kind {
            SettingKind::Deadline => "datetime-local",
            SettingKind::Date => "date",
            SettingKind::Count { .. } | SettingKind::Weight => "number",
            SettingKind::Choice { .. } => "select",
        }
    }

    /// The id of the setting's input, for links from warnings.
    pub fn anchor(&self) -> String {
        anchor(&self.key)
    }
}

/// `s-levels-2-deadline` for `levels[2].deadline`.
pub fn anchor(key: &str) -> String {
    let mut out = String::from("s-");
    for c in key.chars() {
        match c {
            '[' | '.' => out.push('-'),
            ']' => {}
            c => out.push(c),
        }
    }
    out
}

fn uses_young(c: &Campaign) -> bool {
    c.final_list
        .constraints
        .iter()
        .any(|x| x.indicator == Indicator::Young)
        || c.guidance
            .iter()
            .any(|g| g.indicators.contains(&Indicator::Young))
}

/// The settings of a campaign with their values, in the order the form shows them, and
/// the warnings of its check placed beside them.
pub fn settings(c: &Campaign, problems: &[Problem]) -> Vec<Setting> {
    let mut out = Vec::new();
    let warning = |key: &str| {
        problems
            .iter()
            .find(|p| p.severity == Severity::Warning && p.key == key)
            .map(|p| p.message.clone())
    };
    let no_deadline = problems
        .iter()
        .find(|p| p.severity == Severity::Warning && p.key == "levels")
        .map(|p| p.message.clone());
    for (i, l) in c.levels.iter().enumerate() {
        let key = format!("levels[{i}].deadline");
        out.push(Setting {
            label: format!("{}提交截止时间", l.name),
            hint: "北京时间；填 23:59 即当天 24 时前。未设的环节按上一级的截止时间执行".to_owned(),
            kind: SettingKind::Deadline,
            value: l
                .deadline
                .as_ref()
                .and_then(|d| deadline_instant(d).ok())
                .map(|t| typed_moment(t.unix_timestamp()))
                .unwrap_or_default(),
            // “No level has a deadline” sits beside the first level that could have one.
            warning: warning(&key).or_else(|| no_deadline.clone().filter(|_| i == 0)),
            key,
        });
    }
    let fl = &c.final_list;
    if uses_young(c) || fl.age_reference_date.is_some() || fl.young_max_age.is_some() {
        let key = "final.age_reference_date".to_owned();
        out.push(Setting {
            label: "年龄计算基准日".to_owned(),
            hint: "“45岁以下”“青年”等按这一天的周岁计算（“以下”含本数）".to_owned(),
            kind: SettingKind::Date,
            value: fl
                .age_reference_date
                .as_ref()
                .and_then(|d| d.date)
                .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
                .unwrap_or_default(),
            warning: warning(&key),
            key,
        });
        let key = "final.young_max_age".to_owned();
        out.push(Setting {
            label: "青年科技工作者年龄上限（周岁）".to_owned(),
            hint: "如 45 表示 45 周岁及以下".to_owned(),
            kind: SettingKind::Count { max: 100 },
            value: fl.young_max_age.map(|n| n.to_string()).unwrap_or_default(),
            warning: warning(&key),
            key,
        });
    }
    let p = &c.publicity;
    if p.unit_publicity {
        let key = "publicity.unit_working_days".to_owned();
        out.push(Setting {
            label: "推荐单位公示天数（工作日）".to_owned(),
            hint: "推荐单位和候选人所在单位公示的工作日数".to_owned(),
            kind: SettingKind::Count { max: 60 },
            value: p
                .unit_working_days
                .map(|n| n.to_string())
                .unwrap_or_default(),
            warning: warning(&key),
            key,
        });
    }
    if p.final_publicity {
        let key = "publicity.final_working_days".to_owned();
        out.push(Setting {
            label: "最终公示天数（工作日）".to_owned(),
            hint: "拟入选名单公示的工作日数，公示无异议后公布结果".to_owned(),
            kind: SettingKind::Count { max: 60 },
            value: p
                .final_working_days
                .map(|n| n.to_string())
                .unwrap_or_default(),
            warning: warning(&key),
            key,
        });
    }
    for (i, s) in c.stages.iter().enumerate() {
        stage_settings(s, i, &mut out, &warning);
        if s.kind != StageKind::Vote {
            continue;
        }
        for (j, g) in s.groups.iter().enumerate() {
            let key = format!("stages[{i}].groups[{j}].weight");
            out.push(Setting {
                label: format!("{}：{}权重", s.name, g.name),
                hint: "0 到 1 之间的小数，各投票组权重之和为 1".to_owned(),
                kind: SettingKind::Weight,
                value: g.weight.map(|w| w.to_string()).unwrap_or_default(),
                warning: warning(&key),
                key,
            });
            let key = format!("stages[{i}].groups[{j}].scaling");
            out.push(Setting {
                label: format!("{}：{}票数换算方式", s.name, g.name),
                hint: "两组票数换算到同一尺度后再按权重合并".to_owned(),
                kind: SettingKind::Choice { options: SCALINGS },
                value: g.scaling.map(|x| x.key().to_owned()).unwrap_or_default(),
                warning: warning(&key),
                key,
            });
        }
        vote_settings(s, i, &mut out, &warning);
    }
    out
}

/// How a vote group's count is scaled, as a choice.
const SCALINGS: &[(&str, &str)] = &[
    ("share", "占本组有效票总数的比例"),
    ("top", "相对本组最高票数的比例"),
];

/// What is done to 刷票, as a choice.
const SANCTIONS: &[(&str, &str)] = &[("invalidate", "相关选票作废"), ("zero", "该候选人票数清零")];

/// An online vote's window and per-voter limits (`[stages.vote]`); no notice gives them.
fn vote_settings(
    s: &super::Stage,
    i: usize,
    out: &mut Vec<Setting>,
    warning: &dyn Fn(&str) -> Option<String>,
) {
    let v = s.vote.clone().unwrap_or_default();
    let moment = |t: &Option<super::Deadline>| {
        t.as_ref()
            .and_then(|d| deadline_instant(d).ok())
            .map(|t| typed_moment(t.unix_timestamp()))
            .unwrap_or_default()
    };
    let count = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
    let rows: [(&str, &str, &str, SettingKind, String); 10] = [
        (
            "opens",
            "投票开始时间",
            "北京时间",
            SettingKind::Deadline,
            moment(&v.opens),
        ),
        (
            "closes",
            "投票截止时间",
            "北京时间；截止后活动办公室冻结结果",
            SettingKind::Deadline,
            moment(&v.closes),
        ),
        (
            "per_candidate_per_day",
            "每人每天可为每位候选人投票数",
            "如“每天仅可为每位候选人投一票”填 1；不限制时留空",
            SettingKind::Count { max: 1000 },
            count(v.per_candidate_per_day),
        ),
        (
            "per_candidate",
            "本轮每人可为每位候选人投票数",
            "整个投票期内；不限制时留空",
            SettingKind::Count { max: 1000 },
            count(v.per_candidate),
        ),
        (
            "per_day",
            "每人每天最多投票数",
            "所有候选人合计；不限制时留空",
            SettingKind::Count { max: 10_000 },
            count(v.per_day),
        ),
        (
            "candidates_per_day",
            "每人每天最多可为几位候选人投票",
            "如“最多可为10人投票”填 10；不限制时留空",
            SettingKind::Count { max: 10_000 },
            count(v.candidates_per_day),
        ),
        (
            "candidates",
            "本轮每人最多可为几位候选人投票",
            "整个投票期内；不限制时留空",
            SettingKind::Count { max: 10_000 },
            count(v.candidates),
        ),
        (
            "ballot_size",
            "专业组每位专家可选人数",
            "未设定时为本阶段晋级人数",
            SettingKind::Count { max: 10_000 },
            count(v.ballot_size),
        ),
        (
            "second_above",
            "可疑投票须两人确认的票数",
            "一次作废或清零超过此票数时，须由另一位组织者确认；不设定时一人即可",
            SettingKind::Count { max: 10_000_000 },
            count(v.second_above),
        ),
        (
            "sanction",
            "发现刷票后的处理",
            "在投票规则中向公众公布",
            SettingKind::Choice { options: SANCTIONS },
            v.sanction
                .map(|x| {
                    match x {
                        super::Sanction::Invalidate => "invalidate",
                        super::Sanction::Zero => "zero",
                    }
                    .to_owned()
                })
                .unwrap_or_default(),
        ),
    ];
    for (field, label, hint, kind, value) in rows {
        let key = format!("stages[{i}].vote.{field}");
        out.push(Setting {
            label: format!("{}：{label}", s.name),
            hint: hint.to_owned(),
            kind,
            value,
            warning: warning(&key),
            key,
        });
    }
}

/// A stage's values the notices leave open: how many advance, experts per candidate,
/// when sheets are due, full marks per criterion, how sheets combine.
fn stage_settings(
    s: &super::Stage,
    i: usize,
    out: &mut Vec<Setting>,
    warning: &dyn Fn(&str) -> Option<String>,
) {
    if s.kind == StageKind::UnitRound {
        return;
    }
    let mut push = |key: String, label: String, hint: &str, kind: SettingKind, value: String| {
        out.push(Setting {
            warning: warning(&key),
            key,
            label,
            hint: hint.to_owned(),
            kind,
            value,
        })
    };
    push(
        format!("stages[{i}].advance"),
        format!("{}：晋级人数", s.name),
        "本阶段结束时进入下一阶段的人数；最后一个阶段即最终评选人数",
        SettingKind::Count { max: 10_000 },
        s.advance.map(|n| n.to_string()).unwrap_or_default(),
    );
    if s.kind == StageKind::Review {
        push(
            format!("stages[{i}].reviewers"),
            format!("{}：每位候选人的评审专家人数", s.name),
            "按学科匹配自动分配，同一单位等利益冲突自动回避",
            SettingKind::Count { max: 50 },
            s.reviewers.map(|n| n.to_string()).unwrap_or_default(),
        );
    }
    if matches!(s.kind, StageKind::Review | StageKind::Screening) {
        push(
            format!("stages[{i}].deadline"),
            format!("{}：评审截止时间", s.name),
            "北京时间；截止前 3 天和 1 天提醒尚未完成的专家",
            SettingKind::Deadline,
            s.deadline
                .as_ref()
                .and_then(|d| deadline_instant(d).ok())
                .map(|t| typed_moment(t.unix_timestamp()))
                .unwrap_or_default(),
        );
    }
    if s.scored() {
        for c in &s.criteria {
            push(
                format!("stages[{i}].max_points.{c}"),
                format!("{}：“{c}”满分", s.name),
                "通知未规定分值；各项满分之和即总分",
                SettingKind::Count { max: 1000 },
                s.max_points
                    .get(c)
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
            );
        }
        push(
            format!("stages[{i}].aggregation"),
            format!("{}：评分汇总方法", s.name),
            "未设定时按平均分；专家人数多时可去掉最高分和最低分，或消除专家间宽严差异",
            SettingKind::Choice {
                options: AGGREGATIONS,
            },
            s.aggregation
                .map(|a| a.key().to_owned())
                .unwrap_or_default(),
        );
    }
}

/// A problem's key in words: the setting's label where it is one, else the part of
/// the campaign it concerns (“评选阶段“网络投票””), never a bare TOML key.
pub fn describe_key(c: &Campaign, key: &str) -> String {
    if key == "levels" {
        return "各级提交截止时间".to_owned();
    }
    if let Some(s) = settings(c, &[]).into_iter().find(|s| s.key == key) {
        return s.label;
    }
    let index = |prefix: &str| -> Option<usize> {
        key.strip_prefix(prefix)?.split(']').next()?.parse().ok()
    };
    if let Some(l) = index("levels[").and_then(|i| c.levels.get(i)) {
        return format!("申报链条“{}”", l.name);
    }
    if let Some(s) = index("stages[").and_then(|i| c.stages.get(i)) {
        return format!("评选阶段“{}”", s.name);
    }
    if let Some(m) = index("materials[").and_then(|i| c.materials.get(i)) {
        return format!("材料“{}”", m.name);
    }
    let section = key.split(['.', '[']).next().unwrap_or(key);
    match section {
        "final" => "最终名单".to_owned(),
        "publicity" => "公示".to_owned(),
        "paper" => "纸质材料".to_owned(),
        "form" => "推荐表".to_owned(),
        "eligibility" => "申报条件".to_owned(),
        "recommender_categories" => "推荐渠道与名额".to_owned(),
        "entry" => "申报方式".to_owned(),
        "campaign" => "活动信息".to_owned(),
        _ => key.to_owned(),
    }
}

/// One setting changed, for the audit entry and the page's notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub key: String,
    pub label: String,
    pub from: String,
    pub to: String,
}

/// A refused change, beside its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The setting's key, or empty for a problem of the whole file.
    pub key: String,
    pub message: String,
}

/// Writes the typed values into the campaign file's text and checks the result. Only
/// the campaign's settings may be changed this way; an empty value unsets it. Returns
/// the new text and what changed (nothing when every value is as before), or every
/// problem by field.
pub fn apply(
    text: &str,
    typed: &[(String, String)],
) -> Result<(String, Vec<Change>), Vec<Refusal>> {
    let report = load(text);
    let Some(campaign) = report.campaign else {
        return Err(vec![Refusal {
            key: String::new(),
            message: "活动配置文件本身有错误，请先在配置文件中改正".to_owned(),
        }]);
    };
    let known = settings(&campaign, &[]);
    let mut doc: DocumentMut = text.parse().map_err(|_| {
        vec![Refusal {
            key: String::new(),
            message: "活动配置文件无法读取".to_owned(),
        }]
    })?;
    let mut refusals = Vec::new();
    let mut changes = Vec::new();
    for (key, value) in typed {
        let Some(setting) = known.iter().find(|s| &s.key == key) else {
            refusals.push(Refusal {
                key: key.clone(),
                message: "这一项不能在此设定".to_owned(),
            });
            continue;
        };
        let value = value.trim();
        if value == setting.value {
            continue;
        }
        let parsed = if value.is_empty() {
            None
        } else {
            match parse(setting.kind, value) {
                Ok(v) => Some(v),
                Err(message) => {
                    refusals.push(Refusal {
                        key: key.clone(),
                        message: format!("{}：{message}", setting.label),
                    });
                    continue;
                }
            }
        };
        set(doc.as_item_mut(), &segments(key), parsed);
        changes.push(Change {
            key: key.clone(),
            label: setting.label.clone(),
            from: shown(setting.kind, &setting.value),
            to: shown(setting.kind, value),
        });
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }
    let new_text = doc.to_string();
    let report = load(&new_text);
    let errors: Vec<Refusal> = report
        .errors()
        .map(|p| Refusal {
            key: if known.iter().any(|s| s.key == p.key) {
                p.key.clone()
            } else {
                String::new()
            },
            message: format!("{}：{}", describe_key(&campaign, &p.key), p.message),
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((new_text, changes))
}

/// A setting's value in words for the audit trail: “未设定” or what was typed, a
/// deadline as the pages write it.
fn shown(kind: SettingKind, typed: &str) -> String {
    if typed.is_empty() {
        return "未设定".to_owned();
    }
    match (kind, parse_moment(typed)) {
        (SettingKind::Deadline, Some(t)) => crate::deadline::format_beijing(t),
        (SettingKind::Choice { options }, _) => options
            .iter()
            .find(|(key, _)| *key == typed)
            .map_or_else(|| typed.to_owned(), |(_, name)| (*name).to_owned()),
        _ => typed.to_owned(),
    }
}

/// A moment as a `datetime-local` input shows it, in Beijing time.
fn typed_moment(unix: i64) -> String {
    crate::deadline::format_time(unix).replacen(' ', "T", 1)
}

/// `2027-02-03T23:59` or `2027-02-03 23:59`, Beijing time; 23:59 is the day's last
/// second, as the notices' “24时前”.
fn parse_moment(typed: &str) -> Option<i64> {
    let (date, clock) = typed.trim().split_once(['T', ' '])?;
    let date = parse_date(date)?;
    let (h, m) = clock.split_once(':')?;
    let (h, m): (u8, u8) = (h.parse().ok()?, m.get(..2)?.parse().ok()?);
    let s = if (h, m) == (23, 59) { 59 } else { 0 };
    let t = date
        .with_hms(h, m, s)
        .ok()?
        .assume_offset(crate::deadline::BEIJING);
    Some(t.unix_timestamp())
}

fn parse_date(typed: &str) -> Option<Date> {
    let mut parts = typed.trim().split('-');
    let y: i32 = parts.next()?.parse().ok()?;
    let m: u8 = parts.next()?.parse().ok()?;
    let d: u8 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()
}

fn parse(kind: SettingKind, typed: &str) -> Result<Value, String> {
    match kind {
        SettingKind::Deadline => {
            let t = parse_moment(typed)
                .ok_or_else(|| format!("“{typed}”不是有效的时间，请写成 2027-02-03 23:59"))?;
            let t = OffsetDateTime::from_unix_timestamp(t)
                .map_err(|e| e.to_string())?
                .to_offset(crate::deadline::BEIJING);
            let text = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+08:00",
                t.year(),
                t.month() as u8,
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            );
            Ok(Value::from(
                text.parse::<toml_edit::Datetime>()
                    .map_err(|e| e.to_string())?,
            ))
        }
        SettingKind::Date => {
            let d = parse_date(typed)
                .ok_or_else(|| format!("“{typed}”不是有效的日期，请写成 2024-12-31"))?;
            let text = format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day());
            Ok(Value::from(
                text.parse::<toml_edit::Datetime>()
                    .map_err(|e| e.to_string())?,
            ))
        }
        SettingKind::Count { max } => match typed.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(Value::from(i64::from(n))),
            Ok(n) => Err(format!("{n} 不在 1 到 {max} 之间")),
            Err(_) => Err(format!("“{typed}”不是整数")),
        },
        SettingKind::Choice { options } => options
            .iter()
            .find(|(key, name)| *key == typed || *name == typed)
            .map(|(key, _)| Value::from(*key))
            .ok_or_else(|| {
                let names: Vec<&str> = options.iter().map(|(_, n)| *n).collect();
                format!("“{typed}”不是可选的一项（{}）", names.join("、"))
            }),
        SettingKind::Weight => match typed.parse::<f64>() {
            Ok(w) if (0.0..=1.0).contains(&w) => Ok(Value::from(w)),
            Ok(w) => Err(format!("{w} 不在 0 到 1 之间")),
            Err(_) => Err(format!("“{typed}”不是数字，请写成 0.6 这样的小数")),
        },
    }
}

enum Seg {
    Key(String),
    Index(usize),
}

/// `levels[2].deadline` → levels, 2, deadline.
fn segments(key: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in key.split('.') {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            out.push(Seg::Key(rest[..open].to_owned()));
            rest = &rest[open..];
            while let Some(r) = rest.strip_prefix('[') {
                let close = r.find(']').unwrap_or(r.len());
                if let Ok(i) = r[..close].parse() {
                    out.push(Seg::Index(i));
                }
                rest = r.get(close + 1..).unwrap_or("");
            }
        } else {
            out.push(Seg::Key(rest.to_owned()));
        }
    }
    out
}

/// Sets (or with `None` removes) the value at `path`, creating a missing table on the
/// way (e.g. `[publicity]` without the key yet).
fn set(item: &mut Item, path: &[Seg], value: Option<Value>) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match first {
        Seg::Key(k) => {
            let Some(table) = item.as_table_like_mut() else {
                return;
            };
            if rest.is_empty() {
                match value {
                    Some(v) => {
                        table.insert(k, Item::Value(v));
                    }
                    None => {
                        table.remove(k);
                    }
                }
                return;
            }
            if table.get(k).is_none() {
                if value.is_none() {
                    return;
                }
                table.insert(k, Item::Table(toml_edit::Table::new()));
            }
            if let Some(next) = table.get_mut(k) {
                set(next, rest, value);
            }
        }
        Seg::Index(i) => {
            if let Some(array) = item.as_array_of_tables_mut() {
                if let Some(t) = array.get_mut(*i) {
                    let mut inner = Item::Table(std::mem::take(t));
                    set(&mut inner, rest, value);
                    if let Item::Table(back) = inner {
                        *t = back;
                    }
                }
            } else if let Some(array) = item.as_array_mut()
                && let Some(Value::InlineTable(t)) = array.get_mut(*i)
            {
                let mut inner = Item::Value(Value::InlineTable(std::mem::take(t)));
                set(&mut inner, rest, value);
                if let Item::Value(Value::InlineTable(back)) = inner {
                    *t = back;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::SEEDS;

    fn seed(name: &str) -> &'static str {
        SEEDS.iter().find(|(n, _)| n.starts_with(name)).unwrap().1
    }

    /// A stage's open values on the form beside their warnings; set, they land in the
    /// stage's table and the warnings go.
    #[test]
    fn stage_values_are_set_on_the_form() {
        let text = seed("xinjiang");
        let report = load(text);
        let c = report.campaign.clone().unwrap();
        let s = settings(&c, &report.problems);
        let find = |key: &str| s.iter().find(|x| x.key == key).unwrap().clone();
        let advance = find("stages[1].advance");
        assert_eq!(advance.label, "网上评选：晋级人数");
        assert_eq!(
            advance.warning.as_deref(),
            Some("通知未规定“网上评选”的晋级人数，请活动办公室在该阶段开始前设定")
        );
        let points = find("stages[1].max_points.工作实绩");
        assert_eq!(points.label, "网上评选：“工作实绩”满分");
        assert!(points.warning.is_some());
        assert_eq!(find("stages[1].aggregation").input_type(), "select");
        let typed: Vec<(String, String)> = [
            ("stages[1].advance", "40"),
            ("stages[1].reviewers", "3"),
            ("stages[1].max_points.思想品质", "30"),
            ("stages[1].max_points.精神风貌", "30"),
            ("stages[1].max_points.工作实绩", "40"),
            ("stages[1].aggregation", "trimmed_mean"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let (new_text, changes) = apply(text, &typed).unwrap();
        assert_eq!(changes.len(), 6);
        let aggregation = changes
            .iter()
            .find(|c| c.key.ends_with("aggregation"))
            .unwrap();
        assert_eq!(aggregation.to, "去掉一个最高分和一个最低分后的平均分");
        let report = load(&new_text);
        let c = report.campaign.clone().unwrap();
        let stage = &c.stages[1];
        assert_eq!(stage.points(), Some(vec![30, 30, 40]));
        assert_eq!(stage.aggregation(), super::super::Aggregation::TrimmedMean);
        assert_eq!((stage.advance, stage.reviewers), (Some(40), Some(3)));
        assert!(
            !report
                .problems
                .iter()
                .any(|p| p.key.starts_with("stages[1]")),
            "{:?}",
            report.problems
        );
        // A choice outside the list, and points of 0, are refused by field.
        let bad: Vec<(String, String)> = vec![
            ("stages[1].aggregation".to_owned(), "median".to_owned()),
            ("stages[1].max_points.工作实绩".to_owned(), "0".to_owned()),
        ];
        let refusals = apply(text, &bad).unwrap_err();
        assert_eq!(refusals.len(), 2, "{refusals:?}");
        assert!(
            refusals[0].message.contains("不是可选的一项"),
            "{refusals:?}"
        );
    }

    #[test]
    fn xinjiang_asks_for_its_deadlines_and_age_date() {
        let report = load(seed("xinjiang"));
        let c = report.campaign.clone().unwrap();
        let s = settings(&c, &report.problems);
        let first = &s[0];
        assert_eq!(first.key, "levels[0].deadline");
        assert_eq!(first.value, "");
        assert_eq!(
            first.warning.as_deref(),
            Some("通知未规定任何一级的截止时间，请活动办公室设定")
        );
        let age = s
            .iter()
            .find(|x| x.key == "final.age_reference_date")
            .unwrap();
        assert_eq!(age.label, "年龄计算基准日");
        assert!(age.warning.is_some());
        assert_eq!(age.anchor(), "s-final-age_reference_date");
        assert_eq!(
            describe_key(&c, "final.age_reference_date"),
            "年龄计算基准日"
        );
        assert_eq!(describe_key(&c, "levels"), "各级提交截止时间");
    }

    #[test]
    fn set_values_land_in_the_file_and_check_clean() {
        let text = seed("xinjiang");
        let recommender = load(text)
            .campaign
            .unwrap()
            .levels
            .iter()
            .position(|l| l.role == crate::Role::Recommender)
            .unwrap();
        let key = format!("levels[{recommender}].deadline");
        let typed = vec![
            (key.clone(), "2027-02-03T23:59".to_owned()),
            (
                "final.age_reference_date".to_owned(),
                "2026-12-31".to_owned(),
            ),
            ("publicity.unit_working_days".to_owned(), "5".to_owned()),
        ];
        let (new_text, changes) = apply(text, &typed).unwrap();
        assert_eq!(changes.len(), 3);
        assert_eq!(changes[0].from, "未设定");
        assert_eq!(changes[0].to, "2027年2月3日 24:00");
        let report = load(&new_text);
        let c = report.campaign.unwrap();
        let d = c.levels[recommender].deadline.as_ref().unwrap();
        assert_eq!(d.to_string(), "2027-02-03T23:59:59+08:00");
        assert_eq!(
            c.final_list.age_reference_date.unwrap().to_string(),
            "2026-12-31"
        );
        assert_eq!(c.publicity.unit_working_days, Some(5));
        assert!(
            !report
                .problems
                .iter()
                .any(|p| p.key == "final.age_reference_date" || p.key == "levels"),
            "the warnings are gone"
        );
        // Comments and the rest of the file are kept.
        let comments = |t: &str| {
            t.lines()
                .filter(|l| l.trim_start().starts_with('#'))
                .count()
        };
        assert_eq!(comments(&new_text), comments(text));
        // The same values again change nothing.
        let (_, again) = apply(&new_text, &typed).unwrap();
        assert!(again.is_empty(), "{again:?}");
        // An empty value unsets.
        let (unset, changes) = apply(
            &new_text,
            &[("publicity.unit_working_days".to_owned(), String::new())],
        )
        .unwrap();
        assert_eq!(changes[0].to, "未设定");
        assert_eq!(
            load(&unset).campaign.unwrap().publicity.unit_working_days,
            None
        );
    }

    #[test]
    fn bad_values_are_refused_beside_their_field() {
        let text = seed("dongguan");
        let typed = vec![
            (
                "final.age_reference_date".to_owned(),
                "2024-02-30".to_owned(),
            ),
            ("final.young_max_age".to_owned(), "四十五".to_owned()),
            ("stages[1].groups[0].weight".to_owned(), "1.5".to_owned()),
            ("campaign.winners".to_owned(), "30".to_owned()),
        ];
        let refusals = apply(text, &typed).unwrap_err();
        let said: Vec<(&str, &str)> = refusals
            .iter()
            .map(|r| (r.key.as_str(), r.message.as_str()))
            .collect();
        assert_eq!(
            said,
            [
                (
                    "final.age_reference_date",
                    "年龄计算基准日：“2024-02-30”不是有效的日期，请写成 2024-12-31"
                ),
                (
                    "final.young_max_age",
                    "青年科技工作者年龄上限（周岁）：“四十五”不是整数"
                ),
                (
                    "stages[1].groups[0].weight",
                    "网络投票：公众组权重：1.5 不在 0 到 1 之间"
                ),
                ("campaign.winners", "这一项不能在此设定"),
            ]
        );
        // Weights that do not add up to 1 are refused by the file's own check.
        let refusals = apply(
            text,
            &[
                ("stages[1].groups[0].weight".to_owned(), "0.6".to_owned()),
                ("stages[1].groups[1].weight".to_owned(), "0.6".to_owned()),
            ],
        )
        .unwrap_err();
        assert!(
            refusals[0]
                .message
                .contains("各投票组权重之和为 1.2，应为 1"),
            "{refusals:?}"
        );
    }
}
