//! Named ops and compositions of primitives (`matmul`, `softmax`, `mean`, ...). Everything
//! here records primitives only, so gradients of compositions come from the primitives' rules.

use std::f64::consts::PI;

use crate::builder::Builder;
use crate::error::{shape_err, Result};
use crate::graph::{
    BinaryOp, ComparisonDirection, DotDims, Precision, RngAlgorithm, Tensor, UnaryOp, WindowConfig,
};
use crate::shape;
use crate::types::{ElementType, TensorType};

macro_rules! unary_ops {
    ($($(#[$m:meta])* $name:ident => $op:ident),* $(,)?) => {
        impl Builder {
            $(
                $(#[$m])*
                ///
                /// Shapes: `T[d...] -> T[d...]` (see [`shape::unary`] for the element types).
                pub fn $name(&mut self, x: Tensor) -> Result<Tensor> {
                    self.unary(UnaryOp::$op, x)
                }
            )*
        }
    };
}

unary_ops! {
    /// `-x`.
    neg => Neg,
    /// `|x|` (complex -> its float magnitude).
    abs => Abs,
    /// -1, 0 or 1 (NaN stays NaN).
    sign => Sign,
    /// `e^x`.
    exp => Exp,
    /// `e^x - 1`, accurate near 0.
    expm1 => Expm1,
    /// Natural logarithm.
    log => Log,
    /// `ln(1 + x)`, accurate near 0.
    log1p => Log1p,
    /// Square root.
    sqrt => Sqrt,
    /// `1 / sqrt(x)`.
    rsqrt => Rsqrt,
    /// Cube root.
    cbrt => Cbrt,
    /// Hyperbolic tangent.
    tanh => Tanh,
    /// `1 / (1 + e^-x)`.
    logistic => Logistic,
    /// Sine.
    sin => Sin,
    /// Cosine.
    cos => Cos,
    /// Tangent.
    tan => Tan,
    /// Round toward -inf.
    floor => Floor,
    /// Round toward +inf.
    ceil => Ceil,
    /// Round half away from zero.
    round => RoundNearestAfz,
    /// Round half to even.
    round_nearest_even => RoundNearestEven,
    /// Logical not (pred) or bitwise not (integers).
    not => Not,
    /// `pred`: x is neither infinite nor NaN.
    is_finite => IsFinite,
    /// Number of set bits.
    popcnt => Popcnt,
    /// Number of leading zero bits.
    count_leading_zeros => CountLeadingZeros,
    /// Real part (complex -> float).
    real => Real,
    /// Imaginary part (complex -> float).
    imag => Imag,
}

macro_rules! binary_ops {
    ($($(#[$m:meta])* $name:ident => $op:ident),* $(,)?) => {
        impl Builder {
            $(
                $(#[$m])*
                ///
                /// Shapes: numpy broadcasting, `T[a...], T[b...] -> T[broadcast(a, b)]`; element
                /// types must match (see [`shape::binary`]).
                pub fn $name(&mut self, x: Tensor, y: Tensor) -> Result<Tensor> {
                    self.binary(BinaryOp::$op, x, y)
                }
            )*
        }
    };
}

binary_ops! {
    /// `x + y`.
    add => Add,
    /// `x - y`.
    sub => Sub,
    /// `x * y`.
    mul => Mul,
    /// `x / y` (integers truncate toward zero).
    div => Div,
    /// Remainder with the sign of `x` (C `fmod`).
    rem => Rem,
    /// `x^y`.
    pow => Pow,
    /// Elementwise maximum (NaN propagates).
    max => Max,
    /// Elementwise minimum (NaN propagates).
    min => Min,
    /// `atan2(x, y)`: the angle of the point `(y, x)`.
    atan2 => Atan2,
    /// Logical / bitwise and.
    and => And,
    /// Logical / bitwise or.
    or => Or,
    /// Logical / bitwise xor.
    xor => Xor,
    /// `x << y` (shifts >= bit width give 0).
    shift_left => ShiftLeft,
    /// Arithmetic right shift.
    shift_right_arithmetic => ShiftRightArithmetic,
    /// Logical right shift.
    shift_right_logical => ShiftRightLogical,
    /// Complex number from real and imaginary parts (f32 -> c64, f64 -> c128).
    complex => Complex,
}

macro_rules! compare_ops {
    ($($(#[$m:meta])* $name:ident => $op:ident),* $(,)?) => {
        impl Builder {
            $(
                $(#[$m])*
                ///
                /// Shapes: numpy broadcasting, `T[a...], T[b...] -> pred[broadcast(a, b)]`.
                pub fn $name(&mut self, x: Tensor, y: Tensor) -> Result<Tensor> {
                    self.compare(ComparisonDirection::$op, x, y)
                }
            )*
        }
    };
}

compare_ops! {
    /// `x == y`.
    eq => Eq,
    /// `x != y`.
    ne => Ne,
    /// `x < y`.
    lt => Lt,
    /// `x <= y`.
    le => Le,
    /// `x > y`.
    gt => Gt,
    /// `x >= y`.
    ge => Ge,
}

/// Which canned reducer to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Canned {
    Sum,
    Prod,
    Max,
    Min,
    And,
    Or,
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
    fn canned(
        &mut self,
        op: &'static str,
        which: Canned,
        x: Tensor,
        axes: &[i64],
    ) -> Result<Tensor> {
        let t = self.ty(x)?.clone();
        let (init, bin) = match which {
            Canned::Sum => (0.0, BinaryOp::Add),
            Canned::Prod => (1.0, BinaryOp::Mul),
            Canned::Max => (lowest(t.ty), BinaryOp::Max),
            Canned::Min => (highest(t.ty), BinaryOp::Min),
            Canned::And => (1.0, BinaryOp::And),
            Canned::Or => (0.0, BinaryOp::Or),
        };
        if matches!(which, Canned::And | Canned::Or)
            && !(t.ty == ElementType::Pred || t.ty.is_integer())
        {
            return shape_err(op, format!("operand {t} must be pred or an integer type"));
        }
        if t.ty == ElementType::Token || t.ty.byte_size().is_none() {
            return shape_err(op, format!("operand {t} has no reducible element type"));
        }
        let init = if matches!(which, Canned::And) && t.ty.is_integer() {
            self.full_like_scalar(
                x,
                if t.ty.is_unsigned_int() {
                    highest(t.ty)
                } else {
                    -1.0
                },
            )?
        } else {
            self.splat(t.ty, [], init)?
        };
        let r = self.reduce(&[x], &[init], axes, move |b, a| {
            Ok(vec![b.binary_same_shape(bin, a[0], a[1])?])
        })?;
        Ok(r[0])
    }

    fn full_like_scalar(&mut self, x: Tensor, v: f64) -> Result<Tensor> {
        let t = self.ty(x)?.ty;
        self.splat(t, [], v)
    }

    /// Sum over `axes`. Shapes: `T[d...] -> T[d without axes]`.
    pub fn reduce_sum(&mut self, x: Tensor, axes: impl AsRef<[i64]>) -> Result<Tensor> {
        self.canned("reduce_sum", Canned::Sum, x, axes.as_ref())
    }
    /// Product over `axes`. Shapes: `T[d...] -> T[d without axes]`.
    pub fn reduce_prod(&mut self, x: Tensor, axes: impl AsRef<[i64]>) -> Result<Tensor> {
        self.canned("reduce_prod", Canned::Prod, x, axes.as_ref())
    }
    /// Maximum over `axes` (-inf / type minimum for empty). Shapes: `T[d...] -> T[d without axes]`.
    pub fn reduce_max(&mut self, x: Tensor, axes: impl AsRef<[i64]>) -> Result<Tensor> {
        self.canned("reduce_max", Canned::Max, x, axes.as_ref())
    }
    /// Minimum over `axes`. Shapes: `T[d...] -> T[d without axes]`.
    pub fn reduce_min(&mut self, x: Tensor, axes: impl AsRef<[i64]>) -> Result<Tensor> {
        self.canned("reduce_min", Canned::Min, x, axes.as_ref())
    }
    /// Logical / bitwise and over `axes`. Shapes: `T[d...] -> T[d without axes]`.
    pub fn reduce_and(&mut self, x: Tensor, axes: impl AsRef<[i64]>) -> Result<Tensor> {
        self.canned("reduce_and", Canned::And, x, axes.as_ref())
    }
    /// Logical / bitwise or over `axes`. Shapes: `T[d...] -> T[d without axes]`.
    pub fn reduce_or(&mut self, x: Tensor, axes: impl AsRef<[i64]>) -> Result<Tensor> {
        self.canned("reduce_or", Canned::Or, x, axes.as_ref())
    }

    fn all_axes(&self, x: Tensor) -> Result<Vec<i64>> {
        Ok((0..self.ty(x)?.rank() as i64).collect())
    }

    /// `x` with size-1 axes re-inserted at `axes` (for broadcasting a reduction back).
    fn keep_dims(&mut self, reduced: Tensor, full: &TensorType, axes: &[i64]) -> Result<Tensor> {
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

    fn float_op(&self, op: &'static str, x: Tensor) -> Result<TensorType> {
        let t = self.ty(x)?.clone();
        if !(t.ty.is_float() || t.ty.is_complex()) {
            return shape_err(
                op,
                format!("operand {t} must have a float or complex element type"),
            );
        }
        Ok(t)
    }

    /// Mean over all elements. Shapes: `T[d...] -> T[]` (float types).
    pub fn mean(&mut self, x: Tensor) -> Result<Tensor> {
        let axes = self.all_axes(x)?;
        self.mean_axes(x, axes)
    }

    /// Mean over `axes`. Shapes: `T[d...] -> T[d without axes]` (float types).
    pub fn mean_axes(&mut self, x: Tensor, axes: impl AsRef<[i64]>) -> Result<Tensor> {
        let t = self.float_op("mean", x)?;
        let axes = axes.as_ref();
        let s = self.reduce_sum(x, axes)?;
        let n: i64 = axes.iter().map(|&a| t.dims[a as usize]).product();
        let c = self.splat(t.ty, [], n as f64)?;
        self.div(s, c)
    }

    /// Population variance over `axes` (`mean((x - mean(x))^2)`).
    /// Shapes: `T[d...] -> T[d without axes]` (float types).
    pub fn var(&mut self, x: Tensor, axes: impl AsRef<[i64]>) -> Result<Tensor> {
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
    pub fn logsumexp(&mut self, x: Tensor, axes: impl AsRef<[i64]>) -> Result<Tensor> {
        let t = self.float_op("logsumexp", x)?;
        let axes = axes.as_ref();
        let m = self.reduce_max(x, axes)?;
        // An all -inf row would give -inf - -inf = NaN; use 0 as the shift there.
        let fin = self.is_finite(m)?;
        let zero = self.zeros_like(m)?;
        let m = self.select(fin, m, zero)?;
        let mk = self.keep_dims(m, &t, axes)?;
        let d = self.sub(x, mk)?;
        let e = self.exp(d)?;
        let s = self.reduce_sum(e, axes)?;
        let l = self.log(s)?;
        self.add(l, m)
    }

    /// Softmax along `axis`. Shapes: `T[d...] -> T[d...]` (float types).
    pub fn softmax(&mut self, x: Tensor, axis: i64) -> Result<Tensor> {
        let t = self.float_op("softmax", x)?;
        let m = self.reduce_max(x, [axis])?;
        let m = self.keep_dims(m, &t, &[axis])?;
        let d = self.sub(x, m)?;
        let e = self.exp(d)?;
        let s = self.reduce_sum(e, [axis])?;
        let s = self.keep_dims(s, &t, &[axis])?;
        self.div(e, s)
    }

    /// Log-softmax along `axis`: `x - logsumexp(x)`. Shapes: `T[d...] -> T[d...]`.
    pub fn log_softmax(&mut self, x: Tensor, axis: i64) -> Result<Tensor> {
        let t = self.float_op("log_softmax", x)?;
        let l = self.logsumexp(x, [axis])?;
        let l = self.keep_dims(l, &t, &[axis])?;
        self.sub(x, l)
    }

    /// `max(x, 0)`, with JAX's derivative: 1 where `x > 0` and 0 elsewhere, 0 itself included
    /// (through `max` a tie at 0 would split the gradient in half). Recorded as
    /// `select(!(x <= 0), x, 0)`, so a NaN passes through as it does with `max`.
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn relu(&mut self, x: Tensor) -> Result<Tensor> {
        let z = self.zeros_like(x)?;
        let nonpositive = self.le(x, z)?;
        let keep = self.not(nonpositive)?;
        self.select(keep, x, z)
    }

    /// `x * logistic(x)`. Shapes: `T[d...] -> T[d...]` (float types).
    pub fn silu(&mut self, x: Tensor) -> Result<Tensor> {
        let s = self.logistic(x)?;
        self.mul(x, s)
    }

    /// GELU: `x/2 * (1 + erf(x/sqrt(2)))`, or with `approximate` the tanh form
    /// `x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))`. Shapes: `T[d...] -> T[d...]`.
    pub fn gelu(&mut self, x: Tensor, approximate: bool) -> Result<Tensor> {
        self.float_op("gelu", x)?;
        let half = self.scalar_like(x, 0.5)?;
        let one = self.scalar_like(x, 1.0)?;
        let inner = if approximate {
            let c = self.scalar_like(x, (2.0 / PI).sqrt())?;
            let k = self.scalar_like(x, 0.044715)?;
            let x2 = self.mul(x, x)?;
            let x3 = self.mul(x2, x)?;
            let kx3 = self.mul(k, x3)?;
            let s = self.add(x, kx3)?;
            let s = self.mul(c, s)?;
            self.tanh(s)?
        } else {
            let r = self.scalar_like(x, std::f64::consts::FRAC_1_SQRT_2)?;
            let s = self.mul(x, r)?;
            self.erf(s)?
        };
        let p = self.add(one, inner)?;
        let h = self.mul(half, x)?;
        self.mul(h, p)
    }

    /// The error function, composed from primitives (no `chlo.erf`, which not every plugin
    /// accepts). `|x| < 0.5`: Taylor series to x^13; otherwise Abramowitz & Stegun 7.1.26
    /// (absolute error below 1.5e-7). f16/bf16 are computed in f32. Shapes: `T[d...] -> T[d...]`.
    pub fn erf(&mut self, x: Tensor) -> Result<Tensor> {
        let t = self.ty(x)?.clone();
        if !t.ty.is_float() {
            return shape_err("erf", format!("operand {t} must have a float element type"));
        }
        let work = if t.ty == ElementType::F64 {
            ElementType::F64
        } else {
            ElementType::F32
        };
        let x = self.convert(x, work)?;
        let c = |b: &mut Builder, v: f64| b.splat(work, [], v);
        // Taylor: erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)).
        let x2 = self.mul(x, x)?;
        let coeffs = [
            1.0,
            -1.0 / 3.0,
            1.0 / 10.0,
            -1.0 / 42.0,
            1.0 / 216.0,
            -1.0 / 1320.0,
            1.0 / 9360.0,
        ];
        let mut p = c(self, coeffs[6])?;
        for &k in coeffs[..6].iter().rev() {
            let kk = c(self, k)?;
            p = self.mul(p, x2)?;
            p = self.add(p, kk)?;
        }
        let two_over_sqrt_pi = c(self, 2.0 / PI.sqrt())?;
        let small = self.mul(x, p)?;
        let small = self.mul(small, two_over_sqrt_pi)?;
        // A&S 7.1.26: erf(|x|) = 1 - t (a1 + t (a2 + ... )) e^{-x^2}, t = 1/(1 + p|x|).
        let ax = self.abs(x)?;
        let pp = c(self, 0.3275911)?;
        let one = c(self, 1.0)?;
        let den = self.mul(pp, ax)?;
        let den = self.add(one, den)?;
        let tt = self.div(one, den)?;
        let a = [
            0.254829592,
            -0.284496736,
            1.421413741,
            -1.453152027,
            1.061405429,
        ];
        let mut q = c(self, a[4])?;
        for &k in a[..4].iter().rev() {
            let kk = c(self, k)?;
            q = self.mul(q, tt)?;
            q = self.add(q, kk)?;
        }
        q = self.mul(q, tt)?;
        let nx2 = self.neg(x2)?;
        let e = self.exp(nx2)?;
        let q = self.mul(q, e)?;
        let large = self.sub(one, q)?;
        let sg = self.sign(x)?;
        let large = self.mul(sg, large)?;
        let half = c(self, 0.5)?;
        let is_small = self.lt(ax, half)?;
        let r = self.select(is_small, small, large)?;
        self.convert(r, t.ty)
    }

    /// `x * x`. Shapes: `T[d...] -> T[d...]`.
    pub fn square(&mut self, x: Tensor) -> Result<Tensor> {
        self.mul(x, x)
    }

    /// Numpy `where`: `cond ? x : y` with broadcasting of all three.
    /// Shapes: `pred[a...], T[b...], T[c...] -> T[broadcast(a, b, c)]`.
    pub fn where_(&mut self, cond: Tensor, x: Tensor, y: Tensor) -> Result<Tensor> {
        let (x, y) = self.broadcast_pair("where", x, y)?;
        let (c, x) = {
            let ct = self.ty(cond)?.clone();
            let xt = self.ty(x)?.clone();
            let dims = shape::broadcast_shapes("where", &ct, &xt)?;
            (
                self.broadcast_to(cond, &dims)?,
                self.broadcast_to(x, &dims)?,
            )
        };
        let dims = self.ty(x)?.dims.clone();
        let y = self.broadcast_to(y, &dims)?;
        self.select(c, x, y)
    }

    /// Numpy `matmul`: 1-D operands are promoted (and the added axis dropped), leading batch
    /// axes broadcast. Shapes: `T[..., m, k] @ T[..., k, n] -> T[..., m, n]`; `T[k] @ T[k] -> T[]`.
    pub fn matmul(&mut self, a: Tensor, b: Tensor) -> Result<Tensor> {
        let op = "matmul";
        let ta = self.ty(a)?.clone();
        let tb = self.ty(b)?.clone();
        if ta.rank() == 0 || tb.rank() == 0 {
            return shape_err(
                op,
                format!("operands must have rank >= 1, got {ta} and {tb}"),
            );
        }
        if ta.ty != tb.ty {
            return shape_err(op, format!("element types differ: {ta} and {tb}"));
        }
        let (ka, kb) = (
            ta.rank() - 1,
            if tb.rank() == 1 { 0 } else { tb.rank() - 2 },
        );
        if ta.dims[ka] != tb.dims[kb] {
            return shape_err(op, format!("contracting dimensions differ: lhs {ta} axis {ka} has {}, rhs {tb} axis {kb} has {}", ta.dims[ka], tb.dims[kb]));
        }
        if ta.rank() == 1 && tb.rank() == 1 {
            return self.dot_general(
                a,
                b,
                DotDims {
                    lhs_contracting: vec![0],
                    rhs_contracting: vec![0],
                    ..Default::default()
                },
                [Precision::Default; 2],
            );
        }
        let a2 = if ta.rank() == 1 {
            self.reshape(a, [1, ta.dims[0]])?
        } else {
            a
        };
        let b2 = if tb.rank() == 1 {
            self.reshape(b, [tb.dims[0], 1])?
        } else {
            b
        };
        let ta2 = self.ty(a2)?.clone();
        let tb2 = self.ty(b2)?.clone();
        let (ra, rb) = (ta2.rank(), tb2.rank());
        let batch_a = TensorType::new(ta.ty, &ta2.dims[..ra - 2]);
        let batch_b = TensorType::new(tb.ty, &tb2.dims[..rb - 2]);
        let batch = shape::broadcast_shapes(op, &batch_a, &batch_b)?;
        let nb = batch.len() as i64;
        let mut da = batch.to_vec();
        da.extend_from_slice(&ta2.dims[ra - 2..]);
        let mut db = batch.to_vec();
        db.extend_from_slice(&tb2.dims[rb - 2..]);
        let a3 = self.broadcast_to(a2, &da)?;
        let b3 = self.broadcast_to(b2, &db)?;
        let dims = DotDims {
            lhs_batch: (0..nb).collect(),
            rhs_batch: (0..nb).collect(),
            lhs_contracting: vec![nb + 1],
            rhs_contracting: vec![nb],
        };
        let r = self.dot_general(a3, b3, dims, [Precision::Default; 2])?;
        let mut out: Vec<i64> = batch.to_vec();
        if ta.rank() > 1 {
            out.push(ta2.dims[ra - 2]);
        }
        if tb.rank() > 1 {
            out.push(tb2.dims[rb - 1]);
        }
        self.reshape(r, out)
    }

    /// One-hot encoding: `indices` (integers) -> `ty[indices..., depth]`, 1 where the last axis
    /// equals the index (out-of-range indices give all zeros).
    pub fn one_hot(&mut self, indices: Tensor, depth: i64, ty: ElementType) -> Result<Tensor> {
        let t = self.ty(indices)?.clone();
        if !t.ty.is_integer() {
            return shape_err(
                "one_hot",
                format!("indices {t} must have an integer element type"),
            );
        }
        if depth < 0 {
            return shape_err("one_hot", format!("depth {depth} must be >= 0"));
        }
        let mut dims = t.dims.to_vec();
        dims.push(depth);
        let r = dims.len() as i64;
        let io = self.iota(t.ty, &dims, r - 1)?;
        let bd: Vec<i64> = (0..r - 1).collect();
        let ib = self.broadcast_in_dim(indices, &dims, bd)?;
        let m = self.eq(ib, io)?;
        self.convert(m, ty)
    }

    fn arg_reduce(&mut self, op: &'static str, x: Tensor, axis: i64, max: bool) -> Result<Tensor> {
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
    pub fn argmax(&mut self, x: Tensor, axis: i64) -> Result<Tensor> {
        self.arg_reduce("argmax", x, axis, true)
    }

    /// Index (s32) of the smallest element along `axis` (first on ties).
    /// Shapes: `T[d...] -> s32[d without axis]`.
    pub fn argmin(&mut self, x: Tensor, axis: i64) -> Result<Tensor> {
        self.arg_reduce("argmin", x, axis, false)
    }

    /// Inclusive cumulative sum along `axis` (a `reduce_window` with the window spanning the
    /// axis, padded in front). Shapes: `T[d...] -> T[d...]`.
    pub fn cumsum(&mut self, x: Tensor, axis: i64) -> Result<Tensor> {
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
        let out = self.reduce_window(&[x], &[init], w, |b, a| Ok(vec![b.add(a[0], a[1])?]))?;
        Ok(out[0])
    }

    /// Max pooling: window sizes and strides per axis, no padding.
    /// Shapes: `T[d...] -> T[(d - w) / s + 1 ...]`.
    pub fn max_pool(
        &mut self,
        x: Tensor,
        window: impl AsRef<[i64]>,
        strides: impl AsRef<[i64]>,
    ) -> Result<Tensor> {
        let t = self.ty(x)?.clone();
        let init = self.splat(t.ty, [], lowest(t.ty))?;
        let w = WindowConfig::new(window.as_ref().to_vec(), strides.as_ref().to_vec());
        let out = self.reduce_window(&[x], &[init], w, |b, a| Ok(vec![b.max(a[0], a[1])?]))?;
        Ok(out[0])
    }

    /// Average pooling (window sum / window size), no padding.
    /// Shapes: `T[d...] -> T[(d - w) / s + 1 ...]` (float types).
    pub fn avg_pool(
        &mut self,
        x: Tensor,
        window: impl AsRef<[i64]>,
        strides: impl AsRef<[i64]>,
    ) -> Result<Tensor> {
        let t = self.float_op("avg_pool", x)?;
        let init = self.splat(t.ty, [], 0.0)?;
        let w = WindowConfig::new(window.as_ref().to_vec(), strides.as_ref().to_vec());
        let n: f64 = window.as_ref().iter().map(|&w| w as f64).product();
        let out = self.reduce_window(&[x], &[init], w, |b, a| Ok(vec![b.add(a[0], a[1])?]))?;
        let c = self.splat(t.ty, [], n)?;
        self.div(out[0], c)
    }

    /// The `k` largest elements along the last axis, in descending order, and their s32
    /// indices (a stable sort on (value, iota), then a slice).
    /// Shapes: `T[..., n] -> (T[..., k], s32[..., k])`.
    pub fn top_k(&mut self, x: Tensor, k: i64) -> Result<(Tensor, Tensor)> {
        let t = self.ty(x)?.clone();
        if t.rank() == 0 {
            return shape_err("top_k", format!("operand {t} must have rank >= 1"));
        }
        let last = t.rank() as i64 - 1;
        let n = t.dims[last as usize];
        if k < 0 || k > n {
            return shape_err("top_k", format!("k = {k} must be in 0..={n} for {t}"));
        }
        if !(t.ty.is_float() || t.ty.is_integer()) || t.ty.byte_size().is_none() {
            return shape_err(
                "top_k",
                format!("operand {t} must have an integer or float element type"),
            );
        }
        let idx = self.iota(ElementType::S32, &t.dims, last)?;
        let s = self.sort(&[x, idx], last, true, |b, a| Ok(vec![b.gt(a[0], a[1])?]))?;
        let v = self.slice_axis(s[0], last, 0, k)?;
        let i = self.slice_axis(s[1], last, 0, k)?;
        Ok((v, i))
    }

    /// Uniform random numbers in `[0, 1)` of `ty[dims]` (float types) from a `u64[2]` state;
    /// returns (new state, values). Uses the mantissa bits of `rng_bit_generator` output.
    pub fn rng_uniform(
        &mut self,
        state: Tensor,
        ty: ElementType,
        dims: impl AsRef<[i64]>,
    ) -> Result<(Tensor, Tensor)> {
        let dims = dims.as_ref();
        if !ty.is_float() {
            return shape_err(
                "rng_uniform",
                format!("element type {ty} must be a float type"),
            );
        }
        let (bits_ty, fty, shift, one_bits) = if ty == ElementType::F64 {
            (
                ElementType::U64,
                ElementType::F64,
                12.0,
                f64::to_bits(1.0) as f64,
            )
        } else {
            (
                ElementType::U32,
                ElementType::F32,
                9.0,
                f32::to_bits(1.0) as f64,
            )
        };
        let (s, bits) = self.rng_bit_generator(
            state,
            RngAlgorithm::ThreeFry,
            TensorType::new(bits_ty, dims),
        )?;
        let sh = self.splat(bits_ty, [], shift)?;
        let m = self.shift_right_logical(bits, sh)?;
        let one = self.splat(bits_ty, [], one_bits)?;
        let m = self.or(m, one)?;
        let f = self.bitcast_convert(m, fty)?;
        let onef = self.splat(fty, [], 1.0)?;
        let u = self.sub(f, onef)?;
        Ok((s, self.convert(u, ty)?))
    }

    /// Standard normal random numbers of `ty[dims]` (Box-Muller); returns (new state, values).
    pub fn rng_normal(
        &mut self,
        state: Tensor,
        ty: ElementType,
        dims: impl AsRef<[i64]>,
    ) -> Result<(Tensor, Tensor)> {
        let dims = dims.as_ref();
        if !ty.is_float() {
            return shape_err(
                "rng_normal",
                format!("element type {ty} must be a float type"),
            );
        }
        let wt = if ty == ElementType::F64 {
            ElementType::F64
        } else {
            ElementType::F32
        };
        let (s, u1) = self.rng_uniform(state, wt, dims)?;
        let (s, u2) = self.rng_uniform(s, wt, dims)?;
        // z = sqrt(-2 ln(1 - u1)) * cos(2 pi u2); 1 - u1 is in (0, 1].
        let one = self.splat(wt, [], 1.0)?;
        let v = self.sub(one, u1)?;
        let l = self.log(v)?;
        let m2 = self.splat(wt, [], -2.0)?;
        let r = self.mul(m2, l)?;
        let r = self.sqrt(r)?;
        let tp = self.splat(wt, [], 2.0 * PI)?;
        let a = self.mul(tp, u2)?;
        let c = self.cos(a)?;
        let z = self.mul(r, c)?;
        Ok((s, self.convert(z, ty)?))
    }
}
