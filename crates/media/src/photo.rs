//! JPEG photos: size from the frame header, EXIF orientation, completeness, and an upright
//! preview.
//!
//! The marker walk is ours (a few lines, and it lets us seek past large APP segments such as
//! embedded previews); the EXIF inside APP1 is parsed by `kamadak-exif`.

use crate::read_up_to;
use std::io::{BufReader, Read, Seek, SeekFrom};

use image::{ImageFormat, ImageReader, Limits, metadata::Orientation};

use crate::error::{MediaError, eof_as};
use crate::sniff::{Sniffed, sniff};

/// The most pixels' worth of memory a preview may take to decode: a 200-megapixel phone photo
/// needs about 600 MB as RGB.
const DECODE_LIMIT: u64 = 1024 * 1024 * 1024;
/// Segments before the image data; real files have a dozen.
const MAX_SEGMENTS: usize = 4096;
/// How much of the file's end we look at for the end marker, allowing zero padding.
const TAIL_WINDOW: u64 = 4096;

/// What [`probe_photo`] measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoInfo {
    pub file_size: u64,
    /// Picture size as stored (frame header).
    pub width: u32,
    pub height: u32,
    /// EXIF orientation 1–8 (1 when the file has none): how a viewer turns the stored picture.
    pub orientation: u8,
    /// Picture size as a viewer shows it: sides swapped for orientations 5–8.
    pub display_width: u32,
    pub display_height: u32,
    pub progressive: bool,
    /// The file carries EXIF that could be read.
    pub has_exif: bool,
}

impl PhotoInfo {
    /// Displayed width over height (a 2-inch ID photo, 35×49 mm, is about 0.714).
    pub fn aspect_ratio(&self) -> f64 {
        f64::from(self.display_width) / f64::from(self.display_height)
    }
}

/// Reads a JPEG's header and end: refuses other formats (naming them) and truncated files.
///
/// Reads the segment headers, the frame header, the EXIF segment and the last 4 KiB.
pub fn probe_photo<R: Read + Seek>(mut r: R) -> Result<PhotoInfo, MediaError> {
    let file_size = r.seek(SeekFrom::End(0))?;
    if file_size == 0 {
        return Err(MediaError::Empty);
    }
    r.seek(SeekFrom::Start(0))?;
    let mut head = [0u8; 64];
    let n = read_up_to(&mut r, &mut head)?;
    let kind = sniff(&head[..n]);
    if kind != Sniffed::Jpeg {
        return Err(MediaError::WrongType {
            expected: "JPEG 图片",
            found: kind,
        });
    }

    let header = read_header(&mut r, file_size)?;
    let (orientation, has_exif) = match &header.exif {
        Some(tiff) => match exif_orientation(tiff.clone()) {
            Some(o) => (o, true),
            None => (1, false),
        },
        None => (1, false),
    };

    if !ends_with_eoi(&mut r, file_size, header.xmp.as_ref())? {
        return Err(MediaError::TruncatedJpeg);
    }

    let (display_width, display_height) = if orientation >= 5 {
        (header.height, header.width)
    } else {
        (header.width, header.height)
    };
    Ok(PhotoInfo {
        file_size,
        width: header.width,
        height: header.height,
        orientation,
        display_width,
        display_height,
        progressive: header.progressive,
        has_exif,
    })
}

/// A JPEG preview of a photo, turned upright by its EXIF orientation, whose longest side is at
/// most `max_side` pixels (never enlarged). Refuses what [`probe_photo`] refuses.
pub fn thumbnail<R: Read + Seek>(mut r: R, max_side: u32) -> Result<Vec<u8>, MediaError> {
    let info = probe_photo(&mut r)?;
    r.seek(SeekFrom::Start(0))?;
    let max_side = max_side.max(1);

    let mut reader = ImageReader::with_format(BufReader::new(r), ImageFormat::Jpeg);
    let mut limits = Limits::default();
    limits.max_alloc = Some(DECODE_LIMIT);
    reader.limits(limits);
    let thumbnail_error = |detail: String| MediaError::Thumbnail { detail };
    // The decoder meets uploaders' bytes; a panic in it must not take the caller down.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.decode()))
        .map_err(|_| thumbnail_error("JPEG decoder panicked".into()))?;
    let mut img = decoded.map_err(|e| match e {
        image::ImageError::IoError(io) => MediaError::Io(io),
        other => thumbnail_error(other.to_string()),
    })?;

    // Shrink first, then turn: turning the small picture is cheaper.
    if img.width().max(img.height()) > max_side {
        img = img.thumbnail(max_side, max_side);
    }
    if let Some(o) = Orientation::from_exif(info.orientation) {
        img.apply_orientation(o);
    }
    let rgb = img.into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&rgb)
        .map_err(|e| thumbnail_error(e.to_string()))?;
    Ok(out)
}

