//! Shape and indexing primitives: reshape, transpose, broadcast, slices, concatenation,
//! padding, reversal, gather, scatter and sort.

use super::common::{
    arity, arr, axis, bool_attr, check_dims, check_region, i64_attr, int_list, region_count,
    same_shape, same_type, scalars, unique_axes, Emission, Lowering, Reducer, RegionUse, Signature,
    MAX_ELEMENTS,
};
use crate::error::{shape_err, Result};
use crate::types::{Dims, ElementType, TensorType};

/// Axis roles of a gather (StableHLO semantics).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GatherDims {
    /// Result axes that hold the slice's elements (the rest are batch axes).
    pub offset_dims: Vec<i64>,
    /// Operand axes whose slice size is 1 and that the result drops.
    pub collapsed_slice_dims: Vec<i64>,
    /// For each entry of an index vector, the operand axis it indexes.
    pub start_index_map: Vec<i64>,
    /// The axis of the indices that holds the index vectors.
    pub index_vector_dim: i64,
}

/// Axis roles of a scatter (StableHLO semantics).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScatterDims {
    /// Update axes that hold the window written (the rest are scatter axes).
    pub update_window_dims: Vec<i64>,
    /// Operand axes of window size 1 that the updates leave out.
    pub inserted_window_dims: Vec<i64>,
    /// For each entry of an index vector, the operand axis it indexes.
    pub scatter_dims_to_operand_dims: Vec<i64>,
    /// The axis of the indices that holds the index vectors.
    pub index_vector_dim: i64,
}

/// The shape and indexing primitives.
#[derive(Debug, Clone, PartialEq)]
pub enum ShapeOp {
    /// Same elements, dimensions `dims`.
    Reshape {
        /// The result's dimensions (same element count).
        dims: Vec<i64>,
    },
    /// Result axis i is operand axis `permutation[i]`.
    Transpose {
        /// A permutation of the operand's axes.
        permutation: Vec<i64>,
    },
    /// Operand axis i becomes axis `broadcast_dimensions[i]` of a result of `dims`.
    BroadcastInDim {
        /// The result's dimensions.
        dims: Vec<i64>,
        /// Where each operand axis goes in the result (increasing).
        broadcast_dimensions: Vec<i64>,
    },
    /// Elements `start[i]..limit[i]` by `strides[i]` along each axis.
    Slice {
        /// First index per axis.
        start: Vec<i64>,
        /// One past the last index per axis.
        limit: Vec<i64>,
        /// Step per axis.
        strides: Vec<i64>,
    },
    /// operands: operand, then one scalar start index per axis.
    DynamicSlice {
        /// The slice's dimensions.
        slice_sizes: Vec<i64>,
    },
    /// operands: operand, update, then one scalar start index per axis.
    DynamicUpdateSlice,
    /// operands: tensors that agree except along `dimension`; joined along it.
    Concatenate {
        /// The axis joined along.
        dimension: i64,
    },
    /// operands: operand, padding value (scalar).
    Pad {
        /// Padding before the first element per axis (negative crops).
        low: Vec<i64>,
        /// Padding after the last element per axis (negative crops).
        high: Vec<i64>,
        /// Padding between elements per axis.
        interior: Vec<i64>,
    },
    /// The elements in reverse order along `dimensions`.
    Reverse {
        /// The axes reversed.
        dimensions: Vec<i64>,
    },
    /// operands: operand, start indices.
    Gather {
        /// The roles of the axes.
        dims: GatherDims,
        /// The size of each slice gathered, per operand axis.
        slice_sizes: Vec<i64>,
        /// The caller promises the indices are sorted.
        indices_are_sorted: bool,
    },
    /// operands: N inputs, indices, N updates. `combiner` merges (old, new); `Custom` is the
    /// node's region (2N scalars -> N).
    Scatter {
        /// The roles of the axes.
        dims: ScatterDims,
        /// How an update merges with the value already there.
        combiner: Reducer,
        /// The caller promises the indices are sorted.
        indices_are_sorted: bool,
        /// The caller promises no two updates hit one element.
        unique_indices: bool,
    },
    /// operands: N tensors of one shape; region 0 compares 2N scalars (a0, b0, a1, b1, ...).
    Sort {
        /// The axis sorted along.
        dimension: i64,
        /// Equal elements keep their order.
        is_stable: bool,
    },
}

