//! Semantic checks of a decoded campaign: consistency between sections, and warnings
//! for values the notice leaves to the organiser.

use std::collections::HashSet;

use time::OffsetDateTime;

use super::model::*;
use super::problem::{Seg, Severity};
use crate::role::Role;

pub(crate) type Finding = (Severity, Vec<Seg>, String);

struct Findings(Vec<Finding>);

impl Findings {
    fn error(&mut self, path: Vec<Seg>, msg: impl Into<String>) {
        self.0.push((Severity::Error, path, msg.into()));
    }
    fn warn(&mut self, path: Vec<Seg>, msg: impl Into<String>) {
        self.0.push((Severity::Warning, path, msg.into()));
    }
}

fn k(s: &str) -> Seg {
    Seg::Key(s.to_owned())
}

fn at(list: &str, i: usize, key: &str) -> Vec<Seg> {
    vec![k(list), Seg::Index(i), k(key)]
}

/// Converts a TOML datetime into an instant; it must carry a date, a time and an offset.
pub fn deadline_instant(d: &Deadline) -> Result<OffsetDateTime, String> {
    let (Some(date), Some(t), Some(offset)) = (d.date, d.time, d.offset) else {
        return Err(format!(
            "时间 {d} 须写成完整的日期、时刻和时区，例如 2024-03-26T23:59:59+08:00"
        ));
    };
    let minutes = match offset {
        toml::value::Offset::Z => 0i32,
        toml::value::Offset::Custom { minutes } => i32::from(minutes),
    };
    let month = time::Month::try_from(date.month).map_err(|e| e.to_string())?;
    let date = time::Date::from_calendar_date(i32::from(date.year), month, date.day)
        .map_err(|_| format!("日期 {d} 不存在"))?;
    let clock = time::Time::from_hms(t.hour, t.minute, t.second.unwrap_or(0))
        .map_err(|_| format!("时刻 {d} 无效"))?;
    let offset = time::UtcOffset::from_whole_seconds(minutes * 60).map_err(|e| e.to_string())?;
    Ok(date.with_time(clock).assume_offset(offset))
}

/// Parses a size such as "2MB", "500KB" or "1GB" into bytes (binary units).
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_uppercase();
    let (num, mult) = if let Some(n) = t.strip_suffix("GB") {
        (n, 1u64 << 30)
    } else if let Some(n) = t.strip_suffix("MB") {
        (n, 1 << 20)
    } else if let Some(n) = t.strip_suffix("KB") {
        (n, 1 << 10)
    } else if let Some(n) = t.strip_suffix('B') {
        (n, 1)
    } else {
        return None;
    };
    let n: f64 = num.trim().parse().ok()?;
    (n.is_finite() && n > 0.0).then(|| (n * mult as f64).round() as u64)
}

/// Parses "1920x1080" into (width, height).
pub fn parse_resolution(s: &str) -> Option<(u32, u32)> {
    let (w, h) = s.split_once(['x', 'X', '×', '*'])?;
    Some((w.trim().parse().ok()?, h.trim().parse().ok()?))
}

fn unique_keys<'a>(
    f: &mut Findings,
    list: &str,
    keys: impl Iterator<Item = &'a str>,
    what: &str,
) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    for (i, key) in keys.enumerate() {
        if key.trim().is_empty() {
            f.error(at(list, i, "key"), format!("{what}的 key 不能为空"));
        } else if !seen.insert(key) {
            f.error(at(list, i, "key"), format!("{what} key `{key}` 重复"));
        }
    }
    seen
}

pub(crate) fn check(c: &Campaign) -> Vec<Finding> {
    let mut f = Findings(Vec::new());
    check_meta(c, &mut f);
    check_levels(c, &mut f);
    check_categories(c, &mut f);
    check_form(c, &mut f);
    check_materials(c, &mut f);
    check_eligibility(c, &mut f);
    check_stages(c, &mut f);
    check_final(c, &mut f);
    check_publicity(c, &mut f);
    check_conflicts(c, &mut f);
    f.0
}

fn check_conflicts(c: &Campaign, f: &mut Findings) {
    for (short, full) in &c.conflicts.aliases {
        let path = vec![k("conflicts"), k("aliases"), k(short)];
        if short.trim().is_empty() || full.trim().is_empty() {
            f.error(path, "简称和全称都不能为空");
        } else if short.trim() == full.trim() {
            f.error(path, format!("简称“{short}”与全称相同"));
        }
    }
}

