//! Rules of the control-flow family: counted loops (a saving forward loop and a backward loop
//! over the saved states), `if`/`case` (a conditional of the branches' VJPs), and calls
//! (through the body, recomputed for checkpoints, or by the rules the call carries).

use std::sync::Arc;

use hlo_builder::{
    Builder, CallKind, CheckpointPolicy, Computation, ControlOp, Counted, ElementType, TensorType,
    Value, ValueId,
};

use super::common::{materialize_cts, ty, via, zeros_ty, At, Cts, Cx, Jvp};
use crate::check::differentiable;
use crate::custom::Rules;
use crate::error::{not_diff, Error, Result};

/// The VJP of a control-flow node.
pub(crate) fn vjp(
    cx: &Cx,
    b: &mut Builder,
    op: &ControlOp,
    at: &At,
    cts: &[Option<Value>],
    want: &[bool],
) -> Result<Cts> {
    match op {
        ControlOp::While { counted } => while_loop(cx, b, at, cts, want, *counted),
        ControlOp::If | ControlOp::Case => branches(cx, b, at, cts, want),
        ControlOp::Call { kind } => match kind {
            CallKind::Plain => {
                let callee = at.node.regions[0].clone();
                let x = at.x.clone();
                via(cx, b, &at.x, cts, want, |b| Ok(b.inline(&callee, &x)?))
            }
            CallKind::Checkpoint(CheckpointPolicy::RecomputeAll) => {
                checkpoint(cx, b, at, cts, want)
            }
            CallKind::Custom(r) => {
                let Some(rules) = r.get::<Rules>() else {
                    return not_diff(
                        "call",
                        format!("the rules of `{}` were not made by autodiff", r.name()),
                    );
                };
                custom_vjp(cx, b, rules, r.name(), at, cts, want)
            }
        },
    }
}

/// The JVP of a control-flow node: a call's own JVP rule if it has one, else from the VJP.
pub(crate) fn jvp(b: &mut Builder, op: &ControlOp, at: &At, tin: &[Option<Value>]) -> Result<Jvp> {
    match op {
        ControlOp::Call {
            kind: CallKind::Custom(r),
        } => match r.get::<Rules>().and_then(|rules| rules.jvp.clone()) {
            Some(rule) => {
                let t = materialize_cts(b, &at.x, tin)?;
                let out = rule(b, &at.x, &at.y, &t)?;
                if out.len() != at.y.len() {
                    return Err(Error::Arity {
                        func: "custom_jvp",
                        message: format!(
                            "the rule of `{}` returned {} tangents for {} outputs",
                            r.name(),
                            out.len(),
                            at.y.len()
                        ),
                    });
                }
                Ok(Jvp::Tangents(out))
            }
            None => Ok(Jvp::FromVjp),
        },
        ControlOp::While { .. } | ControlOp::If | ControlOp::Case | ControlOp::Call { .. } => {
            Ok(Jvp::FromVjp)
        }
    }
}

/// A call with user rules: the VJP rule, or (with only a JVP rule) the JVP rule transposed:
/// record it on placeholder tangents and differentiate it with respect to them.
fn custom_vjp(
    cx: &Cx,
    b: &mut Builder,
    rules: &Rules,
    name: &str,
    at: &At,
    cts: &[Option<Value>],
    want: &[bool],
) -> Result<Cts> {
    let n = at.x.len();
    if let Some(rule) = &rules.vjp {
        let ctm = materialize_cts(b, &at.y, cts)?;
        let r = rule(b, &at.x, &at.y, &ctm)?;
        if r.len() != n {
            return Err(Error::Arity {
                func: "custom_vjp",
                message: format!(
                    "the rule of `{name}` returned {} cotangents for {n} inputs",
                    r.len()
                ),
            });
        }
        return Ok(r
            .into_iter()
            .enumerate()
            .map(|(k, t)| if want[k] { t } else { None })
            .collect());
    }
    let Some(rule) = &rules.jvp else {
        return not_diff("call", format!("`{name}` has neither a VJP nor a JVP rule"));
    };
    let start = b.graph().len();
    let mut us = Vec::with_capacity(n);
    for &xk in &at.x {
        us.push(b.zeros_like(xk)?);
    }
    let ts = rule(b, &at.x, &at.y, &us)?;
    let seeds: Vec<(ValueId, Value)> = ts
        .iter()
        .zip(cts)
        .filter_map(|(t, c)| match (t, c) {
            (Some(t), Some(c)) => Some((t.value(), *c)),
            _ => None,
        })
        .collect();
    let wrt: Vec<ValueId> = (0..n).filter(|&k| want[k]).map(|k| us[k].value()).collect();
    let gs = (cx.backprop)(b, &seeds, &wrt, start)?;
    let mut it = gs.into_iter();
    Ok(want
        .iter()
        .map(|&w| if w { it.next().flatten() } else { None })
        .collect())
}

