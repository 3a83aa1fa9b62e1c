//! Every batching rule against the per-example program, on the CPU plugin: for each case,
//! `vmap(f)` over 3 examples must equal `f` run on each example alone, for several
//! combinations of batched and shared operands and batch axes (first, last, in between),
//! all recorded into one module per case. `AUTODIFF_CASE=name` runs one case.

use std::collections::HashMap;

use crate::common::*;

type F = Box<dyn Fn(&mut Builder, &[Value]) -> autodiff::Result<Vec<Value>>>;

const N: i64 = 3;

struct In {
    ty: ElementType,
    dims: Vec<i64>,
    lo: f64,
    hi: f64,
}

struct Case {
    name: &'static str,
    inputs: Vec<In>,
    f: F,
}

fn inp(ty: ElementType, dims: &[i64], lo: f64, hi: f64) -> In {
    In {
        ty,
        dims: dims.to_vec(),
        lo,
        hi,
    }
}

fn fl(dims: &[i64]) -> In {
    inp(F64, dims, -1.0, 1.0)
}

fn case(
    name: &'static str,
    inputs: Vec<In>,
    f: impl Fn(&mut Builder, &[Value]) -> autodiff::Result<Vec<Value>> + 'static,
) -> Case {
    Case {
        name,
        inputs,
        f: Box::new(f),
    }
}

fn s32(b: &mut Builder, v: i32) -> Value {
    b.scalar(S32, v as f64).unwrap()
}

// ---------------------------------------------------------------- host data

fn elem_size(t: ElementType) -> usize {
    t.byte_size().expect("test types have a byte size")
}

/// Random row-major bytes for `count` elements of `inp`'s type in `[lo, hi)`.
fn random_bytes(rng: &mut Rng, i: &In, count: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(count * elem_size(i.ty));
    for _ in 0..count {
        let v = rng.uniform(i.lo, i.hi);
        match i.ty {
            F64 => out.extend(v.to_le_bytes()),
            F32 => out.extend((v as f32).to_le_bytes()),
            S32 => out.extend((v.floor() as i32).to_le_bytes()),
            U32 => out.extend((v.floor() as u32).to_le_bytes()),
            U64 => out.extend(rng.next_u64().to_le_bytes()),
            Pred => out.push(u8::from(v > 0.0)),
            t => panic!("no test data for {t}"),
        }
    }
    out
}

fn to_f64s(ty: ElementType, bytes: &[u8]) -> Vec<f64> {
    let es = elem_size(ty);
    bytes
        .chunks(es)
        .map(|c| match ty {
            F64 => f64::from_le_bytes(c.try_into().unwrap()),
            F32 => f32::from_le_bytes(c.try_into().unwrap()) as f64,
            S32 => i32::from_le_bytes(c.try_into().unwrap()) as f64,
            S64 => i64::from_le_bytes(c.try_into().unwrap()) as f64,
            U32 => u32::from_le_bytes(c.try_into().unwrap()) as f64,
            // Compared exactly: keep all 64 bits distinguishable.
            U64 => (u64::from_le_bytes(c.try_into().unwrap()) >> 11) as f64,
            Pred => c[0] as f64,
            t => panic!("no comparison for {t}"),
        })
        .collect()
}

/// `data` (row-major over `dims`) transposed: result axis j is axis `perm[j]`.
fn transpose_bytes(data: &[u8], dims: &[i64], perm: &[usize], es: usize) -> Vec<u8> {
    let r = dims.len();
    let rd: Vec<i64> = perm.iter().map(|&p| dims[p]).collect();
    let mut strides = vec![1i64; r];
    for i in (0..r.saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * dims[i + 1];
    }
    let total: i64 = dims.iter().product();
    let mut out = vec![0u8; data.len()];
    let mut idx = vec![0i64; r];
    for lin in 0..total {
        let mut src = 0;
        for j in 0..r {
            src += idx[j] * strides[perm[j]];
        }
        let (s, d) = (src as usize * es, lin as usize * es);
        out[d..d + es].copy_from_slice(&data[s..s + es]);
        for j in (0..r).rev() {
            idx[j] += 1;
            if idx[j] < rd[j] {
                break;
            }
            idx[j] = 0;
        }
    }
    out
}

/// Permutation moving axis `from` to `to`.
fn move_perm(rank: usize, from: usize, to: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..rank).filter(|&i| i != from).collect();
    p.insert(to, from);
    p
}

