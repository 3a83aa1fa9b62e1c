//! Rules of the shape and indexing family. Most of these ops are linear in their float
//! operands, so their tangent is the op applied to the tangents; their VJPs are the
//! transposed movements (unbroadcast, pad for slice, scatter-add for gather, ...).

use hlo_builder::{
    Builder, ElementType, GatherDims, Reducer, ScatterDims, ShapeOp, TensorType, Value,
};

use super::common::{
    align, example_ty, first, front, linear, shift, sum_all, ty, zeros_ty, At, Bat, Batched, Cts,
    Jvp,
};
use crate::error::{not_batchable, not_diff, Result};

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

/// The batching rule of a shape or indexing node. Movements take the batch as one more axis
/// (reshape and transpose put it first; slices, pads, reversals and concatenations keep it
/// where it is). Indexing stays one op: a dynamic slice or update with batched start indices
/// becomes a gather or scatter whose index vectors start with the example's number, gather
/// and scatter take the batch as a window axis (shared indices) or as an index coordinate
/// (batched indices), sort sorts along the shifted axis.
pub(crate) fn batch(b: &mut Builder, op: &ShapeOp, at: &Bat) -> Result<Vec<Batched>> {
    let (x, n, node) = (at.x, at.n, at.node);
    let one = |t: Value, a: usize| Ok(vec![Batched::new(t, Some(a))]);
    match op {
        ShapeOp::Reshape { dims } => {
            let t = front(b, x[0], n)?;
            let mut d = vec![n];
            d.extend(dims);
            one(b.reshape(t, d)?, 0)
        }
        ShapeOp::Transpose { permutation } => {
            let a = at.axis(0)?;
            let mut p = vec![a as i64];
            p.extend(permutation.iter().map(|&q| shift(q, a)));
            one(b.transpose(x[0].t, p)?, 0)
        }
        ShapeOp::BroadcastInDim {
            dims,
            broadcast_dimensions,
        } => {
            let a = at.axis(0)?;
            let r = ty(b, x[0].t)?.rank();
            let mut bd = Vec::with_capacity(r);
            for j in 0..r {
                bd.push(match j.cmp(&a) {
                    std::cmp::Ordering::Equal => 0,
                    std::cmp::Ordering::Less => broadcast_dimensions[j] + 1,
                    std::cmp::Ordering::Greater => broadcast_dimensions[j - 1] + 1,
                });
            }
            let mut d = vec![n];
            d.extend(dims);
            one(b.broadcast_in_dim(x[0].t, d, bd)?, 0)
        }
        ShapeOp::Slice {
            start,
            limit,
            strides,
        } => {
            let a = at.axis(0)?;
            let (mut s, mut l, mut st) = (start.clone(), limit.clone(), strides.clone());
            s.insert(a, 0);
            l.insert(a, n);
            st.insert(a, 1);
            one(b.slice(x[0].t, s, l, st)?, a)
        }
        ShapeOp::DynamicSlice { slice_sizes } => {
            let starts = &x[1..];
            if starts.iter().all(|s| s.axis.is_none()) {
                let a = at.axis(0)?;
                let ity = match starts.first() {
                    Some(s) => ty(b, s.t)?.ty,
                    None => ElementType::S32,
                };
                let mut st: Vec<Value> = starts.iter().map(|s| s.t).collect();
                st.insert(a, b.scalar(ity, 0.0)?);
                let mut sz = slice_sizes.clone();
                sz.insert(a, n);
                return one(b.dynamic_slice(x[0].t, &st, sz)?, a);
            }
            // Batched start indices: a gather of one slice per example (gather clamps its
            // start indices into range as dynamic_slice does).
            let r = slice_sizes.len() as i64;
            let ity = ty(b, starts[0].t)?.ty;
            let mut cols = Vec::with_capacity(starts.len() + 1);
            let with_example = x[0].axis.is_some();
            if with_example {
                cols.push(b.iota(ity, [n, 1], 0)?);
            }
            for &s in starts {
                let c = front(b, s, n)?;
                cols.push(b.reshape(c, [n, 1])?);
            }
            let idx = b.concatenate(&cols, 1)?;
            let (operand, dims, sizes) = if with_example {
                let mut sz = vec![1];
                sz.extend(slice_sizes);
                let d = GatherDims {
                    offset_dims: (1..=r).collect(),
                    collapsed_slice_dims: vec![0],
                    start_index_map: (0..=r).collect(),
                    index_vector_dim: 1,
                };
                (front(b, x[0], n)?, d, sz)
            } else {
                let d = GatherDims {
                    offset_dims: (1..=r).collect(),
                    collapsed_slice_dims: vec![],
                    start_index_map: (0..r).collect(),
                    index_vector_dim: 1,
                };
                (x[0].t, d, slice_sizes.clone())
            };
            one(b.gather(operand, idx, dims, sizes, false)?, 0)
        }
        ShapeOp::DynamicUpdateSlice => {
            let starts = &x[2..];
            if starts.iter().all(|s| s.axis.is_none()) {
                let (ts, a) = align(b, &x[..2], n)?;
                let ity = match starts.first() {
                    Some(s) => ty(b, s.t)?.ty,
                    None => ElementType::S32,
                };
                let mut st: Vec<Value> = starts.iter().map(|s| s.t).collect();
                st.insert(a, b.scalar(ity, 0.0)?);
                return one(b.dynamic_update_slice(ts[0], ts[1], &st)?, a);
            }
            // Batched start indices: a scatter that replaces one window per example. Scatter
            // skips out-of-range windows where dynamic_update_slice clamps, so the starts are
            // clamped first.
            let xt = example_ty(b, x[0])?;
            let ut = example_ty(b, x[1])?;
            let ity = ty(b, starts[0].t)?.ty;
            let mut cols = vec![b.iota(ity, [n, 1], 0)?];
            for (k, &s) in starts.iter().enumerate() {
                let c = front(b, s, n)?;
                let lo = b.scalar(ity, 0.0)?;
                let hi = b.scalar(ity, (xt.dims[k] - ut.dims[k]) as f64)?;
                let c = b.clamp(lo, c, hi)?;
                cols.push(b.reshape(c, [n, 1])?);
            }
            let idx = b.concatenate(&cols, 1)?;
            let r = xt.rank() as i64;
            let dims = ScatterDims {
                update_window_dims: (1..=r).collect(),
                inserted_window_dims: vec![0],
                scatter_dims_to_operand_dims: (0..=r).collect(),
                index_vector_dim: 1,
            };
            let xf = front(b, x[0], n)?;
            let uf = front(b, x[1], n)?;
            let out =
                b.scatter_reducer(&[xf], idx, &[uf], dims, Reducer::Replace, None, false, true)?;
            one(out[0], 0)
        }
        ShapeOp::Concatenate { dimension } => {
            let (ts, a) = align(b, x, n)?;
            one(b.concatenate(&ts, shift(*dimension, a))?, a)
        }
        ShapeOp::Pad {
            low,
            high,
            interior,
        } => {
            let (mut lo, mut hi, mut it) = (low.clone(), high.clone(), interior.clone());
            if x[1].axis.is_none() {
                let a = at.axis(0)?;
                lo.insert(a, 0);
                hi.insert(a, 0);
                it.insert(a, 0);
                return one(b.pad(x[0].t, x[1].t, lo, hi, it)?, a);
            }
            // A padding value per example: pad with zeros, then select the value where a
            // padded mask says the cell is padding.
            lo.insert(0, 0);
            hi.insert(0, 0);
            it.insert(0, 0);
            let xf = front(b, x[0], n)?;
            let xt = ty(b, xf)?;
            let zero = b.scalar(xt.ty, 0.0)?;
            let padded = b.pad(xf, zero, &lo, &hi, &it)?;
            let pt = ty(b, padded)?;
            let inside = b.splat(ElementType::Pred, &xt.dims, 1.0)?;
            let outside = b.scalar(ElementType::Pred, 0.0)?;
            let mask = b.pad(inside, outside, &lo, &hi, &it)?;
            let v = front(b, x[1], n)?;
            let v = b.broadcast_in_dim(v, &pt.dims, [0])?;
            one(b.select(mask, padded, v)?, 0)
        }
        ShapeOp::Reverse { dimensions } => {
            let a = at.axis(0)?;
            let d: Vec<i64> = dimensions.iter().map(|&d| shift(d, a)).collect();
            one(b.reverse(x[0].t, d)?, a)
        }
        ShapeOp::Gather {
            dims,
            slice_sizes,
            indices_are_sorted,
        } => gather(b, x, n, dims, slice_sizes, *indices_are_sorted),
        ShapeOp::Scatter {
            dims,
            combiner,
            indices_are_sorted,
            unique_indices,
        } => {
            let m = (x.len() - 1) / 2;
            let region = node.regions.first().cloned();
            let idx = x[m];
            let mut inputs = Vec::with_capacity(m);
            let mut updates = Vec::with_capacity(m);
            for k in 0..m {
                inputs.push(front(b, x[k], n)?);
                updates.push(front(b, x[m + 1 + k], n)?);
            }
            let out = if idx.axis.is_none() {
                // Shared indices: the batch is one more window axis of every update.
                let mut uw = vec![0];
                uw.extend(dims.update_window_dims.iter().map(|d| d + 1));
                let d = ScatterDims {
                    update_window_dims: uw,
                    inserted_window_dims: dims.inserted_window_dims.iter().map(|d| d + 1).collect(),
                    scatter_dims_to_operand_dims: dims
                        .scatter_dims_to_operand_dims
                        .iter()
                        .map(|d| d + 1)
                        .collect(),
                    index_vector_dim: dims.index_vector_dim,
                };
                b.scatter_reducer(
                    &inputs,
                    idx.t,
                    &updates,
                    d,
                    *combiner,
                    region,
                    *indices_are_sorted,
                    *unique_indices,
                )?
            } else {
                // Batched indices: each index vector starts with its example's number.
                let (idx, ivd) = with_example_index(b, idx, dims.index_vector_dim, n)?;
                let mut ins = vec![0];
                ins.extend(dims.inserted_window_dims.iter().map(|d| d + 1));
                let mut sd = vec![0];
                sd.extend(dims.scatter_dims_to_operand_dims.iter().map(|d| d + 1));
                let d = ScatterDims {
                    update_window_dims: dims.update_window_dims.iter().map(|d| d + 1).collect(),
                    inserted_window_dims: ins,
                    scatter_dims_to_operand_dims: sd,
                    index_vector_dim: ivd,
                };
                b.scatter_reducer(
                    &inputs,
                    idx,
                    &updates,
                    d,
                    *combiner,
                    region,
                    false,
                    *unique_indices,
                )?
            };
            Ok(out.into_iter().map(|t| Batched::new(t, Some(0))).collect())
        }
        ShapeOp::Sort {
            dimension,
            is_stable,
        } => {
            let (ts, a) = align(b, x, n)?;
            let s = ShapeOp::Sort {
                dimension: shift(*dimension, a),
                is_stable: *is_stable,
            };
            let out = b.record(&s.into(), &ts, &node.regions)?;
            Ok(out.into_iter().map(|t| Batched::new(t, Some(a))).collect())
        }
    }
}

