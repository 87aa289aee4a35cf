//! Release of the final list (issue 18): refused while the list is unconfirmed, a name on
//! it has not been through 公示 (where the campaign holds one), a 公示 runs or an
//! objection is open (`rules::release::decide`); written once under the last stage's
//! guard with each winner's certificate serial and what the public gallery shows. After
//! it the stages stand still (`store::stages::locked` refuses). Certificates are PDFs
//! whose QR code leads to a public check page; the campaign's workbook holds every stage.

use std::collections::HashSet;
use std::sync::Arc;

use pingxuan_rules::campaign::{Campaign, MaterialKind};
use pingxuan_rules::publicity::{Kind, beijing_day, day_words};
use pingxuan_rules::release::{self, Standing};
use pingxuan_rules::selection::stage::Phase;
use pingxuan_store::Store;
use pingxuan_store::attachments::Attachment;
use pingxuan_store::audit::Audit;
use pingxuan_store::release::{NewRelease, Release, ReleaseEntry, ReleaseFile};

use crate::access::Access;
use crate::error::{Error, Result};
use crate::exports::{Download, Filing, PDF, XLSX};

/// Photos of their work a winner's gallery page shows at most.
pub const GALLERY_PHOTOS: usize = 6;

/// The organiser's page: where the release stands and, before it, the list it would
/// release with what the gallery will show of each.
#[derive(Debug, Clone)]
pub struct Overview {
    pub campaign: Arc<Campaign>,
    pub stage_name: String,
    /// The list as it would be released (before), or as released (after).
    pub entries: Vec<ReleaseEntry>,
    /// Why it cannot be released now; empty when it can (or has been).
    pub blockers: Vec<String>,
    /// What the organiser should know but does not stop it (paper still outstanding).
    pub warnings: Vec<String>,
    pub release: Option<Release>,
    stage_key: String,
    stage_events: i64,
    /// Each winner's number and who is told of the release (read with the list).
    told: std::collections::HashMap<i64, (String, crate::stages::Parties)>,
}

/// The files of an application the gallery shows: the 2-inch photo (else the first
/// photo) as the portrait, photos of their work, the first video.
pub(crate) fn gallery_files(c: &Campaign, files: &[Attachment]) -> Vec<ReleaseFile> {
    let kind_of = |a: &Attachment| {
        c.materials
            .iter()
            .find(|m| m.key == a.material_key)
            .map(|m| m.kind)
    };
    let of_kind = |k: MaterialKind| -> Vec<&Attachment> {
        files
            .iter()
            .filter(|a| kind_of(a) == Some(k))
            // Photos as JPEG (the copies the gallery serves are made from JPEG).
            .filter(|a| k == MaterialKind::Video || a.format == "jpg")
            .collect()
    };
    let photos = of_kind(MaterialKind::Photo);
    let portrait = of_kind(MaterialKind::IdPhoto)
        .first()
        .copied()
        .or_else(|| photos.first().copied());
    let mut out: Vec<(&str, &Attachment)> = Vec::new();
    if let Some(p) = portrait {
        out.push(("portrait", p));
    }
    out.extend(
        photos
            .iter()
            .filter(|a| Some(a.id) != portrait.map(|p| p.id))
            .take(GALLERY_PHOTOS)
            .map(|a| ("photo", *a)),
    );
    if let Some(v) = of_kind(MaterialKind::Video).first() {
        out.push(("video", v));
    }
    out.into_iter()
        .enumerate()
        .map(|(n, (role, a))| ReleaseFile {
            seq: n as i64 + 1,
            role: role.to_owned(),
            attachment_id: a.id,
        })
        .collect()
}

