//! Settings: defaults < `PINGXUAN_*` environment variables < flags (clap reads both).
//! Secrets are never printed.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use pingxuan_store::{Sealer, Store};
use pingxuan_web::{CaptchaPolicy, WebConfig};

/// Every `PINGXUAN_*` variable the program reads; others are reported as unknown.
pub const KNOWN_VARS: &[&str] = &[
    "PINGXUAN_DATABASE_URL",
    "PINGXUAN_DATA_DIR",
    "PINGXUAN_SECRET_KEY",
    "PINGXUAN_LISTEN",
    "PINGXUAN_PUBLIC_URL",
    "PINGXUAN_CAPTCHA",
    "PINGXUAN_COOKIE_SECURE",
    "PINGXUAN_TRUSTED_PROXIES",
    "PINGXUAN_SMS",
    "PINGXUAN_SMS_FILE",
    "PINGXUAN_VOTE_CODES_PER_PHONE",
    "PINGXUAN_VOTE_CODES_PER_IP",
    "PINGXUAN_REDIS_URL",
    "PINGXUAN_VOTES_PER_IP_MINUTE",
    "PINGXUAN_VOTES_PER_VOTER_MINUTE",
    "PINGXUAN_SMTP_URL",
    "PINGXUAN_STORAGE_URL",
    "PINGXUAN_MAIL_FROM",
    "PINGXUAN_AUTH_PER_MINUTE",
    "PINGXUAN_JOB_LEASE_SECS",
    "PINGXUAN_LOG",
    "PINGXUAN_TEST_DATABASE_URL",
    // Read by the store (tuning SQLite for a benchmark).
    "PINGXUAN_SQLITE_WAL_RESTART_FRAMES",
    "PINGXUAN_SQLITE_MMAP_BYTES",
];

#[derive(Args, Clone)]
pub struct Common {
    /// 数据目录（SQLite 数据库、密钥文件、本地文件存储） / data folder
    #[arg(
        long,
        env = "PINGXUAN_DATA_DIR",
        hide_env_values = true,
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// 数据库地址：sqlite://… 或 postgres://…；默认为数据目录下的 SQLite 文件 / database URL
    #[arg(
        long,
        env = "PINGXUAN_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<String>,

    /// 加密个人信息的密钥（至少 32 个字符）；默认读取或生成 数据目录/secret.key / key sealing personal data
    #[arg(
        long,
        env = "PINGXUAN_SECRET_KEY",
        hide_env_values = true,
        global = true
    )]
    pub secret_key: Option<String>,
}

