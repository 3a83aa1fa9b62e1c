//! Rules of the elementwise family: each op's derivative is diagonal, so the VJP formula
//! applied to a tangent is the JVP; batching aligns the operands on one batch axis.

use hlo_builder::{BinaryOp, Builder, ComparisonDirection, ElementwiseOp, UnaryOp, Value};

use super::common::{
    add, align, align_scalars, example_ty, first, linear, move_axis, select_batched, sum_all, ty,
    At, Bat, Batched, Cts, Jvp,
};
use crate::check::differentiable;
use crate::error::{not_diff, Result};

/// The VJP of an elementwise node.
pub(crate) fn vjp(
    b: &mut Builder,
    op: &ElementwiseOp,
    at: &At,
    cts: &[Option<Value>],
    want: &[bool],
) -> Result<Cts> {
    let (x, y, n) = (&at.x, &at.y, at.x.len());
    let name = at.node.op.name();
    match op {
        ElementwiseOp::Unary(u) => {
            let g = first(name, cts)?;
            Ok(vec![unary(b, *u, x[0], y[0], g)?])
        }
        ElementwiseOp::Binary(o) => {
            let g = first(name, cts)?;
            binary(b, *o, x[0], x[1], y[0], g, want)
        }
        // pred result: the derivative is zero everywhere it exists.
        ElementwiseOp::Compare(_) => Ok(vec![None; n]),
        ElementwiseOp::Select => {
            let g = first(name, cts)?;
            let z = b.zeros_like(g)?;
            let t = if want[1] {
                Some(b.select(x[0], g, z)?)
            } else {
                None
            };
            let f = if want[2] {
                Some(b.select(x[0], z, g)?)
            } else {
                None
            };
            Ok(vec![None, t, f])
        }
        ElementwiseOp::Clamp => clamp(b, x, first(name, cts)?, want),
        ElementwiseOp::Convert { .. } => {
            let g = first(name, cts)?;
            let from = ty(b, x[0])?.ty;
            // int/pred -> float has no derivative with respect to the integer operand (want is
            // false there); float -> float converts the cotangent back.
            if differentiable(from) {
                Ok(vec![Some(b.convert(g, from)?)])
            } else {
                Ok(vec![None])
            }
        }
        ElementwiseOp::BitcastConvert { .. } => not_diff(
            "bitcast_convert",
            "reinterpreting the bits of a float value has no derivative",
        ),
    }
}

/// The JVP of an elementwise node.
pub(crate) fn jvp(
    b: &mut Builder,
    op: &ElementwiseOp,
    at: &At,
    tin: &[Option<Value>],
) -> Result<Jvp> {
    let (x, y) = (&at.x, &at.y);
    Ok(Jvp::Tangents(match op {
        ElementwiseOp::Unary(u) => match tin[0] {
            Some(t) => vec![unary(b, *u, x[0], y[0], t)?],
            None => vec![None],
        },
        ElementwiseOp::Binary(o) => {
            let l = match tin[0] {
                Some(t) => binary(b, *o, x[0], x[1], y[0], t, &[true, false])?[0],
                None => None,
            };
            let r = match tin[1] {
                Some(t) => binary(b, *o, x[0], x[1], y[0], t, &[false, true])?[1],
                None => None,
            };
            vec![add(b, l, r)?]
        }
        ElementwiseOp::Compare(_) => vec![None],
        ElementwiseOp::Select => return linear(b, at.node, x, tin),
        ElementwiseOp::Convert { to } => {
            let from = b.ty(x[0])?.ty;
            match tin[0] {
                Some(t) if differentiable(from) && differentiable(*to) => {
                    vec![Some(b.convert(t, *to)?)]
                }
                _ => vec![None],
            }
        }
        ElementwiseOp::Clamp | ElementwiseOp::BitcastConvert { .. } => return Ok(Jvp::FromVjp),
    }))
}

