//! Rules of the linear algebra family. Both ops are bilinear: the tangent is
//! `op(tx, y) + op(x, ty)`, and each cotangent is the same op again with transposed roles.

use hlo_builder::ops::linalg::Transpose;
use hlo_builder::{Builder, ConvConfig, ConvDims, DotDims, LinalgOp, Precision, Value};

use super::common::{bilinear, first, front, shift, ty, At, Bat, Batched, Cts, Cx, Jvp};
use crate::error::{not_batchable, Result};
use crate::options::WeightGradients;

/// The VJP of a linear algebra node.
pub(crate) fn vjp(
    cx: &Cx,
    b: &mut Builder,
    op: &LinalgOp,
    at: &At,
    cts: &[Option<Value>],
    want: &[bool],
) -> Result<Cts> {
    let x = &at.x;
    let g = first(op.name(), cts)?;
    match op {
        LinalgOp::DotGeneral { dims, precision } => {
            // The gradients are dot_generals again (not broadcast-multiply-reduce): XLA maps
            // dot_general to its tuned matrix-multiply kernels, and the result stays one op
            // that is itself differentiable.
            let xr = ty(b, x[0])?.rank();
            let yr = ty(b, x[1])?.rank();
            let dx = if want[0] {
                Some(dot_transpose_lhs(
                    b,
                    g,
                    x[1],
                    xr,
                    yr,
                    dims,
                    false,
                    *precision,
                    cx.options.weight_gradients,
                )?)
            } else {
                None
            };
            let dy = if want[1] {
                let sw = DotDims {
                    lhs_batch: dims.rhs_batch.clone(),
                    rhs_batch: dims.lhs_batch.clone(),
                    lhs_contracting: dims.rhs_contracting.clone(),
                    rhs_contracting: dims.lhs_contracting.clone(),
                };
                Some(dot_transpose_lhs(
                    b,
                    g,
                    x[0],
                    yr,
                    xr,
                    &sw,
                    true,
                    [precision[1], precision[0]],
                    cx.options.weight_gradients,
                )?)
            } else {
                None
            };
            Ok(vec![dx, dy])
        }
        LinalgOp::Convolution(c) => {
            let dx = if want[0] {
                Some(conv_lhs(b, g, x[0], x[1], c)?)
            } else {
                None
            };
            let dk = if want[1] {
                Some(conv_rhs(b, g, x[0], x[1], c)?)
            } else {
                None
            };
            Ok(vec![dx, dk])
        }
        LinalgOp::Cholesky { lower } => Ok(vec![Some(cholesky(b, at.y[0], g, *lower)?)]),
        LinalgOp::TriangularSolve {
            left_side,
            lower,
            unit_diagonal,
            transpose_a,
        } => {
            let (a, sol) = (x[0], at.y[0]);
            let flip = match transpose_a {
                Transpose::NoTranspose => Transpose::Transpose,
                Transpose::Transpose | Transpose::Adjoint => Transpose::NoTranspose,
            };
            // x = op(a)⁻¹ b (left) or b op(a)⁻¹ (right): the cotangent of b is the same solve
            // with op(a) transposed; that of op(a) is -b̄ xᵀ (left) or -xᵀ b̄ (right), kept on
            // the triangle the op reads (without the diagonal when it is taken as ones).
            let gb = b.triangular_solve(a, g, *left_side, *lower, *unit_diagonal, flip)?;
            let da = if want[0] {
                let r = ty(b, a)?.rank();
                let st = b.transpose(sol, swap_last_two(r))?;
                let d = if *left_side {
                    b.matmul(gb, st)?
                } else {
                    b.matmul(st, gb)?
                };
                let d = b.neg(d)?;
                let d = match transpose_a {
                    Transpose::NoTranspose => d,
                    Transpose::Transpose | Transpose::Adjoint => {
                        b.transpose(d, swap_last_two(r))?
                    }
                };
                let k = if *unit_diagonal { 1 } else { 0 };
                Some(if *lower {
                    b.tril(d, -k)?
                } else {
                    b.triu(d, k)?
                })
            } else {
                None
            };
            Ok(vec![da, if want[1] { Some(gb) } else { None }])
        }
    }
}

