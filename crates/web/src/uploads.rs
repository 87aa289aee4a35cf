//! Materials: resumable uploads and the files they become, for the API and the pages.
//!
//! A file arrives in parts of [`PART_SIZE`], each streamed to storage as it comes (never
//! held whole in memory) and counted strictly in order, so a dropped connection resumes at
//! the first missing part. On completion the parts are joined, the content is measured
//! (`pingxuan_media`, reading only the bytes it needs) and judged against the campaign's
//! material (`rules::materials`); only a file that passes becomes an attachment.

use std::ops::Range;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use pingxuan_media::Sniffed;
use pingxuan_rules::campaign::Material;
use pingxuan_rules::materials::{Measured, Upload as Checked, file_problems};
use pingxuan_store::attachments::{Attachment, NewAttachment, NewUpload, Upload};
use pingxuan_store::audit::Audit;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::Failure;
use crate::flow::{self, Loaded};
use pingxuan_app::access::Access;

/// The size of each part: the storage's write chunk, so S3 can copy parts server-side.
pub const PART_SIZE: i64 = pingxuan_blobs::WRITE_CHUNK as i64;
/// PDFs are read whole by the page counter: larger ones are refused before.
const PDF_LIMIT: u64 = 200 << 20;

/// The material `key` of the application's campaign, if the person at `level` attaches it.
fn material_for<'a>(l: &'a Loaded, level: usize, key: &str) -> Result<&'a Material, Failure> {
    let m = l
        .campaign
        .materials
        .iter()
        .find(|m| m.key == key)
        .ok_or_else(|| {
            Failure::invalid(
                "material",
                format!("没有名为 {key} 的材料"),
                Some("material"),
            )
        })?;
    if pingxuan_rules::materials::holder(&l.campaign, &l.chain, m) != Some(level) {
        return Err(Failure::Forbidden);
    }
    Ok(m)
}

/// Loads the application and checks that `access` may attach files to it now.
async fn load_for_attaching(
    state: &AppState,
    access: &Access,
    application_id: i64,
) -> Result<(Loaded, usize), Failure> {
    let l = flow::load(&state.store, application_id).await?;
    let level = attaching_level(access, &l)?;
    Ok((l, level))
}

/// The level at which `access` may attach files to `l` now: the level that holds it (the
/// applicant only while it is with the applicant).
fn attaching_level(access: &Access, l: &Loaded) -> Result<usize, Failure> {
    let level = flow::viewer_level(access, l).ok_or(Failure::NotFound)?;
    if !may_attach(l, level) {
        return Err(Failure::Conflict {
            code: "not_holding",
            message: "申请书不在您处，不能上传或删除材料".to_owned(),
            field: None,
        });
    }
    Ok(level)
}

/// Whether the chain's level `level` may attach and remove files now: the applicant while
/// the form is theirs to edit, a unit while it holds the application.
fn may_attach(l: &Loaded, level: usize) -> bool {
    if level == 0 {
        l.state.applicant_may_edit()
    } else {
        l.state.holder() == level
    }
}

/// The materials of an application as the caller sees them (`material_views`); not found
/// for those who may not see it.
pub async fn materials_for(
    state: &AppState,
    access: &Access,
    application_id: i64,
) -> Result<Vec<MaterialView>, Failure> {
    let l = flow::load(&state.store, application_id).await?;
    let level = flow::viewer_level(access, &l).ok_or(Failure::NotFound)?;
    let files = state.store.attachments_of(application_id).await?;
    Ok(material_views(&l, &files, level))
}

