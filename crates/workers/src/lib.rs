//! The background workers of one server, started by `pingxuan serve` (and by the test
//! harness): the mail outbox sender, the export job runner, and the sweeps (deadline
//! reminders, the vote's signals of 刷票, sessions, abandoned uploads, expired exports). What each run does is a
//! use case in `pingxuan-app`; here are the loops, their timing and their leases, so
//! that with several servers on one database each piece of work is done once.

pub mod mail;

use std::time::Duration;

use pingxuan_app::exports::Filing;

/// Starts every worker on the current runtime.
pub fn start(filing: &Filing, mailer: mail::Mailer) {
    let store = filing.store.clone();
    let owner = filing.queue.owner.clone();
    tokio::spawn(mail::run_outbox(store.clone(), mailer, owner.clone()));
    tokio::spawn(run_reminders(store.clone(), owner.clone()));
    tokio::spawn(run_vote_scans(store.clone(), owner.clone()));
    tokio::spawn(run_session_sweep(store, owner));
    tokio::spawn(run_file_sweep(filing.clone()));
    start_exports(filing);
}

/// The export job runner: runs what is queued, then sleeps until a job is queued (the
/// web rings the queue's bell), looking at the queue every half lease in any case, so a
/// job whose server died is resumed soon after its lease lapses.
pub fn start_exports(filing: &Filing) {
    let f = filing.clone();
    tokio::spawn(async move {
        let every = Duration::from_secs((f.queue.lease_secs as u64 / 2).max(1));
        loop {
            pingxuan_app::jobs::run_queued(&f).await;
            f.queue.woken(every).await;
        }
    });
}

/// A reminder sweep every ten minutes, by the server holding the sweep's lease.
async fn run_reminders(store: pingxuan_store::Store, owner: String) {
    loop {
        let swept = match store.try_lease("sweep:reminders", &owner, 500).await {
            Ok(true) => pingxuan_app::notify::remind_due(&store, pingxuan_store::now()).await,
            Ok(false) => Ok(0),
            Err(e) => Err(e),
        };
        match swept {
            Ok(0) => {}
            Ok(n) => tracing::info!(notices = n, "deadline reminders sent"),
            Err(e) => tracing::warn!(error = %e, "deadline reminder sweep failed"),
        }
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
}

/// The signals of 刷票 over every round taking votes, every five minutes, by the server
/// holding the scan's lease: off the vote path, so a vote never waits for them.
async fn run_vote_scans(store: pingxuan_store::Store, owner: String) {
    loop {
        tokio::time::sleep(Duration::from_secs(300)).await;
        let scanned = match store.try_lease("sweep:vote-signals", &owner, 250).await {
            Ok(true) => pingxuan_app::vote_review::scan_open(&store, pingxuan_store::now())
                .await
                .map_err(|e| e.to_string()),
            Ok(false) => Ok(0),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = scanned {
            tracing::warn!(error = %e, "vote signal scan failed");
        }
    }
}

/// Sessions past their timeouts are removed every ten minutes.
async fn run_session_sweep(store: pingxuan_store::Store, owner: String) {
    loop {
        if matches!(
            store.try_lease("sweep:sessions", &owner, 500).await,
            Ok(true)
        ) && let Err(e) = store.purge_sessions().await
        {
            tracing::warn!(error = %e, "session sweep failed");
        }
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
}

/// Every hour: abandoned uploads and finished exports past their time
/// (`jobs::KEEP_DAYS`), by the server holding the sweep's lease that hour.
async fn run_file_sweep(f: Filing) {
    loop {
        match f.store.try_lease("sweep:files", &f.queue.owner, 3000).await {
            Ok(true) => {
                if let Err(e) = pingxuan_app::materials::sweep_abandoned(&f.store, &f.blobs).await {
                    tracing::warn!(error = ?e, "upload sweep failed");
                }
                if let Err(e) = pingxuan_app::jobs::sweep(&f).await {
                    tracing::warn!(error = ?e, "export sweep failed");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "sweep lease unreadable"),
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}
