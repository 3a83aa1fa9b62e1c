//! Tensors with methods and operators: the fluent face of the [`Builder`].
//!
//! A [`Recording`] is a function being recorded, shared by every [`Tensor`] recorded in it; a
//! tensor's methods record through the same builder methods (so the same shape checks, the
//! same graph), and its errors name the method the user called and the line they called it
//! from:
//!
//! ```
//! use hlo_builder::{ElementType::F32, Recording};
//!
//! let f = Recording::new("affine");
//! let x = f.parameter("x", F32, [2, 3])?;
//! let w = f.parameter("w", F32, [3, 4])?;
//! let b = f.parameter("b", F32, [4])?;
//! let y = (x.matmul(&w)? + &b)?.relu()?;          // f32[2,4]; the bias broadcasts
//! let p = (y.softmax(-1)? * 0.5)?;                 // negative axes count from the end
//! assert_eq!(p.dims(), [2, 4]);
//!
//! let e = x.matmul(&x).unwrap_err().to_string();  // a shape mistake names the line
//! assert!(e.starts_with("matmul at "), "{e}");
//! assert!(e.contains(file!()) && e.contains("contracting dimensions differ"), "{e}");
//!
//! let module = f.build(&[&p])?;
//! assert!(module.to_text().contains("stablehlo.dot_general"));
//! # Ok::<(), hlo_builder::Error>(())
//! ```
//!
//! Tensor methods take axes as `i64` (negative from the end); binary methods and operators
//! take a tensor or a Rust number, which becomes a scalar of the tensor's element type.
//! Operators return `Result<Tensor>`: `(&a + &b)?`, `(&s * 0.125)?`, `(1.0 - &p)?`.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::ops::{Add, Div, Mul, Neg, Sub};
use std::panic::Location;
use std::rc::Rc;

use smallvec::SmallVec;

use crate::builder::Builder;
use crate::error::{Error, Result};
use crate::graph::Value;
use crate::module::Module;
use crate::ops::{BinaryOp, ComparisonDirection, ConvConfig, GatherDims};
use crate::types::{ElementType, TensorType};

/// A function being recorded. Cloning it shares the recording.
#[derive(Clone)]
pub struct Recording(Rc<Inner>);

struct Inner {
    builder: RefCell<Builder>,
    training: Cell<bool>,
}

impl fmt::Debug for Recording {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.builder.try_borrow() {
            Ok(b) => write!(f, "Recording({:?}, {} nodes)", b.name(), b.graph().len()),
            Err(_) => f.write_str("Recording(<in use>)"),
        }
    }
}

fn busy(op: &'static str) -> Error {
    Error::Shape {
        op,
        message: "the recording is in use (a tensor method was called inside Recording::with)"
            .into(),
    }
}

impl Recording {
    /// A new, empty recording of a function called `name`.
    pub fn new(name: impl Into<String>) -> Recording {
        Recording::from_builder(Builder::new(name))
    }

    /// A recording that continues `b`.
    pub fn from_builder(b: Builder) -> Recording {
        Recording(Rc::new(Inner {
            builder: RefCell::new(b),
            training: Cell::new(false),
        }))
    }

    /// Whether the function is recorded for training (layers such as dropout and batch
    /// normalization behave differently). Off unless set.
    pub fn training(&self) -> bool {
        self.0.training.get()
    }

    /// Records the rest of the function for training (`true`) or inference.
    pub fn set_training(&self, on: bool) {
        self.0.training.set(on);
    }

    /// Whether `other` is this same recording.
    pub fn same(&self, other: &Recording) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// Runs `f` on the underlying builder (to use builder methods, autodiff, or anything that
    /// takes a `&mut Builder`). Tensor methods cannot be called inside `f`: the builder is
    /// borrowed (they return an error saying so).
    pub fn with<R>(&self, f: impl FnOnce(&mut Builder) -> R) -> Result<R> {
        let mut b = self.0.builder.try_borrow_mut().map_err(|_| busy("with"))?;
        Ok(f(&mut b))
    }

