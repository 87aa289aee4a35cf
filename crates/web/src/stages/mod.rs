//! The selection rounds' pages and their JSON twins: a stage's candidates, its progress and
//! its moves (开始, 结束, 确定晋级名单, 撤销), and 形式审查's pass or fail per candidate.

pub mod api;
pub mod pages;
