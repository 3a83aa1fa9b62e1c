//! Elementwise ops: the primitives, their named forms (`add`, `exp`, `lt`, ...) with numpy
//! broadcasting, and the elementwise compositions (`relu`, `gelu`, `erf`, `where_`, ...).

use std::f64::consts::PI;

use crate::builder::Builder;
use crate::error::{shape_err, Result};
use crate::graph::Value;
use crate::ops::common::broadcast_shapes;
use crate::ops::{BinaryOp, ComparisonDirection, ElementwiseOp, MiscOp, Op, UnaryOp};
use crate::types::ElementType;

impl Builder {
    /// Elementwise unary primitive; the result has `x`'s shape (type per
    /// [`crate::ops::elementwise::unary`]).
    ///
    /// Shapes: `T[d...] -> U[d...]` (`U = T` except abs/real/imag of complex and is_finite).
    pub fn unary(&mut self, u: UnaryOp, x: Value) -> Result<Value> {
        self.record1(ElementwiseOp::Unary(u), &[x])
    }

    /// Elementwise binary primitive on operands of identical shape and type (no broadcasting).
    ///
    /// Shapes: `T[d...], T[d...] -> T[d...]` (complex: `F[d], F[d] -> C[d]`).
    pub fn binary_same_shape(&mut self, b: BinaryOp, x: Value, y: Value) -> Result<Value> {
        self.record1(ElementwiseOp::Binary(b), &[x, y])
    }

    /// Elementwise binary op with numpy broadcasting (made explicit with `broadcast_in_dim`).
    /// Element types must match.
    ///
    /// Shapes: `T[a...], T[b...] -> T[broadcast(a, b)]`.
    pub fn binary(&mut self, b: BinaryOp, x: Value, y: Value) -> Result<Value> {
        let (x, y) = self.broadcast_pair(b.name(), x, y)?;
        self.binary_same_shape(b, x, y)
    }

    /// Broadcasts two tensors to their common numpy shape.
    ///
    /// Shapes: `T[a...], U[b...] -> (T[c...], U[c...])` with `c = broadcast(a, b)`.
    pub fn broadcast_pair(
        &mut self,
        op: &'static str,
        x: Value,
        y: Value,
    ) -> Result<(Value, Value)> {
        let tx = self.value(op, x)?.1;
        let ty = self.value(op, y)?.1;
        if tx.dims == ty.dims {
            return Ok((x, y));
        }
        let dims = broadcast_shapes(op, &tx, &ty)?;
        Ok((self.broadcast_to(x, &dims)?, self.broadcast_to(y, &dims)?))
    }

    /// Elementwise comparison with numpy broadcasting; result is pred.
    ///
    /// Shapes: `T[a...], T[b...] -> pred[broadcast(a, b)]`.
    pub fn compare(&mut self, dir: ComparisonDirection, x: Value, y: Value) -> Result<Value> {
        let (x, y) = self.broadcast_pair("compare", x, y)?;
        self.record1(ElementwiseOp::Compare(dir), &[x, y])
    }

    /// `select(pred, on_true, on_false)`: pred[] or pred of the branches' shape.
    ///
    /// Shapes: `pred[] or pred[d...], T[d...], T[d...] -> T[d...]`.
    pub fn select(&mut self, pred: Value, on_true: Value, on_false: Value) -> Result<Value> {
        self.record1(ElementwiseOp::Select, &[pred, on_true, on_false])
    }

    /// `clamp(min, x, max)`: bounds are scalars or of `x`'s shape.
    ///
    /// Shapes: `T[] or T[d...], T[d...], T[] or T[d...] -> T[d...]`.
    pub fn clamp(&mut self, min: Value, x: Value, max: Value) -> Result<Value> {
        self.record1(ElementwiseOp::Clamp, &[min, x, max])
    }

    /// Converts values to element type `to` (same shape).
    ///
    /// Shapes: `T[d...] -> to[d...]`.
    pub fn convert(&mut self, x: Value, to: ElementType) -> Result<Value> {
        let t = self.value("convert", x)?.1;
        if t.ty == to {
            return Ok(x);
        }
        self.record1(ElementwiseOp::Convert { to }, &[x])
    }

