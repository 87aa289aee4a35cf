//! `/campaigns/{id}/paper`: each candidate paper is due from, item by item, with the
//! notice's verdict; the office marks items received (with the postmark) and, after the
//! shortlist, asks the recommenders; a recommending unit sees its own. `/paper` takes a
//! unit to its campaign's page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use pingxuan_app::paper::{self as actions, MarkForm, PaperOverview};
use pingxuan_rules::calendar::parse_day;
use pingxuan_rules::campaign::PaperWhen;
use pingxuan_rules::paper::{ItemState, Verdict};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Posted, SignedIn};
use crate::error::{Failure, PageError};
use crate::pages::{Shell, format_time};

pub struct Row {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub recommender: String,
    /// Per item: (received, words).
    pub items: Vec<(bool, String)>,
    pub verdict: &'static str,
    pub verdict_text: String,
    pub requested: String,
}

#[derive(Template)]
#[template(path = "paper/paper.html")]
struct PaperPage {
    shell: Shell,
    csrf: String,
    campaign_id: String,
    campaign_title: String,
    office: bool,
    when: &'static str,
    items: Vec<String>,
    address: String,
    deadline: String,
    not_yet: Option<String>,
    to_request: usize,
    rows: Vec<Row>,
    today: String,
    done: Option<&'static str>,
    /// The refusal: (row id or "request", message).
    error: Option<(String, String)>,
}

impl PaperPage {
    fn error_for(&self, at: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(a, _)| a == at)
            .map(|(_, m)| m.as_str())
    }
}

fn render(
    who: &SignedIn,
    o: PaperOverview,
    done: Option<&str>,
    error: Option<(String, Failure)>,
) -> Result<Response, PageError> {
    let (status, error) = match error {
        None => (axum::http::StatusCode::OK, None),
        Some((at, f)) => (f.status(), Some((at, f.message()))),
    };
    let p = &o.paper;
    let deadline = p
        .deadline
        .as_ref()
        .map(|d| {
            let mut s = crate::pages::format_deadline(d);
            if p.postmark_counts {
                s.push_str("（以当地邮戳为准）");
            }
            s
        })
        .unwrap_or_else(|| "通知未规定".to_owned());
    let rows = o
        .rows
        .iter()
        .map(|r| Row {
            id: r.id,
            number: r.number.clone(),
            name: r.name.clone(),
            recommender: r.recommender.clone(),
            items: r
                .filing
                .items
                .iter()
                .zip(&r.marked)
                .map(|((_, state), marked)| match state {
                    ItemState::Received { late, .. } => (
                        true,
                        format!(
                            "{}{}",
                            marked.clone().unwrap_or_default(),
                            if *late { "（逾期）" } else { "" }
                        ),
                    ),
                    ItemState::Missing => (
                        false,
                        marked
                            .clone()
                            .filter(|m| m.starts_with("收到登记已撤销"))
                            .unwrap_or_else(|| "未收到".to_owned()),
                    ),
                })
                .collect(),
            verdict: match r.filing.verdict {
                Verdict::Complete => "ok",
                Verdict::Waiting => "",
                Verdict::Late | Verdict::Incomplete => "fail",
            },
            verdict_text: r.filing.text.clone(),
            requested: r
                .requested_at
                .map(|t| format!("{} 已通知推荐单位", format_time(t)))
                .unwrap_or_default(),
        })
        .collect();
    let page = PaperPage {
        shell: Shell::signed_in(who, "纸质材料报送", "/paper"),
        csrf: who.session.csrf_token.clone(),
        campaign_id: o.campaign.campaign.id.clone(),
        campaign_title: o.campaign.campaign.name.clone(),
        office: o.office,
        when: match p.when {
            PaperWhen::WithNomination => "纸质材料随推荐一并报送，报送到活动办公室的推荐均需寄送",
            PaperWhen::AfterShortlist => "拟入选人选产生后，由活动办公室通知其推荐单位报送纸质材料",
        },
        items: p.items.clone(),
        address: p.address.clone().unwrap_or_default(),
        deadline,
        not_yet: o.not_yet.clone(),
        to_request: o.to_request.len(),
        rows,
        today: pingxuan_rules::calendar::day_text(pingxuan_app::publicity::today()),
        done: done.and_then(|d| match d {
            "marked" => Some("已登记"),
            "requested" => Some("已通知推荐单位报送纸质材料"),
            _ => None,
        }),
        error,
    };
    Ok((status, Html(page.render().map_err(Failure::from)?)).into_response())
}

