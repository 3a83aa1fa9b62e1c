//! Attention: [`scaled_dot_product_attention`] with a [`Mask`], [`MultiHeadAttention`] with
//! an optional rotary position embedding and a [`KvCache`] for decoding one step at a time.

use hlo_builder::{ElementType, Result, Tensor};

use super::linear::Linear;
use super::rope::rope;
use crate::nn::Module;

/// Which keys each query may attend to.
#[derive(Clone, Copy, Debug)]
pub enum Mask<'a> {
    /// Every key.
    None,
    /// Keys at or before the query's position. With `T` queries and `S >= T` keys, query `i`
    /// is at position `S - T + i` (the queries are the last `T` positions).
    Causal,
    /// A pred tensor broadcastable to the scores `[..., T, S]`: true where attention is allowed.
    Explicit(&'a Tensor),
}

/// The most negative finite value of a float type: masked scores (a fully masked row stays
/// finite, so softmax gives no NaN).
fn lowest(ty: ElementType) -> f64 {
    match ty {
        ElementType::F16 => -65504.0,
        ElementType::BF16 => -3.38e38,
        ElementType::F64 => f64::MIN,
        _ => f32::MIN as f64,
    }
}

/// `softmax(q kᵀ / sqrt(d) + mask) v`. Shapes: `q: T[..., t, d]`, `k: T[..., s, d]`,
/// `v: T[..., s, dv]` -> `T[..., t, dv]`.
#[track_caller]
pub fn scaled_dot_product_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Mask<'_>,
) -> Result<Tensor> {
    let d = q.dim(-1)?;
    let scores = (q.matmul(&k.t()?)? * (1.0 / (d as f64).sqrt()))?;
    let scores = match mask {
        Mask::None => scores,
        Mask::Causal => {
            let (t, s) = (scores.dim(-2)?, scores.dim(-1)?);
            let allowed = causal(&scores, t, s, None)?;
            allowed.where_(&scores, lowest(scores.dtype()))?
        }
        Mask::Explicit(m) => m.where_(&scores, lowest(scores.dtype()))?,
    };
    scores.softmax(-1)?.matmul(v)
}

/// `pred[t, s]`: key `j` allowed for query `i` when `j <= i + offset` (offset `s - t`, plus
/// the run-time position `pos` when given).
#[track_caller]
fn causal(like: &Tensor, t: i64, s: i64, pos: Option<&Tensor>) -> Result<Tensor> {
    let rows = like.arange(t, ElementType::S32)?.reshape([t, 1])?;
    let cols = like.arange(s, ElementType::S32)?.reshape([1, s])?;
    let mut limit = (rows + (s - t))?;
    if let Some(p) = pos {
        limit = (limit + p)?;
    }
    cols.le(&limit)
}

/// The keys and values of earlier positions: `[batch, heads, max_len, head_dim]` each.
#[derive(Clone, Debug)]
pub struct KvCache {
    /// Keys, `[batch, heads, max_len, head_dim]`.
    pub k: Tensor,
    /// Values, `[batch, heads, max_len, head_dim]`.
    pub v: Tensor,
}

/// Multi-head self-attention: one projection to queries, keys and values, `heads` heads of
/// `dim / heads` features, an output projection; optionally rotary position embeddings on
/// queries and keys. Shapes: `x: T[b, t, dim] -> T[b, t, dim]`.
#[derive(Clone, Debug, Module)]
pub struct MultiHeadAttention {
    /// The input projection, `dim -> 3 * dim` (queries, keys, values).
    pub qkv: Linear,
    /// The output projection, `dim -> dim`.
    pub out: Linear,
    #[module(skip)]
    /// The number of heads.
    pub heads: i64,
    #[module(skip)]
    /// Whether queries and keys get rotary position embeddings.
    pub rotary: bool,
}

impl MultiHeadAttention {
    /// `heads` heads over `dim` features (`dim` divisible by `heads`).
    pub fn new(dim: i64, heads: i64) -> MultiHeadAttention {
        MultiHeadAttention {
            qkv: Linear::new(dim, 3 * dim),
            out: Linear::new(dim, dim),
            heads,
            rotary: false,
        }
    }

