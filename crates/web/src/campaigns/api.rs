use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pingxuan_rules::campaign::{Problem, Severity, load};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::input::{ApiJson, ApiPath};
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody, ErrorDetail, Failure};
use pingxuan_app::campaigns::{LoadOutcome, load_campaign};

#[derive(Serialize, ToSchema)]
pub struct CampaignSummary {
    pub id: String,
    pub name: String,
    pub year: i64,
    /// Increases each time the campaign file is replaced.
    pub revision: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ProblemOut {
    /// `error` or `warning`.
    #[schema(schema_with = crate::api::severities)]
    pub severity: String,
    /// Dotted key path, e.g. `levels[2].deadline`.
    pub key: String,
    pub line: Option<usize>,
    pub message: String,
}

impl From<&Problem> for ProblemOut {
    fn from(p: &Problem) -> Self {
        ProblemOut {
            severity: match p.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            }
            .to_owned(),
            key: p.key.clone(),
            line: p.line,
            message: p.message.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CampaignOut {
    #[serde(flatten)]
    pub summary: CampaignSummary,
    /// The campaign's rules as loaded from its file.
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
    /// Values the notice leaves to the organiser that are not yet set.
    pub warnings: Vec<ProblemOut>,
}

#[derive(Serialize, ToSchema)]
pub struct LoadedOut {
    pub id: String,
    pub revision: i64,
    pub warnings: Vec<ProblemOut>,
}

#[derive(Serialize, ToSchema)]
pub struct RefusedOut {
    pub error: ErrorDetail,
    /// Every problem found, each with its line and key.
    pub problems: Vec<ProblemOut>,
}

/// All campaigns on the platform.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns",
    responses((status = 200, body = Vec<CampaignSummary>), (status = 401, body = ErrorBody)))]
pub async fn list_campaigns(
    State(state): State<AppState>,
    _caller: ApiCaller,
) -> Result<Json<Vec<CampaignSummary>>, ApiError> {
    let list = state.store.list_campaigns().await?;
    Ok(Json(
        list.into_iter()
            .map(|c| CampaignSummary {
                id: c.id,
                name: c.name,
                year: c.year,
                revision: c.revision,
            })
            .collect(),
    ))
}

/// One campaign with its rules (the notices are public, so any signed-in caller may read them).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = String, Path, description = "活动标识，如 guangxi-2024")),
    responses((status = 200, body = CampaignOut), (status = 404, body = ErrorBody)))]
pub async fn get_campaign(
    State(state): State<AppState>,
    _caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CampaignOut>, ApiError> {
    let stored = state
        .store
        .get_campaign(&id)
        .await?
        .ok_or(Failure::NotFound)?;
    let report = load(&stored.source_toml);
    let model = report
        .campaign
        .as_ref()
        .ok_or_else(|| Failure::Internal(format!("stored campaign {id} no longer loads")))?;
    Ok(Json(CampaignOut {
        summary: CampaignSummary {
            id: stored.id.clone(),
            name: stored.name.clone(),
            year: stored.year,
            revision: stored.revision,
        },
        rules: serde_json::to_value(model).map_err(|e| Failure::Internal(e.to_string()))?,
        warnings: report.warnings().map(ProblemOut::from).collect(),
    }))
}

fn refused(problems: &[Problem]) -> Response {
    let errors: Vec<&Problem> = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    let first = errors.first();
    let body = RefusedOut {
        error: ErrorDetail {
            code: "invalid_campaign".to_owned(),
            message: format!(
                "活动配置文件有 {} 处错误，未保存{}",
                errors.len(),
                first.map(|p| format!("；第一处：{p}")).unwrap_or_default()
            ),
            field: first.map(|p| p.key.clone()),
        },
        problems: problems.iter().map(ProblemOut::from).collect(),
    };
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// Loads a campaign file (TOML in the body): a new campaign, or a new revision of the
/// campaign with the same `id`. Nothing is saved when the file has errors.
#[utoipa::path(put, path = "/api/v1/campaigns", tag = "campaigns",
    request_body(description = "活动配置文件（TOML 文本）", content((String = "application/toml"), (String = "text/plain"))),
    responses((status = 201, body = LoadedOut, description = "新建"), (status = 200, body = LoadedOut, description = "已替换"),
        (status = 422, body = RefusedOut), (status = 403, body = ErrorBody)))]
pub async fn put_campaign(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: String,
) -> Result<Response, ApiError> {
    match load_campaign(&state.store, &caller.access, &body, caller.ip.as_deref()).await? {
        LoadOutcome::Saved(l) => {
            let status = if l.revision == 1 {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let out = LoadedOut {
                id: l.id,
                revision: l.revision,
                warnings: l.warnings.iter().map(ProblemOut::from).collect(),
            };
            Ok((status, Json(out)).into_response())
        }
        LoadOutcome::Refused(problems) => Ok(refused(&problems)),
    }
}

/// Checks a campaign file without saving it.
#[utoipa::path(post, path = "/api/v1/campaigns/check", tag = "campaigns",
    request_body(description = "活动配置文件（TOML 文本）", content((String = "application/toml"), (String = "text/plain"))),
    responses((status = 200, body = Vec<ProblemOut>, description = "无错误（可能有提醒）"), (status = 422, body = RefusedOut)))]
pub async fn check_campaign(caller: ApiCaller, body: String) -> Result<Response, ApiError> {
    if !caller.access.manages_campaigns() {
        return Err(Failure::Forbidden.into());
    }
    let report = load(&body);
    if report.is_ok() {
        let out: Vec<ProblemOut> = report.problems.iter().map(ProblemOut::from).collect();
        Ok(Json(out).into_response())
    } else {
        Ok(refused(&report.problems))
    }
}