    /// Runs `f` with a recording that continues `b`'s graph, then gives the graph back to
    /// `b`: how code that holds a `&mut Builder` (a `vmap` body, an export, a custom rule)
    /// uses tensor methods and layers. `b`'s values are usable through
    /// [`tensor`](Self::tensor); return values (not tensors) to the caller. A tensor kept
    /// past the call refers to an emptied recording, and its methods return errors.
    ///
    /// ```
    /// use hlo_builder::{Builder, ElementType::F32, Recording};
    ///
    /// let mut b = Builder::new("f");
    /// let x = b.parameter("x", F32, [2, 3])?;
    /// let y = Recording::scoped(&mut b, |rec| -> hlo_builder::Result<_> {
    ///     Ok(rec.tensor(x)?.softmax(-1)?.sum_all()?.value())
    /// })?;
    /// assert_eq!(b.ty(y)?.dims.len(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scoped<R>(b: &mut Builder, f: impl FnOnce(&Recording) -> R) -> R {
        let name = b.name().to_string();
        let rec = Recording::from_builder(std::mem::replace(b, Builder::new(name.clone())));
        let r = f(&rec);
        // The graph goes back whoever still holds the recording (a tensor kept past the
        // call then sees an empty builder with another id).
        match rec.0.builder.try_borrow_mut() {
            Ok(mut inner) => *b = std::mem::replace(&mut *inner, Builder::new(name)),
            // Unreachable: `f` has returned, so no `with` call is running.
            Err(_) => {
                tracing::error!(target: "hlo_builder", "Recording::scoped: the recording is still borrowed")
            }
        }
        r
    }

    /// The tensor of a value of this recording's builder.
    pub fn tensor(&self, v: Value) -> Result<Tensor> {
        let b = self.0.builder.try_borrow().map_err(|_| busy("tensor"))?;
        let ty = b.ty(v)?.clone();
        Ok(Tensor {
            rec: self.clone(),
            v,
            ty,
        })
    }

    /// Records `f` (which returns one value) as the op `op` called at `at`.
    fn record1(
        &self,
        op: &'static str,
        at: &'static Location<'static>,
        f: impl FnOnce(&mut Builder) -> Result<Value>,
    ) -> Result<Tensor> {
        let r = (|| {
            let mut b = self.0.builder.try_borrow_mut().map_err(|_| busy(op))?;
            let v = f(&mut b)?;
            let ty = b.ty(v)?.clone();
            Ok(Tensor {
                rec: self.clone(),
                v,
                ty,
            })
        })();
        r.map_err(|e: Error| e.at(op, at))
    }

    /// Records `f` (which returns several values) as the op `op` called at `at`.
    fn record_many(
        &self,
        op: &'static str,
        at: &'static Location<'static>,
        f: impl FnOnce(&mut Builder) -> Result<Vec<Value>>,
    ) -> Result<Vec<Tensor>> {
        let r = (|| {
            let mut b = self.0.builder.try_borrow_mut().map_err(|_| busy(op))?;
            let vs = f(&mut b)?;
            let mut out = Vec::with_capacity(vs.len());
            for v in vs {
                let ty = b.ty(v)?.clone();
                out.push(Tensor {
                    rec: self.clone(),
                    v,
                    ty,
                });
            }
            Ok(out)
        })();
        r.map_err(|e: Error| e.at(op, at))
    }

    /// A function parameter `ty[dims]`, numbered in call order.
    #[track_caller]
    pub fn parameter(
        &self,
        name: impl Into<String>,
        ty: ElementType,
        dims: impl AsRef<[i64]>,
    ) -> Result<Tensor> {
        let name = name.into();
        self.record1("parameter", Location::caller(), |b| {
            b.parameter(name, ty, dims)
        })
    }

    /// A constant from host data (`data.len()` equal to the element count of `dims`).
    #[track_caller]
    pub fn constant<T: pjrt::NativeType>(
        &self,
        data: &[T],
        dims: impl AsRef<[i64]>,
    ) -> Result<Tensor> {
        self.record1("constant", Location::caller(), |b| b.constant(data, dims))
    }

    /// `ty[dims]` filled with `value`.
    #[track_caller]
    pub fn full(&self, ty: ElementType, dims: impl AsRef<[i64]>, value: f64) -> Result<Tensor> {
        self.record1("full", Location::caller(), |b| b.splat(ty, dims, value))
    }

    /// Zeros of `ty[dims]`.
    #[track_caller]
    pub fn zeros(&self, ty: ElementType, dims: impl AsRef<[i64]>) -> Result<Tensor> {
        self.record1("zeros", Location::caller(), |b| b.splat(ty, dims, 0.0))
    }

    /// A scalar `ty[]`.
    #[track_caller]
    pub fn scalar(&self, ty: ElementType, value: f64) -> Result<Tensor> {
        self.record1("scalar", Location::caller(), |b| b.scalar(ty, value))
    }

    /// `0, 1, ..., n - 1` as `ty[n]`.
    #[track_caller]
    pub fn arange(&self, n: i64, ty: ElementType) -> Result<Tensor> {
        self.record1("arange", Location::caller(), |b| b.iota(ty, [n], 0))
    }

    /// Lowers the function returning `outputs` to a StableHLO module (the recording stays
    /// usable).
    #[track_caller]
    pub fn build(&self, outputs: &[&Tensor]) -> Result<Module> {
        let at = Location::caller();
        let vs: Vec<Value> = outputs.iter().map(|t| t.v).collect();
        self.with(|b| b.build(&vs))
            .and_then(|r| r)
            .map_err(|e| e.at("build", at))
    }

    /// [`build`](Self::build) with donated parameters (see [`Builder::build_with_donations`]).
    #[track_caller]
    pub fn build_with_donations(
        &self,
        outputs: &[&Tensor],
        donations: &[(usize, usize)],
    ) -> Result<Module> {
        let at = Location::caller();
        let vs: Vec<Value> = outputs.iter().map(|t| t.v).collect();
        self.with(|b| b.build_with_donations(&vs, donations))
            .and_then(|r| r)
            .map_err(|e| e.at("build", at))
    }
}

/// A value of a [`Recording`]: an element type and dimensions, with methods that record ops.
/// Cloning is cheap (it shares the recording).
#[derive(Clone)]
pub struct Tensor {
    rec: Recording,
    v: Value,
    ty: TensorType,
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Tensor({} %{}#{})",
            self.ty,
            self.v.node().0,
            self.v.output()
        )
    }
}

/// Axes of a reduction: one axis, or several (negative ones count from the end).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Axes(pub SmallVec<[i64; 4]>);

impl From<i64> for Axes {
    fn from(a: i64) -> Axes {
        Axes(smallvec::smallvec![a])
    }
}
impl From<i32> for Axes {
    fn from(a: i32) -> Axes {
        Axes(smallvec::smallvec![a as i64])
    }
}
impl<const N: usize> From<[i64; N]> for Axes {
    fn from(a: [i64; N]) -> Axes {
        Axes(SmallVec::from_slice(&a))
    }
}
impl From<&[i64]> for Axes {
    fn from(a: &[i64]) -> Axes {
        Axes(SmallVec::from_slice(a))
    }
}
impl From<Vec<i64>> for Axes {
    fn from(a: Vec<i64>) -> Axes {
        Axes(SmallVec::from_vec(a))
    }
}

