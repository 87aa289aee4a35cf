//! For tests here and in other crates (`features = ["testing"]`): a seed campaign and a
//! filled-in form to print, and our Word documents read back the way a reader would,
//! without docx-rs.

use std::io::Read as _;

use pingxuan_rules::campaign::{Campaign, FieldKey, SEEDS, load};
use pingxuan_rules::form::{FieldValue, FormValues};

/// The 东莞 campaign as its seed file gives it.
pub fn dongguan() -> Campaign {
    let (_, text) = SEEDS.iter().find(|(f, _)| f.contains("dongguan")).unwrap();
    load(text).campaign.unwrap()
}

/// 王五's 推荐表: the basic facts, a two-line 主要事迹 holding markup-like text (which must
/// print as typed), a resume with a blank row (not printed) and two 感人故事.
pub fn wang() -> FormValues {
    let mut f: FormValues = [
        (FieldKey::Name, "王五"),
        (FieldKey::Sex, "男"),
        (FieldKey::Ethnicity, "汉族"),
        (FieldKey::BirthMonth, "1975年3月"),
        (FieldKey::PoliticalStatus, "中共党员"),
        (FieldKey::EmployerAndPost, "东莞市人民医院副院长"),
        (FieldKey::Title, "主任医师"),
        (FieldKey::Field, "面向人民生命健康"),
        (
            FieldKey::Deeds,
            "扎根临床三十年，#[不是标记] $x$ 救治危重病人三千余例。\n下乡义诊二十年。",
        ),
        (FieldKey::Summary, "长期从事心血管疾病救治。"),
    ]
    .into_iter()
    .map(|(k, v)| (k, FieldValue::Text(v.to_owned())))
    .collect();
    f.insert(
        FieldKey::Resume,
        FieldValue::Rows(vec![
            ("1993.09-1998.07".into(), "中山大学医学院 学生".into()),
            ("1998.07-至今".into(), "东莞市人民医院 医生、副院长".into()),
            (" ".into(), "".into()),
        ]),
    );
    f.insert(
        FieldKey::Stories,
        FieldValue::List(vec!["深夜急救。".into(), "下乡义诊。".into()]),
    );
    f
}

/// One part of a DOCX package, e.g. `word/document.xml`.
pub fn docx_part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a DOCX package");
    let mut xml = String::new();
    zip.by_name(name)
        .unwrap_or_else(|e| panic!("{name} in the package: {e}"))
        .read_to_string(&mut xml)
        .expect("UTF-8 XML");
    xml
}

/// The names of a DOCX package's parts.
pub fn docx_parts(bytes: &[u8]) -> Vec<String> {
    let zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a DOCX package");
    zip.file_names()
        .map(|n| n.expect("a part name").into_owned())
        .collect()
}

/// The text Word would show in a part's XML, a line per run.
pub fn words(xml: &str) -> String {
    let mut out = String::new();
    for piece in xml.split("<w:t").skip(1) {
        // `<w:t>` or `<w:t xml:space="preserve">`, not `<w:tbl>`, `<w:tc>` …
        if !(piece.starts_with('>') || piece.starts_with(' ')) {
            continue;
        }
        let inner = &piece[piece.find('>').expect("a tag") + 1..];
        out.push_str(&inner[..inner.find("</w:t>").unwrap_or(0)]);
        out.push('\n');
    }
    out
}

/// The text of a DOCX's body, a line per run.
pub fn docx_text(bytes: &[u8]) -> String {
    words(&docx_part(bytes, "word/document.xml"))
}

/// The cells of an XLSX sheet as text, row by row, read with calamine.
pub fn xlsx_cells(bytes: Vec<u8>, sheet: &str) -> Vec<Vec<String>> {
    use calamine::{Data, Reader, Xlsx};
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).expect("an XLSX package");
    let range = book
        .worksheet_range(sheet)
        .unwrap_or_else(|e| panic!("sheet {sheet}: {e}"));
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::Float(f) => format!("{f}"),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// The names of an XLSX package's sheets, in order.
pub fn xlsx_sheet_names(bytes: Vec<u8>) -> Vec<String> {
    use calamine::{Reader, Xlsx};
    let book = Xlsx::new(std::io::Cursor::new(bytes)).expect("an XLSX package");
    book.sheet_names()
}