/// A small JPEG (a [`thumbnail`]) as PNG, for documents that hold only PNG pictures (the
/// 推荐表's Word version). Meant for thumbnails: the whole picture is decoded.
pub fn png_of_jpeg(jpeg: &[u8]) -> Result<Vec<u8>, MediaError> {
    let mut reader = ImageReader::with_format(std::io::Cursor::new(jpeg), ImageFormat::Jpeg);
    let mut limits = Limits::default();
    limits.max_alloc = Some(DECODE_LIMIT);
    reader.limits(limits);
    let thumbnail_error = |detail: String| MediaError::Thumbnail { detail };
    let img = reader
        .decode()
        .map_err(|e| thumbnail_error(e.to_string()))?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .map_err(|e| thumbnail_error(e.to_string()))?;
    Ok(out.into_inner())
}

fn corrupt(reason: &'static str) -> MediaError {
    MediaError::CorruptJpeg { reason }
}

/// Where an APP1 XMP segment lies, read only if the end marker is not at the file's end.
#[derive(Debug, Clone, Copy)]
struct SegmentAt {
    offset: u64,
    len: u64,
}

#[derive(Debug)]
struct Header {
    width: u32,
    height: u32,
    progressive: bool,
    /// The TIFF structure inside the APP1 "Exif" segment.
    exif: Option<Vec<u8>>,
    xmp: Option<SegmentAt>,
}

const EXIF_ID: &[u8] = b"Exif\0\0";
const XMP_ID: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// Walks the marker segments from SOI to the start of scan, seeking over their bodies.
fn read_header<R: Read + Seek>(r: &mut R, file_size: u64) -> Result<Header, MediaError> {
    let cut = || eof_as(MediaError::TruncatedJpeg);
    let mut pos = 2u64;
    let mut frame: Option<(u32, u32, bool)> = None;
    let mut exif = None;
    let mut xmp = None;
    for _ in 0..MAX_SEGMENTS {
        r.seek(SeekFrom::Start(pos))?;
        let mut m = [0u8; 2];
        r.read_exact(&mut m).map_err(cut())?;
        if m[0] != 0xFF {
            return Err(corrupt("段标记无效"));
        }
        match m[1] {
            // A fill byte before a marker.
            0xFF => {
                pos += 1;
                continue;
            }
            0x01 | 0xD0..=0xD7 => {
                pos += 2;
                continue;
            }
            0xD8 | 0xD9 => return Err(corrupt("缺少图像数据")),
            _ => {}
        }
        let mut l = [0u8; 2];
        r.read_exact(&mut l).map_err(cut())?;
        let len = u64::from(u16::from_be_bytes(l));
        if len < 2 {
            return Err(corrupt("段长度无效"));
        }
        let body_at = pos + 4;
        let body_len = len - 2;
        if body_at + body_len > file_size {
            return Err(MediaError::TruncatedJpeg);
        }
        match m[1] {
            // Start of frame, any coding but the DHT/JPG/DAC markers that share the range.
            marker @ (0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF) => {
                let mut sof = [0u8; 6];
                r.read_exact(&mut sof)
                    .map_err(|_| corrupt("图像尺寸信息不完整"))?;
                let height = u32::from(u16::from_be_bytes([sof[1], sof[2]]));
                let width = u32::from(u16::from_be_bytes([sof[3], sof[4]]));
                if width == 0 || height == 0 {
                    return Err(corrupt("图像尺寸为 0"));
                }
                let progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                frame.get_or_insert((width, height, progressive));
            }
            0xE1 => {
                let mut body = vec![0u8; body_len as usize];
                r.read_exact(&mut body).map_err(cut())?;
                if body.starts_with(EXIF_ID) && exif.is_none() {
                    exif = Some(body[EXIF_ID.len()..].to_vec());
                } else if body.starts_with(XMP_ID) && xmp.is_none() {
                    xmp = Some(SegmentAt {
                        offset: body_at,
                        len: body_len,
                    });
                }
            }
            // Start of scan: the entropy-coded data follows; the header is over.
            0xDA => {
                let (width, height, progressive) = frame.ok_or(corrupt("缺少图像尺寸信息"))?;
                return Ok(Header {
                    width,
                    height,
                    progressive,
                    exif,
                    xmp,
                });
            }
            _ => {}
        }
        pos = body_at + body_len;
    }
    Err(corrupt("段数量异常"))
}

