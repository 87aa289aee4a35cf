//! Materials: resumable uploads and the files they become.
//!
//! A file arrives in parts of [`PART_SIZE`], each streamed to storage as it comes (never
//! held whole in memory) and counted strictly in order, so a dropped connection resumes at
//! the first missing part. On completion the parts are joined, the content is measured
//! (`pingxuan_media`, reading only the bytes it needs) and judged against the campaign's
//! material (`rules::materials`); only a file that passes becomes an attachment. Who may
//! attach or remove what, and whether a new upload fits, is one decision
//! (`rules::decide::decide_file`) on the application's case file.

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use pingxuan_blobs::Blobs;
use pingxuan_media::Sniffed;
use pingxuan_rules::campaign::Material;
use pingxuan_rules::decide::{FileMove, FileRefusal, decide_file};
use pingxuan_rules::materials::{Measured, Upload as Checked, file_problems};
use pingxuan_store::Store;
use pingxuan_store::attachments::{Attachment, NewAttachment, NewUpload, Upload};
use pingxuan_store::audit::Audit;
use sha2::{Digest, Sha256};

use crate::access::Access;
use crate::applications::{self, Loaded};
use crate::error::Error;

/// The size of each part: the storage's write chunk, so S3 can copy parts server-side.
pub const PART_SIZE: i64 = pingxuan_blobs::WRITE_CHUNK as i64;
/// PDFs are read whole by the page counter: larger ones are refused before.
const PDF_LIMIT: u64 = 200 << 20;

/// The level at which `access` sees `l` (not found for those who may not see it), and
/// the material a file move concerns, decided once.
fn decide<'l>(
    access: &Access,
    l: &'l Loaded,
    mv: FileMove<'_>,
) -> Result<(usize, &'l Material), Error> {
    let level = applications::viewer_level(access, l).ok_or(Error::NotFound)?;
    let case = l.case(pingxuan_store::now());
    // The material borrows from the campaign, which outlives the case.
    let key = decide_file(&case, level, mv).map_err(refused)?.key.clone();
    let m = l
        .campaign
        .materials
        .iter()
        .find(|m| m.key == key)
        .ok_or(Error::NotFound)?;
    Ok((level, m))
}

fn refused(r: FileRefusal) -> Error {
    let message = r.message();
    match r {
        FileRefusal::NotHolding => Error::conflict("not_holding", message),
        FileRefusal::UnknownMaterial(_) => Error::invalid("material", message, Some("material")),
        FileRefusal::NotYours => Error::Forbidden,
        FileRefusal::Size { code, .. } => Error::invalid(code, message, Some("size")),
        FileRefusal::Sender(_) => Error::invalid("sender", message, Some("sender")),
        FileRefusal::Full { material, .. } => Error::Conflict {
            code: "quota_full",
            message,
            field: Some(material),
        },
    }
}

/// A file about to be uploaded: its material, name and size, and who sent it in (for
/// the materials that ask; ignored by the others).
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    pub material: &'a str,
    pub name: &'a str,
    pub size: i64,
    pub sender: &'a str,
}

/// Starts an upload of `file`; `ceiling` is the server's limit over every material's own.
pub async fn begin(
    store: &Store,
    access: &Access,
    application_id: i64,
    file: Incoming<'_>,
    ceiling: u64,
) -> Result<Upload, Error> {
    let l = applications::load(store, application_id).await?;
    let mv = FileMove::Begin {
        material: file.material,
        size: file.size,
        ceiling,
        sender: file.sender,
    };
    let (_, material) = decide(access, &l, mv)?;
    // One line of text: control characters (a pasted newline, a tab) dropped.
    let sender: String = if material.sender.is_some() {
        file.sender
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>()
            .trim()
            .to_owned()
    } else {
        String::new()
    };
    let name = file.name;
    let name: String = name.trim().chars().take(200).collect();
    Ok(store
        .create_upload(&NewUpload {
            application_id,
            material_key: &material.key,
            user_id: access.user.id,
            original_name: if name.is_empty() { "未命名" } else { &name },
            total_size: file.size,
            part_size: PART_SIZE,
            sender: &sender,
        })
        .await?)
}

/// The person's own upload (anyone else's is not found).
pub async fn own_upload(store: &Store, access: &Access, id: &str) -> Result<Upload, Error> {
    match store.get_upload(id).await? {
        Some(u) if u.user_id == access.user.id => Ok(u),
        _ => Err(Error::NotFound),
    }
}

