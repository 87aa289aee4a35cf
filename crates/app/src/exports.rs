//! Exports for paper filing: who may download which list, the records gathered from the
//! store, what a printed 推荐表 needs, and the bundle a background job builds; the files
//! themselves are made by `pingxuan_export` (tables, Word) and `pingxuan_pdf`.

use std::collections::BTreeSet;

use pingxuan_export::summary::{SummaryTable, row_of, title_of, xlsx};
use pingxuan_rules::Role;

use std::sync::Arc;

use pingxuan_export::form::FormPrint;
use pingxuan_store::applications::Candidate;
use pingxuan_store::attachments::Attachment;
use pingxuan_store::exports::ExportJob;

use pingxuan_blobs::Blobs;
use pingxuan_store::Store;

use crate::access::Access;
use crate::applications::Loaded;
use crate::error::Error;

/// What exports need: the records, the files, the PDF engine (built on the first PDF,
/// so the font scan is not paid at start), the address printed in verification links,
/// and the queue of export jobs.
#[derive(Clone)]
pub struct Filing {
    pub store: Store,
    pub blobs: Blobs,
    pub pdf: Arc<std::sync::OnceLock<Result<pingxuan_pdf::PdfEngine, String>>>,
    pub public_url: String,
    pub queue: Arc<crate::queue::Queue>,
}

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const PDF: &str = "application/pdf";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// A file to send as a download.
pub struct Download {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl Download {
    /// Records the download in the audit trail (exports carry personal data, 个人信息保护法)
    /// and hands it on.
    pub async fn audited(
        self,
        store: &Store,
        access: &Access,
        ip: Option<&str>,
        target: &str,
    ) -> Result<Download, Error> {
        store
            .audit(
                Some(access.user.id),
                "export_downloaded",
                target,
                &self.name,
                ip,
            )
            .await?;
        Ok(self)
    }
}

/// Whose candidates a caller's campaign exports hold: the office's (all that reached it)
/// or their own recommending units'.
pub enum Scope {
    Office,
    Units { ids: Vec<i64>, names: String },
}

impl Scope {
    /// Not found for anyone who neither organises the campaign nor recommends in it.
    pub fn of(access: &Access, campaign_id: &str) -> Result<Scope, Error> {
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
            return Err(Error::NotFound);
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

    /// The campaigns whose exports the caller may have: those where `of` finds a scope.
    fn campaigns(access: &Access) -> BTreeSet<&str> {
        access
            .roles
            .iter()
            .filter_map(|r| r.campaign_id.as_deref())
            .filter(|id| Scope::of(access, id).is_ok())
            .collect()
    }

    /// The scope an export job was started with: its units (their names looked up again),
    /// or the whole campaign.
    async fn of_units(
        f: &Filing,
        campaign_id: &str,
        ids: Option<Vec<i64>>,
    ) -> Result<Scope, Error> {
        let Some(ids) = ids else {
            return Ok(Scope::Office);
        };
        let units = f.store.list_units(campaign_id).await?;
        let names = ids
            .iter()
            .filter_map(|id| units.iter().find(|u| u.id == *id))
            .map(|u| u.name.as_str())
            .collect::<Vec<_>>()
            .join("、");
        Ok(Scope::Units { ids, names })
    }

    pub fn units(&self) -> Option<&[i64]> {
        match self {
            Scope::Office => None,
            Scope::Units { ids, .. } => Some(ids),
        }
    }
}

/// The campaigns whose lists and bundles the caller may export, for the desk's 导出 card.
pub fn campaigns_to_export(access: &Access) -> BTreeSet<&str> {
    Scope::campaigns(access)
}

/// The 候选人汇总表 of a campaign as the caller may have it: the organiser's, every
/// candidate at the office with their 推荐单位; a recommending unit's, its own candidates
/// (those that reached it and were not sent back below). Not found for anyone else.
pub async fn summary_table(
    f: &Filing,
    access: &Access,
    campaign_id: &str,
) -> Result<Download, Error> {
    let campaign = f
        .store
        .campaign_model(campaign_id)
        .await?
        .ok_or(Error::NotFound)?;
    let scope = Scope::of(access, campaign_id)?;
    let candidates = f.store.candidates(campaign_id, scope.units()).await?;
    summary_of(&campaign, &scope, &candidates).await
}

/// The 汇总表 of these candidates, named for the scope.
async fn summary_of(
    campaign: &pingxuan_rules::campaign::Campaign,
    scope: &Scope,
    candidates: &[Candidate],
) -> Result<Download, Error> {
    let title = title_of(campaign);
    let (unit_line, name) = match scope {
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
    let table = SummaryTable {
        title,
        unit_line,
        rows: candidates
            .iter()
            .map(|c| row_of(&c.form, &c.recommender))
            .collect(),
        with_recommender: matches!(scope, Scope::Office),
    };
    // Thousands of rows take a moment of CPU: off the request threads.
    let bytes = tokio::task::spawn_blocking(move || xlsx(&table))
        .await
        .map_err(|e| Error::Internal(format!("summary table: {e}")))?
        .map_err(|e| Error::Internal(format!("summary table: {e}")))?;
    Ok(Download {
        name,
        content_type: XLSX,
        bytes,
    })
}

/// The 考察材料 of one candidate, prefilled for the recommending unit to complete: for the
/// recommending unit and the levels above it; not for the applicant or the work unit
/// (forbidden), nor for anyone who does not see the application (not found).
pub async fn inspection(f: &Filing, access: &Access, id: i64) -> Result<Download, Error> {
    let (l, level) = crate::applications::load_seen(&f.store, access, id).await?;
    if !pingxuan_rules::workflow::may_export_inspection(level, l.app.recommender_level as usize) {
        return Err(Error::Forbidden);
    }
    let recommender = recommender_name(f, &l).await?;
    let name = person_name(&l);
    let bytes = tokio::task::spawn_blocking(move || {
        pingxuan_export::inspection::docx(&l.campaign, &l.app.form, &recommender)
    })
    .await
    .map_err(|e| Error::Internal(format!("inspection: {e}")))?
    .map_err(|e| Error::Internal(format!("inspection: {e}")))?;
    Ok(Download {
        name: format!("{name}同志考察材料.docx"),
        content_type: DOCX,
        bytes,
    })
}

/// The name of the application's recommending unit, or nothing before it has one.
async fn recommender_name(f: &Filing, l: &Loaded) -> Result<String, Error> {
    let Some(unit) = l.app.recommender_unit_id else {
        return Ok(String::new());
    };
    Ok(f.store
        .list_units(&l.app.campaign_id)
        .await?
        .into_iter()
        .find(|u| u.id == unit)
        .map(|u| u.name)
        .unwrap_or_default())
}

/// The candidate's name for a file name, the application's number while it has none.
fn person_name(l: &Loaded) -> String {
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
pub fn verify_code(store: &Store, id: i64, version: i64) -> String {
    store.sealer.lookup(&format!("verify|{id}|{version}"))[..20].to_owned()
}

/// What a printed 推荐表 needs besides the application itself.
pub struct Printable {
    recommender: String,
    opinions: std::collections::HashMap<String, String>,
    /// A small upright JPEG of the photo.
    photo: Option<Vec<u8>>,
    verify_url: String,
    exported_at: String,
    filled_on: String,
}

impl Printable {
    /// Gathers them: the latest opinion each level wrote when it sent the application on,
    /// the 2-inch photo (else the first photo) among the application's `files`, the
    /// verification link for this version of the form, and the time of the export for
    /// the watermark. The caller brings what it already has: the recommending unit's name
    /// and the files (a bundle job has both from its candidate list and its manifest).
    pub async fn of(
        f: &Filing,
        l: &Loaded,
        now: i64,
        recommender: String,
        files: &[Attachment],
    ) -> Result<Printable, Error> {
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
        let photo = ["id_photo", "photos"].iter().find_map(|k| {
            files
                .iter()
                .find(|a| a.material_key == *k && a.format == "jpg")
        });
        // A photo that cannot be decoded leaves the photo box empty rather than the form
        // unprinted; storage that does not answer fails the print (a bundle must not
        // come out without photos and call itself done).
        let photo = match photo {
            Some(a) => match crate::materials::small_photo(&f.blobs, a).await {
                Ok(jpeg) => Some(jpeg),
                Err(f @ Error::Storage { .. }) => return Err(f),
                Err(_) => None,
            },
            None => None,
        };
        let (id, version) = (l.app.id, l.app.form_version);
        Ok(Printable {
            recommender,
            opinions,
            photo,
            verify_url: format!(
                "{}/verify/{id}/{version}/{}",
                f.public_url.trim_end_matches('/'),
                verify_code(&f.store, id, version)
            ),
            exported_at: pingxuan_rules::deadline::format_time(now),
            filled_on: date_zh(l.app.committed_at.unwrap_or(l.app.created_at)),
        })
    }

    /// The form to print, with the photo in the given format.
    fn form<'a>(&'a self, l: &'a Loaded, photo: Option<(Vec<u8>, &'a str)>) -> FormPrint<'a> {
        FormPrint {
            campaign: &l.campaign,
            form: &l.app.form,
            number: &l.app.number,
            recommender: &self.recommender,
            opinions: self.opinions.clone(),
            photo,
            verify_url: &self.verify_url,
            exported_at: &self.exported_at,
            filled_on: &self.filled_on,
        }
    }