fn check_meta(c: &Campaign, f: &mut Findings) {
    let m = &c.campaign;
    let id_ok = !m.id.is_empty()
        && m.id
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
    if !id_ok {
        f.error(
            vec![k("campaign"), k("id")],
            format!("活动标识 `{}` 只能由小写字母、数字和连字符组成", m.id),
        );
    }
    if !(2000..=2100).contains(&m.year) {
        f.error(
            vec![k("campaign"), k("year")],
            format!("年度 {} 不在 2000–2100 之间", m.year),
        );
    }
    if m.number_prefix.is_empty() || !m.number_prefix.chars().all(|ch| ch.is_ascii_uppercase()) {
        f.error(
            vec![k("campaign"), k("number_prefix")],
            format!("申请书编号前缀 `{}` 须为大写英文字母", m.number_prefix),
        );
    }
    if m.winners == 0 {
        f.error(vec![k("campaign"), k("winners")], "最终评选人数须大于 0");
    }
    if m.organizers.is_empty() {
        f.error(vec![k("campaign"), k("organizers")], "至少列出一个主办单位");
    }
}

fn check_levels(c: &Campaign, f: &mut Findings) {
    let levels = &c.levels;
    if levels.len() < 2 {
        f.error(
            vec![k("levels")],
            "申报链条至少需要两级（申报人和活动办公室）",
        );
        return;
    }
    unique_keys(f, "levels", levels.iter().map(|l| l.key.as_str()), "层级");
    if levels[0].role != Role::Applicant {
        f.error(at("levels", 0, "role"), "第一级必须是申报人（applicant）");
    }
    let last = levels.len() - 1;
    if levels[last].role != Role::Organizer {
        f.error(
            at("levels", last, "role"),
            "最后一级必须是活动办公室（organizer）",
        );
    }
    for (i, l) in levels.iter().enumerate().take(last).skip(1) {
        if !matches!(l.role, Role::WorkUnit | Role::Recommender) {
            f.error(
                at("levels", i, "role"),
                format!(
                    "中间层级只能是所在单位（work_unit）或推荐单位（recommender），不能是 {}",
                    l.role.as_str()
                ),
            );
        }
    }
    if levels
        .iter()
        .filter(|l| l.role == Role::Recommender)
        .count()
        != 1
    {
        f.error(
            vec![k("levels")],
            "链条中须有且只有一级推荐单位（recommender）",
        );
    }
    let mut previous: Option<(usize, OffsetDateTime)> = None;
    for (i, l) in levels.iter().enumerate() {
        if l.merge_with_next_when_same_unit
            && !(l.role == Role::WorkUnit
                && levels.get(i + 1).map(|n| n.role) == Some(Role::Recommender))
        {
            f.error(
                at("levels", i, "merge_with_next_when_same_unit"),
                "只有紧接在推荐单位之前的所在单位一级可以与推荐单位合并",
            );
        }
        if l.role != Role::Applicant && l.role != Role::Organizer && l.opinion.is_none() {
            f.warn(
                at("levels", i, "opinion"),
                format!("{}未设意见栏（如“{}意见”）", l.name, l.name),
            );
        }
        if let Some(d) = &l.deadline {
            match deadline_instant(d) {
                Err(e) => f.error(at("levels", i, "deadline"), e),
                Ok(t) => {
                    if let Some((j, p)) = previous
                        && t < p
                    {
                        f.error(
                            at("levels", i, "deadline"),
                            format!("截止时间早于上一级（{}）的截止时间", levels[j].name),
                        );
                    }
                    previous = Some((i, t));
                }
            }
        }
    }
    if levels.iter().all(|l| l.deadline.is_none()) {
        f.warn(
            vec![k("levels")],
            "通知未规定任何一级的截止时间，请活动办公室设定",
        );
    }
}