#[derive(serde::Deserialize, ToSchema)]
pub struct ExtensionIn {
    /// The level key whose deadline moves, e.g. `recommender`.
    pub level: String,
    /// One recommending unit's channel; absent for everyone.
    pub unit: Option<i64>,
    /// Beijing time: `2024-03-29 23:59` (a date alone means the end of that day).
    pub until: String,
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct GrantedOut {
    pub id: i64,
}

/// 延期: a later deadline for a level (organisers of the campaign).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/extensions", tag = "campaigns",
    params(("id" = String, Path)), request_body = ExtensionIn,
    responses((status = 201, body = GrantedOut), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn post_extension(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<ExtensionIn>,
) -> Result<(StatusCode, Json<GrantedOut>), ApiError> {
    let id = pingxuan_app::campaigns::extend_deadline(
        &state.store,
        &caller.access,
        &id,
        &req.level,
        req.unit,
        &req.until,
        &req.reason,
        caller.ip.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(GrantedOut { id })))
}

#[derive(serde::Deserialize, ToSchema)]
pub struct QuotaIn {
    pub unit: i64,
    /// Places added, 1–10.
    pub extra: i64,
    pub reason: String,
}

/// 名额例外: places beyond a “原则上” quota (organisers of the campaign).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/quota-exceptions", tag = "campaigns",
    params(("id" = String, Path)), request_body = QuotaIn,
    responses((status = 201, body = GrantedOut), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn post_quota(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<QuotaIn>,
) -> Result<(StatusCode, Json<GrantedOut>), ApiError> {
    let id = pingxuan_app::campaigns::grant_quota(
        &state.store,
        &caller.access,
        &id,
        req.unit,
        req.extra,
        &req.reason,
        caller.ip.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(GrantedOut { id })))
}

#[derive(Serialize, ToSchema)]
pub struct WinnersOut {
    /// How many people the register holds now.
    pub count: usize,
}

/// 往年获奖名单: replaces the register (CSV or tab-separated: 姓名, 身份证号码, 备注).
#[utoipa::path(put, path = "/api/v1/campaigns/{id}/winners", tag = "campaigns",
    params(("id" = String, Path)),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = WinnersOut), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn put_winners(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
    body: String,
) -> Result<Json<WinnersOut>, ApiError> {
    let count = pingxuan_app::campaigns::load_winners(
        &state.store,
        &caller.access,
        &id,
        &body,
        caller.ip.as_deref(),
    )
    .await?;
    Ok(Json(WinnersOut { count }))
}

/// The 候选人汇总表 (东莞 附件2 columns) as XLSX: a recommending unit's own candidates, or,
/// for the campaign's organiser, every candidate at the office with its 推荐单位.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/summary.xlsx", tag = "exports",
    params(("id" = String, Path, description = "活动标识")),
    responses((status = 200, description = "候选人汇总表",
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, body = ErrorBody)))]
pub async fn summary_xlsx(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let d = pingxuan_app::exports::summary_table(&state.filing, &caller.access, &id)
        .await?
        .audited(
            &state.store,
            &caller.access,
            caller.ip.as_deref(),
            &format!("campaign:{id}"),
        )
        .await?;
    Ok(crate::exports::send(d))
}

/// Starts packing the campaign's materials as a background job: the 候选人汇总表, then a
/// folder per candidate with its 推荐表 PDF and its files named as the notices ask (photos
/// 姓名+序号.jpg). A recommending unit's own candidates, or every candidate at the office.
/// Answers 202 with the job; follow it at `/api/v1/exports/{job}`.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/exports", tag = "exports",
    params(("id" = String, Path, description = "活动标识")),
    responses((status = 202, body = pingxuan_app::jobs::JobView),
        (status = 404, body = ErrorBody)))]
pub async fn start_export(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let job =
        pingxuan_app::jobs::start_bundle(&state.filing, &caller.access, &id, caller.ip.as_deref())
            .await?;
    let location = format!("/api/v1/exports/{}", job.id);
    Ok((
        StatusCode::ACCEPTED,
        [(axum::http::header::LOCATION, location)],
        Json(job),
    )
        .into_response())
}

/// How far an export job got; `download` is set once it is done.
#[utoipa::path(get, path = "/api/v1/exports/{job}", tag = "exports",
    params(("job" = String, Path)),
    responses((status = 200, body = pingxuan_app::jobs::JobView),
        (status = 404, body = ErrorBody)))]
pub async fn get_export(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(job): ApiPath<String>,
) -> Result<Json<pingxuan_app::jobs::JobView>, ApiError> {
    Ok(Json(
        pingxuan_app::jobs::view(&state.filing, &caller.access, &job).await?,
    ))
}

/// A finished export's ZIP, streamed as it is written (never stored whole); 409 while the
/// job is still running or after it failed.
#[utoipa::path(get, path = "/api/v1/exports/{job}/download", tag = "exports",
    params(("job" = String, Path)),
    responses((status = 200, description = "推荐材料", content_type = "application/zip"),
        (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn download_export(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(job): ApiPath<String>,
) -> Result<Response, ApiError> {
    let job = pingxuan_app::jobs::ready(&state.filing, &caller.access, &job, caller.ip.as_deref())
        .await?;
    Ok(crate::exports::stream_bundle(&state.blobs, &job)?)
}