/// Starts an upload of `size` bytes named `name` for `material`.
pub async fn begin(
    state: &AppState,
    access: &Access,
    application_id: i64,
    material_key: &str,
    name: &str,
    size: i64,
) -> Result<Upload, Failure> {
    let (l, level) = load_for_attaching(state, access, application_id).await?;
    let material = material_for(&l, level, material_key)?;
    if size <= 0 {
        return Err(Failure::invalid("size", "文件是空的", Some("size")));
    }
    if let Some(words) =
        pingxuan_rules::materials::too_large(material, size as u64, state.config.max_upload_bytes)
    {
        return Err(Failure::invalid("too_large", words, Some("size")));
    }
    let live = live_files(state, application_id, &material.key)
        .await?
        .len() as u32;
    if let Some(max) = material.max_count
        && live >= max
        && let Some(words) = pingxuan_rules::materials::count_problem(material, live + 1)
    {
        return Err(Failure::Conflict {
            code: "quota_full",
            message: format!("{words}，请先删除不需要的文件"),
            field: Some(material.key.clone()),
        });
    }
    let name: String = name.trim().chars().take(200).collect();
    Ok(state
        .store
        .create_upload(&NewUpload {
            application_id,
            material_key: &material.key,
            user_id: access.user.id,
            original_name: if name.is_empty() { "未命名" } else { &name },
            total_size: size,
            part_size: PART_SIZE,
        })
        .await?)
}

/// The person's own upload (anyone else's is not found).
pub async fn own_upload(state: &AppState, access: &Access, id: &str) -> Result<Upload, Failure> {
    match state.store.get_upload(id).await? {
        Some(u) if u.user_id == access.user.id => Ok(u),
        _ => Err(Failure::NotFound),
    }
}

/// A part out of turn: the answer carries where to go on from.
pub fn out_of_turn(u: &Upload) -> Failure {
    Failure::Conflict {
        code: "part_out_of_turn",
        message: format!(
            "应上传第 {} 片（共 {} 片），请从这里继续",
            u.parts_received + 1,
            u.parts_total()
        ),
        field: None,
    }
}

/// Streams part `part` of upload `u` into storage while counting and hashing it. A part
/// shorter or longer than expected (a dropped connection, a wrong client) leaves nothing.
pub async fn put_part<S, E>(
    state: &AppState,
    u: &Upload,
    part: i64,
    mut body: S,
) -> Result<Upload, Failure>
where
    S: futures::Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    if part != u.parts_received || part >= u.parts_total() {
        // Read what the client is sending before answering, so it hears the answer (and
        // where to resume) instead of a reset connection; at most one part's worth.
        let mut drained = 0i64;
        while let Some(Ok(piece)) = body.next().await {
            drained += piece.len() as i64;
            if drained > u.part_size {
                break;
            }
        }
        return Err(out_of_turn(u));
    }
    let expected = (u.total_size - u.bytes_received).min(u.part_size);
    let key = pingxuan_blobs::upload_part_key(&u.public_id, part as u32);
    let mut writer = state.blobs.writer(&key).await?;
    let mut hash = Sha256::new();
    let mut got: i64 = 0;
    // The network's small pieces gathered into one buffer: handed to the storage as one
    // piece, the local file is written in a few large writes instead of one blocking
    // round trip per piece (≈ 500 a part). The storage's writer buffers a part anyway.
    let mut gathered = BytesMut::with_capacity(expected.max(0) as usize);
    while let Some(piece) = body.next().await {
        let piece = match piece {
            Ok(p) => p,
            Err(e) => {
                tracing::info!(upload = %u.public_id, part, error = %e, "part interrupted");
                writer.abort().await.ok();
                return Err(Failure::invalid(
                    "part_interrupted",
                    "传输中断，本片未保存，请重试",
                    None,
                ));
            }
        };
        got += piece.len() as i64;
        if got > expected {
            writer.abort().await.ok();
            return Err(Failure::invalid(
                "part_size",
                format!("本片超过应有的 {expected} 字节"),
                None,
            ));
        }
        hash.update(&piece);
        gathered.extend_from_slice(&piece);
    }
    if got != expected {
        writer.abort().await.ok();
        return Err(Failure::invalid(
            "part_size",
            format!("本片只收到 {got} 字节，应为 {expected} 字节，请重试"),
            None,
        ));
    }
    writer.write(gathered.freeze()).await?;
    writer.close().await?;
    let chain = hex::encode(Sha256::digest(
        format!("{}{}", u.chain_hash, hex::encode(hash.finalize())).as_bytes(),
    ));
    match state.store.record_part(u.id, part, got, &chain).await {
        Ok(()) => {}
        Err(pingxuan_store::StoreError::Stale) => {
            let now = state
                .store
                .get_upload(&u.public_id)
                .await?
                .ok_or(Failure::NotFound)?;
            return Err(out_of_turn(&now));
        }
        Err(e) => return Err(e.into()),
    }
    state
        .store
        .get_upload(&u.public_id)
        .await?
        .ok_or(Failure::NotFound)
}

