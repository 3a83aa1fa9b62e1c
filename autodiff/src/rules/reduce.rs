//! Rules of the reduction family. A named reducer is read from the op: sums spread the
//! cotangent back, max/min send it to the elements equal to the result (split among ties),
//! long products divide; anything else (custom bodies, short products, max pooling) is
//! unrolled into elementwise steps and differentiated as that program.

use std::sync::Arc;

use hlo_builder::{BinaryOp, Builder, Computation, ReduceOp, Reducer, Value, WindowConfig};

use super::common::{
    align, front, linear, per_example_loop, shift, sum_all, ty, via, At, Bat, Batched, Cts, Cx, Jvp,
};
use crate::error::{not_batchable, not_diff, Result};

const UNROLL_LIMIT: i64 = 256;
/// Products over at most this many elements are differentiated by unrolling (exact at zeros).
const PROD_UNROLL: i64 = 64;

/// The VJP of a reduction node.
pub(crate) fn vjp(
    cx: &Cx,
    b: &mut Builder,
    op: &ReduceOp,
    at: &At,
    cts: &[Option<Value>],
    want: &[bool],
) -> Result<Cts> {
    match op {
        ReduceOp::Reduce {
            dimensions,
            reducer,
        } => reduce(cx, b, at, cts, want, dimensions, *reducer),
        ReduceOp::ReduceWindow { window, reducer } => {
            reduce_window(cx, b, at, cts, want, window, *reducer)
        }
    }
}

/// The JVP of a reduction node: sums are linear; the rest come from their VJPs.
pub(crate) fn jvp(b: &mut Builder, op: &ReduceOp, at: &At, tin: &[Option<Value>]) -> Result<Jvp> {
    match op.reducer() {
        Reducer::Sum => linear(b, at.node, &at.x, tin),
        Reducer::Product
        | Reducer::Max
        | Reducer::Min
        | Reducer::And
        | Reducer::Or
        | Reducer::Replace
        | Reducer::Custom => Ok(Jvp::FromVjp),
    }
}

/// How one fold step combines the accumulators with the next elements.
enum Combine<'a> {
    /// A named reducer, pairwise.
    Kind(BinaryOp),
    /// The op's own region, applied elementwise.
    Region(&'a Arc<Computation>),
}

impl Combine<'_> {
    fn of<'a>(op: &'static str, reducer: Reducer, at: &'a At) -> Result<Combine<'a>> {
        Ok(match reducer {
            Reducer::Sum => Combine::Kind(BinaryOp::Add),
            Reducer::Product => Combine::Kind(BinaryOp::Mul),
            Reducer::Max => Combine::Kind(BinaryOp::Max),
            Reducer::Min => Combine::Kind(BinaryOp::Min),
            Reducer::And => Combine::Kind(BinaryOp::And),
            Reducer::Or => Combine::Kind(BinaryOp::Or),
            Reducer::Replace => return not_diff(op, "`Replace` is not a reduction"),
            Reducer::Custom => match at.node.regions.first() {
                Some(r) => Combine::Region(r),
                None => return not_diff(op, "a custom reducer without its body"),
            },
        })
    }

    fn name(&self) -> String {
        match self {
            Combine::Kind(op) => op.name().to_string(),
            Combine::Region(r) => r.name.clone(),
        }
    }

    /// `acc op xs` elementwise over tensors of dimensions `dims`.
    fn apply(
        &self,
        b: &mut Builder,
        acc: &[Value],
        xs: &[Value],
        dims: &[i64],
    ) -> Result<Vec<Value>> {
        match self {
            Combine::Kind(op) => acc
                .iter()
                .zip(xs)
                .map(|(&a, &x)| Ok(b.binary_same_shape(*op, a, x)?))
                .collect(),
            Combine::Region(r) => {
                let mut args = acc.to_vec();
                args.extend_from_slice(xs);
                Ok(b.inline_elementwise(r, &args, dims)?)
            }
        }
    }
}

/// Moves the reduced axes of `x` last and flattens them: `[kept..., R]`.
fn flatten_reduced(b: &mut Builder, x: Value, dims: &[i64]) -> Result<(Value, Vec<i64>, i64)> {
    let t = ty(b, x)?;
    let kept: Vec<i64> = (0..t.rank() as i64).filter(|a| !dims.contains(a)).collect();
    let mut perm = kept.clone();
    perm.extend(dims);
    let xt = b.transpose(x, &perm)?;
    let kd: Vec<i64> = kept.iter().map(|&a| t.dims[a as usize]).collect();
    let r: i64 = dims.iter().map(|&a| t.dims[a as usize]).product();
    let mut nd = kd.clone();
    nd.push(r);
    Ok((b.reshape(xt, nd)?, kd, r))
}

