//! Rules of the sources (parameters, constants, iota): no operands, nothing to propagate.

use hlo_builder::SourceOp;

use super::common::{At, Batched, Cts, Jvp};
use crate::error::{not_batchable, Result};

/// The VJP of a source node: it has no operands.
pub(crate) fn vjp(op: &SourceOp) -> Result<Cts> {
    match op {
        SourceOp::Parameter { .. } | SourceOp::Constant { .. } | SourceOp::Iota { .. } => {
            Ok(Vec::new())
        }
    }
}

/// The JVP of a source node: its value does not depend on the inputs.
pub(crate) fn jvp(op: &SourceOp, at: &At) -> Result<Jvp> {
    match op {
        SourceOp::Parameter { .. } | SourceOp::Constant { .. } | SourceOp::Iota { .. } => {
            Ok(Jvp::Tangents(vec![None; at.y.len()]))
        }
    }
}

/// The batching rule of a source node: sources have no operands, so they are never batched
/// (the sweep re-records nodes whose operands are all shared as they are).
pub(crate) fn batch(op: &SourceOp) -> Result<Vec<Batched>> {
    match op {
        SourceOp::Parameter { .. } | SourceOp::Constant { .. } | SourceOp::Iota { .. } => {
            not_batchable(op.name(), "internal: a source has no batched operand")
        }
    }
}
