//! The benchmark package: criterion benches in `benches/` (their direct C-API baseline is
//! `benches/support/raw.rs`) and the JAX comparison in `compare/`.
