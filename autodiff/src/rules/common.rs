//! What the rule families share: the rule contexts (the reverse sweep and the batching sweep,
//! handed in so rules that differentiate or batch bodies need not import them), the JVP
//! answer type, the batched-value type, and small helpers.

use std::sync::Arc;

use hlo_builder::{BinaryOp, Builder, Computation, ElementType, Node, TensorType, Value, ValueId};

use crate::check::differentiable;
use crate::error::{not_batchable, Error, Result};

/// Cotangents (or tangents), one per operand (or result); `None` is a symbolic zero.
pub(crate) type Cts = Vec<Option<Value>>;

/// The reverse sweep: cotangents of `wrt` from `(output, cotangent)` seeds, walking nodes
/// from `start` on (see `crate::reverse::backprop`).
pub(crate) type Backprop =
    fn(&Cx, &mut Builder, &[(ValueId, Value)], &[ValueId], usize) -> Result<Vec<Option<Value>>>;

/// What rules get besides the node: the reverse sweep, for rules that differentiate bodies
/// (loops, branches, calls, decompositions), and the sweep's options (the form of the
/// gradients where XLA runs several forms at different speeds), which nested sweeps keep.
#[derive(Clone, Copy)]
pub(crate) struct Cx {
    pub backprop: Backprop,
    pub options: crate::options::GradOptions,
}

/// A family's answer to "the tangent of this node".
pub(crate) enum Jvp {
    /// The result tangents (`None` = zero).
    Tangents(Cts),
    /// Take the tangent from the node's VJP rule by transposition (the VJP is linear in the
    /// cotangent; differentiating it with respect to the cotangent, seeded with the operand
    /// tangents, gives the JVP). So every op with a VJP has a tangent, and they agree.
    FromVjp,
}

pub(crate) fn ty(b: &Builder, t: Value) -> Result<TensorType> {
    Ok(b.ty(t)?.clone())
}

/// The cotangent of a node's single result (rules for one-result ops are only called with one).
pub(crate) fn first(op: &'static str, cts: &[Option<Value>]) -> Result<Value> {
    cts.first()
        .copied()
        .flatten()
        .ok_or(Error::NotDifferentiable {
            op,
            reason: "internal: called without a cotangent".into(),
        })
}

pub(crate) fn zeros_ty(b: &mut Builder, t: &TensorType) -> Result<Value> {
    Ok(b.splat(t.ty, &t.dims, 0.0)?)
}

pub(crate) fn all_axes(rank: usize) -> Vec<i64> {
    (0..rank as i64).collect()
}

pub(crate) fn sum_all(b: &mut Builder, x: Value) -> Result<Value> {
    let r = ty(b, x)?.rank();
    Ok(b.reduce_sum(x, all_axes(r))?)
}

/// `a + c` with symbolic zeros.
pub(crate) fn add(b: &mut Builder, a: Option<Value>, c: Option<Value>) -> Result<Option<Value>> {
    Ok(match (a, c) {
        (Some(a), Some(c)) => Some(b.binary_same_shape(BinaryOp::Add, a, c)?),
        (a, None) => a,
        (None, c) => c,
    })
}

/// Cotangents of `ys`, zero-filled where `None`.
pub(crate) fn materialize_cts(
    b: &mut Builder,
    ys: &[Value],
    cts: &[Option<Value>],
) -> Result<Vec<Value>> {
    ys.iter()
        .zip(cts)
        .map(|(&y, c)| match c {
            Some(c) => Ok(*c),
            None => Ok(b.zeros_like(y)?),
        })
        .collect()
}

/// Records `f` (a decomposition of the node into simpler ops on the same operands), then
/// differentiates that: used where a rule is easiest to state as "the gradient of this
/// equivalent program".
pub(crate) fn via(
    cx: &Cx,
    b: &mut Builder,
    inputs: &[Value],
    cts: &[Option<Value>],
    want: &[bool],
    f: impl FnOnce(&mut Builder) -> Result<Vec<Value>>,
) -> Result<Cts> {
    let start = b.graph().len();
    let outs = f(b)?;
    if outs.len() != cts.len() {
        return Err(Error::Arity {
            func: "vjp",
            message: format!(
                "a decomposition gave {} results for {} cotangents",
                outs.len(),
                cts.len()
            ),
        });
    }
    let seeds: Vec<(ValueId, Value)> = outs
        .iter()
        .zip(cts)
        .filter_map(|(o, c)| c.map(|c| (o.value(), c)))
        .collect();
    let mut wrt = Vec::new();
    for (k, x) in inputs.iter().enumerate() {
        if want[k] {
            wrt.push(x.value());
        }
    }
    let gs = (cx.backprop)(cx, b, &seeds, &wrt, start)?;
    let mut it = gs.into_iter();
    Ok(want
        .iter()
        .map(|&w| if w { it.next().flatten() } else { None })
        .collect())
}

