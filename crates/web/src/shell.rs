//! The page frame every template extends (title, who is signed in, the menu) and the
//! error page. A leaf module: the error type draws its page from here without reaching
//! into the page handlers (which import the error type).

use askama::Template;
use axum::http::StatusCode;
use axum::response::Html;

pub struct MenuItem {
    pub label: &'static str,
    pub href: &'static str,
    /// A count shown beside the label (unread notices).
    pub badge: i64,
}

pub struct MenuGroup {
    pub title: &'static str,
    pub items: Vec<MenuItem>,
}

/// What the page frame needs: title, who is signed in, the menu.
pub struct Shell {
    pub title: String,
    pub user_name: Option<String>,
    pub csrf: String,
    pub menu: Vec<MenuGroup>,
    pub current: String,
}

impl Shell {
    /// The frame for visitors who are not signed in.
    pub fn public(title: &str) -> Shell {
        Shell {
            title: title.to_owned(),
            user_name: None,
            csrf: String::new(),
            menu: Vec::new(),
            current: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    shell: Shell,
    heading: &'a str,
    message: &'a str,
}

pub fn error_page(status: StatusCode, message: &str) -> Html<String> {
    let heading = match status {
        StatusCode::FORBIDDEN => "无权访问",
        StatusCode::NOT_FOUND => "找不到页面",
        StatusCode::TOO_MANY_REQUESTS => "操作过于频繁",
        s if s.is_client_error() => "无法完成操作",
        _ => "系统错误",
    };
    let page = ErrorPage {
        shell: Shell::public(heading),
        heading,
        message,
    };
    Html(page.render().unwrap_or_else(|_| message.to_owned()))
}
