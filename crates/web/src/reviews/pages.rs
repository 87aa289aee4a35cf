//! The expert's pages. Every POST is answered with a redirect once it happened; a refused
//! one shows the page again with the reason beside what it concerns and what was typed.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use pingxuan_app::reviews::{self as actions, Saved, SheetView, Task};
use pingxuan_rules::selection::stage::Phase;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Posted, SignedIn};
use crate::error::{Failure, PageError};
use crate::pages::{Shell, format_deadline};

/// One candidate row of the list.
pub struct ItemRow {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub work_unit: String,
    pub declared: Option<String>,
    /// 未评分, 草稿, 已提交（总分 …）.
    pub status: String,
    pub error: Option<String>,
}

pub struct TaskView {
    pub campaign_id: String,
    pub campaign_name: String,
    pub key: String,
    pub stage_name: String,
    pub phase: &'static str,
    pub open: bool,
    pub deadline: String,
    pub declared: bool,
    pub items: Vec<ItemRow>,
}

#[derive(Template)]
#[template(path = "reviews/tasks.html")]
struct TasksPage {
    shell: Shell,
    csrf: String,
    tasks: Vec<TaskView>,
    /// Open 专业组 ballots of the expert's campaigns.
    ballots: Vec<pingxuan_app::votes::MyBallot>,
    notice: Option<String>,
}

fn status(item: &actions::Item) -> String {
    match &item.sheet {
        None => "未评分".to_owned(),
        Some(s) if s.submitted_at.is_some() => format!(
            "已提交（总分 {}）",
            pingxuan_rules::selection::sheet::total(&s.points)
        ),
        Some(_) => "草稿".to_owned(),
    }
}

fn task_view(t: Task, error: Option<(i64, String)>) -> TaskView {
    TaskView {
        declared: t.declared(),
        campaign_id: t.campaign_id,
        campaign_name: t.campaign_name,
        key: t.stage.key.clone(),
        stage_name: t.stage.name.clone(),
        phase: t.phase.text(),
        open: t.phase == Phase::Open,
        deadline: t
            .stage
            .deadline
            .as_ref()
            .map(format_deadline)
            .unwrap_or_default(),
        items: t
            .items
            .iter()
            .map(|i| ItemRow {
                id: i.application_id,
                number: i.number.clone(),
                name: i.name.clone(),
                work_unit: i.work_unit.clone(),
                declared: i.declared.clone(),
                status: status(i),
                error: error
                    .as_ref()
                    .filter(|(id, _)| *id == i.application_id)
                    .map(|(_, m)| m.clone()),
            })
            .collect(),
    }
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    done: Option<String>,
}

const DONE: [(&str, &str); 5] = [
    ("none", "已声明无利益关系"),
    ("declared", "已声明回避，该候选人已改由其他专家评审"),
    (
        "alone",
        "已声明回避；暂无其他专家可接替评审该候选人，活动办公室会在评选阶段页面看到评审专家不足",
    ),
    ("saved", "评分表已保存为草稿"),
    ("submitted", "评分表已提交"),
];

