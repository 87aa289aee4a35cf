//! `/campaigns/{id}/unit-publicity`: a recommending unit's own 公示 — its candidates at the
//! desk with where each stands, the publish form with the notice drafted in the unit's
//! name, its 公示, and the objections it handles (never who made them). `/unit-publicity`
//! takes a unit to its campaign's page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use pingxuan_app::publicity as actions;
use pingxuan_app::unit_publicity::{self as unit, UnitOverview, UnitPublishForm};
use pingxuan_rules::calendar::{day_text, parse_day};

use super::pages::{DoneQuery, Entered, ObjectionRow, PublicityRow, objection_rows, refusable};
use crate::AppState;
use crate::auth::{PostedFiles, SignedIn};
use crate::error::{Failure, PageError};
use crate::pages::Shell;

pub struct CandidateRow {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub work_unit: String,
    /// Where its 公示 stands, in words; empty before one.
    pub publicity: String,
    pub over: bool,
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "publicity/unit.html")]
struct UnitPage {
    shell: Shell,
    csrf: String,
    campaign_id: String,
    campaign_title: String,
    base: &'static str,
    unit_name: String,
    rule: String,
    candidates: Vec<CandidateRow>,
    /// Candidates not on a 公示 yet.
    waiting: usize,
    title: String,
    body: String,
    contact: String,
    days: u32,
    today: String,
    publicities: Vec<PublicityRow>,
    objections: Vec<ObjectionRow>,
    targets: Vec<(String, String)>,
    revealed: Option<(i64, String)>,
    entered: Entered,
    done: Option<&'static str>,
    error: Option<(String, String)>,
    error_at: String,
}

impl UnitPage {
    fn field_error(&self, at: &str, field: &str) -> Option<&str> {
        super::pages::field_error(&self.error, &self.error_at, at, field)
    }

    fn form_error(&self, at: &str) -> Option<&str> {
        // The list of candidates is a field of the publish form too.
        super::pages::form_error(&self.error, &self.error_at, at)
            .filter(|_| self.field_error(at, "candidates").is_none())
    }
}

/// What a refused form keeps.
#[derive(Default)]
struct Kept {
    form: Option<UnitPublishForm>,
    entered: Entered,
}

fn render(
    who: &SignedIn,
    o: UnitOverview,
    done: Option<&str>,
    error: Option<(String, Failure)>,
    kept: Kept,
) -> Result<Response, PageError> {
    let now = pingxuan_store::now();
    let chosen: Vec<i64> = kept
        .form
        .as_ref()
        .map(|f| f.candidates.clone())
        .unwrap_or_default();
    let waiting = o
        .candidates
        .iter()
        .filter(|c| c.publicity.is_none())
        .count();
    let draft = unit::draft(
        &o,
        if chosen.is_empty() {
            waiting
        } else {
            chosen.len()
        },
    );
    let p = &o.campaign.publicity;
    let rule = format!(
        "按通知，推荐单位对拟推荐的候选人公示{}，公示无异议后方可上报；公示期满前、异议未办结或异议成立的候选人不能提交。",
        match p.unit_working_days {
            Some(d) => format!("满 {d} 个工作日"),
            None => "（天数由推荐单位确定）".to_owned(),
        }
    );
    let (status, error_at, error) = super::pages::refusal(error);
    let page = UnitPage {
        shell: Shell::signed_in(who, "推荐公示", "/unit-publicity"),
        csrf: who.session.csrf_token.clone(),
        campaign_id: o.campaign.campaign.id.clone(),
        campaign_title: o.campaign.campaign.name.clone(),
        base: "unit-publicity",
        unit_name: o.unit_name.clone(),
        rule,
        waiting,
        candidates: o
            .candidates
            .iter()
            .map(|c| CandidateRow {
                id: c.row.id,
                number: c.row.number.clone(),
                name: c.row.name.clone(),
                work_unit: c.row.work_unit.clone(),
                publicity: c
                    .publicity
                    .as_ref()
                    // The tag beside says whether it runs or has ended.
                    .map(|(t, period, _)| format!("{t}：{period}"))
                    .unwrap_or_default(),
                over: c.publicity.as_ref().is_some_and(|p| p.2),
                chosen: chosen.contains(&c.row.id),
            })
            .collect(),
        title: kept
            .form
            .as_ref()
            .map_or(draft.title, |f| f.notice.title.clone()),
        body: kept
            .form
            .as_ref()
            .map_or(draft.body, |f| f.notice.body.clone()),
        contact: kept
            .form
            .as_ref()
            .map_or(o.contact.clone(), |f| f.notice.contact.clone()),
        days: kept.form.as_ref().map_or(o.days, |f| f.notice.working_days),
        today: day_text(actions::today()),
        publicities: o
            .publicities
            .iter()
            .rev()
            .map(|p| PublicityRow {
                public_id: p.public_id.clone(),
                title: p.title.clone(),
                kind: pingxuan_rules::publicity::Kind::Unit.text(),
                period: actions::period_of(p).text(),
                status: actions::status_text(p, now),
                names: p
                    .entries
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join("、"),
            })
            .collect(),
        objections: objection_rows(&o.objections, true),
        targets: o
            .publicities
            .iter()
            .flat_map(|p| {
                p.entries.iter().map(move |e| {
                    (
                        format!("{} — {}", p.title, e.name),
                        format!("{}:{}", p.public_id, e.application_id),
                    )
                })
            })
            .collect(),
        revealed: None,
        entered: kept.entered,
        done: done.and_then(|d| match d {
            "published" => Some("公示已发布"),
            "entered" => Some("异议已登记"),
            "decided" => Some("处理结果已保存，处理意见将反馈给异议人"),
            _ => None,
        }),
        error,
        error_at,
    };
    Ok((status, Html(page.render().map_err(Failure::from)?)).into_response())
}

