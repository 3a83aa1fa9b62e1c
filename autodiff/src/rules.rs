//! One VJP rule per primitive of the builder, in one exhaustive `match` (no wildcard arm: a new
//! primitive does not compile until it has a rule here). Rules only record builder ops, so the
//! gradient graph can be differentiated again.
//!
//! A rule gets the node, the cotangents of its results (`None` = zero) and which operands need
//! a cotangent (`want`: those that depend on the inputs and have a float type), and returns one
//! `Option` per operand (`None` = zero, nothing recorded).

use std::sync::Arc;

use hlo_builder::{
    BinaryOp, Builder, ComparisonDirection, Computation, ConstantValue, ConvConfig, ConvDims,
    DotDims, ElementType, GatherDims, Node, NodeId, Op, Precision, ScatterDims, Tensor, TensorType,
    UnaryOp, ValueId, WindowConfig,
};

use crate::custom::{self, Special};
use crate::error::{not_diff, Error, Result};
use crate::replay::{inline, inline_elementwise};
use crate::reverse::{backprop, differentiable};

type Cts = Vec<Option<Tensor>>;

fn ty(b: &Builder, t: Tensor) -> Result<TensorType> {
    Ok(b.ty(t)?.clone())
}

fn first(op: &'static str, cts: &[Option<Tensor>]) -> Result<Tensor> {
    cts.first()
        .copied()
        .flatten()
        .ok_or(Error::NotDifferentiable {
            op,
            reason: "internal: called without a cotangent".into(),
        })
}

fn zeros_ty(b: &mut Builder, t: &TensorType) -> Result<Tensor> {
    Ok(b.splat(t.ty, &t.dims, 0.0)?)
}

fn all_axes(rank: usize) -> Vec<i64> {
    (0..rank as i64).collect()
}

fn sum_all(b: &mut Builder, x: Tensor) -> Result<Tensor> {
    let r = ty(b, x)?.rank();
    Ok(b.reduce_sum(x, all_axes(r))?)
}

