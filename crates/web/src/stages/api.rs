//! The selection rounds as JSON: the twins of the stage page (its candidates, checklist,
//! assignments, results and history) and of each of its moves, for the campaign's
//! organisers. The moves take the same use cases as the page's forms.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pingxuan_app::stages::{self as actions, StageView};
use pingxuan_rules::selection::stage::{Event, Move, Phase};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::input::{ApiJson, ApiPath};
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody, ErrorDetail, Failure};

/// One stage of the campaign as its list shows it.
#[derive(Serialize, ToSchema)]
pub struct StageLine {
    pub key: String,
    pub name: String,
    /// unit_round, screening, vote, review or panel.
    #[schema(schema_with = crate::api::stage_kinds)]
    pub kind: String,
    /// pending, open, closed or advanced.
    #[schema(schema_with = crate::api::stage_phases)]
    pub phase: String,
    /// 未开始, 进行中 …
    pub phase_text: String,
    /// How many the stage advances; `null` where neither the file nor the organiser set it.
    pub advance: Option<u32>,
    /// In the stage once opened.
    pub candidate_count: usize,
    /// Advanced once the list is confirmed.
    pub advanced_count: usize,
    /// The outcome in force has been published to the candidates and their units.
    pub published: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CheckOut {
    pub label: String,
    /// ok, warn or fail.
    pub mark: String,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct ScreeningOut {
    pub passed: bool,
    /// Why not, for a fail (the recommending unit sees it).
    pub reason: String,
    pub by: Option<String>,
    pub at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ResultOut {
    pub rank: u32,
    /// The aggregate, exact, as shown (e.g. `86.5` or `86.333…`).
    pub total: String,
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct CandidateOut {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    /// 推荐领域 (empty where the form has none).
    pub field: String,
    /// 形式审查's checklist, prefilled from the record (screening stages; in `GET` of the
    /// stage, not in a move's answer).
    pub checks: Vec<CheckOut>,
    pub screening: Option<ScreeningOut>,
    pub advanced: bool,
    /// The experts assigned with where their sheet stands: “王专家（已提交）”.
    pub experts: Vec<String>,
    /// Once the stage has closed (scores stay hidden before).
    pub result: Option<ResultOut>,
    /// Files others sent in about the candidate, each with its sender (东莞 初选's
    /// 市直相关部门意见; in `GET` of the stage, not in a move's answer).
    pub sent: Vec<crate::materials::AttachmentOut>,
    /// The last stage under the campaign's final rules, once ranked: who the candidate
    /// counts as, each with its source.
    pub indicators: Vec<IndicatorOut>,
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorOut {
    /// academician, young, female or grassroots.
    pub indicator: String,
    /// `null` when nothing says (counted as not).
    pub has: Option<bool>,
    /// form, id_card, organiser or unknown.
    pub source: String,
    /// “46 周岁，不属 45 岁以下（身份证号码）”.
    pub text: String,
}

/// The last stage's list drawn under the campaign's final rules.
#[derive(Serialize, ToSchema)]
pub struct FinalDrawOut {
    /// Who the list takes, best first; `null` when no list meets the rules.
    pub list: Option<Vec<i64>>,
    /// Why no list meets them: the smallest set of clashing rules with counts.
    pub clash: Option<String>,
    /// The method, the digest of the inputs and the counts, as the audit entry has them.
    pub record: String,
    /// Once the list is confirmed: the campaign's further lists drawn from it (新疆's 10
    /// 全国推荐人选).
    pub extras: Vec<ExtraOut>,
}

#[derive(Serialize, ToSchema)]
pub struct ExtraOut {
    /// The file's key, for confirming it.
    pub key: String,
    pub name: String,
    pub size: u32,
    /// Who it takes, best first; `null` when no list meets the rules.
    pub list: Option<Vec<i64>>,
    pub clash: Option<String>,
    /// How it was drawn: “从最终名单 20 人中按相同比例（…）确定”.
    pub how: String,
    /// Each candidate's reason, in ranking order.
    pub reasons: Vec<ReasonOut>,
    /// Confirmed on the final list as it stands: by whom and when (unix seconds).
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ReasonOut {
    pub application_id: i64,
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct AssignmentOut {
    pub expert_id: i64,
    pub expert_name: String,
    pub application_id: i64,
}

#[derive(Serialize, ToSchema)]
pub struct TiedOut {
    pub id: i64,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct TieBreakOut {
    /// The tied candidates in the organiser's order.
    pub order: Vec<i64>,
    pub reason: String,
    pub by: Option<String>,
    pub at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct SubmittedOut {
    pub expert_id: i64,
    pub application_id: i64,
    /// “王专家 — 张三”.
    pub label: String,
}

#[derive(Serialize, ToSchema)]
pub struct KeyedOut {
    pub expert: String,
    pub sheets: usize,
}

#[derive(Serialize, ToSchema)]
pub struct StageEventOut {
    pub seq: i64,
    /// opened, closed, advanced, reverted or published.
    #[schema(schema_with = crate::api::stage_event_kinds)]
    pub kind: String,
    /// The candidates opened with or advanced.
    pub candidates: Vec<i64>,
    /// A reversal's reason.
    pub reason: String,
    pub actor: Option<String>,
    pub at: i64,
}

/// A stage with everything its page shows.
#[derive(Serialize, ToSchema)]
pub struct StageOut {
    #[serde(flatten)]
    pub line: StageLine,
    /// Experts per candidate (review stages).
    pub reviewers: Option<u32>,
    /// mean, trimmed_mean or z_score (scored stages).
    pub aggregation: Option<String>,
    pub criteria: Vec<CriterionOut>,
    /// In the stage, or before it opens those it would open with.
    pub candidates: Vec<CandidateOut>,
    /// A pending stage opens with exactly these: the ids to confirm in `open`.
    pub opens_with: Vec<i64>,
    /// What still stands in the way of closing.
    pub outstanding: Vec<String>,
    /// Once closed: who the outcome advances, the ids to confirm in `advance`;
    /// `null` while it cannot say (open, or a tie across the cut to order).
    pub outcome: Option<Vec<i64>>,
    pub assignments: Vec<AssignmentOut>,
    /// The recorded seed of the assignment, 16 hex digits.
    pub seed: Option<String>,
    /// Active experts in the campaign's pool.
    pub pool: usize,
    /// A review stage's pool, for `assignments/change`.
    pub experts: Vec<ExpertRef>,
    /// A panel in a room: the pool's members not yet keyed, for `paper`.
    pub panel_pool: Vec<ExpertRef>,
    /// A panel's ballot: `scores` (paper sheets) or `approval` (同意/不同意, `points` 1
    /// or 0); `null` for other stages.
    pub ballot: Option<String>,
    /// Candidates left with fewer experts than the stage asks, in words.
    pub short: Vec<String>,
    /// Tied across the cut: to be ordered with `tie`.
    pub tied: Vec<TiedOut>,
    pub tie_break: Option<TieBreakOut>,
    /// Submitted sheets the office may reopen while the stage is open.
    pub submitted: Vec<SubmittedOut>,
    /// A panel keyed from paper: members keyed so far, with their sheets.
    pub keyed: Vec<KeyedOut>,
    pub events: Vec<StageEventOut>,
    /// The last stage of a campaign with final rules (院士 ≤10% …), once ranked: the list
    /// drawn under them, which `outcome` then is.
    pub final_draw: Option<FinalDrawOut>,
}

#[derive(Serialize, ToSchema)]
pub struct ExpertRef {
    pub id: i64,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CriterionOut {
    pub name: String,
    /// Full marks; `null` until the organiser sets them.
    pub max_points: Option<u32>,
}

fn line(
    stage: &pingxuan_rules::campaign::Stage,
    state: &pingxuan_rules::selection::stage::State,
) -> StageLine {
    StageLine {
        key: stage.key.clone(),
        name: stage.name.clone(),
        kind: stage.kind.key().to_owned(),
        phase: state.phase.key().to_owned(),
        phase_text: state.phase.text().to_owned(),
        advance: stage.advance,
        candidate_count: state.candidates.len(),
        advanced_count: state.advanced.len(),
        published: state.published,
    }
}

fn stage_out(v: &StageView) -> StageOut {
    let stage = v.stage();
    let state = v.state();
    StageOut {
        line: line(stage, state),
        reviewers: stage.reviewers,
        aggregation: stage.scored().then(|| stage.aggregation().key().to_owned()),
        criteria: stage
            .criteria
            .iter()
            .map(|c| CriterionOut {
                name: c.clone(),
                max_points: stage.max_points.get(c).copied(),
            })
            .collect(),
        candidates: v
            .candidates
            .iter()
            .map(|c| CandidateOut {
                id: c.id,
                number: c.number.clone(),
                name: c.name.clone(),
                work_unit: c.work_unit.clone(),
                recommender: c.recommender.clone(),
                field: c.field.clone(),
                checks: c
                    .checks
                    .iter()
                    .map(|k| CheckOut {
                        label: k.label.to_owned(),
                        mark: k.mark.key().to_owned(),
                        text: k.text.clone(),
                    })
                    .collect(),
                screening: c.screening.as_ref().map(|s| ScreeningOut {
                    passed: s.passed,
                    reason: s.reason.clone(),
                    by: s.by.clone(),
                    at: s.at,
                }),
                advanced: c.advanced,
                experts: c.experts.clone(),
                result: c.result.as_ref().map(|(rank, total, reason)| ResultOut {
                    rank: *rank,
                    total: total.clone(),
                    reason: reason.clone(),
                }),
                sent: c
                    .sent
                    .iter()
                    .map(crate::materials::attachment_out)
                    .collect(),
                indicators: c
                    .indicators
                    .iter()
                    .map(|r| IndicatorOut {
                        indicator: r.indicator.key().to_owned(),
                        has: r.has,
                        source: r.source.key().to_owned(),
                        text: r.text.clone(),
                    })
                    .collect(),
            })
            .collect(),
        opens_with: if state.phase == Phase::Pending {
            v.opening_list()
        } else {
            Vec::new()
        },
        outstanding: v.outstanding.clone(),
        outcome: v.outcome.clone(),
        assignments: v
            .assignments
            .iter()
            .map(|a| AssignmentOut {
                expert_id: a.expert_id,
                expert_name: a.expert_name.clone(),
                application_id: a.application_id,
            })
            .collect(),
        seed: v.seed(),
        pool: v.pool,
        experts: v
            .pool_list
            .iter()
            .map(|(id, name)| ExpertRef {
                id: *id,
                name: name.clone(),
            })
            .collect(),
        panel_pool: v
            .panel_pool
            .iter()
            .map(|(id, name)| ExpertRef {
                id: *id,
                name: name.clone(),
            })
            .collect(),
        ballot: (stage.kind == pingxuan_rules::campaign::StageKind::Panel).then(|| {
            if stage.approval() {
                "approval"
            } else {
                "scores"
            }
            .to_owned()
        }),
        short: v.short.clone(),
        tied: v
            .tied_ids
            .iter()
            .map(|(id, name)| TiedOut {
                id: *id,
                name: name.clone(),
            })
            .collect(),
        tie_break: v.tie_break.as_ref().map(|t| TieBreakOut {
            order: t.order.clone(),
            reason: t.reason.clone(),
            by: t.by.clone(),
            at: t.at,
        }),
        submitted: v
            .submitted
            .iter()
            .map(|(e, a, label)| SubmittedOut {
                expert_id: *e,
                application_id: *a,
                label: label.clone(),
            })
            .collect(),
        keyed: v
            .keyed
            .iter()
            .map(|(expert, sheets)| KeyedOut {
                expert: expert.clone(),
                sheets: *sheets,
            })
            .collect(),
        events: v.round.events[v.index]
            .iter()
            .map(|e| {
                let (candidates, reason) = match &e.event {
                    Event::Opened { candidates } => (candidates.clone(), String::new()),
                    Event::Advanced { advanced, note } => (advanced.clone(), note.clone()),
                    Event::Closed | Event::Published => (Vec::new(), String::new()),
                    Event::Reverted { reason } => (Vec::new(), reason.clone()),
                };
                StageEventOut {
                    seq: e.seq,
                    kind: e.event.key().to_owned(),
                    candidates,
                    reason,
                    actor: e.actor.clone(),
                    at: e.at,
                }
            })
            .collect(),
        final_draw: v.final_draw.as_ref().map(|d| FinalDrawOut {
            list: d.outcome.as_ref().ok().cloned(),
            extras: d
                .extras
                .iter()
                .map(|x| {
                    let reasons = x
                        .reasons
                        .iter()
                        .map(|(id, r)| ReasonOut {
                            application_id: *id,
                            reason: r.clone(),
                        })
                        .collect();
                    ExtraOut {
                        key: x.key.clone(),
                        confirmed_by: x.confirmed.as_ref().map(|c| c.0.clone()),
                        confirmed_at: x.confirmed.as_ref().map(|c| c.1),
                        name: x.name.clone(),
                        size: x.size,
                        list: x.outcome.as_ref().ok().cloned(),
                        clash: x.outcome.as_ref().err().cloned(),
                        how: x.how.clone(),
                        reasons,
                    }
                })
                .collect(),
            clash: d.outcome.as_ref().err().cloned(),
            record: d.record.clone(),
        }),
    }
}

/// The stage after a move, without 形式审查's checklist (it reads every candidate's case
/// file; `GET` the stage for it).
async fn fresh(
    state: &AppState,
    caller: &ApiCaller,
    id: &str,
    key: &str,
) -> Result<StageOut, ApiError> {
    let v = actions::view_plain(&state.store, &caller.access, id, key).await?;
    Ok(stage_out(&v))
}

/// The campaign's stages in order, each with its phase and counts (its organisers).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/stages", tag = "stages",
    params(("id" = String, Path, description = "活动标识")),
    responses((status = 200, body = Vec<StageLine>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<StageLine>>, ApiError> {
    let round = actions::load(&state.store, &caller.access, &id).await?;
    Ok(Json(
        round
            .campaign
            .stages
            .iter()
            .zip(&round.states)
            .map(|(stage, state)| line(stage, state))
            .collect(),
    ))
}

/// One stage: candidates with 形式审查's checklist and conclusions, assignments, what
/// stands in the way of closing, and once closed each candidate's rank and reason.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/stages/{key}", tag = "stages",
    params(("id" = String, Path, description = "活动标识"), ("key" = String, Path, description = "阶段标识，如 screening")),
    responses((status = 200, body = StageOut)))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, key)): ApiPath<(String, String)>,
) -> Result<Json<StageOut>, ApiError> {
    let v = actions::view(&state.store, &caller.access, &id, &key).await?;
    Ok(Json(stage_out(&v)))
}

#[derive(Deserialize, ToSchema)]
pub struct MoveIn {
    /// open, close, advance, choose, revert or publish.
    #[schema(schema_with = crate::api::stage_moves)]
    pub action: String,
    /// For open and advance: exactly the ids the stage shows (`opens_with`, `outcome`),
    /// so what is confirmed is what was seen. For choose: the panel's own final list.
    #[serde(default)]
    pub candidates: Vec<i64>,
    /// For revert: why the advance is undone.
    #[serde(default)]
    pub reason: String,
    /// For choose: why each candidate the panel brings in instead of the drawn list's
    /// is chosen.
    #[serde(default)]
    pub reasons: Vec<SwapReason>,
}

#[derive(Deserialize, ToSchema)]
pub struct SwapReason {
    pub application_id: i64,
    pub reason: String,
}

/// 开始、结束、确定晋级名单、另选名单（最终名单，每处替换写明理由）、撤销晋级名单、公布结果: one move on the stage, written with its
/// audit entry (and, for publish, a notice to each candidate and their units); answers
/// the stage as it now stands.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/stages/{key}/moves", tag = "stages",
    request_body = MoveIn,
    params(("id" = String, Path, description = "活动标识"), ("key" = String, Path, description = "阶段标识")),
    responses((status = 200, body = StageOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_move(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, key)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<MoveIn>,
) -> Result<Json<StageOut>, ApiError> {
    let mv = match body.action.as_str() {
        "open" => Move::Open {
            candidates: body.candidates,
        },
        "close" => Move::Close,
        "advance" => Move::Advance {
            advanced: body.candidates,
        },
        "choose" => Move::Choose {
            list: body.candidates,
            reasons: body
                .reasons
                .into_iter()
                .map(|r| (r.application_id, r.reason))
                .collect(),
        },
        "revert" => Move::Revert {
            reason: body.reason,
        },
        "publish" => Move::Publish,
        _ => {
            return Err(Failure::invalid(
                "bad_action",
                "未知的操作：应为 open、close、advance、choose、revert 或 publish",
                Some("action"),
            )
            .into());
        }
    };
    actions::act(
        &state.store,
        &caller.access,
        &id,
        &key,
        mv,
        caller.ip.as_deref(),
    )
    .await?;
    Ok(Json(fresh(&state, &caller, &id, &key).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ScreenIn {
    pub passed: bool,
    /// Required for a fail: the recommending unit sees it.
    #[serde(default)]
    pub reason: String,
}

/// 形式审查 通过 or 不通过 (with its reason) for one candidate of an open screening stage.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/stages/{key}/screenings/{app}", tag = "stages",
    request_body = ScreenIn,
    params(("id" = String, Path, description = "活动标识"), ("key" = String, Path, description = "阶段标识"),
        ("app" = i64, Path, description = "申请书编号（id）")),
    responses((status = 200, body = StageOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_screening(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, key, app)): ApiPath<(String, String, i64)>,
    ApiJson(body): ApiJson<ScreenIn>,
) -> Result<Json<StageOut>, ApiError> {
    actions::screen(
        &state.store,
        &caller.access,
        &id,
        &key,
        app,
        body.passed,
        body.reason.trim(),
        caller.ip.as_deref(),
    )
    .await?;
    Ok(Json(fresh(&state, &caller, &id, &key).await?))
}

#[derive(Serialize, ToSchema)]
pub struct AssignedOut {
    /// Expert–candidate pairs made.
    pub pairs: usize,
    /// The seed recorded with them, 16 hex digits: the same pool and seed give the same panel.
    pub seed: String,
    /// Candidates left short of the stage's number, each with why.
    pub short: Vec<String>,
}

/// 自动分配评审专家 for an open review stage: conflicts of interest found first, then
/// loads as even as they allow, matched on 学科, with a recorded seed.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/stages/{key}/assignments", tag = "stages",
    params(("id" = String, Path, description = "活动标识"), ("key" = String, Path, description = "阶段标识")),
    responses((status = 200, body = AssignedOut), (status = 409, body = ErrorBody)))]
pub async fn post_assign(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, key)): ApiPath<(String, String)>,
) -> Result<Json<AssignedOut>, ApiError> {
    let done = actions::assign(
        &state.store,
        &caller.access,
        &id,
        &key,
        caller.ip.as_deref(),
    )
    .await?;
    Ok(Json(AssignedOut {
        pairs: done.pairs,
        seed: pingxuan_store::stages::seed_text(done.seed),
        short: done.short,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ChangeIn {
    /// add (a new pair, checked for conflicts) or remove (the reason required).
    #[schema(schema_with = crate::api::change_actions)]
    pub action: String,
    pub expert_id: i64,
    pub application_id: i64,
    #[serde(default)]
    pub reason: String,
}

/// 手动调整: the organiser adds an expert to a candidate of an open review stage, or takes
/// one off with a reason; checked as the automatic run is, logged.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/stages/{key}/assignments/change", tag = "stages",
    request_body = ChangeIn,
    params(("id" = String, Path, description = "活动标识"), ("key" = String, Path, description = "阶段标识")),
    responses((status = 200, body = StageOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_change(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, key)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ChangeIn>,
) -> Result<Json<StageOut>, ApiError> {
    let add = match body.action.as_str() {
        "add" => true,
        "remove" => false,
        _ => {
            return Err(Failure::invalid(
                "bad_action",
                "未知的操作：应为 add 或 remove",
                Some("action"),
            )
            .into());
        }
    };
    actions::change_assignment(
        &state.store,
        &caller.access,
        &id,
        &key,
        body.expert_id,
        body.application_id,
        add,
        &body.reason,
        caller.ip.as_deref(),
    )
    .await?;
    Ok(Json(fresh(&state, &caller, &id, &key).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PaperRow {
    pub application_id: i64,
    /// Points per criterion in the stage's order (`criteria`); `null` for a blank box.
    /// For a show of hands (`ballot = "approval"`) one value: 1 同意, 0 不同意.
    pub points: Vec<Option<i64>>,
}

#[derive(Deserialize, ToSchema)]
pub struct PaperIn {
    /// The panel member whose paper sheet this is (an expert of the campaign's pool).
    pub expert_id: i64,
    /// One row per candidate of the stage, every candidate.
    pub rows: Vec<PaperRow>,
}

#[derive(Serialize, ToSchema)]
pub struct KeyedIn {
    /// Sheets written, one per candidate.
    pub sheets: usize,
}

#[derive(Serialize, ToSchema)]
pub struct ProblemsOut {
    pub error: ErrorDetail,
    /// Every problem found, in words naming the candidate or criterion (absent when the
    /// request itself was refused, e.g. a field missing).
    #[serde(default)]
    pub problems: Vec<String>,
}

fn problems(code: &str, field: &str, list: Vec<String>) -> Response {
    let body = ProblemsOut {
        error: ErrorDetail {
            code: code.to_owned(),
            message: format!("有 {} 处问题，未保存：{}", list.len(), list.join("；")),
            field: Some(field.to_owned()),
        },
        problems: list,
    };
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// 录入纸质评分表 for a panel in a room: one member's sheet for every candidate, checked
/// as an expert's 提交 is (or, for a show of hands, 同意/不同意 each), all written
/// (marked as keyed by the office) or none.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/stages/{key}/paper", tag = "stages",
    request_body = PaperIn,
    params(("id" = String, Path, description = "活动标识"), ("key" = String, Path, description = "阶段标识")),
    responses((status = 200, body = KeyedIn), (status = 409, body = ErrorBody),
        (status = 422, description = "每一处问题", body = ProblemsOut)))]
pub async fn post_paper(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, key)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<PaperIn>,
) -> Result<Response, ApiError> {
    let typed: Vec<(i64, Vec<String>)> = body
        .rows
        .iter()
        .map(|r| (r.application_id, typed_points(&r.points)))
        .collect();
    match actions::key_in(
        &state.store,
        &caller.access,
        &id,
        &key,
        body.expert_id,
        &typed,
        caller.ip.as_deref(),
    )
    .await?
    {
        Ok(keyed) => Ok(Json(KeyedIn {
            sheets: keyed.sheets,
        })
        .into_response()),
        Err(list) => Ok(problems("invalid_sheet", "rows", list)),
    }
}

/// Points as the boxes of a page would hold them, for the one reading of `rules`.
pub(crate) fn typed_points(points: &[Option<i64>]) -> Vec<String> {
    points
        .iter()
        .map(|p| p.map(|n| n.to_string()).unwrap_or_default())
        .collect()
}

#[derive(Deserialize, ToSchema)]
pub struct TieIn {
    /// Every candidate tied across the cut (`tied`), in the order chosen.
    pub order: Vec<i64>,
    pub reason: String,
}

/// 排定同分先后: the organiser orders the candidates tied across the cut, with a reason.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/stages/{key}/tie", tag = "stages",
    request_body = TieIn,
    params(("id" = String, Path, description = "活动标识"), ("key" = String, Path, description = "阶段标识")),
    responses((status = 200, body = StageOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_tie(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, key)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<TieIn>,
) -> Result<Json<StageOut>, ApiError> {
    actions::break_tie(
        &state.store,
        &caller.access,
        &id,
        &key,
        &body.order,
        &body.reason,
        caller.ip.as_deref(),
    )
    .await?;
    Ok(Json(fresh(&state, &caller, &id, &key).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ReopenIn {
    pub expert_id: i64,
    pub application_id: i64,
    pub reason: String,
}

/// 退回评分表: a submitted sheet back to its expert while the stage is open, with a reason.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/stages/{key}/reopen", tag = "stages",
    request_body = ReopenIn,
    params(("id" = String, Path, description = "活动标识"), ("key" = String, Path, description = "阶段标识")),
    responses((status = 200, body = StageOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_reopen(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, key)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ReopenIn>,
) -> Result<Json<StageOut>, ApiError> {
    actions::reopen_sheet(
        &state.store,
        &caller.access,
        &id,
        &key,
        body.expert_id,
        body.application_id,
        &body.reason,
        caller.ip.as_deref(),
    )
    .await?;
    Ok(Json(fresh(&state, &caller, &id, &key).await?))
}

/// 评选结果 as XLSX once a scored stage has closed: the ranking with reasons and every
/// counted sheet per expert and criterion (an audited download).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/stages/{key}/results.xlsx", tag = "stages",
    params(("id" = String, Path, description = "活动标识"), ("key" = String, Path, description = "阶段标识")),
    responses((status = 200, description = "评选结果",
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 409, body = ErrorBody)))]
pub async fn results_xlsx(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, key)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let d = actions::results(
        &state.store,
        &caller.access,
        &id,
        &key,
        caller.ip.as_deref(),
    )
    .await?;
    Ok(crate::exports::send(d))
}

#[derive(Deserialize, ToSchema)]
pub struct MarkIn {
    pub application_id: i64,
    /// academician, young, female or grassroots.
    pub indicator: String,
    /// Has it (`true`), has not (`false`), or `null` to go back to the 推荐表.
    #[serde(default)]
    pub value: Option<bool>,
    /// Why (kept with the marking and in the audit trail).
    #[serde(default)]
    pub reason: String,
}

/// 标记: the organiser marks who counts as 院士, 青年, 女性 or 基层一线 for the final
/// list's rules (what no 推荐表 asks, or what it got wrong), with a reason, before the
/// final list is confirmed; the marking wins over the 推荐表 and shows as its source.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/marks", tag = "stages",
    request_body = MarkIn,
    params(("id" = String, Path, description = "活动标识")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_mark(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<MarkIn>,
) -> Result<StatusCode, ApiError> {
    pingxuan_app::marks::mark(
        &state.store,
        &caller.access,
        &id,
        body.application_id,
        &body.indicator,
        body.value,
        &body.reason,
        caller.ip.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 确定附加名单: records a further list (新疆's 10 全国推荐人选) as drawn now from the
/// confirmed final list, with the method and the inputs' digest in the audit entry.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/extra-lists/{list}", tag = "stages",
    params(("id" = String, Path, description = "活动标识"), ("list" = String, Path, description = "附加名单的 key")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn post_extra(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, list)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    pingxuan_app::extra_lists::confirm_extra(
        &state.store,
        &caller.access,
        &id,
        &list,
        caller.ip.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
