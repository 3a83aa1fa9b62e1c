//! Activations beyond the builder's own (`relu`, `gelu`, `silu`, `tanh`, `logistic`,
//! `softmax`, `log_softmax`), and an enum to pick one by value.

use crate::error::layer_err as shape_err;
use hlo_builder::Builder;
use hlo_builder::Result;
use hlo_builder::Value;

/// An elementwise activation, chosen by value (e.g. in a model's configuration).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Identity,
    Relu,
    /// `max(x, alpha x)` with `0 <= alpha < 1`.
    LeakyRelu(f32),
    /// `x` for `x > 0`, else `alpha (e^x - 1)`.
    Elu(f32),
    /// Exact GELU (with erf).
    Gelu,
    /// GELU, tanh approximation.
    GeluTanh,
    Silu,
    Sigmoid,
    Tanh,
    Softplus,
}

/// Applies `act` elementwise. Shapes: `T[d...] -> T[d...]`.
pub fn activation(b: &mut Builder, x: Value, act: Activation) -> Result<Value> {
    match act {
        Activation::Identity => Ok(x),
        Activation::Relu => b.relu(x),
        Activation::LeakyRelu(a) => leaky_relu(b, x, a),
        Activation::Elu(a) => elu(b, x, a),
        Activation::Gelu => b.gelu(x, false),
        Activation::GeluTanh => b.gelu(x, true),
        Activation::Silu => b.silu(x),
        Activation::Sigmoid => sigmoid(b, x),
        Activation::Tanh => b.tanh(x),
        Activation::Softplus => softplus(b, x),
    }
}

/// `1 / (1 + e^-x)`. Shapes: `T[d...] -> T[d...]`.
pub fn sigmoid(b: &mut Builder, x: Value) -> Result<Value> {
    b.logistic(x)
}

/// `max(x, alpha x)` for `0 <= alpha < 1`. Shapes: `T[d...] -> T[d...]`.
pub fn leaky_relu(b: &mut Builder, x: Value, alpha: f32) -> Result<Value> {
    if !(0.0..1.0).contains(&alpha) {
        return shape_err("leaky_relu", format!("alpha {alpha} must be in [0, 1)"));
    }
    let a = b.scalar_like(x, alpha as f64)?;
    let ax = b.mul(x, a)?;
    b.max(x, ax)
}

/// `x` where `x > 0`, else `alpha (e^x - 1)`. Shapes: `T[d...] -> T[d...]`.
pub fn elu(b: &mut Builder, x: Value, alpha: f32) -> Result<Value> {
    let zero = b.zeros_like(x)?;
    let pos = b.gt(x, zero)?;
    // expm1 of min(x, 0) so the unused branch never overflows.
    let neg_part = b.min(x, zero)?;
    let e = b.expm1(neg_part)?;
    let a = b.scalar_like(x, alpha as f64)?;
    let e = b.mul(e, a)?;
    b.select(pos, x, e)
}

/// `log(1 + e^x)`, computed as `max(x, 0) + log1p(e^-|x|)` (no overflow).
/// Shapes: `T[d...] -> T[d...]`.
pub fn softplus(b: &mut Builder, x: Value) -> Result<Value> {
    let r = b.relu(x)?;
    let a = b.abs(x)?;
    let na = b.neg(a)?;
    let e = b.exp(na)?;
    let l = b.log1p(e)?;
    b.add(r, l)
}