    /// The PDF, set on a blocking thread with the shared engine (built on first use).
    pub async fn pdf(self, f: &Filing, l: Arc<Loaded>) -> Result<Vec<u8>, Error> {
        let pdf = f.pdf.clone();
        tokio::task::spawn_blocking(move || {
            let engine = pdf.get_or_init(|| {
                pingxuan_pdf::PdfEngine::with_system_fonts().map_err(|e| e.to_string())
            });
            let engine = engine.as_ref().map_err(|e| Error::Internal(e.clone()))?;
            let photo = self.photo.clone().map(|jpeg| (jpeg, "jpg"));
            pingxuan_pdf::form::render(engine, &self.form(&l, photo))
                .map_err(|e| Error::Internal(e.to_string()))
        })
        .await
        .map_err(|e| Error::Internal(format!("form pdf: {e}")))?
    }
}

/// An application to print on its own, for someone who sees it; not found otherwise.
async fn printable(f: &Filing, access: &Access, id: i64) -> Result<(Loaded, Printable), Error> {
    let (l, _) = crate::applications::load_seen(&f.store, access, id).await?;
    let recommender = recommender_name(f, &l).await?;
    let print = Printable::of(f, &l, pingxuan_store::now(), recommender, &l.attachments).await?;
    Ok((l, print))
}

/// The 推荐表 as PDF with its watermark and verification QR code, for everyone who sees the
/// application (广西: the applicant prints the watermarked copy to sign). Opinions already
/// given are printed in their boxes; the photo is the 2-inch photo, else the first photo.
pub async fn form_pdf(f: &Filing, access: &Access, id: i64) -> Result<Download, Error> {
    let (l, print) = printable(f, access, id).await?;
    let name = person_name(&l);
    let bytes = print.pdf(f, Arc::new(l)).await?;
    Ok(Download {
        name: format!("{name}推荐表.pdf"),
        content_type: PDF,
        bytes,
    })
}

/// The same 推荐表 as a Word document (东莞 asks for Word and PDF), for the same people.
pub async fn form_docx(f: &Filing, access: &Access, id: i64) -> Result<Download, Error> {
    let (l, print) = printable(f, access, id).await?;
    let name = person_name(&l);
    let bytes = tokio::task::spawn_blocking(move || {
        // Word keeps pictures as PNG here: the small JPEG is turned once more.
        let png = print
            .photo
            .as_deref()
            .and_then(|jpeg| pingxuan_media::png_of_jpeg(jpeg).ok());
        pingxuan_export::form::docx(&print.form(&l, png.map(|p| (p, "png"))))
    })
    .await
    .map_err(|e| Error::Internal(format!("form docx: {e}")))?
    .map_err(|e| Error::Internal(format!("form docx: {e}")))?;
    Ok(Download {
        name: format!("{name}推荐表.docx"),
        content_type: DOCX,
        bytes,
    })
}

/// “2026年11月26日” in Beijing time.
fn date_zh(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix + 8 * 3600)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{}年{}月{}日", t.year(), u8::from(t.month()), t.day())
}

