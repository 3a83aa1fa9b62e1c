//! Normalization layers: [`LayerNorm`], [`RmsNorm`], [`BatchNorm`] (with running statistics).

use hlo_builder::{ElementType, Result, Tensor};

use super::init::Init;
use super::param::Param;
use crate::nn::Module;

/// Layer normalization over the last axis: `(x - mean) / sqrt(var + eps) * scale + shift`.
/// Shapes: `T[..., dim] -> T[..., dim]`; `scale`, `shift`: `[dim]` (ones, zeros).
#[derive(Clone, Debug, Module)]
pub struct LayerNorm {
    /// Multiplies the normalized value, `[dim]`.
    pub scale: Param,
    /// Added after scaling, `[dim]`.
    pub shift: Param,
    #[module(skip)]
    /// Added to the variance before the square root.
    pub eps: f64,
}

impl LayerNorm {
    /// Over `dim` features, `eps` 1e-5.
    pub fn new(dim: i64) -> LayerNorm {
        LayerNorm {
            scale: Param::new([dim], Init::Ones),
            shift: Param::new([dim], Init::Zeros),
            eps: 1e-5,
        }
    }

    /// Normalizes `x` over its last axis.
    #[track_caller]
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let m = x.mean_keepdim(-1)?;
        let d = (x - &m)?;
        let v = d.square()?.mean_keepdim(-1)?;
        let n = (&d * (v + self.eps)?.rsqrt()?)?;
        (n * self.scale.tensor(x)?)? + self.shift.tensor(x)?
    }
}

/// Root-mean-square normalization over the last axis: `x / sqrt(mean(x²) + eps) * scale`.
/// Shapes: `T[..., dim] -> T[..., dim]`; `scale`: `[dim]` (ones).
#[derive(Clone, Debug, Module)]
pub struct RmsNorm {
    /// Multiplies the normalized value, `[dim]`.
    pub scale: Param,
    #[module(skip)]
    /// Added to the mean square before the square root.
    pub eps: f64,
}

impl RmsNorm {
    /// Over `dim` features, `eps` 1e-6.
    pub fn new(dim: i64) -> RmsNorm {
        RmsNorm {
            scale: Param::new([dim], Init::Ones),
            eps: 1e-6,
        }
    }

    /// Normalizes `x` over its last axis.
    #[track_caller]
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let ms = x.square()?.mean_keepdim(-1)?;
        let n = (x * (ms + self.eps)?.rsqrt()?)?;
        n * self.scale.tensor(x)?
    }
}

/// Batch normalization over every axis but the last (channels last: `[n, f]`, NHWC
/// images). Training normalizes with the batch's statistics and moves the running ones
/// (`running = momentum * running + (1 - momentum) * batch`); inference uses the running
/// ones. Shapes: `T[..., channels] -> T[..., channels]`; `scale`, `shift`: `[channels]`
/// (trained); `mean`, `var`: `[channels]` (state).
#[derive(Clone, Debug, Module)]
pub struct BatchNorm {
    /// Multiplies the normalized value, `[channels]`.
    pub scale: Param,
    /// Added after scaling, `[channels]`.
    pub shift: Param,
    /// The running mean (state, not trained), `[channels]`.
    pub mean: Param,
    /// The running variance (state, not trained), `[channels]`.
    pub var: Param,
    #[module(skip)]
    /// How much of the running statistics each training step keeps.
    pub momentum: f64,
    #[module(skip)]
    /// Added to the variance before the square root.
    pub eps: f64,
}

impl BatchNorm {
    /// Over `channels`, momentum 0.9, `eps` 1e-5.
    pub fn new(channels: i64) -> BatchNorm {
        BatchNorm {
            scale: Param::new([channels], Init::Ones),
            shift: Param::new([channels], Init::Zeros),
            mean: Param::state(ElementType::F32, [channels], Init::Zeros),
            var: Param::state(ElementType::F32, [channels], Init::Ones),
            momentum: 0.9,
            eps: 1e-5,
        }
    }

    /// Normalizes `x`; while training (the recording's mode) also writes the next running
    /// statistics.
    #[track_caller]
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let axes: Vec<i64> = (0..x.rank() as i64 - 1).collect();
        let (rm, rv) = (self.mean.tensor(x)?, self.var.tensor(x)?);
        let (m, v) = if x.recording().training() {
            let m = x.mean(axes.clone())?;
            let v = x.var(axes)?;
            let k = self.momentum;
            self.mean.set_next(&((&rm * k)? + (&m * (1.0 - k))?)?)?;
            self.var.set_next(&((&rv * k)? + (&v * (1.0 - k))?)?)?;
            (m, v)
        } else {
            (rm, rv)
        };
        let n = ((x - &m)? * (v + self.eps)?.rsqrt()?)?;
        (n * self.scale.tensor(x)?)? + self.shift.tensor(x)?
    }
}
