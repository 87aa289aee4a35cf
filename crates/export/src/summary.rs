//! The 候选人汇总表, laid out as 东莞's 附件2: a title row, “推荐单位（盖章）：…”, then one row
//! per candidate under 序号, 姓名, 性别, 民族, 党派, 出生年月, 工作单位及职务职称, 学科领域及专业专长
//! and 主要成就及事迹简介（150字以内）. The whole campaign's table adds the 推荐单位 of each
//! candidate as a last column. Printed on A4 landscape, one page wide, the heading rows
//! repeated on every page.

use pingxuan_rules::campaign::{Campaign, FieldKey};
use pingxuan_rules::form::FormValues;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};

use crate::ExportError;
use pingxuan_rules::form::{count_chars, employer_and_title, printed};

/// The 附件2 brief is “150字以内”.
pub const BRIEF_CHARS: usize = 150;

/// One candidate's row, as the table prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    pub name: String,
    pub sex: String,
    pub ethnicity: String,
    pub party: String,
    pub birth_month: String,
    /// 工作单位及职务职称.
    pub employer_and_title: String,
    /// 学科领域及专业专长.
    pub subject: String,
    /// 主要成就及事迹简介, at most 150 characters.
    pub brief: String,
    /// The recommending unit (shown in the whole campaign's table).
    pub recommender: String,
}

/// A table ready to write: its title, the line under it, and its rows in order.
#[derive(Debug, Clone)]
pub struct SummaryTable {
    pub title: String,
    /// “推荐单位（盖章）：某某科协”, or the campaign's count for the organiser's table.
    pub unit_line: String,
    pub rows: Vec<SummaryRow>,
    /// Adds the 推荐单位 column (the whole campaign's table).
    pub with_recommender: bool,
}

/// “第二届东莞“最美科技工作者”候选人汇总表” from “第二届东莞“最美科技工作者”学习宣传活动”.
pub fn title_of(campaign: &Campaign) -> String {
    format!("{}候选人汇总表", campaign.award())
}

/// At most `max` 字 as Word counts them (`rules::form::count_chars`, the count the
/// form checks): a longer text is cut after its last whole sentence that fits and marked
/// “……”; only a first sentence longer than the limit is cut inside it.
fn cut(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if count_chars(&text) <= max {
        return text;
    }
    const MARK: &str = "……";
    let room = max - count_chars(MARK);
    let mut best = None;
    for (i, c) in text.char_indices() {
        if "。！？!?；;".contains(c) {
            let end = i + c.len_utf8();
            if count_chars(&text[..end]) > room {
                break;
            }
            best = Some(end);
        }
    }
    let kept = match best {
        Some(end) => text[..end].to_owned(),
        None => {
            let mut kept = String::new();
            for c in text.chars() {
                kept.push(c);
                if count_chars(&kept) > room {
                    kept.pop();
                    break;
                }
            }
            kept
        }
    };
    format!("{kept}{MARK}")
}

/// A candidate's row from their 推荐表. Campaigns name things differently, so each
/// column takes the closest field the campaign has: 学科领域及专业专长 is the 专业专长 field
/// where there is one (东莞), else the 推荐领域; the brief is the 事迹简介 (东莞, 150 字)
/// or, where a campaign has none, the start of 主要事迹.
pub fn row_of(form: &FormValues, recommender: &str) -> SummaryRow {
    let employer_and_title = employer_and_title(form);
    let subject = match printed(form, FieldKey::Specialty) {
        s if s.is_empty() => printed(form, FieldKey::Field),
        s => s,
    };
    let brief = match printed(form, FieldKey::Summary) {
        s if s.is_empty() => printed(form, FieldKey::Deeds),
        s => s,
    };
    SummaryRow {
        name: printed(form, FieldKey::Name),
        sex: printed(form, FieldKey::Sex),
        ethnicity: printed(form, FieldKey::Ethnicity),
        party: printed(form, FieldKey::PoliticalStatus),
        birth_month: printed(form, FieldKey::BirthMonth),
        employer_and_title,
        subject,
        brief: cut(&brief, BRIEF_CHARS),
        recommender: recommender.to_owned(),
    }
}

/// The columns of 附件2 with their widths (in characters of the default font; a Chinese
/// character is about two).
const COLUMNS: [(&str, f64); 9] = [
    ("序号", 5.5),
    ("姓  名", 9.0),
    ("性别", 5.5),
    ("民族", 7.0),
    ("党派", 11.0),
    ("出生年月", 10.0),
    ("工作单位及职务职称", 26.0),
    ("学科领域及专业专长", 20.0),
    ("主要成就及事迹简介\n（150字以内）", 56.0),
];
const RECOMMENDER_COLUMN: (&str, f64) = ("推荐单位", 18.0);

