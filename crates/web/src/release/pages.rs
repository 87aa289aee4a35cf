//! `/campaigns/{id}/release`: the organiser releases the final list once nothing stands
//! in the way, and downloads the certificates and the workbook of every stage.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use pingxuan_app::release::{self as actions, Overview};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Posted, SignedIn};
use crate::error::{Failure, PageError};
use crate::pages::{Shell, format_time};

pub struct Row {
    pub seq: i64,
    pub serial: String,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    pub summary: String,
    /// “照片 · 工作照 3 张 · 视频”.
    pub shows: String,
    /// The gallery's small portrait, once released.
    pub portrait: Option<String>,
}

#[derive(Template)]
#[template(path = "release/console.html")]
struct ConsolePage {
    shell: Shell,
    csrf: String,
    campaign_id: String,
    campaign_title: String,
    stage_name: String,
    award: String,
    blockers: Vec<String>,
    warnings: Vec<String>,
    rows: Vec<Row>,
    /// (gallery address, released words) once released.
    released: Option<(String, String)>,
    done: bool,
    error: Option<String>,
}

fn shows(e: &pingxuan_store::release::ReleaseEntry) -> String {
    let count = |role: &str| e.files.iter().filter(|f| f.role == role).count();
    let mut parts = Vec::new();
    if count("portrait") > 0 {
        parts.push("照片".to_owned());
    }
    match count("photo") {
        0 => {}
        n => parts.push(format!("工作照 {n} 张")),
    }
    if count("video") > 0 {
        parts.push("视频".to_owned());
    }
    if parts.is_empty() {
        "仅文字".to_owned()
    } else {
        parts.join(" · ")
    }
}

fn render(
    who: &SignedIn,
    o: Overview,
    done: bool,
    error: Option<Failure>,
) -> Result<Response, PageError> {
    let (status, error) = match error {
        None => (axum::http::StatusCode::OK, None),
        Some(f) => (f.status(), Some(f.message())),
    };
    let public = o.release.as_ref().map(|r| r.public_id.clone());
    let rows = o
        .entries
        .iter()
        .map(|e| Row {
            seq: e.seq,
            serial: e.serial.clone(),
            name: e.name.clone(),
            work_unit: e.work_unit.clone(),
            recommender: e.recommender.clone(),
            summary: e.summary.clone(),
            shows: shows(e),
            portrait: public.as_ref().and_then(|p| {
                e.files
                    .iter()
                    .find(|f| f.role == "portrait")
                    .map(|f| format!("/jg/{p}/{}/{}/small", e.seq, f.seq))
            }),
        })
        .collect();
    let page = ConsolePage {
        shell: Shell::signed_in(who, "发布评选结果", "/campaigns"),
        csrf: who.session.csrf_token.clone(),
        campaign_id: o.campaign.campaign.id.clone(),
        campaign_title: o.campaign.campaign.name.clone(),
        stage_name: o.stage_name.clone(),
        award: o.campaign.award().to_owned(),
        blockers: o.blockers.clone(),
        warnings: o.warnings.clone(),
        rows,
        released: o.release.as_ref().map(|r| {
            (
                r.public_id.clone(),
                format!(
                    "{} 由 {} 发布",
                    format_time(r.released_at),
                    r.released_by.clone().unwrap_or_else(|| "系统".to_owned())
                ),
            )
        }),
        done,
        error,
    };
    Ok((status, Html(page.render().map_err(Failure::from)?)).into_response())
}

#[derive(Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /campaigns/{id}/release`.
pub async fn get_console(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let o = actions::overview(&state.store, &who.access, &id)
        .await
        .map_err(Failure::from)?;
    render(&who, o, q.done.is_some(), None)
}

#[derive(Deserialize)]
pub struct ReleaseFields {}

/// `POST /campaigns/{id}/release`: releases, or shows the page again with why not.
pub async fn post_release(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Posted(_): Posted<ReleaseFields>,
) -> Result<Response, PageError> {
    match actions::release(&state.store, &who.access, &id, who.ip.as_deref()).await {
        Ok(_) => Ok(Redirect::to(&format!("/campaigns/{id}/release?done=1")).into_response()),
        Err(e) => {
            let o = actions::overview(&state.store, &who.access, &id)
                .await
                .map_err(Failure::from)?;
            render(&who, o, false, Some(Failure::from(e)))
        }
    }
}

/// `GET /campaigns/{id}/certificates/{serial}`: a winner's certificate as PDF.
pub async fn get_certificate(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, serial)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let d = actions::certificate(&state.filing, &who.access, &id, &serial, who.ip.as_deref())
        .await
        .map_err(Failure::from)?;
    Ok(crate::exports::send(d))
}

/// `GET /campaigns/{id}/results.xlsx`: every stage in one workbook.
pub async fn get_workbook(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let d = actions::workbook(&state.store, &who.access, &id, who.ip.as_deref())
        .await
        .map_err(Failure::from)?;
    Ok(crate::exports::send(d))
}
