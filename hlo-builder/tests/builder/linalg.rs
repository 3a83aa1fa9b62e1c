//! dot_general, numpy matmul and convolution against naive loops written here.
use crate::common::*;

/// Deterministic small values: exact in f32, varied in sign.
fn data(n: usize, salt: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (((i * 7 + salt * 13) % 11) as f32 - 5.0) * 0.25)
        .collect()
}

/// Naive batched matmul: a[b, m, k] * c[b, k, n].
fn bmm(a: &[f32], c: &[f32], bs: usize, m: usize, k: usize, n: usize) -> Vec<f32> {
    let mut out = vec![0.0; bs * m * n];
    for b in 0..bs {
        for i in 0..m {
            for j in 0..n {
                out[(b * m + i) * n + j] = (0..k)
                    .map(|p| a[(b * m + i) * k + p] * c[(b * k + p) * n + j])
                    .sum();
            }
        }
    }
    out
}

#[test]
fn dot_general_batch_and_contracting() {
    let (a, c) = (data(24, 1), data(40, 2));
    let mut b = Builder::new("dot");
    let x = b.parameter("x", F32, [2, 3, 4]).unwrap();
    let y = b.parameter("y", F32, [2, 4, 5]).unwrap();
    let d = b
        .dot_general(
            x,
            y,
            DotDims {
                lhs_batch: vec![0],
                rhs_batch: vec![0],
                lhs_contracting: vec![2],
                rhs_contracting: vec![1],
            },
            [Precision::Highest; 2],
        )
        .unwrap();
    // contract two axes at once: sum_{b,k} x[b,i,k] * y[b,k,j] -> [3, 5]
    let d2 = b
        .dot_general(
            x,
            y,
            DotDims {
                lhs_batch: vec![],
                rhs_batch: vec![],
                lhs_contracting: vec![0, 2],
                rhs_contracting: vec![0, 1],
            },
            [Precision::Default; 2],
        )
        .unwrap();
    let got = run(&b, &[d, d2], &[&lit(&a, &[2, 3, 4]), &lit(&c, &[2, 4, 5])]);
    let want = bmm(&a, &c, 2, 3, 4, 5);
    assert_close("batched", &f32s(&got[0]), &want, 1e-5);
    let want2: Vec<f32> = (0..15).map(|ij| want[ij] + want[15 + ij]).collect();
    assert_close("two contracting axes", &f32s(&got[1]), &want2, 1e-5);
}

#[test]
fn matmul_numpy_semantics() {
    let mut b = Builder::new("matmul");
    let v = b.parameter("v", F32, [4]).unwrap();
    let w = b.parameter("w", F32, [4]).unwrap();
    let m = b.parameter("m", F32, [4, 3]).unwrap();
    let a = b.parameter("a", F32, [2, 1, 3, 4]).unwrap();
    let c = b.parameter("c", F32, [5, 4, 2]).unwrap();
    let vv = b.matmul(v, w).unwrap(); // [] dot product
    let vm = b.matmul(v, m).unwrap(); // [3]
    let mt = b.transpose(m, [1, 0]).unwrap();
    let mv = b.matmul(mt, v).unwrap(); // [3]
    let ac = b.matmul(a, c).unwrap(); // batch [2,1] x [5] -> [2,5,3,2]
    assert_eq!(b.ty(vv).unwrap().to_string(), "f32[]");
    assert_eq!(b.ty(ac).unwrap().to_string(), "f32[2,5,3,2]");
    let (dv, dw, dm, da, dc) = (
        data(4, 1),
        data(4, 2),
        data(12, 3),
        data(24, 4),
        data(40, 5),
    );
    let got = run(
        &b,
        &[vv, vm, mv, ac],
        &[
            &lit(&dv, &[4]),
            &lit(&dw, &[4]),
            &lit(&dm, &[4, 3]),
            &lit(&da, &[2, 1, 3, 4]),
            &lit(&dc, &[5, 4, 2]),
        ],
    );
    let dot: f32 = dv.iter().zip(&dw).map(|(p, q)| p * q).sum();
    assert_close("vec.vec", &f32s(&got[0]), &[dot], 1e-6);
    let vm_want: Vec<f32> = (0..3)
        .map(|j| (0..4).map(|k| dv[k] * dm[k * 3 + j]).sum())
        .collect();
    assert_close("vec@mat", &f32s(&got[1]), &vm_want, 1e-6);
    assert_close("mat@vec", &f32s(&got[2]), &vm_want, 1e-6);
    // ac[i, j] = a[i, 0] @ c[j]
    let mut want = Vec::new();
    for i in 0..2 {
        for j in 0..5 {
            want.extend(bmm(
                &da[i * 12..(i + 1) * 12],
                &dc[j * 8..(j + 1) * 8],
                1,
                3,
                4,
                2,
            ));
        }
    }
    assert_close("batched broadcast", &f32s(&got[3]), &want, 1e-5);
}

