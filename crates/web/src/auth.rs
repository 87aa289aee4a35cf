//! Who is asking: the session cookie for pages, a personal API token (or the session
//! plus an `X-CSRF-Token` header) for the API. Extractors hand handlers an `Access`
//! so that no handler can forget to look.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::Method;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use pingxuan_store::sessions::Session;
use pingxuan_store::tokens::TOKEN_PREFIX;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::{ApiError, Failure, PageError};
use pingxuan_app::access::Access;

pub const SESSION_COOKIE: &str = "px_session";

pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(state.config.cookie_secure)
        .same_site(SameSite::Lax)
        .build()
}

pub fn removal_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = session_cookie(state, String::new());
    c.make_removal();
    c
}

/// The client's address: the socket peer, or, when the peer is one of our trusted
/// proxies, the address its `X-Forwarded-For` names.
pub fn client_ip(parts: &Parts, state: &AppState) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    // Every line of the header, in order: a proxy may add a line of its own instead of
    // appending to the client's, and the client's line must not be the one believed.
    let lines: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let header = (!lines.is_empty()).then(|| lines.join(","));
    forwarded_client(peer, header.as_deref(), &state.config.trusted_proxies)
}

/// The client behind a chain of proxies: from the peer, walk `X-Forwarded-For` from the
/// right while the address seen is a trusted proxy; the first address that is not one is
/// the client. Entries left of it were written by the client and are never believed.
pub fn forwarded_client(
    peer: Option<IpAddr>,
    forwarded: Option<&str>,
    trusted: &[ipnet::IpNet],
) -> Option<IpAddr> {
    let trusts = |ip: &IpAddr| trusted.iter().any(|n| n.contains(&ip.to_canonical()));
    let mut client = peer?.to_canonical();
    if let Some(header) = forwarded.filter(|_| trusts(&client)) {
        for entry in header.rsplit(',') {
            let Ok(ip) = entry.trim().parse::<IpAddr>() else {
                break;
            };
            client = ip.to_canonical();
            if !trusts(&client) {
                break;
            }
        }
    }
    Some(client)
}

/// The client address as text, for the audit trail and rate limits.
#[derive(Debug, Clone)]
pub struct ClientIp(pub Option<String>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, state).map(|ip| ip.to_string())))
    }
}

async fn session_from_cookie(parts: &Parts, state: &AppState) -> Result<Option<Session>, Failure> {
    let jar = CookieJar::from_headers(&parts.headers);
    match jar.get(SESSION_COOKIE) {
        Some(c) if !c.value().is_empty() => Ok(state.store.load_session(c.value()).await?),
        _ => Ok(None),
    }
}

/// A visitor's session, signed in or not; created (with its cookie) when missing.
/// Used by the sign-in, registration and reset pages, whose forms need a CSRF token.
pub struct Visitor {
    pub session: Session,
    /// Holds the new cookie when the session was just created.
    pub jar: CookieJar,
    pub ip: Option<String>,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts, state).map(|i| i.to_string());
        let jar = CookieJar::from_headers(&parts.headers);
        if let Some(session) = session_from_cookie(parts, state).await? {
            parts
                .extensions
                .insert(SessionCsrf(session.csrf_token.clone()));
            return Ok(Visitor { session, jar, ip });
        }
        let (token, session) = state
            .store
            .create_session(None, ip.as_deref(), None)
            .await?;
        parts
            .extensions
            .insert(SessionCsrf(session.csrf_token.clone()));
        let jar = jar.add(session_cookie(state, token));
        Ok(Visitor { session, jar, ip })
    }
}

/// A signed-in person on a page; others are sent to the sign-in page.
pub struct SignedIn {
    pub access: Access,
    pub session: Session,
    pub ip: Option<String>,
    /// Unread 消息通知, shown beside the menu item.
    pub unread: i64,
}

/// The CSRF token of the session a page extractor ([`SignedIn`], [`Visitor`]) found,
/// left in the request for [`Posted`].
#[derive(Clone)]
struct SessionCsrf(String);

/// A form that carries nothing but its CSRF token (buttons such as 退出, 我承诺, 作废).
#[derive(serde::Deserialize)]
pub struct Button {}

/// A form posted from one of our pages: its `csrf` field is checked against the
/// session before the form is read, so no handler can forget it. Must follow
/// [`SignedIn`] or [`Visitor`] among the handler's arguments.
pub struct Posted<T>(pub T);

/// The session's CSRF token, left in the request by `SignedIn` or `Visitor`.
fn expected_csrf(req: &Request) -> Result<SessionCsrf, Failure> {
    req.extensions()
        .get::<SessionCsrf>()
        .cloned()
        .ok_or_else(|| {
            Failure::Internal("a posted form read without SignedIn or Visitor before it".to_owned())
        })
}

