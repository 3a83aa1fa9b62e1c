//! Shared helpers: one CPU client per process, build + compile + run in one call, and
//! comparisons that treat NaN as equal to NaN.
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

/// Builds `outs`, compiles on the CPU plugin and runs on `args`.
pub fn run(b: &Builder, outs: &[Value], args: &[&Literal]) -> Vec<Literal> {
    let m = b.build(outs).unwrap_or_else(|e| panic!("build: {e}"));
    let exe = m
        .compile(client())
        .unwrap_or_else(|e| panic!("compile: {e}\n{}", m.to_text()));
    exe.run(args).unwrap_or_else(|e| panic!("run: {e}"))
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
pub fn i32s(l: &Literal) -> Vec<i32> {
    l.to_vec::<i32>().unwrap()
}
pub fn bools(l: &Literal) -> Vec<bool> {
    l.to_bools().unwrap()
}

/// `|got - want| <= tol * max(1, |want|)` elementwise; NaN matches NaN, inf matches inf.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= tol * w.abs().max(1.0);
        assert!(
            ok,
            "{what}[{i}]: got {g}, want {w} (all: got {got:?}, want {want:?})"
        );
    }
}

pub fn assert_close64(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= tol * w.abs().max(1.0);
        assert!(ok, "{what}[{i}]: got {g}, want {w}");
    }
}