fn check_categories(c: &Campaign, f: &mut Findings) {
    let cats = &c.recommender_categories;
    if cats.is_empty() {
        f.error(
            vec![k("recommender_categories")],
            "至少需要一个推荐单位类别",
        );
        return;
    }
    unique_keys(
        f,
        "recommender_categories",
        cats.iter().map(|c| c.key.as_str()),
        "推荐单位类别",
    );
    let groups = c
        .form
        .fields
        .iter()
        .find(|x| x.key == FieldKey::Group)
        .map(|x| x.choices.as_slice())
        .unwrap_or(&[]);
    for (i, cat) in cats.iter().enumerate() {
        if let (Some(lo), Some(hi)) = (cat.quota_min, cat.quota_max)
            && lo > hi
        {
            f.error(
                at("recommender_categories", i, "quota_min"),
                format!("名额下限 {lo} 大于上限 {hi}"),
            );
        }
        if cat.quota_max == Some(0) {
            f.error(
                at("recommender_categories", i, "quota_max"),
                "名额上限为 0，该类别无法推荐任何人",
            );
        }
        if c.entry.mode == EntryMode::RecommendationCode && cat.quota_max.is_none() {
            f.error(
                at("recommender_categories", i, "quota_max"),
                "按推荐码申报时，每个类别都须有名额上限（推荐码按名额发放）",
            );
        }
        if let Some(g) = &cat.group
            && !groups.iter().any(|x| x == g)
        {
            f.error(
                at("recommender_categories", i, "group"),
                format!("推荐组别 `{g}` 不在表单的推荐组别选项中"),
            );
        }
    }
}

fn check_form(c: &Campaign, f: &mut Findings) {
    let fields = &c.form.fields;
    let mut seen = HashSet::new();
    for (i, x) in fields.iter().enumerate() {
        let p = |key: &str| at_form(i, key);
        if !seen.insert(x.key) {
            f.error(p("key"), format!("表单字段 `{:?}` 重复", x.key));
        }
        if x.key == FieldKey::Eligibility {
            f.error(
                p("key"),
                "eligibility 不是表单字段：资格问题由 [eligibility] 一节生成".to_owned(),
            );
        }
        if x.key.is_choice() && x.choices.is_empty() {
            f.error(p("choices"), format!("{}须列出可选项", x.label));
        }
        if !x.key.is_choice() && !x.choices.is_empty() {
            f.error(
                p("choices"),
                format!("{}不是选择项，不能设 choices", x.label),
            );
        }
        if (x.max_chars.is_some() || x.about_chars.is_some()) && !x.key.is_text() {
            f.error(p("max_chars"), format!("{}不是长文本，不能设字数", x.label));
        }
        if let (Some(a), Some(m)) = (x.about_chars, x.max_chars)
            && a > m
        {
            f.error(p("about_chars"), format!("建议字数 {a} 超过上限 {m}"));
        }
        if (x.min_items.is_some() || x.max_items.is_some()) && !x.key.is_repeatable() {
            f.error(p("min_items"), format!("{}不能分多项填写", x.label));
        }
        if let (Some(lo), Some(hi)) = (x.min_items, x.max_items)
            && lo > hi
        {
            f.error(p("min_items"), format!("项数下限 {lo} 大于上限 {hi}"));
        }
    }
    for needed in [FieldKey::Name, FieldKey::IdNumber] {
        if !fields.iter().any(|x| x.key == needed && x.required) {
            f.error(
                vec![k("form"), k("fields")],
                format!("表单必须包含必填字段 {needed:?}"),
            );
        }
    }
}

fn at_form(i: usize, key: &str) -> Vec<Seg> {
    vec![k("form"), k("fields"), Seg::Index(i), k(key)]
}