/// The cotangents of one named reduction `y = reduce(x, init)` from its cotangent `g`.
#[allow(clippy::too_many_arguments)]
fn one_named(
    b: &mut Builder,
    reducer: Reducer,
    (x, init, y, g): (Value, Value, Value, Value),
    want_x: bool,
    want_init: bool,
    dims: &[i64],
) -> Result<(Option<Value>, Option<Value>)> {
    let xt = ty(b, x)?;
    let kept: Vec<i64> = (0..xt.rank() as i64)
        .filter(|a| !dims.contains(a))
        .collect();
    match reducer {
        Reducer::Sum => {
            let dx = if want_x {
                Some(b.broadcast_in_dim(g, &xt.dims, &kept)?)
            } else {
                None
            };
            let di = if want_init {
                Some(sum_all(b, g)?)
            } else {
                None
            };
            Ok((dx, di))
        }
        Reducer::Max | Reducer::Min => {
            // The cotangent goes to the elements equal to the result, split among ties; the
            // init value counts as one more candidate (it wins when no element reaches it,
            // e.g. a max with init 0 over negative numbers).
            let yb = b.broadcast_in_dim(y, &xt.dims, &kept)?;
            let loc = b.eq(x, yb)?;
            let locf = b.convert(loc, xt.ty)?;
            let cnt = b.reduce_sum(locf, dims)?;
            let at_init = b.eq(y, init)?;
            let at_init = b.convert(at_init, xt.ty)?;
            let total = b.add(cnt, at_init)?;
            let one = b.scalar_like(total, 1.0)?;
            let total = b.max(total, one)?;
            let gc = b.div(g, total)?;
            let dx = if want_x {
                let gb = b.broadcast_in_dim(gc, &xt.dims, &kept)?;
                Some(b.mul(gb, locf)?)
            } else {
                None
            };
            let di = if want_init {
                let d = b.mul(gc, at_init)?;
                Some(sum_all(b, d)?)
            } else {
                None
            };
            Ok((dx, di))
        }
        Reducer::Product => {
            // d(prod)/dx_i = prod / x_i: exact for nonzero elements. Short products are
            // unrolled instead, which is exact with zeros too.
            let gy = b.mul(g, y)?;
            let gb = b.broadcast_in_dim(gy, &xt.dims, &kept)?;
            let dx = if want_x { Some(b.div(gb, x)?) } else { None };
            let di = if want_init {
                let q = b.div(gy, init)?;
                Some(sum_all(b, q)?)
            } else {
                None
            };
            Ok((dx, di))
        }
        // Logical reductions work on integers and pred: nothing flows.
        Reducer::And | Reducer::Or | Reducer::Replace | Reducer::Custom => Ok((None, None)),
    }
}

#[allow(clippy::too_many_arguments)]
fn reduce(
    cx: &Cx,
    b: &mut Builder,
    at: &At,
    cts: &[Option<Value>],
    want: &[bool],
    dims: &[i64],
    reducer: Reducer,
) -> Result<Cts> {
    let (x, y) = (&at.x, &at.y);
    let n = x.len() / 2;
    let xt = ty(b, x[0])?;
    let r: i64 = dims.iter().map(|&a| xt.dims[a as usize]).product();
    let closed = match reducer {
        Reducer::Sum | Reducer::Max | Reducer::Min | Reducer::And | Reducer::Or => true,
        Reducer::Product => r > PROD_UNROLL,
        Reducer::Replace | Reducer::Custom => false,
    };
    if closed {
        let mut out = vec![None; 2 * n];
        for j in 0..n {
            let Some(g) = cts[j] else { continue };
            let (dx, di) = one_named(
                b,
                reducer,
                (x[j], x[n + j], y[j], g),
                want[j],
                want[n + j],
                dims,
            )?;
            out[j] = dx;
            out[n + j] = di;
        }
        return Ok(out);
    }
    // Unroll the fold over the reduced elements and differentiate that.
    let combine = Combine::of("reduce", reducer, at)?;
    if r > UNROLL_LIMIT {
        return not_diff(
            "reduce",
            format!(
                "custom reducer `{}` over {r} elements (unrolled differentiation is limited to {UNROLL_LIMIT})",
                combine.name()
            ),
        );
    }
    let xs = x.to_vec();
    via(cx, b, &xs, cts, want, |b| {
        let mut flat = Vec::new();
        let mut kd = Vec::new();
        for xi in &xs[..n] {
            let (f, k, _) = flatten_reduced(b, *xi, dims)?;
            flat.push(f);
            kd = k;
        }
        let mut acc = Vec::new();
        for init in &xs[n..] {
            acc.push(b.broadcast_in_dim(*init, &kd, [])?);
        }
        let rank = kd.len();
        for i in 0..r {
            let mut next = Vec::with_capacity(n);
            for f in &flat {
                let mut s = vec![0; rank + 1];
                let mut l = kd.clone();
                l.push(i + 1);
                s[rank] = i;
                let sl = b.slice(*f, s, l, vec![1; rank + 1])?;
                next.push(b.reshape(sl, &kd)?);
            }
            acc = combine.apply(b, &acc, &next, &kd)?;
        }
        Ok(acc)
    })
}