/// The second operand of a binary method or operator: a tensor, or a number that becomes a
/// scalar of the first operand's element type.
#[derive(Clone, Copy, Debug)]
pub enum Operand<'a> {
    /// A tensor of the same builder.
    Tensor(&'a Tensor),
    /// A number, converted to the other operand's element type.
    Scalar(f64),
}

/// What can be the second operand of a binary method or operator.
pub trait AsOperand {
    /// The operand.
    fn operand(&self) -> Operand<'_>;
}

impl AsOperand for Tensor {
    fn operand(&self) -> Operand<'_> {
        Operand::Tensor(self)
    }
}
impl AsOperand for &Tensor {
    fn operand(&self) -> Operand<'_> {
        Operand::Tensor(self)
    }
}
macro_rules! scalar_operand {
    ($($t:ty),*) => {$(
        impl AsOperand for $t {
            fn operand(&self) -> Operand<'_> {
                Operand::Scalar(*self as f64)
            }
        }
    )*};
}
scalar_operand!(f64, f32, i64, i32, u32, u8);

/// Normalizes a possibly negative axis of a rank-`rank` tensor.
fn norm_axis(op: &'static str, ty: &TensorType, a: i64) -> Result<i64> {
    let r = ty.rank() as i64;
    let n = if a < 0 { a + r } else { a };
    if n < 0 || n >= r {
        return Err(Error::Shape {
            op,
            message: format!("axis {a} is out of range for {ty} (rank {r})"),
        });
    }
    Ok(n)
}

/// Normalized, sorted, distinct axes.
fn norm_axes(op: &'static str, ty: &TensorType, axes: &Axes) -> Result<Vec<i64>> {
    let mut out = Vec::with_capacity(axes.0.len());
    for &a in &axes.0 {
        let n = norm_axis(op, ty, a)?;
        if out.contains(&n) {
            return Err(Error::Shape {
                op,
                message: format!("axis {a} appears twice in {:?} for {ty}", axes.0),
            });
        }
        out.push(n);
    }
    out.sort_unstable();
    Ok(out)
}

fn shape_error(op: &'static str, message: impl Into<String>) -> Error {
    Error::Shape {
        op,
        message: message.into(),
    }
}

