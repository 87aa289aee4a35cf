//! ZIP bundles written as they are read: the caller gives a sink (any `Write` — in the
//! server, a bounded channel to the HTTP response) and the entries, each with a way to open
//! its content when its turn comes. Only the piece being copied is held, so a bundle of
//! several GB streams with flat memory. Entries are stored, not deflated: photos, videos,
//! PDFs and Office files are compressed already.
//!
//! The names follow the notices: a folder per candidate, photos named 姓名+序号
//! (张三1.jpg, 张三2.jpg), other materials by what they are (推荐报告扫描件.pdf).

use std::io::{self, Read, Write};

use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

use crate::ExportError;

/// Opens an entry's content when the writer reaches it.
pub type Open<'a> = Box<dyn FnOnce() -> io::Result<Box<dyn Read + 'a>> + 'a>;

/// One file of the bundle: its path inside, its size (for ZIP64 above 4 GB), its content.
pub struct Entry<'a> {
    pub path: String,
    pub size: u64,
    pub open: Open<'a>,
}

impl<'a> Entry<'a> {
    /// An entry whose bytes are already in memory (the 汇总表, a rendered form).
    pub fn bytes(path: String, bytes: Vec<u8>) -> Entry<'a> {
        Entry {
            path,
            size: bytes.len() as u64,
            open: Box::new(move || Ok(Box::new(io::Cursor::new(bytes)) as Box<dyn Read>)),
        }
    }
}

/// Writes the entries in order into a ZIP streamed to `out`; returns the bytes of content
/// written. A failing sink (the browser went away) ends it with that error.
pub fn write<'a, W: Write>(
    out: W,
    entries: impl IntoIterator<Item = Entry<'a>>,
) -> Result<u64, ExportError> {
    let mut zip = ZipWriter::new_stream(out);
    let mut total = 0;
    for e in entries {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .large_file(e.size >= u64::from(u32::MAX));
        zip.start_file(e.path.as_str(), options)
            .map_err(|err| ExportError::Zip(err.to_string()))?;
        let mut content = (e.open)().map_err(|err| ExportError::Read(e.path.clone(), err))?;
        total += io::copy(&mut content, &mut zip)
            .map_err(|err| ExportError::Read(e.path.clone(), err))?;
    }
    zip.finish()
        .map_err(|err| ExportError::Zip(err.to_string()))?
        .flush()
        .map_err(|err| ExportError::Zip(err.to_string()))?;
    Ok(total)
}

/// A name safe as a file or folder name on Windows, macOS and Linux: the characters they
/// refuse become “_”, surrounding spaces and dots go.
pub fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if trimmed.is_empty() {
        "_".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// A candidate's folder: “01-张三-ZMKJ20231”, numbered in the order of the 汇总表.
pub fn candidate_folder(n: usize, name: &str, number: &str) -> String {
    safe_name(&format!("{n:02}-{name}-{number}"))
}

/// A file's name in its candidate's folder: 姓名+序号 where the material asks for it
/// (“张三1.jpg”); otherwise the material's name, numbered when it has several files
/// (“推荐报告扫描件.pdf”, “个人诚信承诺2.jpg”).
pub fn file_name(
    material: &str,
    by_person: bool,
    person: &str,
    seq: usize,
    of: usize,
    format: &str,
) -> String {
    let stem = if by_person && !person.is_empty() {
        format!("{person}{seq}")
    } else if of > 1 {
        format!("{material}{seq}")
    } else {
        material.to_owned()
    };
    safe_name(&format!("{stem}.{format}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_the_notices_ask() {
        assert_eq!(
            candidate_folder(1, "张三", "ZMKJ20231"),
            "01-张三-ZMKJ20231"
        );
        assert_eq!(file_name("照片", true, "张三", 2, 3, "jpg"), "张三2.jpg");
        assert_eq!(
            file_name("推荐报告扫描件", false, "张三", 1, 1, "pdf"),
            "推荐报告扫描件.pdf"
        );
        assert_eq!(
            file_name("个人诚信承诺", false, "张三", 2, 2, "jpg"),
            "个人诚信承诺2.jpg"
        );
        assert_eq!(safe_name("a/b:c?"), "a_b_c_");
        assert_eq!(safe_name(" .. "), "_");
    }

    /// A sink that accepts a little, then fails, as a closed connection does.
    struct Closing(usize);

    impl Write for Closing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.0 < buf.len() {
                return Err(io::Error::new(io::ErrorKind::BrokenPipe, "gone"));
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn writes_in_order_and_reads_back() {
        let mut out = Vec::new();
        let entries = vec![
            Entry::bytes("候选人汇总表.xlsx".into(), b"table".to_vec()),
            Entry::bytes("01-张三-ZMKJ20231/张三1.jpg".into(), vec![7u8; 100_000]),
        ];
        assert_eq!(write(&mut out, entries).unwrap(), 100_005);
        let mut zip = zip::ZipArchive::new(io::Cursor::new(out)).unwrap();
        assert_eq!(
            zip.file_names()
                .map(|n| n.unwrap().into_owned())
                .collect::<Vec<_>>(),
            ["候选人汇总表.xlsx", "01-张三-ZMKJ20231/张三1.jpg"]
        );
        let mut photo = Vec::new();
        zip.by_name("01-张三-ZMKJ20231/张三1.jpg")
            .unwrap()
            .read_to_end(&mut photo)
            .unwrap();
        assert_eq!(photo, vec![7u8; 100_000]);
    }

    #[test]
    fn a_closed_sink_or_an_unreadable_file_ends_it() {
        let big = vec![Entry::bytes("a.bin".into(), vec![0u8; 1 << 20])];
        assert!(write(Closing(1000), big).is_err());
        let missing = vec![Entry {
            path: "x.pdf".into(),
            size: 10,
            open: Box::new(|| Err(io::Error::new(io::ErrorKind::NotFound, "gone"))),
        }];
        let err = write(Vec::new(), missing).unwrap_err();
        assert!(err.to_string().contains("x.pdf"), "{err}");
    }
}
