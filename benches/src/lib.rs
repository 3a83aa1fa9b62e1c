//! Shared helpers for the benchmarks, including the baseline the runtime benchmarks are
//! measured against: a loop that calls the PJRT C API directly through `pjrt-sys`, with no
//! safe wrapper in between.

pub mod raw;