/// `GET /campaigns/{id}/unit-publicity`.
pub async fn get_unit(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let o = unit::overview(&state.store, &who.access, &id)
        .await
        .map_err(Failure::from)?;
    render(&who, o, q.done.as_deref(), None, Kept::default())
}

/// `GET /unit-publicity`: a recommending unit's campaign's page (the first, where it
/// recommends in several).
pub async fn get_mine(who: SignedIn) -> Result<Response, PageError> {
    crate::paper::pages::to_units_campaign(&who, "unit-publicity")
}

async fn again(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    at: &str,
    e: pingxuan_app::Error,
    kept: Kept,
) -> Result<Response, PageError> {
    let o = unit::overview(&state.store, &who.access, id)
        .await
        .map_err(Failure::from)?;
    render(who, o, None, Some((at.to_owned(), Failure::from(e))), kept)
}

/// `POST /campaigns/{id}/unit-publicity`: publishes the chosen candidates' 公示. The form
/// repeats `candidates`, so it is read as a list of pairs.
pub async fn post_publish(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    crate::auth::Posted(pairs): crate::auth::Posted<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let days = field("working_days");
    let published = field("published_on");
    let form = UnitPublishForm {
        candidates: pairs
            .iter()
            .filter(|(name, _)| name == "candidates")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        notice: pingxuan_app::publicity::PublishForm {
            title: field("title"),
            body: field("body"),
            contact: field("contact"),
            working_days: days.trim().parse().unwrap_or(0),
            published_on: parse_day(&published),
        },
    };
    let refused = if days.trim().parse::<u32>().is_err() {
        Some(pingxuan_app::Error::invalid(
            "working_days",
            format!("公示天数应为 1～30 的整数，填写的是“{days}”"),
            Some("working_days"),
        ))
    } else if !published.trim().is_empty() && form.notice.published_on.is_none() {
        Some(pingxuan_app::Error::invalid(
            "published_on",
            format!("发布日期“{published}”无效，应写作 2024-04-25"),
            Some("published_on"),
        ))
    } else {
        None
    };
    let result = match refused {
        Some(e) => Err(e),
        None => unit::publish(&state.store, &who.access, &id, &form, who.ip.as_deref()).await,
    };
    match result {
        Ok(_) => Ok(
            Redirect::to(&format!("/campaigns/{id}/unit-publicity?done=published")).into_response(),
        ),
        Err(e) if refusable(&e) => {
            let kept = Kept {
                form: Some(form),
                entered: Entered::default(),
            };
            again(&state, &who, &id, "publish", e, kept).await
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

/// `POST /campaigns/{id}/unit-publicity/objections`: an objection made to the unit by
/// telephone, letter or visit.
pub async fn post_enter(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    posted: PostedFiles,
) -> Result<Response, PageError> {
    let (result, entered) = super::pages::enter(&state, &who, &id, posted).await;
    match result {
        Ok(_) => Ok(
            Redirect::to(&format!("/campaigns/{id}/unit-publicity?done=entered")).into_response(),
        ),
        Err(e) if refusable(&e) => {
            let kept = Kept {
                form: None,
                entered,
            };
            again(&state, &who, &id, "enter", e, kept).await
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

/// `POST /campaigns/{id}/unit-publicity/objections/{oid}`: 核查中, or an outcome with its
/// 处理意见.
pub async fn post_step(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, oid)): Path<(String, i64)>,
    crate::auth::Posted(f): crate::auth::Posted<super::pages::StepFields>,
) -> Result<Response, PageError> {
    match actions::decide(
        &state.store,
        &who.access,
        &id,
        oid,
        &f.outcome,
        &f.opinion,
        who.ip.as_deref(),
    )
    .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/campaigns/{id}/unit-publicity?done=decided")).into_response(),
        ),
        Err(e) if refusable(&e) => {
            again(&state, &who, &id, &oid.to_string(), e, Kept::default()).await
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

impl UnitPage {
    /// Whether the unit chose candidates in a refused form (else every waiting one is
    /// ticked to start with).
    fn any_chosen(&self) -> bool {
        self.candidates.iter().any(|c| c.chosen)
    }
}

/// `GET /campaigns/{id}/unit-publicity/report.docx`: the 推荐工作情况简要报告, drafted.
pub async fn get_report(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let d = unit::report(&state.store, &who.access, &id, who.ip.as_deref())
        .await
        .map_err(Failure::from)?;
    Ok(crate::exports::send(d))
}
