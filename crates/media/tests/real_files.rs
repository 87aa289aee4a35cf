//! The checks on real files made at test time by the tools that make such files in the wild:
//! ffmpeg (videos, JPEG, PNG), exiftool (EXIF orientation), img2pdf and qpdf (PDFs), pdfinfo
//! (a second opinion on page counts). Nothing is committed; each test works in its own
//! temporary folder.
//!
//! A missing tool fails the test when `CI=true` (naming the Debian package to install) and
//! skips it with a notice otherwise.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;

use pingxuan_media::{
    Container, CountingReader, FourCc, MediaError, Sniffed, png_of_jpeg, probe_pdf, probe_photo,
    probe_video, thumbnail,
};
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------------
// Tools

/// True when `tool` runs. Missing: fails under CI, else prints a notice and returns false.
fn have(tool: &str, version_arg: &str, package: &str) -> bool {
    let found = Command::new(tool)
        .arg(version_arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("`{tool}` is needed by this test: apt-get install -y {package}");
    }
    eprintln!("notice: `{tool}` not found, test skipped (Debian package {package})");
    false
}

fn have_ffmpeg() -> bool {
    have("ffmpeg", "-version", "ffmpeg") && have("ffprobe", "-version", "ffmpeg")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ffmpeg() -> Command {
    let mut c = Command::new("ffmpeg");
    c.args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"]);
    c
}

/// ffprobe's answer for one entry, as text.
fn ffprobe(path: &Path, args: &[&str]) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error"])
        .args(args)
        .args(["-of", "default=nw=1:nk=1"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn tmp() -> TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// A test-pattern H.264 video: `size` like "1920x1080", `seconds` long, `extra` before the
/// output name (container flags).
fn make_video(dir: &Path, name: &str, size: &str, seconds: u32, extra: &[&str]) -> PathBuf {
    make_video_with(dir, name, size, seconds, false, extra)
}

/// As [`make_video`], with an AAC tone as a second track when `audio`.
fn make_video_with(
    dir: &Path,
    name: &str,
    size: &str,
    seconds: u32,
    audio: bool,
    extra: &[&str],
) -> PathBuf {
    let out = dir.join(name);
    let mut cmd = ffmpeg();
    cmd.args(["-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={size}:rate=25"));
    if audio {
        cmd.args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
            .args(["-c:a", "aac"]);
    }
    cmd.args(["-t", &seconds.to_string()])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(extra)
        .arg(&out);
    run(&mut cmd);
    out
}

fn probe_file(path: &Path) -> Result<pingxuan_media::VideoInfo, MediaError> {
    probe_video(File::open(path).unwrap())
}

fn position(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn assert_about(ms: u64, expected: u64, what: &str) {
    assert!(
        ms.abs_diff(expected) <= 100,
        "{what}: {ms} ms, expected {expected} ± 100"
    );
}

/// ffprobe's container duration in ms.
fn ffprobe_duration_ms(path: &Path) -> u64 {
    let s = ffprobe(path, &["-show_entries", "format=duration"]);
    (s.parse::<f64>()
        .unwrap_or_else(|_| panic!("ffprobe duration {s:?}"))
        * 1000.0)
        .round() as u64
}

// ---------------------------------------------------------------------------------------------
// Videos

#[test]
fn mp4_with_moov_at_the_end_is_read_by_seeking() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tmp();
    // ffmpeg writes moov after mdat unless told otherwise; 8 Mbit/s makes a few MB.
    let path = make_video(dir.path(), "end.mp4", "1920x1080", 5, &["-b:v", "8M"]);
    let bytes = fs::read(&path).unwrap();
    assert!(bytes.len() > 2_000_000, "only {} bytes", bytes.len());
    assert!(position(&bytes, b"moov").unwrap() > position(&bytes, b"mdat").unwrap());

    let mut r = CountingReader::new(File::open(&path).unwrap());
    let info = probe_video(&mut r).unwrap();
    assert_eq!(info.container, Container::Mp4);
    assert_eq!((info.coded_width, info.coded_height), (1920, 1080));
    assert_eq!((info.display_width, info.display_height), (1920, 1080));
    assert_eq!(info.rotation.degrees(), 0);
    assert_eq!(info.codec, FourCc(*b"avc1"));
    assert!(!info.has_audio && !info.fragmented);
    assert_eq!(info.file_size, bytes.len() as u64);
    assert_about(info.duration_ms, 5000, "duration");
    assert_about(
        info.duration_ms,
        ffprobe_duration_ms(&path),
        "duration against ffprobe",
    );
    assert!(
        r.bytes_read() < 64 * 1024,
        "read {} of {} bytes",
        r.bytes_read(),
        bytes.len()
    );
}

#[test]
fn faststart_mp4_with_audio() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tmp();
    let path = make_video_with(
        dir.path(),
        "front.mp4",
        "1920x1080",
        5,
        true,
        &["-movflags", "+faststart"],
    );
    let bytes = fs::read(&path).unwrap();
    assert!(position(&bytes, b"moov").unwrap() < position(&bytes, b"mdat").unwrap());
    let info = probe_file(&path).unwrap();
    assert_eq!(info.container, Container::Mp4);
    assert!(info.has_audio);
    assert_eq!((info.display_width, info.display_height), (1920, 1080));
    assert_about(info.duration_ms, 5000, "duration");
}

#[test]
fn quicktime_mov() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tmp();
    let path = make_video(dir.path(), "clip.mov", "1920x1080", 5, &["-f", "mov"]);
    let info = probe_file(&path).unwrap();
    assert_eq!(info.container, Container::Mov);
    assert_eq!(info.codec, FourCc(*b"avc1"));
    assert_eq!((info.coded_width, info.coded_height), (1920, 1080));
    assert_about(info.duration_ms, 5000, "duration");
}

/// Stream-copies `src` with a display rotation, the way a phone stores an upright video:
/// ffmpeg ≥ 6 takes `-display_rotation` (counter-clockwise degrees) on the input; older ones
/// the `rotate` stream tag on the output.
fn rotated_copy(src: &Path, dst: &Path, degrees: u32) {
    let modern = ffmpeg()
        .args(["-display_rotation:v:0", &degrees.to_string(), "-i"])
        .arg(src)
        .args(["-c", "copy"])
        .arg(dst)
        .output()
        .expect("ffmpeg runs");
    if !modern.status.success() {
        run(ffmpeg()
            .arg("-i")
            .arg(src)
            .args([
                "-c",
                "copy",
                "-metadata:s:v:0",
                &format!("rotate={degrees}"),
            ])
            .arg(dst));
    }
}

#[test]
fn portrait_phone_video_reads_as_1080_by_1920() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tmp();
    let landscape = make_video(dir.path(), "land.mp4", "1920x1080", 2, &[]);
    for degrees in [90, 180, 270] {
        let path = dir.path().join(format!("rot{degrees}.mp4"));
        rotated_copy(&landscape, &path, degrees);
        let info = probe_file(&path).unwrap();
        assert_eq!(
            (info.coded_width, info.coded_height),
            (1920, 1080),
            "{degrees}"
        );
        let expected = if degrees == 180 {
            (1920, 1080)
        } else {
            (1080, 1920)
        };
        assert_eq!(
            (info.display_width, info.display_height),
            expected,
            "{degrees}"
        );

        // ffprobe states the turn counter-clockwise; ours is the clockwise one.
        let ccw: i32 = ffprobe(
            &path,
            &[
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream_side_data=rotation",
            ],
        )
        .parse()
        .expect("ffprobe reports a rotation");
        assert_eq!(
            u32::from(info.rotation.degrees()),
            (360 - ccw).rem_euclid(360) as u32,
            "ffprobe says {ccw}° counter-clockwise"
        );
    }
}

