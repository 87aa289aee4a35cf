//! Exports for paper filing: who may download which list, the records gathered from the
//! store; the files themselves are made by `pingxuan_export`.

use std::collections::BTreeSet;

use pingxuan_export::summary::{SummaryTable, row_of, title_of, xlsx};
use pingxuan_rules::Role;

use crate::AppState;
use crate::access::Access;
use crate::error::Failure;

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const PDF: &str = "application/pdf";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// A file to send as a download.
pub struct Download {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl axum::response::IntoResponse for Download {
    fn into_response(self) -> axum::response::Response {
        use axum::http::header;
        (
            [
                (header::CONTENT_TYPE, self.content_type.to_owned()),
                (header::CONTENT_DISPOSITION, disposition(true, &self.name)),
            ],
            self.bytes,
        )
            .into_response()
    }
}

/// Whose candidates a caller's campaign exports hold: the office's (all that reached it)
/// or their own recommending units'.
enum Scope {
    Office,
    Units { ids: Vec<i64>, names: String },
}

impl Scope {
    /// Not found for anyone who neither organises the campaign nor recommends in it.
    fn of(access: &Access, campaign_id: &str) -> Result<Scope, Failure> {
        let in_campaign = |role: Role| {
            access
                .roles
                .iter()
                .filter(move |r| r.role == role && r.campaign_id.as_deref() == Some(campaign_id))
        };
        if in_campaign(Role::Organizer).next().is_some() {
            return Ok(Scope::Office);
        }
        let own: Vec<(i64, String)> = in_campaign(Role::Recommender)
            .filter_map(|r| Some((r.unit_id?, r.unit_name.clone().unwrap_or_default())))
            .collect();
        if own.is_empty() {
            return Err(Failure::NotFound);
        }
        Ok(Scope::Units {
            ids: own.iter().map(|(id, _)| *id).collect(),
            names: own
                .iter()
                .map(|(_, n)| n.as_str())
                .collect::<Vec<_>>()
                .join("、"),
        })
    }

