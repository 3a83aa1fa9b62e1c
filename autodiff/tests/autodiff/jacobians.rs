//! `jacrev`, `jacfwd` and `hessian` in f64 against central finite differences and against
//! JAX (fixtures made by `autodiff/fixtures/make_jacobians.py` with JAX 0.10.2, f64).

use serde_json::Value as Json;

use crate::common::*;

type F = fn(&mut Builder, &[Value]) -> autodiff::Result<Vec<Value>>;

/// tanh(x w) and softmax(x): two outputs, two inputs.
fn layer(b: &mut Builder, a: &[Value]) -> autodiff::Result<Vec<Value>> {
    let y = b.matmul(a[0], a[1])?;
    Ok(vec![b.tanh(y)?, b.softmax(a[0], 0)?])
}

/// logsumexp(x) + sum(sin(x) x^2): a scalar.
fn scalar(b: &mut Builder, a: &[Value]) -> autodiff::Result<Vec<Value>> {
    let l = b.logsumexp(a[0], [0])?;
    let s = b.sin(a[0])?;
    let q = b.mul(a[0], a[0])?;
    let p = b.mul(s, q)?;
    let p = b.reduce_sum(p, [0])?;
    Ok(vec![b.add(l, p)?])
}

/// h = tanh(0.5 h + x_i) over the rows of xs, the hs stacked (a scan).
fn rnn(b: &mut Builder, a: &[Value]) -> autodiff::Result<Vec<Value>> {
    let (_, ys) = b.scan(&[a[0]], &[a[1]], |b, c, x| {
        let k = b.scalar(F64, 0.5)?;
        let h = b.mul(c[0], k)?;
        let h = b.add(h, x[0])?;
        let h = b.tanh(h)?;
        Ok((vec![h], vec![h]))
    })?;
    Ok(ys)
}

fn tensor(v: &Json) -> (Vec<i64>, Vec<f64>) {
    let dims = v["dims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_i64().unwrap())
        .collect();
    let data = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_f64().unwrap())
        .collect();
    (dims, data)
}

fn fixtures() -> Json {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/jacobians.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixtures/jacobians.json")).unwrap()
}

struct Computed {
    outs: Vec<Vec<f64>>,
    out_dims: Vec<Vec<i64>>,
    rev: Vec<Vec<Vec<f64>>>,
    fwd: Vec<Vec<Vec<f64>>>,
    hess: Option<Vec<Vec<Vec<f64>>>>,
}

/// Records f, its Jacobians both ways (and its Hessian when it returns one scalar), checks
/// their dimensions, runs them on `inputs`.
fn compute(f: F, inputs: &[(Vec<i64>, Vec<f64>)]) -> Computed {
    let mut b = Builder::new("jac");
    let xs: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, (d, _))| b.parameter(format!("x{i}"), F64, d).unwrap())
        .collect();
    let ys = f(&mut b, &xs).unwrap();
    let out_dims: Vec<Vec<i64>> = ys.iter().map(|&y| b.dims(y).unwrap().to_vec()).collect();
    let rev = autodiff::jacrev(&mut b, &ys, &xs).unwrap();
    let fwd = autodiff::jacfwd(&mut b, &ys, &xs).unwrap();
    for (i, od) in out_dims.iter().enumerate() {
        for (j, (id, _)) in inputs.iter().enumerate() {
            let mut want = od.clone();
            want.extend(id);
            assert_eq!(b.dims(rev[i][j]).unwrap(), want.as_slice());
            assert_eq!(b.dims(fwd[i][j]).unwrap(), want.as_slice());
        }
    }
    let hess = (ys.len() == 1 && out_dims[0].is_empty())
        .then(|| autodiff::hessian(&mut b, ys[0], &xs).unwrap());
    let mut outs = ys.clone();
    outs.extend(rev.iter().flatten());
    outs.extend(fwd.iter().flatten());
    if let Some(h) = &hess {
        outs.extend(h.iter().flatten());
    }
    let lits: Vec<Literal> = inputs.iter().map(|(d, v)| lit(v, d)).collect();
    let refs: Vec<&Literal> = lits.iter().collect();
    let got: Vec<Vec<f64>> = run(&b, &outs, &refs).iter().map(f64s).collect();
    let (no, ni) = (ys.len(), inputs.len());
    let grid = |off: usize, rows: usize| -> Vec<Vec<Vec<f64>>> {
        (0..rows)
            .map(|i| (0..ni).map(|j| got[off + i * ni + j].clone()).collect())
            .collect()
    };
    Computed {
        outs: got[..no].to_vec(),
        out_dims,
        rev: grid(no, no),
        fwd: grid(no + no * ni, no),
        hess: hess.map(|_| grid(no + 2 * no * ni, ni)),
    }
}

fn close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}[{k}]: got {g}, want {w}"
        );
    }
}