fn check_materials(c: &Campaign, f: &mut Findings) {
    unique_keys(
        f,
        "materials",
        c.materials.iter().map(|m| m.key.as_str()),
        "材料",
    );
    for (i, m) in c.materials.iter().enumerate() {
        if !c.levels.iter().any(|l| l.key == m.level) {
            f.error(
                at("materials", i, "level"),
                format!("层级 `{}` 不在 [[levels]] 中", m.level),
            );
        }
        let allowed: &[&str] = match m.kind {
            MaterialKind::IdPhoto | MaterialKind::Photo => &["jpg", "png"],
            MaterialKind::Video => &["mp4", "mov"],
            MaterialKind::Pdf => &["pdf"],
            MaterialKind::Document => &["pdf", "jpg", "png"],
            MaterialKind::Supplement => &["jpg", "png", "pdf", "mp4", "mov"],
        };
        if (m.kind == MaterialKind::Supplement) != m.attached_to.is_some() {
            f.error(
                at("materials", i, "attached_to"),
                "补充材料（supplement）须写明 attached_to（所附的文字栏目），其他材料不能写",
            );
        }
        if let Some(field) = m.attached_to
            && !c.form.fields.iter().any(|x| x.key == field)
        {
            f.error(
                at("materials", i, "attached_to"),
                format!("所附栏目 {field:?} 不在表单中"),
            );
        }
        for fmt in &m.formats {
            if !allowed.contains(&fmt.as_str()) {
                f.error(
                    at("materials", i, "formats"),
                    format!(
                        "格式 `{fmt}` 不适用于此类材料，可用：{}",
                        allowed.join("、")
                    ),
                );
            }
        }
        if let (Some(lo), Some(hi)) = (m.min_count, m.max_count)
            && lo > hi
        {
            f.error(
                at("materials", i, "min_count"),
                format!("数量下限 {lo} 大于上限 {hi}"),
            );
        }
        if m.sender.as_deref().is_some_and(|l| l.trim().is_empty()) {
            f.error(
                at("materials", i, "sender"),
                "sender 是上传时询问来文单位的标签，如“来文单位”，不能为空",
            );
        }
        if m.required && m.min_count == Some(0) {
            f.error(
                at("materials", i, "min_count"),
                "必交材料的数量下限不能为 0",
            );
        }
        for (key, v) in [("min_size", &m.min_size), ("max_size", &m.max_size)] {
            if let Some(s) = v
                && parse_size(s).is_none()
            {
                f.error(
                    at("materials", i, key),
                    format!("大小 `{s}` 无法识别，请写成 2MB、500KB 这样的形式"),
                );
            }
        }
        if let (Some(lo), Some(hi)) = (
            m.min_size.as_deref().and_then(parse_size),
            m.max_size.as_deref().and_then(parse_size),
        ) && lo > hi
        {
            f.error(at("materials", i, "min_size"), "大小下限超过上限");
        }
        if !matches!(m.kind, MaterialKind::Video | MaterialKind::Supplement)
            && (m.max_duration_secs.is_some() || !m.resolutions.is_empty())
        {
            f.error(
                at("materials", i, "max_duration_secs"),
                "只有视频可以设时长和分辨率",
            );
        }
        for r in &m.resolutions {
            if parse_resolution(r).is_none() {
                f.error(
                    at("materials", i, "resolutions"),
                    format!("分辨率 `{r}` 无法识别，请写成 1920x1080"),
                );
            }
        }
    }
}

fn check_eligibility(c: &Campaign, f: &mut Findings) {
    let e = &c.eligibility;
    let mut seen = HashSet::new();
    for (list, rules) in [
        ("exclusions", &e.exclusions),
        ("prior_titles", &e.prior_titles),
    ] {
        for (i, r) in rules.iter().enumerate() {
            if !seen.insert(r.key.as_str()) {
                f.error(
                    vec![k("eligibility"), k(list), Seg::Index(i), k("key")],
                    format!("资格条件 key `{}` 重复", r.key),
                );
            }
            if r.register && r.strictness == Strictness::InPrinciple {
                f.error(
                    vec![k("eligibility"), k(list), Seg::Index(i), k("strictness")],
                    "按往届名单核对的条件不设例外，不能是“原则上”",
                );
            }
        }
    }
}