/// What the content of a stored file is, measured by the media checks.
struct Measurement {
    format: &'static str,
    label: &'static str,
    content_type: &'static str,
    measured: Measured,
    json: serde_json::Value,
}

fn measure(
    mut r: impl std::io::Read + std::io::Seek,
) -> Result<Result<Measurement, String>, std::io::Error> {
    let kind = pingxuan_media::sniff_reader(&mut r)?;
    let content =
        |e: pingxuan_media::MediaError| -> Result<Result<Measurement, String>, std::io::Error> {
            match e {
                pingxuan_media::MediaError::Io(io) => Err(io),
                other => Ok(Err(other.to_string())),
            }
        };
    let m = match kind {
        Sniffed::Jpeg => match pingxuan_media::probe_photo(&mut r) {
            Ok(p) => Measurement {
                format: "jpg",
                label: kind.label(),
                content_type: "image/jpeg",
                measured: Measured::Photo {
                    width: p.display_width,
                    height: p.display_height,
                },
                json: serde_json::json!({"width": p.display_width, "height": p.display_height,
                    "orientation": p.orientation}),
            },
            Err(e) => return content(e),
        },
        Sniffed::Mp4 | Sniffed::Mov => match pingxuan_media::probe_video(&mut r) {
            Ok(v) => Measurement {
                format: if kind == Sniffed::Mov { "mov" } else { "mp4" },
                label: kind.label(),
                content_type: if kind == Sniffed::Mov {
                    "video/quicktime"
                } else {
                    "video/mp4"
                },
                measured: Measured::Video {
                    duration_ms: v.duration_ms,
                    width: v.display_width,
                    height: v.display_height,
                },
                json: serde_json::json!({"duration_ms": v.duration_ms, "width": v.display_width,
                    "height": v.display_height, "codec": v.codec.as_string()}),
            },
            Err(e) => return content(e),
        },
        Sniffed::Pdf => match pingxuan_media::probe_pdf(&mut r, PDF_LIMIT) {
            Ok(p) => Measurement {
                format: "pdf",
                label: kind.label(),
                content_type: "application/pdf",
                measured: Measured::Pdf {
                    pages: p.page_count,
                },
                json: serde_json::json!({"pages": p.page_count}),
            },
            Err(e) => return content(e),
        },
        Sniffed::Png => Measurement {
            format: "png",
            label: kind.label(),
            content_type: "image/png",
            measured: Measured::Other,
            json: serde_json::json!({}),
        },
        other => Measurement {
            format: "other",
            label: other.label(),
            content_type: "application/octet-stream",
            measured: Measured::Other,
            json: serde_json::json!({}),
        },
    };
    Ok(Ok(m))
}

