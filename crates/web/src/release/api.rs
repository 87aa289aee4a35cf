//! The release as JSON, for the campaign's organisers: where it stands (the list with
//! each winner's serial, why not yet) and the release itself. The public reads the
//! gallery on its pages (`/jg/…`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pingxuan_app::release::{self as actions, Overview};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::input::ApiPath;
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};

#[derive(Serialize, ToSchema)]
pub struct WinnerOut {
    pub place: i64,
    pub application_id: i64,
    /// The certificate's serial (“ZMKJ2023-001”).
    pub serial: String,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    /// 事迹简介 as the gallery shows it.
    pub summary: String,
    /// What the gallery shows: portrait, photo, video.
    pub shows: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReleaseOut {
    pub released: bool,
    /// YYYY-MM-DD, once released.
    pub released_on: Option<String>,
    /// The public gallery's address, once released.
    pub gallery: Option<String>,
    /// Why it cannot be released now; empty when it can (or has been).
    pub blockers: Vec<String>,
    pub warnings: Vec<String>,
    pub winners: Vec<WinnerOut>,
}

fn out(o: &Overview) -> ReleaseOut {
    ReleaseOut {
        released: o.release.is_some(),
        released_on: o.release.as_ref().map(|r| r.released_on.clone()),
        gallery: o.release.as_ref().map(|r| format!("/jg/{}", r.public_id)),
        blockers: o.blockers.clone(),
        warnings: o.warnings.clone(),
        winners: o
            .entries
            .iter()
            .map(|e| WinnerOut {
                place: e.seq,
                application_id: e.application_id,
                serial: e.serial.clone(),
                name: e.name.clone(),
                work_unit: e.work_unit.clone(),
                recommender: e.recommender.clone(),
                summary: e.summary.clone(),
                shows: e.files.iter().map(|f| f.role.clone()).collect(),
            })
            .collect(),
    }
}

/// 评选结果发布: the list as it would be released (or was), and why not yet.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/release", tag = "release",
    params(("id" = String, Path, description = "活动标识")),
    responses((status = 200, body = ReleaseOut), (status = 404, body = ErrorBody)))]
pub async fn get_release(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ReleaseOut>, ApiError> {
    let o = actions::overview(&state.store, &caller.access, &id).await?;
    Ok(Json(out(&o)))
}

/// 发布评选结果: refused while the list is unconfirmed, a name on it has not been through
/// 公示, a 公示 runs or an objection is open (every reason in the message); once only.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/release", tag = "release",
    params(("id" = String, Path, description = "活动标识")),
    responses((status = 201, body = ReleaseOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn post_release(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<ReleaseOut>), ApiError> {
    actions::release(&state.store, &caller.access, &id, caller.ip.as_deref()).await?;
    let o = actions::overview(&state.store, &caller.access, &id).await?;
    Ok((StatusCode::CREATED, Json(out(&o))))
}