fn check_stages(c: &Campaign, f: &mut Findings) {
    if c.stages.is_empty() {
        f.error(vec![k("stages")], "至少需要一个评选阶段");
        return;
    }
    unique_keys(f, "stages", c.stages.iter().map(|s| s.key.as_str()), "阶段");
    let mut last: Option<u32> = None;
    for (i, s) in c.stages.iter().enumerate() {
        if let Some(n) = s.advance {
            if let Some(prev) = last
                && n >= prev
            {
                f.error(
                    at("stages", i, "advance"),
                    format!("晋级人数 {n} 不少于上一阶段的 {prev}"),
                );
            }
            last = Some(n);
        }
        if s.kind == StageKind::Vote {
            if s.groups.is_empty() {
                f.error(at("stages", i, "groups"), "网络投票须设投票组");
            }
            for (j, g) in s.groups.iter().enumerate() {
                let path = vec![k("stages"), Seg::Index(i), k("groups"), Seg::Index(j)];
                if !matches!(g.role, Role::Voter | Role::Expert) {
                    f.error(
                        [path.clone(), vec![k("role")]].concat(),
                        "投票组的角色只能是 voter（公众）或 expert（专家）",
                    );
                }
                match g.weight {
                    None => f.warn(
                        [path, vec![k("weight")]].concat(),
                        format!("通知未规定{}的权重，请活动办公室设定", g.name),
                    ),
                    Some(w) if !(0.0..=1.0).contains(&w) => f.error(
                        [path, vec![k("weight")]].concat(),
                        format!("权重 {w} 须在 0 到 1 之间"),
                    ),
                    Some(_) => {}
                }
            }
            let weights: Option<Vec<f64>> = s.groups.iter().map(|g| g.weight).collect();
            if let Some(w) = weights {
                let sum: f64 = w.iter().sum();
                if !w.is_empty() && (sum - 1.0).abs() > 1e-9 {
                    f.error(
                        at("stages", i, "groups"),
                        format!("各投票组权重之和为 {sum}，应为 1"),
                    );
                }
            }
            for (j, g) in s.groups.iter().enumerate() {
                if g.scaling.is_none() && s.groups.len() > 1 {
                    f.warn(
                        vec![
                            k("stages"),
                            Seg::Index(i),
                            k("groups"),
                            Seg::Index(j),
                            k("scaling"),
                        ],
                        format!(
                            "通知未规定{}票数如何换算后合并（按占本组有效票总数的比例，或按相对本组最高票数的比例），请活动办公室设定",
                            g.name
                        ),
                    );
                }
            }
            check_vote(s, i, f);
        }
        if matches!(s.kind, StageKind::Panel | StageKind::Review) && s.criteria.is_empty() {
            f.warn(at("stages", i, "criteria"), "未列出评价标准");
        }
        check_scoring(s, i, f);
        if s.kind == StageKind::UnitRound && s.per_unit_max.is_none() {
            f.warn(
                at("stages", i, "per_unit_max"),
                "未规定每个单位可推荐进入下一轮的人数",
            );
        }
    }
    if let Some(n) = last
        && n != c.campaign.winners
    {
        f.error(
            vec![k("stages")],
            format!(
                "最后一个阶段的晋级人数 {n} 与最终评选人数 {} 不一致",
                c.campaign.winners
            ),
        );
    }
}

/// What a stage needs before it opens that no notice gives: how many advance, experts
/// per candidate, points per criterion; and the scoring keys' consistency.
fn check_scoring(s: &Stage, i: usize, f: &mut Findings) {
    if s.advance.is_none() && s.kind != StageKind::UnitRound {
        f.warn(
            at("stages", i, "advance"),
            format!(
                "通知未规定“{}”的晋级人数，请活动办公室在该阶段开始前设定",
                s.name
            ),
        );
    }
    if s.kind == StageKind::Review {
        match s.reviewers {
            None => f.warn(
                at("stages", i, "reviewers"),
                format!(
                    "通知未规定“{}”每位候选人由几位专家评审，请活动办公室设定",
                    s.name
                ),
            ),
            Some(0) => f.error(at("stages", i, "reviewers"), "评审专家人数至少为 1"),
            Some(_) => {}
        }
    }
    if s.scored() {
        let missing: Vec<&str> = s
            .criteria
            .iter()
            .filter(|c| !s.max_points.contains_key(*c))
            .map(String::as_str)
            .collect();
        for c in &missing {
            f.warn(
                [at("stages", i, "max_points"), vec![k(c)]].concat(),
                format!("通知未规定“{c}”的分值，请活动办公室设定满分"),
            );
        }
    }
    for (name, points) in &s.max_points {
        let path = [at("stages", i, "max_points"), vec![k(name)]].concat();
        if !s.criteria.contains(name) {
            f.error(path, format!("“{name}”不是本阶段的评价标准"));
        } else if *points == 0 {
            f.error(path, format!("“{name}”的满分须大于 0"));
        }
    }
    for key in &s.tie_keys {
        if key != PREVIOUS_RANK && !s.criteria.contains(key) {
            f.error(
                at("stages", i, "tie_keys"),
                format!("同分排序依据“{key}”既不是本阶段的评价标准，也不是“{PREVIOUS_RANK}”"),
            );
        }
    }
    if let Some(n) = s.trim_min
        && n < 3
    {
        f.error(
            at("stages", i, "trim_min"),
            format!("去掉最高分和最低分至少需要 3 份评分，填写了 {n}"),
        );
    }
    if let Some(d) = &s.deadline
        && let Err(e) = deadline_instant(d)
    {
        f.error(at("stages", i, "deadline"), e);
    }
}