impl ShapeOp {
    /// The op's name in errors.
    pub fn name(&self) -> &'static str {
        match self {
            ShapeOp::Reshape { .. } => "reshape",
            ShapeOp::Transpose { .. } => "transpose",
            ShapeOp::BroadcastInDim { .. } => "broadcast_in_dim",
            ShapeOp::Slice { .. } => "slice",
            ShapeOp::DynamicSlice { .. } => "dynamic_slice",
            ShapeOp::DynamicUpdateSlice => "dynamic_update_slice",
            ShapeOp::Concatenate { .. } => "concatenate",
            ShapeOp::Pad { .. } => "pad",
            ShapeOp::Reverse { .. } => "reverse",
            ShapeOp::Gather { .. } => "gather",
            ShapeOp::Scatter { .. } => "scatter",
            ShapeOp::Sort { .. } => "sort",
        }
    }

    /// The shape rule.
    pub fn infer(&self, xs: &[&TensorType], regions: &[Signature]) -> Result<Vec<TensorType>> {
        let op = self.name();
        if !matches!(self, ShapeOp::Scatter { .. } | ShapeOp::Sort { .. }) {
            region_count(op, regions, 0)?;
        }
        let one = |t: Result<TensorType>| t.map(|t| vec![t]);
        match self {
            ShapeOp::Reshape { dims } => {
                arity(op, xs, 1)?;
                one(reshape(xs[0], dims))
            }
            ShapeOp::Transpose { permutation } => {
                arity(op, xs, 1)?;
                one(transpose(xs[0], permutation))
            }
            ShapeOp::BroadcastInDim {
                dims,
                broadcast_dimensions,
            } => {
                arity(op, xs, 1)?;
                one(broadcast_in_dim(xs[0], dims, broadcast_dimensions))
            }
            ShapeOp::Slice {
                start,
                limit,
                strides,
            } => {
                arity(op, xs, 1)?;
                one(slice(xs[0], start, limit, strides))
            }
            ShapeOp::DynamicSlice { slice_sizes } => {
                if xs.is_empty() {
                    return shape_err(op, "takes an operand and start indices");
                }
                one(dynamic_slice(xs[0], &xs[1..], slice_sizes))
            }
            ShapeOp::DynamicUpdateSlice => {
                if xs.len() < 2 {
                    return shape_err(op, "takes an operand, an update and start indices");
                }
                one(dynamic_update_slice(xs[0], xs[1], &xs[2..]))
            }
            ShapeOp::Concatenate { dimension } => one(concatenate(xs, *dimension)),
            ShapeOp::Pad {
                low,
                high,
                interior,
            } => {
                arity(op, xs, 2)?;
                one(pad(xs[0], xs[1], low, high, interior))
            }
            ShapeOp::Reverse { dimensions } => {
                arity(op, xs, 1)?;
                one(reverse(xs[0], dimensions))
            }
            ShapeOp::Gather {
                dims, slice_sizes, ..
            } => {
                arity(op, xs, 2)?;
                one(gather(xs[0], xs[1], dims, slice_sizes))
            }
            ShapeOp::Scatter { dims, combiner, .. } => {
                if xs.len() < 3 || xs.len() % 2 == 0 {
                    return shape_err(
                        op,
                        format!(
                            "takes N inputs, indices and N updates, got {} operands",
                            xs.len()
                        ),
                    );
                }
                let n = (xs.len() - 1) / 2;
                let out = scatter(&xs[..n], xs[n], &xs[n + 1..], dims)?;
                for x in &xs[..n] {
                    combiner.check(op, x)?;
                }
                combiner.check_regions(op, &scalars(&xs[..n]), regions)?;
                Ok(out)
            }
            ShapeOp::Sort { dimension, .. } => {
                region_count(op, regions, 1)?;
                sort(xs, *dimension, &regions[0])
            }
        }
    }

    /// The lowering table.
    pub fn lower(&self, xs: &[&TensorType]) -> Result<Lowering> {
        let mut a: Vec<(&'static str, String)> = Vec::new();
        let mut regions = Vec::new();
        let name = match self {
            ShapeOp::Reshape { .. } => "stablehlo.reshape",
            ShapeOp::Transpose { permutation } => {
                a.push(("permutation", arr(permutation)));
                "stablehlo.transpose"
            }
            ShapeOp::BroadcastInDim {
                broadcast_dimensions,
                ..
            } => {
                a.push(("broadcast_dimensions", arr(broadcast_dimensions)));
                "stablehlo.broadcast_in_dim"
            }
            ShapeOp::Slice {
                start,
                limit,
                strides,
            } => {
                a.push(("start_indices", arr(start)));
                a.push(("limit_indices", arr(limit)));
                a.push(("strides", arr(strides)));
                "stablehlo.slice"
            }
            ShapeOp::DynamicSlice { slice_sizes } => {
                a.push(("slice_sizes", arr(slice_sizes)));
                "stablehlo.dynamic_slice"
            }
            ShapeOp::DynamicUpdateSlice => "stablehlo.dynamic_update_slice",
            ShapeOp::Concatenate { dimension } => {
                a.push(("dimension", i64_attr(*dimension)));
                "stablehlo.concatenate"
            }
            ShapeOp::Pad {
                low,
                high,
                interior,
            } => {
                a.push(("edge_padding_low", arr(low)));
                a.push(("edge_padding_high", arr(high)));
                a.push(("interior_padding", arr(interior)));
                "stablehlo.pad"
            }
            ShapeOp::Reverse { dimensions } => {
                a.push(("dimensions", arr(dimensions)));
                "stablehlo.reverse"
            }
            ShapeOp::Gather {
                dims,
                slice_sizes,
                indices_are_sorted,
            } => {
                a.push((
                    "dimension_numbers",
                    format!(
                        "#stablehlo.gather<offset_dims = {}, collapsed_slice_dims = {}, start_index_map = {}, index_vector_dim = {}>",
                        int_list(&dims.offset_dims),
                        int_list(&dims.collapsed_slice_dims),
                        int_list(&dims.start_index_map),
                        dims.index_vector_dim
                    ),
                ));
                a.push(("slice_sizes", arr(slice_sizes)));
                a.push(("indices_are_sorted", bool_attr(*indices_are_sorted)));
                "stablehlo.gather"
            }
            ShapeOp::Scatter {
                dims,
                combiner,
                indices_are_sorted,
                unique_indices,
            } => {
                a.push((
                    "scatter_dimension_numbers",
                    format!(
                        "#stablehlo.scatter<update_window_dims = {}, inserted_window_dims = {}, scatter_dims_to_operand_dims = {}, index_vector_dim = {}>",
                        int_list(&dims.update_window_dims),
                        int_list(&dims.inserted_window_dims),
                        int_list(&dims.scatter_dims_to_operand_dims),
                        dims.index_vector_dim
                    ),
                ));
                a.push(("indices_are_sorted", bool_attr(*indices_are_sorted)));
                a.push(("unique_indices", bool_attr(*unique_indices)));
                let n = (xs.len().saturating_sub(1)) / 2;
                regions.push(match combiner {
                    Reducer::Custom => RegionUse::Block(0),
                    k => RegionUse::Reducer(*k, xs[..n].iter().map(|t| t.ty).collect()),
                });
                "stablehlo.scatter"
            }
            ShapeOp::Sort {
                dimension,
                is_stable,
            } => {
                a.push(("dimension", i64_attr(*dimension)));
                a.push(("is_stable", bool_attr(*is_stable)));
                regions.push(RegionUse::Block(0));
                "stablehlo.sort"
            }
        };
        Ok(Lowering::Op(Emission {
            name,
            attrs: a,
            regions,
            passed: None,
        }))
    }
}

