//! A stage's results as XLSX for the file: the ranking (名次, the candidate, the
//! aggregate, advanced or not, the reason), then every sheet counted (per expert and
//! criterion, marked where it was keyed from paper) or, for an online vote, each
//! candidate's votes per group with its scaled and weighted part.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};

use crate::ExportError;

/// One ranked candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRow {
    pub rank: String,
    pub number: String,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    pub total: String,
    pub advanced: String,
    pub reason: String,
}

/// One sheet counted, or one candidate's count in a vote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRow {
    pub candidate: String,
    /// The expert; in a vote's count, the candidate's 编号.
    pub expert: String,
    pub points: Vec<String>,
    pub total: String,
    /// 纸质录入 or empty.
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct StageResults {
    /// “网上评选结果（2023年“新疆最美科技工作者”学习宣传活动）”.
    pub title: String,
    /// “汇总方法：平均分 · 晋级 25 人”.
    pub line: String,
    pub criteria: Vec<String>,
    /// The heading of a row's value: 汇总分, or 同意票数 for a show of hands.
    pub value_label: String,
    pub rows: Vec<ResultRow>,
    pub sheets: Vec<SheetRow>,
    pub detail: Detail,
}

/// What the second sheet lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// 评分明细: every sheet counted, per expert.
    #[default]
    Sheets,
    /// 计票明细: a vote's count per candidate, each group's votes, scaled and weighted.
    Votes,
}

impl Detail {
    fn name(self) -> &'static str {
        match self {
            Detail::Sheets => "评分明细",
            Detail::Votes => "计票明细",
        }
    }

    /// The headings around the criteria: (first two, last ones).
    fn heads(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Detail::Sheets => (&["候选人", "评审专家"], &["合计", "来源"]),
            Detail::Votes => (&["候选人", "编号"], &["综合得分"]),
        }
    }
}

/// The workbook: 评选结果 and 评分明细 (a vote's: 计票明细).
pub fn xlsx(r: &StageResults) -> Result<Vec<u8>, ExportError> {
    let mut book = Workbook::new();
    write_stage(&mut book, r, "评选结果", r.detail.name())?;
    Ok(book.save_to_buffer()?)
}

/// Every stage of a campaign in one workbook, in the campaign's order: for each, its
/// results (“1 形式审查”) and, where it was scored, its sheets (“3 会议评审 评分明细”).
pub fn workbook(stages: &[StageResults], names: &[String]) -> Result<Vec<u8>, ExportError> {
    let mut book = Workbook::new();
    for (n, (r, name)) in stages.iter().zip(names).enumerate() {
        let results = sheet_name(&format!("{} {name}", n + 1), "");
        let detail = sheet_name(
            &format!("{} {name}", n + 1),
            &format!(" {}", r.detail.name()),
        );
        write_stage(&mut book, r, &results, &detail)?;
    }
    Ok(book.save_to_buffer()?)
}

/// A worksheet's name as Excel allows it: at most 31 characters, none of []:*?/\ .
fn sheet_name(base: &str, suffix: &str) -> String {
    let clean: String = base
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let room = 31 - suffix.chars().count();
    format!("{}{suffix}", clean.chars().take(room).collect::<String>())
}

