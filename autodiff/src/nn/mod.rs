//! Models as Rust types: parameter trees (`#[derive(Module)]`), layers, and initializers.
//!
//! A model is a struct of layers; each layer holds [`Param`]s. `#[derive(Module)]` makes it
//! a tree whose leaves have path names (`blocks.0.attn.qkv.weight`), visited in one fixed
//! order; [`ModuleExt`] initializes it from any `rand` generator, binds it to a recording
//! (train steps and bound functions do this), and reads and writes its host values. The
//! gradients and optimizer states of a model are trees of the same type.
//!
//! ```
//! use autodiff::nn::{Linear, Module, ModuleExt, Mlp, Activation, ParamKind};
//! use hlo_builder::{ElementType::F32, Recording};
//!
//! #[derive(Clone, Debug, Module)]
//! struct Regressor {
//!     body: Mlp,
//!     head: Linear,
//! }
//!
//! let model = Regressor {
//!     body: Mlp::new(&[3, 8, 8], Activation::Tanh),
//!     head: Linear::new(8, 1),
//! };
//! let model = model.init(&mut autodiff::nn::seeded(0))?;
//! let names: Vec<String> = model.params().into_iter().map(|(p, _)| p).collect();
//! assert_eq!(names[0], "body.layers.0.weight");
//! assert_eq!(names.last().unwrap(), "head.bias");
//!
//! // Layers record into a function when their parameters are bound to it:
//! let f = Recording::new("predict");
//! let (bound, _params) = model.bind(&f, &[ParamKind::Trainable])?;
//! let x = f.parameter("x", F32, [4, 3])?;
//! let y = bound.head.forward(&bound.body.forward(&x)?.tanh()?)?;
//! assert_eq!(y.dims(), [4, 1]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod attention;
mod conv;
mod dropout;
mod embedding;
pub mod init;
mod linear;
mod mlp;
mod module;
mod norm;
mod param;
mod remat;
mod rope;
mod transformer;

pub use attention::{scaled_dot_product_attention, KvCache, Mask, MultiHeadAttention};
pub use autodiff_derive::Module;
pub use conv::{Conv, Conv1d, Conv2d, Padding};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use init::{permutation, seeded, shuffle, Init};
pub use linear::Linear;
pub use mlp::{Activation, Mlp};
pub use module::{Module, ModuleCast, ModuleExt, Path};
pub use norm::{BatchNorm, LayerNorm, RmsNorm};
pub use param::{Param, ParamKind, ParamValue};
pub use remat::remat;
pub use rope::rope;
pub use transformer::TransformerBlock;