// ---------------------------------------------------------------- shape rules

/// `reshape`: same element count.
pub fn reshape(x: &TensorType, dims: &[i64]) -> Result<TensorType> {
    check_dims("reshape", dims)?;
    let out = TensorType::new(x.ty, dims);
    if out.element_count() != x.element_count() {
        return shape_err(
            "reshape",
            format!(
                "{x} has {} elements, {out} has {}",
                x.element_count(),
                out.element_count()
            ),
        );
    }
    Ok(out)
}

/// `transpose`: result axis i is operand axis `permutation[i]`.
pub fn transpose(x: &TensorType, permutation: &[i64]) -> Result<TensorType> {
    if permutation.len() != x.rank() {
        return shape_err(
            "transpose",
            format!(
                "permutation {permutation:?} has {} entries, {x} has rank {}",
                permutation.len(),
                x.rank()
            ),
        );
    }
    let axes = unique_axes("transpose", "permutation", x, permutation)?;
    Ok(TensorType {
        ty: x.ty,
        dims: axes.iter().map(|&a| x.dims[a]).collect(),
    })
}

/// `broadcast_in_dim`: operand axis i becomes result axis `broadcast_dimensions[i]`; its size
/// must be 1 or equal to that result axis.
pub fn broadcast_in_dim(
    x: &TensorType,
    dims: &[i64],
    broadcast_dimensions: &[i64],
) -> Result<TensorType> {
    let op = "broadcast_in_dim";
    check_dims(op, dims)?;
    let out = TensorType::new(x.ty, dims);
    if broadcast_dimensions.len() != x.rank() {
        return shape_err(op, format!("broadcast_dimensions {broadcast_dimensions:?} has {} entries, operand {x} has rank {}", broadcast_dimensions.len(), x.rank()));
    }
    let axes = unique_axes(op, "broadcast", &out, broadcast_dimensions)?;
    for (i, &a) in axes.iter().enumerate() {
        if x.dims[i] != 1 && x.dims[i] != out.dims[a] {
            return shape_err(
                op,
                format!(
                    "operand {x} axis {i} has {} but result {out} axis {a} has {}",
                    x.dims[i], out.dims[a]
                ),
            );
        }
    }
    Ok(out)
}

