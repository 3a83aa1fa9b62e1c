//! Rules of the shape and indexing family. Most of these ops are linear in their float
//! operands, so their tangent is the op applied to the tangents; their VJPs are the
//! transposed movements (unbroadcast, pad for slice, scatter-add for gather, ...).

use hlo_builder::{
    Builder, ElementType, GatherDims, Reducer, ScatterDims, ShapeOp, TensorType, Value,
};

use super::common::{first, linear, sum_all, ty, zeros_ty, At, Cts, Jvp};
use crate::error::{not_diff, Result};

/// The VJP of a shape or indexing node.
pub(crate) fn vjp(
    b: &mut Builder,
    op: &ShapeOp,
    at: &At,
    cts: &[Option<Value>],
    want: &[bool],
) -> Result<Cts> {
    let (x, n) = (&at.x, at.x.len());
    let name = at.node.op.name();
    match op {
        ShapeOp::Reshape { .. } => {
            let g = first(name, cts)?;
            let d = ty(b, x[0])?.dims;
            Ok(vec![Some(b.reshape(g, &d)?)])
        }
        ShapeOp::Transpose { permutation } => {
            let g = first(name, cts)?;
            let mut inv = vec![0i64; permutation.len()];
            for (i, &p) in permutation.iter().enumerate() {
                inv[p as usize] = i as i64;
            }
            Ok(vec![Some(b.transpose(g, inv)?)])
        }
        ShapeOp::BroadcastInDim {
            broadcast_dimensions,
            ..
        } => Ok(vec![Some(unbroadcast(
            b,
            first(name, cts)?,
            x[0],
            broadcast_dimensions,
        )?)]),
        ShapeOp::Slice { start, strides, .. } => {
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
        ShapeOp::DynamicSlice { .. } => {
            let g = first(name, cts)?;
            let z = b.zeros_like(x[0])?;
            let mut out = vec![Some(b.dynamic_update_slice(z, g, &x[1..])?)];
            out.extend(std::iter::repeat_n(None, n - 1));
            Ok(out)
        }
        ShapeOp::DynamicUpdateSlice => {
            let g = first(name, cts)?;
            let ut = ty(b, x[1])?;
            let dx = if want[0] {
                let z = zeros_ty(b, &ut)?;
                Some(b.dynamic_update_slice(g, z, &x[2..])?)
            } else {
                None
            };
            let du = if want[1] {
                Some(b.dynamic_slice(g, &x[2..], &ut.dims)?)
            } else {
                None
            };
            let mut out = vec![dx, du];
            out.extend(std::iter::repeat_n(None, n - 2));
            Ok(out)
        }
        ShapeOp::Concatenate { dimension } => {
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
        ShapeOp::Pad {
            low,
            high,
            interior,
        } => {
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
        ShapeOp::Reverse { dimensions } => {
            Ok(vec![Some(b.reverse(first(name, cts)?, dimensions)?)])
        }
        ShapeOp::Gather {
            dims,
            indices_are_sorted,
            ..
        } => {
            let g = first(name, cts)?;
            let z = b.zeros_like(x[0])?;
            let sd = ScatterDims {
                update_window_dims: dims.offset_dims.clone(),
                inserted_window_dims: dims.collapsed_slice_dims.clone(),
                scatter_dims_to_operand_dims: dims.start_index_map.clone(),
                index_vector_dim: dims.index_vector_dim,
            };
            let r = b.scatter_reducer(
                &[z],
                x[1],
                &[g],
                sd,
                Reducer::Sum,
                None,
                *indices_are_sorted,
                false,
            )?;
            Ok(vec![Some(r[0]), None])
        }
        ShapeOp::Scatter {
            dims,
            combiner,
            indices_are_sorted,
            ..
        } => scatter(b, x, cts, want, dims, *combiner, *indices_are_sorted),
        ShapeOp::Sort {
            dimension,
            is_stable,
        } => sort(b, at, cts, want, *dimension, *is_stable),
    }
}

/// The JVP of a shape or indexing node.
pub(crate) fn jvp(b: &mut Builder, op: &ShapeOp, at: &At, tin: &[Option<Value>]) -> Result<Jvp> {
    match op {
        ShapeOp::Reshape { .. }
        | ShapeOp::Transpose { .. }
        | ShapeOp::BroadcastInDim { .. }
        | ShapeOp::Slice { .. }
        | ShapeOp::DynamicSlice { .. }
        | ShapeOp::DynamicUpdateSlice
        | ShapeOp::Concatenate { .. }
        | ShapeOp::Pad { .. }
        | ShapeOp::Reverse { .. }
        | ShapeOp::Gather { .. } => linear(b, at.node, &at.x, tin),
        // A scatter that adds is linear in its inputs and updates.
        ShapeOp::Scatter {
            combiner: Reducer::Sum,
            ..
        } => linear(b, at.node, &at.x, tin),
        ShapeOp::Scatter { .. } | ShapeOp::Sort { .. } => Ok(Jvp::FromVjp),
    }
}

/// The transpose of `broadcast_in_dim`: sum over the new axes and the stretched size-1 axes.
fn unbroadcast(b: &mut Builder, g: Value, x: Value, bd: &[i64]) -> Result<Value> {
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

fn scatter(
    b: &mut Builder,
    x: &[Value],
    cts: &[Option<Value>],
    want: &[bool],
    dims: &ScatterDims,
    combiner: Reducer,
    sorted: bool,
) -> Result<Cts> {
    let n = (x.len() - 1) / 2;
    let add = match combiner {
        Reducer::Sum => true,
        Reducer::Replace => false,
        other => {
            return not_diff(
                "scatter",
                format!("combiner {other:?} is neither add nor replace"),
            )
        }
    };
    let idx = x[n];
    let mut out = vec![None; x.len()];
    for j in 0..n {
        let Some(g) = cts[j] else { continue };
        let ot = ty(b, x[j])?;
        let ut = ty(b, x[n + 1 + j])?;
        if want[j] {
            out[j] = Some(if add {
                g
            } else {
                // Overwritten positions get no cotangent (exact for unique indices).
                let z = zeros_ty(b, &ut)?;
                b.scatter_reducer(
                    &[g],
                    idx,
                    &[z],
                    dims.clone(),
                    Reducer::Replace,
                    None,
                    sorted,
                    false,
                )?[0]
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

fn sort(
    b: &mut Builder,
    at: &At,
    cts: &[Option<Value>],
    want: &[bool],
    dimension: i64,
    stable: bool,
) -> Result<Cts> {
    let x = &at.x;
    let n = x.len();
    let comparator = &at.node.regions[0];
    let xt = ty(b, x[0])?;
    // Sort again with an iota riding along to learn the permutation.
    let mut cb = Builder::new("sort_perm_comparator");
    let mut args = Vec::new();
    for t in comparator.param_types() {
        args.push(cb.parameter("a", t.ty, &t.dims)?);
    }
    cb.parameter("i", ElementType::S32, [])?;
    cb.parameter("j", ElementType::S32, [])?;
    let r = cb.inline(comparator, &args)?;
    let cmp = std::sync::Arc::new(cb.finish(&r)?);
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