/// Reference 2-D convolution, NHWC input, HWIO kernel, NHWC output, with every option.
#[allow(clippy::too_many_arguments)]
fn conv_ref(
    x: &[f32],
    xd: [usize; 4],
    k: &[f32],
    kd: [usize; 4],
    c: &ConvConfig,
) -> (Vec<f32>, [usize; 4]) {
    let [bn, h, w, cin] = xd;
    let [kh, kw, kci, ko] = kd;
    let fg = c.feature_group_count as usize;
    let bg = c.batch_group_count as usize;
    let s = &c.window_strides;
    let (ld, rd) = (&c.lhs_dilation, &c.rhs_dilation);
    let p = &c.padding;
    let dil = |n: usize, d: i64| if n == 0 { 0 } else { (n as i64 - 1) * d + 1 };
    let span = |n: usize, lo: i64, hi: i64, l: i64, kk: usize, r: i64, st: i64| {
        let padded = dil(n, l) + lo + hi;
        let dk = dil(kk, r);
        if padded < dk {
            0
        } else {
            ((padded - dk) / st + 1) as usize
        }
    };
    let oh = span(h, p[0].0, p[0].1, ld[0], kh, rd[0], s[0]);
    let ow = span(w, p[1].0, p[1].1, ld[1], kw, rd[1], s[1]);
    let ob = bn / bg;
    let mut out = vec![0.0; ob * oh * ow * ko];
    let at = |b: usize, y: i64, xx: i64, ch: usize| -> f32 {
        // position in the dilated, padded input
        let (yy, xq) = (y - p[0].0, xx - p[1].0);
        if yy < 0 || xq < 0 || yy % ld[0] != 0 || xq % ld[1] != 0 {
            return 0.0;
        }
        let (iy, ix) = ((yy / ld[0]) as usize, (xq / ld[1]) as usize);
        if iy >= h || ix >= w {
            return 0.0;
        }
        x[((b * h + iy) * w + ix) * cin + ch]
    };
    for b in 0..ob {
        for oy in 0..oh {
            for ox in 0..ow {
                for of in 0..ko {
                    let g = of / (ko / fg); // feature group of this output feature
                    let gb = of / (ko / bg); // batch group of this output feature
                    let ib = gb * ob + b;
                    let mut acc = 0.0;
                    for ky in 0..kh {
                        for kx in 0..kw {
                            for ci in 0..kci {
                                let y = oy as i64 * s[0] + ky as i64 * rd[0];
                                let xx = ox as i64 * s[1] + kx as i64 * rd[1];
                                acc += at(ib, y, xx, g * kci + ci)
                                    * k[((ky * kw + kx) * kci + ci) * ko + of];
                            }
                        }
                    }
                    out[((b * oh + oy) * ow + ox) * ko + of] = acc;
                }
            }
        }
    }
    (out, [ob, oh, ow, ko])
}