macro_rules! unary_methods {
    ($($(#[$m:meta])* $name:ident => $call:ident),* $(,)?) => {
        impl Tensor {
            $(
                $(#[$m])*
                #[track_caller]
                pub fn $name(&self) -> Result<Tensor> {
                    let x = self.v;
                    self.rec.record1(stringify!($name), Location::caller(), |b| b.$call(x))
                }
            )*
        }
    };
}

unary_methods! {
    /// `-x`.
    neg => neg,
    /// `|x|`.
    abs => abs,
    /// `e^x`.
    exp => exp,
    /// `e^x - 1`, accurate near 0.
    expm1 => expm1,
    /// Natural logarithm.
    log => log,
    /// `ln(1 + x)`, accurate near 0.
    log1p => log1p,
    /// Square root.
    sqrt => sqrt,
    /// `1 / sqrt(x)`.
    rsqrt => rsqrt,
    /// Hyperbolic tangent.
    tanh => tanh,
    /// `1 / (1 + e^-x)`.
    sigmoid => logistic,
    /// Sine.
    sin => sin,
    /// Cosine.
    cos => cos,
    /// Round toward -inf.
    floor => floor,
    /// Round toward +inf.
    ceil => ceil,
    /// Round half away from zero.
    round => round,
    /// -1, 0 or 1.
    sign => sign,
    /// The error function.
    erf => erf,
    /// `max(x, 0)` (JAX's derivative: 0 at 0).
    relu => relu,
    /// `x * sigmoid(x)`.
    silu => silu,
    /// `x * x`.
    square => square,
    /// pred: neither infinite nor NaN.
    is_finite => is_finite,
    /// Logical (pred) or bitwise (integers) not.
    not => not,
}

macro_rules! binary_methods {
    ($($(#[$m:meta])* $name:ident => $op:ident),* $(,)?) => {
        impl Tensor {
            $(
                $(#[$m])*
                ///
                /// `other` is a tensor (numpy broadcasting) or a number of this tensor's type.
                #[track_caller]
                pub fn $name(&self, other: impl AsOperand) -> Result<Tensor> {
                    self.binary(stringify!($name), Location::caller(), BinaryOp::$op, other.operand())
                }
            )*
        }
    };
}

binary_methods! {
    /// `self + other`.
    add => Add,
    /// `self - other`.
    sub => Sub,
    /// `self * other`.
    mul => Mul,
    /// `self / other`.
    div => Div,
    /// `self ^ other`.
    pow => Pow,
    /// Elementwise maximum (NaN propagates).
    maximum => Max,
    /// Elementwise minimum (NaN propagates).
    minimum => Min,
    /// Logical / bitwise and.
    and => And,
    /// Logical / bitwise or.
    or => Or,
}

macro_rules! compare_methods {
    ($($(#[$m:meta])* $name:ident => $dir:ident),* $(,)?) => {
        impl Tensor {
            $(
                $(#[$m])*
                ///
                /// `other` is a tensor (numpy broadcasting) or a number of this tensor's type;
                /// the result is pred.
                #[track_caller]
                pub fn $name(&self, other: impl AsOperand) -> Result<Tensor> {
                    let at = Location::caller();
                    let x = self.v;
                    let other = other.operand();
                    self.rec.record1(stringify!($name), at, |b| {
                        let y = operand_value(b, x, other)?;
                        b.compare(ComparisonDirection::$dir, x, y)
                    })
                }
            )*
        }
    };
}

compare_methods! {
    /// `self == other`.
    eq => Eq,
    /// `self != other`.
    ne => Ne,
    /// `self < other`.
    lt => Lt,
    /// `self <= other`.
    le => Le,
    /// `self > other`.
    gt => Gt,
    /// `self >= other`.
    ge => Ge,
}

/// The value of an operand in `b`: the tensor's, or a scalar of `like`'s element type.
fn operand_value(b: &mut Builder, like: Value, o: Operand<'_>) -> Result<Value> {
    match o {
        Operand::Tensor(t) => Ok(t.v),
        Operand::Scalar(s) => b.scalar_like(like, s),
    }
}

impl Tensor {
    /// The value handle in the recording's builder.
    pub fn value(&self) -> Value {
        self.v
    }
    /// The recording this tensor belongs to.
    pub fn recording(&self) -> &Recording {
        &self.rec
    }
    /// Its type (element type and dimensions).
    pub fn ty(&self) -> &TensorType {
        &self.ty
    }
    /// Its element type.
    pub fn dtype(&self) -> ElementType {
        self.ty.ty
    }
    /// Its dimensions.
    pub fn dims(&self) -> &[i64] {
        &self.ty.dims
    }
    /// Its rank.
    pub fn rank(&self) -> usize {
        self.ty.rank()
    }
    /// The size of axis `axis` (negative counts from the end).
    #[track_caller]
    pub fn dim(&self, axis: i64) -> Result<i64> {
        let at = Location::caller();
        let a = norm_axis("dim", &self.ty, axis).map_err(|e| e.at("dim", at))?;
        Ok(self.ty.dims[a as usize])
    }

    fn binary(
        &self,
        op: &'static str,
        at: &'static Location<'static>,
        bop: BinaryOp,
        other: Operand<'_>,
    ) -> Result<Tensor> {
        let x = self.v;
        self.rec.record1(op, at, |b| {
            let y = operand_value(b, x, other)?;
            b.binary(bop, x, y)
        })
    }

    /// `other - self` (for `number - tensor`).
    #[track_caller]
    pub fn rsub(&self, other: impl AsOperand) -> Result<Tensor> {
        let at = Location::caller();
        let x = self.v;
        let o = other.operand();
        self.rec.record1("sub", at, |b| {
            let y = operand_value(b, x, o)?;
            b.sub(y, x)
        })
    }

    /// `other / self` (for `number / tensor`).
    #[track_caller]
    pub fn rdiv(&self, other: impl AsOperand) -> Result<Tensor> {
        let at = Location::caller();
        let x = self.v;
        let o = other.operand();
        self.rec.record1("div", at, |b| {
            let y = operand_value(b, x, o)?;
            b.div(y, x)
        })
    }

    /// `1 / self`.
    #[track_caller]
    pub fn recip(&self) -> Result<Tensor> {
        self.rdiv(1.0)
    }

    /// GELU, exact (`erf` form).
    #[track_caller]
    pub fn gelu(&self) -> Result<Tensor> {
        let x = self.v;
        self.rec
            .record1("gelu", Location::caller(), |b| b.gelu(x, false))
    }

    /// GELU, `tanh` approximation.
    #[track_caller]
    pub fn gelu_tanh(&self) -> Result<Tensor> {
        let x = self.v;
        self.rec
            .record1("gelu_tanh", Location::caller(), |b| b.gelu(x, true))
    }

    /// `x` clamped to `[lo, hi]`.
    #[track_caller]
    pub fn clamp(&self, lo: f64, hi: f64) -> Result<Tensor> {
        let x = self.v;
        self.rec.record1("clamp", Location::caller(), |b| {
            let l = b.scalar_like(x, lo)?;
            let h = b.scalar_like(x, hi)?;
            b.clamp(l, x, h)
        })
    }

    /// The values converted to element type `ty`.
    #[track_caller]
    pub fn to_dtype(&self, ty: ElementType) -> Result<Tensor> {
        let x = self.v;
        self.rec
            .record1("to_dtype", Location::caller(), |b| b.convert(x, ty))
    }

    /// A tensor of this one's type filled with `value`.
    #[track_caller]
    pub fn full_like(&self, value: f64) -> Result<Tensor> {
        let x = self.v;
        self.rec
            .record1("full_like", Location::caller(), |b| b.full_like(x, value))
    }

    /// Zeros of this tensor's type.
    #[track_caller]
    pub fn zeros_like(&self) -> Result<Tensor> {
        self.full_like(0.0)
    }

    /// Ones of this tensor's type.
    #[track_caller]
    pub fn ones_like(&self) -> Result<Tensor> {
        self.full_like(1.0)
    }

    /// A scalar of this tensor's element type.
    #[track_caller]
    pub fn scalar(&self, value: f64) -> Result<Tensor> {
        let x = self.v;
        self.rec
            .record1("scalar", Location::caller(), |b| b.scalar_like(x, value))
    }

    /// `0, 1, ..., n - 1` as `ty[n]`, in this tensor's recording.
    #[track_caller]
    pub fn arange(&self, n: i64, ty: ElementType) -> Result<Tensor> {
        self.rec
            .record1("arange", Location::caller(), |b| b.iota(ty, [n], 0))
    }

    // ------------------------------------------------------------ reductions

    fn reduce(
        &self,
        op: &'static str,
        at: &'static Location<'static>,
        axes: Axes,
        keepdim: bool,
        f: impl FnOnce(&mut Builder, Value, &[i64]) -> Result<Value>,
    ) -> Result<Tensor> {
        let x = self.v;
        let ty = self.ty.clone();
        self.rec.record1(op, at, |b| {
            let axes = norm_axes(op, &ty, &axes)?;
            let r = f(b, x, &axes)?;
            if keepdim {
                let d: Vec<i64> = (0..ty.rank() as i64)
                    .map(|i| {
                        if axes.contains(&i) {
                            1
                        } else {
                            ty.dims[i as usize]
                        }
                    })
                    .collect();
                b.reshape(r, d)
            } else {
                Ok(r)
            }
        })
    }

    fn all_axes(&self) -> Axes {
        Axes((0..self.rank() as i64).collect())
    }
}

macro_rules! reductions {
    ($($(#[$m:meta])* $name:ident, $keep:ident, $all:ident => $call:ident),* $(,)?) => {
        impl Tensor {
            $(
                $(#[$m])*
                #[track_caller]
                pub fn $name(&self, axes: impl Into<Axes>) -> Result<Tensor> {
                    self.reduce(stringify!($name), Location::caller(), axes.into(), false, |b, x, a| b.$call(x, a))
                }
                $(#[$m])*
                /// The reduced axes are kept with size 1.
                #[track_caller]
                pub fn $keep(&self, axes: impl Into<Axes>) -> Result<Tensor> {
                    self.reduce(stringify!($keep), Location::caller(), axes.into(), true, |b, x, a| b.$call(x, a))
                }
                $(#[$m])*
                /// Over all axes, to a scalar.
                #[track_caller]
                pub fn $all(&self) -> Result<Tensor> {
                    self.reduce(stringify!($all), Location::caller(), self.all_axes(), false, |b, x, a| b.$call(x, a))
                }
            )*
        }
    };
}

reductions! {
    /// Sum over `axes`.
    sum, sum_keepdim, sum_all => reduce_sum,
    /// Mean over `axes` (float types).
    mean, mean_keepdim, mean_all => mean_axes,
    /// Maximum over `axes`.
    max, max_keepdim, max_all => reduce_max,
    /// Minimum over `axes`.
    min, min_keepdim, min_all => reduce_min,
    /// Product over `axes`.
    prod, prod_keepdim, prod_all => reduce_prod,
    /// Population variance over `axes` (float types).
    var, var_keepdim, var_all => var,
    /// `log(sum(exp(x)))` over `axes`, computed stably.
    logsumexp, logsumexp_keepdim, logsumexp_all => logsumexp,
}

impl Tensor {
    /// Softmax along `axis`.
    #[track_caller]
    pub fn softmax(&self, axis: i64) -> Result<Tensor> {
        let (x, ty) = (self.v, self.ty.clone());
        self.rec.record1("softmax", Location::caller(), |b| {
            let a = norm_axis("softmax", &ty, axis)?;
            b.softmax(x, a)
        })
    }

    /// Log-softmax along `axis`.
    #[track_caller]
    pub fn log_softmax(&self, axis: i64) -> Result<Tensor> {
        let (x, ty) = (self.v, self.ty.clone());
        self.rec.record1("log_softmax", Location::caller(), |b| {
            let a = norm_axis("log_softmax", &ty, axis)?;
            b.log_softmax(x, a)
        })
    }

    /// Index (s32) of the largest element along `axis`.
    #[track_caller]
    pub fn argmax(&self, axis: i64) -> Result<Tensor> {
        let (x, ty) = (self.v, self.ty.clone());
        self.rec.record1("argmax", Location::caller(), |b| {
            let a = norm_axis("argmax", &ty, axis)?;
            b.argmax(x, a)
        })
    }

    /// Index (s32) of the smallest element along `axis`.
    #[track_caller]
    pub fn argmin(&self, axis: i64) -> Result<Tensor> {
        let (x, ty) = (self.v, self.ty.clone());
        self.rec.record1("argmin", Location::caller(), |b| {
            let a = norm_axis("argmin", &ty, axis)?;
            b.argmin(x, a)
        })
    }

    /// Inclusive cumulative sum along `axis`.
    #[track_caller]
    pub fn cumsum(&self, axis: i64) -> Result<Tensor> {
        let (x, ty) = (self.v, self.ty.clone());
        self.rec.record1("cumsum", Location::caller(), |b| {
            let a = norm_axis("cumsum", &ty, axis)?;
            b.cumsum(x, a)
        })
    }

    // ------------------------------------------------------------ shape

    /// Same elements, new dimensions; one entry may be -1 (inferred).
    #[track_caller]
    pub fn reshape(&self, dims: impl AsRef<[i64]>) -> Result<Tensor> {
        let at = Location::caller();
        let (x, ty) = (self.v, self.ty.clone());
        let dims = dims.as_ref().to_vec();
        self.rec.record1("reshape", at, |b| {
            let d = infer_dims(&ty, &dims)?;
            b.reshape(x, d)
        })
    }

    /// Result axis i is axis `perm[i]` (negative axes allowed).
    #[track_caller]
    pub fn transpose(&self, perm: impl AsRef<[i64]>) -> Result<Tensor> {
        let at = Location::caller();
        let (x, ty) = (self.v, self.ty.clone());
        let perm = perm.as_ref().to_vec();
        self.rec.record1("transpose", at, |b| {
            let p: Vec<i64> = perm
                .iter()
                .map(|&a| norm_axis("transpose", &ty, a))
                .collect::<Result<_>>()?;
            b.transpose(x, p)
        })
    }

    /// Swaps two axes.
    #[track_caller]
    pub fn swapaxes(&self, a: i64, c: i64) -> Result<Tensor> {
        let at = Location::caller();
        let (x, ty) = (self.v, self.ty.clone());
        self.rec.record1("swapaxes", at, |b| {
            let a = norm_axis("swapaxes", &ty, a)? as usize;
            let c = norm_axis("swapaxes", &ty, c)? as usize;
            let mut p: Vec<i64> = (0..ty.rank() as i64).collect();
            p.swap(a, c);
            b.transpose(x, p)
        })
    }

    /// The last two axes swapped (a matrix transpose, batched).
    #[track_caller]
    pub fn t(&self) -> Result<Tensor> {
        self.swapaxes(-2, -1)
    }

    /// A new axis of size 1 at `axis` (of the result: `-1` appends).
    #[track_caller]
    pub fn expand_dims(&self, axis: i64) -> Result<Tensor> {
        let at = Location::caller();
        let (x, ty) = (self.v, self.ty.clone());
        self.rec.record1("expand_dims", at, |b| {
            let r = ty.rank() as i64 + 1;
            let a = if axis < 0 { axis + r } else { axis };
            if a < 0 || a >= r {
                return Err(shape_error(
                    "expand_dims",
                    format!("axis {axis} is out of range for a new axis of {ty}"),
                ));
            }
            let mut d = ty.dims.to_vec();
            d.insert(a as usize, 1);
            b.reshape(x, d)
        })
    }

    /// Removes axis `axis`, which must have size 1.
    #[track_caller]
    pub fn squeeze(&self, axis: i64) -> Result<Tensor> {
        let at = Location::caller();
        let (x, ty) = (self.v, self.ty.clone());
        self.rec.record1("squeeze", at, |b| {
            let a = norm_axis("squeeze", &ty, axis)? as usize;
            if ty.dims[a] != 1 {
                return Err(shape_error(
                    "squeeze",
                    format!("axis {axis} of {ty} has size {}, not 1", ty.dims[a]),
                ));
            }
            let mut d = ty.dims.to_vec();
            d.remove(a);
            b.reshape(x, d)
        })
    }

    /// Axes `start..=end` merged into one.
    #[track_caller]
    pub fn flatten(&self, start: i64, end: i64) -> Result<Tensor> {
        let at = Location::caller();
        let (x, ty) = (self.v, self.ty.clone());
        self.rec.record1("flatten", at, |b| {
            let s = norm_axis("flatten", &ty, start)? as usize;
            let e = norm_axis("flatten", &ty, end)? as usize;
            if s > e {
                return Err(shape_error(
                    "flatten",
                    format!("start axis {start} comes after end axis {end} in {ty}"),
                ));
            }
            let mut d: Vec<i64> = ty.dims[..s].to_vec();
            d.push(ty.dims[s..=e].iter().product());
            d.extend_from_slice(&ty.dims[e + 1..]);
            b.reshape(x, d)
        })
    }

    /// Numpy broadcast to `dims`.
    #[track_caller]
    pub fn broadcast_to(&self, dims: impl AsRef<[i64]>) -> Result<Tensor> {
        let x = self.v;
        self.rec.record1("broadcast_to", Location::caller(), |b| {
            b.broadcast_to(x, dims)
        })
    }

    /// `len` elements of axis `axis` from `start`.
    #[track_caller]
    pub fn narrow(&self, axis: i64, start: i64, len: i64) -> Result<Tensor> {
        let at = Location::caller();
        let (x, ty) = (self.v, self.ty.clone());
        self.rec.record1("narrow", at, |b| {
            let a = norm_axis("narrow", &ty, axis)?;
            b.slice_axis(x, a, start, start.saturating_add(len))
        })
    }

    /// A slice of dimensions `sizes` starting at run-time indices `starts` (one integer
    /// scalar tensor per axis; clamped into range).
    #[track_caller]
    pub fn dynamic_slice(&self, starts: &[&Tensor], sizes: impl AsRef<[i64]>) -> Result<Tensor> {
        let x = self.v;
        let st: Vec<Value> = starts.iter().map(|t| t.v).collect();
        self.rec.record1("dynamic_slice", Location::caller(), |b| {
            b.dynamic_slice(x, &st, sizes)
        })
    }

    /// This tensor with `update` written at run-time indices `starts` (one integer scalar
    /// tensor per axis; clamped into range).
    #[track_caller]
    pub fn dynamic_update_slice(&self, update: &Tensor, starts: &[&Tensor]) -> Result<Tensor> {
        let (x, u) = (self.v, update.v);
        let st: Vec<Value> = starts.iter().map(|t| t.v).collect();
        self.rec
            .record1("dynamic_update_slice", Location::caller(), |b| {
                b.dynamic_update_slice(x, u, &st)
            })
    }

    /// Element `index` of axis `axis`, the axis removed (negative indices count from the end).
    #[track_caller]
    pub fn index(&self, axis: i64, index: i64) -> Result<Tensor> {
        let at = Location::caller();
        let (x, ty) = (self.v, self.ty.clone());
        self.rec.record1("index", at, |b| {
            let a = norm_axis("index", &ty, axis)?;
            let n = ty.dims[a as usize];
            let i = if index < 0 { index + n } else { index };
            if i < 0 || i >= n {
                return Err(shape_error(
                    "index",
                    format!("index {index} is out of range for axis {axis} of {ty}"),
                ));
            }
            let s = b.slice_axis(x, a, i, i + 1)?;
            let mut d = ty.dims.to_vec();
            d.remove(a as usize);
            b.reshape(s, d)
        })
    }

    /// Pieces of axis `axis` of the given sizes (they must add up to its size).
    #[track_caller]
    pub fn split(&self, sizes: impl AsRef<[i64]>, axis: i64) -> Result<Vec<Tensor>> {
        let at = Location::caller();
        let (x, ty) = (self.v, self.ty.clone());
        let sizes = sizes.as_ref().to_vec();
        self.rec.record_many("split", at, |b| {
            let a = norm_axis("split", &ty, axis)?;
            let total: i64 = sizes.iter().sum();
            if sizes.iter().any(|&s| s < 0) || total != ty.dims[a as usize] {
                return Err(shape_error(
                    "split",
                    format!(
                        "sizes {sizes:?} must be >= 0 and add up to axis {axis} of {ty} ({})",
                        ty.dims[a as usize]
                    ),
                ));
            }
            let mut out = Vec::with_capacity(sizes.len());
            let mut off = 0;
            for s in sizes {
                out.push(b.slice_axis(x, a, off, off + s)?);
                off += s;
            }
            Ok(out)
        })
    }

    /// `n` equal pieces of axis `axis`.
    #[track_caller]
    pub fn chunk(&self, n: i64, axis: i64) -> Result<Vec<Tensor>> {
        let at = Location::caller();
        let a = norm_axis("chunk", &self.ty, axis).map_err(|e| e.at("chunk", at))?;
        let d = self.ty.dims[a as usize];
        if n <= 0 || d % n != 0 {
            return Err(shape_error(
                "chunk",
                format!(
                    "axis {axis} of {} ({d}) does not split into {n} equal pieces",
                    self.ty
                ),
            )
            .at("chunk", at));
        }
        self.split(vec![d / n; n as usize], axis)
    }

    /// The tensors joined along existing axis `axis` (other axes equal).
    #[track_caller]
    pub fn cat(tensors: &[&Tensor], axis: i64) -> Result<Tensor> {
        let at = Location::caller();
        let first = tensors
            .first()
            .ok_or_else(|| shape_error("cat", "needs at least one tensor").at("cat", at))?;
        let vs: Vec<Value> = tensors.iter().map(|t| t.v).collect();
        let ty = first.ty.clone();
        first.rec.record1("cat", at, |b| {
            let a = norm_axis("cat", &ty, axis)?;
            b.concatenate(&vs, a)
        })
    }

    /// The tensors (of one shape) stacked along a new axis `axis`.
    #[track_caller]
    pub fn stack(tensors: &[&Tensor], axis: i64) -> Result<Tensor> {
        let at = Location::caller();
        let first = tensors
            .first()
            .ok_or_else(|| shape_error("stack", "needs at least one tensor").at("stack", at))?;
        let vs: Vec<Value> = tensors.iter().map(|t| t.v).collect();
        let ty = first.ty.clone();
        first.rec.record1("stack", at, |b| {
            let r = ty.rank() as i64 + 1;
            let a = if axis < 0 { axis + r } else { axis };
            if a < 0 || a >= r {
                return Err(shape_error(
                    "stack",
                    format!("axis {axis} is out of range for a new axis of {ty}"),
                ));
            }
            let mut d = ty.dims.to_vec();
            d.insert(a as usize, 1);
            let mut parts = Vec::with_capacity(vs.len());
            for v in vs {
                parts.push(b.reshape(v, &d)?);
            }
            b.concatenate(&parts, a)
        })
    }

    /// The elements of axis `axis` at `indices` (an integer tensor of any shape): the result
    /// has this tensor's axes before `axis`, then `indices`' axes, then the rest (numpy's
    /// `take`; out-of-range indices are clamped).
    #[track_caller]
    pub fn take(&self, indices: &Tensor, axis: i64) -> Result<Tensor> {
        let at = Location::caller();
        let (x, ty) = (self.v, self.ty.clone());
        let (iv, it) = (indices.v, indices.ty.clone());
        self.rec.record1("take", at, |b| {
            let a = norm_axis("take", &ty, axis)?;
            let r = ty.rank() as i64;
            let ri = it.rank() as i64;
            let offset_dims: Vec<i64> = (0..a).chain(a + ri..r - 1 + ri).collect();
            let mut slice = ty.dims.to_vec();
            slice[a as usize] = 1;
            b.gather(
                x,
                iv,
                GatherDims {
                    offset_dims,
                    collapsed_slice_dims: vec![a],
                    start_index_map: vec![a],
                    index_vector_dim: ri,
                },
                slice,
                false,
            )
        })
    }

    /// `self ? on_true : on_false` elementwise (`self` pred; numpy broadcasting of all three;
    /// a number takes the other operand's type).
    #[track_caller]
    pub fn where_(&self, on_true: impl AsOperand, on_false: impl AsOperand) -> Result<Tensor> {
        let at = Location::caller();
        let c = self.v;
        let (t, f) = (on_true.operand(), on_false.operand());
        self.rec.record1("where", at, |b| {
            let like = match (t, f) {
                (Operand::Tensor(x), _) | (_, Operand::Tensor(x)) => x.v,
                _ => {
                    return Err(shape_error(
                        "where",
                        "at least one of the two branches must be a tensor",
                    ))
                }
            };
            let tv = operand_value(b, like, t)?;
            let fv = operand_value(b, like, f)?;
            b.where_(c, tv, fv)
        })
    }

    /// The lower triangle of the last two axes, on and below diagonal `k`; the rest zero.
    #[track_caller]
    pub fn tril(&self, k: i64) -> Result<Tensor> {
        let x = self.v;
        self.rec
            .record1("tril", Location::caller(), |b| b.tril(x, k))
    }

    /// The upper triangle of the last two axes, on and above diagonal `k`; the rest zero.
    #[track_caller]
    pub fn triu(&self, k: i64) -> Result<Tensor> {
        let x = self.v;
        self.rec
            .record1("triu", Location::caller(), |b| b.triu(x, k))
    }

    /// Pads each axis with `(low, high)` copies of `value` (negative padding crops).
    #[track_caller]
    pub fn pad(&self, padding: &[(i64, i64)], value: f64) -> Result<Tensor> {
        let at = Location::caller();
        let x = self.v;
        let low: Vec<i64> = padding.iter().map(|p| p.0).collect();
        let high: Vec<i64> = padding.iter().map(|p| p.1).collect();
        let r = self.rank();
        self.rec.record1("pad", at, |b| {
            let v = b.scalar_like(x, value)?;
            b.pad(x, v, low, high, vec![0; r])
        })
    }

    // ------------------------------------------------------------ linear algebra

    /// Numpy matmul: `[..., m, k] @ [..., k, n] -> [..., m, n]` (batch axes broadcast).
    #[track_caller]
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        let (x, y) = (self.v, other.v);
        self.rec
            .record1("matmul", Location::caller(), |b| b.matmul(x, y))
    }

    /// Convolution with `kernel` (see [`Builder::convolution`]).
    #[track_caller]
    pub fn convolution(&self, kernel: &Tensor, config: ConvConfig) -> Result<Tensor> {
        let (x, k) = (self.v, kernel.v);
        self.rec.record1("convolution", Location::caller(), |b| {
            b.convolution(x, k, config)
        })
    }

    /// Max pooling: window sizes and strides per axis, no padding.
    #[track_caller]
    pub fn max_pool(
        &self,
        window: impl AsRef<[i64]>,
        strides: impl AsRef<[i64]>,
    ) -> Result<Tensor> {
        let x = self.v;
        self.rec.record1("max_pool", Location::caller(), |b| {
            b.max_pool(x, window, strides)
        })
    }

    /// Average pooling: window sizes and strides per axis, no padding.
    #[track_caller]
    pub fn avg_pool(
        &self,
        window: impl AsRef<[i64]>,
        strides: impl AsRef<[i64]>,
    ) -> Result<Tensor> {
        let x = self.v;
        self.rec.record1("avg_pool", Location::caller(), |b| {
            b.avg_pool(x, window, strides)
        })
    }

    /// The Cholesky factor (lower: `a = l lᵀ`; else upper `a = uᵀ u`).
    #[track_caller]
    pub fn cholesky(&self, lower: bool) -> Result<Tensor> {
        let x = self.v;
        self.rec
            .record1("cholesky", Location::caller(), |b| b.cholesky(x, lower))
    }

    // ------------------------------------------------------------ classification

    /// One-hot encoding of integer indices: `[..., depth]` of type `ty`.
    #[track_caller]
    pub fn one_hot(&self, depth: i64, ty: ElementType) -> Result<Tensor> {
        let x = self.v;
        self.rec
            .record1("one_hot", Location::caller(), |b| b.one_hot(x, depth, ty))
    }

    /// Mean cross-entropy of logits `[..., classes]` (this tensor) against integer labels
    /// `[...]` in `0..classes` (see [`Builder::cross_entropy`]).
    #[track_caller]
    pub fn cross_entropy(&self, labels: &Tensor) -> Result<Tensor> {
        let (x, l) = (self.v, labels.v);
        self.rec.record1("cross_entropy", Location::caller(), |b| {
            b.cross_entropy(x, l)
        })
    }

    /// Mean cross-entropy of logits `[..., classes]` (this tensor) against target
    /// distributions of the same shape (see [`Builder::softmax_cross_entropy`]).
    #[track_caller]
    pub fn softmax_cross_entropy(&self, targets: &Tensor) -> Result<Tensor> {
        let (x, t) = (self.v, targets.v);
        self.rec
            .record1("softmax_cross_entropy", Location::caller(), |b| {
                b.softmax_cross_entropy(x, t)
            })
    }

    /// Mean squared error against `target` (same shape; see [`Builder::mse`]).
    #[track_caller]
    pub fn mse(&self, target: &Tensor) -> Result<Tensor> {
        let (x, y) = (self.v, target.v);
        self.rec.record1("mse", Location::caller(), |b| b.mse(x, y))
    }
}

/// Dimensions with one `-1` inferred from the element count of `ty`.
fn infer_dims(ty: &TensorType, dims: &[i64]) -> Result<Vec<i64>> {
    let unknown: Vec<usize> = (0..dims.len()).filter(|&i| dims[i] == -1).collect();
    if unknown.len() > 1 {
        return Err(shape_error(
            "reshape",
            format!("{dims:?} has more than one -1"),
        ));
    }
    let mut d = dims.to_vec();
    if let Some(&i) = unknown.first() {
        let known: i64 = dims
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, &v)| v)
            .product();
        let n = ty.element_count();
        if known <= 0 || n % known != 0 {
            return Err(shape_error(
                "reshape",
                format!("cannot infer the -1 in {dims:?} for {ty} ({n} elements)"),
            ));
        }
        d[i] = n / known;
    }
    Ok(d)
}

// ---------------------------------------------------------------- operators

macro_rules! operator {
    ($trait:ident, $method:ident, $call:ident, $rcall:ident) => {
        impl<O: AsOperand> $trait<O> for &Tensor {
            type Output = Result<Tensor>;
            #[track_caller]
            fn $method(self, rhs: O) -> Result<Tensor> {
                Tensor::$call(self, rhs)
            }
        }
        impl<O: AsOperand> $trait<O> for Tensor {
            type Output = Result<Tensor>;
            #[track_caller]
            fn $method(self, rhs: O) -> Result<Tensor> {
                Tensor::$call(&self, rhs)
            }
        }
        impl $trait<&Tensor> for f64 {
            type Output = Result<Tensor>;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Result<Tensor> {
                rhs.$rcall(self)
            }
        }
        impl $trait<Tensor> for f64 {
            type Output = Result<Tensor>;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Result<Tensor> {
                rhs.$rcall(self)
            }
        }
    };
}

operator!(Add, add, add, add);
operator!(Sub, sub, sub, rsub);
operator!(Mul, mul, mul, mul);
operator!(Div, div, div, rdiv);

impl Neg for &Tensor {
    type Output = Result<Tensor>;
    #[track_caller]
    fn neg(self) -> Result<Tensor> {
        Tensor::neg(self)
    }
}

impl Neg for Tensor {
    type Output = Result<Tensor>;
    #[track_caller]
    fn neg(self) -> Result<Tensor> {
        Tensor::neg(&self)
    }
}
