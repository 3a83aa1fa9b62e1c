//! [`Mlp`]: linear layers with an [`Activation`] between them.

use hlo_builder::{CheckpointPolicy, Result, Tensor};

use super::init::Init;
use super::linear::Linear;
use crate::nn::Module;

/// An elementwise activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Activation {
    /// `x`.
    Identity,
    /// `max(x, 0)`.
    Relu,
    /// GELU with the exact error function: `x Φ(x)`.
    Gelu,
    /// GELU with the tanh approximation (GPT-2's).
    GeluTanh,
    /// `x * sigmoid(x)` (also called swish).
    Silu,
    /// The hyperbolic tangent.
    Tanh,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
}

impl Activation {
    /// The activation of `x`.
    #[track_caller]
    pub fn apply(self, x: &Tensor) -> Result<Tensor> {
        match self {
            Activation::Identity => Ok(x.clone()),
            Activation::Relu => x.relu(),
            Activation::Gelu => x.gelu(),
            Activation::GeluTanh => x.gelu_tanh(),
            Activation::Silu => x.silu(),
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => x.sigmoid(),
        }
    }
}

/// Linear layers of the given widths with `activation` between them (none after the last).
/// Weights start He-normal for ReLU and Glorot-uniform otherwise. Shapes:
/// `T[..., sizes[0]] -> T[..., sizes[last]]`.
#[derive(Clone, Debug, Module)]
pub struct Mlp {
    /// The layers, first to last.
    pub layers: Vec<Linear>,
    #[module(skip)]
    /// Applied after every layer but the last.
    pub activation: Activation,
    #[module(skip)]
    /// When set, each layer (with its activation) is a checkpointed call with this policy
    /// (see [`Mlp::remat`]); `None` (the default) keeps every intermediate value.
    pub remat: Option<CheckpointPolicy>,
}

impl Mlp {
    /// Widths, input first: `[64, 128, 128, 10]` is three layers.
    pub fn new(sizes: &[i64], activation: Activation) -> Mlp {
        let init = if activation == Activation::Relu {
            Init::HeNormal
        } else {
            Init::GlorotUniform
        };
        Mlp {
            layers: sizes
                .windows(2)
                .map(|w| Linear::new(w[0], w[1]).with_init(init))
                .collect(),
            activation,
            remat: None,
        }
    }

    /// The same network with each layer (linear map and activation) rematerialized: its
    /// values recomputed in the backward pass instead of kept, its input kept as `policy`
    /// says ([`CheckpointPolicy::RecomputeAll`]: on the device;
    /// [`CheckpointPolicy::Offload`]: in another memory, e.g. pinned host, between the
    /// forward and backward pass). The values and gradients are unchanged; memory is traded
    /// for recomputation. (Each layer is one [`remat`](super::remat) call named
    /// `mlp_layer{i}`.)
    pub fn remat(mut self, policy: CheckpointPolicy) -> Mlp {
        self.remat = Some(policy);
        self
    }

    /// The layers applied in order, the activation between them.
    #[track_caller]
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        let n = self.layers.len();
        for (i, l) in self.layers.iter().enumerate() {
            let layer = |l: &Linear, h: &Tensor| -> Result<Tensor> {
                let y = l.forward(h)?;
                if i + 1 < n {
                    self.activation.apply(&y)
                } else {
                    Ok(y)
                }
            };
            h = match &self.remat {
                None => layer(l, &h)?,
                Some(p) => super::remat(p, &format!("mlp_layer{i}"), l, &h, layer)?,
            };
        }
        Ok(h)
    }
}
