//! The selection rounds after the 活动办公室 has the candidates at its desk (issue 17):
//! stages and their transitions, conflicts of interest, the assignment of experts to
//! candidates, score sheets and their aggregation into a ranking. Pure code: the use
//! cases in `crates/app` load what a move depends on, decide here, and write.

pub mod aggregate;
pub mod approval;
pub mod assign;
pub mod conflict;
pub mod final_list;
pub mod indicators;
pub mod screening;
pub mod sheet;
pub mod stage;
