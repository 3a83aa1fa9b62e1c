//! Rules of the control-flow family: counted loops (a saving forward loop and a backward loop
//! over the saved states), `if`/`case` (a conditional of the branches' VJPs), and calls
//! (through the body, recomputed for checkpoints, or by the rules the call carries).

use std::sync::Arc;

use hlo_builder::{
    Builder, CallKind, CheckpointPolicy, Computation, ControlOp, Counted, CustomRules, ElementType,
    Op, ShapeOp, TensorType, Value, ValueId,
};

use super::common::{
    batch_region, example_ty, front, materialize_cts, record_fn, select_batched, ty, via, zeros_ty,
    At, Bat, Batched, Bx, Cts, Cx, Jvp,
};
use crate::check::differentiable;
use crate::custom::{JvpRule, Rules, VjpRule};
use crate::error::{not_batchable, not_diff, Error, Result};

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
            CallKind::Checkpoint(policy) => checkpoint(cx, b, at, cts, want, policy),
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
    let gs = (cx.backprop)(cx, b, &seeds, &wrt, start)?;
    let mut it = gs.into_iter();
    Ok(want
        .iter()
        .map(|&w| if w { it.next().flatten() } else { None })
        .collect())
}

/// A counted `while`: a forward loop that runs the original body and stacks the state before
/// each trip (`[trips, ...]` per state value; values the body passes through unchanged, and
/// values it only writes into with `dynamic_update_slice`, are not stacked), then a backward loop that walks the trips in reverse, reads the saved state,
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
    // Entries the body only writes into (a scan's stacked outputs) need no saving: their
    // old value is never read, and the backward loop replays the body on zeros for them.
    let written: Vec<bool> = (0..m)
        .map(|j| !invariant[j] && write_only(body, j))
        .collect();
    let varying: Vec<usize> = (0..m).filter(|&j| !invariant[j] && !written[j]).collect();
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
            } else if written[j] {
                xs.push(zeros_ty(&mut cb, &tys[j])?);
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
        let gs = (cx.backprop)(cx, &mut cb, &seeds, &wrt, start)?;
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

/// Whether state entry `j` of a loop body is only written: its parameter's one use is as the
/// operand of the `dynamic_update_slice` that is result `j`, and that result feeds nothing
/// else, so no trip reads the entry's old value.
fn write_only(body: &Computation, j: usize) -> bool {
    let (Some(&p), Some(&r)) = (body.graph.parameters().get(j), body.results.get(j)) else {
        return false;
    };
    let Some(node) = body.graph.node(r.node) else {
        return false;
    };
    let Op::Shape(ShapeOp::DynamicUpdateSlice) = node.op else {
        return false;
    };
    if node.operands.first().map(|v| v.node) != Some(p) {
        return false;
    }
    let reads_p = body
        .graph
        .nodes()
        .iter()
        .flat_map(|n| n.operands.iter())
        .filter(|v| v.node == p)
        .count();
    let reads_r = body
        .graph
        .nodes()
        .iter()
        .flat_map(|n| n.operands.iter())
        .filter(|v| **v == r)
        .count();
    let in_results = body
        .results
        .iter()
        .filter(|v| **v == r || v.node == p)
        .count();
    reads_p == 1 && reads_r == 0 && in_results == 1
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
        let gs = (cx.backprop)(cx, &mut cb, &seeds, &wrt, 0)?;
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
/// values and must recompute them. The policy says where the kept inputs wait:
/// - `RecomputeAll`: where they are (the device).
/// - `Offload(kind)`: in `kind`. Each input is moved there (a move that depends on the input
///   only, so XLA can issue it as soon as the forward pass made the input) and back to the
///   device (a move whose result enters the barrier with the cotangents, so it cannot run
///   before the backward pass reaches this call). Both moves are identities in value, so
///   the gradient is `RecomputeAll`'s.
fn checkpoint(
    cx: &Cx,
    b: &mut Builder,
    at: &At,
    cts: &[Option<Value>],
    want: &[bool],
    policy: &CheckpointPolicy,
) -> Result<Cts> {
    let (callee, x, y) = (&at.node.regions[0], &at.x, &at.y);
    let n = x.len();
    let ctm = materialize_cts(b, y, cts)?;
    let mut ops = Vec::with_capacity(n + ctm.len());
    for &xk in x {
        ops.push(match policy {
            CheckpointPolicy::RecomputeAll => xk,
            CheckpointPolicy::Offload(kind) => {
                let away = b.place(xk, kind.clone())?;
                b.place(away, hlo_builder::MemoryKind::DEVICE)?
            }
        });
    }
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
    let gs = (cx.backprop)(cx, b, &seeds, &wrt, start + 1)?;
    let mut it = gs.into_iter();
    Ok(want
        .iter()
        .map(|&w| if w { it.next().flatten() } else { None })
        .collect())
}

/// The batching rule of a control-flow node.
///
/// - `while`: the state entries that are batched (the batched initial values, and those the
///   batched body makes batched, to a fixed point) are carried batched first. A shared
///   predicate keeps the loop (and its trip count); a batched one runs the loop while any
///   example continues, each trip keeping the old state of the examples that have stopped.
/// - `if` / `case` with a shared predicate: the conditional stays, its branches batched (a
///   result batched in any branch is batched in all). With a batched predicate every branch
///   runs and a selection per example picks the results.
/// - calls: the callee is batched. A call with custom rules gets batched rules: they run the
///   user's rule per example (the rule's own graph batched by this sweep), and the
///   cotangent of an operand shared by all examples is the sum over them.
pub(crate) fn batch(bx: &Bx, b: &mut Builder, op: &ControlOp, at: &Bat) -> Result<Vec<Batched>> {
    match op {
        ControlOp::While { counted } => batch_while(bx, b, at, *counted),
        ControlOp::If | ControlOp::Case => batch_branches(bx, b, op, at),
        ControlOp::Call { kind } => {
            let (x, n) = (at.x, at.n);
            let callee = &at.node.regions[0];
            let bat: Vec<bool> = x.iter().map(|v| v.axis.is_some()).collect();
            let mut args = Vec::with_capacity(x.len());
            for &v in x {
                args.push(match v.axis {
                    Some(_) => front(b, v, n)?,
                    None => v.t,
                });
            }
            let (c, out, kind) = match kind {
                CallKind::Plain | CallKind::Checkpoint(_) => {
                    let (c, out) = batch_region(bx, callee, &bat, &[], n)?;
                    (c, out, kind.clone())
                }
                CallKind::Custom(r) => {
                    let Some(rules) = r.get::<Rules>() else {
                        return not_batchable(
                            "call",
                            format!("the rules of `{}` were not made by autodiff", r.name()),
                        );
                    };
                    let all = vec![true; callee.results.len()];
                    let (c, out) = batch_region(bx, callee, &bat, &all, n)?;
                    let new = batched_rules(*bx, rules, r.name(), bat, n);
                    let kind = CallKind::Custom(CustomRules::new(r.name(), Arc::new(new)));
                    (c, out, kind)
                }
            };
            let r = b.record(&ControlOp::Call { kind }.into(), &args, &[c])?;
            Ok(r.into_iter()
                .zip(out)
                .map(|(t, o)| Batched::new(t, o.then_some(0)))
                .collect())
        }
    }
}

fn batch_while(
    bx: &Bx,
    b: &mut Builder,
    at: &Bat,
    counted: Option<Counted>,
) -> Result<Vec<Batched>> {
    let (x, n) = (at.x, at.n);
    let (cond, body) = (&at.node.regions[0], &at.node.regions[1]);
    let m = x.len();
    let mut bat: Vec<bool> = x.iter().map(|v| v.axis.is_some()).collect();
    // The batched entries grow monotonically, so this ends within m rounds.
    let body_b = loop {
        let (c, out) = batch_region(bx, body, &bat, &bat, n)?;
        if out == bat {
            break c;
        }
        bat = bat.iter().zip(&out).map(|(a, o)| *a || *o).collect();
    };
    let (cond_b, pred) = batch_region(bx, cond, &bat, &[], n)?;
    if !pred.first().copied().unwrap_or(false) {
        let mut state = Vec::with_capacity(m);
        for k in 0..m {
            state.push(if bat[k] { front(b, x[k], n)? } else { x[k].t });
        }
        let counted = counted.filter(|c| !bat.get(c.counter).copied().unwrap_or(true));
        let r = b.record(
            &ControlOp::While { counted }.into(),
            &state,
            &[cond_b, body_b],
        )?;
        return Ok(r
            .into_iter()
            .zip(&bat)
            .map(|(t, &k)| Batched::new(t, k.then_some(0)))
            .collect());
    }
    // A predicate per example: every entry is batched; the loop runs while any example
    // continues and the examples that have stopped keep their state.
    let all = vec![true; m];
    let (body_b, _) = batch_region(bx, body, &all, &all, n)?;
    let (cond_b, _) = batch_region(bx, cond, &all, &[true], n)?;
    let mut state = Vec::with_capacity(m);
    for &v in x {
        state.push(front(b, v, n)?);
    }
    let tys: Vec<TensorType> = state.iter().map(|&t| ty(b, t)).collect::<Result<_>>()?;
    let any = record_fn("while_any", &tys, |cb, s| {
        let p = cb.inline(&cond_b, s)?[0];
        Ok(vec![cb.reduce_or(p, [0])?])
    })?;
    let masked = record_fn("while_masked_body", &tys, |cb, s| {
        let p = cb.inline(&cond_b, s)?[0];
        let next = cb.inline(&body_b, s)?;
        let mut out = Vec::with_capacity(s.len());
        for (k, (&new, &old)) in next.iter().zip(s).enumerate() {
            let pk = cb.broadcast_in_dim(p, &tys[k].dims, [0])?;
            out.push(cb.select(pk, new, old)?);
        }
        Ok(out)
    })?;
    let r = b.record(
        &ControlOp::While { counted: None }.into(),
        &state,
        &[Arc::new(any), Arc::new(masked)],
    )?;
    Ok(r.into_iter().map(|t| Batched::new(t, Some(0))).collect())
}

fn batch_branches(bx: &Bx, b: &mut Builder, op: &ControlOp, at: &Bat) -> Result<Vec<Batched>> {
    let (x, n) = (at.x, at.n);
    let (p, args) = (x[0], &x[1..]);
    let regions = &at.node.regions;
    let nout = at.node.types.len();
    if p.axis.is_none() {
        let bat: Vec<bool> = args.iter().map(|v| v.axis.is_some()).collect();
        let mut force = vec![false; nout];
        let branches = loop {
            let mut union = force.clone();
            let mut made = Vec::with_capacity(regions.len());
            for br in regions {
                let (c, out) = batch_region(bx, br, &bat, &force, n)?;
                for (u, o) in union.iter_mut().zip(out) {
                    *u |= o;
                }
                made.push(c);
            }
            if union == force {
                break made;
            }
            force = union;
        };
        let mut ops = vec![p.t];
        for &v in args {
            ops.push(match v.axis {
                Some(_) => front(b, v, n)?,
                None => v.t,
            });
        }
        let r = b.record(&at.node.op, &ops, &branches)?;
        return Ok(r
            .into_iter()
            .zip(force)
            .map(|(t, f)| Batched::new(t, f.then_some(0)))
            .collect());
    }
    // A predicate per example: run every branch, select per example.
    let mut outs = Vec::with_capacity(regions.len());
    for br in regions {
        outs.push((bx.batch)(b, br, args, n)?);
    }
    let mut res = Vec::with_capacity(nout);
    for i in 0..nout {
        let r = match op {
            ControlOp::If => select_batched(b, p, outs[0][i], outs[1][i], n)?,
            // StableHLO runs the last branch for an index out of range.
            ControlOp::Case => {
                let last = outs.len() - 1;
                let mut acc = outs[last][i];
                for k in (0..last).rev() {
                    let kc = b.scalar(ElementType::S32, k as f64)?;
                    let is_k = Batched::new(b.eq(p.t, kc)?, p.axis);
                    acc = select_batched(b, is_k, outs[k][i], acc, n)?;
                }
                acc
            }
            ControlOp::While { .. } | ControlOp::Call { .. } => {
                return not_batchable(op.name(), "internal: not a conditional")
            }
        };
        res.push(r);
    }
    Ok(res)
}

/// The rules of a custom call batched over `n` examples (operand `k` batched first when
/// `batched[k]`; the call's results and their cotangents are all batched first): each runs
/// the user's rule on one example, recorded once and batched by the sweep.
fn batched_rules(bx: Bx, rules: &Rules, name: &str, batched: Vec<bool>, n: i64) -> Rules {
    let vjp = rules.vjp.clone().map(|rule| {
        let (batched, name) = (batched.clone(), name.to_string());
        let f: Arc<VjpRule> = Arc::new(move |b, xs, ys, cts| {
            let mut args: Vec<Batched> = xs
                .iter()
                .zip(&batched)
                .map(|(&t, &k)| Batched::new(t, k.then_some(0)))
                .collect();
            args.extend(ys.iter().chain(cts).map(|&t| Batched::new(t, Some(0))));
            let outs = per_example_rule(bx, b, &name, &args, (xs.len(), ys.len()), true, n, &rule)?;
            let mut res = Vec::with_capacity(outs.len());
            for (k, o) in outs.into_iter().enumerate() {
                res.push(Some(if batched[k] {
                    front(b, o, n)?
                } else {
                    // The operand is shared: its cotangent is the sum over the examples.
                    match o.axis {
                        Some(a) => b.reduce_sum(o.t, [a as i64])?,
                        None => {
                            let k = b.scalar_like(o.t, n as f64)?;
                            b.mul(o.t, k)?
                        }
                    }
                }));
            }
            Ok(res)
        });
        f
    });
    let jvp = rules.jvp.clone().map(|rule| {
        let (batched, name) = (batched.clone(), name.to_string());
        let f: Arc<JvpRule> = Arc::new(move |b, xs, ys, ts| {
            let per_input = |ts: &[Value]| {
                ts.iter()
                    .zip(&batched)
                    .map(|(&t, &k)| Batched::new(t, k.then_some(0)))
                    .collect::<Vec<_>>()
            };
            let mut args = per_input(xs);
            args.extend(ys.iter().map(|&t| Batched::new(t, Some(0))));
            args.extend(per_input(ts));
            let outs =
                per_example_rule(bx, b, &name, &args, (xs.len(), ys.len()), false, n, &rule)?;
            outs.into_iter()
                .map(|o| Ok(Some(front(b, o, n)?)))
                .collect()
        });
        f
    });
    Rules { vjp, jvp }
}

/// Records the user's rule on one example's values (`(inputs, outputs, cotangents or
/// tangents)`, `counts` = the numbers of inputs and outputs; zeros where it answers `None`,
/// of the inputs' types when `like_inputs`, else of the outputs') and batches it over the
/// examples.
#[allow(clippy::too_many_arguments)]
fn per_example_rule(
    bx: Bx,
    b: &mut Builder,
    name: &str,
    args: &[Batched],
    (nx, ny): (usize, usize),
    like_inputs: bool,
    n: i64,
    rule: &Arc<VjpRule>,
) -> Result<Vec<Batched>> {
    let mut tys = Vec::with_capacity(args.len());
    for &a in args {
        tys.push(example_ty(b, a)?);
    }
    let comp = record_fn(&format!("{name}_rule"), &tys, |cb, a| {
        let r = rule(cb, &a[..nx], &a[nx..nx + ny], &a[nx + ny..])?;
        let like = if like_inputs {
            &a[..nx]
        } else {
            &a[nx..nx + ny]
        };
        if r.len() != like.len() {
            return Err(Error::Arity {
                func: "vmap",
                message: format!(
                    "the rule of `{name}` returned {} values, expected {}",
                    r.len(),
                    like.len()
                ),
            });
        }
        r.into_iter()
            .zip(like)
            .map(|(v, &l)| match v {
                Some(v) => Ok(v),
                None => Ok(cb.zeros_like(l)?),
            })
            .collect()
    })?;
    (bx.batch)(b, &comp, args, n)
}
