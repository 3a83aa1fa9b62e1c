//! Cross-crate integration tests live in `integration/`.

/// The guide's code blocks, compiled and run as this crate's doc tests (`cargo test -p
/// integration-tests --doc`, part of `make test`).
#[cfg(doctest)]
#[doc = include_str!("../../docs/guide.md")]
pub struct Guide;
