//! `pingxuan demo` (or `serve --demo`): loads the three seed campaigns and a handful of
//! demo accounts, and prints their logins. Running it again gives the demo accounts
//! fresh passwords instead of creating duplicates.

use pingxuan_app::Access;
use pingxuan_app::accounts::{self, AccountRequest};
use pingxuan_app::campaigns::{extend_deadline, load_campaign};
use pingxuan_rules::Role;
use pingxuan_rules::campaign::{SEEDS, load};
use pingxuan_store::Store;

struct DemoAccount {
    login: &'static str,
    name: &'static str,
    role: Role,
    campaign: Option<&'static str>,
    /// (unit name, recommender category) for unit accounts.
    unit: Option<(&'static str, Option<&'static str>)>,
    email: Option<&'static str>,
}

const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        login: "admin",
        name: "系统管理员",
        role: Role::Admin,
        campaign: None,
        unit: None,
        email: None,
    },
    DemoAccount {
        login: "gx-office",
        name: "自治区活动办公室",
        role: Role::Organizer,
        campaign: Some("guangxi-2024"),
        unit: None,
        email: None,
    },
    DemoAccount {
        login: "gx-nanning",
        name: "南宁市科协",
        role: Role::Recommender,
        campaign: Some("guangxi-2024"),
        unit: Some(("南宁市科学技术协会", Some("city"))),
        email: None,
    },
    DemoAccount {
        login: "gx-gxu",
        name: "广西大学",
        role: Role::WorkUnit,
        campaign: Some("guangxi-2024"),
        unit: Some(("广西大学", None)),
        email: None,
    },
    DemoAccount {
        login: "dg-office",
        name: "东莞市科协学会部",
        role: Role::Organizer,
        campaign: Some("dongguan-2023"),
        unit: None,
        email: None,
    },
    DemoAccount {
        login: "dg-dgut",
        name: "东莞理工学院科协",
        role: Role::Recommender,
        campaign: Some("dongguan-2023"),
        unit: Some(("东莞理工学院科协", Some("universities"))),
        email: None,
    },
    DemoAccount {
        login: "dg-expert",
        name: "评审专家（东莞）",
        role: Role::Expert,
        campaign: Some("dongguan-2023"),
        unit: None,
        email: None,
    },
    DemoAccount {
        login: "xj-office",
        name: "自治区科协调研宣传部",
        role: Role::Organizer,
        campaign: Some("xinjiang-2023"),
        unit: None,
        email: None,
    },
    DemoAccount {
        login: "xj-urumqi",
        name: "乌鲁木齐市科协",
        role: Role::Recommender,
        campaign: Some("xinjiang-2023"),
        unit: Some(("乌鲁木齐市科学技术协会", Some("prefecture"))),
        email: None,
    },
    DemoAccount {
        login: "applicant@demo.pingxuan.cn",
        name: "张三（演示申报人）",
        role: Role::Applicant,
        campaign: None,
        unit: None,
        email: Some("applicant@demo.pingxuan.cn"),
    },
];