#[test]
fn jacobians_and_hessians_match_jax() {
    let fx = fixtures();
    assert_eq!(fx["jax_version"], "0.10.2");
    let cases: [(&str, F); 3] = [("layer", layer), ("scalar", scalar), ("rnn", rnn)];
    for (name, f) in cases {
        let c = &fx[name];
        let inputs: Vec<_> = c["inputs"].as_array().unwrap().iter().map(tensor).collect();
        let got = compute(f, &inputs);
        for (i, row) in c["jacobian"].as_array().unwrap().iter().enumerate() {
            for (j, t) in row.as_array().unwrap().iter().enumerate() {
                let (dims, want) = tensor(t);
                let mut d = got.out_dims[i].clone();
                d.extend(&inputs[j].0);
                assert_eq!(dims, d, "{name}: J[{i}][{j}] dims");
                close(
                    &format!("{name}: jacrev[{i}][{j}]"),
                    &got.rev[i][j],
                    &want,
                    1e-10,
                );
                close(
                    &format!("{name}: jacfwd[{i}][{j}]"),
                    &got.fwd[i][j],
                    &want,
                    1e-10,
                );
            }
        }
        if let Some(h) = c.get("hessian") {
            let ours = got.hess.as_ref().expect("a scalar function has a Hessian");
            for (j, row) in h.as_array().unwrap().iter().enumerate() {
                for (k, t) in row.as_array().unwrap().iter().enumerate() {
                    close(
                        &format!("{name}: hessian[{j}][{k}]"),
                        &ours[j][k],
                        &tensor(t).1,
                        1e-10,
                    );
                }
            }
        }
    }
}

#[test]
fn jacobians_and_hessians_match_finite_differences() {
    let h = 1e-6;
    let mut rng = Rng(77);
    let cases: [(&str, F, Vec<Vec<i64>>); 3] = [
        ("layer", layer, vec![vec![3], vec![3, 4]]),
        ("scalar", scalar, vec![vec![4]]),
        ("rnn", rnn, vec![vec![3], vec![4, 3]]),
    ];
    for (name, f, dims) in cases {
        let inputs: Vec<(Vec<i64>, Vec<f64>)> = dims
            .iter()
            .map(|d| (d.clone(), rng.vec(count(d), -1.0, 1.0)))
            .collect();
        let got = compute(f, &inputs);
        // f and its reverse-mode Jacobian, compiled once, evaluated at shifted inputs.
        let mut b = Builder::new("eval");
        let xs: Vec<Value> = inputs
            .iter()
            .enumerate()
            .map(|(i, (d, _))| b.parameter(format!("x{i}"), F64, d).unwrap())
            .collect();
        let ys = f(&mut b, &xs).unwrap();
        let jr = autodiff::jacrev(&mut b, &ys, &xs).unwrap();
        let mut outs = ys.clone();
        outs.extend(jr.iter().flatten());
        let exe = compile(&b, &outs);
        let eval = |ins: &[(Vec<i64>, Vec<f64>)]| -> Vec<Vec<f64>> {
            let lits: Vec<Literal> = ins.iter().map(|(d, v)| lit(v, d)).collect();
            let refs: Vec<&Literal> = lits.iter().collect();
            exe.run(&refs).unwrap().iter().map(f64s).collect()
        };
        let ni = inputs.len();
        // Column e of J[i][j] is (f(x + h e) - f(x - h e)) / 2h.
        for (j, (_, x)) in inputs.iter().enumerate() {
            for e in 0..x.len() {
                let shifted = |s: f64| {
                    let mut ins = inputs.clone();
                    ins[j].1[e] += s;
                    eval(&ins)
                };
                let (p, m) = (shifted(h), shifted(-h));
                for i in 0..got.outs.len() {
                    let n_out = got.outs[i].len();
                    let col: Vec<f64> = (0..n_out)
                        .map(|o| (p[i][o] - m[i][o]) / (2.0 * h))
                        .collect();
                    let ours: Vec<f64> =
                        (0..n_out).map(|o| got.rev[i][j][o * x.len() + e]).collect();
                    close(
                        &format!("{name}: jacrev[{i}][{j}] column {e}"),
                        &ours,
                        &col,
                        1e-6,
                    );
                    let ours: Vec<f64> =
                        (0..n_out).map(|o| got.fwd[i][j][o * x.len() + e]).collect();
                    close(
                        &format!("{name}: jacfwd[{i}][{j}] column {e}"),
                        &ours,
                        &col,
                        1e-6,
                    );
                }
                // Hessian column: differences of the gradient (jacrev of the scalar).
                if let Some(hs) = &got.hess {
                    for k in 0..ni {
                        let nk = inputs[k].1.len();
                        let col: Vec<f64> = (0..nk)
                            .map(|q| (p[1 + k][q] - m[1 + k][q]) / (2.0 * h))
                            .collect();
                        let ours: Vec<f64> = (0..nk).map(|q| hs[k][j][q * x.len() + e]).collect();
                        close(
                            &format!("{name}: hessian[{k}][{j}] column {e}"),
                            &ours,
                            &col,
                            1e-6,
                        );
                    }
                }
            }
        }
    }
}