/// `slice`: `start <= limit <= dim`, `stride >= 1`; size `ceil((limit - start) / stride)`.
pub fn slice(x: &TensorType, start: &[i64], limit: &[i64], strides: &[i64]) -> Result<TensorType> {
    let op = "slice";
    if start.len() != x.rank() || limit.len() != x.rank() || strides.len() != x.rank() {
        return shape_err(
            op,
            format!(
                "{x} has rank {}, got start {start:?}, limit {limit:?}, strides {strides:?}",
                x.rank()
            ),
        );
    }
    let mut dims = Dims::new();
    for i in 0..x.rank() {
        let (s, l, st, d) = (start[i], limit[i], strides[i], x.dims[i]);
        if s < 0 || s > l || l > d {
            return shape_err(
                op,
                format!("axis {i} of {x}: need 0 <= start {s} <= limit {l} <= {d}"),
            );
        }
        if st < 1 {
            return shape_err(
                op,
                format!("axis {i} of {x}: stride {st} must be at least 1"),
            );
        }
        dims.push(if l == s { 0 } else { (l - s - 1) / st + 1 });
    }
    Ok(TensorType { ty: x.ty, dims })
}

fn check_start_indices(op: &'static str, x: &TensorType, starts: &[&TensorType]) -> Result<()> {
    if starts.len() != x.rank() {
        return shape_err(
            op,
            format!(
                "{x} has rank {} but {} start indices were given",
                x.rank(),
                starts.len()
            ),
        );
    }
    for (i, s) in starts.iter().enumerate() {
        if s.rank() != 0 || !s.ty.is_integer() {
            return shape_err(
                op,
                format!("start index {i} is {s}, expected an integer scalar"),
            );
        }
        if s.ty != starts[0].ty {
            return shape_err(
                op,
                format!("start indices have different types: {} and {s}", starts[0]),
            );
        }
    }
    Ok(())
}

/// `dynamic_slice`: one integer scalar start per axis; `0 <= slice_sizes[i] <= dims[i]`.
pub fn dynamic_slice(
    x: &TensorType,
    starts: &[&TensorType],
    slice_sizes: &[i64],
) -> Result<TensorType> {
    let op = "dynamic_slice";
    check_start_indices(op, x, starts)?;
    if slice_sizes.len() != x.rank() {
        return shape_err(
            op,
            format!(
                "slice_sizes {slice_sizes:?} has {} entries, {x} has rank {}",
                slice_sizes.len(),
                x.rank()
            ),
        );
    }
    for (i, (&s, &d)) in slice_sizes.iter().zip(&x.dims).enumerate() {
        if s < 0 || s > d {
            return shape_err(op, format!("slice size {s} on axis {i} does not fit {x}"));
        }
    }
    Ok(TensorType::new(x.ty, slice_sizes))
}