/// The JVP of an op linear in all its float operands: the op applied to the tangents (zeros
/// for missing float operands, the original values for the others).
pub(crate) fn linear(
    b: &mut Builder,
    node: &Node,
    x: &[Value],
    tin: &[Option<Value>],
) -> Result<Jvp> {
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
    Ok(Jvp::Tangents(
        b.record(&node.op, &args, &node.regions)?
            .into_iter()
            .map(Some)
            .collect(),
    ))
}

/// The JVP of a bilinear op (dot_general, convolution): `op(tx, y) + op(x, ty)`.
pub(crate) fn bilinear(
    b: &mut Builder,
    node: &Node,
    x: &[Value],
    tin: &[Option<Value>],
) -> Result<Jvp> {
    let l = match tin[0] {
        Some(t) => Some(b.record(&node.op, &[t, x[1]], &node.regions)?[0]),
        None => None,
    };
    let r = match tin[1] {
        Some(t) => Some(b.record(&node.op, &[x[0], t], &node.regions)?[0]),
        None => None,
    };
    Ok(Jvp::Tangents(vec![add(b, l, r)?]))
}

/// A node being differentiated: the node, and its operands and results as handles.
pub(crate) struct At<'a> {
    pub node: &'a Node,
    pub x: Vec<Value>,
    pub y: Vec<Value>,
}

// ---------------------------------------------------------------- batching (vmap)

/// A value while `vmap` batches a graph: the tensor and the axis that holds the batch
/// (`None`: one value shared by every example, never broadcast until an op needs it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Batched {
    pub t: Value,
    pub axis: Option<usize>,
}

impl Batched {
    pub(crate) fn new(t: Value, axis: Option<usize>) -> Batched {
        Batched { t, axis }
    }
    /// A value shared by every example.
    pub(crate) fn shared(t: Value) -> Batched {
        Batched { t, axis: None }
    }
}

/// The batching sweep over a computation (`crate::vmap::batch_computation`): records `c`
/// into the builder with its parameters bound to batched values, returns its batched results.
pub(crate) type BatchComp = fn(&mut Builder, &Computation, &[Batched], i64) -> Result<Vec<Batched>>;

/// What batching rules get besides the node: the batching sweep, for rules that batch bodies
/// (loops, branches, calls, custom rules).
#[derive(Clone, Copy)]
pub(crate) struct Bx {
    pub batch: BatchComp,
}

/// A node being batched: the node, its operands (with their batch axes) and the batch size.
pub(crate) struct Bat<'a> {
    pub node: &'a Node,
    pub x: &'a [Batched],
    pub n: i64,
}

impl Bat<'_> {
    /// The batch axis of operand `k`, which the rule needs batched (single-operand ops are
    /// only batched when their operand is).
    pub(crate) fn axis(&self, k: usize) -> Result<usize> {
        match self.x.get(k).and_then(|x| x.axis) {
            Some(a) => Ok(a),
            None => not_batchable(
                self.node.op.name(),
                format!("internal: operand {k} was expected to be batched"),
            ),
        }
    }
}

/// Per-example axis `i` seen in a tensor whose batch sits at axis `a`.
pub(crate) fn shift(i: i64, a: usize) -> i64 {
    if i < a as i64 {
        i
    } else {
        i + 1
    }
}

/// `t` with its axis `from` moved to position `to` (the other axes keep their order).
pub(crate) fn move_axis(b: &mut Builder, t: Value, from: usize, to: usize) -> Result<Value> {
    if from == to {
        return Ok(t);
    }
    let r = b.ty(t)?.rank();
    let mut perm: Vec<i64> = (0..r as i64).filter(|&i| i != from as i64).collect();
    perm.insert(to.min(perm.len()), from as i64);
    Ok(b.transpose(t, perm)?)
}

