//! Shape and indexing ops: the primitives, their closure forms and the compositions of the
//! family (`broadcast_to`, `slice_axis`, `top_k`, `one_hot`).

use std::sync::Arc;

use smallvec::{smallvec, SmallVec};

use super::reduce::reducer_of;
use crate::builder::{Builder, RegionFn};
use crate::error::{shape_err, Result};
use crate::graph::{Computation, Value};
use crate::ops::{GatherDims, Reducer, ScatterDims, ShapeOp};
use crate::types::{ElementType, TensorType};

impl Builder {
    /// Same elements, new dimensions (equal element count).
    ///
    /// Shapes: `T[a...] -> T[dims]`, `prod(a) == prod(dims)`.
    pub fn reshape(&mut self, x: Value, dims: impl AsRef<[i64]>) -> Result<Value> {
        let t = self.value("reshape", x)?.1;
        if t.dims.as_slice() == dims.as_ref() {
            return Ok(x);
        }
        self.record1(
            ShapeOp::Reshape {
                dims: dims.as_ref().to_vec(),
            },
            &[x],
        )
    }

    /// Result axis i is operand axis `permutation[i]`.
    ///
    /// Shapes: `T[d...] -> T[d[permutation[0]], d[permutation[1]], ...]`.
    pub fn transpose(&mut self, x: Value, permutation: impl AsRef<[i64]>) -> Result<Value> {
        self.record1(
            ShapeOp::Transpose {
                permutation: permutation.as_ref().to_vec(),
            },
            &[x],
        )
    }

    /// Operand axis i becomes result axis `broadcast_dimensions[i]` of `T[dims]`.
    ///
    /// Shapes: `T[a...] -> T[dims]`, `a[i]` is 1 or `dims[broadcast_dimensions[i]]`.
    pub fn broadcast_in_dim(
        &mut self,
        x: Value,
        dims: impl AsRef<[i64]>,
        broadcast_dimensions: impl AsRef<[i64]>,
    ) -> Result<Value> {
        self.record1(
            ShapeOp::BroadcastInDim {
                dims: dims.as_ref().to_vec(),
                broadcast_dimensions: broadcast_dimensions.as_ref().to_vec(),
            },
            &[x],
        )
    }

    /// Numpy-style broadcast of `x` to `dims` (trailing axes aligned; sizes equal or 1).
    ///
    /// Shapes: `T[a...] -> T[dims]`, `a` aligned with the trailing axes of `dims`.
    pub fn broadcast_to(&mut self, x: Value, dims: impl AsRef<[i64]>) -> Result<Value> {
        let dims = dims.as_ref();
        let t = self.value("broadcast_to", x)?.1;
        if t.dims.as_slice() == dims {
            return Ok(x);
        }
        if t.rank() > dims.len() {
            return shape_err(
                "broadcast_to",
                format!("cannot broadcast {t} to rank {} shape {dims:?}", dims.len()),
            );
        }
        let off = (dims.len() - t.rank()) as i64;
        let bd: Vec<i64> = (0..t.rank() as i64).map(|i| i + off).collect();
        self.broadcast_in_dim(x, dims, &bd)
    }

    /// Static slice: `[start, limit)` with `strides` per axis.
    ///
    /// Shapes: `T[d...] -> T[ceil((limit - start) / strides)...]`.
    pub fn slice(
        &mut self,
        x: Value,
        start: impl AsRef<[i64]>,
        limit: impl AsRef<[i64]>,
        strides: impl AsRef<[i64]>,
    ) -> Result<Value> {
        self.record1(
            ShapeOp::Slice {
                start: start.as_ref().to_vec(),
                limit: limit.as_ref().to_vec(),
                strides: strides.as_ref().to_vec(),
            },
            &[x],
        )
    }

    /// `[start, limit)` along one axis, stride 1.
    ///
    /// Shapes: `T[d...] -> T[d...]` with axis `axis` of size `limit - start`.
    pub fn slice_axis(&mut self, x: Value, axis: i64, start: i64, limit: i64) -> Result<Value> {
        let t = self.value("slice_axis", x)?.1;
        if axis < 0 || axis as usize >= t.rank() {
            return shape_err("slice_axis", format!("axis {axis} is out of range for {t}"));
        }
        let mut s = vec![0; t.rank()];
        let mut l: Vec<i64> = t.dims.to_vec();
        s[axis as usize] = start;
        l[axis as usize] = limit;
        self.slice(x, s, l, vec![1; t.rank()])
    }

