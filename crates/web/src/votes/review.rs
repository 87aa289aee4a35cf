//! 可疑投票核查, for a round's organisers (issue 20): the clusters the signals found, each
//! with its evidence and where its review stands; a decision per cluster (keep, invalidate,
//! zero where the campaign says so) with its reason, a proposal confirmed by a second
//! organiser above the campaign's size; 重新检测 on demand. The page's forms and the API
//! twins under `/api/v1/campaigns/{id}/stages/{key}/suspects` take the same use cases.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use pingxuan_app::vote_review::{self as actions, Decided, Review};
use pingxuan_rules::vote::review::Verdict;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::input::{ApiJson, ApiPath};
use crate::auth::{ApiCaller, Posted, SignedIn};
use crate::error::{ApiError, ErrorBody, Failure, PageError};
use crate::pages::{Shell, format_time};

#[derive(Template)]
#[template(path = "votes/review.html")]
struct ReviewPage {
    shell: Shell,
    campaign_id: String,
    key: String,
    stage_name: String,
    csrf: String,
    frozen: bool,
    zero_allowed: bool,
    second_above: Option<u32>,
    open: usize,
    clusters: Vec<ClusterRow>,
    done: Option<&'static str>,
    /// A refused decision: the cluster, the message, and what was typed.
    error: Option<(String, String, String)>,
}

struct ClusterRow {
    key: String,
    signal_name: &'static str,
    evidence: String,
    votes: i64,
    generation: i64,
    found_at: String,
    status: String,
    decided: bool,
    pending: bool,
    voided: i64,
    reason: String,
    targets: String,
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

fn done_text(d: Option<&str>) -> Option<&'static str> {
    Some(match d? {
        "scanned" => "已重新检测",
        "kept" => "已记录：保留计票",
        "applied" => "已处理，相关选票不计入得票（记录保留，可在审计日志中查看）",
        "proposed" => "处理意见已提交，待另一位组织者确认后生效",
        "confirmed" => "已确认，处理生效",
        "withdrawn" => "处理意见已撤回",
        _ => return None,
    })
}

fn render(
    who: &SignedIn,
    id: &str,
    key: &str,
    r: Review,
    done: Option<&str>,
    error: Option<(String, String, String)>,
) -> Result<Response, PageError> {
    let page = ReviewPage {
        shell: Shell::signed_in(
            who,
            &format!("{} · 可疑投票核查", r.stage_name),
            "/campaigns",
        ),
        campaign_id: id.to_owned(),
        key: key.to_owned(),
        csrf: who.session.csrf_token.clone(),
        frozen: r.frozen,
        zero_allowed: r.zero_allowed,
        second_above: r.second_above,
        open: r.open(),
        clusters: r
            .clusters
            .into_iter()
            .map(|c| ClusterRow {
                decided: c.cluster.decided(),
                pending: c.cluster.pending(),
                signal_name: c.signal_name,
                status: c.status,
                found_at: format_time(c.cluster.found_at),
                reason: c.cluster.reason.clone().unwrap_or_default(),
                targets: c.targets,
                voided: c.cluster.voided,
                votes: c.cluster.votes,
                generation: c.cluster.generation,
                evidence: c.cluster.evidence,
                key: c.cluster.key,
            })
            .collect(),
        stage_name: r.stage_name,
        done: done_text(done),
        error,
    };
    let status = if page.error.is_some() {
        axum::http::StatusCode::CONFLICT
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, Html(page.render().map_err(Failure::from)?)).into_response())
}

/// `GET /campaigns/{id}/stages/{key}/suspects`.
pub async fn get_review(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, key)): Path<(String, String)>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let r = actions::review(&state.store, &who.access, &id, &key)
        .await
        .map_err(Failure::from)?;
    render(&who, &id, &key, r, q.done.as_deref(), None)
}

