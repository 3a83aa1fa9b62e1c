//! Optimizers: several steps on the plugin against a host reference in f64; clipping;
//! schedules; and a small regression that trains.

use autodiff::train::optim::{
    clip_by_global_norm, Adam, AdamW, LearningRate, Optimizer, RmsProp, Sgd,
};

use crate::common::*;

const TARGET: [f32; 4] = [1.0, -2.0, 0.5, 3.0];

/// One step function: loss = sum((p - target)^2 * k) for p: f32[4]; returns (loss, new p,
/// new state...).
fn step_fn(opt: &dyn Optimizer) -> (Builder, Vec<Value>, usize) {
    let mut b = Builder::new("step");
    let p = b.parameter("p", F32, [4]).unwrap();
    let t = b.constant(&TARGET, [4]).unwrap();
    let k = b.constant(&[1.0f32, 0.5, 2.0, 1.5], [4]).unwrap();
    let d = b.sub(p, t).unwrap();
    let d2 = b.mul(d, d).unwrap();
    let d2 = b.mul(d2, k).unwrap();
    let loss = b.reduce_sum(d2, [0]).unwrap();
    let g = autodiff::grad(&mut b, loss, &[p]).unwrap();
    let state = opt.state_parameters(&mut b, &[p]).unwrap();
    let (np, ns) = opt.update(&mut b, &[p], &g, &state).unwrap();
    let mut outs = vec![loss];
    outs.extend(np);
    outs.extend(&ns);
    let n = ns.len();
    (b, outs, n)
}

fn host_grad(p: &[f64]) -> Vec<f64> {
    let k = [1.0, 0.5, 2.0, 1.5];
    p.iter()
        .zip(TARGET)
        .zip(k)
        .map(|((p, t), k)| 2.0 * k * (p - t as f64))
        .collect()
}

/// Runs `steps` steps on the plugin; returns the parameters after each step.
fn run_steps(opt: &dyn Optimizer, steps: usize) -> Vec<Vec<f32>> {
    let (b, outs, n) = step_fn(opt);
    let exe = compile(&b, &outs);
    let mut p = lit(&[0.0f32, 0.0, 0.0, 0.0], &[4]);
    let mut state = opt.init(&[TensorType::new(F32, [4])]).unwrap();
    assert_eq!(state.len(), n);
    let mut hist = Vec::new();
    for _ in 0..steps {
        let mut args = vec![&p];
        args.extend(state.iter());
        let mut r = exe.run(&args).unwrap();
        let ns = r.split_off(2);
        p = r.pop().unwrap();
        hist.push(f32s(&p));
        state = ns;
    }
    assert_eq!(
        state[0].to_vec::<i32>().unwrap(),
        vec![steps as i32],
        "step count"
    );
    hist
}

fn compare(name: &str, got: &[Vec<f32>], want: &[Vec<f64>]) {
    for (s, (g, w)) in got.iter().zip(want).enumerate() {
        for (i, (a, b)) in g.iter().zip(w).enumerate() {
            assert!(
                (*a as f64 - b).abs() <= 1e-5 * b.abs().max(1.0),
                "{name}: step {} p[{i}] = {a}, reference {b}",
                s + 1
            );
        }
    }
}

#[test]
fn sgd_momentum_and_nesterov_match_a_host_reference() {
    for (name, m, nesterov, wd) in [
        ("sgd", 0.0, false, 0.0),
        ("momentum", 0.9, false, 0.01),
        ("nesterov", 0.9, true, 0.0),
    ] {
        let mut opt = Sgd::new(0.05).weight_decay(wd);
        if m != 0.0 {
            opt = if nesterov {
                opt.nesterov(m)
            } else {
                opt.momentum(m)
            };
        }
        let got = run_steps(&opt, 5);
        let mut p = [0.0f64; 4];
        let mut v = [0.0f64; 4];
        let mut want = Vec::new();
        for _ in 0..5 {
            let g: Vec<f64> = host_grad(&p)
                .iter()
                .zip(&p)
                .map(|(g, p)| g + wd * p)
                .collect();
            for i in 0..4 {
                let upd = if m != 0.0 {
                    v[i] = m * v[i] + g[i];
                    if nesterov {
                        g[i] + m * v[i]
                    } else {
                        v[i]
                    }
                } else {
                    g[i]
                };
                p[i] -= 0.05 * upd;
            }
            want.push(p.to_vec());
        }
        compare(name, &got, &want);
    }
}

#[test]
fn adam_and_adamw_match_a_host_reference() {
    for (name, opt, wd) in [
        ("adam", Adam::new(0.1), 0.0),
        ("adamw", AdamW::new(0.1, 0.05), 0.05),
    ] {
        let got = run_steps(&opt, 6);
        let (b1, b2, eps, lr) = (0.9f64, 0.999f64, 1e-8, 0.1);
        let mut p = vec![0.0f64; 4];
        let (mut m, mut v) = (vec![0.0; 4], vec![0.0; 4]);
        let mut want = Vec::new();
        for t in 1..=6 {
            let g = host_grad(&p);
            for i in 0..4 {
                m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                let mh = m[i] / (1.0 - b1.powi(t));
                let vh = v[i] / (1.0 - b2.powi(t));
                p[i] -= lr * (mh / (vh.sqrt() + eps) + wd * p[i]);
            }
            want.push(p.clone());
        }
        compare(name, &got, &want);
    }
}