impl std::fmt::Debug for Common {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Common")
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Common {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("pingxuan.db").display()))
    }

    /// The sealing key: configured, or kept in `data_dir/secret.key` (created once, 0600).
    fn secret(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(k) = &self.secret_key {
            anyhow::ensure!(k.len() >= 32, "PINGXUAN_SECRET_KEY 至少需要 32 个字符");
            return Ok(k.as_bytes().to_vec());
        }
        let path = self.data_dir.join("secret.key");
        if path.exists() {
            let k =
                std::fs::read(&path).with_context(|| format!("读取密钥文件 {}", path.display()))?;
            anyhow::ensure!(
                k.len() >= 32,
                "密钥文件 {} 已损坏（不足 32 字节）",
                path.display()
            );
            return Ok(k);
        }
        let key: [u8; 32] = rand::random();
        write_private(&path, &key)?;
        tracing::info!(path = %path.display(), "created a new key for sealing personal data; back it up with the database");
        Ok(key.to_vec())
    }

    /// Opens (creating when needed) and migrates the database.
    pub async fn store(&self) -> anyhow::Result<Store> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("创建数据目录 {}", self.data_dir.display()))?;
        let sealer = Sealer::new(&self.secret()?);
        let url = self.database_url();
        let store = Store::connect(&url, sealer)
            .await
            .with_context(|| "连接数据库失败".to_owned())?;
        store.migrate().await.context("数据库迁移失败")?;
        Ok(store)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options
        .open(path)
        .with_context(|| format!("创建密钥文件 {}", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}

#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// 监听地址 / address to listen on
    #[arg(
        long,
        env = "PINGXUAN_LISTEN",
        hide_env_values = true,
        default_value = "127.0.0.1:8080"
    )]
    pub listen: String,

    /// 对外访问地址，邮件中的链接以此开头；https 时 Cookie 带 Secure / public URL
    #[arg(long, env = "PINGXUAN_PUBLIC_URL", hide_env_values = true)]
    pub public_url: Option<String>,

    /// 验证码策略：always、off、after-failures、after-failures:N / captcha policy
    #[arg(
        long,
        env = "PINGXUAN_CAPTCHA",
        hide_env_values = true,
        default_value = "after-failures"
    )]
    pub captcha: CaptchaPolicy,

    /// 强制 Cookie 带或不带 Secure 标志（默认随对外地址是否为 https） / force the Secure cookie flag
    #[arg(long, env = "PINGXUAN_COOKIE_SECURE", hide_env_values = true)]
    pub cookie_secure: Option<bool>,

    /// 位于反向代理之后时，代理的地址或网段（逗号分隔，如 127.0.0.1,10.0.0.0/8）：只有来自这些地址的
    /// X-Forwarded-For 才被采信 / trusted reverse proxies, whose X-Forwarded-For names the client
    #[arg(long, env = "PINGXUAN_TRUSTED_PROXIES", hide_env_values = true)]
    pub trusted_proxies: Option<String>,

    /// 投票验证码的短信发送方式：console（写入日志）或 http:网关配置文件 / SMS provider
    #[arg(
        long,
        env = "PINGXUAN_SMS",
        hide_env_values = true,
        default_value = "console"
    )]
    pub sms: String,

    /// console 方式下另将验证码追加写入此文件（测试与压测工具读取） / file the console provider appends codes to
    #[arg(long, env = "PINGXUAN_SMS_FILE", hide_env_values = true)]
    pub sms_file: Option<PathBuf>,

    /// Redis 地址，如 redis://127.0.0.1:6379：多台服务器共用投票的请求频率计数；不设时各服务器在内存中计数
    /// / Redis URL: the edge's request counts shared by every server
    #[arg(long, env = "PINGXUAN_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// 每个客户端地址每分钟最多投票请求数（运营商 NAT 下多人共用一个地址） / votes per client address a minute
    #[arg(
        long,
        env = "PINGXUAN_VOTES_PER_IP_MINUTE",
        hide_env_values = true,
        default_value_t = 600
    )]
    pub votes_per_ip_minute: u32,

    /// 每位投票人每分钟最多投票请求数 / votes per voter a minute
    #[arg(
        long,
        env = "PINGXUAN_VOTES_PER_VOTER_MINUTE",
        hide_env_values = true,
        default_value_t = 30
    )]
    pub votes_per_voter_minute: u32,

    /// 每个手机号每天最多发送的投票验证码条数 / codes per phone a day
    #[arg(
        long,
        env = "PINGXUAN_VOTE_CODES_PER_PHONE",
        hide_env_values = true,
        default_value_t = 10
    )]
    pub vote_codes_per_phone: u32,

    /// 每个客户端地址每小时最多发送的投票验证码条数（运营商 NAT 下多人共用一个地址） / codes per client address an hour
    #[arg(
        long,
        env = "PINGXUAN_VOTE_CODES_PER_IP",
        hide_env_values = true,
        default_value_t = 60
    )]
    pub vote_codes_per_ip: u32,

    /// 每个客户端地址每分钟允许的登录、注册、找回密码请求数 / auth requests per minute per address
    #[arg(
        long,
        env = "PINGXUAN_AUTH_PER_MINUTE",
        hide_env_values = true,
        default_value_t = 20
    )]
    pub auth_per_minute: u32,

    /// SMTP 服务器，如 smtps://用户:密码@smtp.example.com；不设时邮件写入日志 / SMTP server URL
    #[arg(long, env = "PINGXUAN_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// 上传文件的存储位置：不设时为数据目录下的 files 文件夹；或 s3://密钥ID:密钥@桶/前缀?endpoint=…&region=…
    /// / file storage: a local folder by default, or an S3-compatible bucket
    #[arg(long, env = "PINGXUAN_STORAGE_URL", hide_env_values = true)]
    pub storage_url: Option<String>,

    /// 发件人，如 "评选平台 <noreply@example.com>" / sender address
    #[arg(
        long,
        env = "PINGXUAN_MAIL_FROM",
        hide_env_values = true,
        default_value = "最美科技工作者评选平台 <noreply@localhost>"
    )]
    pub mail_from: String,

    /// 多台服务器共用一个数据库时，导出任务的租约秒数：持有任务的服务器停止续约这么久后，其他服务器接手 / seconds an export job's lease lasts without renewal
    #[arg(long, env = "PINGXUAN_JOB_LEASE_SECS", hide_env_values = true, default_value_t = 30, value_parser = clap::value_parser!(i64).range(3..=3600))]
    pub job_lease_secs: i64,

    /// 启动前载入三个示例活动和演示账号 / load the seed campaigns and demo accounts first
    #[arg(long, default_value_t = false)]
    pub demo: bool,
}

impl ServeArgs {
    pub fn web_config(&self, data_dir: &Path) -> anyhow::Result<WebConfig> {
        let public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen));
        let mut c = WebConfig::new(&public_url);
        c.captcha = self.captcha;
        if let Some(secure) = self.cookie_secure {
            c.cookie_secure = secure;
        }
        c.trusted_proxies =
            pingxuan_web::config::parse_proxies(self.trusted_proxies.as_deref().unwrap_or(""))
                .map_err(anyhow::Error::msg)?;
        c.sms = pingxuan_web::config::SmsProvider(std::sync::Arc::from(
            pingxuan_sms::from_setting(&self.sms, self.sms_file.clone())
                .map_err(anyhow::Error::msg)?,
        ));
        c.edge_rates.votes_per_ip = self.votes_per_ip_minute.max(1);
        c.edge_rates.votes_per_voter = self.votes_per_voter_minute.max(1);
        c.vote_caps = pingxuan_rules::vote::verify::Caps {
            per_phone_day: self.vote_codes_per_phone.max(1),
            per_ip_hour: self.vote_codes_per_ip.max(1),
        };
        c.auth_requests_per_minute = self.auth_per_minute;
        c.job_lease_secs = self.job_lease_secs;
        c.data_dir = Some(data_dir.to_path_buf());
        // A storage setting that cannot work stops the start, with the reason.
        c.blobs = Some(pingxuan_blobs::Blobs::from_url(
            self.storage_url.as_deref().unwrap_or(""),
            data_dir,
        )?);
        Ok(c)
    }
}

/// Warns about `PINGXUAN_*` variables nobody reads (usually a typo).
pub fn warn_unknown_vars() {
    for (k, _) in std::env::vars() {
        if k.starts_with("PINGXUAN_") && !KNOWN_VARS.contains(&k.as_str()) {
            tracing::warn!(variable = %k, "unknown PINGXUAN_ variable ignored");
        }
    }
}
