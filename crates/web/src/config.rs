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
    /// Reverse proxies whose `X-Forwarded-For` names the client: the header is read only
    /// from a peer in these networks, and only the addresses they added (anyone can
    /// write the header; a voter must not pick the address their votes are checked by).
    pub trusted_proxies: Vec<ipnet::IpNet>,
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
    /// How a voter's verification code is sent (`console` unless configured).
    pub sms: SmsProvider,
    /// A voter's codes: per phone a day, per address an hour.
    pub vote_caps: pingxuan_rules::vote::verify::Caps,
    /// Request rates at the edge: counted in memory, or in Redis when configured.
    pub edge: pingxuan_limits::Limiter,
    pub edge_rates: EdgeRates,
}

/// Requests a minute the vote's edge lets through, before the database is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeRates {
    /// Votes from one client address (carrier NAT puts many phones behind one).
    pub votes_per_ip: u32,
    /// Votes by one voter (a person tapping).
    pub votes_per_voter: u32,
    /// Code requests and code checks from one address.
    pub codes_per_ip: u32,
    /// Code requests and code checks for one phone.
    pub codes_per_phone: u32,
}

impl Default for EdgeRates {
    fn default() -> Self {
        EdgeRates {
            votes_per_ip: 600,
            votes_per_voter: 30,
            codes_per_ip: 30,
            codes_per_phone: 6,
        }
    }
}

/// The SMS provider the server sends verification codes through.
#[derive(Clone)]
pub struct SmsProvider(pub std::sync::Arc<dyn pingxuan_sms::Sms>);

impl std::fmt::Debug for SmsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmsProvider")
    }
}

impl Default for SmsProvider {
    /// Codes written to the log.
    fn default() -> Self {
        SmsProvider(std::sync::Arc::new(pingxuan_sms::Console::default()))
    }
}

/// Reads a list of trusted proxies: addresses or networks, separated by commas
/// (`127.0.0.1,10.0.0.0/8`).
pub fn parse_proxies(text: &str) -> Result<Vec<ipnet::IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<ipnet::IpNet>()
                .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("代理地址 `{t}` 无效，应为 IP 地址或网段，如 10.0.0.0/8"))
        })
        .collect()
}

impl WebConfig {
    pub fn new(public_url: &str) -> Self {
        WebConfig {
            public_url: public_url.trim_end_matches('/').to_owned(),
            cookie_secure: public_url.starts_with("https://"),
            captcha: CaptchaPolicy::AfterFailures(1),
            auth_requests_per_minute: 20,
            trusted_proxies: Vec::new(),
            reset_link_ttl: Duration::from_secs(30 * 60),
            max_body_bytes: 2 << 20,
            data_dir: None,
            blobs: None,
            max_upload_bytes: 4 << 30,
            job_lease_secs: 30,
            sms: SmsProvider::default(),
            vote_caps: pingxuan_rules::vote::verify::Caps::default(),
            edge: pingxuan_limits::Limiter::memory(),
            edge_rates: EdgeRates::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_parse_as_addresses_or_networks() {
        let p = parse_proxies("127.0.0.1, 10.0.0.0/8,::1").unwrap();
        assert_eq!(p.len(), 3);
        assert!(p[1].contains(&"10.2.3.4".parse::<std::net::IpAddr>().unwrap()));
        assert!(parse_proxies("").unwrap().is_empty());
        assert!(
            parse_proxies("10.0.0.0/33")
                .unwrap_err()
                .contains("10.0.0.0/33")
        );
    }

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
