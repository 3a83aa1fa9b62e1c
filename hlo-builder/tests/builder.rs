//! Integration tests of hlo-builder (one binary: MLIR links statically, so each test binary
//! costs ~180 MB). Every op is built, compiled on the CPU plugin and checked against values
//! computed independently here.

#[path = "builder/common.rs"]
mod common;
#[path = "builder/elementwise.rs"]
mod elementwise;
#[path = "builder/movement.rs"]
mod movement;
