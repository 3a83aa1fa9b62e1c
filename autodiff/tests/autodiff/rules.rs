//! Every VJP rule against central finite differences in f64, in a random direction, on the
//! CPU plugin. For each case: `<vjp(w), v>` and `<w, jvp(v)>` must equal the directional
//! derivative `<w, (f(x + hv) - f(x - hv)) / 2h>`; for smooth cases also the Hessian-vector
//! product `<u, H_s v>` of `s = <w, f>` against differences of `<u, grad s>`.

use crate::common::*;

type Res = Result<Value, Box<dyn std::error::Error>>;
type F = Box<dyn Fn(&mut Builder, &[Value]) -> Res>;

struct Case {
    name: &'static str,
    /// (dims, lo, hi) of each input's random values.
    inputs: Vec<(Vec<i64>, f64, f64)>,
    f: F,
    second: bool,
    h: f64,
    tol: f64,
}

fn case(
    name: &'static str,
    inputs: &[(&[i64], f64, f64)],
    second: bool,
    f: impl Fn(&mut Builder, &[Value]) -> Res + 'static,
) -> Case {
    Case {
        name,
        inputs: inputs
            .iter()
            .map(|(d, l, h)| (d.to_vec(), *l, *h))
            .collect(),
        f: Box::new(f),
        second,
        h: 1e-6,
        tol: 2e-6,
    }
}

fn tuned(mut c: Case, h: f64, tol: f64) -> Case {
    c.h = h;
    c.tol = tol;
    c
}

fn i32c(b: &mut Builder, v: &[i32], dims: &[i64]) -> Value {
    b.constant(v, dims).unwrap()
}

fn s32(b: &mut Builder, v: i32) -> Value {
    b.scalar(S32, v as f64).unwrap()
}

fn check(c: &Case, seed: u64) {
    let mut b = Builder::new(c.name);
    let xs: Vec<Value> = c
        .inputs
        .iter()
        .enumerate()
        .map(|(i, (d, _, _))| b.parameter(format!("x{i}"), F64, d).unwrap())
        .collect();
    let out = (c.f)(&mut b, &xs).unwrap_or_else(|e| panic!("{}: forward: {e}", c.name));
    let ot = b.ty(out).unwrap().clone();
    assert_eq!(ot.ty, F64, "{}: output type", c.name);
    let w = b.parameter("w", F64, &ot.dims).unwrap();
    let vs: Vec<Value> = c
        .inputs
        .iter()
        .enumerate()
        .map(|(i, (d, _, _))| b.parameter(format!("v{i}"), F64, d).unwrap())
        .collect();
    let _us: Vec<Value> = c
        .inputs
        .iter()
        .enumerate()
        .map(|(i, (d, _, _))| b.parameter(format!("u{i}"), F64, d).unwrap())
        .collect();
    let gs =
        autodiff::vjp(&mut b, &[out], &[w], &xs).unwrap_or_else(|e| panic!("{}: vjp: {e}", c.name));
    let js =
        autodiff::jvp(&mut b, &[out], &xs, &vs).unwrap_or_else(|e| panic!("{}: jvp: {e}", c.name));
    let mut outs = vec![out];
    outs.extend(&gs);
    outs.extend(&js);
    if c.second {
        let p = b.mul(w, out).unwrap();
        let s = b
            .reduce_sum(p, (0..ot.rank() as i64).collect::<Vec<_>>())
            .unwrap();
        let hv =
            autodiff::hvp(&mut b, s, &xs, &vs).unwrap_or_else(|e| panic!("{}: hvp: {e}", c.name));
        outs.extend(&hv);
    }
    let exe = compile(&b, &outs);
    let mut rng = Rng(seed);
    let x: Vec<Vec<f64>> = c
        .inputs
        .iter()
        .map(|(d, lo, hi)| rng.vec(count(d), *lo, *hi))
        .collect();
    let v: Vec<Vec<f64>> = c
        .inputs
        .iter()
        .map(|(d, _, _)| rng.vec(count(d), -1.0, 1.0))
        .collect();
    let u: Vec<Vec<f64>> = c
        .inputs
        .iter()
        .map(|(d, _, _)| rng.vec(count(d), -1.0, 1.0))
        .collect();
    let wv = rng.vec(count(&ot.dims), -1.0, 1.0);
    let eval = |x: &[Vec<f64>]| -> Vec<Vec<f64>> {
        let mut args: Vec<Literal> = x
            .iter()
            .zip(&c.inputs)
            .map(|(x, (d, _, _))| lit(x, d))
            .collect();
        args.push(lit(&wv, &ot.dims));
        for (vi, (d, _, _)) in v.iter().zip(&c.inputs) {
            args.push(lit(vi, d));
        }
        for (ui, (d, _, _)) in u.iter().zip(&c.inputs) {
            args.push(lit(ui, d));
        }
        let refs: Vec<&Literal> = args.iter().collect();
        exe.run(&refs)
            .unwrap_or_else(|e| panic!("{}: run: {e}", c.name))
            .iter()
            .map(f64s)
            .collect()
    };
    let shift = |s: f64| -> Vec<Vec<f64>> {
        x.iter()
            .zip(&v)
            .map(|(x, v)| x.iter().zip(v).map(|(a, b)| a + s * b).collect())
            .collect()
    };
    let r0 = eval(&x);
    let rp = eval(&shift(c.h));
    let rm = eval(&shift(-c.h));
    let n = xs.len();
    let fd = (dot(&wv, &rp[0]) - dot(&wv, &rm[0])) / (2.0 * c.h);
    let vjp_dir: f64 = (0..n).map(|i| dot(&r0[1 + i], &v[i])).sum();
    let jvp_dir = dot(&wv, &r0[1 + n]);
    let close = |a: f64, b: f64| (a - b).abs() <= c.tol * b.abs().max(1.0);
    assert!(
        close(vjp_dir, fd),
        "{}: <vjp(w), v> = {vjp_dir}, finite differences give {fd}",
        c.name
    );
    assert!(
        close(jvp_dir, fd),
        "{}: <w, jvp(v)> = {jvp_dir}, finite differences give {fd}",
        c.name
    );
    if c.second {
        let gdir = |r: &[Vec<f64>]| -> f64 { (0..n).map(|i| dot(&r[1 + i], &u[i])).sum() };
        let fd2 = (gdir(&rp) - gdir(&rm)) / (2.0 * c.h);
        let hv: f64 = (0..n).map(|i| dot(&r0[2 + n + i], &u[i])).sum();
        assert!(
            (hv - fd2).abs() <= 50.0 * c.tol * fd2.abs().max(1.0),
            "{}: <u, H v> = {hv}, finite differences of the gradient give {fd2}",
            c.name
        );
    }
}