/// Joins the parts, checks the content against the material, and attaches the file.
/// A file that fails the check is removed with its parts; the words say why.
pub async fn complete(
    state: &AppState,
    access: &Access,
    u: &Upload,
) -> Result<Attachment, Failure> {
    if !(u.bytes_received == u.total_size && u.parts_received == u.parts_total()) {
        return Err(Failure::Conflict {
            code: "incomplete_upload",
            message: format!(
                "文件尚未上传完整（已收到 {}/{} 片）",
                u.parts_received,
                u.parts_total()
            ),
            field: None,
        });
    }
    let (l, level) = load_for_attaching(state, access, u.application_id).await?;
    let material = material_for(&l, level, &u.material_key)?.clone();
    let parts: Vec<String> = (0..u.parts_total())
        .map(|p| pingxuan_blobs::upload_part_key(&u.public_id, p as u32))
        .collect();
    let file_id = hex::encode(rand::random::<[u8; 16]>());
    let dest = format!("files/{}/{file_id}", u.application_id);
    state.blobs.compose(&parts, &dest).await?;
    let cleanup = || async {
        state
            .blobs
            .delete_prefix(&pingxuan_blobs::upload_prefix(&u.public_id))
            .await
            .ok();
        state.store.delete_upload(u.id).await.ok();
    };
    let reader = state.blobs.blocking_reader(&dest).await?;
    let measured = tokio::task::spawn_blocking(move || measure(reader))
        .await
        .map_err(|e| Failure::Internal(format!("measure: {e}")))?
        .map_err(|e| Failure::Internal(format!("measure: {e}")))?;
    let refuse = |message: String| Failure::Invalid {
        code: "file_check",
        message: format!("{}：{message}", u.original_name),
        field: Some(material.key.clone()),
    };
    let m = match measured {
        Ok(m) => m,
        Err(words) => {
            state.blobs.delete(&dest).await.ok();
            cleanup().await;
            return Err(refuse(words));
        }
    };
    let problems = file_problems(
        &material,
        &Checked {
            size: u.total_size as u64,
            format: m.format,
            format_label: m.label,
            measured: m.measured.clone(),
        },
    );
    if !problems.is_empty() {
        state.blobs.delete(&dest).await.ok();
        cleanup().await;
        return Err(refuse(problems.join("；")));
    }
    let added = state
        .store
        .add_attachment(
            &NewAttachment {
                application_id: u.application_id,
                material_key: &material.key,
                blob_key: &dest,
                original_name: &u.original_name,
                format: m.format,
                content_type: m.content_type,
                size: u.total_size,
                sha256: &u.chain_hash,
                measured: &m.json.to_string(),
                uploaded_by: access.user.id,
            },
            &material,
            &Audit::new(
                Some(access.user.id),
                "attachment_added",
                format!("application:{}", u.application_id),
            )
            .detail(format!("{} {}", material.name, u.original_name)),
        )
        .await;
    cleanup().await;
    match added {
        Ok(a) => Ok(a),
        Err(e) => {
            state.blobs.delete(&dest).await.ok();
            Err(e.into())
        }
    }
}

/// Abandons an upload and its parts.
pub async fn cancel(state: &AppState, u: &Upload) -> Result<(), Failure> {
    state
        .blobs
        .delete_prefix(&pingxuan_blobs::upload_prefix(&u.public_id))
        .await?;
    state.store.delete_upload(u.id).await?;
    Ok(())
}

/// Uploads idle this long are abandoned: their parts are removed.
pub const ABANDONED_AFTER_SECS: i64 = 24 * 3600;

/// Removes uploads nobody touched for a day, with their parts, and unfinished writes
/// of a process that died mid-write. Returns how many uploads went.
pub async fn sweep_abandoned(state: &AppState) -> Result<usize, Failure> {
    let idle = state
        .store
        .idle_uploads(pingxuan_store::now() - ABANDONED_AFTER_SECS)
        .await?;
    for u in &idle {
        cancel(state, u).await?;
        tracing::info!(upload = %u.public_id, name = %u.original_name, "abandoned upload removed");
    }
    state
        .blobs
        .sweep_partial_writes(std::time::Duration::from_secs(ABANDONED_AFTER_SECS as u64))
        .await?;
    Ok(idle.len())
}

/// An attachment and the application it belongs to, if `access` may see that application.
pub async fn seen_attachment(
    state: &AppState,
    access: &Access,
    id: &str,
) -> Result<(Attachment, Loaded), Failure> {
    let a = state
        .store
        .get_attachment(id)
        .await?
        .ok_or(Failure::NotFound)?;
    let l = flow::load(&state.store, a.application_id).await?;
    flow::viewer_level(access, &l).ok_or(Failure::NotFound)?;
    Ok((a, l))
}

/// Removes an attachment: by the level it belongs to, while that level holds the application.
pub async fn remove(state: &AppState, access: &Access, id: &str) -> Result<(), Failure> {
    let (a, l) = seen_attachment(state, access, id).await?;
    let level = attaching_level(access, &l)?;
    material_for(&l, level, &a.material_key)?;
    let audit = Audit::new(
        Some(access.user.id),
        "attachment_removed",
        format!("application:{}", a.application_id),
    )
    .detail(a.original_name.clone());
    state.store.remove_attachment(a.id, &audit).await?;
    Ok(())
}

