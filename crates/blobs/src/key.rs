//! Keys: the names files are stored under. Callers make them (ids, never user-typed names), and
//! every public operation checks them here before storage sees them.

use crate::BlobError;

/// The longest key accepted (S3 allows 1024 bytes; leave room for a bucket prefix).
pub const MAX_KEY_LEN: usize = 900;

/// Checks a key: 1–900 characters from `[A-Za-z0-9/_.-]`, segments separated by single `/`, no
/// leading or trailing `/`, and no segment starting with `.` — which refuses `.` and `..` and
/// keeps hidden names (`.partial/`, `.probe/`) for this crate's own use.
pub fn check_key(key: &str) -> Result<(), BlobError> {
    let bad = |reason| {
        Err(BlobError::InvalidKey {
            key: key.to_string(),
            reason,
        })
    };
    if key.is_empty() {
        return bad("empty key");
    }
    if key.len() > MAX_KEY_LEN {
        return bad("key longer than 900 characters");
    }
    if let Some(reason) = charset_problem(key) {
        return bad(reason);
    }
    if key.starts_with('/') {
        return bad("key starts with /");
    }
    if key.ends_with('/') {
        return bad("key ends with / (a folder, not a file)");
    }
    if let Some(reason) = key.split('/').find_map(segment_problem) {
        return bad(reason);
    }
    Ok(())
}

/// Checks a prefix for listing or deleting: a key followed by `/` (a "folder"), e.g.
/// `uploads/0f3a…/`. The empty prefix (everything) is refused here; listing everything goes
/// through [`crate::Blobs::list_prefix`] with `""` explicitly allowed there.
pub fn check_prefix(prefix: &str) -> Result<(), BlobError> {
    let Some(body) = prefix.strip_suffix('/') else {
        return Err(BlobError::InvalidKey {
            key: prefix.to_string(),
            reason: "prefix must end with /",
        });
    };
    check_key(body).map_err(|e| match e {
        BlobError::InvalidKey { reason, .. } => BlobError::InvalidKey {
            key: prefix.to_string(),
            reason,
        },
        other => other,
    })
}

fn charset_problem(key: &str) -> Option<&'static str> {
    let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'.' | b'-');
    (!key.bytes().all(ok)).then_some("key has a character outside [A-Za-z0-9/_.-]")
}

fn segment_problem(segment: &str) -> Option<&'static str> {
    if segment.is_empty() {
        Some("key has an empty segment (//)")
    } else if segment.starts_with('.') {
        Some("key segment starts with . (.. and hidden names are refused)")
    } else {
        None
    }
}

/// Where part `part` of resumable upload `upload_id` is kept: `uploads/{upload_id}/{part:06}`.
pub fn upload_part_key(upload_id: &str, part: u32) -> String {
    format!("{UPLOADS}{upload_id}/{part:06}")
}

/// The prefix holding every part of one upload: `uploads/{upload_id}/`.
pub fn upload_prefix(upload_id: &str) -> String {
    format!("{UPLOADS}{upload_id}/")
}

/// The prefix under which all unfinished uploads' parts live.
pub const UPLOADS: &str = "uploads/";

/// True when a listed key is one of this crate's hidden names.
pub(crate) fn is_hidden(key: &str) -> bool {
    key.split('/').any(|s| s.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_keys() {
        for k in [
            "a",
            "files/2026/0f3a9c.jpg",
            "uploads/abc-DEF_123/000001",
            "x.y.z",
            "a-b/c_d/e.f",
        ] {
            check_key(k).unwrap_or_else(|e| panic!("{k}: {e:?}"));
        }
    }

    #[test]
    fn bad_keys() {
        for k in [
            "",
            "/abs",
            "a/../b",
            "..",
            "../x",
            "a/..",
            "a//b",
            "dir/",
            ".hidden",
            "a/.partial/b",
            "张三.jpg",
            "a b",
            "a\\b",
            "a?b",
            "a%2e%2e",
            "a\0b",
        ] {
            assert!(
                matches!(check_key(k), Err(BlobError::InvalidKey { .. })),
                "{k:?} accepted"
            );
        }
        let long = "a".repeat(MAX_KEY_LEN + 1);
        assert!(check_key(&long).is_err());
        assert!(check_key(&"a".repeat(MAX_KEY_LEN)).is_ok());
    }

    #[test]
    fn prefixes() {
        assert!(check_prefix("uploads/abc/").is_ok());
        assert!(check_prefix("uploads/").is_ok());
        for p in [
            "",
            "/",
            "uploads",
            "uploads//",
            "../",
            "/uploads/",
            ".partial/",
        ] {
            assert!(check_prefix(p).is_err(), "{p:?} accepted");
        }
    }

    #[test]
    fn upload_keys() {
        assert_eq!(upload_part_key("u1", 7), "uploads/u1/000007");
        assert_eq!(upload_prefix("u1"), "uploads/u1/");
        assert!(upload_part_key("u1", 7).starts_with(&upload_prefix("u1")));
        check_key(&upload_part_key("u1", 999_999)).unwrap();
    }

    #[test]
    fn hidden() {
        assert!(is_hidden(".partial/x.123"));
        assert!(is_hidden("a/.probe"));
        assert!(!is_hidden("a/b.c"));
    }
}
