//! Reductions and window reductions, and the compositions built on them (`mean`, `var`,
//! `softmax`, `logsumexp`, `argmax`, `cumsum`, pooling).

use std::sync::Arc;

use smallvec::SmallVec;

use crate::builder::{Builder, RegionFn};
use crate::error::{shape_err, Result};
use crate::graph::{Computation, Value};
use crate::ops::{
    BinaryOp, ComparisonDirection, ElementwiseOp, Op, ReduceOp, Reducer, WindowConfig,
};
use crate::types::{ElementType, TensorType};

/// What a combiner computation of `2n` scalars means: a named monoid applied pairwise
/// (`(a_j, b_j) -> a_j op b_j` for every j), a replacement (`-> b_j`, scatter only), or
/// [`Reducer::Custom`]. Read once, when the op is recorded; the graph keeps the answer.
pub(crate) fn reducer_of(c: &Computation, n: usize, allow_replace: bool) -> Reducer {
    let params = c.graph.parameters();
    if n == 0 || params.len() != 2 * n || c.results.len() != n {
        return Reducer::Custom;
    }
    let is_param = |v: crate::graph::ValueId, k: usize| v.node == params[k] && v.output == 0;
    if allow_replace && (0..n).all(|j| is_param(c.results[j], n + j)) {
        return Reducer::Replace;
    }
    let mut kind = None;
    for j in 0..n {
        let r = c.results[j];
        let Some(node) = c.graph.node(r.node) else {
            return Reducer::Custom;
        };
        let Op::Elementwise(ElementwiseOp::Binary(op)) = node.op else {
            return Reducer::Custom;
        };
        let k = match op {
            BinaryOp::Add => Reducer::Sum,
            BinaryOp::Mul => Reducer::Product,
            BinaryOp::Max => Reducer::Max,
            BinaryOp::Min => Reducer::Min,
            BinaryOp::And => Reducer::And,
            BinaryOp::Or => Reducer::Or,
            _ => return Reducer::Custom,
        };
        let (a, b) = (node.operands[0], node.operands[1]);
        let pairwise =
            (is_param(a, j) && is_param(b, n + j)) || (is_param(a, n + j) && is_param(b, j));
        if !pairwise || kind.is_some_and(|prev| prev != k) {
            return Reducer::Custom;
        }
        kind = Some(k);
    }
    kind.unwrap_or(Reducer::Custom)
}

fn lowest(ty: ElementType) -> f64 {
    use ElementType::*;
    match ty {
        S8 => i8::MIN as f64,
        S16 => i16::MIN as f64,
        S32 => i32::MIN as f64,
        S64 => i64::MIN as f64,
        Pred => 0.0,
        t if t.is_unsigned_int() => 0.0,
        _ => f64::NEG_INFINITY,
    }
}

fn highest(ty: ElementType) -> f64 {
    use ElementType::*;
    match ty {
        S8 => i8::MAX as f64,
        S16 => i16::MAX as f64,
        S32 => i32::MAX as f64,
        S64 => i64::MAX as f64,
        U8 => u8::MAX as f64,
        U16 => u16::MAX as f64,
        U32 => u32::MAX as f64,
        U64 => u64::MAX as f64,
        Pred => 1.0,
        _ => f64::INFINITY,
    }
}

impl Builder {
    /// Reduces N same-shape tensors over `dimensions` with a named `reducer` (applied
    /// pairwise), starting from scalar `inits`. Results drop the reduced axes.
    ///
    /// Shapes: `T_i[d...] (N), T_i[] (N) -> T_i[d without dimensions] (N)`.
    pub fn reduce_by(
        &mut self,
        xs: &[Value],
        inits: &[Value],
        dimensions: impl AsRef<[i64]>,
        reducer: Reducer,
    ) -> Result<Vec<Value>> {
        self.reduce_op(
            ReduceOp::Reduce {
                dimensions: dimensions.as_ref().to_vec(),
                reducer,
            },
            xs,
            inits,
            None,
        )
    }