/// The VJP of one node. See the module documentation.
pub(crate) fn vjp(
    b: &mut Builder,
    node: &Node,
    id: NodeId,
    cts: &[Option<Tensor>],
    want: &[bool],
) -> Result<Cts> {
    let x: Vec<Tensor> = node.operands.iter().map(|v| b.tensor(*v)).collect();
    let y: Vec<Tensor> = b.results(id);
    let n = x.len();
    let name = node.op.name();
    match &node.op {
        // Leaves: no operands.
        Op::Parameter { .. } | Op::Constant(_) | Op::Iota { .. } => Ok(Vec::new()),
        Op::Unary(u) => {
            let g = first(name, cts)?;
            Ok(vec![unary(b, *u, x[0], y[0], g)?])
        }
        Op::Binary(op) => {
            let g = first(name, cts)?;
            binary(b, *op, x[0], x[1], y[0], g, want)
        }
        // pred result: the derivative is zero everywhere it exists.
        Op::Compare(_) => Ok(vec![None; n]),
        Op::Select => {
            let g = first(name, cts)?;
            let z = b.zeros_like(g)?;
            let t = if want[1] { Some(b.select(x[0], g, z)?) } else { None };
            let f = if want[2] { Some(b.select(x[0], z, g)?) } else { None };
            Ok(vec![None, t, f])
        }
        Op::Clamp => clamp(b, &x, first(name, cts)?, want),
        Op::Convert => {
            let g = first(name, cts)?;
            let from = ty(b, x[0])?.ty;
            // int/pred -> float has no derivative with respect to the integer operand (want is
            // false there); float -> float converts the cotangent back.
            if differentiable(from) { Ok(vec![Some(b.convert(g, from)?)]) } else { Ok(vec![None]) }
        }
        Op::BitcastConvert => not_diff("bitcast_convert", "reinterpreting the bits of a float value has no derivative"),
        Op::Reshape => {
            let g = first(name, cts)?;
            let d = ty(b, x[0])?.dims;
            Ok(vec![Some(b.reshape(g, &d)?)])
        }
        Op::Transpose { permutation } => {
            let g = first(name, cts)?;
            let mut inv = vec![0i64; permutation.len()];
            for (i, &p) in permutation.iter().enumerate() {
                inv[p as usize] = i as i64;
            }
            Ok(vec![Some(b.transpose(g, inv)?)])
        }
        Op::BroadcastInDim { broadcast_dimensions } => Ok(vec![Some(unbroadcast(b, first(name, cts)?, x[0], broadcast_dimensions)?)]),
        Op::Slice { start, limit: _, strides } => {
            let g = first(name, cts)?;
            let xt = ty(b, x[0])?;
            let gt = ty(b, g)?;
            if gt.element_count() == 0 {
                return Ok(vec![Some(b.zeros_like(x[0])?)]);
            }
            let mut high = Vec::new();
            for a in 0..xt.rank() {
                high.push(xt.dims[a] - (start[a] + (gt.dims[a] - 1) * strides[a] + 1));
            }
            let interior: Vec<i64> = strides.iter().map(|s| s - 1).collect();
            let z = b.scalar_like(g, 0.0)?;
            Ok(vec![Some(b.pad(g, z, start, high, interior)?)])
        }
        Op::DynamicSlice { .. } => {
            let g = first(name, cts)?;
            let z = b.zeros_like(x[0])?;
            let mut out = vec![Some(b.dynamic_update_slice(z, g, &x[1..])?)];
            out.extend(std::iter::repeat_n(None, n - 1));
            Ok(out)
        }
        Op::DynamicUpdateSlice => {
            let g = first(name, cts)?;
            let ut = ty(b, x[1])?;
            let dx = if want[0] {
                let z = zeros_ty(b, &ut)?;
                Some(b.dynamic_update_slice(g, z, &x[2..])?)
            } else {
                None
            };
            let du = if want[1] { Some(b.dynamic_slice(g, &x[2..], &ut.dims)?) } else { None };
            let mut out = vec![dx, du];
            out.extend(std::iter::repeat_n(None, n - 2));
            Ok(out)
        }
        Op::Concatenate { dimension } => {
            let g = first(name, cts)?;
            let gt = ty(b, g)?;
            let mut off = 0;
            let mut out = Vec::with_capacity(n);
            for (k, &xi) in x.iter().enumerate() {
                let d = ty(b, xi)?.dims[*dimension as usize];
                if want[k] {
                    let mut s = vec![0; gt.rank()];
                    let mut l: Vec<i64> = gt.dims.to_vec();
                    s[*dimension as usize] = off;
                    l[*dimension as usize] = off + d;
                    out.push(Some(b.slice(g, s, l, vec![1; gt.rank()])?));
                } else {
                    out.push(None);
                }
                off += d;
            }
            Ok(out)
        }
        Op::Pad { low, high, interior } => {
            let g = first(name, cts)?;
            let r = low.len();
            // Undo the edge padding (negative padding crops), then take every (interior+1)-th.
            let z = b.scalar_like(g, 0.0)?;
            let nl: Vec<i64> = low.iter().map(|v| -v).collect();
            let nh: Vec<i64> = high.iter().map(|v| -v).collect();
            let un = b.pad(g, z, nl, nh, vec![0; r])?;
            let ud = ty(b, un)?.dims;
            let st: Vec<i64> = interior.iter().map(|i| i + 1).collect();
            let dx = b.slice(un, vec![0; r], ud, st)?;
            let dv = if want[1] {
                let tot = sum_all(b, g)?;
                let part = sum_all(b, dx)?;
                Some(b.sub(tot, part)?)
            } else {
                None
            };
            Ok(vec![if want[0] { Some(dx) } else { None }, dv])
        }
        Op::Reverse { dimensions } => Ok(vec![Some(b.reverse(first(name, cts)?, dimensions)?)]),
        Op::Gather { dims, slice_sizes: _, indices_are_sorted } => {
            let g = first(name, cts)?;
            let z = b.zeros_like(x[0])?;
            let sd = ScatterDims {
                update_window_dims: dims.offset_dims.clone(),
                inserted_window_dims: dims.collapsed_slice_dims.clone(),
                scatter_dims_to_operand_dims: dims.start_index_map.clone(),
                index_vector_dim: dims.index_vector_dim,
            };
            let add = add_computation(ty(b, g)?.ty)?;
            let r = b.scatter_with(&[z], x[1], &[g], sd, add, *indices_are_sorted, false)?;
            Ok(vec![Some(r[0]), None])
        }
        Op::Scatter { dims, update, indices_are_sorted, .. } => scatter(b, &x, cts, want, dims, update, *indices_are_sorted),
        Op::Sort { dimension, is_stable, comparator } => sort(b, &x, &y, cts, want, *dimension, *is_stable, comparator),
        Op::DotGeneral { dims, precision } => {
            // The gradients are dot_generals again (not broadcast-multiply-reduce): XLA maps
            // dot_general to its tuned matrix-multiply kernels, and the result stays one op
            // that is itself differentiable.
            let g = first(name, cts)?;
            let xr = ty(b, x[0])?.rank();
            let yr = ty(b, x[1])?.rank();
            let dx = if want[0] { Some(dot_transpose_lhs(b, g, x[1], xr, yr, dims, false, *precision)?) } else { None };
            let dy = if want[1] {
                let sw = DotDims {
                    lhs_batch: dims.rhs_batch.clone(),
                    rhs_batch: dims.lhs_batch.clone(),
                    lhs_contracting: dims.rhs_contracting.clone(),
                    rhs_contracting: dims.lhs_contracting.clone(),
                };
                Some(dot_transpose_lhs(b, g, x[0], yr, xr, &sw, true, [precision[1], precision[0]])?)
            } else {
                None
            };
            Ok(vec![dx, dy])
        }
        Op::Convolution(c) => {
            let g = first(name, cts)?;
            let dx = if want[0] { Some(conv_lhs(b, g, x[0], x[1], c)?) } else { None };
            let dk = if want[1] { Some(conv_rhs(b, g, x[0], x[1], c)?) } else { None };
            Ok(vec![dx, dk])
        }
        Op::Reduce { dimensions, body } => reduce(b, &x, &y, cts, want, dimensions, body),
        Op::ReduceWindow { window, body } => reduce_window(b, &x, cts, want, window, body),
        Op::While { cond, body } => while_loop(b, node, &x, cts, want, cond, body),
        Op::If { true_branch, false_branch } => branches(b, "if", node, &x, cts, want, &[true_branch.clone(), false_branch.clone()]),
        Op::Case { branches: bs } => branches(b, "case", node, &x, cts, want, bs),
        Op::Call { callee } => match custom::lookup(callee) {
            Some(Special::StopGradient) => Ok(vec![None; n]),
            Some(Special::Custom(rule)) => {
                let ctm = materialize_cts(b, &y, cts)?;
                let r = rule(b, &x, &y, &ctm)?;
                if r.len() != n {
                    return Err(Error::Arity { func: "custom_vjp", message: format!("the rule of `{}` returned {} cotangents for {n} inputs", callee.name, r.len()) });
                }
                Ok(r.into_iter().enumerate().map(|(k, t)| if want[k] { t } else { None }).collect())
            }
            Some(Special::Checkpoint) => checkpoint(b, callee, &x, &y, cts, want),
            None => via(b, &x, cts, want, |b| inline(b, callee, &x)),
        },
        // Random bits are integers; the u64 state has no derivative.
        Op::RngBitGenerator { .. } => Ok(vec![None]),
        Op::OptimizationBarrier => Ok(cts.to_vec()),
        Op::CustomCall { target, .. } => not_diff("custom_call", format!("target `{target}` is opaque; wrap it with `autodiff::custom_vjp` to give it a gradient")),
    }
}

pub(crate) fn unary(
    b: &mut Builder,
    u: UnaryOp,
    x: Tensor,
    y: Tensor,
    g: Tensor,
) -> Result<Option<Tensor>> {
    use UnaryOp::*;
    let r = match u {
        Neg => b.neg(g)?,
        Abs => {
            let s = b.sign(x)?;
            b.mul(g, s)?
        }
        // Piecewise constant: the derivative is zero wherever it exists.
        Sign | Floor | Ceil | RoundNearestAfz | RoundNearestEven => return Ok(None),
        Exp => b.mul(g, y)?,
        Expm1 => {
            let one = b.scalar_like(y, 1.0)?;
            let e = b.add(y, one)?;
            b.mul(g, e)?
        }
        Log => b.div(g, x)?,
        Log1p => {
            let one = b.scalar_like(x, 1.0)?;
            let d = b.add(x, one)?;
            b.div(g, d)?
        }
        Sqrt => {
            let two = b.scalar_like(y, 2.0)?;
            let d = b.mul(y, two)?;
            b.div(g, d)?
        }
        Rsqrt => {
            let h = b.scalar_like(y, -0.5)?;
            let t = b.div(y, x)?;
            let t = b.mul(t, h)?;
            b.mul(g, t)?
        }
        Cbrt => {
            let y2 = b.mul(y, y)?;
            let three = b.scalar_like(y, 3.0)?;
            let d = b.mul(y2, three)?;
            b.div(g, d)?
        }
        Tanh => {
            let y2 = b.mul(y, y)?;
            let one = b.scalar_like(y, 1.0)?;
            let d = b.sub(one, y2)?;
            b.mul(g, d)?
        }
        Logistic => {
            let one = b.scalar_like(y, 1.0)?;
            let d = b.sub(one, y)?;
            let d = b.mul(y, d)?;
            b.mul(g, d)?
        }
        Sin => {
            let c = b.cos(x)?;
            b.mul(g, c)?
        }
        Cos => {
            let s = b.sin(x)?;
            let s = b.neg(s)?;
            b.mul(g, s)?
        }
        Tan => {
            let y2 = b.mul(y, y)?;
            let one = b.scalar_like(y, 1.0)?;
            let d = b.add(one, y2)?;
            b.mul(g, d)?
        }
        // On float operands `real` is the identity and `imag` is zero (complex operands are
        // refused before any rule runs).
        Real => g,
        Imag => return Ok(None),
        // pred / integer results: never carry a cotangent.
        Not => return not_diff("not", "logical/bitwise not of integers or pred"),
        IsFinite => return Ok(None),
        Popcnt => return not_diff("popcnt", "integer bit count"),
        CountLeadingZeros => return not_diff("count_leading_zeros", "integer bit count"),
    };
    Ok(Some(r))
}

