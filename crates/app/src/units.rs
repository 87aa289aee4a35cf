//! Recommending units and work units of a campaign, imported from a list (CSV or Excel)
//! with their accounts. Every row is checked, against the file and against what is
//! stored, before anything is created; then all are created in one transaction, so a
//! bad file creates nothing. The command line and the 账号管理 page both come here.

use std::collections::HashSet;

use pingxuan_rules::Role;
use pingxuan_store::Store;
use pingxuan_store::accounts::{NewUnitAccount, NewUser};
use pingxuan_store::audit::Audit;

use crate::access::Access;
use crate::error::Error;
use crate::tables::Table;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRow {
    /// Line in the file (1-based, the header is line 1).
    pub line: usize,
    pub name: String,
    pub kind: Role,
    /// The campaign's category key (for a recommending unit).
    pub category: Option<String>,
    /// The category's name, as the campaign calls it.
    pub category_name: Option<String>,
    pub login: String,
    pub contact: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
}

/// The columns of the list, and whether each is required.
pub const COLUMNS: &[(&str, bool)] = &[
    ("单位名称", true),
    ("单位类型", true),
    ("类别", false),
    ("登录名", true),
    ("联系人", false),
    ("电子邮箱", false),
    ("手机", false),
];

/// Parses and checks the rows against the campaign's categories (key, name). Returns
/// every problem, each naming its line.
pub fn parse_rows(
    table: &Table,
    categories: &[(String, String)],
) -> Result<Vec<UnitRow>, Vec<String>> {
    let Some(header) = table.first() else {
        return Err(vec!["文件是空的".to_owned()]);
    };
    let index = crate::tables::locate(header, COLUMNS, false)?;
    let mut problems = Vec::new();
    let cell = |row: &Vec<String>, i: usize| -> String {
        index[i]
            .and_then(|p| row.get(p))
            .cloned()
            .unwrap_or_default()
    };
    let category_names = || {
        categories
            .iter()
            .map(|(_, n)| n.as_str())
            .collect::<Vec<_>>()
            .join("、")
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
        } else if name.chars().count() > 60 {
            problems.push(format!(
                "第 {line} 行：单位名称有 {} 个字，超过 60 字",
                name.chars().count()
            ));
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
        let category = if category_text.is_empty() {
            None
        } else {
            match categories
                .iter()
                .find(|(k, n)| *k == category_text || *n == category_text)
            {
                Some(found) => Some(found.clone()),
                None => {
                    problems.push(format!(
                        "第 {line} 行：类别“{category_text}”不是本活动的推荐单位类别（可用：{}）",
                        category_names()
                    ));
                    None
                }
            }
        };
        if kind == Some(Role::Recommender) && category_text.is_empty() {
            problems.push(format!(
                "第 {line} 行：推荐单位须填写类别（可用：{}）",
                category_names()
            ));
        }
        if login.is_empty() {
            problems.push(format!("第 {line} 行：登录名为空"));
        } else if login.chars().count() > 64 || login.chars().any(char::is_whitespace) {
            problems.push(format!(
                "第 {line} 行：登录名“{login}”须为 1–64 个字符，不含空格"
            ));
        } else if !logins.insert(login.to_lowercase()) {
            problems.push(format!("第 {line} 行：登录名“{login}”在文件中重复"));
        }
        if let Some(k) = kind
            && !names.insert((k, name.clone()))
        {
            problems.push(format!("第 {line} 行：单位“{name}”在文件中重复"));
        }
        let email = cell(row, 5);
        let mobile = cell(row, 6);
        problems.extend(crate::tables::contact_problems(line, &email, &mobile));
        let opt = |s: String| (!s.is_empty()).then_some(s);
        if let Some(kind) = kind {
            // A work unit has no category; one typed is ignored rather than refused.
            let category = category.filter(|_| kind == Role::Recommender);
            rows.push(UnitRow {
                line,
                name,
                kind,
                category_name: category.as_ref().map(|c| c.1.clone()),
                category: category.map(|c| c.0),
                login,
                contact: cell(row, 4),
                email: opt(email),
                mobile: opt(mobile),
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

/// What a list would create, or every problem with it; nothing is written.
pub async fn preview(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    table: &Table,
) -> Result<Result<Vec<UnitRow>, Vec<String>>, Error> {
    if !access.organizes(campaign_id) {
        return Err(Error::Forbidden);
    }
    let stored = store.get_campaign(campaign_id).await?.ok_or_else(|| {
        Error::invalid(
            "unknown_campaign",
            format!("活动 {campaign_id} 不存在，请先载入活动文件"),
            Some("campaign"),
        )
    })?;
    let categories: Vec<(String, String)> = stored
        .model()?
        .recommender_categories
        .iter()
        .map(|c| (c.key.clone(), c.name.clone()))
        .collect();
    let rows = match parse_rows(table, &categories) {
        Ok(rows) => rows,
        Err(problems) => return Ok(Err(problems)),
    };
    // Clashes with what is stored, also before anything is created.
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
    Ok(if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    })
}

/// One unit created, with the initial password of its account (shown once).
#[derive(Debug, Clone)]
pub struct CreatedUnit {
    pub name: String,
    pub kind: Role,
    pub login: String,
    pub password: String,
}

/// What an import did.
pub type Imported = crate::tables::Imported<CreatedUnit>;

/// Checks the list again (it may have changed since the preview) and creates every unit
/// with its account, or nothing.
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
        let display_name = if r.contact.is_empty() {
            r.name.clone()
        } else {
            format!("{}（{}）", r.name, r.contact)
        };
        new.push(NewUnitAccount {
            name: r.name.clone(),
            kind: r.kind,
            category: r.category,
            user: NewUser {
                login: r.login.clone(),
                display_name,
                email: r.email,
                mobile: r.mobile,
                password: password.clone(),
            },
        });
        created.push(CreatedUnit {
            name: r.name,
            kind: r.kind,
            login: r.login,
            password,
        });
    }
    let actor = access.actor();
    store
        .create_unit_accounts(campaign_id, new, |u, id| {
            Audit::new(actor, "account_created", format!("user:{id}"))
                .detail(format!(
                    "{}“{}” · {campaign_id}（批量导入）",
                    u.kind.label(),
                    u.name
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
        assert_eq!(rows[0].category_name.as_deref(), Some("设区市"));
        assert_eq!(rows[1].kind, Role::WorkUnit);
        assert_eq!(rows[1].email, None);
    }

    #[test]
    fn reports_every_bad_row() {
        let t = table(&[
            "单位名称,单位类型,类别,登录名,联系人,电子邮箱,手机",
            "南宁市科协,推荐单位,学会,nn,,,",
            ",推荐单位,设区市,x,,,",
            "柳州市科协,上级单位,设区市,nn,,,",
            "桂林市科协,推荐单位,,gl,,li@,1380000",
        ]);
        let problems = parse_rows(&t, &cats()).unwrap_err();
        let all = problems.join("\n");
        assert!(
            all.contains("第 2 行：类别“学会”不是本活动的推荐单位类别（可用：设区市）"),
            "{all}"
        );
        assert!(all.contains("第 3 行：单位名称为空"), "{all}");
        assert!(all.contains("第 4 行：单位类型“上级单位”无效"), "{all}");
        assert!(all.contains("第 4 行：登录名“nn”在文件中重复"), "{all}");
        assert!(all.contains("第 5 行：推荐单位须填写类别"), "{all}");
        assert!(all.contains("第 5 行：“li@”不是有效的电子邮箱"), "{all}");
        assert!(
            all.contains("第 5 行：“1380000”不是有效的手机号码"),
            "{all}"
        );
    }

    #[test]
    fn missing_columns_and_empty_files() {
        let problems = parse_rows(&table(&["名称,登录名"]), &cats()).unwrap_err();
        assert!(problems[0].contains("缺少“单位名称”列"), "{problems:?}");
        assert_eq!(
            parse_rows(&vec![], &cats()).unwrap_err(),
            vec!["文件是空的"]
        );
        let header_only = table(&["单位名称,单位类型,类别,登录名"]);
        assert_eq!(
            parse_rows(&header_only, &cats()).unwrap_err(),
            vec!["文件中没有单位"]
        );
    }
}