fn unary_cases() -> Vec<Case> {
    let mut v = Vec::new();
    let d: &[i64] = &[2, 3];
    macro_rules! un {
        ($name:literal, $m:ident, $lo:expr, $hi:expr, $smooth:expr) => {
            v.push(case($name, &[(d, $lo, $hi)], $smooth, |b, x| {
                Ok(b.$m(x[0])?)
            }));
        };
    }
    un!("neg", neg, -2.0, 2.0, true);
    un!("abs", abs, 0.2, 2.0, false);
    un!("sign", sign, 0.2, 2.0, false);
    un!("exp", exp, -2.0, 2.0, true);
    un!("expm1", expm1, -2.0, 2.0, true);
    un!("log", log, 0.5, 3.0, true);
    un!("log1p", log1p, -0.5, 3.0, true);
    un!("sqrt", sqrt, 0.5, 3.0, true);
    un!("rsqrt", rsqrt, 0.5, 3.0, true);
    un!("cbrt", cbrt, 0.5, 3.0, true);
    un!("tanh", tanh, -2.0, 2.0, true);
    un!("logistic", logistic, -3.0, 3.0, true);
    un!("sin", sin, -3.0, 3.0, true);
    un!("cos", cos, -3.0, 3.0, true);
    un!("tan", tan, -1.0, 1.0, true);
    un!("floor", floor, 0.1, 0.9, false);
    un!("ceil", ceil, 0.1, 0.9, false);
    un!("round", round, 0.1, 0.4, false);
    un!("round_nearest_even", round_nearest_even, 0.1, 0.4, false);
    un!("real_of_float", real, -1.0, 1.0, true);
    un!("imag_of_float", imag, -1.0, 1.0, true);
    v
}

fn binary_cases() -> Vec<Case> {
    let mut v = Vec::new();
    let d: &[i64] = &[2, 3];
    macro_rules! bin {
        ($name:literal, $m:ident, ($l0:expr, $h0:expr), ($l1:expr, $h1:expr), $smooth:expr) => {
            v.push(case(
                $name,
                &[(d, $l0, $h0), (d, $l1, $h1)],
                $smooth,
                |b, x| Ok(b.$m(x[0], x[1])?),
            ));
        };
    }
    bin!("add", add, (-1.0, 1.0), (-1.0, 1.0), true);
    bin!("sub", sub, (-1.0, 1.0), (-1.0, 1.0), true);
    bin!("mul", mul, (-1.0, 1.0), (-1.0, 1.0), true);
    bin!("div", div, (-1.0, 1.0), (0.5, 2.0), true);
    bin!("rem", rem, (2.1, 2.9), (0.8, 0.9), true);
    bin!("pow", pow, (0.5, 2.0), (-1.5, 1.5), true);
    bin!("atan2", atan2, (-1.0, 1.0), (0.5, 2.0), true);
    bin!("max", max, (-1.0, 1.0), (-1.0, 1.0), false);
    bin!("min", min, (-1.0, 1.0), (-1.0, 1.0), false);
    // Broadcasting inserts broadcast_in_dim; reduce its cotangent back.
    v.push(case(
        "mul_broadcast",
        &[(&[2, 3], -1.0, 1.0), (&[3], -1.0, 1.0)],
        true,
        |b, x| Ok(b.mul(x[0], x[1])?),
    ));
    v.push(case(
        "compare_select",
        &[(d, -1.0, 1.0), (d, -1.0, 1.0)],
        false,
        |b, x| {
            let p = b.lt(x[0], x[1])?;
            let s = b.sin(x[0])?;
            Ok(b.select(p, s, x[1])?)
        },
    ));
    v.push(case(
        "select_scalar_pred",
        &[(d, -1.0, 1.0), (d, -1.0, 1.0)],
        true,
        |b, x| {
            let p = b.constant_bool(&[false], [])?;
            let s = b.mul(x[0], x[1])?;
            Ok(b.select(p, x[0], s)?)
        },
    ));
    v.push(case(
        "clamp_scalar_bounds",
        &[(&[], -0.5, -0.4), (&[3, 4], -1.0, 1.0), (&[], 0.4, 0.5)],
        false,
        |b, x| Ok(b.clamp(x[0], x[1], x[2])?),
    ));
    v.push(case(
        "clamp_tensor_bounds",
        &[(&[6], -0.7, -0.3), (&[6], -1.0, 1.0), (&[6], 0.3, 0.7)],
        false,
        |b, x| Ok(b.clamp(x[0], x[1], x[2])?),
    ));
    v.push(tuned(
        case("convert_f32_roundtrip", &[(d, -1.0, 1.0)], false, |b, x| {
            let f = b.convert(x[0], F32)?;
            let f = b.exp(f)?;
            Ok(b.convert(f, F64)?)
        }),
        1e-2,
        1e-3,
    ));
    v.push(case(
        "int_to_float_is_constant",
        &[(d, -1.0, 1.0)],
        true,
        |b, x| {
            let i = b.iota(S32, [2, 3], 1)?;
            let f = b.convert(i, F64)?;
            Ok(b.mul(x[0], f)?)
        },
    ));
    v
}

