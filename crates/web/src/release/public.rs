//! The pages anyone opens once a campaign is released: the gallery (`/jg/{id}`), a
//! winner's page with the photos and the video (`/jg/{id}/{n}`), the files they show
//! (`/jg/{id}/{n}/{file}`, with ranges so a video seeks; `…/small` a light JPEG), and the
//! page a certificate's QR code leads to (`/zs/{release}/{serial}/{code}`). Nothing here opens a
//! session or writes per visit: a city opens them on its phones.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use pingxuan_app::release::{self as actions, Gallery};
use pingxuan_store::release::ReleaseEntry;

use crate::AppState;
use crate::error::{ApiError, Failure, PageError};
use crate::pages::Shell;

/// A winner as the public pages show them.
pub struct Card {
    pub seq: i64,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    pub field: String,
    pub summary: String,
    pub portrait: Option<String>,
    /// (small, full) addresses of the photos of their work.
    pub photos: Vec<(String, String)>,
    pub video: Option<String>,
}

fn card(public: &str, e: &ReleaseEntry) -> Card {
    let at = |seq: i64| format!("/jg/{public}/{}/{seq}", e.seq);
    Card {
        seq: e.seq,
        name: e.name.clone(),
        work_unit: e.work_unit.clone(),
        recommender: e.recommender.clone(),
        field: e.field.clone(),
        summary: e.summary.clone(),
        portrait: e
            .files
            .iter()
            .find(|f| f.role == "portrait")
            .map(|f| format!("{}/small", at(f.seq))),
        photos: e
            .files
            .iter()
            .filter(|f| f.role == "photo")
            .map(|f| (format!("{}/small", at(f.seq)), at(f.seq)))
            .collect(),
        video: e
            .files
            .iter()
            .find(|f| f.role == "video")
            .map(|f| at(f.seq)),
    }
}

#[derive(Template)]
#[template(path = "release/gallery.html")]
struct GalleryPage {
    shell: Shell,
    public_id: String,
    title: String,
    intro: String,
    released_on: String,
    issuers: String,
    cards: Vec<Card>,
    audit_entries: i64,
    audit_head: String,
}

fn released_words(g: &Gallery) -> String {
    pingxuan_rules::calendar::parse_day(&g.release.released_on)
        .map(pingxuan_rules::publicity::day_words)
        .unwrap_or_else(|| g.release.released_on.clone())
}

/// `GET /jg/{id}`: the gallery.
pub async fn get_gallery(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let g = actions::gallery(&state.store, &id)
        .await
        .map_err(Failure::from)?;
    let page = GalleryPage {
        shell: Shell::public(&g.release.title),
        public_id: g.release.public_id.clone(),
        title: g.release.title.clone(),
        intro: format!(
            "经推荐、评审和公示，{}评选结果现予公布（{} 人，按评选名次排列）。",
            g.campaign.award(),
            g.release.entries.len()
        ),
        released_on: released_words(&g),
        issuers: g.campaign.campaign.organizers.join("　"),
        cards: g
            .release
            .entries
            .iter()
            .map(|e| card(&g.release.public_id, e))
            .collect(),
        audit_entries: g.audit_entries,
        audit_head: g.audit_head.clone(),
    };
    Ok(Html(page.render().map_err(Failure::from)?).into_response())
}

#[derive(Template)]
#[template(path = "release/winner.html")]
struct WinnerPage {
    shell: Shell,
    public_id: String,
    title: String,
    award: String,
    card: Card,
}

/// `GET /jg/{id}/{n}`: one winner.
pub async fn get_winner(
    State(state): State<AppState>,
    Path((id, n)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    let g = actions::gallery(&state.store, &id)
        .await
        .map_err(Failure::from)?;
    let e = g
        .release
        .entries
        .iter()
        .find(|e| e.seq == n)
        .ok_or(Failure::NotFound)?;
    let page = WinnerPage {
        shell: Shell::public(&e.name),
        public_id: g.release.public_id.clone(),
        title: g.release.title.clone(),
        award: g.campaign.award().to_owned(),
        card: card(&g.release.public_id, e),
    };
    Ok(Html(page.render().map_err(Failure::from)?).into_response())
}

/// `GET /jg/{id}/{n}/{file}`: a file the gallery shows — a photo as an upright copy of
/// at most 1600 px without its metadata, the video as uploaded, whole or by range.
pub async fn get_file(
    State(state): State<AppState>,
    Path((id, n, file)): Path<(String, i64, i64)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (a, role) = actions::gallery_file(&state.store, &id, n, file).await?;
    if role == "video" {
        let disposition = crate::exports::disposition(false, &format!("{n}-{file}.{}", a.format));
        return crate::materials::api::serve(
            &state,
            &a,
            &headers,
            disposition,
            "public, max-age=86400",
        )
        .await;
    }
    photo(&state, &a, pingxuan_app::materials::LARGE_PHOTO, DAY).await
}

/// `GET /jg/{id}/{n}/{file}/small`: a photo's small upright JPEG, for the cards.
pub async fn get_small(
    State(state): State<AppState>,
    Path((id, n, file)): Path<(String, i64, i64)>,
) -> Result<Response, ApiError> {
    let (a, role) = actions::gallery_file(&state.store, &id, n, file).await?;
    if role == "video" {
        return Err(ApiError(Failure::NotFound));
    }
    photo(&state, &a, pingxuan_app::materials::SMALL_PHOTO, DAY).await
}

/// Released photos do not change: caches keep them a day.
const DAY: &str = "public, max-age=86400";

/// A public photo as an upright JPEG no wider or taller than `max_side`, without its
/// metadata, kept by caches for `cache` (a `Cache-Control` value).
pub(crate) async fn photo(
    state: &AppState,
    a: &pingxuan_store::attachments::Attachment,
    max_side: u32,
    cache: &'static str,
) -> Result<Response, ApiError> {
    if a.format != "jpg" {
        return Err(ApiError(Failure::NotFound));
    }
    let jpeg = pingxuan_app::materials::photo_copy(&state.blobs, a, max_side).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, cache),
        ],
        jpeg,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "release/check.html")]
struct CheckPage {
    shell: Shell,
    checked: Option<actions::Checked>,
}

/// `GET /zs/{release}/{serial}/{code}`: whether a certificate was issued here, and to whom.
pub async fn get_check(
    State(state): State<AppState>,
    Path((release, serial, code)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let checked = actions::check(&state.store, &release, &serial, &code)
        .await
        .map_err(Failure::from)?;
    let status = if checked.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let page = CheckPage {
        shell: Shell::public("证书核验"),
        checked,
    };
    Ok((status, Html(page.render().map_err(Failure::from)?)).into_response())
}
