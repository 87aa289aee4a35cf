//! Request rates at the edge (issue 19): how many requests one client address, one phone
//! or one voter may send in a window, before anything reaches the database. The rules a
//! vote must keep (one vote a day …) are the database's; these only keep a flood off it.
//!
//! Fixed windows: a count per key per window (a minute), refused past the limit until the
//! window turns. Kept in memory for one server, or in Redis so every server behind the
//! proxy counts together. The same arithmetic either way, so a test of one is a test of
//! both. When Redis cannot be reached the request is let through (and logged): the limits
//! protect the service, they are not the vote's rules, and voting must not stop with Redis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A limit: at most `limit` requests in each window of `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub limit: u32,
    pub window_secs: u32,
}

impl Rate {
    pub const fn per_minute(limit: u32) -> Rate {
        Rate {
            limit,
            window_secs: 60,
        }
    }
}

/// Refused: the seconds until the window turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait(pub u32);

/// Where the counts are kept. Cheap to clone; one per server.
#[derive(Clone)]
pub struct Limiter {
    backend: Arc<Backend>,
    /// Names this installation's keys in a Redis other installations may share.
    prefix: String,
}

enum Backend {
    /// Counts per window: (window, its counts); an older window is dropped whole.
    Memory(Mutex<(i64, HashMap<String, u32>)>),
    Redis {
        manager: redis::aio::ConnectionManager,
        /// After Redis fails, it is left alone until then (Unix ms): a Redis that hangs
        /// must not add its timeout to every vote.
        resting_until: std::sync::atomic::AtomicI64,
    },
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match *self.backend {
            Backend::Memory(_) => "Limiter(memory)",
            Backend::Redis { .. } => "Limiter(redis)",
        })
    }
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter::memory()
    }
}

/// Counts one request and expires the window's key with it, atomically on the server.
const COUNT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
";

/// How long Redis may take to answer, and how long it is left alone after it did not.
const ANSWER_MS: u64 = 50;
const REST_MS: i64 = 5_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Limiter {
    /// Counts in this process: right for one server.
    pub fn memory() -> Limiter {
        Limiter {
            backend: Arc::new(Backend::Memory(Mutex::new((i64::MIN, HashMap::new())))),
            prefix: String::new(),
        }
    }

    /// Counts in Redis at `url` (`redis://127.0.0.1:6379`), shared by every server; the
    /// server does not start when Redis does not answer then.
    pub async fn redis(url: &str) -> Result<Limiter, String> {
        let client = redis::Client::open(url).map_err(|e| format!("Redis 地址 {url} 无效：{e}"))?;
        // A slow Redis must not slow the vote: a short answer time, then let through.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_connection_timeout(std::time::Duration::from_secs(2))
            .set_response_timeout(std::time::Duration::from_millis(ANSWER_MS));
        let mut manager = redis::aio::ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| format!("无法连接 Redis（{url}）：{e}"))?;
        let _: String = redis::cmd("PING")
            .query_async(&mut manager)
            .await
            .map_err(|e| format!("Redis（{url}）没有应答：{e}"))?;
        Ok(Limiter {
            backend: Arc::new(Backend::Redis {
                manager,
                resting_until: std::sync::atomic::AtomicI64::new(0),
            }),
            prefix: String::new(),
        })
    }

    /// Keys under `prefix`: the servers of one installation (one database, one key) count
    /// together, another installation on the same Redis apart.
    pub fn with_prefix(mut self, prefix: &str) -> Limiter {
        self.prefix = prefix.to_owned();
        self
    }

    pub fn is_shared(&self) -> bool {
        matches!(*self.backend, Backend::Redis { .. })
    }

    /// Counts a request of `key` under `scope` (`vote-ip`, `code-phone` …) at `now` (Unix
    /// seconds): refused with the wait when the window's count is past the limit.
    pub async fn hit(&self, scope: &str, key: &str, rate: Rate, now: i64) -> Result<(), Wait> {
        let window = rate.window_secs.max(1) as i64;
        let slot = now.div_euclid(window);
        let wait = Wait((window - now.rem_euclid(window)) as u32);
        let name = format!("px:{}:rate:{scope}:{window}:{slot}:{key}", self.prefix);
        let n = match &*self.backend {
            Backend::Memory(counts) => {
                let mut counts = counts.lock().unwrap_or_else(|e| e.into_inner());
                // Windows of different lengths share the map; the newest slot start
                // keeps it, older ones go whole (no scan of the keys).
                let start = slot * window;
                if start > counts.0 {
                    counts
                        .1
                        .retain(|k, _| k.contains(&format!(":{window}:{slot}:")));
                    counts.0 = start;
                }
                let n = counts.1.entry(name).or_insert(0);
                *n = n.saturating_add(1);
                *n
            }
            Backend::Redis {
                manager,
                resting_until,
            } => {
                use std::sync::atomic::Ordering;
                if now_ms() < resting_until.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let mut c = manager.clone();
                match redis::Script::new(COUNT)
                    .key(&name)
                    .arg(window + 1)
                    .invoke_async::<u32>(&mut c)
                    .await
                {
                    Ok(n) => n,
                    Err(e) => {
                        resting_until.store(now_ms() + REST_MS, Ordering::Relaxed);
                        tracing::warn!(error = %e, "Redis unavailable: requests let through unlimited for 5 s");
                        return Ok(());
                    }
                }
            }
        };
        if n > rate.limit { Err(wait) } else { Ok(()) }
    }
}