fn movement_cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.push(case("reshape", &[(&[2, 6], -1.0, 1.0)], true, |b, x| {
        let r = b.reshape(x[0], [3, 4])?;
        Ok(b.mul(r, r)?)
    }));
    v.push(case(
        "transpose",
        &[(&[2, 3, 4], -1.0, 1.0)],
        true,
        |b, x| {
            let t = b.transpose(x[0], [2, 0, 1])?;
            Ok(b.sin(t)?)
        },
    ));
    v.push(case(
        "broadcast_in_dim_expand",
        &[(&[3, 1], -1.0, 1.0)],
        true,
        |b, x| {
            let t = b.broadcast_in_dim(x[0], [2, 3, 4], [1, 2])?;
            Ok(b.mul(t, t)?)
        },
    ));
    v.push(case(
        "broadcast_in_dim_permuted",
        &[(&[3, 4], -1.0, 1.0)],
        true,
        |b, x| {
            let t = b.broadcast_in_dim(x[0], [4, 2, 3], [2, 0])?;
            Ok(b.mul(t, t)?)
        },
    ));
    v.push(case(
        "slice_strided",
        &[(&[7, 5], -1.0, 1.0)],
        true,
        |b, x| {
            let s = b.slice(x[0], [1, 0], [7, 5], [2, 3])?;
            Ok(b.mul(s, s)?)
        },
    ));
    v.push(case(
        "dynamic_slice",
        &[(&[5, 4], -1.0, 1.0)],
        true,
        |b, x| {
            let (i, j) = (s32(b, 2), s32(b, 1));
            let s = b.dynamic_slice(x[0], &[i, j], [2, 3])?;
            Ok(b.mul(s, s)?)
        },
    ));
    v.push(case(
        "dynamic_slice_clamped",
        &[(&[5, 4], -1.0, 1.0)],
        true,
        |b, x| {
            let (i, j) = (s32(b, 9), s32(b, -3));
            let s = b.dynamic_slice(x[0], &[i, j], [2, 3])?;
            Ok(b.exp(s)?)
        },
    ));
    v.push(case(
        "dynamic_update_slice",
        &[(&[5, 4], -1.0, 1.0), (&[2, 2], -1.0, 1.0)],
        true,
        |b, x| {
            let (i, j) = (s32(b, 1), s32(b, 2));
            let s = b.dynamic_update_slice(x[0], x[1], &[i, j])?;
            Ok(b.mul(s, s)?)
        },
    ));
    v.push(case(
        "concatenate",
        &[
            (&[2, 3], -1.0, 1.0),
            (&[2, 1], -1.0, 1.0),
            (&[2, 2], -1.0, 1.0),
        ],
        true,
        |b, x| {
            let c = b.concatenate(&[x[0], x[1], x[2]], 1)?;
            let r = b.iota(F64, [2, 6], 1)?;
            let c = b.mul(c, r)?;
            Ok(b.mul(c, c)?)
        },
    ));
    v.push(case(
        "pad",
        &[(&[3, 4], -1.0, 1.0), (&[], -1.0, 1.0)],
        true,
        |b, x| {
            let p = b.pad(x[0], x[1], [1, -1], [2, 0], [1, 2])?;
            Ok(b.mul(p, p)?)
        },
    ));
    v.push(case("reverse", &[(&[3, 4], -1.0, 1.0)], true, |b, x| {
        let r = b.reverse(x[0], [0, 1])?;
        let i = b.iota(F64, [3, 4], 0)?;
        Ok(b.mul(r, i)?)
    }));
    v.push(case(
        "gather_rows",
        &[(&[5, 3], -1.0, 1.0)],
        true,
        |b, x| {
            let idx = i32c(b, &[1, 3, 1, 0], &[4, 1]);
            let dims = GatherDims {
                offset_dims: vec![1],
                collapsed_slice_dims: vec![0],
                start_index_map: vec![0],
                index_vector_dim: 1,
            };
            let g = b.gather(x[0], idx, dims, [1, 3], false)?;
            Ok(b.mul(g, g)?)
        },
    ));
    v.push(case(
        "gather_windows",
        &[(&[4, 5], -1.0, 1.0)],
        true,
        |b, x| {
            let idx = i32c(b, &[0, 1, 2, 3, 1, 0], &[3, 2]);
            let dims = GatherDims {
                offset_dims: vec![1, 2],
                collapsed_slice_dims: vec![],
                start_index_map: vec![0, 1],
                index_vector_dim: 1,
            };
            let g = b.gather(x[0], idx, dims, [2, 2], false)?;
            Ok(b.sin(g)?)
        },
    ));
    v.push(case(
        "scatter_add",
        &[(&[5, 3], -1.0, 1.0), (&[3, 3], -1.0, 1.0)],
        true,
        |b, x| {
            let idx = i32c(b, &[1, 3, 1], &[3, 1]);
            let dims = ScatterDims {
                update_window_dims: vec![1],
                inserted_window_dims: vec![0],
                scatter_dims_to_operand_dims: vec![0],
                index_vector_dim: 1,
            };
            let s = b.scatter(&[x[0]], idx, &[x[1]], dims, |b, a| {
                Ok(vec![b.add(a[0], a[1])?])
            })?;
            Ok(b.mul(s[0], s[0])?)
        },
    ));
    v.push(case(
        "scatter_replace",
        &[(&[5, 3], -1.0, 1.0), (&[3, 3], -1.0, 1.0)],
        true,
        |b, x| {
            let idx = i32c(b, &[1, 4, 0], &[3, 1]);
            let dims = ScatterDims {
                update_window_dims: vec![1],
                inserted_window_dims: vec![0],
                scatter_dims_to_operand_dims: vec![0],
                index_vector_dim: 1,
            };
            let s = b.scatter(&[x[0]], idx, &[x[1]], dims, |_, a| Ok(vec![a[1]]))?;
            Ok(b.mul(s[0], s[0])?)
        },
    ));
    v.push(case("sort", &[(&[3, 5], -1.0, 1.0)], false, |b, x| {
        let s = b.sort(&[x[0]], 1, true, |b, a| Ok(vec![b.lt(a[0], a[1])?]))?;
        let i = b.iota(F64, [3, 5], 1)?;
        Ok(b.mul(s[0], i)?)
    }));
    v.push(case(
        "sort_key_value",
        &[(&[6], -1.0, 1.0), (&[6], -1.0, 1.0)],
        false,
        |b, x| {
            let s = b.sort(&[x[0], x[1]], 0, true, |b, a| Ok(vec![b.gt(a[0], a[1])?]))?;
            let i = b.iota(F64, [6], 0)?;
            let k = b.mul(s[0], i)?;
            let v2 = b.mul(s[1], s[1])?;
            Ok(b.add(k, v2)?)
        },
    ));
    v.push(case("top_k", &[(&[2, 6], -1.0, 1.0)], false, |b, x| {
        Ok(b.top_k(x[0], 3)?.0)
    }));
    v
}

