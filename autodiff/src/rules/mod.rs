//! One VJP rule, one JVP rule and one batching rule per primitive, in one file per op family
//! (mirroring `hlo_builder::ops`), each an exhaustive `match` over its family's ops (no
//! wildcard arm: a new primitive does not compile until it has its rules). Rules only record
//! builder ops, so a gradient graph can be differentiated again, and a batched graph
//! differentiated or batched again.
//!
//! A VJP rule gets the node, the cotangents of its results (`None` = zero) and which operands
//! need a cotangent (`want`: those that depend on the inputs and have a float type), and
//! returns one `Option` per operand (`None` = zero, nothing recorded). A JVP rule gets the
//! operand tangents and returns the result tangents, or says to take them from the VJP. A
//! batching rule gets the operands with their batch axes (at least one batched) and returns
//! the results with theirs (`Batched`; `None` = the same for every example).

mod collective;
mod common;
mod control;
mod elementwise;
mod linalg;
mod misc;
mod reduce;
mod shape;
mod source;

pub(crate) use common::{add, at_axis, front, record_fn, Batched, Bx, Cts, Cx, Jvp};

use hlo_builder::{Builder, Node, NodeId, Op, Value};

use crate::error::Result;
use common::{At, Bat};

fn at<'a>(b: &Builder, node: &'a Node, id: NodeId) -> At<'a> {
    At {
        node,
        x: node.operands.iter().map(|v| b.tensor(*v)).collect(),
        y: b.results(id),
    }
}

/// The VJP of one node (see the module documentation).
pub(crate) fn vjp(
    cx: &Cx,
    b: &mut Builder,
    node: &Node,
    id: NodeId,
    cts: &[Option<Value>],
    want: &[bool],
) -> Result<Cts> {
    let at = at(b, node, id);
    match &node.op {
        Op::Source(o) => source::vjp(o),
        Op::Elementwise(o) => elementwise::vjp(b, o, &at, cts, want),
        Op::Shape(o) => shape::vjp(b, o, &at, cts, want),
        Op::Linalg(o) => linalg::vjp(cx, b, o, &at, cts, want),
        Op::Reduce(o) => reduce::vjp(cx, b, o, &at, cts, want),
        Op::Control(o) => control::vjp(cx, b, o, &at, cts, want),
        Op::Misc(o) => misc::vjp(o, &at, cts),
        Op::Collective(o) => collective::vjp(cx, b, o, &at, cts, want),
    }
}

/// The JVP of one node, given the tangents of its operands (see the module documentation).
pub(crate) fn jvp(b: &mut Builder, node: &Node, id: NodeId, tin: &[Option<Value>]) -> Result<Jvp> {
    let at = at(b, node, id);
    match &node.op {
        Op::Source(o) => source::jvp(o, &at),
        Op::Elementwise(o) => elementwise::jvp(b, o, &at, tin),
        Op::Shape(o) => shape::jvp(b, o, &at, tin),
        Op::Linalg(o) => linalg::jvp(b, o, &at, tin),
        Op::Reduce(o) => reduce::jvp(b, o, &at, tin),
        Op::Control(o) => control::jvp(b, o, &at, tin),
        Op::Misc(o) => misc::jvp(b, o, &at, tin),
        Op::Collective(o) => collective::jvp(b, o, &at, tin),
    }
}

/// The batching rule of one node: `args` are its operands with their batch axes (at least
/// one batched), `n` the batch size.
pub(crate) fn batch(
    bx: &Bx,
    b: &mut Builder,
    node: &Node,
    args: &[Batched],
    n: i64,
) -> Result<Vec<Batched>> {
    let at = Bat { node, x: args, n };
    match &node.op {
        Op::Source(o) => source::batch(o),
        Op::Elementwise(o) => elementwise::batch(b, o, &at),
        Op::Shape(o) => shape::batch(b, o, &at),
        Op::Linalg(o) => linalg::batch(b, o, &at),
        Op::Reduce(o) => reduce::batch(b, o, &at),
        Op::Control(o) => control::batch(bx, b, o, &at),
        Op::Misc(o) => misc::batch(b, o, &at),
        Op::Collective(o) => collective::batch(bx, b, o, &at),
    }
}