fn unary(b: &mut Builder, u: UnaryOp, x: Value, y: Value, g: Value) -> Result<Option<Value>> {
    use UnaryOp::*;
    let r = match u {
        Neg => b.neg(g)?,
        Abs => {
            let s = b.sign(x)?;
            b.mul(g, s)?
        }
        // Piecewise constant: the derivative is zero wherever it exists.
        Sign | Floor | Ceil | RoundNearestAfz | RoundNearestEven => return Ok(None),
        Exp => b.mul(g, y)?,
        Expm1 => {
            let one = b.scalar_like(y, 1.0)?;
            let e = b.add(y, one)?;
            b.mul(g, e)?
        }
        Log => b.div(g, x)?,
        Log1p => {
            let one = b.scalar_like(x, 1.0)?;
            let d = b.add(x, one)?;
            b.div(g, d)?
        }
        Sqrt => {
            let two = b.scalar_like(y, 2.0)?;
            let d = b.mul(y, two)?;
            b.div(g, d)?
        }
        Rsqrt => {
            let h = b.scalar_like(y, -0.5)?;
            let t = b.div(y, x)?;
            let t = b.mul(t, h)?;
            b.mul(g, t)?
        }
        Cbrt => {
            let y2 = b.mul(y, y)?;
            let three = b.scalar_like(y, 3.0)?;
            let d = b.mul(y2, three)?;
            b.div(g, d)?
        }
        Tanh => {
            let y2 = b.mul(y, y)?;
            let one = b.scalar_like(y, 1.0)?;
            let d = b.sub(one, y2)?;
            b.mul(g, d)?
        }
        Logistic => {
            let one = b.scalar_like(y, 1.0)?;
            let d = b.sub(one, y)?;
            let d = b.mul(y, d)?;
            b.mul(g, d)?
        }
        Sin => {
            let c = b.cos(x)?;
            b.mul(g, c)?
        }
        Cos => {
            let s = b.sin(x)?;
            let s = b.neg(s)?;
            b.mul(g, s)?
        }
        Tan => {
            let y2 = b.mul(y, y)?;
            let one = b.scalar_like(y, 1.0)?;
            let d = b.add(one, y2)?;
            b.mul(g, d)?
        }
        // On float operands `real` is the identity and `imag` is zero (complex operands are
        // refused before any rule runs).
        Real => g,
        Imag => return Ok(None),
        // pred / integer results: never carry a cotangent.
        Not => return not_diff("not", "logical/bitwise not of integers or pred"),
        IsFinite => return Ok(None),
        Popcnt => return not_diff("popcnt", "integer bit count"),
        CountLeadingZeros => return not_diff("count_leading_zeros", "integer bit count"),
    };
    Ok(Some(r))
}

fn binary(
    b: &mut Builder,
    op: BinaryOp,
    x: Value,
    y: Value,
    z: Value,
    g: Value,
    want: &[bool],
) -> Result<Cts> {
    use BinaryOp::*;
    let (wx, wy) = (want[0], want[1]);
    let (dx, dy) = match op {
        Add => (Some(g), Some(g)),
        Sub => (Some(g), if wy { Some(b.neg(g)?) } else { None }),
        Mul => (
            if wx { Some(b.mul(g, y)?) } else { None },
            if wy { Some(b.mul(g, x)?) } else { None },
        ),
        Div => {
            let dx = if wx { Some(b.div(g, y)?) } else { None };
            let dy = if wy {
                let gz = b.mul(g, z)?;
                let q = b.div(gz, y)?;
                Some(b.neg(q)?)
            } else {
                None
            };
            (dx, dy)
        }
        Rem => {
            // x - y * trunc(x / y)
            let dy = if wy {
                let q = b.div(x, y)?;
                let zero = b.scalar_like(q, 0.0)?;
                let neg = b.lt(q, zero)?;
                let c = b.ceil(q)?;
                let f = b.floor(q)?;
                let t = b.select(neg, c, f)?;
                let gt = b.mul(g, t)?;
                Some(b.neg(gt)?)
            } else {
                None
            };
            (Some(g), dy)
        }
        Pow => {
            let dx = if wx {
                let one = b.scalar_like(y, 1.0)?;
                let ym1 = b.sub(y, one)?;
                let p = b.pow(x, ym1)?;
                let d = b.mul(y, p)?;
                Some(b.mul(g, d)?)
            } else {
                None
            };
            let dy = if wy {
                // log(x) with x = 0 replaced by 1, so that 0^y contributes 0 there.
                let zero = b.scalar_like(x, 0.0)?;
                let is0 = b.eq(x, zero)?;
                let ones = b.ones_like(x)?;
                let xs = b.select(is0, ones, x)?;
                let l = b.log(xs)?;
                let d = b.mul(l, z)?;
                Some(b.mul(g, d)?)
            } else {
                None
            };
            (dx, dy)
        }
        Max | Min => {
            // Ties split the cotangent in halves (as JAX does).
            let dir = if op == Max {
                ComparisonDirection::Gt
            } else {
                ComparisonDirection::Lt
            };
            let t = ty(b, x)?.ty;
            let eq = b.eq(x, y)?;
            let eqf = b.convert(eq, t)?;
            let half = b.scalar_like(x, 0.5)?;
            let heq = b.mul(eqf, half)?;
            let one = |b: &mut Builder, p: Value, q: Value| -> Result<Value> {
                let w = b.compare(dir, p, q)?;
                let wf = b.convert(w, t)?;
                let m = b.add(wf, heq)?;
                Ok(b.mul(g, m)?)
            };
            let dx = if wx { Some(one(b, x, y)?) } else { None };
            let dy = if wy { Some(one(b, y, x)?) } else { None };
            (dx, dy)
        }
        Atan2 => {
            let x2 = b.mul(x, x)?;
            let y2 = b.mul(y, y)?;
            let den = b.add(x2, y2)?;
            let gd = b.div(g, den)?;
            let dx = if wx { Some(b.mul(gd, y)?) } else { None };
            let dy = if wy {
                let t = b.mul(gd, x)?;
                Some(b.neg(t)?)
            } else {
                None
            };
            (dx, dy)
        }
        // Integer and pred ops: their operands are never float, so nothing flows.
        And | Or | Xor => return not_diff(op.name(), "logical/bitwise op on integers or pred"),
        ShiftLeft | ShiftRightArithmetic | ShiftRightLogical => {
            return not_diff(op.name(), "integer shift")
        }
        Complex => {
            return not_diff(
                "complex",
                "complex results are not supported by this crate's gradients",
            )
        }
    };
    Ok(vec![if wx { dx } else { None }, if wy { dy } else { None }])
}

