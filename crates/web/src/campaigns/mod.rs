//! Campaigns as organisers run them: the list, a campaign's page (file, deadlines,
//! extensions, quota exceptions, the register of earlier winners) and the JSON twins,
//! over `pingxuan_app::campaigns`.

pub mod api;
pub mod pages;
