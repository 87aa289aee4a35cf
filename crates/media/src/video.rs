//! MP4 and QuickTime headers by a small ISO-BMFF box walker of our own.
//!
//! The top level is walked by seeking: only box headers are read, so the media data (`mdat`)
//! is never touched and a `moov` at the end of a large file costs a few seeks. `moov` itself
//! (usually tens of KB) is read whole, capped, and parsed from memory.
//!
//! Why our own: the `mp4` crate is unmaintained, rejects HEVC `hvc1` sample entries and reports
//! 0 s for fragmented files; `mp4parse` reads the whole file.

use crate::read_up_to;
use std::io::{Read, Seek, SeekFrom};

use crate::error::{MediaError, eof_as};
use crate::sniff::{Sniffed, brand_kind, sniff};

/// The most of `moov` we hold in memory. A three-minute phone video has well under 1 MiB;
/// hours of 60 fps video stay below 64 MiB.
pub const MOOV_LIMIT: u64 = 64 * 1024 * 1024;
/// The most of one `moof` we read to sum fragment durations.
const MOOF_LIMIT: u64 = 4 * 1024 * 1024;
/// Top-level boxes we are willing to visit; real files have a handful, or two per fragment.
const MAX_TOP_LEVEL_BOXES: usize = 200_000;

/// MP4 or QuickTime, from the `ftyp` brands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Mp4,
    Mov,
}

impl Container {
    pub fn label(self) -> &'static str {
        match self {
            Container::Mp4 => "MP4",
            Container::Mov => "MOV",
        }
    }
}

/// Clockwise turn a player applies to the coded picture, from the `tkhd` matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    R0,
    R90,
    R180,
    R270,
}

impl Rotation {
    pub fn degrees(self) -> u16 {
        match self {
            Rotation::R0 => 0,
            Rotation::R90 => 90,
            Rotation::R180 => 180,
            Rotation::R270 => 270,
        }
    }

    /// True when the displayed picture's width is the coded height.
    pub fn swaps_sides(self) -> bool {
        matches!(self, Rotation::R90 | Rotation::R270)
    }

    fn from_quarters(q: u16) -> Rotation {
        match q % 4 {
            0 => Rotation::R0,
            1 => Rotation::R90,
            2 => Rotation::R180,
            _ => Rotation::R270,
        }
    }

    fn quarters(self) -> u16 {
        self.degrees() / 90
    }

    /// The nearest quarter turn of a display matrix `[a b u; c d v; x y w]`.
    ///
    /// A point maps as x' = a·x + c·y, y' = b·x + d·y, so the turn is atan2(b, a); comparing
    /// magnitudes picks the nearest quarter without floats. A phone held upright writes
    /// a=0, b=1, c=−1, d=0: 90°. Mirroring matrices keep the sides, which is all we need.
    pub fn from_matrix(matrix: &[i32; 9]) -> Rotation {
        let (a, b) = (i64::from(matrix[0]), i64::from(matrix[1]));
        if a == 0 && b == 0 {
            Rotation::R0
        } else if a.abs() >= b.abs() {
            if a >= 0 { Rotation::R0 } else { Rotation::R180 }
        } else if b > 0 {
            Rotation::R90
        } else {
            Rotation::R270
        }
    }
}

/// A sample-entry code such as `avc1` or `hvc1`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FourCc(pub [u8; 4]);

impl FourCc {
    /// The code as text; bytes that are not printable ASCII show as '?'.
    pub fn as_string(&self) -> String {
        self.0
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '?'
                }
            })
            .collect()
    }

    /// A common name for the codec, when we know it ("H.264", "H.265/HEVC").
    pub fn codec_name(&self) -> Option<&'static str> {
        Some(match &self.0 {
            b"avc1" | b"avc2" | b"avc3" | b"avc4" => "H.264",
            b"hvc1" | b"hev1" | b"dvh1" | b"dvhe" => "H.265/HEVC",
            b"av01" => "AV1",
            b"vp08" => "VP8",
            b"vp09" => "VP9",
            b"mp4v" => "MPEG-4 Part 2",
            b"apcn" | b"apch" | b"apcs" | b"apco" | b"ap4h" | b"ap4x" => "Apple ProRes",
            b"jpeg" | b"mjpa" | b"mjpb" => "Motion JPEG",
            _ => return None,
        })
    }
}

