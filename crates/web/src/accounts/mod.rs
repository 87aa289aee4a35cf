//! Accounts: sign-in, sign-out, the captcha, registration and password reset
//! (`sign_in`); one's own account and API tokens (`own`); accounts made by organisers and
//! admins (`manage`); and their JSON twins (`api`, `me`).

pub mod api;
pub mod manage;
pub mod me;
pub mod own;
pub mod sign_in;
