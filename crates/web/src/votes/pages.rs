//! The voting page a city opens on its phones (`/tp/{campaign}/{stage}`), a candidate's
//! page with 主要事迹 and the video, the files they show, and the captcha a voter reads
//! before an SMS. Made for WeChat's built-in browser: server-rendered, one small
//! stylesheet and script, photos as small JPEGs loaded as they scroll into view.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::CookieJar;
use pingxuan_app::vote_page::{self, Card};
use serde::Deserialize;

use super::{Public, SHARE_COOKIE, device_of, share_code, vote_cookie};
use crate::AppState;
use crate::CaptchaPolicy;
use crate::error::{ApiError, Failure, PageError};

/// A card as the page writes it.
pub struct CardView {
    pub number: usize,
    pub name: String,
    pub initial: String,
    pub work_unit: String,
    pub summary: String,
    pub portrait: Option<String>,
    pub votes: Option<u64>,
}

fn card_view(
    campaign: &str,
    stage: &str,
    c: &Card,
    counts: &Option<std::collections::HashMap<usize, u64>>,
) -> CardView {
    let out = super::api::card_out(campaign, stage, c, counts);
    CardView {
        number: out.number,
        initial: out
            .name
            .chars()
            .next()
            .map(String::from)
            .unwrap_or_default(),
        name: out.name,
        work_unit: out.work_unit,
        summary: out.summary,
        portrait: out.portrait,
        votes: out.votes,
    }
}

/// What every vote page tells its script: where to vote, the share it came by, whether
/// the SMS needs the captcha first.
pub struct Frame {
    pub campaign: String,
    pub stage: String,
    pub share: String,
    pub captcha: bool,
    pub taking: bool,
    pub voter: Option<String>,
    /// The campaign and the round, drawn on the receipt's image.
    pub heading: String,
}

#[derive(Template)]
#[template(path = "votes/round.html")]
struct RoundPage {
    frame: Frame,
    title: String,
    campaign_title: String,
    status: String,
    window: Option<String>,
    rules: Vec<String>,
    integrity: Vec<String>,
    q: String,
    cards: Vec<CardView>,
    total: usize,
    experts_vote: bool,
    standings: Option<std::sync::Arc<vote_page::Standings>>,
    frozen_at: String,
}

#[derive(Deserialize, Default)]
pub struct RoundQuery {
    /// Search by name or number.
    #[serde(default)]
    q: String,
    /// The share link's code.
    #[serde(default)]
    s: String,
}

/// The share a visit came by: the link's, kept in a cookie for the pages after it.
fn share_of(state: &AppState, jar: CookieJar, typed: &str) -> (CookieJar, String) {
    let from_link = share_code(typed);
    if !from_link.is_empty() {
        let jar = jar.add(vote_cookie(
            state,
            SHARE_COOKIE,
            from_link.clone(),
            30 * 86_400,
        ));
        return (jar, from_link);
    }
    let kept = jar
        .get(SHARE_COOKIE)
        .map(|c| share_code(c.value()))
        .unwrap_or_default();
    (jar, kept)
}

/// What every page of a round begins with: the browser's device cookie (the seed of a
/// shuffled order), the share it came by, the page's data and its frame.
async fn visit(
    state: &AppState,
    p: &Public,
    campaign: &str,
    stage: &str,
    typed_share: &str,
) -> Result<(CookieJar, vote_page::Page, Frame), Failure> {
    let (jar, device) = device_of(state, p.jar.clone());
    let (jar, share) = share_of(state, jar, typed_share);
    let page = vote_page::page(
        &state.ballots,
        campaign,
        stage,
        &device,
        pingxuan_store::now(),
    )
    .await?;
    let frame = Frame {
        campaign: campaign.to_owned(),
        stage: stage.to_owned(),
        share,
        captcha: state.config.captcha != CaptchaPolicy::Off,
        taking: page.taking,
        voter: super::api::voter_shown(state, p, campaign).await?,
        heading: format!("{} · {}", page.campaign_title, page.stage_name),
    };
    Ok((jar, page, frame))
}