    /// The same layer with rotary position embeddings on queries and keys.
    pub fn with_rotary(mut self) -> MultiHeadAttention {
        self.rotary = true;
        self
    }

    /// `(q, k, v)`, each `[b, heads, t, head_dim]`, rotary embeddings applied from position
    /// `pos` (0 when `None`).
    #[track_caller]
    fn project(&self, x: &Tensor, pos: Option<&Tensor>) -> Result<(Tensor, Tensor, Tensor)> {
        if x.rank() != 3 {
            return Err(hlo_builder::Error::Shape {
                op: "attention",
                message: format!("input {} must be [batch, time, features]", x.ty()),
            });
        }
        let (b, t, d) = (x.dims()[0], x.dims()[1], x.dims()[2]);
        let h = self.heads;
        if h <= 0 || d % h != 0 {
            return Err(hlo_builder::Error::Shape {
                op: "attention",
                message: format!("{d} features do not split into {h} heads"),
            });
        }
        let qkv = self.qkv.forward(x)?.reshape([b, t, 3, h, d / h])?;
        let qkv = qkv.transpose([2, 0, 3, 1, 4])?; // [3, b, h, t, dh]
        let (mut q, mut k, v) = (qkv.index(0, 0)?, qkv.index(0, 1)?, qkv.index(0, 2)?);
        if self.rotary {
            let mut positions = x.arange(t, ElementType::S32)?;
            if let Some(p) = pos {
                positions = (positions + p)?;
            }
            q = rope(&q, &positions)?;
            k = rope(&k, &positions)?;
        }
        Ok((q, k, v))
    }

    /// `[b, h, t, dh]` back to `[b, t, dim]`, then the output projection.
    #[track_caller]
    fn merge(&self, y: &Tensor) -> Result<Tensor> {
        let (b, h, t, dh) = (y.dims()[0], y.dims()[1], y.dims()[2], y.dims()[3]);
        let y = y.transpose([0, 2, 1, 3])?.reshape([b, t, h * dh])?;
        self.out.forward(&y)
    }

    /// Attends over `x` itself with `mask`.
    #[track_caller]
    pub fn forward(&self, x: &Tensor, mask: Mask<'_>) -> Result<Tensor> {
        let (q, k, v) = self.project(x, None)?;
        let y = scaled_dot_product_attention(&q, &k, &v, mask)?;
        self.merge(&y)
    }

    /// An empty cache for `batch` sequences of at most `max_len` positions, of `dtype`.
    #[track_caller]
    pub fn empty_cache(&self, like: &Tensor, batch: i64, max_len: i64) -> Result<KvCache> {
        let d = self.qkv.weight.ty().dims[0];
        let h = self.heads;
        let dims = [batch, h, max_len, d / h.max(1)];
        let z = like.recording().zeros(self.qkv.weight.ty().ty, dims)?;
        Ok(KvCache { k: z.clone(), v: z })
    }

    /// Causal attention of the `t` new positions in `x` (`[b, t, dim]`) starting at position
    /// `pos` (an s32 scalar), over the cached earlier positions and themselves; returns the
    /// output and the cache with the new keys and values written at `pos..pos + t`.
    #[track_caller]
    pub fn forward_cached(
        &self,
        x: &Tensor,
        cache: &KvCache,
        pos: &Tensor,
    ) -> Result<(Tensor, KvCache)> {
        let (q, k, v) = self.project(x, Some(pos))?;
        let zero = x.recording().scalar(ElementType::S32, 0.0)?;
        let starts = [&zero, &zero, pos, &zero];
        let kc = cache.k.dynamic_update_slice(&k, &starts)?;
        let vc = cache.v.dynamic_update_slice(&v, &starts)?;
        let (t, s) = (q.dim(-2)?, kc.dim(-2)?);
        // Query i (at position pos + i) sees keys j <= pos + i: the causal mask shifted by
        // pos - (s - t).
        let shift = (pos - (s - t) as f64)?;
        let allowed = causal(&kc, t, s, Some(&shift))?;
        let y = scaled_dot_product_attention(&q, &kc, &vc, Mask::Explicit(&allowed))?;
        Ok((self.merge(&y)?, KvCache { k: kc, v: vc }))
    }
}