/// Where the campaign's release stands, for its organiser.
pub async fn overview(store: &Store, access: &Access, campaign_id: &str) -> Result<Overview> {
    let round = crate::stages::load(store, access, campaign_id).await?;
    let last = round
        .campaign
        .stages
        .len()
        .checked_sub(1)
        .ok_or(Error::NotFound)?;
    let stage = round.campaign.stages[last].clone();
    let campaign = round.campaign.clone();
    let stage_events = round.events[last].len() as i64;
    let released = store.release_of(campaign_id).await?;
    if let Some(r) = released {
        return Ok(Overview {
            stage_name: stage.name.clone(),
            entries: r.entries.clone(),
            blockers: Vec::new(),
            warnings: Vec::new(),
            release: Some(r),
            campaign,
            stage_key: stage.key,
            stage_events,
            told: Default::default(),
        });
    }
    let v = crate::stages::view_plain(store, access, campaign_id, &stage.key).await?;
    let state = v.state();
    let confirmed = state.phase == Phase::Advanced;
    // The list in the ranking's order.
    let mut listed: Vec<&crate::stages::Candidate> = if confirmed {
        v.candidates
            .iter()
            .filter(|c| state.advanced.contains(&c.id))
            .collect()
    } else {
        Vec::new()
    };
    listed.sort_by_key(|c| {
        (
            c.result.as_ref().map_or(u32::MAX, |r| r.0),
            state.advanced.iter().position(|id| *id == c.id),
        )
    });
    let publicities = store.publicities(campaign_id).await?;
    let shown: HashSet<i64> = publicities
        .iter()
        .filter(|p| p.kind != Kind::Unit.key() && p.stage_key == stage.key)
        .flat_map(|p| p.entries.iter().map(|e| e.application_id))
        .collect();
    let standing = Standing {
        stage_name: stage.name.clone(),
        confirmed,
        listed: listed.len(),
        final_publicity: campaign.publicity.final_publicity,
        not_publicized: listed
            .iter()
            .filter(|c| !shown.contains(&c.id))
            .map(|c| c.name.clone())
            .collect(),
        unsettled: crate::publicity::unsettled(store, campaign_id).await?,
        released_on: None,
    };
    let blockers = release::decide(&standing).err().unwrap_or_default();
    let mut entries = Vec::with_capacity(listed.len());
    for (n, c) in listed.iter().enumerate() {
        let form = store
            .get_application(c.id)
            .await?
            .map(|a| a.form)
            .unwrap_or_default();
        let files = store.attachments_of(c.id).await?;
        entries.push(ReleaseEntry {
            seq: n as i64 + 1,
            application_id: c.id,
            serial: release::serial(
                &campaign.campaign.number_prefix,
                campaign.campaign.year,
                n + 1,
            ),
            name: c.name.clone(),
            work_unit: c.work_unit.clone(),
            recommender: c.recommender.clone(),
            field: c.field.clone(),
            summary: pingxuan_export::summary::row_of(&form, "").brief,
            files: gallery_files(&campaign, &files),
        });
    }
    let mut warnings = Vec::new();
    if confirmed
        && campaign.paper.is_some()
        && let Ok(paper) = crate::paper::overview(store, access, campaign_id).await
    {
        for row in paper
            .rows
            .iter()
            .filter(|r| listed.iter().any(|c| c.id == r.id))
            .filter(|r| r.filing.verdict != pingxuan_rules::paper::Verdict::Complete)
        {
            warnings.push(format!("{}的纸质材料：{}", row.name, row.filing.text));
        }
    }
    for e in &entries {
        if !e.files.iter().any(|f| f.role == "portrait") {
            warnings.push(format!("{}没有照片，公开展示页将只显示文字", e.name));
        }
    }
    Ok(Overview {
        stage_name: stage.name.clone(),
        entries,
        blockers,
        warnings,
        release: None,
        campaign,
        stage_key: stage.key,
        stage_events,
        told: listed
            .iter()
            .map(|c| (c.id, (c.number.clone(), c.parties)))
            .collect(),
    })
}