/// `x` with its batch at axis `to`; a shared value is broadcast to `n` examples there.
pub(crate) fn at_axis(b: &mut Builder, x: Batched, to: usize, n: i64) -> Result<Value> {
    match x.axis {
        Some(a) => move_axis(b, x.t, a, to),
        None => {
            let t = ty(b, x.t)?;
            let mut dims = t.dims.to_vec();
            dims.insert(to.min(dims.len()), n);
            let bd: Vec<i64> = (0..t.rank() as i64).map(|i| shift(i, to)).collect();
            Ok(b.broadcast_in_dim(x.t, dims, bd)?)
        }
    }
}

/// `x` with its batch first (broadcast when shared).
pub(crate) fn front(b: &mut Builder, x: Batched, n: i64) -> Result<Value> {
    at_axis(b, x, 0, n)
}

/// The type of one example of `x`.
pub(crate) fn example_ty(b: &Builder, x: Batched) -> Result<TensorType> {
    let mut t = ty(b, x.t)?;
    if let Some(a) = x.axis {
        if a < t.rank() {
            t.dims.remove(a);
        }
    }
    Ok(t)
}

/// Operands of one per-example shape brought to one batch axis: that of the first batched
/// operand; shared operands are broadcast there (an elementwise op needs equal shapes).
pub(crate) fn align(b: &mut Builder, xs: &[Batched], n: i64) -> Result<(Vec<Value>, usize)> {
    let a = xs.iter().find_map(|x| x.axis).unwrap_or(0);
    let mut ts = Vec::with_capacity(xs.len());
    for &x in xs {
        ts.push(at_axis(b, x, a, n)?);
    }
    Ok((ts, a))
}

/// [`align`] for ops where some operands may be scalars standing for a whole tensor
/// (`select`'s predicate, `clamp`'s bounds; `scalar_ok[k]`), `full` being the example's
/// shape: a shared scalar stays a scalar, a batched one (`[n]`) is broadcast over the
/// example's shape at the batch axis.
pub(crate) fn align_scalars(
    b: &mut Builder,
    xs: &[Batched],
    scalar_ok: &[bool],
    full: &TensorType,
    n: i64,
) -> Result<(Vec<Value>, usize)> {
    if full.rank() == 0 {
        return align(b, xs, n);
    }
    let mut ranks = Vec::with_capacity(xs.len());
    for &x in xs {
        ranks.push(example_ty(b, x)?.rank());
    }
    let is_scalar = |k: usize| scalar_ok.get(k).copied().unwrap_or(false) && ranks[k] == 0;
    let a = (0..xs.len())
        .filter(|&k| !is_scalar(k))
        .find_map(|k| xs[k].axis)
        .unwrap_or(0);
    let mut dims = full.dims.to_vec();
    dims.insert(a, n);
    let mut ts = Vec::with_capacity(xs.len());
    for (k, &x) in xs.iter().enumerate() {
        ts.push(match (is_scalar(k), x.axis) {
            (true, None) => x.t,
            (true, Some(_)) => b.broadcast_in_dim(x.t, &dims, [a as i64])?,
            (false, _) => at_axis(b, x, a, n)?,
        });
    }
    Ok((ts, a))
}

/// `select(p, t, f)` per example (the predicate a per-example scalar or of the branches'
/// shape): the batching rule of `select`, also used where a batched predicate turns a
/// conditional into a selection.
pub(crate) fn select_batched(
    b: &mut Builder,
    p: Batched,
    t: Batched,
    f: Batched,
    n: i64,
) -> Result<Batched> {
    if p.axis.is_none() && t.axis.is_none() && f.axis.is_none() {
        return Ok(Batched::shared(b.select(p.t, t.t, f.t)?));
    }
    let full = example_ty(b, t)?;
    let (ts, a) = align_scalars(b, &[p, t, f], &[true, false, false], &full, n)?;
    Ok(Batched::new(b.select(ts[0], ts[1], ts[2])?, Some(a)))
}

/// Records `f` (which may call autodiff) into a computation taking `params`.
pub(crate) fn record_fn(
    name: &str,
    params: &[TensorType],
    f: impl FnOnce(&mut Builder, &[Value]) -> Result<Vec<Value>>,
) -> Result<Computation> {
    let mut cb = Builder::new(name);
    let mut ps = Vec::with_capacity(params.len());
    for (i, t) in params.iter().enumerate() {
        ps.push(cb.parameter(format!("arg{i}"), t.ty, &t.dims)?);
    }
    let outs = f(&mut cb, &ps)?;
    Ok(cb.finish(&outs)?)
}

