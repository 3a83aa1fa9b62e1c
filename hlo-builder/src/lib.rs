//! Record tensor programs and emit StableHLO.