/// Releases the final list: checked again here, written under the last stage's guard
/// with the winners' notices and the audit entry naming every winner and serial.
pub async fn release(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    ip: Option<&str>,
) -> Result<String> {
    let o = overview(store, access, campaign_id).await?;
    if let Some(r) = &o.release {
        let day = pingxuan_rules::calendar::parse_day(&r.released_on)
            .map(day_words)
            .unwrap_or_else(|| r.released_on.clone());
        return Err(Error::conflict(
            "released",
            format!("评选结果已于 {day} 发布，不能再次发布"),
        ));
    }
    if !o.blockers.is_empty() {
        return Err(Error::conflict("not_ready", o.blockers.join("；")));
    }
    let now = pingxuan_store::now();
    let today = beijing_day(now);
    let title = format!("{}名单", o.campaign.award());
    let audit = Audit::new(access.actor(), "results_released", "")
        .detail(format!(
            "发布评选结果“{title}”：{} 人（{}）",
            o.entries.len(),
            o.entries
                .iter()
                .map(|e| format!("{} {}", e.serial, e.name))
                .collect::<Vec<_>>()
                .join("、")
        ))
        .ip(ip);
    // Winners and the units they came through are told, as a stage's outcome is.
    let mut told = crate::stages::Told::new(store, campaign_id);
    let mut notices = Vec::new();
    for e in &o.entries {
        let Some((number, parties)) = o.told.get(&e.application_id) else {
            continue;
        };
        notices.extend(crate::notify::outgoing(
            told.of(*parties).await?,
            access.actor(),
            e.application_id,
            "release",
            &format!("{}评选结果已发布", o.campaign.award()),
            &format!(
                "{}（编号 {}）荣获{}称号，证书编号 {}。荣誉证书可在申报表页面下载。",
                e.name,
                number,
                o.campaign.award(),
                e.serial
            ),
        ));
    }
    store
        .release(
            &NewRelease {
                campaign_id,
                stage_key: &o.stage_key,
                stage_events: o.stage_events,
                title: &title,
                released_on: pingxuan_rules::calendar::day_text(today),
                entries: &o.entries,
            },
            access.actor(),
            &notices,
            &audit,
        )
        .await
        .map_err(|e| match e {
            pingxuan_store::StoreError::Duplicate(_) => {
                Error::conflict("released", "评选结果刚由他人发布，请刷新页面查看")
            }
            other => {
                crate::error::stale_as("名单刚被撤销或重新确定，本次未发布；请刷新页面后核对")(
                    other,
                )
            }
        })
}

/// A release as anyone reads it: the winners, and the audit chain's head.
#[derive(Debug, Clone)]
pub struct Gallery {
    pub release: Release,
    pub campaign: Arc<Campaign>,
    pub audit_entries: i64,
    pub audit_head: String,
}

/// The public gallery of a release by its public id.
pub async fn gallery(store: &Store, public_id: &str) -> Result<Gallery> {
    let release = store.release_by_public_id(public_id).await?;
    let campaign = crate::applications::campaign_model(store, &release.campaign_id).await?;
    let head = store.audit_head().await?;
    Ok(Gallery {
        release,
        campaign,
        audit_entries: head.entries,
        audit_head: head.hash,
    })
}

/// The campaign's gallery address, once released (for links from the signed-in pages).
pub async fn released_public_id(store: &Store, campaign_id: &str) -> Result<Option<String>> {
    Ok(store.release_of(campaign_id).await?.map(|r| r.public_id))
}

