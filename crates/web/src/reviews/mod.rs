//! 我的评审, as pages and as JSON: an expert's assigned candidates, the 回避声明 before any
//! is opened, and the score sheets.

pub mod api;
pub mod pages;
