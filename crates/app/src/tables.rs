//! Lists that organisers keep in spreadsheets (units, experts): a CSV or an Excel file
//! read into rows of trimmed text. A CSV saved by Excel on a Chinese Windows is GBK, not
//! UTF-8, so both are read.

use std::io::Cursor;

use calamine::{Data, Reader, open_workbook_auto_from_rs};

use crate::error::Error;

/// The rows of the file's first sheet, every cell as trimmed text.
pub type Table = Vec<Vec<String>>;

/// Reads `bytes` as the file `name` (its extension says whether it is a CSV).
pub fn read(name: &str, bytes: &[u8]) -> Result<Table, Error> {
    let is_csv = name
        .rsplit_once('.')
        .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("csv"));
    if is_csv {
        return read_csv(bytes);
    }
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|_| {
        Error::invalid(
            "unreadable_table",
            format!("无法打开表格 {name}（支持 .csv、.xlsx、.xls）"),
            Some("file"),
        )
    })?;
    let sheet = book
        .worksheet_range_at(0)
        .ok_or_else(|| Error::invalid("unreadable_table", "表格中没有工作表", Some("file")))?
        .map_err(|_| Error::invalid("unreadable_table", "无法读取第一个工作表", Some("file")))?;
    Ok(sheet
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    // A phone number typed into Excel is a number; it reads back whole.
                    Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                        format!("{}", *f as i64)
                    }
                    other => other.to_string().trim().to_owned(),
                })
                .collect()
        })
        .collect())
}

/// What importing a list did: everything created (with the initial passwords, shown
/// once), or nothing, with every problem naming its line.
pub enum Imported<T> {
    Created(Vec<T>),
    Refused(Vec<String>),
}

/// Where each expected column is in the header row, found by its name; a required one
/// missing, or (with `strict`) a column nobody asked for, is a problem naming line 1.
pub fn locate(
    header: &[String],
    columns: &[(&str, bool)],
    strict: bool,
) -> Result<Vec<Option<usize>>, Vec<String>> {
    let wanted = || columns.iter().map(|c| c.0).collect::<Vec<_>>().join("、");
    let mut problems = Vec::new();
    let mut index = Vec::with_capacity(columns.len());
    for (name, required) in columns {
        let pos = header.iter().position(|h| h.trim() == *name);
        if pos.is_none() && *required {
            problems.push(format!("第 1 行缺少“{name}”列（需要的列：{}）", wanted()));
        }
        index.push(pos);
    }
    if strict {
        for h in header.iter().map(|h| h.trim()).filter(|h| !h.is_empty()) {
            if !columns.iter().any(|(name, _)| name == &h) {
                problems.push(format!("第 1 行有未知的列“{h}”（可用的列：{}）", wanted()));
            }
        }
    }
    if problems.is_empty() {
        Ok(index)
    } else {
        Err(problems)
    }
}

/// A row's e-mail address and mobile number checked: each problem names the line.
pub fn contact_problems(line: usize, email: &str, mobile: &str) -> Vec<String> {
    use pingxuan_rules::form::{Contact, parse_contact};
    let mut out = Vec::new();
    if !email.is_empty() && !matches!(parse_contact(email), Some(Contact::Email(_))) {
        out.push(format!("第 {line} 行：“{email}”不是有效的电子邮箱"));
    }
    if !mobile.is_empty() && !matches!(parse_contact(mobile), Some(Contact::Mobile(_))) {
        out.push(format!("第 {line} 行：“{mobile}”不是有效的手机号码"));
    }
    out
}

fn read_csv(bytes: &[u8]) -> Result<Table, Error> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => {
            let (text, _, bad) = encoding_rs::GB18030.decode(bytes);
            if bad {
                return Err(Error::invalid(
                    "unreadable_table",
                    "CSV 文件的编码无法识别（请保存为 UTF-8 或 GBK 编码，或直接上传 Excel 文件）",
                    Some("file"),
                ));
            }
            text
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|_| {
            Error::invalid(
                "unreadable_table",
                format!("第 {} 行不是有效的 CSV", i + 1),
                Some("file"),
            )
        })?;
        rows.push(record.iter().map(|c| c.trim().to_owned()).collect());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utf8_with_bom_and_gbk() {
        let utf8 = "\u{feff}单位名称,登录名\n南宁市科协, nn \n".as_bytes();
        assert_eq!(
            read("units.csv", utf8).unwrap(),
            vec![vec!["单位名称", "登录名"], vec!["南宁市科协", "nn"]]
        );
        let (gbk, _, _) = encoding_rs::GBK.encode("单位名称,登录名\n柳州市科协,lz\n");
        assert_eq!(read("单位.CSV", &gbk).unwrap()[1], vec!["柳州市科协", "lz"]);
    }

    #[test]
    fn a_file_that_is_no_table_is_refused_in_words() {
        let e = read("units.xlsx", b"not a workbook").unwrap_err();
        assert!(e.to_string().contains("无法打开表格 units.xlsx"), "{e}");
    }
}
