//! The application's actions as JSON: the twins of 我的申报表, the form, 我承诺, 提交,
//! 退回, 收回 and 办理. The caller's level decides what an action means: the applicant
//! submits the form, a unit or the organiser forwards with its opinion.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pingxuan_rules::form::FormValues;
use pingxuan_rules::workflow::Event;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::input::{ApiJson, ApiPath, ApiQuery};
use crate::applications::flow::{self, Loaded, UnitAction};
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody, ErrorDetail, Failure};

#[derive(Serialize, ToSchema)]
pub struct ApplicationLine {
    pub id: i64,
    pub campaign_id: String,
    pub number: String,
    pub name: String,
    pub state: String,
}

#[derive(Serialize, ToSchema)]
pub struct EventOut {
    pub seq: i64,
    /// submit, return, recall or open.
    #[schema(schema_with = crate::api::event_kinds)]
    pub kind: String,
    /// The acting level's name.
    pub by: String,
    /// Who acted: the account's name (a unit's accounts carry the unit's name).
    pub actor: String,
    /// Where a 提交 or 退回 sent it: the receiving level's name.
    pub to: Option<String>,
    /// The 修改意见, or the level's opinion with a 提交.
    pub comment: String,
    /// 东莞: the actual employer signing beside the work unit, and its opinion.
    pub co_signer: String,
    pub co_opinion: String,
    pub at: i64,
}

/// A line of 待审核申报表 or 查询申报表; 身份证号码 and mobile masked as lists show them.
#[derive(Serialize, ToSchema)]
pub struct ListItem {
    pub id: i64,
    pub campaign_id: String,
    pub number: String,
    pub name: String,
    pub employer: String,
    pub recommender: Option<String>,
    pub state: String,
    /// 转交时间 (unix seconds).
    pub moved_at: Option<i64>,
    pub id_number_masked: String,
    pub mobile_masked: String,
}