/// A part out of turn: the answer carries where to go on from.
pub fn out_of_turn(u: &Upload) -> Error {
    Error::Conflict {
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
    store: &Store,
    blobs: &Blobs,
    u: &Upload,
    part: i64,
    mut body: S,
) -> Result<Upload, Error>
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
    let mut writer = blobs.writer(&key).await?;
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
                return Err(Error::invalid(
                    "part_interrupted",
                    "传输中断，本片未保存，请重试",
                    None,
                ));
            }
        };
        got += piece.len() as i64;
        if got > expected {
            writer.abort().await.ok();
            return Err(Error::invalid(
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
        return Err(Error::invalid(
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
    match store.record_part(u.id, part, got, &chain).await {
        Ok(()) => {}
        Err(pingxuan_store::StoreError::Stale) => {
            let now = store
                .get_upload(&u.public_id)
                .await?
                .ok_or(Error::NotFound)?;
            return Err(out_of_turn(&now));
        }
        Err(e) => return Err(e.into()),
    }
    store.get_upload(&u.public_id).await?.ok_or(Error::NotFound)
}

/// What the content of a stored file is, measured by the media checks.
pub(crate) struct Measurement {
    pub(crate) format: &'static str,
    pub(crate) label: &'static str,
    content_type: &'static str,
    measured: Measured,
    json: serde_json::Value,
}

pub(crate) fn measure(
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
    store: &Store,
    blobs: &Blobs,
    access: &Access,
    u: &Upload,
) -> Result<Attachment, Error> {
    if !(u.bytes_received == u.total_size && u.parts_received == u.parts_total()) {
        return Err(Error::Conflict {
            code: "incomplete_upload",
            message: format!(
                "文件尚未上传完整（已收到 {}/{} 片）",
                u.parts_received,
                u.parts_total()
            ),
            field: None,
        });
    }
    let l = applications::load(store, u.application_id).await?;
    let mv = FileMove::Complete {
        material: &u.material_key,
    };
    let material = decide(access, &l, mv)?.1.clone();
    let parts: Vec<String> = (0..u.parts_total())
        .map(|p| pingxuan_blobs::upload_part_key(&u.public_id, p as u32))
        .collect();
    let file_id = hex::encode(rand::random::<[u8; 16]>());
    let dest = format!("files/{}/{file_id}", u.application_id);
    blobs.compose(&parts, &dest).await?;
    let cleanup = || async {
        blobs
            .delete_prefix(&pingxuan_blobs::upload_prefix(&u.public_id))
            .await
            .ok();
        store.delete_upload(u.id).await.ok();
    };
    let reader = blobs.blocking_reader(&dest).await?;
    let measured = tokio::task::spawn_blocking(move || measure(reader))
        .await
        .map_err(|e| Error::Internal(format!("measure: {e}")))?
        .map_err(|e| Error::Internal(format!("measure: {e}")))?;
    let refuse = |message: String| Error::Invalid {
        code: "file_check",
        message: format!("{}：{message}", u.original_name),
        field: Some(material.key.clone()),
    };
    let m = match measured {
        Ok(m) => m,
        Err(words) => {
            blobs.delete(&dest).await.ok();
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
        blobs.delete(&dest).await.ok();
        cleanup().await;
        return Err(refuse(problems.join("；")));
    }
    let added = store
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
                sender: &u.sender,
            },
            &material,
            &Audit::new(
                Some(access.user.id),
                "attachment_added",
                format!("application:{}", u.application_id),
            )
            .detail(if u.sender.is_empty() {
                format!("{} {}", material.name, u.original_name)
            } else {
                format!("{} {}（{}）", material.name, u.original_name, u.sender)
            }),
        )
        .await;
    cleanup().await;
    match added {
        Ok(a) => Ok(a),
        Err(e) => {
            blobs.delete(&dest).await.ok();
            Err(e.into())
        }
    }
}

/// Abandons an upload and its parts.
pub async fn cancel(store: &Store, blobs: &Blobs, u: &Upload) -> Result<(), Error> {
    blobs
        .delete_prefix(&pingxuan_blobs::upload_prefix(&u.public_id))
        .await?;
    store.delete_upload(u.id).await?;
    Ok(())
}

/// Uploads idle this long are abandoned: their parts are removed.
pub const ABANDONED_AFTER_SECS: i64 = 24 * 3600;

/// Removes uploads nobody touched for a day, with their parts, and unfinished writes
/// of a process that died mid-write. Returns how many uploads went.
pub async fn sweep_abandoned(store: &Store, blobs: &Blobs) -> Result<usize, Error> {
    let idle = store
        .idle_uploads(pingxuan_store::now() - ABANDONED_AFTER_SECS)
        .await?;
    for u in &idle {
        cancel(store, blobs, u).await?;
        tracing::info!(upload = %u.public_id, name = %u.original_name, "abandoned upload removed");
    }
    blobs
        .sweep_partial_writes(std::time::Duration::from_secs(ABANDONED_AFTER_SECS as u64))
        .await?;
    Ok(idle.len())
}

/// An attachment and the application it belongs to, if `access` may see that application.
pub async fn seen_attachment(
    store: &Store,
    access: &Access,
    id: &str,
) -> Result<(Attachment, Loaded), Error> {
    let a = store.get_attachment(id).await?.ok_or(Error::NotFound)?;
    let (l, level) = applications::load_seen(store, access, a.application_id).await?;
    if !seen_at(&l, level, &a.material_key) {
        return Err(Error::NotFound);
    }
    Ok((a, l))
}

/// Whether the chain's level `level` sees the files of material `key`: those of its own
/// level and below, never a higher level's (the office's 市直相关部门意见 are not the
/// applicant's or the units' to read).
pub fn seen_at(l: &Loaded, level: usize, key: &str) -> bool {
    l.campaign
        .materials
        .iter()
        .find(|m| m.key == key)
        .and_then(|m| pingxuan_rules::materials::holder(&l.campaign, &l.chain, m))
        .is_some_and(|holder| holder <= level)
}

/// Removes an attachment: by the level it belongs to, while that level holds the application.
pub async fn remove(store: &Store, access: &Access, id: &str) -> Result<(), Error> {
    let (a, l) = seen_attachment(store, access, id).await?;
    decide(
        access,
        &l,
        FileMove::Remove {
            material: &a.material_key,
        },
    )?;
    let audit = Audit::new(
        Some(access.user.id),
        "attachment_removed",
        format!("application:{}", a.application_id),
    )
    .detail(a.original_name.clone());
    store.remove_attachment(a.id, &audit).await?;
    Ok(())
}

/// The name a download gets, as the notices ask: 姓名 + 序号 among the material's live
/// files (张三1.jpg, 张三2.jpg), or the uploaded name where the material does not ask.
pub fn download_name(a: &Attachment, l: &Loaded) -> String {
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
        return a.original_name.clone();
    }
    // Removed files keep their seq: number the live ones up to this one.
    let n = l
        .attachments
        .iter()
        .filter(|x| x.material_key == a.material_key && x.seq <= a.seq)
        .count();
    format!("{person}{n}.{}", a.format)
}

/// The longest side of a photo's small copy, in pixels: sharp enough for the 推荐表's
/// 3.3 cm photo box at print resolution, light enough for lists.
pub const SMALL_PHOTO: u32 = 600;

/// A photo's small upright JPEG (EXIF orientation applied): for previews and printed forms.
pub async fn small_photo(blobs: &Blobs, a: &Attachment) -> Result<Vec<u8>, Error> {
    photo_copy(blobs, a, SMALL_PHOTO).await
}

/// The longest side of a voting card's photo: sharp at a phone's density, small enough
/// that the first screen of the voting page stays under 100 KB.
pub const CARD_PHOTO: u32 = 300;

/// The longest side of the copy the public gallery shows full-size: a phone's screen,
/// without the original's metadata (a phone's photo may carry where it was taken).
pub const LARGE_PHOTO: u32 = 1600;

/// A photo's upright JPEG copy, its longest side at most `max_side`, decoded and encoded
/// again, so none of the original's EXIF (GPS included) comes along.
/// Made once and kept in the storage beside the photo, so a bundle of a thousand 推荐表 does
/// not decode a thousand full-size photos again. The copy is only a cache: when it cannot
/// be kept, it is made again next time.
pub async fn photo_copy(blobs: &Blobs, a: &Attachment, max_side: u32) -> Result<Vec<u8>, Error> {
    // The size in the key: a new size never serves an old copy.
    let key = format!("previews/{max_side}/{}.jpg", a.blob_key);
    if let Ok(bytes) = blobs.get(&key).await {
        return Ok(bytes.to_vec());
    }
    let reader = blobs.blocking_reader(&a.blob_key).await?;
    let jpeg = tokio::task::spawn_blocking(move || pingxuan_media::thumbnail(reader, max_side))
        .await
        .map_err(|e| Error::Internal(format!("photo copy: {e}")))?
        .map_err(|e| Error::Internal(format!("photo copy: {e}")))?;
    if let Err(e) = blobs.put(&key, Bytes::from(jpeg.clone())).await {
        tracing::warn!(error = %e, key, "photo copy not kept");
    }
    Ok(jpeg)
}
