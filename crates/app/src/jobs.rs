//! Export jobs: exports too long for one request (the 推荐材料 bundle, whose 推荐表 PDFs
//! take about 30 ms each) run in the background, one at a time, while the page that
//! started one shows how far it got. A job belongs to the person who started it and to
//! the scope they had then; it is checked again when they look at it or download it.
//! Finished jobs and their files are removed after `KEEP_DAYS`. The loop that runs them
//! lives with the other background workers (`pingxuan-workers`).

use pingxuan_store::exports::{ExportJob, JobState};
use serde::Serialize;

use crate::access::Access;
use crate::error::Error;
use crate::exports::{Filing, Scope};

/// The kinds of export that run as jobs.
pub const BUNDLE: &str = "bundle";

/// How long a finished export stays to be downloaded.
pub const KEEP_DAYS: i64 = 7;

/// A job as its page and the API show it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobView {
    pub id: String,
    pub campaign_id: String,
    pub kind: String,
    /// queued, running, done or failed.
    #[cfg_attr(feature = "openapi", schema(schema_with = job_states))]
    pub state: String,
    /// Files made so far, out of `total` (0 until the job has counted them).
    pub done: i64,
    pub total: i64,
    /// Jobs to finish before this one starts.
    pub ahead: i64,
    /// What the state means, in words for the page.
    pub status: String,
    pub file_name: String,
    /// The size of the files in the ZIP, in bytes.
    pub bytes: i64,
    pub error: String,
    /// Where to download the ZIP once done.
    pub download: Option<String>,
    pub created_at: i64,
    /// When it was started, for the page: “2026-11-26 13:20”.
    pub created: String,
}

impl JobView {
    async fn of(f: &Filing, job: &ExportJob) -> Result<JobView, Error> {
        let ahead = match job.state {
            JobState::Queued => f.store.export_jobs_ahead(job.id).await?,
            _ => 0,
        };
        let status = match job.state {
            JobState::Queued if ahead > 0 => format!("排队中，前面还有 {ahead} 个导出任务"),
            JobState::Queued => "即将开始".to_owned(),
            JobState::Running if job.total == 0 => "正在统计候选人".to_owned(),
            JobState::Running if job.done == 0 => "正在生成候选人汇总表".to_owned(),
            JobState::Running => format!(
                "正在生成推荐表 PDF：{} / {} 名候选人",
                job.done - 1,
                job.total - 1
            ),
            JobState::Done => format!(
                "已完成：{} 名候选人，文件共 {}",
                job.total - 1,
                pingxuan_rules::materials::format_size(job.bytes as u64)
            ),
            JobState::Failed => format!("导出失败：{}", job.error),
        };
        Ok(JobView {
            id: job.public_id.clone(),
            campaign_id: job.campaign_id.clone(),
            kind: job.kind.clone(),
            state: job.state.as_str().to_owned(),
            done: job.done,
            total: job.total,
            ahead,
            status,
            file_name: job.file_name.clone(),
            bytes: job.bytes,
            error: job.error.clone(),
            download: (job.state == JobState::Done)
                .then(|| format!("/api/v1/exports/{}/download", job.public_id)),
            created_at: job.created_at,
            created: pingxuan_rules::deadline::format_time(job.created_at),
        })
    }
}

/// Starts a bundle of the caller's candidates in a campaign (their units', or all for the
/// organiser); not found for anyone who may not export it.
pub async fn start_bundle(
    f: &Filing,
    access: &Access,
    campaign_id: &str,
    ip: Option<&str>,
) -> Result<JobView, Error> {
    f.store
        .campaign_model(campaign_id)
        .await?
        .ok_or(Error::NotFound)?;
    let scope = Scope::of(access, campaign_id)?;
    // A second click while one is queued or running follows the first, not a new job.
    for job in f
        .store
        .export_jobs_of(access.user.id, campaign_id, 5)
        .await?
    {
        if matches!(job.state, JobState::Queued | JobState::Running)
            && job.kind == BUNDLE
            && same_scope(access, &job)?
        {
            f.queue.wake();
            return JobView::of(f, &job).await;
        }
    }
    let job = f
        .store
        .create_export_job(campaign_id, BUNDLE, scope.units(), access.user.id, |job| {
            pingxuan_store::audit::Audit::new(
                Some(access.user.id),
                "export_started",
                format!("campaign:{campaign_id}"),
            )
            .detail(format!("推荐材料打包 {job}"))
            .ip(ip)
        })
        .await?;
    f.queue.wake();
    JobView::of(f, &job).await
}

/// A job as its owner sees it: anyone else, or the owner after losing the scope the job
/// was started with, gets not found.
pub async fn own_job(f: &Filing, access: &Access, id: &str) -> Result<ExportJob, Error> {
    let job = f
        .store
        .export_job(id)
        .await?
        .filter(|j| j.requested_by == access.user.id)
        .ok_or(Error::NotFound)?;
    if !same_scope(access, &job)? {
        return Err(Error::NotFound);
    }
    Ok(job)
}

/// Whether the caller's scope in the job's campaign is still the one it was started with
/// (units compared as sets: roles come back in the order they were granted).
fn same_scope(access: &Access, job: &ExportJob) -> Result<bool, Error> {
    let sorted = |ids: Option<&[i64]>| {
        ids.map(|ids| {
            let mut ids = ids.to_vec();
            ids.sort_unstable();
            ids
        })
    };
    let scope = Scope::of(access, &job.campaign_id)?;
    Ok(sorted(scope.units()) == sorted(job.unit_ids.as_deref()))
}