pub async fn run(store: &Store) -> anyhow::Result<()> {
    let operator = Access::operator();
    for (file, text) in SEEDS {
        let campaign = load(text)
            .campaign
            .ok_or_else(|| anyhow::anyhow!("示例活动 {file} 未通过检查"))?;
        if store.get_campaign(&campaign.campaign.id).await?.is_none() {
            load_campaign(store, &operator, text, None).await?;
            println!(
                "已载入示例活动：{}（{}）",
                campaign.campaign.name, campaign.campaign.id
            );
        }
    }
    println!("\n演示账号（密码每次运行 demo 时重新生成）：");
    let rows = [("账号", "角色", "活动", "密码".to_owned())]
        .into_iter()
        .map(|(a, b, c, d)| (a.to_owned(), b.to_owned(), c.to_owned(), d));
    let mut table: Vec<(String, String, String, String)> = rows.collect();
    for a in ACCOUNTS {
        let password = if store.find_user(a.login).await?.is_some() {
            accounts::reset_password(store, &operator, a.login, "演示账号重设密码", None).await?
        } else if a.role == Role::Applicant {
            // Applicants register themselves; the demo registers one as a person would.
            let password = pingxuan_store::crypto::new_password();
            let registration = accounts::Registration {
                name: a.name,
                login: a.login,
                password: &password,
                password2: &password,
                consent: true,
            };
            if let Err(problems) = accounts::register(store, &registration, None).await? {
                anyhow::bail!("无法注册演示申报人：{problems:?}");
            }
            password
        } else {
            let created = accounts::create_account(
                store,
                &operator,
                &AccountRequest {
                    login: a.login.to_owned(),
                    name: a.name.to_owned(),
                    role: a.role.as_str().to_owned(),
                    campaign: a.campaign.map(str::to_owned),
                    unit: a.unit.map(|u| u.0.to_owned()),
                    category: a.unit.and_then(|u| u.1).map(str::to_owned),
                    email: a.email.map(str::to_owned),
                },
                None,
            )
            .await?;
            created.password
        };
        table.push((
            a.login.to_owned(),
            a.role.label().to_owned(),
            a.campaign.unwrap_or("全部").to_owned(),
            password,
        ));
    }
    print_aligned(&table);
    extend_past_deadlines(store).await
}

/// Columns padded by their width on a terminal (a Chinese character takes two cells).
fn print_aligned(rows: &[(String, String, String, String)]) {
    let width = |s: &str| -> usize {
        s.chars()
            .map(|c| if (c as u32) < 0x1100 { 1 } else { 2 })
            .sum()
    };
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(width(s))));
    let w0 = rows.iter().map(|r| width(&r.0)).max().unwrap_or(0) + 2;
    let w1 = rows.iter().map(|r| width(&r.1)).max().unwrap_or(0) + 2;
    let w2 = rows.iter().map(|r| width(&r.2)).max().unwrap_or(0) + 2;
    for r in rows {
        println!("{}{}{}{}", pad(&r.0, w0), pad(&r.1, w1), pad(&r.2, w2), r.3);
    }
}

/// The seed campaigns' deadlines are years past; in the demo the admin pushes each one
/// to 60 days from now (once), as an organiser would, so that every step can be tried.
async fn extend_past_deadlines(store: &Store) -> anyhow::Result<()> {
    let admin = store
        .find_user("admin")
        .await?
        .ok_or_else(|| anyhow::anyhow!("演示管理员账号不存在"))?;
    let admin = Access::load(store, admin.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("演示管理员账号已停用"))?;
    let now = pingxuan_store::now();
    let until = now + 60 * 86_400;
    // Typed as an organiser types it on the form, in Beijing time.
    let beijing = time::OffsetDateTime::from_unix_timestamp(until)?
        .to_offset(time::UtcOffset::from_hms(8, 0, 0)?);
    let until_typed = format!(
        "{}-{:02}-{:02} {:02}:{:02}",
        beijing.year(),
        beijing.month() as u8,
        beijing.day(),
        beijing.hour(),
        beijing.minute()
    );
    let until_text = pingxuan_rules::deadline::format_beijing(until);
    for (_, text) in SEEDS {
        let Some(c) = load(text).campaign else {
            continue;
        };
        let id = &c.campaign.id;
        if !store.deadline_extensions(id).await?.is_empty() {
            continue;
        }
        for level in &c.levels {
            let Some(d) = &level.deadline else { continue };
            let passed = pingxuan_rules::campaign::deadline_instant(d)
                .map(|t| t.unix_timestamp() < now)
                .unwrap_or(false);
            if passed {
                extend_deadline(
                    store,
                    &admin,
                    id,
                    &level.key,
                    None,
                    &until_typed,
                    "演示环境：示例活动的截止时间已过，顺延 60 天以便体验",
                    None,
                )
                .await?;
                println!(
                    "演示：{} 的{}提交截止时间顺延至 {until_text}",
                    c.campaign.short_name, level.name,
                );
            }
        }
    }
    Ok(())
}
