//! Helpers shared by the examples.

pub mod checkpoint;
pub mod digits;
pub mod plot;
pub mod inference;
pub mod models;
