//! A stage's page, for the campaign's organisers. Every move is a form answered with a
//! redirect (F5 does not repeat it); a refused one shows the page again with the reason.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use pingxuan_app::stages::{self as actions, StageView};
use pingxuan_rules::campaign::StageKind;
use pingxuan_rules::selection::screening::FAIL_REASONS;
use pingxuan_rules::selection::stage::{Move, Phase};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Posted, SignedIn};
use crate::error::{Failure, PageError};
use crate::pages::{Shell, format_time};

/// One row of the candidates' table.
pub struct Row {
    pub id: i64,
    pub seq: usize,
    pub number: String,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    /// (label, ok|warn|fail, text).
    pub checks: Vec<(&'static str, &'static str, String)>,
    /// 通过 / 不通过：reason, with who and when.
    pub conclusion: Option<(bool, String, String)>,
    pub advanced: bool,
    /// On the list the stage's outcome gives now (the drawn final list).
    pub drawn: bool,
    /// The experts assigned to it, joined (review stages).
    pub experts: String,
    /// Once closed: 第 N 名 · aggregate, and the reason.
    pub result: Option<(String, String)>,
    /// The refusal of this row's 形式审查, shown beside it.
    pub error: Option<String>,
    /// Files others sent in about the candidate: (sender, address, file name).
    pub sent: Vec<(String, String, String)>,
    /// Under the final rules: (who, what the record says with its source, counts).
    pub indicators: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "stages/stage.html")]
struct StagePage {
    shell: Shell,
    campaign_id: String,
    campaign_title: String,
    key: String,
    name: String,
    kind: &'static str,
    phase: &'static str,
    phase_key: &'static str,
    /// The outcome in force has been published.
    published: bool,
    note: String,
    advance: Option<u32>,
    screening: bool,
    /// A review stage: experts per candidate, the pool, and each expert's load.
    review: bool,
    reviewers: u32,
    pool: usize,
    assigned: bool,
    /// (expert, how many candidates), most loaded first.
    loads: Vec<(String, usize)>,
    /// The active pool for a manual change: (id, “王专家（评审 3 人）”).
    pool_list: Vec<(i64, String)>,
    seed: String,
    short: Vec<String>,
    /// A panel keyed from paper: members to choose, members keyed, the criteria.
    paper: bool,
    /// A panel's show of hands: each member's 同意/不同意 keyed per candidate.
    approval: bool,
    /// An online vote: its result is the merged score of the frozen count, made as
    /// `formula` says.
    vote: bool,
    formula: Option<String>,
    /// The public voting page's address, and each recommending unit's share link.
    vote_page: String,
    vote_shares: Vec<(String, String)>,
    /// An online vote: clusters of suspect votes still to decide.
    suspects: i64,
    panel_pool: Vec<(i64, String)>,
    keyed: Vec<(String, usize)>,
    criteria: Vec<(usize, String, u32)>,
    /// Typed boxes kept after a refusal: (candidate, criterion) → text.
    typed: std::collections::HashMap<String, String>,
    problems: Vec<String>,
    /// Tied across the cut on a closed stage: (id, name) to order; the order made.
    tied: Vec<(i64, String)>,
    tie_break: Option<(String, String)>,
    /// Submitted sheets the office may send back: (value `expert.candidate`, label).
    submitted: Vec<(String, String)>,
    rows: Vec<Row>,
    /// The material of files others send in, (key, name), where the campaign has one.
    sent_material: Option<(String, String)>,
    /// The last stage of a campaign with final rules: the rules in words, the draw's
    /// record once ranked, or why no list meets them.
    final_rules: Vec<String>,
    /// Taken off the list by an upheld objection to its 公示: (name, reason).
    removed: Vec<(String, String)>,
    final_record: Option<String>,
    final_clash: Option<String>,
    /// What the organiser may mark on the final stage: (key, who).
    mark_indicators: Vec<(&'static str, String)>,
    /// The notice's leanings for the panel, with counts on the list: never enforced.
    guidance: Vec<String>,
    /// Further lists once the final list is confirmed: (name, size, how, clash, each
    /// candidate drawn from as (name, reason, on the list)).
    extras: Vec<Extra>,
    /// Counts for the header: (label, number).
    counts: Vec<(&'static str, usize)>,
    /// Ids the page's move confirms (who opens the stage, who advances).
    confirm_ids: String,
    confirm_count: usize,
    outstanding: Vec<String>,
    /// (when, who, what) of the stage's events.
    history: Vec<(String, String, String)>,
    reasons: &'static [&'static str],
    done: Option<&'static str>,
    error: Option<String>,
    csrf: String,
}

impl StagePage {
    /// A paper box as typed before a refusal.
    fn typed_box(&self, candidate: &i64, criterion: &usize) -> &str {
        self.typed
            .get(&format!("{candidate}.{criterion}"))
            .map_or("", String::as_str)
    }

