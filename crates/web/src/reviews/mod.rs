//! 我的评审: an expert's assigned candidates, the 回避声明 before any is opened, and the
//! score sheets.

pub mod pages;
