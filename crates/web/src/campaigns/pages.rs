//! 活动配置: the campaigns on the platform; loading or replacing a campaign file.

use crate::auth::Posted;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use pingxuan_rules::campaign::settings::{self, Refusal};
use pingxuan_rules::campaign::{
    Campaign, MaterialKind, Problem, Severity, StageKind, load, parse_size,
};
use serde::Deserialize;

use crate::AppState;
use crate::auth::SignedIn;
use crate::error::{Failure, PageError};
use crate::pages::{Shell, entry_text, format_deadline, format_time};
use pingxuan_app::campaigns::{self as actions, LoadOutcome, load_campaign};

pub struct Row {
    pub id: String,
    pub name: String,
    pub year: i64,
    pub revision: i64,
    pub updated: String,
}

pub struct ProblemLine {
    pub class: &'static str,
    pub text: String,
}

#[derive(Template)]
#[template(path = "campaigns/campaigns.html")]
struct ListPage {
    shell: Shell,
    csrf: String,
    notice: Option<String>,
    campaigns: Vec<Row>,
    can_load: bool,
    problems: Vec<ProblemLine>,
    saved: bool,
    toml: String,
}

async fn render_list(
    state: &AppState,
    who: &SignedIn,
    notice: Option<String>,
    problems: &[Problem],
    saved: bool,
    toml: String,
) -> Result<String, PageError> {
    let campaigns = state
        .store
        .list_campaigns()
        .await?
        .into_iter()
        .filter(|c| who.access.organizes(&c.id))
        .map(|c| Row {
            id: c.id,
            name: c.name,
            year: c.year,
            revision: c.revision,
            updated: format_time(c.updated_at),
        })
        .collect();
    let can_load = who.access.is_admin() || who.access.manages_campaigns();
    let page = ListPage {
        shell: Shell::signed_in(who, "活动配置", "/campaigns"),
        csrf: who.session.csrf_token.clone(),
        notice,
        campaigns,
        can_load,
        problems: problems
            .iter()
            .map(|p| ProblemLine {
                class: match p.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                text: p.to_string(),
            })
            .collect(),
        saved,
        toml,
    };
    Ok(page.render()?)
}

