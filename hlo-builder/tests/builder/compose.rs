//! Compositions: mean, var, softmax, log_softmax, logsumexp, relu, gelu, silu, one_hot, erf.
use crate::common::*;

/// erf in f64 by its Taylor series (fine for |x| <= 3 in f64) and 1 beyond 6.
fn erf_ref(x: f64) -> f64 {
    if x.abs() > 6.0 {
        return x.signum();
    }
    // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let mut term = x; // (-1)^n x^(2n+1) / n!
    let mut sum = x;
    for n in 1..200 {
        term *= -x * x / n as f64;
        sum += term / (2 * n + 1) as f64;
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

#[test]
fn erf_is_accurate_to_f32_precision() {
    let xs: Vec<f32> = (-300..=300)
        .map(|i| i as f32 * 0.01)
        .chain([-5.0, 4.0, 10.0, f32::INFINITY])
        .collect();
    let n = xs.len() as i64;
    let mut b = Builder::new("erf");
    let x = b.parameter("x", F32, [n]).unwrap();
    let e = b.erf(x).unwrap();
    let xd = b.parameter("xd", F64, [n]).unwrap();
    let ed = b.erf(xd).unwrap();
    let xh = b.convert(x, BF16).unwrap();
    let eh = b.erf(xh).unwrap();
    assert_eq!(b.ty(eh).unwrap().ty, BF16);
    let xs64: Vec<f64> = xs.iter().map(|&v| v as f64).collect();
    let got = run(&b, &[e, ed], &[&lit(&xs, &[n]), &lit(&xs64, &[n])]);
    let g = f32s(&got[0]);
    let mut worst = 0.0f64;
    for (i, &v) in xs.iter().enumerate() {
        let want = erf_ref(v as f64);
        let err = (g[i] as f64 - want).abs() / want.abs().max(1e-30);
        worst = worst.max(if want == 0.0 { g[i].abs() as f64 } else { err });
    }
    // Relative error within a few f32 ulps (1 ulp ~ 6e-8 .. 1.2e-7).
    assert!(worst < 5e-7, "worst relative error {worst}");
    // The f64 path uses the same approximation: same accuracy, not more.
    let gd = f64s(&got[1]);
    assert!(xs
        .iter()
        .zip(&gd)
        .all(|(&v, &d)| (d - erf_ref(v as f64)).abs() < 5e-7));
}

#[test]
fn mean_var_softmax_family() {
    // x = [[1, 2, 3], [4, 6, 8]]
    let xs = [1.0f32, 2.0, 3.0, 4.0, 6.0, 8.0];
    let mut b = Builder::new("stats");
    let x = b.parameter("x", F32, [2, 3]).unwrap();
    let outs = vec![
        b.mean(x).unwrap(),
        b.mean_axes(x, [1]).unwrap(),
        b.var(x, [1]).unwrap(),
        b.softmax(x, 1).unwrap(),
        b.log_softmax(x, 1).unwrap(),
        b.logsumexp(x, [1]).unwrap(),
        b.logsumexp(x, [0, 1]).unwrap(),
    ];
    let got = run(&b, &outs, &[&lit(&xs, &[2, 3])]);
    assert_close("mean", &f32s(&got[0]), &[4.0], 1e-6); // 24 / 6
    assert_close("mean axis 1", &f32s(&got[1]), &[2.0, 6.0], 1e-6);
    // var row 0: ((1-2)^2 + 0 + 1)/3 = 2/3 ; row 1: (4 + 0 + 4)/3 = 8/3
    assert_close("var", &f32s(&got[2]), &[2.0 / 3.0, 8.0 / 3.0], 1e-6);
    let lse = |r: &[f32]| r.iter().map(|v| (*v as f64).exp()).sum::<f64>().ln();
    let (l0, l1) = (lse(&xs[..3]), lse(&xs[3..]));
    let sm: Vec<f32> = xs
        .iter()
        .enumerate()
        .map(|(i, &v)| ((v as f64) - if i < 3 { l0 } else { l1 }).exp() as f32)
        .collect();
    assert_close("softmax", &f32s(&got[3]), &sm, 1e-6);
    let lsm: Vec<f32> = xs
        .iter()
        .enumerate()
        .map(|(i, &v)| ((v as f64) - if i < 3 { l0 } else { l1 }) as f32)
        .collect();
    assert_close("log_softmax", &f32s(&got[4]), &lsm, 1e-6);
    assert_close("logsumexp", &f32s(&got[5]), &[l0 as f32, l1 as f32], 1e-6);
    assert_close("logsumexp all", &f32s(&got[6]), &[lse(&xs) as f32], 1e-6);
}

#[test]
fn logsumexp_is_stable() {
    let mut b = Builder::new("lse");
    let x = b.parameter("x", F32, [3]).unwrap();
    let l = b.logsumexp(x, [0]).unwrap();
    let s = b.softmax(x, 0).unwrap();
    let got = run(
        &b,
        &[l, s],
        &[&lit(&[1000.0f32, 1000.0, f32::NEG_INFINITY], &[3])],
    );
    // log(2 e^1000) = 1000 + ln 2 without overflow
    assert_close("lse", &f32s(&got[0]), &[1000.0 + 2f32.ln()], 1e-6);
    assert_close("softmax", &f32s(&got[1]), &[0.5, 0.5, 0.0], 1e-6);
    let mut b = Builder::new("lse_inf");
    let x = b.parameter("x", F32, [2]).unwrap();
    let l = b.logsumexp(x, [0]).unwrap();
    let got = run(&b, &[l], &[&lit(&[f32::NEG_INFINITY; 2], &[2])]);
    assert_eq!(f32s(&got[0]), vec![f32::NEG_INFINITY]);
}

#[test]
fn activations() {
    let xs = [-3.0f32, -1.0, -0.25, 0.0, 0.5, 2.0];
    let mut b = Builder::new("act");
    let x = b.parameter("x", F32, [6]).unwrap();
    let outs = vec![
        b.relu(x).unwrap(),
        b.gelu(x, false).unwrap(),
        b.gelu(x, true).unwrap(),
        b.silu(x).unwrap(),
        b.square(x).unwrap(),
    ];
    let got = run(&b, &outs, &[&lit(&xs, &[6])]);
    let m = |f: &dyn Fn(f64) -> f64| xs.iter().map(|&v| f(v as f64) as f32).collect::<Vec<f32>>();
    assert_close("relu", &f32s(&got[0]), &m(&|v| v.max(0.0)), 0.0);
    // gelu(x) = x/2 (1 + erf(x / sqrt 2))
    assert_close(
        "gelu",
        &f32s(&got[1]),
        &m(&|v| 0.5 * v * (1.0 + erf_ref(v / 2f64.sqrt()))),
        1e-6,
    );
    // tanh form: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    assert_close(
        "gelu tanh",
        &f32s(&got[2]),
        &m(&|v| {
            0.5 * v
                * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (v + 0.044715 * v * v * v)).tanh())
        }),
        2e-6,
    );
    // silu(x) = x / (1 + e^-x)
    assert_close(
        "silu",
        &f32s(&got[3]),
        &m(&|v| v / (1.0 + (-v).exp())),
        1e-6,
    );
    assert_close("square", &f32s(&got[4]), &m(&|v| v * v), 0.0);
}

#[test]
fn one_hot_encoding() {
    let mut b = Builder::new("one_hot");
    let i = b.parameter("i", S32, [2, 2]).unwrap();
    let o = b.one_hot(i, 3, F32).unwrap();
    assert_eq!(b.ty(o).unwrap().to_string(), "f32[2,2,3]");
    let got = run(&b, &[o], &[&lit(&[0i32, 2, 5, 1], &[2, 2])]);
    // index 5 is out of range -> all zeros
    assert_eq!(
        f32s(&got[0]),
        vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    );
}
