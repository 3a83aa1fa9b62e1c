//! The two digit classifiers of `train_digits`: an MLP and a small CNN.

use autodiff::train::nn::{self, Activation, Init, Model, Padding, ParamSpec};
use hlo_builder::{Builder, Result, Value};

/// The MLP 64-128-128-10 with ReLU.
pub fn mlp() -> nn::Mlp {
    nn::Mlp::new("mlp", &[64, 128, 128, 10], Activation::Relu)
}

/// A small CNN for 8x8x1 images:
/// conv 3x3 (16, same) - relu - conv 3x3 (32, same) - relu - 2x2 max pool -
/// dense 512 -> 64 - relu - dense 10.
#[derive(Clone, Debug)]
pub struct Cnn {
    pub c1: i64,
    pub c2: i64,
    pub hidden: i64,
}

impl Default for Cnn {
    fn default() -> Self {
        Cnn {
            c1: 16,
            c2: 32,
            hidden: 64,
        }
    }
}

impl Model for Cnn {
    fn name(&self) -> &str {
        "cnn"
    }

    fn params(&self) -> Vec<ParamSpec> {
        let flat = 4 * 4 * self.c2;
        vec![
            ParamSpec::new("conv0.k", [3, 3, 1, self.c1], Init::HeNormal),
            ParamSpec::new("conv0.b", [self.c1], Init::Zeros),
            ParamSpec::new("conv1.k", [3, 3, self.c1, self.c2], Init::HeNormal),
            ParamSpec::new("conv1.b", [self.c2], Init::Zeros),
            ParamSpec::new("dense0.w", [flat, self.hidden], Init::HeNormal),
            ParamSpec::new("dense0.b", [self.hidden], Init::Zeros),
            ParamSpec::new("dense1.w", [self.hidden, 10], Init::GlorotUniform),
            ParamSpec::new("dense1.b", [10], Init::Zeros),
        ]
    }

    /// Rows of 64 pixels, reshaped to 8x8x1 images inside the graph.
    fn input_dims(&self, batch: i64) -> Vec<i64> {
        vec![batch, 64]
    }

    fn forward(&self, b: &mut Builder, p: &[Value], x: Value) -> Result<Value> {
        let n = b.dims(x)?[0];
        let img = b.reshape(x, [n, 8, 8, 1])?;
        let h = nn::conv2d(b, img, p[0], Some(p[1]), [1, 1], &Padding::Same)?;
        let h = b.relu(h)?;
        let h = nn::conv2d(b, h, p[2], Some(p[3]), [1, 1], &Padding::Same)?;
        let h = b.relu(h)?;
        let h = nn::max_pool2d(b, h, [2, 2], [2, 2], &Padding::Valid)?;
        let h = nn::flatten(b, h)?;
        let h = nn::dense(b, h, p[4], Some(p[5]))?;
        let h = b.relu(h)?;
        nn::dense(b, h, p[6], Some(p[7]))
    }
}
