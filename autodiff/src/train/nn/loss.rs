//! Losses (each the mean over all examples, a scalar) and classification metrics.

use crate::error::layer_err as shape_err;
use hlo_builder::Builder;
use hlo_builder::Result;
use hlo_builder::Value;
use hlo_builder::{ElementType, TensorType};

fn ty(b: &Builder, x: Value) -> Result<TensorType> {
    Ok(b.ty(x)?.clone())
}

fn logits_2d(op: &'static str, t: &TensorType) -> Result<()> {
    if t.rank() != 2 || !t.ty.is_float() {
        return shape_err(op, format!("logits {t} must be a float T[n, classes]"));
    }
    Ok(())
}

/// Cross-entropy of `softmax(logits)` against target distributions (e.g. one-hot rows),
/// averaged over the batch: `mean_n(-sum_c targets * log_softmax(logits))`.
/// Shapes: `logits: T[n, c]`, `targets: T[n, c]` -> `T[]`.
pub fn softmax_cross_entropy(b: &mut Builder, logits: Value, targets: Value) -> Result<Value> {
    let (tl, tt) = (ty(b, logits)?, ty(b, targets)?);
    logits_2d("softmax_cross_entropy", &tl)?;
    if tl != tt {
        return shape_err(
            "softmax_cross_entropy",
            format!("targets {tt} must have the type of logits {tl}"),
        );
    }
    let ls = b.log_softmax(logits, 1)?;
    let p = b.mul(ls, targets)?;
    let s = b.reduce_sum(p, [1])?;
    let m = b.mean(s)?;
    b.neg(m)
}

/// Cross-entropy of `softmax(logits)` against integer class labels, averaged over the batch:
/// `mean_n(logsumexp(logits_n) - logits_n[labels_n])`.
/// Shapes: `logits: T[n, c]`, `labels: int[n]` (values in `0..c`) -> `T[]`.
pub fn sparse_softmax_cross_entropy(
    b: &mut Builder,
    logits: Value,
    labels: Value,
) -> Result<Value> {
    let (tl, ty_l) = (ty(b, logits)?, ty(b, labels)?);
    logits_2d("sparse_softmax_cross_entropy", &tl)?;
    if !ty_l.ty.is_integer() || ty_l.dims.as_slice() != [tl.dims[0]] {
        return shape_err(
            "sparse_softmax_cross_entropy",
            format!(
                "labels {ty_l} must be integers [{}] for logits {tl}",
                tl.dims[0]
            ),
        );
    }
    let oh = b.one_hot(labels, tl.dims[1], tl.ty)?;
    softmax_cross_entropy(b, logits, oh)
}

/// Mean squared error `mean((pred - target)^2)`. Shapes: `T[d...], T[d...] -> T[]`.
pub fn mse(b: &mut Builder, pred: Value, target: Value) -> Result<Value> {
    let (tp, tt) = (ty(b, pred)?, ty(b, target)?);
    if tp != tt || !tp.ty.is_float() {
        return shape_err(
            "mse",
            format!("prediction {tp} and target {tt} must have one float type and shape"),
        );
    }
    let d = b.sub(pred, target)?;
    let d2 = b.mul(d, d)?;
    b.mean(d2)
}

/// Binary cross-entropy from logits, computed stably as
/// `mean(max(x, 0) - x t + log1p(e^-|x|))`. Shapes: `T[d...], T[d...] -> T[]`.
pub fn binary_cross_entropy_with_logits(
    b: &mut Builder,
    logits: Value,
    targets: Value,
) -> Result<Value> {
    let (tl, tt) = (ty(b, logits)?, ty(b, targets)?);
    if tl != tt || !tl.ty.is_float() {
        return shape_err(
            "binary_cross_entropy_with_logits",
            format!("logits {tl} and targets {tt} must have one float type and shape"),
        );
    }
    let r = b.relu(logits)?;
    let xt = b.mul(logits, targets)?;
    let a = b.abs(logits)?;
    let na = b.neg(a)?;
    let e = b.exp(na)?;
    let l = b.log1p(e)?;
    let s = b.sub(r, xt)?;
    let s = b.add(s, l)?;
    b.mean(s)
}

/// Binary cross-entropy from probabilities, clipped to `[eps, 1 - eps]` before the logs:
/// `mean(-(t log p + (1 - t) log(1 - p)))`. Shapes: `T[d...], T[d...] -> T[]`.
pub fn binary_cross_entropy(
    b: &mut Builder,
    probs: Value,
    targets: Value,
    eps: f32,
) -> Result<Value> {
    let (tp, tt) = (ty(b, probs)?, ty(b, targets)?);
    if tp != tt || !tp.ty.is_float() {
        return shape_err(
            "binary_cross_entropy",
            format!("probabilities {tp} and targets {tt} must have one float type and shape"),
        );
    }
    if !(eps > 0.0 && eps < 0.5) {
        return shape_err(
            "binary_cross_entropy",
            format!("eps {eps} must be in (0, 0.5)"),
        );
    }
    let lo = b.full_like(probs, eps as f64)?;
    let hi = b.full_like(probs, 1.0 - eps as f64)?;
    let p = b.clamp(lo, probs, hi)?;
    let one = b.scalar_like(probs, 1.0)?;
    let lp = b.log(p)?;
    let q = b.sub(one, p)?;
    let lq = b.log(q)?;
    let u = b.sub(one, targets)?;
    let a = b.mul(targets, lp)?;
    let c = b.mul(u, lq)?;
    let s = b.add(a, c)?;
    let m = b.mean(s)?;
    b.neg(m)
}

/// The predicted class of each row (`argmax` over the last axis).
/// Shapes: `T[n, c]` -> `s32[n]`.
pub fn predictions(b: &mut Builder, logits: Value) -> Result<Value> {
    let t = ty(b, logits)?;
    logits_2d("predictions", &t)?;
    b.argmax(logits, 1)
}

/// Fraction of rows whose predicted class equals the label, as f32.
/// Shapes: `logits: T[n, c]`, `labels: int[n]` -> `f32[]`.
pub fn accuracy(b: &mut Builder, logits: Value, labels: Value) -> Result<Value> {
    let (tl, ty_l) = (ty(b, logits)?, ty(b, labels)?);
    logits_2d("accuracy", &tl)?;
    if !ty_l.ty.is_integer() || ty_l.dims.as_slice() != [tl.dims[0]] {
        return shape_err(
            "accuracy",
            format!(
                "labels {ty_l} must be integers [{}] for logits {tl}",
                tl.dims[0]
            ),
        );
    }
    let p = b.argmax(logits, 1)?;
    let l = if ty_l.ty == ElementType::S32 {
        labels
    } else {
        b.convert(labels, ElementType::S32)?
    };
    let hit = b.eq(p, l)?;
    let f = b.convert(hit, ElementType::F32)?;
    b.mean(f)
}