#[test]
fn hd_720p() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tmp();
    let path = make_video(dir.path(), "720.mp4", "1280x720", 3, &[]);
    let info = probe_file(&path).unwrap();
    assert_eq!((info.display_width, info.display_height), (1280, 720));
    assert_about(info.duration_ms, 3000, "duration");
}

#[test]
fn fragmented_mp4_has_its_duration_from_the_fragments() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tmp();
    let path = make_video(
        dir.path(),
        "frag.mp4",
        "1920x1080",
        5,
        &["-g", "50", "-movflags", "frag_keyframe+empty_moov"],
    );
    let mut r = CountingReader::new(File::open(&path).unwrap());
    let info = probe_video(&mut r).unwrap();
    assert!(info.fragmented);
    assert_eq!((info.display_width, info.display_height), (1920, 1080));
    assert_about(info.duration_ms, 5000, "duration");
    assert!(r.bytes_read() < 64 * 1024, "read {}", r.bytes_read());
}

#[test]
fn hevc_as_an_iphone_tags_it_and_as_ffmpeg_does() {
    if !have_ffmpeg() {
        return;
    }
    let encoders = Command::new("ffmpeg")
        .args(["-hide_banner", "-encoders"])
        .output()
        .expect("ffmpeg runs");
    if !String::from_utf8_lossy(&encoders.stdout).contains("libx265") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "ffmpeg lacks libx265: install Debian's ffmpeg package"
        );
        eprintln!("notice: ffmpeg without libx265, HEVC test skipped");
        return;
    }
    let dir = tmp();
    for tag in ["hvc1", "hev1"] {
        let path = dir.path().join(format!("{tag}.mp4"));
        run(ffmpeg()
            .args([
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=1920x1080:rate=25",
                "-t",
                "2",
            ])
            .args([
                "-c:v",
                "libx265",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
            ])
            .args(["-x265-params", "log-level=error", "-tag:v", tag])
            .arg(&path));
        let info = probe_file(&path).unwrap();
        assert_eq!(info.codec.as_string(), tag);
        assert_eq!(info.codec.codec_name(), Some("H.265/HEVC"));
        assert_eq!((info.display_width, info.display_height), (1920, 1080));
        assert_about(info.duration_ms, 2000, "duration");
    }
}

