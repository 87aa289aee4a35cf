//! Materials as JSON: resumable uploads in parts, the files attached to an application,
//! and the files themselves (inline or as 姓名+序号 downloads, seekable with HTTP Range).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{AttachmentOut, MaterialView, attachment_out, materials_for};
use crate::AppState;
use crate::api::input::{ApiJson, ApiPath, ApiQuery};
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody, Failure};
use pingxuan_app::materials;

#[derive(Deserialize, ToSchema)]
pub struct NewUpload {
    /// The material's key in the campaign file, e.g. `photos`.
    pub material: String,
    /// The file's name on the uploader's computer.
    pub name: String,
    /// Its size in bytes.
    pub size: i64,
    /// Who sent the file in, for the materials that ask (`sender_label` on the
    /// material, e.g. 来文单位); ignored by the others.
    #[serde(default)]
    pub sender: Option<String>,
}

/// Where an upload stands: send part `parts_received` next (from 0).
#[derive(Serialize, ToSchema)]
pub struct UploadOut {
    pub id: String,
    pub material: String,
    pub name: String,
    pub total_size: i64,
    pub part_size: i64,
    pub parts_total: i64,
    pub parts_received: i64,
    pub bytes_received: i64,
    /// Who sent the file in, for the materials that ask.
    pub sender: Option<String>,
}

impl From<&pingxuan_store::attachments::Upload> for UploadOut {
    fn from(u: &pingxuan_store::attachments::Upload) -> Self {
        UploadOut {
            id: u.public_id.clone(),
            material: u.material_key.clone(),
            name: u.original_name.clone(),
            total_size: u.total_size,
            part_size: u.part_size,
            parts_total: u.parts_total(),
            parts_received: u.parts_received,
            bytes_received: u.bytes_received,
            sender: (!u.sender.is_empty()).then(|| u.sender.clone()),
        }
    }
}

