//! The web layer of pingxuan: server-rendered Chinese pages and the JSON API over the
//! same actions. Handlers are thin: they parse, ask `access` whether the caller may,
//! call the store and the rules, and render.

pub mod access;
pub mod actions;
pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod flow;
pub mod health;
pub mod mail;
pub mod pages;
pub mod routes;
pub mod statics;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use pingxuan_store::Store;

pub use config::{CaptchaPolicy, WebConfig};
pub use routes::router;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    /// Sign-in, registration and reset attempts per client address.
    pub auth_limiter: Arc<DefaultKeyedRateLimiter<String>>,
}

impl AppState {
    pub fn new(store: Store, config: WebConfig) -> Self {
        let per_minute =
            NonZeroU32::new(config.auth_requests_per_minute.max(1)).expect("at least 1");
        AppState {
            store,
            config: Arc::new(config),
            auth_limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
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
