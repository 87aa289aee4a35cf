//! The box walker on hand-built files: every structure is spelt out byte by byte here, so a
//! wrong offset in the walker fails a test rather than a user's upload.

use super::*;
use crate::CountingReader;
use std::io::Cursor as IoCursor;

fn bx(typ: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(typ);
    b.extend_from_slice(body);
    b
}

fn full(typ: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let mut b = ((u32::from(version) << 24) | flags).to_be_bytes().to_vec();
    b.extend_from_slice(body);
    bx(typ, &b)
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

const ONE: i32 = 0x0001_0000;
const IDENTITY: [i32; 9] = [ONE, 0, 0, 0, ONE, 0, 0, 0, 0x4000_0000];

fn matrix_bytes(m: &[i32; 9]) -> Vec<u8> {
    m.iter().flat_map(|v| v.to_be_bytes()).collect()
}

fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
    let mut body = major.to_vec();
    body.extend_from_slice(&0x200u32.to_be_bytes());
    for c in compatible {
        body.extend_from_slice(*c);
    }
    bx(b"ftyp", &body)
}

fn mvhd_v0(timescale: u32, duration: u32) -> Vec<u8> {
    let mut b = vec![0; 8];
    b.extend_from_slice(&timescale.to_be_bytes());
    b.extend_from_slice(&duration.to_be_bytes());
    b.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate
    b.extend_from_slice(&0x0100u16.to_be_bytes()); // volume
    b.extend_from_slice(&[0; 10]);
    b.extend_from_slice(&matrix_bytes(&IDENTITY));
    b.extend_from_slice(&[0; 24]);
    b.extend_from_slice(&3u32.to_be_bytes()); // next track id
    full(b"mvhd", 0, 0, &b)
}

fn mvhd_v1(timescale: u32, duration: u64) -> Vec<u8> {
    let mut b = vec![0; 16];
    b.extend_from_slice(&timescale.to_be_bytes());
    b.extend_from_slice(&duration.to_be_bytes());
    b.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    b.extend_from_slice(&0x0100u16.to_be_bytes());
    b.extend_from_slice(&[0; 10]);
    b.extend_from_slice(&matrix_bytes(&IDENTITY));
    b.extend_from_slice(&[0; 24]);
    b.extend_from_slice(&3u32.to_be_bytes());
    full(b"mvhd", 1, 0, &b)
}

fn tkhd(version: u8, id: u32, width: u32, height: u32, matrix: &[i32; 9]) -> Vec<u8> {
    let mut b = vec![0; if version == 1 { 16 } else { 8 }];
    b.extend_from_slice(&id.to_be_bytes());
    b.extend_from_slice(&[0; 4]);
    if version == 1 {
        b.extend_from_slice(&0u64.to_be_bytes());
    } else {
        b.extend_from_slice(&0u32.to_be_bytes());
    }
    b.extend_from_slice(&[0; 16]);
    b.extend_from_slice(&matrix_bytes(matrix));
    b.extend_from_slice(&(width << 16).to_be_bytes());
    b.extend_from_slice(&(height << 16).to_be_bytes());
    full(b"tkhd", version, 0x3, &b) // enabled, in movie
}

fn mdhd(timescale: u32, duration: u32) -> Vec<u8> {
    let mut b = vec![0; 8];
    b.extend_from_slice(&timescale.to_be_bytes());
    b.extend_from_slice(&duration.to_be_bytes());
    b.extend_from_slice(&[0x55, 0xc4, 0, 0]); // language "und", pre_defined
    full(b"mdhd", 0, 0, &b)
}

fn hdlr(handler: &[u8; 4]) -> Vec<u8> {
    let mut b = vec![0; 4];
    b.extend_from_slice(handler);
    b.extend_from_slice(&[0; 12]);
    b.extend_from_slice(b"Handler\0");
    full(b"hdlr", 0, 0, &b)
}

fn stsd(codec: &[u8; 4], width: u16, height: u16) -> Vec<u8> {
    let mut entry = vec![0; 6];
    entry.extend_from_slice(&1u16.to_be_bytes()); // data reference index
    entry.extend_from_slice(&[0; 16]);
    entry.extend_from_slice(&width.to_be_bytes());
    entry.extend_from_slice(&height.to_be_bytes());
    entry.extend_from_slice(&[0; 50]);
    let mut b = 1u32.to_be_bytes().to_vec();
    b.extend_from_slice(&bx(codec, &entry));
    full(b"stsd", 0, 0, &b)
}