// ---------------------------------------------------------------- the check

fn combos(ranks: &[usize]) -> Vec<Vec<Option<usize>>> {
    let k = ranks.len();
    let mut v: Vec<Vec<Option<usize>>> = vec![
        vec![Some(0); k],
        ranks.iter().map(|&r| Some(r)).collect(),
        ranks.iter().map(|&r| Some(r / 2)).collect(),
    ];
    if k > 1 {
        for i in 0..k {
            v.push(
                (0..k)
                    .map(|j| (j == i).then_some(ranks[j].min(1)))
                    .collect(),
            );
        }
        let mut rest: Vec<Option<usize>> = ranks.iter().map(|&r| Some(r)).collect();
        rest[0] = None;
        v.push(rest);
    }
    let mut out: Vec<Vec<Option<usize>>> = Vec::new();
    for c in v {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

fn check(c: &Case, seed: u64) {
    let mut rng = Rng(seed);
    let ranks: Vec<usize> = c.inputs.iter().map(|i| i.dims.len()).collect();
    let sizes: Vec<usize> = c.inputs.iter().map(|i| count(&i.dims)).collect();
    // Canonical data: [N, dims...] per input; a shared operand takes example 0.
    let data: Vec<Vec<u8>> = c
        .inputs
        .iter()
        .zip(&sizes)
        .map(|(i, &s)| random_bytes(&mut rng, i, s * N as usize))
        .collect();
    let example = |k: usize, e: usize| -> Vec<u8> {
        let es = elem_size(c.inputs[k].ty);
        data[k][e * sizes[k] * es..(e + 1) * sizes[k] * es].to_vec()
    };

    // The per-example program.
    let mut r = Builder::new(format!("{}_one", c.name));
    let ps: Vec<Value> = c
        .inputs
        .iter()
        .enumerate()
        .map(|(k, i)| r.parameter(format!("x{k}"), i.ty, &i.dims).unwrap())
        .collect();
    let outs = (c.f)(&mut r, &ps).unwrap_or_else(|e| panic!("{}: f: {e}", c.name));
    let otys: Vec<TensorType> = outs.iter().map(|&o| r.ty(o).unwrap().clone()).collect();
    let one = compile(&r, &outs);

    // All combinations of batched operands in one module.
    let cs = combos(&ranks);
    let mut b = Builder::new(c.name);
    let mut args: Vec<Literal> = Vec::new();
    let mut all_outs = Vec::new();
    let mut out_axes_of = Vec::new();
    for (ci, combo) in cs.iter().enumerate() {
        let mut xs = Vec::new();
        for (k, i) in c.inputs.iter().enumerate() {
            let es = elem_size(i.ty);
            let (dims, bytes) = match combo[k] {
                Some(a) => {
                    let mut full = vec![N];
                    full.extend(&i.dims);
                    let perm = move_perm(full.len(), 0, a);
                    let d: Vec<i64> = perm.iter().map(|&p| full[p]).collect();
                    (d, transpose_bytes(&data[k], &full, &perm, es))
                }
                None => (i.dims.clone(), example(k, 0)),
            };
            xs.push(b.parameter(format!("c{ci}x{k}"), i.ty, &dims).unwrap());
            args.push(Literal::from_bytes(i.ty, &dims, bytes).unwrap());
        }
        let out_axes: Vec<usize> = if ci == 1 {
            otys.iter().map(|t| t.rank()).collect()
        } else {
            vec![0; otys.len()]
        };
        let f = &c.f;
        let ys = autodiff::vmap(&mut b, |b, a| f(b, a), &xs, combo, &out_axes)
            .unwrap_or_else(|e| panic!("{}: vmap with in_axes {combo:?}: {e}", c.name));
        assert_eq!(ys.len(), otys.len(), "{}: result count", c.name);
        all_outs.extend(ys);
        out_axes_of.push(out_axes);
    }
    let exe = compile(&b, &all_outs);
    let refs: Vec<&Literal> = args.iter().collect();
    let got = exe
        .run(&refs)
        .unwrap_or_else(|e| panic!("{}: run: {e}", c.name));

    let mut cache: HashMap<(Vec<bool>, usize), Vec<Literal>> = HashMap::new();
    for (ci, combo) in cs.iter().enumerate() {
        let mask: Vec<bool> = combo.iter().map(Option::is_some).collect();
        for e in 0..N as usize {
            let want = cache.entry((mask.clone(), e)).or_insert_with(|| {
                let lits: Vec<Literal> = c
                    .inputs
                    .iter()
                    .enumerate()
                    .map(|(k, i)| {
                        let bytes = example(k, if mask[k] { e } else { 0 });
                        Literal::from_bytes(i.ty, &i.dims, bytes).unwrap()
                    })
                    .collect();
                let refs: Vec<&Literal> = lits.iter().collect();
                one.run(&refs)
                    .unwrap_or_else(|err| panic!("{}: per-example run: {err}", c.name))
            });
            for (j, t) in otys.iter().enumerate() {
                let g = &got[ci * otys.len() + j];
                let ax = out_axes_of[ci][j];
                let mut full = t.dims.to_vec();
                full.insert(ax, N);
                assert_eq!(g.dims(), full.as_slice(), "{}: result {j} dims", c.name);
                let es = elem_size(t.ty);
                let front = transpose_bytes(g.as_bytes(), &full, &move_perm(full.len(), ax, 0), es);
                let sz = count(&t.dims) * es;
                let gv = to_f64s(t.ty, &front[e * sz..(e + 1) * sz]);
                let wv = to_f64s(t.ty, want[j].as_bytes());
                for (q, (a, w)) in gv.iter().zip(&wv).enumerate() {
                    let ok = a == w
                        || (a.is_nan() && w.is_nan())
                        || (a - w).abs() <= 1e-9 * w.abs().max(1.0);
                    assert!(
                        ok,
                        "{}: in_axes {combo:?}, result {j} ({t}), example {e}, element {q}: vmap gives {a}, alone {w}",
                        c.name
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------- the cases

fn elementwise_cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.push(case(
        "unary_float",
        vec![inp(F64, &[2, 3], 0.2, 0.9)],
        |b, x| {
            use UnaryOp::*;
            let mut o = Vec::new();
            for u in [
                Neg,
                Abs,
                Sign,
                Exp,
                Expm1,
                Log,
                Log1p,
                Sqrt,
                Rsqrt,
                Cbrt,
                Tanh,
                Logistic,
                Sin,
                Cos,
                Tan,
                Floor,
                Ceil,
                RoundNearestAfz,
                RoundNearestEven,
                IsFinite,
                Real,
                Imag,
            ] {
                o.push(b.unary(u, x[0])?);
            }
            Ok(o)
        },
    ));
    v.push(case(
        "unary_int",
        vec![inp(S32, &[4], -50.0, 50.0)],
        |b, x| {
            use UnaryOp::*;
            let mut o = Vec::new();
            for u in [Neg, Abs, Sign, Not, Popcnt, CountLeadingZeros] {
                o.push(b.unary(u, x[0])?);
            }
            Ok(o)
        },
    ));
    v.push(case(
        "binary_float",
        vec![inp(F64, &[2, 3], 0.5, 2.0), inp(F64, &[2, 3], 0.5, 2.0)],
        |b, x| {
            use BinaryOp::*;
            let mut o = Vec::new();
            for op in [Add, Sub, Mul, Div, Rem, Pow, Max, Min, Atan2] {
                o.push(b.binary_same_shape(op, x[0], x[1])?);
            }
            let c = b.binary_same_shape(Complex, x[0], x[1])?;
            o.push(b.real(c)?);
            o.push(b.imag(c)?);
            Ok(o)
        },
    ));
    v.push(case(
        "binary_int",
        vec![inp(S32, &[5], -100.0, 100.0), inp(S32, &[5], 0.0, 8.0)],
        |b, x| {
            use BinaryOp::*;
            let mut o = Vec::new();
            for op in [
                And,
                Or,
                Xor,
                ShiftLeft,
                ShiftRightArithmetic,
                ShiftRightLogical,
            ] {
                o.push(b.binary_same_shape(op, x[0], x[1])?);
            }
            Ok(o)
        },
    ));
    v.push(case("compare", vec![fl(&[4]), fl(&[4])], |b, x| {
        let mut o = Vec::new();
        for d in ComparisonDirection::ALL {
            o.push(b.compare(d, x[0], x[1])?);
        }
        Ok(o)
    }));
    v.push(case(
        "select_tensor_pred",
        vec![fl(&[2, 3]), fl(&[2, 3]), fl(&[2, 3])],
        |b, x| {
            let z = b.zeros_like(x[0])?;
            let p = b.gt(x[0], z)?;
            Ok(vec![b.select(p, x[1], x[2])?])
        },
    ));
    v.push(case(
        "select_scalar_pred",
        vec![fl(&[]), fl(&[2, 3]), fl(&[2, 3])],
        |b, x| {
            let z = b.scalar(F64, 0.0)?;
            let p = b.gt(x[0], z)?;
            Ok(vec![b.select(p, x[1], x[2])?])
        },
    ));
    v.push(case(
        "clamp_scalar_bounds",
        vec![
            inp(F64, &[], -0.5, -0.2),
            fl(&[3, 2]),
            inp(F64, &[], 0.2, 0.5),
        ],
        |b, x| Ok(vec![b.clamp(x[0], x[1], x[2])?]),
    ));
    v.push(case(
        "clamp_tensor_bounds",
        vec![
            inp(F64, &[4], -0.5, -0.2),
            fl(&[4]),
            inp(F64, &[4], 0.2, 0.5),
        ],
        |b, x| Ok(vec![b.clamp(x[0], x[1], x[2])?]),
    ));
    v.push(case(
        "convert",
        vec![inp(F64, &[3], -5.0, 5.0), inp(S32, &[3], -5.0, 5.0)],
        |b, x| {
            let i = b.convert(x[0], S32)?;
            let f = b.convert(x[1], F64)?;
            let h = b.convert(x[0], F32)?;
            Ok(vec![i, f, h])
        },
    ));
    v.push(case(
        "bitcast_convert",
        vec![fl(&[3]), inp(U32, &[2, 2], 0.0, 1e9)],
        |b, x| {
            let narrow = b.bitcast_convert(x[0], U32)?;
            let same = b.bitcast_convert(x[0], S64)?;
            let wide = b.bitcast_convert(x[1], F64)?;
            let wide = b.bitcast_convert(wide, S64)?;
            Ok(vec![narrow, same, wide])
        },
    ));
    v
}

fn shape_cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.push(case("reshape", vec![fl(&[2, 3])], |b, x| {
        Ok(vec![b.reshape(x[0], [3, 2])?, b.reshape(x[0], [6])?])
    }));
    v.push(case("transpose", vec![fl(&[2, 3, 4])], |b, x| {
        Ok(vec![b.transpose(x[0], [2, 0, 1])?])
    }));
    v.push(case(
        "broadcast_in_dim",
        vec![fl(&[3, 1]), fl(&[3])],
        |b, x| {
            Ok(vec![
                b.broadcast_in_dim(x[0], [2, 3, 4], [1, 2])?,
                b.broadcast_in_dim(x[1], [3, 2], [0])?,
                b.broadcast_in_dim(x[1], [2, 3], [1])?,
            ])
        },
    ));
    v.push(case("slice", vec![fl(&[7, 5])], |b, x| {
        Ok(vec![b.slice(x[0], [1, 0], [7, 5], [2, 3])?])
    }));
    v.push(case(
        "dynamic_slice",
        vec![
            fl(&[5, 4]),
            inp(S32, &[], -2.0, 6.0),
            inp(S32, &[], -2.0, 6.0),
        ],
        |b, x| {
            let fixed = {
                let (i, j) = (s32(b, 2), s32(b, 1));
                b.dynamic_slice(x[0], &[i, j], [2, 3])?
            };
            Ok(vec![b.dynamic_slice(x[0], &[x[1], x[2]], [2, 3])?, fixed])
        },
    ));
    v.push(case(
        "dynamic_update_slice",
        vec![
            fl(&[5, 4]),
            fl(&[2, 3]),
            inp(S32, &[], -2.0, 6.0),
            inp(S32, &[], -2.0, 6.0),
        ],
        |b, x| {
            let fixed = {
                let (i, j) = (s32(b, 1), s32(b, 0));
                b.dynamic_update_slice(x[0], x[1], &[i, j])?
            };
            Ok(vec![
                b.dynamic_update_slice(x[0], x[1], &[x[2], x[3]])?,
                fixed,
            ])
        },
    ));
    v.push(case(
        "concatenate",
        vec![fl(&[2, 3]), fl(&[2, 1]), fl(&[2, 2])],
        |b, x| Ok(vec![b.concatenate(&[x[0], x[1], x[2]], 1)?]),
    ));
    v.push(case("pad", vec![fl(&[3, 4]), fl(&[])], |b, x| {
        Ok(vec![b.pad(x[0], x[1], [1, -1], [2, 0], [1, 2])?])
    }));
    v.push(case("reverse", vec![fl(&[3, 4])], |b, x| {
        Ok(vec![b.reverse(x[0], [0, 1])?, b.reverse(x[0], [1])?])
    }));
    v.push(case(
        "gather_rows",
        vec![fl(&[5, 3]), inp(S32, &[4, 1], 0.0, 5.0)],
        |b, x| {
            let dims = GatherDims {
                offset_dims: vec![1],
                collapsed_slice_dims: vec![0],
                start_index_map: vec![0],
                index_vector_dim: 1,
            };
            Ok(vec![b.gather(x[0], x[1], dims, [1, 3], false)?])
        },
    ));
    v.push(case(
        "gather_implicit_index_vector",
        vec![fl(&[5, 3]), inp(S32, &[4], 0.0, 5.0)],
        |b, x| {
            let dims = GatherDims {
                offset_dims: vec![1],
                collapsed_slice_dims: vec![0],
                start_index_map: vec![0],
                index_vector_dim: 1,
            };
            Ok(vec![b.gather(x[0], x[1], dims, [1, 3], false)?])
        },
    ));
    v.push(case(
        "gather_windows",
        vec![fl(&[4, 5]), inp(S32, &[3, 2], 0.0, 4.0)],
        |b, x| {
            let dims = GatherDims {
                offset_dims: vec![1, 2],
                collapsed_slice_dims: vec![],
                start_index_map: vec![0, 1],
                index_vector_dim: 1,
            };
            Ok(vec![b.gather(x[0], x[1], dims, [2, 2], false)?])
        },
    ));
    let rows = ScatterDims {
        update_window_dims: vec![1],
        inserted_window_dims: vec![0],
        scatter_dims_to_operand_dims: vec![0],
        index_vector_dim: 1,
    };
    let d = rows.clone();
    v.push(case(
        "scatter_add",
        vec![fl(&[5, 3]), inp(S32, &[3, 1], 0.0, 5.0), fl(&[3, 3])],
        move |b, x| {
            let s = b.scatter(&[x[0]], x[1], &[x[2]], d.clone(), |b, a| {
                Ok(vec![b.add(a[0], a[1])?])
            })?;
            Ok(s)
        },
    ));
    let d = rows.clone();
    v.push(case(
        "scatter_custom_combiner",
        vec![fl(&[5, 3]), inp(S32, &[3, 1], 0.0, 5.0), fl(&[3, 3])],
        move |b, x| {
            // old + 2 new: not a named monoid, and independent of the update order.
            let s = b.scatter(&[x[0]], x[1], &[x[2]], d.clone(), |b, a| {
                let two = b.scalar(F64, 2.0)?;
                let t = b.mul(a[1], two)?;
                Ok(vec![b.add(a[0], t)?])
            })?;
            Ok(s)
        },
    ));
    let d = rows;
    v.push(case(
        "scatter_replace_fixed_indices",
        vec![fl(&[5, 3]), fl(&[3, 3])],
        move |b, x| {
            let idx = b.constant(&[1i32, 4, 0], [3, 1])?;
            let s = b.scatter(&[x[0]], idx, &[x[1]], d.clone(), |_, a| Ok(vec![a[1]]))?;
            Ok(s)
        },
    ));
    v.push(case("sort", vec![fl(&[3, 5])], |b, x| {
        Ok(b.sort(&[x[0]], 1, true, |b, a| Ok(vec![b.lt(a[0], a[1])?]))?)
    }));
    v.push(case("sort_key_value", vec![fl(&[6]), fl(&[6])], |b, x| {
        Ok(b.sort(&[x[0], x[1]], 0, true, |b, a| Ok(vec![b.gt(a[0], a[1])?]))?)
    }));
    v
}

fn linalg_cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.push(case("matmul", vec![fl(&[3, 4]), fl(&[4, 2])], |b, x| {
        Ok(vec![b.matmul(x[0], x[1])?])
    }));
    v.push(case("dot_vector", vec![fl(&[4]), fl(&[4])], |b, x| {
        Ok(vec![b.matmul(x[0], x[1])?])
    }));
    v.push(case(
        "dot_batch_dims",
        vec![fl(&[2, 3, 4]), fl(&[2, 4, 5])],
        |b, x| {
            let d = DotDims {
                lhs_batch: vec![0],
                rhs_batch: vec![0],
                lhs_contracting: vec![2],
                rhs_contracting: vec![1],
            };
            Ok(vec![b.dot_general(
                x[0],
                x[1],
                d,
                [Precision::Default; 2],
            )?])
        },
    ));
    v.push(case(
        "dot_permuted_multi_contract",
        vec![fl(&[3, 2, 4, 5]), fl(&[4, 5, 3, 2])],
        |b, x| {
            let d = DotDims {
                lhs_batch: vec![1],
                rhs_batch: vec![3],
                lhs_contracting: vec![3, 0],
                rhs_contracting: vec![1, 2],
            };
            Ok(vec![b.dot_general(
                x[0],
                x[1],
                d,
                [Precision::Default; 2],
            )?])
        },
    ));
    for (name, xi, ki, cfg) in conv_cases() {
        v.push(case(name, vec![fl(&xi), fl(&ki)], move |b, x| {
            Ok(vec![b.convolution(x[0], x[1], cfg.clone())?])
        }));
    }
    v.push(case("cholesky", vec![fl(&[3, 3])], |b, x| {
        // m mᵀ + 3 I is positive definite.
        let mt = b.transpose(x[0], [1, 0])?;
        let a = b.matmul(x[0], mt)?;
        let i = b.iota(S32, [3, 3], 0)?;
        let j = b.iota(S32, [3, 3], 1)?;
        let eye = b.eq(i, j)?;
        let eye = b.convert(eye, F64)?;
        let three = b.scalar(F64, 3.0)?;
        let eye = b.mul(eye, three)?;
        let a = b.add(a, eye)?;
        Ok(vec![b.cholesky(a, true)?])
    }));
    {
        use hlo_builder::ops::linalg::Transpose;
        for (name, left, lower, tr) in [
            ("trsm_left_lower", true, true, Transpose::NoTranspose),
            ("trsm_right_upper_t", false, false, Transpose::Transpose),
        ] {
            let bd: &[i64] = if left { &[3, 2] } else { &[2, 3] };
            v.push(case(name, vec![fl(&[3, 3]), fl(bd)], move |b, x| {
                let i = b.iota(S32, [3, 3], 0)?;
                let j = b.iota(S32, [3, 3], 1)?;
                let eye = b.eq(i, j)?;
                let eye = b.convert(eye, F64)?;
                let two = b.scalar(F64, 2.0)?;
                let eye = b.mul(eye, two)?;
                let a = b.add(x[0], eye)?;
                Ok(vec![b.triangular_solve(a, x[1], left, lower, false, tr)?])
            }));
        }
    }
    v
}

fn reduce_cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.push(case("reduce_sum", vec![fl(&[3, 4, 2])], |b, x| {
        Ok(vec![b.reduce_sum(x[0], [0, 2])?, b.reduce_sum(x[0], [1])?])
    }));
    v.push(case(
        "reduce_named_init",
        vec![fl(&[3, 4]), fl(&[])],
        |b, x| {
            let s = b.reduce(&[x[0]], &[x[1]], [1], |b, a| Ok(vec![b.add(a[0], a[1])?]))?;
            let m = b.reduce(&[x[0]], &[x[1]], [0], |b, a| Ok(vec![b.max(a[0], a[1])?]))?;
            let p = b.reduce(&[x[0]], &[x[1]], [1], |b, a| Ok(vec![b.mul(a[0], a[1])?]))?;
            Ok(vec![s[0], m[0], p[0]])
        },
    ));
    v.push(case(
        "reduce_custom_init",
        vec![fl(&[3, 4]), fl(&[])],
        |b, x| {
            // acc + x^2: a custom body; a batched init runs once per example.
            let r = b.reduce(&[x[0]], &[x[1]], [1], |b, a| {
                let q = b.mul(a[1], a[1])?;
                Ok(vec![b.add(a[0], q)?])
            })?;
            Ok(r)
        },
    ));
    v.push(case("reduce_variadic_argmax", vec![fl(&[3, 5])], |b, x| {
        Ok(vec![b.argmax(x[0], 1)?, b.reduce_max(x[0], [1])?])
    }));
    v.push(case(
        "reduce_bool_int",
        vec![inp(S32, &[4, 3], -9.0, 9.0)],
        |b, x| {
            let z = b.zeros_like(x[0])?;
            let p = b.gt(x[0], z)?;
            Ok(vec![
                b.reduce_and(p, [1])?,
                b.reduce_or(p, [0])?,
                b.reduce_min(x[0], [1])?,
                b.reduce_and(x[0], [0])?,
            ])
        },
    ));
    v.push(case("avg_pool_padded", vec![fl(&[1, 5, 5, 2])], |b, x| {
        let init = b.scalar(F64, 0.0)?;
        let mut w = WindowConfig::new(vec![1, 3, 2, 1], vec![1, 2, 2, 1]);
        w.padding = vec![(0, 0), (1, 1), (0, 1), (0, 0)];
        Ok(b.reduce_window(&[x[0]], &[init], w, |b, a| Ok(vec![b.add(a[0], a[1])?]))?)
    }));
    v.push(case(
        "sum_window_init",
        vec![fl(&[6, 5]), fl(&[])],
        |b, x| {
            let mut w = WindowConfig::new(vec![2, 2], vec![1, 2]);
            w.base_dilations = vec![2, 1];
            w.window_dilations = vec![1, 2];
            w.padding = vec![(1, 0), (1, 1)];
            Ok(b.reduce_window(&[x[0]], &[x[1]], w, |b, a| Ok(vec![b.add(a[0], a[1])?]))?)
        },
    ));
    v.push(case(
        "max_window_init",
        vec![fl(&[5, 5]), fl(&[])],
        |b, x| {
            let mut w = WindowConfig::new(vec![3, 3], vec![2, 2]);
            w.padding = vec![(1, 1), (1, 1)];
            Ok(b.reduce_window(&[x[0]], &[x[1]], w, |b, a| Ok(vec![b.max(a[0], a[1])?]))?)
        },
    ));
    v
}

fn control_cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.push(case("fori_loop", vec![fl(&[3]), fl(&[3])], |b, x| {
        autodiff::fori_loop(b, 4, &[x[0], x[1]], |b, i, s| {
            let f = b.convert(i, F64)?;
            let a = b.sin(s[0])?;
            let a = b.mul(a, s[1])?;
            let a = b.add(a, f)?;
            Ok(vec![a, s[1]])
        })
    }));
    v.push(case(
        "while_becomes_batched",
        vec![fl(&[2]), fl(&[2])],
        |b, x| {
            // acc starts shared (zeros) and turns batched through the body.
            let z = b.zeros(F64, [2])?;
            autodiff::fori_loop(b, 3, &[z, x[0], x[1]], |b, _i, s| {
                let m = b.mul(s[1], s[2])?;
                Ok(vec![b.add(s[0], m)?, s[1], s[2]])
            })
        },
    ));
    v.push(case(
        "while_data_dependent",
        vec![inp(F64, &[], 0.1, 3.0), fl(&[2])],
        |b, x| {
            // Doubles until above 10: a different trip count per example.
            let k = b.scalar(S32, 0.0)?;
            b.while_loop(
                &[x[0], k, x[1]],
                |b, a| {
                    let ten = b.scalar(F64, 10.0)?;
                    Ok(vec![b.lt(a[0], ten)?])
                },
                |b, a| {
                    let two = b.scalar(F64, 2.0)?;
                    let one = b.scalar(S32, 1.0)?;
                    let s = b.sin(a[2])?;
                    Ok(vec![b.mul(a[0], two)?, b.add(a[1], one)?, b.add(a[2], s)?])
                },
            )
            .map_err(Into::into)
        },
    ));
    v.push(case(
        "scan",
        vec![fl(&[2]), fl(&[2, 2]), fl(&[4, 2])],
        |b, x| {
            let (c, ys) = b.scan(&[x[0], x[1]], &[x[2]], |b, c, xi| {
                let h = b.matmul(c[1], c[0])?;
                let h = b.add(h, xi[0])?;
                let h = b.tanh(h)?;
                let s = b.reduce_sum(h, [0])?;
                Ok((vec![h, c[1]], vec![h, s]))
            })?;
            let mut o = c;
            o.extend(ys);
            Ok(o)
        },
    ));
    v.push(case(
        "if_shared_predicate",
        vec![fl(&[3]), fl(&[3])],
        |b, x| {
            let p = b.constant_bool(&[true], [])?;
            Ok(b.cond(
                p,
                &[x[0], x[1]],
                |b, a| Ok(vec![b.mul(a[0], a[1])?, b.zeros(F64, [3])?]),
                |b, a| Ok(vec![b.sin(a[1])?, a[0]]),
            )?)
        },
    ));
    v.push(case(
        "if_batched_predicate",
        vec![fl(&[]), fl(&[3])],
        |b, x| {
            let z = b.scalar(F64, 0.0)?;
            let p = b.gt(x[0], z)?;
            Ok(b.cond(
                p,
                &[x[0], x[1]],
                |b, a| Ok(vec![b.mul(a[1], a[1])?, b.exp(a[0])?]),
                |b, a| Ok(vec![b.sin(a[1])?, b.scalar(F64, 5.0)?]),
            )?)
        },
    ));
    v.push(case(
        "case_index",
        vec![inp(S32, &[], -1.0, 4.0), fl(&[3]), fl(&[])],
        |b, x| {
            let tys = vec![TensorType::new(F64, [3]), TensorType::scalar(F64)];
            let b0 = Builder::computation("b0", &tys, |b, a| Ok(vec![b.exp(a[0])?]))?;
            let b1 = Builder::computation("b1", &tys, |b, a| Ok(vec![b.mul(a[0], a[1])?]))?;
            let b2 = Builder::computation("b2", &tys, |b, a| Ok(vec![b.add(a[0], a[1])?]))?;
            let fixed = {
                let i = s32(b, 1);
                b.case_with(i, &[x[1], x[2]], vec![b0.clone(), b1.clone(), b2.clone()])?
            };
            let mut o = b.case_with(x[0], &[x[1], x[2]], vec![b0, b1, b2])?;
            o.extend(fixed);
            Ok(o)
        },
    ));
    v.push(case("call", vec![fl(&[3]), fl(&[3])], |b, x| {
        let t = TensorType::new(F64, [3]);
        let f = Builder::computation("f", &[t.clone(), t], |b, a| {
            let m = b.mul(a[0], a[1])?;
            Ok(vec![b.tanh(m)?, b.exp(a[0])?])
        })?;
        Ok(b.call(&f, &[x[0], x[1]])?)
    }));
    v.push(case("checkpoint", vec![fl(&[4]), fl(&[4])], |b, x| {
        autodiff::checkpoint(b, "block", &[x[0], x[1]], |b, a| {
            let m = b.mul(a[0], a[1])?;
            Ok(vec![b.tanh(m)?])
        })
    }));
    v.push(case("custom_vjp_forward", vec![fl(&[4])], |b, x| {
        autodiff::custom_vjp(
            b,
            "cube",
            &[x[0]],
            |b, a| {
                let s = b.mul(a[0], a[0])?;
                Ok(vec![b.mul(s, a[0])?])
            },
            |_, _, _, cts| Ok(vec![Some(cts[0])]),
        )
    }));
    v
}

fn misc_cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.push(case(
        "optimization_barrier",
        vec![fl(&[4]), fl(&[])],
        |b, x| Ok(b.optimization_barrier(&[x[0], x[1]])?),
    ));
    v.push(case("stop_gradient", vec![fl(&[4])], |b, x| {
        Ok(vec![autodiff::stop_gradient(b, x[0])?])
    }));
    v.push(case(
        "rng_bit_generator",
        vec![inp(U64, &[2], 0.0, 1.0), fl(&[3])],
        |b, x| {
            let (s, bits) =
                b.rng_bit_generator(x[0], RngAlgorithm::ThreeFry, TensorType::new(U32, [3]))?;
            let (s2, u) = b.rng_uniform(s, F64, [3])?;
            let y = b.add(u, x[1])?;
            Ok(vec![s, bits, s2, y])
        },
    ));
    v.push(case("custom_call", vec![fl(&[2, 3])], |b, x| {
        // The `Sharding` target is an identity on the CPU plugin.
        let t = b.ty(x[0])?.clone();
        let r = b.custom_call("Sharding", &[x[0]], &[t], "", false)?;
        Ok(vec![b.exp(r[0])?])
    }));
    v
}

#[test]
fn every_batching_rule_matches_the_per_example_program() {
    let mut all = Vec::new();
    all.extend(elementwise_cases());
    all.extend(shape_cases());
    all.extend(linalg_cases());
    all.extend(reduce_cases());
    all.extend(control_cases());
    all.extend(misc_cases());
    let ran = run_table(&all, |c| c.name, 7000, check);
    eprintln!("{ran} batching cases checked against the per-example programs");
}
