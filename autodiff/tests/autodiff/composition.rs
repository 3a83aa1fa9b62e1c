//! `vmap` composed with the gradients, the custom rules and itself, its errors, and what it
//! leaves unbatched: per-example gradients of the digits MLP (64-128-128-10) against the
//! gradients computed one example at a time, vmap of vmap, grad of vmap through custom VJP
//! and JVP rules, vmap of Jacobians.

use autodiff::Error;

use crate::common::*;

/// `x w + bias` (a dense layer on builder values).
fn dense(b: &mut Builder, x: Value, w: Value, bias: Value) -> hlo_builder::Result<Value> {
    let y = b.matmul(x, w)?;
    b.add(y, bias)
}

/// The digits MLP's parameters (He-scaled normal weights, small biases), seeded.
fn mlp_params(rng: &mut Rng) -> Vec<(Vec<i64>, Vec<f32>)> {
    let sizes = [64i64, 128, 128, 10];
    let mut p = Vec::new();
    for w in sizes.windows(2) {
        let s = (2.0 / w[0] as f64).sqrt();
        let n = (w[0] * w[1]) as usize;
        p.push((
            vec![w[0], w[1]],
            rng.vec(n, -s, s).iter().map(|&v| v as f32).collect(),
        ));
        p.push((
            vec![w[1]],
            rng.vec(w[1] as usize, -0.1, 0.1)
                .iter()
                .map(|&v| v as f32)
                .collect(),
        ));
    }
    p
}

/// Cross-entropy of the MLP on one example (`x` f32[64], `y` one-hot f32[10]).
fn example_loss(b: &mut Builder, p: &[Value], x: Value, y: Value) -> autodiff::Result<Value> {
    let x = b.reshape(x, [1, 64])?;
    let y = b.reshape(y, [1, 10])?;
    let h = dense(b, x, p[0], p[1])?;
    let h = b.relu(h)?;
    let h = dense(b, h, p[2], p[3])?;
    let h = b.relu(h)?;
    let logits = dense(b, h, p[4], p[5])?;
    Ok(b.softmax_cross_entropy(logits, y)?)
}