    /// Slice of `slice_sizes` at runtime start indices (one integer scalar per axis; clamped
    /// into range at run time).
    ///
    /// Shapes: `T[d...], S[]... (rank of them) -> T[slice_sizes]`.
    pub fn dynamic_slice(
        &mut self,
        x: Value,
        starts: &[Value],
        slice_sizes: impl AsRef<[i64]>,
    ) -> Result<Value> {
        let mut ops = vec![x];
        ops.extend_from_slice(starts);
        self.record1(
            ShapeOp::DynamicSlice {
                slice_sizes: slice_sizes.as_ref().to_vec(),
            },
            &ops,
        )
    }

    /// `x` with `update` written at runtime start indices (clamped into range).
    ///
    /// Shapes: `T[d...], T[u...], S[]... -> T[d...]` with `u <= d`.
    pub fn dynamic_update_slice(
        &mut self,
        x: Value,
        update: Value,
        starts: &[Value],
    ) -> Result<Value> {
        let mut ops = vec![x, update];
        ops.extend_from_slice(starts);
        self.record1(ShapeOp::DynamicUpdateSlice, &ops)
    }

    /// Joins tensors along `dimension` (other axes equal).
    ///
    /// Shapes: `T[a..., n_i, b...]... -> T[a..., sum(n_i), b...]`.
    pub fn concatenate(&mut self, xs: &[Value], dimension: i64) -> Result<Value> {
        self.record1(ShapeOp::Concatenate { dimension }, xs)
    }

    /// Pads with the scalar `value`: `low`/`high` (may be negative) and `interior` per axis.
    ///
    /// Shapes: `T[d...], T[] -> T[low + high + d + (d - 1) * interior ...]`.
    pub fn pad(
        &mut self,
        x: Value,
        value: Value,
        low: impl AsRef<[i64]>,
        high: impl AsRef<[i64]>,
        interior: impl AsRef<[i64]>,
    ) -> Result<Value> {
        self.record1(
            ShapeOp::Pad {
                low: low.as_ref().to_vec(),
                high: high.as_ref().to_vec(),
                interior: interior.as_ref().to_vec(),
            },
            &[x, value],
        )
    }

    /// Reverses the order of elements along `dimensions`.
    ///
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn reverse(&mut self, x: Value, dimensions: impl AsRef<[i64]>) -> Result<Value> {
        self.record1(
            ShapeOp::Reverse {
                dimensions: dimensions.as_ref().to_vec(),
            },
            &[x],
        )
    }

    /// StableHLO gather; see [`crate::ops::shape::gather`].
    ///
    /// Shapes: `T[operand...], S[indices...] -> T[batch axes of indices interleaved with the uncollapsed slice sizes at offset_dims]`.
    pub fn gather(
        &mut self,
        x: Value,
        indices: Value,
        dims: GatherDims,
        slice_sizes: impl AsRef<[i64]>,
        indices_are_sorted: bool,
    ) -> Result<Value> {
        self.record1(
            ShapeOp::Gather {
                dims,
                slice_sizes: slice_sizes.as_ref().to_vec(),
                indices_are_sorted,
            },
            &[x, indices],
        )
    }

    /// StableHLO scatter of `updates` into `inputs` at `indices`, combining old and new values
    /// with `combiner` (a named [`Reducer`], or [`Reducer::Custom`] with the computation
    /// `update` of 2N scalars -> N scalars). Returns N results.
    ///
    /// Shapes: `T_i[operand...] (N), S[indices...], T_i[updates...] (N) -> T_i[operand...] (N)`.
    // One argument per attribute of StableHLO's scatter.
    #[allow(clippy::too_many_arguments)]
    pub fn scatter_reducer(
        &mut self,
        inputs: &[Value],
        indices: Value,
        updates: &[Value],
        dims: ScatterDims,
        combiner: Reducer,
        update: Option<Arc<Computation>>,
        indices_are_sorted: bool,
        unique_indices: bool,
    ) -> Result<Vec<Value>> {
        let mut ops = inputs.to_vec();
        ops.push(indices);
        ops.extend_from_slice(updates);
        let regions: SmallVec<[Arc<Computation>; 1]> = update.into_iter().collect();
        self.record_owned(
            ShapeOp::Scatter {
                dims,
                combiner,
                indices_are_sorted,
                unique_indices,
            }
            .into(),
            &ops,
            regions,
        )
    }

    /// [`scatter_reducer`](Self::scatter_reducer) with the combiner given as a computation:
    /// one that is a named monoid or a replacement on every result is recorded as such.
    ///
    /// Shapes: `T_i[operand...] (N), S[indices...], T_i[updates...] (N) -> T_i[operand...] (N)`.
    #[allow(clippy::too_many_arguments)]
    pub fn scatter_with(
        &mut self,
        inputs: &[Value],
        indices: Value,
        updates: &[Value],
        dims: ScatterDims,
        update: Arc<Computation>,
        indices_are_sorted: bool,
        unique_indices: bool,
    ) -> Result<Vec<Value>> {
        let kind = reducer_of(&update, inputs.len(), true);
        let region = (kind == Reducer::Custom).then_some(update);
        self.scatter_reducer(
            inputs,
            indices,
            updates,
            dims,
            kind,
            region,
            indices_are_sorted,
            unique_indices,
        )
    }