/// A counted `while`: a forward loop that runs the original body and stacks the state before
/// each trip (`[trips, ...]` per state value; values the body passes through unchanged are
/// not stacked), then a backward loop that walks the trips in reverse, reads the saved state,
/// records the body again and its VJP inside the loop body, and carries the cotangents. Both
/// loops are counted the same way, so the gradient can be differentiated again.
fn while_loop(
    cx: &Cx,
    b: &mut Builder,
    at: &At,
    cts: &[Option<Value>],
    want: &[bool],
    counted: Option<Counted>,
) -> Result<Cts> {
    let Some(trips) = counted.map(|c| c.trips()) else {
        return not_diff("while", "the trip count is not known (differentiable loops need a counter starting at a constant, incremented by 1, compared `<` with a constant; see `autodiff::fori_loop`)");
    };
    let x = &at.x;
    let body = &at.node.regions[1];
    let m = x.len();
    if trips == 0 {
        return Ok((0..m)
            .map(|j| if want[j] { cts[j] } else { None })
            .collect());
    }
    let tys: Vec<TensorType> = x.iter().map(|&t| ty(b, t)).collect::<Result<_>>()?;
    let float: Vec<usize> = (0..m).filter(|&j| differentiable(tys[j].ty)).collect();
    let params = body.graph.parameters();
    // Loop invariants: the body returns its parameter j unchanged as result j.
    let invariant: Vec<bool> = (0..m)
        .map(|j| {
            body.results
                .get(j)
                .is_some_and(|r| params.get(j) == Some(&r.node))
        })
        .collect();
    let varying: Vec<usize> = (0..m).filter(|&j| !invariant[j]).collect();
    let fixed: Vec<usize> = (0..m).filter(|&j| invariant[j]).collect();
    let s32 = TensorType::scalar(ElementType::S32);
    let stack_ty = |t: &TensorType| {
        let mut d = vec![trips];
        d.extend(t.dims.iter().copied());
        TensorType::new(t.ty, d)
    };
    let counted_cond = |name: &str, state: &[TensorType]| -> Result<Arc<Computation>> {
        let mut cb = Builder::new(name);
        let mut ps = Vec::new();
        for (i, t) in state.iter().enumerate() {
            ps.push(cb.parameter(format!("arg{i}"), t.ty, &t.dims)?);
        }
        let n = cb.scalar(ElementType::S32, trips as f64)?;
        let c = cb.lt(ps[0], n)?;
        Ok(Arc::new(cb.finish(&[c])?))
    };
    let row = |cb: &mut Builder, i: Value, t: &TensorType| -> Result<Vec<Value>> {
        let mut st = vec![i];
        for _ in 0..t.rank() {
            st.push(cb.scalar(ElementType::S32, 0.0)?);
        }
        Ok(st)
    };
    let nv = varying.len();

    // Forward loop: (it, state..., stacks of the varying values...).
    let mut fwd_tys = vec![s32.clone()];
    fwd_tys.extend(tys.iter().cloned());
    fwd_tys.extend(varying.iter().map(|&j| stack_ty(&tys[j])));
    let fcond = counted_cond("while_save_cond", &fwd_tys)?;
    let fbody = {
        let mut cb = Builder::new("while_save_body");
        let mut ps = Vec::new();
        for (i, t) in fwd_tys.iter().enumerate() {
            ps.push(cb.parameter(format!("arg{i}"), t.ty, &t.dims)?);
        }
        let it = ps[0];
        let mut stacks = Vec::new();
        for (k, &j) in varying.iter().enumerate() {
            let mut d1 = vec![1];
            d1.extend(tys[j].dims.iter().copied());
            let r = cb.reshape(ps[1 + j], d1)?;
            let st = row(&mut cb, it, &tys[j])?;
            stacks.push(cb.dynamic_update_slice(ps[1 + m + k], r, &st)?);
        }
        let next = cb.inline(body, &ps[1..1 + m])?;
        let one = cb.scalar(ElementType::S32, 1.0)?;
        let mut res = vec![cb.add(it, one)?];
        res.extend(next);
        res.extend(stacks);
        Arc::new(cb.finish(&res)?)
    };
    let mut init = vec![b.scalar(ElementType::S32, 0.0)?];
    init.extend_from_slice(x);
    for &j in &varying {
        let st = stack_ty(&tys[j]);
        init.push(zeros_ty(b, &st)?);
    }
    let saved = b.while_loop_with(&init, fcond, fbody)?;
    let stacks = saved[1 + m..].to_vec();

    // Backward loop: (r, cotangents of the float state..., stacks..., invariants...).
    let nf = float.len();
    let mut bwd_tys = vec![s32.clone()];
    bwd_tys.extend(float.iter().map(|&j| tys[j].clone()));
    bwd_tys.extend(varying.iter().map(|&j| stack_ty(&tys[j])));
    bwd_tys.extend(fixed.iter().map(|&j| tys[j].clone()));
    let bcond = counted_cond("while_vjp_cond", &bwd_tys)?;
    let bbody = {
        let mut cb = Builder::new("while_vjp_body");
        let mut ps = Vec::new();
        for (i, t) in bwd_tys.iter().enumerate() {
            ps.push(cb.parameter(format!("arg{i}"), t.ty, &t.dims)?);
        }
        let r = ps[0];
        let last = cb.scalar(ElementType::S32, (trips - 1) as f64)?;
        let i = cb.sub(last, r)?;
        let mut xs = Vec::with_capacity(m);
        let (mut kv, mut kf) = (0, 0);
        for j in 0..m {
            if invariant[j] {
                xs.push(ps[1 + nf + nv + kf]);
                kf += 1;
            } else {
                let st = row(&mut cb, i, &tys[j])?;
                let mut sz = vec![1];
                sz.extend(tys[j].dims.iter().copied());
                let sl = cb.dynamic_slice(ps[1 + nf + kv], &st, sz)?;
                xs.push(cb.reshape(sl, &tys[j].dims)?);
                kv += 1;
            }
        }
        // The saved state values are the roots of the sweep: the slices (nodes before
        // `start`) and the invariant parameters.
        let start = cb.graph().len();
        let outs = cb.inline(body, &xs)?;
        let seeds: Vec<(ValueId, Value)> = float
            .iter()
            .enumerate()
            .map(|(k, &j)| (outs[j].value(), ps[1 + k]))
            .collect();
        let wrt: Vec<ValueId> = float.iter().map(|&j| xs[j].value()).collect();
        let gs = (cx.backprop)(&mut cb, &seeds, &wrt, start)?;
        let one = cb.scalar(ElementType::S32, 1.0)?;
        let mut res = vec![cb.add(r, one)?];
        for (k, g) in gs.into_iter().enumerate() {
            res.push(match g {
                Some(g) => g,
                None => zeros_ty(&mut cb, &tys[float[k]])?,
            });
        }
        res.extend_from_slice(&ps[1 + nf..]);
        Arc::new(cb.finish(&res)?)
    };
    let mut binit = vec![b.scalar(ElementType::S32, 0.0)?];
    for &j in &float {
        binit.push(match cts[j] {
            Some(c) => c,
            None => zeros_ty(b, &tys[j])?,
        });
    }
    binit.extend(stacks);
    binit.extend(fixed.iter().map(|&j| x[j]));
    let back = b.while_loop_with(&binit, bcond, bbody)?;
    let mut out = vec![None; m];
    for (k, &j) in float.iter().enumerate() {
        if want[j] {
            out[j] = Some(back[1 + k]);
        }
    }
    Ok(out)
}

