//! The final list under its hard rules (issue 18): K = 20 from 10,000 ranked candidates
//! with 5 rules (target ≤ 100 ms) and from 200 (target ≤ 5 ms), each in two shapes: the
//! indicators spread at random, and the young all at the bottom of the ranking, which
//! makes the draw go down the whole list. Best of 5 runs each; exits non-zero over a
//! target.
//!
//! `cargo bench -p pingxuan-rules --bench final_list`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use pingxuan_rules::selection::final_list::{Entry, Rule, draw};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

const K: u32 = 20;

fn rule(noun: &str, min: u32, max: Option<u32>) -> Rule {
    Rule {
        noun: noun.to_owned(),
        min,
        max,
    }
}

/// 院士 ≤ 2, 45 岁以下 ≥ 4, 女性 ≥ 6, 基层一线 ≥ 5, one recommender category ≤ 8.
fn rules() -> Vec<Rule> {
    vec![
        rule("院士", 0, Some(2)),
        rule("45 岁以下", 4, None),
        rule("女性", 6, None),
        rule("基层一线", 5, None),
        rule("高校组", 0, Some(8)),
    ]
}

fn entries(n: usize, young_last: bool, seed: u64) -> Vec<Entry> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pct = move |p: u64| rng.next_u64() % 100 < p;
    (0..n)
        .map(|i| {
            let young = if young_last { i >= n - 10 } else { pct(20) };
            let bits = u32::from(pct(10))
                | u32::from(young) << 1
                | u32::from(pct(25)) << 2
                | u32::from(pct(20)) << 3
                | u32::from(pct(40)) << 4;
            Entry {
                id: i as i64,
                place: i as u32 + 1,
                counts_for: bits,
            }
        })
        .collect()
}

fn best_of_5(mut f: impl FnMut()) -> Duration {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn main() -> ExitCode {
    let rules = rules();
    let mut ok = true;
    for (n, target) in [
        (10_000, Duration::from_millis(100)),
        (200, Duration::from_millis(5)),
    ] {
        for young_last in [false, true] {
            let list = entries(n, young_last, 18);
            let mut counts = Vec::new();
            let took = best_of_5(|| counts = draw(&list, K, &rules).unwrap().counts);
            let shape = if young_last {
                "青年全在末尾"
            } else {
                "随机分布"
            };
            println!(
                "final list K={K} of {n} ({shape}), 5 rules: {:.2} ms (target ≤ {} ms), counts {counts:?}",
                took.as_secs_f64() * 1000.0,
                target.as_millis()
            );
            ok &= took <= target;
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
