//! A GPT-style character-level language model and its data: the Shakespeare corpus the set-up
//! installs (`.data/shakespeare.txt`), one token per distinct byte.
//!
//! `examples/char_lm.py` is the same model, data and hyperparameters in JAX; keep the two in
//! step (the batch sampler below is written out there too).

use std::path::{Path, PathBuf};

use std::error::Error;

use autodiff::nn::{Embedding, KvCache, LayerNorm, Linear, Mask, Module, TransformerBlock};
use autodiff::train::{BoundFn, WeightSource};
use hlo_builder::{
    ElementType::{F32, S32},
    Result, Tensor, TensorType,
};
use pjrt::{Buffer, Client, Literal};
use rand::{Rng, RngExt};

// ---- counted: char_lm model (parameters and forward)

/// Token embedding, pre-norm transformer blocks with rotary causal attention, a final norm
/// and a linear head over the vocabulary.
#[derive(Clone, Debug, Module)]
pub struct CharLm {
    pub embed: Embedding,
    pub blocks: Vec<TransformerBlock>,
    pub norm: LayerNorm,
    pub head: Linear,
}

impl CharLm {
    pub fn new(c: &Config) -> CharLm {
        CharLm {
            embed: Embedding::new(c.vocab, c.dim),
            blocks: (0..c.layers)
                .map(|_| TransformerBlock::new(c.dim, c.heads, 4 * c.dim).with_rotary())
                .collect(),
            norm: LayerNorm::new(c.dim),
            head: Linear::new(c.dim, c.vocab),
        }
    }

    /// Logits `f32[b, t, vocab]` of the tokens `s32[b, t]`, each position seeing only itself
    /// and earlier ones.
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let mut h = self.embed.forward(ids)?;
        for block in &self.blocks {
            h = block.forward(&h, Mask::Causal)?;
        }
        self.head.forward(&self.norm.forward(&h)?)
    }
}
// ---- end

impl CharLm {
    /// Logits of new tokens `ids` (`s32[b, t]`) at positions `pos..pos + t` (`pos` an s32
    /// scalar), attending over one key/value cache per block; returns the updated caches.
    pub fn forward_cached(
        &self,
        ids: &Tensor,
        caches: &[KvCache],
        pos: &Tensor,
    ) -> Result<(Tensor, Vec<KvCache>)> {
        let mut h = self.embed.forward(ids)?;
        let mut next = Vec::with_capacity(caches.len());
        for (block, cache) in self.blocks.iter().zip(caches) {
            let (y, c) = block.forward_cached(&h, cache, pos)?;
            h = y;
            next.push(c);
        }
        Ok((self.head.forward(&self.norm.forward(&h)?)?, next))
    }
}

/// The hyperparameters (the JAX script takes the same).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub vocab: i64,
    pub dim: i64,
    pub heads: i64,
    pub layers: usize,
    pub context: i64,
    pub batch: i64,
    pub lr: f64,
}

impl Config {
    /// The example's defaults for a vocabulary of `vocab` symbols: 2 blocks of 128 features
    /// and 4 heads over 64 characters, batches of 32, Adam at 3e-3.
    pub fn new(vocab: i64) -> Config {
        Config {
            vocab,
            dim: 128,
            heads: 4,
            layers: 2,
            context: 64,
            batch: 32,
            lr: 3e-3,
        }
    }
}

/// Errors reading the corpus.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("reading {path}: {source} (run `make run` or `bash scripts/setup.sh` to install it)")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Bad { path: PathBuf, message: String },
}

/// The text as token ids, split 90/10 into training and validation parts.
#[derive(Clone, Debug)]
pub struct Corpus {
    /// The distinct bytes of the text, sorted: token `i` is byte `vocab[i]`.
    pub vocab: Vec<u8>,
    pub train: Vec<i32>,
    pub valid: Vec<i32>,
}