impl std::fmt::Debug for FourCc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FourCc({:?})", self.as_string())
    }
}

impl std::fmt::Display for FourCc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_string())
    }
}

/// What [`probe_video`] measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoInfo {
    pub container: Container,
    pub file_size: u64,
    /// Presentation length in milliseconds (rounded down).
    pub duration_ms: u64,
    /// Picture size as stored (`tkhd`, before the matrix).
    pub coded_width: u32,
    pub coded_height: u32,
    pub rotation: Rotation,
    /// Picture size as a player shows it: the coded sides swapped at 90° and 270°.
    pub display_width: u32,
    pub display_height: u32,
    /// Sample entry of the video track (`avc1`, `hvc1`, `hev1`, …).
    pub codec: FourCc,
    pub has_audio: bool,
    /// Movie fragments (`mvex` in `moov`): durations then come from `mehd` or the fragments.
    pub fragmented: bool,
}

/// Reads an MP4 or MOV's headers: container, duration, picture size with rotation, codec.
///
/// Reads box headers and `moov` only; give it the file itself (a `BufReader` would turn every
/// header read into an 8 KiB one).
pub fn probe_video<R: Read + Seek>(mut r: R) -> Result<VideoInfo, MediaError> {
    let file_size = r.seek(SeekFrom::End(0))?;
    if file_size == 0 {
        return Err(MediaError::Empty);
    }
    r.seek(SeekFrom::Start(0))?;
    let mut head = [0u8; 64];
    let n = read_up_to(&mut r, &mut head)?;
    let kind = sniff(&head[..n]);
    if !kind.is_video_we_read() {
        return Err(MediaError::WrongType {
            expected: "MP4 或 MOV 视频",
            found: kind,
        });
    }

    let mut container = if kind == Sniffed::Mov {
        Container::Mov
    } else {
        Container::Mp4
    };
    let mut movie: Option<Movie> = None;
    let mut fragments = FragmentClock::default();
    let mut pos = 0u64;
    let mut visited = 0usize;

    while file_size - pos >= 8 {
        visited += 1;
        if visited > MAX_TOP_LEVEL_BOXES {
            return Err(corrupt("顶层盒子数量异常"));
        }
        let header = read_top_header(&mut r, pos, file_size)?;
        let Some(header) = header else {
            // Junk after a complete movie (padding some tools leave) is harmless; before it,
            // the file is not what its first bytes promised.
            if movie.is_some() {
                break;
            }
            return Err(corrupt("盒子头无效"));
        };
        let body_len = header.size - header.header_len;
        let end = pos + header.size;

        if &header.typ == b"moov" && movie.is_none() && body_len > MOOV_LIMIT {
            return Err(MediaError::MoovTooLarge {
                size: body_len,
                limit: MOOV_LIMIT,
            });
        }
        if end > file_size {
            // A box that runs past the end: the file was cut. With `moov` at the end (the
            // default of most encoders) a cut always loses it first.
            return Err(if movie.is_none() && &header.typ != b"moov" {
                MediaError::MissingMoov
            } else {
                MediaError::TruncatedVideo
            });
        }

        match &header.typ {
            b"ftyp" => {
                let body = read_body(&mut r, pos + header.header_len, body_len.min(1024))?;
                if body.len() >= 8 {
                    let compatible: Vec<&[u8]> = body[8..].chunks_exact(4).collect();
                    container = match brand_kind(&body[..4], &compatible) {
                        Sniffed::Mov => Container::Mov,
                        Sniffed::Mp4 => Container::Mp4,
                        other => {
                            return Err(MediaError::WrongType {
                                expected: "MP4 或 MOV 视频",
                                found: other,
                            });
                        }
                    };
                }
            }
            b"moov" if movie.is_none() => {
                let body = read_body(&mut r, pos + header.header_len, body_len)?;
                movie = Some(parse_moov(&body)?);
            }
            b"moof" if movie.as_ref().is_some_and(Movie::needs_fragment_clock) => {
                // Skipping a fragment would understate the length; refuse instead.
                if body_len > MOOF_LIMIT {
                    return Err(corrupt("片段信息过大"));
                }
                let body = read_body(&mut r, pos + header.header_len, body_len)?;
                fragments.add_moof(&body, movie.as_ref().map_or(&[][..], |m| &m.trex))?;
            }
            _ => {}
        }
        pos = end;
    }

    let movie = movie.ok_or(MediaError::MissingMoov)?;
    movie.into_info(container, file_size, &fragments)
}

