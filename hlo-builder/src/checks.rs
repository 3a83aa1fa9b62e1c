//! Checks on what an op's regions compute and on how deep and large a graph grows: what the
//! shape rules (which see region signatures only) cannot see, run by [`Builder::record`]
//! (crate::Builder::record) on every op.
//!
//! - Nesting: lowering, MLIR's printer and XLA's compiler all recurse once per level of
//!   nested regions or calls. The 0.115 CPU plugin's compiler overflows a 2 MiB thread stack
//!   near 150 levels (8 MiB: near 500), killing the process, so graphs are limited to
//!   [`MAX_REGION_DEPTH`] levels.
//! - Size: a region is emitted once per op that uses it, and XLA inlines every call, so a
//!   chain of `cond`s whose branches share one region, or of functions that each call the
//!   previous one twice, doubles the program per level: forty levels make a trillion ops;
//!   `build` never returned, and the compiler ran out of memory inside the plugin (a C++
//!   exception that aborts the process). The size after inlining is counted as ops are
//!   recorded and limited to [`MAX_EMITTED_OPS`].
//! - Sort comparators: XLA sorts with `std::sort` (unstable) or `std::stable_sort` (stable).
//!   `std::sort` with a comparator that is not a strict weak order reads out of bounds or
//!   never returns (an always-true comparator hangs every CPU plugin from 17 elements on);
//!   `std::stable_sort` always terminates. So comparators that are provably not strict orders
//!   are refused (always true; `le`, `ge`, `eq` or `ne` of an operand's pair), a single
//!   `lt`/`gt` of an operand's pair is a strict order, and an unstable sort whose comparator
//!   is anything else is recorded stable: a stable order is one of the orders an unstable
//!   sort may return, and it cannot hang. (Whether an arbitrary comparator is a strict weak
//!   order is not decidable from its graph in general.)

use crate::error::{shape_err, Result};
use crate::graph::{Computation, ValueId};
use crate::ops::{ComparisonDirection, ElementwiseOp, Op, ShapeOp, SourceOp};

/// The deepest nesting of regions and calls a graph may have (see the module doc).
pub const MAX_REGION_DEPTH: u32 = 64;

/// The most ops a graph may hold once every region and callee is counted once per use (the
/// size XLA compiles after inlining calls).
pub const MAX_EMITTED_OPS: u64 = 20_000_000;

/// How deep and how large recording `op` with `regions` makes the graph, or an error naming
/// the op when either limit is passed. `depth_now`/`emitted_now` are the graph's so far.
pub(crate) fn growth(
    op: &Op,
    regions: &[std::sync::Arc<Computation>],
    depth_now: u32,
    emitted_now: u64,
) -> Result<(u32, u64)> {
    let name = op.name();
    let inner = regions
        .iter()
        .map(|r| r.graph.region_depth().saturating_add(1))
        .max()
        .unwrap_or(0);
    if inner > MAX_REGION_DEPTH {
        return shape_err(
            name,
            format!(
                "its regions are nested {inner} levels deep, more than the {MAX_REGION_DEPTH} \
                 allowed: lowering and the plugins' compilers recurse once per level and \
                 would overflow their stack"
            ),
        );
    }
    // Regions are emitted once per use, and XLA inlines calls: count every use.
    let mut added: u64 = 1;
    for r in regions {
        added = added.saturating_add(r.graph.emitted_ops());
    }
    let emitted = emitted_now.saturating_add(added);
    if emitted > MAX_EMITTED_OPS {
        return shape_err(
            name,
            format!(
                "the graph would hold {emitted} ops once its regions and calls are inlined \
                 (each counted once per use), more than the {MAX_EMITTED_OPS} allowed; the \
                 compilers would run out of memory"
            ),
        );
    }
    Ok((depth_now.max(inner), emitted))
}

/// What a sort comparator is known to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparator {
    /// A single `lt`/`gt` of one operand's pair of elements: a strict weak order.
    StrictOrder,
    /// Anything else that is not provably wrong.
    Unknown,
}

/// Classifies a sort comparator, refusing one that is provably not a strict weak order.
pub(crate) fn comparator(c: &Computation) -> Result<Comparator> {
    const OP: &str = "sort";
    let Some(&result) = c.results.first() else {
        return Ok(Comparator::Unknown);
    };
    let param = |v: ValueId| -> Option<usize> {
        match &c.graph.node(v.node)?.op {
            Op::Source(SourceOp::Parameter { index, .. }) => Some(*index),
            _ => None,
        }
    };
    let Some(node) = c.graph.node(result.node) else {
        return Ok(Comparator::Unknown);
    };
    match &node.op {
        Op::Source(SourceOp::Constant { value, .. }) => {
            if !value.bytes().is_empty() && value.bytes().iter().all(|&b| b != 0) {
                return shape_err(
                    OP,
                    "the comparator always returns true, which is not a strict weak order \
                     (x < x must be false); the plugins' sort never returns on it",
                );
            }
            Ok(Comparator::Unknown)
        }
        Op::Elementwise(ElementwiseOp::Compare(dir)) => {
            let (Some(&a), Some(&b)) = (node.operands.first(), node.operands.get(1)) else {
                return Ok(Comparator::Unknown);
            };
            let reflexive = matches!(
                dir,
                ComparisonDirection::Le | ComparisonDirection::Ge | ComparisonDirection::Eq
            );
            if a == b {
                if reflexive {
                    return shape_err(
                        OP,
                        format!(
                            "the comparator is `{dir:?}` of a value with itself, always true: \
                             not a strict weak order"
                        ),
                    );
                }
                return Ok(Comparator::Unknown);
            }
            let (Some(pa), Some(pb)) = (param(a), param(b)) else {
                return Ok(Comparator::Unknown);
            };
            if pa / 2 != pb / 2 {
                return Ok(Comparator::Unknown);
            }
            if reflexive || *dir == ComparisonDirection::Ne {
                return shape_err(
                    OP,
                    format!(
                        "the comparator `{dir:?}` of operand {}'s two elements is not a strict \
                         weak order (it must be false for equal elements and never true both \
                         ways); use `lt` or `gt`",
                        pa / 2
                    ),
                );
            }
            Ok(Comparator::StrictOrder)
        }
        _ => Ok(Comparator::Unknown),
    }
}

/// The sort op to record: an unstable sort whose comparator is not known to be a strict
/// order is made stable (see the module doc); provably wrong comparators are refused.
pub(crate) fn sort_op(op: Op, regions: &[std::sync::Arc<Computation>]) -> Result<Op> {
    match op {
        Op::Shape(ShapeOp::Sort {
            dimension,
            is_stable: false,
        }) => {
            let known = match regions.first() {
                Some(c) => comparator(c)?,
                None => Comparator::Unknown,
            };
            Ok(Op::Shape(ShapeOp::Sort {
                dimension,
                is_stable: known != Comparator::StrictOrder,
            }))
        }
        Op::Shape(ShapeOp::Sort { .. }) => {
            if let Some(c) = regions.first() {
                comparator(c)?;
            }
            Ok(op)
        }
        other => Ok(other),
    }
}