    fn reduce_op(
        &mut self,
        op: ReduceOp,
        xs: &[Value],
        inits: &[Value],
        body: Option<Arc<Computation>>,
    ) -> Result<Vec<Value>> {
        let mut ops = xs.to_vec();
        ops.extend_from_slice(inits);
        let regions: SmallVec<[Arc<Computation>; 1]> = body.into_iter().collect();
        self.record_owned(op.into(), &ops, regions)
    }

    /// Reduces N same-shape tensors over `dimensions` with `body` ((acc..., x...) -> acc...),
    /// starting from scalar `inits`. Results drop the reduced axes. A body that is a named
    /// monoid (`add`, `mul`, `max`, `min`, `and`, `or` of its accumulator and element) is
    /// recorded as that [`Reducer`].
    ///
    /// Shapes: `T_i[d...] (N), T_i[] (N) -> T_i[d without dimensions] (N)`.
    pub fn reduce_with(
        &mut self,
        xs: &[Value],
        inits: &[Value],
        dimensions: impl AsRef<[i64]>,
        body: Arc<Computation>,
    ) -> Result<Vec<Value>> {
        let reducer = reducer_of(&body, inits.len(), false);
        self.reduce_op(
            ReduceOp::Reduce {
                dimensions: dimensions.as_ref().to_vec(),
                reducer,
            },
            xs,
            inits,
            (reducer == Reducer::Custom).then_some(body),
        )
    }

    /// [`Builder::reduce_with`] with the body recorded from a closure.
    ///
    /// Shapes: `T_i[d...] (N), T_i[] (N) -> T_i[d without dimensions] (N)`.
    ///
    /// The closure gets two groups of `N` scalars (two partial results: which is which, and
    /// the order of combining, are the compiler's choice) and returns `N` scalars. Two inputs
    /// reduced together give an argmax along each row:
    ///
    /// ```
    /// use hlo_builder::{Builder, ElementType::{F32, S32}};
    ///
    /// let mut b = Builder::new("argmax");
    /// let x = b.parameter("x", F32, [2, 3])?;
    /// let idx = b.iota(S32, [2, 3], 1)?; // 0, 1, 2 along each row
    /// let neg_inf = b.scalar(F32, f64::NEG_INFINITY)?;
    /// let zero = b.scalar(S32, 0.0)?;
    /// let r = b.reduce(&[x, idx], &[neg_inf, zero], [1], |b, a| {
    ///     // a = [value, index, value, index] of two candidates
    ///     let keep = b.ge(a[0], a[2])?;
    ///     let v = b.select(keep, a[0], a[2])?;
    ///     let i = b.select(keep, a[1], a[3])?;
    ///     Ok(vec![v, i])
    /// })?;
    /// assert_eq!(b.ty(r[1])?.to_string(), "s32[2]");
    ///
    /// let exe = b.build(&[r[0], r[1]])?.compile(&pjrt::Client::default_cpu()?)?;
    /// let data = pjrt::Literal::from_slice(&[1f32, 7., 3., 9., -1., 4.], &[2, 3])?;
    /// let out = exe.run(&[&data])?;
    /// assert_eq!(out[0].to_vec::<f32>()?, [7.0, 9.0]);
    /// assert_eq!(out[1].to_vec::<i32>()?, [1, 0]);
    /// # Ok::<(), hlo_builder::Error>(())
    /// ```
    pub fn reduce(
        &mut self,
        xs: &[Value],
        inits: &[Value],
        dimensions: impl AsRef<[i64]>,
        body: impl RegionFn,
    ) -> Result<Vec<Value>> {
        let it = self.types("reduce", inits)?;
        let mut params = it.clone();
        params.extend(it.iter().cloned());
        let c = Builder::computation("reducer", &params, body)?;
        self.reduce_with(xs, inits, dimensions, c)
    }

    /// Sliding-window reduction (pooling) with a named `reducer`.
    ///
    /// Shapes: `T_i[d...] (N), T_i[] (N) -> T_i[(padded dilated d - dilated window) / stride + 1 ...] (N)`.
    pub fn reduce_window_by(
        &mut self,
        xs: &[Value],
        inits: &[Value],
        window: WindowConfig,
        reducer: Reducer,
    ) -> Result<Vec<Value>> {
        self.reduce_op(ReduceOp::ReduceWindow { window, reducer }, xs, inits, None)
    }

