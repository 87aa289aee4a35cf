//! Signals of 刷票 (issue 20), computed off the vote path over what each vote keeps: its
//! time, its voter, its client network (/24, IPv6 /64), its hashed device cookie and, for
//! the public, the voter's phone. Each signal gathers votes into clusters with the evidence
//! in words a secretary reads; a flagged vote still counts until the office decides, and
//! the office decides cluster by cluster.
//!
//! - **Burst**: one network, or one address, casting more in a minute than ordinary use
//!   reaches.
//! - **Device**: one browser (its first-party cookie, hashed) used by many phones; or one
//!   set of browser traits (screen, time zone, language…, hashed with the user agent) on
//!   one network used by many — the same phone with its cookie cleared.
//! - **Hour**: an hour of a day far above what the round's own profile expects of it; the
//!   votes of phones that voted in that hour alone.
//! - **Run**: phones with consecutive numbers voting (bought in a block).
//! - **Prefix**: phones in a 号段 the campaign lists (virtual carriers, IoT numbers).
//! - **Metronome**: votes from one network or device at intervals too regular for people.
//!
//! Linear or `n log n` in the votes: a million in well under the 30 s the issue allows.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::publicity::beijing_day;

/// One vote as the signals read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vote {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// The voter (one per phone, or an expert).
    pub voter: i64,
    /// The client's /24 (IPv6 /64); empty when unknown. Shared: most repeat, and a
    /// round's million votes are kept between scans (`Store::vote_facts`).
    pub net: Arc<str>,
    /// The client's address; empty when unknown.
    pub ip: Arc<str>,
    /// The hashed first-party device cookie; empty when the browser kept none.
    pub device: Arc<str>,
    /// The hashed browser traits with the user agent; empty when the page sent none.
    pub traits: Arc<str>,
    /// The voter's phone, 11 digits as a number; `None` for experts.
    pub phone: Option<u64>,
}

pub use crate::campaign::SignalThresholds as Thresholds;

/// What a cluster was found by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    Burst,
    Device,
    Hour,
    Run,
    Prefix,
    Metronome,
}

impl Signal {
    pub fn key(self) -> &'static str {
        match self {
            Signal::Burst => "burst",
            Signal::Device => "device",
            Signal::Hour => "hour",
            Signal::Run => "run",
            Signal::Prefix => "prefix",
            Signal::Metronome => "metronome",
        }
    }

    /// The signal's name on the review page.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Burst => "同一网段集中投票",
            Signal::Device => "同一设备多个手机号",
            Signal::Hour => "异常时段激增",
            Signal::Run => "连号手机号",
            Signal::Prefix => "可疑号段",
            Signal::Metronome => "机械等间隔投票",
        }
    }
}

/// Votes one signal gathers, with the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub signal: Signal,
    /// Stable for the same finding: the signal, what it grouped by and where it began.
    pub key: String,
    /// Ids, ascending.
    pub votes: Vec<i64>,
    pub evidence: String,
}

/// Every cluster the thresholds find, in the order of the signals, then of their keys.
pub fn find(votes: &[Vote], t: &Thresholds) -> Vec<Cluster> {
    find_paced(votes, t, &mut || {})
}

/// One signal's pass over the votes.
type Pass = fn(&[Vote], &Thresholds) -> Vec<Cluster>;

/// [`find`], calling `between` after each signal's pass over the votes (a second of CPU
/// each over a million): the caller may rest there, so a scan beside a running vote
/// leaves the machine's CPU to the votes' requests part of the time. Not inside the
/// passes: resting every ~65,000 votes handled (slices of ~10 ms) hurt the vote more at
/// 80% of its peak — seconds with every vote over 50 ms, and the flat-out vote beside the
/// scan 26% slower instead of 11%.
pub fn find_paced(votes: &[Vote], t: &Thresholds, between: &mut dyn FnMut()) -> Vec<Cluster> {
    let passes: [Pass; 6] = [bursts, devices, surges, runs, prefixes, metronomes];
    let mut out = Vec::new();
    for (i, pass) in passes.iter().enumerate() {
        if i > 0 {
            between();
        }
        out.extend(pass(votes, t));
    }
    for c in &mut out {
        c.votes.sort_unstable();
        c.votes.dedup();
    }
    out
}