/// One file of a bundle: where it goes in the ZIP, where its bytes are in the storage.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Part {
    pub path: String,
    pub key: String,
    pub size: u64,
}

/// Where an export job keeps the files it made.
pub fn job_prefix(job: &ExportJob) -> String {
    format!("exports/{}/", job.public_id)
}

/// The work of a bundle job: the 候选人汇总表 and each candidate's 推荐表 PDF are made and
/// kept in the storage, then the list of what the ZIP holds is written to the job: the
/// table at the top, then a folder per candidate in the table's order with its 推荐表 and
/// its files named as the notices ask (photos 姓名+序号). Candidates are those of the scope
/// the job was started with, as for the 汇总表. Progress is the number of files made.
pub async fn build_bundle(f: &Filing, job: &ExportJob) -> Result<(), Error> {
    use futures::StreamExt as _;
    use pingxuan_export::bundle::{candidate_folder, file_name};
    let campaign = f
        .store
        .campaign_model(&job.campaign_id)
        .await?
        .ok_or(Error::NotFound)?;
    let scope = Scope::of_units(f, &job.campaign_id, job.unit_ids.clone()).await?;
    let candidates = f.store.candidates(&job.campaign_id, scope.units()).await?;
    let total = candidates.len() as i64 + 1;
    let owner = &f.queue.owner;
    progress(f, job, 0, total).await?;
    let prefix = job_prefix(job);

    let table = summary_of(&campaign, &scope, &candidates).await?;
    let mut parts = vec![Part {
        path: pingxuan_export::bundle::safe_name(&table.name),
        key: format!("{prefix}summary.xlsx"),
        size: table.bytes.len() as u64,
    }];
    f.blobs
        .put(&parts[0].key, table.bytes.into())
        .await
        .map_err(Error::from)?;
    progress(f, job, 1, total).await?;

    // The PDFs, as many at a time as there are cores; the rest of the work waits on them.
    let now = pingxuan_store::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs: Vec<(i64, String)> = candidates
        .iter()
        .map(|c| (c.id, c.recommender.clone()))
        .collect();
    let mut made = futures::stream::iter(jobs)
        .map(|(id, recommender)| job_pdf(f.clone(), id, recommender, prefix.clone(), now))
        .buffered(threads);
    let mut pdfs = Vec::with_capacity(candidates.len());
    let mut reported = std::time::Instant::now();
    while let Some(made) = made.next().await {
        pdfs.push(made?);
        // A write every half second is enough for a page that polls each second.
        if reported.elapsed() >= std::time::Duration::from_millis(500)
            || pdfs.len() == candidates.len()
        {
            progress(f, job, 1 + pdfs.len() as i64, total).await?;
            reported = std::time::Instant::now();
        }
    }
    drop(made);

    for (n, (c, (pdf_key, pdf_size, attached))) in candidates.iter().zip(pdfs).enumerate() {
        let person =
            pingxuan_rules::form::printed(&c.form, pingxuan_rules::campaign::FieldKey::Name);
        let folder = candidate_folder(n + 1, &person, &c.number);
        parts.push(Part {
            path: format!(
                "{folder}/{}推荐表.pdf",
                pingxuan_export::bundle::safe_name(&person)
            ),
            key: pdf_key,
            size: pdf_size,
        });
        for m in &campaign.materials {
            // The office's own files (市直相关部门意见) stay out of a unit's bundle.
            if matches!(scope, Scope::Units { .. })
                && campaign.levels.last().is_some_and(|top| top.key == m.level)
            {
                continue;
            }
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
                parts.push(Part {
                    path: format!("{folder}/{name}"),
                    key: a.blob_key.clone(),
                    size: a.size as u64,
                });
            }
        }
    }
    let zip_name = format!(
        "{}.zip",
        table
            .name
            .trim_end_matches(".xlsx")
            .replace("候选人汇总表", "推荐材料")
    );
    let bytes: u64 = parts.iter().map(|p| p.size).sum();
    let manifest = serde_json::to_string(&parts).expect("parts as JSON");
    if !f
        .store
        .finish_export_job(job.id, owner, &zip_name, &manifest, bytes as i64)
        .await?
    {
        return Err(lease_lost());
    }
    Ok(())
}

