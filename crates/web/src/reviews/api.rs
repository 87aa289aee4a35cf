//! The expert's side as JSON: the twins of 我的评审 (tasks), the 回避声明 and the score
//! sheet. The same use cases as the pages: an expert reaches only their own assignments.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pingxuan_app::reviews::{self as actions, Saved, SheetView, Task};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::input::{ApiJson, ApiPath};
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody, ErrorDetail};

#[derive(Serialize, ToSchema)]
pub struct SheetOut {
    /// Points per criterion in the stage's order; `null` for a blank box.
    pub points: Vec<Option<u32>>,
    pub comment: String,
    /// Send it back with the next save: a save over a newer version is refused.
    pub version: i64,
    /// Once submitted the sheet is locked.
    pub submitted_at: Option<i64>,
}

impl From<&pingxuan_store::sheets::Sheet> for SheetOut {
    fn from(s: &pingxuan_store::sheets::Sheet) -> Self {
        SheetOut {
            points: s.points.clone(),
            comment: s.comment.clone(),
            version: s.version,
            submitted_at: s.submitted_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ItemOut {
    pub application_id: i64,
    pub number: String,
    pub name: String,
    pub work_unit: String,
    /// “无”, the relation declared, or `null` before the 回避声明.
    pub declared: Option<String>,
    pub sheet: Option<SheetOut>,
}

#[derive(Serialize, ToSchema)]
pub struct TaskOut {
    pub campaign_id: String,
    pub campaign_name: String,
    pub stage_key: String,
    pub stage_name: String,
    /// pending, open, closed or advanced.
    #[schema(schema_with = crate::api::stage_phases)]
    pub phase: String,
    /// Every assigned candidate has its 回避声明: sheets may be opened.
    pub declared: bool,
    pub items: Vec<ItemOut>,
}

fn task_out(t: &Task) -> TaskOut {
    TaskOut {
        campaign_id: t.campaign_id.clone(),
        campaign_name: t.campaign_name.clone(),
        stage_key: t.stage.key.clone(),
        stage_name: t.stage.name.clone(),
        phase: t.phase.key().to_owned(),
        declared: t.declared(),
        items: t
            .items
            .iter()
            .map(|i| ItemOut {
                application_id: i.application_id,
                number: i.number.clone(),
                name: i.name.clone(),
                work_unit: i.work_unit.clone(),
                declared: i.declared.clone(),
                sheet: i.sheet.as_ref().map(SheetOut::from),
            })
            .collect(),
    }
}

/// 我的评审: the caller's assignments in every campaign, stage by stage.
#[utoipa::path(get, path = "/api/v1/reviews", tag = "reviews",
    responses((status = 200, body = Vec<TaskOut>)))]
pub async fn tasks(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Vec<TaskOut>>, ApiError> {
    let tasks = actions::tasks(&state.store, &caller.access).await?;
    Ok(Json(tasks.iter().map(task_out).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct DeclarationIn {
    /// “无”, or the relation with the candidate (e.g. 同一课题组).
    pub declaration: String,
}

#[derive(Serialize, ToSchema)]
pub struct DeclaredOut {
    /// none (no relation), declared (handed to another expert) or alone (no other expert
    /// could take the candidate; the office sees it short).
    #[schema(schema_with = crate::api::declaration_outcomes)]
    pub outcome: String,
    pub message: String,
}

/// 回避声明 for one assigned candidate, before any is opened: “无”, or the relation, which
/// hands the candidate to another eligible expert in the same transaction.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/stages/{key}/declarations/{app}", tag = "reviews",
    request_body = DeclarationIn,
    params(("id" = String, Path, description = "活动标识"), ("key" = String, Path, description = "阶段标识"),
        ("app" = i64, Path, description = "申请书编号（id）")),
    responses((status = 200, body = DeclaredOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_declaration(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, key, app)): ApiPath<(String, String, i64)>,
    ApiJson(body): ApiJson<DeclarationIn>,
) -> Result<Json<DeclaredOut>, ApiError> {
    let declared = actions::declare(
        &state.store,
        &caller.access,
        &id,
        &key,
        app,
        &body.declaration,
        caller.ip.as_deref(),
    )
    .await?;
    Ok(Json(DeclaredOut {
        outcome: declared.key().to_owned(),
        message: declared.words(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct FactOut {
    pub label: String,
    pub value: String,
}

#[derive(Serialize, ToSchema)]
pub struct SheetCriterion {
    pub name: String,
    pub max_points: u32,
}

#[derive(Serialize, ToSchema)]
pub struct SheetPageOut {
    pub campaign_id: String,
    pub stage_key: String,
    pub stage_name: String,
    #[schema(schema_with = crate::api::stage_phases)]
    pub phase: String,
    pub application_id: i64,
    pub number: String,
    pub name: String,
    /// The 推荐表's fields as the expert judges by them (身份证号 and contacts left out).
    pub facts: Vec<FactOut>,
    pub criteria: Vec<SheetCriterion>,
    pub sheet: Option<SheetOut>,
}

fn sheet_page(v: &SheetView) -> SheetPageOut {
    SheetPageOut {
        campaign_id: v.task.campaign_id.clone(),
        stage_key: v.task.stage.key.clone(),
        stage_name: v.task.stage.name.clone(),
        phase: v.task.phase.key().to_owned(),
        application_id: v.item.application_id,
        number: v.item.number.clone(),
        name: v.item.name.clone(),
        facts: v
            .facts
            .iter()
            .map(|(label, value)| FactOut {
                label: label.clone(),
                value: value.clone(),
            })
            .collect(),
        criteria: v
            .criteria
            .iter()
            .map(|(name, max)| SheetCriterion {
                name: name.clone(),
                max_points: *max,
            })
            .collect(),
        sheet: v.item.sheet.as_ref().map(SheetOut::from),
    }
}

/// One assigned candidate's score sheet with the facts to judge by; refused until every
/// assigned candidate has its 回避声明, and 404 for one not the caller's.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/stages/{key}/sheets/{app}", tag = "reviews",
    params(("id" = String, Path, description = "活动标识"), ("key" = String, Path, description = "阶段标识"),
        ("app" = i64, Path, description = "申请书编号（id）")),
    responses((status = 200, body = SheetPageOut), (status = 409, body = ErrorBody)))]
pub async fn get_sheet(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, key, app)): ApiPath<(String, String, i64)>,
) -> Result<Json<SheetPageOut>, ApiError> {
    let v = actions::open(&state.store, &caller.access, &id, &key, app).await?;
    Ok(Json(sheet_page(&v)))
}

#[derive(Deserialize, ToSchema)]
pub struct SheetIn {
    /// Points per criterion in the stage's order; `null` for a blank box (a draft only).
    pub points: Vec<Option<i64>>,
    #[serde(default)]
    pub comment: String,
    /// The version read (0 for a sheet not yet saved).
    pub version: i64,
    /// 提交: every criterion filled, then the sheet locks. Otherwise a draft.
    #[serde(default)]
    pub submit: bool,
}

/// A sheet as saved.
#[derive(Serialize, ToSchema)]
pub struct SavedOut {
    pub sheet: SheetOut,
}

#[derive(Serialize, ToSchema)]
pub struct SheetProblem {
    /// The criterion concerned, when there is one.
    pub criterion: Option<String>,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct SheetRefused {
    pub error: ErrorDetail,
    /// Every problem, by criterion; the draft saved before stays as it was (absent when
    /// the request itself was refused, e.g. a field missing).
    #[serde(default)]
    pub problems: Vec<SheetProblem>,
}

/// 保存 or 提交 the caller's sheet for one assigned candidate: a draft, or 提交 which
/// checks every criterion against its full marks and locks the sheet. Answers the sheet
/// as stored (its new version).
#[utoipa::path(put, path = "/api/v1/campaigns/{id}/stages/{key}/sheets/{app}", tag = "reviews",
    request_body = SheetIn,
    params(("id" = String, Path, description = "活动标识"), ("key" = String, Path, description = "阶段标识"),
        ("app" = i64, Path, description = "申请书编号（id）")),
    responses((status = 200, body = SavedOut), (status = 409, body = ErrorBody),
        (status = 422, description = "每一处问题", body = SheetRefused)))]
pub async fn put_sheet(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, key, app)): ApiPath<(String, String, i64)>,
    ApiJson(body): ApiJson<SheetIn>,
) -> Result<Response, ApiError> {
    let typed = crate::stages::api::typed_points(&body.points);
    let saved = actions::save(
        &state.store,
        &caller.access,
        &id,
        &key,
        app,
        &typed,
        &body.comment,
        body.version,
        body.submit,
        caller.ip.as_deref(),
    )
    .await?;
    match saved {
        Saved::Done { .. } => {
            // The sheet as now stored; the facts the caller already read are not sent again.
            let sheet = state
                .store
                .sheets_of(&id, &key, caller.access.user.id)
                .await?
                .into_iter()
                .find(|s| s.application_id == app)
                .ok_or(crate::error::Failure::NotFound)?;
            Ok(Json(SavedOut {
                sheet: SheetOut::from(&sheet),
            })
            .into_response())
        }
        Saved::Refused(problems) => {
            let v = actions::open(&state.store, &caller.access, &id, &key, app).await?;
            let field = problems
                .first()
                .and_then(|p| p.criterion)
                .map_or_else(|| "points".to_owned(), |i| format!("points[{i}]"));
            let list: Vec<SheetProblem> = problems
                .into_iter()
                .map(|p| SheetProblem {
                    criterion: p
                        .criterion
                        .and_then(|i| v.criteria.get(i))
                        .map(|c| c.0.clone()),
                    message: p.message,
                })
                .collect();
            let body = SheetRefused {
                error: ErrorDetail {
                    code: "invalid_sheet".to_owned(),
                    message: format!(
                        "评分表有 {} 处问题，未保存：{}",
                        list.len(),
                        list.iter()
                            .map(|p| p.message.as_str())
                            .collect::<Vec<_>>()
                            .join("；")
                    ),
                    field: Some(field),
                },
                problems: list,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response())
        }
    }
}
