//! 公示 and objections as JSON, for the campaign's organisers: the twins of the console's
//! overview and of its moves (publish, enter an objection made by telephone or letter,
//! take one to its outcome). The public reads and objects on the pages (`/gs/…`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pingxuan_app::publicity::{self as actions, Filer, ObjectionForm, PublishForm};
use pingxuan_rules::calendar::parse_day;
use pingxuan_rules::publicity::objection::Channel;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::input::{ApiJson, ApiPath};
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};

#[derive(Serialize, ToSchema)]
pub struct EntryOut {
    pub application_id: i64,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    pub field: String,
    /// Taken off the list after an upheld objection.
    pub removed: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PublicityOut {
    /// The id in the public address `/gs/{public_id}`.
    pub public_id: String,
    /// final, supplement or unit.
    pub kind: String,
    pub title: String,
    pub body: String,
    pub contact: String,
    /// Days as YYYY-MM-DD, Beijing time.
    pub published_on: String,
    pub first_day: String,
    pub last_day: String,
    pub working_days: i64,
    /// Unix seconds: 24:00 Beijing time of the last day.
    pub ends_at: i64,
    /// 公示中 or 公示期已结束.
    pub status: String,
    pub entries: Vec<EntryOut>,
}

#[derive(Serialize, ToSchema)]
pub struct ObjectionOut {
    pub id: i64,
    /// The number the objector follows it by, as shown (7KQ2-M9XA).
    pub number: String,
    pub public_id: String,
    pub application_id: i64,
    pub candidate: String,
    /// online, phone, letter or visit.
    pub channel: String,
    /// The objector, for the organiser only (empty for a unit); the phone masked.
    pub objector: String,
    pub phone: String,
    pub text: String,
    pub received_at: i64,
    /// received, checking, rejected, unfounded or upheld.
    pub outcome: String,
    pub outcome_text: String,
    pub opinion: String,
    pub files: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ChangeOut {
    pub name: String,
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProposalOut {
    /// final or supplement.
    pub kind: String,
    pub stage_key: String,
    pub application_ids: Vec<i64>,
    /// The notice as drafted.
    pub title: String,
    pub body: String,
}

#[derive(Serialize, ToSchema)]
pub struct PublicityOverviewOut {
    pub publicities: Vec<PublicityOut>,
    /// What may be published now, if anything.
    pub proposal: Option<ProposalOut>,
    /// Why nothing may be published now.
    pub blocked: Option<String>,
    pub objections: Vec<ObjectionOut>,
    /// Against what was published: who left the list and who came on, with reasons.
    pub removed: Vec<ChangeOut>,
    pub added: Vec<ChangeOut>,
    /// What the publish form suggests.
    pub working_days: u32,
    pub contact: String,
}

/// A 公示 as the API gives it; `removed` marks those taken off the list since.
fn publicity_out(
    p: &pingxuan_store::publicity::Publicity,
    now: i64,
    removed_ids: &std::collections::HashSet<i64>,
) -> PublicityOut {
    PublicityOut {
        public_id: p.public_id.clone(),
        kind: p.kind.clone(),
        title: p.title.clone(),
        body: p.body.clone(),
        contact: p.contact.clone(),
        published_on: p.published_on.clone(),
        first_day: p.first_day.clone(),
        last_day: p.last_day.clone(),
        working_days: p.working_days,
        ends_at: p.ends_at,
        status: actions::status_text(p, now).to_owned(),
        entries: p
            .entries
            .iter()
            .map(|e| EntryOut {
                application_id: e.application_id,
                name: e.name.clone(),
                work_unit: e.work_unit.clone(),
                recommender: e.recommender.clone(),
                field: e.field.clone(),
                removed: removed_ids.contains(&e.application_id),
            })
            .collect(),
    }
}

/// An objection as the API gives it; to a unit without who made it.
fn objection_out(
    v: &actions::ObjectionView,
    public_of: &std::collections::HashMap<i64, &str>,
    for_unit: bool,
) -> ObjectionOut {
    ObjectionOut {
        id: v.objection.id,
        number: actions::number_text(&v.objection.number),
        public_id: public_of
            .get(&v.objection.publicity_id)
            .map(|s| (*s).to_owned())
            .unwrap_or_default(),
        application_id: v.objection.application_id,
        candidate: v.candidate.clone(),
        channel: v.channel.key().to_owned(),
        objector: if for_unit {
            String::new()
        } else {
            v.objection.name.clone()
        },
        phone: if for_unit {
            String::new()
        } else {
            super::masked_phone(&v.objection.phone)
        },
        text: v.objection.body.clone(),
        received_at: v.objection.received_at,
        outcome: v.outcome.key().to_owned(),
        outcome_text: v.outcome.text().to_owned(),
        opinion: v.opinion.clone(),
        files: v
            .objection
            .files
            .iter()
            .map(|f| f.original_name.clone())
            .collect(),
    }
}

fn overview_out(o: &actions::Overview) -> PublicityOverviewOut {
    let now = pingxuan_store::now();
    let removed_ids: std::collections::HashSet<i64> = o
        .objections
        .iter()
        .filter(|v| !v.still_listed)
        .map(|v| v.objection.application_id)
        .collect();
    let public_of: std::collections::HashMap<i64, &str> = o
        .publicities
        .iter()
        .map(|p| (p.id, p.public_id.as_str()))
        .collect();
    let draft = actions::draft(o);
    PublicityOverviewOut {
        publicities: o
            .publicities
            .iter()
            .map(|p| publicity_out(p, now, &removed_ids))
            .collect(),
        proposal: o.proposal.as_ref().map(|p| ProposalOut {
            kind: p.kind.key().to_owned(),
            stage_key: p.stage_key.clone(),
            application_ids: p.entries.iter().map(|e| e.application_id).collect(),
            title: draft.as_ref().map(|d| d.title.clone()).unwrap_or_default(),
            body: draft.as_ref().map(|d| d.body.clone()).unwrap_or_default(),
        }),
        blocked: o.blocked.clone(),
        objections: o
            .objections
            .iter()
            .map(|v| objection_out(v, &public_of, false))
            .collect(),
        removed: o
            .changes
            .removed
            .iter()
            .map(|(n, r)| ChangeOut {
                name: n.clone(),
                reason: r.clone(),
            })
            .collect(),
        added: o
            .changes
            .added
            .iter()
            .map(|(n, r)| ChangeOut {
                name: n.clone(),
                reason: r.clone(),
            })
            .collect(),
        working_days: o.days,
        contact: o.contact.clone(),
    }
}

/// 公示与异议: the campaign's 公示, what may be published now (or why not), the
/// objections with who made them, and the changes to the list.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/publicity", tag = "publicity",
    params(("id" = String, Path, description = "活动标识")),
    responses((status = 200, body = PublicityOverviewOut), (status = 404, body = ErrorBody)))]
pub async fn get_overview(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PublicityOverviewOut>, ApiError> {
    let o = actions::overview(&state.store, &caller.access, &id).await?;
    Ok(Json(overview_out(&o)))
}

#[derive(Deserialize, ToSchema)]
pub struct PublishIn {
    /// The notice's title and text; the draft when left out.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    /// How to object; the campaign file's when left out.
    #[serde(default)]
    pub contact: Option<String>,
    #[schema(minimum = 1, maximum = 30)]
    pub working_days: u32,
    /// YYYY-MM-DD (Beijing); today when left out, at most 60 days back.
    #[serde(default)]
    pub published_on: Option<String>,
}

/// The day a 公示 went up as typed (YYYY-MM-DD), `None` for today.
fn published_on(typed: Option<&str>) -> Result<Option<time::Date>, pingxuan_app::Error> {
    match typed.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse_day(s).map(Some).ok_or_else(|| {
            pingxuan_app::Error::invalid(
                "published_on",
                format!("发布日期“{s}”无效，应写作 2024-04-25"),
                Some("published_on"),
            )
        }),
    }
}

#[derive(Serialize, ToSchema)]
pub struct PublishedOut {
    pub public_id: String,
    /// The public page's path.
    pub url: String,
}

/// 发布公示: the confirmed final list (or those brought onto it after an upheld
/// objection), for the working days given, on the holiday calendar.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/publicity", tag = "publicity",
    request_body = PublishIn,
    params(("id" = String, Path, description = "活动标识")),
    responses((status = 201, body = PublishedOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_publish(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<PublishIn>,
) -> Result<(StatusCode, Json<PublishedOut>), ApiError> {
    let o = actions::overview(&state.store, &caller.access, &id).await?;
    let draft = actions::draft(&o);
    let published_on = published_on(body.published_on.as_deref())?;
    let form = PublishForm {
        title: body
            .title
            .or_else(|| draft.as_ref().map(|d| d.title.clone()))
            .unwrap_or_default(),
        body: body
            .body
            .or_else(|| draft.as_ref().map(|d| d.body.clone()))
            .unwrap_or_default(),
        contact: body.contact.unwrap_or_else(|| o.contact.clone()),
        working_days: body.working_days,
        published_on,
    };
    let public_id = actions::publish(
        &state.store,
        &caller.access,
        &id,
        &form,
        caller.ip.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(PublishedOut {
            url: format!("/gs/{public_id}"),
            public_id,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ObjectionIn {
    /// The 公示 (its public id) and the candidate on it.
    pub public_id: String,
    pub application_id: i64,
    /// phone, letter or visit.
    pub channel: String,
    /// The day it reached the office (a letter's postmark), YYYY-MM-DD.
    pub received_on: String,
    pub name: String,
    pub phone: String,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct ObjectionFiledOut {
    /// The number the objector follows it by.
    pub number: String,
}

/// 登记异议: an objection made by telephone, letter or visit, entered by the office.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/objections", tag = "publicity",
    request_body = ObjectionIn,
    params(("id" = String, Path, description = "活动标识")),
    responses((status = 201, body = ObjectionFiledOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_objection(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ObjectionIn>,
) -> Result<(StatusCode, Json<ObjectionFiledOut>), ApiError> {
    let channel = match Channel::from_key(&body.channel) {
        Some(c) if c != Channel::Online => c,
        _ => {
            return Err(pingxuan_app::Error::invalid(
                "channel",
                "来源应为 phone（电话）、letter（来信）或 visit（来访）",
                Some("channel"),
            )
            .into());
        }
    };
    let received_on = parse_day(body.received_on.trim()).ok_or_else(|| {
        pingxuan_app::Error::invalid(
            "received_on",
            format!("收到日期“{}”无效，应写作 2024-04-28", body.received_on),
            Some("received_on"),
        )
    })?;
    if !caller.access.organizes(&id) {
        return Err(pingxuan_app::Error::Forbidden.into());
    }
    let p = match state.store.publicity(&body.public_id).await {
        Ok(p) if p.campaign_id == id => p,
        Ok(_) | Err(pingxuan_store::StoreError::NotFound) => {
            return Err(pingxuan_app::Error::NotFound.into());
        }
        Err(e) => return Err(pingxuan_app::Error::from(e).into()),
    };
    let number = actions::object(
        &state.store,
        &state.blobs,
        &p.public_id,
        Filer::Office {
            access: &caller.access,
            channel,
            received_on,
        },
        &ObjectionForm {
            name: body.name,
            phone: body.phone,
            text: body.text,
            candidate: Some(body.application_id),
        },
        &[],
        caller.ip.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ObjectionFiledOut {
            number: actions::number_text(&number),
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct StepIn {
    /// checking, rejected, unfounded or upheld.
    pub outcome: String,
    /// The 处理意见 sent back; required for every settled outcome.
    #[serde(default)]
    pub opinion: String,
}

#[derive(Serialize, ToSchema)]
pub struct StepOut {
    pub outcome: String,
    pub outcome_text: String,
}

/// 处理异议: 核查中, or 不予受理 / 异议不成立 / 异议成立 with the 处理意见. Upholding takes
/// the candidate off the list and undoes the confirmed list.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/objections/{objection}/steps", tag = "publicity",
    request_body = StepIn,
    params(("id" = String, Path, description = "活动标识"), ("objection" = i64, Path, description = "异议的 id")),
    responses((status = 200, body = StepOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_step(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, objection)): ApiPath<(String, i64)>,
    ApiJson(body): ApiJson<StepIn>,
) -> Result<Json<StepOut>, ApiError> {
    let o = actions::decide(
        &state.store,
        &caller.access,
        &id,
        objection,
        &body.outcome,
        &body.opinion,
        caller.ip.as_deref(),
    )
    .await?;
    Ok(Json(StepOut {
        outcome: o.key().to_owned(),
        outcome_text: o.text().to_owned(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ContactOut {
    pub name: String,
    /// In full, to call the objector back; each look is in the audit trail.
    pub phone: String,
}

/// 查看异议人联系电话: the objector's name and full telephone, for the organiser; each
/// look is recorded in the audit trail (the lists show the number masked).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/objections/{objection}/contact", tag = "publicity",
    params(("id" = String, Path, description = "活动标识"), ("objection" = i64, Path, description = "异议的 id")),
    responses((status = 200, body = ContactOut), (status = 404, body = ErrorBody)))]
pub async fn post_contact(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, objection)): ApiPath<(String, i64)>,
) -> Result<Json<ContactOut>, ApiError> {
    let (name, phone) = actions::objector_contact(
        &state.store,
        &caller.access,
        &id,
        objection,
        caller.ip.as_deref(),
    )
    .await?;
    Ok(Json(ContactOut { name, phone }))
}

#[derive(Serialize, ToSchema)]
pub struct UnitCandidateOut {
    pub application_id: i64,
    pub number: String,
    pub name: String,
    pub work_unit: String,
    /// The title of the unit's 公示 that lists them, if any.
    pub publicity: Option<String>,
    /// That 公示's period has ended.
    pub publicity_over: bool,
}

#[derive(Serialize, ToSchema)]
pub struct UnitPublicityOut {
    pub unit_id: i64,
    pub unit: String,
    /// Candidates at the unit's desk (to 公示, then to send up).
    pub candidates: Vec<UnitCandidateOut>,
    pub publicities: Vec<PublicityOut>,
    /// Objections to the unit's 公示, without who made them.
    pub objections: Vec<ObjectionOut>,
    /// Working days: the notice's minimum where it sets one, else a suggestion.
    pub working_days: u32,
    /// The notice drafted for the candidates not yet on a 公示.
    pub title: String,
    pub body: String,
}

/// 推荐公示 (a recommending unit): its candidates at the desk with their 公示, its 公示,
/// the objections it handles (never who made them), the drafted notice.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/unit-publicity", tag = "publicity",
    params(("id" = String, Path, description = "活动标识")),
    responses((status = 200, body = UnitPublicityOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn get_unit(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<UnitPublicityOut>, ApiError> {
    let o = pingxuan_app::unit_publicity::overview(&state.store, &caller.access, &id).await?;
    let now = pingxuan_store::now();
    let waiting = o
        .candidates
        .iter()
        .filter(|c| c.publicity.is_none())
        .count();
    let draft = pingxuan_app::unit_publicity::draft(&o, waiting);
    let public_of: std::collections::HashMap<i64, &str> = o
        .publicities
        .iter()
        .map(|p| (p.id, p.public_id.as_str()))
        .collect();
    Ok(Json(UnitPublicityOut {
        unit_id: o.unit_id,
        unit: o.unit_name.clone(),
        candidates: o
            .candidates
            .iter()
            .map(|c| UnitCandidateOut {
                application_id: c.row.id,
                number: c.row.number.clone(),
                name: c.row.name.clone(),
                work_unit: c.row.work_unit.clone(),
                publicity: c.publicity.as_ref().map(|p| p.0.clone()),
                publicity_over: c.publicity.as_ref().is_some_and(|p| p.2),
            })
            .collect(),
        publicities: o
            .publicities
            .iter()
            .map(|p| publicity_out(p, now, &Default::default()))
            .collect(),
        objections: o
            .objections
            .iter()
            .map(|v| objection_out(v, &public_of, true))
            .collect(),
        working_days: o.days,
        title: draft.title,
        body: draft.body,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct UnitPublishIn {
    /// Applications at the unit's desk not yet on its 公示.
    pub candidates: Vec<i64>,
    /// The notice's title and text; the draft when left out.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    /// How to object to the unit.
    pub contact: String,
    #[schema(minimum = 1, maximum = 30)]
    pub working_days: u32,
    /// YYYY-MM-DD (Beijing); today when left out, at most 60 days back.
    #[serde(default)]
    pub published_on: Option<String>,
}

/// 发布推荐公示 (a recommending unit): the chosen candidates at its desk, each once, for
/// at least the notice's working days.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/unit-publicity", tag = "publicity",
    request_body = UnitPublishIn,
    params(("id" = String, Path, description = "活动标识")),
    responses((status = 201, body = PublishedOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_unit(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UnitPublishIn>,
) -> Result<(StatusCode, Json<PublishedOut>), ApiError> {
    let o = pingxuan_app::unit_publicity::overview(&state.store, &caller.access, &id).await?;
    let draft = pingxuan_app::unit_publicity::draft(&o, body.candidates.len());
    let published_on = published_on(body.published_on.as_deref())?;
    let form = pingxuan_app::unit_publicity::UnitPublishForm {
        candidates: body.candidates,
        notice: PublishForm {
            title: body.title.unwrap_or(draft.title),
            body: body.body.unwrap_or(draft.body),
            contact: body.contact,
            working_days: body.working_days,
            published_on,
        },
    };
    let public_id = pingxuan_app::unit_publicity::publish(
        &state.store,
        &caller.access,
        &id,
        &form,
        caller.ip.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(PublishedOut {
            url: format!("/gs/{public_id}"),
            public_id,
        }),
    ))
}
