//! Exports for paper filing, built in memory from what the records hold: no database, no
//! files, no network — the web layer gathers the data, calls these, and sends the bytes.
//!
//! - `summary`: the 候选人汇总表 (东莞 附件2) as XLSX, for one recommending unit or the whole
//!   campaign;
//! - `inspection`: the 考察材料 (东莞 附件3) as DOCX, prefilled for the recommender to complete;
//! - `form`: what a printed 推荐表 shows (the PDF is set from it by `pingxuan_pdf`) and the
//!   推荐表 as DOCX;
//! - `bundle`: ZIP bundles written as they are read (a folder per candidate), to any sink.

pub mod bundle;
pub mod form;
pub mod inspection;
pub mod report;
pub mod results;
pub mod summary;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("DOCX: {0}")]
    Docx(String),
    #[error("ZIP: {0}")]
    Zip(String),
    #[error("{0}: {1}")]
    Read(String, std::io::Error),
}

/// A Word document's bytes.
pub(crate) fn pack(doc: docx_rs::Docx) -> Result<Vec<u8>, ExportError> {
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut out)
        .map_err(|e| ExportError::Docx(e.to_string()))?;
    Ok(out.into_inner())
}
