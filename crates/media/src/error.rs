//! One error type for every check. Its `Display` is Chinese and meant for the uploader;
//! details a user cannot act on (library messages) are kept in fields for the log.

use crate::sniff::Sniffed;
use pingxuan_rules::materials::format_size;

/// Why a file could not be measured.
///
/// [`MediaError::Io`] is a fault on our side (the disk, the store) and should be logged and
/// answered as a server error; every other variant is a problem with the file's content and
/// can be shown to the uploader as it is (see [`MediaError::is_content_problem`]).
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Reading the stored file failed. Not the uploader's fault.
    #[error("读取文件时出错，请稍后重试")]
    Io(#[from] std::io::Error),

    /// The file has no bytes at all.
    #[error("文件是空的")]
    Empty,

    /// The content is another kind of file than the one asked for.
    #[error("{}", wrong_type_message(expected, *found))]
    WrongType {
        /// What the check wanted, in Chinese starting with its Latin name ("JPEG 图片").
        expected: &'static str,
        /// What the first bytes say the file is.
        found: Sniffed,
    },

    /// A JPEG whose end marker is missing: the upload or copy stopped part-way.
    #[error("图片文件不完整：缺少 JPEG 结束标记，可能是上传或拷贝中断，请重新上传")]
    TruncatedJpeg,

    /// A JPEG whose header cannot be read.
    #[error("JPEG 图片已损坏：{reason}")]
    CorruptJpeg {
        /// Chinese, for the uploader.
        reason: &'static str,
    },

    /// No `moov` box: an interrupted recording or upload, or a file cut short.
    #[error("视频文件不完整：缺少 moov 信息（可能是录制或上传中断），请重新导出后上传")]
    MissingMoov,

    /// The boxes claim more bytes than the file has.
    #[error("视频文件不完整：媒体数据被截断，请重新上传")]
    TruncatedVideo,

    /// The box structure contradicts itself.
    #[error("视频文件结构损坏：{reason}")]
    CorruptVideo {
        /// Chinese, for the uploader.
        reason: &'static str,
    },

    /// A `moov` larger than we are willing to hold in memory.
    #[error("视频文件的 moov 信息过大（{} MiB，上限 {} MiB），无法检查", .size.div_ceil(MIB), .limit / MIB)]
    MoovTooLarge {
        /// Bytes the box claims.
        size: u64,
        /// Our cap in bytes.
        limit: u64,
    },

    /// An MP4/MOV with no video track (audio only, for example).
    #[error("文件中没有视频轨道")]
    NoVideoTrack,

    /// A PDF above the size the caller allows to be loaded into memory.
    #[error("PDF 文件过大（{}，上限 {}），无法检查", format_size(*.size), format_size(*.limit))]
    PdfTooLarge {
        /// File size in bytes.
        size: u64,
        /// The caller's limit in bytes.
        limit: u64,
    },

    /// An encrypted PDF (with or without an opening password).
    #[error("PDF 文件已加密，请上传未加密的文件")]
    PdfEncrypted,

    /// A PDF without its closing `%%EOF`: cut short.
    #[error("PDF 文件不完整：缺少文件结尾标记，可能是上传或拷贝中断，请重新上传")]
    TruncatedPdf,

    /// A PDF whose structure cannot be read.
    #[error("PDF 文件已损坏，无法读取页面")]
    CorruptPdf {
        /// The PDF library's message, for the log.
        detail: String,
    },

    /// A PDF that reads but has no page.
    #[error("PDF 文件没有页面")]
    PdfNoPages,

    /// The preview could not be made although the header read well.
    #[error("无法生成图片预览：图片数据已损坏或尺寸过大")]
    Thumbnail {
        /// The image library's message, for the log.
        detail: String,
    },
}

const MIB: u64 = 1024 * 1024;

impl MediaError {
    /// True when the file's content is at fault (show the message to the uploader); false for
    /// I/O errors (log them, answer with a server error).
    pub fn is_content_problem(&self) -> bool {
        !matches!(self, MediaError::Io(_))
    }
}

fn wrong_type_message(expected: &str, found: Sniffed) -> String {
    match found {
        Sniffed::Unknown => format!("文件不是 {expected}（无法识别文件内容）"),
        other => format!("文件不是 {expected}（内容为 {}）", other.label()),
    }
}

/// Turns an early end of file met while reading structure into the content error `eof`,
/// keeping real I/O failures as [`MediaError::Io`].
pub(crate) fn eof_as(eof: MediaError) -> impl FnOnce(std::io::Error) -> MediaError {
    move |e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            eof
        } else {
            MediaError::Io(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_type_names_what_was_found() {
        let e = MediaError::WrongType {
            expected: "JPEG 图片",
            found: Sniffed::Png,
        };
        assert_eq!(e.to_string(), "文件不是 JPEG 图片（内容为 PNG 图片）");
        let e = MediaError::WrongType {
            expected: "PDF 文件",
            found: Sniffed::Unknown,
        };
        assert_eq!(e.to_string(), "文件不是 PDF 文件（无法识别文件内容）");
    }

    #[test]
    fn sizes_read_as_the_campaign_counts_them() {
        // Binary megabytes, as the campaign's “2MB” and Windows' file sizes mean them.
        let e = MediaError::PdfTooLarge {
            size: 60 << 20,
            limit: 50 << 20,
        };
        assert_eq!(e.to_string(), "PDF 文件过大（60 MB，上限 50 MB），无法检查");
    }

    #[test]
    fn io_is_not_the_uploaders_fault() {
        assert!(!MediaError::Io(std::io::Error::other("disk")).is_content_problem());
        assert!(MediaError::MissingMoov.is_content_problem());
    }
}