fn check_conv(xd: [usize; 4], kd: [usize; 4], c: ConvConfig) {
    let x = data(xd.iter().product(), 3);
    let k = data(kd.iter().product(), 4);
    let (want, od) = conv_ref(&x, xd, &k, kd, &c);
    let mut b = Builder::new("conv");
    let xi = b.parameter("x", F32, xd.map(|v| v as i64)).unwrap();
    let ki = b.parameter("k", F32, kd.map(|v| v as i64)).unwrap();
    let y = b.convolution(xi, ki, c.clone()).unwrap();
    assert_eq!(b.dims(y).unwrap(), &od.map(|v| v as i64), "{c:?}");
    let got = run(
        &b,
        &[y],
        &[
            &lit(&x, &xd.map(|v| v as i64)),
            &lit(&k, &kd.map(|v| v as i64)),
        ],
    );
    assert_close("conv", &f32s(&got[0]), &want, 1e-5);
}

#[test]
fn convolution_strides_padding_dilations() {
    let mut c = ConvConfig::new(ConvDims::nhwc(2));
    c.window_strides = vec![2, 1];
    c.padding = vec![(1, 1), (0, 2)];
    check_conv([2, 5, 5, 2], [3, 3, 2, 3], c.clone());
    c.lhs_dilation = vec![2, 1];
    c.rhs_dilation = vec![1, 2];
    check_conv([1, 5, 5, 2], [3, 2, 2, 3], c);
}

#[test]
fn convolution_feature_and_batch_groups() {
    // two feature groups: input channels {0,1} feed outputs {0,1,2}, {2,3} feed {3,4,5}
    let mut c = ConvConfig::new(ConvDims::nhwc(2));
    c.feature_group_count = 2;
    check_conv([1, 4, 4, 4], [2, 2, 2, 6], c);
    // two batch groups: batch 0 feeds output feature 0, batch 1 feeds output feature 1
    let mut c = ConvConfig::new(ConvDims::nhwc(2));
    c.batch_group_count = 2;
    check_conv([2, 4, 4, 1], [2, 2, 1, 2], c);
}

#[test]
fn convolution_nchw_layout_matches_nhwc() {
    // Same numbers in PyTorch's layout: transpose in, convolve with NCHW/OIHW, transpose out.
    let (xd, kd) = ([1usize, 4, 4, 2], [3usize, 3, 2, 3]);
    let x = data(32, 3);
    let k = data(54, 4);
    let mut c = ConvConfig::new(ConvDims::nhwc(2));
    c.padding = vec![(1, 1), (1, 1)];
    let (want, _) = conv_ref(&x, xd, &k, kd, &c);
    let mut b = Builder::new("nchw");
    let xi = b.parameter("x", F32, [1, 4, 4, 2]).unwrap();
    let ki = b.parameter("k", F32, [3, 3, 2, 3]).unwrap();
    let xn = b.transpose(xi, [0, 3, 1, 2]).unwrap();
    let kn = b.transpose(ki, [3, 2, 0, 1]).unwrap();
    let mut cn = ConvConfig::new(ConvDims::nchw(2));
    cn.padding = vec![(1, 1), (1, 1)];
    let y = b.convolution(xn, kn, cn).unwrap();
    let y = b.transpose(y, [0, 2, 3, 1]).unwrap();
    let got = run(
        &b,
        &[y],
        &[&lit(&x, &[1, 4, 4, 2]), &lit(&k, &[3, 3, 2, 3])],
    );
    assert_close("nchw", &f32s(&got[0]), &want, 1e-5);
}

/// Naive Cholesky (lower) of a row-major n x n symmetric positive definite matrix.
fn cholesky_host(a: &[f64], n: usize) -> Vec<f64> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            l[i * n + j] = if i == j {
                (a[i * n + i] - s).sqrt()
            } else {
                (a[i * n + j] - s) / l[j * n + j]
            };
        }
    }
    l
}