fn check_final(c: &Campaign, f: &mut Findings) {
    let fl = &c.final_list;
    let uses_young = fl
        .constraints
        .iter()
        .any(|x| x.indicator == Indicator::Young)
        || c.guidance
            .iter()
            .any(|g| g.indicators.contains(&Indicator::Young));
    let rules = fl.constraints.len() + fl.bounds.len();
    if rules > crate::selection::final_list::MAX_RULES {
        f.error(
            vec![k("final"), k("constraints")],
            format!(
                "名单规则（比例和组别限额合计）最多 {} 条，现有 {rules} 条",
                crate::selection::final_list::MAX_RULES,
            ),
        );
    }
    let groups: Vec<&str> = c
        .form
        .fields
        .iter()
        .find(|x| x.key == crate::campaign::FieldKey::Group)
        .map(|x| x.choices.iter().map(String::as_str).collect())
        .unwrap_or_default();
    for (i, b) in fl.bounds.iter().enumerate() {
        let at = |key: &'static str| vec![k("final"), k("bounds"), Seg::Index(i), k(key)];
        match (&b.group, &b.category) {
            (Some(g), None) if !groups.contains(&g.as_str()) => f.error(
                at("group"),
                if groups.is_empty() {
                    format!("推荐表没有“推荐组别”，不能按组别“{g}”设限")
                } else {
                    format!("推荐组别“{g}”不在推荐表的选项中（{}）", groups.join("、"))
                },
            ),
            (None, Some(cat)) if !c.recommender_categories.iter().any(|x| &x.key == cat) => {
                f.error(at("category"), format!("没有推荐单位类别“{cat}”"))
            }
            (Some(_), Some(_)) | (None, None) => f.error(
                at("group"),
                "每条组别限额须且只须写 group（推荐组别）或 category（推荐单位类别）之一",
            ),
            _ => {}
        }
        let size = c
            .stages
            .last()
            .and_then(|s| s.advance)
            .unwrap_or(c.campaign.winners);
        if let Some(lo) = b.min
            && lo > size
        {
            f.error(
                at("min"),
                format!("名单共 {size} 人，“{}”却要求不少于 {lo} 人", b.label),
            );
        }
        match (b.min, b.max) {
            (None, None) => f.error(at("min"), "组别限额须写 min（不少于）或 max（不超过）"),
            (Some(lo), Some(hi)) if lo > hi => f.error(
                at("min"),
                format!("不少于 {lo} 人却不超过 {hi} 人，无法同时满足"),
            ),
            _ => {}
        }
    }
    for (i, x) in fl.constraints.iter().enumerate() {
        let path = vec![k("final"), k("constraints"), Seg::Index(i), k("share")];
        if !(x.share > 0.0 && x.share <= 1.0) {
            f.error(
                path,
                format!("比例 {} 须在 0 到 1 之间（10% 写作 0.10）", x.share),
            );
        }
        if x.indicator == Indicator::Young && fl.young_max_age.is_none() {
            f.error(
                vec![k("final"), k("young_max_age")],
                "按青年比例设限时须给出青年的年龄界限",
            );
        }
    }
    if uses_young {
        if fl.young_max_age.is_none() {
            f.warn(
                vec![k("final"), k("young_max_age")],
                "通知未规定“青年”的年龄界限，统计青年人数前请活动办公室设定",
            );
        }
        if fl.age_reference_date.is_none() {
            f.warn(
                vec![k("final"), k("age_reference_date")],
                "通知未规定按哪一天计算年龄，请活动办公室设定",
            );
        }
    }
    unique_keys(
        f,
        "final.extra_lists",
        fl.extra_lists.iter().map(|x| x.key.as_str()),
        "附加名单",
    );
}

