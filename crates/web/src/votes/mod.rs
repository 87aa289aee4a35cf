//! The online vote's public side (issue 19): the voting page a city opens on its phones
//! (`/tp/{campaign}/{stage}`, a candidate's page, their files), the voter's proof of a phone
//! and their votes (`api.rs`), and the 专业组 expert's ballot page. Nothing a visit reads
//! writes a row: a session is made only when a voter asks for the captcha.

pub mod api;
pub mod ballot;
pub mod pages;
pub mod review;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

use crate::AppState;
use crate::auth::{client_ip, same_origin_headers};
use crate::error::Failure;

/// The voter's session for a campaign (after the SMS code).
pub const VOTER_COOKIE: &str = "px_voter";
/// A first-party random name for this browser: orders a shuffled round for it and is
/// kept, hashed, with each vote for a later review (the page says so).
pub const DEVICE_COOKIE: &str = "px_device";
/// The share link a voter came by, kept with their votes.
pub const SHARE_COOKIE: &str = "px_share";

/// A request from the public's side of the vote: who sent it as far as a review needs.
/// A request that writes must come from our own pages (`Origin`), and the voter's cookie
/// is `SameSite=Lax`, so another site cannot vote in a visitor's name.
pub struct Public {
    pub ip: String,
    pub jar: CookieJar,
    pub user_agent: String,
}

impl Public {
    pub fn cookie(&self, name: &str) -> String {
        self.jar
            .get(name)
            .map(|c| c.value().to_owned())
            .unwrap_or_default()
    }
}

impl FromRequestParts<AppState> for Public {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            same_origin_headers(&parts.headers, &state.config.public_url)?;
        }
        Ok(Public {
            ip: client_ip(parts, state)
                .map(|i| i.to_string())
                .unwrap_or_default(),
            jar: CookieJar::from_headers(&parts.headers),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .chars()
                .take(300)
                .collect(),
        })
    }
}

/// A cookie of the vote's: the whole site, script cannot read it, never sent with another
/// site's request that writes.
pub fn vote_cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    max_age: i64,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(state.config.cookie_secure)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(max_age))
        .build()
}

/// This browser's device name, made on its first visit.
pub fn device_of(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    match jar.get(DEVICE_COOKIE).map(|c| c.value().to_owned()) {
        Some(d) if d.len() == 32 && d.bytes().all(|b| b.is_ascii_hexdigit()) => (jar, d),
        _ => {
            let d = hex32();
            let jar = jar.add(vote_cookie(state, DEVICE_COOKIE, d.clone(), 400 * 86_400));
            (jar, d)
        }
    }
}

fn hex32() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A share code as a link carries it: letters and digits, at most 16 (anything else is
/// not one of ours and is dropped).
pub fn share_code(typed: &str) -> String {
    let t = typed.trim();
    if !t.is_empty() && t.len() <= 16 && t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        t.to_owned()
    } else {
        String::new()
    }
}

/// The voter of this browser for `campaign_id`, if their session is live.
pub async fn voter_of(
    state: &AppState,
    p: &Public,
    campaign_id: &str,
) -> Result<Option<i64>, Failure> {
    let token = p.cookie(VOTER_COOKIE);
    if token.is_empty() {
        return Ok(None);
    }
    Ok(
        pingxuan_app::voters::voter_of(&state.store, campaign_id, &token, pingxuan_store::now())
            .await?,
    )
}

/// The vote handler's times — before the vote reaches the writer (the edge, the voter's
/// session, the round) and in all — logged at debug a second at a time (count, p50, p99,
/// max in µs): the benchmark sets them beside loadgen's to find where a slow vote waited.
pub(crate) fn note_vote_times(before: std::time::Duration, total: std::time::Duration) {
    type Second = (Option<std::time::Instant>, Vec<u64>, Vec<u64>);
    static SECOND: std::sync::Mutex<Second> = std::sync::Mutex::new((None, Vec::new(), Vec::new()));
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let mut second = SECOND.lock().unwrap_or_else(|e| e.into_inner());
    let (began, befores, totals) = &mut *second;
    befores.push(before.as_micros() as u64);
    totals.push(total.as_micros() as u64);
    let began = *began.get_or_insert_with(std::time::Instant::now);
    if began.elapsed() < std::time::Duration::from_secs(1) {
        return;
    }
    let (mut befores, mut totals) = (std::mem::take(befores), std::mem::take(totals));
    second.0 = Some(std::time::Instant::now());
    drop(second);
    let spread = |v: &mut Vec<u64>| {
        v.sort_unstable();
        let at = |q: f64| v[((v.len() - 1) as f64 * q) as usize];
        format!("{} {} {}", at(0.5), at(0.99), v[v.len() - 1])
    };
    tracing::debug!(
        votes = totals.len(),
        before_us = %spread(&mut befores),
        total_us = %spread(&mut totals),
        "vote handler times"
    );
}

/// Counts a request at the edge under `scope` for `key`; past `per_minute`, refused with
/// the wait (before the database is asked anything).
pub(crate) async fn at_edge(
    state: &AppState,
    scope: &str,
    key: &str,
    per_minute: u32,
) -> Result<(), Failure> {
    // Addresses by network where one client holds many (IPv6).
    let key = if scope.ends_with("-ip") {
        address_key(key)
    } else {
        key.to_owned()
    };
    state
        .config
        .edge
        .hit(
            scope,
            &key,
            pingxuan_limits::Rate::per_minute(per_minute),
            pingxuan_store::now(),
        )
        .await
        .map_err(|pingxuan_limits::Wait(s)| {
            Failure::TooMany(format!("操作过于频繁，请 {s} 秒后再试"))
        })
}

/// A receipt looked up by a client, counted at the edge against its address as a vote is:
/// its standing, or `None` — one answer for every receipt that is not the round's (and
/// for all before the freeze), so receipts cannot be probed.
pub(crate) async fn look_up_receipt(
    state: &AppState,
    ip: &str,
    campaign: &str,
    stage: &str,
    code: &str,
) -> Result<Option<pingxuan_app::vote_receipts::ReceiptView>, Failure> {
    receipt_edge(state, ip).await?;
    match pingxuan_app::vote_receipts::receipt_view(&state.ballots, campaign, stage, code).await {
        Ok(r) => Ok(Some(r)),
        Err(pingxuan_app::Error::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A receipt look-up (page, API or proof file) counted at the edge against its address, at
/// the votes' rate: probing receipts costs what voting does.
pub(crate) async fn receipt_edge(state: &AppState, ip: &str) -> Result<(), Failure> {
    at_edge(
        state,
        "receipt-ip",
        ip,
        state.config.edge_rates.votes_per_ip,
    )
    .await
}

/// The key a client address is counted under at the edge: an IPv4 address itself (carrier
/// NAT shares one among many), an IPv6 address by its /64 (one phone holds a whole /64).
pub(crate) fn address_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            pingxuan_app::votes::network_of(ip)
        }
        _ => ip.to_owned(),
    }
}

/// A phone as the edge counts it: its keyed digest, never the number (Redis may keep it).
pub(crate) fn phone_key(state: &AppState, phone: &str) -> String {
    state.store.sealer.lookup(phone)[..20].to_owned()
}