fn dot_conv_cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.push(case(
        "matmul",
        &[(&[3, 4], -1.0, 1.0), (&[4, 2], -1.0, 1.0)],
        true,
        |b, x| Ok(b.matmul(x[0], x[1])?),
    ));
    v.push(case(
        "dot_batched",
        &[(&[2, 3, 4], -1.0, 1.0), (&[2, 4, 5], -1.0, 1.0)],
        true,
        |b, x| {
            let d = DotDims {
                lhs_batch: vec![0],
                rhs_batch: vec![0],
                lhs_contracting: vec![2],
                rhs_contracting: vec![1],
            };
            let r = b.dot_general(x[0], x[1], d, [Precision::Default; 2])?;
            Ok(b.mul(r, r)?)
        },
    ));
    v.push(case(
        "dot_permuted_multi_contract",
        &[(&[3, 2, 4, 5], -1.0, 1.0), (&[4, 5, 3, 2], -1.0, 1.0)],
        true,
        |b, x| {
            let d = DotDims {
                lhs_batch: vec![1],
                rhs_batch: vec![3],
                lhs_contracting: vec![3, 0],
                rhs_contracting: vec![1, 2],
            };
            let r = b.dot_general(x[0], x[1], d, [Precision::Default; 2])?;
            Ok(b.mul(r, r)?)
        },
    ));
    v.push(case(
        "dot_vector",
        &[(&[4], -1.0, 1.0), (&[4], -1.0, 1.0)],
        true,
        |b, x| Ok(b.matmul(x[0], x[1])?),
    ));
    let conv = |name: &'static str, xi: &[i64], ki: &[i64], cfg: ConvConfig| {
        case(
            name,
            &[(xi, -1.0, 1.0), (ki, -1.0, 1.0)],
            true,
            move |b, x| {
                let r = b.convolution(x[0], x[1], cfg.clone())?;
                Ok(b.mul(r, r)?)
            },
        )
    };
    for (name, xi, ki, cfg) in conv_cases() {
        v.push(conv(name, &xi, &ki, cfg));
    }
    v
}

