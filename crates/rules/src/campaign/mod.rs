//! Campaigns as data: the model of a campaign file, its loader and its checks.

mod check;
mod load;
mod model;
mod problem;
pub mod settings;

pub use check::{deadline_instant, parse_resolution, parse_size};
pub use load::{Report, load};
pub use model::*;
pub use problem::{Problem, Severity};

#[cfg(test)]
mod tests;

/// The seed campaigns shipped as templates (file name, TOML text).
pub const SEEDS: &[(&str, &str)] = &[
    (
        "guangxi-2024.toml",
        include_str!("../../../../campaigns/guangxi-2024.toml"),
    ),
    (
        "dongguan-2023.toml",
        include_str!("../../../../campaigns/dongguan-2023.toml"),
    ),
    (
        "xinjiang-2023.toml",
        include_str!("../../../../campaigns/xinjiang-2023.toml"),
    ),
];
