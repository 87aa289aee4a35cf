//! The count's Merkle tree (issue 20): the root over 1,000,000 valid votes (target ≤ 2 s),
//! from the votes as the freeze reads them — (group, candidate, receipt), sorted, hashed
//! into leaves, then the levels —, and one receipt's proof from the built tree. Best of 3;
//! exits non-zero over the target.
//!
//! `cargo bench -p pingxuan-rules --bench merkle`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use pingxuan_rules::vote::merkle::Tree;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

const VOTES: usize = 1_000_000;
const TARGET: Duration = Duration::from_secs(2);

fn votes() -> Vec<(String, i64, String)> {
    let mut rng = ChaCha8Rng::seed_from_u64(20);
    (0..VOTES)
        .map(|i| {
            let group = if i % 50 == 0 { "experts" } else { "public" };
            let candidate = 1 + (rng.next_u64() % 40) as i64;
            // A receipt as `votes::new_receipt` makes them: 12 characters.
            let receipt = format!("{:012X}", rng.next_u64() & 0xFFFF_FFFF_FFFF);
            (group.to_owned(), candidate, receipt)
        })
        .collect()
}

fn main() -> ExitCode {
    let input = votes();
    let mut best = Duration::MAX;
    let mut tree = None;
    for _ in 0..3 {
        let mut v = input.clone();
        let t = Instant::now();
        let built = Tree::of_votes(&mut v);
        best = best.min(t.elapsed());
        tree = Some(built);
    }
    let tree = tree.expect("built");
    let root = tree.root();
    println!(
        "root over {VOTES} votes (sort, leaves, levels): best of 3 {:.0} ms; {} votes, root {}",
        best.as_secs_f64() * 1000.0,
        root.count,
        hex::encode(&root.hash[..8])
    );
    let t = Instant::now();
    let mut steps = 0;
    for i in (0..VOTES).step_by(1000) {
        steps += tree.proof(i).expect("a leaf").len();
    }
    let per = t.elapsed() / (VOTES / 1000) as u32;
    println!(
        "one proof from the built tree: {:.1} µs ({} steps)",
        per.as_secs_f64() * 1e6,
        steps / (VOTES / 1000)
    );
    if best > TARGET {
        eprintln!("over the target of {} s", TARGET.as_secs());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