/// One file a release shows, for anyone: the attachment (its storage key, type, size).
pub async fn gallery_file(
    store: &Store,
    public_id: &str,
    entry: i64,
    file: i64,
) -> Result<(Attachment, String)> {
    let r = store.release_by_public_id(public_id).await?;
    let e = r
        .entries
        .iter()
        .find(|e| e.seq == entry)
        .ok_or(Error::NotFound)?;
    let f = e
        .files
        .iter()
        .find(|f| f.seq == file)
        .ok_or(Error::NotFound)?;
    let a = store
        .attachment_by_id(f.attachment_id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((a, f.role.clone()))
}

/// The code in a certificate's QR link: it proves the certificate was issued here, in
/// this release (serials are the campaign's own, so the release is part of the link).
pub fn check_code(store: &Store, release: &str, serial: &str) -> String {
    store
        .sealer
        .lookup(&format!("certificate|{release}|{serial}"))[..16]
        .to_owned()
}

/// The address a certificate's QR code leads to.
pub fn check_url(store: &Store, public_url: &str, release: &str, serial: &str) -> String {
    format!(
        "{}/zs/{release}/{serial}/{}",
        public_url.trim_end_matches('/'),
        check_code(store, release, serial)
    )
}

/// What the public check page shows of a genuine certificate.
#[derive(Debug, Clone)]
pub struct Checked {
    pub serial: String,
    pub name: String,
    pub work_unit: String,
    pub award: String,
    pub released_on: String,
    pub gallery: String,
    pub entry: i64,
}

/// A certificate by its release, serial and check code; `None` when any is not ours (one
/// answer for all, so serials cannot be probed without the code).
pub async fn check(
    store: &Store,
    release: &str,
    serial: &str,
    code: &str,
) -> Result<Option<Checked>> {
    let Some(serial) = release::read_serial(serial) else {
        return Ok(None);
    };
    let expected = check_code(store, release, &serial);
    let genuine = expected.len() == code.len()
        && expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !genuine {
        return Ok(None);
    }
    let r = match store.release_by_public_id(release).await {
        Ok(r) => r,
        Err(pingxuan_store::StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let campaign = crate::applications::campaign_model(store, &r.campaign_id).await?;
    let Some(e) = r.entries.iter().find(|e| e.serial == serial) else {
        return Ok(None);
    };
    Ok(Some(Checked {
        serial,
        name: e.name.clone(),
        work_unit: e.work_unit.clone(),
        award: campaign.award().to_owned(),
        released_on: pingxuan_rules::calendar::parse_day(&r.released_on)
            .map(day_words)
            .unwrap_or_else(|| r.released_on.clone()),
        gallery: r.public_id.clone(),
        entry: e.seq,
    }))
}

/// A winner's certificate as PDF, for the organiser and for those who see the
/// application (the winner, the units it came through). Audited as an export.
pub async fn certificate(
    f: &Filing,
    access: &Access,
    campaign_id: &str,
    serial: &str,
    ip: Option<&str>,
) -> Result<Download> {
    let r = f
        .store
        .release_of(campaign_id)
        .await?
        .ok_or(Error::NotFound)?;
    let serial = release::read_serial(serial).ok_or(Error::NotFound)?;
    let e = r
        .entries
        .iter()
        .find(|e| e.serial == serial)
        .ok_or(Error::NotFound)?
        .clone();
    if !access.organizes(campaign_id) {
        crate::applications::load_seen(&f.store, access, e.application_id).await?;
    }
    let campaign = crate::applications::campaign_model(&f.store, campaign_id).await?;
    let day = pingxuan_rules::calendar::parse_day(&r.released_on).ok_or(Error::NotFound)?;
    let words = release::certificate(
        campaign.award(),
        &e.name,
        &campaign.campaign.organizers,
        day,
        &e.serial,
    );
    let url = check_url(&f.store, &f.public_url, &r.public_id, &e.serial);
    let pdf = f.pdf.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        let engine = pdf.get_or_init(|| {
            pingxuan_pdf::PdfEngine::with_system_fonts().map_err(|e| e.to_string())
        });
        let engine = engine.as_ref().map_err(|e| Error::Internal(e.clone()))?;
        pingxuan_pdf::certificate::render(engine, &words, &url)
            .map_err(|e| Error::Internal(e.to_string()))
    })
    .await
    .map_err(|e| Error::Internal(format!("certificate pdf: {e}")))??;
    Download {
        name: format!("{}荣誉证书（{}）.pdf", e.name, e.serial),
        content_type: PDF,
        bytes,
    }
    .audited(
        &f.store,
        access,
        ip,
        &format!("release:{}/certificate:{}", r.public_id, e.serial),
    )
    .await
}

/// The certificates a person may download from an application's page: the winner's own
/// (the applicant and the units it came through), once released.
pub async fn certificate_of(
    store: &Store,
    campaign_id: &str,
    application_id: i64,
) -> Result<Option<String>> {
    Ok(store.release_of(campaign_id).await?.and_then(|r| {
        r.entries
            .into_iter()
            .find(|e| e.application_id == application_id)
            .map(|e| e.serial)
    }))
}

/// Every stage of the campaign in one workbook — per stage the candidates with rank,
/// aggregate or conclusion, advanced or not and the reason; per scored stage every
/// counted sheet by expert and criterion. For the organiser; audited.
pub async fn workbook(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    ip: Option<&str>,
) -> Result<Download> {
    let round = crate::stages::load(store, access, campaign_id).await?;
    let experts = store.experts(campaign_id).await?;
    let mut tables = Vec::new();
    let mut names = Vec::new();
    for stage in &round.campaign.stages {
        let v = crate::stages::view_plain(store, access, campaign_id, &stage.key).await?;
        tables.push(crate::stages::stage_table(store, &v, &experts).await?);
        names.push(stage.name.clone());
    }
    let bytes = tokio::task::spawn_blocking(move || {
        pingxuan_export::results::workbook(&tables, &names)
            .map_err(|e| Error::Internal(e.to_string()))
    })
    .await
    .map_err(|e| Error::Internal(format!("workbook: {e}")))??;
    Download {
        name: format!("{}各阶段评选结果.xlsx", round.campaign.award()),
        content_type: XLSX,
        bytes,
    }
    .audited(store, access, ip, &format!("campaign:{campaign_id}/stages"))
    .await
}