/// Where the set-up puts the corpus: `$SHAKESPEARE_TXT`, else `.data/shakespeare.txt` at the
/// workspace root.
pub fn default_path() -> PathBuf {
    if let Some(p) = std::env::var_os("SHAKESPEARE_TXT") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(".data")
        .join("shakespeare.txt")
}

impl Corpus {
    /// Reads the text at `path`.
    pub fn load(path: impl AsRef<Path>) -> std::result::Result<Corpus, CorpusError> {
        let path = path.as_ref();
        let text = std::fs::read(path).map_err(|source| CorpusError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Corpus::from_bytes(&text).map_err(|message| CorpusError::Bad {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Tokenizes `text` (any bytes; at least 1000 of them).
    pub fn from_bytes(text: &[u8]) -> std::result::Result<Corpus, String> {
        if text.len() < 1000 {
            return Err(format!("{} bytes is too short a corpus", text.len()));
        }
        let mut seen = [false; 256];
        for &b in text {
            seen[b as usize] = true;
        }
        let vocab: Vec<u8> = (0..=255u8).filter(|&b| seen[b as usize]).collect();
        let mut index = [0i32; 256];
        for (i, &b) in vocab.iter().enumerate() {
            index[b as usize] = i as i32;
        }
        let ids: Vec<i32> = text.iter().map(|&b| index[b as usize]).collect();
        let cut = ids.len() * 9 / 10;
        Ok(Corpus {
            vocab,
            train: ids[..cut].to_vec(),
            valid: ids[cut..].to_vec(),
        })
    }

    /// The token of byte `b`, if the vocabulary has it.
    pub fn token(&self, b: u8) -> Option<i32> {
        self.vocab.binary_search(&b).ok().map(|i| i as i32)
    }

    /// The text of `tokens` (out-of-vocabulary ids as `?`).
    pub fn decode(&self, tokens: &[i32]) -> String {
        tokens
            .iter()
            .map(|&t| *self.vocab.get(t as usize).unwrap_or(&b'?') as char)
            .collect()
    }
}

/// SplitMix64: the batch sampler's hash (also in `char_lm.py`).
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Batch `step` of `batch` windows of `context + 1` tokens from `ids`, as inputs and targets
/// (`s32[batch, context]` each, the targets one position later). Window `j` starts at
/// `splitmix64(seed * 2^32 + step * batch + j) mod (len - context - 1)`, so a run is the
/// same wherever it resumes and the JAX script sees the same batches.
pub fn batch(
    ids: &[i32],
    seed: u64,
    step: u64,
    batch: usize,
    context: usize,
) -> (Vec<i32>, Vec<i32>) {
    let span = (ids.len() - context - 1) as u64;
    let (mut x, mut y) = (
        Vec::with_capacity(batch * context),
        Vec::with_capacity(batch * context),
    );
    for j in 0..batch as u64 {
        let start = (splitmix64((seed << 32) + step * batch as u64 + j) % span) as usize;
        x.extend_from_slice(&ids[start..start + context]);
        y.extend_from_slice(&ids[start + 1..start + context + 1]);
    }
    (x, y)
}

/// One token at a time through the model's key/value caches (one per block, `context`
/// positions long). When the caches are full, they are refilled from the last half-context
/// of tokens, so the model always sees at most `context` characters, as in training.
pub struct Sampler {
    decode: BoundFn,
    heads: i64,
    head_dim: i64,
    layers: usize,
    context: i64,
}

impl Sampler {
    pub fn new(weights: &impl WeightSource<CharLm>, c: &Config) -> Result<Sampler, Box<dyn Error>> {
        let head_dim = c.dim / c.heads;
        let cache = TensorType::new(F32, [1, c.heads, c.context, head_dim]);
        let mut inputs = vec![TensorType::new(S32, [1, 1]), TensorType::new(S32, [])];
        for _ in 0..2 * c.layers {
            inputs.push(cache.clone());
        }
        let decode = weights.function("decode", &inputs, |m, x| {
            let caches: Vec<autodiff::nn::KvCache> = x[2..]
                .chunks(2)
                .map(|kv| autodiff::nn::KvCache {
                    k: kv[0].clone(),
                    v: kv[1].clone(),
                })
                .collect();
            let (logits, caches) = m.forward_cached(&x[0], &caches, &x[1])?;
            let mut outs = vec![logits];
            for kv in caches {
                outs.extend([kv.k, kv.v]);
            }
            Ok(outs)
        })?;
        Ok(Sampler {
            decode,
            heads: c.heads,
            head_dim,
            layers: c.layers,
            context: c.context,
        })
    }

    fn empty_caches(&self, client: &Client) -> std::result::Result<Vec<Buffer>, pjrt::Error> {
        let zeros = Literal::zeros(F32, &[1, self.heads, self.context, self.head_dim])?;
        (0..2 * self.layers)
            .map(|_| client.buffer_from_literal(&zeros))
            .collect()
    }

    /// Feeds `token` at `pos`; returns the next token's logits.
    fn feed(
        &self,
        client: &Client,
        weights: &impl WeightSource<CharLm>,
        caches: &mut Vec<Buffer>,
        token: i32,
        pos: i64,
    ) -> Result<Vec<f32>, Box<dyn Error>> {
        let t = client.buffer_from_host(&[token], &[1, 1])?;
        let p = client.buffer_from_host(&[pos as i32], &[])?;
        let mut args: Vec<&Buffer> = vec![&t, &p];
        args.extend(caches.iter());
        let mut outs = self.decode.call_buffers(weights, &args)?;
        let rest = outs.split_off(1);
        *caches = rest;
        Ok(outs[0].to_vec::<f32>()?)
    }

    /// `n` tokens after `prompt`, each chosen by `pick` from the logits.
    pub fn generate(
        &self,
        weights: &impl WeightSource<CharLm>,
        prompt: &[i32],
        n: usize,
        mut pick: impl FnMut(&[f32]) -> i32,
    ) -> Result<Vec<i32>, Box<dyn Error>> {
        if prompt.is_empty() {
            return Err("the prompt must not be empty".into());
        }
        let client = weights.client();
        let mut tokens = prompt.to_vec();
        let mut caches = self.empty_caches(client)?;
        let mut pos = 0i64;
        let mut logits = Vec::new();
        let keep = (self.context / 2) as usize;
        // The prompt (its last half-context when longer).
        let start = tokens.len().saturating_sub(keep);
        for &t in &tokens[start..] {
            logits = self.feed(client, weights, &mut caches, t, pos)?;
            pos += 1;
        }
        for _ in 0..n {
            let next = pick(&logits);
            tokens.push(next);
            if pos == self.context {
                caches = self.empty_caches(client)?;
                pos = 0;
                let from = tokens.len() - keep;
                for &t in &tokens[from..tokens.len() - 1] {
                    self.feed(client, weights, &mut caches, t, pos)?;
                    pos += 1;
                }
            }
            logits = self.feed(client, weights, &mut caches, next, pos)?;
            pos += 1;
        }
        Ok(tokens[prompt.len()..].to_vec())
    }
}

pub fn argmax(x: &[f32]) -> i32 {
    let mut best = 0;
    for (i, &v) in x.iter().enumerate() {
        if v > x[best] {
            best = i;
        }
    }
    best as i32
}

/// A draw from `softmax(logits / temperature)`.
pub fn draw(logits: &[f32], temperature: f64, rng: &mut impl Rng) -> i32 {
    let m = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
    let w: Vec<f64> = logits
        .iter()
        .map(|&l| ((l as f64 - m) / temperature).exp())
        .collect();
    let mut u = rng.random::<f64>() * w.iter().sum::<f64>();
    for (i, &p) in w.iter().enumerate() {
        if u < p {
            return i as i32;
        }
        u -= p;
    }
    (w.len() - 1) as i32
}
