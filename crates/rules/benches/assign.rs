//! Assigning 1,000 candidates to 200 experts, r = 5, with 5% of the pairs conflicted
//! (issue 17, target ≤ 1 s on the 2-core machine); and finding the conflicts of the same
//! pool from its 工作单位 and 推荐单位 names. Best of 3 runs each; exits non-zero when the
//! assignment takes longer than a second.
//!
//! `cargo bench -p pingxuan-rules --bench assign`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use pingxuan_rules::selection::assign::{self, Candidate, Expert};
use pingxuan_rules::selection::conflict::{self, Aliases, Conflicts, Reason};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

const EXPERTS: usize = 200;
const CANDIDATES: usize = 1_000;
const R: u32 = 5;
const CONFLICT_PERCENT: u32 = 5;
const SUBJECTS: [&str; 8] = [
    "数学",
    "物理学",
    "化学",
    "生物学",
    "地球科学",
    "工程技术",
    "农业科学",
    "医学",
];

fn main() -> ExitCode {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let mut rand = move |n: usize| (rng.next_u64() % n as u64) as usize;

    // Names as forms have them: 120 units, typed with and without legal forms, spaces and
    // full-width letters; 40 recommending units.
    let unit = |i: usize, variant: usize| match variant % 3 {
        0 => format!("新疆第{i}研究院有限公司"),
        1 => format!("新疆第{i}研究院"),
        _ => format!(" 新疆第{i}研究院\u{3000}股份有限公司"),
    };
    let experts_c: Vec<conflict::Expert> = (0..EXPERTS)
        .map(|i| conflict::Expert {
            id: i as i64,
            person: Some(format!("p{i}")),
            work_unit: unit(rand(120), rand(3)),
        })
        .collect();
    let candidates_c: Vec<conflict::Candidate> = (0..CANDIDATES)
        .map(|i| conflict::Candidate {
            id: 10_000 + i as i64,
            person: Some(format!("q{i}")),
            work_unit: unit(rand(120), rand(3)),
            recommender: format!("第{}推荐单位", rand(40)),
        })
        .collect();
    let aliases = Aliases::default();
    let mut found = 0;
    let find = best_of_3(|| found = conflict::find(&experts_c, &candidates_c, &aliases).len());
    println!(
        "conflict::find {EXPERTS} experts × {CANDIDATES} candidates: {:.1} ms ({found} conflicted pairs)",
        ms(find)
    );

    // The assignment's pool: 学科 from 8 subjects (experts 1–2, candidates 1) and 5% of
    // the pairs conflicted, chosen by the fixed-seed stream.
    let experts: Vec<Expert> = (0..EXPERTS)
        .map(|i| Expert {
            id: i as i64,
            capacity: None,
            fields: (0..1 + rand(2))
                .map(|_| SUBJECTS[rand(8)].to_owned())
                .collect(),
        })
        .collect();
    let candidates: Vec<Candidate> = (0..CANDIDATES)
        .map(|i| Candidate {
            id: 10_000 + i as i64,
            field: Some(SUBJECTS[rand(8)].to_owned()),
        })
        .collect();
    let mut conflicts = Conflicts::new();
    for e in &experts {
        for c in &candidates {
            if rand(100) < CONFLICT_PERCENT as usize {
                conflicts.add(e.id, c.id, Reason::Manual("bench".into()));
            }
        }
    }

    let mut result = None;
    let took = best_of_3(|| {
        result = Some(assign::assign(
            &experts,
            &candidates,
            R,
            &conflicts,
            2024,
            &[],
        ))
    });
    let a = result.expect("assigned");
    let loads = assign::loads(&a.pairs, &experts);
    let (lo, hi) = (
        loads.iter().min().copied().unwrap_or(0),
        loads.iter().max().copied().unwrap_or(0),
    );
    let matched = a
        .pairs
        .iter()
        .filter(|&&(e, c)| {
            let field = candidates[(c - 10_000) as usize].field.as_ref();
            field.is_some_and(|f| experts[e as usize].fields.contains(f))
        })
        .count();
    println!(
        "assign {CANDIDATES} candidates × {EXPERTS} experts, r={R}, {CONFLICT_PERCENT}% conflicts ({} pairs): {:.0} ms (loads {lo}..{hi}, {:.0}% matched on 学科, {} short)",
        conflicts.len(),
        ms(took),
        100.0 * matched as f64 / a.pairs.len().max(1) as f64,
        a.short.len()
    );
    if took <= Duration::from_secs(1) && a.pairs.len() == CANDIDATES * R as usize {
        ExitCode::SUCCESS
    } else {
        eprintln!("over the 1 s target, or candidates left short");
        ExitCode::FAILURE
    }
}

fn best_of_3(mut run: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
