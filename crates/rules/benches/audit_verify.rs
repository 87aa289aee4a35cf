//! `pingxuan audit verify` of a 1,000,000-entry export (issue 15, target ≤ 10 s): the
//! export is written once as the server writes entries (same canonical form and hashes)
//! and kept under the target folder, then read back line by line through the same
//! `Verifier` the command uses, with the same 1 MiB buffered reader.
//!
//! `cargo bench -p pingxuan-rules --bench audit_verify`. `PINGXUAN_BENCH_ENTRIES=100000`
//! for a smaller file.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use pingxuan_rules::audit::{Entry, GENESIS, Line, Verifier};

fn main() -> ExitCode {
    let entries: u64 = std::env::var("PINGXUAN_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let file = export_of(entries);
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let mut ok = true;
    for run in 1..=3 {
        let started = Instant::now();
        let reader = std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(&file).expect("open export"),
        );
        let mut v = Verifier::default();
        let mut n = 0u64;
        for line in reader.lines() {
            v.feed(&line.expect("read")).expect("the chain holds");
            n += 1;
        }
        let head = v.finish(None).expect("head");
        let took = started.elapsed().as_secs_f64();
        println!(
            "run {run}: verified {n} entries ({:.0} MiB) in {took:.2} s ({:.0} entries/s), head {}",
            size as f64 / 1048576.0,
            n as f64 / took,
            &head[..16]
        );
        ok &= took <= 10.0 * entries as f64 / 1e6;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// An export of `n` entries shaped like the server's (a move with its state text and an
/// address), made once.
fn export_of(n: u64) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-audit-{n}.jsonl"));
    if path.exists() {
        return path;
    }
    eprintln!("writing a {n}-entry audit export…");
    let partial = path.with_extension("partial");
    let mut w = BufWriter::new(std::fs::File::create(&partial).expect("create export"));
    let mut prev = GENESIS.to_owned();
    for i in 0..n {
        let entry = Entry {
            action: "application_submit".into(),
            at: 1_790_000_000 + i as i64,
            detail: "推荐单位提交到自治区科协".into(),
            ip: Some(format!("10.{}.{}.{}", i % 250, (i / 250) % 250, i % 7)),
            prev,
            target: format!("application:{}", i % 10_000),
            user: Some((i % 5_000) as i64),
        };
        let hash = entry.hash();
        prev = hash.clone();
        serde_json::to_writer(
            &mut w,
            &Line {
                id: Some(i as i64 + 1),
                entry,
                hash,
            },
        )
        .expect("write");
        w.write_all(b"\n").expect("write");
    }
    w.flush().expect("flush");
    drop(w);
    std::fs::rename(&partial, &path).expect("rename");
    path
}