#[test]
fn first_half_of_a_moov_at_end_mp4_has_no_moov() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tmp();
    let path = make_video(dir.path(), "whole.mp4", "1920x1080", 5, &[]);
    let bytes = fs::read(&path).unwrap();
    let half = dir.path().join("half.mp4");
    fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    let err = probe_file(&half).unwrap_err();
    assert!(matches!(err, MediaError::MissingMoov), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("视频文件不完整：缺少 moov 信息")
    );
}

#[test]
fn a_photo_is_not_a_video() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tmp();
    let jpg = make_jpeg(dir.path(), "p.mp4", "testsrc2=size=320x240", 5);
    let err = probe_file(&jpg).unwrap_err();
    assert!(matches!(
        err,
        MediaError::WrongType {
            found: Sniffed::Jpeg,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "文件不是 MP4 或 MOV 视频（内容为 JPEG 图片）"
    );
}

// ---------------------------------------------------------------------------------------------
// Photos

/// One frame of a lavfi source as a JPEG (ffmpeg picks the format from `-f`, not the name).
fn make_jpeg(dir: &Path, name: &str, source: &str, quality: u32) -> PathBuf {
    let out = dir.join(name);
    run(ffmpeg()
        .args(["-f", "lavfi", "-i", source, "-frames:v", "1"])
        .args([
            "-q:v",
            &quality.to_string(),
            "-f",
            "image2",
            "-c:v",
            "mjpeg",
        ])
        .arg(&out));
    out
}

#[test]
fn a_large_noisy_photo_over_2_mb() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tmp();
    let path = make_jpeg(
        dir.path(),
        "big.jpg",
        "color=gray:s=3000x2000,noise=alls=20:allf=t",
        2,
    );
    let size = fs::metadata(&path).unwrap().len();
    assert!(size >= 2_000_000, "made only {size} bytes");
    let mut r = CountingReader::new(File::open(&path).unwrap());
    let info = probe_photo(&mut r).unwrap();
    assert_eq!(info.file_size, size);
    assert_eq!((info.width, info.height), (3000, 2000));
    assert_eq!((info.display_width, info.display_height), (3000, 2000));
    assert_eq!(info.orientation, 1);
    assert!(
        r.bytes_read() < 16 * 1024,
        "read {} of {size}",
        r.bytes_read()
    );
}

