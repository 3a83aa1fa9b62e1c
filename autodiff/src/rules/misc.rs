//! Rules of the remaining primitives: random bits have no derivative, a barrier passes
//! cotangents through, `stop_gradient` stops them, custom calls are opaque (batched by a
//! loop over the examples).

use hlo_builder::{Builder, MiscOp, Value};

use super::common::{linear, per_example_loop, At, Bat, Batched, Cts, Jvp};
use crate::error::{not_diff, Result};

/// The VJP of one of these nodes.
pub(crate) fn vjp(op: &MiscOp, at: &At, cts: &[Option<Value>]) -> Result<Cts> {
    match op {
        // Random bits are integers; the u64 state has no derivative.
        MiscOp::RngBitGenerator { .. } => Ok(vec![None]),
        MiscOp::OptimizationBarrier => Ok(cts.to_vec()),
        // A move between memories is the identity: its cotangent passes through (and lives
        // wherever the backward pass computes it, the device).
        MiscOp::Place { .. } => Ok(cts.to_vec()),
        MiscOp::StopGradient => Ok(vec![None; at.x.len()]),
        MiscOp::CustomCall { target, .. } | MiscOp::FfiCall { target, .. } => not_diff(
            op.name(),
            format!("target `{target}` is opaque; wrap it with `autodiff::custom_vjp` to give it a gradient"),
        ),
    }
}

/// The JVP of one of these nodes.
pub(crate) fn jvp(b: &mut Builder, op: &MiscOp, at: &At, tin: &[Option<Value>]) -> Result<Jvp> {
    match op {
        MiscOp::OptimizationBarrier | MiscOp::Place { .. } => linear(b, at.node, &at.x, tin),
        MiscOp::StopGradient => Ok(Jvp::Tangents(vec![None])),
        MiscOp::RngBitGenerator { .. } | MiscOp::CustomCall { .. } | MiscOp::FfiCall { .. } => {
            Ok(Jvp::FromVjp)
        }
    }
}

/// The batching rule of one of these nodes. A barrier and `stop_gradient` pass every value
/// through with its batch axis. Random bits from a batched state, and custom calls (opaque
/// to us), run once per example in a counted loop, so every example gets exactly what it
/// would get alone: its own state's bits, the target called on its own operands.
pub(crate) fn batch(b: &mut Builder, op: &MiscOp, at: &Bat) -> Result<Vec<Batched>> {
    match op {
        MiscOp::OptimizationBarrier | MiscOp::StopGradient | MiscOp::Place { .. } => {
            let ts: Vec<Value> = at.x.iter().map(|v| v.t).collect();
            let r = b.record(&at.node.op, &ts, &[])?;
            Ok(r.into_iter()
                .zip(at.x)
                .map(|(t, v)| Batched::new(t, v.axis))
                .collect())
        }
        MiscOp::RngBitGenerator { .. } | MiscOp::CustomCall { .. } | MiscOp::FfiCall { .. } => {
            per_example_loop(b, at)
        }
    }
}
