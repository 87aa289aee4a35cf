//! 推荐码 as JSON: a recommending unit's codes, issuing and revoking (the twins of the
//! 推荐码 page).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::input::{ApiJson, ApiPath};
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use pingxuan_app::codes::{self, WorkUnitChoice};

#[derive(Serialize, ToSchema)]
pub struct CodeOut {
    pub id: i64,
    pub unit_id: i64,
    /// In groups of four, as handed to the candidate.
    pub code: String,
    pub candidate_name: String,
    pub work_unit: Option<String>,
    /// The work unit's step is merged into the recommender's (same unit).
    pub merged: bool,
    /// unused, used or revoked.
    #[schema(schema_with = crate::api::code_statuses)]
    pub status: String,
    pub application_number: Option<String>,
    pub issued_at: i64,
}

impl From<pingxuan_store::codes::Code> for CodeOut {
    fn from(c: pingxuan_store::codes::Code) -> Self {
        let status = match (c.revoked_at, c.application_id) {
            (Some(_), _) => "revoked",
            (None, Some(_)) => "used",
            (None, None) => "unused",
        };
        CodeOut {
            id: c.id,
            unit_id: c.unit_id,
            code: pingxuan_rules::code::display(&c.code),
            candidate_name: c.candidate_name,
            work_unit: c.work_unit_name,
            merged: c.merged,
            status: status.to_owned(),
            application_number: c.application_number,
            issued_at: c.issued_at,
        }
    }
}

/// The codes of the caller's recommending units, newest first.
#[utoipa::path(get, path = "/api/v1/codes", tag = "codes",
    responses((status = 200, body = Vec<CodeOut>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Vec<CodeOut>>, ApiError> {
    if !caller.access.has(pingxuan_rules::Role::Recommender) {
        return Err(crate::error::Failure::Forbidden.into());
    }
    let mut out = Vec::new();
    for desk in codes::desks(&state.store, &caller.access).await? {
        out.extend(desk.codes.into_iter().map(CodeOut::from));
    }
    Ok(Json(out))
}

#[derive(Deserialize, ToSchema)]
pub struct NewCodeIn {
    /// The issuing recommending unit (one of the caller's).
    pub unit: i64,
    #[serde(default)]
    pub candidate_name: String,
    /// Where the chain has a 所在单位 level: `"self"` (the recommender itself, where the
    /// campaign merges the steps) or a work unit's id.
    #[serde(default)]
    pub work_unit: Option<String>,
}

/// Issues a code up to the unit's quota (409 `quota_full` beyond it).
#[utoipa::path(post, path = "/api/v1/codes", tag = "codes", request_body = NewCodeIn,
    responses((status = 201, body = CodeOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn issue(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<NewCodeIn>,
) -> Result<(StatusCode, Json<CodeOut>), ApiError> {
    let choice = WorkUnitChoice::parse(req.work_unit.as_deref().unwrap_or(""));
    let code = codes::issue(
        &state.store,
        &caller.access,
        req.unit,
        &req.candidate_name,
        choice,
        caller.ip.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(code.into())))
}

/// Revokes an unused code (409 `code_used` once it was used).
#[utoipa::path(post, path = "/api/v1/codes/{id}/revoke", tag = "codes",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    codes::revoke(&state.store, &caller.access, id, caller.ip.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