pub async fn view(f: &Filing, access: &Access, id: &str) -> Result<JobView, Error> {
    let job = own_job(f, access, id).await?;
    JobView::of(f, &job).await
}

/// The caller's recent exports in a campaign, newest first.
pub async fn recent(f: &Filing, access: &Access, campaign_id: &str) -> Result<Vec<JobView>, Error> {
    let mut out = Vec::new();
    for job in f
        .store
        .export_jobs_of(access.user.id, campaign_id, 5)
        .await?
    {
        if same_scope(access, &job)? {
            out.push(JobView::of(f, &job).await?);
        }
    }
    Ok(out)
}

/// A finished bundle the caller may download, the download recorded in the audit trail;
/// a conflict while it is still being made or when it failed.
pub async fn ready(
    f: &Filing,
    access: &Access,
    id: &str,
    ip: Option<&str>,
) -> Result<ExportJob, Error> {
    let job = own_job(f, access, id).await?;
    match job.state {
        JobState::Done => {}
        JobState::Failed => {
            return Err(Error::Conflict {
                code: "export_failed",
                message: format!("导出失败：{}", job.error),
                field: None,
            });
        }
        _ => {
            return Err(Error::Conflict {
                code: "export_running",
                message: "导出尚未完成，请稍候".to_owned(),
                field: None,
            });
        }
    }
    f.store
        .audit(
            Some(access.user.id),
            "export_downloaded",
            &format!("campaign:{}", job.campaign_id),
            &format!("{} {}", job.file_name, job.public_id),
            ip,
        )
        .await?;
    Ok(job)
}

/// Runs queued jobs (and those whose server stopped renewing their lease) one after
/// another until none is left.
pub async fn run_queued(f: &Filing) {
    loop {
        match f
            .store
            .claim_export_job(&f.queue.owner, f.queue.lease_secs)
            .await
        {
            Ok(Some(job)) => run_isolated(f, job).await,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "export queue unreadable");
                break;
            }
        }
    }
}

/// Runs a job on its own task, so that a panic in it fails that job and not the worker,
/// renewing its lease every third of the lease meanwhile. A lease found lost (this server
/// was cut off long enough for another to take the job over) stops the job here.
pub async fn run_isolated(f: &Filing, job: ExportJob) {
    let (id, public_id) = (job.id, job.public_id.clone());
    let owner = f.queue.owner.clone();
    let lease = f.queue.lease_secs;
    let mut task = tokio::spawn({
        let f = f.clone();
        async move { run(&f, &job).await }
    });
    let every = std::time::Duration::from_millis((lease as u64 * 1000 / 3).max(500));
    let outcome = loop {
        tokio::select! {
            done = &mut task => break done,
            () = tokio::time::sleep(every) => {
                match f.store.renew_export_lease(id, &owner, lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(job = public_id, "export job lease lost: another server runs it now");
                        task.abort();
                        return;
                    }
                    // The database is unreachable: keep working; the lease says who wins.
                    Err(e) => tracing::warn!(job = public_id, error = %e, "export lease not renewed"),
                }
            }
        }
    };
    if let Err(e) = outcome {
        tracing::error!(job = public_id, error = %e, "export job panicked");
        let _ = f
            .store
            .fail_export_job(id, &owner, "服务器内部错误，请稍后重新导出")
            .await;
    }
}

async fn run(f: &Filing, job: &ExportJob) {
    let started = std::time::Instant::now();
    let outcome = match job.kind.as_str() {
        BUNDLE => crate::exports::build_bundle(f, job).await,
        other => Err(Error::Internal(format!("unknown export kind {other}"))),
    };
    match outcome {
        Ok(()) => tracing::info!(
            job = job.public_id,
            seconds = started.elapsed().as_secs_f64(),
            "export done"
        ),
        Err(e) => {
            let message = match &e {
                Error::Internal(_) => "服务器内部错误，请稍后重新导出".to_owned(),
                other => other.to_string(),
            };
            match f
                .store
                .fail_export_job(job.id, &f.queue.owner, &message)
                .await
            {
                Ok(true) => {
                    tracing::warn!(job = job.public_id, error = ?e, "export failed");
                    let _ = f
                        .blobs
                        .delete_prefix(&crate::exports::job_prefix(job))
                        .await;
                }
                // Another server holds the job now: its files are its own.
                Ok(false) => tracing::info!(
                    job = job.public_id,
                    "export job taken over by another server"
                ),
                Err(e) => tracing::warn!(error = %e, "export failure not recorded"),
            }
        }
    }
}

/// Removes finished exports older than `KEEP_DAYS`, with their files.
pub async fn sweep(f: &Filing) -> Result<usize, Error> {
    let before = pingxuan_store::now() - KEEP_DAYS * 86_400;
    let old = f.store.expired_export_jobs(before).await?;
    let mut removed = 0;
    for job in &old {
        // One that cannot be removed now is tried again next hour; the rest go on.
        let gone = async {
            f.blobs
                .delete_prefix(&crate::exports::job_prefix(job))
                .await?;
            f.store.delete_export_job(job.id).await?;
            Ok::<_, Error>(())
        };
        match gone.await {
            Ok(()) => removed += 1,
            Err(e) => tracing::warn!(job = job.public_id, error = ?e, "old export not removed"),
        }
    }
    Ok(removed)
}

/// A job's states, as a closed set in the OpenAPI document.
#[cfg(feature = "openapi")]
fn job_states() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["queued", "running", "done", "failed"]))
        .build()
}