fn corrupt(reason: &'static str) -> MediaError {
    MediaError::CorruptVideo { reason }
}

fn read_body<R: Read + Seek>(r: &mut R, at: u64, len: u64) -> Result<Vec<u8>, MediaError> {
    r.seek(SeekFrom::Start(at))?;
    let mut body = Vec::new();
    // `take` bounds the allocation by what is really there, whatever the header claimed.
    r.by_ref().take(len).read_to_end(&mut body)?;
    if (body.len() as u64) < len {
        return Err(MediaError::TruncatedVideo);
    }
    Ok(body)
}

struct TopHeader {
    typ: [u8; 4],
    header_len: u64,
    size: u64,
}

/// The header of the top-level box at `pos`, or `None` when the bytes there are no box.
fn read_top_header<R: Read + Seek>(
    r: &mut R,
    pos: u64,
    file_size: u64,
) -> Result<Option<TopHeader>, MediaError> {
    r.seek(SeekFrom::Start(pos))?;
    let mut h = [0u8; 8];
    r.read_exact(&mut h)
        .map_err(eof_as(MediaError::TruncatedVideo))?;
    let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let typ = [h[4], h[5], h[6], h[7]];
    if !typ.iter().all(|b| (0x20..0x7f).contains(b)) {
        return Ok(None);
    }
    let (header_len, size) = match size32 {
        // Size 0: the box runs to the end of the file (a recording's last `mdat`).
        0 => (8, file_size - pos),
        // Size 1: a 64-bit size follows (`mdat` above 4 GiB).
        1 => {
            let mut big = [0u8; 8];
            r.read_exact(&mut big)
                .map_err(eof_as(MediaError::TruncatedVideo))?;
            (16, u64::from_be_bytes(big))
        }
        n => (8, u64::from(n)),
    };
    if size < header_len || pos.checked_add(size).is_none() {
        return Ok(None);
    }
    Ok(Some(TopHeader {
        typ,
        header_len,
        size,
    }))
}

/// A box inside an in-memory parent.
struct Child<'a> {
    typ: [u8; 4],
    body: &'a [u8],
}

/// The boxes directly inside `data`, each checked to fit in its parent.
fn children(data: &[u8]) -> impl Iterator<Item = Result<Child<'_>, MediaError>> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        // Fewer than 8 bytes cannot be a box; some writers pad containers with zeros.
        if rest.len() < 8 {
            rest = &[];
            return None;
        }
        let size32 = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let typ = [rest[4], rest[5], rest[6], rest[7]];
        let (header_len, size) = match size32 {
            0 => (8usize, rest.len() as u64),
            1 => {
                let Some(big) = rest.get(8..16) else {
                    rest = &[];
                    return Some(Err(corrupt("盒子长度超出其上级")));
                };
                let mut b = [0u8; 8];
                b.copy_from_slice(big);
                (16, u64::from_be_bytes(b))
            }
            n => (8, u64::from(n)),
        };
        if size < header_len as u64 {
            if size32 == 0 && typ == [0; 4] {
                // An all-zero terminator (QuickTime allows one at the end of a container).
                rest = &[];
                return None;
            }
            rest = &[];
            return Some(Err(corrupt("盒子长度无效")));
        }
        if size > rest.len() as u64 {
            rest = &[];
            return Some(Err(corrupt("盒子长度超出其上级")));
        }
        let size = size as usize;
        let child = Child {
            typ,
            body: &rest[header_len..size],
        };
        rest = &rest[size..];
        Some(Ok(child))
    })
}

/// The first child of type `typ`, if any.
fn find<'a>(data: &'a [u8], typ: &[u8; 4]) -> Result<Option<&'a [u8]>, MediaError> {
    for child in children(data) {
        let child = child?;
        if &child.typ == typ {
            return Ok(Some(child.body));
        }
    }
    Ok(None)
}

