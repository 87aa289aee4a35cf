//! `pingxuan units import --campaign ID FILE`: recommending units and work units from a
//! CSV or XLSX list, each with its account. Every row is checked before anything is
//! created, so a bad file creates nothing.

use std::collections::HashSet;
use std::path::Path;

use anyhow::Context;
use calamine::{Data, Reader, open_workbook_auto};
use pingxuan_rules::Role;

use super::{AccountSpec, create_account, generate_password};
use crate::config::Common;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRow {
    /// Line in the file (1-based, header is line 1).
    pub line: usize,
    pub name: String,
    pub kind: Role,
    pub category: Option<String>,
    pub login: String,
    pub contact: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
}

const COLUMNS: &[(&str, bool)] = &[
    ("单位名称", true),
    ("单位类型", true),
    ("类别", false),
    ("登录名", true),
    ("联系人", false),
    ("电子邮箱", false),
    ("手机", false),
];

fn read_table(path: &Path) -> anyhow::Result<Vec<Vec<String>>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext == "csv" {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_path(path)
            .with_context(|| format!("无法读取 {}", path.display()))?;
        let mut rows = Vec::new();
        for r in reader.records() {
            let r =
                r.with_context(|| format!("{} 不是有效的 CSV（须为 UTF-8 编码）", path.display()))?;
            rows.push(
                r.iter()
                    .map(|c| c.trim().trim_start_matches('\u{feff}').to_owned())
                    .collect(),
            );
        }
        return Ok(rows);
    }
    let mut wb = open_workbook_auto(path)
        .with_context(|| format!("无法打开表格 {}（支持 .csv、.xlsx、.xls）", path.display()))?;
    let sheet = wb
        .worksheet_range_at(0)
        .context("表格中没有工作表")?
        .context("无法读取第一个工作表")?;
    Ok(sheet
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                    other => other.to_string().trim().to_owned(),
                })
                .collect()
        })
        .collect())
}