#[test]
fn per_example_gradients_of_the_digits_mlp_match_one_at_a_time() {
    let n = 16i64;
    let mut rng = Rng(42);
    let params = mlp_params(&mut rng);
    let xs: Vec<f32> = rng
        .vec((n * 64) as usize, 0.0, 1.0)
        .iter()
        .map(|&v| v as f32)
        .collect();
    let mut ys = vec![0f32; (n * 10) as usize];
    for i in 0..n as usize {
        ys[i * 10 + (rng.next_u64() % 10) as usize] = 1.0;
    }
    let plits: Vec<Literal> = params.iter().map(|(d, v)| lit(v, d)).collect();

    // All examples at once: vmap of grad.
    let mut b = Builder::new("per_example");
    let ps: Vec<Value> = params
        .iter()
        .enumerate()
        .map(|(i, (d, _))| b.parameter(format!("p{i}"), F32, d).unwrap())
        .collect();
    let x = b.parameter("x", F32, [n, 64]).unwrap();
    let y = b.parameter("y", F32, [n, 10]).unwrap();
    let mut args = ps.clone();
    args.extend([x, y]);
    let mut in_axes = vec![None; 6];
    in_axes.extend([Some(0), Some(0)]);
    let g = autodiff::vmap(
        &mut b,
        |b, a| {
            let l = example_loss(b, &a[..6], a[6], a[7])?;
            autodiff::grad(b, l, &a[..6])
        },
        &args,
        &in_axes,
        &[],
    )
    .unwrap();
    // The mean of the per-example gradients is the gradient of the mean loss.
    let mut batch_ps = Vec::new();
    for (i, (d, _)) in params.iter().enumerate() {
        batch_ps.push(b.parameter(format!("q{i}"), F32, d).unwrap());
    }
    let h = dense(&mut b, x, batch_ps[0], batch_ps[1]).unwrap();
    let h = b.relu(h).unwrap();
    let h = dense(&mut b, h, batch_ps[2], batch_ps[3]).unwrap();
    let h = b.relu(h).unwrap();
    let logits = dense(&mut b, h, batch_ps[4], batch_ps[5]).unwrap();
    let mean_loss = b.softmax_cross_entropy(logits, y).unwrap();
    let gm = autodiff::grad(&mut b, mean_loss, &batch_ps).unwrap();
    let mut outs = g.clone();
    outs.extend(&gm);
    for (k, t) in g.iter().enumerate() {
        let mut want = vec![n];
        want.extend(&params[k].0);
        assert_eq!(b.dims(*t).unwrap(), want.as_slice());
    }
    let mut lits: Vec<&Literal> = plits.iter().collect();
    let (xl, yl) = (lit(&xs, &[n, 64]), lit(&ys, &[n, 10]));
    lits.extend([&xl, &yl]);
    lits.extend(plits.iter());
    let got = run(&b, &outs, &lits);

    // One example at a time.
    let mut r = Builder::new("one");
    let ps: Vec<Value> = params
        .iter()
        .enumerate()
        .map(|(i, (d, _))| r.parameter(format!("p{i}"), F32, d).unwrap())
        .collect();
    let x1 = r.parameter("x", F32, [64]).unwrap();
    let y1 = r.parameter("y", F32, [10]).unwrap();
    let l = example_loss(&mut r, &ps, x1, y1).unwrap();
    let g1 = autodiff::grad(&mut r, l, &ps).unwrap();
    let exe = compile(&r, &g1);
    let mut sums: Vec<Vec<f32>> = params.iter().map(|(_, v)| vec![0.0; v.len()]).collect();
    for i in 0..n as usize {
        let xi = lit(&xs[i * 64..(i + 1) * 64], &[64]);
        let yi = lit(&ys[i * 10..(i + 1) * 10], &[10]);
        let mut a: Vec<&Literal> = plits.iter().collect();
        a.extend([&xi, &yi]);
        let one = exe.run(&a).unwrap();
        for k in 0..6 {
            let want = f32s(&one[k]);
            let all = f32s(&got[k]);
            let sz = want.len();
            assert_close(
                &format!("example {i} gradient {k}"),
                &all[i * sz..(i + 1) * sz],
                &want,
                1e-5,
            );
            for (s, w) in sums[k].iter_mut().zip(&want) {
                *s += w / n as f32;
            }
        }
    }
    for k in 0..6 {
        assert_close(
            &format!("mean gradient {k}"),
            &f32s(&got[6 + k]),
            &sums[k],
            1e-5,
        );
    }
}

#[test]
fn vmap_of_vmap_and_out_axes() {
    // f(x[3], y[4]) = sin(x ⊗ y); the inner vmap maps x's rows (axis 1 of X), the outer one
    // maps X's axis 0 and y's axis 1.
    let mut b = Builder::new("nested");
    let xs = b.parameter("xs", F64, [2, 5, 3]).unwrap();
    let ys = b.parameter("ys", F64, [4, 2]).unwrap();
    let out = autodiff::vmap(
        &mut b,
        |b, a| {
            autodiff::vmap(
                b,
                |b, a| {
                    let x = b.reshape(a[0], [3, 1])?;
                    let y = b.reshape(a[1], [1, 4])?;
                    let m = b.mul(x, y)?;
                    Ok(vec![b.sin(m)?])
                },
                a,
                &[Some(0), None],
                &[2],
            )
        },
        &[xs, ys],
        &[Some(0), Some(1)],
        &[1],
    )
    .unwrap();
    // inner result [3, 4, 5] (batch at 2); outer puts its batch at 1: [3, 2, 4, 5].
    assert_eq!(b.dims(out[0]).unwrap(), &[3, 2, 4, 5]);
    let mut rng = Rng(5);
    let xv = rng.vec(30, -1.0, 1.0);
    let yv = rng.vec(8, -1.0, 1.0);
    let got = f64s(&run(&b, &out, &[&lit(&xv, &[2, 5, 3]), &lit(&yv, &[4, 2])])[0]);
    for i in 0..3 {
        for o in 0..2 {
            for l in 0..4 {
                for k in 0..5 {
                    let want = (xv[o * 15 + k * 3 + i] * yv[l * 2 + o]).sin();
                    let g = got[((i * 2 + o) * 4 + l) * 5 + k];
                    assert!((g - want).abs() < 1e-12, "[{i},{o},{l},{k}]: {g} vs {want}");
                }
            }
        }
    }
}

