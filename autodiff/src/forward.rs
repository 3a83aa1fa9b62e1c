//! Forward mode: tangents pushed through the graph in recording order.
//!
//! Elementwise and linear ops have direct tangent rules. Every other op (sort, max/min and
//! custom reductions, loops, branches, calls, ...) takes its tangent from its own VJP rule by
//! transposition: the VJP of one node is linear in the node's cotangent `u`, so recording it
//! with a placeholder `u` and differentiating the result with respect to `u` (seeded with the
//! operand tangents) gives the node's Jacobian-vector product. So every op with a VJP rule
//! also has a tangent, and the two cannot disagree.

use std::collections::HashMap;

use hlo_builder::{BinaryOp, Builder, Node, NodeId, Op, Tensor, ValueId};

use crate::error::Result;
use crate::replay::emit;
use crate::reverse::{backprop, differentiable};
use crate::rules;

type Tangents = Vec<Option<Tensor>>;

fn add(b: &mut Builder, a: Option<Tensor>, c: Option<Tensor>) -> Result<Option<Tensor>> {
    Ok(match (a, c) {
        (Some(a), Some(c)) => Some(b.binary_same_shape(BinaryOp::Add, a, c)?),
        (a, None) => a,
        (None, c) => c,
    })
}

/// Pushes `tangents` of `wrt` forward to `outputs`; `None` = zero tangent.
pub(crate) fn forward(
    b: &mut Builder,
    wrt: &[ValueId],
    tangents: &[Tensor],
    outputs: &[ValueId],
) -> Result<Tangents> {
    let end = b.graph().len();
    let start = wrt.iter().map(|v| v.node.index()).min().unwrap_or(end);
    // Nodes that the outputs need (backward reachability), walked forward below.
    let mut live = vec![false; end.saturating_sub(start)];
    for o in outputs {
        if o.node.index() >= start && o.node.index() < end {
            live[o.node.index() - start] = true;
        }
    }
    for i in (start..end).rev() {
        if live[i - start] {
            for v in &b.graph().nodes()[i].operands {
                if v.node.index() >= start {
                    live[v.node.index() - start] = true;
                }
            }
        }
    }
    let mut tan: HashMap<ValueId, Tensor> = HashMap::new();
    for (&w, &t) in wrt.iter().zip(tangents) {
        let prev = tan.get(&w).copied();
        if let Some(s) = add(b, prev, Some(t))? {
            tan.insert(w, s);
        }
    }
    for i in start..end {
        if !live[i - start] {
            continue;
        }
        let node = b.graph().nodes()[i].clone();
        let tin: Tangents = node.operands.iter().map(|v| tan.get(v).copied()).collect();
        if tin.iter().all(Option::is_none) {
            continue;
        }
        let id = NodeId(i as u32);
        let touts = jvp_node(b, &node, id, &tin)?;
        for (o, t) in touts.into_iter().enumerate() {
            let v = ValueId {
                node: id,
                output: o as u32,
            };
            if t.is_some() && differentiable(node.types[o].ty) {
                let prev = tan.get(&v).copied();
                if let Some(s) = add(b, prev, t)? {
                    tan.insert(v, s);
                }
            }
        }
    }
    Ok(outputs.iter().map(|v| tan.get(v).copied()).collect())
}

/// The op applied to the tangents (zeros for missing float operands, the original values for
/// the others): right for ops that are linear in all their float operands.
fn linear(b: &mut Builder, node: &Node, x: &[Tensor], tin: &[Option<Tensor>]) -> Result<Tangents> {
    let mut args = Vec::with_capacity(x.len());
    for (k, &xk) in x.iter().enumerate() {
        let t = b.ty(xk)?.clone();
        args.push(if differentiable(t.ty) {
            match tin[k] {
                Some(tk) => tk,
                None => b.zeros_like(xk)?,
            }
        } else {
            xk
        });
    }
    Ok(emit(b, &node.op, &args, &node.types)?
        .into_iter()
        .map(Some)
        .collect())
}

/// Bilinear ops (dot_general, convolution): `op(tx, y) + op(x, ty)`.
fn bilinear(
    b: &mut Builder,
    node: &Node,
    x: &[Tensor],
    tin: &[Option<Tensor>],
) -> Result<Tangents> {
    let l = match tin[0] {
        Some(t) => Some(emit(b, &node.op, &[t, x[1]], &node.types)?[0]),
        None => None,
    };
    let r = match tin[1] {
        Some(t) => Some(emit(b, &node.op, &[x[0], t], &node.types)?[0]),
        None => None,
    };
    Ok(vec![add(b, l, r)?])
}

