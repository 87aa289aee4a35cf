//! 消息通知 as JSON.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};

#[derive(Serialize, ToSchema)]
pub struct NoticeOut {
    pub id: i64,
    pub application_id: Option<i64>,
    /// arrival, return, recall, reminder or outcome (a stage's published result).
    pub kind: String,
    pub text: String,
    pub created_at: i64,
    pub read: bool,
}

/// The caller's latest 100 notices, newest first (reading them here does not mark them read).
#[utoipa::path(get, path = "/api/v1/notices", tag = "account",
    responses((status = 200, body = Vec<NoticeOut>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Vec<NoticeOut>>, ApiError> {
    let rows = state.store.notices_of(caller.access.user.id, 100).await?;
    Ok(Json(
        rows.into_iter()
            .map(|n| NoticeOut {
                id: n.id,
                application_id: n.application_id,
                kind: n.kind,
                text: n.text,
                created_at: n.created_at,
                read: n.read_at.is_some(),
            })
            .collect(),
    ))
}