fn clamp(b: &mut Builder, x: &[Value], g: Value, want: &[bool]) -> Result<Cts> {
    let (lo, v, hi) = (x[0], x[1], x[2]);
    let z = b.zeros_like(g)?;
    let mut out = vec![None, None, None];
    if want[1] {
        let a = b.gt(v, lo)?;
        let c = b.lt(v, hi)?;
        let m = b.and(a, c)?;
        out[1] = Some(b.select(m, g, z)?);
    }
    let fit = |b: &mut Builder, t: Value, like: Value| -> Result<Value> {
        if ty(b, like)?.rank() == 0 && ty(b, t)?.rank() != 0 {
            sum_all(b, t)
        } else {
            Ok(t)
        }
    };
    if want[0] {
        let a = b.gt(lo, v)?;
        let c = b.lt(lo, hi)?;
        let m = b.and(a, c)?;
        let s = b.select(m, g, z)?;
        out[0] = Some(fit(b, s, lo)?);
    }
    if want[2] {
        let m = b.lt(hi, v)?;
        let s = b.select(m, g, z)?;
        out[2] = Some(fit(b, s, hi)?);
    }
    Ok(out)
}

/// The batching rule of an elementwise node: the operands are brought to one batch axis
/// (shared ones broadcast there; `select`'s predicate and `clamp`'s bounds may stay scalars)
/// and the op is recorded on them; the result keeps that axis.
pub(crate) fn batch(b: &mut Builder, op: &ElementwiseOp, at: &Bat) -> Result<Vec<Batched>> {
    let (x, n, node) = (at.x, at.n, at.node);
    let one = |t: Value, a: usize| Ok(vec![Batched::new(t, Some(a))]);
    match op {
        ElementwiseOp::Unary(_) | ElementwiseOp::Convert { .. } => {
            let a = at.axis(0)?;
            one(b.record(&node.op, &[x[0].t], &[])?[0], a)
        }
        ElementwiseOp::BitcastConvert { to } => {
            // A width change reads or adds the last axis: keep the batch off it. The builder
            // method keeps its barrier before shape-changing bitcasts.
            let a = at.axis(0)?;
            let r = ty(b, x[0].t)?.rank();
            let a2 = if a + 1 == r { 0 } else { a };
            let xt = move_axis(b, x[0].t, a, a2)?;
            one(b.bitcast_convert(xt, *to)?, a2)
        }
        ElementwiseOp::Binary(_) | ElementwiseOp::Compare(_) => {
            let (ts, a) = align(b, x, n)?;
            one(b.record(&node.op, &ts, &[])?[0], a)
        }
        ElementwiseOp::Select => Ok(vec![select_batched(b, x[0], x[1], x[2], n)?]),
        ElementwiseOp::Clamp => {
            let full = example_ty(b, x[1])?;
            let (ts, a) = align_scalars(b, x, &[true, false, true], &full, n)?;
            one(b.clamp(ts[0], ts[1], ts[2])?, a)
        }
    }
}
