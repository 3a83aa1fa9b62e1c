//! The crate's one integration-test binary (each binary linking MLIR is large); the tests
//! live in modules under `tests/autodiff/`.

#[path = "autodiff/api.rs"]
mod api;
#[path = "autodiff/batching.rs"]
mod batching;
#[path = "autodiff/collective.rs"]
mod collective;
#[path = "autodiff/common.rs"]
mod common;
#[path = "autodiff/composition.rs"]
mod composition;
#[path = "autodiff/fixtures.rs"]
mod fixtures;
#[path = "autodiff/jacobians.rs"]
mod jacobians;
#[path = "autodiff/lifetime.rs"]
mod lifetime;
#[path = "autodiff/optim.rs"]
mod optim;
#[path = "autodiff/rules.rs"]
mod rules;
#[cfg(feature = "serde")]
#[path = "autodiff/serde_config.rs"]
mod serde_config;