#[test]
fn gradients_through_batched_custom_rules() {
    // F(X, w) = sum_i sum(cube(x_i * w)) with a custom VJP for cube (3 u^2 ct) and
    // G(X) = sum_i sum(sine(x_i)) with a custom JVP for sine (cos(u) t). After vmap the rules
    // run per example; w is shared, so its cotangent is the sum over the examples.
    let mut b = Builder::new("custom");
    let xs = b.parameter("xs", F64, [4, 3]).unwrap();
    let w = b.parameter("w", F64, [3]).unwrap();
    let t = b.parameter("t", F64, [4, 3]).unwrap();
    let y = autodiff::vmap(
        &mut b,
        |b, a| {
            let u = b.mul(a[0], a[1])?;
            let c = autodiff::custom_vjp(
                b,
                "cube",
                &[u],
                |b, x| {
                    let s = b.mul(x[0], x[0])?;
                    Ok(vec![b.mul(s, x[0])?])
                },
                |b, x, _, ct| {
                    let s = b.mul(x[0], x[0])?;
                    let k = b.scalar(F64, 3.0)?;
                    let s = b.mul(s, k)?;
                    Ok(vec![Some(b.mul(s, ct[0])?)])
                },
            )?;
            let s = autodiff::custom_jvp(
                b,
                "sine",
                &[a[0]],
                |b, x| Ok(vec![b.sin(x[0])?]),
                |b, x, _, tt| {
                    let c = b.cos(x[0])?;
                    Ok(vec![Some(b.mul(c, tt[0])?)])
                },
            )?;
            Ok(vec![c[0], s[0]])
        },
        &[xs, w],
        &[Some(0), None],
        &[0, 0],
    )
    .unwrap();
    let f = b.reduce_sum(y[0], [0, 1]).unwrap();
    let gf = autodiff::grad(&mut b, f, &[xs, w]).unwrap();
    let gs = b.reduce_sum(y[1], [0, 1]).unwrap();
    let gg = autodiff::grad(&mut b, gs, &[xs]).unwrap();
    let jg = autodiff::jvp(&mut b, &[y[1]], &[xs], &[t]).unwrap();
    let mut rng = Rng(9);
    let (xv, wv, tv) = (
        rng.vec(12, -1.0, 1.0),
        rng.vec(3, -1.0, 1.0),
        rng.vec(12, -1.0, 1.0),
    );
    let got = run(
        &b,
        &[gf[0], gf[1], gg[0], jg[0]],
        &[&lit(&xv, &[4, 3]), &lit(&wv, &[3]), &lit(&tv, &[4, 3])],
    );
    let (dx, dw, dsx, js) = (f64s(&got[0]), f64s(&got[1]), f64s(&got[2]), f64s(&got[3]));
    let mut want_dw = [0.0; 3];
    for i in 0..4 {
        for j in 0..3 {
            let (x, wj) = (xv[i * 3 + j], wv[j]);
            let u = x * wj;
            // d/dx (x w)^3 = 3 (x w)^2 w; d/dw = 3 (x w)^2 x.
            assert!((dx[i * 3 + j] - 3.0 * u * u * wj).abs() < 1e-12);
            want_dw[j] += 3.0 * u * u * x;
            assert!((dsx[i * 3 + j] - x.cos()).abs() < 1e-12);
            assert!((js[i * 3 + j] - x.cos() * tv[i * 3 + j]).abs() < 1e-12);
        }
    }
    for j in 0..3 {
        assert!(
            (dw[j] - want_dw[j]).abs() < 1e-12,
            "dw[{j}]: {} vs {}",
            dw[j],
            want_dw[j]
        );
    }
}