fn dilate(s: i64, d: i64) -> i64 {
    if s == 0 {
        0
    } else {
        1 + d * (s - 1)
    }
}

#[allow(clippy::too_many_arguments)]
fn reduce_window(
    cx: &Cx,
    b: &mut Builder,
    at: &At,
    cts: &[Option<Value>],
    want: &[bool],
    w: &WindowConfig,
    reducer: Reducer,
) -> Result<Cts> {
    let x = &at.x;
    let n = x.len() / 2;
    let xt = ty(b, x[0])?;
    let rank = xt.rank();
    if reducer == Reducer::Sum {
        let mut out = vec![None; 2 * n];
        for j in 0..n {
            let Some(g) = cts[j] else { continue };
            let gt = ty(b, g)?;
            out[j] = if want[j] {
                // Spread each window's cotangent back over the window: dilate the cotangent by
                // the strides, pad, and sum windows again with stride = base dilation.
                let mut lo = Vec::new();
                let mut hi = Vec::new();
                let mut it = Vec::new();
                for a in 0..rank {
                    let ld = dilate(xt.dims[a], w.base_dilations[a]);
                    let rd = dilate(w.dimensions[a], w.window_dilations[a]);
                    let od = dilate(gt.dims[a], w.strides[a]);
                    let before = rd - w.padding[a].0 - 1;
                    let after = ld + rd - 1 - od - before;
                    lo.push(before);
                    hi.push(after);
                    it.push(w.strides[a] - 1);
                }
                let z = b.scalar_like(g, 0.0)?;
                let pg = b.pad(g, z, lo, hi, it)?;
                let cfg = WindowConfig {
                    dimensions: w.dimensions.clone(),
                    strides: w.base_dilations.clone(),
                    base_dilations: vec![1; rank],
                    window_dilations: w.window_dilations.clone(),
                    padding: vec![(0, 0); rank],
                };
                let init = b.scalar_like(g, 0.0)?;
                Some(b.reduce_window_by(&[pg], &[init], cfg, Reducer::Sum)?[0])
            } else {
                None
            };
            // XLA folds each window from the init value once and skips padded cells and
            // dilation holes, so the init value enters every output exactly once.
            out[n + j] = if want[n + j] {
                Some(sum_all(b, g)?)
            } else {
                None
            };
        }
        return Ok(out);
    }
    // Other reducers (max pooling, custom): unroll over the window offsets.
    let combine = Combine::of("reduce_window", reducer, at)?;
    let wsize: i64 = w.dimensions.iter().product();
    if wsize > UNROLL_LIMIT {
        return not_diff(
            "reduce_window",
            format!(
                "reducer `{}` over windows of {wsize} elements (unrolled differentiation is limited to {UNROLL_LIMIT})",
                combine.name()
            ),
        );
    }
    let out_dims = {
        let g = cts.iter().flatten().next().copied();
        match g {
            Some(g) => ty(b, g)?.dims.to_vec(),
            None => return Ok(vec![None; x.len()]),
        }
    };
    let xs = x.to_vec();
    let w = w.clone();
    via(cx, b, &xs, cts, want, |b| {
        let mut padded = Vec::new();
        for j in 0..n {
            let lo: Vec<i64> = w.padding.iter().map(|p| p.0).collect();
            let hi: Vec<i64> = w.padding.iter().map(|p| p.1).collect();
            let it: Vec<i64> = w.base_dilations.iter().map(|d| d - 1).collect();
            padded.push(b.pad(xs[j], xs[n + j], lo, hi, it)?);
        }
        let mut acc = Vec::new();
        for init in &xs[n..] {
            acc.push(b.broadcast_in_dim(*init, &out_dims, [])?);
        }
        for k in 0..wsize {
            // k as a multi-index over the window dimensions (row-major).
            let mut off = vec![0i64; rank];
            let mut rem = k;
            for a in (0..rank).rev() {
                off[a] = rem % w.dimensions[a];
                rem /= w.dimensions[a];
            }
            let mut next = Vec::with_capacity(n);
            for p in &padded {
                let start: Vec<i64> = (0..rank).map(|a| off[a] * w.window_dilations[a]).collect();
                let limit: Vec<i64> = (0..rank)
                    .map(|a| start[a] + (out_dims[a] - 1).max(0) * w.strides[a] + 1)
                    .collect();
                next.push(b.slice(*p, &start, limit, &w.strides)?);
            }
            acc = combine.apply(b, &acc, &next, &out_dims)?;
        }
        Ok(acc)
    })
}