struct TrackSpec {
    id: u32,
    handler: &'static [u8; 4],
    codec: &'static [u8; 4],
    width: u32,
    height: u32,
    matrix: [i32; 9],
    timescale: u32,
    duration: u32,
}

fn video_track() -> TrackSpec {
    TrackSpec {
        id: 1,
        handler: b"vide",
        codec: b"avc1",
        width: 1920,
        height: 1080,
        matrix: IDENTITY,
        timescale: 12_800,
        duration: 64_000,
    }
}

fn audio_track() -> TrackSpec {
    TrackSpec {
        id: 2,
        handler: b"soun",
        codec: b"mp4a",
        width: 0,
        height: 0,
        matrix: IDENTITY,
        timescale: 48_000,
        duration: 240_000,
    }
}

fn trak(t: &TrackSpec) -> Vec<u8> {
    let stbl = bx(b"stbl", &stsd(t.codec, t.width as u16, t.height as u16));
    let minf = bx(b"minf", &stbl);
    let mdia = bx(
        b"mdia",
        &cat(&[mdhd(t.timescale, t.duration), hdlr(t.handler), minf]),
    );
    bx(
        b"trak",
        &cat(&[tkhd(0, t.id, t.width, t.height, &t.matrix), mdia]),
    )
}

/// A five-second 1920×1080 H.264 movie header.
fn moov_with(tracks: &[TrackSpec]) -> Vec<u8> {
    let mut parts = vec![mvhd_v0(1000, 5000)];
    parts.extend(tracks.iter().map(trak));
    bx(b"moov", &cat(&parts))
}

fn mdat(len: usize) -> Vec<u8> {
    bx(b"mdat", &vec![0xAB; len])
}

fn probe(bytes: &[u8]) -> Result<VideoInfo, MediaError> {
    probe_video(IoCursor::new(bytes))
}

fn mp4_ftyp() -> Vec<u8> {
    ftyp(b"isom", &[b"isom", b"iso2", b"avc1", b"mp41"])
}

#[test]
fn moov_at_the_end_is_found_by_seeking_past_mdat() {
    let moov = moov_with(&[video_track(), audio_track()]);
    let file = cat(&[mp4_ftyp(), bx(b"free", &[]), mdat(200_000), moov.clone()]);
    let mut r = CountingReader::new(IoCursor::new(&file));
    let info = probe_video(&mut r).unwrap();
    assert_eq!(
        info,
        VideoInfo {
            container: Container::Mp4,
            file_size: file.len() as u64,
            duration_ms: 5000,
            coded_width: 1920,
            coded_height: 1080,
            rotation: Rotation::R0,
            display_width: 1920,
            display_height: 1080,
            codec: FourCc(*b"avc1"),
            has_audio: true,
            fragmented: false,
        }
    );
    // 64 sniffed + 4 headers + ftyp body + moov: nothing of the 200 KB mdat.
    assert!(
        r.bytes_read() < 64 + 4 * 8 + 32 + moov.len() as u64,
        "read {} bytes",
        r.bytes_read()
    );
}

#[test]
fn moov_at_the_front_reads_the_same() {
    let moov = moov_with(&[video_track()]);
    let info = probe(&cat(&[mp4_ftyp(), moov, mdat(5000)])).unwrap();
    assert_eq!((info.coded_width, info.coded_height), (1920, 1080));
    assert_eq!(info.duration_ms, 5000);
    assert!(!info.has_audio);
}

#[test]
fn largesize_mdat_is_skipped_by_its_64_bit_size() {
    let payload = vec![0u8; 5000];
    let mut big = 1u32.to_be_bytes().to_vec();
    big.extend_from_slice(b"mdat");
    big.extend_from_slice(&(16 + payload.len() as u64).to_be_bytes());
    big.extend_from_slice(&payload);
    let file = cat(&[mp4_ftyp(), big, moov_with(&[video_track()])]);
    assert_eq!(probe(&file).unwrap().duration_ms, 5000);
}