/// The JVP of a linear algebra node.
pub(crate) fn jvp(b: &mut Builder, op: &LinalgOp, at: &At, tin: &[Option<Value>]) -> Result<Jvp> {
    match op {
        LinalgOp::DotGeneral { .. } | LinalgOp::Convolution(_) => bilinear(b, at.node, &at.x, tin),
        LinalgOp::Cholesky { .. } | LinalgOp::TriangularSolve { .. } => Ok(Jvp::FromVjp),
    }
}

fn swap_last_two(rank: usize) -> Vec<i64> {
    let mut p: Vec<i64> = (0..rank as i64).collect();
    p.swap(rank - 2, rank - 1);
    p
}

/// The cotangent of a Cholesky factorization's input (Murray, "Differentiation of the
/// Cholesky decomposition", 2016). With `l` the lower factor and `l̄` its cotangent (both read
/// on the lower triangle), `Σ = sym(l⁻ᵀ Φ(lᵀ l̄) l⁻¹)` is the gradient for a symmetric input,
/// `Φ` taking the lower triangle with the diagonal halved. The op reads one triangle of its
/// input, whose entries below the diagonal stand for two of the symmetric matrix: their
/// cotangent is `2Σ`, the diagonal's `Σ`. An upper factor `u = lᵀ` takes the same path.
fn cholesky(b: &mut Builder, y: Value, g: Value, lower: bool) -> Result<Value> {
    let r = ty(b, y)?.rank();
    let (l, lb) = if lower {
        (b.tril(y, 0)?, b.tril(g, 0)?)
    } else {
        let u = b.triu(y, 0)?;
        let ub = b.triu(g, 0)?;
        (
            b.transpose(u, swap_last_two(r))?,
            b.transpose(ub, swap_last_two(r))?,
        )
    };
    let lt = b.transpose(l, swap_last_two(r))?;
    let m = b.matmul(lt, lb)?;
    // Φ(m) = (tril(m) + strictly lower(m)) / 2
    let m0 = b.tril(m, 0)?;
    let m1 = b.tril(m, -1)?;
    let p = b.add(m0, m1)?;
    let half = b.scalar_like(p, 0.5)?;
    let p = b.mul(p, half)?;
    // l⁻ᵀ p l⁻¹: solve lᵀ z = p, then w l = z.
    let z = b.triangular_solve(l, p, true, true, false, Transpose::Transpose)?;
    let w = b.triangular_solve(l, z, false, true, false, Transpose::NoTranspose)?;
    let wt = b.transpose(w, swap_last_two(r))?;
    let s = b.add(w, wt)?;
    let sigma = b.mul(s, half)?;
    Ok(if lower {
        let a = b.tril(sigma, 0)?;
        let c = b.tril(sigma, -1)?;
        b.add(a, c)?
    } else {
        let a = b.triu(sigma, 0)?;
        let c = b.triu(sigma, 1)?;
        b.add(a, c)?
    })
}

fn argsort(v: &[i64]) -> Vec<i64> {
    let mut idx: Vec<i64> = (0..v.len() as i64).collect();
    idx.sort_by_key(|&i| v[i as usize]);
    idx
}