#[test]
fn a_small_photo_under_2_mb() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tmp();
    let path = make_jpeg(dir.path(), "small.jpg", "testsrc2=size=414x580", 3);
    let size = fs::metadata(&path).unwrap().len();
    assert!(size < 2_000_000);
    let info = probe_photo(File::open(&path).unwrap()).unwrap();
    assert_eq!((info.width, info.height), (414, 580));
    // A 2-inch ID photo (35×49 mm) at 300 dpi.
    assert!((info.aspect_ratio() - 35.0 / 49.0).abs() < 0.01);
}

#[test]
fn a_png_named_jpg_is_refused_as_png() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tmp();
    let png = dir.path().join("real.png");
    run(ffmpeg()
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240",
            "-frames:v",
            "1",
        ])
        .arg(&png));
    let renamed = dir.path().join("photo.jpg");
    fs::rename(&png, &renamed).unwrap();
    let err = probe_photo(File::open(&renamed).unwrap()).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::WrongType {
                found: Sniffed::Png,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "文件不是 JPEG 图片（内容为 PNG 图片）");
    assert!(thumbnail(File::open(&renamed).unwrap(), 200).is_err());
}

#[test]
fn a_cut_jpeg_is_truncated() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tmp();
    let path = make_jpeg(dir.path(), "whole.jpg", "testsrc2=size=1280x960", 2);
    let bytes = fs::read(&path).unwrap();
    let cut = dir.path().join("cut.jpg");
    fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = probe_photo(File::open(&cut).unwrap()).unwrap_err();
    assert!(matches!(err, MediaError::TruncatedJpeg), "{err:?}");
    assert!(probe_photo(File::open(&path).unwrap()).is_ok());
}

#[test]
fn exif_orientation_6_reads_portrait_and_previews_upright() {
    if !have_ffmpeg() || !have("exiftool", "-ver", "libimage-exiftool-perl") {
        return;
    }
    let dir = tmp();
    // Stored landscape, red over blue, as a camera held upright stores it: orientation 6
    // tells viewers to turn it 90° clockwise, which puts the red half on the right.
    let path = dir.path().join("upright.jpg");
    run(ffmpeg()
        .args([
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=800x300",
            "-f",
            "lavfi",
            "-i",
            "color=c=blue:s=800x300",
            "-filter_complex",
            "[0][1]vstack",
            "-frames:v",
            "1",
            "-q:v",
            "2",
        ])
        .arg(&path));
    run(Command::new("exiftool")
        .args(["-q", "-Orientation=6", "-n", "-overwrite_original"])
        .arg(&path));

    let info = probe_photo(File::open(&path).unwrap()).unwrap();
    assert_eq!(info.orientation, 6);
    assert!(info.has_exif);
    assert_eq!((info.width, info.height), (800, 600));
    assert_eq!((info.display_width, info.display_height), (600, 800));

    let jpeg = thumbnail(File::open(&path).unwrap(), 200).unwrap();
    let preview = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
        .unwrap()
        .into_rgb8();
    assert_eq!(preview.dimensions(), (150, 200));
    let left = preview.get_pixel(30, 100);
    let right = preview.get_pixel(120, 100);
    assert!(
        left[2] > 200 && left[0] < 60,
        "left should be blue: {left:?}"
    );
    assert!(
        right[0] > 200 && right[2] < 60,
        "right should be red: {right:?}"
    );

    // A preview is never larger than the photo.
    let same = thumbnail(File::open(&path).unwrap(), 5000).unwrap();
    let same = image::load_from_memory(&same).unwrap();
    assert_eq!((same.width(), same.height()), (600, 800));

    // The preview as PNG (for Word), the same picture.
    let png = png_of_jpeg(&jpeg).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let again = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
        .unwrap()
        .into_rgb8();
    assert_eq!(again.dimensions(), (150, 200));
    assert!(again.get_pixel(30, 100)[2] > 200, "still blue on the left");
    assert!(png_of_jpeg(b"not a jpeg").is_err());
}

// ---------------------------------------------------------------------------------------------
// PDFs