/// The name a download gets, as the notices ask: 姓名 + 序号 among the material's live
/// files (张三1.jpg, 张三2.jpg), or the uploaded name where the material does not ask.
pub async fn download_name(
    state: &AppState,
    a: &Attachment,
    l: &Loaded,
) -> Result<String, Failure> {
    let by_person = l
        .campaign
        .materials
        .iter()
        .find(|m| m.key == a.material_key)
        .is_some_and(|m| m.name_by_person);
    let person = l
        .app
        .form
        .get(&pingxuan_rules::campaign::FieldKey::Name)
        .and_then(pingxuan_rules::form::FieldValue::text)
        .unwrap_or("")
        .trim();
    if !by_person || person.is_empty() {
        return Ok(a.original_name.clone());
    }
    // Removed files keep their seq: number the live ones up to this one.
    let n = live_files(state, a.application_id, &a.material_key)
        .await?
        .iter()
        .filter(|x| x.seq <= a.seq)
        .count();
    Ok(format!("{person}{n}.{}", a.format))
}

/// The live files of one material of an application.
async fn live_files(
    state: &AppState,
    application_id: i64,
    material_key: &str,
) -> Result<Vec<Attachment>, Failure> {
    let mut all = state.store.attachments_of(application_id).await?;
    all.retain(|a| a.material_key == material_key);
    Ok(all)
}

/// A `Range` header no byte of the file satisfies (answered with 416).
#[derive(Debug, PartialEq, Eq)]
pub struct Unsatisfiable;

/// Parses a single `Range: bytes=a-b` (or `a-`, `-n`) against a file of `size` bytes.
/// `Ok(None)`: no range asked (or several: the whole file is sent).
pub fn parse_range(header: Option<&str>, size: u64) -> Result<Option<Range<u64>>, Unsatisfiable> {
    let Some(h) = header else { return Ok(None) };
    let Some(spec) = h.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None); // several ranges: send the whole file
    }
    let (a, b) = spec.split_once('-').ok_or(Unsatisfiable)?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| Unsatisfiable)?;
        if n == 0 {
            return Err(Unsatisfiable);
        }
        size.saturating_sub(n)..size
    } else {
        let start: u64 = a.parse().map_err(|_| Unsatisfiable)?;
        let end = if b.is_empty() {
            size
        } else {
            b.parse::<u64>()
                .map_err(|_| Unsatisfiable)?
                .saturating_add(1)
                .min(size)
        };
        start..end
    };
    if range.start >= size || range.start >= range.end {
        return Err(Unsatisfiable);
    }
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::{Unsatisfiable, parse_range};

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some(0..10)));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some(90..100)));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some(90..100)));
        assert_eq!(parse_range(Some("bytes=50-500"), 100), Ok(Some(50..100)));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(Unsatisfiable));
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Ok(None));
    }
}

#[derive(Serialize, ToSchema)]
pub struct AttachmentOut {
    pub id: String,
    pub material: String,
    pub name: String,
    /// By content: jpg, png, mp4, mov, pdf.
    pub format: String,
    pub size: i64,
    /// What the content measured: pixels, duration, pages.
    #[schema(value_type = Object)]
    pub measured: serde_json::Value,
    /// In words, e.g. “JPEG 4000×3000，3.2 MB”.
    pub summary: String,
    /// Shown inline (images, PDFs, videos with Range).
    pub url: String,
    /// Downloaded with the name the notices ask for (姓名+序号).
    pub download: String,
    /// An image to show, for photos.
    pub preview: Option<String>,
}

pub fn attachment_out(a: &pingxuan_store::attachments::Attachment) -> AttachmentOut {
    let measured: serde_json::Value = serde_json::from_str(&a.measured).unwrap_or_default();
    let size = pingxuan_rules::materials::format_size(a.size as u64);
    let n = |k: &str| measured.get(k).and_then(serde_json::Value::as_u64);
    let summary = match (n("width"), n("height"), n("duration_ms"), n("pages")) {
        (Some(w), Some(h), Some(ms), _) => format!(
            "{} {w}×{h}，{}，{size}",
            a.format.to_uppercase(),
            pingxuan_rules::materials::format_duration_zh(ms)
        ),
        (Some(w), Some(h), None, _) => format!("{} {w}×{h}，{size}", a.format.to_uppercase()),
        (_, _, _, Some(p)) => format!("PDF {p} 页，{size}"),
        _ => format!("{}，{size}", a.format.to_uppercase()),
    };
    let url = format!("/files/{}", a.public_id);
    AttachmentOut {
        id: a.public_id.clone(),
        material: a.material_key.clone(),
        name: a.original_name.clone(),
        format: a.format.clone(),
        size: a.size,
        measured,
        summary,
        download: format!("{url}?download=1"),
        preview: match a.format.as_str() {
            "jpg" => Some(format!("{url}/preview")),
            "png" => Some(url.clone()),
            _ => None,
        },
        url,
    }
}

