//! The 专业组 expert's ballot page (`/tp/{campaign}/{stage}/ballot`): the round's
//! candidates, those the expert must not judge marked and not choosable, at most the
//! ballot's size chosen, submitted once and final. Signed in, with the session's CSRF.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use pingxuan_app::votes::{self, BallotView};

use crate::AppState;
use crate::auth::{Posted, SignedIn};
use crate::error::{Failure, PageError};
use crate::pages::Shell;

pub struct Line {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    pub conflict: Option<String>,
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "votes/ballot.html")]
struct BallotPage {
    shell: Shell,
    csrf: String,
    campaign: String,
    stage: String,
    stage_name: String,
    size: u32,
    open: bool,
    submitted: bool,
    lines: Vec<Line>,
    error: Option<String>,
    notice: Option<String>,
}

fn render(
    who: &SignedIn,
    campaign: &str,
    stage: &str,
    v: BallotView,
    typed: Option<&[i64]>,
    error: Option<Failure>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let status = error.as_ref().map_or(StatusCode::OK, Failure::status);
    let chosen: Vec<i64> = match (&v.submitted, typed) {
        (Some(s), _) => s.clone(),
        (None, Some(t)) => t.to_vec(),
        (None, None) => Vec::new(),
    };
    let page = BallotPage {
        shell: Shell::signed_in(who, "专业组投票", "/reviews"),
        csrf: who.session.csrf_token.clone(),
        campaign: campaign.to_owned(),
        stage: stage.to_owned(),
        stage_name: v.round.stage().name.clone(),
        size: v.size,
        open: v.round.phase == pingxuan_rules::selection::stage::Phase::Open,
        submitted: v.submitted.is_some(),
        lines: v
            .lines
            .into_iter()
            .map(|l| Line {
                chosen: chosen.contains(&l.id),
                id: l.id,
                number: l.number,
                name: l.name,
                work_unit: l.work_unit,
                recommender: l.recommender,
                conflict: l.conflict,
            })
            .collect(),
        error: error.map(|f| f.message()),
        notice,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// `GET /tp/{campaign}/{stage}/ballot`.
pub async fn get_ballot(
    State(state): State<AppState>,
    who: SignedIn,
    Path((campaign, stage)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let v = votes::ballot_view(&state.store, &who.access, &campaign, &stage)
        .await
        .map_err(Failure::from)?;
    let notice = q
        .contains_key("done")
        .then(|| "专业组投票已提交，不能更改".to_owned());
    render(&who, &campaign, &stage, v, None, None, notice)
}

/// `POST /tp/{campaign}/{stage}/ballot`: the ticked candidates (`c`, repeated).
pub async fn post_ballot(
    State(state): State<AppState>,
    who: SignedIn,
    Path((campaign, stage)): Path<(String, String)>,
    Posted(form): Posted<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let chosen: Vec<i64> = form
        .iter()
        .filter(|(k, _)| k == "c")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    match votes::submit_ballot(&state.store, &who.access, &campaign, &stage, &chosen).await {
        Ok(_) => Ok(Redirect::to(&format!("/tp/{campaign}/{stage}/ballot?done=1")).into_response()),
        Err(e @ (pingxuan_app::Error::Conflict { .. } | pingxuan_app::Error::Invalid { .. })) => {
            let v = votes::ballot_view(&state.store, &who.access, &campaign, &stage)
                .await
                .map_err(Failure::from)?;
            render(
                &who,
                &campaign,
                &stage,
                v,
                Some(&chosen),
                Some(Failure::from(e)),
                None,
            )
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}