async fn render_tasks(
    state: &AppState,
    who: &SignedIn,
    notice: Option<String>,
    error: Option<(i64, Failure)>,
) -> Result<Response, PageError> {
    let tasks = actions::tasks(&state.store, &who.access)
        .await
        .map_err(Failure::from)?;
    let status = error.as_ref().map_or(StatusCode::OK, |(_, f)| f.status());
    let error = error.map(|(id, f)| (id, f.message()));
    let page = TasksPage {
        shell: Shell::signed_in(who, "我的评审", "/reviews"),
        csrf: who.session.csrf_token.clone(),
        tasks: tasks
            .into_iter()
            .map(|t| task_view(t, error.clone()))
            .collect(),
        ballots: pingxuan_app::votes::my_ballots(&state.store, &who.access)
            .await
            .map_err(Failure::from)?,
        notice,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn get_tasks(
    State(state): State<AppState>,
    who: SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = q
        .done
        .as_deref()
        .and_then(|d| DONE.iter().find(|(k, _)| *k == d))
        .map(|(_, t)| (*t).to_owned());
    render_tasks(&state, &who, notice, None).await
}

#[derive(Deserialize)]
pub struct DeclarationForm {
    /// “无”, or the relation.
    #[serde(default)]
    declaration: String,
}

/// 回避声明 for one assigned candidate.
pub async fn post_declaration(
    State(state): State<AppState>,
    who: SignedIn,
    Path((campaign, key, app)): Path<(String, String, i64)>,
    Posted(form): Posted<DeclarationForm>,
) -> Result<Response, PageError> {
    match actions::declare(
        &state.store,
        &who.access,
        &campaign,
        &key,
        app,
        &form.declaration,
        who.ip.as_deref(),
    )
    .await
    {
        Ok(declared) => {
            Ok(Redirect::to(&format!("/reviews?done={}", declared.key())).into_response())
        }
        Err(e @ (pingxuan_app::Error::Conflict { .. } | pingxuan_app::Error::Invalid { .. })) => {
            render_tasks(&state, &who, None, Some((app, Failure::from(e)))).await
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

#[derive(Template)]
#[template(path = "reviews/sheet.html")]
struct SheetPage {
    shell: Shell,
    csrf: String,
    campaign_id: String,
    key: String,
    stage_name: String,
    id: i64,
    name: String,
    number: String,
    facts: Vec<(String, String)>,
    /// (index, criterion, full marks, value shown, problem).
    boxes: Vec<(usize, String, u32, String, Option<String>)>,
    comment: String,
    version: i64,
    locked: bool,
    open: bool,
    problems: Vec<String>,
    notice: Option<String>,
}

fn render_sheet(
    who: &SignedIn,
    v: SheetView,
    typed: Option<(&[String], &str)>,
    problems: Vec<pingxuan_rules::selection::sheet::Problem>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let sheet = v.item.sheet.clone();
    let shown = |i: usize| -> String {
        match typed {
            Some((t, _)) => t.get(i).cloned().unwrap_or_default(),
            None => sheet
                .as_ref()
                .and_then(|s| s.points.get(i).copied().flatten())
                .map(|p| p.to_string())
                .unwrap_or_default(),
        }
    };
    let boxes = v
        .criteria
        .iter()
        .enumerate()
        .map(|(i, (name, max))| {
            let problem = problems
                .iter()
                .find(|p| p.criterion == Some(i))
                .map(|p| p.message.clone());
            (i, name.clone(), *max, shown(i), problem)
        })
        .collect();
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = SheetPage {
        shell: Shell::signed_in(who, "评分表", "/reviews"),
        csrf: who.session.csrf_token.clone(),
        campaign_id: v.task.campaign_id.clone(),
        key: v.task.stage.key.clone(),
        stage_name: v.task.stage.name.clone(),
        id: v.item.application_id,
        name: v.item.name.clone(),
        number: v.item.number.clone(),
        facts: v.facts,
        boxes,
        comment: match typed {
            Some((_, c)) => c.to_owned(),
            None => sheet
                .as_ref()
                .map(|s| s.comment.clone())
                .unwrap_or_default(),
        },
        version: sheet.as_ref().map_or(0, |s| s.version),
        locked: sheet.as_ref().is_some_and(|s| s.submitted_at.is_some()),
        open: v.task.phase == Phase::Open,
        problems: problems.into_iter().map(|p| p.message).collect(),
        notice,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn get_sheet(
    State(state): State<AppState>,
    who: SignedIn,
    Path((campaign, key, app)): Path<(String, String, i64)>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let v = actions::open(&state.store, &who.access, &campaign, &key, app)
        .await
        .map_err(Failure::from)?;
    let notice = q
        .done
        .as_deref()
        .and_then(|d| DONE.iter().find(|(k, _)| *k == d))
        .map(|(_, t)| (*t).to_owned());
    render_sheet(&who, v, None, Vec::new(), notice)
}

/// 保存 or 提交 a sheet: points as `p0`, `p1`… in the criteria's order.
pub async fn post_sheet(
    State(state): State<AppState>,
    who: SignedIn,
    Path((campaign, key, app)): Path<(String, String, i64)>,
    Posted(form): Posted<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut typed = Vec::new();
    while let Some((_, v)) = form.iter().find(|(k, _)| *k == format!("p{}", typed.len())) {
        typed.push(v.clone());
    }
    let comment = field("comment");
    let submit = field("action") == "submit";
    let version = field("version").parse().unwrap_or(0);
    let outcome = actions::save(
        &state.store,
        &who.access,
        &campaign,
        &key,
        app,
        &typed,
        &comment,
        version,
        submit,
        who.ip.as_deref(),
    )
    .await;
    let page = format!("/reviews/{campaign}/{key}/{app}");
    match outcome {
        Ok(Saved::Done { submitted }) => {
            let done = if submitted { "submitted" } else { "saved" };
            Ok(Redirect::to(&format!("{page}?done={done}")).into_response())
        }
        Ok(Saved::Refused(problems)) => {
            let v = actions::open(&state.store, &who.access, &campaign, &key, app)
                .await
                .map_err(Failure::from)?;
            render_sheet(&who, v, Some((&typed, &comment)), problems, None)
        }
        Err(e @ pingxuan_app::Error::Conflict { .. }) => {
            let v = actions::open(&state.store, &who.access, &campaign, &key, app)
                .await
                .map_err(Failure::from)?;
            let message = e.to_string();
            let mut r = render_sheet(
                &who,
                v,
                Some((&typed, &comment)),
                vec![pingxuan_rules::selection::sheet::Problem {
                    criterion: None,
                    message,
                }],
                None,
            )?;
            *r.status_mut() = StatusCode::CONFLICT;
            Ok(r)
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}
