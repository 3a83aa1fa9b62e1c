//! The two digit classifiers of `train_digits`: an MLP and a small CNN.

use autodiff::nn::{Activation, Conv2d, Init, Linear, Mlp, Module};
use hlo_builder::{Result, Tensor};

/// A model that maps rows of 64 pixels to 10 class logits.
pub trait Classifier: Module {
    /// Logits `f32[n, 10]` of images `f32[n, 64]`.
    fn logits(&self, x: &Tensor) -> Result<Tensor>;
}

// ---- counted: digits MLP model
/// The MLP 64-128-128-10 with ReLU.
pub fn mlp() -> Mlp {
    Mlp::new(&[64, 128, 128, 10], Activation::Relu)
}

impl Classifier for Mlp {
    fn logits(&self, x: &Tensor) -> Result<Tensor> {
        self.forward(x)
    }
}
// ---- end

/// A small CNN for 8x8x1 images: conv 3x3 (16) - relu - conv 3x3 (32) - relu - 2x2 max pool
/// - dense 512 -> 64 - relu - dense 10.
#[derive(Clone, Debug, Module)]
pub struct Cnn {
    pub conv1: Conv2d,
    pub conv2: Conv2d,
    pub fc1: Linear,
    pub fc2: Linear,
}

impl Cnn {
    pub fn new() -> Cnn {
        Cnn {
            conv1: Conv2d::new(1, 16, [3, 3]),
            conv2: Conv2d::new(16, 32, [3, 3]),
            fc1: Linear::new(4 * 4 * 32, 64).with_init(Init::HeNormal),
            fc2: Linear::new(64, 10),
        }
    }
}

impl Default for Cnn {
    fn default() -> Self {
        Cnn::new()
    }
}

impl Classifier for Cnn {
    fn logits(&self, x: &Tensor) -> Result<Tensor> {
        let img = x.reshape([-1, 8, 8, 1])?;
        let h = self.conv1.forward(&img)?.relu()?;
        let h = self.conv2.forward(&h)?.relu()?;
        let h = h.max_pool([1, 2, 2, 1], [1, 2, 2, 1])?.flatten(1, -1)?;
        self.fc2.forward(&self.fc1.forward(&h)?.relu()?)
    }
}