impl From<pingxuan_store::applications::ApplicationRow> for ListItem {
    fn from(a: pingxuan_store::applications::ApplicationRow) -> Self {
        ListItem {
            id: a.id,
            campaign_id: a.campaign_id,
            number: a.number,
            name: a.name,
            employer: a.employer,
            recommender: a.recommender,
            state: a.state_text,
            moved_at: a.moved_at,
            id_number_masked: a.id_number_masked,
            mobile_masked: a.mobile_masked,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewTab {
    /// `pending` (待审核的, the default) or `done` (已办理的).
    #[serde(default)]
    pub tab: Option<String>,
}

/// 待审核申报表: what waits for the caller's units and campaigns, or what they handled.
#[utoipa::path(get, path = "/api/v1/review", tag = "applications", params(ReviewTab),
    responses((status = 200, body = Vec<ListItem>), (status = 403, body = ErrorBody)))]
pub async fn review_queue(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<ReviewTab>,
) -> Result<Json<Vec<ListItem>>, ApiError> {
    let done = q.tab.as_deref() == Some("done");
    let rows = crate::applications::lists::review_queue(&state.store, &caller.access, done).await?;
    Ok(Json(rows.into_iter().map(ListItem::from).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct SearchOut {
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    /// Why the 工作单位 filter was not applied (fewer than 4 characters).
    pub employer_hint: Option<String>,
    pub items: Vec<ListItem>,
}

/// 查询申报表: search by name or number, filters, sorts, 20 a page with the total.
#[utoipa::path(get, path = "/api/v1/applications/search", tag = "applications",
    params(crate::applications::lists::SearchQuery),
    responses((status = 200, body = SearchOut), (status = 403, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<crate::applications::lists::SearchQuery>,
) -> Result<Json<SearchOut>, ApiError> {
    let (total, rows) =
        crate::applications::lists::search(&state.store, &caller.access, &q).await?;
    Ok(Json(SearchOut {
        total,
        page: q.page(),
        page_size: pingxuan_store::applications::PAGE_SIZE,
        employer_hint: q.employer_hint(),
        items: rows.into_iter().map(ListItem::from).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationOut {
    pub id: i64,
    pub campaign_id: String,
    pub number: String,
    /// As the manual writes it, e.g. 申报人提交到推荐单位.
    pub state: String,
    /// The caller's level on this application (申报人, 推荐单位 …).
    pub your_level: String,
    pub editable: bool,
    pub can_recall: bool,
    pub form_version: i64,
    /// Field key → value: `{"text": …}`, `{"list": […]}` or `{"rows": [[起止年月, 单位与工作], …]}`.
    #[schema(value_type = Object)]
    pub form: FormValues,
    pub committed_at: Option<i64>,
    pub events: Vec<EventOut>,
    /// The selection rounds' published outcomes for it (in `GET` only; empty elsewhere).
    #[serde(default)]
    pub outcomes: Vec<OutcomeOut>,
}

/// A stage's published outcome, as the candidate and its units read it.
#[derive(Serialize, ToSchema)]
pub struct OutcomeOut {
    pub stage: String,
    /// ok (passed, advanced), fail (not), warn (withdrawn, under review).
    pub mark: String,
    /// e.g. 不通过。理由：…, 晋级，进入“集中评选”.
    pub text: String,
}

fn out(l: &Loaded, level: usize) -> Result<ApplicationOut, Failure> {
    let names = flow::actor_names(l);
    let c = &l.chain;
    Ok(ApplicationOut {
        id: l.app.id,
        campaign_id: l.app.campaign_id.clone(),
        number: l.app.number.clone(),
        state: l.state.text(c),
        your_level: c.name(level).to_owned(),
        editable: level == 0 && l.state.applicant_may_edit(),
        can_recall: l.state.can_recall(level),
        form_version: l.app.form_version,
        form: l.app.form.clone(),
        committed_at: l.app.committed_at,
        events: l
            .events
            .iter()
            .map(|e| EventOut {
                seq: e.seq,
                kind: e.event.kind().to_owned(),
                by: c.name(e.event.by()).to_owned(),
                actor: e
                    .actor_id
                    .and_then(|a| names.get(&a).cloned())
                    .unwrap_or_default(),
                to: match e.event {
                    Event::Submit { by } => Some(c.name(by + 1).to_owned()),
                    Event::Return { to, .. } => Some(c.name(to).to_owned()),
                    _ => None,
                },
                comment: e.comment.clone(),
                co_signer: e.co_signer.clone(),
                co_opinion: e.co_opinion.clone(),
                at: e.at,
            })
            .collect(),
        outcomes: Vec::new(),
    })
}

/// The caller's own applications (我的申报表).
#[utoipa::path(get, path = "/api/v1/applications", tag = "applications",
    responses((status = 200, body = Vec<ApplicationLine>), (status = 401, body = ErrorBody)))]
pub async fn list_mine(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Vec<ApplicationLine>>, ApiError> {
    let rows = state.store.applications_of(caller.access.user.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|a| ApplicationLine {
                id: a.id,
                campaign_id: a.campaign_id,
                number: a.number,
                name: a.name,
                state: a.state_text,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct NewApplication {
    /// The campaign (campaigns that take applications directly).
    #[serde(default)]
    pub campaign: String,
    /// The recommending unit's id (campaigns that take applications directly).
    pub recommender: Option<i64>,
    /// 推荐码 (campaigns that take no individual applications); binds the application
    /// to the code's recommender and work unit. 12 characters of the code alphabet (no
    /// 0/O, 1/I/L), either case, spaces and dashes between them ignored.
    #[schema(pattern = r"^[\s\-－]*([2-9A-HJKMNP-Za-hjkmnp-z][\s\-－]*){12}$")]
    pub code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedApplication {
    pub id: i64,
    pub number: String,
}

/// 我要申请: with a 推荐码, or in an open campaign with the chosen recommender.
#[utoipa::path(post, path = "/api/v1/applications", tag = "applications", request_body = NewApplication,
    responses((status = 201, body = CreatedApplication), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<NewApplication>,
) -> Result<(StatusCode, Json<CreatedApplication>), ApiError> {
    let ip = caller.ip.as_deref();
    let (id, number) = match req.code.as_deref() {
        Some(code) => {
            flow::create_coded_application(&state.store, &caller.access, code, ip).await?
        }
        None => {
            flow::create_open_application(
                &state.store,
                &caller.access,
                &req.campaign,
                req.recommender,
                ip,
            )
            .await?
        }
    };
    Ok((StatusCode::CREATED, Json(CreatedApplication { id, number })))
}

/// One application as the caller may see it, with its whole flow.
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "applications",
    params(("id" = i64, Path)), responses((status = 200, body = ApplicationOut), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApplicationOut>, ApiError> {
    let (l, level) = flow::load_seen(&state.store, &caller.access, id).await?;
    let mut o = out(&l, level)?;
    o.outcomes = pingxuan_app::stages::conclusions_for(&state.store, &l.campaign, l.app.id)
        .await?
        .into_iter()
        .map(|c| OutcomeOut {
            stage: c.stage,
            mark: c.mark.to_owned(),
            text: c.text,
        })
        .collect();
    Ok(Json(o))
}

#[derive(Deserialize, ToSchema)]
pub struct FormIn {
    /// The `form_version` the edit started from; a stale one is refused (409).
    pub version: i64,
    /// Field key → value: text, a list (感人故事), or rows (学习工作经历, 资格问题).
    #[schema(schema_with = form_values_schema)]
    pub values: FormValues,
}

/// 保存: saves the draft (applicant only, while holding it).
#[utoipa::path(put, path = "/api/v1/applications/{id}/form", tag = "applications", request_body = FormIn,
    params(("id" = i64, Path)),
    responses((status = 200, body = ApplicationOut), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_form(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<FormIn>,
) -> Result<Json<ApplicationOut>, ApiError> {
    let l = flow::save_form(
        &state.store,
        &caller.access,
        id,
        req.version,
        req.values,
        caller.ip.as_deref(),
    )
    .await?;
    Ok(Json(out(&l, 0)?))
}

/// 我承诺.
#[utoipa::path(post, path = "/api/v1/applications/{id}/commit", tag = "applications",
    params(("id" = i64, Path)), responses((status = 200, body = ApplicationOut)))]
pub async fn commit(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApplicationOut>, ApiError> {
    flow::commit(&state.store, &caller.access, id, caller.ip.as_deref()).await?;
    let l = flow::load_own(&state.store, &caller.access, id).await?;
    Ok(Json(out(&l, 0)?))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct ActionIn {
    /// 推荐单位意见 for a 提交 by a unit; 修改意见 for a 退回.
    #[serde(default)]
    pub comment: String,
    /// For 退回: the level index sent back to (0, the applicant, by default).
    #[serde(default)]
    pub to: Option<usize>,
    /// 东莞: the actual employer, where it differs from the personnel-relation unit,
    /// signs beside the work unit's 提交.
    #[serde(default)]
    pub co_signer: String,
    #[serde(default)]
    pub co_opinion: String,
}

#[derive(Serialize, ToSchema)]
pub struct SubmitRefusedOut {
    pub error: ErrorDetail,
    /// Field key → its problems (an applicant's 提交 refused; absent when the request
    /// itself was refused).
    #[schema(value_type = Object, required = false)]
    pub problems: std::collections::BTreeMap<String, Vec<String>>,
    /// What stands in the way besides the fields (as `problems`).
    #[schema(required = false)]
    pub blockers: Vec<String>,
}

/// A reviewing level's move on the application it was loaded at, answered with the
/// application as it now is.
async fn unit(
    state: &AppState,
    caller: &ApiCaller,
    (l, level): (Loaded, usize),
    action: UnitAction,
    req: &ActionIn,
) -> Result<Json<ApplicationOut>, ApiError> {
    let id = l.app.id;
    flow::unit_act(
        &state.store,
        &caller.access,
        &l,
        level,
        action,
        &pingxuan_store::applications::Note {
            comment: req.comment.clone(),
            co_signer: req.co_signer.clone(),
            co_opinion: req.co_opinion.clone(),
        },
        caller.ip.as_deref(),
    )
    .await?;
    let (l, level) = flow::load_for_unit(&state.store, &caller.access, id).await?;
    Ok(Json(out(&l, level)?))
}

/// 提交: the applicant submits the saved form (every problem listed when refused); a
/// unit forwards with its opinion (`comment`).
#[utoipa::path(post, path = "/api/v1/applications/{id}/submit", tag = "applications", request_body = ActionIn,
    params(("id" = i64, Path)),
    responses((status = 200, body = ApplicationOut), (status = 422, body = SubmitRefusedOut), (status = 409, body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    body: Option<ApiJson<ActionIn>>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let req = body.map(|b| b.0).unwrap_or_default();
    let (l, level) = flow::load_seen(&state.store, &caller.access, id).await?;
    if level > 0 {
        return Ok(unit(&state, &caller, (l, level), UnitAction::Submit, &req)
            .await?
            .into_response());
    }
    match flow::applicant_submit(&state.store, &caller.access, &l, caller.ip.as_deref()).await? {
        Ok(_) => {
            let l = flow::load_own(&state.store, &caller.access, id).await?;
            Ok(Json(out(&l, 0)?).into_response())
        }
        Err(refusal) => {
            let body = SubmitRefusedOut {
                error: ErrorDetail {
                    code: "incomplete".to_owned(),
                    message: refusal.summary(),
                    field: refusal
                        .errors
                        .keys()
                        .next()
                        .map(|k| flow::field_name(*k).trim_start_matches("f.").to_owned()),
                },
                problems: refusal
                    .errors
                    .iter()
                    .map(|(k, v)| {
                        (
                            flow::field_name(*k).trim_start_matches("f.").to_owned(),
                            v.clone(),
                        )
                    })
                    .collect(),
                blockers: refusal.blockers,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response())
        }
    }
}

/// 退回 with 修改意见 (`comment`), to the applicant or to the level `to`.
#[utoipa::path(post, path = "/api/v1/applications/{id}/return", tag = "applications", request_body = ActionIn,
    params(("id" = i64, Path)), responses((status = 200, body = ApplicationOut), (status = 422, body = ErrorBody)))]
pub async fn return_back(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ActionIn>,
) -> Result<Json<ApplicationOut>, ApiError> {
    let seen = flow::load_for_unit(&state.store, &caller.access, id).await?;
    unit(
        &state,
        &caller,
        seen,
        UnitAction::Return {
            to: req.to.unwrap_or(0),
        },
        &req,
    )
    .await
}

/// 收回 the caller's last move, while the receiver has not acted on it.
#[utoipa::path(post, path = "/api/v1/applications/{id}/recall", tag = "applications",
    params(("id" = i64, Path)), responses((status = 200, body = ApplicationOut), (status = 409, body = ErrorBody)))]
pub async fn recall(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApplicationOut>, ApiError> {
    let (l, level) = flow::load_seen(&state.store, &caller.access, id).await?;
    if level > 0 {
        return unit(
            &state,
            &caller,
            (l, level),
            UnitAction::Recall,
            &ActionIn::default(),
        )
        .await;
    }
    flow::act(
        &state.store,
        &caller.access,
        &l,
        Event::Recall { by: 0 },
        &Default::default(),
        caller.ip.as_deref(),
    )
    .await?;
    let l = flow::load_own(&state.store, &caller.access, id).await?;
    Ok(Json(out(&l, 0)?))
}

/// 办理: the holding level opens what was submitted to it (ends the sender's recall).
#[utoipa::path(post, path = "/api/v1/applications/{id}/open", tag = "applications",
    params(("id" = i64, Path)), responses((status = 200, body = ApplicationOut)))]
pub async fn open(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApplicationOut>, ApiError> {
    let (l, level) = flow::load_for_unit(&state.store, &caller.access, id).await?;
    flow::open_if_new(
        &state.store,
        &caller.access,
        &l,
        level,
        caller.ip.as_deref(),
    )
    .await?;
    let (l, level) = flow::load_for_unit(&state.store, &caller.access, id).await?;
    Ok(Json(out(&l, level)?))
}

/// The 考察材料 (东莞 附件3) of this candidate as Word, prefilled for the recommending unit to
/// complete: for the recommending unit and the office.
#[utoipa::path(get, path = "/api/v1/applications/{id}/inspection.docx", tag = "exports",
    params(("id" = i64, Path)),
    responses((status = 200, description = "考察材料",
        content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn inspection_docx(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::response::Response, ApiError> {
    let d = pingxuan_app::exports::inspection(&state.filing, &caller.access, id).await?;
    send_export(&state, &caller, id, d).await
}

/// The 推荐表 as PDF, laid out like the notice's 样表, with a watermark (campaign, number,
/// export time) and on every page a QR code leading to its verification: for everyone
/// who sees the application.
#[utoipa::path(get, path = "/api/v1/applications/{id}/form.pdf", tag = "exports",
    params(("id" = i64, Path)),
    responses((status = 200, description = "推荐表", content_type = "application/pdf"),
        (status = 404, body = ErrorBody)))]
pub async fn form_pdf(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::response::Response, ApiError> {
    let d = pingxuan_app::exports::form_pdf(&state.filing, &caller.access, id).await?;
    send_export(&state, &caller, id, d).await
}

/// The same 推荐表 as a Word document (东莞 asks for Word and PDF): the cover, the table
/// with the photo, the sections and the opinion boxes; the watermark's words in the
/// header, the verification link in the footer. For everyone who sees the application.
#[utoipa::path(get, path = "/api/v1/applications/{id}/form.docx", tag = "exports",
    params(("id" = i64, Path)),
    responses((status = 200, description = "推荐表（Word）",
        content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (status = 404, body = ErrorBody)))]
pub async fn form_docx(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::response::Response, ApiError> {
    let d = pingxuan_app::exports::form_docx(&state.filing, &caller.access, id).await?;
    send_export(&state, &caller, id, d).await
}

/// Sends an application's export, recorded in the audit trail first.
async fn send_export(
    state: &AppState,
    caller: &ApiCaller,
    id: i64,
    d: pingxuan_app::exports::Download,
) -> Result<axum::response::Response, ApiError> {
    let d = d
        .audited(
            &state.store,
            &caller.access,
            caller.ip.as_deref(),
            &format!("application:{id}"),
        )
        .await?;
    Ok(crate::exports::send(d))
}

/// The form's values as an object whose keys are the platform's field keys.
fn form_values_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::{ObjectBuilder, Type};
    let keys: Vec<String> = pingxuan_rules::campaign::FieldKey::ALL
        .iter()
        .map(|k| crate::applications::flow::field_key_name(*k))
        .collect();
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(keys)),
        ))
        .build()
}
