//! Layers: dense, 2-D convolution, pooling, batch and layer normalisation, dropout,
//! embedding. Images are NHWC, kernels HWIO.

use crate::error::layer_err as shape_err;
use hlo_builder::Builder;
use hlo_builder::Result;
use hlo_builder::Value;
use hlo_builder::{ConvConfig, ConvDims, WindowConfig};
use hlo_builder::{ElementType, TensorType};

/// Spatial padding of a convolution or pooling window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Padding {
    /// No padding: only whole windows.
    Valid,
    /// Pad so that the output has `ceil(input / stride)` positions (TensorFlow's "SAME":
    /// the extra element, if any, goes at the end).
    Same,
    /// (low, high) padding per spatial axis.
    Explicit(Vec<(i64, i64)>),
}

impl Padding {
    /// (low, high) per spatial axis for inputs `input`, windows `window`, strides `strides`.
    fn resolve(
        &self,
        op: &'static str,
        input: &[i64],
        window: &[i64],
        strides: &[i64],
    ) -> Result<Vec<(i64, i64)>> {
        match self {
            Padding::Valid => Ok(vec![(0, 0); input.len()]),
            Padding::Same => Ok(input
                .iter()
                .zip(window)
                .zip(strides)
                .map(|((&n, &k), &s)| {
                    let out = (n + s - 1) / s;
                    let total = ((out - 1) * s + k - n).max(0);
                    (total / 2, total - total / 2)
                })
                .collect()),
            Padding::Explicit(p) => {
                if p.len() != input.len() {
                    return shape_err(
                        op,
                        format!(
                            "explicit padding has {} entries, the input has {} spatial axes",
                            p.len(),
                            input.len()
                        ),
                    );
                }
                Ok(p.clone())
            }
        }
    }
}

fn ty(b: &Builder, x: Value) -> Result<TensorType> {
    Ok(b.ty(x)?.clone())
}

/// Fully connected layer `x @ w + bias`.
/// Shapes: `x: T[..., in]`, `w: T[in, out]`, `bias: T[out]` -> `T[..., out]`.
pub fn dense(b: &mut Builder, x: Value, w: Value, bias: Option<Value>) -> Result<Value> {
    let (tx, tw) = (ty(b, x)?, ty(b, w)?);
    if tw.rank() != 2 || tx.rank() == 0 {
        return shape_err(
            "dense",
            format!("expects x T[..., in] and w T[in, out], got x {tx} and w {tw}"),
        );
    }
    let y = b.matmul(x, w)?;
    match bias {
        None => Ok(y),
        Some(bias) => {
            let tb = ty(b, bias)?;
            if tb.dims.as_slice() != [tw.dims[1]] {
                return shape_err(
                    "dense",
                    format!("bias {tb} must be [{}] to match w {tw}", tw.dims[1]),
                );
            }
            b.add(y, bias)
        }
    }
}

/// Reshapes `T[n, d1, d2, ...]` to `T[n, d1 * d2 * ...]`.
pub fn flatten(b: &mut Builder, x: Value) -> Result<Value> {
    let t = ty(b, x)?;
    if t.rank() == 0 {
        return shape_err("flatten", format!("operand {t} must have a batch axis"));
    }
    let rest: i64 = t.dims[1..].iter().product();
    b.reshape(x, [t.dims[0], rest])
}

