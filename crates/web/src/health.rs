//! `GET /healthz`: 200 when the database answers, the data folder is writable and the
//! file storage (local folder or S3 bucket) takes, returns and deletes a probe.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;

use crate::AppState;

pub async fn get_healthz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let database = state.store.ping().await.is_ok();
    let storage = match &state.config.data_dir {
        Some(dir) => {
            let probe = dir.join(".healthz");
            tokio::fs::write(&probe, b"ok").await.is_ok()
        }
        None => true,
    } && state.blobs.check().await.is_ok();
    let ok = database && storage;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if ok { "ok" } else { "unavailable" },
            "database": if database { "ok" } else { "unreachable" },
            "storage": if storage { "ok" } else { "unwritable" },
        })),
    )
}