    /// The panel's own list as ticked before a refusal, else the drawn list.
    fn picked(&self, candidate: &i64, drawn: &bool) -> bool {
        if self.typed.is_empty() {
            *drawn
        } else {
            self.typed.contains_key(&format!("in.{candidate}"))
        }
    }

    /// A reason for bringing a candidate in, as typed before a refusal.
    fn typed_why(&self, candidate: &i64) -> &str {
        self.typed
            .get(&format!("why.{candidate}"))
            .map_or("", String::as_str)
    }
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

/// What a redirect after a move says, by its key.
const DONE: [(&str, &str); 15] = [
    ("marked", "标记已保存，名单按新的标记重新核算"),
    ("chosen", "评审小组另选的名单已确定，替换及理由记入审计日志"),
    ("reopened", "评分表已退回，专家可修改后重新提交"),
    ("tie", "同分先后已排定，请核对后确认晋级名单"),
    ("keyed", "已录入这位专家的纸质评分表，记入审计日志"),
    ("voted", "已录入这位专家的表决票，记入审计日志"),
    ("assigned", "评审专家已分配"),
    ("added", "已增加评审专家"),
    ("removed", "已取消该专家的评审，理由记入审计日志"),
    ("opened", "本阶段已开始"),
    ("closed", "本阶段已结束"),
    ("advanced", "晋级名单已确定"),
    ("reverted", "晋级名单已撤销，本阶段回到待确定晋级名单"),
    ("screened", "形式审查结论已保存"),
    (
        "published",
        "结果已公布，已通知每位候选人及其工作单位、推荐单位",
    ),
];

/// A further list for the page.
pub struct Extra {
    pub key: String,
    pub name: String,
    pub size: u32,
    pub how: String,
    pub clash: Option<String>,
    /// (candidate, reason, on it), in ranking order.
    pub drawn: Vec<(String, String, bool)>,
    /// “由王主任于 2023-10-12 10:00 确定”, once confirmed on the list as it stands.
    pub confirmed: Option<String>,
}

/// What a refused paper keying sends back: the boxes as typed, and every problem.
type PaperTyped = (std::collections::HashMap<String, String>, Vec<String>);

fn render(
    who: &SignedIn,
    v: StageView,
    done: Option<&str>,
    error: Option<(Option<i64>, Failure)>,
) -> Result<Response, PageError> {
    render_with(who, v, done, error, None)
}

fn render_with(
    who: &SignedIn,
    v: StageView,
    done: Option<&str>,
    error: Option<(Option<i64>, Failure)>,
    paper: Option<PaperTyped>,
) -> Result<Response, PageError> {
    let refused_paper = paper.as_ref().is_some_and(|p| !p.1.is_empty());
    let (typed, problems) = paper.unwrap_or_default();
    let stage = v.stage().clone();
    let state = v.state().clone();
    let approval = stage.approval();
    let vote = stage.kind == StageKind::Vote;
    let (status, error_row, error_text) = match &error {
        None if refused_paper => (StatusCode::UNPROCESSABLE_ENTITY, None, None),
        None => (StatusCode::OK, None, None),
        Some((row, f)) => (f.status(), *row, Some(f.message())),
    };
    let rows: Vec<Row> = v
        .candidates
        .iter()
        .enumerate()
        .map(|(i, c)| Row {
            id: c.id,
            seq: i + 1,
            number: c.number.clone(),
            name: c.name.clone(),
            work_unit: c.work_unit.clone(),
            recommender: c.recommender.clone(),
            checks: c
                .checks
                .iter()
                .map(|k| (k.label, k.mark.key(), k.text.clone()))
                .collect(),
            conclusion: c.screening.as_ref().map(|s| {
                (
                    s.passed,
                    s.reason.clone(),
                    format!("{} {}", s.by.clone().unwrap_or_default(), format_time(s.at)),
                )
            }),
            advanced: c.advanced,
            drawn: v.outcome.as_ref().is_some_and(|o| o.contains(&c.id)),
            experts: c.experts.join("、"),
            result: c.result.as_ref().map(|(rank, total, reason)| {
                let value = if approval {
                    format!("同意 {total} 票")
                } else if vote {
                    format!("综合得分 {total}")
                } else {
                    format!("{total} 分")
                };
                (format!("第 {rank} 名 · {value}"), reason.clone())
            }),
            error: (error_row == Some(c.id))
                .then(|| error_text.clone())
                .flatten(),
            sent: c
                .sent
                .iter()
                .map(|a| {
                    (
                        a.sender.clone(),
                        format!("/files/{}", a.public_id),
                        a.original_name.clone(),
                    )
                })
                .collect(),
            indicators: c
                .indicators
                .iter()
                .map(|r| {
                    (
                        pingxuan_rules::selection::final_list::noun(
                            r.indicator,
                            v.round.campaign.final_list.young_max_age,
                        ),
                        r.text.clone(),
                        r.counts(),
                    )
                })
                .collect(),
        })
        .collect();
    // The last stage's rules for the final list, and what its draw says.
    let final_rules: Vec<String> = match stage.advance {
        Some(k) if pingxuan_app::final_list::applies(&v.round.campaign, v.index) => {
            pingxuan_rules::selection::final_list::rules_for(&v.round.campaign, k)
                .iter()
                .map(|(_, r)| r.words())
                .collect()
        }
        _ => Vec::new(),
    };
    let mark_indicators: Vec<(&'static str, String)> = if final_rules.is_empty() {
        Vec::new()
    } else {
        let young = v.round.campaign.final_list.young_max_age;
        pingxuan_rules::selection::indicators::shown(&v.round.campaign)
            .into_iter()
            .map(|i| {
                (
                    i.key(),
                    pingxuan_rules::selection::final_list::noun(i, young),
                )
            })
            .collect()
    };
    let name_of = |id: &i64| {
        v.candidates
            .iter()
            .find(|c| c.id == *id)
            .map_or_else(|| id.to_string(), |c| c.name.clone())
    };
    let extras: Vec<Extra> = v
        .final_draw
        .iter()
        .flat_map(|d| &d.extras)
        .map(|x| {
            let on = x.outcome.as_ref().ok();
            Extra {
                key: x.key.clone(),
                name: x.name.clone(),
                size: x.size,
                how: x.how.clone(),
                clash: x.outcome.as_ref().err().cloned(),
                drawn: x
                    .reasons
                    .iter()
                    .map(|(id, r)| (name_of(id), r.clone(), on.is_some_and(|l| l.contains(id))))
                    .collect(),
                confirmed: x.confirmed.as_ref().map(|(by, at)| {
                    let by = if by.is_empty() {
                        String::new()
                    } else {
                        format!("由{by}")
                    };
                    format!("{by}于 {} 确定", format_time(*at))
                }),
            }
        })
        .collect();
    // The notice's leanings (广西 “注重向基层一线科技工作者倾斜”), counted on the list in
    // force (confirmed, else drawn): shown to the panel, never enforced.
    let on_list: Vec<i64> = if state.phase == Phase::Advanced {
        state.advanced.clone()
    } else {
        v.outcome.clone().unwrap_or_default()
    };
    let guidance: Vec<String> = if final_rules.is_empty() || on_list.is_empty() {
        Vec::new()
    } else {
        let readings: Vec<&[pingxuan_rules::selection::indicators::Reading]> = v
            .candidates
            .iter()
            .filter(|c| on_list.contains(&c.id))
            .map(|c| c.indicators.as_slice())
            .collect();
        pingxuan_rules::selection::indicators::leanings(&v.round.campaign, &readings)
    };
    let (final_record, final_clash) = match v.final_draw.as_ref().map(|d| &d.outcome) {
        Some(Ok(_)) => (v.final_draw.as_ref().map(|d| d.record.clone()), None),
        Some(Err(why)) => (None, Some(why.clone())),
        None => (None, None),
    };
    // The campaign's material for files sent in by others (东莞 初选's 市直相关部门意见):
    // a column of them, with the way to add one on the candidate's 办理 page.
    let sent_material = v
        .round
        .campaign
        .materials
        .iter()
        .find(|m| m.sender.is_some())
        .map(|m| (m.key.clone(), m.name.clone()));
    let screening = stage.kind == StageKind::Screening;
    let mut counts = vec![("候选人", rows.len())];
    if screening {
        let passed = rows
            .iter()
            .filter(|r| matches!(r.conclusion, Some((true, ..))))
            .count();
        let failed = rows
            .iter()
            .filter(|r| matches!(r.conclusion, Some((false, ..))))
            .count();
        counts.push(("通过", passed));
        counts.push(("不通过", failed));
        counts.push(("未审", rows.len() - passed - failed));
    }
    if state.phase == Phase::Advanced {
        counts.push(("晋级", state.advanced.len()));
    }
    let confirm: Vec<i64> = match state.phase {
        Phase::Pending => v.opening_list(),
        Phase::Closed => v.outcome.clone().unwrap_or_default(),
        _ => Vec::new(),
    };
    let history = v.round.events[v.index]
        .iter()
        .map(|e| {
            use pingxuan_rules::selection::stage::Event;
            let what = match &e.event {
                Event::Opened { candidates } => format!("开始，候选人 {} 人", candidates.len()),
                Event::Closed => "结束".to_owned(),
                Event::Advanced { advanced, note } if note.is_empty() => {
                    format!("确定晋级名单 {} 人", advanced.len())
                }
                Event::Advanced { advanced, note } => {
                    format!("确定晋级名单 {} 人；{note}", advanced.len())
                }
                Event::Reverted { reason } => format!("撤销晋级名单：{reason}"),
                Event::Published => "公布结果".to_owned(),
            };
            (
                format_time(e.at),
                e.actor.clone().unwrap_or_else(|| "命令行".to_owned()),
                what,
            )
        })
        .collect();
    let mut loads: Vec<(String, usize)> = Vec::new();
    for a in &v.assignments {
        match loads.iter_mut().find(|(n, _)| *n == a.expert_name) {
            Some((_, k)) => *k += 1,
            None => loads.push((a.expert_name.clone(), 1)),
        }
    }
    loads.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let pool_list = v
        .pool_list
        .iter()
        .map(|(id, name)| {
            let n = v.assignments.iter().filter(|a| a.expert_id == *id).count();
            (*id, format!("{name}（评审 {n} 人）"))
        })
        .collect();
    let tie_break = v.tie_break.as_ref().map(|t| {
        let names: Vec<String> = t
            .order
            .iter()
            .filter_map(|id| v.candidates.iter().find(|c| c.id == *id))
            .map(|c| c.name.clone())
            .collect();
        (
            format!(
                "依次为{}（{} {}）",
                names.join("、"),
                t.by.clone().unwrap_or_default(),
                format_time(t.at)
            ),
            t.reason.clone(),
        )
    });
    let page = StagePage {
        tied: if state.phase == Phase::Closed {
            v.tied_ids.clone()
        } else {
            Vec::new()
        },
        tie_break,
        short: v.short.clone(),
        submitted: if state.phase == Phase::Open {
            v.submitted
                .iter()
                .map(|(e, a, label)| (format!("{e}.{a}"), label.clone()))
                .collect()
        } else {
            Vec::new()
        },
        paper: stage.kind == StageKind::Panel && stage.scored(),
        approval: stage.approval(),
        vote: stage.kind == StageKind::Vote,
        formula: v.formula.clone(),
        vote_page: format!("/tp/{}/{}", v.round.campaign.campaign.id, stage.key),
        suspects: v.suspects.unwrap_or(0),
        vote_shares: v
            .shares
            .iter()
            .map(|(unit, code)| {
                (
                    unit.clone(),
                    format!(
                        "/tp/{}/{}?s={code}",
                        v.round.campaign.campaign.id, stage.key
                    ),
                )
            })
            .collect(),
        panel_pool: v.panel_pool.clone(),
        keyed: v.keyed.clone(),
        criteria: stage
            .criteria
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.clone(), stage.max_points.get(c).copied().unwrap_or(0)))
            .collect(),
        typed,
        problems,
        review: stage.kind == StageKind::Review,
        reviewers: stage.reviewers.unwrap_or(0),
        pool: v.pool,
        assigned: !v.assignments.is_empty(),
        seed: v.seed().unwrap_or_default(),
        loads,
        pool_list,
        shell: Shell::signed_in(who, &stage.name, "/campaigns"),
        campaign_id: v.round.campaign.campaign.id.clone(),
        campaign_title: v.round.campaign.campaign.name.clone(),
        key: stage.key.clone(),
        name: stage.name.clone(),
        kind: stage.kind.name(),
        phase: state.phase.text(),
        phase_key: state.phase.key(),
        published: state.published,
        note: stage.note.clone().unwrap_or_default(),
        advance: stage.advance,
        screening,
        counts,
        confirm_ids: confirm
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(","),
        confirm_count: confirm.len(),
        outstanding: if state.phase == Phase::Open {
            v.outstanding.clone()
        } else {
            Vec::new()
        },
        history,
        reasons: &FAIL_REASONS,
        done: done
            .and_then(|d| DONE.iter().find(|(k, _)| *k == d))
            .map(|(_, t)| *t),
        error: if error_row.is_none() {
            error_text
        } else {
            None
        },
        csrf: who.session.csrf_token.clone(),
        rows,
        sent_material,
        final_rules,
        removed: v
            .removed
            .iter()
            .map(|(_, n, r)| (n.clone(), r.clone()))
            .collect(),
        final_record,
        final_clash,
        mark_indicators,
        extras,
        guidance,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn get_stage(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, key)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let v = actions::view(&state.store, &who.access, &id, &key)
        .await
        .map_err(Failure::from)?;
    render(&who, v, q.done.as_deref(), None)
}

#[derive(Deserialize)]
pub struct MoveForm {
    /// open, close, advance, revert, publish.
    action: String,
    /// The ids the page showed, comma-separated (open, advance).
    #[serde(default)]
    ids: String,
    #[serde(default)]
    reason: String,
}

/// 开始 / 结束 / 确定晋级名单 / 撤销晋级名单.
pub async fn post_move(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, key)): Path<(String, String)>,
    Posted(form): Posted<MoveForm>,
) -> Result<Response, PageError> {
    let ids = || -> Vec<i64> {
        form.ids
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect()
    };
    let mv = match form.action.as_str() {
        "open" => Move::Open { candidates: ids() },
        "close" => Move::Close,
        "advance" => Move::Advance { advanced: ids() },
        "revert" => Move::Revert {
            reason: form.reason.clone(),
        },
        "publish" => Move::Publish,
        _ => return Err(Failure::invalid("bad_action", "未知的操作", Some("action")).into()),
    };
    match actions::act(&state.store, &who.access, &id, &key, mv, who.ip.as_deref()).await {
        Ok(event) => {
            let to = format!("/campaigns/{id}/stages/{key}?done={}", event.key());
            Ok(Redirect::to(&to).into_response())
        }
        Err(e @ (pingxuan_app::Error::Conflict { .. } | pingxuan_app::Error::Invalid { .. })) => {
            refused_again(&state, &who, &id, &key, e).await
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

#[derive(Deserialize)]
pub struct ScreenForm {
    /// "pass" or "fail".
    conclusion: String,
    /// A reason from the list, or empty for the free text.
    #[serde(default)]
    preset: String,
    #[serde(default)]
    reason: String,
}

/// 形式审查 通过 / 不通过 for one candidate.
pub async fn post_screen(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, key, app)): Path<(String, String, i64)>,
    Posted(form): Posted<ScreenForm>,
) -> Result<Response, PageError> {
    let passed = form.conclusion == "pass";
    let reason = match (form.preset.trim(), form.reason.trim()) {
        ("", r) => r.to_owned(),
        (p, "") => p.to_owned(),
        (p, r) => format!("{p}：{r}"),
    };
    match actions::screen(
        &state.store,
        &who.access,
        &id,
        &key,
        app,
        passed,
        &reason,
        who.ip.as_deref(),
    )
    .await
    {
        Ok(()) => {
            let to = format!("/campaigns/{id}/stages/{key}?done=screened#c{app}");
            Ok(Redirect::to(&to).into_response())
        }
        Err(e @ (pingxuan_app::Error::Conflict { .. } | pingxuan_app::Error::Invalid { .. })) => {
            let v = actions::view(&state.store, &who.access, &id, &key)
                .await
                .map_err(Failure::from)?;
            render(&who, v, None, Some((Some(app), Failure::from(e))))
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

/// 自动分配评审专家 for an open review stage.
pub async fn post_assign(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, key)): Path<(String, String)>,
    Posted(_): Posted<crate::auth::Button>,
) -> Result<Response, PageError> {
    match actions::assign(&state.store, &who.access, &id, &key, who.ip.as_deref()).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/campaigns/{id}/stages/{key}?done=assigned")).into_response(),
        ),
        Err(e @ (pingxuan_app::Error::Conflict { .. } | pingxuan_app::Error::Invalid { .. })) => {
            refused_again(&state, &who, &id, &key, e).await
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

#[derive(Deserialize)]
pub struct ChangeForm {
    /// add or remove.
    action: String,
    #[serde(default)]
    application: i64,
    #[serde(default)]
    expert: i64,
    #[serde(default)]
    reason: String,
}

/// 手动调整: one expert added to or taken off one candidate of an open review stage.
pub async fn post_change(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, key)): Path<(String, String)>,
    Posted(form): Posted<ChangeForm>,
) -> Result<Response, PageError> {
    let add = match form.action.as_str() {
        "add" => true,
        "remove" => false,
        _ => return Err(Failure::invalid("bad_action", "未知的操作", Some("action")).into()),
    };
    match actions::change_assignment(
        &state.store,
        &who.access,
        &id,
        &key,
        form.expert,
        form.application,
        add,
        &form.reason,
        who.ip.as_deref(),
    )
    .await
    {
        Ok(()) => {
            let done = if add { "added" } else { "removed" };
            let to = format!("/campaigns/{id}/stages/{key}?done={done}#assignment");
            Ok(Redirect::to(&to).into_response())
        }
        Err(e @ (pingxuan_app::Error::Conflict { .. } | pingxuan_app::Error::Invalid { .. })) => {
            refused_again(&state, &who, &id, &key, e).await
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

/// 录入纸质评分表: one panel member's sheet for every candidate, boxes named
/// `p.{candidate}.{criterion}`.
pub async fn post_paper(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, key)): Path<(String, String)>,
    Posted(form): Posted<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let expert: i64 = form
        .iter()
        .find(|(k, _)| k == "expert")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut boxes: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut typed: Vec<(i64, Vec<String>)> = Vec::new();
    for (k, v) in &form {
        let Some(rest) = k.strip_prefix("p.") else {
            continue;
        };
        let Some((c, i)) = rest.split_once('.') else {
            continue;
        };
        let (Ok(c), Ok(i)) = (c.parse::<i64>(), i.parse::<usize>()) else {
            continue;
        };
        boxes.insert(format!("{c}.{i}"), v.clone());
        let row = match typed.iter_mut().find(|(id, _)| *id == c) {
            Some((_, row)) => row,
            None => {
                typed.push((c, Vec::new()));
                &mut typed.last_mut().expect("just pushed").1
            }
        };
        if row.len() <= i {
            row.resize(i + 1, String::new());
        }
        row[i] = v.clone();
    }
    let outcome = actions::key_in(
        &state.store,
        &who.access,
        &id,
        &key,
        expert,
        &typed,
        who.ip.as_deref(),
    )
    .await;
    let (error, problems) = match outcome {
        Ok(Ok(keyed)) => {
            let done = if keyed.votes { "voted" } else { "keyed" };
            let to = format!("/campaigns/{id}/stages/{key}?done={done}#paper");
            return Ok(Redirect::to(&to).into_response());
        }
        Ok(Err(problems)) => (None, problems),
        Err(e @ (pingxuan_app::Error::Conflict { .. } | pingxuan_app::Error::Invalid { .. })) => {
            (Some((None, Failure::from(e))), Vec::new())
        }
        Err(e) => return Err(Failure::from(e).into()),
    };
    let v = actions::view(&state.store, &who.access, &id, &key)
        .await
        .map_err(Failure::from)?;
    render_with(&who, v, None, error, Some((boxes, problems)))
}

#[derive(Deserialize)]
pub struct MarkForm {
    application: i64,
    indicator: String,
    /// "yes", "no", or empty to go back to the 推荐表.
    #[serde(default)]
    value: String,
    #[serde(default)]
    reason: String,
}

/// 标记: the organiser's marking of a candidate's indicator, with its reason.
pub async fn post_mark(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, key)): Path<(String, String)>,
    Posted(form): Posted<MarkForm>,
) -> Result<Response, PageError> {
    let value = match form.value.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    match pingxuan_app::marks::mark(
        &state.store,
        &who.access,
        &id,
        form.application,
        &form.indicator,
        value,
        &form.reason,
        who.ip.as_deref(),
    )
    .await
    {
        Ok(()) => Ok(Redirect::to(&format!(
            "/campaigns/{id}/stages/{key}?done=marked#final-rules"
        ))
        .into_response()),
        Err(e @ (pingxuan_app::Error::Conflict { .. } | pingxuan_app::Error::Invalid { .. })) => {
            refused_again(&state, &who, &id, &key, e).await
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

/// 另选名单: the panel's own final list, `in.{candidate}` ticked for each on it and
/// `why.{candidate}` the reason for each it brings in instead of the drawn list's.
pub async fn post_choice(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, key)): Path<(String, String)>,
    Posted(form): Posted<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut list = Vec::new();
    let mut reasons = std::collections::BTreeMap::new();
    let mut typed = std::collections::HashMap::new();
    for (k, v) in &form {
        if let Some(c) = k.strip_prefix("in.").and_then(|c| c.parse::<i64>().ok()) {
            list.push(c);
            typed.insert(k.clone(), v.clone());
        } else if let Some(c) = k.strip_prefix("why.").and_then(|c| c.parse::<i64>().ok()) {
            if !v.trim().is_empty() {
                reasons.insert(c, v.clone());
            }
            typed.insert(k.clone(), v.clone());
        }
    }
    // Nothing ticked still counts as typed: the page shows the boxes as they were sent.
    typed.insert("choice".to_owned(), String::new());
    let mv = Move::Choose { list, reasons };
    match actions::act(&state.store, &who.access, &id, &key, mv, who.ip.as_deref()).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/campaigns/{id}/stages/{key}?done=chosen")).into_response())
        }
        Err(e @ (pingxuan_app::Error::Conflict { .. } | pingxuan_app::Error::Invalid { .. })) => {
            let v = actions::view(&state.store, &who.access, &id, &key)
                .await
                .map_err(Failure::from)?;
            render_with(
                &who,
                v,
                None,
                Some((None, Failure::from(e))),
                Some((typed, Vec::new())),
            )
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

/// 排定同分先后: positions `o.{candidate}` (1, 2, …) for the candidates tied across the
/// cut, and the reason.
pub async fn post_tie(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, key)): Path<(String, String)>,
    Posted(form): Posted<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut placed: Vec<(u32, i64)> = form
        .iter()
        .filter_map(|(k, v)| {
            let c = k.strip_prefix("o.")?.parse().ok()?;
            Some((v.trim().parse().ok()?, c))
        })
        .collect();
    placed.sort_unstable();
    // The same place twice is no order: sent as none, refused with the words for it.
    let distinct = placed.windows(2).all(|w| w[0].0 != w[1].0);
    let order: Vec<i64> = if distinct {
        placed.iter().map(|(_, c)| *c).collect()
    } else {
        Vec::new()
    };
    let reason = form
        .iter()
        .find(|(k, _)| k == "reason")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    match actions::break_tie(
        &state.store,
        &who.access,
        &id,
        &key,
        &order,
        &reason,
        who.ip.as_deref(),
    )
    .await
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/campaigns/{id}/stages/{key}?done=tie")).into_response())
        }
        Err(e @ (pingxuan_app::Error::Conflict { .. } | pingxuan_app::Error::Invalid { .. })) => {
            refused_again(&state, &who, &id, &key, e).await
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

#[derive(Deserialize)]
pub struct ReopenForm {
    /// `expert.candidate`.
    sheet: String,
    #[serde(default)]
    reason: String,
}

/// 退回评分表: a submitted sheet back to its expert, with the reason.
pub async fn post_reopen(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, key)): Path<(String, String)>,
    Posted(form): Posted<ReopenForm>,
) -> Result<Response, PageError> {
    let (expert, app) = form
        .sheet
        .split_once('.')
        .and_then(|(e, a)| Some((e.parse().ok()?, a.parse().ok()?)))
        .unwrap_or((0, 0));
    match actions::reopen_sheet(
        &state.store,
        &who.access,
        &id,
        &key,
        expert,
        app,
        &form.reason,
        who.ip.as_deref(),
    )
    .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/campaigns/{id}/stages/{key}?done=reopened")).into_response(),
        ),
        Err(e @ (pingxuan_app::Error::Conflict { .. } | pingxuan_app::Error::Invalid { .. })) => {
            refused_again(&state, &who, &id, &key, e).await
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

/// A refused move: the stage's page again with the reason at its top.
async fn refused_again(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    key: &str,
    e: pingxuan_app::Error,
) -> Result<Response, PageError> {
    let v = actions::view(&state.store, &who.access, id, key)
        .await
        .map_err(Failure::from)?;
    render(who, v, None, Some((None, Failure::from(e))))
}

/// 下载评选结果: the stage's ranking and sheets as XLSX, once it has closed.
pub async fn get_results(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, key)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let d = actions::results(&state.store, &who.access, &id, &key, who.ip.as_deref())
        .await
        .map_err(Failure::from)?;
    Ok(crate::exports::send(d))
}

/// `POST /campaigns/{id}/extra-lists/{list}`: confirms a further list as drawn; back to
/// the last stage's page.
pub async fn post_extra(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, list)): Path<(String, String)>,
    Posted(_): Posted<crate::auth::Button>,
) -> Result<Response, PageError> {
    pingxuan_app::extra_lists::confirm_extra(
        &state.store,
        &who.access,
        &id,
        &list,
        who.ip.as_deref(),
    )
    .await
    .map_err(Failure::from)?;
    let campaign = pingxuan_app::applications::campaign_model(&state.store, &id)
        .await
        .map_err(Failure::from)?;
    let last = campaign
        .stages
        .last()
        .map(|s| s.key.clone())
        .unwrap_or_default();
    Ok(Redirect::to(&format!("/campaigns/{id}/stages/{last}#extra-{list}")).into_response())
}
