//! Paper filing (issue 18): the page where the office marks each `[paper]` item received
//! and a recommending unit sees what is still outstanding (`pages.rs`), and its JSON twin
//! (`api.rs`).

pub mod api;
pub mod pages;
