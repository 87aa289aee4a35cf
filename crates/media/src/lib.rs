//! Checks of uploaded files by their content, never by their name: what a photo, video or PDF
//! really is and its measurements (size, orientation, duration, rotation, pages), reading only
//! the bytes needed. This crate measures; whether a measurement meets a campaign's limits
//! (JPEG of at least 2 MB, video of at most 3 minutes, …) is decided by the campaign rules in
//! another crate. No async, no database, no web code.
//!
//! Every check takes a `Read + Seek` (an open file), so a 300 MB video is checked by reading
//! a few KB of it; [`CountingReader`] proves how much was read.

#![forbid(unsafe_code)]

mod error;
mod pdf;
mod photo;
mod sniff;
pub mod testing;
mod video;

pub use error::MediaError;
pub use pdf::{PdfInfo, probe_pdf};
pub use photo::{PhotoInfo, png_of_jpeg, probe_photo, thumbnail};
pub use sniff::{SNIFF_LEN, Sniffed, sniff, sniff_reader};
pub use video::{Container, FourCc, MOOV_LIMIT, Rotation, VideoInfo, probe_video};

use std::io::{Read, Seek, SeekFrom};

/// A `Read + Seek` that counts the bytes actually read through it, so a caller (or a test, or
/// the benchmark) can show that a check read little of a large file. Seeks are free.
#[derive(Debug)]
pub struct CountingReader<R> {
    inner: R,
    bytes_read: u64,
    reads: u64,
}

impl<R> CountingReader<R> {
    pub fn new(inner: R) -> Self {
        CountingReader {
            inner,
            bytes_read: 0,
            reads: 0,
        }
    }

    /// Bytes handed out by `read` so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Calls to `read` that returned data.
    pub fn reads(&self) -> u64 {
        self.reads
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.bytes_read += n as u64;
            self.reads += 1;
        }
        Ok(n)
    }
}

impl<R: Seek> Seek for CountingReader<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Reads until `buf` is full or the file ends; how many bytes came.
pub(crate) fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_reader_counts_reads_not_seeks() {
        let data: Vec<u8> = (0..=255).collect();
        let mut r = CountingReader::new(std::io::Cursor::new(data));
        let mut buf = [0u8; 10];
        r.seek(SeekFrom::Start(200)).unwrap();
        r.read_exact(&mut buf).unwrap();
        assert_eq!(buf[0], 200);
        r.seek(SeekFrom::End(-4)).unwrap();
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, [252, 253, 254, 255]);
        assert_eq!(r.bytes_read(), 14);
        assert_eq!(r.reads(), 2);
    }
}
