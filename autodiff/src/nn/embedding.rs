//! [`Embedding`]: rows of a table, gathered by integer ids.

use hlo_builder::{Result, Tensor};

use super::init::Init;
use super::param::Param;
use crate::nn::Module;

/// A lookup table. Shapes: `ids: int[s...] -> T[s..., dim]`; `table: [count, dim]` (normal,
/// standard deviation 0.02). Recorded as a gather (its gradient is a scatter-add); ids
/// outside `0..count` are clamped.
#[derive(Clone, Debug, Module)]
pub struct Embedding {
    /// The embeddings, one row per id: `[count, dim]`.
    pub table: Param,
}

impl Embedding {
    /// A table of `count` rows of `dim` values.
    pub fn new(count: i64, dim: i64) -> Embedding {
        Embedding {
            table: Param::new([count, dim], Init::Normal { std: 0.02 }),
        }
    }

    /// The rows at `ids`.
    #[track_caller]
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        self.table.tensor(ids)?.take(ids, 0)
    }
}
