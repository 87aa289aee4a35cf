//! Paper filing as JSON: the twin of the paper page, and the office's marking.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pingxuan_app::paper::{self as actions, MarkForm};
use pingxuan_rules::calendar::{day_text, parse_day};
use pingxuan_rules::paper::ItemState;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::input::{ApiJson, ApiPath};
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};

#[derive(Serialize, ToSchema)]
pub struct PaperItemOut {
    pub name: String,
    pub received: bool,
    /// YYYY-MM-DD, when received.
    pub received_on: Option<String>,
    pub postmark_on: Option<String>,
    /// Counted (postmark or arrival) after the deadline.
    pub late: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PaperRowOut {
    pub application_id: i64,
    pub number: String,
    pub name: String,
    pub recommender: String,
    pub items: Vec<PaperItemOut>,
    /// complete, waiting, late or incomplete.
    pub verdict: String,
    /// The verdict in words, with what the notice makes of it.
    pub verdict_text: String,
    pub outstanding: Vec<String>,
    pub requested_at: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct PaperOut {
    pub items: Vec<String>,
    pub address: Option<String>,
    /// Why nobody owes paper yet.
    pub not_yet: Option<String>,
    pub rows: Vec<PaperRowOut>,
}

/// 纸质材料: each candidate paper is due from, item by item, with the verdict; the
/// office sees every one, a recommending unit its own.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/paper", tag = "paper",
    params(("id" = String, Path, description = "活动标识")),
    responses((status = 200, body = PaperOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn get_paper(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PaperOut>, ApiError> {
    let o = actions::overview(&state.store, &caller.access, &id).await?;
    Ok(Json(PaperOut {
        items: o.paper.items.clone(),
        address: o.paper.address.clone(),
        not_yet: o.not_yet.clone(),
        rows: o
            .rows
            .iter()
            .map(|r| PaperRowOut {
                application_id: r.id,
                number: r.number.clone(),
                name: r.name.clone(),
                recommender: r.recommender.clone(),
                items: r
                    .filing
                    .items
                    .iter()
                    .map(|(name, s)| match s {
                        ItemState::Missing => PaperItemOut {
                            name: name.clone(),
                            received: false,
                            received_on: None,
                            postmark_on: None,
                            late: false,
                        },
                        ItemState::Received {
                            received_on,
                            postmark_on,
                            late,
                        } => PaperItemOut {
                            name: name.clone(),
                            received: true,
                            received_on: Some(day_text(*received_on)),
                            postmark_on: postmark_on.map(day_text),
                            late: *late,
                        },
                    })
                    .collect(),
                verdict: r.filing.verdict.key().to_owned(),
                verdict_text: r.filing.text.clone(),
                outstanding: r.filing.outstanding.clone(),
                requested_at: r.requested_at,
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PaperMarkIn {
    pub application_id: i64,
    /// 1-based, in the file's order.
    #[schema(minimum = 1)]
    pub item: usize,
    /// `false` takes an earlier marking back.
    #[serde(default = "yes")]
    pub received: bool,
    /// YYYY-MM-DD; today when left out.
    #[serde(default)]
    pub received_on: Option<String>,
    #[serde(default)]
    pub postmark_on: Option<String>,
}

fn yes() -> bool {
    true
}

fn parse(field: &'static str, s: Option<&str>) -> Result<Option<time::Date>, ApiError> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse_day(s).map(Some).ok_or_else(|| {
            pingxuan_app::Error::invalid(
                "bad_date",
                format!("日期“{s}”无效，应写作 2023-11-03"),
                Some(field),
            )
            .into()
        }),
    }
}

/// 登记纸质材料: one item of a candidate's paper received, with the postmark (or the
/// marking taken back).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/paper/marks", tag = "paper",
    request_body = PaperMarkIn,
    params(("id" = String, Path, description = "活动标识")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_mark(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<PaperMarkIn>,
) -> Result<StatusCode, ApiError> {
    let form = MarkForm {
        application_id: body.application_id,
        item: body.item,
        received: body.received,
        received_on: parse("received_on", body.received_on.as_deref())?,
        postmark_on: parse("postmark_on", body.postmark_on.as_deref())?,
    };
    actions::mark(
        &state.store,
        &caller.access,
        &id,
        &form,
        caller.ip.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct RequestedOut {
    /// How many candidates' recommenders were asked.
    pub asked: usize,
}

/// 通知报送纸质材料: after the shortlist, the recommenders of those on it not yet asked.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/paper/requests", tag = "paper",
    params(("id" = String, Path, description = "活动标识")),
    responses((status = 200, body = RequestedOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn post_request(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RequestedOut>, ApiError> {
    let asked = actions::request(&state.store, &caller.access, &id, caller.ip.as_deref()).await?;
    Ok(Json(RequestedOut { asked }))
}