/// Indices batched first, with each index vector prefixed by its example's number (an iota
/// along the batch): returns them and their index vector axis.
fn with_example_index(b: &mut Builder, idx: Batched, ivd: i64, n: i64) -> Result<(Value, i64)> {
    let i = front(b, idx, n)?;
    let it = ty(b, i)?;
    let ivd = ivd + 1;
    let i = if ivd as usize == it.rank() {
        let mut d = it.dims.to_vec();
        d.push(1);
        b.reshape(i, d)?
    } else {
        i
    };
    let mut cd = ty(b, i)?.dims.to_vec();
    cd[ivd as usize] = 1;
    let count = b.iota(it.ty, &cd, 0)?;
    Ok((b.concatenate(&[count, i], ivd)?, ivd))
}

/// Gather with a batched operand (the batch a window axis), batched indices (one more index
/// batch axis), or both (index vectors prefixed with the example's number).
fn gather(
    b: &mut Builder,
    x: &[Batched],
    n: i64,
    dims: &GatherDims,
    slice_sizes: &[i64],
    sorted: bool,
) -> Result<Vec<Batched>> {
    let (op, idx) = (x[0], x[1]);
    let plus1 = |v: &[i64]| v.iter().map(|d| d + 1).collect::<Vec<i64>>();
    let (operand, indices, d, sizes, sorted) = match (op.axis, idx.axis) {
        (Some(_), None) => {
            let mut od = vec![0];
            od.extend(plus1(&dims.offset_dims));
            let mut sz = vec![n];
            sz.extend(slice_sizes);
            let d = GatherDims {
                offset_dims: od,
                collapsed_slice_dims: plus1(&dims.collapsed_slice_dims),
                start_index_map: plus1(&dims.start_index_map),
                index_vector_dim: dims.index_vector_dim,
            };
            (front(b, op, n)?, idx.t, d, sz, sorted)
        }
        (None, Some(_)) => {
            let d = GatherDims {
                offset_dims: plus1(&dims.offset_dims),
                collapsed_slice_dims: dims.collapsed_slice_dims.clone(),
                start_index_map: dims.start_index_map.clone(),
                index_vector_dim: dims.index_vector_dim + 1,
            };
            (op.t, front(b, idx, n)?, d, slice_sizes.to_vec(), sorted)
        }
        (Some(_), Some(_)) => {
            let (i, ivd) = with_example_index(b, idx, dims.index_vector_dim, n)?;
            let mut cs = vec![0];
            cs.extend(plus1(&dims.collapsed_slice_dims));
            let mut sm = vec![0];
            sm.extend(plus1(&dims.start_index_map));
            let mut sz = vec![1];
            sz.extend(slice_sizes);
            let d = GatherDims {
                offset_dims: plus1(&dims.offset_dims),
                collapsed_slice_dims: cs,
                start_index_map: sm,
                index_vector_dim: ivd,
            };
            (front(b, op, n)?, i, d, sz, false)
        }
        (None, None) => {
            return not_batchable("gather", "internal: neither operand is batched");
        }
    };
    Ok(vec![Batched::new(
        b.gather(operand, indices, d, sizes, sorted)?,
        Some(0),
    )])
}
