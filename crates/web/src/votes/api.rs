//! The vote as JSON, for the voting page's script and for any client: a round with its
//! cards, a phone's code (after the captcha) and its proof, a vote with its receipt; the
//! 专业组 expert's ballot.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Public, SHARE_COOKIE, VOTER_COOKIE, share_code, vote_cookie};
use crate::AppState;
use crate::CaptchaPolicy;
use crate::api::input::{ApiJson, ApiPath};
use crate::auth::{ApiCaller, SESSION_COOKIE};
use crate::error::{ApiError, ErrorBody, Failure};
use pingxuan_app::vote_page;
use pingxuan_app::voters;
use pingxuan_app::votes::{self, Client, Voter};

#[derive(Serialize, ToSchema)]
pub struct CardOut {
    /// The candidate's number in the round: what a vote names.
    pub number: usize,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    /// 事迹简介.
    pub summary: String,
    /// The portrait's small JPEG, if any.
    pub portrait: Option<String>,
    /// Votes of the 公众组 so far, where the round shows counts.
    pub votes: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct RoundOut {
    pub campaign_title: String,
    pub stage_name: String,
    /// 未开始, 投票中, 已截止 or 已结束.
    pub status: String,
    /// Whether a vote cast now is taken.
    pub taking: bool,
    /// “2027年1月5日 09:00 至 2027年1月12日 18:00（北京时间）”.
    pub window: Option<String>,
    pub rules: Vec<String>,
    /// The sanction for 刷票 and what a vote keeps.
    pub integrity: Vec<String>,
    pub candidates: Vec<CardOut>,
    /// This browser's voter, the phone masked, once proven.
    pub voter: Option<String>,
    /// Once the office has frozen the round: its result.
    pub result: Option<ResultOut>,
}

/// A frozen round's result: the formula, each candidate's votes per group and merged
/// score, ranked; who goes on once the office has advanced them.
#[derive(Serialize, ToSchema)]
pub struct ResultOut {
    /// “综合得分 = 公众组票数 ÷ 公众组有效票总数 × 0.6 + …（公众组有效票 … 票）”.
    pub formula: String,
    /// The groups' names, in the order of each row's `votes`.
    pub groups: Vec<String>,
    /// SHA-256 of the frozen count.
    pub digest: String,
    /// When it was frozen (Unix seconds).
    pub frozen_at: i64,
    /// The office has advanced the stage: `advanced` is final.
    pub confirmed: bool,
    pub rows: Vec<StandingOut>,
    /// The Merkle root over the valid votes (`pingxuan vote verify`).
    pub root: Option<String>,
    /// Votes set aside in all.
    pub invalid: i64,
    /// Each decision that set votes aside: what found them, how many, why.
    pub set_aside: Vec<SetAsideOut>,
}

#[derive(Serialize, ToSchema)]
pub struct SetAsideOut {
    /// 同一网段集中投票 …
    pub signal: String,
    pub votes: i64,
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct StandingOut {
    pub rank: u32,
    /// The candidate's number in the round.
    pub number: usize,
    pub name: String,
    pub work_unit: String,
    pub votes: Vec<u64>,
    /// Votes set aside per group, the same order.
    pub invalid: Vec<u64>,
    /// The merged score, four places.
    pub score: String,
    pub advanced: bool,
    /// Why not, where an objection took them off the list.
    pub note: String,
}

fn result_out(s: &vote_page::Standings) -> ResultOut {
    ResultOut {
        formula: s.formula.clone(),
        groups: s.groups.clone(),
        digest: s.digest.clone(),
        frozen_at: s.frozen_at,
        confirmed: s.confirmed,
        root: s.root.clone(),
        invalid: s.invalid,
        set_aside: s
            .set_aside
            .iter()
            .map(|(signal, votes, reason)| SetAsideOut {
                signal: signal.clone(),
                votes: *votes,
                reason: reason.clone(),
            })
            .collect(),
        rows: s
            .rows
            .iter()
            .map(|r| StandingOut {
                rank: r.rank,
                number: r.number,
                name: r.name.clone(),
                work_unit: r.work_unit.clone(),
                votes: r.counts.clone(),
                invalid: r.invalid.clone(),
                score: r.total.clone(),
                advanced: r.advanced,
                note: r.note.clone(),
            })
            .collect(),
    }
}

pub(crate) fn card_out(
    campaign: &str,
    stage: &str,
    c: &vote_page::Card,
    counts: &Option<std::collections::HashMap<usize, u64>>,
) -> CardOut {
    CardOut {
        number: c.number,
        name: c.name.clone(),
        work_unit: c.work_unit.clone(),
        recommender: c.recommender.clone(),
        summary: c.summary.clone(),
        portrait: c
            .portrait()
            .map(|f| format!("/tp/{campaign}/{stage}/{}/{f}/small", c.number)),
        votes: counts
            .as_ref()
            .map(|m| m.get(&c.number).copied().unwrap_or(0)),
    }
}

/// The masked phone of this browser's voter for the campaign.
pub(crate) async fn voter_shown(
    state: &AppState,
    p: &Public,
    campaign: &str,
) -> Result<Option<String>, Failure> {
    match super::voter_of(state, p, campaign).await? {
        Some(id) => Ok(state.store.voter_masked_phone(id).await?),
        None => Ok(None),
    }
}

/// A round of the vote as the page shows it, for anyone.
#[utoipa::path(get, path = "/api/v1/votes/{campaign}/rounds/{stage}", tag = "votes",
    security(()),
    params(("campaign" = String, Path, description = "活动标识"), ("stage" = String, Path, description = "投票阶段标识")),
    responses((status = 200, body = RoundOut), (status = 404, body = ErrorBody)))]