/// `dynamic_update_slice`: update of the same rank and type, no larger than the operand.
pub fn dynamic_update_slice(
    x: &TensorType,
    update: &TensorType,
    starts: &[&TensorType],
) -> Result<TensorType> {
    let op = "dynamic_update_slice";
    same_type(op, x, update)?;
    check_start_indices(op, x, starts)?;
    if update.rank() != x.rank() {
        return shape_err(
            op,
            format!("update {update} and operand {x} differ in rank"),
        );
    }
    for i in 0..x.rank() {
        if update.dims[i] > x.dims[i] {
            return shape_err(
                op,
                format!(
                    "update {update} axis {i} has {} but operand {x} has {}",
                    update.dims[i], x.dims[i]
                ),
            );
        }
    }
    Ok(x.clone())
}

/// `concatenate`: equal types and ranks; sizes equal except along `dimension`, which adds up.
pub fn concatenate(xs: &[&TensorType], dimension: i64) -> Result<TensorType> {
    let op = "concatenate";
    let Some(first) = xs.first() else {
        return shape_err(op, "needs at least one operand");
    };
    let d = axis(op, "concatenation", first, dimension)?;
    let mut out = (*first).clone();
    for x in &xs[1..] {
        same_type(op, first, x)?;
        if x.rank() != first.rank() {
            return shape_err(op, format!("{first} and {x} differ in rank"));
        }
        for i in 0..x.rank() {
            if i != d && x.dims[i] != first.dims[i] {
                return shape_err(
                    op,
                    format!(
                        "{first} and {x} differ on axis {i} ({} vs {}), only axis {d} may differ",
                        first.dims[i], x.dims[i]
                    ),
                );
            }
        }
        out.dims[d] = out.dims[d].saturating_add(x.dims[d]);
    }
    check_dims(op, &out.dims)?;
    Ok(out)
}

/// `pad`: size `low + high + dim + (dim - 1) * interior` per axis; the value is a scalar.
pub fn pad(
    x: &TensorType,
    value: &TensorType,
    low: &[i64],
    high: &[i64],
    interior: &[i64],
) -> Result<TensorType> {
    let op = "pad";
    same_type(op, x, value)?;
    if value.rank() != 0 {
        return shape_err(op, format!("padding value {value} must be a scalar"));
    }
    if low.len() != x.rank() || high.len() != x.rank() || interior.len() != x.rank() {
        return shape_err(
            op,
            format!(
                "{x} has rank {}, got low {low:?}, high {high:?}, interior {interior:?}",
                x.rank()
            ),
        );
    }
    let mut dims = Dims::new();
    for i in 0..x.rank() {
        if interior[i] < 0
            || interior[i] > MAX_ELEMENTS
            || low[i].unsigned_abs() > MAX_ELEMENTS as u64
            || high[i].unsigned_abs() > MAX_ELEMENTS as u64
        {
            return shape_err(
                op,
                format!(
                    "axis {i}: interior padding {} must be >= 0 (low {}, high {})",
                    interior[i], low[i], high[i]
                ),
            );
        }
        let d = x.dims[i];
        let n = low[i] as i128
            + high[i] as i128
            + d as i128
            + (d - 1).max(0) as i128 * interior[i] as i128;
        if n > MAX_ELEMENTS as i128 {
            return shape_err(
                op,
                format!("axis {i} of {x}: padding gives {n} elements, above 2^40"),
            );
        }
        let n = n as i64;
        if n < 0 {
            return shape_err(
                op,
                format!(
                    "axis {i} of {x}: padding low {} high {} leaves a negative size {n}",
                    low[i], high[i]
                ),
            );
        }
        dims.push(n);
    }
    check_dims(op, &dims)?;
    Ok(TensorType { ty: x.ty, dims })
}