pub async fn get_campaigns(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, PageError> {
    if !who.access.manages_campaigns() {
        return Err(Failure::Forbidden.into());
    }
    Ok(Html(render_list(&state, &who, None, &[], false, String::new()).await?).into_response())
}

#[derive(Deserialize)]
pub struct LoadForm {
    toml: String,
}

pub async fn post_campaigns(
    State(state): State<AppState>,
    who: SignedIn,
    Posted(form): Posted<LoadForm>,
) -> Result<Response, PageError> {
    match load_campaign(&state.store, &who.access, &form.toml, who.ip.as_deref()).await? {
        LoadOutcome::Saved(l) => {
            let notice = format!("已保存活动 {}（第 {} 版）", l.id, l.revision);
            let html =
                render_list(&state, &who, Some(notice), &l.warnings, true, String::new()).await?;
            Ok(Html(html).into_response())
        }
        LoadOutcome::Refused(problems) => {
            // The text stays in the box so nothing typed is lost.
            let html = render_list(&state, &who, None, &problems, false, form.toml).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "campaigns/campaign.html")]
struct DetailPage {
    shell: Shell,
    c: Campaign,
    revision: i64,
    entry: &'static str,
    /// (level, what it writes, deadline) along the chain.
    chain: Vec<(String, String, String)>,
    /// (the warning in words, the anchor of the field that settles it).
    warnings: Vec<(String, Option<String>)>,
    settings: Vec<SettingRow>,
    settings_errors: Vec<String>,
    settings_notice: Option<String>,
    quotas: Vec<(String, String, String)>,
    /// (what the file says of it, its page, where it stands).
    stages: Vec<(String, String, &'static str)>,
    materials: Vec<(String, String, String)>,
    csrf: String,
    /// Levels with a deadline: (key, name, the file's date, the date for everyone now).
    deadlines: Vec<(String, String, String, String)>,
    /// (level, 全部 or the unit, new date, reason, granted by, when).
    extensions: Vec<[String; 6]>,
    recommenders: Vec<(i64, String)>,
    /// Units whose quota holds “原则上”: (id, name, quota text).
    flexible: Vec<(i64, String, String)>,
    /// (unit, +n, reason, granted by, when).
    exceptions: Vec<[String; 5]>,
    notice: Option<String>,
    /// (which form, field, message).
    error: Option<(String, String, String)>,
    /// Whether a prior-title rule is decided by the register, and how many it holds.
    uses_register: bool,
    winners: i64,
}

fn quota_text(min: Option<u32>, max: Option<u32>, in_principle: bool) -> String {
    let base = match (min, max) {
        (Some(a), Some(b)) if a != b => format!("{a}～{b} 名"),
        (_, Some(b)) => format!("不超过 {b} 名"),
        _ => "不设名额限制".to_owned(),
    };
    if in_principle {
        format!("原则上{base}")
    } else {
        base
    }
}

fn material_text(m: &pingxuan_rules::campaign::Material) -> String {
    let mut parts = Vec::new();
    parts.push(if m.required {
        "必交".to_owned()
    } else {
        "选交".to_owned()
    });
    if !m.formats.is_empty() {
        parts.push(m.formats.join("/").to_uppercase());
    }
    match (m.min_count, m.max_count) {
        (Some(a), Some(b)) if a == b => parts.push(format!("{a} 份")),
        (Some(a), Some(b)) => parts.push(format!("{a}—{b} 份")),
        (Some(a), None) if a > 1 => parts.push(format!("至少 {a} 份")),
        _ => {}
    }
    if let Some(s) = m.min_size.as_deref().and_then(parse_size) {
        parts.push(format!("每个不小于 {} MB", s >> 20));
    }
    if let Some(d) = m.max_duration_secs {
        parts.push(format!("单个时长 {} 分钟以内", d / 60));
    }
    if !m.resolutions.is_empty() {
        parts.push(format!("分辨率 {}", m.resolutions.join(" 或 ")));
    }
    if m.name_by_person {
        parts.push("以姓名+序号命名".to_owned());
    }
    if m.kind == MaterialKind::Supplement {
        parts.push("可附于文字栏目".to_owned());
    }
    parts.join("，")
}

pub async fn get_campaign(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Result<Response, PageError> {
    let view = match q.saved.as_deref() {
        None => SettingsView::Plain,
        Some("0") => SettingsView::Saved("设置没有变化，未生成新版本".to_owned()),
        Some(n) => SettingsView::Saved(format!("已保存 {n} 项设置，活动配置文件已更新为新版本")),
    };
    render_campaign(&state, &who, &id, None, None, view).await
}

/// The settings form as posted, when it was refused: what was typed stays.
pub struct TypedSettings {
    typed: Vec<(String, String)>,
    refusals: Vec<Refusal>,
}

/// What the settings form shows besides the values: nothing, a saved notice, or the
/// refused form.
pub enum SettingsView {
    Plain,
    Saved(String),
    Refused(TypedSettings),
}

/// One value on the 活动设置 form.
pub struct SettingRow {
    pub key: String,
    pub anchor: String,
    pub label: String,
    pub hint: String,
    pub input_type: &'static str,
    /// `step` for number inputs.
    pub step: &'static str,
    /// A choice's options: (value, name).
    pub options: &'static [(&'static str, &'static str)],
    pub value: String,
    pub warning: Option<String>,
    pub error: Option<String>,
}

async fn render_campaign(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    notice: Option<String>,
    error: Option<(&str, Failure)>,
    view: SettingsView,
) -> Result<Response, PageError> {
    let (settings_notice, typed) = match view {
        SettingsView::Plain => (None, None),
        SettingsView::Saved(n) => (Some(n), None),
        SettingsView::Refused(t) => (None, Some(t)),
    };
    let id = id.to_owned();
    if !who.access.organizes(&id) {
        return Err(Failure::Forbidden.into());
    }
    let stored = state
        .store
        .get_campaign(&id)
        .await?
        .ok_or(Failure::NotFound)?;
    let report = load(&stored.source_toml);
    // Where each stage stands (the file may name stages the events do not know yet).
    let phases: Vec<&'static str> = pingxuan_app::stages::load(&state.store, &who.access, &id)
        .await
        .map_err(Failure::from)?
        .states
        .iter()
        .map(|s| s.phase.text())
        .collect();
    let c = report.campaign.clone().ok_or(Failure::Internal(format!(
        "stored campaign {id} no longer loads"
    )))?;
    let level_name = |key: &str| {
        c.levels
            .iter()
            .find(|l| l.key == key)
            .map(|l| l.name.clone())
            .unwrap_or_else(|| key.to_owned())
    };
    let extensions = state.store.deadline_extensions(&id).await?;
    let exts: Vec<_> = extensions.iter().map(|g| g.extension()).collect();
    let units = state.store.list_units(&id).await?;
    let recommenders: Vec<(i64, String)> = units
        .iter()
        .filter(|u| u.kind == pingxuan_rules::Role::Recommender)
        .map(|u| (u.id, u.name.clone()))
        .collect();
    let full_chain = pingxuan_rules::workflow::Chain::for_application(&c, false);
    // A level's own deadline in force for everyone, in the one format every page uses.
    let in_force = |i: usize| {
        pingxuan_rules::deadline::binding(&c, &full_chain, i, None, &exts)
            .filter(|b| Some(b.level_key.as_str()) == c.levels.get(i).map(|l| l.key.as_str()))
            .map(|b| pingxuan_rules::deadline::in_force_text(b.at, pingxuan_store::now()))
    };
    let deadlines = c
        .levels
        .iter()
        .enumerate()
        .filter(|(_, l)| l.deadline.is_some())
        .map(|(i, l)| {
            let now = in_force(i).unwrap_or_default();
            (
                l.key.clone(),
                l.name.clone(),
                l.deadline.as_ref().map(format_deadline).unwrap_or_default(),
                now,
            )
        })
        .collect();
    let flexible = units
        .iter()
        .filter_map(|u| {
            let cat = c
                .recommender_categories
                .iter()
                .find(|k| Some(k.key.as_str()) == u.category.as_deref())?;
            (cat.quota_max.is_some()
                && cat.quota_strictness == pingxuan_rules::campaign::Strictness::InPrinciple)
                .then(|| {
                    (
                        u.id,
                        u.name.clone(),
                        quota_text(cat.quota_min, cat.quota_max, true),
                    )
                })
        })
        .collect();
    let exceptions = state
        .store
        .quota_exceptions(&id)
        .await?
        .into_iter()
        .map(|g| {
            [
                g.unit_name.unwrap_or_default(),
                format!("+{}", g.value),
                g.reason,
                g.granted_by.unwrap_or_default(),
                format_time(g.granted_at),
            ]
        })
        .collect();
    let extensions = extensions
        .into_iter()
        .map(|g| {
            [
                level_name(&g.level_key),
                g.unit_name.unwrap_or_else(|| "全部".to_owned()),
                pingxuan_rules::deadline::format_beijing(g.value),
                g.reason,
                g.granted_by.unwrap_or_default(),
                format_time(g.granted_at),
            ]
        })
        .collect();
    let status = match &error {
        Some((_, Failure::Invalid { .. })) => StatusCode::UNPROCESSABLE_ENTITY,
        Some(_) => StatusCode::CONFLICT,
        None if typed.is_some() => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    let settings: Vec<SettingRow> = settings::settings(&c, &report.problems)
        .into_iter()
        .map(|x| {
            let typed_value = typed
                .as_ref()
                .and_then(|t| t.typed.iter().find(|(k, _)| *k == x.key))
                .map(|(_, v)| v.clone());
            let error = typed.as_ref().and_then(|t| {
                t.refusals
                    .iter()
                    .find(|r| r.key == x.key)
                    .map(|r| r.message.clone())
            });
            SettingRow {
                anchor: x.anchor(),
                input_type: x.input_type(),
                step: match x.kind {
                    settings::SettingKind::Weight => "0.01",
                    _ => "1",
                },
                options: match x.kind {
                    settings::SettingKind::Choice { options } => options,
                    _ => &[],
                },
                value: typed_value.unwrap_or_else(|| x.value.clone()),
                label: x.label,
                hint: x.hint,
                warning: x.warning,
                error,
                key: x.key,
            }
        })
        .collect();
    // Problems of the whole file (not of one setting), said in words.
    let settings_errors: Vec<String> = typed
        .as_ref()
        .map(|t| {
            t.refusals
                .iter()
                .filter(|r| r.key.is_empty())
                .map(|r| r.message.clone())
                .collect()
        })
        .unwrap_or_default();
    let setting_keys: Vec<String> = settings.iter().map(|x| x.key.clone()).collect();
    let error = error.map(|(form, f)| {
        let field = match &f {
            Failure::Invalid { field, .. } | Failure::Conflict { field, .. } => {
                field.clone().unwrap_or_default()
            }
            _ => String::new(),
        };
        (form.to_owned(), field, f.message())
    });
    let page = DetailPage {
        shell: Shell::signed_in(who, &c.campaign.short_name, "/campaigns"),
        csrf: who.session.csrf_token.clone(),
        deadlines,
        extensions,
        recommenders,
        flexible,
        exceptions,
        notice,
        error,
        uses_register: c.eligibility.prior_titles.iter().any(|r| r.register),
        winners: state.store.winners_count(&id).await?,
        revision: stored.revision,
        entry: entry_text(&c),
        chain: c
            .levels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut does = l
                    .opinion
                    .as_ref()
                    .map(|o| format!("填写{o}"))
                    .unwrap_or_default();
                if l.merge_with_next_when_same_unit {
                    does.push_str("；与推荐单位为同一单位时并入下一级");
                }
                if l.employer_also_signs {
                    does.push_str("；实际就职单位不同时一并签署意见");
                }
                (l.name.clone(), does, in_force(i).unwrap_or_default())
            })
            .collect(),
        // Each warning names its setting in words and links to its field where the
        // form sets it; the level warning (“no deadline at all”) to the first deadline.
        warnings: report
            .warnings()
            .map(|p| {
                let key = if p.key == "levels" {
                    "levels[0].deadline".to_owned()
                } else {
                    p.key.clone()
                };
                (
                    format!("{}：{}", settings::describe_key(&c, &p.key), p.message),
                    setting_keys.contains(&key).then(|| settings::anchor(&key)),
                )
            })
            .collect(),
        settings,
        settings_errors,
        settings_notice,
        quotas: c
            .recommender_categories
            .iter()
            .map(|r| {
                (
                    r.name.clone(),
                    r.members.clone().unwrap_or_default(),
                    quota_text(
                        r.quota_min,
                        r.quota_max,
                        r.quota_strictness == pingxuan_rules::campaign::Strictness::InPrinciple,
                    ),
                )
            })
            .collect(),
        stages: c
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut t = s.name.clone();
                if let Some(n) = s.advance {
                    t.push_str(&format!("（产生 {n} 名）"));
                }
                if s.kind == StageKind::UnitRound
                    && let Some(n) = s.per_unit_max
                {
                    t.push_str(&format!("（每单位不超过 {n} 名）"));
                }
                let phase = phases.get(i).copied().unwrap_or("");
                (
                    t,
                    format!("/campaigns/{}/stages/{}", c.campaign.id, s.key),
                    phase,
                )
            })
            .collect(),
        materials: c
            .materials
            .iter()
            .map(|m| (m.name.clone(), level_name(&m.level), material_text(m)))
            .collect(),
        c,
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
pub struct ExtendForm {
    level: String,
    #[serde(default)]
    unit: String,
    until: String,
    #[serde(default)]
    reason: String,
}

/// 延期: a later deadline for a level, for everyone or one recommending unit.
pub async fn post_extension(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<ExtendForm>,
) -> Result<Response, PageError> {
    let outcome = actions::extend_deadline(
        &state.store,
        &who.access,
        &id,
        &form.level,
        form.unit.parse().ok(),
        &form.until,
        &form.reason,
        who.ip.as_deref(),
    )
    .await
    .map_err(Failure::from);
    match outcome {
        Ok(_) => {
            let notice = "已延期，相关单位可在新的截止时间前继续提交".to_owned();
            render_campaign(&state, &who, &id, Some(notice), None, SettingsView::Plain).await
        }
        Err(f @ Failure::Invalid { .. }) => {
            render_campaign(
                &state,
                &who,
                &id,
                None,
                Some(("deadline", f)),
                SettingsView::Plain,
            )
            .await
        }
        Err(f) => Err(f.into()),
    }
}

#[derive(Deserialize)]
pub struct QuotaForm {
    unit: i64,
    extra: i64,
    #[serde(default)]
    reason: String,
}

/// 名额例外: places beyond a “原则上” quota, with the reason.
pub async fn post_quota(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<QuotaForm>,
) -> Result<Response, PageError> {
    let outcome = actions::grant_quota(
        &state.store,
        &who.access,
        &id,
        form.unit,
        form.extra,
        &form.reason,
        who.ip.as_deref(),
    )
    .await
    .map_err(Failure::from);
    match outcome {
        Ok(_) => {
            let notice = format!("已为该推荐单位增加 {} 个名额", form.extra);
            render_campaign(&state, &who, &id, Some(notice), None, SettingsView::Plain).await
        }
        Err(f @ Failure::Invalid { .. }) => {
            render_campaign(
                &state,
                &who,
                &id,
                None,
                Some(("quota", f)),
                SettingsView::Plain,
            )
            .await
        }
        Err(f) => Err(f.into()),
    }
}

#[derive(Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// 保存设置: the settings form, each field named by its key in the file (`s.<key>`),
/// with the revision the page showed.
pub async fn post_settings(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let revision = form
        .iter()
        .find(|(k, _)| k == "revision")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let typed: Vec<(String, String)> = form
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix("s.").map(|k| (k.to_owned(), v)))
        .collect();
    match actions::change_settings(
        &state.store,
        &who.access,
        &id,
        revision,
        &typed,
        who.ip.as_deref(),
    )
    .await
    .map_err(Failure::from)
    {
        Ok(actions::SettingsOutcome::Saved { changes, .. }) => {
            // Answered with a redirect, so F5 does not send the form again.
            let to = format!("/campaigns/{id}?saved={}#settings", changes.len());
            Ok(axum::response::Redirect::to(&to).into_response())
        }
        Ok(actions::SettingsOutcome::Refused(refusals)) => {
            let typed = TypedSettings { typed, refusals };
            render_campaign(&state, &who, &id, None, None, SettingsView::Refused(typed)).await
        }
        Err(f @ Failure::Conflict { .. }) => {
            render_campaign(
                &state,
                &who,
                &id,
                None,
                Some(("settings", f)),
                SettingsView::Plain,
            )
            .await
        }
        Err(f) => Err(f.into()),
    }
}

/// The campaign's current file, to edit and load again.
pub async fn get_campaign_file(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    if !who.access.organizes(&id) {
        return Err(Failure::Forbidden.into());
    }
    let stored = state
        .store
        .get_campaign(&id)
        .await?
        .ok_or(Failure::NotFound)?;
    let disposition = format!(
        "attachment; filename=\"{}-r{}.toml\"",
        stored.id, stored.revision
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/toml; charset=utf-8".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        stored.source_toml,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct WinnersForm {
    #[serde(default)]
    winners: String,
}

/// 往年获奖名单: replaces the register from pasted spreadsheet rows.
pub async fn post_winners(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<WinnersForm>,
) -> Result<Response, PageError> {
    match actions::load_winners(
        &state.store,
        &who.access,
        &id,
        &form.winners,
        who.ip.as_deref(),
    )
    .await
    .map_err(Failure::from)
    {
        Ok(n) => {
            let notice = format!("已载入往年获奖名单 {n} 人，申报时按身份证号码核对");
            render_campaign(&state, &who, &id, Some(notice), None, SettingsView::Plain).await
        }
        Err(f @ Failure::Invalid { .. }) => {
            render_campaign(
                &state,
                &who,
                &id,
                None,
                Some(("winners", f)),
                SettingsView::Plain,
            )
            .await
        }
        Err(f) => Err(f.into()),
    }
}
