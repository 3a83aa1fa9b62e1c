//! Forward mode: tangents pushed through the graph in recording order, and the public `jvp`.
//!
//! Each op family gives its tangent rule (`crate::rules`); ops whose rule says so take their
//! tangent from their VJP rule by transposition: the VJP of one node is linear in the node's
//! cotangent `u`, so recording it with a placeholder `u` and differentiating the result with
//! respect to `u` (seeded with the operand tangents) gives the node's Jacobian-vector product.
//! So every op with a VJP rule also has a tangent, and the two cannot disagree.

use std::collections::HashMap;

use hlo_builder::{Builder, Node, NodeId, Value, ValueId};

use crate::check::{check_value, differentiable};
use crate::error::{Error, Result};
use crate::reverse::{backprop, check_inputs, check_outputs, materialize, CX};
use crate::rules::{self, add, Cts, Jvp};

/// Pushes `tangents` of `wrt` forward to `outputs`; `None` = zero tangent.
pub(crate) fn forward(
    b: &mut Builder,
    wrt: &[ValueId],
    tangents: &[Value],
    outputs: &[ValueId],
) -> Result<Cts> {
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
    let mut tan: HashMap<ValueId, Value> = HashMap::new();
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
        let tin: Cts = node.operands.iter().map(|v| tan.get(v).copied()).collect();
        if tin.iter().all(Option::is_none) {
            continue;
        }
        let id = NodeId(i as u32);
        let touts = match rules::jvp(b, &node, id, &tin)? {
            Jvp::Tangents(t) => t,
            Jvp::FromVjp => by_transpose(b, &node, id, &tin)?,
        };
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

/// The tangent of a node from its VJP rule, by transposition (see the module docs).
fn by_transpose(b: &mut Builder, node: &Node, id: NodeId, tin: &[Option<Value>]) -> Result<Cts> {
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
    let cts = rules::vjp(&CX, b, node, id, &us, &want)?;
    let seeds: Vec<(ValueId, Value)> = cts
        .iter()
        .zip(tin)
        .filter_map(|(c, t)| match (c, t) {
            (Some(c), Some(t)) => Some((c.value(), *t)),
            _ => None,
        })
        .collect();
    let uids: Vec<ValueId> = us.iter().flatten().map(|u| u.value()).collect();
    let js = backprop(&CX, b, &seeds, &uids, start)?;
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

/// Forward mode: the Jacobian-vector products `J_i t` of each output, for tangents `tangents`
/// of `wrt` (one per input, same types), recorded in `b`. Tangents are pushed forward through
/// the nodes between the inputs and the outputs (see the `forward` module for the rules).
pub fn jvp(
    b: &mut Builder,
    outputs: &[Value],
    wrt: &[Value],
    tangents: &[Value],
) -> Result<Vec<Value>> {
    let func = "jvp";
    if wrt.len() != tangents.len() {
        return Err(Error::Arity {
            func,
            message: format!("{} inputs but {} tangents", wrt.len(), tangents.len()),
        });
    }
    check_outputs(b, func, outputs)?;
    let itys = check_inputs(b, func, wrt)?;
    for (i, &t) in tangents.iter().enumerate() {
        let tt = check_value(b, func, "tangent", t)?;
        if tt != itys[i] {
            return Err(Error::TypeMismatch {
                func,
                role: "tangent",
                index: i,
                got: Box::new(tt),
                want: Box::new(itys[i].clone()),
            });
        }
    }
    let ids: Vec<ValueId> = wrt.iter().map(|w| w.value()).collect();
    let oids: Vec<ValueId> = outputs.iter().map(|o| o.value()).collect();
    let js = forward(b, &ids, tangents, &oids)?;
    materialize(b, outputs, js)
}
