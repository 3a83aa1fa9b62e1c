//! Record tensor programs and emit StableHLO.
pub mod nn;
