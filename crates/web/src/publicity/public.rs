//! The pages anyone opens, signed in or not: a 公示 (`/gs/{id}`) with its list, its
//! period, how to object and the audit chain's head, and the objection form on it; the
//! page an objector follows theirs on (`/gs/follow`). Nothing here shows who objected,
//! and nothing opens a session: a page the whole city opens writes nothing per visit.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use pingxuan_app::publicity::{self as actions, Filer, ObjectionForm, PublicView, SentFile};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{ClientIp, PostedFiles, PublicFiles};
use crate::error::{Failure, PageError};
use crate::pages::Shell;

pub struct EntryRow {
    pub seq: usize,
    pub id: i64,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    pub field: String,
    pub removed: bool,
}

#[derive(Template)]
#[template(path = "publicity/public.html")]
struct PublicPage {
    shell: Shell,
    public_id: String,
    /// A recommending unit's own 公示: the unit checks the objection and its files.
    by_unit: bool,
    title: String,
    paragraphs: Vec<String>,
    closing: String,
    status: &'static str,
    open: bool,
    /// Why objections are not taken now.
    closed_words: String,
    contact: String,
    published: String,
    rows: Vec<EntryRow>,
    audit_entries: i64,
    audit_head: String,
    /// The refusal of a filing, its field, and what was typed.
    error: Option<(String, String)>,
    typed: ObjectionForm,
}

impl PublicPage {
    fn field_error(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    fn general_error(&self) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| !["name", "phone", "text", "candidate", "files"].contains(&f.as_str()))
            .map(|(_, m)| m.as_str())
    }

    fn chosen(&self, id: &i64) -> bool {
        self.typed.candidate == Some(*id)
    }
}

fn page(v: PublicView, error: Option<(String, String)>, typed: ObjectionForm) -> PublicPage {
    let p = &v.publicity;
    PublicPage {
        shell: Shell::public(&p.title),
        public_id: p.public_id.clone(),
        by_unit: p.kind == pingxuan_rules::publicity::Kind::Unit.key(),
        title: p.title.clone(),
        paragraphs: p
            .body
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        closing: v.period.closing_text(),
        status: v.status,
        open: v.open.is_ok(),
        closed_words: v.open.clone().err().unwrap_or_default(),
        contact: p.contact.clone(),
        published: format!(
            "{}年{}月{}日",
            v.period.published.year(),
            v.period.published.month() as u8,
            v.period.published.day()
        ),
        rows: p
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| EntryRow {
                seq: i + 1,
                id: e.application_id,
                name: e.name.clone(),
                work_unit: e.work_unit.clone(),
                recommender: e.recommender.clone(),
                field: e.field.clone(),
                removed: v.removed.contains(&e.application_id),
            })
            .collect(),
        audit_entries: v.audit_entries,
        audit_head: v.audit_head.clone(),
        error,
        typed,
    }
}

/// `GET /gs/{id}`: the 公示, for anyone.
pub async fn get_publicity(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let v = actions::public_view(&state.store, &id)
        .await
        .map_err(Failure::from)?;
    let html = page(v, None, ObjectionForm::default())
        .render()
        .map_err(Failure::from)?;
    Ok(Html(html).into_response())
}

/// Reads the objection's fields as typed on a form.
pub fn form_of(f: &PostedFiles) -> ObjectionForm {
    ObjectionForm {
        name: f.field("name").to_owned(),
        phone: f.field("phone").to_owned(),
        text: f.field("text").to_owned(),
        candidate: f.field("candidate").trim().parse().ok(),
    }
}

pub fn files_of(f: PostedFiles) -> Vec<SentFile> {
    f.files
        .into_iter()
        .map(|u| SentFile {
            name: u.name,
            bytes: u.bytes,
        })
        .collect()
}

/// A burst of look-ups from one address is refused, as sign-ins are (a number cannot be
/// guessed by trying).
fn throttle(state: &AppState, ip: &Option<String>) -> Result<(), Failure> {
    let key = format!("follow:{}", ip.clone().unwrap_or_default());
    state
        .auth_limiter
        .check_key(&key)
        .map_err(|_| Failure::TooMany("提交过于频繁，请一分钟后再试".to_owned()))
}

/// `POST /gs/{id}`: an objection typed on the 公示's page, with its files. Refused, the
/// page comes back with the words beside the field and everything typed kept.
pub async fn post_objection(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    PublicFiles(posted): PublicFiles,
) -> Result<Response, PageError> {
    let form = form_of(&posted);
    let files = files_of(posted);
    match actions::object(
        &state.store,
        &state.blobs,
        &id,
        Filer::Public,
        &form,
        &files,
        ip.0.as_deref(),
    )
    .await
    {
        Ok(number) => {
            Ok(Redirect::to(&format!("/gs/follow?number={number}&new=1")).into_response())
        }
        Err(e @ (pingxuan_app::Error::Invalid { .. } | pingxuan_app::Error::Conflict { .. })) => {
            let failure = Failure::from(e);
            let v = actions::public_view(&state.store, &id)
                .await
                .map_err(Failure::from)?;
            let field = failure.field().unwrap_or_default();
            let html = page(v, Some((field, failure.message())), form)
                .render()
                .map_err(Failure::from)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

#[derive(Deserialize)]
pub struct FollowQuery {
    #[serde(default)]
    number: Option<String>,
    #[serde(default)]
    new: Option<String>,
}

#[derive(Template)]
#[template(path = "publicity/follow.html")]
struct FollowPage {
    shell: Shell,
    typed: String,
    just_filed: bool,
    found: Option<actions::Follow>,
    not_found: bool,
}

/// `GET /gs/follow?number=…`: an objection by its number — where it stands and the
/// 处理意见. A number that is not ours gets the same answer as a wrong one.
pub async fn get_follow(
    State(state): State<AppState>,
    Query(q): Query<FollowQuery>,
    ip: ClientIp,
) -> Result<Response, PageError> {
    let typed = q.number.clone().unwrap_or_default();
    let (found, not_found) = if typed.trim().is_empty() {
        (None, false)
    } else {
        throttle(&state, &ip.0)?;
        match actions::follow(&state.store, &typed).await {
            Ok(f) => (Some(f), false),
            Err(pingxuan_app::Error::NotFound) => (None, true),
            Err(e) => return Err(Failure::from(e).into()),
        }
    };
    let page = FollowPage {
        shell: Shell::public("异议办理查询"),
        typed,
        just_filed: q.new.is_some() && found.is_some(),
        found,
        not_found,
    };
    let status = if not_found {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    Ok((status, Html(page.render().map_err(Failure::from)?)).into_response())
}
