//! How much of a file each check reads, and how long it takes: `cargo bench -p pingxuan-media`.
//!
//! Makes its files with ffmpeg and img2pdf in a temporary folder (a ~300 MB MP4 with `moov` at
//! the end, a photo over 2 MB, a scanned-style PDF), then runs each check several times through
//! a `CountingReader` and prints the bytes read and the median wall time. The files are in the
//! page cache by then, so the times are CPU and system-call cost, not disk.
//!
//! Target: checking the 300 MB MP4 reads less than 2 MiB of it (asserted).

use std::fs::File;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use pingxuan_media::{CountingReader, probe_pdf, probe_photo, probe_video, thumbnail};

const TARGET_VIDEO_BYTES: u64 = 2 * 1024 * 1024;

fn main() -> ExitCode {
    for (tool, package) in [("ffmpeg", "ffmpeg"), ("img2pdf", "img2pdf")] {
        if Command::new(tool).arg("--help").output().is_err() {
            eprintln!("this benchmark needs `{tool}`: apt-get install -y {package}");
            return ExitCode::FAILURE;
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();

    println!("making files in {} …", dir.display());
    let video = dir.join("big.mp4");
    let t = Instant::now();
    // testsrc2 at 40 Mbit/s comes out near 32 Mbit/s: 75 s is about 300 MB.
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1920x1080:rate=25",
            "-t",
            "75",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "40M",
            "-pix_fmt",
            "yuv420p",
        ],
        &video,
    );
    println!("  video made in {:.1} s", t.elapsed().as_secs_f64());

    let photo = dir.join("photo.jpg");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "color=gray:s=4000x3000,noise=alls=20:allf=t",
            "-frames:v",
            "1",
            "-q:v",
            "2",
        ],
        &photo,
    );

    // Ten A4 pages scanned at 300 dpi, as an application's supporting documents often are.
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "color=white:s=2480x3508,noise=alls=12:allf=t",
            "-frames:v",
            "10",
            "-q:v",
            "4",
        ],
        &dir.join("page%02d.jpg"),
    );
    let mut pages: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("page"))
        .collect();
    pages.sort();
    let pdf = dir.join("scan.pdf");
    let ok = Command::new("img2pdf")
        .args(&pages)
        .arg("-o")
        .arg(&pdf)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "img2pdf failed");

    println!();
    println!(
        "{:<34} {:>12} {:>14} {:>12} {:>6}",
        "check", "file", "bytes read", "median", "runs"
    );

    let video_read = measure("probe_video (moov at the end)", &video, 15, |r| {
        let info = probe_video(r).expect("probe_video");
        assert_eq!((info.display_width, info.display_height), (1920, 1080));
    });
    measure("probe_photo", &photo, 15, |r| {
        probe_photo(r).expect("probe_photo");
    });
    measure("thumbnail (1024 px)", &photo, 5, |r| {
        thumbnail(r, 1024).expect("thumbnail");
    });
    measure("probe_pdf (10 pages)", &pdf, 5, |r| {
        let info = probe_pdf(r, 200 * 1024 * 1024).expect("probe_pdf");
        assert_eq!(info.page_count, 10);
    });

    println!();
    if video_read < TARGET_VIDEO_BYTES {
        println!("target met: the video check read {video_read} bytes (< {TARGET_VIDEO_BYTES})");
        ExitCode::SUCCESS
    } else {
        println!("TARGET MISSED: the video check read {video_read} bytes (≥ {TARGET_VIDEO_BYTES})");
        ExitCode::FAILURE
    }
}

fn ffmpeg(args: &[&str], out: &Path) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .arg(out)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg failed for {}", out.display());
}

/// Runs `check` `runs` times on a fresh reader; prints and returns the bytes one run read.
fn measure(name: &str, path: &Path, runs: usize, check: impl Fn(&mut CountingReader<File>)) -> u64 {
    let size = std::fs::metadata(path).unwrap().len();
    let mut times = Vec::with_capacity(runs);
    let mut bytes = 0;
    for _ in 0..runs {
        let mut r = CountingReader::new(File::open(path).unwrap());
        let t = Instant::now();
        check(&mut r);
        times.push(t.elapsed());
        bytes = r.bytes_read();
    }
    times.sort();
    let median = times[runs / 2];
    println!(
        "{:<34} {:>12} {:>14} {:>12} {:>6}",
        name,
        human(size),
        format!("{} B", bytes),
        show(median),
        runs
    );
    bytes
}

fn human(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn show(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{} µs", d.as_micros())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}
