//! What a file is, by its first bytes. File names and browser-sent types are the uploader's
//! claim; these bytes are what a viewer will actually meet.

/// How many leading bytes [`sniff`] wants to see: the PDF header may sit anywhere in the first
/// 1024 (PDF 1.7 §7.5.2 tolerance that readers honour), everything else is within 64.
pub const SNIFF_LEN: usize = 1024;

/// The kind of file the first bytes show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sniffed {
    Jpeg,
    Png,
    Gif,
    Webp,
    Bmp,
    Tiff,
    /// HEIF still image (an iPhone's default photo format).
    Heic,
    Avif,
    Mp4,
    /// QuickTime: an `ftyp` with brand `qt  `, or an old file that starts with a bare box.
    Mov,
    Avi,
    /// Matroska or WebM.
    Matroska,
    Pdf,
    /// A ZIP archive that is not an Office document.
    Zip,
    /// A Word/Excel/PowerPoint file of 2007 or later (a ZIP inside).
    OfficeOpenXml,
    /// A Word/Excel/PowerPoint file of the 1997–2003 format.
    OfficeLegacy,
    Rar,
    SevenZip,
    Unknown,
}

impl Sniffed {
    /// Chinese name for messages ("内容为 PNG 图片").
    pub fn label(self) -> &'static str {
        match self {
            Sniffed::Jpeg => "JPEG 图片",
            Sniffed::Png => "PNG 图片",
            Sniffed::Gif => "GIF 图片",
            Sniffed::Webp => "WebP 图片",
            Sniffed::Bmp => "BMP 图片",
            Sniffed::Tiff => "TIFF 图片",
            Sniffed::Heic => "HEIC 图片",
            Sniffed::Avif => "AVIF 图片",
            Sniffed::Mp4 => "MP4 视频",
            Sniffed::Mov => "MOV 视频",
            Sniffed::Avi => "AVI 视频",
            Sniffed::Matroska => "MKV/WebM 视频",
            Sniffed::Pdf => "PDF 文件",
            Sniffed::Zip => "ZIP 压缩包",
            Sniffed::OfficeOpenXml => "Office 文档（docx/xlsx/pptx）",
            Sniffed::OfficeLegacy => "旧版 Office 文档（doc/xls/ppt）",
            Sniffed::Rar => "RAR 压缩包",
            Sniffed::SevenZip => "7z 压缩包",
            Sniffed::Unknown => "无法识别的格式",
        }
    }

    /// True for the two containers [`crate::probe_video`] reads.
    pub fn is_video_we_read(self) -> bool {
        matches!(self, Sniffed::Mp4 | Sniffed::Mov)
    }
}

impl std::fmt::Display for Sniffed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// What the first bytes say the file is. Give it [`SNIFF_LEN`] bytes when the file has them
/// (64 are enough for everything but a PDF whose header is preceded by junk).
pub fn sniff(head: &[u8]) -> Sniffed {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);

    if at(0, b"\xFF\xD8\xFF") {
        return Sniffed::Jpeg;
    }
    if at(0, b"\x89PNG\r\n\x1A\n") {
        return Sniffed::Png;
    }
    if at(0, b"GIF87a") || at(0, b"GIF89a") {
        return Sniffed::Gif;
    }
    if at(0, b"RIFF") && at(8, b"WEBP") {
        return Sniffed::Webp;
    }
    if at(0, b"RIFF") && at(8, b"AVI ") {
        return Sniffed::Avi;
    }
    if at(0, b"II*\0") || at(0, b"MM\0*") {
        return Sniffed::Tiff;
    }
    if at(0, b"BM") && is_bmp_header(head) {
        return Sniffed::Bmp;
    }
    if at(0, b"\x1A\x45\xDF\xA3") {
        return Sniffed::Matroska;
    }
    if at(0, b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return Sniffed::OfficeLegacy;
    }
    if at(0, b"PK\x03\x04") || at(0, b"PK\x05\x06") {
        return sniff_zip(head);
    }
    if at(0, b"Rar!\x1A\x07") {
        return Sniffed::Rar;
    }
    if at(0, b"7z\xBC\xAF\x27\x1C") {
        return Sniffed::SevenZip;
    }
    if at(4, b"ftyp") {
        return sniff_ftyp(head);
    }
    // QuickTime files from before `ftyp` existed open with one of these boxes.
    if [b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"]
        .iter()
        .any(|t| at(4, *t))
        && head.len() >= 8
    {
        return Sniffed::Mov;
    }
    let window = &head[..head.len().min(SNIFF_LEN)];
    if window.windows(5).any(|w| w == b"%PDF-") {
        return Sniffed::Pdf;
    }
    Sniffed::Unknown
}

