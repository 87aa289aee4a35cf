//! 推荐表 and the chain: the applicant's form and its 提交/收回, the units' 办理 pages,
//! the lists (mine, to review, search) and their JSON twins. Handlers parse, call
//! `pingxuan_app::applications`, render.

pub mod api;
pub mod flow;
pub mod form;
/// The lists for the pages and the API twins: `pingxuan_app::lists`.
pub use pingxuan_app::lists;
pub mod mine;
pub mod review;
pub mod search;
