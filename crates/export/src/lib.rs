//! Exports for paper filing, built in memory from what the records hold: no database, no
//! files, no network — the web layer gathers the data, calls these, and sends the bytes.
//!
//! - `summary`: the 候选人汇总表 (东莞 附件2) as XLSX, for one recommending unit or the whole
//!   campaign;
//! - `inspection`: the 考察材料 (东莞 附件3) as DOCX, prefilled for the recommender to complete;
//! - `bundle`: ZIP bundles written as they are read (a folder per candidate), to any sink.

use pingxuan_rules::campaign::{Campaign, FieldKey};
use pingxuan_rules::form::{FieldValue, FormValues};

pub mod bundle;
pub mod inspection;
pub mod summary;

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

/// The award as the notices name it, from the campaign's name without its “活动” ending:
/// “第二届东莞“最美科技工作者”” from “第二届东莞“最美科技工作者”学习宣传活动”.
pub fn award_of(campaign: &Campaign) -> &str {
    let name = campaign.campaign.name.trim();
    [
        "学习宣传活动",
        "选树宣传活动",
        "宣传活动",
        "评选活动",
        "活动",
    ]
    .iter()
    .find_map(|suffix| name.strip_suffix(suffix))
    .unwrap_or(name)
}

/// A field's text as printed: a list joined with “、”, nothing when absent.
pub(crate) fn text(form: &FormValues, key: FieldKey) -> String {
    match form.get(&key) {
        Some(FieldValue::Text(t)) => t.trim().to_owned(),
        Some(FieldValue::List(items)) => items
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("、"),
        _ => String::new(),
    }
}

/// 工作单位及职务职称: the work unit and post, with the title added when it is not in it.
pub(crate) fn employer_and_title(form: &FormValues) -> String {
    let employer = text(form, FieldKey::EmployerAndPost);
    let title = text(form, FieldKey::Title);
    if title.is_empty() || employer.contains(&title) {
        employer
    } else if employer.is_empty() {
        title
    } else {
        format!("{employer}，{title}")
    }
}
