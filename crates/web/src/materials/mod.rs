//! Materials for the web: the views pages and the API show (what each material asks
//! for, its files, whether the viewer may change them), and HTTP ranges for serving
//! files. The moves themselves are `pingxuan_app::materials`.

pub mod api;

use std::ops::Range;

use pingxuan_rules::campaign::Material;
use pingxuan_store::attachments::Attachment;
use serde::Serialize;
use utoipa::ToSchema;

use crate::applications::flow::Loaded;

/// A `Range` header no byte of the file satisfies (answered with 416).
#[derive(Debug, PartialEq, Eq)]
pub struct Unsatisfiable;

/// Parses a single `Range: bytes=a-b` (or `a-`, `-n`) against a file of `size` bytes.
/// `Ok(None)`: no range asked (or several: the whole file is sent).
pub fn parse_range(header: Option<&str>, size: u64) -> Result<Option<Range<u64>>, Unsatisfiable> {
    let Some(h) = header else { return Ok(None) };
    let Some(spec) = h.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None); // several ranges: send the whole file
    }
    let (a, b) = spec.split_once('-').ok_or(Unsatisfiable)?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| Unsatisfiable)?;
        if n == 0 {
            return Err(Unsatisfiable);
        }
        size.saturating_sub(n)..size
    } else {
        let start: u64 = a.parse().map_err(|_| Unsatisfiable)?;
        let end = if b.is_empty() {
            size
        } else {
            b.parse::<u64>()
                .map_err(|_| Unsatisfiable)?
                .saturating_add(1)
                .min(size)
        };
        start..end
    };
    if range.start >= size || range.start >= range.end {
        return Err(Unsatisfiable);
    }
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::{Unsatisfiable, parse_range};

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some(0..10)));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some(90..100)));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some(90..100)));
        assert_eq!(parse_range(Some("bytes=50-500"), 100), Ok(Some(50..100)));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(Unsatisfiable));
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Ok(None));
    }
}

#[derive(Serialize, ToSchema)]
pub struct AttachmentOut {
    pub id: String,
    pub material: String,
    pub name: String,
    /// By content: jpg, png, mp4, mov, pdf.
    pub format: String,
    pub size: i64,
    /// What the content measured: pixels, duration, pages.
    #[schema(value_type = Object)]
    pub measured: serde_json::Value,
    /// In words, e.g. “JPEG 4000×3000，3.2 MB”.
    pub summary: String,
    /// Shown inline (images, PDFs, videos with Range).
    pub url: String,
    /// Downloaded with the name the notices ask for (姓名+序号).
    pub download: String,
    /// An image to show, for photos.
    pub preview: Option<String>,
    /// Who sent the file in (市直相关部门意见's 来文单位), for the materials that ask.
    pub sender: Option<String>,
}

pub fn attachment_out(a: &pingxuan_store::attachments::Attachment) -> AttachmentOut {
    let measured: serde_json::Value = serde_json::from_str(&a.measured).unwrap_or_default();
    let size = pingxuan_rules::materials::format_size(a.size as u64);
    let n = |k: &str| measured.get(k).and_then(serde_json::Value::as_u64);
    let summary = match (n("width"), n("height"), n("duration_ms"), n("pages")) {
        (Some(w), Some(h), Some(ms), _) => format!(
            "{} {w}×{h}，{}，{size}",
            a.format.to_uppercase(),
            pingxuan_rules::materials::format_duration_zh(ms)
        ),
        (Some(w), Some(h), None, _) => format!("{} {w}×{h}，{size}", a.format.to_uppercase()),
        (_, _, _, Some(p)) => format!("PDF {p} 页，{size}"),
        _ => format!("{}，{size}", a.format.to_uppercase()),
    };
    let url = format!("/files/{}", a.public_id);
    AttachmentOut {
        id: a.public_id.clone(),
        material: a.material_key.clone(),
        name: a.original_name.clone(),
        format: a.format.clone(),
        size: a.size,
        measured,
        summary,
        download: format!("{url}?download=1"),
        preview: match a.format.as_str() {
            "jpg" => Some(format!("{url}/preview")),
            "png" => Some(url.clone()),
            _ => None,
        },
        sender: (!a.sender.is_empty()).then(|| a.sender.clone()),
        url,
    }
}

/// A material on the page: what it asks for, the files attached, whether they can be
/// changed here.
#[derive(Serialize, ToSchema)]
pub struct MaterialView {
    pub key: String,
    pub name: String,
    pub required: bool,
    /// “JPG，每个不小于 2 MB，须 3～5 张”.
    pub rule: String,
    pub hint: String,
    /// For the file chooser: the extensions the material takes.
    pub accept: String,
    /// Count problem, if any (“……须 3～5 张，现有 2 张”).
    pub count_note: String,
    pub files: Vec<AttachmentOut>,
    /// Whether the viewer may upload and remove files of it here and now.
    pub editable: bool,
    /// The box each upload must fill with who sent the file, e.g. “来文单位”.
    pub sender_label: Option<String>,
}

/// The materials as the chain's level `level` sees them: those of its level and the
/// levels below, with what is attached; its own can be changed while it may attach
/// (`rules::decide::may_change_files`). Other levels' materials without files are left out.
pub fn material_views(l: &Loaded, files: &[Attachment], level: usize) -> Vec<MaterialView> {
    let may_change = pingxuan_rules::decide::may_change_files(&l.state, level);
    let (upto, own) = (level, level);
    let place = |m: &Material| {
        pingxuan_rules::materials::holder(&l.campaign, &l.chain, m).filter(|i| *i <= upto)
    };
    l.campaign
        .materials
        .iter()
        .filter_map(|m| place(m).map(|i| (m, i)))
        .filter(|(m, i)| *i == own || files.iter().any(|a| a.material_key == m.key))
        .map(|(m, i)| {
            let files: Vec<AttachmentOut> = files
                .iter()
                .filter(|a| a.material_key == m.key)
                .map(attachment_out)
                .collect();
            MaterialView {
                key: m.key.clone(),
                name: m.name.clone(),
                required: m.required,
                rule: pingxuan_rules::materials::requirement_text(m),
                hint: m.hint.clone().unwrap_or_default(),
                accept: m
                    .formats
                    .iter()
                    .map(|f| format!(".{f}"))
                    .collect::<Vec<_>>()
                    .join(","),
                count_note: pingxuan_rules::materials::count_problem(m, files.len() as u32)
                    .unwrap_or_default(),
                files,
                editable: may_change && i == own,
                sender_label: m.sender.clone(),
            }
        })
        .collect()
}

/// The materials of an application as the caller sees them; not found for those who
/// may not see it.
pub async fn materials_for(
    store: &pingxuan_store::Store,
    access: &pingxuan_app::Access,
    application_id: i64,
) -> Result<Vec<MaterialView>, pingxuan_app::Error> {
    let (l, level) = crate::applications::flow::load_seen(store, access, application_id).await?;
    Ok(material_views(&l, &l.attachments, level))
}
