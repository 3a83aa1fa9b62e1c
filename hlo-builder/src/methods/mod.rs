//! The builder's methods, one file per op family (mirroring `crate::ops`): the constructor of
//! each primitive (which records through [`crate::Builder::record`]), its closure forms, and
//! the compositions that belong to the family (`matmul`, `softmax`, `relu`, ...), which
//! record only primitives, so their gradients come from the primitives' rules.

mod collective;
mod control;
mod elementwise;
mod linalg;
mod misc;
mod reduce;
mod shape;
mod source;