/// 2-D convolution (cross-correlation, as in every framework).
/// Shapes: `x: T[n, h, w, c]`, `kernel: T[kh, kw, c, o]`, `bias: T[o]` ->
/// `T[n, h', w', o]` with `h' = (h + pad - kh) / stride + 1`.
pub fn conv2d(
    b: &mut Builder,
    x: Value,
    kernel: Value,
    bias: Option<Value>,
    strides: [i64; 2],
    padding: &Padding,
) -> Result<Value> {
    let (tx, tk) = (ty(b, x)?, ty(b, kernel)?);
    if tx.rank() != 4 || tk.rank() != 4 {
        return shape_err(
            "conv2d",
            format!(
                "expects x T[n, h, w, c] and kernel T[kh, kw, c, o], got x {tx} and kernel {tk}"
            ),
        );
    }
    if tx.dims[3] != tk.dims[2] {
        return shape_err(
            "conv2d",
            format!(
                "input channels differ: x {tx} axis 3 has {}, kernel {tk} axis 2 has {}",
                tx.dims[3], tk.dims[2]
            ),
        );
    }
    if strides.iter().any(|&s| s < 1) {
        return shape_err("conv2d", format!("strides {strides:?} must be >= 1"));
    }
    let mut cfg = ConvConfig::new(ConvDims::nhwc(2));
    cfg.window_strides = strides.to_vec();
    cfg.padding = padding.resolve("conv2d", &tx.dims[1..3], &tk.dims[0..2], &strides)?;
    let y = b.convolution(x, kernel, cfg)?;
    match bias {
        None => Ok(y),
        Some(bias) => {
            let tb = ty(b, bias)?;
            if tb.dims.as_slice() != [tk.dims[3]] {
                return shape_err(
                    "conv2d",
                    format!("bias {tb} must be [{}] to match kernel {tk}", tk.dims[3]),
                );
            }
            b.add(y, bias)
        }
    }
}

fn pool2d(
    b: &mut Builder,
    op: &'static str,
    x: Value,
    window: [i64; 2],
    strides: [i64; 2],
    padding: &Padding,
    max: bool,
) -> Result<Value> {
    let tx = ty(b, x)?;
    if tx.rank() != 4 {
        return shape_err(op, format!("expects x T[n, h, w, c], got {tx}"));
    }
    if !tx.ty.is_float() {
        return shape_err(op, format!("operand {tx} must have a float element type"));
    }
    if window.iter().chain(&strides).any(|&v| v < 1) {
        return shape_err(
            op,
            format!("window {window:?} and strides {strides:?} must be >= 1"),
        );
    }
    let pads = padding.resolve(op, &tx.dims[1..3], &window, &strides)?;
    let mut w = WindowConfig::new(
        vec![1, window[0], window[1], 1],
        vec![1, strides[0], strides[1], 1],
    );
    w.padding = vec![(0, 0), pads[0], pads[1], (0, 0)];
    if max {
        let init = b.splat(tx.ty, [], f64::NEG_INFINITY)?;
        let out = b.reduce_window(&[x], &[init], w, |r, a| Ok(vec![r.max(a[0], a[1])?]))?;
        Ok(out[0])
    } else {
        let init = b.splat(tx.ty, [], 0.0)?;
        let sums = b.reduce_window(&[x], &[init], w.clone(), |r, a| {
            Ok(vec![r.add(a[0], a[1])?])
        })?;
        if pads.iter().all(|&(l, h)| l == 0 && h == 0) {
            let n = b.splat(tx.ty, [], (window[0] * window[1]) as f64)?;
            b.div(sums[0], n)
        } else {
            // Divide by the number of real (unpadded) elements under each window: a
            // constant computed by pooling ones.
            let ones = b.ones(tx.ty, [1, tx.dims[1], tx.dims[2], 1])?;
            let zero = b.splat(tx.ty, [], 0.0)?;
            let counts =
                b.reduce_window(&[ones], &[zero], w, |r, a| Ok(vec![r.add(a[0], a[1])?]))?;
            b.div(sums[0], counts[0])
        }
    }
}

/// Max pooling over `window` with `strides`. Shapes: `T[n, h, w, c] -> T[n, h', w', c]`.
pub fn max_pool2d(
    b: &mut Builder,
    x: Value,
    window: [i64; 2],
    strides: [i64; 2],
    padding: &Padding,
) -> Result<Value> {
    pool2d(b, "max_pool2d", x, window, strides, padding, true)
}

/// Average pooling; padded positions are not counted in the average.
/// Shapes: `T[n, h, w, c] -> T[n, h', w', c]`.
pub fn avg_pool2d(
    b: &mut Builder,
    x: Value,
    window: [i64; 2],
    strides: [i64; 2],
    padding: &Padding,
) -> Result<Value> {
    pool2d(b, "avg_pool2d", x, window, strides, padding, false)
}