/// The batching rule of a reduction. With shared init values the batch is one more kept axis
/// (`reduce`) or a window axis of size 1 (`reduce_window`). With init values per example, a
/// named reducer reduces from its identity and then combines each example's init value once
/// (for windows only the idempotent max/min/and/or, which do not care how often padding
/// repeats the init value); anything else runs once per example in a counted loop.
pub(crate) fn batch(b: &mut Builder, op: &ReduceOp, at: &Bat) -> Result<Vec<Batched>> {
    let (x, n, node) = (at.x, at.n, at.node);
    let m = x.len() / 2;
    let (inputs, inits) = x.split_at(m);
    let shared_inits = inits.iter().all(|i| i.axis.is_none());
    let reducer = op.reducer();
    let folds_in = match op {
        ReduceOp::Reduce { .. } => {
            matches!(
                reducer,
                Reducer::Sum
                    | Reducer::Product
                    | Reducer::Max
                    | Reducer::Min
                    | Reducer::And
                    | Reducer::Or
            )
        }
        ReduceOp::ReduceWindow { .. } => {
            matches!(
                reducer,
                Reducer::Max | Reducer::Min | Reducer::And | Reducer::Or
            )
        }
    };
    if !shared_inits && !folds_in {
        return per_example_loop(b, at);
    }
    let (ts, a) = align(b, inputs, n)?;
    let mut ops = ts;
    let mut starts = Vec::with_capacity(m);
    for &i in inits {
        starts.push(if shared_inits {
            i.t
        } else {
            let t = ty(b, i.t)?.ty;
            b.reducer_identity(reducer, t)?
        });
    }
    ops.extend(starts);
    let (new, out_axis) = match op {
        ReduceOp::Reduce { dimensions, .. } => {
            let d: Vec<i64> = dimensions.iter().map(|&d| shift(d, a)).collect();
            let below = d.iter().filter(|&&k| k < a as i64).count();
            let r = ReduceOp::Reduce {
                dimensions: d,
                reducer,
            };
            (r, a - below)
        }
        ReduceOp::ReduceWindow { window, .. } => {
            let mut w = window.clone();
            w.dimensions.insert(a, 1);
            w.strides.insert(a, 1);
            w.base_dilations.insert(a, 1);
            w.window_dilations.insert(a, 1);
            w.padding.insert(a, (0, 0));
            (ReduceOp::ReduceWindow { window: w, reducer }, a)
        }
    };
    let out = b.record(&new.into(), &ops, &node.regions)?;
    if shared_inits {
        return Ok(out
            .into_iter()
            .map(|t| Batched::new(t, Some(out_axis)))
            .collect());
    }
    // Fold each example's init value in once.
    let combine = match reducer {
        Reducer::Sum => BinaryOp::Add,
        Reducer::Product => BinaryOp::Mul,
        Reducer::Max => BinaryOp::Max,
        Reducer::Min => BinaryOp::Min,
        Reducer::And => BinaryOp::And,
        Reducer::Or => BinaryOp::Or,
        Reducer::Replace | Reducer::Custom => {
            return not_batchable(node.op.name(), "internal: no named reducer to fold with")
        }
    };
    let mut res = Vec::with_capacity(m);
    for (j, r) in out.into_iter().enumerate() {
        let dims = ty(b, r)?.dims.to_vec();
        let init = match inits[j].axis {
            Some(_) => {
                let v = front(b, inits[j], n)?;
                b.broadcast_in_dim(v, &dims, [out_axis as i64])?
            }
            None => b.broadcast_in_dim(inits[j].t, &dims, [])?,
        };
        res.push(Batched::new(
            b.binary_same_shape(combine, r, init)?,
            Some(out_axis),
        ));
    }
    Ok(res)
}
