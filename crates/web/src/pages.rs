//! What every domain's pages share: the page frame (`Shell`), the menu for a person's
//! roles, and how deadlines and times are written. The handlers themselves live in
//! their domain's folder, each parsing, calling a use case and rendering.

use pingxuan_rules::Role;
use pingxuan_rules::campaign::{Campaign, Deadline, EntryMode, deadline_instant};

use crate::auth::SignedIn;
pub use crate::shell::{MenuGroup, MenuItem, Shell};
use pingxuan_app::access::Access;

impl Shell {
    /// The frame for a signed-in person, with the menu their roles allow
    /// (laid out as in the 新疆 platform's manual).
    pub fn signed_in(who: &SignedIn, title: &str, current: &str) -> Shell {
        Shell {
            title: title.to_owned(),
            user_name: Some(who.access.user.display_name.clone()),
            csrf: who.session.csrf_token.clone(),
            menu: menu_for(&who.access, who.unread),
            current: current.to_owned(),
        }
    }
}

pub fn menu_for(access: &Access, unread: i64) -> Vec<MenuGroup> {
    let mut menu = vec![MenuGroup {
        title: "",
        items: vec![
            MenuItem {
                label: "我的主页",
                href: "/home",
                badge: 0,
            },
            MenuItem {
                label: "消息通知",
                href: "/notices",
                badge: unread,
            },
        ],
    }];
    let mut zuimei = Vec::new();
    if access.has(Role::Applicant) {
        zuimei.push(MenuItem {
            label: "我的申报表",
            href: "/applications/mine",
            badge: 0,
        });
    }
    if access.reviews() {
        zuimei.push(MenuItem {
            label: "待审核申报表",
            href: "/applications/review",
            badge: 0,
        });
        zuimei.push(MenuItem {
            label: "查询申报表",
            href: "/applications/search",
            badge: 0,
        });
    }
    if access.has(Role::Expert) {
        zuimei.push(MenuItem {
            label: "我的评审",
            href: "/reviews",
            badge: 0,
        });
    }
    if access.has(Role::Recommender) {
        zuimei.push(MenuItem {
            label: "推荐码",
            href: "/codes",
            badge: 0,
        });
        zuimei.push(MenuItem {
            label: "推荐公示",
            href: "/unit-publicity",
            badge: 0,
        });
        zuimei.push(MenuItem {
            label: "纸质材料报送",
            href: "/paper",
            badge: 0,
        });
    }
    if !zuimei.is_empty() {
        menu.push(MenuGroup {
            title: "最美科技工作者",
            items: zuimei,
        });
    }
    if access.manages_campaigns() {
        menu.push(MenuGroup {
            title: "活动管理",
            items: vec![
                MenuItem {
                    label: "活动配置",
                    href: "/campaigns",
                    badge: 0,
                },
                MenuItem {
                    label: "账号管理",
                    href: "/accounts",
                    badge: 0,
                },
            ],
        });
    }
    if access.is_admin() {
        menu.push(MenuGroup {
            title: "系统管理",
            items: vec![MenuItem {
                label: "审计日志",
                href: "/admin/audit",
                badge: 0,
            }],
        });
    }
    menu.push(MenuGroup {
        title: "账号",
        items: vec![MenuItem {
            label: "账号与安全",
            href: "/account",
            badge: 0,
        }],
    });
    menu
}

pub use pingxuan_rules::deadline::format_time;

/// Each campaign's title as the pages name it (its short name), by id.
pub async fn campaign_titles(
    store: &pingxuan_store::Store,
) -> Result<std::collections::HashMap<String, String>, crate::error::PageError> {
    let mut titles = std::collections::HashMap::new();
    for c in store.list_campaigns().await? {
        if let Some(model) = store.campaign_model(&c.id).await? {
            titles.insert(c.id, model.campaign.short_name.clone());
        }
    }
    Ok(titles)
}

/// A campaign file's deadline in the one format every page uses (“2024年3月26日 24:00”).
pub fn format_deadline(d: &Deadline) -> String {
    match deadline_instant(d) {
        Ok(t) => pingxuan_rules::deadline::format_beijing(t.unix_timestamp()),
        Err(_) => d.to_string(),
    }
}

pub fn entry_text(c: &Campaign) -> &'static str {
    match c.entry.mode {
        EntryMode::RecommendationCode => "凭推荐单位发放的推荐码申报",
        EntryMode::Open => "申报人自主申报，选择推荐单位",
    }
}