    /// [`Builder::scatter_with`] with the update computation recorded from a closure that gets
    /// (old..., new...) scalars.
    ///
    /// Shapes: `T_i[operand...] (N), S[indices...], T_i[updates...] (N) -> T_i[operand...] (N)`.
    pub fn scatter(
        &mut self,
        inputs: &[Value],
        indices: Value,
        updates: &[Value],
        dims: ScatterDims,
        update: impl RegionFn,
    ) -> Result<Vec<Value>> {
        let it = self.types("scatter", inputs)?;
        let mut params: Vec<TensorType> = it.iter().map(|t| TensorType::scalar(t.ty)).collect();
        params.extend(it.iter().map(|t| TensorType::scalar(t.ty)));
        let c = Builder::computation("scatter_update", &params, update)?;
        self.scatter_with(inputs, indices, updates, dims, c, false, false)
    }

    /// Sorts N same-shape tensors along `dimension` by a comparator over (a0, b0, a1, b1, ...)
    /// scalars returning pred[] ("a goes before b").
    ///
    /// Shapes: `T_i[d...] (N) -> T_i[d...] (N)`.
    pub fn sort_with(
        &mut self,
        xs: &[Value],
        dimension: i64,
        is_stable: bool,
        comparator: Arc<Computation>,
    ) -> Result<Vec<Value>> {
        self.record_owned(
            ShapeOp::Sort {
                dimension,
                is_stable,
            }
            .into(),
            xs,
            smallvec![comparator],
        )
    }

    /// [`Builder::sort_with`] with the comparator recorded from a closure.
    ///
    /// Shapes: `T_i[d...] (N) -> T_i[d...] (N)`.
    pub fn sort(
        &mut self,
        xs: &[Value],
        dimension: i64,
        is_stable: bool,
        comparator: impl RegionFn,
    ) -> Result<Vec<Value>> {
        let tys = self.types("sort", xs)?;
        let mut params = Vec::new();
        for t in &tys {
            params.push(TensorType::scalar(t.ty));
            params.push(TensorType::scalar(t.ty));
        }
        let c = Builder::computation("sort_comparator", &params, comparator)?;
        self.sort_with(xs, dimension, is_stable, c)
    }

    /// The `k` largest elements along the last axis, in descending order, and their s32
    /// indices (a stable sort on (value, iota), then a slice).
    /// Shapes: `T[..., n] -> (T[..., k], s32[..., k])`.
    pub fn top_k(&mut self, x: Value, k: i64) -> Result<(Value, Value)> {
        let t = self.ty(x)?.clone();
        if t.rank() == 0 {
            return shape_err("top_k", format!("operand {t} must have rank >= 1"));
        }
        let last = t.rank() as i64 - 1;
        let n = t.dims[last as usize];
        if k < 0 || k > n {
            return shape_err("top_k", format!("k = {k} must be in 0..={n} for {t}"));
        }
        if !(t.ty.is_float() || t.ty.is_integer()) || t.ty.byte_size().is_none() {
            return shape_err(
                "top_k",
                format!("operand {t} must have an integer or float element type"),
            );
        }
        let idx = self.iota(ElementType::S32, &t.dims, last)?;
        let s = self.sort(&[x, idx], last, true, |b, a| Ok(vec![b.gt(a[0], a[1])?]))?;
        let v = self.slice_axis(s[0], last, 0, k)?;
        let i = self.slice_axis(s[1], last, 0, k)?;
        Ok((v, i))
    }

    /// One-hot encoding: `indices` (integers) -> `ty[indices..., depth]`, 1 where the last axis
    /// equals the index (out-of-range indices give all zeros).
    pub fn one_hot(&mut self, indices: Value, depth: i64, ty: ElementType) -> Result<Value> {
        let t = self.ty(indices)?.clone();
        if !t.ty.is_integer() {
            return shape_err(
                "one_hot",
                format!("indices {t} must have an integer element type"),
            );
        }
        if depth < 0 {
            return shape_err("one_hot", format!("depth {depth} must be >= 0"));
        }
        let mut dims = t.dims.to_vec();
        dims.push(depth);
        let r = dims.len() as i64;
        let io = self.iota(t.ty, &dims, r - 1)?;
        let bd: Vec<i64> = (0..r - 1).collect();
        let ib = self.broadcast_in_dim(indices, &dims, bd)?;
        let m = self.eq(ib, io)?;
        self.convert(m, ty)
    }
}