/// if / case: a new conditional whose branches compute each branch's VJP (the branch is
/// recorded again inside, then differentiated there).
fn branches(
    cx: &Cx,
    b: &mut Builder,
    at: &At,
    cts: &[Option<Value>],
    want: &[bool],
) -> Result<Cts> {
    let (node, x, bs) = (at.node, &at.x, &at.node.regions);
    let args = &x[1..];
    let m = args.len();
    let mut ct_vals = Vec::new();
    let mut ct_outs = Vec::new();
    for (o, t) in node.types.iter().enumerate() {
        if differentiable(t.ty) {
            let c = match cts[o] {
                Some(c) => c,
                None => zeros_ty(b, t)?,
            };
            ct_vals.push(c);
            ct_outs.push(o);
        }
    }
    let wanted: Vec<usize> = (0..m).filter(|&i| want[i + 1]).collect();
    let mut param_tys: Vec<TensorType> = Vec::new();
    for a in args {
        param_tys.push(ty(b, *a)?);
    }
    for c in &ct_vals {
        param_tys.push(ty(b, *c)?);
    }
    let mut new_branches = Vec::with_capacity(bs.len());
    for br in bs {
        let mut cb = Builder::new(format!("{}_vjp", br.name));
        let mut ps = Vec::new();
        for (i, t) in param_tys.iter().enumerate() {
            ps.push(cb.parameter(format!("arg{i}"), t.ty, &t.dims)?);
        }
        let outs = cb.inline(br, &ps[..m])?;
        let seeds: Vec<(ValueId, Value)> = ct_outs
            .iter()
            .enumerate()
            .map(|(k, &o)| (outs[o].value(), ps[m + k]))
            .collect();
        let wrt: Vec<ValueId> = wanted.iter().map(|&i| ps[i].value()).collect();
        let gs = (cx.backprop)(&mut cb, &seeds, &wrt, 0)?;
        let mut res = Vec::new();
        for (k, g) in gs.into_iter().enumerate() {
            res.push(match g {
                Some(g) => g,
                None => {
                    let t = param_tys[wanted[k]].clone();
                    zeros_ty(&mut cb, &t)?
                }
            });
        }
        new_branches.push(Arc::new(cb.finish(&res)?));
    }
    let mut ops: Vec<Value> = args.to_vec();
    ops.extend(&ct_vals);
    let r = b.record(
        &node.op,
        &{
            let mut all = vec![x[0]];
            all.extend(ops);
            all
        },
        &new_branches,
    )?;
    let mut out = vec![None; x.len()];
    for (k, &i) in wanted.iter().enumerate() {
        out[i + 1] = Some(r[k]);
    }
    Ok(out)
}

