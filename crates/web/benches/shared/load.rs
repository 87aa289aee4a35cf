//! Requests from 8 concurrent clients, each taking the next as the last is answered:
//! requests/s and p50/p99, the answers but 200 kept. Shared by the benches that put a
//! page beside `/healthz` in the same run.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

pub struct Stats {
    pub per_sec: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub failed: Vec<String>,
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Sends `requests` from 8 clients taking the next one as each is answered.
pub async fn timed(
    base: &str,
    requests: Vec<(Method, String, String, serde_json::Value)>,
) -> Stats {
    let total = requests.len();
    let queue = Arc::new(std::sync::Mutex::new(VecDeque::from(requests)));
    let started = Instant::now();
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let queue = queue.clone();
            let base = base.to_owned();
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut seen = Vec::new();
                let mut failed = Vec::new();
                loop {
                    let next = queue.lock().unwrap().pop_front();
                    let Some((method, path, token, body)) = next else {
                        break;
                    };
                    let mut r = http.request(method, format!("{base}{path}"));
                    if !token.is_empty() {
                        r = r.bearer_auth(token).json(&body);
                    }
                    let t = Instant::now();
                    let answer = r.send().await.unwrap();
                    let status = answer.status();
                    let text = answer.text().await.unwrap_or_default();
                    seen.push(t.elapsed());
                    if status != StatusCode::OK {
                        failed.push(format!(
                            "{status} {}",
                            text.chars().take(160).collect::<String>()
                        ));
                    }
                }
                (seen, failed)
            })
        })
        .collect();
    let mut times = Vec::with_capacity(total);
    let mut failed = Vec::new();
    for c in clients {
        let (t, f) = c.await.unwrap();
        times.extend(t);
        failed.extend(f);
    }
    let elapsed = started.elapsed();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    Stats {
        per_sec: total as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        failed,
    }
}
