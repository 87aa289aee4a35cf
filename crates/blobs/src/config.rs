//! The storage setting: where files go, read from one URL-like string.
//!
//! - empty: the folder `files` under the data folder (`./data/files` by default);
//! - `file:///absolute/folder`: that folder;
//! - `s3://KEY:SECRET@bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1`: a bucket
//!   of an S3-compatible server. Key and secret come from the URL (percent-encoded) or else from
//!   `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN` when set). With an
//!   `endpoint` requests use path-style addressing (`endpoint/bucket/key`, what MinIO, Ceph and
//!   most self-hosted servers expect); without one they go to AWS in virtual-host style.
//!   Optional `timeout` (seconds for connecting and for one request without a body, default 10)
//!   and `io_timeout` (seconds for one body transfer step such as an 8 MiB part, default 60).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use percent_encoding::percent_decode_str;

use crate::BlobError;

pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const DEFAULT_IO_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_REGION: &str = "us-east-1";

#[derive(Debug)]
pub(crate) enum Location {
    Fs { root: PathBuf },
    S3(S3Location),
}

pub(crate) struct S3Location {
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the whole bucket.
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub timeout: Duration,
    pub io_timeout: Duration,
}

impl fmt::Debug for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Location")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &mask(&self.access_key_id))
            .field("secret_access_key", &"[redacted]")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[redacted]"),
            )
            .field("timeout", &self.timeout)
            .field("io_timeout", &self.io_timeout)
            .finish()
    }
}

/// The first four characters of an access key id, enough to tell keys apart in a log.
pub(crate) fn mask(id: &str) -> String {
    let head: String = id.chars().take(4).collect();
    format!("{head}…")
}

fn config(msg: impl Into<String>) -> BlobError {
    BlobError::Config(msg.into())
}

/// Reads the setting. `env` answers environment variables (the process environment in
/// production, a map in tests).
pub(crate) fn parse(
    url: &str,
    data_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Location, BlobError> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(Location::Fs {
            root: absolute(&data_dir.join("files"))?,
        });
    }
    let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("file") => parse_file(url),
        Some("s3") => parse_s3(url, env).map(Location::S3),
        _ => Err(config(
            "只支持 file:///绝对路径 或 s3://桶名/前缀?endpoint=… 两种地址",
        )),
    }
}

fn absolute(path: &Path) -> Result<PathBuf, BlobError> {
    std::path::absolute(path)
        .map_err(|e| config(format!("无法确定文件夹 {} 的位置：{e}", path.display())))
}

fn parse_file(url: &str) -> Result<Location, BlobError> {
    let parsed = url::Url::parse(url).map_err(|e| config(format!("file 地址无法解析：{e}")))?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(config("file 地址不能带 ? 或 # 部分"));
    }
    match parsed.host_str() {
        None | Some("") | Some("localhost") => {}
        Some(_) => {
            return Err(config(
                "file 地址要写成 file:///绝对路径（三个斜杠，不写主机名）",
            ));
        }
    }
    let root = parsed
        .to_file_path()
        .map_err(|()| config("file 地址要写成 file:///绝对路径"))?;
    Ok(Location::Fs { root })
}

fn decode(part: &str, what: &str) -> Result<String, BlobError> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| config(format!("s3 地址中的{what}不是有效的 UTF-8")))
}

fn parse_s3(url: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<S3Location, BlobError> {
    // The URL parser's error text never repeats the input, so a secret cannot leak through it.
    let parsed = url::Url::parse(url).map_err(|e| config(format!("s3 地址无法解析：{e}")))?;
    if parsed.fragment().is_some() {
        return Err(config("s3 地址不能带 # 部分"));
    }
    if parsed.port().is_some() {
        return Err(config(
            "s3 地址的主机部分是桶名，不能带端口；服务器地址写在 ?endpoint= 里",
        ));
    }
    let bucket = parsed.host_str().unwrap_or_default().to_string();
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if !bucket_ok {
        return Err(config(
            "s3 地址缺少有效的桶名（3–63 个字母、数字、点或连字符）：s3://桶名/前缀",
        ));
    }
    let prefix = decode(parsed.path(), "前缀")?.trim_matches('/').to_string();
    if !prefix.is_empty() {
        crate::check_key(&prefix).map_err(|_| {
            config("s3 地址中的前缀只能含字母、数字和 / _ . -，且不能有空段或以点开头的段")
        })?;
    }

    let mut endpoint = None;
    let mut region = None;
    let mut timeout = DEFAULT_TIMEOUT;
    let mut io_timeout = DEFAULT_IO_TIMEOUT;
    for (name, value) in parsed.query_pairs() {
        match name.as_ref() {
            "endpoint" => {
                let v = value.trim_end_matches('/').to_string();
                if !(v.starts_with("http://") || v.starts_with("https://")) {
                    return Err(config(
                        "endpoint 要写完整的服务器地址，如 http://127.0.0.1:9000",
                    ));
                }
                endpoint = Some(v);
            }
            "region" => region = Some(value.into_owned()),
            "timeout" => timeout = seconds(&value, "timeout")?,
            "io_timeout" => io_timeout = seconds(&value, "io_timeout")?,
            other => {
                return Err(config(format!(
                    "s3 地址中有未知的参数 {other}（可用：endpoint、region、timeout、io_timeout）"
                )));
            }
        }
    }

    let user = decode(parsed.username(), "访问密钥")?;
    let pass = decode(parsed.password().unwrap_or_default(), "访问密钥")?;
    let (access_key_id, secret_access_key, session_token) = match (user.is_empty(), pass.is_empty())
    {
        (false, false) => (user, pass, None),
        (true, true) => match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(k), Some(s)) if !k.is_empty() && !s.is_empty() => {
                (k, s, env("AWS_SESSION_TOKEN").filter(|t| !t.is_empty()))
            }
            _ => {
                return Err(config(
                    "s3 存储缺少访问密钥：写成 s3://KEY:SECRET@桶名/… 或设置 AWS_ACCESS_KEY_ID 和 AWS_SECRET_ACCESS_KEY",
                ));
            }
        },
        _ => {
            return Err(config(
                "s3 地址中的访问密钥要写成 KEY:SECRET@，两部分都不能省",
            ));
        }
    };

    Ok(S3Location {
        bucket,
        prefix,
        endpoint,
        region: region
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| DEFAULT_REGION.to_string()),
        access_key_id,
        secret_access_key,
        session_token,
        timeout,
        io_timeout,
    })
}

