//! `pingxuan loadgen`: load on the online vote, for the benchmarks and the kill test. It
//! proves its voters' phones with the codes the `console` SMS provider writes (the server
//! runs with `--captcha off --sms-file F`), then votes at a set rate or flat out at one or
//! more servers, with bounded concurrency, for a time or a number of requests; each voter
//! sends from an address of its own through `X-Forwarded-For` (the server trusts loopback
//! as its proxy). Every acknowledged receipt is written down, latencies go into an HDR
//! histogram. `loadgen check` then confirms each receipt is stored. Only loopback targets
//! are accepted: this is a tool for this machine, never for someone else's server.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use hdrhistogram::Histogram;

use crate::config::Common;

#[derive(Args, Clone, Debug)]
pub struct RunArgs {
    /// 目标服务器（可多个，逗号分隔；只允许本机回环地址） / servers, loopback only
    #[arg(long, value_delimiter = ',', required = true)]
    pub targets: Vec<String>,
    /// 活动标识 / campaign id
    #[arg(long, default_value = "dongguan-2023")]
    pub campaign: String,
    /// 投票阶段标识 / the vote stage's key
    #[arg(long, default_value = "online_vote")]
    pub stage: String,
    /// 服务器 console 短信写入的文件（服务器的 --sms-file） / the servers' --sms-file
    #[arg(long)]
    pub sms_file: Option<PathBuf>,
    /// 先验证手机号的投票人数 / voters to prove first
    #[arg(long, default_value_t = 200)]
    pub voters: usize,
    /// 每秒请求数；0 为不限速（尽快发送） / requests a second; 0 = flat out
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// 同时在途的请求数上限 / requests in flight at most
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// 持续秒数 / seconds to run
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// 最多发送的请求数（0 为不限） / requests at most (0 = no limit)
    #[arg(long, default_value_t = 0)]
    pub requests: u64,
    /// 输出目录：receipts.txt、latency.hgrm、summary.json / where results go
    #[arg(long)]
    pub out: PathBuf,
    /// 只请求 GET /healthz（同一台服务器的对照基准），不验证、不投票 / load /healthz instead
    #[arg(long, default_value_t = false)]
    pub healthz: bool,
}

#[derive(Args, Clone, Debug)]
pub struct CheckArgs {
    /// `loadgen run` 写下的回执文件 / the receipts file `run` wrote
    #[arg(long)]
    pub receipts: PathBuf,
}

/// Refuses any target that is not this machine.
fn loopback(target: &str) -> anyhow::Result<String> {
    let url = reqwest::Url::parse(target).with_context(|| format!("目标地址无效：{target}"))?;
    let host = url.host_str().unwrap_or("");
    let ok = host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !ok || !matches!(url.scheme(), "http" | "https") {
        bail!("只允许压测本机回环地址（127.0.0.1、::1、localhost），拒绝 {target}");
    }
    Ok(target.trim_end_matches('/').to_owned())
}

/// A voter the generator proved: where it sends from and its session cookie.
#[derive(Clone)]
struct Voter {
    target: usize,
    address: String,
    cookie: String,
}

/// The address a synthetic voter sends from: spread over 100.64.0.0/10 (carrier NAT's
/// range), a /24 shared by 200 voters or so.
fn address_of(i: u64) -> String {
    format!("100.{}.{}.{}", 64 + (i >> 16) % 64, (i >> 8) & 255, i & 255)
}

/// Codes the servers' console provider wrote, read as they come.
struct Codes {
    path: PathBuf,
    seen: Mutex<(u64, HashMap<String, String>)>,
}

