//! Shared helpers: one CPU client, build + compile + run, a seeded generator, comparisons.
#![allow(dead_code)]

use std::sync::OnceLock;

pub use hlo_builder::ElementType::*;
pub use hlo_builder::*;
pub use pjrt::Literal;

/// The default CPU plugin (PJRT_PLUGIN overrides), shared by all tests.
pub fn client() -> &'static pjrt::Client {
    static C: OnceLock<pjrt::Client> = OnceLock::new();
    C.get_or_init(|| pjrt::Client::default_cpu().expect("the CPU plugin (run scripts/setup.sh)"))
}

pub fn compile(b: &Builder, outs: &[Value]) -> Executable {
    let m = b.build(outs).unwrap_or_else(|e| panic!("build: {e}"));
    m.compile(client())
        .unwrap_or_else(|e| panic!("compile: {e}\n{}", m.to_text()))
}

pub fn run(b: &Builder, outs: &[Value], args: &[&Literal]) -> Vec<Literal> {
    compile(b, outs)
        .run(args)
        .unwrap_or_else(|e| panic!("run: {e}"))
}

pub fn lit<T: pjrt::NativeType>(data: &[T], dims: &[i64]) -> Literal {
    Literal::from_slice(data, dims).unwrap()
}

pub fn f32s(l: &Literal) -> Vec<f32> {
    l.to_vec::<f32>().unwrap()
}
pub fn f64s(l: &Literal) -> Vec<f64> {
    l.to_vec::<f64>().unwrap()
}

/// splitmix64: a small seeded generator for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
    pub fn vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }
}

pub fn count(dims: &[i64]) -> usize {
    dims.iter().product::<i64>() as usize
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `|got - want| <= tol * max(1, |want|)` elementwise.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = g == w || (g - w).abs() <= tol * w.abs().max(1.0);
        assert!(ok, "{what}[{i}]: got {g}, want {w}");
    }
}

/// The convolutions both rule tables check (finite differences and batching): name, input
/// dims, kernel dims, config. Strides, padding, both dilations, feature and batch groups.
pub fn conv_cases() -> Vec<(&'static str, Vec<i64>, Vec<i64>, ConvConfig)> {
    let mut v = Vec::new();
    let mut c = ConvConfig::new(ConvDims::nhwc(2));
    c.window_strides = vec![2, 1];
    c.padding = vec![(1, 1), (0, 2)];
    v.push((
        "conv_nhwc_stride_pad",
        vec![2, 5, 5, 3],
        vec![3, 3, 3, 4],
        c,
    ));
    let mut c = ConvConfig::new(ConvDims::nchw(2));
    c.rhs_dilation = vec![2, 1];
    c.padding = vec![(1, 0), (1, 1)];
    v.push((
        "conv_nchw_rhs_dilation",
        vec![2, 3, 6, 5],
        vec![4, 3, 2, 3],
        c,
    ));
    let mut c = ConvConfig::new(ConvDims::nhwc(1));
    c.lhs_dilation = vec![2];
    c.window_strides = vec![2];
    c.padding = vec![(2, 1)];
    v.push(("conv1d_lhs_dilation", vec![2, 5, 2], vec![3, 2, 3], c));
    let mut c = ConvConfig::new(ConvDims::nhwc(2));
    c.feature_group_count = 2;
    v.push(("conv_feature_groups", vec![1, 4, 4, 4], vec![2, 2, 2, 6], c));
    let mut c = ConvConfig::new(ConvDims::nhwc(2));
    c.batch_group_count = 2;
    v.push(("conv_batch_groups", vec![4, 3, 3, 2], vec![2, 2, 2, 4], c));
    v
}

/// Runs a table of cases (`AUTODIFF_CASE=name` runs one), each with its own seed, catching
/// each case's panic so that one report names every failing case.
pub fn run_table<C>(
    cases: &[C],
    name: impl Fn(&C) -> &'static str,
    seed: u64,
    check: impl Fn(&C, u64),
) -> usize {
    let only = std::env::var("AUTODIFF_CASE").ok();
    let mut ran = 0;
    let mut failed = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        if only.as_deref().is_some_and(|o| o != name(c)) {
            continue;
        }
        let r =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(c, seed + i as u64)));
        if r.is_err() {
            failed.push(name(c));
        }
        ran += 1;
    }
    assert!(ran > 0, "no case named {only:?}");
    assert!(
        failed.is_empty(),
        "{} of {ran} cases failed: {failed:?}",
        failed.len()
    );
    ran
}
