//! Work beside the requests: a sweep's long read and its computing (the vote's signals
//! over a million votes take seconds of CPU) run on a thread of their own at a lower CPU
//! priority, so on a busy machine the votes' requests go first and the sweep takes the
//! time left over. The thread has its own runtime and its own database connection,
//! opened on it: SQLite's connection thread is started there and keeps its priority.
//! What the sweep then writes goes through the server's own store, at normal priority,
//! so a write lock is never held by a thread the scheduler holds back.

use std::future::Future;

use pingxuan_store::Store;

use crate::error::{Error, Result};

/// The nice value of the thread (0 normal, 19 lowest): at 10 a thread gets about a tenth
/// of the CPU a normal one gets when both want it, and all of it when the machine idles.
const NICE: i32 = 10;

/// Runs `work` on a thread of its own at lower CPU priority, with a connection of its own
/// to `store`'s database; its answer comes back here.
pub async fn run<T, F, Fut>(store: &Store, work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(Store) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T>>,
{
    // Two at most at once (the worker's scan, an organiser's 重新检测): each holds a
    // thread and a connection outside the pool's limit; more wait their turn.
    static TURNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
    let _turn = TURNS
        .acquire()
        .await
        .map_err(|e| Error::Internal(format!("turns: {e}")))?;
    let store = store.clone();
    let (answer, answered) = tokio::sync::oneshot::channel();
    let make = move || {
        // First, so the connection's thread SQLite starts below keeps the priority.
        lower_priority();
        async move {
            let out = async {
                let own = store.detached().await?;
                let out = work(own.clone()).await;
                own.close().await;
                out
            };
            let _ = answer.send(out.await);
        }
    };
    if pingxuan_store::own_thread::run("pingxuan-aside", make).is_err() {
        return Err(Error::Internal("no thread for the work aside".to_owned()));
    }
    answered
        .await
        .map_err(|_| Error::Internal("the work aside ended without an answer".to_owned()))?
}

/// Lowers the calling thread's priority by `NICE` (Linux keeps a nice value per thread;
/// at most 19). Where it cannot, the work still runs, at the priority it has.
#[cfg(target_os = "linux")]
fn lower_priority() {
    let me = Some(rustix::thread::gettid());
    let now = rustix::process::getpriority_process(me).unwrap_or(0);
    if let Err(e) = rustix::process::setpriority_process(me, (now + NICE).min(19)) {
        tracing::debug!(error = %e, "work aside at its priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// The calling thread's nice value, for the tests.
#[cfg(all(test, target_os = "linux"))]
fn priority() -> i32 {
    rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The work runs on another thread, niced, reading through a connection of its own
    /// (its pool is not the caller's), and its answer and its errors come back.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn work_runs_aside_at_lower_priority_on_its_own_connection() {
        use pingxuan_store::testing::{TestDb, Which};
        let db = TestDb::new(Which::Sqlite).await.unwrap();
        let store = db.store().await;
        let (here, base) = (std::thread::current().id(), priority());
        let (there, nice, size) = run(&store, move |own| async move {
            let size = own.pool.size();
            own.ping().await?;
            Ok((std::thread::current().id(), priority(), size))
        })
        .await
        .unwrap();
        assert_ne!(there, here);
        assert_eq!(nice, (base + NICE).min(19));
        assert_eq!(size, 1);
        let failed: Result<()> =
            run(&store, |_| async { Err(Error::Internal("x".to_owned())) }).await;
        assert!(matches!(failed, Err(Error::Internal(m)) if m == "x"));
    }
}
