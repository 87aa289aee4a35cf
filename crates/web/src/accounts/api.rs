use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::input::ApiJson;
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use pingxuan_app::accounts::{AccountRequest, create_account};

#[derive(Serialize, ToSchema)]
pub struct CreatedOut {
    pub id: i64,
    pub login: String,
    /// The initial password; shown only in this answer.
    pub password: String,
}

/// Creates a unit, expert, organiser or admin account (applicants register themselves).
/// Organisers may create unit and expert accounts for their campaigns; admins any.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "account",
    request_body = AccountRequest,
    responses((status = 201, body = CreatedOut), (status = 422, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn post_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<AccountRequest>,
) -> Result<(StatusCode, Json<CreatedOut>), ApiError> {
    let c = create_account(&state.store, &caller.access, &req, caller.ip.as_deref()).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedOut {
            id: c.id,
            login: c.login,
            password: c.password,
        }),
    ))
}
