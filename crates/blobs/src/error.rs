//! What can go wrong with stored files, in words fit for the person who uploaded or opened one.
//! The cause (OpenDAL's error with its context, the OS error) is kept as the `source` for logs
//! and `Debug`; it never reaches the `Display` text.

use std::error::Error as StdError;
use std::io;

/// The boxed cause of a storage failure: shown by `Debug` and `source()`, never by `Display`.
pub type Cause = Box<dyn StdError + Send + Sync + 'static>;

/// A storage failure. `Display` is a fixed Chinese sentence a page or an API answer may show as is.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// No file under this key (or the key names a folder).
    #[error("文件不存在")]
    NotFound { key: String },
    /// The disk is full or a quota is used up: nothing was kept.
    #[error("存储空间已满，文件未保存，请联系管理员")]
    Full(#[source] Cause),
    /// Storage cannot be reached (network, timeout, refused credentials, missing bucket,
    /// permissions, read-only disk).
    #[error("文件存储暂时无法访问，文件未保存，请稍后再试")]
    Unavailable(#[source] Cause),
    /// Anything else storage answered; a bug or an unusual server.
    #[error("文件存储出错，请稍后再试或联系管理员")]
    Other(#[source] Cause),
    /// A key our own code made does not follow the rules of [`crate::check_key`]: a bug, not
    /// the user's doing.
    #[error("文件名不符合要求")]
    InvalidKey { key: String, reason: &'static str },
    /// The storage setting cannot be used. Shown to the administrator at start; never contains
    /// a secret.
    #[error("文件存储设置有误：{0}")]
    Config(String),
}

impl BlobError {
    /// Classifies an OpenDAL error met while working on `key` (logged here with its cause).
    pub(crate) fn from_dal(err: opendal::Error, op: &'static str, key: &str) -> BlobError {
        let kind = classify(&err);
        log(kind, &err, op, key);
        build(kind, Box::new(err), key)
    }

    /// Classifies an I/O error from a reader or stream (OpenDAL wraps its own errors in these).
    pub(crate) fn from_io(err: io::Error, op: &'static str, key: &str) -> BlobError {
        let kind = classify(&err);
        log(kind, &err, op, key);
        build(kind, Box::new(err), key)
    }

    /// True for [`BlobError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, BlobError::NotFound { .. })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    NotFound,
    Full,
    Unavailable,
    Other,
}

fn build(kind: Kind, cause: Cause, key: &str) -> BlobError {
    match kind {
        Kind::NotFound => BlobError::NotFound {
            key: key.to_string(),
        },
        Kind::Full => BlobError::Full(cause),
        Kind::Unavailable => BlobError::Unavailable(cause),
        Kind::Other => BlobError::Other(cause),
    }
}

fn log(kind: Kind, err: &dyn StdError, op: &'static str, key: &str) {
    match kind {
        Kind::NotFound => tracing::debug!(op, key, "blob not found"),
        Kind::Full => tracing::error!(op, key, error = ?err, "file storage is full"),
        Kind::Unavailable => tracing::warn!(op, key, error = ?err, "file storage unavailable"),
        Kind::Other => tracing::error!(op, key, error = ?err, "file storage error"),
    }
}

/// S3-compatible servers' words for a full disk or a used-up quota (MinIO, Ceph RGW, and the
/// WebDAV-style 507 some gateways answer). OpenDAL keeps the server's error code in its message.
const FULL_CODES: &[&str] = &[
    "XMinioStorageFull",
    "XMinioAdminBucketQuotaExceeded",
    "QuotaExceeded",
    "InsufficientStorage",
    "StorageFull",
];

/// Walks the error and its sources: an OS "no space"/"quota" anywhere means full; then the
/// outermost OpenDAL or OS error decides between not found, unavailable and other.
pub(crate) fn classify(err: &(dyn StdError + 'static)) -> Kind {
    let mut first: Option<Kind> = None;
    // The kind of an io::Error that only wraps another error: used if the inner one says nothing.
    let mut wrapper: Option<Kind> = None;
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        cur = e.source();
        if let Some(d) = e.downcast_ref::<opendal::Error>() {
            if FULL_CODES.iter().any(|c| d.message().contains(c)) {
                return Kind::Full;
            }
            first.get_or_insert(dal_kind(d));
        } else if let Some(io) = e.downcast_ref::<io::Error>() {
            if io_is_full(io.kind()) {
                return Kind::Full;
            }
            // `io::Error::source` skips the wrapped error itself; step into it explicitly.
            match io.get_ref() {
                Some(inner) => {
                    wrapper.get_or_insert(io_kind(io.kind()));
                    cur = Some(inner);
                }
                None => {
                    first.get_or_insert(io_kind(io.kind()));
                }
            }
        }
    }
    first.or(wrapper).unwrap_or(Kind::Other)
}

fn io_is_full(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded | io::ErrorKind::FileTooLarge
    )
}

fn dal_kind(e: &opendal::Error) -> Kind {
    use opendal::ErrorKind as K;
    match e.kind() {
        K::NotFound => Kind::NotFound,
        K::PermissionDenied | K::ConfigInvalid | K::RateLimited => Kind::Unavailable,
        // Temporary: network errors, 5xx, timeouts; persistent: the same after retries ran out.
        _ if e.is_temporary() || e.is_persistent() => Kind::Unavailable,
        _ => Kind::Other,
    }
}

fn io_kind(kind: io::ErrorKind) -> Kind {
    use io::ErrorKind as K;
    match kind {
        K::NotFound => Kind::NotFound,
        K::PermissionDenied
        | K::ConnectionRefused
        | K::ConnectionReset
        | K::ConnectionAborted
        | K::NotConnected
        | K::BrokenPipe
        | K::TimedOut
        | K::HostUnreachable
        | K::NetworkUnreachable
        | K::NetworkDown
        | K::ReadOnlyFilesystem
        | K::StaleNetworkFileHandle
        | K::ResourceBusy
        | K::Interrupted => Kind::Unavailable,
        _ => Kind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opendal::ErrorKind as K;

    fn std_io(kind: io::ErrorKind) -> opendal::Error {
        // What OpenDAL's fs service makes of an OS error.
        opendal::Error::new(K::Unexpected, kind.to_string())
            .set_source(io::Error::from(kind))
            .set_temporary()
    }

    #[test]
    fn disk_full_and_quota_are_full() {
        for kind in [
            io::ErrorKind::StorageFull,
            io::ErrorKind::QuotaExceeded,
            io::ErrorKind::FileTooLarge,
        ] {
            let e = BlobError::from_dal(std_io(kind), "write", "a/b");
            assert!(matches!(e, BlobError::Full(_)), "{kind:?}: {e:?}");
            assert_eq!(e.to_string(), "存储空间已满，文件未保存，请联系管理员");
        }
    }

    #[test]
    fn full_seen_through_an_io_error_wrapping_opendal() {
        // Readers and streams hand out io::Error wrapping OpenDAL's error.
        let wrapped = io::Error::other(std_io(io::ErrorKind::StorageFull));
        assert!(matches!(
            BlobError::from_io(wrapped, "write", "k"),
            BlobError::Full(_)
        ));
        let nf = io::Error::new(
            io::ErrorKind::NotFound,
            opendal::Error::new(K::NotFound, "gone"),
        );
        assert!(BlobError::from_io(nf, "read", "k").is_not_found());
    }

    #[test]
    fn s3_quota_codes_are_full() {
        for code in [
            "XMinioStorageFull",
            "QuotaExceeded",
            "XMinioAdminBucketQuotaExceeded",
        ] {
            let msg = format!("S3Error {{ code: \"{code}\", message: \"...\" }}");
            let e = opendal::Error::new(K::Unexpected, msg);
            assert!(matches!(
                BlobError::from_dal(e, "write", "k"),
                BlobError::Full(_)
            ));
        }
    }

    #[test]
    fn unreachable_and_refused_are_unavailable() {
        let cases = [
            opendal::Error::new(K::Unexpected, "send http request").set_temporary(),
            opendal::Error::new(K::Unexpected, "send http request").set_persistent(),
            opendal::Error::new(K::PermissionDenied, "AccessDenied"),
            opendal::Error::new(K::ConfigInvalid, "NoSuchBucket"),
            std_io(io::ErrorKind::ReadOnlyFilesystem),
        ];
        for e in cases {
            let shown = BlobError::from_dal(e, "stat", "k");
            assert!(matches!(shown, BlobError::Unavailable(_)), "{shown:?}");
            assert_eq!(
                shown.to_string(),
                "文件存储暂时无法访问，文件未保存，请稍后再试"
            );
        }
    }

    #[test]
    fn not_found_and_other() {
        let nf = BlobError::from_dal(opendal::Error::new(K::NotFound, "x"), "stat", "a");
        assert!(nf.is_not_found());
        assert_eq!(nf.to_string(), "文件不存在");
        let other = BlobError::from_dal(opendal::Error::new(K::Unexpected, "odd"), "stat", "a");
        assert!(matches!(other, BlobError::Other(_)));
    }

    #[test]
    fn display_never_shows_the_cause() {
        let e = BlobError::from_dal(
            opendal::Error::new(K::PermissionDenied, "secret path /srv/x"),
            "stat",
            "k",
        );
        assert!(!e.to_string().contains("/srv/x"));
        assert!(format!("{e:?}").contains("/srv/x"), "Debug keeps the cause");
    }
}