/// `GET /tp/{campaign}/{stage}`: the round's cards, rules first.
pub async fn get_round(
    State(state): State<AppState>,
    p: Public,
    Path((campaign, stage)): Path<(String, String)>,
    Query(q): Query<RoundQuery>,
) -> Result<Response, PageError> {
    let (jar, page, frame) = visit(&state, &p, &campaign, &stage, &q.s).await?;
    let typed = q.q.trim();
    let cards: Vec<CardView> = page
        .cards
        .iter()
        .filter(|c| typed.is_empty() || c.name.contains(typed) || c.number.to_string() == typed)
        .map(|c| card_view(&campaign, &stage, c, &page.counts))
        .collect();
    let html = RoundPage {
        frame,
        title: page.stage_name,
        campaign_title: page.campaign_title,
        status: page.status,
        window: page.window,
        rules: page.rules,
        integrity: page.integrity,
        q: typed.to_owned(),
        total: page.cards.len(),
        cards,
        experts_vote: page.experts_vote,
        frozen_at: page
            .standings
            .as_ref()
            .map(|s| pingxuan_rules::deadline::format_time(s.frozen_at))
            .unwrap_or_default(),
        standings: page.standings,
    }
    .render()
    .map_err(Failure::from)?;
    Ok((jar, no_store(), Html(html)).into_response())
}