/// Parses and checks the rows against the campaign's categories. Returns every problem.
pub fn parse_rows(
    table: &[Vec<String>],
    categories: &[(String, String)],
) -> Result<Vec<UnitRow>, Vec<String>> {
    let Some(header) = table.first() else {
        return Err(vec!["文件是空的".to_owned()]);
    };
    let mut index = Vec::new();
    let mut problems = Vec::new();
    for (name, required) in COLUMNS {
        let pos = header.iter().position(|h| h.trim() == *name);
        if pos.is_none() && *required {
            problems.push(format!("第 1 行缺少“{name}”列（需要的列：单位名称、单位类型、类别、登录名、联系人、电子邮箱、手机）"));
        }
        index.push(pos);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let cell = |row: &Vec<String>, i: usize| -> String {
        index[i]
            .and_then(|p| row.get(p))
            .cloned()
            .unwrap_or_default()
    };
    let mut rows = Vec::new();
    let mut logins = HashSet::new();
    let mut names = HashSet::new();
    for (i, row) in table.iter().enumerate().skip(1) {
        let line = i + 1;
        if row.iter().all(|c| c.is_empty()) {
            continue;
        }
        let name = cell(row, 0);
        let kind_text = cell(row, 1);
        let login = cell(row, 3);
        if name.is_empty() {
            problems.push(format!("第 {line} 行：单位名称为空"));
        }
        let kind = match kind_text.as_str() {
            "推荐单位" | "recommender" => Some(Role::Recommender),
            "所在单位" | "work_unit" => Some(Role::WorkUnit),
            other => {
                problems.push(format!(
                    "第 {line} 行：单位类型“{other}”无效，应为“推荐单位”或“所在单位”"
                ));
                None
            }
        };
        let category_text = cell(row, 2);
        let category =
            if category_text.is_empty() {
                None
            } else {
                match categories
                    .iter()
                    .find(|(k, n)| *k == category_text || *n == category_text)
                {
                    Some((k, _)) => Some(k.clone()),
                    None => {
                        problems.push(format!(
                        "第 {line} 行：类别“{category_text}”不是本活动的推荐单位类别（可用：{}）",
                        categories.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join("、")
                    ));
                        None
                    }
                }
            };
        if kind == Some(Role::Recommender) && category_text.is_empty() {
            problems.push(format!("第 {line} 行：推荐单位须填写类别"));
        }
        if login.is_empty() {
            problems.push(format!("第 {line} 行：登录名为空"));
        } else if !logins.insert(login.to_lowercase()) {
            problems.push(format!("第 {line} 行：登录名“{login}”在文件中重复"));
        }
        if let Some(k) = kind
            && !names.insert((k, name.clone()))
        {
            problems.push(format!("第 {line} 行：单位“{name}”在文件中重复"));
        }
        let opt = |s: String| (!s.is_empty()).then_some(s);
        if let Some(kind) = kind {
            rows.push(UnitRow {
                line,
                name,
                kind,
                category,
                login,
                contact: cell(row, 4),
                email: opt(cell(row, 5)),
                mobile: opt(cell(row, 6)),
            });
        }
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push("文件中没有单位".to_owned());
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

pub async fn import(common: &Common, campaign_id: &str, path: &Path) -> anyhow::Result<bool> {
    let store = common.store().await?;
    let stored = store
        .get_campaign(campaign_id)
        .await?
        .with_context(|| format!("活动 {campaign_id} 不存在，请先用 campaign load 载入"))?;
    let campaign = stored.model()?;
    let categories: Vec<(String, String)> = campaign
        .recommender_categories
        .iter()
        .map(|c| (c.key.clone(), c.name.clone()))
        .collect();
    let table = read_table(path)?;
    let rows = match parse_rows(&table, &categories) {
        Ok(rows) => rows,
        Err(problems) => {
            for p in problems {
                eprintln!("{}：{p}", path.display());
            }
            eprintln!("未导入任何单位。");
            return Ok(false);
        }
    };
    // Conflicts with what is already stored, also before creating anything.
    let existing = store.list_units(campaign_id).await?;
    let mut problems = Vec::new();
    for r in &rows {
        if existing
            .iter()
            .any(|u| u.name == r.name && u.kind == r.kind)
        {
            problems.push(format!(
                "第 {} 行：本活动已有{}“{}”",
                r.line,
                r.kind.label(),
                r.name
            ));
        }
        if store.find_user(&r.login).await?.is_some() {
            problems.push(format!("第 {} 行：登录名“{}”已被使用", r.line, r.login));
        }
    }
    if !problems.is_empty() {
        for p in problems {
            eprintln!("{}：{p}", path.display());
        }
        eprintln!("未导入任何单位。");
        return Ok(false);
    }
    println!("单位名称,单位类型,登录名,初始密码");
    for r in &rows {
        let unit_id = store
            .create_unit(campaign_id, &r.name, r.kind, r.category.as_deref())
            .await?;
        let password = generate_password();
        let display = if r.contact.is_empty() {
            r.name.clone()
        } else {
            format!("{}（{}）", r.name, r.contact)
        };
        create_account(
            &store,
            AccountSpec {
                login: &r.login,
                name: &display,
                role: r.kind,
                campaign: Some(campaign_id),
                unit_id: Some(unit_id),
                email: r.email.as_deref(),
                mobile: r.mobile.as_deref(),
                password: &password,
            },
        )
        .await?;
        println!("{},{},{},{}", r.name, r.kind.label(), r.login, password);
    }
    eprintln!(
        "已导入 {} 个单位及其账号。初始密码只显示这一次，请分发给各单位后妥善处理本输出。",
        rows.len()
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&str]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.split(',').map(str::to_owned).collect())
            .collect()
    }

    fn cats() -> Vec<(String, String)> {
        vec![("city".to_owned(), "设区市".to_owned())]
    }

    #[test]
    fn reads_good_rows() {
        let t = table(&[
            "单位名称,单位类型,类别,登录名,联系人,电子邮箱,手机",
            "南宁市科协,推荐单位,设区市,nn-kx,李明,li@example.com,13800000000",
            "广西大学,所在单位,,gxu,,,",
        ]);
        let rows = parse_rows(&t, &cats()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].category.as_deref(), Some("city"));
        assert_eq!(rows[1].kind, Role::WorkUnit);
        assert_eq!(rows[1].email, None);
    }

    #[test]
    fn reports_every_bad_row() {
        let t = table(&[
            "单位名称,单位类型,类别,登录名",
            "南宁市科协,推荐单位,学会,nn",
            ",推荐单位,设区市,x",
            "柳州市科协,上级单位,设区市,nn",
            "桂林市科协,推荐单位,,gl",
        ]);
        let problems = parse_rows(&t, &cats()).unwrap_err();
        let all = problems.join("\n");
        assert!(all.contains("第 2 行：类别“学会”"), "{all}");
        assert!(all.contains("第 3 行：单位名称为空"), "{all}");
        assert!(all.contains("第 4 行：单位类型“上级单位”无效"), "{all}");
        assert!(all.contains("第 4 行：登录名“nn”在文件中重复"), "{all}");
        assert!(all.contains("第 5 行：推荐单位须填写类别"), "{all}");
    }

    #[test]
    fn missing_columns() {
        let t = table(&["名称,登录名"]);
        let problems = parse_rows(&t, &cats()).unwrap_err();
        assert!(problems[0].contains("缺少“单位名称”列"));
    }
}