/// The cotangent of a dot_general's lhs `x` (rank `xr`) given the rhs `y` (rank `yr`).
#[allow(clippy::too_many_arguments)]
fn dot_transpose_lhs(
    b: &mut Builder,
    g: Value,
    y: Value,
    xr: usize,
    yr: usize,
    d: &DotDims,
    swap_ans: bool,
    precision: [Precision; 2],
    form: WeightGradients,
) -> Result<Value> {
    let x_kept: Vec<i64> = (0..xr as i64)
        .filter(|a| !d.lhs_contracting.contains(a) && !d.lhs_batch.contains(a))
        .collect();
    let y_kept: Vec<i64> = (0..yr as i64)
        .filter(|a| !d.rhs_contracting.contains(a) && !d.rhs_batch.contains(a))
        .collect();
    let nb = d.lhs_batch.len() as i64;
    let ans_batch: Vec<i64> = (0..nb).collect();
    let ans_y: Vec<i64> = if swap_ans {
        (nb..nb + y_kept.len() as i64).collect()
    } else {
        let s = nb + x_kept.len() as i64;
        (s..s + y_kept.len() as i64).collect()
    };
    let dims = DotDims {
        lhs_batch: ans_batch,
        rhs_batch: d.rhs_batch.clone(),
        lhs_contracting: ans_y,
        rhs_contracting: y_kept,
    };
    let order = argsort(&d.rhs_contracting);
    let x_contract_sorted_by_y: Vec<i64> = order
        .iter()
        .map(|&i| d.lhs_contracting[i as usize])
        .collect();
    // With `y` as the left operand the result comes out as (batch, x's contracting axes,
    // x's kept axes); when that is x's own axis order (a dense layer's weight gradient
    // `xᵀ g`), no transpose follows the dot. This matters most under vmap, where the
    // gradient is one matrix per example.
    let mut flipped = d.lhs_batch.clone();
    flipped.extend(&x_contract_sorted_by_y);
    flipped.extend(&x_kept);
    if flipped.iter().enumerate().all(|(i, &p)| i as i64 == p) {
        let dims = DotDims {
            lhs_batch: dims.rhs_batch,
            rhs_batch: dims.lhs_batch,
            lhs_contracting: dims.rhs_contracting,
            rhs_contracting: dims.lhs_contracting,
        };
        let precision = [precision[1], precision[0]];
        return Ok(match form {
            WeightGradients::Contract => b.dot_general(y, g, dims, precision)?,
            WeightGradients::TransposeFirst => transpose_first(b, y, g, yr, dims, precision)?,
        });
    }
    let mut pre = d.lhs_batch.clone();
    pre.extend(&x_kept);
    pre.extend(&x_contract_sorted_by_y);
    let out_axes = argsort(&pre);
    let r = b.dot_general(g, y, dims, precision)?;
    if out_axes.iter().enumerate().all(|(i, &p)| i as i64 == p) {
        Ok(r)
    } else {
        Ok(b.transpose(r, out_axes)?)
    }
}

/// `dot_general(y, g, dims)` with `y`'s contracting axes moved last first (after its batch
/// and kept axes), the transpose behind an optimization barrier so that XLA keeps it and
/// runs a row-major product ([`WeightGradients::TransposeFirst`]). The result is the same
/// tensor: the kept axes stay in their order, so the output's axes do not move. When the
/// contracting axes are already last, it is the plain dot.
fn transpose_first(
    b: &mut Builder,
    y: Value,
    g: Value,
    yr: usize,
    dims: DotDims,
    precision: [Precision; 2],
) -> Result<Value> {
    let kept: Vec<i64> = (0..yr as i64)
        .filter(|a| !dims.lhs_batch.contains(a) && !dims.lhs_contracting.contains(a))
        .collect();
    let mut perm = dims.lhs_batch.clone();
    perm.extend(&kept);
    perm.extend(&dims.lhs_contracting);
    if perm.iter().enumerate().all(|(i, &p)| i as i64 == p) {
        return Ok(b.dot_general(y, g, dims, precision)?);
    }
    let t = b.transpose(y, perm)?;
    let t = b.optimization_barrier(&[t])?[0];
    let nb = dims.lhs_batch.len() as i64;
    let nk = kept.len() as i64;
    let nc = dims.lhs_contracting.len() as i64;
    let moved = DotDims {
        lhs_batch: (0..nb).collect(),
        rhs_batch: dims.rhs_batch,
        lhs_contracting: (nb + nk..nb + nk + nc).collect(),
        rhs_contracting: dims.rhs_contracting,
    };
    Ok(b.dot_general(t, g, moved, precision)?)
}