pub(crate) fn binary(
    b: &mut Builder,
    op: BinaryOp,
    x: Tensor,
    y: Tensor,
    z: Tensor,
    g: Tensor,
    want: &[bool],
) -> Result<Cts> {
    use BinaryOp::*;
    let (wx, wy) = (want[0], want[1]);
    let (dx, dy) = match op {
        Add => (Some(g), Some(g)),
        Sub => (Some(g), if wy { Some(b.neg(g)?) } else { None }),
        Mul => (
            if wx { Some(b.mul(g, y)?) } else { None },
            if wy { Some(b.mul(g, x)?) } else { None },
        ),
        Div => {
            let dx = if wx { Some(b.div(g, y)?) } else { None };
            let dy = if wy {
                let gz = b.mul(g, z)?;
                let q = b.div(gz, y)?;
                Some(b.neg(q)?)
            } else {
                None
            };
            (dx, dy)
        }
        Rem => {
            // x - y * trunc(x / y)
            let dy = if wy {
                let q = b.div(x, y)?;
                let zero = b.scalar_like(q, 0.0)?;
                let neg = b.lt(q, zero)?;
                let c = b.ceil(q)?;
                let f = b.floor(q)?;
                let t = b.select(neg, c, f)?;
                let gt = b.mul(g, t)?;
                Some(b.neg(gt)?)
            } else {
                None
            };
            (Some(g), dy)
        }
        Pow => {
            let dx = if wx {
                let one = b.scalar_like(y, 1.0)?;
                let ym1 = b.sub(y, one)?;
                let p = b.pow(x, ym1)?;
                let d = b.mul(y, p)?;
                Some(b.mul(g, d)?)
            } else {
                None
            };
            let dy = if wy {
                // log(x) with x = 0 replaced by 1, so that 0^y contributes 0 there.
                let zero = b.scalar_like(x, 0.0)?;
                let is0 = b.eq(x, zero)?;
                let ones = b.ones_like(x)?;
                let xs = b.select(is0, ones, x)?;
                let l = b.log(xs)?;
                let d = b.mul(l, z)?;
                Some(b.mul(g, d)?)
            } else {
                None
            };
            (dx, dy)
        }
        Max | Min => {
            // Ties split the cotangent in halves (as JAX does).
            let dir = if op == Max {
                ComparisonDirection::Gt
            } else {
                ComparisonDirection::Lt
            };
            let t = ty(b, x)?.ty;
            let eq = b.eq(x, y)?;
            let eqf = b.convert(eq, t)?;
            let half = b.scalar_like(x, 0.5)?;
            let heq = b.mul(eqf, half)?;
            let one = |b: &mut Builder, p: Tensor, q: Tensor| -> Result<Tensor> {
                let w = b.compare(dir, p, q)?;
                let wf = b.convert(w, t)?;
                let m = b.add(wf, heq)?;
                Ok(b.mul(g, m)?)
            };
            let dx = if wx { Some(one(b, x, y)?) } else { None };
            let dy = if wy { Some(one(b, y, x)?) } else { None };
            (dx, dy)
        }
        Atan2 => {
            let x2 = b.mul(x, x)?;
            let y2 = b.mul(y, y)?;
            let den = b.add(x2, y2)?;
            let gd = b.div(g, den)?;
            let dx = if wx { Some(b.mul(gd, y)?) } else { None };
            let dy = if wy {
                let t = b.mul(gd, x)?;
                Some(b.neg(t)?)
            } else {
                None
            };
            (dx, dy)
        }
        // Integer and pred ops: their operands are never float, so nothing flows.
        And | Or | Xor => return not_diff(op.name(), "logical/bitwise op on integers or pred"),
        ShiftLeft | ShiftRightArithmetic | ShiftRightLogical => {
            return not_diff(op.name(), "integer shift")
        }
        Complex => {
            return not_diff(
                "complex",
                "complex results are not supported by this crate's gradients",
            )
        }
    };
    Ok(vec![if wx { dx } else { None }, if wy { dy } else { None }])
}

fn clamp(b: &mut Builder, x: &[Tensor], g: Tensor, want: &[bool]) -> Result<Cts> {
    let (lo, v, hi) = (x[0], x[1], x[2]);
    let z = b.zeros_like(g)?;
    let mut out = vec![None, None, None];
    if want[1] {
        let a = b.gt(v, lo)?;
        let c = b.lt(v, hi)?;
        let m = b.and(a, c)?;
        out[1] = Some(b.select(m, g, z)?);
    }
    let fit = |b: &mut Builder, t: Tensor, like: Tensor| -> Result<Tensor> {
        if ty(b, like)?.rank() == 0 && ty(b, t)?.rank() != 0 {
            sum_all(b, t)
        } else {
            Ok(t)
        }
    };
    if want[0] {
        let a = b.gt(lo, v)?;
        let c = b.lt(lo, hi)?;
        let m = b.and(a, c)?;
        let s = b.select(m, g, z)?;
        out[0] = Some(fit(b, s, lo)?);
    }
    if want[2] {
        let m = b.lt(hi, v)?;
        let s = b.select(m, g, z)?;
        out[2] = Some(fit(b, s, hi)?);
    }
    Ok(out)
}

