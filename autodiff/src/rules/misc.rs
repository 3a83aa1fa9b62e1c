//! Rules of the remaining primitives: random bits have no derivative, a barrier passes
//! cotangents through, `stop_gradient` stops them, custom calls are opaque.

use hlo_builder::{Builder, MiscOp, Value};

use super::common::{linear, At, Cts, Jvp};
use crate::error::{not_diff, Result};

/// The VJP of one of these nodes.
pub(crate) fn vjp(op: &MiscOp, at: &At, cts: &[Option<Value>]) -> Result<Cts> {
    match op {
        // Random bits are integers; the u64 state has no derivative.
        MiscOp::RngBitGenerator { .. } => Ok(vec![None]),
        MiscOp::OptimizationBarrier => Ok(cts.to_vec()),
        MiscOp::StopGradient => Ok(vec![None; at.x.len()]),
        MiscOp::CustomCall { target, .. } => not_diff(
            "custom_call",
            format!("target `{target}` is opaque; wrap it with `autodiff::custom_vjp` to give it a gradient"),
        ),
    }
}

/// The JVP of one of these nodes.
pub(crate) fn jvp(b: &mut Builder, op: &MiscOp, at: &At, tin: &[Option<Value>]) -> Result<Jvp> {
    match op {
        MiscOp::OptimizationBarrier => linear(b, at.node, &at.x, tin),
        MiscOp::StopGradient => Ok(Jvp::Tangents(vec![None])),
        MiscOp::RngBitGenerator { .. } | MiscOp::CustomCall { .. } => Ok(Jvp::FromVjp),
    }
}
