//! 推荐码: a recommending unit issues and revokes codes; the page and its JSON twin call
//! `pingxuan_app::codes`.

pub mod api;
pub mod pages;