    fn units(&self) -> Option<&[i64]> {
        match self {
            Scope::Office => None,
            Scope::Units { ids, .. } => Some(ids),
        }
    }
}

/// The 候选人汇总表 of a campaign as the caller may have it: the organiser's, every
/// candidate at the office with their 推荐单位; a recommending unit's, its own candidates
/// (those that reached it and were not sent back below). Not found for anyone else.
pub async fn summary_table(
    state: &AppState,
    access: &Access,
    campaign_id: &str,
) -> Result<Download, Failure> {
    let campaign = state
        .store
        .campaign_model(campaign_id)
        .await?
        .ok_or(Failure::NotFound)?;
    let title = title_of(&campaign);
    let scope = Scope::of(access, campaign_id)?;
    let candidates = state.store.candidates(campaign_id, scope.units()).await?;
    let (unit_line, name) = match &scope {
        Scope::Office => {
            let units = candidates
                .iter()
                .map(|c| c.recommender.as_str())
                .collect::<BTreeSet<_>>()
                .len();
            (
                format!(
                    "推荐单位：全部（{units} 个推荐单位，{} 名候选人）",
                    candidates.len()
                ),
                format!("{title}.xlsx"),
            )
        }
        Scope::Units { names, .. } => (
            format!("推荐单位（盖章）：{names}"),
            format!("{title}（{names}）.xlsx"),
        ),
    };
    let whole = matches!(scope, Scope::Office);
    let table = SummaryTable {
        title,
        unit_line,
        rows: candidates
            .iter()
            .map(|c| row_of(&c.form, &c.recommender))
            .collect(),
        with_recommender: whole,
    };
    // Thousands of rows take a moment of CPU: off the request threads.
    let bytes = tokio::task::spawn_blocking(move || xlsx(&table))
        .await
        .map_err(|e| Failure::Internal(format!("summary table: {e}")))?
        .map_err(|e| Failure::Internal(format!("summary table: {e}")))?;
    Ok(Download {
        name,
        content_type: XLSX,
        bytes,
    })
}

/// The 考察材料 of one candidate, prefilled for the recommending unit to complete: for the
/// recommending unit and the levels above it; not for the applicant or the work unit
/// (forbidden), nor for anyone who does not see the application (not found).
pub async fn inspection(state: &AppState, access: &Access, id: i64) -> Result<Download, Failure> {
    let l = crate::flow::load(state, id).await?;
    let level = crate::flow::viewer_level(access, &l).ok_or(Failure::NotFound)?;
    if (level as i64) < l.app.recommender_level {
        return Err(Failure::Forbidden);
    }
    let recommender = recommender_name(state, &l).await?;
    let name = person_name(&l);
    let bytes = tokio::task::spawn_blocking(move || {
        pingxuan_export::inspection::docx(&l.campaign, &l.app.form, &recommender)
    })
    .await
    .map_err(|e| Failure::Internal(format!("inspection: {e}")))?
    .map_err(|e| Failure::Internal(format!("inspection: {e}")))?;
    Ok(Download {
        name: format!("{name}同志考察材料.docx"),
        content_type: DOCX,
        bytes,
    })
}

/// The name of the application's recommending unit, or nothing before it has one.
async fn recommender_name(state: &AppState, l: &crate::flow::Loaded) -> Result<String, Failure> {
    let Some(unit) = l.app.recommender_unit_id else {
        return Ok(String::new());
    };
    Ok(state
        .store
        .list_units(&l.app.campaign_id)
        .await?
        .into_iter()
        .find(|u| u.id == unit)
        .map(|u| u.name)
        .unwrap_or_default())
}

/// The candidate's name for a file name, the application's number while it has none.
fn person_name(l: &crate::flow::Loaded) -> String {
    l.app
        .form
        .get(&pingxuan_rules::campaign::FieldKey::Name)
        .and_then(pingxuan_rules::form::FieldValue::text)
        .filter(|n| !n.is_empty())
        .unwrap_or(&l.app.number)
        .to_owned()
}

/// The code in a printed form's QR link: it proves the link was made here for this
/// application at this version of its form.
pub fn verify_code(state: &AppState, id: i64, version: i64) -> String {
    state.store.sealer.lookup(&format!("verify|{id}|{version}"))[..20].to_owned()
}

/// The 推荐表 as PDF with its watermark and verification QR code, for everyone who sees the
/// application (广西: the applicant prints the watermarked copy to sign). Opinions already
/// given are printed in their boxes; the photo is the 2-inch photo, else the first photo.
pub async fn form_pdf(state: &AppState, access: &Access, id: i64) -> Result<Download, Failure> {
    let l = crate::flow::load(state, id).await?;
    crate::flow::viewer_level(access, &l).ok_or(Failure::NotFound)?;
    let recommender = recommender_name(state, &l).await?;
    // The latest opinion each level wrote when it sent the application on.
    let mut opinions = std::collections::HashMap::new();
    for e in &l.events {
        if let pingxuan_rules::workflow::Event::Submit { by } = e.event
            && by > 0
            && !e.comment.is_empty()
        {
            let mut text = e.comment.clone();
            if !e.co_signer.is_empty() {
                text.push_str(&format!(
                    "\n实际就职单位（{}）意见：{}",
                    e.co_signer, e.co_opinion
                ));
            }
            opinions.insert(l.chain.levels[by].key.clone(), text);
        }
    }
    let files = state.store.attachments_of(id).await?;
    let photo = ["id_photo", "photos"].iter().find_map(|k| {
        files
            .iter()
            .find(|a| a.material_key == *k && a.format == "jpg")
    });
    let photo = match photo {
        // A small upright copy: the PDF embeds a JPEG as it is. A photo that cannot be
        // read leaves the photo box empty rather than the form unprinted.
        Some(a) => match state.blobs.blocking_reader(&a.blob_key).await {
            Ok(reader) => {
                tokio::task::spawn_blocking(move || pingxuan_media::thumbnail(reader, 600))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .map(|jpeg| (jpeg, "jpg"))
            }
            Err(_) => None,
        },
        None => None,
    };
    let version = l.app.form_version;
    let verify_url = format!(
        "{}/verify/{id}/{version}/{}",
        state.config.public_url.trim_end_matches('/'),
        verify_code(state, id, version)
    );
    let now = pingxuan_store::now();
    let exported_at = crate::pages::format_time(now);
    let filled_on = l.app.committed_at.unwrap_or(l.app.created_at);
    let filled_on = date_zh(filled_on);
    let name = person_name(&l);
    let state2 = state.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        let engine = state2.pdf.get_or_init(|| {
            pingxuan_pdf::PdfEngine::with_system_fonts().map_err(|e| e.to_string())
        });
        let engine = engine.as_ref().map_err(|e| Failure::Internal(e.clone()))?;
        let print = pingxuan_pdf::form::FormPrint {
            campaign: &l.campaign,
            form: &l.app.form,
            number: &l.app.number,
            recommender: &recommender,
            opinions,
            photo,
            verify_url: &verify_url,
            exported_at: &exported_at,
            filled_on: &filled_on,
        };
        pingxuan_pdf::form::render(engine, &print).map_err(|e| Failure::Internal(e.to_string()))
    })
    .await
    .map_err(|e| Failure::Internal(format!("form pdf: {e}")))??;
    Ok(Download {
        name: format!("{name}推荐表.pdf"),
        content_type: PDF,
        bytes,
    })
}