/// The table as an XLSX workbook of one sheet.
pub fn xlsx(table: &SummaryTable) -> Result<Vec<u8>, ExportError> {
    // 宋体 as the official forms are set; Excel and WPS have it, LibreOffice substitutes.
    let base = Format::new().set_font_name("宋体").set_font_size(10.5);
    let title = base
        .clone()
        .set_font_name("方正小标宋简体")
        .set_font_size(18)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let line = base
        .clone()
        .set_font_size(12)
        .set_align(FormatAlign::VerticalCenter);
    let cell = base
        .clone()
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter);
    let head = cell.clone().set_bold().set_align(FormatAlign::Center);
    let centered = cell.clone().set_align(FormatAlign::Center);

    let mut columns: Vec<(&str, f64)> = COLUMNS.to_vec();
    if table.with_recommender {
        columns.push(RECOMMENDER_COLUMN);
    }
    let last = (columns.len() - 1) as u16;

    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("候选人汇总表")?;
    for (i, (_, width)) in columns.iter().enumerate() {
        sheet.set_column_width(i as u16, *width)?;
    }
    sheet.set_row_height(0, 36)?;
    sheet.merge_range(0, 0, 0, last, &table.title, &title)?;
    sheet.set_row_height(1, 24)?;
    sheet.merge_range(1, 0, 1, last, &table.unit_line, &line)?;
    sheet.set_row_height(2, 30)?;
    for (i, (name, _)) in columns.iter().enumerate() {
        sheet.write_string_with_format(2, i as u16, *name, &head)?;
    }
    for (n, r) in table.rows.iter().enumerate() {
        let row = 3 + n as u32;
        sheet.write_number_with_format(row, 0, (n + 1) as f64, &centered)?;
        let values = [
            (&r.name, &centered),
            (&r.sex, &centered),
            (&r.ethnicity, &centered),
            (&r.party, &centered),
            (&r.birth_month, &centered),
            (&r.employer_and_title, &cell),
            (&r.subject, &cell),
            (&r.brief, &cell),
        ];
        for (i, (v, f)) in values.into_iter().enumerate() {
            sheet.write_string_with_format(row, 1 + i as u16, v.as_str(), f)?;
        }
        if table.with_recommender {
            sheet.write_string_with_format(row, last, &r.recommender, &cell)?;
        }
        // Excel does not grow a row for wrapped text it did not type itself: give the
        // brief's lines room (≈ 27 characters a line in its column, 14 points a line).
        let lines = (r.brief.chars().count() / 27 + 1).max(2) as f64;
        sheet.set_row_height(row, (lines * 14.0).min(400.0))?;
    }
    sheet
        .set_paper_size(9) // A4
        .set_landscape()
        .set_print_fit_to_pages(1, 0)
        .set_print_center_horizontally(true)
        .set_margins(0.5, 0.5, 0.6, 0.7, 0.3, 0.3)
        .set_footer("&C第 &P 页，共 &N 页");
    sheet.set_repeat_rows(2, 2)?;
    sheet.set_freeze_panes(3, 0)?;
    Ok(book.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Reader, Xlsx};
    use pingxuan_rules::campaign::{SEEDS, load};
    use pingxuan_rules::form::FieldValue;

    fn seed(name: &str) -> Campaign {
        let (_, text) = SEEDS.iter().find(|(file, _)| file.contains(name)).unwrap();
        load(text).campaign.unwrap()
    }

    fn form(pairs: &[(FieldKey, &str)]) -> FormValues {
        pairs
            .iter()
            .map(|(k, v)| (*k, FieldValue::Text((*v).to_owned())))
            .collect()
    }

    #[test]
    fn titles_follow_the_notices() {
        assert_eq!(
            title_of(&seed("dongguan")),
            "第二届东莞“最美科技工作者”候选人汇总表"
        );
        assert_eq!(
            title_of(&seed("guangxi")),
            "2024年广西“最美科技工作者”候选人汇总表"
        );
        assert_eq!(
            title_of(&seed("xinjiang")),
            "2023年“新疆最美科技工作者”候选人汇总表"
        );
    }

    #[test]
    fn rows_take_the_closest_fields() {
        let dongguan = form(&[
            (FieldKey::Name, "王五"),
            (FieldKey::EmployerAndPost, "东莞理工学院 教授"),
            (FieldKey::Title, "教授"),
            (FieldKey::Specialty, "材料科学，新能源电池"),
            (FieldKey::Field, "面向经济主战场"),
            (FieldKey::Summary, "长期从事电池材料研究。"),
            (FieldKey::Deeds, "很长的主要事迹……"),
        ]);
        let r = row_of(&dongguan, "东莞理工学院");
        assert_eq!(
            r.employer_and_title, "东莞理工学院 教授",
            "the title is not repeated"
        );
        assert_eq!(r.subject, "材料科学，新能源电池");
        assert_eq!(r.brief, "长期从事电池材料研究。");

        let deeds = "扎根基层".repeat(60);
        let xinjiang = form(&[
            (FieldKey::EmployerAndPost, "新疆农科院"),
            (FieldKey::Title, "研究员"),
            (FieldKey::Field, "面向人民生命健康"),
            (FieldKey::Deeds, &deeds),
        ]);
        let r = row_of(&xinjiang, "");
        assert_eq!(r.employer_and_title, "新疆农科院，研究员");
        assert_eq!(r.subject, "面向人民生命健康");
        assert_eq!(r.brief.chars().count(), BRIEF_CHARS);
        assert!(r.brief.ends_with("……"));
    }

    #[test]
    fn the_brief_is_cut_after_a_whole_sentence() {
        // 60 sentences of 12 字: the brief keeps 12 whole ones (144 字) and the mark.
        let deeds = "扎根基层服务蔗农三十年。".repeat(60);
        let r = row_of(&form(&[(FieldKey::Deeds, &deeds)]), "");
        assert_eq!(
            r.brief,
            format!("{}……", "扎根基层服务蔗农三十年。".repeat(12))
        );
        assert!(count_chars(&r.brief) <= BRIEF_CHARS);
        // Latin words count as one 字 each, as the form counts them, so more fits.
        let mixed = "Research on CRISPR gene editing in cotton breeding。".repeat(40);
        let r = row_of(&form(&[(FieldKey::Deeds, &mixed)]), "");
        assert!(count_chars(&r.brief) <= BRIEF_CHARS, "{}", r.brief);
        assert!(r.brief.ends_with("。……"), "{}", r.brief);
        // A text within the limit is kept whole, unmarked.
        let short = "扎根基层服务蔗农三十年。";
        assert_eq!(row_of(&form(&[(FieldKey::Deeds, short)]), "").brief, short);
    }

    fn read(bytes: Vec<u8>) -> Vec<Vec<String>> {
        let book = Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
        assert_eq!(book.sheet_names(), ["候选人汇总表"]);
        crate::testing::xlsx_cells(bytes, "候选人汇总表")
    }

    #[test]
    fn the_workbook_reads_back() {
        let rows = vec![
            row_of(
                &form(&[
                    (FieldKey::Name, "张三"),
                    (FieldKey::Sex, "男"),
                    (FieldKey::Ethnicity, "汉族"),
                    (FieldKey::PoliticalStatus, "中共党员"),
                    (FieldKey::BirthMonth, "1980年5月"),
                    (FieldKey::EmployerAndPost, "东莞市人民医院 主任医师"),
                    (FieldKey::Specialty, "心血管内科"),
                    (FieldKey::Summary, "救治危重病人三千余例。"),
                ]),
                "东莞市卫生健康局",
            ),
            row_of(&form(&[(FieldKey::Name, "李四")]), "东莞理工学院"),
        ];
        let table = SummaryTable {
            title: "第二届东莞“最美科技工作者”候选人汇总表".into(),
            unit_line: "推荐单位（盖章）：东莞市卫生健康局".into(),
            rows: rows.clone(),
            with_recommender: false,
        };
        let cells = read(xlsx(&table).unwrap());
        assert_eq!(cells[0][0], "第二届东莞“最美科技工作者”候选人汇总表");
        assert_eq!(cells[1][0], "推荐单位（盖章）：东莞市卫生健康局");
        assert_eq!(
            cells[2],
            [
                "序号",
                "姓  名",
                "性别",
                "民族",
                "党派",
                "出生年月",
                "工作单位及职务职称",
                "学科领域及专业专长",
                "主要成就及事迹简介\n（150字以内）"
            ]
        );
        assert_eq!(
            cells[3],
            [
                "1",
                "张三",
                "男",
                "汉族",
                "中共党员",
                "1980年5月",
                "东莞市人民医院 主任医师",
                "心血管内科",
                "救治危重病人三千余例。"
            ]
        );
        assert_eq!(cells[4][..2], ["2", "李四"]);
        assert_eq!(cells.len(), 5);

        let whole = SummaryTable {
            with_recommender: true,
            ..table
        };
        let cells = read(xlsx(&whole).unwrap());
        assert_eq!(cells[2][9], "推荐单位");
        assert_eq!(cells[3][9], "东莞市卫生健康局");
        assert_eq!(cells[4][9], "东莞理工学院");
    }
}