/// The orientation tag, or `None` when the EXIF cannot be read or has a value outside 1–8.
fn exif_orientation(tiff: Vec<u8>) -> Option<u8> {
    let mut reader = exif::Reader::new();
    // Phones' maker notes are often slightly off; the orientation is still good.
    reader.continue_on_error(true);
    let exif = match reader.read_raw(tiff) {
        Ok(exif) => exif,
        Err(exif::Error::PartialResult(partial)) => partial.into_inner().0,
        Err(_) => return None,
    };
    let value = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .unwrap_or(1);
    u8::try_from(value).ok().filter(|v| (1..=8).contains(v))
}

/// True when the JPEG data ends with EOI (`FF D9`).
///
/// Tolerated after it: zero padding, and the trailers phones append to "motion photos" (an MP4
/// after the JPEG, announced in XMP; Samsung's `SEFT` block), which would otherwise make every
/// such photo look cut off.
fn ends_with_eoi<R: Read + Seek>(
    r: &mut R,
    file_size: u64,
    xmp: Option<&SegmentAt>,
) -> Result<bool, MediaError> {
    if eoi_before(r, file_size)? {
        return Ok(true);
    }
    if let Some(end) = samsung_trailer_start(r, file_size)?
        && eoi_before(r, end)?
    {
        return Ok(true);
    }
    if let Some(seg) = xmp {
        r.seek(SeekFrom::Start(seg.offset))?;
        let mut body = vec![0u8; seg.len as usize];
        r.read_exact(&mut body)
            .map_err(eof_as(MediaError::TruncatedJpeg))?;
        if let Some(video_len) = motion_photo_video_len(&body)
            && let Some(end) = file_size.checked_sub(video_len)
            && eoi_before(r, end)?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// True when the bytes before `end`, less any zero padding, finish with `FF D9`.
fn eoi_before<R: Read + Seek>(r: &mut R, end: u64) -> Result<bool, MediaError> {
    let start = end.saturating_sub(TAIL_WINDOW);
    r.seek(SeekFrom::Start(start))?;
    let mut tail = vec![0u8; (end - start) as usize];
    r.read_exact(&mut tail)?;
    let trimmed = match tail.iter().rposition(|&b| b != 0) {
        Some(last) => &tail[..=last],
        None => return Ok(false),
    };
    Ok(trimmed.ends_with(&[0xFF, 0xD9]))
}

/// Samsung appends a block ending in a 4-byte little-endian length and `SEFT`, which opens with
/// `SEFH`; the JPEG ends where that block starts.
fn samsung_trailer_start<R: Read + Seek>(
    r: &mut R,
    file_size: u64,
) -> Result<Option<u64>, MediaError> {
    if file_size < 16 {
        return Ok(None);
    }
    r.seek(SeekFrom::Start(file_size - 8))?;
    let mut end = [0u8; 8];
    r.read_exact(&mut end)?;
    if &end[4..] != b"SEFT" {
        return Ok(None);
    }
    let len = u64::from(u32::from_le_bytes([end[0], end[1], end[2], end[3]]));
    let Some(start) = file_size.checked_sub(8 + len) else {
        return Ok(None);
    };
    r.seek(SeekFrom::Start(start))?;
    let mut magic = [0u8; 4];
    r.read_exact(&mut magic)?;
    Ok((&magic == b"SEFH").then_some(start))
}

/// The length of the video a motion photo carries after its JPEG, from its XMP: Google's
/// `GCamera:MicroVideoOffset` (bytes from the end) or the `Container:Directory` item with
/// semantic `MotionPhoto` and its `Item:Length`.
fn motion_photo_video_len(xmp: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(xmp);
    if let Some(v) = attribute_after(&text, 0, "MicroVideoOffset=\"") {
        return Some(v);
    }
    let at = text.find("Item:Semantic=\"MotionPhoto\"")?;
    // The attributes of that one item: from its '<' to its '>'.
    let open = text[..at].rfind('<')?;
    let close = at + text[at..].find('>')?;
    attribute_after(&text[open..close], 0, "Item:Length=\"")
}

fn attribute_after(text: &str, from: usize, key: &str) -> Option<u64> {
    let start = from + text[from..].find(key)? + key.len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().filter(|&v| v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(body);
        s
    }

    fn sof(marker: u8, width: u16, height: u16) -> Vec<u8> {
        let mut b = vec![8];
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&width.to_be_bytes());
        b.extend_from_slice(&[1, 1, 0x11, 0]);
        segment(marker, &b)
    }

    /// A little-endian TIFF with one IFD entry: Orientation = `o`.
    fn exif_app1(o: u16) -> Vec<u8> {
        let mut b = EXIF_ID.to_vec();
        b.extend_from_slice(b"II*\0");
        b.extend_from_slice(&8u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
        b.extend_from_slice(&3u16.to_le_bytes()); // SHORT
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&u32::from(o).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
        segment(0xE1, &b)
    }

    /// A structurally complete JPEG header with a fake scan (the walker never decodes it).
    fn jpeg(parts: &[Vec<u8>]) -> Vec<u8> {
        let mut f = vec![0xFF, 0xD8];
        f.extend_from_slice(&segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        for p in parts {
            f.extend_from_slice(p);
        }
        f.extend_from_slice(&segment(0xDA, &[1, 1, 0, 0, 63, 0]));
        f.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        f.extend_from_slice(&[0xFF, 0xD9]);
        f
    }

    fn probe(bytes: &[u8]) -> Result<PhotoInfo, MediaError> {
        probe_photo(Cursor::new(bytes))
    }

    #[test]
    fn size_from_the_frame_header() {
        let info = probe(&jpeg(&[sof(0xC0, 4000, 3000)])).unwrap();
        assert_eq!((info.width, info.height), (4000, 3000));
        assert_eq!((info.display_width, info.display_height), (4000, 3000));
        assert_eq!(info.orientation, 1);
        assert!(!info.has_exif && !info.progressive);
    }

    #[test]
    fn progressive_frames_and_fill_bytes() {
        let mut parts = vec![vec![0xFF, 0xFF]]; // fill bytes before a marker
        parts.push(sof(0xC2, 640, 480));
        let info = probe(&jpeg(&parts)).unwrap();
        assert!(info.progressive);
        assert_eq!(info.width, 640);
    }

    #[test]
    fn exif_orientation_turns_the_displayed_size() {
        for (o, swapped) in [(1, false), (3, false), (6, true), (8, true), (5, true)] {
            let info = probe(&jpeg(&[exif_app1(o), sof(0xC0, 4000, 3000)])).unwrap();
            assert_eq!(info.orientation, o as u8);
            assert!(info.has_exif);
            let expect = if swapped { (3000, 4000) } else { (4000, 3000) };
            assert_eq!(
                (info.display_width, info.display_height),
                expect,
                "orientation {o}"
            );
        }
        // Out of range counts as upright.
        let info = probe(&jpeg(&[exif_app1(9), sof(0xC0, 40, 30)])).unwrap();
        assert_eq!(info.orientation, 1);
    }

    #[test]
    fn broken_exif_is_ignored_not_fatal() {
        let mut bad = EXIF_ID.to_vec();
        bad.extend_from_slice(b"XX*\0garbage");
        let info = probe(&jpeg(&[segment(0xE1, &bad), sof(0xC0, 40, 30)])).unwrap();
        assert_eq!(info.orientation, 1);
        assert!(!info.has_exif);
    }

    #[test]
    fn a_missing_end_marker_means_truncated() {
        let full = jpeg(&[sof(0xC0, 40, 30)]);
        let err = probe(&full[..full.len() - 2]).unwrap_err();
        assert!(matches!(err, MediaError::TruncatedJpeg), "{err:?}");
        // Cut inside the header.
        let err = probe(&full[..30]).unwrap_err();
        assert!(matches!(err, MediaError::TruncatedJpeg), "{err:?}");
        // A download that reserved the full size and stopped writing leaves zeros, not EOI.
        let mut zeroed = full.clone();
        let n = zeroed.len();
        zeroed[n - 5..].fill(0);
        assert!(matches!(probe(&zeroed), Err(MediaError::TruncatedJpeg)));
    }

    #[test]
    fn zero_padding_after_the_end_marker_is_fine() {
        let mut padded = jpeg(&[sof(0xC0, 40, 30)]);
        padded.extend_from_slice(&[0; 300]);
        assert!(probe(&padded).is_ok());
    }

    #[test]
    fn motion_photo_trailers_are_not_truncation() {
        let video = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom\0\0\0\x08mdat".to_vec();
        let xmp_body = format!(
            "{}<x:xmpmeta><rdf:Description GCamera:MotionPhoto=\"1\"><Container:Directory><rdf:Seq>\
             <rdf:li><Container:Item Item:Mime=\"image/jpeg\" Item:Semantic=\"Primary\" Item:Length=\"0\"/></rdf:li>\
             <rdf:li><Container:Item Item:Mime=\"video/mp4\" Item:Semantic=\"MotionPhoto\" Item:Length=\"{}\"/></rdf:li>\
             </rdf:Seq></Container:Directory></rdf:Description></x:xmpmeta>",
            String::from_utf8_lossy(XMP_ID),
            video.len()
        );
        let mut file = jpeg(&[segment(0xE1, xmp_body.as_bytes()), sof(0xC0, 40, 30)]);
        file.extend_from_slice(&video);
        assert!(probe(&file).is_ok());

        let old_style = format!(
            "{}<rdf:Description GCamera:MicroVideo=\"1\" GCamera:MicroVideoOffset=\"{}\"/>",
            String::from_utf8_lossy(XMP_ID),
            video.len()
        );
        let mut file = jpeg(&[segment(0xE1, old_style.as_bytes()), sof(0xC0, 40, 30)]);
        file.extend_from_slice(&video);
        assert!(probe(&file).is_ok());

        // The same trailer without the XMP that announces it is not accepted.
        let mut file = jpeg(&[sof(0xC0, 40, 30)]);
        file.extend_from_slice(&video);
        assert!(matches!(probe(&file), Err(MediaError::TruncatedJpeg)));

        let mut samsung = jpeg(&[sof(0xC0, 40, 30)]);
        let block = b"SEFH\x6b\0\0\0\x01\0\0\0MotionPhoto_Data";
        samsung.extend_from_slice(block);
        samsung.extend_from_slice(&(block.len() as u32).to_le_bytes());
        samsung.extend_from_slice(b"SEFT");
        assert!(probe(&samsung).is_ok());
    }

    #[test]
    fn other_formats_are_named() {
        let png = b"\x89PNG\r\n\x1A\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0";
        let err = probe(png).unwrap_err();
        assert_eq!(err.to_string(), "文件不是 JPEG 图片（内容为 PNG 图片）");
        assert!(matches!(probe(b""), Err(MediaError::Empty)));
    }

    #[test]
    fn header_without_frame_or_with_zero_size_is_corrupt() {
        let err = probe(&jpeg(&[])).unwrap_err();
        assert!(matches!(
            err,
            MediaError::CorruptJpeg {
                reason: "缺少图像尺寸信息"
            }
        ));
        let err = probe(&jpeg(&[sof(0xC0, 0, 30)])).unwrap_err();
        assert!(matches!(err, MediaError::CorruptJpeg { .. }));
    }

    #[test]
    fn damaged_bytes_anywhere_never_panic() {
        let file = jpeg(&[exif_app1(6), sof(0xC0, 40, 30)]);
        for i in 0..file.len() {
            for v in [0x00, 0x02, 0xD9, 0xFF] {
                let mut bad = file.clone();
                bad[i] = v;
                let _ = probe(&bad);
            }
            let _ = probe(&file[..i]);
        }
    }
}
