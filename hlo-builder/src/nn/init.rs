//! Host-side, seeded parameter initialisation.
//!
//! A small deterministic generator (xoshiro256** seeded through splitmix64, normals by the
//! Box-Muller transform) and the usual initialisers (Glorot, He, normal, uniform, constants).
//! The same seed gives the same numbers on every machine, so a training run is reproducible.

/// A seeded pseudo-random generator: xoshiro256** with its state filled by splitmix64.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
    spare_normal: Option<f32>,
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole stream is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng {
            s,
            spare_normal: None,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A uniform float in `[0, 1)` with 24 random bits.
    pub fn uniform01(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    /// A uniform float in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.uniform01()
    }

    /// A uniform integer in `0..n` (`n > 0`; returns 0 for `n == 0`), without modulo bias
    /// worth noticing for the sizes used here (Lemire's multiply-shift).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// A standard normal sample (Box-Muller; the second value of each pair is kept).
    pub fn normal(&mut self) -> f32 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // u1 in (0, 1] so that ln(u1) is finite.
        let u1 = 1.0 - (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let u2 = (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        self.spare_normal = Some((r * theta.sin()) as f32);
        (r * theta.cos()) as f32
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// A permutation of `0..n`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        self.shuffle(&mut p);
        p
    }
}

/// How to fill a parameter tensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
    /// Every element the same value.
    Constant(f32),
    /// Normal with mean 0 and the given standard deviation.
    Normal { std: f32 },
    /// Uniform in `[-limit, limit)`.
    Uniform { limit: f32 },
    /// Glorot (Xavier) uniform: limit `sqrt(6 / (fan_in + fan_out))`.
    GlorotUniform,
    /// Glorot (Xavier) normal: std `sqrt(2 / (fan_in + fan_out))`.
    GlorotNormal,
    /// He (Kaiming) normal: std `sqrt(2 / fan_in)`, for ReLU layers.
    HeNormal,
    /// He (Kaiming) uniform: limit `sqrt(6 / fan_in)`.
    HeUniform,
}

/// Fan-in and fan-out of a weight of the given shape: `[in, out]` for dense weights,
/// `[kh, kw, in, out]` (HWIO) for convolution kernels, `[n]` counts as `n` both ways.
pub fn fans(shape: &[usize]) -> (usize, usize) {
    match shape.len() {
        0 => (1, 1),
        1 => (shape[0], shape[0]),
        2 => (shape[0], shape[1]),
        r => {
            let receptive: usize = shape[..r - 2].iter().product();
            (receptive * shape[r - 2], receptive * shape[r - 1])
        }
    }
}

impl Init {
    /// A row-major tensor of `shape` filled by this initialiser from `rng`.
    pub fn sample(&self, rng: &mut Rng, shape: &[usize]) -> Vec<f32> {
        let n: usize = shape.iter().product();
        let (fan_in, fan_out) = fans(shape);
        let (fan_in, fan_out) = (fan_in.max(1) as f32, fan_out.max(1) as f32);
        match *self {
            Init::Zeros => vec![0.0; n],
            Init::Ones => vec![1.0; n],
            Init::Constant(c) => vec![c; n],
            Init::Normal { std } => (0..n).map(|_| std * rng.normal()).collect(),
            Init::Uniform { limit } => (0..n).map(|_| rng.uniform(-limit, limit)).collect(),
            Init::GlorotUniform => {
                let limit = (6.0 / (fan_in + fan_out)).sqrt();
                (0..n).map(|_| rng.uniform(-limit, limit)).collect()
            }
            Init::GlorotNormal => {
                let std = (2.0 / (fan_in + fan_out)).sqrt();
                (0..n).map(|_| std * rng.normal()).collect()
            }
            Init::HeNormal => {
                let std = (2.0 / fan_in).sqrt();
                (0..n).map(|_| std * rng.normal()).collect()
            }
            Init::HeUniform => {
                let limit = (6.0 / fan_in).sqrt();
                (0..n).map(|_| rng.uniform(-limit, limit)).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_different_seed_different_stream() {
        let a: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = Rng::new(8);
            (0..8).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn splitmix_matches_reference_value() {
        // Reference: splitmix64 seeded with 0 yields 0xE220A8397B1DCDAF first.
        let mut s = 0u64;
        assert_eq!(splitmix64(&mut s), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn normal_has_unit_moments() {
        let mut r = Rng::new(1);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal() as f64).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
    }

    #[test]
    fn uniform_in_range_and_permutation_is_a_permutation() {
        let mut r = Rng::new(3);
        for _ in 0..10_000 {
            let u = r.uniform01();
            assert!((0.0..1.0).contains(&u));
        }
        let mut p = r.permutation(100);
        assert_ne!(p, (0..100).collect::<Vec<_>>());
        p.sort();
        assert_eq!(p, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn glorot_and_he_scales() {
        let mut r = Rng::new(5);
        // dense [200, 300]: glorot limit sqrt(6/500) = 0.1095
        let w = Init::GlorotUniform.sample(&mut r, &[200, 300]);
        let limit = (6.0f32 / 500.0).sqrt();
        assert!(w.iter().all(|x| x.abs() <= limit));
        assert!(w.iter().any(|x| x.abs() > 0.9 * limit));
        // conv [3, 3, 8, 16]: fan_in 72, He std sqrt(2/72) = 0.1667
        let k = Init::HeNormal.sample(&mut r, &[3, 3, 8, 16]);
        let var = k.iter().map(|x| (x * x) as f64).sum::<f64>() / k.len() as f64;
        assert!(
            (var.sqrt() - (2.0f64 / 72.0).sqrt()).abs() < 0.01,
            "std {}",
            var.sqrt()
        );
        assert_eq!(fans(&[3, 3, 8, 16]), (72, 144));
    }
}