fn seconds(value: &str, name: &str) -> Result<Duration, BlobError> {
    match value.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(config(format!("{name} 要写 0 到 3600 之间的秒数"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn s3(url: &str, env: &dyn Fn(&str) -> Option<String>) -> S3Location {
        match parse(url, Path::new("/d"), env).expect(url) {
            Location::S3(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_means_files_under_the_data_folder() {
        let Location::Fs { root } = parse("  ", Path::new("/srv/px"), &no_env).unwrap() else {
            panic!()
        };
        assert_eq!(root, Path::new("/srv/px/files"));
        let Location::Fs { root } = parse("", Path::new("data"), &no_env).unwrap() else {
            panic!()
        };
        assert!(
            root.is_absolute() && root.ends_with("data/files"),
            "{root:?}"
        );
    }

    #[test]
    fn file_urls() {
        let Location::Fs { root } = parse("file:///var/lib/px", Path::new("/d"), &no_env).unwrap()
        else {
            panic!()
        };
        assert_eq!(root, Path::new("/var/lib/px"));
        for bad in [
            "file://host/x",
            "file:///x?y=1",
            "ftp://x/y",
            "/plain/path",
            "x",
        ] {
            assert!(
                matches!(
                    parse(bad, Path::new("/d"), &no_env),
                    Err(BlobError::Config(_))
                ),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn s3_with_userinfo() {
        let l = s3(
            "s3://AKIAEXAMPLE:se%2Fcr%2Bet@my-bucket/campaigns/2026?endpoint=http://127.0.0.1:9000/&region=cn-north-1",
            &no_env,
        );
        assert_eq!(l.bucket, "my-bucket");
        assert_eq!(l.prefix, "campaigns/2026");
        assert_eq!(l.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(l.region, "cn-north-1");
        assert_eq!(l.access_key_id, "AKIAEXAMPLE");
        assert_eq!(l.secret_access_key, "se/cr+et");
        assert_eq!(l.timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn s3_with_env_credentials_and_defaults() {
        let env = |k: &str| match k {
            "AWS_ACCESS_KEY_ID" => Some("ENVKEY".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("envsecret".to_string()),
            _ => None,
        };
        let l = s3("s3://bucket?timeout=1.5&io_timeout=2", &env);
        assert_eq!(l.prefix, "");
        assert_eq!(l.endpoint, None);
        assert_eq!(l.region, "us-east-1");
        assert_eq!(l.access_key_id, "ENVKEY");
        assert_eq!(l.secret_access_key, "envsecret");
        assert_eq!(l.timeout, Duration::from_millis(1500));
        assert_eq!(l.io_timeout, Duration::from_secs(2));
    }

    #[test]
    fn s3_refusals() {
        for bad in [
            "s3://bucket/x",                        // no credentials anywhere
            "s3://K@bucket/x",                      // key without secret
            "s3://K:S@bucket:9000/x",               // port on the bucket
            "s3://K:S@b/x",                         // bucket too short
            "s3://K:S@bucket/x?endpont=http://a",   // typo
            "s3://K:S@bucket/x?endpoint=127.0.0.1", // no scheme
            "s3://K:S@bucket/x?timeout=0",
            "s3://K:S@bucket/a%2F..%2Fb",
            "s3://K:S@bucket/a/.hidden",
        ] {
            assert!(
                matches!(
                    parse(bad, Path::new("/d"), &no_env),
                    Err(BlobError::Config(_))
                ),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn errors_and_debug_never_show_the_secret() {
        let url = "s3://AKIAEXAMPLE:TOPSECRET@bucket/x?endpont=1";
        let err = parse(url, Path::new("/d"), &no_env).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("TOPSECRET"));
        let l = s3("s3://AKIAEXAMPLE:TOPSECRET@bucket/x", &no_env);
        let shown = format!("{l:?}");
        assert!(!shown.contains("TOPSECRET"), "{shown}");
        assert!(!shown.contains("AKIAEXAMPLE"), "{shown}");
        assert!(shown.contains("AKIA…"), "{shown}");
    }
}