/// `reverse`: distinct axes of the operand.
pub fn reverse(x: &TensorType, dimensions: &[i64]) -> Result<TensorType> {
    unique_axes("reverse", "reversed", x, dimensions)?;
    Ok(x.clone())
}

fn sorted_unique(op: &'static str, what: &str, v: &[i64]) -> Result<()> {
    if v.windows(2).any(|w| w[0] >= w[1]) {
        return shape_err(op, format!("{what} {v:?} must be sorted and distinct"));
    }
    Ok(())
}

fn index_vector_len(op: &'static str, indices: &TensorType, ivd: i64) -> Result<(i64, Vec<i64>)> {
    if !indices.ty.is_integer() {
        return shape_err(
            op,
            format!("indices {indices} must have an integer element type"),
        );
    }
    if ivd < 0 || ivd as usize > indices.rank() {
        return shape_err(
            op,
            format!("index_vector_dim {ivd} is out of range for indices {indices}"),
        );
    }
    let ivd = ivd as usize;
    let len = if ivd == indices.rank() {
        1
    } else {
        indices.dims[ivd]
    };
    let batch = indices
        .dims
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != ivd)
        .map(|(_, &d)| d)
        .collect();
    Ok((len, batch))
}

/// `gather` (StableHLO semantics, no batching dims).
pub fn gather(
    x: &TensorType,
    indices: &TensorType,
    dims: &GatherDims,
    slice_sizes: &[i64],
) -> Result<TensorType> {
    let op = "gather";
    let (ilen, batch) = index_vector_len(op, indices, dims.index_vector_dim)?;
    if dims.start_index_map.len() as i64 != ilen {
        return shape_err(op, format!("start_index_map {:?} has {} entries but the index vectors of {indices} have {ilen}", dims.start_index_map, dims.start_index_map.len()));
    }
    unique_axes(op, "start_index_map", x, &dims.start_index_map)?;
    if slice_sizes.len() != x.rank() {
        return shape_err(
            op,
            format!(
                "slice_sizes {slice_sizes:?} has {} entries, operand {x} has rank {}",
                slice_sizes.len(),
                x.rank()
            ),
        );
    }
    for (i, (&s, &d)) in slice_sizes.iter().zip(&x.dims).enumerate() {
        if s < 0 || s > d {
            return shape_err(
                op,
                format!("slice size {s} on axis {i} does not fit operand {x}"),
            );
        }
    }
    sorted_unique(op, "collapsed_slice_dims", &dims.collapsed_slice_dims)?;
    unique_axes(op, "collapsed_slice_dims", x, &dims.collapsed_slice_dims)?;
    for &c in &dims.collapsed_slice_dims {
        if slice_sizes[c as usize] > 1 {
            return shape_err(
                op,
                format!(
                    "collapsed axis {c} has slice size {}, must be at most 1",
                    slice_sizes[c as usize]
                ),
            );
        }
    }
    sorted_unique(op, "offset_dims", &dims.offset_dims)?;
    let kept: Vec<i64> = (0..x.rank() as i64)
        .filter(|a| !dims.collapsed_slice_dims.contains(a))
        .map(|a| slice_sizes[a as usize])
        .collect();
    if kept.len() != dims.offset_dims.len() {
        return shape_err(
            op,
            format!(
                "offset_dims {:?} must have one entry per uncollapsed operand axis ({})",
                dims.offset_dims,
                kept.len()
            ),
        );
    }
    let rank = batch.len() + kept.len();
    let mut out = Dims::new();
    let (mut bi, mut ki) = (0, 0);
    for i in 0..rank as i64 {
        if dims.offset_dims.contains(&i) {
            out.push(kept[ki]);
            ki += 1;
        } else {
            if bi >= batch.len() {
                return shape_err(
                    op,
                    format!(
                        "offset_dims {:?} out of range for result rank {rank}",
                        dims.offset_dims
                    ),
                );
            }
            out.push(batch[bi]);
            bi += 1;
        }
    }
    if ki != kept.len() {
        return shape_err(
            op,
            format!(
                "offset_dims {:?} out of range for result rank {rank}",
                dims.offset_dims
            ),
        );
    }
    check_dims(op, &out)?;
    Ok(TensorType {
        ty: x.ty,
        dims: out,
    })
}