/// Follows a path of nested boxes (`mdia/minf/stbl/stsd`).
fn find_path<'a>(data: &'a [u8], path: &[&[u8; 4]]) -> Result<Option<&'a [u8]>, MediaError> {
    let mut here = data;
    for typ in path {
        match find(here, typ)? {
            Some(body) => here = body,
            None => return Ok(None),
        }
    }
    Ok(Some(here))
}

/// Big-endian reads from a box body that fail, rather than panic, when it is short.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(data: &'a [u8]) -> Self {
        Cursor { data, pos: 0 }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], MediaError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| corrupt("盒子内容过短"))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn skip(&mut self, n: usize) -> Result<(), MediaError> {
        self.take(n).map(|_| ())
    }

    fn u16(&mut self) -> Result<u16, MediaError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, MediaError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, MediaError> {
        let hi = self.u32()?;
        let lo = self.u32()?;
        Ok((u64::from(hi) << 32) | u64::from(lo))
    }

    fn fourcc(&mut self) -> Result<[u8; 4], MediaError> {
        let b = self.take(4)?;
        Ok([b[0], b[1], b[2], b[3]])
    }

    /// Version and flags of a full box.
    fn full_header(&mut self) -> Result<(u8, u32), MediaError> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0x00ff_ffff))
    }

    /// A duration field: 64-bit in version 1, 32-bit otherwise, all ones meaning unknown.
    fn duration(&mut self, version: u8) -> Result<u64, MediaError> {
        if version == 1 {
            let d = self.u64()?;
            Ok(if d == u64::MAX { 0 } else { d })
        } else {
            let d = self.u32()?;
            Ok(if d == u32::MAX { 0 } else { u64::from(d) })
        }
    }

    fn matrix(&mut self) -> Result<[i32; 9], MediaError> {
        let mut m = [0i32; 9];
        for v in &mut m {
            *v = self.u32()? as i32;
        }
        Ok(m)
    }
}

#[derive(Debug, Default)]
struct Track {
    id: u32,
    enabled: bool,
    handler: [u8; 4],
    width: u32,
    height: u32,
    rotation: Option<Rotation>,
    timescale: u32,
    duration: u64,
    codec: Option<FourCc>,
    entry_width: u32,
    entry_height: u32,
}

#[derive(Debug, Clone, Copy)]
struct Trex {
    track_id: u32,
    default_duration: u32,
}

#[derive(Debug, Default)]
struct Movie {
    timescale: u32,
    duration: u64,
    rotation: Option<Rotation>,
    fragmented: bool,
    fragment_duration: u64,
    trex: Vec<Trex>,
    tracks: Vec<Track>,
}

impl Movie {
    fn video_track(&self) -> Option<&Track> {
        let mut videos = self.tracks.iter().filter(|t| &t.handler == b"vide");
        let first = videos.clone().next();
        videos.find(|t| t.enabled).or(first)
    }

    /// A fragmented file whose headers state no length: the fragments must be added up.
    fn needs_fragment_clock(&self) -> bool {
        self.fragmented
            && self.duration == 0
            && self.fragment_duration == 0
            && self.video_track().is_some_and(|t| t.duration == 0)
    }

    fn into_info(
        self,
        container: Container,
        file_size: u64,
        fragments: &FragmentClock,
    ) -> Result<VideoInfo, MediaError> {
        let video = self.video_track().ok_or(MediaError::NoVideoTrack)?;
        let duration_ms = if self.duration > 0 || self.fragment_duration > 0 {
            let d = if self.duration > 0 {
                self.duration
            } else {
                self.fragment_duration
            };
            if self.timescale == 0 {
                return Err(corrupt("时间刻度为 0"));
            }
            to_ms(d, self.timescale)
        } else {
            let d = if video.duration > 0 {
                video.duration
            } else {
                fragments.end_of(video.id)
            };
            if video.timescale == 0 || d == 0 {
                return Err(corrupt("无法读取视频时长"));
            }
            to_ms(d, video.timescale)
        };

        let (coded_width, coded_height) = if video.width > 0 && video.height > 0 {
            (video.width, video.height)
        } else {
            (video.entry_width, video.entry_height)
        };
        if coded_width == 0 || coded_height == 0 {
            return Err(corrupt("无法读取画面尺寸"));
        }
        let quarters = video.rotation.unwrap_or(Rotation::R0).quarters()
            + self.rotation.unwrap_or(Rotation::R0).quarters();
        let rotation = Rotation::from_quarters(quarters);
        let (display_width, display_height) = if rotation.swaps_sides() {
            (coded_height, coded_width)
        } else {
            (coded_width, coded_height)
        };
        Ok(VideoInfo {
            container,
            file_size,
            duration_ms,
            coded_width,
            coded_height,
            rotation,
            display_width,
            display_height,
            codec: video.codec.unwrap_or(FourCc(*b"????")),
            has_audio: self.tracks.iter().any(|t| &t.handler == b"soun"),
            fragmented: self.fragmented,
        })
    }
}