/// Starts a resumable upload of one file for one of the application's materials.
#[utoipa::path(post, path = "/api/v1/applications/{id}/uploads", tag = "materials",
    params(("id" = i64, Path)), request_body = NewUpload,
    responses((status = 201, body = UploadOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn begin(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<NewUpload>,
) -> Result<(StatusCode, Json<UploadOut>), ApiError> {
    let file = materials::Incoming {
        material: &req.material,
        name: &req.name,
        size: req.size,
        sender: req.sender.as_deref().unwrap_or_default(),
    };
    let u = materials::begin(
        &state.store,
        &caller.access,
        id,
        file,
        state.config.max_upload_bytes,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(UploadOut::from(&u))))
}

/// Where an upload stands (to resume after a dropped connection).
#[utoipa::path(get, path = "/api/v1/uploads/{upload}", tag = "materials",
    params(("upload" = String, Path)), responses((status = 200, body = UploadOut), (status = 404, body = ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(upload): ApiPath<String>,
) -> Result<Json<UploadOut>, ApiError> {
    let u = materials::own_upload(&state.store, &caller.access, &upload).await?;
    Ok(Json(UploadOut::from(&u)))
}

/// Abandons an upload and what it received.
#[utoipa::path(delete, path = "/api/v1/uploads/{upload}", tag = "materials",
    params(("upload" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(upload): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let u = materials::own_upload(&state.store, &caller.access, &upload).await?;
    materials::cancel(&state.store, &state.blobs, &u).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Part `part` (from 0) of the file, as the request body (`part_size` bytes, the last
/// one the rest). Out of turn: 409 with `parts_received` to go on from.
#[utoipa::path(put, path = "/api/v1/uploads/{upload}/parts/{part}", tag = "materials",
    params(("upload" = String, Path), ("part" = i64, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = UploadOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_part(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((upload, part)): ApiPath<(String, i64)>,
    body: Body,
) -> Response {
    let u = match materials::own_upload(&state.store, &caller.access, &upload).await {
        Ok(u) => u,
        Err(f) => return ApiError(f.into()).into_response(),
    };
    match materials::put_part(
        &state.store,
        &state.blobs,
        &u,
        part,
        body.into_data_stream(),
    )
    .await
    .map_err(Failure::from)
    {
        Ok(u) => Json(UploadOut::from(&u)).into_response(),
        Err(f @ Failure::Conflict { .. }) => {
            // Tell the client where to go on from, beside the usual error.
            let now = state
                .store
                .get_upload(&u.public_id)
                .await
                .ok()
                .flatten()
                .map_or(u.parts_received, |x| x.parts_received);
            let (code, message) = match &f {
                Failure::Conflict { code, message, .. } => (*code, message.clone()),
                _ => unreachable!(),
            };
            (
                StatusCode::CONFLICT,
                Json(serde_json::json!({
                    "error": {"code": code, "message": message, "field": null},
                    "parts_received": now,
                })),
            )
                .into_response()
        }
        Err(f) => ApiError(f).into_response(),
    }
}

/// Finishes an upload: the content is checked against the material, and the file
/// attached (201) or refused with the measured value (422, e.g. “视频时长 3分12秒，超过 3 分钟上限”).
#[utoipa::path(post, path = "/api/v1/uploads/{upload}/complete", tag = "materials",
    params(("upload" = String, Path)),
    responses((status = 201, body = AttachmentOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn complete(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(upload): ApiPath<String>,
) -> Result<(StatusCode, Json<AttachmentOut>), ApiError> {
    let u = materials::own_upload(&state.store, &caller.access, &upload).await?;
    let a = materials::complete(&state.store, &state.blobs, &caller.access, &u).await?;
    Ok((StatusCode::CREATED, Json(attachment_out(&a))))
}

/// The files attached to an application that the caller's level sees (its own level's
/// and those below; the office's own files only at the office).
#[utoipa::path(get, path = "/api/v1/applications/{id}/attachments", tag = "materials",
    params(("id" = i64, Path)), responses((status = 200, body = Vec<AttachmentOut>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<AttachmentOut>>, ApiError> {
    let (l, level) = crate::applications::flow::load_seen(&state.store, &caller.access, id).await?;
    Ok(Json(
        l.attachments
            .iter()
            .filter(|a| materials::seen_at(&l, level, &a.material_key))
            .map(attachment_out)
            .collect(),
    ))
}

/// The materials the caller's level sees: what each asks for, what is attached, what is
/// still missing (`count_note`), and whether the caller may change it now.
#[utoipa::path(get, path = "/api/v1/applications/{id}/materials", tag = "materials",
    params(("id" = i64, Path)), responses((status = 200, body = Vec<MaterialView>), (status = 404, body = ErrorBody)))]
pub async fn materials(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<MaterialView>>, ApiError> {
    Ok(Json(materials_for(&state.store, &caller.access, id).await?))
}

/// Removes a file: the level it belongs to, while that level holds the application.
#[utoipa::path(delete, path = "/api/v1/attachments/{file}", tag = "materials",
    params(("file" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(file): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    materials::remove(&state.store, &caller.access, &file).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// `1`: as a download named 姓名+序号.
    #[serde(default)]
    pub download: Option<String>,
}

/// The file itself, for those who may see its application: inline, or as a download,
/// with HTTP Range (videos seek without downloading everything).
pub async fn get_file(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(file): ApiPath<String>,
    ApiQuery(q): ApiQuery<FileQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (a, l) = materials::seen_attachment(&state.store, &caller.access, &file).await?;
    let name = materials::download_name(&a, &l);
    let disposition = crate::exports::disposition(q.download.as_deref() == Some("1"), &name);
    serve(&state, &a, &headers, disposition, "private, max-age=3600").await
}

/// A stored file as the answer, whole or the asked byte range (a video seeks with
/// ranges), with its type, disposition and cache policy.
pub(crate) async fn serve(
    state: &AppState,
    a: &pingxuan_store::attachments::Attachment,
    headers: &HeaderMap,
    disposition: String,
    cache: &'static str,
) -> Result<Response, ApiError> {
    let size = a.size as u64;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let range = match super::parse_range(range, size) {
        Ok(r) => r,
        Err(super::Unsatisfiable) => {
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{size}"))],
            )
                .into_response());
        }
    };
    let (status, span) = match range.clone() {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r),
        None => (StatusCode::OK, 0..size),
    };
    let stream = state.blobs.read_range(&a.blob_key, span.clone()).await?;
    let mut res = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, &a.content_type)
        .header(header::CONTENT_LENGTH, span.end - span.start)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_DISPOSITION, disposition)
        .header(header::CACHE_CONTROL, cache);
    if range.is_some() {
        res = res.header(
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{size}", span.start, span.end - 1),
        );
    }
    res.body(Body::from_stream(stream))
        .map_err(|e| ApiError(Failure::Internal(format!("file response: {e}"))))
}

/// A small upright JPEG of a photo (EXIF orientation applied, longest side 600 px), so
/// lists and review pages do not load megabytes per photo.
pub async fn get_preview(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(file): ApiPath<String>,
) -> Result<Response, ApiError> {
    let (a, _) = materials::seen_attachment(&state.store, &caller.access, &file).await?;
    if a.format != "jpg" {
        return Err(ApiError(Failure::NotFound));
    }
    let jpeg = materials::small_photo(&state.blobs, &a).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, max-age=86400"),
        ],
        jpeg,
    )
        .into_response())
}