#[derive(Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /campaigns/{id}/paper`.
pub async fn get_paper(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let o = actions::overview(&state.store, &who.access, &id)
        .await
        .map_err(Failure::from)?;
    render(&who, o, q.done.as_deref(), None)
}

/// `GET /paper`: a recommending unit's campaign's paper page (the first, where it
/// recommends in several).
pub async fn get_mine(who: SignedIn) -> Result<Response, PageError> {
    to_units_campaign(&who, "paper")
}

/// A recommending unit's page `page` of its campaign (the first, where it recommends in
/// several): where the menu's unit items lead.
pub(crate) fn to_units_campaign(who: &SignedIn, page: &str) -> Result<Response, PageError> {
    let campaign = who
        .access
        .roles
        .iter()
        .find(|r| r.role == pingxuan_rules::Role::Recommender)
        .and_then(|r| r.campaign_id.clone())
        .ok_or(Failure::Forbidden)?;
    Ok(Redirect::to(&format!("/campaigns/{campaign}/{page}")).into_response())
}

async fn again(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    at: String,
    e: pingxuan_app::Error,
) -> Result<Response, PageError> {
    let o = actions::overview(&state.store, &who.access, id)
        .await
        .map_err(Failure::from)?;
    render(who, o, None, Some((at, Failure::from(e))))
}

#[derive(Deserialize)]
pub struct MarkFields {
    application: i64,
    item: usize,
    /// received or withdrawn.
    #[serde(default)]
    action: String,
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    postmark_on: String,
}

/// `POST /campaigns/{id}/paper/marks`: one item received (or the marking taken back).
pub async fn post_mark(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Posted(f): Posted<MarkFields>,
) -> Result<Response, PageError> {
    let bad_day = |field: &'static str, typed: &str| {
        pingxuan_app::Error::invalid(
            "bad_date",
            format!("日期“{typed}”无效，应写作 2023-11-03"),
            Some(field),
        )
    };
    let received_on = match f.received_on.trim() {
        "" => None,
        s => match parse_day(s) {
            Some(d) => Some(d),
            None => {
                let e = bad_day("received_on", s);
                return again(&state, &who, &id, f.application.to_string(), e).await;
            }
        },
    };
    let postmark_on = match f.postmark_on.trim() {
        "" => None,
        s => match parse_day(s) {
            Some(d) => Some(d),
            None => {
                let e = bad_day("postmark_on", s);
                return again(&state, &who, &id, f.application.to_string(), e).await;
            }
        },
    };
    let form = MarkForm {
        application_id: f.application,
        item: f.item,
        received: f.action != "withdrawn",
        received_on,
        postmark_on,
    };
    match actions::mark(&state.store, &who.access, &id, &form, who.ip.as_deref()).await {
        Ok(()) => Ok(Redirect::to(&format!("/campaigns/{id}/paper?done=marked")).into_response()),
        Err(e @ (pingxuan_app::Error::Invalid { .. } | pingxuan_app::Error::Conflict { .. })) => {
            again(&state, &who, &id, f.application.to_string(), e).await
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

/// `POST /campaigns/{id}/paper/requests`: ask the recommenders of the shortlist.
pub async fn post_request(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Posted(_): Posted<crate::auth::Button>,
) -> Result<Response, PageError> {
    match actions::request(&state.store, &who.access, &id, who.ip.as_deref()).await {
        Ok(_) => Ok(Redirect::to(&format!("/campaigns/{id}/paper?done=requested")).into_response()),
        Err(e @ pingxuan_app::Error::Conflict { .. }) => {
            again(&state, &who, &id, "request".to_owned(), e).await
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}
