//! A campaign's expert pool, imported from a list (CSV or Excel: 姓名, 工作单位, 学科/专业
//! 领域, 电子邮箱, 手机). Every row is checked, against the file and against what is
//! stored, before anything is created; then every expert is created with an account
//! (login: the e-mail address) holding the expert role in the campaign, in one
//! transaction. The command line and the 账号管理 page both come here.

use std::collections::HashSet;

use pingxuan_store::Store;
use pingxuan_store::accounts::NewUser;
use pingxuan_store::audit::Audit;
use pingxuan_store::experts::NewExpert;

use crate::access::Access;
use crate::error::Error;
use crate::tables::Table;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpertRow {
    /// Line in the file (1-based, the header is line 1).
    pub line: usize,
    pub name: String,
    pub work_unit: String,
    pub fields: Vec<String>,
    /// Also the login.
    pub email: String,
    pub mobile: Option<String>,
}

/// The columns of the list, and whether each is required. Any other column is refused:
/// a misspelt header would otherwise drop its data silently.
pub const COLUMNS: &[(&str, bool)] = &[
    ("姓名", true),
    ("工作单位", true),
    ("学科/专业领域", false),
    ("电子邮箱", true),
    ("手机", false),
];

/// 学科 written as a list: 、，, ；; / and spaces all separate.
fn fields_of(text: &str) -> Vec<String> {
    text.split(['、', '，', ',', '；', ';', '/', ' ', '\u{3000}'])
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses and checks the rows; every problem names its line.
pub fn parse_rows(table: &Table) -> Result<Vec<ExpertRow>, Vec<String>> {
    let Some(header) = table.first() else {
        return Err(vec!["文件是空的".to_owned()]);
    };
    let index = crate::tables::locate(header, COLUMNS, true)?;
    let cell = |row: &Vec<String>, i: usize| -> String {
        index[i]
            .and_then(|p| row.get(p))
            .map(|c| c.trim().to_owned())
            .unwrap_or_default()
    };
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let mut emails = HashSet::new();
    for (i, row) in table.iter().enumerate().skip(1) {
        let line = i + 1;
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let name = cell(row, 0);
        let work_unit = cell(row, 1);
        let email = cell(row, 3);
        let mobile = cell(row, 4);
        let count = |s: &str| s.chars().count();
        if name.is_empty() {
            problems.push(format!("第 {line} 行：姓名为空"));
        } else if count(&name) > 30 {
            problems.push(format!(
                "第 {line} 行：姓名有 {} 个字，超过 30 字",
                count(&name)
            ));
        }
        if work_unit.is_empty() {
            problems.push(format!(
                "第 {line} 行：工作单位为空（用于回避同单位的候选人）"
            ));
        } else if count(&work_unit) > 60 {
            problems.push(format!(
                "第 {line} 行：工作单位有 {} 个字，超过 60 字",
                count(&work_unit)
            ));
        }
        if email.is_empty() {
            problems.push(format!(
                "第 {line} 行：电子邮箱为空（专家以电子邮箱登录并接收评审提醒）"
            ));
        } else if !emails.insert(email.to_lowercase()) {
            problems.push(format!(
                "第 {line} 行：电子邮箱“{email}”在文件中重复（同一位专家只能导入一次）"
            ));
        }
        problems.extend(crate::tables::contact_problems(line, &email, &mobile));
        rows.push(ExpertRow {
            line,
            name,
            work_unit,
            fields: fields_of(&cell(row, 2)),
            email,
            mobile: (!mobile.is_empty()).then_some(mobile),
        });
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push("文件中没有专家".to_owned());
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// What a list would create, or every problem with it; nothing is written.
pub async fn preview(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    table: &Table,
) -> Result<Result<Vec<ExpertRow>, Vec<String>>, Error> {
    if !access.organizes(campaign_id) {
        return Err(Error::Forbidden);
    }
    if store.get_campaign(campaign_id).await?.is_none() {
        return Err(Error::invalid(
            "unknown_campaign",
            format!("活动 {campaign_id} 不存在，请先载入活动文件"),
            Some("campaign"),
        ));
    }
    let rows = match parse_rows(table) {
        Ok(rows) => rows,
        Err(problems) => return Ok(Err(problems)),
    };
    let mut problems = Vec::new();
    for r in &rows {
        if store.find_user(&r.email).await?.is_some() {
            problems.push(format!(
                "第 {} 行：电子邮箱“{}”已有账号（{}可能已在专家库中）",
                r.line, r.email, r.name
            ));
        }
    }
    Ok(if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    })
}

/// One expert created, with the initial password (shown once).
#[derive(Debug, Clone)]
pub struct CreatedExpert {
    pub name: String,
    pub work_unit: String,
    pub login: String,
    pub password: String,
}

/// What an import did.
pub type Imported = crate::tables::Imported<CreatedExpert>;

/// Checks the list again (it may have changed since the preview) and creates every
/// expert with their account, or nothing.
pub async fn import(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    table: &Table,
    ip: Option<&str>,
) -> Result<Imported, Error> {
    let rows = match preview(store, access, campaign_id, table).await? {
        Ok(rows) => rows,
        Err(problems) => return Ok(Imported::Refused(problems)),
    };
    let mut created = Vec::with_capacity(rows.len());
    let mut new = Vec::with_capacity(rows.len());
    for r in rows {
        let password = pingxuan_store::crypto::new_password();
        new.push(NewExpert {
            user: NewUser {
                login: r.email.clone(),
                display_name: r.name.clone(),
                email: Some(r.email.clone()),
                mobile: r.mobile,
                password: password.clone(),
            },
            work_unit: r.work_unit.clone(),
            fields: r.fields,
        });
        created.push(CreatedExpert {
            name: r.name,
            work_unit: r.work_unit,
            login: r.email,
            password,
        });
    }
    let actor = access.actor();
    store
        .create_expert_accounts(campaign_id, new, |e, id| {
            Audit::new(actor, "account_created", format!("user:{id}"))
                .detail(format!(
                    "评审专家“{}”（{}）· {campaign_id}（批量导入）",
                    e.user.display_name, e.work_unit
                ))
                .ip(ip)
        })
        .await?;
    Ok(Imported::Created(created))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&str]) -> Table {
        rows.iter()
            .map(|r| r.split(',').map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn reads_good_rows_with_their_fields() {
        let t = table(&[
            "姓名,工作单位,学科/专业领域,电子邮箱,手机",
            "王专家,新疆大学,化学、材料科学,wang@example.com,13800000000",
            "李专家,新疆农业科学院,,li@example.com,",
        ]);
        let rows = parse_rows(&t).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].fields, ["化学", "材料科学"]);
        assert_eq!(rows[1].fields, Vec::<String>::new());
        assert_eq!(rows[1].mobile, None);
    }

    #[test]
    fn every_bad_row_and_unknown_column_is_named() {
        let t = table(&[
            "姓名,工作单位,学科/专业领域,电子邮箱,手机,职称",
            "王专家,新疆大学,化学,wang@example.com,,",
        ]);
        let problems = parse_rows(&t).unwrap_err();
        assert_eq!(
            problems,
            ["第 1 行有未知的列“职称”（可用的列：姓名、工作单位、学科/专业领域、电子邮箱、手机）"]
        );
        let t = table(&[
            "姓名,工作单位,学科/专业领域,电子邮箱,手机",
            ",新疆大学,化学,a@example.com,",
            "王专家,,化学,WANG@example.com,1380000",
            "王专家,新疆大学,化学,wang@example.com,",
            "赵专家,新疆大学,化学,,",
        ]);
        let all = parse_rows(&t).unwrap_err().join("\n");
        for expected in [
            "第 2 行：姓名为空",
            "第 3 行：工作单位为空",
            "第 3 行：“1380000”不是有效的手机号码",
            "第 4 行：电子邮箱“wang@example.com”在文件中重复",
            "第 5 行：电子邮箱为空",
        ] {
            assert!(all.contains(expected), "{expected} in {all}");
        }
        assert_eq!(parse_rows(&vec![]).unwrap_err(), ["文件是空的"]);
    }
}
