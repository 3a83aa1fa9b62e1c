//! [`TransformerBlock`]: pre-norm attention and feed-forward, each with a residual.

use hlo_builder::{Result, Tensor};

use super::attention::{KvCache, Mask, MultiHeadAttention};
use super::mlp::{Activation, Mlp};
use super::norm::LayerNorm;
use crate::nn::Module;

/// `h = x + attn(ln1(x)); y = h + mlp(ln2(h))`, the MLP `dim -> hidden -> dim` with GELU.
/// Shapes: `T[b, t, dim] -> T[b, t, dim]`.
#[derive(Clone, Debug, Module)]
pub struct TransformerBlock {
    /// Normalizes the input of the attention.
    pub ln1: LayerNorm,
    /// The self-attention.
    pub attn: MultiHeadAttention,
    /// Normalizes the input of the MLP.
    pub ln2: LayerNorm,
    /// The feed-forward network, `dim -> hidden -> dim`.
    pub mlp: Mlp,
}

impl TransformerBlock {
    /// A block over `dim` features with `heads` heads and a `hidden`-wide MLP.
    pub fn new(dim: i64, heads: i64, hidden: i64) -> TransformerBlock {
        TransformerBlock {
            ln1: LayerNorm::new(dim),
            attn: MultiHeadAttention::new(dim, heads),
            ln2: LayerNorm::new(dim),
            mlp: Mlp::new(&[dim, hidden, dim], Activation::Gelu),
        }
    }

    /// The same block with rotary position embeddings in its attention.
    pub fn with_rotary(mut self) -> TransformerBlock {
        self.attn = self.attn.with_rotary();
        self
    }

    /// The block over `x` with attention mask `mask`.
    #[track_caller]
    pub fn forward(&self, x: &Tensor, mask: Mask<'_>) -> Result<Tensor> {
        let h = (x + self.attn.forward(&self.ln1.forward(x)?, mask)?)?;
        &h + self.mlp.forward(&self.ln2.forward(&h)?)?
    }

    /// The block over new positions `x` from position `pos`, with the attention's cache.
    #[track_caller]
    pub fn forward_cached(
        &self,
        x: &Tensor,
        cache: &KvCache,
        pos: &Tensor,
    ) -> Result<(Tensor, KvCache)> {
        let (a, cache) = self
            .attn
            .forward_cached(&self.ln1.forward(x)?, cache, pos)?;
        let h = (x + a)?;
        let y = (&h + self.mlp.forward(&self.ln2.forward(&h)?)?)?;
        Ok((y, cache))
    }
}
