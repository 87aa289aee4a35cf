//! Notices (站内通知) to the person signed in: the page and its JSON twin.

pub mod api;
pub mod pages;
