//! Integration tests of hlo-builder (one binary: MLIR links statically, so each test binary
//! costs ~180 MB). Every op is built, compiled on the CPU plugin and checked against values
//! computed independently here.

#[path = "builder/bytecode.rs"]
mod bytecode;
#[path = "builder/collective.rs"]
mod collective;
#[path = "builder/common.rs"]
mod common;
#[path = "builder/compose.rs"]
mod compose;
#[path = "builder/control.rs"]
mod control;
#[path = "builder/donation.rs"]
mod donation;
#[path = "builder/elementwise.rs"]
mod elementwise;
#[path = "builder/errors.rs"]
mod errors;
#[path = "builder/export.rs"]
mod export;
#[path = "builder/ffi.rs"]
mod ffi;
#[path = "builder/fuzz.rs"]
mod fuzz;
#[path = "builder/graph_api.rs"]
mod graph_api;
#[path = "builder/linalg.rs"]
mod linalg;
#[path = "builder/movement.rs"]
mod movement;
#[path = "builder/placement.rs"]
mod placement;
#[path = "builder/plugins.rs"]
mod plugins;
#[path = "builder/reduce.rs"]
mod reduce;
#[path = "builder/safety.rs"]
mod safety;
#[path = "builder/scan.rs"]
mod scan;
#[path = "builder/sharding.rs"]
mod sharding;
#[path = "builder/snapshots.rs"]
mod snapshots;