/// One stage's two sheets; a stage without scores (形式审查) has no 评分明细.
fn write_stage(
    book: &mut Workbook,
    r: &StageResults,
    results_name: &str,
    detail_name: &str,
) -> Result<(), ExportError> {
    let base = Format::new().set_font_name("宋体").set_font_size(10.5);
    let title = base
        .clone()
        .set_font_size(16)
        .set_bold()
        .set_align(FormatAlign::Center);
    let cell = base
        .clone()
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter);
    let head = cell.clone().set_bold().set_align(FormatAlign::Center);

    let heads: [(&str, f64); 8] = [
        ("名次", 6.0),
        ("编号", 12.0),
        ("姓名", 10.0),
        ("工作单位及职务", 28.0),
        ("推荐单位", 18.0),
        (r.value_label.as_str(), 9.0),
        ("是否晋级", 9.0),
        ("说明", 44.0),
    ];
    let sheet = book.add_worksheet();
    sheet.set_name(results_name)?;
    let last = (heads.len() - 1) as u16;
    sheet.merge_range(0, 0, 0, last, &r.title, &title)?;
    sheet.merge_range(1, 0, 1, last, &r.line, &base)?;
    for (i, (h, w)) in heads.iter().enumerate() {
        sheet.set_column_width(i as u16, *w)?;
        sheet.write_string_with_format(2, i as u16, *h, &head)?;
    }
    for (n, row) in r.rows.iter().enumerate() {
        let at = 3 + n as u32;
        let values = [
            &row.rank,
            &row.number,
            &row.name,
            &row.work_unit,
            &row.recommender,
            &row.total,
            &row.advanced,
            &row.reason,
        ];
        for (i, v) in values.into_iter().enumerate() {
            sheet.write_string_with_format(at, i as u16, v.as_str(), &cell)?;
        }
    }
    sheet
        .set_paper_size(9)
        .set_landscape()
        .set_print_fit_to_pages(1, 0);

    if r.criteria.is_empty() {
        return Ok(());
    }
    let detail = book.add_worksheet();
    detail.set_name(detail_name)?;
    let (first, last) = r.detail.heads();
    let mut heads: Vec<&str> = first.to_vec();
    heads.extend(r.criteria.iter().map(String::as_str));
    heads.extend(last);
    for (i, h) in heads.iter().enumerate() {
        detail.set_column_width(i as u16, if i < 2 { 12.0 } else { 10.0 })?;
        detail.write_string_with_format(0, i as u16, *h, &head)?;
    }
    for (n, s) in r.sheets.iter().enumerate() {
        let at = 1 + n as u32;
        let mut values: Vec<&str> = vec![&s.candidate, &s.expert];
        values.extend(s.points.iter().map(String::as_str));
        values.push(&s.total);
        if r.detail == Detail::Sheets {
            values.push(&s.source);
        }
        for (i, v) in values.into_iter().enumerate() {
            detail.write_string_with_format(at, i as u16, v, &cell)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sheets_read_back() {
        let r = StageResults {
            title: "网上评选结果".into(),
            line: "汇总方法：平均分".into(),
            criteria: vec!["思想品质".into(), "工作实绩".into()],
            value_label: "汇总分".into(),
            rows: vec![ResultRow {
                rank: "1".into(),
                number: "ZMKJ20231".into(),
                name: "张三".into(),
                work_unit: "新疆大学 教授".into(),
                recommender: "昌吉州科协".into(),
                total: "87.00".into(),
                advanced: "晋级".into(),
                reason: "第 1 名，晋级".into(),
            }],
            sheets: vec![SheetRow {
                candidate: "张三".into(),
                expert: "王专家".into(),
                points: vec!["30".into(), "38".into()],
                total: "68".into(),
                source: String::new(),
            }],
            detail: Detail::Sheets,
        };
        let bytes = xlsx(&r).unwrap();
        let cells = crate::testing::xlsx_cells(bytes.clone(), "评选结果");
        assert_eq!(cells[2][0], "名次");
        assert_eq!(cells[3][2], "张三");
        assert_eq!(cells[3][6], "晋级");
        let detail = crate::testing::xlsx_cells(bytes, "评分明细");
        assert_eq!(
            detail[0],
            ["候选人", "评审专家", "思想品质", "工作实绩", "合计", "来源"]
        );
        assert_eq!(detail[1][4], "68");
    }

    #[test]
    fn every_stage_gets_its_sheets_in_order() {
        let scored = StageResults {
            title: "会议评审结果".into(),
            line: "汇总方法：平均分".into(),
            criteria: vec!["思想品质".into()],
            value_label: "汇总分".into(),
            rows: vec![],
            sheets: vec![SheetRow {
                candidate: "张三".into(),
                expert: "王专家".into(),
                points: vec!["30".into()],
                total: "30".into(),
                source: "纸质录入".into(),
            }],
            detail: Detail::Sheets,
        };
        let screening = StageResults {
            title: "形式审查结果".into(),
            line: String::new(),
            criteria: vec![],
            value_label: "审查结论".into(),
            rows: vec![ResultRow {
                rank: String::new(),
                number: "ZMKJ20231".into(),
                name: "张三".into(),
                work_unit: "新疆大学".into(),
                recommender: "昌吉州科协".into(),
                total: "合格".into(),
                advanced: "晋级".into(),
                reason: String::new(),
            }],
            sheets: vec![],
            detail: Detail::Sheets,
        };
        let long = "一个名字很长很长很长很长很长很长很长很长的评审阶段[终]".to_owned();
        let bytes = workbook(&[screening, scored], &["形式审查".to_owned(), long.clone()]).unwrap();
        let names = crate::testing::xlsx_sheet_names(bytes.clone());
        assert_eq!(names.len(), 3);
        assert_eq!(names[0], "1 形式审查");
        assert!(names[1].starts_with("2 一个名字") && names[1].chars().count() <= 31);
        assert!(names[2].ends_with(" 评分明细") && names[2].chars().count() <= 31);
        assert!(!names.iter().any(|n| n.contains('[')));
        let first = crate::testing::xlsx_cells(bytes.clone(), "1 形式审查");
        assert_eq!(first[3][5], "合格");
        let detail = crate::testing::xlsx_cells(bytes, &names[2]);
        assert_eq!(detail[1][4], "纸质录入");
    }

    #[test]
    fn a_vote_counts_per_group_on_its_own_sheet() {
        let r = StageResults {
            title: "网络投票结果".into(),
            line:
                "综合得分 = 公众组票数 ÷ 公众组有效票总数 × 0.6 + 专业组票数 ÷ 专业组最高票数 × 0.4"
                    .into(),
            criteria: vec![
                "公众组票数".into(),
                "公众组换算".into(),
                "公众组得分".into(),
            ],
            value_label: "综合得分".into(),
            rows: vec![],
            sheets: vec![SheetRow {
                candidate: "张三".into(),
                expert: "7".into(),
                points: vec!["120".into(), "0.4000".into(), "0.2400".into()],
                total: "0.2400".into(),
                source: String::new(),
            }],
            detail: Detail::Votes,
        };
        let bytes = xlsx(&r).unwrap();
        let names = crate::testing::xlsx_sheet_names(bytes.clone());
        assert_eq!(names, ["评选结果", "计票明细"]);
        let detail = crate::testing::xlsx_cells(bytes, "计票明细");
        assert_eq!(
            detail[0],
            [
                "候选人",
                "编号",
                "公众组票数",
                "公众组换算",
                "公众组得分",
                "综合得分"
            ]
        );
        assert_eq!(
            detail[1],
            ["张三", "7", "120", "0.4000", "0.2400", "0.2400"]
        );
    }
}
