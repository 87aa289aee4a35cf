//! Settings the web layer needs. The binary fills them from defaults, the environment
//! (`PINGXUAN_*`) and flags.

use std::time::Duration;

/// When the sign-in and registration forms ask for an image captcha.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptchaPolicy {
    Always,
    /// After this many failed sign-ins from the same browser.
    AfterFailures(u32),
    Off,
}

impl std::str::FromStr for CaptchaPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "always" => Ok(CaptchaPolicy::Always),
            "off" => Ok(CaptchaPolicy::Off),
            "after-failures" => Ok(CaptchaPolicy::AfterFailures(1)),
            other => other
                .strip_prefix("after-failures:")
                .and_then(|n| n.parse().ok())
                .map(CaptchaPolicy::AfterFailures)
                .ok_or_else(|| {
                    format!("验证码策略 `{other}` 无效，可用：always、off、after-failures、after-failures:N")
                }),
        }
    }
}

#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The address people reach the site at; links in mail start with it.
    pub public_url: String,
    /// Mark cookies `Secure` (on when the public URL is https).
    pub cookie_secure: bool,
    pub captcha: CaptchaPolicy,
    /// Sign-in, registration and reset requests allowed per client address per minute.
    pub auth_requests_per_minute: u32,
    /// Trust `X-Forwarded-For` from a reverse proxy for the client address.
    pub trust_proxy: bool,
    pub reset_link_ttl: Duration,
    /// Largest request body accepted (campaign files and forms).
    pub max_body_bytes: usize,
    /// The folder `/healthz` checks for writing (local file storage).
    pub data_dir: Option<std::path::PathBuf>,
    /// Where uploaded files are kept: `None` is a local folder under `data_dir/files`
    /// (or a temporary one when there is no data folder).
    pub blobs: Option<pingxuan_blobs::Blobs>,
    /// The largest file anyone may upload, whatever a material allows.
    pub max_upload_bytes: u64,
    /// How long a server's claim on an export job lasts without renewal: another server
    /// resumes the job that long after its server died.
    pub job_lease_secs: i64,
}

impl WebConfig {
    pub fn new(public_url: &str) -> Self {
        WebConfig {
            public_url: public_url.trim_end_matches('/').to_owned(),
            cookie_secure: public_url.starts_with("https://"),
            captcha: CaptchaPolicy::AfterFailures(1),
            auth_requests_per_minute: 20,
            trust_proxy: false,
            reset_link_ttl: Duration::from_secs(30 * 60),
            max_body_bytes: 2 << 20,
            data_dir: None,
            blobs: None,
            max_upload_bytes: 4 << 30,
            job_lease_secs: 30,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captcha_policy_parses() {
        assert_eq!("always".parse(), Ok(CaptchaPolicy::Always));
        assert_eq!(
            "after-failures:3".parse(),
            Ok(CaptchaPolicy::AfterFailures(3))
        );
        assert!(
            "sometimes"
                .parse::<CaptchaPolicy>()
                .unwrap_err()
                .contains("sometimes")
        );
    }
}