impl Codes {
    fn read(&self) -> anyhow::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let mut g = self.seen.lock().unwrap();
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return Ok(());
        };
        f.seek(SeekFrom::Start(g.0))?;
        let mut text = String::new();
        f.read_to_string(&mut text)?;
        // Only whole lines; a line being written is read next time.
        let whole = text.rfind('\n').map_or(0, |i| i + 1);
        for line in text[..whole].lines() {
            let mut parts = line.split('\t');
            if let (Some(p), Some(c)) = (parts.next(), parts.next()) {
                g.1.insert(p.to_owned(), c.to_owned());
            }
        }
        g.0 += whole as u64;
        Ok(())
    }

    async fn wait(&self, phone: &str) -> anyhow::Result<String> {
        for _ in 0..200 {
            self.read()?;
            if let Some(c) = self.seen.lock().unwrap().1.get(phone) {
                return Ok(c.clone());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        bail!(
            "5 秒内没有在 {} 中读到 {phone} 的验证码",
            self.path.display()
        )
    }
}

async fn prove(
    http: &reqwest::Client,
    targets: &[String],
    args: &RunArgs,
    codes: &Codes,
    i: u64,
    base: u64,
) -> anyhow::Result<Voter> {
    let n = base + i;
    let phone = format!("199{:08}", n % 100_000_000);
    let address = address_of(n);
    let target = (i as usize) % targets.len();
    let url = &targets[target];
    let post = |path: String, body: serde_json::Value| {
        http.post(format!("{url}/api/v1/votes/{}/{path}", args.campaign))
            .header("x-forwarded-for", &address)
            .header("origin", url)
            .json(&body)
            .send()
    };
    let r = post("codes".to_owned(), serde_json::json!({ "phone": phone })).await?;
    if !r.status().is_success() {
        bail!("验证码请求被拒（{}）：{}", r.status(), r.text().await?);
    }
    let code = codes.wait(&phone).await?;
    let r = post(
        "session".to_owned(),
        serde_json::json!({ "phone": phone, "code": code }),
    )
    .await?;
    if !r.status().is_success() {
        bail!("验证码核对失败（{}）：{}", r.status(), r.text().await?);
    }
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("px_voter="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .context("服务器没有设置 px_voter")?;
    Ok(Voter {
        target,
        address,
        cookie: format!("px_voter={cookie}"),
    })
}

/// What one run measured.
#[derive(Default)]
struct Tally {
    latencies: Option<Histogram<u64>>,
    acknowledged: u64,
    errors: HashMap<String, u64>,
    receipts: Vec<(String, u64)>,
    /// Second by second of the run (by when each request was due): where a stall was.
    timeline: Vec<Second>,
}

/// One second of a run.
#[derive(Default, Clone, Copy)]
struct Second {
    acknowledged: u64,
    errors: u64,
    /// Acknowledged over 50 ms after they were due (the vote's p99 target).
    slow: u64,
    max_micros: u64,
    /// Sent over 10 ms after they were due (every slot busy, or the generator short of CPU).
    late: u64,
}

/// What every request of a run shares.
struct Load {
    /// When the run's first request was due.
    began: Instant,
    http: reqwest::Client,
    targets: Vec<String>,
    args: RunArgs,
    voters: Vec<Voter>,
    run_id: u64,
    candidates: u64,
    tally: Mutex<Tally>,
}

/// Request number `seq` of the run, due at `due`, measured from then (a request the
/// generator sends late still counts its wait) and tallied.
async fn one(load: &Load, seq: u64, due: Instant, late: bool) {
    let Load {
        began,
        http,
        targets,
        args,
        voters,
        run_id,
        candidates,
        tally,
    } = load;
    let (run_id, candidates) = (*run_id, *candidates);
    let started = due;
    let (outcome, receipt) = if args.healthz {
        let url = &targets[(seq as usize) % targets.len()];
        match http.get(format!("{url}/healthz")).send().await {
            Ok(r) if r.status().is_success() => {
                let _ = r.bytes().await;
                (Ok(()), None)
            }
            Ok(r) => (Err(format!("HTTP {}", r.status().as_u16())), None),
            Err(e) => (Err(kind_of(&e)), None),
        }
    } else {
        let v = &voters[(seq as usize) % voters.len()];
        let url = &targets[v.target];
        // Candidates in turn, offset per voter, so the load is spread over the round.
        let candidate = (seq / voters.len() as u64 + seq) % candidates + 1;
        let sent = http
            .post(format!(
                "{url}/api/v1/votes/{}/rounds/{}/votes",
                args.campaign, args.stage
            ))
            .header("cookie", &v.cookie)
            .header("x-forwarded-for", &v.address)
            .header("origin", url)
            .json(&serde_json::json!({
                "candidate": candidate,
                "idempotency_key": format!("lg-{run_id}-{seq}"),
            }))
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => match r.json::<serde_json::Value>().await {
                Ok(j) => match j["receipt"].as_str() {
                    Some(code) => (Ok(()), Some((code.to_owned(), candidate))),
                    None => (Err("no receipt".to_owned()), None),
                },
                Err(e) => (Err(kind_of(&e)), None),
            },
            Ok(r) => {
                let status = r.status().as_u16();
                let code = r
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|j| j["error"]["code"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                (Err(format!("HTTP {status} {code}")), None)
            }
            Err(e) => (Err(kind_of(&e)), None),
        }
    };
    let micros = started.elapsed().as_micros() as u64;
    let mut t = tally.lock().unwrap();
    let at = due.saturating_duration_since(*began).as_secs() as usize;
    if t.timeline.len() <= at {
        t.timeline.resize(at + 1, Second::default());
    }
    let second = &mut t.timeline[at];
    second.late += u64::from(late);
    match &outcome {
        Ok(()) => {
            second.acknowledged += 1;
            second.slow += u64::from(micros > 50_000);
            second.max_micros = second.max_micros.max(micros);
        }
        Err(_) => second.errors += 1,
    }
    match outcome {
        Ok(()) => {
            t.acknowledged += 1;
            if let Some(h) = t.latencies.as_mut() {
                // A latency past the histogram's top (2 min) counts as its top, not nothing.
                h.saturating_record(micros.max(1));
            }
            if let Some(r) = receipt {
                t.receipts.push(r);
            }
        }
        Err(kind) => *t.errors.entry(kind).or_default() += 1,
    }
}

fn kind_of(e: &reqwest::Error) -> String {
    if e.is_connect() {
        "connection refused".to_owned()
    } else if e.is_timeout() {
        "timeout".to_owned()
    } else {
        format!("transport: {e}")
    }
}

/// A request sent this long after it was due is counted late (every slot was busy, or
/// the generator itself was short of CPU); the timer's own slack is a millisecond.
const LATE: Duration = Duration::from_millis(10);

/// `loadgen run`.
pub async fn run(args: RunArgs) -> anyhow::Result<bool> {
    let targets: Vec<String> = args
        .targets
        .iter()
        .map(|t| loopback(t))
        .collect::<anyhow::Result<_>>()?;
    if !args.rate.is_finite() || args.rate < 0.0 || (args.rate > 0.0 && args.rate < 0.01) {
        bail!("--rate 应为 0（不限速）或 0.01 到有限值之间的每秒请求数");
    }
    if args.concurrency == 0 {
        bail!("--concurrency 至少为 1");
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("创建输出目录 {}", args.out.display()))?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .build()?;
    let run_id: u64 = rand::random::<u64>() % 1_000_000_000;

    let (voters, candidates) = if args.healthz {
        (Vec::new(), 1)
    } else {
        let round: serde_json::Value = http
            .get(format!(
                "{}/api/v1/votes/{}/rounds/{}",
                targets[0], args.campaign, args.stage
            ))
            .send()
            .await?
            .json()
            .await?;
        let candidates = round["candidates"].as_array().map_or(0, Vec::len) as u64;
        if candidates == 0 || round["taking"] != true {
            bail!("这一轮投票没有在进行：{round}");
        }
        let sms = args
            .sms_file
            .clone()
            .context("投票压测需要 --sms-file（服务器 console 短信写入的文件）")?;
        let codes = Arc::new(Codes {
            path: sms,
            seen: Mutex::new((0, HashMap::new())),
        });
        let base: u64 = rand::random::<u64>() % 90_000_000;
        let started = Instant::now();
        let proven = Arc::new(Mutex::new(Vec::new()));
        let next = Arc::new(AtomicU64::new(0));
        let workers: Vec<_> = (0..args.concurrency.min(16))
            .map(|_| {
                let (http, targets, args, codes, proven, next) = (
                    http.clone(),
                    targets.clone(),
                    args.clone(),
                    codes.clone(),
                    proven.clone(),
                    next.clone(),
                );
                tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= args.voters as u64 {
                            return Ok::<(), anyhow::Error>(());
                        }
                        let v = prove(&http, &targets, &args, &codes, i, base).await?;
                        proven.lock().unwrap().push(v);
                    }
                })
            })
            .collect();
        for w in workers {
            w.await??;
        }
        let voters = proven.lock().unwrap().clone();
        eprintln!(
            "{} 位投票人已验证（{:.1} 秒），候选人 {candidates} 位",
            voters.len(),
            started.elapsed().as_secs_f64()
        );
        (voters, candidates)
    };

    let started = Instant::now();
    let load = Arc::new(Load {
        began: started,
        http,
        targets,
        args: args.clone(),
        voters,
        run_id,
        candidates,
        tally: Mutex::new(Tally {
            latencies: Some(Histogram::new_with_bounds(1, 120_000_000, 3)?),
            ..Default::default()
        }),
    });
    let deadline = started + Duration::from_secs_f64(args.duration.max(0.1));
    let budget = if args.requests == 0 {
        u64::MAX
    } else {
        args.requests
    };
    let sent = Arc::new(AtomicU64::new(0));
    let mut late = 0u64;
    if args.rate > 0.0 {
        // Open loop (as wrk2 does): request n is due at n/rate s from the start whether or
        // not the earlier ones came back, and its latency counts from then — a stall's
        // queue shows in the percentiles instead of being left out (coordinated omission).
        // At most `concurrency` in flight: one due while every slot is busy waits for a
        // slot, still timed from when it was due, and is counted late.
        let slots = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        // Requests still waiting for a slot this long past the end are not sent: a target
        // that hangs would otherwise hold the run for hours. They fail the run.
        let cutoff = deadline + Duration::from_secs(30);
        let mut unsent = 0u64;
        for seq in 0..budget {
            let due = started + Duration::from_secs_f64(seq as f64 / args.rate);
            if due >= deadline {
                break;
            }
            if Instant::now() >= cutoff {
                unsent += 1;
                continue;
            }
            if due > Instant::now() {
                tokio::time::sleep_until(due.into()).await;
            }
            let permit = slots.clone().acquire_owned().await?;
            let was_late = due.elapsed() > LATE;
            late += u64::from(was_late);
            sent.fetch_add(1, Ordering::Relaxed);
            let load = load.clone();
            tasks.spawn(async move {
                one(&load, seq, due, was_late).await;
                drop(permit);
            });
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
        if unsent > 0 {
            *load
                .tally
                .lock()
                .unwrap()
                .errors
                .entry("not sent: the run's end passed".to_owned())
                .or_default() += unsent;
        }
    } else {
        let workers: Vec<_> = (0..args.concurrency)
            .map(|_| {
                let (load, sent) = (load.clone(), sent.clone());
                tokio::spawn(async move {
                    while Instant::now() < deadline {
                        let seq = sent.fetch_add(1, Ordering::Relaxed);
                        if seq >= budget {
                            break;
                        }
                        one(&load, seq, Instant::now(), false).await;
                    }
                })
            })
            .collect();
        for w in workers {
            w.await?;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let t = std::mem::take(&mut *load.tally.lock().unwrap());
    write_out(&args, &t, seconds, late)?;
    // Late requests are in the latencies already; only a failed one fails the run.
    Ok(t.errors.is_empty())
}

fn write_out(args: &RunArgs, t: &Tally, seconds: f64, late: u64) -> anyhow::Result<()> {
    use std::io::Write;
    let h = t.latencies.as_ref().context("no histogram")?;
    let q = |p: f64| h.value_at_quantile(p) as f64 / 1000.0;
    let mut f = std::io::BufWriter::new(std::fs::File::create(args.out.join("latency.hgrm"))?);
    writeln!(
        f,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value(ms)", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    let mut total = 0u64;
    for v in h.iter_quantiles(2) {
        total += v.count_since_last_iteration();
        let p = v.quantile_iterated_to();
        let inverse = if p < 1.0 {
            1.0 / (1.0 - p)
        } else {
            f64::INFINITY
        };
        writeln!(
            f,
            "{:>12.3} {:>14.12} {:>10} {:>14.2}",
            v.value_iterated_to() as f64 / 1000.0,
            p,
            total,
            inverse
        )?;
    }
    writeln!(
        f,
        "#[Mean = {:.3}, StdDeviation = {:.3}]\n#[Max = {:.3}, Total count = {}]",
        h.mean() / 1000.0,
        h.stdev() / 1000.0,
        h.max() as f64 / 1000.0,
        h.len()
    )?;
    f.flush()?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(args.out.join("timeline.tsv"))?);
    // Each second also by the wall clock, to set beside a server's log.
    let first = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
        - seconds)
        .round() as u64;
    writeln!(
        f,
        "second\tacknowledged\terrors\tover_50ms\tmax_ms\tlate\tunix"
    )?;
    for (i, s) in t.timeline.iter().enumerate() {
        writeln!(
            f,
            "{i}\t{}\t{}\t{}\t{:.1}\t{}\t{}",
            s.acknowledged,
            s.errors,
            s.slow,
            s.max_micros as f64 / 1000.0,
            s.late,
            first + i as u64
        )?;
    }
    f.flush()?;
    if !args.healthz {
        let mut r = std::io::BufWriter::new(std::fs::File::create(args.out.join("receipts.txt"))?);
        for (code, candidate) in &t.receipts {
            writeln!(r, "{code}\t{candidate}")?;
        }
        r.flush()?;
    }
    let per_sec = t.acknowledged as f64 / seconds;
    let summary = serde_json::json!({
        "what": if args.healthz { "healthz" } else { "votes" },
        "targets": args.targets,
        "rate": args.rate,
        "concurrency": args.concurrency,
        "seconds": seconds,
        "acknowledged": t.acknowledged,
        "per_second": per_sec,
        // Sent over 10 ms after they were due (timed from when they were due).
        "late": late,
        "errors": t.errors,
        "p50_ms": q(0.5),
        "p90_ms": q(0.9),
        "p99_ms": q(0.99),
        "p999_ms": q(0.999),
        "max_ms": h.max() as f64 / 1000.0,
    });
    std::fs::write(
        args.out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    println!(
        "{}：{} 个成功，{:.0}/s，p50 {:.2} ms，p99 {:.2} ms，最大 {:.2} ms，错误 {:?}，迟发 {late}",
        if args.healthz { "/healthz" } else { "投票" },
        t.acknowledged,
        per_sec,
        q(0.5),
        q(0.99),
        h.max() as f64 / 1000.0,
        t.errors
    );
    Ok(())
}

/// `loadgen check`: every acknowledged receipt is stored.
pub async fn check(common: &Common, args: &CheckArgs) -> anyhow::Result<bool> {
    let store = common.store().await?;
    let text = std::fs::read_to_string(&args.receipts)
        .with_context(|| format!("读取 {}", args.receipts.display()))?;
    let (mut found, mut missing) = (0u64, Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let receipt = line.split('\t').next().unwrap_or("");
        match store.vote_by_receipt(receipt).await? {
            Some(_) => found += 1,
            None => missing.push(receipt.to_owned()),
        }
    }
    println!(
        "回执 {} 个：已存储 {found} 个，缺失 {} 个",
        found + missing.len() as u64,
        missing.len()
    );
    for m in missing.iter().take(20) {
        println!("缺失：{m}");
    }
    Ok(missing.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_is_a_target() {
        assert!(loopback("http://127.0.0.1:8080").is_ok());
        assert!(loopback("http://[::1]:8080/").is_ok());
        assert!(loopback("http://localhost:8080").is_ok());
        assert!(loopback("http://example.com").is_err());
        assert!(loopback("http://10.0.0.1:8080").is_err());
        assert!(loopback("ftp://127.0.0.1").is_err());
    }

    /// A loopback server answering `/healthz` that holds every request it gets in the
    /// `stall` after the first one until then, and answers the rest at once.
    async fn stalling(stall: Duration) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let first = Arc::new(std::sync::OnceLock::<Instant>::new());
        tokio::spawn(async move {
            loop {
                let (mut conn, _) = listener.accept().await.unwrap();
                let first = first.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    let mut buf = [0u8; 1024];
                    loop {
                        let Ok(n) = conn.read(&mut buf).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        got.extend_from_slice(&buf[..n]);
                        // Keep-alive: one answer per whole request head.
                        while let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                            got.drain(..end + 4);
                            let until = *first.get_or_init(Instant::now) + stall;
                            tokio::time::sleep_until(until.into()).await;
                            let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                            if conn.write_all(ok).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        url
    }

    #[tokio::test]
    async fn a_stall_is_timed_from_when_each_request_was_due() {
        // 100 requests a second for 2 s, 4 in flight at most; the server holds the first
        // 500 ms from the first request. The ~46 requests due meanwhile wait for a slot: they are sent late, and
        // timed from when they were due, so the stall shows — but only in them: the ~150
        // due after it are answered at once. (Timing from a clock that slipped with each
        // late request would have added the stall to every later one.)
        let url = stalling(Duration::from_millis(500)).await;
        let out = tempfile::tempdir().unwrap();
        let args = RunArgs {
            targets: vec![url],
            campaign: String::new(),
            stage: String::new(),
            sms_file: None,
            voters: 0,
            rate: 100.0,
            concurrency: 4,
            duration: 2.0,
            requests: 0,
            out: out.path().to_path_buf(),
            healthz: true,
        };
        assert!(run(args).await.unwrap());
        let s: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.path().join("summary.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(s["acknowledged"], 200, "every due request is sent: {s}");
        let late = s["late"].as_u64().unwrap();
        assert!((30..=120).contains(&late), "late {late}: {s}");
        assert!(
            s["max_ms"].as_f64().unwrap() >= 400.0,
            "the stall shows: {s}"
        );
        assert!(
            s["p50_ms"].as_f64().unwrap() < 50.0,
            "and only in its requests: {s}"
        );
        assert!(
            s["p90_ms"].as_f64().unwrap() >= 50.0,
            "the queued tenth: {s}"
        );
        // Second by second: the stall in the first, none in the second.
        let timeline = std::fs::read_to_string(out.path().join("timeline.tsv")).unwrap();
        let rows: Vec<Vec<f64>> = timeline
            .lines()
            .skip(1)
            .map(|l| l.split('\t').map(|v| v.parse().unwrap()).collect())
            .collect();
        assert_eq!(rows.len(), 2, "{timeline}");
        assert_eq!(rows[0][1] + rows[1][1], 200.0, "{timeline}");
        assert!(rows[0][3] >= 30.0 && rows[0][4] >= 400.0, "{timeline}");
        assert!(rows[1][3] <= 5.0 && rows[1][4] < 400.0, "{timeline}");
        // The late ones by the second they were due, and the seconds by the wall clock.
        assert_eq!(rows[0][5] + rows[1][5], late as f64, "{timeline}");
        assert_eq!(rows[1][6] - rows[0][6], 1.0, "{timeline}");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!((now - rows[0][6]).abs() < 10.0, "{timeline}");
    }

    #[tokio::test]
    async fn a_rate_that_cannot_be_kept_is_refused() {
        let out = tempfile::tempdir().unwrap();
        for rate in [f64::INFINITY, f64::NAN, -1.0, 1e-20] {
            let args = RunArgs {
                targets: vec!["http://127.0.0.1:9".to_owned()],
                campaign: String::new(),
                stage: String::new(),
                sms_file: None,
                voters: 0,
                rate,
                concurrency: 4,
                duration: 1.0,
                requests: 0,
                out: out.path().to_path_buf(),
                healthz: true,
            };
            let e = run(args).await.expect_err("refused");
            assert!(e.to_string().contains("--rate"), "{rate}: {e}");
        }
    }

    #[test]
    fn voters_spread_over_carrier_addresses() {
        assert_eq!(address_of(0), "100.64.0.0");
        assert_eq!(address_of(258), "100.64.1.2");
        assert_ne!(address_of(70_000), address_of(4_464));
    }
}