fn dilate(s: i64, d: i64) -> i64 {
    if s == 0 {
        0
    } else {
        1 + d * (s - 1)
    }
}

/// Axis specs as (batch/out-feature, feature/in-feature, spatial...).
struct Specs {
    lhs: Vec<i64>,
    rhs: Vec<i64>,
    out: Vec<i64>,
}

fn specs(d: &ConvDims) -> Specs {
    let mut lhs = vec![d.input_batch, d.input_feature];
    lhs.extend(&d.input_spatial);
    let mut rhs = vec![d.kernel_output_feature, d.kernel_input_feature];
    rhs.extend(&d.kernel_spatial);
    let mut out = vec![d.output_batch, d.output_feature];
    out.extend(&d.output_spatial);
    Specs { lhs, rhs, out }
}

fn conv_dims(lhs: &[i64], rhs: &[i64], out: &[i64]) -> ConvDims {
    ConvDims {
        input_batch: lhs[0],
        input_feature: lhs[1],
        input_spatial: lhs[2..].to_vec(),
        kernel_output_feature: rhs[0],
        kernel_input_feature: rhs[1],
        kernel_spatial: rhs[2..].to_vec(),
        output_batch: out[0],
        output_feature: out[1],
        output_spatial: out[2..].to_vec(),
    }
}

fn swap01(s: &[i64]) -> Vec<i64> {
    let mut v = vec![s[1], s[0]];
    v.extend(&s[2..]);
    v
}

fn reshape_axis_out_of(b: &mut Builder, src: usize, size1: i64, x: Value) -> Result<Value> {
    let mut d = ty(b, x)?.dims.to_vec();
    let s2 = d[src] / size1;
    d.splice(src..=src, [size1, s2]);
    Ok(b.reshape(x, d)?)
}

fn reshape_axis_into(b: &mut Builder, src: usize, dst: usize, x: Value) -> Result<Value> {
    let d = ty(b, x)?.dims.to_vec();
    let mut perm: Vec<i64> = (0..d.len() as i64).filter(|&i| i as usize != src).collect();
    perm.insert(dst, src as i64);
    let mut nd: Vec<i64> = d
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != src)
        .map(|(_, &v)| v)
        .collect();
    nd[dst] *= d[src];
    let t = b.transpose(x, perm)?;
    Ok(b.reshape(t, nd)?)
}

fn conv_lhs(b: &mut Builder, g: Value, lhs: Value, rhs: Value, c: &ConvConfig) -> Result<Value> {
    let s = specs(&c.dims);
    let (fg, bg) = (c.feature_group_count, c.batch_group_count);
    let mut kernel = rhs;
    let mut groups = fg;
    if fg > 1 || bg > 1 {
        let k = fg.max(bg);
        kernel = reshape_axis_out_of(b, s.rhs[0] as usize, k, kernel)?;
        kernel = reshape_axis_into(b, s.rhs[0] as usize, s.rhs[1] as usize, kernel)?;
        groups = k;
    }
    let lt = ty(b, lhs)?;
    let kt = ty(b, kernel)?;
    let gt = ty(b, g)?;
    let ns = c.dims.input_spatial.len();
    let mut padding = Vec::with_capacity(ns);
    for i in 0..ns {
        let ld = dilate(lt.dims[s.lhs[2 + i] as usize], c.lhs_dilation[i]);
        let rd = dilate(kt.dims[s.rhs[2 + i] as usize], c.rhs_dilation[i]);
        let od = dilate(gt.dims[s.out[2 + i] as usize], c.window_strides[i]);
        let before = rd - c.padding[i].0 - 1;
        let after = ld + rd - 1 - od - before;
        padding.push((before, after));
    }
    let rev = b.reverse(kernel, &s.rhs[2..])?;
    let cfg = ConvConfig {
        window_strides: c.lhs_dilation.clone(),
        padding,
        lhs_dilation: c.window_strides.clone(),
        rhs_dilation: c.rhs_dilation.clone(),
        feature_group_count: groups,
        batch_group_count: 1,
        dims: conv_dims(&s.out, &swap01(&s.rhs), &s.lhs),
        precision: c.precision,
    };
    let mut out = canonical_conv(b, g, rev, cfg)?;
    if bg > 1 {
        out = reshape_axis_out_of(b, s.lhs[1] as usize, bg, out)?;
        out = reshape_axis_into(b, s.lhs[1] as usize, s.lhs[0] as usize, out)?;
    }
    Ok(out)
}