fn check_publicity(c: &Campaign, f: &mut Findings) {
    let p = &c.publicity;
    if p.unit_publicity && p.unit_working_days.is_none() {
        f.warn(
            vec![k("publicity"), k("unit_working_days")],
            "通知要求推荐单位公示，但未规定公示天数，请活动办公室设定",
        );
    }
    if p.unit_working_days.is_some() && !p.unit_publicity {
        f.error(
            vec![k("publicity"), k("unit_publicity")],
            "设了公示天数，却未开启 unit_publicity",
        );
    }
    if p.final_publicity && p.final_working_days.is_none() {
        f.warn(
            vec![k("publicity"), k("final_working_days")],
            "通知未规定最终公示的天数，请活动办公室设定",
        );
    }
    if let Some(paper) = &c.paper
        && let Some(d) = &paper.deadline
        && let Err(e) = deadline_instant(d)
    {
        f.error(vec![k("paper"), k("deadline")], e);
    }
}

/// An online vote's window and limits: the times whole and in order, limits at least 1,
/// the warnings for what the organiser has yet to set.
fn check_vote(s: &Stage, i: usize, f: &mut Findings) {
    let v = s.vote.clone().unwrap_or_default();
    let mut times = Vec::new();
    for (key, t) in [("opens", &v.opens), ("closes", &v.closes)] {
        let path = vec![k("stages"), Seg::Index(i), k("vote"), k(key)];
        match t {
            None => f.warn(
                path,
                if key == "opens" {
                    "通知未规定投票开始时间，请活动办公室设定"
                } else {
                    "通知未规定投票截止时间，请活动办公室设定"
                },
            ),
            Some(t) => match deadline_instant(t) {
                Ok(at) => times.push(at),
                Err(e) => f.error(path, e),
            },
        }
    }
    if let [opens, closes] = times[..]
        && opens >= closes
    {
        f.error(
            vec![k("stages"), Seg::Index(i), k("vote"), k("closes")],
            "投票截止时间须晚于开始时间",
        );
    }
    let limits = [
        ("per_day", v.per_day),
        ("per_candidate_per_day", v.per_candidate_per_day),
        ("per_candidate", v.per_candidate),
        ("candidates_per_day", v.candidates_per_day),
        ("candidates", v.candidates),
        ("ballot_size", v.ballot_size),
        ("second_above", v.second_above),
    ];
    for (key, n) in limits {
        if n == Some(0) {
            f.error(
                vec![k("stages"), Seg::Index(i), k("vote"), k(key)],
                "投票限制须至少为 1（不限制时不写）",
            );
        }
    }
    if limits[..5].iter().all(|(_, n)| n.is_none()) {
        f.warn(
            at("stages", i, "vote"),
            "通知未规定投票规则：未设任何投票限制，每位投票人可不限次数投票",
        );
    }
    if let Some(sg) = &v.signals {
        let path =
            |key: &'static str| vec![k("stages"), Seg::Index(i), k("vote"), k("signals"), k(key)];
        // Below these a signal flags ordinary votes wholesale.
        for (key, n, least) in [
            ("burst_votes", sg.burst_votes as i64, 2),
            ("burst_seconds", sg.burst_seconds, 1),
            ("address_votes", sg.address_votes as i64, 2),
            ("device_phones", sg.device_phones as i64, 2),
            ("traits_phones", sg.traits_phones as i64, 2),
            ("surge_votes", sg.surge_votes as i64, 1),
            ("surge_factor", i64::from(sg.surge_factor), 2),
            ("run_phones", sg.run_phones as i64, 2),
            ("run_gap", sg.run_gap as i64, 1),
            ("metronome_votes", sg.metronome_votes as i64, 3),
        ] {
            if n < least {
                f.error(path(key), format!("刷票检测阈值须至少为 {least}"));
            }
        }
        if !(sg.metronome_spread > 0.0 && sg.metronome_spread <= 1.0) {
            f.error(path("metronome_spread"), "间隔离散度阈值须大于 0、不超过 1");
        }
        for p in &sg.prefixes {
            if p.is_empty() || p.len() > 11 || !p.bytes().all(|b| b.is_ascii_digit()) {
                f.error(path("prefixes"), format!("号段“{p}”须为 1 至 11 位数字"));
            }
        }
    }
    if v.sanction.is_none() {
        f.warn(
            vec![k("stages"), Seg::Index(i), k("vote"), k("sanction")],
            "未规定发现刷票后的处理（相关选票作废，或该候选人票数清零），请活动办公室设定",
        );
    }
}