#[test]
fn rmsprop_matches_a_host_reference() {
    let opt = RmsProp::new(0.01).momentum(0.5);
    let got = run_steps(&opt, 5);
    let mut p = vec![0.0f64; 4];
    let (mut s, mut buf) = (vec![0.0; 4], vec![0.0; 4]);
    let mut want = Vec::new();
    for _ in 0..5 {
        let g = host_grad(&p);
        for i in 0..4 {
            s[i] = 0.9 * s[i] + 0.1 * g[i] * g[i];
            buf[i] = 0.5 * buf[i] + g[i] / (s[i].sqrt() + 1e-8);
            p[i] -= 0.01 * buf[i];
        }
        want.push(p.clone());
    }
    compare("rmsprop", &got, &want);
}

#[test]
fn clipping_by_global_norm() {
    let mut b = Builder::new("clip");
    let a = b.parameter("a", F32, [2]).unwrap();
    let c = b.parameter("c", F32, []).unwrap();
    let small = b.parameter("s", F32, [1]).unwrap();
    let r = clip_by_global_norm(&mut b, &[a, c], 1.0).unwrap();
    let keep = clip_by_global_norm(&mut b, &[small], 1.0).unwrap();
    let out = run(
        &b,
        &[r[0], r[1], keep[0]],
        &[
            &lit(&[3.0f32, 0.0], &[2]),
            &Literal::scalar(4.0f32),
            &lit(&[0.5f32], &[1]),
        ],
    );
    assert_close("clipped a", &f32s(&out[0]), &[0.6, 0.0], 1e-6);
    assert_close("clipped c", &f32s(&out[1]), &[0.8], 1e-6);
    assert_eq!(
        f32s(&out[2]),
        vec![0.5],
        "a norm under the limit is unchanged"
    );
}

#[test]
fn learning_rate_schedules_in_the_graph_match_the_host() {
    let schedules = [
        LearningRate::Constant(0.3),
        LearningRate::Step {
            base: 1.0,
            gamma: 0.5,
            every: 3,
        },
        LearningRate::Cosine {
            base: 1.0,
            floor: 0.1,
            steps: 10,
        },
        LearningRate::warmup_cosine(1.0, 0.0, 4, 8),
    ];
    let steps: Vec<u64> = (0..15).collect();
    let mut b = Builder::new("lr");
    let s = b.parameter("s", F32, [15]).unwrap();
    let outs: Vec<Value> = schedules.iter().map(|l| l.at(&mut b, s).unwrap()).collect();
    let sv: Vec<f32> = steps.iter().map(|&v| v as f32).collect();
    let r = run(&b, &outs, &[&lit(&sv, &[15])]);
    for (l, o) in schedules.iter().zip(&r) {
        let want: Vec<f32> = steps.iter().map(|&t| l.value(t) as f32).collect();
        assert_close(&format!("{l:?}"), &f32s(o), &want, 1e-6);
    }
    // Spot values: warmup reaches the base at its last step; cosine ends at its floor.
    let w = LearningRate::warmup_cosine(1.0, 0.0, 4, 8);
    assert_eq!(w.value(0), 0.25);
    assert_eq!(w.value(3), 1.0);
    assert!(
        (LearningRate::Cosine {
            base: 1.0,
            floor: 0.1,
            steps: 10
        }
        .value(10)
            - 0.1)
            .abs()
            < 1e-12
    );
}

#[test]
fn adam_trains_a_linear_regression() {
    // y = X w* + 0.5; learn w and b from 64 rows with Adam + a schedule + clipping.
    let mut rng = Rng(7);
    let (n, d) = (64usize, 3usize);
    let wstar = [1.5f32, -2.0, 0.7];
    let xs: Vec<f32> = (0..n * d).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    let ys: Vec<f32> = (0..n)
        .map(|r| (0..d).map(|c| xs[r * d + c] * wstar[c]).sum::<f32>() + 0.5)
        .collect();
    let opt = Adam::new(LearningRate::warmup_cosine(0.1, 0.01, 10, 300)).clip_norm(10.0);
    let mut b = Builder::new("linreg");
    let w = b.parameter("w", F32, [3]).unwrap();
    let bias = b.parameter("b", F32, []).unwrap();
    let x = b.parameter("x", F32, [64, 3]).unwrap();
    let y = b.parameter("y", F32, [64]).unwrap();
    let state = opt.state_parameters(&mut b, &[w, bias]).unwrap();
    let pred = b.matmul(x, w).unwrap();
    let pred = b.add(pred, bias).unwrap();
    let e = b.sub(pred, y).unwrap();
    let e2 = b.mul(e, e).unwrap();
    let loss = b.mean(e2).unwrap();
    let g = autodiff::grad(&mut b, loss, &[w, bias]).unwrap();
    let (np, ns) = opt.update(&mut b, &[w, bias], &g, &state).unwrap();
    let mut outs = vec![loss];
    outs.extend(&np);
    outs.extend(&ns);
    let exe = compile(&b, &outs);
    let mut params = vec![lit(&[0f32; 3], &[3]), Literal::scalar(0f32)];
    let mut st = opt
        .init(&[TensorType::new(F32, [3]), TensorType::scalar(F32)])
        .unwrap();
    let (xl, yl) = (lit(&xs, &[64, 3]), lit(&ys, &[64]));
    let mut first = None;
    let mut last = 0.0;
    for _ in 0..300 {
        let mut args: Vec<&Literal> = vec![&params[0], &params[1], &xl, &yl];
        args.extend(st.iter());
        let mut r = exe.run(&args).unwrap();
        let rest = r.split_off(3);
        last = f32s(&r[0])[0];
        first.get_or_insert(last);
        params = r.split_off(1);
        st = rest;
    }
    let first = first.unwrap();
    assert!(last < 1e-3 * first, "loss went from {first} to {last}");
    assert_close("w", &f32s(&params[0]), &wstar, 2e-2);
    assert_close("b", &f32s(&params[1]), &[0.5], 2e-2);
}