#[test]
fn cholesky_factors_a_batch_and_zeroes_the_other_triangle() {
    // Two SPD matrices: m mᵀ + 4 I from deterministic m.
    let n = 4;
    let mut host = Vec::new();
    for salt in 0..2 {
        let m: Vec<f64> = data(n * n, salt + 3).iter().map(|&v| v as f64).collect();
        for i in 0..n {
            for j in 0..n {
                let s: f64 = (0..n).map(|k| m[i * n + k] * m[j * n + k]).sum();
                host.push(s + if i == j { 4.0 } else { 0.0 });
            }
        }
    }
    let mut b = Builder::new("chol");
    let a = b.parameter("a", F64, [2, 4, 4]).unwrap();
    let l = b.cholesky(a, true).unwrap();
    let u = b.cholesky(a, false).unwrap();
    let out = run(&b, &[l, u], &[&lit(&host, &[2, 4, 4])]);
    let (gl, gu) = (f64s(&out[0]), f64s(&out[1]));
    for k in 0..2 {
        let want = cholesky_host(&host[k * 16..(k + 1) * 16], n);
        assert_close64("lower factor", &gl[k * 16..(k + 1) * 16], &want, 1e-12);
        // u = lᵀ
        for i in 0..n {
            for j in 0..n {
                assert!((gu[k * 16 + i * n + j] - want[j * n + i]).abs() < 1e-12);
            }
        }
    }
}

#[test]
fn triangular_solve_left_right_transposed_and_unit() {
    use hlo_builder::ops::linalg::Transpose;
    // a lower triangular with a dominant diagonal; the strict upper part is garbage that the
    // solve must not read.
    let n = 3;
    let mut a = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = if j < i {
                0.5 + (i + j) as f64 * 0.25
            } else if i == j {
                2.0 + i as f64
            } else {
                99.0
            };
        }
    }
    let bm: Vec<f64> = data(n * 2, 5).iter().map(|&v| v as f64).collect(); // [3, 2]
    let mut b = Builder::new("trsm");
    let pa = b.parameter("a", F64, [3, 3]).unwrap();
    let pb = b.parameter("b", F64, [3, 2]).unwrap();
    let pbt = b.parameter("bt", F64, [2, 3]).unwrap();
    let left = b
        .triangular_solve(pa, pb, true, true, false, Transpose::NoTranspose)
        .unwrap();
    let left_t = b
        .triangular_solve(pa, pb, true, true, false, Transpose::Transpose)
        .unwrap();
    let right = b
        .triangular_solve(pa, pbt, false, true, true, Transpose::NoTranspose)
        .unwrap();
    let bt: Vec<f64> = (0..2)
        .flat_map(|r| (0..3).map(move |c| (r, c)))
        .map(|(r, c)| bm[c * 2 + r])
        .collect();
    let out = run(
        &b,
        &[left, left_t, right],
        &[&lit(&a, &[3, 3]), &lit(&bm, &[3, 2]), &lit(&bt, &[2, 3])],
    );
    let tri = |i: usize, j: usize, unit: bool| -> f64 {
        if j > i {
            0.0
        } else if i == j && unit {
            1.0
        } else {
            a[i * n + j]
        }
    };
    // Check op(a) x = b by multiplying back.
    let x = f64s(&out[0]);
    for i in 0..n {
        for c in 0..2 {
            let s: f64 = (0..n).map(|k| tri(i, k, false) * x[k * 2 + c]).sum();
            assert!(
                (s - bm[i * 2 + c]).abs() < 1e-12,
                "left: {s} vs {}",
                bm[i * 2 + c]
            );
        }
    }
    let x = f64s(&out[1]);
    for i in 0..n {
        for c in 0..2 {
            let s: f64 = (0..n).map(|k| tri(k, i, false) * x[k * 2 + c]).sum();
            assert!((s - bm[i * 2 + c]).abs() < 1e-12, "left transposed");
        }
    }
    let x = f64s(&out[2]); // x [2, 3] with x a = bt, unit diagonal
    for r in 0..2 {
        for j in 0..n {
            let s: f64 = (0..n).map(|k| x[r * 3 + k] * tri(k, j, true)).sum();
            assert!((s - bt[r * 3 + j]).abs() < 1e-12, "right unit");
        }
    }
    // Shape mistakes are errors naming the op.
    let e = b
        .triangular_solve(pa, pbt, true, true, false, Transpose::NoTranspose)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("triangular_solve:"), "{e}");
    assert!(b
        .cholesky(pb, true)
        .unwrap_err()
        .to_string()
        .starts_with("cholesky:"));
}
