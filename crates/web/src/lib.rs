//! The web layer of pingxuan: server-rendered Chinese pages and the JSON API over the
//! same actions. Handlers are thin: they parse, call a use case in `pingxuan_app`
//! (which checks who may), and render.

// Domains: each holds its page handlers, its API twins and its templates.
pub mod accounts;
pub mod admin;
pub mod applications;
pub mod campaigns;
pub mod codes;
pub mod exports;
pub mod home;
pub mod materials;
pub mod notices;
pub mod paper;
pub mod publicity;
pub mod release;
pub mod reviews;
pub mod stages;
pub mod votes;

// Shared by the domains: the page frame, the API's document and input, sessions and
// CSRF, errors, configuration, routes.
pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod health;
pub mod pages;
pub mod routes;
pub mod shell;
pub mod statics;
pub mod testing;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use pingxuan_store::Store;

pub use config::{CaptchaPolicy, EdgeRates, WebConfig};
pub use routes::router;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Uploaded files: local folder or S3-compatible bucket.
    pub blobs: pingxuan_blobs::Blobs,
    pub config: Arc<WebConfig>,
    /// Sign-in, registration and reset attempts per client address.
    pub auth_limiter: Arc<DefaultKeyedRateLimiter<String>>,
    /// Objections to a 公示 per client address: the one form the public posts files
    /// through, checked before its body is read.
    pub objection_limiter: Arc<DefaultKeyedRateLimiter<String>>,
    /// Recent failed sign-ins per client address, for the captcha policy.
    pub ip_failures: Arc<FailureCounter>,
    /// Exports: the PDF engine (built on the first PDF) and the queue of export jobs,
    /// run by `pingxuan-workers`.
    pub filing: pingxuan_app::exports::Filing,
    /// This server's one writer of votes (group commit) with the rounds' short caches.
    pub ballots: pingxuan_app::votes::Ballots,
}

/// Failed sign-ins per client address within a window, kept in memory.
#[derive(Default)]
pub struct FailureCounter {
    seen: std::sync::Mutex<std::collections::HashMap<String, (u32, std::time::Instant)>>,
}

impl FailureCounter {
    const WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

    pub fn count(&self, key: &str) -> u32 {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(key)
            .filter(|(_, at)| at.elapsed() < Self::WINDOW)
            .map_or(0, |(n, _)| *n)
    }

    pub fn add(&self, key: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 10_000 {
            seen.retain(|_, (_, at)| at.elapsed() < Self::WINDOW);
        }
        let entry = seen
            .entry(key.to_owned())
            .or_insert((0, std::time::Instant::now()));
        if entry.1.elapsed() >= Self::WINDOW {
            *entry = (0, std::time::Instant::now());
        }
        entry.0 += 1;
        entry.1 = std::time::Instant::now();
    }
}

impl AppState {
    /// The server's state; starts the vote writer, so it is called on a Tokio runtime.
    pub fn new(store: Store, config: WebConfig) -> Self {
        let per_minute =
            NonZeroU32::new(config.auth_requests_per_minute.max(1)).expect("at least 1");
        let blobs = config.blobs.clone().unwrap_or_else(|| {
            let dir = config
                .data_dir
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("pingxuan-files"));
            pingxuan_blobs::Blobs::from_url("", &dir).expect("a local folder for files")
        });
        let filing = pingxuan_app::exports::Filing {
            store: store.clone(),
            blobs: blobs.clone(),
            pdf: Arc::new(std::sync::OnceLock::new()),
            public_url: config.public_url.clone(),
            queue: Arc::new(pingxuan_app::queue::Queue::new(config.job_lease_secs)),
        };
        AppState {
            store: store.clone(),
            blobs,
            config: Arc::new(config),
            auth_limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
            // A few at once (a family, an office behind one address), twenty an hour.
            objection_limiter: Arc::new(RateLimiter::keyed(
                Quota::per_hour(std::num::NonZeroU32::new(20).expect("non-zero"))
                    .allow_burst(std::num::NonZeroU32::new(5).expect("non-zero")),
            )),
            ip_failures: Arc::new(FailureCounter::default()),
            filing,
            ballots: pingxuan_app::votes::Ballots::start(
                store.clone(),
                pingxuan_store::votes::Clock::Database,
            ),
        }
    }
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
