//! Reverse- and forward-mode gradients over [`hlo_builder`] graphs, plus optimizers as graph
//! functions.
//!
//! Gradients are recorded into the same [`Builder`](hlo_builder::Builder) as the function, so
//! a loss and its gradients (and an optimizer update) compile into one executable.
//!
//! ```
//! use hlo_builder::{Builder, ElementType::F32};
//!
//! let mut b = Builder::new("loss");
//! let x = b.parameter("x", F32, [3])?;
//! let w = b.parameter("w", F32, [3])?;
//! let y = b.mul(x, w)?;
//! let y = b.tanh(y)?;
//! let loss = b.reduce_sum(y, [0])?;
//! let g = autodiff::grad(&mut b, loss, &[w])?; // d loss / d w = x * (1 - tanh(x w)^2)
//!
//! let client = pjrt::Client::default_cpu()?;
//! let exe = b.build(&[loss, g[0]])?.compile(&client)?;
//! let xs = pjrt::Literal::from_slice(&[1.0f32, 2.0, -1.0], &[3])?;
//! let ws = pjrt::Literal::from_slice(&[0.5f32, 0.0, 1.0], &[3])?;
//! let out = exe.run(&[&xs, &ws])?;
//! let dw: Vec<f32> = out[1].to_vec()?;
//! let want = [1.0 - 0.5f32.tanh().powi(2), 2.0, -(1.0 - 1.0f32.tanh().powi(2))];
//! for (a, b) in dw.iter().zip(want) {
//!     assert!((a - b).abs() < 1e-6);
//! }
//!
//! // Asking for the gradient of an integer value is an error, not a panic:
//! let i = b.parameter("i", hlo_builder::ElementType::S32, [])?;
//! assert!(autodiff::grad(&mut b, i, &[w]).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - [`grad`], [`value_and_grad`], [`vjp`], [`jvp`], [`hvp`]: with respect to any values of the
//!   graph (parameters or intermediates).
//! - [`vmap`]: vectorizes a per-example function over a batch (one batching rule per
//!   primitive; composes with the gradients and with itself: per-example gradients are
//!   `vmap` of `grad`), and the Jacobians [`jacrev`], [`jacfwd`], [`hessian`] built on it.
//! - [`stop_gradient`], [`custom_vjp`], [`custom_jvp`], [`checkpoint`] and
//!   [`checkpoint_with`] (rematerialization, its kept inputs on the device or offloaded to
//!   host memory), [`fori_loop`] (a `while` whose trip count the graph records).
//! - [`nn`]: models as Rust types (`#[derive(Module)]` parameter trees), layers and
//!   initializers.
//! - [`train`]: the training library: optimizers ([`train::optim`]: SGD with momentum and
//!   Nesterov, Adam, AdamW, RMSProp, weight decay, clipping by global norm, learning-rate
//!   schedules), one-executable train steps with metrics and model state, functions bound to
//!   the live weights, the loop, checkpoints and export.
#![deny(missing_docs)]

// The derive macro names `::autodiff::nn`; this makes that path work inside the crate too.
extern crate self as autodiff;

mod check;
mod custom;
mod error;
mod forward;
mod jacobian;
pub mod nn;
mod options;
mod reverse;
mod rules;
pub mod train;
mod vmap;

pub use custom::{
    checkpoint, checkpoint_with, custom_jvp, custom_vjp, fori_loop, stop_gradient, JvpRule, VjpRule,
};
pub use error::{Error, Result};
pub use forward::jvp;
pub use jacobian::{hessian, jacfwd, jacrev};
pub use options::{GradOptions, WeightGradients};
pub use reverse::{grad, grad_with, hvp, value_and_grad, value_and_grad_with, vjp};
pub use vmap::vmap;
