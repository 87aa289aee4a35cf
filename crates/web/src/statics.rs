//! The stylesheet and scripts, compiled into the binary; and the answers for paths and
//! methods no route has.

use axum::extract::Path;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, Failure, PageError};

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
        "vote.css",
        "text/css; charset=utf-8",
        include_str!("../static/vote.css"),
    ),
    (
        "vote.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/vote.js"),
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

/// What no route matches: under `/api/` a JSON refusal naming the path, elsewhere the
/// Chinese page.
pub async fn not_found(uri: Uri) -> Response {
    if is_api(uri.path()) {
        ApiError(Failure::Request {
            status: StatusCode::NOT_FOUND,
            code: "no_such_api",
            message: format!("没有这个接口：{}", uri.path()),
            field: None,
        })
        .into_response()
    } else {
        PageError(Failure::NotFound).into_response()
    }
}

/// A known path asked with a method it does not answer (405), in the same two forms.
pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let failure = Failure::Request {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: format!("{} 不支持 {method} 请求", uri.path()),
        field: None,
    };
    if is_api(uri.path()) {
        ApiError(failure).into_response()
    } else {
        PageError(failure).into_response()
    }
}

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}
