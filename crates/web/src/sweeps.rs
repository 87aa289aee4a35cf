//! The hourly file sweep: uploads left unfinished and exports past their time. Apart from
//! both, so that neither the upload nor the export module imports the other's worker.

use crate::AppState;

/// Runs for the life of the server: every hour, sweeps abandoned uploads and removes
/// finished exports past their time (`jobs::KEEP_DAYS`); with several servers on one
/// database, only the one holding the sweep's lease that hour.
pub async fn run_sweeper(state: AppState) {
    loop {
        match state
            .store
            .try_lease("sweep:files", &state.exports.owner, 3000)
            .await
        {
            Ok(true) => {
                if let Err(e) = crate::uploads::sweep_abandoned(&state).await {
                    tracing::warn!(error = ?e, "upload sweep failed");
                }
                if let Err(e) = crate::jobs::sweep(&state).await {
                    tracing::warn!(error = ?e, "export sweep failed");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "sweep lease unreadable"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
}