impl<T, S> FromRequest<S> for Posted<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let expected = expected_csrf(&req)?;
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| Failure::invalid("bad_form", "提交的内容未能完整读取，请重试", None))?;
        let token = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        check_token(&expected.0, &token)?;
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            Failure::invalid("bad_form", "提交的表单内容有误，请刷新页面后重试", None)
        })?;
        Ok(Posted(form))
    }
}

/// A page's form sent as `multipart/form-data` because it carries a file (a list of
/// units or experts): its CSRF field checked first, like `Posted`. Fields are text; the
/// one file, if any, is held in memory, so the route caps its size.
pub struct PostedFile {
    pub fields: std::collections::HashMap<String, String>,
    pub file: Option<UploadedFile>,
}

pub struct UploadedFile {
    /// The name the browser gave, for its extension and for messages.
    pub name: String,
    pub bytes: Bytes,
}

impl PostedFile {
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }
}

/// Largest list file a form may carry: a few thousand rows of a spreadsheet.
pub const MAX_LIST_FILE: usize = 5 * 1024 * 1024;

/// Reads a multipart form: text fields and every non-empty file, each at most `max`
/// bytes; the CSRF field checked against the session's before anything is used.
async fn read_multipart<S: Send + Sync>(
    req: Request,
    state: &S,
    max: usize,
    public_url: Option<&str>,
) -> Result<
    (
        std::collections::HashMap<String, String>,
        Vec<(String, UploadedFile)>,
    ),
    PageError,
> {
    let expected = match public_url {
        None => Some(expected_csrf(&req)?),
        Some(ours) => {
            same_origin(&req, ours)?;
            None
        }
    };
    let unreadable = || Failure::invalid("bad_form", "提交的内容未能完整读取，请重试", None);
    let mut multipart = axum::extract::Multipart::from_request(req, state)
        .await
        .map_err(|_| unreadable())?;
    let mut fields = std::collections::HashMap::new();
    let mut files = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(file_name) => {
                let bytes = field.bytes().await.map_err(|_| unreadable())?;
                if bytes.len() > max {
                    return Err(Failure::invalid(
                        "too_large",
                        format!(
                            "文件“{file_name}”有 {}，超过 {} 上限",
                            pingxuan_rules::materials::format_size(bytes.len() as u64),
                            pingxuan_rules::materials::format_size(max as u64)
                        ),
                        Some(&name),
                    )
                    .into());
                }
                if !file_name.is_empty() && !bytes.is_empty() {
                    files.push((
                        name,
                        UploadedFile {
                            name: file_name,
                            bytes,
                        },
                    ));
                }
            }
            None => {
                let text = field.text().await.map_err(|_| unreadable())?;
                fields.insert(name, text);
            }
        }
    }
    if let Some(expected) = expected {
        let token = fields.get("csrf").map(String::as_str).unwrap_or("");
        check_token(&expected.0, token)?;
    }
    Ok((fields, files))
}

/// A form posted without a session (the public's objection to a 公示): nobody's rights
/// ride on it, so a forged one gains nothing a direct one would not; still, a browser
/// that says it comes from elsewhere is refused — its `Origin` must be the site's public
/// address (behind a proxy) or the `Host` it asked (direct), and never `null`.
fn same_origin(req: &Request, public_url: &str) -> Result<(), Failure> {
    same_origin_headers(req.headers(), public_url)
}

/// [`same_origin`] on a request's headers.
pub(crate) fn same_origin_headers(
    headers: &axum::http::HeaderMap,
    public_url: &str,
) -> Result<(), Failure> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let Some(origin) = header(axum::http::header::ORIGIN) else {
        // Not a browser's cross-site post (those always say where they come from).
        return Ok(());
    };
    let host = header(axum::http::header::HOST).unwrap_or_default();
    let direct = origin
        .split_once("://")
        .is_some_and(|(_, rest)| !host.is_empty() && rest == host);
    if origin != "null" && (origin == public_url.trim_end_matches('/') || direct) {
        Ok(())
    } else {
        Err(Failure::invalid(
            "csrf",
            "页面来源不明，请从本平台的页面提交",
            None,
        ))
    }
}

impl<S> FromRequest<S> for PostedFile
where
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (fields, files) = read_multipart(req, state, MAX_LIST_FILE, None).await?;
        Ok(PostedFile {
            fields,
            file: files.into_iter().next().map(|(_, f)| f),
        })
    }
}

/// A form with several files (an objection's evidence), every file kept, each up to
/// the objection's limit: with the session's CSRF token as [`PostedFile`] (the office's
/// console), or, as [`PublicFiles`], from a visitor without a session.
pub struct PostedFiles {
    pub fields: std::collections::HashMap<String, String>,
    pub files: Vec<UploadedFile>,
}

impl PostedFiles {
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }
}

impl<S> FromRequest<S> for PostedFiles
where
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (fields, files) =
            read_multipart(req, state, pingxuan_app::publicity::MAX_FILE_BYTES, None).await?;
        Ok(PostedFiles {
            fields,
            files: files.into_iter().map(|(_, f)| f).collect(),
        })
    }
}

