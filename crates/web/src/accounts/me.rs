use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};

#[derive(Serialize, ToSchema)]
pub struct RoleOut {
    /// applicant, work_unit, recommender, organizer, expert, voter or admin.
    #[schema(schema_with = crate::api::role_keys)]
    pub role: String,
    pub label: String,
    pub campaign_id: Option<String>,
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MeOut {
    pub id: i64,
    pub display_name: String,
    pub roles: Vec<RoleOut>,
}

/// The account the token or session belongs to, with its roles.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, body = MeOut), (status = 401, body = ErrorBody)))]
pub async fn get_me(caller: ApiCaller) -> Result<Json<MeOut>, ApiError> {
    let a = caller.access;
    Ok(Json(MeOut {
        id: a.user.id,
        display_name: a.user.display_name.clone(),
        roles: a
            .roles
            .iter()
            .map(|r| RoleOut {
                role: r.role.as_str().to_owned(),
                label: r.role.label().to_owned(),
                campaign_id: r.campaign_id.clone(),
                unit_id: r.unit_id,
                unit_name: r.unit_name.clone(),
            })
            .collect(),
    }))
}
