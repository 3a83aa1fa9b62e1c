//! Helpers shared by the examples.

pub mod char_lm;
pub mod digits;
pub mod inference;
pub mod interleave;
pub mod metrics;
pub mod models;
pub mod plot;