    /// Sliding-window reduction (pooling) with a body as in [`Builder::reduce_with`].
    ///
    /// Shapes: `T_i[d...] (N), T_i[] (N) -> T_i[(padded dilated d - dilated window) / stride + 1 ...] (N)`.
    pub fn reduce_window_with(
        &mut self,
        xs: &[Value],
        inits: &[Value],
        window: WindowConfig,
        body: Arc<Computation>,
    ) -> Result<Vec<Value>> {
        let reducer = reducer_of(&body, inits.len(), false);
        self.reduce_op(
            ReduceOp::ReduceWindow { window, reducer },
            xs,
            inits,
            (reducer == Reducer::Custom).then_some(body),
        )
    }

    /// [`Builder::reduce_window_with`] with the body recorded from a closure.
    ///
    /// Shapes: `T_i[d...] (N), T_i[] (N) -> T_i[(padded dilated d - dilated window) / stride + 1 ...] (N)`.
    pub fn reduce_window(
        &mut self,
        xs: &[Value],
        inits: &[Value],
        window: WindowConfig,
        body: impl RegionFn,
    ) -> Result<Vec<Value>> {
        let it = self.types("reduce_window", inits)?;
        let mut params = it.clone();
        params.extend(it.iter().cloned());
        let c = Builder::computation("window_reducer", &params, body)?;
        self.reduce_window_with(xs, inits, window, c)
    }

    /// One named reduction of `x` over `axes` from the reducer's identity.
    fn canned(
        &mut self,
        op: &'static str,
        which: Reducer,
        x: Value,
        axes: &[i64],
    ) -> Result<Value> {
        let t = self.value(op, x)?.1;
        let init = self.identity_of(op, which, t.ty)?;
        Ok(self.reduce_by(&[x], &[init], axes, which)?[0])
    }

    /// The identity of the named `reducer` as a scalar of element type `ty` (0 for sum and
    /// or, 1 for product, the lowest value for max, the highest for min, all bits set for
    /// and).
    ///
    /// Shapes: `-> ty[]`.
    pub fn reducer_identity(&mut self, reducer: Reducer, ty: ElementType) -> Result<Value> {
        self.identity_of("reducer_identity", reducer, ty)
    }

    fn identity_of(&mut self, op: &'static str, which: Reducer, ty: ElementType) -> Result<Value> {
        let t = TensorType::scalar(ty);
        let init = match which {
            Reducer::Sum | Reducer::Or => 0.0,
            Reducer::Product => 1.0,
            Reducer::Max => lowest(t.ty),
            Reducer::Min => highest(t.ty),
            // All bits set: -1 for signed integers, the maximum for unsigned ones, true.
            Reducer::And if t.ty.is_signed_int() => -1.0,
            Reducer::And if t.ty.is_unsigned_int() => highest(t.ty),
            Reducer::And => 1.0,
            Reducer::Replace | Reducer::Custom => {
                return shape_err(op, format!("{which:?} is not a named reduction"))
            }
        };
        if matches!(which, Reducer::And | Reducer::Or)
            && !(t.ty == ElementType::Pred || t.ty.is_integer())
        {
            return shape_err(op, format!("operand {t} must be pred or an integer type"));
        }
        if t.ty == ElementType::Token || t.ty.byte_size().is_none() {
            return shape_err(op, format!("operand {t} has no reducible element type"));
        }
        self.splat(t.ty, [], init)
    }