#[test]
fn vmap_of_jacobians_and_hessians() {
    // Per-example Jacobian of f(x) = tanh(A x) and Hessian of h(x) = sum(x^3)/3 + x0 x1.
    let mut b = Builder::new("jac");
    let a = b.parameter("a", F64, [2, 3]).unwrap();
    let xs = b.parameter("xs", F64, [5, 3]).unwrap();
    let r = autodiff::vmap(
        &mut b,
        |b, v| {
            let y = b.matmul(v[0], v[1])?;
            let y = b.tanh(y)?;
            let j = autodiff::jacrev(b, &[y], &[v[1]])?;
            let jf = autodiff::jacfwd(b, &[y], &[v[1]])?;
            let c = b.mul(v[1], v[1])?;
            let c = b.mul(c, v[1])?;
            let third = b.scalar(F64, 1.0 / 3.0)?;
            let c = b.mul(c, third)?;
            let c = b.reduce_sum(c, [0])?;
            let x0 = b.slice(v[1], [0], [1], [1])?;
            let x1 = b.slice(v[1], [1], [2], [1])?;
            let p = b.mul(x0, x1)?;
            let p = b.reshape(p, [])?;
            let h = b.add(c, p)?;
            let hh = autodiff::hessian(b, h, &[v[1]])?;
            Ok(vec![j[0][0], jf[0][0], hh[0][0]])
        },
        &[a, xs],
        &[None, Some(0)],
        &[],
    )
    .unwrap();
    assert_eq!(b.dims(r[0]).unwrap(), &[5, 2, 3]);
    assert_eq!(b.dims(r[2]).unwrap(), &[5, 3, 3]);
    let mut rng = Rng(11);
    let (av, xv) = (rng.vec(6, -1.0, 1.0), rng.vec(15, -1.0, 1.0));
    let got = run(&b, &r, &[&lit(&av, &[2, 3]), &lit(&xv, &[5, 3])]);
    let (jr, jf, hs) = (f64s(&got[0]), f64s(&got[1]), f64s(&got[2]));
    for e in 0..5 {
        let x = &xv[e * 3..e * 3 + 3];
        for i in 0..2 {
            let s: f64 = (0..3).map(|k| av[i * 3 + k] * x[k]).sum();
            let d = 1.0 - s.tanh().powi(2);
            for k in 0..3 {
                let want = d * av[i * 3 + k];
                assert!((jr[e * 6 + i * 3 + k] - want).abs() < 1e-12);
                assert!((jf[e * 6 + i * 3 + k] - want).abs() < 1e-12);
            }
        }
        for i in 0..3 {
            for k in 0..3 {
                let mut want = if i == k { 2.0 * x[i] } else { 0.0 };
                if (i, k) == (0, 1) || (i, k) == (1, 0) {
                    want += 1.0;
                }
                assert!(
                    (hs[e * 9 + i * 3 + k] - want).abs() < 1e-12,
                    "H[{e}][{i},{k}]"
                );
            }
        }
    }
}

#[test]
fn shared_values_stay_unbatched() {
    // exp(w) and w·w depend only on the shared w: recorded once, without a batch axis.
    let mut b = Builder::new("shared");
    let w = b.parameter("w", F32, [3]).unwrap();
    let xs = b.parameter("xs", F32, [8, 3]).unwrap();
    let before = b.graph().len();
    let r = autodiff::vmap(
        &mut b,
        |b, a| {
            let e = b.exp(a[0])?;
            let m = b.mul(e, a[1])?;
            let ww = b.mul(a[0], a[0])?;
            Ok(vec![m, ww])
        },
        &[w, xs],
        &[None, Some(0)],
        &[0, 0],
    )
    .unwrap();
    let mut exp_types = Vec::new();
    for (_, node) in b.nodes().skip(before) {
        if node.op == Op::Elementwise(ElementwiseOp::Unary(UnaryOp::Exp)) {
            exp_types.push(node.types[0].to_string());
        }
    }
    assert_eq!(exp_types, vec!["f32[3]"]);
    // The shared result is broadcast only at the end, as asked by out_axes.
    assert_eq!(b.dims(r[1]).unwrap(), &[8, 3]);
    let got = run(
        &b,
        &r,
        &[
            &lit(&[0.5f32, -1.0, 2.0], &[3]),
            &lit(&(0..24).map(|i| i as f32).collect::<Vec<_>>(), &[8, 3]),
        ],
    );
    let m = f32s(&got[0]);
    assert!((m[3 * 5 + 2] - 2.0f32.exp() * 17.0).abs() < 1e-3);
    assert_eq!(&f32s(&got[1])[21..], &[0.25, 1.0, 4.0]);
}

