//! The export queue's handle on one server, apart from the exports and the jobs that
//! both use it.

/// The export queue of one server: its name in leases (jobs, mail, sweeps), how long a
/// claimed job's lease lasts, and the bell that wakes its worker when a job is queued.
/// Several servers may share one database: each claims a job with a lease in its own
/// name and renews it while the job runs (`Store::claim_export_job`).
pub struct Queue {
    pub owner: String,
    pub lease_secs: i64,
    wake: tokio::sync::Notify,
}

impl Queue {
    pub fn new(lease_secs: i64) -> Queue {
        Queue {
            owner: pingxuan_store::leases::owner_name(),
            lease_secs,
            wake: tokio::sync::Notify::new(),
        }
    }

    /// Wakes the worker; a permit is kept when it is busy, so it looks again when done.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits until woken, or `within` at most.
    pub async fn woken(&self, within: std::time::Duration) {
        let _ = tokio::time::timeout(within, self.wake.notified()).await;
    }
}