/// `scatter` (StableHLO semantics, no batching dims): the axes; returns the inputs' types.
/// The combiner is checked by the op (see [`ShapeOp::infer`]).
pub fn scatter(
    inputs: &[&TensorType],
    indices: &TensorType,
    updates: &[&TensorType],
    dims: &ScatterDims,
) -> Result<Vec<TensorType>> {
    let op = "scatter";
    if inputs.is_empty() || inputs.len() != updates.len() {
        return shape_err(
            op,
            format!(
                "needs N >= 1 inputs and as many updates, got {} and {}",
                inputs.len(),
                updates.len()
            ),
        );
    }
    let x = inputs[0];
    for (i, u) in inputs.iter().zip(updates) {
        same_shape(op, x, i)?;
        same_shape(op, updates[0], u)?;
        same_type(op, i, u)?;
    }
    let (ilen, batch) = index_vector_len(op, indices, dims.index_vector_dim)?;
    let u = updates[0];
    sorted_unique(op, "update_window_dims", &dims.update_window_dims)?;
    unique_axes(op, "update_window_dims", u, &dims.update_window_dims)?;
    sorted_unique(op, "inserted_window_dims", &dims.inserted_window_dims)?;
    unique_axes(op, "inserted_window_dims", x, &dims.inserted_window_dims)?;
    if dims.update_window_dims.len() + dims.inserted_window_dims.len() != x.rank() {
        return shape_err(op, format!("update_window_dims {:?} and inserted_window_dims {:?} must together cover the {} axes of {x}", dims.update_window_dims, dims.inserted_window_dims, x.rank()));
    }
    if dims.scatter_dims_to_operand_dims.len() as i64 != ilen {
        return shape_err(op, format!("scatter_dims_to_operand_dims {:?} must have {ilen} entries (index vector size of {indices})", dims.scatter_dims_to_operand_dims));
    }
    unique_axes(
        op,
        "scatter_dims_to_operand_dims",
        x,
        &dims.scatter_dims_to_operand_dims,
    )?;
    let scatter_dims: Vec<i64> = (0..u.rank() as i64)
        .filter(|a| !dims.update_window_dims.contains(a))
        .map(|a| u.dims[a as usize])
        .collect();
    if scatter_dims != batch {
        return shape_err(op, format!("updates {u} scatter axes {scatter_dims:?} must match the index batch axes {batch:?} of {indices}"));
    }
    let window_operand_axes: Vec<usize> = (0..x.rank())
        .filter(|a| !dims.inserted_window_dims.contains(&(*a as i64)))
        .collect();
    for (k, &ua) in dims.update_window_dims.iter().enumerate() {
        let oa = window_operand_axes[k];
        if u.dims[ua as usize] > x.dims[oa] {
            return shape_err(
                op,
                format!(
                    "updates {u} window axis {ua} has {} but operand {x} axis {oa} has {}",
                    u.dims[ua as usize], x.dims[oa]
                ),
            );
        }
    }
    Ok(inputs.iter().map(|t| (*t).clone()).collect())
}

