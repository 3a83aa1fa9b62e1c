//! Neural-network building blocks as compositions of builder ops: layers, activations,
//! losses, and host-side seeded initialisers.
//!
//! Every layer is a plain function of a [`Builder`](hlo_builder::Builder) and tensors: parameters are ordinary
//! function parameters (or any tensor), so the same functions serve a training step (where
//! autodiff differentiates them: they record only primitives) and an inference function.
//! Layouts follow TensorFlow: images are NHWC, convolution kernels HWIO, dense weights
//! `[in, out]`.
//!
//! ```
//! use autodiff::train::nn;
//! use hlo_builder::{Builder, ElementType::F32};
//!
//! let mut b = Builder::new("classifier");
//! let x = b.parameter("x", F32, [32, 64])?;
//! let w = b.parameter("w", F32, [64, 10])?;
//! let bias = b.parameter("b", F32, [10])?;
//! let labels = b.parameter("labels", hlo_builder::ElementType::S32, [32])?;
//! let logits = nn::dense(&mut b, x, w, Some(bias))?;
//! let loss = nn::sparse_softmax_cross_entropy(&mut b, logits, labels)?;
//! assert_eq!(b.ty(loss)?.to_string(), "f32[]");
//! # Ok::<(), hlo_builder::Error>(())
//! ```

pub mod activation;
pub mod init;
pub mod layers;
pub mod loss;
pub mod model;

pub use activation::{activation, elu, leaky_relu, sigmoid, softplus, Activation};
pub use init::{permutation, seeded, shuffle, Init};
pub use layers::{
    avg_pool2d, batch_norm_infer, batch_norm_train, conv2d, dense, dropout, embedding, flatten,
    layer_norm, max_pool2d, moving_average, Padding,
};
pub use loss::{
    accuracy, binary_cross_entropy, binary_cross_entropy_with_logits, mse, predictions,
    softmax_cross_entropy, sparse_softmax_cross_entropy,
};
pub use model::{init_all, init_all_from, Mlp, Model, ParamSpec};
