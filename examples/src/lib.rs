//! Helpers shared by the examples.

pub mod digits;
pub mod inference;
pub mod metrics;
pub mod models;
pub mod plot;