/// A bare "BM" is too common in text to mean BMP; the DIB header size must be a known one.
fn is_bmp_header(head: &[u8]) -> bool {
    head.get(14..18)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .is_some_and(|n| matches!(n, 12 | 40 | 52 | 56 | 64 | 108 | 124))
}

/// Office files are ZIPs whose first entry is `[Content_Types].xml` (or, written by some
/// tools, one of the package folders); telling them apart helps the uploader who sent a
/// Word file where a PDF was asked for.
fn sniff_zip(head: &[u8]) -> Sniffed {
    let name_len = head
        .get(26..28)
        .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let name = head.get(30..30 + name_len).unwrap_or(&[]);
    let office = name == b"[Content_Types].xml"
        || [&b"word/"[..], b"xl/", b"ppt/", b"_rels/", b"docProps/"]
            .iter()
            .any(|p| name.starts_with(p));
    if office {
        Sniffed::OfficeOpenXml
    } else {
        Sniffed::Zip
    }
}

/// The `ftyp` brands decide among MP4, QuickTime and the HEIF images that share the format.
pub(crate) fn sniff_ftyp(head: &[u8]) -> Sniffed {
    let size = head
        .get(0..4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let major = head.get(8..12).unwrap_or(&[]);
    // Compatible brands follow the 4-byte minor version; read only what the head holds.
    let end = size.clamp(16, 16 + 4 * 32).min(head.len());
    let compatible: Vec<&[u8]> = head.get(16..end).unwrap_or(&[]).chunks_exact(4).collect();
    brand_kind(major, &compatible)
}

pub(crate) fn brand_kind(major: &[u8], compatible: &[&[u8]]) -> Sniffed {
    const HEIF: [&[u8]; 8] = [
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
    ];
    const AVIF: [&[u8]; 2] = [b"avif", b"avis"];
    if major == b"qt  " {
        return Sniffed::Mov;
    }
    if AVIF.contains(&major) {
        return Sniffed::Avif;
    }
    if HEIF.contains(&major) {
        return Sniffed::Heic;
    }
    // A generic major brand ("isom", "mp42", …) is MP4 unless only QuickTime is claimed.
    if compatible.contains(&&b"qt  "[..])
        && !compatible
            .iter()
            .any(|b| b.starts_with(b"iso") || b.starts_with(b"mp4") || *b == b"avc1")
    {
        return Sniffed::Mov;
    }
    Sniffed::Mp4
}

/// What a file is, from its first [`SNIFF_LEN`] bytes; the reader is left at the start.
pub fn sniff_reader<R: std::io::Read + std::io::Seek>(r: &mut R) -> std::io::Result<Sniffed> {
    r.seek(std::io::SeekFrom::Start(0))?;
    let mut head = [0u8; SNIFF_LEN];
    let n = crate::read_up_to(r, &mut head)?;
    r.seek(std::io::SeekFrom::Start(0))?;
    Ok(sniff(&head[..n]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len() as u32;
        let mut b = size.to_be_bytes().to_vec();
        b.extend_from_slice(b"ftyp");
        b.extend_from_slice(major);
        b.extend_from_slice(&[0, 0, 2, 0]);
        for c in compatible {
            b.extend_from_slice(*c);
        }
        b.extend_from_slice(&[0, 0, 0, 8]);
        b.extend_from_slice(b"mdat");
        b
    }

    #[test]
    fn images_by_magic() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0"), Sniffed::Jpeg);
        assert_eq!(sniff(b"\x89PNG\r\n\x1A\n\0\0\0\rIHDR"), Sniffed::Png);
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Sniffed::Gif);
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Sniffed::Webp);
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), Sniffed::Tiff);
        let mut bmp = b"BM\0\0\0\0\0\0\0\0\x36\0\0\0".to_vec();
        bmp.extend_from_slice(&40u32.to_le_bytes());
        assert_eq!(sniff(&bmp), Sniffed::Bmp);
        assert_eq!(
            sniff(b"BMW cars are fast, this is plain text"),
            Sniffed::Unknown
        );
        assert_eq!(sniff(&ftyp(b"heic", &[b"mif1", b"heic"])), Sniffed::Heic);
        assert_eq!(sniff(&ftyp(b"mif1", &[b"mif1", b"heic"])), Sniffed::Heic);
        assert_eq!(sniff(&ftyp(b"avif", &[b"avif", b"mif1"])), Sniffed::Avif);
    }

    #[test]
    fn videos_by_brand_and_box() {
        assert_eq!(
            sniff(&ftyp(b"isom", &[b"isom", b"iso2", b"avc1", b"mp41"])),
            Sniffed::Mp4
        );
        assert_eq!(sniff(&ftyp(b"mp42", &[b"mp42", b"isom"])), Sniffed::Mp4);
        assert_eq!(sniff(&ftyp(b"qt  ", &[b"qt  "])), Sniffed::Mov);
        assert_eq!(sniff(&ftyp(b"M4V ", &[b"M4V ", b"qt  "])), Sniffed::Mov);
        assert_eq!(sniff(b"\0\0\0\x08wide\0\0\x10\0mdat"), Sniffed::Mov);
        assert_eq!(sniff(b"\0\0\x01\0moov\0\0\0\x6cmvhd"), Sniffed::Mov);
        assert_eq!(
            sniff(b"\x1A\x45\xDF\xA3\x9f\x42\x86\x81"),
            Sniffed::Matroska
        );
        assert_eq!(sniff(b"RIFF\0\0\0\0AVI LIST"), Sniffed::Avi);
    }

    #[test]
    fn pdf_header_may_follow_junk_within_1024_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"), Sniffed::Pdf);
        let mut junk = vec![b' '; 1000];
        junk.extend_from_slice(b"%PDF-1.4\n");
        assert_eq!(sniff(&junk), Sniffed::Pdf);
        let mut far = vec![b' '; 1020];
        far.extend_from_slice(b"%PDF-1.4\n");
        assert_eq!(sniff(&far), Sniffed::Unknown);
    }

    #[test]
    fn documents_and_archives() {
        let mut docx = b"PK\x03\x04\x14\0\x06\0\x08\0\0\0!\0".to_vec();
        docx.resize(26, 0);
        docx.extend_from_slice(&19u16.to_le_bytes());
        docx.extend_from_slice(&0u16.to_le_bytes());
        docx.extend_from_slice(b"[Content_Types].xml");
        assert_eq!(sniff(&docx), Sniffed::OfficeOpenXml);
        let mut zip = docx[..26].to_vec();
        zip.extend_from_slice(&9u16.to_le_bytes());
        zip.extend_from_slice(&0u16.to_le_bytes());
        zip.extend_from_slice(b"photo.jpg");
        assert_eq!(sniff(&zip), Sniffed::Zip);
        assert_eq!(
            sniff(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0"),
            Sniffed::OfficeLegacy
        );
        assert_eq!(sniff(b"Rar!\x1A\x07\x01\0"), Sniffed::Rar);
        assert_eq!(sniff(b"7z\xBC\xAF\x27\x1C\0\x04"), Sniffed::SevenZip);
    }

    #[test]
    fn short_and_empty_heads_do_not_panic() {
        for n in 0..12 {
            let _ = sniff(&b"\0\0\0\x20ftypisom"[..n]);
            let _ = sniff(&b"\xFF\xD8\xFF\xE0"[..n.min(4)]);
        }
        assert_eq!(sniff(b""), Sniffed::Unknown);
        assert_eq!(sniff(b"hello, world"), Sniffed::Unknown);
    }

    #[test]
    fn labels_are_chinese_names() {
        assert_eq!(Sniffed::Png.label(), "PNG 图片");
        assert_eq!(Sniffed::Mov.to_string(), "MOV 视频");
    }
}