    /// Sum over `axes`. Shapes: `T[d...] -> T[d without axes]`.
    pub fn reduce_sum(&mut self, x: Value, axes: impl AsRef<[i64]>) -> Result<Value> {
        self.canned("reduce_sum", Reducer::Sum, x, axes.as_ref())
    }
    /// Product over `axes`. Shapes: `T[d...] -> T[d without axes]`.
    pub fn reduce_prod(&mut self, x: Value, axes: impl AsRef<[i64]>) -> Result<Value> {
        self.canned("reduce_prod", Reducer::Product, x, axes.as_ref())
    }
    /// Maximum over `axes` (-inf / type minimum for empty). Shapes: `T[d...] -> T[d without axes]`.
    pub fn reduce_max(&mut self, x: Value, axes: impl AsRef<[i64]>) -> Result<Value> {
        self.canned("reduce_max", Reducer::Max, x, axes.as_ref())
    }
    /// Minimum over `axes`. Shapes: `T[d...] -> T[d without axes]`.
    pub fn reduce_min(&mut self, x: Value, axes: impl AsRef<[i64]>) -> Result<Value> {
        self.canned("reduce_min", Reducer::Min, x, axes.as_ref())
    }
    /// Logical / bitwise and over `axes`. Shapes: `T[d...] -> T[d without axes]`.
    pub fn reduce_and(&mut self, x: Value, axes: impl AsRef<[i64]>) -> Result<Value> {
        self.canned("reduce_and", Reducer::And, x, axes.as_ref())
    }
    /// Logical / bitwise or over `axes`. Shapes: `T[d...] -> T[d without axes]`.
    pub fn reduce_or(&mut self, x: Value, axes: impl AsRef<[i64]>) -> Result<Value> {
        self.canned("reduce_or", Reducer::Or, x, axes.as_ref())
    }

    fn all_axes(&self, x: Value) -> Result<Vec<i64>> {
        Ok((0..self.ty(x)?.rank() as i64).collect())
    }

    /// `x` with size-1 axes re-inserted at `axes` (for broadcasting a reduction back).
    fn keep_dims(&mut self, reduced: Value, full: &TensorType, axes: &[i64]) -> Result<Value> {
        let dims: Vec<i64> = (0..full.rank())
            .map(|i| {
                if axes.contains(&(i as i64)) {
                    1
                } else {
                    full.dims[i]
                }
            })
            .collect();
        self.reshape(reduced, dims)
    }

    /// Mean over all elements. Shapes: `T[d...] -> T[]` (float types).
    pub fn mean(&mut self, x: Value) -> Result<Value> {
        let axes = self.all_axes(x)?;
        self.mean_axes(x, axes)
    }

    /// Mean over `axes`. Shapes: `T[d...] -> T[d without axes]` (float types).
    pub fn mean_axes(&mut self, x: Value, axes: impl AsRef<[i64]>) -> Result<Value> {
        let t = self.float_op("mean", x)?;
        let axes = axes.as_ref();
        let s = self.reduce_sum(x, axes)?;
        let n: i64 = axes.iter().map(|&a| t.dims[a as usize]).product();
        let c = self.splat(t.ty, [], n as f64)?;
        self.div(s, c)
    }

    /// Population variance over `axes` (`mean((x - mean(x))^2)`).
    /// Shapes: `T[d...] -> T[d without axes]` (float types).
    pub fn var(&mut self, x: Value, axes: impl AsRef<[i64]>) -> Result<Value> {
        let t = self.float_op("var", x)?;
        let axes = axes.as_ref();
        let m = self.mean_axes(x, axes)?;
        let m = self.keep_dims(m, &t, axes)?;
        let d = self.sub(x, m)?;
        let d2 = self.mul(d, d)?;
        self.mean_axes(d2, axes)
    }

    /// `log(sum(exp(x)))` over `axes`, computed stably (max subtracted first).
    /// Shapes: `T[d...] -> T[d without axes]` (float types).
    pub fn logsumexp(&mut self, x: Value, axes: impl AsRef<[i64]>) -> Result<Value> {
        let t = self.float_op("logsumexp", x)?;
        let axes = axes.as_ref();
        let m = self.reduce_max(x, axes)?;
        // An all -inf row would give -inf - -inf = NaN; use 0 as the shift there.
        let fin = self.is_finite(m)?;
        let zero = self.zeros_like(m)?;
        let m = self.select(fin, m, zero)?;
        // The shift cancels out of the value, so no gradient flows through it (as in JAX):
        // differentiating the max would only add work that sums to zero.
        let m = self.stop_gradient(m)?;
        let mk = self.keep_dims(m, &t, axes)?;
        let d = self.sub(x, mk)?;
        let e = self.exp(d)?;
        let s = self.reduce_sum(e, axes)?;
        let l = self.log(s)?;
        self.add(l, m)
    }