#[test]
fn size_zero_runs_to_the_end_of_the_file() {
    let mut open_mdat = 0u32.to_be_bytes().to_vec();
    open_mdat.extend_from_slice(b"mdat");
    open_mdat.extend_from_slice(&[7; 3000]);
    let with_moov_first = cat(&[mp4_ftyp(), moov_with(&[video_track()]), open_mdat.clone()]);
    assert_eq!(probe(&with_moov_first).unwrap().duration_ms, 5000);

    // An interrupted recording: the open mdat was never closed and moov never written.
    let interrupted = cat(&[mp4_ftyp(), open_mdat]);
    assert!(matches!(probe(&interrupted), Err(MediaError::MissingMoov)));
}

#[test]
fn cut_before_moov_means_missing_moov() {
    let file = cat(&[mp4_ftyp(), mdat(10_000), moov_with(&[video_track()])]);
    let half = &file[..file.len() / 2];
    let err = probe(half).unwrap_err();
    assert!(matches!(err, MediaError::MissingMoov), "{err:?}");
    assert_eq!(
        err.to_string(),
        "视频文件不完整：缺少 moov 信息（可能是录制或上传中断），请重新导出后上传"
    );
}

#[test]
fn cut_media_data_after_moov_is_truncated() {
    let file = cat(&[mp4_ftyp(), moov_with(&[video_track()]), mdat(10_000)]);
    let err = probe(&file[..file.len() - 100]).unwrap_err();
    assert!(matches!(err, MediaError::TruncatedVideo), "{err:?}");
}

#[test]
fn cut_inside_moov_is_truncated() {
    let file = cat(&[mp4_ftyp(), mdat(1000), moov_with(&[video_track()])]);
    let err = probe(&file[..file.len() - 40]).unwrap_err();
    assert!(matches!(err, MediaError::TruncatedVideo), "{err:?}");
}