fn conv_rhs(b: &mut Builder, g: Value, lhs: Value, rhs: Value, c: &ConvConfig) -> Result<Value> {
    let s = specs(&c.dims);
    let (fg, bg) = if c.batch_group_count > 1 {
        (c.batch_group_count, 1)
    } else if c.feature_group_count > 1 {
        (1, c.feature_group_count)
    } else {
        (1, 1)
    };
    let lt = ty(b, lhs)?;
    let kt = ty(b, rhs)?;
    let gt = ty(b, g)?;
    if gt.element_count() == 0 {
        return Ok(b.zeros_like(rhs)?);
    }
    let ns = c.dims.input_spatial.len();
    let mut padding = Vec::with_capacity(ns);
    for i in 0..ns {
        let ld = dilate(lt.dims[s.lhs[2 + i] as usize], c.lhs_dilation[i]);
        let rd = dilate(kt.dims[s.rhs[2 + i] as usize], c.rhs_dilation[i]);
        let od = dilate(gt.dims[s.out[2 + i] as usize], c.window_strides[i]);
        let lo = c.padding[i].0;
        let hi = (od - ld) + (rd - lo - 1);
        padding.push((lo, hi));
    }
    let cfg = ConvConfig {
        window_strides: c.rhs_dilation.clone(),
        padding,
        lhs_dilation: c.lhs_dilation.clone(),
        rhs_dilation: c.window_strides.clone(),
        feature_group_count: fg,
        batch_group_count: bg,
        dims: conv_dims(&swap01(&s.lhs), &swap01(&s.out), &swap01(&s.rhs)),
        precision: c.precision,
    };
    canonical_conv(b, lhs, g, cfg)
}

/// `convolution(lhs, rhs, cfg)` in XLA's canonical form, with transposes around it where the
/// roles sit elsewhere: the input as (batch, spatial..., feature), the kernel as (spatial...,
/// input feature, output feature), the output as (batch, spatial..., feature). The gradients'
/// convolutions swap roles (the kernel gradient reads the batch as its contracted feature);
/// XLA's CPU backend rewrites such a convolution into this form at a program's top level but
/// not inside a `while` loop, where it ran as a naive loop (the digits CNN's step 20x slower
/// in a 4-step loop). Stated here, the form is the same everywhere.
fn canonical_conv(b: &mut Builder, lhs: Value, rhs: Value, cfg: ConvConfig) -> Result<Value> {
    let d = &cfg.dims;
    let canonical = ConvDims::nhwc(d.input_spatial.len());
    let mut lp = vec![d.input_batch];
    lp.extend(&d.input_spatial);
    lp.push(d.input_feature);
    let mut rp = d.kernel_spatial.clone();
    rp.extend([d.kernel_input_feature, d.kernel_output_feature]);
    let mut op = vec![d.output_batch];
    op.extend(&d.output_spatial);
    op.push(d.output_feature);
    let l = permuted(b, lhs, &lp)?;
    let r = permuted(b, rhs, &rp)?;
    let out = b.convolution(
        l,
        r,
        ConvConfig {
            dims: canonical,
            ..cfg
        },
    )?;
    // Canonical output axis i holds the role the caller wants at position op[i].
    let mut back = vec![0i64; op.len()];
    for (i, &p) in op.iter().enumerate() {
        back[p as usize] = i as i64;
    }
    permuted(b, out, &back)
}

