//! [`Dropout`]: zeroes elements at random while training.

use hlo_builder::{ElementType, Result, RngAlgorithm, Tensor, TensorType};

use super::init::Init;
use super::param::Param;
use crate::nn::Module;

/// Inverted dropout: while training, each element is zeroed with probability `rate` and the
/// survivors are scaled by `1 / (1 - rate)`; at inference it is the identity. The layer
/// carries its own random state (`key`: `u64[2]`, state; seeded by the model's `init`),
/// which each training step advances. Shapes: `T[d...] -> T[d...]`.
#[derive(Clone, Debug, Module)]
pub struct Dropout {
    /// The random state, `u64[2]`, advanced by every training step.
    pub key: Param,
    #[module(skip)]
    /// The probability of zeroing an element, in `[0, 1)`.
    pub rate: f64,
}

impl Dropout {
    /// Dropout with probability `rate` (in `[0, 1)`).
    pub fn new(rate: f64) -> Dropout {
        Dropout {
            key: Param::state(ElementType::U64, [2], Init::RandomBits),
            rate,
        }
    }

    /// Drops elements of `x` while training.
    #[track_caller]
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if !(0.0..1.0).contains(&self.rate) {
            return Err(hlo_builder::Error::Shape {
                op: "dropout",
                message: format!("rate {} must be in [0, 1)", self.rate),
            });
        }
        if !x.recording().training() || self.rate == 0.0 {
            return Ok(x.clone());
        }
        let key = self.key.tensor(x)?;
        let bits_ty = TensorType::new(ElementType::U32, x.dims());
        let (next, bits) = x
            .recording()
            .with(|b| b.rng_bit_generator(key.value(), RngAlgorithm::ThreeFry, bits_ty))??;
        let (next, bits) = (x.recording().tensor(next)?, x.recording().tensor(bits)?);
        self.key.set_next(&next)?;
        // keep when bits >= rate * 2^32
        let threshold = (self.rate * 4294967296.0).min(4294967295.0);
        let keep = bits.ge(threshold)?;
        let scaled = (x * (1.0 / (1.0 - self.rate)))?;
        keep.where_(&scaled, 0.0)
    }
}