/// The transpose of `broadcast_in_dim`: sum over the new axes and the stretched size-1 axes.
fn unbroadcast(b: &mut Builder, g: Tensor, x: Tensor, bd: &[i64]) -> Result<Tensor> {
    let xt = ty(b, x)?;
    let gt = ty(b, g)?;
    let mut sum_axes = Vec::new();
    for a in 0..gt.rank() as i64 {
        match bd.iter().position(|&d| d == a) {
            None => sum_axes.push(a),
            Some(i) => {
                if xt.dims[i] == 1 && gt.dims[a as usize] != 1 {
                    sum_axes.push(a)
                }
            }
        }
    }
    let s = if sum_axes.is_empty() {
        g
    } else {
        b.reduce_sum(g, &sum_axes)?
    };
    // Remaining axes in increasing result order, each an operand axis.
    let kept: Vec<i64> = (0..gt.rank() as i64)
        .filter(|a| !sum_axes.contains(a))
        .collect();
    let op_axes: Vec<usize> = kept
        .iter()
        .map(|a| bd.iter().position(|d| d == a).unwrap_or(0))
        .collect();
    let mut perm: Vec<i64> = (0..op_axes.len() as i64).collect();
    perm.sort_by_key(|&i| op_axes[i as usize]);
    let s = if perm.iter().enumerate().all(|(i, &p)| i as i64 == p) {
        s
    } else {
        b.transpose(s, perm)?
    };
    Ok(b.reshape(s, &xt.dims)?)
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
    g: Tensor,
    y: Tensor,
    xr: usize,
    yr: usize,
    d: &DotDims,
    swap_ans: bool,
    precision: [Precision; 2],
) -> Result<Tensor> {
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

// ---------------------------------------------------------------- convolution

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

fn reshape_axis_out_of(b: &mut Builder, src: usize, size1: i64, x: Tensor) -> Result<Tensor> {
    let mut d = ty(b, x)?.dims.to_vec();
    let s2 = d[src] / size1;
    d.splice(src..=src, [size1, s2]);
    Ok(b.reshape(x, d)?)
}

fn reshape_axis_into(b: &mut Builder, src: usize, dst: usize, x: Tensor) -> Result<Tensor> {
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

fn conv_lhs(
    b: &mut Builder,
    g: Tensor,
    lhs: Tensor,
    rhs: Tensor,
    c: &ConvConfig,
) -> Result<Tensor> {
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
    let mut out = b.convolution(g, rev, cfg)?;
    if bg > 1 {
        out = reshape_axis_out_of(b, s.lhs[1] as usize, bg, out)?;
        out = reshape_axis_into(b, s.lhs[1] as usize, s.lhs[0] as usize, out)?;
    }
    Ok(out)
}

fn conv_rhs(
    b: &mut Builder,
    g: Tensor,
    lhs: Tensor,
    rhs: Tensor,
    c: &ConvConfig,
) -> Result<Tensor> {
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
    Ok(b.convolution(lhs, g, cfg)?)
}

// ---------------------------------------------------------------- regions

/// `(a, b) -> a + b` on scalars of `t`.
pub(crate) fn add_computation(t: ElementType) -> Result<Arc<Computation>> {
    let s = TensorType::scalar(t);
    Ok(Builder::computation("add", &[s.clone(), s], |b, a| {
        Ok(vec![b.add(a[0], a[1])?])
    })?)
}

/// If `comp` is `(p0, p1) -> op(p0, p1)` (either order) on two scalar parameters, `op`.
pub(crate) fn body_binop(comp: &Computation) -> Option<BinaryOp> {
    let params = comp.graph.parameters();
    if params.len() != 2 || comp.results.len() != 1 {
        return None;
    }
    let r = comp.graph.node(comp.results[0].node)?;
    let Op::Binary(op) = r.op else { return None };
    let ns: Vec<_> = r.operands.iter().map(|v| v.node).collect();
    if (ns[0] == params[0] && ns[1] == params[1]) || (ns[0] == params[1] && ns[1] == params[0]) {
        Some(op)
    } else {
        None
    }
}

/// Per result j: `Some(true)` if it is `p_j + p_{N+j}`, `Some(false)` if it is `p_{N+j}`.
pub(crate) fn scatter_kind(comp: &Computation, n: usize) -> Option<Vec<bool>> {
    let params = comp.graph.parameters();
    if params.len() != 2 * n || comp.results.len() != n {
        return None;
    }
    let mut kinds = Vec::new();
    for j in 0..n {
        let r = comp.results[j];
        if r.node == params[n + j] {
            kinds.push(false);
            continue;
        }
        let node = comp.graph.node(r.node)?;
        let ns: Vec<_> = node.operands.iter().map(|v| v.node).collect();
        match node.op {
            Op::Binary(BinaryOp::Add)
                if (ns[0] == params[j] && ns[1] == params[n + j])
                    || (ns[1] == params[j] && ns[0] == params[n + j]) =>
            {
                kinds.push(true)
            }
            _ => return None,
        }
    }
    Some(kinds)
}

/// Records `f` (a decomposition of the node into simpler ops on the same operands), then
/// differentiates that: used where a rule is easiest to state as "the gradient of this
/// equivalent program".
pub(crate) fn via(
    b: &mut Builder,
    inputs: &[Tensor],
    cts: &[Option<Tensor>],
    want: &[bool],
    f: impl FnOnce(&mut Builder) -> Result<Vec<Tensor>>,
) -> Result<Cts> {
    let start = b.graph().len();
    let outs = f(b)?;
    if outs.len() != cts.len() {
        return Err(Error::Arity {
            func: "vjp",
            message: format!(
                "a decomposition gave {} results for {} cotangents",
                outs.len(),
                cts.len()
            ),
        });
    }
    let seeds: Vec<(ValueId, Tensor)> = outs
        .iter()
        .zip(cts)
        .filter_map(|(o, c)| c.map(|c| (o.value(), c)))
        .collect();
    let mut wrt = Vec::new();
    for (k, x) in inputs.iter().enumerate() {
        if want[k] {
            wrt.push(x.value());
        }
    }
    let gs = backprop(b, &seeds, &wrt, start)?;
    let mut it = gs.into_iter();
    Ok(want
        .iter()
        .map(|&w| if w { it.next().flatten() } else { None })
        .collect())
}

fn materialize_cts(b: &mut Builder, ys: &[Tensor], cts: &[Option<Tensor>]) -> Result<Vec<Tensor>> {
    ys.iter()
        .zip(cts)
        .map(|(&y, c)| match c {
            Some(c) => Ok(*c),
            None => Ok(b.zeros_like(y)?),
        })
        .collect()
}

fn scatter(
    b: &mut Builder,
    x: &[Tensor],
    cts: &[Option<Tensor>],
    want: &[bool],
    dims: &ScatterDims,
    update: &Computation,
    sorted: bool,
) -> Result<Cts> {
    let n = (x.len() - 1) / 2;
    let Some(kinds) = scatter_kind(update, n) else {
        return not_diff(
            "scatter",
            format!("combiner `{}` is neither add nor replace", update.name),
        );
    };
    let idx = x[n];
    let mut out = vec![None; x.len()];
    for j in 0..n {
        let Some(g) = cts[j] else { continue };
        let ot = ty(b, x[j])?;
        let ut = ty(b, x[n + 1 + j])?;
        if want[j] {
            out[j] = Some(if kinds[j] {
                g
            } else {
                // Overwritten positions get no cotangent (exact for unique indices).
                let z = zeros_ty(b, &ut)?;
                let s = TensorType::scalar(ot.ty);
                let rep = Builder::computation("replace", &[s.clone(), s], |_, a| Ok(vec![a[1]]))?;
                b.scatter_with(&[g], idx, &[z], dims.clone(), rep, sorted, false)?[0]
            });
        }
        if want[n + 1 + j] {
            let mut slice_sizes = Vec::with_capacity(ot.rank());
            let mut k = 0;
            for d in 0..ot.rank() as i64 {
                if dims.inserted_window_dims.contains(&d) {
                    slice_sizes.push(1);
                } else {
                    slice_sizes.push(ut.dims[dims.update_window_dims[k] as usize]);
                    k += 1;
                }
            }
            let gd = GatherDims {
                offset_dims: dims.update_window_dims.clone(),
                collapsed_slice_dims: dims.inserted_window_dims.clone(),
                start_index_map: dims.scatter_dims_to_operand_dims.clone(),
                index_vector_dim: dims.index_vector_dim,
            };
            out[n + 1 + j] = Some(b.gather(g, idx, gd, slice_sizes, sorted)?);
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn sort(
    b: &mut Builder,
    x: &[Tensor],
    _y: &[Tensor],
    cts: &[Option<Tensor>],
    want: &[bool],
    dimension: i64,
    stable: bool,
    comparator: &Arc<Computation>,
) -> Result<Cts> {
    let n = x.len();
    let xt = ty(b, x[0])?;
    // Sort again with an iota riding along to learn the permutation.
    let mut cb = Builder::new("sort_perm_comparator");
    let mut args = Vec::new();
    for t in comparator.param_types() {
        args.push(cb.parameter("a", t.ty, &t.dims)?);
    }
    cb.parameter("i", ElementType::S32, [])?;
    cb.parameter("j", ElementType::S32, [])?;
    let r = inline(&mut cb, comparator, &args)?;
    let cmp = Arc::new(cb.finish(&r)?);
    let iota = b.iota(ElementType::S32, &xt.dims, dimension)?;
    let mut ops = x.to_vec();
    ops.push(iota);
    let sorted = b.sort_with(&ops, dimension, stable, cmp)?;
    let perm = sorted[n];
    // Undo the permutation: sort (perm, cotangents...) by perm.
    let mut carried = vec![perm];
    let mut which = Vec::new();
    for j in 0..n {
        if let (true, Some(g)) = (want[j], cts[j]) {
            carried.push(g);
            which.push(j);
        }
    }
    if which.is_empty() {
        return Ok(vec![None; n]);
    }
    let mut params = vec![TensorType::scalar(ElementType::S32); 2];
    for &j in &which {
        let t = ty(b, x[j])?.ty;
        params.push(TensorType::scalar(t));
        params.push(TensorType::scalar(t));
    }
    let by_index =
        Builder::computation("sort_by_index", &params, |b, a| Ok(vec![b.lt(a[0], a[1])?]))?;
    let back = b.sort_with(&carried, dimension, false, by_index)?;
    let mut out = vec![None; n];
    for (k, &j) in which.iter().enumerate() {
        out[j] = Some(back[k + 1]);
    }
    Ok(out)
}

/// Moves the reduced axes of `x` last and flattens them: `[kept..., R]`.
fn flatten_reduced(b: &mut Builder, x: Tensor, dims: &[i64]) -> Result<(Tensor, Vec<i64>, i64)> {
    let t = ty(b, x)?;
    let kept: Vec<i64> = (0..t.rank() as i64).filter(|a| !dims.contains(a)).collect();
    let mut perm = kept.clone();
    perm.extend(dims);
    let xt = b.transpose(x, &perm)?;
    let kd: Vec<i64> = kept.iter().map(|&a| t.dims[a as usize]).collect();
    let r: i64 = dims.iter().map(|&a| t.dims[a as usize]).product();
    let mut nd = kd.clone();
    nd.push(r);
    Ok((b.reshape(xt, nd)?, kd, r))
}

const UNROLL_LIMIT: i64 = 256;
/// Products over at most this many elements are differentiated by unrolling (exact at zeros).
const PROD_UNROLL: i64 = 64;

fn reduce(
    b: &mut Builder,
    x: &[Tensor],
    y: &[Tensor],
    cts: &[Option<Tensor>],
    want: &[bool],
    dims: &[i64],
    body: &Arc<Computation>,
) -> Result<Cts> {
    let n = x.len() / 2;
    if n == 1 {
        let op = body_binop(body);
        let g = first("reduce", cts)?;
        let xt = ty(b, x[0])?;
        let kept: Vec<i64> = (0..xt.rank() as i64)
            .filter(|a| !dims.contains(a))
            .collect();
        match op {
            Some(BinaryOp::Add) => {
                let dx = if want[0] {
                    Some(b.broadcast_in_dim(g, &xt.dims, &kept)?)
                } else {
                    None
                };
                let di = if want[1] { Some(sum_all(b, g)?) } else { None };
                return Ok(vec![dx, di]);
            }
            Some(BinaryOp::Max) | Some(BinaryOp::Min) => {
                // The cotangent goes to the elements equal to the result, split among ties;
                // the init value counts as one more candidate (it wins when no element
                // reaches it, e.g. a max with init 0 over negative numbers).
                let yb = b.broadcast_in_dim(y[0], &xt.dims, &kept)?;
                let loc = b.eq(x[0], yb)?;
                let locf = b.convert(loc, xt.ty)?;
                let cnt = b.reduce_sum(locf, dims)?;
                let at_init = b.eq(y[0], x[1])?;
                let at_init = b.convert(at_init, xt.ty)?;
                let total = b.add(cnt, at_init)?;
                let one = b.scalar_like(total, 1.0)?;
                let total = b.max(total, one)?;
                let gc = b.div(g, total)?;
                let dx = if want[0] {
                    let gb = b.broadcast_in_dim(gc, &xt.dims, &kept)?;
                    Some(b.mul(gb, locf)?)
                } else {
                    None
                };
                let di = if want[1] {
                    let d = b.mul(gc, at_init)?;
                    Some(sum_all(b, d)?)
                } else {
                    None
                };
                return Ok(vec![dx, di]);
            }
            Some(BinaryOp::Mul)
                if dims.iter().map(|&a| xt.dims[a as usize]).product::<i64>() > PROD_UNROLL =>
            {
                // d(prod)/dx_i = prod / x_i: exact for nonzero elements. Short products are
                // unrolled below instead, which is exact with zeros too.
                let gy = b.mul(g, y[0])?;
                let gb = b.broadcast_in_dim(gy, &xt.dims, &kept)?;
                let dx = if want[0] {
                    Some(b.div(gb, x[0])?)
                } else {
                    None
                };
                let di = if want[1] {
                    let q = b.div(gy, x[1])?;
                    Some(sum_all(b, q)?)
                } else {
                    None
                };
                return Ok(vec![dx, di]);
            }
            _ => {}
        }
    }
    // A custom reducer: unroll the fold over the reduced elements and differentiate that.
    let xt = ty(b, x[0])?;
    let r: i64 = dims.iter().map(|&a| xt.dims[a as usize]).product();
    if r > UNROLL_LIMIT {
        return not_diff("reduce", format!("custom reducer `{}` over {r} elements (unrolled differentiation is limited to {UNROLL_LIMIT})", body.name));
    }
    let xs = x.to_vec();
    via(b, &xs, cts, want, |b| {
        let mut flat = Vec::new();
        let mut kd = Vec::new();
        for xi in &xs[..n] {
            let (f, k, _) = flatten_reduced(b, *xi, dims)?;
            flat.push(f);
            kd = k;
        }
        let mut acc = Vec::new();
        for init in &xs[n..] {
            acc.push(b.broadcast_in_dim(*init, &kd, [])?);
        }
        let rank = kd.len();
        for i in 0..r {
            let mut args = acc.clone();
            for f in &flat {
                let mut s = vec![0; rank + 1];
                let mut l = kd.clone();
                l.push(i + 1);
                s[rank] = i;
                let sl = b.slice(*f, s, l, vec![1; rank + 1])?;
                args.push(b.reshape(sl, &kd)?);
            }
            acc = inline_elementwise(b, body, &args, &kd)?;
        }
        Ok(acc)
    })
}

fn reduce_window(
    b: &mut Builder,
    x: &[Tensor],
    cts: &[Option<Tensor>],
    want: &[bool],
    w: &WindowConfig,
    body: &Arc<Computation>,
) -> Result<Cts> {
    let n = x.len() / 2;
    let xt = ty(b, x[0])?;
    let rank = xt.rank();
    if n == 1 && body_binop(body) == Some(BinaryOp::Add) {
        let g = first("reduce_window", cts)?;
        let gt = ty(b, g)?;
        let dx = if want[0] {
            // Spread each window's cotangent back over the window: dilate the cotangent by the
            // strides, pad, and sum windows again with stride = base dilation.
            let mut lo = Vec::new();
            let mut hi = Vec::new();
            let mut it = Vec::new();
            for a in 0..rank {
                let ld = dilate(xt.dims[a], w.base_dilations[a]);
                let rd = dilate(w.dimensions[a], w.window_dilations[a]);
                let od = dilate(gt.dims[a], w.strides[a]);
                let before = rd - w.padding[a].0 - 1;
                let after = ld + rd - 1 - od - before;
                lo.push(before);
                hi.push(after);
                it.push(w.strides[a] - 1);
            }
            let z = b.scalar_like(g, 0.0)?;
            let pg = b.pad(g, z, lo, hi, it)?;
            let cfg = WindowConfig {
                dimensions: w.dimensions.clone(),
                strides: w.base_dilations.clone(),
                base_dilations: vec![1; rank],
                window_dilations: w.window_dilations.clone(),
                padding: vec![(0, 0); rank],
            };
            let init = b.scalar_like(g, 0.0)?;
            let r = b.reduce_window(&[pg], &[init], cfg, |b, a| Ok(vec![b.add(a[0], a[1])?]))?;
            Some(r[0])
        } else {
            None
        };
        // XLA folds each window from the init value once and skips padded cells and
        // dilation holes, so the init value enters every output exactly once.
        let di = if want[1] { Some(sum_all(b, g)?) } else { None };
        return Ok(vec![dx, di]);
    }
    // Other bodies (max pooling, custom): unroll over the window offsets.
    let wsize: i64 = w.dimensions.iter().product();
    if wsize > UNROLL_LIMIT {
        return not_diff("reduce_window", format!("reducer `{}` over windows of {wsize} elements (unrolled differentiation is limited to {UNROLL_LIMIT})", body.name));
    }
    let out_dims = {
        let g = cts.iter().flatten().next().copied();
        match g {
            Some(g) => ty(b, g)?.dims.to_vec(),
            None => return Ok(vec![None; x.len()]),
        }
    };
    let xs = x.to_vec();
    let w = w.clone();
    via(b, &xs, cts, want, |b| {
        let mut padded = Vec::new();
        for j in 0..n {
            let lo: Vec<i64> = w.padding.iter().map(|p| p.0).collect();
            let hi: Vec<i64> = w.padding.iter().map(|p| p.1).collect();
            let it: Vec<i64> = w.base_dilations.iter().map(|d| d - 1).collect();
            padded.push(b.pad(xs[j], xs[n + j], lo, hi, it)?);
        }
        let mut acc = Vec::new();
        for init in &xs[n..] {
            acc.push(b.broadcast_in_dim(*init, &out_dims, [])?);
        }
        for k in 0..wsize {
            // k as a multi-index over the window dimensions (row-major).
            let mut off = vec![0i64; rank];
            let mut rem = k;
            for a in (0..rank).rev() {
                off[a] = rem % w.dimensions[a];
                rem /= w.dimensions[a];
            }
            let mut args = acc.clone();
            for p in &padded {
                let start: Vec<i64> = (0..rank).map(|a| off[a] * w.window_dilations[a]).collect();
                let limit: Vec<i64> = (0..rank)
                    .map(|a| start[a] + (out_dims[a] - 1).max(0) * w.strides[a] + 1)
                    .collect();
                args.push(b.slice(*p, &start, limit, &w.strides)?);
            }
            acc = inline_elementwise(b, body, &args, &out_dims)?;
        }
        Ok(acc)
    })
}

/// Reads a scalar integer constant node.
fn int_constant(node: &Node) -> Option<i64> {
    let Op::Constant(c) = &node.op else {
        return None;
    };
    let t = node.types.first()?;
    if t.element_count() != 1 {
        return None;
    }
    let bytes: &[u8] = match c {
        ConstantValue::Splat(s) => s,
        ConstantValue::Dense(d) => d,
    };
    use ElementType::*;
    Some(match t.ty {
        S32 => i32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as i64,
        S64 => i64::from_le_bytes(bytes.get(..8)?.try_into().ok()?),
        U32 => u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as i64,
        S16 => i16::from_le_bytes(bytes.get(..2)?.try_into().ok()?) as i64,
        S8 => bytes[0] as i8 as i64,
        U8 => bytes[0] as i64,
        _ => return None,
    })
}

/// The trip count of a counted loop: state entry k starts at a constant, the body adds the
/// constant 1 to it, and the condition is `k < constant`.
pub(crate) fn trip_count(
    b: &Builder,
    init: &[Tensor],
    cond: &Computation,
    body: &Computation,
) -> Option<i64> {
    let cp = cond.graph.parameters();
    let bp = body.graph.parameters();
    let c = cond.graph.node(cond.results.first()?.node)?;
    let (k, limit) = match c.op {
        Op::Compare(dir) => {
            let a = cond.graph.node(c.operands[0].node)?;
            let l = cond.graph.node(c.operands[1].node)?;
            match (dir, &a.op, &l.op) {
                (ComparisonDirection::Lt, Op::Parameter { index, .. }, _) => {
                    (*index, int_constant(l)?)
                }
                (ComparisonDirection::Gt, _, Op::Parameter { index, .. }) => {
                    (*index, int_constant(a)?)
                }
                _ => return None,
            }
        }
        _ => return None,
    };
    cp.get(k)?;
    let r = body.graph.node(body.results.get(k)?.node)?;
    let Op::Binary(BinaryOp::Add) = r.op else {
        return None;
    };
    let (p, one) = (
        body.graph.node(r.operands[0].node)?,
        body.graph.node(r.operands[1].node)?,
    );
    let step = match (&p.op, &one.op) {
        (Op::Parameter { index, .. }, _) if *index == k && r.operands[0].node == bp[k] => {
            int_constant(one)?
        }
        (_, Op::Parameter { index, .. }) if *index == k => int_constant(p)?,
        _ => return None,
    };
    if step != 1 {
        return None;
    }
    let start = int_constant(b.node(init[k]).ok()?)?;
    Some((limit - start).max(0))
}

/// A counted `while`: a forward loop that runs the original body and stacks the state before
/// each trip (`[trips, ...]` per state value; values the body passes through unchanged are
/// not stacked), then a backward loop that walks the trips in reverse, reads the saved state,
/// records the body again and its VJP inside the loop body, and carries the cotangents. Both
/// loops are counted the same way, so the gradient can be differentiated again.
fn while_loop(
    b: &mut Builder,
    _node: &Node,
    x: &[Tensor],
    cts: &[Option<Tensor>],
    want: &[bool],
    cond: &Arc<Computation>,
    body: &Arc<Computation>,
) -> Result<Cts> {
    let Some(trips) = trip_count(b, x, cond, body) else {
        return not_diff("while", "the trip count is not known (differentiable loops need a counter starting at a constant, incremented by 1, compared `<` with a constant; see `autodiff::fori_loop`)");
    };
    let m = x.len();
    if trips == 0 {
        return Ok((0..m)
            .map(|j| if want[j] { cts[j] } else { None })
            .collect());
    }
    let tys: Vec<TensorType> = x.iter().map(|&t| ty(b, t)).collect::<Result<_>>()?;
    let float: Vec<usize> = (0..m).filter(|&j| differentiable(tys[j].ty)).collect();
    let params = body.graph.parameters();
    // Loop invariants: the body returns its parameter j unchanged as result j.
    let invariant: Vec<bool> = (0..m)
        .map(|j| {
            body.results
                .get(j)
                .is_some_and(|r| params.get(j) == Some(&r.node))
        })
        .collect();
    let varying: Vec<usize> = (0..m).filter(|&j| !invariant[j]).collect();
    let fixed: Vec<usize> = (0..m).filter(|&j| invariant[j]).collect();
    let s32 = TensorType::scalar(ElementType::S32);
    let stack_ty = |t: &TensorType| {
        let mut d = vec![trips];
        d.extend(t.dims.iter().copied());
        TensorType::new(t.ty, d)
    };
    let counted_cond = |name: &str, state: &[TensorType]| -> Result<Arc<Computation>> {
        let mut cb = Builder::new(name);
        let mut ps = Vec::new();
        for (i, t) in state.iter().enumerate() {
            ps.push(cb.parameter(format!("arg{i}"), t.ty, &t.dims)?);
        }
        let n = cb.scalar(ElementType::S32, trips as f64)?;
        let c = cb.lt(ps[0], n)?;
        Ok(Arc::new(cb.finish(&[c])?))
    };
    let row = |cb: &mut Builder, i: Tensor, t: &TensorType| -> Result<Vec<Tensor>> {
        let mut st = vec![i];
        for _ in 0..t.rank() {
            st.push(cb.scalar(ElementType::S32, 0.0)?);
        }
        Ok(st)
    };
    let nv = varying.len();

    // Forward loop: (it, state..., stacks of the varying values...).
    let mut fwd_tys = vec![s32.clone()];
    fwd_tys.extend(tys.iter().cloned());
    fwd_tys.extend(varying.iter().map(|&j| stack_ty(&tys[j])));
    let fcond = counted_cond("while_save_cond", &fwd_tys)?;
    let fbody = {
        let mut cb = Builder::new("while_save_body");
        let mut ps = Vec::new();
        for (i, t) in fwd_tys.iter().enumerate() {
            ps.push(cb.parameter(format!("arg{i}"), t.ty, &t.dims)?);
        }
        let it = ps[0];
        let mut stacks = Vec::new();
        for (k, &j) in varying.iter().enumerate() {
            let mut d1 = vec![1];
            d1.extend(tys[j].dims.iter().copied());
            let r = cb.reshape(ps[1 + j], d1)?;
            let st = row(&mut cb, it, &tys[j])?;
            stacks.push(cb.dynamic_update_slice(ps[1 + m + k], r, &st)?);
        }
        let next = inline(&mut cb, body, &ps[1..1 + m])?;
        let one = cb.scalar(ElementType::S32, 1.0)?;
        let mut res = vec![cb.add(it, one)?];
        res.extend(next);
        res.extend(stacks);
        Arc::new(cb.finish(&res)?)
    };
    let mut init = vec![b.scalar(ElementType::S32, 0.0)?];
    init.extend_from_slice(x);
    for &j in &varying {
        let st = stack_ty(&tys[j]);
        init.push(zeros_ty(b, &st)?);
    }
    let saved = b.while_loop_with(&init, fcond, fbody)?;
    let stacks = saved[1 + m..].to_vec();

    // Backward loop: (r, cotangents of the float state..., stacks..., invariants...).
    let nf = float.len();
    let mut bwd_tys = vec![s32.clone()];
    bwd_tys.extend(float.iter().map(|&j| tys[j].clone()));
    bwd_tys.extend(varying.iter().map(|&j| stack_ty(&tys[j])));
    bwd_tys.extend(fixed.iter().map(|&j| tys[j].clone()));
    let bcond = counted_cond("while_vjp_cond", &bwd_tys)?;
    let bbody = {
        let mut cb = Builder::new("while_vjp_body");
        let mut ps = Vec::new();
        for (i, t) in bwd_tys.iter().enumerate() {
            ps.push(cb.parameter(format!("arg{i}"), t.ty, &t.dims)?);
        }
        let r = ps[0];
        let last = cb.scalar(ElementType::S32, (trips - 1) as f64)?;
        let i = cb.sub(last, r)?;
        let mut xs = Vec::with_capacity(m);
        let (mut kv, mut kf) = (0, 0);
        for j in 0..m {
            if invariant[j] {
                xs.push(ps[1 + nf + nv + kf]);
                kf += 1;
            } else {
                let st = row(&mut cb, i, &tys[j])?;
                let mut sz = vec![1];
                sz.extend(tys[j].dims.iter().copied());
                let sl = cb.dynamic_slice(ps[1 + nf + kv], &st, sz)?;
                xs.push(cb.reshape(sl, &tys[j].dims)?);
                kv += 1;
            }
        }
        // The saved state values are the roots of the sweep: the slices (nodes before
        // `start`) and the invariant parameters.
        let start = cb.graph().len();
        let outs = inline(&mut cb, body, &xs)?;
        let seeds: Vec<(ValueId, Tensor)> = float
            .iter()
            .enumerate()
            .map(|(k, &j)| (outs[j].value(), ps[1 + k]))
            .collect();
        let wrt: Vec<ValueId> = float.iter().map(|&j| xs[j].value()).collect();
        let gs = backprop(&mut cb, &seeds, &wrt, start)?;
        let one = cb.scalar(ElementType::S32, 1.0)?;
        let mut res = vec![cb.add(r, one)?];
        for (k, g) in gs.into_iter().enumerate() {
            res.push(match g {
                Some(g) => g,
                None => zeros_ty(&mut cb, &tys[float[k]])?,
            });
        }
        res.extend_from_slice(&ps[1 + nf..]);
        Arc::new(cb.finish(&res)?)
    };
    let mut binit = vec![b.scalar(ElementType::S32, 0.0)?];
    for &j in &float {
        binit.push(match cts[j] {
            Some(c) => c,
            None => zeros_ty(b, &tys[j])?,
        });
    }
    binit.extend(stacks);
    binit.extend(fixed.iter().map(|&j| x[j]));
    let back = b.while_loop_with(&binit, bcond, bbody)?;
    let mut out = vec![None; m];
    for (k, &j) in float.iter().enumerate() {
        if want[j] {
            out[j] = Some(back[1 + k]);
        }
    }
    Ok(out)
}

/// if / case: a new conditional whose branches compute each branch's VJP (the branch is
/// recorded again inside, then differentiated there).
fn branches(
    b: &mut Builder,
    kind: &'static str,
    node: &Node,
    x: &[Tensor],
    cts: &[Option<Tensor>],
    want: &[bool],
    bs: &[Arc<Computation>],
) -> Result<Cts> {
    let args = &x[1..];
    let m = args.len();
    let mut ct_vals = Vec::new();
    let mut ct_outs = Vec::new();
    for (o, t) in node.types.iter().enumerate() {
        if differentiable(t.ty) {
            let c = match cts[o] {
                Some(c) => c,
                None => zeros_ty(b, t)?,
            };
            ct_vals.push(c);
            ct_outs.push(o);
        }
    }
    let wanted: Vec<usize> = (0..m).filter(|&i| want[i + 1]).collect();
    let mut param_tys: Vec<TensorType> = Vec::new();
    for a in args {
        param_tys.push(ty(b, *a)?);
    }
    for c in &ct_vals {
        param_tys.push(ty(b, *c)?);
    }
    let mut new_branches = Vec::with_capacity(bs.len());
    for br in bs {
        let mut cb = Builder::new(format!("{}_vjp", br.name));
        let mut ps = Vec::new();
        for (i, t) in param_tys.iter().enumerate() {
            ps.push(cb.parameter(format!("arg{i}"), t.ty, &t.dims)?);
        }
        let outs = inline(&mut cb, br, &ps[..m])?;
        let seeds: Vec<(ValueId, Tensor)> = ct_outs
            .iter()
            .enumerate()
            .map(|(k, &o)| (outs[o].value(), ps[m + k]))
            .collect();
        let wrt: Vec<ValueId> = wanted.iter().map(|&i| ps[i].value()).collect();
        let gs = backprop(&mut cb, &seeds, &wrt, 0)?;
        let mut res = Vec::new();
        for (k, g) in gs.into_iter().enumerate() {
            res.push(match g {
                Some(g) => g,
                None => {
                    let t = param_tys[wanted[k]].clone();
                    zeros_ty(&mut cb, &t)?
                }
            });
        }
        new_branches.push(Arc::new(cb.finish(&res)?));
    }
    let mut ops: Vec<Tensor> = args.to_vec();
    ops.extend(&ct_vals);
    let r = match kind {
        "if" => {
            let (t, f) = (new_branches[0].clone(), new_branches[1].clone());
            b.cond_with(x[0], &ops, t, f)?
        }
        _ => b.case_with(x[0], &ops, new_branches)?,
    };
    let mut out = vec![None; x.len()];
    for (k, &i) in wanted.iter().enumerate() {
        out[i + 1] = Some(r[k]);
    }
    Ok(out)
}

/// Gradient checkpointing: the callee is recorded again in the backward pass behind an
/// optimization barrier (tied to the cotangents), so the compiler cannot reuse the forward
/// values and must recompute them.
fn checkpoint(
    b: &mut Builder,
    callee: &Arc<Computation>,
    x: &[Tensor],
    y: &[Tensor],
    cts: &[Option<Tensor>],
    want: &[bool],
) -> Result<Cts> {
    let n = x.len();
    let ctm = materialize_cts(b, y, cts)?;
    let mut ops = x.to_vec();
    ops.extend(&ctm);
    let start = b.graph().len();
    let held = b.optimization_barrier(&ops)?;
    let outs = inline(b, callee, &held[..n])?;
    let seeds: Vec<(ValueId, Tensor)> = outs
        .iter()
        .zip(&held[n..])
        .map(|(o, c)| (o.value(), *c))
        .collect();
    let wrt: Vec<ValueId> = (0..n)
        .filter(|&k| want[k])
        .map(|k| held[k].value())
        .collect();
    let gs = backprop(b, &seeds, &wrt, start + 1)?;
    let mut it = gs.into_iter();
    Ok(want
        .iter()
        .map(|&w| if w { it.next().flatten() } else { None })
        .collect())
}