/// `x` transposed by `perm`, or `x` itself when `perm` is the identity.
fn permuted(b: &mut Builder, x: Value, perm: &[i64]) -> Result<Value> {
    if perm.iter().enumerate().all(|(i, &a)| a == i as i64) {
        Ok(x)
    } else {
        Ok(b.transpose(x, perm)?)
    }
}

/// The batching rule of a linear algebra node. `dot_general`: a batch on both sides becomes
/// a batch dimension of the dot, on one side a free dimension (one matrix multiply either
/// way). `convolution`: the batch is folded into the convolution's own dimensions (as JAX's
/// rule does): into the input batch (input batched), into the kernel's output features
/// (kernel batched), into the feature groups (both batched; the batch groups when there
/// are some), then split out of the result. `cholesky` and `triangular_solve` take leading
/// batch dimensions: the batch is moved first.
pub(crate) fn batch(b: &mut Builder, op: &LinalgOp, at: &Bat) -> Result<Vec<Batched>> {
    let (x, n) = (at.x, at.n);
    let one = |t: Value, a: usize| Ok(vec![Batched::new(t, Some(a))]);
    match op {
        LinalgOp::DotGeneral { dims, precision } => {
            let (l, r) = (x[0], x[1]);
            let plus1 = |v: &[i64]| v.iter().map(|d| d + 1).collect::<Vec<i64>>();
            let free = |rank: usize, used: &[i64], below: usize| {
                (0..below as i64)
                    .filter(|a| !used.contains(a))
                    .count()
                    .min(rank)
            };
            match (l.axis, r.axis) {
                (Some(_), Some(_)) => {
                    let lf = front(b, l, n)?;
                    let rf = front(b, r, n)?;
                    let mut lb = vec![0];
                    lb.extend(plus1(&dims.lhs_batch));
                    let mut rb = vec![0];
                    rb.extend(plus1(&dims.rhs_batch));
                    let d = DotDims {
                        lhs_batch: lb,
                        rhs_batch: rb,
                        lhs_contracting: plus1(&dims.lhs_contracting),
                        rhs_contracting: plus1(&dims.rhs_contracting),
                    };
                    one(b.dot_general(lf, rf, d, *precision)?, 0)
                }
                (Some(a), None) => {
                    let sh = |v: &[i64]| v.iter().map(|&d| shift(d, a)).collect::<Vec<i64>>();
                    let d = DotDims {
                        lhs_batch: sh(&dims.lhs_batch),
                        rhs_batch: dims.rhs_batch.clone(),
                        lhs_contracting: sh(&dims.lhs_contracting),
                        rhs_contracting: dims.rhs_contracting.clone(),
                    };
                    let rank = ty(b, l.t)?.rank();
                    let used: Vec<i64> = d
                        .lhs_batch
                        .iter()
                        .chain(&d.lhs_contracting)
                        .copied()
                        .collect();
                    let pos = d.lhs_batch.len() + free(rank, &used, a);
                    one(b.dot_general(l.t, r.t, d, *precision)?, pos)
                }
                (None, Some(a)) => {
                    let sh = |v: &[i64]| v.iter().map(|&d| shift(d, a)).collect::<Vec<i64>>();
                    let d = DotDims {
                        lhs_batch: dims.lhs_batch.clone(),
                        rhs_batch: sh(&dims.rhs_batch),
                        lhs_contracting: dims.lhs_contracting.clone(),
                        rhs_contracting: sh(&dims.rhs_contracting),
                    };
                    let lrank = ty(b, l.t)?.rank();
                    let rrank = ty(b, r.t)?.rank();
                    let lhs_free = lrank - dims.lhs_batch.len() - dims.lhs_contracting.len();
                    let used: Vec<i64> = d
                        .rhs_batch
                        .iter()
                        .chain(&d.rhs_contracting)
                        .copied()
                        .collect();
                    let pos = d.lhs_batch.len() + lhs_free + free(rrank, &used, a);
                    one(b.dot_general(l.t, r.t, d, *precision)?, pos)
                }
                (None, None) => {
                    not_batchable("dot_general", "internal: neither operand is batched")
                }
            }
        }
        LinalgOp::Convolution(c) => conv(b, x, n, c),
        LinalgOp::Cholesky { lower } => {
            let t = front(b, x[0], n)?;
            one(
                b.record(&LinalgOp::Cholesky { lower: *lower }.into(), &[t], &[])?[0],
                0,
            )
        }
        LinalgOp::TriangularSolve { .. } => {
            let a = front(b, x[0], n)?;
            let r = front(b, x[1], n)?;
            one(b.record(&at.node.op, &[a, r], &[])?[0], 0)
        }
    }
}