/// `POST /campaigns/{id}/stages/{key}/suspects/scan`: 重新检测.
pub async fn post_scan(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, key)): Path<(String, String)>,
    // The form's CSRF token, checked by the extractor; nothing else is posted.
    Posted(_): Posted<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    // Who may scan is who may review.
    actions::review(&state.store, &who.access, &id, &key)
        .await
        .map_err(Failure::from)?;
    match actions::scan(&state.store, &id, &key, pingxuan_store::now()).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/campaigns/{id}/stages/{key}/suspects?done=scanned"
        ))
        .into_response()),
        Err(e) => again(&state, &who, &id, &key, String::new(), e, String::new()).await,
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    cluster: String,
    /// keep, invalidate, zero, confirm or withdraw.
    action: String,
    #[serde(default)]
    reason: String,
    /// The cluster's votes and scan generation as the page showed them.
    #[serde(default)]
    seen: Option<i64>,
    #[serde(default)]
    generation: Option<i64>,
}

/// `POST /campaigns/{id}/stages/{key}/suspects`: a decision, a confirmation or a withdrawal.
pub async fn post_decision(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, key)): Path<(String, String)>,
    Posted(form): Posted<DecisionForm>,
) -> Result<Response, PageError> {
    let (store, access, ip) = (&state.store, &who.access, who.ip.as_deref());
    let done = match form.action.as_str() {
        "confirm" => actions::confirm(store, access, &id, &key, &form.cluster, ip)
            .await
            .map(|_| "confirmed"),
        "withdraw" => actions::withdraw(store, access, &id, &key, &form.cluster, ip)
            .await
            .map(|()| "withdrawn"),
        other => match Verdict::from_key(other) {
            Some(v) => actions::decide(
                store,
                access,
                &id,
                &key,
                &form.cluster,
                v,
                &form.reason,
                actions::Seen {
                    votes: form.seen,
                    generation: form.generation,
                },
                ip,
            )
            .await
            .map(|d| match d {
                Decided::Proposed => "proposed",
                Decided::Applied(_) if v == Verdict::Keep => "kept",
                Decided::Applied(_) => "applied",
            }),
            None => Err(pingxuan_app::Error::invalid(
                "bad_action",
                "请选择处理方式",
                Some("action"),
            )),
        },
    };
    match done {
        Ok(d) => Ok(
            Redirect::to(&format!("/campaigns/{id}/stages/{key}/suspects?done={d}"))
                .into_response(),
        ),
        Err(e) => again(&state, &who, &id, &key, form.cluster, e, form.reason).await,
    }
}

/// A refused decision: the page again, the message at the cluster with what was typed.
async fn again(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    key: &str,
    cluster: String,
    e: pingxuan_app::Error,
    typed: String,
) -> Result<Response, PageError> {
    let message = match &e {
        pingxuan_app::Error::Conflict { message, .. }
        | pingxuan_app::Error::Invalid { message, .. } => message.clone(),
        _ => return Err(Failure::from(e).into()),
    };
    let r = actions::review(&state.store, &who.access, id, key)
        .await
        .map_err(Failure::from)?;
    render(who, id, key, r, None, Some((cluster, message, typed)))
}

