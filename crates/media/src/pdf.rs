//! PDFs: real (header), complete (`%%EOF` at the end), not encrypted, and their page count.
//!
//! `lopdf`'s metadata loader counts pages without building the whole document, but it wants
//! the file in memory; so the size is capped by the caller before anything is loaded, and the
//! cheap checks (header, end marker) run first on a few KB.

use std::io::{Read, Seek, SeekFrom};

use crate::error::MediaError;
use crate::sniff::{SNIFF_LEN, Sniffed, sniff};

/// How far from the end `%%EOF` may sit (writers add a newline or a little padding; 1024 is
/// what Acrobat tolerates).
const EOF_WINDOW: u64 = 1024;

/// What [`probe_pdf`] measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfInfo {
    pub file_size: u64,
    pub page_count: u32,
    /// The header's version ("1.7").
    pub version: String,
    /// The cross-reference table was damaged and rebuilt by scanning: the file opens but some
    /// viewers may warn.
    pub repaired: bool,
}

/// Checks a PDF and counts its pages. Files above `size_limit` bytes are refused before any
/// of them is loaded into memory.
pub fn probe_pdf<R: Read + Seek>(mut r: R, size_limit: u64) -> Result<PdfInfo, MediaError> {
    let file_size = r.seek(SeekFrom::End(0))?;
    if file_size == 0 {
        return Err(MediaError::Empty);
    }
    r.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(SNIFF_LEN);
    r.by_ref().take(SNIFF_LEN as u64).read_to_end(&mut head)?;
    let kind = sniff(&head);
    if kind != Sniffed::Pdf {
        return Err(MediaError::WrongType {
            expected: "PDF 文件",
            found: kind,
        });
    }
    if file_size > size_limit {
        return Err(MediaError::PdfTooLarge {
            size: file_size,
            limit: size_limit,
        });
    }

    let tail_start = file_size.saturating_sub(EOF_WINDOW);
    r.seek(SeekFrom::Start(tail_start))?;
    let mut tail = Vec::new();
    r.by_ref().take(EOF_WINDOW).read_to_end(&mut tail)?;
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err(MediaError::TruncatedPdf);
    }

    r.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::with_capacity(usize::try_from(file_size).unwrap_or(0));
    r.read_to_end(&mut bytes)?;
    // The parser meets uploaders' bytes; a panic in it must not take the caller down.
    let loaded =
        std::panic::catch_unwind(|| lopdf::Document::load_metadata_mem(&bytes)).map_err(|_| {
            MediaError::CorruptPdf {
                detail: "PDF parser panicked".into(),
            }
        })?;
    let meta = loaded.map_err(|e| MediaError::CorruptPdf {
        detail: e.to_string(),
    })?;
    // Refused whether or not it opens without a password: restrictions on printing or
    // copying get in the way of reviewers, and the file cannot be stamped or merged.
    if meta.encrypted {
        return Err(MediaError::PdfEncrypted);
    }
    if meta.page_count == 0 {
        return Err(MediaError::PdfNoPages);
    }
    Ok(PdfInfo {
        file_size,
        page_count: meta.page_count,
        version: meta.version,
        repaired: meta.xref_recovery == Some(lopdf::xref::XrefRecovery::Reconstructed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::minimal_pdf;
    use std::io::Cursor;

    fn probe(bytes: &[u8]) -> Result<PdfInfo, MediaError> {
        probe_pdf(Cursor::new(bytes), 10 * 1024 * 1024)
    }

    #[test]
    fn counts_pages() {
        let info = probe(&minimal_pdf(3, false)).unwrap();
        assert_eq!(info.page_count, 3);
        assert_eq!(info.version, "1.7");
        assert!(!info.repaired);
    }

    #[test]
    fn encrypted_is_refused_in_chinese() {
        let err = probe(&minimal_pdf(1, true)).unwrap_err();
        assert!(matches!(err, MediaError::PdfEncrypted), "{err:?}");
        assert_eq!(err.to_string(), "PDF 文件已加密，请上传未加密的文件");
    }

    #[test]
    fn cut_short_is_truncated() {
        let pdf = minimal_pdf(2, false);
        let err = probe(&pdf[..pdf.len() * 2 / 3]).unwrap_err();
        assert!(matches!(err, MediaError::TruncatedPdf), "{err:?}");
    }

    #[test]
    fn too_large_is_refused_before_loading() {
        let pdf = minimal_pdf(1, false);
        let mut r = crate::CountingReader::new(Cursor::new(&pdf));
        let err = probe_pdf(&mut r, 100).unwrap_err();
        assert!(matches!(err, MediaError::PdfTooLarge { .. }));
        assert!(r.bytes_read() <= SNIFF_LEN as u64);
    }

    #[test]
    fn not_a_pdf_is_named() {
        let err = probe(b"just some notes\n%%EOF").unwrap_err();
        assert_eq!(err.to_string(), "文件不是 PDF 文件（无法识别文件内容）");
        let err = probe(b"\x89PNG\r\n\x1A\n\0\0\0\rIHDR").unwrap_err();
        assert!(matches!(
            err,
            MediaError::WrongType {
                found: Sniffed::Png,
                ..
            }
        ));
    }

    #[test]
    fn a_header_and_end_around_garbage_is_corrupt() {
        let err = probe(b"%PDF-1.4\nthis is not a pdf body at all\n%%EOF\n").unwrap_err();
        assert!(
            matches!(err, MediaError::CorruptPdf { .. } | MediaError::PdfNoPages),
            "{err:?}"
        );
    }
}