#[test]
fn a_box_bigger_than_its_parent_is_refused() {
    let mut t = trak(&video_track());
    let claimed = t.len() as u32 + 1000;
    t[..4].copy_from_slice(&claimed.to_be_bytes());
    let moov = bx(b"moov", &cat(&[mvhd_v0(1000, 5000), t]));
    let err = probe(&cat(&[mp4_ftyp(), moov, mdat(2000)])).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::CorruptVideo {
                reason: "盒子长度超出其上级"
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_box_shorter_than_its_header_is_refused() {
    let mut t = trak(&video_track());
    t[..4].copy_from_slice(&3u32.to_be_bytes());
    let moov = bx(b"moov", &cat(&[mvhd_v0(1000, 5000), t]));
    let err = probe(&cat(&[mp4_ftyp(), moov])).unwrap_err();
    assert!(matches!(err, MediaError::CorruptVideo { .. }), "{err:?}");
}

fn with_matrix(matrix: [i32; 9]) -> VideoInfo {
    let track = TrackSpec {
        matrix,
        ..video_track()
    };
    probe(&cat(&[mp4_ftyp(), moov_with(&[track])])).unwrap()
}

#[test]
fn rotation_matrices_turn_the_displayed_picture() {
    let w = 0x4000_0000;
    // A phone held upright (iPhone writes this): 90° clockwise, shown 1080×1920.
    let r90 = with_matrix([0, ONE, 0, -ONE, 0, 0, 1080 << 16, 0, w]);
    assert_eq!(r90.rotation, Rotation::R90);
    assert_eq!((r90.coded_width, r90.coded_height), (1920, 1080));
    assert_eq!((r90.display_width, r90.display_height), (1080, 1920));

    let r180 = with_matrix([-ONE, 0, 0, 0, -ONE, 0, 1920 << 16, 1080 << 16, w]);
    assert_eq!(r180.rotation, Rotation::R180);
    assert_eq!((r180.display_width, r180.display_height), (1920, 1080));

    let r270 = with_matrix([0, -ONE, 0, ONE, 0, 0, 0, 1920 << 16, w]);
    assert_eq!(r270.rotation, Rotation::R270);
    assert_eq!((r270.display_width, r270.display_height), (1080, 1920));

    let r0 = with_matrix(IDENTITY);
    assert_eq!(r0.rotation, Rotation::R0);
    assert_eq!((r0.display_width, r0.display_height), (1920, 1080));
}

#[test]
fn rotation_tolerates_scaled_and_mirrored_matrices() {
    // Scaled by 2 and turned a quarter.
    assert_eq!(
        Rotation::from_matrix(&[0, 2 * ONE, 0, -2 * ONE, 0, 0, 0, 0, 0]),
        Rotation::R90
    );
    // Mirrored left-right: the sides stay.
    assert_eq!(
        Rotation::from_matrix(&[-ONE, 0, 0, 0, ONE, 0, 0, 0, 0]),
        Rotation::R180
    );
    assert!(!Rotation::R180.swaps_sides());
    // A few degrees off a quarter still counts as that quarter.
    assert_eq!(
        Rotation::from_matrix(&[3000, ONE, 0, -ONE, 3000, 0, 0, 0, 0]),
        Rotation::R90
    );
    // Degenerate.
    assert_eq!(Rotation::from_matrix(&[0; 9]), Rotation::R0);
}

#[test]
fn version_1_headers_carry_64_bit_durations() {
    let long: u64 = 5_000_000_000; // 5000 s at 1 MHz: past u32
    let video = video_track();
    let stbl = bx(b"stbl", &stsd(b"hvc1", 3840, 2160));
    let mdia = bx(
        b"mdia",
        &cat(&[mdhd(video.timescale, 0), hdlr(b"vide"), bx(b"minf", &stbl)]),
    );
    let t = bx(b"trak", &cat(&[tkhd(1, 1, 3840, 2160, &IDENTITY), mdia]));
    let moov = bx(b"moov", &cat(&[mvhd_v1(1_000_000, long), t]));
    let info = probe(&cat(&[mp4_ftyp(), moov])).unwrap();
    assert_eq!(info.duration_ms, 5_000_000);
    assert_eq!((info.coded_width, info.coded_height), (3840, 2160));
    assert_eq!(info.codec, FourCc(*b"hvc1"));
    assert_eq!(info.codec.codec_name(), Some("H.265/HEVC"));
}

#[test]
fn quicktime_by_brand_or_by_bare_boxes() {
    let moov = moov_with(&[video_track()]);
    let qt = probe(&cat(&[ftyp(b"qt  ", &[b"qt  "]), mdat(100), moov.clone()])).unwrap();
    assert_eq!(qt.container, Container::Mov);
    let old = probe(&cat(&[bx(b"wide", &[]), mdat(100), moov])).unwrap();
    assert_eq!(old.container, Container::Mov);
}

#[test]
fn other_files_are_named_by_what_they_are() {
    let jpeg = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0";
    let err = probe(jpeg).unwrap_err();
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

    let heic = cat(&[ftyp(b"heic", &[b"mif1", b"heic"]), mdat(10)]);
    let err = probe(&heic).unwrap_err();
    assert!(matches!(
        err,
        MediaError::WrongType {
            found: Sniffed::Heic,
            ..
        }
    ));

    assert!(matches!(probe(b""), Err(MediaError::Empty)));
}

#[test]
fn audio_only_has_no_video_track() {
    let file = cat(&[
        ftyp(b"M4A ", &[b"M4A ", b"mp42", b"isom"]),
        moov_with(&[audio_track()]),
    ]);
    assert!(matches!(probe(&file), Err(MediaError::NoVideoTrack)));
}

#[test]
fn a_missing_duration_is_an_error_not_zero_seconds() {
    let t = TrackSpec {
        duration: 0,
        ..video_track()
    };
    let moov = bx(b"moov", &cat(&[mvhd_v0(1000, 0), trak(&t)]));
    let err = probe(&cat(&[mp4_ftyp(), moov])).unwrap_err();
    assert!(matches!(
        err,
        MediaError::CorruptVideo {
            reason: "无法读取视频时长"
        }
    ));
}

#[test]
fn a_huge_moov_is_refused_before_it_is_read() {
    let mut file = mp4_ftyp();
    file.extend_from_slice(&(65u32 * 1024 * 1024).to_be_bytes());
    file.extend_from_slice(b"moov");
    file.extend_from_slice(&[0; 100]);
    let mut r = CountingReader::new(IoCursor::new(&file));
    let err = probe_video(&mut r).unwrap_err();
    assert!(matches!(err, MediaError::MoovTooLarge { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "视频文件的 moov 信息过大（65 MiB，上限 64 MiB），无法检查"
    );
    assert!(r.bytes_read() < 200);
}

fn mvex(mehd_duration: Option<u64>) -> Vec<u8> {
    let mut parts = Vec::new();
    if let Some(d) = mehd_duration {
        parts.push(full(b"mehd", 1, 0, &d.to_be_bytes()));
    }
    let mut trex = 1u32.to_be_bytes().to_vec(); // track id
    trex.extend_from_slice(&1u32.to_be_bytes()); // sample description index
    trex.extend_from_slice(&512u32.to_be_bytes()); // default duration
    trex.extend_from_slice(&[0; 8]);
    parts.push(full(b"trex", 0, 0, &trex));
    bx(b"mvex", &cat(&parts))
}

fn fragmented_moov(mehd_duration: Option<u64>) -> Vec<u8> {
    let t = TrackSpec {
        duration: 0,
        ..video_track()
    };
    bx(
        b"moov",
        &cat(&[mvhd_v0(1000, 0), trak(&t), mvex(mehd_duration)]),
    )
}

/// A fragment of `count` samples of 512 ticks, with or without `tfdt`, with the durations in
/// `tfhd` or per sample in `trun`.
fn moof(seq: u32, start: Option<u64>, count: u32, per_sample: bool) -> Vec<u8> {
    let mfhd = full(b"mfhd", 0, 0, &seq.to_be_bytes());
    let mut tfhd_body = 1u32.to_be_bytes().to_vec();
    let tfhd_flags = if per_sample { 0 } else { 0x08 };
    if !per_sample {
        tfhd_body.extend_from_slice(&512u32.to_be_bytes());
    }
    let tfhd = full(b"tfhd", 0, tfhd_flags, &tfhd_body);
    let mut parts = vec![tfhd];
    if let Some(s) = start {
        parts.push(full(b"tfdt", 1, 0, &s.to_be_bytes()));
    }
    let mut trun = count.to_be_bytes().to_vec();
    trun.extend_from_slice(&0u32.to_be_bytes()); // data offset
    let trun_flags = if per_sample {
        for _ in 0..count {
            trun.extend_from_slice(&512u32.to_be_bytes());
            trun.extend_from_slice(&1000u32.to_be_bytes()); // size
        }
        0x001 | 0x100 | 0x200
    } else {
        0x001
    };
    parts.push(full(b"trun", 0, trun_flags, &trun));
    bx(b"moof", &cat(&[mfhd, bx(b"traf", &cat(&parts))]))
}

#[test]
fn fragmented_duration_from_mehd() {
    let file = cat(&[
        mp4_ftyp(),
        fragmented_moov(Some(7_500)),
        moof(1, None, 10, false),
        mdat(100),
    ]);
    let info = probe(&file).unwrap();
    assert!(info.fragmented);
    assert_eq!(info.duration_ms, 7_500);
}

#[test]
fn fragmented_duration_from_the_fragments_when_headers_state_none() {
    // 125 + 125 samples of 512/12800 s = 10 s: the second fragment's tfdt says where it starts.
    let file = cat(&[
        mp4_ftyp(),
        fragmented_moov(None),
        moof(1, Some(0), 125, false),
        mdat(100),
        moof(2, Some(125 * 512), 125, true),
        mdat(100),
    ]);
    let info = probe(&file).unwrap();
    assert_eq!(info.duration_ms, 10_000);

    // Without tfdt, fragments follow one another; trex gives the default duration.
    let file = cat(&[
        mp4_ftyp(),
        fragmented_moov(None),
        moof(1, None, 25, true),
        mdat(10),
        moof(2, None, 50, true),
        mdat(10),
    ]);
    assert_eq!(probe(&file).unwrap().duration_ms, 3_000);
}

#[test]
fn an_absurd_sample_count_is_refused_without_looping() {
    let mut m = moof(1, Some(0), 3, true);
    // The trun sample count sits after its full-box header; claim four billion samples.
    let at = m.windows(4).position(|w| w == b"trun").unwrap() + 8;
    m[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    let file = cat(&[mp4_ftyp(), fragmented_moov(None), m, mdat(10)]);
    let err = probe(&file).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::CorruptVideo {
                reason: "样本数量异常"
            }
        ),
        "{err:?}"
    );
}

#[test]
fn damaged_bytes_anywhere_never_panic() {
    let file = cat(&[
        mp4_ftyp(),
        fragmented_moov(None),
        moof(1, Some(0), 4, true),
        mdat(16),
        moov_with(&[video_track(), audio_track()]),
    ]);
    for i in 0..file.len() {
        for v in [0x00, 0x01, 0x7f, 0xff] {
            let mut bad = file.clone();
            bad[i] = v;
            let _ = probe(&bad);
        }
        let _ = probe(&file[..i]);
    }
}