/// [`PostedFiles`] from the public, who have no session: a public page opened by a
/// whole city writes nothing per visit. The address's objection allowance is checked
/// before a byte of the body is read, so a refused sender costs nothing.
pub struct PublicFiles(pub PostedFiles);

impl FromRequest<AppState> for PublicFiles {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let ip = client_ip(&parts, state).map(|i| i.to_string());
        if state.objection_limiter.len() > 10_000 {
            state.objection_limiter.retain_recent();
        }
        state
            .objection_limiter
            .check_key(&ip.unwrap_or_default())
            .map_err(|_| {
                Failure::TooMany("提交异议过于频繁，请稍后再试；也可通过电话或来信反映".to_owned())
            })?;
        let req = Request::from_parts(parts, body);
        let (fields, files) = read_multipart(
            req,
            state,
            pingxuan_app::publicity::MAX_FILE_BYTES,
            Some(&state.config.public_url),
        )
        .await?;
        Ok(PublicFiles(PostedFiles {
            fields,
            files: files.into_iter().map(|(_, f)| f).collect(),
        }))
    }
}

/// Refuses a token that is not the session's (the API's `X-CSRF-Token` header).
pub fn check_csrf(session: &Session, token: &str) -> Result<(), Failure> {
    check_token(&session.csrf_token, token)
}

fn check_token(expected: &str, token: &str) -> Result<(), Failure> {
    if constant_time_eq(expected.as_bytes(), token.as_bytes()) {
        Ok(())
    } else {
        Err(Failure::invalid(
            "csrf",
            "页面已过期或来源不明，请刷新页面后重试",
            None,
        ))
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts, state).map(|i| i.to_string());
        let had_cookie = CookieJar::from_headers(&parts.headers)
            .get(SESSION_COOKIE)
            .is_some_and(|c| !c.value().is_empty());
        let session = session_from_cookie(parts, state)
            .await?
            .ok_or(if had_cookie {
                Failure::SessionExpired
            } else {
                Failure::SignedOut
            })?;
        let user_id = session.user_id.ok_or(Failure::SignedOut)?;
        let access = Access::load(&state.store, user_id)
            .await?
            .ok_or(Failure::SignedOut)?;
        let unread = state.store.unread_notices(user_id).await?;
        parts
            .extensions
            .insert(SessionCsrf(session.csrf_token.clone()));
        Ok(SignedIn {
            access,
            session,
            ip,
            unread,
        })
    }
}

/// A caller of the JSON API: a personal token (`Authorization: Bearer pxt_…`), or the
/// browser's session with the `X-CSRF-Token` header on state-changing requests.
pub struct ApiCaller {
    pub access: Access,
    pub ip: Option<String>,
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts, state).map(|i| i.to_string());
        let bearer = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let user_id = if let Some(token) = bearer {
            if !token.starts_with(TOKEN_PREFIX) {
                return Err(Failure::SignedOut.into());
            }
            state
                .store
                .user_of_api_token(token)
                .await?
                .ok_or(Failure::SignedOut)?
        } else {
            let session = session_from_cookie(parts, state)
                .await?
                .ok_or(Failure::SignedOut)?;
            if !matches!(parts.method, Method::GET | Method::HEAD) {
                let header = parts
                    .headers
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                check_csrf(&session, header)?;
            }
            session.user_id.ok_or(Failure::SignedOut)?
        };
        let access = Access::load(&state.store, user_id)
            .await?
            .ok_or(Failure::SignedOut)?;
        Ok(ApiCaller { access, ip })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_forwarded_header_is_read_only_from_trusted_proxies() {
        let trusted = crate::config::parse_proxies("127.0.0.1,10.0.0.0/8").unwrap();
        let peer = Some(ip("127.0.0.1"));
        // A trusted proxy names the client.
        assert_eq!(
            forwarded_client(peer, Some("203.0.113.9"), &trusted),
            Some(ip("203.0.113.9"))
        );
        // What the client wrote itself, left of what our proxies added, is not believed.
        assert_eq!(
            forwarded_client(peer, Some("1.2.3.4, 203.0.113.9, 10.1.1.1"), &trusted),
            Some(ip("203.0.113.9"))
        );
        // From anyone else the header is ignored.
        assert_eq!(
            forwarded_client(Some(ip("198.51.100.7")), Some("203.0.113.9"), &trusted),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            forwarded_client(peer, Some("203.0.113.9"), &[]),
            Some(ip("127.0.0.1"))
        );
        // Garbage stops the walk at the last address believed.
        assert_eq!(
            forwarded_client(peer, Some("unknown"), &trusted),
            Some(ip("127.0.0.1"))
        );
        // An IPv4 peer seen on an IPv6 socket is its IPv4 address.
        assert_eq!(
            forwarded_client(Some(ip("::ffff:127.0.0.1")), Some("203.0.113.9"), &trusted),
            Some(ip("203.0.113.9"))
        );
    }
}