/// The tangent of a node from its VJP rule, by transposition (see the module docs).
fn by_transpose(
    b: &mut Builder,
    node: &Node,
    id: NodeId,
    tin: &[Option<Tensor>],
) -> Result<Tangents> {
    let start = b.graph().len();
    let mut us = Vec::with_capacity(node.types.len());
    for t in &node.types {
        us.push(if differentiable(t.ty) {
            Some(b.splat(t.ty, &t.dims, 0.0)?)
        } else {
            None
        });
    }
    let want: Vec<bool> = tin.iter().map(Option::is_some).collect();
    let cts = rules::vjp(b, node, id, &us, &want)?;
    let seeds: Vec<(ValueId, Tensor)> = cts
        .iter()
        .zip(tin)
        .filter_map(|(c, t)| match (c, t) {
            (Some(c), Some(t)) => Some((c.value(), *t)),
            _ => None,
        })
        .collect();
    let uids: Vec<ValueId> = us.iter().flatten().map(|u| u.value()).collect();
    let js = backprop(b, &seeds, &uids, start)?;
    let mut it = js.into_iter();
    Ok(us
        .iter()
        .map(|u| {
            if u.is_some() {
                it.next().flatten()
            } else {
                None
            }
        })
        .collect())
}

fn jvp_node(b: &mut Builder, node: &Node, id: NodeId, tin: &[Option<Tensor>]) -> Result<Tangents> {
    let x: Vec<Tensor> = node.operands.iter().map(|v| b.tensor(*v)).collect();
    let y: Vec<Tensor> = b.results(id);
    match &node.op {
        Op::Parameter { .. } | Op::Constant(_) | Op::Iota { .. } => {
            Ok(vec![None; node.types.len()])
        }
        // Elementwise: the derivative is diagonal, so the VJP formula applied to the tangent
        // is the JVP.
        Op::Unary(u) => match tin[0] {
            Some(t) => Ok(vec![rules::unary(b, *u, x[0], y[0], t)?]),
            None => Ok(vec![None]),
        },
        Op::Binary(op) => {
            let l = match tin[0] {
                Some(t) => rules::binary(b, *op, x[0], x[1], y[0], t, &[true, false])?[0],
                None => None,
            };
            let r = match tin[1] {
                Some(t) => rules::binary(b, *op, x[0], x[1], y[0], t, &[false, true])?[1],
                None => None,
            };
            Ok(vec![add(b, l, r)?])
        }
        Op::Compare(_) => Ok(vec![None]),
        Op::Select
        | Op::Reshape
        | Op::Transpose { .. }
        | Op::BroadcastInDim { .. }
        | Op::Slice { .. }
        | Op::DynamicSlice { .. }
        | Op::DynamicUpdateSlice
        | Op::Concatenate { .. }
        | Op::Pad { .. }
        | Op::Reverse { .. }
        | Op::Gather { .. }
        | Op::OptimizationBarrier => linear(b, node, &x, tin),
        Op::Convert => {
            let from = b.ty(x[0])?.ty;
            match tin[0] {
                Some(t) if differentiable(from) && differentiable(node.types[0].ty) => {
                    Ok(vec![Some(b.convert(t, node.types[0].ty)?)])
                }
                _ => Ok(vec![None]),
            }
        }
        Op::DotGeneral { .. } | Op::Convolution(_) => bilinear(b, node, &x, tin),
        Op::Reduce { body, .. } | Op::ReduceWindow { body, .. }
            if x.len() == 2 && rules::body_binop(body) == Some(BinaryOp::Add) =>
        {
            linear(b, node, &x, tin)
        }
        Op::Scatter { update, .. }
            if rules::scatter_kind(update, (x.len() - 1) / 2)
                .is_some_and(|k| k.iter().all(|&a| a)) =>
        {
            linear(b, node, &x, tin)
        }
        Op::Clamp
        | Op::BitcastConvert
        | Op::Scatter { .. }
        | Op::Sort { .. }
        | Op::Reduce { .. }
        | Op::ReduceWindow { .. }
        | Op::While { .. }
        | Op::If { .. }
        | Op::Case { .. }
        | Op::Call { .. }
        | Op::RngBitGenerator { .. }
        | Op::CustomCall { .. } => by_transpose(b, node, id, tin),
    }
}
