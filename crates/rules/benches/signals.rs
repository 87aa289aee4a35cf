//! Signals of 刷票 over 1,000,000 votes (issue 20; target ≤ 30 s off the vote path): the
//! synthetic week of `signals::synthetic` (ordinary voting with the five replayed attacks)
//! at a million votes, every signal found, with the precision and recall it reached.
//! Best of 3; exits non-zero over the target.
//!
//! `cargo bench -p pingxuan-rules --bench signals`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use pingxuan_rules::vote::signals::{Thresholds, find, precision_recall, synthetic};

const TARGET: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    // 990,000 ordinary votes and 6,170 of the attacks (the 3 a.m. surge grows with the round).
    let round = synthetic::round(990_000, 20);
    let t = Thresholds {
        prefixes: vec!["170".into()],
        ..Thresholds::default()
    };
    let mut best = Duration::MAX;
    let mut clusters = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        clusters = find(&round.votes, &t);
        best = best.min(start.elapsed());
    }
    let (precision, recall) = precision_recall(&clusters, &round.planted());
    println!(
        "signals over {} votes: best of 3 {:.0} ms; {} clusters, precision {precision:.4}, recall {recall:.4}",
        round.votes.len(),
        best.as_secs_f64() * 1000.0,
        clusters.len()
    );
    if best > TARGET {
        eprintln!("over the target of {} s", TARGET.as_secs());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
