//! Reverse mode: the backward sweep over the recorded graph, and the public `grad`,
//! `value_and_grad`, `vjp` and `hvp`.
//!
//! The sweep first prunes the graph to the nodes on a path from the inputs to the outputs,
//! then walks them in reverse recording order. Cotangents are kept in a map: a value with no
//! entry has a zero cotangent, and no zero tensor is ever made for it (only at the very end,
//! for an input the outputs do not depend on).

use std::collections::{HashMap, HashSet};

use hlo_builder::{BinaryOp, Builder, ElementType, NodeId, TensorType, Value, ValueId};

use crate::check::{check_value, differentiable};
use crate::error::{Error, Result};
use crate::options::GradOptions;
use crate::rules::{self, Cx};

/// The rule context of a sweep with the default options: rules that differentiate bodies
/// call back into it.
pub(crate) const CX: Cx = Cx {
    backprop,
    options: GradOptions::DEFAULT,
};

/// Adds `c` to the cotangent of `v` (the first contribution is stored as is).
fn accumulate(
    b: &mut Builder,
    cts: &mut HashMap<ValueId, Value>,
    v: ValueId,
    c: Value,
) -> Result<()> {
    let new = match cts.get(&v) {
        Some(&old) => b.binary_same_shape(BinaryOp::Add, old, c)?,
        None => c,
    };
    cts.insert(v, new);
    Ok(())
}

/// The backward sweep. `seeds` are (output value, cotangent) pairs; returns the cotangent of
/// each `wrt` value, `None` where it is zero. Nodes before `start` are not walked (inputs
/// before `start` are roots); callers pass the first node that can depend on `wrt`.
pub(crate) fn backprop(
    cx: &Cx,
    b: &mut Builder,
    seeds: &[(ValueId, Value)],
    wrt: &[ValueId],
    start: usize,
) -> Result<Vec<Option<Value>>> {
    let end = b.graph().len();
    let wrt_set: HashSet<ValueId> = wrt.iter().copied().collect();
    // Forward: which nodes depend on an input.
    let mut dep = vec![false; end.saturating_sub(start)];
    for i in start..end {
        let node = &b.graph().nodes()[i];
        dep[i - start] = node.operands.iter().any(|v| {
            wrt_set.contains(v) || (v.node.index() >= start && dep[v.node.index() - start])
        });
    }
    let depends = |v: &ValueId, dep: &[bool]| {
        wrt_set.contains(v)
            || (v.node.index() >= start && v.node.index() < end && dep[v.node.index() - start])
    };
    // Backward: which of those the outputs depend on.
    let mut live = vec![false; dep.len()];
    let mut cts: HashMap<ValueId, Value> = HashMap::new();
    for &(v, c) in seeds {
        if depends(&v, &dep) {
            if v.node.index() >= start {
                live[v.node.index() - start] = true;
            }
            accumulate(b, &mut cts, v, c)?;
        }
    }
    for i in (start..end).rev() {
        if !live[i - start] {
            continue;
        }
        let node = b.graph().nodes()[i].clone();
        let outs: Vec<Option<Value>> = (0..node.types.len() as u32)
            .map(|o| {
                cts.get(&ValueId {
                    node: NodeId(i as u32),
                    output: o,
                })
                .copied()
            })
            .collect();
        if outs.iter().all(Option::is_none) {
            continue;
        }
        let mut want = Vec::with_capacity(node.operands.len());
        for v in &node.operands {
            let d = depends(v, &dep);
            let ty = b.graph().ty(*v).map(|t| t.ty).unwrap_or(ElementType::Pred);
            if d && ty.is_complex() {
                return Err(Error::NotDifferentiable { op: node.op.name(), reason: format!("operand of complex type {ty} depends on the inputs; complex gradients are not supported") });
            }
            want.push(d && differentiable(ty));
        }
        if !want.iter().any(|&w| w) {
            continue;
        }
        let res = rules::vjp(cx, b, &node, NodeId(i as u32), &outs, &want)?;
        for (k, (v, r)) in node.operands.iter().zip(res).enumerate() {
            let (true, Some(r)) = (want[k], r) else {
                continue;
            };
            let got = b.ty(r)?.clone();
            let expect = b.graph().ty(*v).cloned().unwrap_or_else(|| got.clone());
            if got != expect {
                return Err(Error::Internal {
                    op: node.op.name(),
                    operand: k,
                    got: Box::new(got),
                    want: Box::new(expect),
                });
            }
            if v.node.index() >= start {
                live[v.node.index() - start] = true;
            }
            accumulate(b, &mut cts, *v, r)?;
        }
    }
    Ok(wrt.iter().map(|v| cts.get(v).copied()).collect())
}

/// Cotangents, zero-filled where `None`.
pub(crate) fn materialize(
    b: &mut Builder,
    xs: &[Value],
    gs: Vec<Option<Value>>,
) -> Result<Vec<Value>> {
    xs.iter()
        .zip(gs)
        .map(|(&x, g)| match g {
            Some(g) => Ok(g),
            None => Ok(b.zeros_like(x)?),
        })
        .collect()
}

pub(crate) fn check_inputs(
    b: &Builder,
    func: &'static str,
    wrt: &[Value],
) -> Result<Vec<TensorType>> {
    let mut tys = Vec::with_capacity(wrt.len());
    for (i, &w) in wrt.iter().enumerate() {
        let t = check_value(b, func, "input", w)?;
        if !differentiable(t.ty) {
            return Err(Error::NonFloatInput {
                func,
                index: i,
                ty: Box::new(t),
            });
        }
        tys.push(t);
    }
    Ok(tys)
}