/// “2026年11月26日” in Beijing time.
fn date_zh(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix + 8 * 3600)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{}年{}月{}日", t.year(), u8::from(t.month()), t.day())
}

/// `Content-Disposition` naming the file in UTF-8 (RFC 6266), as browsers save it.
pub fn disposition(attachment: bool, name: &str) -> String {
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let kind = if attachment { "attachment" } else { "inline" };
    format!("{kind}; filename*=UTF-8''{encoded}")
}

/// What the bundle streams through: the ZIP writer's output gathered into pieces of this
/// size, at most `PIECES` of them waiting for the network.
const PIECE: usize = 256 << 10;
const PIECES: usize = 4;

/// A `Write` on a blocking thread that hands the response body its pieces through a bounded
/// channel: when the network is slow, the writer waits instead of piling up memory.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
    buf: bytes::BytesMut,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        let piece = self.buf.split().freeze();
        self.tx.blocking_send(Ok(piece)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the download was closed")
        })
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= PIECE {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.send()
    }
}

/// The campaign's materials as the caller may have them, in one ZIP streamed as it is
/// written (never built in memory or on disk): the 候选人汇总表 at the top, then a folder
/// per candidate in the table's order with their files named as the notices ask (photos
/// 姓名+序号). Who gets which candidates is as for the 汇总表.
pub async fn bundle(
    state: &AppState,
    access: &Access,
    campaign_id: &str,
) -> Result<axum::response::Response, Failure> {
    use pingxuan_export::bundle::{Entry, candidate_folder, file_name};
    let summary = summary_table(state, access, campaign_id).await?;
    let campaign = state
        .store
        .campaign_model(campaign_id)
        .await?
        .ok_or(Failure::NotFound)?;
    let scope = Scope::of(access, campaign_id)?;
    let candidates = state.store.candidates(campaign_id, scope.units()).await?;
    // (path in the ZIP, storage key, size), gathered before the first byte is sent.
    let mut files: Vec<(String, String, u64)> = Vec::new();
    for (n, c) in candidates.iter().enumerate() {
        let person = c
            .form
            .get(&pingxuan_rules::campaign::FieldKey::Name)
            .and_then(pingxuan_rules::form::FieldValue::text)
            .unwrap_or("")
            .to_owned();
        let folder = candidate_folder(n + 1, &person, &c.number);
        let attached = state.store.attachments_of(c.id).await?;
        for m in &campaign.materials {
            let of: Vec<_> = attached
                .iter()
                .filter(|a| a.material_key == m.key)
                .collect();
            for (i, a) in of.iter().enumerate() {
                let name = file_name(
                    &m.name,
                    m.name_by_person,
                    &person,
                    i + 1,
                    of.len(),
                    &a.format,
                );
                files.push((
                    format!("{folder}/{name}"),
                    a.blob_key.clone(),
                    a.size as u64,
                ));
            }
        }
    }
    let zip_name = format!(
        "{}.zip",
        summary
            .name
            .trim_end_matches(".xlsx")
            .replace("候选人汇总表", "推荐材料")
    );

    let (tx, mut rx) = tokio::sync::mpsc::channel(PIECES);
    let blobs = state.blobs.clone();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let sink = ChannelWriter {
            tx: tx.clone(),
            buf: bytes::BytesMut::with_capacity(PIECE),
        };
        let table = Entry::bytes(summary.name, summary.bytes);
        let stored = files.into_iter().map(|(path, key, size)| {
            let (blobs, handle) = (blobs.clone(), handle.clone());
            Entry {
                path,
                size,
                open: Box::new(move || {
                    let reader = handle
                        .block_on(blobs.blocking_reader(&key))
                        .map_err(std::io::Error::other)?;
                    Ok(Box::new(reader) as Box<dyn std::io::Read>)
                }),
            }
        });
        if let Err(e) = pingxuan_export::bundle::write(sink, std::iter::once(table).chain(stored)) {
            // The response has begun: breaking the body tells the browser the download failed.
            tracing::warn!(error = %e, "bundle stopped");
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let body = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    use axum::http::header;
    use axum::response::IntoResponse;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, disposition(true, &zip_name)),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}