/// Cholesky and triangular solves: inputs made well conditioned inside the function.
fn factor_solve_cases() -> Vec<Case> {
    use hlo_builder::ops::linalg::Transpose;
    let mut v = Vec::new();
    // a = m mᵀ + 3 I is symmetric positive definite for any m.
    let spd = |b: &mut Builder, m: Value| -> Result<Value, Box<dyn std::error::Error>> {
        let r = b.ty(m)?.rank();
        let mut p: Vec<i64> = (0..r as i64).collect();
        p.swap(r - 2, r - 1);
        let mt = b.transpose(m, p)?;
        let a = b.matmul(m, mt)?;
        let n = b.dims(m)?[r - 1];
        let eye = b.iota(S32, [n, n], 0)?;
        let col = b.iota(S32, [n, n], 1)?;
        let eye = b.eq(eye, col)?;
        let eye = b.convert(eye, F64)?;
        let three = b.scalar(F64, 3.0)?;
        let eye = b.mul(eye, three)?;
        Ok(b.add(a, eye)?)
    };
    for (name, lower) in [("cholesky_lower", true), ("cholesky_upper", false)] {
        v.push(case(name, &[(&[3, 3], -1.0, 1.0)], true, move |b, x| {
            let a = spd(b, x[0])?;
            Ok(b.cholesky(a, lower)?)
        }));
    }
    v.push(case(
        "cholesky_batched_raw_input",
        &[(&[2, 3, 3], -1.0, 1.0), (&[2, 3, 3], -0.3, 0.3)],
        true,
        move |b, x| {
            // A non-symmetric perturbation: the factor sees its symmetric part.
            let a = spd(b, x[0])?;
            let a = b.add(a, x[1])?;
            Ok(b.cholesky(a, true)?)
        },
    ));
    for (name, left, lower, unit, tr) in [
        ("trsm_left_lower", true, true, false, Transpose::NoTranspose),
        (
            "trsm_left_upper_t",
            true,
            false,
            false,
            Transpose::Transpose,
        ),
        (
            "trsm_right_lower_unit",
            false,
            true,
            true,
            Transpose::NoTranspose,
        ),
        (
            "trsm_right_upper_adjoint",
            false,
            false,
            false,
            Transpose::Adjoint,
        ),
    ] {
        let bdims: &'static [i64] = if left { &[3, 2] } else { &[2, 3] };
        v.push(case(
            name,
            &[(&[3, 3], -0.5, 0.5), (bdims, -1.0, 1.0)],
            true,
            move |b, x| {
                // The diagonal pushed away from zero keeps the solve well conditioned.
                let eye = b.iota(S32, [3, 3], 0)?;
                let col = b.iota(S32, [3, 3], 1)?;
                let eye = b.eq(eye, col)?;
                let eye = b.convert(eye, F64)?;
                let two = b.scalar(F64, 2.0)?;
                let eye = b.mul(eye, two)?;
                let a = b.add(x[0], eye)?;
                Ok(b.triangular_solve(a, x[1], left, lower, unit, tr)?)
            },
        ));
    }
    v
}