    /// Reinterprets bits as `to`; see [`crate::ops::elementwise::bitcast_convert`] for the
    /// shape rule.
    ///
    /// Shapes: `T[d...] -> to[d...]` for equal widths; `T[d...] -> to[d..., w_T/w_to]` to a narrower type; `T[d..., w_to/w_T] -> to[d...]` to a wider one.
    pub fn bitcast_convert(&mut self, x: Value, to: ElementType) -> Result<Value> {
        let t = self.value("bitcast_convert", x)?.1;
        let out = crate::ops::elementwise::bitcast_convert(&t, to)?;
        // XLA's simplifier folds two shape-changing bitcast_converts in a row into one with
        // the wrong shape (0.115 CPU plugin: "Expected instruction to have shape equal to
        // s8[2,1,4], actual shape is s8[2,1,2,2]"), also when they only become adjacent after
        // other simplifications; a barrier before every shape-changing bitcast prevents it.
        let mut x = x;
        if out.dims != t.dims && !matches!(self.op(x)?, Op::Misc(MiscOp::OptimizationBarrier)) {
            x = self.optimization_barrier(&[x])?[0];
        }
        self.record1(ElementwiseOp::BitcastConvert { to }, &[x])
    }
}

macro_rules! unary_ops {
    ($($(#[$m:meta])* $name:ident => $op:ident),* $(,)?) => {
        impl Builder {
            $(
                $(#[$m])*
                ///
                /// Shapes: `T[d...] -> T[d...]` (see [`crate::ops::elementwise::unary`] for the
                /// element types).
                pub fn $name(&mut self, x: Value) -> Result<Value> {
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
                /// types must match (see [`crate::ops::elementwise::binary`]).
                pub fn $name(&mut self, x: Value, y: Value) -> Result<Value> {
                    self.binary(BinaryOp::$op, x, y)
                }
            )*
        }
    };
}

binary_ops! {
    /// `x + y`.
    ///
    /// ```
    /// use hlo_builder::{Builder, ElementType::{F32, S32}};
    ///
    /// let mut b = Builder::new("add");
    /// let x = b.parameter("x", F32, [2, 3])?;
    /// let row = b.parameter("row", F32, [3])?; // broadcast to every row
    /// let col = b.parameter("col", F32, [2, 1])?; // broadcast to every column
    /// let y = b.add(x, row)?;
    /// let y = b.add(y, col)?;
    /// assert_eq!(b.ty(y)?.to_string(), "f32[2,3]");
    ///
    /// // Element types are never converted implicitly; axes must broadcast.
    /// let i = b.parameter("i", S32, [2, 3])?;
    /// assert!(b.add(x, i).is_err());
    /// let bad = b.parameter("bad", F32, [2])?;
    /// assert!(b.add(x, bad).is_err());
    /// # Ok::<(), hlo_builder::Error>(())
    /// ```
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
                pub fn $name(&mut self, x: Value, y: Value) -> Result<Value> {
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

impl Builder {
    /// `max(x, 0)`, with JAX's derivative: 1 where `x > 0` and 0 elsewhere, 0 itself included
    /// (through `max` a tie at 0 would split the gradient in half). Recorded as
    /// `select(!(x <= 0), x, 0)`, so a NaN passes through as it does with `max`.
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn relu(&mut self, x: Value) -> Result<Value> {
        let z = self.zeros_like(x)?;
        let nonpositive = self.le(x, z)?;
        let keep = self.not(nonpositive)?;
        self.select(keep, x, z)
    }

    /// `x * logistic(x)`. Shapes: `T[d...] -> T[d...]` (float types).
    pub fn silu(&mut self, x: Value) -> Result<Value> {
        let s = self.logistic(x)?;
        self.mul(x, s)
    }

    /// GELU: `x/2 * (1 + erf(x/sqrt(2)))`, or with `approximate` the tanh form
    /// `x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))`. Shapes: `T[d...] -> T[d...]`.
    pub fn gelu(&mut self, x: Value, approximate: bool) -> Result<Value> {
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
    pub fn erf(&mut self, x: Value) -> Result<Value> {
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
    pub fn square(&mut self, x: Value) -> Result<Value> {
        self.mul(x, x)
    }

    /// Numpy `where`: `cond ? x : y` with broadcasting of all three.
    /// Shapes: `pred[a...], T[b...], T[c...] -> T[broadcast(a, b, c)]`.
    pub fn where_(&mut self, cond: Value, x: Value, y: Value) -> Result<Value> {
        let (x, y) = self.broadcast_pair("where", x, y)?;
        let (c, x) = {
            let ct = self.ty(cond)?.clone();
            let xt = self.ty(x)?.clone();
            let dims = broadcast_shapes("where", &ct, &xt)?;
            (
                self.broadcast_to(cond, &dims)?,
                self.broadcast_to(x, &dims)?,
            )
        };
        let dims = self.ty(x)?.dims.clone();
        let y = self.broadcast_to(y, &dims)?;
        self.select(c, x, y)
    }

    /// Checks that `x` has a float or complex element type.
    pub(crate) fn float_op(&self, op: &'static str, x: Value) -> Result<crate::TensorType> {
        let t = self.ty(x)?.clone();
        if !(t.ty.is_float() || t.ty.is_complex()) {
            return shape_err(
                op,
                format!("operand {t} must have a float or complex element type"),
            );
        }
        Ok(t)
    }
}
