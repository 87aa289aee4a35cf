//! Work that must not wait behind the server's requests — SQLite's vote lane, the WAL's
//! checkpoints, a sweep's scan — runs on a thread of its own with a runtime of its own:
//! on the server's runtime each statement's answer, sent from SQLite's connection thread,
//! waited behind thousands of requests' tasks to be seen.

use std::future::Future;

/// Runs the task `make` gives to its end on a new thread named `name`, on a
/// current-thread runtime built there. `make` is called on the thread (what it does first
/// — lowering the thread's priority, say — holds for all the task does), so the task
/// itself need not be `Send`. The runtime is built on the thread — one dropped in async
/// code would panic — and `make` handed over once the thread runs, so a thread that
/// cannot be started gives it back to run elsewhere. A runtime that cannot be built drops
/// it (whoever waits on the task then finds it gone).
pub fn run<M, F>(name: &str, make: M) -> Result<(), M>
where
    M: FnOnce() -> F + Send + 'static,
    F: Future<Output = ()>,
{
    let (hand, handed) = std::sync::mpsc::channel::<M>();
    let thread = name.to_owned();
    let started = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let Ok(make) = handed.recv() else { return };
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(make()),
                Err(e) => tracing::error!(error = %e, thread, "no runtime: its work is dropped"),
            }
        });
    match started {
        // The thread waits for it, so it is handed over (the thread cannot have ended).
        Ok(_) => hand.send(make).map_err(|e| e.0),
        Err(e) => {
            tracing::warn!(error = %e, thread = name, "no thread of its own");
            Err(make)
        }
    }
}

#[cfg(test)]
mod tests {
    /// The task is made and runs to its end on the named thread, not the caller's.
    #[tokio::test]
    async fn the_task_is_made_and_runs_on_its_own_named_thread() {
        let name = || std::thread::current().name().map(str::to_owned);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let started = super::run("pingxuan-test", move || {
            let made_on = name();
            // Not `Send`: made on the thread, it never leaves it.
            let here = std::rc::Rc::new(());
            async move {
                tokio::task::yield_now().await;
                let _ = tx.send((made_on, name(), std::rc::Rc::strong_count(&here)));
            }
        });
        assert!(started.is_ok());
        let (made_on, ran_on, _) = rx.await.unwrap();
        assert_eq!(made_on.as_deref(), Some("pingxuan-test"));
        assert_eq!(ran_on.as_deref(), Some("pingxuan-test"));
        assert_ne!(name().as_deref(), Some("pingxuan-test"));
    }
}