fn reduce_cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.push(case(
        "reduce_sum",
        &[(&[3, 4, 2], -1.0, 1.0)],
        true,
        |b, x| {
            let s = b.reduce_sum(x[0], [0, 2])?;
            Ok(b.mul(s, s)?)
        },
    ));
    v.push(case(
        "reduce_sum_init",
        &[(&[3, 4], -1.0, 1.0), (&[], -1.0, 1.0)],
        true,
        |b, x| {
            let s = b.reduce(&[x[0]], &[x[1]], [1], |b, a| Ok(vec![b.add(a[0], a[1])?]))?;
            Ok(b.mul(s[0], s[0])?)
        },
    ));
    v.push(case(
        "reduce_max",
        &[(&[3, 5], -1.0, 1.0)],
        false,
        |b, x| Ok(b.reduce_max(x[0], [1])?),
    ));
    v.push(case(
        "reduce_min",
        &[(&[3, 5], -1.0, 1.0)],
        false,
        |b, x| Ok(b.reduce_min(x[0], [0])?),
    ));
    v.push(case("reduce_prod", &[(&[3, 4], 0.5, 1.5)], true, |b, x| {
        Ok(b.reduce_prod(x[0], [1])?)
    }));
    v.push(case(
        "reduce_max_init_wins",
        &[(&[3, 4], -2.0, 1.0), (&[], 0.0, 0.5)],
        false,
        |b, x| {
            // Rows whose elements are all below the init value give the cotangent to the init.
            let r = b.reduce(&[x[0]], &[x[1]], [1], |b, a| Ok(vec![b.max(a[0], a[1])?]))?;
            Ok(r[0])
        },
    ));
    v.push(case(
        "reduce_prod_long",
        &[(&[2, 80], 0.9, 1.1)],
        true,
        |b, x| Ok(b.reduce_prod(x[0], [1])?),
    ));
    v.push(case(
        "reduce_custom_body",
        &[(&[3, 4], -1.0, 1.0)],
        false,
        |b, x| {
            // max written as a select: not a canned reducer, so the fold is unrolled.
            let init = b.scalar(F64, -10.0)?;
            let r = b.reduce(&[x[0]], &[init], [1], |b, a| {
                let p = b.gt(a[0], a[1])?;
                Ok(vec![b.select(p, a[0], a[1])?])
            })?;
            Ok(r[0])
        },
    ));
    v.push(case(
        "reduce_softabs_body",
        &[(&[2, 3], -1.0, 1.0)],
        true,
        |b, x| {
            // A smooth, non-canned body: acc + x^2.
            let init = b.scalar(F64, 0.5)?;
            let r = b.reduce(&[x[0]], &[init], [1], |b, a| {
                let q = b.mul(a[1], a[1])?;
                Ok(vec![b.add(a[0], q)?])
            })?;
            Ok(b.sqrt(r[0])?)
        },
    ));
    v.push(case(
        "reduce_variadic_argmax_value",
        &[(&[3, 5], -1.0, 1.0)],
        false,
        |b, x| {
            let idx = b.iota(S32, [3, 5], 1)?;
            let iv = b.scalar(F64, -10.0)?;
            let ii = b.scalar(S32, 0.0)?;
            let r = b.reduce(&[x[0], idx], &[iv, ii], [1], |b, a| {
                let p = b.ge(a[0], a[2])?;
                Ok(vec![b.select(p, a[0], a[2])?, b.select(p, a[1], a[3])?])
            })?;
            Ok(r[0])
        },
    ));
    v.push(case("logsumexp", &[(&[3, 5], -2.0, 2.0)], true, |b, x| {
        Ok(b.logsumexp(x[0], [1])?)
    }));
    v.push(case("softmax", &[(&[3, 5], -2.0, 2.0)], true, |b, x| {
        Ok(b.softmax(x[0], 1)?)
    }));
    v.push(case("layer_norm", &[(&[3, 6], -2.0, 2.0)], true, |b, x| {
        let m = b.mean_axes(x[0], [1])?;
        let m = b.reshape(m, [3, 1])?;
        let d = b.sub(x[0], m)?;
        let var = b.var(x[0], [1])?;
        let eps = b.scalar(F64, 1e-5)?;
        let var = b.add(var, eps)?;
        let r = b.rsqrt(var)?;
        let r = b.reshape(r, [3, 1])?;
        Ok(b.mul(d, r)?)
    }));
    v.push(case(
        "avg_pool_padded",
        &[(&[1, 5, 5, 2], -1.0, 1.0)],
        true,
        |b, x| {
            let init = b.scalar(F64, 0.0)?;
            let mut w = WindowConfig::new(vec![1, 3, 2, 1], vec![1, 2, 2, 1]);
            w.padding = vec![(0, 0), (1, 1), (0, 1), (0, 0)];
            let r = b.reduce_window(&[x[0]], &[init], w, |b, a| Ok(vec![b.add(a[0], a[1])?]))?;
            Ok(b.mul(r[0], r[0])?)
        },
    ));
    v.push(case(
        "sum_window_dilated",
        &[(&[6, 5], -1.0, 1.0), (&[], -1.0, 1.0)],
        true,
        |b, x| {
            let mut w = WindowConfig::new(vec![2, 2], vec![1, 2]);
            w.base_dilations = vec![2, 1];
            w.window_dilations = vec![1, 2];
            w.padding = vec![(1, 0), (1, 1)];
            let r = b.reduce_window(&[x[0]], &[x[1]], w, |b, a| Ok(vec![b.add(a[0], a[1])?]))?;
            Ok(b.mul(r[0], r[0])?)
        },
    ));
    for (name, bdil, wdil, with_init) in [
        ("sum_window_base_dilation", 2, 1, false),
        ("sum_window_window_dilation", 1, 2, false),
        ("sum_window_init", 1, 1, true),
    ] {
        v.push(case(
            name,
            &[(&[6, 5], -1.0, 1.0), (&[], -1.0, 1.0)],
            true,
            move |b, x| {
                let mut w = WindowConfig::new(vec![2, 2], vec![1, 2]);
                w.base_dilations = vec![bdil, 1];
                w.window_dilations = vec![1, wdil];
                w.padding = vec![(1, 0), (1, 1)];
                let init = if with_init { x[1] } else { b.scalar(F64, 0.0)? };
                let r =
                    b.reduce_window(&[x[0]], &[init], w, |b, a| Ok(vec![b.add(a[0], a[1])?]))?;
                let s = b.mul(r[0], r[0])?;
                let k = b.mul(x[1], x[1])?;
                Ok(b.add(s, k)?)
            },
        ));
    }
    v.push(case(
        "max_pool",
        &[(&[1, 6, 6, 2], -1.0, 1.0)],
        false,
        |b, x| Ok(b.max_pool(x[0], [1, 2, 2, 1], [1, 2, 2, 1])?),
    ));
    v.push(case(
        "max_pool_overlapping_padded",
        &[(&[1, 5, 5, 1], -1.0, 1.0)],
        false,
        |b, x| {
            let init = b.scalar(F64, f64::NEG_INFINITY)?;
            let mut w = WindowConfig::new(vec![1, 3, 3, 1], vec![1, 2, 2, 1]);
            w.padding = vec![(0, 0), (1, 1), (1, 1), (0, 0)];
            let r = b.reduce_window(&[x[0]], &[init], w, |b, a| Ok(vec![b.max(a[0], a[1])?]))?;
            Ok(r[0])
        },
    ));
    v.push(case("cumsum", &[(&[3, 7], -1.0, 1.0)], true, |b, x| {
        let c = b.cumsum(x[0], 1)?;
        Ok(b.mul(c, c)?)
    }));
    v
}

