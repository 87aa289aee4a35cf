//! Why a use case did not happen, in words for the person (Chinese), with a stable
//! code and the input it concerns. The web layer turns it into a page or a JSON error;
//! the command line prints it.

use pingxuan_store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("您无权进行此操作")]
    Forbidden,
    #[error("找不到该页面或记录")]
    NotFound,
    /// Bad input, with the field it concerns.
    #[error("{message}")]
    Invalid {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// Not possible now (the record's state, a full quota, a passed deadline, a move
    /// made meanwhile by someone else).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// File storage full or unreachable: the words say so and that nothing was kept.
    #[error("{message}")]
    Storage { full: bool, message: String },
    /// A fault: logged with its cause, shown as “系统出现错误”.
    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(code: &'static str, message: impl Into<String>, field: Option<&str>) -> Self {
        Error::Invalid {
            code,
            message: message.into(),
            field: field.map(str::to_owned),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict {
            code,
            message: message.into(),
            field: None,
        }
    }
}

/// A store error where `Stale` means, for this move, what `message` says (someone acted
/// on the same record meanwhile); the others as usual.
pub fn stale_as(message: &'static str) -> impl Fn(StoreError) -> Error {
    move |e| match e {
        StoreError::Stale => Error::conflict("stale", message),
        other => other.into(),
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate(what) => Error::conflict("duplicate", format!("{what}已存在")),
            StoreError::NotFound => Error::NotFound,
            StoreError::QuotaFull(message) => Error::conflict("quota_full", message),
            StoreError::CodeUsed => Error::Conflict {
                code: "code_used",
                message: "推荐码已被使用或已作废，请向推荐单位核实".to_owned(),
                field: Some("code".to_owned()),
            },
            StoreError::Stale => Error::conflict(
                "stale",
                "这份申请书刚被别人（或您在另一个窗口）修改过，您的操作未执行；请刷新后查看最新内容再操作",
            ),
            StoreError::Released => {
                Error::conflict("released", "评选结果已发布，各阶段和名单不能再变动")
            }
            StoreError::NotEditable => Error::conflict(
                "not_editable",
                "申请书不在申报人处，不能修改；如需修改请联系当前办理单位退回",
            ),
            other => Error::Internal(other.to_string()),
        }
    }
}

impl From<pingxuan_blobs::BlobError> for Error {
    fn from(e: pingxuan_blobs::BlobError) -> Self {
        use pingxuan_blobs::BlobError;
        match e {
            BlobError::NotFound { .. } => Error::NotFound,
            BlobError::Full(_) => Error::Storage {
                full: true,
                message: e.to_string(),
            },
            BlobError::Unavailable(_) => Error::Storage {
                full: false,
                message: e.to_string(),
            },
            other => Error::Internal(format!("{other:?}")),
        }
    }
}
