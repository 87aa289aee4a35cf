//! The web crate's integration tests: one binary, a real server per test, every test
//! on SQLite and on PostgreSQL (`sqlite::name`, `postgres::name`).

mod access;
mod accounts;
mod api_input;
mod applications;
mod auth;
mod browser;
mod campaigns;
mod codes;
mod common;
mod contract;
mod exports;
mod final_list;
mod guangxi;
mod mail;
mod materials;
mod paper;
mod publicity;
mod races;
mod release;
mod stages;
mod stages_api;
mod unit_publicity;
mod vote_http;
mod vote_review;
mod voters;
mod votes;