/// Votes by a key, each list in time order (then id).
fn grouped<'a>(
    votes: &'a [Vote],
    key: impl Fn(&'a Vote) -> &'a str,
) -> BTreeMap<&'a str, Vec<&'a Vote>> {
    let mut by: BTreeMap<&str, Vec<&Vote>> = BTreeMap::new();
    for v in votes {
        let k = key(v);
        if !k.is_empty() {
            by.entry(k).or_default().push(v);
        }
    }
    for list in by.values_mut() {
        list.sort_by_key(|v| (v.at, v.id));
    }
    by
}

/// “12月3日 14:05:10”, Beijing time.
fn clock(unix: i64) -> String {
    let day = beijing_day(unix);
    let s = (unix + 8 * 3600).rem_euclid(86_400);
    format!(
        "{}月{}日 {:02}:{:02}:{:02}",
        u8::from(day.month()),
        day.day(),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

fn bursts(votes: &[Vote], t: &Thresholds) -> Vec<Cluster> {
    let mut out = burst_by(votes, t, "网段", t.burst_votes, |v| &*v.net);
    // An address's burst inside its network's says nothing more: only those apart.
    let seen: HashSet<i64> = out.iter().flat_map(|c| c.votes.iter().copied()).collect();
    out.extend(
        burst_by(votes, t, "地址", t.address_votes, |v| &*v.ip)
            .into_iter()
            .filter(|c| c.votes.iter().any(|id| !seen.contains(id))),
    );
    out
}

/// Bursts of votes sharing `key` (a network, an address): every vote inside a window of
/// `burst_seconds` holding `least` or more.
fn burst_by<'a>(
    votes: &'a [Vote],
    t: &Thresholds,
    what: &str,
    least: usize,
    key: impl Fn(&'a Vote) -> &'a str,
) -> Vec<Cluster> {
    let mut out = Vec::new();
    // A window under a second, or a burst of one, would flag everything.
    let (seconds, least) = (t.burst_seconds.max(1), least.max(2));
    for (source, list) in grouped(votes, key) {
        if list.len() < least {
            continue;
        }
        let mut marked = vec![false; list.len()];
        let mut lo = 0;
        for hi in 0..list.len() {
            while list[hi].at - list[lo].at >= seconds {
                lo += 1;
            }
            if hi - lo + 1 >= least {
                marked[lo..=hi].iter_mut().for_each(|m| *m = true);
            }
        }
        for run in runs_of(&marked) {
            let part = &list[run];
            let (from, to) = (part[0].at, part[part.len() - 1].at);
            out.push(Cluster {
                signal: Signal::Burst,
                key: format!("burst:{source}@{from}"),
                votes: part.iter().map(|v| v.id).collect(),
                evidence: format!(
                    "{what} {source} 在 {} 至 {} 的 {} 秒内投出 {} 票（阈值：{} 秒内 {} 票）",
                    clock(from),
                    clock(to),
                    to - from + 1,
                    part.len(),
                    t.burst_seconds,
                    least
                ),
            });
        }
    }
    out
}

/// The index ranges of consecutive `true`s.
fn runs_of(marked: &[bool]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &m) in marked.iter().chain([&false]).enumerate() {
        match (m, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn devices(votes: &[Vote], t: &Thresholds) -> Vec<Cluster> {
    let mut out = Vec::new();
    for (device, list) in grouped(votes, |v| &*v.device) {
        let phones: HashSet<i64> = list.iter().map(|v| v.voter).collect();
        if phones.len() < t.device_phones.max(2) {
            continue;
        }
        out.push(Cluster {
            signal: Signal::Device,
            key: format!("device:{device}"),
            votes: list.iter().map(|v| v.id).collect(),
            evidence: format!(
                "同一设备（浏览器标识摘要 {}…）被 {} 个手机号用于投票，共 {} 票，自 {} 至 {}（阈值：{} 个手机号）",
                &device[..device.len().min(8)],
                phones.len(),
                list.len(),
                clock(list[0].at),
                clock(list[list.len() - 1].at),
                t.device_phones
            ),
        });
    }
    // The same traits on the same network: a browser whose cookie is cleared between
    // phones. Many people share a model, so a campus or an office behind one address has
    // dozens alike: only traits held by most of their network's phones count — a crowd of
    // one model among many others is people. Only what the cookie did not already find.
    let seen: HashSet<i64> = out.iter().flat_map(|c| c.votes.iter().copied()).collect();
    let mut by: BTreeMap<(&str, &str), Vec<&Vote>> = BTreeMap::new();
    let mut on_net: HashMap<&str, HashSet<i64>> = HashMap::new();
    for v in votes.iter().filter(|v| !v.net.is_empty()) {
        on_net.entry(&*v.net).or_default().insert(v.voter);
        if !v.traits.is_empty() {
            by.entry((&*v.traits, &*v.net)).or_default().push(v);
        }
    }
    for ((traits, net), mut list) in by {
        let phones: HashSet<i64> = list.iter().map(|v| v.voter).collect();
        let everyone = on_net.get(net).map_or(0, HashSet::len);
        if phones.len() < t.traits_phones.max(2)
            || phones.len() * 2 <= everyone
            || list.iter().all(|v| seen.contains(&v.id))
        {
            continue;
        }
        list.sort_by_key(|v| (v.at, v.id));
        out.push(Cluster {
            signal: Signal::Device,
            key: format!("traits:{traits}@{net}"),
            votes: list.iter().map(|v| v.id).collect(),
            evidence: format!(
                "同一浏览器特征（摘要 {}…）在网段 {net} 被 {} 个手机号用于投票（该网段共 {everyone} 个），共 {} 票，自 {} 至 {}（阈值：{} 个手机号，且过半）",
                &traits[..traits.len().min(8)],
                phones.len(),
                list.len(),
                clock(list[0].at),
                clock(list[list.len() - 1].at),
                t.traits_phones
            ),
        });
    }
    out
}

/// The hour of a vote: (Beijing day as days since 1970, hour of day).
fn hour_of(unix: i64) -> (i64, usize) {
    let b = unix + 8 * 3600;
    (b.div_euclid(86_400), (b.rem_euclid(86_400) / 3600) as usize)
}

fn surges(votes: &[Vote], t: &Thresholds) -> Vec<Cluster> {
    let mut per: BTreeMap<(i64, usize), Vec<&Vote>> = BTreeMap::new();
    for v in votes {
        per.entry(hour_of(v.at)).or_default().push(v);
    }
    let mut hours_of_voter: HashMap<i64, HashSet<(i64, usize)>> = HashMap::new();
    for v in votes {
        hours_of_voter
            .entry(v.voter)
            .or_default()
            .insert(hour_of(v.at));
    }
    let mut day_total: BTreeMap<i64, usize> = BTreeMap::new();
    for ((d, _), list) in &per {
        *day_total.entry(*d).or_default() += list.len();
    }
    // The round's profile: per hour of day, the median over its days of that hour's share
    // of the day — a median, so one day's surge does not set its own expectation.
    let days: Vec<i64> = day_total.keys().copied().collect();
    let share =
        |d: i64, h: usize| per.get(&(d, h)).map_or(0.0, |l| l.len() as f64) / day_total[&d] as f64;
    let profile: Vec<f64> = (0..24)
        .map(|h| {
            let mut s: Vec<f64> = days.iter().map(|&d| share(d, h)).collect();
            s.sort_by(f64::total_cmp);
            s.get(s.len() / 2).copied().unwrap_or(0.0)
        })
        .collect();
    let mut out = Vec::new();
    for ((d, h), list) in &per {
        if list.len() < t.surge_votes.max(1) {
            continue;
        }
        let total = day_total[d] as f64;
        // With fewer than three days the median is not yet a profile: the day's own
        // median hour stands in. A floor keeps an hour nobody used from expecting zero.
        let expected = if days.len() >= 3 {
            total * profile[*h]
        } else {
            let mut hours: Vec<usize> = (0..24)
                .filter_map(|x| per.get(&(*d, x)).map(Vec::len))
                .collect();
            hours.sort_unstable();
            hours[hours.len() / 2] as f64
        }
        .max(total / (24.0 * 20.0))
        .max(1.0);
        if (list.len() as f64) < expected * f64::from(t.surge_factor.max(2)) {
            continue;
        }
        // The surge's own votes: phones that voted in this hour and at no other. Those who
        // vote on other days too are the round's ordinary night owls.
        let fresh: Vec<i64> = list
            .iter()
            .filter(|v| hours_of_voter.get(&v.voter).is_some_and(|hs| hs.len() == 1))
            .map(|v| v.id)
            .collect();
        if fresh.is_empty() {
            continue;
        }
        let begins = d * 86_400 - 8 * 3600 + *h as i64 * 3600;
        out.push(Cluster {
            signal: Signal::Hour,
            key: format!("hour:{begins}"),
            evidence: format!(
                "{}–{:02}:00 投出 {} 票，按本轮各时段的分布预计约 {:.0} 票（为预计的 {:.0} 倍，阈值 {} 倍）；其中 {} 票来自只在这一小时投过票的手机号",
                &clock(begins)[..clock(begins).len() - 3],
                (h + 1) % 24,
                list.len(),
                expected,
                list.len() as f64 / expected,
                t.surge_factor,
                fresh.len()
            ),
            votes: fresh,
        });
    }
    out
}

/// “138****8000”.
fn masked(phone: u64) -> String {
    let s = format!("{phone:011}");
    format!("{}****{}", &s[..3], &s[7..])
}

fn runs(votes: &[Vote], t: &Thresholds) -> Vec<Cluster> {
    let mut by_phone: BTreeMap<u64, Vec<i64>> = BTreeMap::new();
    for v in votes {
        if let Some(p) = v.phone {
            by_phone.entry(p).or_default().push(v.id);
        }
    }
    let phones: Vec<u64> = by_phone.keys().copied().collect();
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=phones.len() {
        if i < phones.len() && phones[i] - phones[i - 1] <= t.run_gap.max(1) {
            continue;
        }
        let run = &phones[start..i];
        if run.len() >= t.run_phones.max(2) {
            out.push(Cluster {
                signal: Signal::Run,
                // No number in the key: it travels in forms and the audit trail.
                key: format!("run:{}", masked(run[0])),
                votes: run.iter().flat_map(|p| by_phone[p].iter().copied()).collect(),
                evidence: format!(
                    "手机号 {} 至 {} 中的 {} 个号码连号投票，共 {} 票（阈值：{} 个，间隔不超过 {}）",
                    masked(run[0]),
                    masked(run[run.len() - 1]),
                    run.len(),
                    run.iter().map(|p| by_phone[p].len()).sum::<usize>(),
                    t.run_phones,
                    t.run_gap
                ),
            });
        }
        start = i;
    }
    out
}

fn prefixes(votes: &[Vote], t: &Thresholds) -> Vec<Cluster> {
    let mut out = Vec::new();
    // A 号段 is digits, at most a number's eleven; an empty one would take every phone.
    for prefix in t
        .prefixes
        .iter()
        .filter(|p| (1..=11).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
    {
        // The number's leading digits as a number: no text made per vote.
        let (head, unit) = (
            prefix.parse::<u64>().unwrap_or(u64::MAX),
            10u64.pow(11 - prefix.len() as u32),
        );
        let list: Vec<&Vote> = votes
            .iter()
            .filter(|v| {
                v.phone
                    .is_some_and(|p| p < 100_000_000_000 && p / unit == head)
            })
            .collect();
        if list.is_empty() {
            continue;
        }
        let phones: HashSet<u64> = list.iter().filter_map(|v| v.phone).collect();
        out.push(Cluster {
            signal: Signal::Prefix,
            key: format!("prefix:{prefix}"),
            votes: list.iter().map(|v| v.id).collect(),
            evidence: format!(
                "号段 {prefix}（活动列出的可疑号段）的 {} 个手机号投出 {} 票",
                phones.len(),
                list.len()
            ),
        });
    }
    out
}

fn metronomes(votes: &[Vote], t: &Thresholds) -> Vec<Cluster> {
    let mut out = Vec::new();
    let n = t.metronome_votes.max(3);
    let spread = if t.metronome_spread.is_finite() {
        t.metronome_spread.clamp(0.0, 1.0)
    } else {
        0.0
    };
    for (what, by) in [
        ("网段", grouped(votes, |v| &*v.net)),
        ("设备", grouped(votes, |v| &*v.device)),
    ] {
        for (source, list) in by {
            if list.len() < n {
                continue;
            }
            // Windows of n votes (n − 1 intervals) with sums of gaps and their squares.
            let gaps: Vec<f64> = list
                .windows(2)
                .map(|w| (w[1].at - w[0].at) as f64)
                .collect();
            let mut sum = vec![0.0; gaps.len() + 1];
            let mut sq = vec![0.0; gaps.len() + 1];
            for (i, g) in gaps.iter().enumerate() {
                sum[i + 1] = sum[i] + g;
                sq[i + 1] = sq[i] + g * g;
            }
            let k = n - 1;
            let mut marked = vec![false; list.len()];
            for s in 0..=gaps.len().saturating_sub(k) {
                let m = (sum[s + k] - sum[s]) / k as f64;
                // Votes in the same second are a burst's matter, not a clock's.
                if m < 1.0 {
                    continue;
                }
                let var = ((sq[s + k] - sq[s]) / k as f64 - m * m).max(0.0);
                if var.sqrt() / m < spread {
                    marked[s..=s + k].iter_mut().for_each(|x| *x = true);
                }
            }
            for run in runs_of(&marked) {
                let part = &list[run];
                let span = part[part.len() - 1].at - part[0].at;
                out.push(Cluster {
                    signal: Signal::Metronome,
                    key: format!("metronome:{source}@{}", part[0].at),
                    votes: part.iter().map(|v| v.id).collect(),
                    evidence: format!(
                        "同一{what}（{}）自 {} 起连续 {} 票，间隔几乎相同（平均 {:.1} 秒）",
                        &source[..source.len().min(18)],
                        clock(part[0].at),
                        part.len(),
                        span as f64 / (part.len() - 1) as f64
                    ),
                });
            }
        }
    }
    out
}

/// How well the clusters found match what a generator planted: (precision, recall) over
/// votes, a vote flagged when any cluster holds it.
pub fn precision_recall(clusters: &[Cluster], planted: &HashSet<i64>) -> (f64, f64) {
    let flagged: HashSet<i64> = clusters
        .iter()
        .flat_map(|c| c.votes.iter().copied())
        .collect();
    let hit = flagged.intersection(planted).count() as f64;
    let precision = if flagged.is_empty() {
        1.0
    } else {
        hit / flagged.len() as f64
    };
    let recall = if planted.is_empty() {
        1.0
    } else {
        hit / planted.len() as f64
    };
    (precision, recall)
}

/// Replayed attacks mixed into ordinary voting, for the tests and the benchmark.
pub mod synthetic {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// A round's votes with what was planted, by attack.
    pub struct Round {
        pub votes: Vec<Vote>,
        pub attacks: HashMap<&'static str, Vec<i64>>,
    }

    impl Round {
        pub fn planted(&self) -> HashSet<i64> {
            self.attacks.values().flatten().copied().collect()
        }
    }

    /// A week from 2026-01-05 00:00 Beijing.
    pub const START: i64 = 1_767_542_400;

    /// People's share of a day's votes by hour: few at night, peaks at noon and evening.
    const DAY_SHAPE: [u32; 24] = [
        2, 1, 1, 1, 1, 2, 4, 8, 10, 9, 8, 9, 12, 10, 8, 8, 9, 10, 12, 14, 15, 12, 8, 4,
    ];

    struct Maker {
        rng: ChaCha8Rng,
        votes: Vec<Vote>,
        voter: i64,
    }

    impl Maker {
        fn push(&mut self, at: i64, voter: i64, src: &Src, phone: u64) -> i64 {
            let id = self.votes.len() as i64 + 1;
            let o: Vec<&str> = src.ip.split('.').collect();
            self.votes.push(Vote {
                id,
                at,
                voter,
                net: format!("{}.{}.{}.0/24", o[0], o[1], o[2]).into(),
                ip: src.ip.as_str().into(),
                device: src.device.as_str().into(),
                traits: src.traits.as_str().into(),
                phone: Some(phone),
            });
            id
        }

        fn new_voter(&mut self) -> i64 {
            self.voter += 1;
            self.voter
        }

        fn random_phone(&mut self) -> u64 {
            const HEADS: [u64; 8] = [134, 135, 136, 138, 139, 150, 158, 186];
            HEADS[self.rng.random_range(0..HEADS.len())] * 100_000_000
                + self.rng.random_range(0..100_000_000)
        }

        /// An ordinary phone: a carrier address (spread over many thousands of /24s), a
        /// browser of its own, and the traits of one of a few popular models — many
        /// people share them, which the traits signal must bear.
        fn src(&mut self) -> Src {
            let ip = format!(
                "10.{}.{}.{}",
                self.rng.random_range(0..64),
                self.rng.random_range(0..256),
                self.rng.random_range(1..255)
            );
            self.src_at(ip)
        }

        fn src_at(&mut self, ip: String) -> Src {
            Src {
                ip,
                device: format!("{:016x}", self.rng.random::<u64>()),
                traits: format!("model{:02}", self.rng.random_range(0..12)),
            }
        }
    }

    /// Where a vote comes from.
    #[derive(Clone)]
    struct Src {
        ip: String,
        device: String,
        traits: String,
    }

    /// `background` ordinary votes over seven days — each voter on their own phone and
    /// browser, a few votes each, at the day's usual hours — and the five attacks.
    pub fn round(background: usize, seed: u64) -> Round {
        let mut m = Maker {
            rng: ChaCha8Rng::seed_from_u64(seed),
            votes: Vec::with_capacity(background + 2_000),
            voter: 0,
        };
        let weight: u32 = DAY_SHAPE.iter().sum();
        let mut left = background;
        while left > 0 {
            let voter = m.new_voter();
            let (phone, src) = (m.random_phone(), m.src());
            let n = m.rng.random_range(1..=4).min(left);
            for _ in 0..n {
                let day = m.rng.random_range(0..7);
                let mut pick = m.rng.random_range(0..weight);
                let mut hour = 0;
                while pick >= DAY_SHAPE[hour] {
                    pick -= DAY_SHAPE[hour];
                    hour += 1;
                }
                let at = START + day * 86_400 + hour as i64 * 3600 + m.rng.random_range(0..3600);
                m.push(at, voter, &src, phone);
            }
            left -= n;
        }
        let mut attacks: HashMap<&'static str, Vec<i64>> = HashMap::new();

        // One /24 voting in a burst: 300 phones in four minutes on day 2 at 14:00.
        let at0 = START + 2 * 86_400 + 14 * 3600;
        let mut ids = Vec::new();
        for i in 0..300 {
            let voter = m.new_voter();
            let phone = m.random_phone();
            let src = m.src_at(format!("203.0.113.{}", i % 250 + 1));
            let at = at0 + i * 240 / 300;
            ids.push(m.push(at, voter, &src, phone));
        }
        attacks.insert("burst", ids);

        // One device over 200 phones, spread over two days from carrier addresses.
        let device = "d3v1c3d3v1c3d3v1".to_owned();
        let mut ids = Vec::new();
        for _ in 0..220 {
            let voter = m.new_voter();
            let phone = m.random_phone();
            let src = Src {
                device: device.clone(),
                ..m.src()
            };
            let at = START + 3 * 86_400 + m.rng.random_range(0..2 * 86_400);
            ids.push(m.push(at, voter, &src, phone));
        }
        attacks.insert("device", ids);

        // A 3 a.m. surge: 600 votes (per 100,000 of the background) on day 4 between 03:00
        // and 04:00, each its own phone, browser and carrier address.
        let mut ids = Vec::new();
        for _ in 0..600 * (background / 100_000).max(1) {
            let voter = m.new_voter();
            let (phone, src) = (m.random_phone(), m.src());
            let at = START + 4 * 86_400 + 3 * 3600 + m.rng.random_range(0..3600);
            ids.push(m.push(at, voter, &src, phone));
        }
        attacks.insert("hour", ids);

        // Consecutive numbers in one 号段: 170 0000 1000 … 1149, over the week.
        let mut ids = Vec::new();
        for i in 0..150u64 {
            let voter = m.new_voter();
            let src = m.src();
            let at = START + m.rng.random_range(0..7 * 86_400);
            ids.push(m.push(at, voter, &src, 170_0000_1000 + i));
        }
        attacks.insert("run", ids);

        // Metronome: one address every 37 s (±0.5 s) for 100 votes, each a new phone.
        let at0 = START + 5 * 86_400 + 10 * 3600;
        let mut ids = Vec::new();
        for i in 0..100 {
            let voter = m.new_voter();
            let phone = m.random_phone();
            let src = m.src_at("198.51.100.7".into());
            let at = at0 + i * 37 + i64::from(m.rng.random_range(0..2u8));
            ids.push(m.push(at, voter, &src, phone));
        }
        attacks.insert("metronome", ids);
        Round {
            votes: m.votes,
            attacks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` votes, each its own voter: (time, network, device, phone) of vote `i`.
    fn series(n: i64, f: impl Fn(i64) -> (i64, String, &'static str, u64)) -> Vec<Vote> {
        (0..n)
            .map(|i| {
                let (at, net, device, phone) = f(i);
                Vote {
                    id: i,
                    at,
                    voter: i,
                    ip: net.replace(".0/24", &format!(".{}", i % 250 + 1)).into(),
                    net: net.into(),
                    device: device.into(),
                    traits: "".into(),
                    phone: Some(phone),
                }
            })
            .collect()
    }

    #[test]
    fn each_replayed_attack_is_found_and_the_background_is_not() {
        let r = synthetic::round(100_000, 7);
        let t = Thresholds {
            prefixes: vec!["170".into()],
            ..Thresholds::default()
        };
        let clusters = find(&r.votes, &t);
        let planted = r.planted();
        let (precision, recall) = precision_recall(&clusters, &planted);
        println!(
            "{} clusters; precision {precision:.4}, recall {recall:.4}",
            clusters.len()
        );
        assert!(precision >= 0.95, "precision {precision}");
        assert!(recall >= 0.9, "recall {recall}");
        // Cluster by cluster: each attack is mostly one signal's finding.
        for (attack, signal) in [
            ("burst", Signal::Burst),
            ("device", Signal::Device),
            ("hour", Signal::Hour),
            ("run", Signal::Run),
            ("metronome", Signal::Metronome),
        ] {
            let ids: HashSet<i64> = r.attacks[attack].iter().copied().collect();
            let found: HashSet<i64> = clusters
                .iter()
                .filter(|c| c.signal == signal)
                .flat_map(|c| c.votes.iter().copied())
                .filter(|id| ids.contains(id))
                .collect();
            assert!(
                found.len() as f64 >= 0.9 * ids.len() as f64,
                "{attack}: {} of {} by {signal:?}",
                found.len(),
                ids.len()
            );
        }
    }

    /// Paced, the scan finds the same, with a rest between each of its six passes.
    #[test]
    fn a_paced_scan_rests_between_its_passes_and_finds_the_same() {
        let r = synthetic::round(20_000, 3);
        let t = Thresholds {
            prefixes: vec!["170".into()],
            ..Thresholds::default()
        };
        let mut rests = 0;
        let paced = find_paced(&r.votes, &t, &mut || rests += 1);
        assert_eq!(rests, 5);
        assert_eq!(paced, find(&r.votes, &t));
        assert!(!paced.is_empty());
    }

    /// A listed 号段 takes the numbers that begin with it, whatever its length.
    #[test]
    fn a_prefix_takes_the_numbers_beginning_with_it() {
        let votes = series(4, |i| {
            (
                synthetic::START + i * 97,
                format!("198.51.100.{i}/32"),
                "",
                [
                    17_012_345_678,
                    17_099_999_999,
                    13_800_000_000,
                    1_700_000_000,
                ][i as usize],
            )
        });
        for (prefix, found) in [
            ("170", 2),
            ("1701", 1),
            ("17012345678", 1),
            ("1", 3),
            ("0", 1),
        ] {
            let t = Thresholds {
                prefixes: vec![prefix.into()],
                ..Thresholds::default()
            };
            let c = prefixes(&votes, &t);
            assert_eq!(c.first().map_or(0, |c| c.votes.len()), found, "{prefix}");
        }
    }

    #[test]
    fn a_burst_says_where_when_and_how_many() {
        let votes = series(40, |i| {
            (
                synthetic::START + 14 * 3600 + i,
                "203.0.113.0/24".into(),
                "",
                13_800_000_000 + i as u64 * 1000,
            )
        });
        let c = bursts(&votes, &Thresholds::default());
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].votes.len(), 40);
        assert_eq!(
            c[0].evidence,
            "网段 203.0.113.0/24 在 1月5日 14:00:00 至 1月5日 14:00:39 的 40 秒内投出 40 票（阈值：60 秒内 30 票）"
        );
        // 29 in the minute is under the threshold.
        assert!(bursts(&votes[..29], &Thresholds::default()).is_empty());
    }

    #[test]
    fn consecutive_phones_and_listed_prefixes() {
        let votes = series(6, |i| {
            (
                synthetic::START + i * 5000,
                format!("10.0.{i}.0/24"),
                "",
                13_800_138_000 + i as u64 * 2,
            )
        });
        let t = Thresholds {
            prefixes: vec!["1380013".into()],
            ..Thresholds::default()
        };
        let c = runs(&votes, &t);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].evidence
                .starts_with("手机号 138****8000 至 138****8010 中的 6 个号码连号投票"),
            "{}",
            c[0].evidence
        );
        // A gap of 3 breaks the run.
        let mut spread = votes.clone();
        spread[3].phone = Some(13_800_138_100);
        assert!(runs(&spread, &t).is_empty());
        let p = prefixes(&votes, &t);
        assert_eq!(p[0].votes.len(), 6);
        assert_eq!(
            p[0].evidence,
            "号段 1380013（活动列出的可疑号段）的 6 个手机号投出 6 票"
        );
    }

    #[test]
    fn people_are_not_metronomes_but_a_script_is() {
        let t = Thresholds::default();
        // Irregular: gaps of 5, 60, 7, 300 … seconds.
        let irregular = series(30, |i| {
            (
                synthetic::START + i * i * 7 % 997 + i * 40,
                "10.1.1.0/24".into(),
                "",
                13_900_000_000 + i as u64 * 977,
            )
        });
        assert!(metronomes(&irregular, &t).is_empty());
        let regular = series(25, |i| {
            (
                synthetic::START + i * 30,
                "10.1.2.0/24".into(),
                "",
                13_900_000_000 + i as u64 * 977,
            )
        });
        let c = metronomes(&regular, &t);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].votes.len(), 25);
        assert!(
            c[0].evidence
                .contains("连续 25 票，间隔几乎相同（平均 30.0 秒）"),
            "{}",
            c[0].evidence
        );
    }

    #[test]
    fn one_device_many_phones() {
        let votes = series(12, |i| {
            (
                synthetic::START + i * 900,
                format!("10.2.{i}.0/24"),
                "abcdef0123456789",
                13_700_000_000 + i as u64 * 1013,
            )
        });
        let c = devices(&votes, &Thresholds::default());
        assert_eq!(c.len(), 1);
        assert!(
            c[0].evidence.starts_with(
                "同一设备（浏览器标识摘要 abcdef01…）被 12 个手机号用于投票，共 12 票"
            ),
            "{}",
            c[0].evidence
        );
        assert!(devices(&votes[..9], &Thresholds::default()).is_empty());
    }

    #[test]
    fn one_address_bursts_below_its_network() {
        // 25 votes in a minute from one address: under the network's 30, over the
        // address's 20.
        let mut votes = series(25, |i| {
            (
                synthetic::START + 9 * 3600 + i * 2,
                "203.0.113.0/24".into(),
                "",
                13_800_000_000 + i as u64 * 1000,
            )
        });
        for v in &mut votes {
            v.ip = "203.0.113.9".into();
        }
        let c = bursts(&votes, &Thresholds::default());
        assert_eq!(c.len(), 1, "{c:?}");
        assert!(
            c[0].evidence
                .starts_with("地址 203.0.113.9 在 1月5日 09:00:00"),
            "{}",
            c[0].evidence
        );
        assert!(c[0].evidence.ends_with("（阈值：60 秒内 20 票）"));
        // A network's burst already holds its addresses' votes: one cluster, not two.
        let mut many = series(40, |i| {
            (
                synthetic::START + 9 * 3600 + i,
                "203.0.113.0/24".into(),
                "",
                13_800_000_000 + i as u64 * 1000,
            )
        });
        for v in &mut many {
            v.ip = "203.0.113.9".into();
        }
        let c = bursts(&many, &Thresholds::default());
        assert_eq!(c.len(), 1);
        assert!(c[0].evidence.starts_with("网段 203.0.113.0/24"));
    }

    #[test]
    fn a_cleared_cookie_keeps_its_traits() {
        // One phone, its cookie cleared before each of 35 numbers, on one network.
        let mut votes = series(35, |i| {
            (
                synthetic::START + i * 600,
                "10.3.7.0/24".into(),
                "",
                13_600_000_000 + i as u64 * 7919,
            )
        });
        for (i, v) in votes.iter_mut().enumerate() {
            v.device = format!("{i:016x}").into();
            v.traits = "t-390x844@3-Asia/Shanghai-zh-CN".into();
        }
        let t = Thresholds::default();
        let c = devices(&votes, &t);
        assert_eq!(c.len(), 1, "{c:?}");
        assert!(
            c[0].evidence
                .contains("在网段 10.3.7.0/24 被 35 个手机号用于投票（该网段共 35 个），共 35 票"),
            "{}",
            c[0].evidence
        );
        // Under the bar: 29 people with one popular model on one network are people.
        assert!(devices(&votes[..29], &t).is_empty());
        // A campus: the same 35 among 100 others of other models on the network.
        let mut campus = votes.clone();
        campus.extend(series(100, |i| {
            (
                synthetic::START + i * 60,
                "10.3.7.0/24".into(),
                "",
                13_500_000_000 + i as u64 * 7919,
            )
        }));
        for (i, v) in campus.iter_mut().enumerate().skip(35) {
            v.id = 1000 + i as i64;
            v.voter = 1000 + i as i64;
            v.device = format!("c{i:015x}").into();
            v.traits = format!("t-other-{}", i % 7).into();
        }
        assert!(devices(&campus, &t).is_empty(), "a campus is not one phone");
        // The same traits across networks are not one device.
        for (i, v) in votes.iter_mut().enumerate() {
            v.net = format!("10.3.{i}.0/24").into();
        }
        assert!(devices(&votes, &t).is_empty());
    }
}