const PDF_LIMIT: u64 = 50 * 1024 * 1024;

/// A three-page PDF from three JPEGs, as img2pdf makes it.
fn make_pdf(dir: &Path) -> PathBuf {
    let pages: Vec<PathBuf> = ["red", "green", "blue"]
        .iter()
        .map(|c| {
            make_jpeg(
                dir,
                &format!("{c}.jpg"),
                &format!("color=c={c}:s=400x300"),
                5,
            )
        })
        .collect();
    let out = dir.join("three.pdf");
    run(Command::new("img2pdf").args(&pages).arg("-o").arg(&out));
    out
}

fn have_pdf_tools() -> bool {
    have_ffmpeg()
        && have("img2pdf", "--version", "img2pdf")
        && have("qpdf", "--version", "qpdf")
        && have("pdfinfo", "-v", "poppler-utils")
}

#[test]
fn a_three_page_pdf() {
    if !have_pdf_tools() {
        return;
    }
    let dir = tmp();
    let path = make_pdf(dir.path());
    let info = probe_pdf(File::open(&path).unwrap(), PDF_LIMIT).unwrap();
    assert_eq!(info.page_count, 3);
    assert!(!info.repaired);
    let pdfinfo = Command::new("pdfinfo").arg(&path).output().unwrap();
    let pages = String::from_utf8_lossy(&pdfinfo.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:").map(|n| n.trim().to_string()));
    assert_eq!(pages.as_deref(), Some("3"), "pdfinfo agrees");

    // The same document with object and cross-reference streams (PDF 1.5+ writers).
    let packed = dir.path().join("packed.pdf");
    run(Command::new("qpdf")
        .args(["--object-streams=generate"])
        .arg(&path)
        .arg(&packed));
    assert_eq!(
        probe_pdf(File::open(&packed).unwrap(), PDF_LIMIT)
            .unwrap()
            .page_count,
        3
    );
}

#[test]
fn encrypted_pdfs_are_refused() {
    if !have_pdf_tools() {
        return;
    }
    let dir = tmp();
    let plain = make_pdf(dir.path());
    // With an opening password, and with only an owner password (opens freely, restricted).
    for (name, user) in [("locked.pdf", "user"), ("restricted.pdf", "")] {
        let out = dir.path().join(name);
        run(Command::new("qpdf")
            .args(["--encrypt", user, "owner", "256", "--"])
            .arg(&plain)
            .arg(&out));
        let err = probe_pdf(File::open(&out).unwrap(), PDF_LIMIT).unwrap_err();
        assert!(matches!(err, MediaError::PdfEncrypted), "{name}: {err:?}");
        assert_eq!(err.to_string(), "PDF 文件已加密，请上传未加密的文件");
    }
}

#[test]
fn a_cut_pdf_is_truncated() {
    if !have_pdf_tools() {
        return;
    }
    let dir = tmp();
    let bytes = fs::read(make_pdf(dir.path())).unwrap();
    let cut = dir.path().join("cut.pdf");
    fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = probe_pdf(File::open(&cut).unwrap(), PDF_LIMIT).unwrap_err();
    assert!(matches!(err, MediaError::TruncatedPdf), "{err:?}");
}

#[test]
fn a_text_file_named_pdf_and_a_pdf_over_the_limit() {
    if !have_pdf_tools() {
        return;
    }
    let dir = tmp();
    let text = dir.path().join("notes.pdf");
    fs::write(&text, "申报材料清单\n1. 个人简历\n%%EOF\n").unwrap();
    let err = probe_pdf(File::open(&text).unwrap(), PDF_LIMIT).unwrap_err();
    assert!(matches!(
        err,
        MediaError::WrongType {
            found: Sniffed::Unknown,
            ..
        }
    ));

    let path = make_pdf(dir.path());
    let mut r = CountingReader::new(File::open(&path).unwrap());
    let err = probe_pdf(&mut r, 1000).unwrap_err();
    assert!(matches!(err, MediaError::PdfTooLarge { .. }), "{err:?}");
    assert!(
        r.bytes_read() <= 1024,
        "read {} before refusing",
        r.bytes_read()
    );
}
