//! The stylesheet and scripts, compiled into the binary.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::{Failure, PageError};

const FILES: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/app.js"),
    ),
    (
        "upload.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/upload.js"),
    ),
    (
        "export.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/export.js"),
    ),
    (
        "campaign-upload.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/campaign-upload.js"),
    ),
];

pub async fn get_static(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => (
            [
                (header::CONTENT_TYPE, *mime),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

pub async fn not_found() -> PageError {
    PageError(Failure::NotFound)
}
