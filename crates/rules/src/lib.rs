//! The rules of pingxuan: campaign files, the working-day calendar, field checks and
//! account policies. Pure functions with no I/O and no async, so they test in
//! microseconds and every other crate can rely on them.

pub mod audit;
pub mod calendar;
pub mod campaign;
pub mod code;
pub mod deadline;
pub mod decide;
pub mod eligibility;
pub mod form;
pub mod idcard;
pub mod materials;
pub mod paper;
pub mod password;
pub mod publicity;
pub mod release;
pub mod role;
pub mod selection;
pub mod vote;
pub mod workflow;

pub use role::Role;