/// `stat` (with the reduced `axes` removed) reshaped so it broadcasts against `full`.
fn expand(
    b: &mut Builder,
    op: &'static str,
    stat: Value,
    full: &TensorType,
    axes: &[i64],
) -> Result<Value> {
    let kept: Vec<i64> = (0..full.rank() as i64)
        .filter(|a| !axes.contains(a))
        .map(|a| full.dims[a as usize])
        .collect();
    let ts = ty(b, stat)?;
    if ts.dims.as_slice() != kept.as_slice() {
        return shape_err(
            op,
            format!("statistic/scale {ts} must have dims {kept:?} ({full} without axes {axes:?})"),
        );
    }
    let dims: Vec<i64> = (0..full.rank() as i64)
        .map(|a| {
            if axes.contains(&a) {
                1
            } else {
                full.dims[a as usize]
            }
        })
        .collect();
    b.reshape(stat, dims)
}

fn check_axes(op: &'static str, t: &TensorType, axes: &[i64]) -> Result<()> {
    if axes.is_empty() || axes.iter().any(|&a| a < 0 || a as usize >= t.rank()) {
        return shape_err(
            op,
            format!("axes {axes:?} must be non-empty and within the rank of {t}"),
        );
    }
    if !t.ty.is_float() {
        return shape_err(op, format!("operand {t} must have a float element type"));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn normalize(
    b: &mut Builder,
    op: &'static str,
    x: Value,
    mean: Value,
    var: Value,
    gamma: Value,
    beta: Value,
    axes: &[i64],
    eps: f32,
) -> Result<Value> {
    let t = ty(b, x)?;
    let m = expand(b, op, mean, &t, axes)?;
    let v = expand(b, op, var, &t, axes)?;
    let g = expand(b, op, gamma, &t, axes)?;
    let be = expand(b, op, beta, &t, axes)?;
    let e = b.scalar_like(x, eps as f64)?;
    let ve = b.add(v, e)?;
    let inv = b.rsqrt(ve)?;
    let d = b.sub(x, m)?;
    let n = b.mul(d, inv)?;
    let s = b.mul(n, g)?;
    b.add(s, be)
}

/// Batch normalisation in training mode: statistics over `axes` (`[0]` for `[n, f]`,
/// `[0, 1, 2]` for NHWC images). Returns `(y, batch_mean, batch_var)`; feed the statistics
/// to [`moving_average`] for the running values used by [`batch_norm_infer`].
/// Shapes: `x: T[d...]`, `gamma, beta: T[d without axes]` -> `(T[d...], T[d without axes] x2)`.
pub fn batch_norm_train(
    b: &mut Builder,
    x: Value,
    gamma: Value,
    beta: Value,
    axes: &[i64],
    eps: f32,
) -> Result<(Value, Value, Value)> {
    let t = ty(b, x)?;
    check_axes("batch_norm", &t, axes)?;
    let mean = b.mean_axes(x, axes)?;
    let var = b.var(x, axes)?;
    let y = normalize(b, "batch_norm", x, mean, var, gamma, beta, axes, eps)?;
    Ok((y, mean, var))
}

/// Batch normalisation with given (running) statistics.
/// Shapes: as [`batch_norm_train`], with `mean, var: T[d without axes]`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_infer(
    b: &mut Builder,
    x: Value,
    gamma: Value,
    beta: Value,
    mean: Value,
    var: Value,
    axes: &[i64],
    eps: f32,
) -> Result<Value> {
    let t = ty(b, x)?;
    check_axes("batch_norm", &t, axes)?;
    normalize(b, "batch_norm", x, mean, var, gamma, beta, axes, eps)
}

/// `momentum * running + (1 - momentum) * batch`. Shapes: `T[d...], T[d...] -> T[d...]`.
pub fn moving_average(
    b: &mut Builder,
    running: Value,
    batch: Value,
    momentum: f32,
) -> Result<Value> {
    if !(0.0..=1.0).contains(&momentum) {
        return shape_err(
            "moving_average",
            format!("momentum {momentum} must be in [0, 1]"),
        );
    }
    let m = b.scalar_like(running, momentum as f64)?;
    let m1 = b.scalar_like(running, 1.0 - momentum as f64)?;
    let a = b.mul(running, m)?;
    let c = b.mul(batch, m1)?;
    b.add(a, c)
}

/// Layer normalisation over the last axis.
/// Shapes: `x: T[..., d]`, `gamma, beta: T[d]` -> `T[..., d]`.
pub fn layer_norm(b: &mut Builder, x: Value, gamma: Value, beta: Value, eps: f32) -> Result<Value> {
    let t = ty(b, x)?;
    if t.rank() == 0 {
        return shape_err("layer_norm", format!("operand {t} must have rank >= 1"));
    }
    let axes = [t.rank() as i64 - 1];
    check_axes("layer_norm", &t, &axes)?;
    let mean = b.mean_axes(x, axes)?;
    let var = b.var(x, axes)?;
    // gamma and beta are [d]; statistics are [...]: normalise with the statistics first,
    // then scale with the (trailing, numpy-broadcast) gamma and beta.
    let m = expand(b, "layer_norm", mean, &t, &axes)?;
    let v = expand(b, "layer_norm", var, &t, &axes)?;
    let e = b.scalar_like(x, eps as f64)?;
    let ve = b.add(v, e)?;
    let inv = b.rsqrt(ve)?;
    let d = b.sub(x, m)?;
    let n = b.mul(d, inv)?;
    let (tg, tb) = (ty(b, gamma)?, ty(b, beta)?);
    let last = [t.dims[t.rank() - 1]];
    if tg.dims.as_slice() != last || tb.dims.as_slice() != last {
        return shape_err(
            "layer_norm",
            format!("gamma {tg} and beta {tb} must be {last:?} for x {t}"),
        );
    }
    let s = b.mul(n, gamma)?;
    b.add(s, beta)
}

/// Inverted dropout: each element is zeroed with probability `rate` and the survivors are
/// scaled by `1 / (1 - rate)`, using the in-graph generator state `state` (`u64[2]`).
/// Returns `(y, new_state)`; thread the state through successive steps. `rate == 0` returns
/// `x` and `state` unchanged (use that for inference).
/// Shapes: `x: T[d...]`, `state: u64[2]` -> `(T[d...], u64[2])`.
pub fn dropout(b: &mut Builder, x: Value, rate: f32, state: Value) -> Result<(Value, Value)> {
    let t = ty(b, x)?;
    if !(0.0..1.0).contains(&rate) {
        return shape_err("dropout", format!("rate {rate} must be in [0, 1)"));
    }
    if !t.ty.is_float() {
        return shape_err(
            "dropout",
            format!("operand {t} must have a float element type"),
        );
    }
    if rate == 0.0 {
        return Ok((x, state));
    }
    let (s, u) = b.rng_uniform(state, ElementType::F32, &t.dims)?;
    let r = b.splat(ElementType::F32, [], rate as f64)?;
    let keep = b.ge(u, r)?;
    let scale = b.scalar_like(x, 1.0 / (1.0 - rate as f64))?;
    let scaled = b.mul(x, scale)?;
    let zero = b.zeros_like(x)?;
    Ok((b.select(keep, scaled, zero)?, s))
}

/// Embedding lookup: row `ids[i]` of `table` for every id. Recorded as
/// `one_hot(ids) @ table`, whose gradient is one more matrix product (no scatter), which is
/// what the compiler runs best for the small vocabularies this is meant for; out-of-range
/// ids give zero rows.
/// Shapes: `table: T[v, d]`, `ids: int[s...]` -> `T[s..., d]`.
pub fn embedding(b: &mut Builder, table: Value, ids: Value) -> Result<Value> {
    let (tt, ti) = (ty(b, table)?, ty(b, ids)?);
    if tt.rank() != 2 || !ti.ty.is_integer() {
        return shape_err(
            "embedding",
            format!("expects table T[v, d] and integer ids, got table {tt} and ids {ti}"),
        );
    }
    let oh = b.one_hot(ids, tt.dims[0], tt.ty)?;
    b.matmul(oh, table)
}
