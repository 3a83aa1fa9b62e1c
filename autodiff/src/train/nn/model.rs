//! Parameter declarations and a small model interface, so a training step, an inference
//! function and a checkpoint can all be derived from one description.

use super::activation::{activation, Activation};
use super::init::{seeded, Init};
use super::layers::dense;
use crate::error::layer_err as shape_err;
use hlo_builder::Builder;
use hlo_builder::Result;
use hlo_builder::Value;
use hlo_builder::{ElementType, TensorType};

/// One f32 parameter: its name (used in checkpoints), dimensions and initialiser.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub dims: Vec<i64>,
    pub init: Init,
}

impl ParamSpec {
    pub fn new(name: impl Into<String>, dims: impl Into<Vec<i64>>, init: Init) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            dims: dims.into(),
            init,
        }
    }
    /// Its tensor type (`f32[dims]`).
    pub fn ty(&self) -> TensorType {
        TensorType::new(ElementType::F32, &self.dims)
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.dims.iter().product::<i64>() as usize
    }
    /// True for a parameter with a zero-sized dimension.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Initial values drawn from `rng`.
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Vec<f32> {
        let dims: Vec<usize> = self.dims.iter().map(|&d| d as usize).collect();
        self.init.sample(rng, &dims)
    }
}

/// Initial values for every parameter, in order, from one seed.
pub fn init_all(specs: &[ParamSpec], seed: u64) -> Vec<Vec<f32>> {
    init_all_from(specs, &mut seeded(seed))
}

/// Initial values for every parameter, in order, drawn from `rng`.
pub fn init_all_from<R: rand::Rng + ?Sized>(specs: &[ParamSpec], rng: &mut R) -> Vec<Vec<f32>> {
    specs.iter().map(|s| s.sample(rng)).collect()
}

/// A model: named parameters and a forward function from an input batch to outputs.
pub trait Model {
    /// A short name (used for function and file names).
    fn name(&self) -> &str;
    /// The parameters, in the order `forward` receives them.
    fn params(&self) -> Vec<ParamSpec>;
    /// The dimensions of an input batch of `batch` examples.
    fn input_dims(&self, batch: i64) -> Vec<i64>;
    /// Records the forward pass; `params` are in [`Model::params`] order.
    fn forward(&self, b: &mut Builder, params: &[Value], x: Value) -> Result<Value>;
}

/// A multi-layer perceptron: dense layers of the given widths with `hidden` activations
/// between them (none after the last). Weights start Glorot-uniform for smooth activations
/// and He-normal for ReLU-like ones; biases start at zero.
#[derive(Clone, Debug)]
pub struct Mlp {
    pub name: String,
    /// Widths, input first: `[64, 128, 128, 10]` has three dense layers.
    pub sizes: Vec<i64>,
    pub hidden: Activation,
}

impl Mlp {
    pub fn new(name: impl Into<String>, sizes: &[i64], hidden: Activation) -> Mlp {
        Mlp {
            name: name.into(),
            sizes: sizes.to_vec(),
            hidden,
        }
    }
}

impl Model for Mlp {
    fn name(&self) -> &str {
        &self.name
    }
    fn params(&self) -> Vec<ParamSpec> {
        let w_init = match self.hidden {
            Activation::Relu | Activation::LeakyRelu(_) | Activation::Elu(_) => Init::HeNormal,
            _ => Init::GlorotUniform,
        };
        let mut v = Vec::new();
        for (i, w) in self.sizes.windows(2).enumerate() {
            v.push(ParamSpec::new(format!("dense{i}.w"), [w[0], w[1]], w_init));
            v.push(ParamSpec::new(format!("dense{i}.b"), [w[1]], Init::Zeros));
        }
        v
    }
    fn input_dims(&self, batch: i64) -> Vec<i64> {
        vec![batch, self.sizes.first().copied().unwrap_or(0)]
    }
    fn forward(&self, b: &mut Builder, params: &[Value], x: Value) -> Result<Value> {
        let layers = self.sizes.len().saturating_sub(1);
        if params.len() != 2 * layers || layers == 0 {
            return shape_err(
                "mlp",
                format!(
                    "{} needs {} parameter tensors, got {}",
                    self.name,
                    2 * layers,
                    params.len()
                ),
            );
        }
        let mut h = x;
        for i in 0..layers {
            h = dense(b, h, params[2 * i], Some(params[2 * i + 1]))?;
            if i + 1 < layers {
                h = activation(b, h, self.hidden)?;
            }
        }
        Ok(h)
    }
}