/// Gradient checkpointing: the callee is recorded again in the backward pass behind an
/// optimization barrier (tied to the cotangents), so the compiler cannot reuse the forward
/// values and must recompute them.
fn checkpoint(
    cx: &Cx,
    b: &mut Builder,
    at: &At,
    cts: &[Option<Value>],
    want: &[bool],
) -> Result<Cts> {
    let (callee, x, y) = (&at.node.regions[0], &at.x, &at.y);
    let n = x.len();
    let ctm = materialize_cts(b, y, cts)?;
    let mut ops = x.to_vec();
    ops.extend(&ctm);
    let start = b.graph().len();
    let held = b.optimization_barrier(&ops)?;
    let outs = b.inline(callee, &held[..n])?;
    let seeds: Vec<(ValueId, Value)> = outs
        .iter()
        .zip(&held[n..])
        .map(|(o, c)| (o.value(), *c))
        .collect();
    let wrt: Vec<ValueId> = (0..n)
        .filter(|&k| want[k])
        .map(|k| held[k].value())
        .collect();
    let gs = (cx.backprop)(b, &seeds, &wrt, start + 1)?;
    let mut it = gs.into_iter();
    Ok(want
        .iter()
        .map(|&w| if w { it.next().flatten() } else { None })
        .collect())
}