/// Pages that show who is signed in as a voter are not kept by caches between browsers.
fn no_store() -> [(header::HeaderName, &'static str); 1] {
    [(header::CACHE_CONTROL, "private, no-cache")]
}

#[derive(Template)]
#[template(path = "votes/candidate.html")]
struct CandidatePage {
    frame: Frame,
    title: String,
    stage_name: String,
    number: usize,
    name: String,
    work_unit: String,
    recommender: String,
    summary: String,
    deeds: Vec<String>,
    portrait: Option<String>,
    /// (small, full) addresses.
    photos: Vec<(String, String)>,
    video: Option<String>,
    votes: Option<u64>,
}

/// `GET /tp/{campaign}/{stage}/{n}`: one candidate, with 主要事迹 and the video.
pub async fn get_candidate(
    State(state): State<AppState>,
    p: Public,
    Path((campaign, stage, n)): Path<(String, String, usize)>,
    Query(q): Query<RoundQuery>,
) -> Result<Response, PageError> {
    let (jar, page, frame) = visit(&state, &p, &campaign, &stage, &q.s).await?;
    let c = page
        .cards
        .iter()
        .find(|c| c.number == n)
        .ok_or(Failure::NotFound)?;
    let at = |seq: i64| format!("/tp/{campaign}/{stage}/{n}/{seq}");
    let html = CandidatePage {
        frame,
        title: format!("{} · {}", c.name, page.stage_name),
        stage_name: page.stage_name.clone(),
        number: n,
        name: c.name.clone(),
        work_unit: c.work_unit.clone(),
        recommender: c.recommender.clone(),
        summary: c.summary.clone(),
        deeds: c
            .deeds
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        portrait: c.portrait().map(&at),
        photos: c
            .files
            .iter()
            .filter(|f| f.role == "photo")
            .map(|f| (format!("{}/small", at(f.seq)), at(f.seq)))
            .collect(),
        video: c
            .files
            .iter()
            .find(|f| f.role == "video")
            .map(|f| at(f.seq)),
        votes: page
            .counts
            .as_ref()
            .map(|m| m.get(&n).copied().unwrap_or(0)),
    }
    .render()
    .map_err(Failure::from)?;
    Ok((jar, no_store(), Html(html)).into_response())
}

/// A card's files may change while the round is on: caches keep them an hour.
const HOUR: &str = "public, max-age=3600";

/// `GET /tp/{campaign}/{stage}/{n}/{file}`: a photo as an upright copy without its
/// metadata, the video by range so it seeks.
pub async fn get_file(
    State(state): State<AppState>,
    Path((campaign, stage, n, file)): Path<(String, String, usize, i64)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (a, role) = vote_page::card_file(&state.ballots, &campaign, &stage, n, file).await?;
    if role == "video" {
        let disposition = crate::exports::disposition(false, &format!("{n}-{file}.{}", a.format));
        return crate::materials::api::serve(&state, &a, &headers, disposition, HOUR).await;
    }
    crate::release::public::photo(&state, &a, pingxuan_app::materials::LARGE_PHOTO, HOUR).await
}

/// `GET /tp/{campaign}/{stage}/{n}/{file}/small`: a card's light JPEG.
pub async fn get_small(
    State(state): State<AppState>,
    Path((campaign, stage, n, file)): Path<(String, String, usize, i64)>,
) -> Result<Response, ApiError> {
    let (a, role) = vote_page::card_file(&state.ballots, &campaign, &stage, n, file).await?;
    if role == "video" {
        return Err(Failure::NotFound.into());
    }
    crate::release::public::photo(&state, &a, pingxuan_app::materials::CARD_PHOTO, HOUR).await
}

/// `GET /tp/captcha.png`: the image a voter reads before an SMS; the session keeping its
/// answer is made here, when someone begins to prove a phone, never by a visit — and no
/// more often from one address than codes may be asked for.
pub async fn get_captcha(State(state): State<AppState>, p: Public) -> Result<Response, PageError> {
    super::at_edge(
        &state,
        "captcha-ip",
        &p.ip,
        state.config.edge_rates.codes_per_ip,
    )
    .await?;
    let kept = match p.jar.get(crate::auth::SESSION_COOKIE) {
        Some(c) => state.store.load_session(c.value()).await?,
        None => None,
    };
    let (jar, session) = match kept {
        Some(s) => (p.jar, s),
        None => {
            let (token, s) = state.store.create_session(None, Some(&p.ip), None).await?;
            (p.jar.add(crate::auth::session_cookie(&state, token)), s)
        }
    };
    let image = crate::accounts::sign_in::captcha_image(&state, &session).await?;
    Ok((jar, image).into_response())
}

#[derive(Template)]
#[template(path = "votes/receipt.html")]
struct ReceiptPage {
    campaign: String,
    stage: String,
    campaign_title: String,
    stage_name: String,
    code: String,
    outcome: Option<super::api::ReceiptCheckOut>,
    error: Option<String>,
    root: String,
    /// P.json and R.json as text, for browsers that cannot download (WeChat's).
    proof_json: String,
    result_json: String,
}

#[derive(Deserialize, Default)]
pub struct ReceiptQuery {
    #[serde(default)]
    code: String,
}

/// `GET /tp/{campaign}/{stage}/receipt?code=…`: 回执查询 once the round is frozen.
pub async fn get_receipt(
    State(state): State<AppState>,
    p: Public,
    Path((campaign, stage)): Path<(String, String)>,
    Query(q): Query<ReceiptQuery>,
) -> Result<Response, PageError> {
    let (_, page, _) = visit(&state, &p, &campaign, &stage, "").await?;
    let code = pingxuan_app::votes::receipt_as_typed(&q.code);
    let (mut outcome, mut error) = (None, None);
    if !code.is_empty() {
        match super::look_up_receipt(&state, &p.ip, &campaign, &stage, &code).await? {
            Some(r) => outcome = Some(super::api::receipt_out(r)),
            None => error = Some(super::api::receipt_not_found().message()),
        }
    }
    let published = match &outcome {
        Some(_) => pingxuan_app::vote_receipts::published(&state.ballots, &campaign, &stage)
            .await
            .ok(),
        None => None,
    };
    let proof_json = outcome
        .as_ref()
        .and_then(|o| o.proof.as_ref())
        .map(pretty)
        .unwrap_or_default();
    let result_json = published.as_ref().map(pretty).unwrap_or_default();
    let root = published.map(|p| p.root).unwrap_or_default();
    let html = ReceiptPage {
        campaign,
        stage,
        campaign_title: page.campaign_title,
        stage_name: page.stage_name,
        code,
        outcome,
        error,
        root,
        proof_json,
        result_json,
    }
    .render()
    .map_err(Failure::from)?;
    Ok((no_store(), Html(html)).into_response())
}

/// `P.json` or `R.json` as the files hold them.
fn pretty(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A JSON file to save: `P.json` or `R.json`.
fn json_file(name: &str, value: &impl serde::Serialize) -> Result<Response, ApiError> {
    let body = pretty(value).into_bytes();
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                crate::exports::disposition(true, name),
            ),
        ],
        body,
    )
        .into_response())
}

/// `GET /tp/{campaign}/{stage}/receipt/{code}/proof.json`: a counted vote's proof, the
/// file `pingxuan vote verify --proof` reads.
pub async fn get_proof(
    State(state): State<AppState>,
    p: Public,
    Path((campaign, stage, code)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    // The proof alone: no card is needed for the file.
    super::receipt_edge(&state, &p.ip).await?;
    match pingxuan_app::vote_receipts::receipt(&state.ballots, &campaign, &stage, &code).await {
        Ok(pingxuan_app::vote_receipts::ReceiptCheck::Counted(proof)) => {
            json_file(&format!("回执证明-{}.json", proof.receipt), &proof)
        }
        Ok(_) | Err(pingxuan_app::Error::NotFound) => Err(super::api::receipt_not_found().into()),
        Err(e) => Err(e.into()),
    }
}

/// `GET /tp/{campaign}/{stage}/result.json`: the round's published count, the file
/// `pingxuan vote verify --result` reads.
pub async fn get_result_file(
    State(state): State<AppState>,
    Path((campaign, stage)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let p = pingxuan_app::vote_receipts::published(&state.ballots, &campaign, &stage).await?;
    json_file("计票结果.json", &p)
}