fn conv(b: &mut Builder, x: &[Batched], n: i64, c: &ConvConfig) -> Result<Vec<Batched>> {
    let d = &c.dims;
    let (ib, ifeat) = (d.input_batch as usize, d.input_feature as usize);
    let ko = d.kernel_output_feature as usize;
    let (ob, of) = (d.output_batch as usize, d.output_feature as usize);
    let (fg, bg) = (c.feature_group_count, c.batch_group_count);
    let mut cfg = c.clone();
    let (lhs, rhs) = (x[0], x[1]);
    let (out, axis) = match (lhs.axis, rhs.axis) {
        (Some(la), Some(ra)) => {
            let new_lhs = if bg > 1 {
                cfg.batch_group_count = bg * n;
                reshape_axis_into(b, la, ib, lhs.t)?
            } else {
                cfg.feature_group_count = fg * n;
                reshape_axis_into(b, la, ifeat, lhs.t)?
            };
            let new_rhs = reshape_axis_into(b, ra, ko, rhs.t)?;
            let o = b.convolution(new_lhs, new_rhs, cfg)?;
            (reshape_axis_out_of(b, of, n, o)?, of)
        }
        (Some(la), None) => {
            let new_lhs = if bg == 1 {
                reshape_axis_into(b, la, ib, lhs.t)?
            } else {
                // Batch groups are the major part of the input batch: put the examples
                // inside each group.
                let l = reshape_axis_out_of(b, ib + usize::from(la <= ib), bg, lhs.t)?;
                let l = reshape_axis_into(b, la + usize::from(ib < la), ib + 1, l)?;
                reshape_axis_into(b, ib, ib, l)?
            };
            let o = b.convolution(new_lhs, rhs.t, cfg)?;
            (reshape_axis_out_of(b, ob, n, o)?, ob)
        }
        (None, Some(ra)) => {
            if fg == 1 && bg == 1 {
                let new_rhs = reshape_axis_into(b, ra, ko, rhs.t)?;
                let o = b.convolution(lhs.t, new_rhs, cfg)?;
                (reshape_axis_out_of(b, of, n, o)?, of)
            } else {
                // Groups are the major part of the output features: put the examples inside
                // each group, and take them out of the result the same way.
                let g = if fg > 1 { fg } else { bg };
                let r = reshape_axis_out_of(b, ko + usize::from(ra <= ko), g, rhs.t)?;
                let r = reshape_axis_into(b, ra + usize::from(ko < ra), ko + 1, r)?;
                let r = reshape_axis_into(b, ko, ko, r)?;
                let o = b.convolution(lhs.t, r, cfg)?;
                let o = reshape_axis_out_of(b, of, g, o)?;
                let o = reshape_axis_out_of(b, of + 1, n, o)?;
                (reshape_axis_into(b, of, of + 1, o)?, of)
            }
        }
        (None, None) => {
            return not_batchable("convolution", "internal: neither operand is batched")
        }
    };
    Ok(vec![Batched::new(out, Some(axis))])
}
