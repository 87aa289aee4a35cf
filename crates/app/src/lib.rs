//! The use cases of pingxuan, between the web (or the command line, or a background
//! worker) and the store. Each move is one function that loads its case in one store
//! call, asks one pure decision in `pingxuan_rules`, and writes the outcome, its
//! notices and its audit entry in one store call. Nothing here knows HTTP.

pub mod access;
pub mod accounts;
pub mod applications;
pub mod aside;
pub mod calendar;
pub mod campaigns;
pub mod codes;
pub mod error;
pub mod experts;
pub mod exports;
pub mod extra_lists;
pub mod final_list;
pub mod jobs;
pub mod lists;
pub mod marks;
pub mod materials;
pub mod notify;
pub mod paper;
pub mod publicity;
pub mod queue;
pub mod release;
pub mod reviews;
pub mod sessions;
pub mod stages;
pub mod tables;
pub mod unit_publicity;
pub mod units;
pub mod vote_page;
pub mod vote_receipts;
pub mod vote_review;
pub mod voters;
pub mod votes;

pub use access::Access;
pub use error::{Error, Result};