pub(crate) fn check_outputs(
    b: &Builder,
    func: &'static str,
    outputs: &[Value],
) -> Result<Vec<TensorType>> {
    let mut tys = Vec::with_capacity(outputs.len());
    for (i, &o) in outputs.iter().enumerate() {
        let t = check_value(b, func, "output", o)?;
        if !differentiable(t.ty) {
            return Err(Error::NonFloatOutput {
                func,
                index: i,
                ty: Box::new(t),
            });
        }
        tys.push(t);
    }
    Ok(tys)
}

fn start_of(wrt: &[Value]) -> usize {
    wrt.iter()
        .map(|w| w.node().index())
        .min()
        .unwrap_or(usize::MAX)
}

/// Vector-Jacobian product: the gradient of `sum_i <cotangents[i], outputs[i]>` with respect
/// to each of `wrt`, recorded in `b`. Any values of the graph may be outputs or inputs
/// (parameters or intermediate values); an input the outputs do not depend on gets zeros.
pub fn vjp(
    b: &mut Builder,
    outputs: &[Value],
    cotangents: &[Value],
    wrt: &[Value],
) -> Result<Vec<Value>> {
    let func = "vjp";
    if outputs.len() != cotangents.len() {
        return Err(Error::Arity {
            func,
            message: format!(
                "{} outputs but {} cotangents",
                outputs.len(),
                cotangents.len()
            ),
        });
    }
    let otys = check_outputs(b, func, outputs)?;
    check_inputs(b, func, wrt)?;
    let mut seeds = Vec::with_capacity(outputs.len());
    for (i, (&o, &c)) in outputs.iter().zip(cotangents).enumerate() {
        let ct = check_value(b, func, "cotangent", c)?;
        if ct != otys[i] {
            return Err(Error::TypeMismatch {
                func,
                role: "cotangent",
                index: i,
                got: Box::new(ct),
                want: Box::new(otys[i].clone()),
            });
        }
        seeds.push((o.value(), c));
    }
    let ids: Vec<ValueId> = wrt.iter().map(|w| w.value()).collect();
    let gs = backprop(&CX, b, &seeds, &ids, start_of(wrt))?;
    materialize(b, wrt, gs)
}

/// The gradient of the scalar float `output` with respect to each of `wrt`, recorded in `b`.
///
/// Errors (never panics) when `output` is not a float scalar, or when a tensor is not a value
/// of `b`.
pub fn grad(b: &mut Builder, output: Value, wrt: &[Value]) -> Result<Vec<Value>> {
    Ok(value_and_grad(b, output, wrt)?.1)
}

/// [`grad`] with the gradients written in the forms `options` name.
pub fn grad_with(
    b: &mut Builder,
    output: Value,
    wrt: &[Value],
    options: GradOptions,
) -> Result<Vec<Value>> {
    Ok(value_and_grad_with(b, output, wrt, options)?.1)
}

/// `(output, grad(output, wrt))`: the value is the output itself (already in the graph).
pub fn value_and_grad(
    b: &mut Builder,
    output: Value,
    wrt: &[Value],
) -> Result<(Value, Vec<Value>)> {
    value_and_grad_with(b, output, wrt, GradOptions::DEFAULT)
}

/// [`value_and_grad`] with the gradients written in the forms `options` name.
pub fn value_and_grad_with(
    b: &mut Builder,
    output: Value,
    wrt: &[Value],
    options: GradOptions,
) -> Result<(Value, Vec<Value>)> {
    let func = "grad";
    let t = check_outputs(b, func, &[output])?.remove(0);
    if t.rank() != 0 {
        return Err(Error::NonScalarOutput {
            func,
            ty: Box::new(t),
        });
    }
    check_inputs(b, func, wrt)?;
    let one = b.scalar(t.ty, 1.0)?;
    let ids: Vec<ValueId> = wrt.iter().map(|w| w.value()).collect();
    let cx = Cx { options, ..CX };
    let gs = backprop(&cx, b, &[(output.value(), one)], &ids, start_of(wrt))?;
    Ok((output, materialize(b, wrt, gs)?))
}

/// The Hessian-vector product `H v` of the scalar `output` with respect to `wrt` (reverse
/// over reverse: the gradient of `<grad(output), v>`).
pub fn hvp(b: &mut Builder, output: Value, wrt: &[Value], v: &[Value]) -> Result<Vec<Value>> {
    let func = "hvp";
    if wrt.len() != v.len() {
        return Err(Error::Arity {
            func,
            message: format!("{} inputs but {} vectors", wrt.len(), v.len()),
        });
    }
    let g = grad(b, output, wrt)?;
    let mut total: Option<Value> = None;
    for (i, (&gi, &vi)) in g.iter().zip(v).enumerate() {
        let gt = b.ty(gi)?.clone();
        let vt = check_value(b, func, "vector", vi)?;
        if gt != vt {
            return Err(Error::TypeMismatch {
                func,
                role: "vector",
                index: i,
                got: Box::new(vt),
                want: Box::new(gt),
            });
        }
        let p = b.binary_same_shape(BinaryOp::Mul, gi, vi)?;
        let axes: Vec<i64> = (0..gt.rank() as i64).collect();
        let s = b.reduce_sum(p, axes)?;
        total = Some(match total {
            Some(t) => b.add(t, s)?,
            None => s,
        });
    }
    match total {
        Some(t) => grad(b, t, wrt),
        None => Ok(Vec::new()),
    }
}
