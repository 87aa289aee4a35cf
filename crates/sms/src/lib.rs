//! Sending a voter's verification code. `console` writes the message to the log and, when
//! set, appends it to a file (a test or a load generator reads the codes there); `http`
//! posts to the gateway the operator configures (URL, headers, a body template, a secret
//! signing the body, the answer that means sent, a timeout). A failure or a hang is an
//! error: the caller then keeps no usable code.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;
use tokio::io::AsyncWriteExt;

/// Why a message was not sent; logged, never shown (the voter reads “短信发送失败”).
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("SMS gateway timed out after {0:?}")]
    Timeout(Duration),
    #[error("SMS gateway answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("SMS gateway unreachable: {0}")]
    Unreachable(String),
    #[error("SMS log file: {0}")]
    File(#[from] std::io::Error),
}

/// One message to one phone.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    pub phone: &'a str,
    pub text: &'a str,
    /// The code alone, for gateways that template it separately.
    pub code: &'a str,
}

type Sending<'a> = Pin<Box<dyn Future<Output = Result<(), SmsError>> + Send + 'a>>;

/// A way to send a message.
pub trait Sms: Send + Sync {
    fn send<'a>(&'a self, m: &'a Message<'a>) -> Sending<'a>;
}

/// Writes each message to the log and, if set, appends `phone<TAB>code<TAB>text` to a file.
#[derive(Debug, Clone, Default)]
pub struct Console {
    pub file: Option<PathBuf>,
}

impl Sms for Console {
    fn send<'a>(&'a self, m: &'a Message<'a>) -> Sending<'a> {
        Box::pin(async move {
            tracing::info!(phone = m.phone, code = m.code, "SMS (console): {}", m.text);
            if let Some(path) = &self.file {
                let mut f = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await?;
                f.write_all(format!("{}\t{}\t{}\n", m.phone, m.code, m.text).as_bytes())
                    .await?;
                f.flush().await?;
            }
            Ok(())
        })
    }
}

/// The gateway, as the operator describes it in a TOML file (`--sms http:FILE`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    pub url: String,
    /// Extra headers, `Name = "value"`.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// The body with `{phone}`, `{code}` and `{text}` replaced (JSON-escaped when the
    /// content type is JSON).
    pub body: String,
    #[serde(default = "json_type")]
    pub content_type: String,
    /// Signs the body: `X-Signature: hex(HMAC-SHA256(secret, body))`.
    #[serde(default)]
    pub secret: Option<String>,
    /// Sent means a 2xx status and, when set, this text in the answer's body.
    #[serde(default)]
    pub success_contains: Option<String>,
    #[serde(default = "five")]
    pub timeout_secs: u64,
}

fn json_type() -> String {
    "application/json".to_owned()
}

fn five() -> u64 {
    5
}

impl Gateway {
    /// Reads the gateway's file.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let g: Gateway = toml::from_str(text).map_err(|e| e.to_string())?;
        if !(g.url.starts_with("https://") || g.url.starts_with("http://")) {
            return Err(format!(
                "短信网关地址应以 http:// 或 https:// 开头：{}",
                g.url
            ));
        }
        Ok(g)
    }

    /// The body for `m`, each value escaped as the content type needs.
    pub fn body_for(&self, m: &Message<'_>) -> String {
        let json = self.content_type.contains("json");
        let form = self.content_type.contains("x-www-form-urlencoded");
        let put = |s: &str| {
            if json {
                let quoted = serde_json::to_string(s).unwrap_or_default();
                quoted[1..quoted.len() - 1].to_owned()
            } else if form {
                form_urlencoded::byte_serialize(s.as_bytes()).collect()
            } else {
                s.to_owned()
            }
        };
        self.body
            .replace("{phone}", &put(m.phone))
            .replace("{code}", &put(m.code))
            .replace("{text}", &put(m.text))
    }
}

/// Posts to the gateway.
pub struct Http {
    gateway: Gateway,
    client: reqwest::Client,
}

impl Http {
    pub fn new(gateway: Gateway) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(gateway.timeout_secs))
            .connect_timeout(Duration::from_secs(gateway.timeout_secs))
            .build()
            .expect("an HTTP client with timeouts");
        Http { gateway, client }
    }
}

impl Sms for Http {
    fn send<'a>(&'a self, m: &'a Message<'a>) -> Sending<'a> {
        Box::pin(async move {
            let g = &self.gateway;
            let body = g.body_for(m);
            let mut req = self
                .client
                .post(&g.url)
                .header("content-type", &g.content_type);
            for (k, v) in &g.headers {
                req = req.header(k, v);
            }
            if let Some(secret) = &g.secret {
                let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
                    .expect("HMAC takes any key length");
                mac.update(body.as_bytes());
                req = req.header("x-signature", hex::encode(mac.finalize().into_bytes()));
            }
            let limit = Duration::from_secs(g.timeout_secs);
            let answer = req.body(body).send().await.map_err(|e| {
                if e.is_timeout() {
                    SmsError::Timeout(limit)
                } else {
                    SmsError::Unreachable(e.to_string())
                }
            })?;
            let status = answer.status().as_u16();
            let text = answer.text().await.map_err(|e| {
                if e.is_timeout() {
                    SmsError::Timeout(limit)
                } else {
                    SmsError::Unreachable(e.to_string())
                }
            })?;
            let sent = (200..300).contains(&status)
                && g.success_contains
                    .as_ref()
                    .is_none_or(|want| text.contains(want.as_str()));
            if sent {
                Ok(())
            } else {
                Err(SmsError::Refused {
                    status,
                    body: text.chars().take(200).collect(),
                })
            }
        })
    }
}

/// The provider the server's setting names: `console`, or `http:PATH` (the gateway's
/// TOML file); `file` is where `console` also appends.
pub fn from_setting(setting: &str, file: Option<PathBuf>) -> Result<Box<dyn Sms>, String> {
    match setting.split_once(':') {
        None if setting == "console" => Ok(Box::new(Console { file })),
        Some(("http", path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("读取短信网关配置 {path} 失败：{e}"))?;
            Ok(Box::new(Http::new(Gateway::from_toml(&text)?)))
        }
        _ => Err(format!(
            "短信发送方式应为 console 或 http:网关配置文件路径，而不是“{setting}”"
        )),
    }
}
