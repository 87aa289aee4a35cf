//! The commands of `pingxuan`. Each reads its input, calls the use case in
//! `pingxuan_app` as the operator (`Access::operator()`, written in the audit trail as
//! the command line), and prints the outcome.

pub mod audit;
pub mod calendar;
pub mod campaign;
pub mod demo;
pub mod experts;
pub mod loadgen;
pub mod serve;
pub mod units;
pub mod user;
pub mod vote;