    /// Softmax along `axis`. Shapes: `T[d...] -> T[d...]` (float types).
    pub fn softmax(&mut self, x: Value, axis: i64) -> Result<Value> {
        let t = self.float_op("softmax", x)?;
        let m = self.reduce_max(x, [axis])?;
        // The shift cancels out; no gradient through it (see `logsumexp`).
        let m = self.stop_gradient(m)?;
        let m = self.keep_dims(m, &t, &[axis])?;
        let d = self.sub(x, m)?;
        let e = self.exp(d)?;
        let s = self.reduce_sum(e, [axis])?;
        let s = self.keep_dims(s, &t, &[axis])?;
        self.div(e, s)
    }

    /// Mean cross-entropy of `logits` `[..., classes]` against integer `labels` `[...]` in
    /// `0..classes`: `-mean(log_softmax(logits)[..., label])`. Shapes: `T[d..., c]`,
    /// `int[d...]` -> `T[]`.
    pub fn cross_entropy(&mut self, logits: Value, labels: Value) -> Result<Value> {
        let op = "cross_entropy";
        let ty = self.float_op(op, logits)?;
        let lt = self.ty(labels)?.clone();
        if ty.rank() == 0 || lt.dims.as_slice() != &ty.dims[..ty.rank() - 1] {
            return shape_err(
                op,
                format!("labels {lt} must have the logits' {ty} axes but the last"),
            );
        }
        if !lt.ty.is_integer() {
            return shape_err(op, format!("labels {lt} must be integers"));
        }
        let last = ty.rank() as i64 - 1;
        let oh = self.one_hot(labels, ty.dims[ty.rank() - 1], ty.ty)?;
        self.picked_log_softmax(logits, oh, last)
    }

    /// Mean cross-entropy of `logits` `[..., classes]` against target distributions of the
    /// same shape (e.g. one-hot rows): `-mean(sum(targets * log_softmax(logits), -1))`.
    pub fn softmax_cross_entropy(&mut self, logits: Value, targets: Value) -> Result<Value> {
        let op = "softmax_cross_entropy";
        let ty = self.float_op(op, logits)?;
        let tt = self.ty(targets)?.clone();
        if ty.rank() == 0 || tt != ty {
            return shape_err(
                op,
                format!(
                    "targets {tt} must have the type of the logits {ty} (which need a class axis)"
                ),
            );
        }
        self.picked_log_softmax(logits, targets, ty.rank() as i64 - 1)
    }

    /// `-mean(sum(weights * log_softmax(x, axis), axis))`.
    fn picked_log_softmax(&mut self, x: Value, weights: Value, axis: i64) -> Result<Value> {
        let lp = self.log_softmax(x, axis)?;
        let picked = self.mul(lp, weights)?;
        let s = self.reduce_sum(picked, [axis])?;
        let m = self.mean(s)?;
        self.neg(m)
    }

    /// Mean squared error `mean((x - y)²)` (same types). Shapes: `T[d...]`, `T[d...]` -> `T[]`.
    pub fn mse(&mut self, x: Value, y: Value) -> Result<Value> {
        let d = self.sub(x, y)?;
        let d2 = self.mul(d, d)?;
        self.mean(d2)
    }

    /// Log-softmax along `axis`: `x - logsumexp(x)`. Shapes: `T[d...] -> T[d...]`.
    pub fn log_softmax(&mut self, x: Value, axis: i64) -> Result<Value> {
        let t = self.float_op("log_softmax", x)?;
        let l = self.logsumexp(x, [axis])?;
        let l = self.keep_dims(l, &t, &[axis])?;
        self.sub(x, l)
    }

