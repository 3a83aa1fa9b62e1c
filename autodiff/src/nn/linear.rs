//! [`Linear`]: `x @ weight + bias`.

use hlo_builder::{Result, Tensor};

use super::init::Init;
use super::param::Param;
use crate::nn::Module;

/// A fully connected layer. Shapes: `x: T[..., in] -> T[..., out]`; `weight: [in, out]`
/// (Glorot uniform), `bias: [out]` (zeros).
#[derive(Clone, Debug, Module)]
pub struct Linear {
    /// `[in, out]`.
    pub weight: Param,
    /// `[out]`, if the layer has a bias.
    pub bias: Option<Param>,
}

impl Linear {
    /// A layer from `inputs` to `outputs` features, with a bias.
    pub fn new(inputs: i64, outputs: i64) -> Linear {
        Linear {
            weight: Param::new([inputs, outputs], Init::GlorotUniform),
            bias: Some(Param::new([outputs], Init::Zeros)),
        }
    }

    /// The same layer without a bias.
    pub fn no_bias(mut self) -> Linear {
        self.bias = None;
        self
    }

    /// The same layer with the weight initialized by `init`.
    pub fn with_init(mut self, init: Init) -> Linear {
        self.weight = self.weight.with_init(init);
        self
    }

    /// `x @ weight + bias`.
    #[track_caller]
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = x.matmul(&self.weight.tensor(x)?)?;
        match &self.bias {
            Some(b) => y + b.tensor(x)?,
            None => Ok(y),
        }
    }
}
