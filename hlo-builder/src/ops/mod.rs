//! The primitives, by family. Each family file holds its ops' attributes, shape rules
//! (`infer`) and lowering table (`lower`); the builder methods that record them live in
//! `crate::methods`, and autodiff's rules in its `rules` module, one file per family each.
//!
//! [`Op`] is closed: every `match` over it (here, in the methods, in autodiff) is exhaustive,
//! so a new primitive does not compile until every rule handles it.

pub mod collective;
pub mod common;
pub mod control;
pub mod elementwise;
pub mod linalg;
pub mod misc;
pub mod reduce;
pub mod shape;
pub mod source;

pub use collective::{CollectiveOp, Participants};
pub use common::{Emission, Lowering, Reducer, RegionUse, Signature};
pub use control::{CallKind, CheckpointPolicy, ControlOp, Counted, CustomRules};
pub use elementwise::{BinaryOp, ComparisonDirection, ElementwiseOp, UnaryOp};
pub use linalg::{ConvConfig, ConvDims, DotDims, LinalgOp, Precision};
pub use misc::{MiscOp, RngAlgorithm};
pub use reduce::{ReduceOp, WindowConfig};
pub use shape::{GatherDims, ScatterDims, ShapeOp};
pub use source::{ConstantValue, SourceOp};

use crate::error::Result;
use crate::types::TensorType;

/// Every primitive the graph can hold, by family, with all its attributes. A node's op and
/// its operand types (and region signatures) determine its result types: the op says what it
/// means, so re-recording it needs nothing else.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Parameters, constants, iota.
    Source(SourceOp),
    /// Elementwise maths, comparisons, selection and conversion.
    Elementwise(ElementwiseOp),
    /// Reshape, transpose, broadcast, slices, gather, scatter, sort.
    Shape(ShapeOp),
    /// `dot_general`, convolution and the factorizations.
    Linalg(LinalgOp),
    /// `reduce` and `reduce_window`.
    Reduce(ReduceOp),
    /// `while`, `if`, `case` and calls.
    Control(ControlOp),
    /// Random bits, barriers, custom calls.
    Misc(MiscOp),
    /// Collectives across replicas and partitions, sharding constraints and manual regions.
    Collective(CollectiveOp),
}

impl Op {
    /// The op's name in errors (StableHLO's name where there is one).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Source(o) => o.name(),
            Op::Elementwise(o) => o.name(),
            Op::Shape(o) => o.name(),
            Op::Linalg(o) => o.name(),
            Op::Reduce(o) => o.name(),
            Op::Control(o) => o.name(),
            Op::Misc(o) => o.name(),
            Op::Collective(o) => o.name(),
        }
    }

    /// The shape rule: the result types of this op on operands of types `operands` with
    /// regions of signatures `regions`, or an error naming the op, the shapes and the axes.
    pub fn infer(
        &self,
        operands: &[&TensorType],
        regions: &[Signature],
    ) -> Result<Vec<TensorType>> {
        let none = || common::region_count(self.name(), regions, 0);
        match self {
            Op::Source(o) => {
                none()?;
                o.infer(operands)
            }
            Op::Elementwise(o) => {
                none()?;
                o.infer(operands)
            }
            Op::Shape(o) => o.infer(operands, regions),
            Op::Linalg(o) => {
                none()?;
                o.infer(operands)
            }
            Op::Reduce(o) => o.infer(operands, regions),
            Op::Control(o) => o.infer(operands, regions),
            Op::Misc(o) => {
                none()?;
                o.infer(operands)
            }
            Op::Collective(o) => o.infer(operands, regions),
        }
    }

    /// The lowering table entry of this op on operands of types `operands`, with results of
    /// types `results` and `nregions` regions.
    pub fn lower(
        &self,
        operands: &[&TensorType],
        results: &[TensorType],
        nregions: usize,
    ) -> Result<Lowering> {
        match self {
            Op::Source(o) => o.lower(results),
            Op::Elementwise(o) => o.lower(operands),
            Op::Shape(o) => o.lower(operands),
            Op::Linalg(o) => o.lower(),
            Op::Reduce(o) => o.lower(operands),
            Op::Control(o) => o.lower(nregions),
            Op::Misc(o) => o.lower(),
            Op::Collective(o) => o.lower(operands),
        }
    }
}

macro_rules! from_family {
    ($($family:ident($ty:ty)),* $(,)?) => {
        $(impl From<$ty> for Op {
            fn from(o: $ty) -> Op {
                Op::$family(o)
            }
        })*
    };
}

from_family! {
    Source(SourceOp),
    Elementwise(ElementwiseOp),
    Shape(ShapeOp),
    Linalg(LinalgOp),
    Reduce(ReduceOp),
    Control(ControlOp),
    Misc(MiscOp),
    Collective(CollectiveOp),
}