#[test]
fn scan_gradient_keeps_no_per_trip_copies_of_its_outputs() {
    // The stacked outputs ([8, 16]) are written, never read: the gradient's saving loop
    // must not stack them again per trip ([8, 8, 16]).
    let mut b = Builder::new("scan_grad");
    let h0 = b.parameter("h0", F32, [16]).unwrap();
    let xs = b.parameter("xs", F32, [8, 16]).unwrap();
    let (_, ys) = b
        .scan(&[h0], &[xs], |b, c, x| {
            let h = b.mul(c[0], x[0])?;
            let h = b.tanh(h)?;
            Ok((vec![h], vec![h]))
        })
        .unwrap();
    let l = b.reduce_sum(ys[0], [0, 1]).unwrap();
    let g = autodiff::grad(&mut b, l, &[h0, xs]).unwrap();
    for (_, node) in b.nodes() {
        for t in &node.types {
            assert_ne!(
                t.dims.as_slice(),
                &[8, 8, 16],
                "a per-trip copy of the outputs"
            );
        }
    }
    let got = run(
        &b,
        &g,
        &[&lit(&[0.5f32; 16], &[16]), &lit(&[0.9f32; 128], &[8, 16])],
    );
    // Check one entry by hand: h_t = tanh(h_{t-1} x), L = sum_t h_t.
    let mut h = 0.5f32;
    let mut hs = Vec::new();
    for _ in 0..8 {
        h = (h * 0.9).tanh();
        hs.push(h);
    }
    // dL/dh0 = sum_t prod_{s<=t} (1 - h_s^2) x
    let mut want = 0.0;
    let mut p = 1.0;
    for &hv in &hs {
        p *= (1.0 - hv * hv) * 0.9;
        want += p;
    }
    assert!(
        (f32s(&got[0])[0] - want).abs() < 1e-5,
        "{} vs {want}",
        f32s(&got[0])[0]
    );
}

#[test]
fn vmap_misuse_is_an_error() {
    let mut b = Builder::new("bad");
    let x = b.parameter("x", F32, [4, 3]).unwrap();
    let y = b.parameter("y", F32, [5, 3]).unwrap();
    let id = |_: &mut Builder, a: &[Value]| Ok(a.to_vec());
    let e = autodiff::vmap(&mut b, id, &[x], &[], &[]).unwrap_err();
    assert!(matches!(e, Error::Axes { .. }), "{e}");
    let e = autodiff::vmap(&mut b, id, &[x], &[Some(2)], &[]).unwrap_err();
    assert!(e.to_string().contains("in_axes[0] = 2"), "{e}");
    let e = autodiff::vmap(&mut b, id, &[x, y], &[Some(0), Some(0)], &[]).unwrap_err();
    assert!(e.to_string().contains("batch sizes differ"), "{e}");
    let e = autodiff::vmap(&mut b, id, &[x], &[None], &[]).unwrap_err();
    assert!(e.to_string().contains("at least one batched"), "{e}");
    let e = autodiff::vmap(&mut b, id, &[x], &[Some(0)], &[0, 0]).unwrap_err();
    assert!(e.to_string().contains("out_axes"), "{e}");
    let e = autodiff::vmap(&mut b, id, &[x], &[Some(0)], &[2]).unwrap_err();
    assert!(e.to_string().contains("out_axes[0] = 2"), "{e}");
    // Errors of the function come back as they are.
    let e = autodiff::vmap(
        &mut b,
        |b, a| Ok(vec![b.reshape(a[0], [7])?]),
        &[x],
        &[Some(0)],
        &[],
    )
    .unwrap_err();
    assert!(e.to_string().contains("reshape: f32[3]"), "{e}");
    // A tensor of another builder.
    let mut other = Builder::new("other");
    let z = other.parameter("z", F32, [2]).unwrap();
    let e = autodiff::vmap(&mut b, id, &[z], &[Some(0)], &[]).unwrap_err();
    assert!(matches!(e, Error::NotInGraph { .. }), "{e}");
}