/// `sort`: N operands of one shape; comparator takes (a0, b0, a1, b1, ...) scalars, returns pred[].
pub fn sort(xs: &[&TensorType], dimension: i64, comparator: &Signature) -> Result<Vec<TensorType>> {
    let op = "sort";
    let Some(first) = xs.first() else {
        return shape_err(op, "needs at least one operand");
    };
    for x in xs {
        same_shape(op, first, x)?;
    }
    axis(op, "sort", first, dimension)?;
    let mut params = Vec::new();
    for x in xs {
        params.push(TensorType::scalar(x.ty));
        params.push(TensorType::scalar(x.ty));
    }
    check_region(
        op,
        "comparator",
        comparator,
        &params,
        Some(&[TensorType::scalar(ElementType::Pred)]),
    )?;
    Ok(xs.iter().map(|t| (*t).clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ElementType::*;

    fn t(ty: ElementType, d: &[i64]) -> TensorType {
        TensorType::new(ty, d)
    }

    #[test]
    fn movement_shapes() {
        assert_eq!(
            transpose(&t(F32, &[2, 3, 4]), &[2, 0, 1]).unwrap(),
            t(F32, &[4, 2, 3])
        );
        assert!(transpose(&t(F32, &[2, 3]), &[0, 0]).is_err());
        assert!(reshape(&t(F32, &[2, 3]), &[5]).is_err());
        assert_eq!(
            slice(&t(F32, &[10]), &[1], &[8], &[3]).unwrap(),
            t(F32, &[3])
        );
        assert_eq!(
            pad(&t(F32, &[3]), &t(F32, &[]), &[1], &[-1], &[2]).unwrap(),
            t(F32, &[7])
        );
        assert_eq!(
            concatenate(&[&t(F32, &[2, 3]), &t(F32, &[2, 4])], 1).unwrap(),
            t(F32, &[2, 7])
        );
        assert!(concatenate(&[&t(F32, &[2, 3]), &t(F32, &[3, 4])], 1).is_err());
        assert_eq!(
            broadcast_in_dim(&t(F32, &[3]), &[2, 3], &[1]).unwrap(),
            t(F32, &[2, 3])
        );
        assert!(broadcast_in_dim(&t(F32, &[3]), &[2, 3], &[0]).is_err());
    }

    #[test]
    fn gather_shapes() {
        // Take rows of a [5,3] matrix by a vector of 4 indices -> [4,3].
        let d = GatherDims {
            offset_dims: vec![1],
            collapsed_slice_dims: vec![0],
            start_index_map: vec![0],
            index_vector_dim: 1,
        };
        assert_eq!(
            gather(&t(F32, &[5, 3]), &t(S32, &[4]), &d, &[1, 3]).unwrap(),
            t(F32, &[4, 3])
        );
        assert!(gather(&t(F32, &[5, 3]), &t(S32, &[4]), &d, &[2, 3]).is_err());
    }

    #[test]
    fn scatter_shapes() {
        let s = t(F32, &[]);
        let upd = Signature {
            name: "add".into(),
            params: vec![s.clone(), s.clone()],
            results: vec![s.clone()],
        };
        let d = ScatterDims {
            update_window_dims: vec![1],
            inserted_window_dims: vec![0],
            scatter_dims_to_operand_dims: vec![0],
            index_vector_dim: 1,
        };
        let op = ShapeOp::Scatter {
            dims: d,
            combiner: Reducer::Custom,
            indices_are_sorted: false,
            unique_indices: false,
        };
        let regions = std::slice::from_ref(&upd);
        // rows of a [5,3] updated by [2,3] at 2 indices
        assert_eq!(
            op.infer(
                &[&t(F32, &[5, 3]), &t(S32, &[2, 1]), &t(F32, &[2, 3])],
                regions
            )
            .unwrap(),
            vec![t(F32, &[5, 3])]
        );
        assert!(op
            .infer(
                &[&t(F32, &[5, 3]), &t(S32, &[3, 1]), &t(F32, &[2, 3])],
                regions
            )
            .is_err());
        assert!(op
            .infer(
                &[&t(F32, &[5, 3]), &t(S32, &[2, 1]), &t(F32, &[2, 4])],
                regions
            )
            .is_err());
    }

    #[test]
    fn overflow_edges() {
        assert_eq!(
            slice(&t(F32, &[10]), &[0], &[10], &[i64::MAX]).unwrap(),
            t(F32, &[1])
        );
        assert!(pad(&t(F32, &[1 << 30]), &t(F32, &[]), &[0], &[0], &[1 << 30]).is_err());
        assert!(pad(&t(F32, &[3]), &t(F32, &[]), &[i64::MIN], &[0], &[0]).is_err());
        let i = t(S32, &[]);
        assert_eq!(
            dynamic_slice(&t(F32, &[4, 4]), &[&i, &i], &[2, 4]).unwrap(),
            t(F32, &[2, 4])
        );
        assert!(dynamic_slice(&t(F32, &[4, 4]), &[&i], &[2, 4]).is_err());
        assert!(dynamic_slice(&t(F32, &[4, 4]), &[&i, &t(F32, &[])], &[2, 4]).is_err());
    }
}