/// A material on the page: what it asks for, the files attached, whether they can be
/// changed here.
#[derive(Serialize, ToSchema)]
pub struct MaterialView {
    pub key: String,
    pub name: String,
    pub required: bool,
    /// “JPG，每个不小于 2 MB，须 3～5 张”.
    pub rule: String,
    pub hint: String,
    /// For the file chooser: the extensions the material takes.
    pub accept: String,
    /// Count problem, if any (“……须 3～5 张，现有 2 张”).
    pub count_note: String,
    pub files: Vec<AttachmentOut>,
    /// Whether the viewer may upload and remove files of it here and now.
    pub editable: bool,
}

/// The materials as the chain's level `level` sees them: those of its level and the
/// levels below, with what is attached; its own can be changed while it may attach
/// (`may_attach`). Other levels' materials without files are left out.
pub fn material_views(l: &Loaded, files: &[Attachment], level: usize) -> Vec<MaterialView> {
    let (upto, own, may_change) = (level, level, may_attach(l, level));
    let place = |m: &Material| {
        pingxuan_rules::materials::holder(&l.campaign, &l.chain, m).filter(|i| *i <= upto)
    };
    l.campaign
        .materials
        .iter()
        .filter_map(|m| place(m).map(|i| (m, i)))
        .filter(|(m, i)| *i == own || files.iter().any(|a| a.material_key == m.key))
        .map(|(m, i)| {
            let files: Vec<AttachmentOut> = files
                .iter()
                .filter(|a| a.material_key == m.key)
                .map(attachment_out)
                .collect();
            MaterialView {
                key: m.key.clone(),
                name: m.name.clone(),
                required: m.required,
                rule: pingxuan_rules::materials::requirement_text(m),
                hint: m.hint.clone().unwrap_or_default(),
                accept: m
                    .formats
                    .iter()
                    .map(|f| format!(".{f}"))
                    .collect::<Vec<_>>()
                    .join(","),
                count_note: pingxuan_rules::materials::count_problem(m, files.len() as u32)
                    .unwrap_or_default(),
                files,
                editable: may_change && i == own,
            }
        })
        .collect()
}

/// The longest side of a photo's small copy, in pixels: sharp enough for the 推荐表's
/// 3.3 cm photo box at print resolution, light enough for lists.
pub const SMALL_PHOTO: u32 = 600;

/// A photo's small upright JPEG (EXIF orientation applied): for previews and printed forms.
/// Made once and kept in the storage beside the photo, so a bundle of a thousand 推荐表 does
/// not decode a thousand full-size photos again. The copy is only a cache: when it cannot
/// be kept, it is made again next time.
pub async fn small_photo(state: &AppState, a: &Attachment) -> Result<Vec<u8>, Failure> {
    // The size in the key: a new size never serves an old copy.
    let key = format!("previews/{SMALL_PHOTO}/{}.jpg", a.blob_key);
    if let Ok(bytes) = state.blobs.get(&key).await {
        return Ok(bytes.to_vec());
    }
    let reader = state.blobs.blocking_reader(&a.blob_key).await?;
    let jpeg = tokio::task::spawn_blocking(move || pingxuan_media::thumbnail(reader, SMALL_PHOTO))
        .await
        .map_err(|e| Failure::Internal(format!("small photo: {e}")))?
        .map_err(|e| Failure::Internal(format!("small photo: {e}")))?;
    if let Err(e) = state.blobs.put(&key, Bytes::from(jpeg.clone())).await {
        tracing::warn!(error = %e, key, "small photo not kept");
    }
    Ok(jpeg)
}