pub async fn get_round(
    State(state): State<AppState>,
    p: Public,
    ApiPath((campaign, stage)): ApiPath<(String, String)>,
) -> Result<Json<RoundOut>, ApiError> {
    let seed = p.cookie(super::DEVICE_COOKIE);
    let page = vote_page::page(
        &state.ballots,
        &campaign,
        &stage,
        &seed,
        pingxuan_store::now(),
    )
    .await?;
    let voter = voter_shown(&state, &p, &campaign).await?;
    Ok(Json(RoundOut {
        candidates: page
            .cards
            .iter()
            .map(|c| card_out(&campaign, &stage, c, &page.counts))
            .collect(),
        campaign_title: page.campaign_title,
        stage_name: page.stage_name,
        status: page.status,
        taking: page.taking,
        window: page.window,
        rules: page.rules,
        integrity: page.integrity,
        voter,
        result: page.standings.as_deref().map(result_out),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct CodeIn {
    /// The mobile number, as typed.
    pub phone: String,
    /// The captcha's letters, where the server asks for one (`/tp/captcha.png`).
    #[serde(default)]
    pub captcha: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CodeSentOut {
    pub message: String,
    /// Seconds before another code may be asked for.
    pub resend_after: i64,
}

/// 获取验证码: a 6-digit code by SMS to the phone, after the image captcha; within the
/// limits (a minute between codes, per phone a day, per address an hour).
#[utoipa::path(post, path = "/api/v1/votes/{campaign}/codes", tag = "votes",
    security(()),
    request_body = CodeIn,
    params(("campaign" = String, Path, description = "活动标识")),
    responses((status = 200, body = CodeSentOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn post_code(
    State(state): State<AppState>,
    p: Public,
    ApiPath(campaign): ApiPath<String>,
    ApiJson(body): ApiJson<CodeIn>,
) -> Result<Json<CodeSentOut>, ApiError> {
    let rates = state.config.edge_rates;
    super::at_edge(&state, "code-ip", &p.ip, rates.codes_per_ip).await?;
    // Each SMS costs money: a person must read the image first (off for load tests).
    if state.config.captcha != CaptchaPolicy::Off {
        let guess = body.captcha.as_deref().unwrap_or("").trim();
        let session = match p.jar.get(SESSION_COOKIE) {
            Some(c) => state.store.load_session(c.value()).await?,
            None => None,
        };
        let right = match (&session, guess.is_empty()) {
            (Some(s), false) => state.store.check_captcha(&s.id_hash, guess).await?,
            _ => false,
        };
        if !right {
            return Err(Failure::invalid(
                "captcha",
                if guess.is_empty() {
                    "请先输入图片中的字符"
                } else {
                    "图片验证码不正确，请看清后重新输入"
                },
                Some("captcha"),
            )
            .into());
        }
    }
    let phone = pingxuan_rules::vote::verify::phone(&body.phone)
        .map_err(|m| Failure::invalid("phone_invalid", m, Some("phone")))?;
    super::at_edge(
        &state,
        "code-phone",
        &super::phone_key(&state, &phone),
        rates.codes_per_phone,
    )
    .await?;
    voters::send_code(
        &state.store,
        state.config.sms.0.as_ref(),
        state.config.vote_caps,
        &campaign,
        &phone,
        &p.ip,
        pingxuan_store::now(),
    )
    .await?;
    Ok(Json(CodeSentOut {
        message: format!(
            "验证码已发送至 {}，{} 分钟内有效",
            pingxuan_rules::idcard::mask_mobile(&phone),
            pingxuan_rules::vote::verify::CODE_TTL / 60
        ),
        resend_after: pingxuan_rules::vote::verify::RESEND_AFTER,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct VerifyIn {
    pub phone: String,
    /// The 6 digits of the SMS.
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct VoterOut {
    /// The phone, masked: 138****1234.
    pub phone: String,
}

/// 验证手机号: the code checked; right, this browser votes as the phone's voter for a
/// day (an HttpOnly cookie); wrong, the tries left.
#[utoipa::path(post, path = "/api/v1/votes/{campaign}/session", tag = "votes",
    security(()),
    request_body = VerifyIn,
    params(("campaign" = String, Path, description = "活动标识")),
    responses((status = 200, body = VoterOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn post_session(
    State(state): State<AppState>,
    p: Public,
    ApiPath(campaign): ApiPath<String>,
    ApiJson(body): ApiJson<VerifyIn>,
) -> Result<Response, ApiError> {
    let rates = state.config.edge_rates;
    super::at_edge(&state, "verify-ip", &p.ip, rates.codes_per_ip).await?;
    // Per address and phone: a stranger guessing for someone's phone from elsewhere must
    // not lock its owner out (the code's own 5 tries are the store's).
    if let Ok(phone) = pingxuan_rules::vote::verify::phone(&body.phone) {
        let key = format!(
            "{}|{}",
            super::address_key(&p.ip),
            super::phone_key(&state, &phone)
        );
        super::at_edge(&state, "verify-phone", &key, rates.codes_per_phone).await?;
    }
    let v = voters::verify(
        &state.store,
        &campaign,
        &body.phone,
        &body.code,
        pingxuan_store::now(),
    )
    .await?;
    let jar = p.jar.add(vote_cookie(
        &state,
        VOTER_COOKIE,
        v.session,
        voters::SESSION_SECS,
    ));
    Ok((jar, Json(VoterOut { phone: v.masked })).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct VoteIn {
    /// The candidate's number in the round.
    pub candidate: usize,
    /// The share link's code the voter came by, if any (one of the round's, else dropped).
    #[serde(default)]
    pub share: Option<String>,
    /// Sent again with a retried request, it returns the first vote's receipt (also as
    /// the `Idempotency-Key` header).
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// The browser's traits (screen, time zone, language…) as the voting page reads
    /// them; kept only as a keyed hash with the user agent, for the review of 刷票.
    #[serde(default)]
    pub traits: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReceiptOut {
    /// The receipt: random, nothing of the voter.
    pub receipt: String,
    /// The voting day it counted on (Beijing), empty for a repeat.
    pub day: String,
    /// A repeated request: this is the first vote's receipt.
    pub repeated: bool,
    pub message: String,
}

/// 投票: one vote for a candidate of the round, by this browser's proven voter; taken
/// within the window and every limit by the database, acknowledged once on disk.
#[utoipa::path(post, path = "/api/v1/votes/{campaign}/rounds/{stage}/votes", tag = "votes",
    security(()),
    request_body = VoteIn,
    params(("campaign" = String, Path, description = "活动标识"), ("stage" = String, Path, description = "投票阶段标识")),
    responses((status = 201, body = ReceiptOut), (status = 200, description = "重复提交（同一幂等键）：返回第一次的回执", body = ReceiptOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn post_vote(
    State(state): State<AppState>,
    p: Public,
    headers: HeaderMap,
    ApiPath((campaign, stage)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<VoteIn>,
) -> Result<(StatusCode, Json<ReceiptOut>), ApiError> {
    let began = std::time::Instant::now();
    let rates = state.config.edge_rates;
    super::at_edge(&state, "vote-ip", &p.ip, rates.votes_per_ip).await?;
    let Some(voter) = super::voter_of(&state, &p, &campaign).await? else {
        return Err(Failure::Request {
            status: StatusCode::UNAUTHORIZED,
            code: "voter_unverified",
            message: "请先验证手机号码再投票".to_owned(),
            field: None,
        }
        .into());
    };
    super::at_edge(
        &state,
        "vote-voter",
        &voter.to_string(),
        rates.votes_per_voter,
    )
    .await?;
    let typed_share = body
        .share
        .as_deref()
        .map(share_code)
        .unwrap_or_else(|| share_code(&p.cookie(SHARE_COOKIE)));
    let (candidate, share) = vote_page::target(
        &state.ballots,
        &campaign,
        &stage,
        body.candidate,
        &typed_share,
    )
    .await?;
    let idempotency = body.idempotency_key.clone().or_else(|| {
        headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    let client = Client {
        ip: p.ip.clone(),
        share,
        device: p.cookie(super::DEVICE_COOKIE),
        traits: body.traits.clone().unwrap_or_default(),
        user_agent: p.user_agent.clone(),
        idempotency: idempotency.filter(|k| !k.trim().is_empty()),
    };
    let before = began.elapsed();
    let r = votes::cast(
        &state.ballots,
        &campaign,
        &stage,
        &Voter::Public(voter),
        candidate,
        &client,
    )
    .await?;
    super::note_vote_times(before, began.elapsed());
    let message = if r.repeated {
        format!("这次投票已记录，回执码 {}", r.code)
    } else {
        format!("投票成功，回执码 {}", r.code)
    };
    Ok((
        if r.repeated {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(ReceiptOut {
            receipt: r.code,
            day: r.day,
            repeated: r.repeated,
            message,
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct BallotLineOut {
    /// The application's id: what the ballot names.
    pub id: i64,
    pub number: String,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    /// Why the expert must not choose this candidate, if so.
    pub conflict: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BallotOut {
    pub stage_name: String,
    /// How many the expert may choose.
    pub size: u32,
    pub candidates: Vec<BallotLineOut>,
    /// The ids chosen, once submitted (final).
    pub submitted: Option<Vec<i64>>,
}

/// The 专业组 ballot of the signed-in expert (one of the campaign's pool).
#[utoipa::path(get, path = "/api/v1/votes/{campaign}/rounds/{stage}/ballot", tag = "votes",
    params(("campaign" = String, Path, description = "活动标识"), ("stage" = String, Path, description = "投票阶段标识")),
    responses((status = 200, body = BallotOut), (status = 404, body = ErrorBody)))]
pub async fn get_ballot(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((campaign, stage)): ApiPath<(String, String)>,
) -> Result<Json<BallotOut>, ApiError> {
    let v = votes::ballot_view(&state.store, &caller.access, &campaign, &stage).await?;
    Ok(Json(BallotOut {
        stage_name: v.round.stage().name.clone(),
        size: v.size,
        candidates: v
            .lines
            .into_iter()
            .map(|l| BallotLineOut {
                id: l.id,
                number: l.number,
                name: l.name,
                work_unit: l.work_unit,
                recommender: l.recommender,
                conflict: l.conflict,
            })
            .collect(),
        submitted: v.submitted,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct BallotIn {
    /// The ids of the candidates chosen.
    pub candidates: Vec<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct BallotReceiptsOut {
    /// One receipt per candidate chosen, in the order given.
    pub receipts: Vec<String>,
}

/// 提交专业组投票: the expert's whole ballot at once; final.
#[utoipa::path(post, path = "/api/v1/votes/{campaign}/rounds/{stage}/ballot", tag = "votes",
    request_body = BallotIn,
    params(("campaign" = String, Path, description = "活动标识"), ("stage" = String, Path, description = "投票阶段标识")),
    responses((status = 201, body = BallotReceiptsOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_ballot(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((campaign, stage)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<BallotIn>,
) -> Result<(StatusCode, Json<BallotReceiptsOut>), ApiError> {
    let receipts = votes::submit_ballot(
        &state.store,
        &caller.access,
        &campaign,
        &stage,
        &body.candidates,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(BallotReceiptsOut { receipts })))
}

/// A receipt's standing once the round is frozen.
#[derive(Serialize, ToSchema)]
pub struct ReceiptCheckOut {
    /// counted or invalid.
    pub status: String,
    /// The candidate's number in the round.
    pub number: Option<usize>,
    pub name: String,
    /// The group the vote counts in (公众组, 专业组).
    pub group: String,
    /// In the voter's words.
    pub message: String,
    /// Why it was set aside.
    pub reason: Option<String>,
    /// The inclusion proof (`pingxuan vote verify --proof`), when counted.
    #[schema(value_type = Object)]
    pub proof: Option<serde_json::Value>,
}

/// The one answer for a receipt that is not this round's, mistyped, never issued, or
/// asked before the freeze: nothing tells them apart.
pub(crate) fn receipt_not_found() -> Failure {
    Failure::Request {
        status: StatusCode::NOT_FOUND,
        code: "receipt_not_found",
        message: "未找到这张回执：请核对回执码（本轮结果冻结后方可查询）".to_owned(),
        field: Some("code".to_owned()),
    }
}

pub(crate) fn receipt_out(r: pingxuan_app::vote_receipts::ReceiptView) -> ReceiptCheckOut {
    use pingxuan_app::vote_receipts::ReceiptCheck;
    let who = match r.number {
        Some(n) => format!("{n} 号{}", r.name),
        None => r.name.clone(),
    };
    match r.check {
        ReceiptCheck::Counted(proof) => ReceiptCheckOut {
            status: "counted".to_owned(),
            message: format!("已计入：这一票投给 {who}，计入{}有效票", r.group),
            proof: serde_json::to_value(&proof).ok(),
            reason: None,
            number: r.number,
            name: r.name,
            group: r.group,
        },
        ReceiptCheck::Invalid { reason, .. } => ReceiptCheckOut {
            status: "invalid".to_owned(),
            message: format!("未计入：这一票（投给 {who}）经活动办公室核查认定无效"),
            proof: None,
            reason: Some(reason),
            number: r.number,
            name: r.name,
            group: r.group,
        },
    }
}

/// A receipt looked up after the freeze: counted with its proof, or set aside with the reason.
#[utoipa::path(get, path = "/api/v1/votes/{campaign}/rounds/{stage}/receipts/{code}", tag = "votes",
    security(()),
    params(("campaign" = String, Path, description = "活动标识"), ("stage" = String, Path, description = "阶段标识"),
        ("code" = String, Path, description = "回执码")),
    responses((status = 200, body = ReceiptCheckOut), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn get_receipt(
    State(state): State<AppState>,
    p: Public,
    ApiPath((campaign, stage, code)): ApiPath<(String, String, String)>,
) -> Result<Json<ReceiptCheckOut>, ApiError> {
    match super::look_up_receipt(&state, &p.ip, &campaign, &stage, &code).await? {
        Some(r) => Ok(Json(receipt_out(r))),
        None => Err(receipt_not_found().into()),
    }
}

/// One candidate's valid votes in one group.
#[derive(Serialize, ToSchema)]
pub struct TallyOut {
    pub group: String,
    /// The candidate's id (as in the proof).
    pub candidate: i64,
    pub count: u64,
    /// The candidate's number in the round (a label; the root fixes the id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    /// The candidate's name (a label).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A round's published count, the file `pingxuan vote verify --result` reads.
#[derive(Serialize, ToSchema)]
pub struct PublishedOut {
    pub campaign: String,
    pub stage: String,
    /// The Merkle root over the valid votes, hex.
    pub root: String,
    /// The valid votes.
    pub total: u64,
    /// In leaf order: group, then candidate.
    pub tallies: Vec<TallyOut>,
}

/// The round's published count (`R.json`): the Merkle root and every valid tally, once frozen.
#[utoipa::path(get, path = "/api/v1/votes/{campaign}/rounds/{stage}/result", tag = "votes",
    security(()),
    params(("campaign" = String, Path, description = "活动标识"), ("stage" = String, Path, description = "阶段标识")),
    responses((status = 200, body = PublishedOut), (status = 404, body = ErrorBody)))]
pub async fn get_result(
    State(state): State<AppState>,
    ApiPath((campaign, stage)): ApiPath<(String, String)>,
) -> Result<Json<PublishedOut>, ApiError> {
    let p = pingxuan_app::vote_receipts::published(&state.ballots, &campaign, &stage).await?;
    Ok(Json(PublishedOut {
        campaign: p.campaign,
        stage: p.stage,
        root: p.root,
        total: p.total,
        tallies: p
            .tallies
            .into_iter()
            .map(|t| TallyOut {
                group: t.group,
                candidate: t.candidate,
                count: t.count,
                number: t.number,
                name: t.name,
            })
            .collect(),
    }))
}