fn control_cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.push(case(
        "fori_loop",
        &[(&[3], -1.0, 1.0), (&[3], -1.0, 1.0)],
        true,
        |b, x| {
            let r = autodiff::fori_loop(b, 4, &[x[0], x[1]], |b, i, s| {
                let f = b.convert(i, F64)?;
                let a = b.sin(s[0])?;
                let a = b.mul(a, s[1])?;
                let a = b.add(a, f)?;
                let acc = b.add(s[1], a)?;
                let k = b.scalar(F64, 0.5)?;
                let acc = b.mul(acc, k)?;
                Ok(vec![a, acc])
            })?;
            Ok(b.add(r[0], r[1])?)
        },
    ));
    v.push(case(
        "fori_loop_invariant_weight",
        &[(&[3], -1.0, 1.0), (&[3, 3], -0.8, 0.8)],
        true,
        |b, x| {
            let r = autodiff::fori_loop(b, 5, &[x[0], x[1]], |b, _i, s| {
                let h = b.matmul(s[1], s[0])?;
                Ok(vec![b.tanh(h)?, s[1]])
            })?;
            Ok(r[0])
        },
    ));
    v.push(case(
        "scan_rnn",
        &[
            (&[2], -1.0, 1.0),
            (&[2, 2], -0.8, 0.8),
            (&[4, 2], -1.0, 1.0),
        ],
        true,
        |b, x| {
            // h = tanh(w h + x_i), stacking h and h^2: the stacks are written, never read.
            let (c, ys) = b.scan(&[x[0], x[1]], &[x[2]], |b, c, xi| {
                let h = b.matmul(c[1], c[0])?;
                let h = b.add(h, xi[0])?;
                let h = b.tanh(h)?;
                Ok((vec![h, c[1]], vec![h, b.mul(h, h)?]))
            })?;
            let s = b.reduce_sum(ys[0], [0])?;
            let q = b.reduce_sum(ys[1], [0])?;
            let s = b.add(s, q)?;
            Ok(b.add(s, c[0])?)
        },
    ));
    v.push(case(
        "scan_reverse",
        &[(&[], -1.0, 1.0), (&[3, 2], -1.0, 1.0)],
        true,
        |b, x| {
            let (c, ys) = b.scan_with(3, true, &[x[0]], &[x[1]], |b, c, xi| {
                let s = b.sin(c[0])?;
                let y = b.mul(xi[0], s)?;
                let n = b.reduce_sum(y, [0])?;
                Ok((vec![b.add(c[0], n)?], vec![y]))
            })?;
            let s = b.reduce_sum(ys[0], [1])?;
            Ok(b.add(s, c[0])?)
        },
    ));
    v.push(case(
        "while_counter_with_constants",
        &[(&[2], -1.0, 1.0)],
        true,
        |b, x| {
            let i0 = b.scalar(S32, 2.0)?;
            let r = b.while_loop(
                &[i0, x[0]],
                |b, a| {
                    let n = b.scalar(S32, 5.0)?;
                    Ok(vec![b.lt(a[0], n)?])
                },
                |b, a| {
                    let one = b.scalar(S32, 1.0)?;
                    let t = b.tanh(a[1])?;
                    let k = b.scalar(F64, 1.5)?;
                    Ok(vec![b.add(a[0], one)?, b.mul(t, k)?])
                },
            )?;
            Ok(r[1])
        },
    ));
    for (name, pv) in [("if_true", true), ("if_false", false)] {
        v.push(case(
            name,
            &[(&[3], -1.0, 1.0), (&[3], -1.0, 1.0)],
            true,
            move |b, x| {
                let p = b.constant_bool(&[pv], [])?;
                let r = b.cond(
                    p,
                    &[x[0], x[1]],
                    |b, a| Ok(vec![b.mul(a[0], a[1])?]),
                    |b, a| {
                        let s = b.sin(a[1])?;
                        Ok(vec![b.add(a[0], s)?])
                    },
                )?;
                Ok(r[0])
            },
        ));
    }
    v.push(case(
        "if_data_dependent",
        &[(&[3], -1.0, 1.0)],
        true,
        |b, x| {
            let s = b.reduce_sum(x[0], [0])?;
            let z = b.scalar(F64, 100.0)?;
            let p = b.gt(s, z)?;
            let r = b.cond(
                p,
                &[x[0]],
                |b, a| Ok(vec![b.exp(a[0])?, a[0]]),
                |b, a| Ok(vec![b.mul(a[0], a[0])?, a[0]]),
            )?;
            Ok(b.add(r[0], r[1])?)
        },
    ));
    v.push(case(
        "case_three_branches",
        &[(&[3], -1.0, 1.0), (&[], -1.0, 1.0)],
        true,
        |b, x| {
            let tys = vec![TensorType::new(F64, [3]), TensorType::scalar(F64)];
            let b0 = Builder::computation("b0", &tys, |b, a| Ok(vec![b.exp(a[0])?]))?;
            let b1 = Builder::computation("b1", &tys, |b, a| {
                let m = b.mul(a[0], a[1])?;
                Ok(vec![b.sin(m)?])
            })?;
            let b2 = Builder::computation("b2", &tys, |b, a| Ok(vec![b.add(a[0], a[1])?]))?;
            let i = b.scalar(S32, 1.0)?;
            Ok(b.case_with(i, &[x[0], x[1]], vec![b0, b1, b2])?[0])
        },
    ));
    v.push(case(
        "call",
        &[(&[3], -1.0, 1.0), (&[3], -1.0, 1.0)],
        true,
        |b, x| {
            let t = TensorType::new(F64, [3]);
            let f = Builder::computation("f", &[t.clone(), t], |b, a| {
                let m = b.mul(a[0], a[1])?;
                Ok(vec![b.tanh(m)?, b.exp(a[0])?])
            })?;
            let r = b.call(&f, &[x[0], x[1]])?;
            let r2 = b.call(&f, &[r[0], r[1]])?;
            Ok(b.add(r2[0], r2[1])?)
        },
    ));
    v.push(case(
        "custom_vjp_cube",
        &[(&[4], -1.0, 1.0)],
        true,
        |b, x| {
            let r = autodiff::custom_vjp(
                b,
                "cube",
                &[x[0]],
                |b, a| {
                    let s = b.mul(a[0], a[0])?;
                    Ok(vec![b.mul(s, a[0])?])
                },
                |b, xs, _ys, cts| {
                    let s = b.mul(xs[0], xs[0])?;
                    let three = b.scalar(F64, 3.0)?;
                    let d = b.mul(s, three)?;
                    Ok(vec![Some(b.mul(cts[0], d)?)])
                },
            )?;
            Ok(r[0])
        },
    ));
    v.push(case(
        "checkpoint",
        &[(&[4], -1.0, 1.0), (&[4], -1.0, 1.0)],
        true,
        |b, x| {
            let r = autodiff::checkpoint(b, "block", &[x[0], x[1]], |b, a| {
                let m = b.mul(a[0], a[1])?;
                let t = b.tanh(m)?;
                Ok(vec![b.mul(t, a[0])?])
            })?;
            Ok(b.exp(r[0])?)
        },
    ));
    v.push(case(
        "optimization_barrier",
        &[(&[4], -1.0, 1.0), (&[4], -1.0, 1.0)],
        true,
        |b, x| {
            let r = b.optimization_barrier(&[x[0], x[1]])?;
            let m = b.mul(r[0], r[1])?;
            Ok(b.exp(m)?)
        },
    ));
    v.push(case("erf_gelu", &[(&[6], -2.0, 2.0)], true, |b, x| {
        Ok(b.gelu(x[0], false)?)
    }));
    v
}