/// Batches the body `c` into a new computation: parameter `k` is batched at axis 0 when
/// `batched[k]` (else it is the example's type); a result comes out batched (at axis 0) when
/// the sweep makes it so or `force[i]` asks for it (then a shared result is broadcast).
/// Returns the computation and which of its results are batched.
pub(crate) fn batch_region(
    bx: &Bx,
    c: &Computation,
    batched: &[bool],
    force: &[bool],
    n: i64,
) -> Result<(Arc<Computation>, Vec<bool>)> {
    let ptys = c.param_types();
    if ptys.len() != batched.len() {
        return not_batchable(
            "region",
            format!(
                "internal: `{}` takes {} values, {} were given",
                c.name,
                ptys.len(),
                batched.len()
            ),
        );
    }
    let mut cb = Builder::new(c.name.clone());
    let mut args = Vec::with_capacity(ptys.len());
    for (k, t) in ptys.iter().enumerate() {
        let mut dims = t.dims.to_vec();
        if batched[k] {
            dims.insert(0, n);
        }
        let p = cb.parameter(format!("arg{k}"), t.ty, &dims)?;
        args.push(Batched::new(p, batched[k].then_some(0)));
    }
    let outs = (bx.batch)(&mut cb, c, &args, n)?;
    let mut res = Vec::with_capacity(outs.len());
    let mut flags = Vec::with_capacity(outs.len());
    for (i, o) in outs.into_iter().enumerate() {
        let f = force.get(i).copied().unwrap_or(false) || o.axis.is_some();
        res.push(if f { front(&mut cb, o, n)? } else { o.t });
        flags.push(f);
    }
    Ok((Arc::new(cb.finish(&res)?), flags))
}

/// Batches a node by running it once per example in a counted loop: each trip slices the
/// batched operands (batch moved first) at the trip's example, records the op on them (with
/// its regions) and writes its results into stacked outputs. For ops with no batched form:
/// custom calls, random bits from per-example states, reductions whose per-example init
/// values cannot be folded in afterwards. The loop is counted, so it stays differentiable.
pub(crate) fn per_example_loop(b: &mut Builder, at: &Bat) -> Result<Vec<Batched>> {
    let (x, n, node) = (at.x, at.n, at.node);
    let name = node.op.name();
    let trips = i32::try_from(n).map_err(|_| Error::NotBatchable {
        op: name,
        reason: format!("a per-example loop over {n} examples does not fit an s32 counter"),
    })?;
    let mut etys = Vec::with_capacity(x.len());
    for &v in x {
        etys.push(example_ty(b, v)?);
    }
    let sigs: Vec<_> = node.regions.iter().map(|c| c.signature()).collect();
    let outs = node.op.infer(&etys.iter().collect::<Vec<_>>(), &sigs)?;
    let mut state = Vec::with_capacity(x.len() + outs.len());
    for &v in x {
        state.push(match v.axis {
            Some(_) => front(b, v, n)?,
            None => v.t,
        });
    }
    for t in &outs {
        let mut d = vec![n];
        d.extend(t.dims.iter().copied());
        state.push(b.splat(t.ty, d, 0.0)?);
    }
    let m = x.len();
    let batched: Vec<bool> = x.iter().map(|v| v.axis.is_some()).collect();
    let r = b.fori_loop(trips, &state, |cb, i, s| {
        let zero = cb.scalar(ElementType::S32, 0.0)?;
        let mut ops = Vec::with_capacity(m);
        for k in 0..m {
            if batched[k] {
                let mut st = vec![i];
                st.extend(std::iter::repeat_n(zero, etys[k].rank()));
                let mut sz = vec![1];
                sz.extend(etys[k].dims.iter().copied());
                let sl = cb.dynamic_slice(s[k], &st, sz)?;
                ops.push(cb.reshape(sl, &etys[k].dims)?);
            } else {
                ops.push(s[k]);
            }
        }
        let ys = cb.record(&node.op, &ops, &node.regions)?;
        let mut next = s[..m].to_vec();
        for (j, y) in ys.into_iter().enumerate() {
            let mut d1 = vec![1];
            d1.extend(outs[j].dims.iter().copied());
            let y1 = cb.reshape(y, d1)?;
            let mut st = vec![i];
            st.extend(std::iter::repeat_n(zero, outs[j].rank()));
            next.push(cb.dynamic_update_slice(s[m + j], y1, &st)?);
        }
        Ok(next)
    })?;
    Ok(r[m..].iter().map(|&t| Batched::new(t, Some(0))).collect())
}
