//! What a printed 推荐表 shows, as the notices' 样表 lay it out: a cover (候选人姓名, 工作单位,
//! 推荐单位, 推荐领域, 填报日期), the personal data in a ruled table with the photo,
//! 学习工作经历, the long sections (主要事迹, 感人故事 …), 个人声明 with a line to sign, each
//! reviewing level's opinion box with room for the seal, and 备注. What the table holds comes
//! from the campaign's own form, so each campaign prints its own fields in its own words.
//!
//! `data` is the one description of the printed form: `pingxuan_pdf` sets it as the PDF,
//! `docx` below writes it as the Word document campaigns such as 东莞 also ask for.

use std::collections::HashMap;

use pingxuan_rules::campaign::{Campaign, FieldKey};
use pingxuan_rules::form::{FieldValue, FormValues, printed};
use serde::Serialize;

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
    pub title: String,
    pub number: String,
    /// The watermark's two lines: the award; the number and the export time.
    pub watermark: [String; 2],
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

/// Fields printed as long sections rather than in the table.
fn is_section(key: FieldKey) -> bool {
    matches!(
        key,
        FieldKey::Deeds | FieldKey::Stories | FieldKey::Summary | FieldKey::Duties
    )
}

/// The data of one printed 推荐表: pure, tested without typst.
pub fn data(p: &FormPrint) -> FormData {
    let c = p.campaign;
    let get = |k: FieldKey| printed(p.form, k);
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
                    other => vec![other.map(FieldValue::display).unwrap_or_default()],
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
    let opinions = c
        .levels
        .iter()
        .filter_map(|l| {
            let name = l.opinion.clone()?;
            Some((name, p.opinions.get(&l.key).cloned().unwrap_or_default()))
        })
        .collect();
    FormData {
        title: c.form.title.clone(),
        number: p.number.to_owned(),
        watermark: [
            c.award().to_owned(),
            format!("{} · 导出于 {}", p.number, p.exported_at),
        ],
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

// ---- The Word version ----

use docx_rs::{
    AlignmentType, BreakType, Docx, Footer, Header, HeightRule, LineSpacing, PageMargin, PageNum,
    Paragraph, Pic, Run, RunFonts, Shading, Table, TableCell, TableCellBorder,
    TableCellBorderPosition, TableCellBorders, TableLayoutType, TableRow, VAlignType, VMergeType,
    WidthType,
};

use crate::ExportError;

// Sizes in half-points, lengths in twentieths of a point (twips); 567 twips to the cm.
const TITLE: usize = 44; // 二号
const COVER: usize = 28; // 四号
const BODY: usize = 21; // 五号
const SMALL: usize = 18; // 小五
const CM: usize = 567;
/// A4 less 2.2 cm each side.
const WIDTH: usize = 9412;
const LABEL: usize = 1418; // 2.5 cm, as the PDF's label column
const PHOTO: usize = 1871; // 3.3 cm

fn run(text: &str, size: usize) -> Run {
    Run::new().add_text(text).size(size).fonts(
        RunFonts::new()
            .east_asia("宋体")
            .ascii("宋体")
            .hi_ansi("宋体"),
    )
}

/// A text's paragraphs: one per line the person typed, so Word wraps and indents each.
fn paragraphs_of(text: &str, size: usize) -> Vec<Paragraph> {
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return vec![Paragraph::new()];
    }
    lines
        .into_iter()
        .map(|l| Paragraph::new().add_run(run(l, size)))
        .collect()
}

fn label_cell(text: &str, width: usize) -> TableCell {
    TableCell::new()
        .add_paragraph(
            Paragraph::new()
                .add_run(run(text, BODY).bold())
                .align(AlignmentType::Center),
        )
        .width(width, WidthType::Dxa)
        .vertical_align(VAlignType::Center)
        .shading(Shading::new().fill("F2F2F2"))
}

fn value_cell(text: &str, width: usize) -> TableCell {
    let mut c = TableCell::new()
        .width(width, WidthType::Dxa)
        .vertical_align(VAlignType::Center);
    for p in paragraphs_of(text, BODY) {
        c = c.add_paragraph(p);
    }
    c
}

fn ruled(rows: Vec<TableRow>, grid: Vec<usize>) -> Table {
    Table::new(rows)
        .set_grid(grid)
        .width(WIDTH, WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
}

/// A label beside a box that grows with its text, the boxes of the long sections.
fn boxed(label: &str, body: Vec<Paragraph>, min_height: f32) -> Table {
    let mut cell = TableCell::new()
        .width(WIDTH - LABEL, WidthType::Dxa)
        .vertical_align(VAlignType::Top);
    for p in body {
        cell = cell.add_paragraph(p);
    }
    ruled(
        vec![
            TableRow::new(vec![label_cell(label, LABEL), cell])
                .row_height(min_height)
                .height_rule(HeightRule::AtLeast),
        ],
        vec![LABEL, WIDTH - LABEL],
    )
}

/// Width and height of a PNG, from its header.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.len() < 24 || !png.starts_with(b"\x89PNG\r\n\x1a\n") || &png[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(png[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(png[20..24].try_into().ok()?);
    (w > 0 && h > 0).then_some((w, h))
}

/// The photo fitted into its cell (at most 2.9 × 4.2 cm), or the word （照片） where a
/// photo goes: Word stores pictures as PNG here, so a photo in another format is left out.
fn photo_paragraph(photo: Option<&(Vec<u8>, &str)>) -> Paragraph {
    const EMU_PER_CM: f64 = 360_000.0;
    let centred = Paragraph::new().align(AlignmentType::Center);
    match photo.and_then(|(bytes, _)| Some((bytes, png_size(bytes)?))) {
        Some((bytes, (w, h))) => {
            let (max_w, max_h) = (2.9 * EMU_PER_CM, 4.2 * EMU_PER_CM);
            let scale = (max_w / w as f64).min(max_h / h as f64);
            let pic = Pic::new_with_dimensions(bytes.clone(), w, h)
                .size((w as f64 * scale) as u32, (h as f64 * scale) as u32);
            centred.add_run(Run::new().add_image(pic))
        }
        None => centred.add_run(run("（照片）", BODY).color("808080")),
    }
}

/// The personal data in five columns (label, value, label, value, photo), two fields a
/// row, the photo beside the first four rows; as the PDF's table.
fn facts_table(facts: &[(String, String)], photo: Paragraph) -> Table {
    let value = (WIDTH - 2 * LABEL - PHOTO) / 2;
    let grid = vec![LABEL, value, LABEL, value, PHOTO];
    let pairs: Vec<&[(String, String)]> = facts.chunks(2).collect();
    let photo_rows = pairs.len().min(4);
    let mut photo = Some(photo);
    let mut rows = Vec::new();
    for (r, pair) in pairs.iter().enumerate() {
        let beside = r < photo_rows;
        let mut cells = vec![label_cell(&pair[0].0, LABEL), value_cell(&pair[0].1, value)];
        match pair.get(1) {
            Some((l, v)) => {
                cells.push(label_cell(l, LABEL));
                let span = if beside { 1 } else { 2 };
                cells.push(value_cell(v, value + (span - 1) * PHOTO).grid_span(span));
            }
            None => {
                let span = if beside { 2 } else { 3 };
                cells.push(value_cell("", LABEL + value).grid_span(span));
            }
        }
        if beside {
            let cell = TableCell::new()
                .width(PHOTO, WidthType::Dxa)
                .vertical_align(VAlignType::Center);
            cells.push(match photo.take() {
                Some(p) => cell.add_paragraph(p).vertical_merge(VMergeType::Restart),
                None => cell
                    .add_paragraph(Paragraph::new())
                    .vertical_merge(VMergeType::Continue),
            });
        }
        rows.push(
            TableRow::new(cells)
                .row_height(0.9 * CM as f32)
                .height_rule(HeightRule::AtLeast),
        );
    }
    ruled(rows, grid)
}

/// The 推荐表 as a Word document, page for page what the PDF shows: the cover, the
/// table with the photo (a PNG; see `photo_paragraph`), 学习工作经历, the long sections,
/// 个人声明, the opinion boxes with room for the seal, and 备注. The watermark's words head
/// every page and the verification link closes it: Word has no tiled watermark.
pub fn docx(p: &FormPrint) -> Result<Vec<u8>, ExportError> {
    let d = data(p);
    let grey = |text: &str| run(text, SMALL).color("808080");
    let header = Header::new().add_paragraph(
        Paragraph::new()
            .add_run(grey(&d.watermark.join(" · ")))
            .align(AlignmentType::Right),
    );
    let footer = Footer::new().add_paragraph(
        Paragraph::new()
            .add_run(grey(&format!(
                "核验本表与系统记录是否一致：{}　　第 ",
                d.verify_url
            )))
            .add_page_num(PageNum::new())
            .add_run(grey(" 页"))
            .align(AlignmentType::Center),
    );
    let mut doc = Docx::new()
        .page_size(11906, 16838) // A4
        .page_margin(
            PageMargin::new()
                .top((2.5 * CM as f32) as i32)
                .bottom((2.2 * CM as f32) as i32)
                .left((2.2 * CM as f32) as i32)
                .right((2.2 * CM as f32) as i32)
                .header(851)
                .footer(850),
        )
        .default_fonts(
            RunFonts::new()
                .east_asia("宋体")
                .ascii("宋体")
                .hi_ansi("宋体"),
        )
        .default_size(BODY)
        .header(header)
        .footer(footer);

    // Cover: the title a third down the page, then the five lines to fill.
    let spaced = |twips: u32| Paragraph::new().line_spacing(LineSpacing::new().before(twips));
    doc = doc.add_paragraph(spaced(3 * CM as u32)).add_paragraph(
        Paragraph::new()
            .add_run(run(&d.title, TITLE).bold())
            .align(AlignmentType::Center)
            .line_spacing(LineSpacing::new().after(3 * CM as u32)),
    );
    let (label_w, value_w) = (6 * CM, 8 * CM);
    let cover_rows = d
        .cover
        .iter()
        .map(|(label, value)| {
            TableRow::new(vec![
                TableCell::new()
                    .add_paragraph(
                        Paragraph::new()
                            .add_run(run(&format!("{label}："), COVER))
                            .align(AlignmentType::Right),
                    )
                    .width(label_w, WidthType::Dxa)
                    .vertical_align(VAlignType::Bottom),
                TableCell::new()
                    .add_paragraph(Paragraph::new().add_run(run(value, COVER)))
                    .width(value_w, WidthType::Dxa)
                    .vertical_align(VAlignType::Bottom)
                    // A line to write on, nothing else.
                    .set_borders(
                        TableCellBorders::with_empty()
                            .set(TableCellBorder::new(TableCellBorderPosition::Bottom).size(6))
                            .clear(TableCellBorderPosition::Top)
                            .clear(TableCellBorderPosition::Left)
                            .clear(TableCellBorderPosition::Right),
                    ),
            ])
            .row_height(1.2 * CM as f32)
            .height_rule(HeightRule::AtLeast)
        })
        .collect();
    doc = doc.add_table(
        Table::without_borders(cover_rows)
            .set_grid(vec![label_w, value_w])
            .width(label_w + value_w, WidthType::Dxa)
            .layout(TableLayoutType::Fixed)
            .indent(((WIDTH - label_w - value_w) / 2) as i32),
    );
    doc = doc.add_paragraph(Paragraph::new().add_run(Run::new().add_break(BreakType::Page)));

    doc = doc.add_table(facts_table(&d.facts, photo_paragraph(p.photo.as_ref())));

    if !d.resume_label.is_empty() {
        let period = 4 * CM;
        let mut rows = vec![
            TableRow::new(vec![label_cell(&d.resume_label, WIDTH).grid_span(2)]),
            TableRow::new(vec![
                label_cell("起止年月", period),
                label_cell("在何单位从事何工作（任何职）", WIDTH - period),
            ]),
        ];
        let lines: Vec<(String, String)> = if d.resume.is_empty() {
            vec![Default::default()]
        } else {
            d.resume.clone()
        };
        for (when, what) in &lines {
            rows.push(
                TableRow::new(vec![
                    value_cell(when, period),
                    value_cell(what, WIDTH - period),
                ])
                .row_height(0.8 * CM as f32)
                .height_rule(HeightRule::AtLeast),
            );
        }
        doc = doc.add_table(ruled(rows, vec![period, WIDTH - period]));
    }

    for (label, body) in &d.sections {
        doc = doc.add_table(boxed(label, paragraphs_of(body, BODY), 3.0 * CM as f32));
    }

    let right = |text: &str| {
        Paragraph::new()
            .add_run(run(text, BODY))
            .align(AlignmentType::Right)
    };
    if !d.declaration.is_empty() {
        let mut body = paragraphs_of(&d.declaration, BODY);
        body.push(spaced(CM as u32));
        body.push(right("本人签字：＿＿＿＿＿＿　　　年　　月　　日"));
        doc = doc.add_table(boxed("个人声明", body, 3.0 * CM as f32));
    }
    for (label, opinion) in &d.opinions {
        let mut body = if opinion.is_empty() {
            vec![spaced(2 * CM as u32)]
        } else {
            paragraphs_of(opinion, BODY)
        };
        body.push(spaced(CM as u32));
        body.push(right("（盖　章）　　　　"));
        body.push(right("年　　月　　日"));
        doc = doc.add_table(boxed(label, body, 4.0 * CM as f32));
    }
    doc = doc.add_table(boxed("备注", vec![Paragraph::new()], 1.5 * CM as f32));

    crate::pack(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{docx_part, docx_parts, docx_text, dongguan, wang, words};

    /// A 1 × 1 PNG.
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f,
        0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64,
        0x60, 0xf8, 0x5f, 0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];

    fn print<'a>(c: &'a Campaign, f: &'a FormValues, photo: Option<Vec<u8>>) -> FormPrint<'a> {
        FormPrint {
            campaign: c,
            form: f,
            number: "ZMKJ20231",
            recommender: "东莞市卫生健康局",
            opinions: HashMap::from([("work_unit".to_owned(), "同意推荐。".to_owned())]),
            photo: photo.map(|p| (p, "png")),
            verify_url: "https://kx.example.cn/verify/7/2/abc",
            exported_at: "2026-11-26 13:20",
            filled_on: "2026年11月26日",
        }
    }

    #[test]
    fn the_printed_form_s_data() {
        let (c, f) = (dongguan(), wang());
        let d = data(&print(&c, &f, None));
        assert_eq!(
            d.watermark,
            [
                "第二届东莞“最美科技工作者”".to_owned(),
                "ZMKJ20231 · 导出于 2026-11-26 13:20".to_owned()
            ]
        );
        assert_eq!(d.cover[0], ("候选人姓名".to_owned(), "王五".to_owned()));
        assert_eq!(d.cover[2].1, "东莞市卫生健康局");
        // Blank resume rows are not printed; several stories are numbered.
        assert_eq!(d.resume.len(), 2);
        let stories = d
            .sections
            .iter()
            .find(|(_, b)| b.contains("深夜急救"))
            .unwrap();
        assert_eq!(stories.1, "（1）深夜急救。\n（2）下乡义诊。");
        // An opinion box for each level the campaign gives one, filled where given.
        assert!(d.opinions.iter().any(|(_, o)| o == "同意推荐。"));
        assert!(d.opinions.iter().any(|(_, o)| o.is_empty()));
        assert!(d.facts.iter().any(|(_, v)| v == "男"));
    }

    #[test]
    fn the_word_version_holds_the_same_form() {
        let (c, f) = (dongguan(), wang());
        let p = print(&c, &f, Some(PNG.to_vec()));
        let d = data(&p);
        let bytes = docx(&p).unwrap();
        let xml = docx_part(&bytes, "word/document.xml");
        let text = words(&xml);
        for expected in [
            "第二届东莞“最美科技工作者”推荐表",
            "王五",
            "东莞市卫生健康局",
            "2026年11月26日",
            "中山大学医学院 学生",
            // Each line its own paragraph.
            "扎根临床三十年，#[不是标记] $x$ 救治危重病人三千余例。\n下乡义诊二十年。",
            "（1）深夜急救。",
            "同意推荐。",
            "（盖　章）　　　　",
            "个人声明",
            "备注",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
        for (label, _) in d.facts.iter().chain(&d.sections).chain(&d.opinions) {
            assert!(text.contains(label.as_str()), "{label} in {text}");
        }
        // The photo is in the package and in the table, merged down beside four rows.
        assert!(
            docx_parts(&bytes)
                .iter()
                .any(|n| n.starts_with("word/media/"))
        );
        assert!(xml.contains("<w:drawing>") && xml.contains("w:val=\"restart\""));
        // The watermark's words head every page, the verification link closes it.
        let header = docx_parts(&bytes)
            .into_iter()
            .find(|n| n.starts_with("word/header"))
            .unwrap();
        let header = words(&docx_part(&bytes, &header));
        assert!(
            header.contains("第二届东莞“最美科技工作者” · ZMKJ20231 · 导出于 2026-11-26 13:20"),
            "{header}"
        );
        let footer = docx_parts(&bytes)
            .into_iter()
            .find(|n| n.starts_with("word/footer"))
            .unwrap();
        assert!(
            words(&docx_part(&bytes, &footer)).contains("https://kx.example.cn/verify/7/2/abc")
        );
    }

    #[test]
    fn a_photo_word_cannot_hold_leaves_its_place_marked() {
        let (c, f) = (dongguan(), wang());
        let mut p = print(&c, &f, None);
        p.photo = Some((b"\xff\xd8\xff not a png".to_vec(), "jpg"));
        let bytes = docx(&p).unwrap();
        assert!(docx_text(&bytes).contains("（照片）"));
        assert!(
            !docx_parts(&bytes)
                .iter()
                .any(|n| n.starts_with("word/media/"))
        );
    }
}
