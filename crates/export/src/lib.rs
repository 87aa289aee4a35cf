//! Exports for paper filing, built in memory from what the records hold: no database, no
//! files, no network — the web layer gathers the data, calls these, and sends the bytes.
//!
//! - `summary`: the 候选人汇总表 (东莞 附件2) as XLSX, for one recommending unit or the whole
//!   campaign.

pub mod summary;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}
