//! One failure type for every handler, shown as a Chinese page to browsers and as
//! `{"error":{"code","message","field"}}` to API callers. Internal causes are logged,
//! never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use pingxuan_store::StoreError;

#[derive(Debug)]
pub enum Failure {
    /// Not signed in.
    SignedOut,
    /// The session cookie named a session that timed out (idle or absolute limit).
    SessionExpired,
    Forbidden,
    NotFound,
    /// Bad input, with the field it concerns.
    Invalid {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    Conflict {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    TooMany(String),
    /// The request itself is unusable (not JSON, broken JSON, a bad query, too large):
    /// 400, 413 or 415.
    Request {
        status: StatusCode,
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// File storage full (507) or unreachable (503): the words say so and that nothing was kept.
    Storage {
        full: bool,
        message: String,
    },
    Internal(String),
}

impl Failure {
    pub fn invalid(code: &'static str, message: impl Into<String>, field: Option<&str>) -> Self {
        Failure::Invalid {
            code,
            message: message.into(),
            field: field.map(str::to_owned),
        }
    }

    /// The words shown to the person.
    pub fn message(&self) -> String {
        self.parts().1
    }

    /// The input the words are about, when one is.
    pub fn field(&self) -> Option<String> {
        self.parts().2.map(str::to_owned)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Failure::SignedOut | Failure::SessionExpired => StatusCode::UNAUTHORIZED,
            Failure::Forbidden => StatusCode::FORBIDDEN,
            Failure::NotFound => StatusCode::NOT_FOUND,
            Failure::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Failure::Conflict { .. } => StatusCode::CONFLICT,
            Failure::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            Failure::Request { status, .. } => *status,
            Failure::Storage { full: true, .. } => StatusCode::INSUFFICIENT_STORAGE,
            Failure::Storage { full: false, .. } => StatusCode::SERVICE_UNAVAILABLE,
            Failure::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn parts(&self) -> (&str, String, Option<&str>) {
        match self {
            Failure::SignedOut => ("signed_out", "请先登录".to_owned(), None),
            Failure::SessionExpired => (
                "session_expired",
                "长时间未操作，已自动退出，请重新登录".to_owned(),
                None,
            ),
            Failure::Forbidden => ("forbidden", "您无权进行此操作".to_owned(), None),
            Failure::NotFound => ("not_found", "找不到该页面或记录".to_owned(), None),
            Failure::Invalid {
                code,
                message,
                field,
            }
            | Failure::Conflict {
                code,
                message,
                field,
            }
            | Failure::Request {
                code,
                message,
                field,
                ..
            } => (code, message.clone(), field.as_deref()),
            Failure::TooMany(m) => ("too_many_requests", m.clone(), None),
            Failure::Storage { full, message } => (
                if *full {
                    "storage_full"
                } else {
                    "storage_unavailable"
                },
                message.clone(),
                None,
            ),
            Failure::Internal(_) => (
                "internal",
                "系统出现错误，已记录，请稍后再试".to_owned(),
                None,
            ),
        }
    }
}

impl From<pingxuan_blobs::BlobError> for Failure {
    fn from(e: pingxuan_blobs::BlobError) -> Self {
        pingxuan_app::Error::from(e).into()
    }
}

impl From<pingxuan_app::Error> for Failure {
    fn from(e: pingxuan_app::Error) -> Self {
        use pingxuan_app::Error;
        match e {
            Error::Forbidden => Failure::Forbidden,
            Error::NotFound => Failure::NotFound,
            Error::Invalid {
                code,
                message,
                field,
            } => Failure::Invalid {
                code,
                message,
                field,
            },
            Error::Conflict {
                code,
                message,
                field,
            } => Failure::Conflict {
                code,
                message,
                field,
            },
            Error::Storage { full, message } => Failure::Storage { full, message },
            Error::Internal(cause) => Failure::Internal(cause),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        pingxuan_app::Error::from(e).into()
    }
}

impl From<askama::Error> for Failure {
    fn from(e: askama::Error) -> Self {
        Failure::Internal(format!("template: {e}"))
    }
}

/// A failure answered as an HTML page.
#[derive(Debug)]
pub struct PageError(pub Failure);

impl<E: Into<Failure>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let Failure::Internal(cause) = &self.0 {
            tracing::error!(%cause, "request failed");
        }
        match self.0 {
            Failure::SignedOut => return Redirect::to("/login").into_response(),
            Failure::SessionExpired => return Redirect::to("/login?done=timeout").into_response(),
            _ => {}
        }
        let status = self.0.status();
        let (_, message, _) = self.0.parts();
        let page = crate::shell::error_page(status, &message);
        (status, page).into_response()
    }
}

/// A failure answered as JSON.
#[derive(Debug)]
pub struct ApiError(pub Failure);

impl<E: Into<Failure>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_campaign`.
    pub code: String,
    /// What went wrong, in Chinese.
    pub message: String,
    /// The input field concerned, when there is one.
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Failure::Internal(cause) = &self.0 {
            tracing::error!(%cause, "API request failed");
        }
        let status = self.0.status();
        let (code, message, field) = self.0.parts();
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
                field: field.map(str::to_owned),
            },
        };
        (status, Json(body)).into_response()
    }
}
