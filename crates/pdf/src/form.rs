//! The 推荐表 as the notices' 样表 lay it out: a cover (候选人姓名, 工作单位, 推荐单位, 推荐领域,
//! 填报日期), the personal data in a ruled table with the photo, 学习工作经历, the long
//! sections (主要事迹, 感人故事 …), 个人声明 with a line to sign, each reviewing level's
//! opinion box with room for the seal, and 备注. What the table holds comes from the
//! campaign's own form, so each campaign prints its own fields in its own words.

use std::collections::HashMap;

use pingxuan_rules::campaign::{Campaign, FieldKey};
use pingxuan_rules::form::{FieldValue, FormValues};
use serde::Serialize;
use typst::foundations::Bytes;

use crate::{PdfEngine, PdfError, qr_svg};

const TEMPLATE: &str = include_str!("../templates/form.typ");

/// What a printed 推荐表 shows besides the form itself.
pub struct FormPrint<'a> {
    pub campaign: &'a Campaign,
    pub form: &'a FormValues,
    pub number: &'a str,
    pub recommender: &'a str,
    /// Each reviewing level's opinion already given, by the level's key.
    pub opinions: HashMap<String, String>,
    /// The photo's bytes and its format by content (`jpg` or `png`).
    pub photo: Option<(Vec<u8>, &'a str)>,
    /// Where the QR code leads: the page that checks a printed copy against the record.
    pub verify_url: &'a str,
    /// “2026-11-26 13:20”, in the watermark.
    pub exported_at: &'a str,
    /// 填报日期 on the cover, “2026年11月26日”.
    pub filled_on: &'a str,
}

/// The document's data, as the template reads it from /data.json.
#[derive(Debug, Serialize, PartialEq)]
pub struct FormData {
    pub fonts: Vec<String>,
    pub title: String,
    pub number: String,
    pub watermark: String,
    pub cover: Vec<(String, String)>,
    /// Pairs of (label, value) for the ruled table.
    pub facts: Vec<(String, String)>,
    pub resume_label: String,
    pub resume: Vec<(String, String)>,
    /// The long texts, in the form's order.
    pub sections: Vec<(String, String)>,
    pub declaration: String,
    /// (opinion's name, what the level wrote, or nothing yet).
    pub opinions: Vec<(String, String)>,
    pub has_photo: bool,
    pub photo_format: String,
    pub verify_url: String,
}

fn text_of(v: Option<&FieldValue>) -> String {
    match v {
        Some(FieldValue::Text(t)) => t.trim().to_owned(),
        Some(FieldValue::List(items)) => items
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("、"),
        Some(FieldValue::Flag(b)) => if *b { "是" } else { "否" }.to_owned(),
        Some(FieldValue::Rows(_)) | None => String::new(),
    }
}

/// Fields printed as long sections rather than in the table.
fn is_section(key: FieldKey) -> bool {
    matches!(
        key,
        FieldKey::Deeds | FieldKey::Stories | FieldKey::Summary | FieldKey::Duties
    )
}

/// The data of one printed 推荐表: pure, tested without typst.
pub fn data(p: &FormPrint, fonts: &[String]) -> FormData {
    let c = p.campaign;
    let get = |k: FieldKey| text_of(p.form.get(&k));
    let label = |k: FieldKey, default: &str| {
        c.form
            .fields
            .iter()
            .find(|f| f.key == k)
            .map_or_else(|| default.to_owned(), |f| f.label.clone())
    };
    let mut facts = Vec::new();
    let mut sections = Vec::new();
    let mut resume = Vec::new();
    let mut resume_label = String::new();
    for f in &c.form.fields {
        match f.key {
            FieldKey::Resume => {
                resume_label = f.label.clone();
                if let Some(FieldValue::Rows(rows)) = p.form.get(&f.key) {
                    resume = rows
                        .iter()
                        .filter(|(a, b)| !(a.trim().is_empty() && b.trim().is_empty()))
                        .cloned()
                        .collect();
                }
            }
            FieldKey::Stories => {
                let parts: Vec<String> = match p.form.get(&f.key) {
                    Some(FieldValue::List(items)) => items
                        .iter()
                        .filter(|s| !s.trim().is_empty())
                        .map(|s| s.trim().to_owned())
                        .collect(),
                    other => vec![text_of(other)],
                };
                let text = if parts.len() > 1 {
                    parts
                        .iter()
                        .enumerate()
                        .map(|(i, s)| format!("（{}）{s}", i + 1))
                        .collect::<Vec<_>>()
                        .join("\n")
                } else {
                    parts.join("")
                };
                sections.push((f.label.clone(), text));
            }
            k if is_section(k) => sections.push((f.label.clone(), get(k))),
            FieldKey::Declaration | FieldKey::Photo | FieldKey::Eligibility => {}
            k => facts.push((f.label.clone(), get(k))),
        }
    }
    let award = {
        let name = c.campaign.name.trim();
        [
            "学习宣传活动",
            "选树宣传活动",
            "宣传活动",
            "评选活动",
            "活动",
        ]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name)
        .to_owned()
    };
    let opinions = c
        .levels
        .iter()
        .filter_map(|l| {
            let name = l.opinion.clone()?;
            Some((name, p.opinions.get(&l.key).cloned().unwrap_or_default()))
        })
        .collect();
    FormData {
        fonts: fonts.to_vec(),
        title: c.form.title.clone(),
        number: p.number.to_owned(),
        watermark: format!("{award} · {} · 导出于 {}", p.number, p.exported_at),
        cover: vec![
            ("候选人姓名".into(), get(FieldKey::Name)),
            (
                label(FieldKey::EmployerAndPost, "工作单位"),
                get(FieldKey::EmployerAndPost),
            ),
            ("推荐单位".into(), p.recommender.to_owned()),
            (label(FieldKey::Field, "推荐领域"), get(FieldKey::Field)),
            ("填报日期".into(), p.filled_on.to_owned()),
        ],
        facts,
        resume_label,
        resume,
        sections,
        declaration: c.form.declaration.clone().unwrap_or_default(),
        opinions,
        has_photo: p.photo.is_some(),
        photo_format: p
            .photo
            .as_ref()
            .map(|(_, f)| (*f).to_owned())
            .unwrap_or_default(),
        verify_url: p.verify_url.to_owned(),
    }
}

/// The printed 推荐表 as PDF bytes.
pub fn render(engine: &PdfEngine, p: &FormPrint) -> Result<Vec<u8>, PdfError> {
    let d = data(p, engine.families());
    let mut files: HashMap<&'static str, Bytes> = HashMap::new();
    files.insert(
        "/data.json",
        Bytes::new(serde_json::to_vec(&d).expect("form data as JSON")),
    );
    files.insert("/qr.svg", Bytes::from_string(qr_svg(p.verify_url)?));
    if let Some((bytes, format)) = &p.photo {
        // Fixed names: typst decides the format by the extension.
        let name = if *format == "png" {
            "/photo.png"
        } else {
            "/photo.jpg"
        };
        files.insert(name, Bytes::new(bytes.clone()));
    }
    engine.render(TEMPLATE, files)
}