    fn arg_reduce(&mut self, op: &'static str, x: Value, axis: i64, max: bool) -> Result<Value> {
        let t = self.ty(x)?.clone();
        if axis < 0 || axis as usize >= t.rank() {
            return shape_err(op, format!("axis {axis} is out of range for {t}"));
        }
        if !(t.ty.is_float() || t.ty.is_integer()) || t.ty.byte_size().is_none() {
            return shape_err(
                op,
                format!("operand {t} must have an integer or float element type"),
            );
        }
        let idx = self.iota(ElementType::S32, &t.dims, axis)?;
        let init_v = self.splat(t.ty, [], if max { lowest(t.ty) } else { highest(t.ty) })?;
        let init_i = self.splat(ElementType::S32, [], 0.0)?;
        let dir = if max {
            ComparisonDirection::Gt
        } else {
            ComparisonDirection::Lt
        };
        let r = self.reduce(&[x, idx], &[init_v, init_i], [axis], move |b, a| {
            // a = (acc_v, acc_i, x_v, x_i). NaN wins (like numpy); ties take the lower index.
            let (av, ai, bv, bi) = (a[0], a[1], a[2], a[3]);
            let better = b.compare(dir, av, bv)?;
            let same = b.eq(av, bv)?;
            let lower = b.lt(ai, bi)?;
            let tie = b.and(same, lower)?;
            let a_nan = b.ne(av, av)?;
            let b_nan = b.ne(bv, bv)?;
            let not_b_nan = b.not(b_nan)?;
            let normal = b.or(better, tie)?;
            let normal = b.and(normal, not_b_nan)?;
            let nan_pick = b.or(not_b_nan, lower)?;
            let take_a = b.select(a_nan, nan_pick, normal)?;
            Ok(vec![b.select(take_a, av, bv)?, b.select(take_a, ai, bi)?])
        })?;
        Ok(r[1])
    }

    /// Index (s32) of the largest element along `axis` (first on ties; NaN counts as largest).
    /// Shapes: `T[d...] -> s32[d without axis]`.
    pub fn argmax(&mut self, x: Value, axis: i64) -> Result<Value> {
        self.arg_reduce("argmax", x, axis, true)
    }

    /// Index (s32) of the smallest element along `axis` (first on ties).
    /// Shapes: `T[d...] -> s32[d without axis]`.
    pub fn argmin(&mut self, x: Value, axis: i64) -> Result<Value> {
        self.arg_reduce("argmin", x, axis, false)
    }

    /// Inclusive cumulative sum along `axis` (a `reduce_window` with the window spanning the
    /// axis, padded in front). Shapes: `T[d...] -> T[d...]`.
    pub fn cumsum(&mut self, x: Value, axis: i64) -> Result<Value> {
        let t = self.ty(x)?.clone();
        if axis < 0 || axis as usize >= t.rank() {
            return shape_err("cumsum", format!("axis {axis} is out of range for {t}"));
        }
        let n = t.dims[axis as usize];
        let r = t.rank();
        let mut w = WindowConfig::new(vec![1; r], vec![1; r]);
        w.dimensions[axis as usize] = n.max(1);
        w.padding[axis as usize] = ((n - 1).max(0), 0);
        let init = self.scalar_like(x, 0.0)?;
        Ok(self.reduce_window_by(&[x], &[init], w, Reducer::Sum)?[0])
    }

    /// Max pooling: window sizes and strides per axis, no padding.
    /// Shapes: `T[d...] -> T[(d - w) / s + 1 ...]`.
    pub fn max_pool(
        &mut self,
        x: Value,
        window: impl AsRef<[i64]>,
        strides: impl AsRef<[i64]>,
    ) -> Result<Value> {
        let t = self.ty(x)?.clone();
        let init = self.splat(t.ty, [], lowest(t.ty))?;
        let w = WindowConfig::new(window.as_ref().to_vec(), strides.as_ref().to_vec());
        Ok(self.reduce_window_by(&[x], &[init], w, Reducer::Max)?[0])
    }

    /// Average pooling (window sum / window size), no padding.
    /// Shapes: `T[d...] -> T[(d - w) / s + 1 ...]` (float types).
    pub fn avg_pool(
        &mut self,
        x: Value,
        window: impl AsRef<[i64]>,
        strides: impl AsRef<[i64]>,
    ) -> Result<Value> {
        let t = self.float_op("avg_pool", x)?;
        let init = self.splat(t.ty, [], 0.0)?;
        let w = WindowConfig::new(window.as_ref().to_vec(), strides.as_ref().to_vec());
        let n: f64 = window.as_ref().iter().map(|&w| w as f64).product();
        let out = self.reduce_window_by(&[x], &[init], w, Reducer::Sum)?;
        let c = self.splat(t.ty, [], n)?;
        self.div(out[0], c)
    }
}