fn to_ms(duration: u64, timescale: u32) -> u64 {
    (u128::from(duration) * 1000 / u128::from(timescale)).min(u128::from(u64::MAX)) as u64
}

fn parse_moov(moov: &[u8]) -> Result<Movie, MediaError> {
    let mut movie = Movie::default();
    let mut seen_mvhd = false;
    for child in children(moov) {
        let child = child?;
        match &child.typ {
            b"mvhd" if !seen_mvhd => {
                seen_mvhd = true;
                let mut c = Cursor::new(child.body);
                let (version, _) = c.full_header()?;
                c.skip(if version == 1 { 16 } else { 8 })?; // creation, modification
                movie.timescale = c.u32()?;
                movie.duration = c.duration(version)?;
                // rate 4, volume 2, reserved 10, then the movie matrix.
                c.skip(16)?;
                movie.rotation = Some(Rotation::from_matrix(&c.matrix()?));
            }
            b"trak" => movie.tracks.push(parse_trak(child.body)?),
            b"mvex" => {
                movie.fragmented = true;
                parse_mvex(child.body, &mut movie)?;
            }
            _ => {}
        }
    }
    if !seen_mvhd {
        return Err(corrupt("缺少 mvhd 信息"));
    }
    Ok(movie)
}

fn parse_trak(trak: &[u8]) -> Result<Track, MediaError> {
    let mut track = Track::default();
    if let Some(tkhd) = find(trak, b"tkhd")? {
        let mut c = Cursor::new(tkhd);
        let (version, flags) = c.full_header()?;
        track.enabled = flags & 1 != 0;
        c.skip(if version == 1 { 16 } else { 8 })?;
        track.id = c.u32()?;
        c.skip(4)?; // reserved
        c.duration(version)?;
        c.skip(16)?; // reserved 8, layer, alternate group, volume, reserved
        track.rotation = Some(Rotation::from_matrix(&c.matrix()?));
        // 16.16 fixed point, rounded to whole pixels.
        track.width = c.u32()?.saturating_add(0x8000) >> 16;
        track.height = c.u32()?.saturating_add(0x8000) >> 16;
    }
    let Some(mdia) = find(trak, b"mdia")? else {
        return Ok(track);
    };
    if let Some(hdlr) = find(mdia, b"hdlr")? {
        let mut c = Cursor::new(hdlr);
        c.full_header()?;
        c.skip(4)?; // pre_defined (QuickTime: component type)
        track.handler = c.fourcc()?;
    }
    if let Some(mdhd) = find(mdia, b"mdhd")? {
        let mut c = Cursor::new(mdhd);
        let (version, _) = c.full_header()?;
        c.skip(if version == 1 { 16 } else { 8 })?;
        track.timescale = c.u32()?;
        track.duration = c.duration(version)?;
    }
    if let Some(stsd) = find_path(mdia, &[b"minf", b"stbl", b"stsd"])? {
        let mut c = Cursor::new(stsd);
        c.full_header()?;
        let count = c.u32()?;
        // Only the first sample entry matters; its count is not trusted beyond that.
        if count > 0
            && let Some(entry) = children(&stsd[8..]).next()
        {
            let entry = entry?;
            track.codec = Some(FourCc(entry.typ));
            if &track.handler == b"vide" {
                // VisualSampleEntry: 6 reserved, data ref index, 16 pre-defined/reserved, w, h.
                let mut e = Cursor::new(entry.body);
                if e.skip(24).is_ok() {
                    track.entry_width = u32::from(e.u16().unwrap_or(0));
                    track.entry_height = u32::from(e.u16().unwrap_or(0));
                }
            }
        }
    }
    Ok(track)
}