#[test]
fn every_rule_matches_finite_differences() {
    let mut all = Vec::new();
    all.extend(unary_cases());
    all.extend(binary_cases());
    all.extend(movement_cases());
    all.extend(dot_conv_cases());
    all.extend(factor_solve_cases());
    all.extend(reduce_cases());
    all.extend(control_cases());
    let ran = run_table(&all, |c| c.name, 1000, check);
    eprintln!("{ran} rule cases checked against finite differences");
}

/// The weight-gradient forms of `GradOptions` give the same gradients: every contraction
/// case (a dense layer's `xᵀ g`, batched, permuted with two contracting axes, vectors) in
/// f64, transposed first vs contracted in place; the transposed form shows its transpose
/// behind an optimization barrier where the operand is read transposed.
#[test]
fn weight_gradient_forms_give_the_same_gradients() {
    use autodiff::{GradOptions, WeightGradients};
    let first = GradOptions::DEFAULT.weight_gradients(WeightGradients::TransposeFirst);
    let mut barriers = Vec::new();
    let cases: Vec<Case> = dot_conv_cases()
        .into_iter()
        .filter(|c| c.name.starts_with("matmul") || c.name.starts_with("dot"))
        .collect();
    assert_eq!(cases.len(), 4);
    for c in &cases {
        let mut b = Builder::new(c.name);
        let xs: Vec<Value> = c
            .inputs
            .iter()
            .enumerate()
            .map(|(i, (d, _, _))| b.parameter(format!("x{i}"), F64, d).unwrap())
            .collect();
        let out = (c.f)(&mut b, &xs).unwrap();
        let rank = b.ty(out).unwrap().rank() as i64;
        let s = b.reduce_sum(out, (0..rank).collect::<Vec<_>>()).unwrap();
        let plain = autodiff::grad(&mut b, s, &xs).unwrap();
        let before = b.graph().len();
        let moved = autodiff::grad_with(&mut b, s, &xs, first).unwrap();
        let names: Vec<&str> = b.graph().nodes()[before..]
            .iter()
            .map(|n| n.op.name())
            .collect();
        if names.contains(&"optimization_barrier") {
            barriers.push(c.name);
        }
        let mut outs = plain.clone();
        outs.extend(&moved);
        let exe = compile(&b, &outs);
        let mut rng = Rng(7);
        let args: Vec<Literal> = c
            .inputs
            .iter()
            .map(|(d, lo, hi)| lit(&rng.vec(count(d), *lo, *hi), d))
            .collect();
        let refs: Vec<&Literal> = args.iter().collect();
        let r: Vec<Vec<f64>> = exe.run(&refs).unwrap().iter().map(f64s).collect();
        let n = xs.len();
        for i in 0..n {
            let scale = r[i].iter().fold(1e-300f64, |m, v| m.max(v.abs()));
            for (a, e) in r[n + i].iter().zip(&r[i]) {
                assert!(
                    (a - e).abs() <= 1e-12 * scale,
                    "{}: gradient {i}: transposed first {a}, contracted {e}",
                    c.name
                );
            }
        }
    }
    // The weight gradients of matmul and dot_batched contract their activations over the
    // leading (non-batch) axis; the permuted case's gradient is transposed after the dot
    // anyway and vectors have nothing to move.
    assert_eq!(barriers, ["matmul", "dot_batched"]);
}
