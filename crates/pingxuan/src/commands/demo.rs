//! `pingxuan demo` (or `serve --demo`): loads the three seed campaigns and a handful of
//! demo accounts, and prints their logins. Running it again gives the demo accounts
//! fresh passwords instead of creating duplicates.

use pingxuan_rules::Role;
use pingxuan_rules::campaign::{SEEDS, load};
use pingxuan_store::Store;

use super::{AccountSpec, create_account, generate_password};

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
    for (file, text) in SEEDS {
        let campaign = load(text)
            .campaign
            .ok_or_else(|| anyhow::anyhow!("示例活动 {file} 未通过检查"))?;
        if store.get_campaign(&campaign.campaign.id).await?.is_none() {
            store
                .save_campaign(&campaign, text, None, |revision| {
                    pingxuan_store::audit::Audit::new(
                        None,
                        "campaign_loaded",
                        format!("campaign:{}", campaign.campaign.id),
                    )
                    .detail(format!("第 {revision} 版，示例活动"))
                })
                .await?;
            println!(
                "已载入示例活动：{}（{}）",
                campaign.campaign.name, campaign.campaign.id
            );
        }
    }
    println!("\n演示账号（密码每次运行 demo 时重新生成）：");
    println!("{:<30} {:<14} {:<16} 密码", "账号", "角色", "活动");
    for a in ACCOUNTS {
        let password = generate_password();
        match store.find_user(a.login).await? {
            Some(u) => {
                let audit = pingxuan_store::audit::Audit::new(
                    None,
                    "password_changed",
                    format!("user:{}", u.id),
                )
                .detail("演示账号重设密码");
                store.set_password(u.id, &password, &audit).await?
            }
            None => {
                let unit_id = match (a.unit, a.campaign) {
                    (Some((name, category)), Some(c)) => {
                        let existing = store.list_units(c).await?;
                        match existing.iter().find(|u| u.name == name && u.kind == a.role) {
                            Some(u) => Some(u.id),
                            None => Some(store.create_unit(c, name, a.role, category).await?),
                        }
                    }
                    _ => None,
                };
                create_account(
                    store,
                    AccountSpec {
                        login: a.login,
                        name: a.name,
                        role: a.role,
                        campaign: a.campaign,
                        unit_id,
                        email: a.email,
                        mobile: None,
                        password: &password,
                    },
                )
                .await?;
            }
        }
        println!(
            "{:<30} {:<14} {:<16} {password}",
            a.login,
            a.role.label(),
            a.campaign.unwrap_or("全部")
        );
    }
    extend_past_deadlines(store).await
}

/// The seed campaigns' deadlines are years past; in the demo the admin pushes each one
/// to 60 days from now (once), as an organiser would, so that every step can be tried.
async fn extend_past_deadlines(store: &Store) -> anyhow::Result<()> {
    let admin = store
        .find_user("admin")
        .await?
        .ok_or_else(|| anyhow::anyhow!("演示管理员账号不存在"))?;
    let now = pingxuan_store::now();
    let until = now + 60 * 86_400;
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
                store
                    .extend_deadline(
                        id,
                        &level.key,
                        None,
                        until,
                        "演示环境：示例活动的截止时间已过，顺延 60 天以便体验",
                        admin.id,
                        &pingxuan_store::audit::Audit::new(
                            None,
                            "deadline_extended",
                            format!("campaign:{id}"),
                        )
                        .detail(format!(
                            "{} → {}：演示环境顺延",
                            level.name,
                            pingxuan_rules::deadline::format_beijing(until)
                        )),
                    )
                    .await?;
                println!(
                    "演示：{} 的{}提交截止时间顺延至 {}",
                    c.campaign.short_name,
                    level.name,
                    pingxuan_rules::deadline::format_beijing(until)
                );
            }
        }
    }
    Ok(())
}