/// A cluster as JSON.
#[derive(Serialize, ToSchema)]
pub struct ClusterOut {
    /// What a decision names.
    pub cluster: String,
    /// burst, device, hour, run, prefix or metronome.
    pub signal: String,
    /// 同一网段集中投票 …
    pub signal_name: String,
    pub evidence: String,
    pub votes: i64,
    /// The scan that last changed its votes: sent back with a decision as `generation`.
    pub generation: i64,
    pub found_at: i64,
    /// 待处理, 待另一位组织者确认：…, or the decision in words.
    pub status: String,
    /// keep, invalidate or zero, once proposed or decided.
    pub verdict: Option<String>,
    pub reason: Option<String>,
    pub pending: bool,
    pub decided: bool,
    /// Votes the decision set aside.
    pub voided: i64,
    /// Whom its votes went to, most first.
    pub targets: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewOut {
    pub frozen: bool,
    /// Undecided clusters and proposals: none may remain at the freeze.
    pub open: usize,
    pub zero_allowed: bool,
    pub second_above: Option<u32>,
    pub clusters: Vec<ClusterOut>,
}

fn review_out(r: Review) -> ReviewOut {
    ReviewOut {
        frozen: r.frozen,
        open: r.open(),
        zero_allowed: r.zero_allowed,
        second_above: r.second_above,
        clusters: r
            .clusters
            .into_iter()
            .map(|c| ClusterOut {
                pending: c.cluster.pending(),
                decided: c.cluster.decided(),
                signal_name: c.signal_name.to_owned(),
                status: c.status,
                cluster: c.cluster.key,
                signal: c.cluster.signal,
                evidence: c.cluster.evidence,
                votes: c.cluster.votes,
                generation: c.cluster.generation,
                found_at: c.cluster.found_at,
                verdict: c.cluster.verdict,
                reason: c.cluster.reason,
                voided: c.cluster.voided,
                targets: c.targets,
            })
            .collect(),
    }
}

/// 可疑投票核查 as JSON: the round's clusters and where each stands.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/stages/{key}/suspects", tag = "stages",
    params(("id" = String, Path, description = "活动标识"), ("key" = String, Path, description = "阶段标识")),
    responses((status = 200, body = ReviewOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn api_review(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, key)): ApiPath<(String, String)>,
) -> Result<Json<ReviewOut>, ApiError> {
    let r = actions::review(&state.store, &caller.access, &id, &key).await?;
    Ok(Json(review_out(r)))
}

/// 重新检测: the signals run over the round's votes now.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/stages/{key}/suspects/scan", tag = "stages",
    params(("id" = String, Path, description = "活动标识"), ("key" = String, Path, description = "阶段标识")),
    responses((status = 200, body = ReviewOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn api_scan(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, key)): ApiPath<(String, String)>,
) -> Result<Json<ReviewOut>, ApiError> {
    actions::review(&state.store, &caller.access, &id, &key).await?;
    actions::scan(&state.store, &id, &key, pingxuan_store::now()).await?;
    let r = actions::review(&state.store, &caller.access, &id, &key).await?;
    Ok(Json(review_out(r)))
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionIn {
    /// The cluster's key (`cluster` of the list).
    pub cluster: String,
    /// keep, invalidate, zero (where the campaign's sanction is zero), confirm (another
    /// organiser's proposal) or withdraw (a proposal).
    pub action: String,
    /// Why; required to invalidate or zero.
    #[serde(default)]
    pub reason: String,
    /// The cluster's `votes` as last read: refused (409) when a scan has changed them since.
    #[serde(default)]
    pub seen: Option<i64>,
    /// The cluster's `generation` as last read: refused (409) when a scan has changed its
    /// votes since, even to as many.
    #[serde(default)]
    pub generation: Option<i64>,
}

/// A decision on a cluster, a proposal's confirmation or its withdrawal; the review after it.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/stages/{key}/suspects", tag = "stages",
    request_body = DecisionIn,
    params(("id" = String, Path, description = "活动标识"), ("key" = String, Path, description = "阶段标识")),
    responses((status = 200, body = ReviewOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_decision(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, key)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<DecisionIn>,
) -> Result<Json<ReviewOut>, ApiError> {
    let (store, access, ip) = (&state.store, &caller.access, caller.ip.as_deref());
    match body.action.as_str() {
        "confirm" => {
            actions::confirm(store, access, &id, &key, &body.cluster, ip).await?;
        }
        "withdraw" => actions::withdraw(store, access, &id, &key, &body.cluster, ip).await?,
        other => {
            let v = Verdict::from_key(other).ok_or_else(|| {
                Failure::invalid(
                    "bad_action",
                    "action 须为 keep、invalidate、zero、confirm 或 withdraw",
                    Some("action"),
                )
            })?;
            actions::decide(
                store,
                access,
                &id,
                &key,
                &body.cluster,
                v,
                &body.reason,
                actions::Seen {
                    votes: body.seen,
                    generation: body.generation,
                },
                ip,
            )
            .await?;
        }
    }
    let r = actions::review(store, access, &id, &key).await?;
    Ok(Json(review_out(r)))
}