/// Reports a job's progress; an error when this server no longer holds the job.
async fn progress(f: &Filing, job: &ExportJob, done: i64, total: i64) -> Result<(), Error> {
    if f.store
        .export_job_progress(job.id, &f.queue.owner, done, total)
        .await?
    {
        Ok(())
    } else {
        Err(lease_lost())
    }
}

fn lease_lost() -> Error {
    Error::Internal("export job lease lost to another server".to_owned())
}

/// One candidate's 推荐表 PDF for a bundle job, kept under the job's prefix: its part in
/// the ZIP (key, size) and the candidate's files, read once for the PDF's photo and the
/// manifest. Owned arguments: the job runs these side by side on the worker's task.
async fn job_pdf(
    f: Filing,
    id: i64,
    recommender: String,
    prefix: String,
    now: i64,
) -> Result<(String, u64, Vec<Attachment>), Error> {
    let l = crate::applications::load(&f.store, id).await?;
    let files = l.attachments.clone();
    let print = Printable::of(&f, &l, now, recommender, &files).await?;
    let who = format!("{}（{}）", person_name(&l), l.app.number);
    // The person is told whose form failed; the detail goes to the log.
    let pdf = print.pdf(&f, Arc::new(l)).await.map_err(|e| match e {
        Error::Internal(detail) => {
            tracing::warn!(candidate = who, detail, "form pdf failed");
            Error::Conflict {
                code: "form_unprintable",
                message: format!("{who}的推荐表未能生成，已记录，请稍后重新导出"),
                field: None,
            }
        }
        other => other,
    })?;
    let key = format!("{prefix}{id}.pdf");
    let size = pdf.len() as u64;
    f.blobs.put(&key, pdf.into()).await?;
    Ok((key, size, files))
}
