//! Aggregating 100,000 scores into a ranking (issue 17, target ≤ 50 ms per method on the
//! 2-core machine): 1,000 candidates × 100 sheets from 200 experts, 3 criteria, points
//! from a fixed-seed ChaCha8 so every run scores the same sheets. Each method's
//! `aggregate` + `rank` is timed best of 5; the run fails when any method is over.
//!
//! `cargo bench -p pingxuan-rules --bench aggregate`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use pingxuan_rules::selection::aggregate::{Method, Settings, Sheet, TieKey, aggregate, rank};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CANDIDATES: i64 = 1_000;
const PER_CANDIDATE: i64 = 100;
const EXPERTS: i64 = 200;
const LIMIT: Duration = Duration::from_millis(50);

fn main() -> ExitCode {
    let sheets = sheets();
    let previous: BTreeMap<i64, u32> = (0..CANDIDATES)
        .map(|c| (c, (c as u32 * 7) % 1_000 + 1))
        .collect();
    let names: Vec<String> = ["工作实绩", "创新成果", "社会影响"]
        .map(String::from)
        .to_vec();
    let keys = [TieKey::Criterion(0), TieKey::PreviousRank];
    let mut ok = true;
    let mut line = Vec::new();
    let mut total = Duration::ZERO;
    for method in [Method::Mean, Method::TrimmedMean, Method::ZScore] {
        let settings = Settings {
            method,
            trim_min: 3,
            criteria: 3,
        };
        let best = (0..5)
            .map(|_| {
                let started = Instant::now();
                let aggs = aggregate(black_box(&settings), black_box(&sheets));
                let ranking = rank(&aggs, &previous, &keys, &names, Some(100), &[]);
                black_box(ranking);
                started.elapsed()
            })
            .min()
            .expect("five runs");
        ok &= best <= LIMIT;
        total += best;
        line.push(format!("{} {:.1} ms", method.key(), ms(best)));
    }
    println!(
        "aggregate {} sheets: {}, total {:.1} ms (limit {} ms per method)",
        sheets.len(),
        line.join(", "),
        ms(total),
        LIMIT.as_millis()
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Candidate c is scored by experts (7c + 2j) mod 200 for j < 100: distinct experts,
/// each with about 500 sheets. Points 0–50, 0–30, 0–20.
fn sheets() -> Vec<Sheet> {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let mut out = Vec::with_capacity((CANDIDATES * PER_CANDIDATE) as usize);
    for c in 0..CANDIDATES {
        for j in 0..PER_CANDIDATE {
            out.push(Sheet {
                expert: (7 * c + 2 * j) % EXPERTS,
                candidate: c,
                points: vec![
                    rng.random_range(0..=50),
                    rng.random_range(0..=30),
                    rng.random_range(0..=20),
                ],
            });
        }
    }
    out
}