fn parse_mvex(mvex: &[u8], movie: &mut Movie) -> Result<(), MediaError> {
    for child in children(mvex) {
        let child = child?;
        let mut c = Cursor::new(child.body);
        match &child.typ {
            b"mehd" => {
                let (version, _) = c.full_header()?;
                movie.fragment_duration = c.duration(version)?;
            }
            b"trex" => {
                c.full_header()?;
                let track_id = c.u32()?;
                c.skip(4)?; // default sample description index
                let default_duration = c.u32()?;
                movie.trex.push(Trex {
                    track_id,
                    default_duration,
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// The end time of each track in a fragmented file, from `tfdt` and the `trun` durations.
#[derive(Debug, Default)]
struct FragmentClock {
    /// (track id, end in the track's timescale)
    ends: Vec<(u32, u64)>,
}

impl FragmentClock {
    fn end_of(&self, track_id: u32) -> u64 {
        self.ends
            .iter()
            .find(|(id, _)| *id == track_id)
            .map_or(0, |(_, end)| *end)
    }

    fn add_moof(&mut self, moof: &[u8], trex: &[Trex]) -> Result<(), MediaError> {
        for traf in children(moof) {
            let traf = traf?;
            if &traf.typ == b"traf" {
                self.add_traf(traf.body, trex)?;
            }
        }
        Ok(())
    }

    fn add_traf(&mut self, traf: &[u8], trex: &[Trex]) -> Result<(), MediaError> {
        let Some(tfhd) = find(traf, b"tfhd")? else {
            return Ok(());
        };
        let mut c = Cursor::new(tfhd);
        let (_, flags) = c.full_header()?;
        let track_id = c.u32()?;
        if flags & 0x01 != 0 {
            c.skip(8)?; // base data offset
        }
        if flags & 0x02 != 0 {
            c.skip(4)?; // sample description index
        }
        let mut default_duration = trex
            .iter()
            .find(|t| t.track_id == track_id)
            .map_or(0, |t| t.default_duration);
        if flags & 0x08 != 0 {
            default_duration = c.u32()?;
        }

        let mut start = None;
        let mut total = 0u64;
        for child in children(traf) {
            let child = child?;
            let mut c = Cursor::new(child.body);
            match &child.typ {
                b"tfdt" => {
                    let (version, _) = c.full_header()?;
                    start = Some(if version == 1 {
                        c.u64()?
                    } else {
                        u64::from(c.u32()?)
                    });
                }
                b"trun" => total = total.saturating_add(trun_duration(c, default_duration)?),
                _ => {}
            }
        }
        let previous = self.end_of(track_id);
        // Without `tfdt` a fragment starts where the previous one of its track ended.
        let end = start.unwrap_or(previous).saturating_add(total);
        match self.ends.iter_mut().find(|(id, _)| *id == track_id) {
            Some(slot) => slot.1 = slot.1.max(end),
            None => self.ends.push((track_id, end)),
        }
        Ok(())
    }
}

fn trun_duration(mut c: Cursor<'_>, default_duration: u32) -> Result<u64, MediaError> {
    let (_, flags) = c.full_header()?;
    let count = c.u32()?;
    if flags & 0x001 != 0 {
        c.skip(4)?; // data offset
    }
    if flags & 0x004 != 0 {
        c.skip(4)?; // first sample flags
    }
    if flags & 0x100 == 0 {
        return Ok(u64::from(count) * u64::from(default_duration));
    }
    let per_sample = 4 * [0x100, 0x200, 0x400, 0x800]
        .iter()
        .filter(|&&bit| flags & bit != 0)
        .count();
    // The count must fit the box: a forged count cannot make us loop for long.
    let needed = (count as usize)
        .checked_mul(per_sample)
        .ok_or_else(|| corrupt("样本数量异常"))?;
    if needed > c.data.len() - c.pos {
        return Err(corrupt("样本数量异常"));
    }
    let mut total = 0u64;
    for _ in 0..count {
        total = total.saturating_add(u64::from(c.u32()?));
        c.skip(per_sample - 4)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests;
