//! Streams 1 GiB, generated in memory (no source file), into the local-folder backend in 8 MiB
//! pieces through `Blobs::writer` — and again in 64 KiB pieces, the size of the frames an HTTP
//! body arrives in — then streams it back with `Blobs::read_range`; prints the throughput and
//! the process's resident-memory growth (VmHWM against VmRSS before, with the peak reset
//! through `/proc/self/clear_refs` where the kernel allows). Write times include the fsync at
//! close.
//!
//! Issue #4's targets: at least 200 MB/s to local storage, less than 64 MiB resident growth for a
//! 1 GiB upload.
//!
//!     cargo bench -p pingxuan-blobs
//!
//! The folder is a temporary one under `PINGXUAN_BENCH_DIR` (default: the system temp folder);
//! point it at the disk the data folder will live on.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use pingxuan_blobs::Blobs;

const MIB: usize = 1024 * 1024;
const TOTAL: usize = 1024 * MIB;

const CASES: [&str; 3] = ["write-8MiB", "write-64KiB", "read"];

/// Each case runs in a fresh process of this binary (memory an earlier case left with the
/// allocator would hide the next one's growth).
fn main() {
    if let Ok(case) = std::env::var("PINGXUAN_BENCH_CASE") {
        run_case(&case);
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    for case in CASES {
        let status = std::process::Command::new(&exe)
            .env("PINGXUAN_BENCH_CASE", case)
            .status()
            .expect("run a case");
        assert!(status.success(), "case {case} failed");
    }
}

fn run_case(case: &str) {
    let base = std::env::var_os("PINGXUAN_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(&base).expect("temp dir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let blobs = Blobs::from_url("", dir.path()).expect("local storage");

    let piece = match case {
        "write-8MiB" => 8 * MIB,
        "write-64KiB" => 64 * 1024,
        "read" => {
            rt.block_on(upload(&blobs, 8 * MIB));
            let reset = reset_peak();
            let before = status_kib("VmRSS");
            let t0 = Instant::now();
            let read = rt.block_on(read_back(&blobs));
            let wall = t0.elapsed();
            let peak = status_kib("VmHWM");
            assert_eq!(read, TOTAL as u64, "read back length");
            report("read back with read_range", wall, wall, before, peak, reset);
            return;
        }
        other => panic!("unknown case {other}"),
    };
    let reset = reset_peak();
    let before = status_kib("VmRSS");
    let (wall, in_storage) = rt.block_on(upload(&blobs, piece));
    let peak = status_kib("VmHWM");
    let label = format!("write in {} KiB pieces", piece / 1024);
    report(&label, wall, in_storage, before, peak, reset);
}

/// Returns (wall time including generating the bytes, time spent in write/close).
async fn upload(blobs: &Blobs, piece_size: usize) -> (Duration, Duration) {
    let t0 = Instant::now();
    let mut in_storage = Duration::ZERO;
    let mut w = blobs.writer("bench/video.mp4").await.expect("writer");
    let mut seed = 0u64;
    for _ in 0..TOTAL / piece_size {
        // A fresh buffer per piece, as an upload handler gets them from the network.
        let mut piece = vec![0u8; piece_size];
        for chunk in piece.chunks_exact_mut(8) {
            seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            chunk.copy_from_slice(&seed.to_le_bytes());
        }
        let t = Instant::now();
        w.write(Bytes::from(piece)).await.expect("write");
        in_storage += t.elapsed();
    }
    let t = Instant::now();
    let size = w.close().await.expect("close");
    in_storage += t.elapsed();
    assert_eq!(size, TOTAL as u64);
    (t0.elapsed(), in_storage)
}

async fn read_back(blobs: &Blobs) -> u64 {
    let mut s = blobs
        .read_range("bench/video.mp4", 0..TOTAL as u64)
        .await
        .expect("read_range");
    let mut n = 0u64;
    while let Some(piece) = s.next().await {
        n += piece.expect("piece").len() as u64;
    }
    n
}

fn report(what: &str, wall: Duration, in_storage: Duration, before: u64, peak: u64, reset: bool) {
    let mb = TOTAL as f64 / 1e6;
    let growth_mib = peak.saturating_sub(before) as f64 / 1024.0;
    println!(
        "{what}, 1 GiB: {:.0} MB/s wall ({:.2} s), {:.0} MB/s in storage calls; \
         resident {:.1} MiB before, peak {:.1} MiB, growth {growth_mib:.1} MiB{}",
        mb / wall.as_secs_f64(),
        wall.as_secs_f64(),
        mb / in_storage.as_secs_f64(),
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        if reset {
            ""
        } else {
            " (peak not reset: growth may include earlier work)"
        },
    );
}

/// Resets VmHWM to the current RSS (Linux 4.0+); false where not permitted.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A `kB` field of /proc/self/status.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("{field} not in /proc/self/status"))
}
