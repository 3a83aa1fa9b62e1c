//! The [`Builder`]: records primitives into a [`Graph`], checking each as it is recorded.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use smallvec::SmallVec;

use crate::error::{shape_err, Error, Result};
use crate::graph::{
    BinaryOp, ComparisonDirection, Computation, ConstantValue, ConvConfig, DotDims, GatherDims,
    Graph, Node, NodeId, Op, Precision, RngAlgorithm, ScatterDims, Tensor, UnaryOp, ValueId,
    WindowConfig,
};
use crate::module::Module;
use crate::shape;
use crate::types::{ElementType, TensorType};

static NEXT_BUILDER_ID: AtomicU32 = AtomicU32::new(1);

/// Records a function: parameters, ops and (at [`Builder::build`]) results.
///
/// Every op method checks operand shapes and element types when it is called and returns an
/// [`Error`] naming the op, the shapes and the axes when they do not fit; nothing is lowered
/// until [`Builder::build`].
#[derive(Debug)]
pub struct Builder {
    id: u32,
    name: String,
    graph: Graph,
}

/// A closure that records a region body: it gets a fresh builder and the region's arguments,
/// and returns the region's results.
pub trait RegionFn: FnOnce(&mut Builder, &[Tensor]) -> Result<Vec<Tensor>> {}
impl<F: FnOnce(&mut Builder, &[Tensor]) -> Result<Vec<Tensor>>> RegionFn for F {}

/// One branch of [`Builder::case`], as a boxed closure (branches differ in type).
pub type BranchFn<'a> = Box<dyn FnOnce(&mut Builder, &[Tensor]) -> Result<Vec<Tensor>> + 'a>;

impl Builder {
    /// A new, empty builder for a function called `name`.
    pub fn new(name: impl Into<String>) -> Builder {
        Builder {
            id: NEXT_BUILDER_ID.fetch_add(1, Ordering::Relaxed),
            name: name.into(),
            graph: Graph::default(),
        }
    }

    /// Records a computation from a closure: `params` become its parameters, the closure's
    /// return values its results. Used for regions (reducers, comparators, loop bodies,
    /// branches) and for functions called with [`Builder::call`].
    pub fn computation(
        name: impl Into<String>,
        params: &[TensorType],
        f: impl RegionFn,
    ) -> Result<Arc<Computation>> {
        let mut b = Builder::new(name);
        let mut args = Vec::with_capacity(params.len());
        for (i, p) in params.iter().enumerate() {
            args.push(b.parameter(format!("arg{i}"), p.ty, &p.dims)?);
        }
        let results = f(&mut b, &args)?;
        Ok(Arc::new(b.finish(&results)?))
    }

    /// This builder's id (tensors remember it).
    pub fn id(&self) -> u32 {
        self.id
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The recorded graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The handle of a value of this builder's graph.
    pub fn tensor(&self, v: ValueId) -> Tensor {
        Tensor {
            builder: self.id,
            value: v,
        }
    }

    /// The node that produced `t`.
    pub fn node(&self, t: Tensor) -> Result<&Node> {
        self.value("node", t)?;
        self.graph.node(t.value.node).ok_or(Error::UnknownTensor {
            op: "node",
            node: t.value.node.0,
            output: t.value.output,
        })
    }
    /// The op that produced `t`.
    pub fn op(&self, t: Tensor) -> Result<&Op> {
        Ok(&self.node(t)?.op)
    }
    /// The type of `t`.
    pub fn ty(&self, t: Tensor) -> Result<&TensorType> {
        self.value("ty", t)?;
        self.graph.ty(t.value).ok_or(Error::UnknownTensor {
            op: "ty",
            node: t.value.node.0,
            output: t.value.output,
        })
    }
    /// The dimensions of `t`.
    pub fn dims(&self, t: Tensor) -> Result<&[i64]> {
        Ok(&self.ty(t)?.dims)
    }
    /// The operands of the node that produced `t`, as handles.
    pub fn operands(&self, t: Tensor) -> Result<Vec<Tensor>> {
        Ok(self
            .node(t)?
            .operands
            .iter()
            .map(|v| self.tensor(*v))
            .collect())
    }
    /// All results of a node, as handles.
    pub fn results(&self, node: NodeId) -> Vec<Tensor> {
        match self.graph.node(node) {
            Some(n) => (0..n.types.len() as u32)
                .map(|o| self.tensor(ValueId { node, output: o }))
                .collect(),
            None => Vec::new(),
        }
    }
    /// The parameters recorded so far, in order.
    pub fn parameters(&self) -> Vec<Tensor> {
        self.graph
            .params
            .iter()
            .map(|&n| self.tensor(ValueId { node: n, output: 0 }))
            .collect()
    }
    /// Iterates over the nodes in recording order.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.graph
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (NodeId(i as u32), n))
    }

    fn value(&self, op: &'static str, t: Tensor) -> Result<(ValueId, TensorType)> {
        if t.builder != self.id {
            return Err(Error::ForeignTensor {
                op,
                tensor_builder: t.builder,
                builder: self.id,
            });
        }
        match self.graph.ty(t.value) {
            Some(ty) => Ok((t.value, ty.clone())),
            None => Err(Error::UnknownTensor {
                op,
                node: t.value.node.0,
                output: t.value.output,
            }),
        }
    }

    fn types(&self, op: &'static str, ts: &[Tensor]) -> Result<Vec<TensorType>> {
        ts.iter().map(|t| self.value(op, *t).map(|v| v.1)).collect()
    }

    /// Appends a node whose types were already inferred. Operands must be checked.
    fn push(&mut self, op: Op, operands: &[Tensor], types: Vec<TensorType>) -> Vec<Tensor> {
        let node = NodeId(self.graph.nodes.len() as u32);
        let n = types.len() as u32;
        self.graph.nodes.push(Node {
            op,
            operands: operands.iter().map(|t| t.value).collect(),
            types: types.into(),
        });
        (0..n)
            .map(|o| self.tensor(ValueId { node, output: o }))
            .collect()
    }

    fn push1(&mut self, op: Op, operands: &[Tensor], ty: TensorType) -> Tensor {
        let node = NodeId(self.graph.nodes.len() as u32);
        self.graph.nodes.push(Node {
            op,
            operands: operands.iter().map(|t| t.value).collect(),
            types: SmallVec::from_elem(ty, 1),
        });
        self.tensor(ValueId { node, output: 0 })
    }

    /// Finishes the function with `results` and returns it as a [`Computation`].
    pub fn finish(self, results: &[Tensor]) -> Result<Computation> {
        let mut res = Vec::with_capacity(results.len());
        for r in results {
            res.push(self.value("build", *r)?.0);
        }
        Ok(Computation {
            name: self.name,
            graph: self.graph,
            results: res,
        })
    }

    /// Lowers the function with `results` into a StableHLO module (function `main`).
    /// The builder stays usable (its graph is copied).
    pub fn build(&self, results: &[Tensor]) -> Result<Module> {
        Module::new(Arc::new(self.main_computation(results)?))
    }

    /// The function `main` returning `results` (the graph is copied).
    fn main_computation(&self, results: &[Tensor]) -> Result<Computation> {
        let mut res = Vec::with_capacity(results.len());
        for r in results {
            res.push(self.value("build", *r)?.0);
        }
        Ok(Computation {
            name: "main".into(),
            graph: self.graph.clone(),
            results: res,
        })
    }

    /// [`build`](Self::build) with donated parameters: `(parameter index, result index)`
    /// pairs whose buffers the executable consumes and reuses (see
    /// [`Module::with_donations`]). A donated argument buffer is deleted by the call.
    pub fn build_with_donations(
        &self,
        results: &[Tensor],
        donations: &[(usize, usize)],
    ) -> Result<Module> {
        Module::with_donations(Arc::new(self.main_computation(results)?), donations)
    }

    // ---------------------------------------------------------------- sources

    /// A function parameter of type `ty[dims]`; parameters are numbered in call order.
    ///
    /// Shapes: `-> ty[dims]`.
    pub fn parameter(
        &mut self,
        name: impl Into<String>,
        ty: ElementType,
        dims: impl AsRef<[i64]>,
    ) -> Result<Tensor> {
        let dims = dims.as_ref();
        shape::check_element_type("parameter", ty)?;
        shape::check_dims("parameter", dims)?;
        let index = self.graph.params.len();
        let t = self.push1(
            Op::Parameter {
                index,
                name: name.into(),
            },
            &[],
            TensorType::new(ty, dims),
        );
        self.graph.params.push(t.value.node);
        Ok(t)
    }

    /// A constant from host data, `T[dims]` with `data.len()` equal to the element count.
    ///
    /// Shapes: `-> T[dims]` with `T` from the Rust type.
    pub fn constant<T: pjrt::NativeType>(
        &mut self,
        data: &[T],
        dims: impl AsRef<[i64]>,
    ) -> Result<Tensor> {
        let size = std::mem::size_of_val(data);
        // SAFETY: NativeType guarantees plain data without padding; we read `size` bytes of
        // the slice's own memory.
        let bytes = unsafe { std::slice::from_raw_parts(data.as_ptr() as *const u8, size) };
        self.constant_bytes(T::ELEMENT_TYPE, dims, bytes)
    }

    /// A constant of `ty[dims]` from raw little-endian element bytes (pred: one byte, 0 or 1).
    ///
    /// Shapes: `-> ty[dims]`.
    pub fn constant_bytes(
        &mut self,
        ty: ElementType,
        dims: impl AsRef<[i64]>,
        bytes: &[u8],
    ) -> Result<Tensor> {
        let dims = dims.as_ref();
        shape::check_element_type("constant", ty)?;
        shape::check_dims("constant", dims)?;
        let t = TensorType::new(ty, dims);
        let Some(w) = ty.byte_size() else {
            return shape_err(
                "constant",
                format!(
                    "{t}: host data of sub-byte types is not supported; convert from a wider type"
                ),
            );
        };
        let expected = t.element_count() as usize * w;
        if bytes.len() != expected {
            return Err(Error::DataSize {
                op: "constant",
                ty: t,
                expected,
                actual: bytes.len(),
            });
        }
        Ok(self.push1(Op::Constant(ConstantValue::Dense(Arc::from(bytes))), &[], t))
    }

    /// A pred constant.
    ///
    /// Shapes: `-> pred[dims]`.
    pub fn constant_bool(&mut self, data: &[bool], dims: impl AsRef<[i64]>) -> Result<Tensor> {
        let bytes: Vec<u8> = data.iter().map(|&b| b as u8).collect();
        self.constant_bytes(ElementType::Pred, dims, &bytes)
    }

    /// `ty[dims]` filled with `value` (converted to `ty`: rounded for floats, truncated toward
    /// zero and saturated for integers, `value != 0` for pred, real part for complex).
    ///
    /// Shapes: `-> ty[dims]`.
    pub fn splat(
        &mut self,
        ty: ElementType,
        dims: impl AsRef<[i64]>,
        value: f64,
    ) -> Result<Tensor> {
        let dims = dims.as_ref();
        shape::check_element_type("splat", ty)?;
        shape::check_dims("splat", dims)?;
        match scalar_bytes(ty, value) {
            Some(bytes) => Ok(self.push1(
                Op::Constant(ConstantValue::Splat(bytes)),
                &[],
                TensorType::new(ty, dims),
            )),
            None => {
                // f8/f4/f6 and sub-byte integers: make it in a wide type, then convert.
                let wide = if ty.is_float() {
                    ElementType::F32
                } else {
                    ElementType::S64
                };
                let w = self.splat(wide, dims, value)?;
                self.convert(w, ty)
            }
        }
    }

    /// A splat constant from the raw bytes of one element (as stored in [`ConstantValue::Splat`]).
    ///
    /// Shapes: `-> t`.
    pub fn splat_bytes(&mut self, t: &TensorType, element: &[u8]) -> Result<Tensor> {
        shape::check_element_type("splat", t.ty)?;
        shape::check_dims("splat", &t.dims)?;
        match t.ty.byte_size() {
            Some(w) if w == element.len() => Ok(self.push1(
                Op::Constant(ConstantValue::Splat(SmallVec::from_slice(element))),
                &[],
                t.clone(),
            )),
            _ => Err(Error::DataSize {
                op: "splat",
                ty: TensorType::scalar(t.ty),
                expected: t.ty.byte_size().unwrap_or(0),
                actual: element.len(),
            }),
        }
    }

    /// A scalar constant `ty[]`.
    ///
    /// Shapes: `-> ty[]`.
    pub fn scalar(&mut self, ty: ElementType, value: f64) -> Result<Tensor> {
        self.splat(ty, [], value)
    }
    ///
    /// Shapes: `-> ty[dims]`.
    pub fn zeros(&mut self, ty: ElementType, dims: impl AsRef<[i64]>) -> Result<Tensor> {
        self.splat(ty, dims, 0.0)
    }
    ///
    /// Shapes: `-> ty[dims]`.
    pub fn ones(&mut self, ty: ElementType, dims: impl AsRef<[i64]>) -> Result<Tensor> {
        self.splat(ty, dims, 1.0)
    }
    /// A constant of `x`'s type filled with `value`.
    ///
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn full_like(&mut self, x: Tensor, value: f64) -> Result<Tensor> {
        let t = self.value("full_like", x)?.1;
        self.splat(t.ty, &t.dims, value)
    }
    ///
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn zeros_like(&mut self, x: Tensor) -> Result<Tensor> {
        self.full_like(x, 0.0)
    }
    ///
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn ones_like(&mut self, x: Tensor) -> Result<Tensor> {
        self.full_like(x, 1.0)
    }
    /// A scalar constant of `x`'s element type.
    ///
    /// Shapes: `T[d...] -> T[]`.
    pub fn scalar_like(&mut self, x: Tensor, value: f64) -> Result<Tensor> {
        let t = self.value("scalar_like", x)?.1;
        self.splat(t.ty, [], value)
    }

    /// `ty[dims]` holding 0, 1, 2, ... along axis `dimension`.
    ///
    /// Shapes: `-> ty[dims]`, `0 <= dimension < rank`.
    pub fn iota(
        &mut self,
        ty: ElementType,
        dims: impl AsRef<[i64]>,
        dimension: i64,
    ) -> Result<Tensor> {
        let dims = dims.as_ref();
        shape::check_element_type("iota", ty)?;
        shape::check_dims("iota", dims)?;
        let t = TensorType::new(ty, dims);
        if dimension < 0 || dimension as usize >= t.rank() {
            return shape_err(
                "iota",
                format!("dimension {dimension} is out of range for {t}"),
            );
        }
        if ty == ElementType::Pred || ty.byte_size().is_none() {
            return shape_err(
                "iota",
                format!(
                    "{t}: element type must be an integer, float or complex type of 8 bits or more"
                ),
            );
        }
        // A complex iota is made as a real iota and converted: XLA's simplifier treats a
        // complex iota as "non-negative" and rewrites abs(iota) to the iota, which changes the
        // type and aborts the 0.115 CPU plugin (CHECK failure in algebraic_simplifier.cc).
        if let Some(part) = shape::complex_part(ty) {
            let r = self.iota(part, dims, dimension)?;
            return self.convert(r, ty);
        }
        Ok(self.push1(Op::Iota { dimension }, &[], t))
    }

    // ---------------------------------------------------------------- elementwise

    /// Elementwise unary primitive; the result has `x`'s shape (type per [`shape::unary`]).
    ///
    /// Shapes: `T[d...] -> U[d...]` (`U = T` except abs/real/imag of complex and is_finite).
    pub fn unary(&mut self, u: UnaryOp, x: Tensor) -> Result<Tensor> {
        let t = self.value(u.name(), x)?.1;
        let out = shape::unary(u, &t)?;
        Ok(self.push1(Op::Unary(u), &[x], out))
    }

    /// Elementwise binary primitive on operands of identical shape and type (no broadcasting).
    ///
    /// Shapes: `T[d...], T[d...] -> T[d...]` (complex: `F[d], F[d] -> C[d]`).
    pub fn binary_same_shape(&mut self, b: BinaryOp, x: Tensor, y: Tensor) -> Result<Tensor> {
        let tx = self.value(b.name(), x)?.1;
        let ty = self.value(b.name(), y)?.1;
        let out = shape::binary(b, &tx, &ty)?;
        Ok(self.push1(Op::Binary(b), &[x, y], out))
    }

    /// Elementwise binary op with numpy broadcasting (made explicit with `broadcast_in_dim`).
    /// Element types must match.
    ///
    /// Shapes: `T[a...], T[b...] -> T[broadcast(a, b)]`.
    pub fn binary(&mut self, b: BinaryOp, x: Tensor, y: Tensor) -> Result<Tensor> {
        let (x, y) = self.broadcast_pair(b.name(), x, y)?;
        self.binary_same_shape(b, x, y)
    }

    /// Broadcasts two tensors to their common numpy shape.
    ///
    /// Shapes: `T[a...], U[b...] -> (T[c...], U[c...])` with `c = broadcast(a, b)`.
    pub fn broadcast_pair(
        &mut self,
        op: &'static str,
        x: Tensor,
        y: Tensor,
    ) -> Result<(Tensor, Tensor)> {
        let tx = self.value(op, x)?.1;
        let ty = self.value(op, y)?.1;
        if tx.dims == ty.dims {
            return Ok((x, y));
        }
        let dims = shape::broadcast_shapes(op, &tx, &ty)?;
        Ok((self.broadcast_to(x, &dims)?, self.broadcast_to(y, &dims)?))
    }

    /// Numpy-style broadcast of `x` to `dims` (trailing axes aligned; sizes equal or 1).
    ///
    /// Shapes: `T[a...] -> T[dims]`, `a` aligned with the trailing axes of `dims`.
    pub fn broadcast_to(&mut self, x: Tensor, dims: impl AsRef<[i64]>) -> Result<Tensor> {
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

    /// Elementwise comparison with numpy broadcasting; result is pred.
    ///
    /// Shapes: `T[a...], T[b...] -> pred[broadcast(a, b)]`.
    pub fn compare(&mut self, dir: ComparisonDirection, x: Tensor, y: Tensor) -> Result<Tensor> {
        let (x, y) = self.broadcast_pair("compare", x, y)?;
        let tx = self.value("compare", x)?.1;
        let ty = self.value("compare", y)?.1;
        let out = shape::compare(dir, &tx, &ty)?;
        Ok(self.push1(Op::Compare(dir), &[x, y], out))
    }

    /// `select(pred, on_true, on_false)`: pred[] or pred of the branches' shape.
    ///
    /// Shapes: `pred[] or pred[d...], T[d...], T[d...] -> T[d...]`.
    pub fn select(&mut self, pred: Tensor, on_true: Tensor, on_false: Tensor) -> Result<Tensor> {
        let tys = self.types("select", &[pred, on_true, on_false])?;
        let out = shape::select(&tys[0], &tys[1], &tys[2])?;
        Ok(self.push1(Op::Select, &[pred, on_true, on_false], out))
    }

    /// `clamp(min, x, max)`: bounds are scalars or of `x`'s shape.
    ///
    /// Shapes: `T[] or T[d...], T[d...], T[] or T[d...] -> T[d...]`.
    pub fn clamp(&mut self, min: Tensor, x: Tensor, max: Tensor) -> Result<Tensor> {
        let tys = self.types("clamp", &[min, x, max])?;
        let out = shape::clamp(&tys[0], &tys[1], &tys[2])?;
        Ok(self.push1(Op::Clamp, &[min, x, max], out))
    }

    /// Converts values to element type `to` (same shape).
    ///
    /// Shapes: `T[d...] -> to[d...]`.
    pub fn convert(&mut self, x: Tensor, to: ElementType) -> Result<Tensor> {
        let t = self.value("convert", x)?.1;
        if t.ty == to {
            return Ok(x);
        }
        let out = shape::convert(&t, to)?;
        Ok(self.push1(Op::Convert, &[x], out))
    }

    /// Reinterprets bits as `to`; see [`shape::bitcast_convert`] for the shape rule.
    ///
    /// Shapes: `T[d...] -> to[d...]` for equal widths; `T[d...] -> to[d..., w_T/w_to]` to a narrower type; `T[d..., w_to/w_T] -> to[d...]` to a wider one.
    pub fn bitcast_convert(&mut self, x: Tensor, to: ElementType) -> Result<Tensor> {
        let t = self.value("bitcast_convert", x)?.1;
        let out = shape::bitcast_convert(&t, to)?;
        // XLA's simplifier folds two shape-changing bitcast_converts in a row into one with
        // the wrong shape (0.115 CPU plugin: "Expected instruction to have shape equal to
        // s8[2,1,4], actual shape is s8[2,1,2,2]"), also when they only become adjacent after
        // other simplifications; a barrier before every shape-changing bitcast prevents it.
        let mut x = x;
        if out.dims != t.dims && !matches!(self.op(x)?, Op::OptimizationBarrier) {
            x = self.optimization_barrier(&[x])?[0];
        }
        Ok(self.push1(Op::BitcastConvert, &[x], out))
    }

    // ---------------------------------------------------------------- movement

    /// Same elements, new dimensions (equal element count).
    ///
    /// Shapes: `T[a...] -> T[dims]`, `prod(a) == prod(dims)`.
    pub fn reshape(&mut self, x: Tensor, dims: impl AsRef<[i64]>) -> Result<Tensor> {
        let t = self.value("reshape", x)?.1;
        let out = shape::reshape(&t, dims.as_ref())?;
        if out == t {
            return Ok(x);
        }
        Ok(self.push1(Op::Reshape, &[x], out))
    }

    /// Result axis i is operand axis `permutation[i]`.
    ///
    /// Shapes: `T[d...] -> T[d[permutation[0]], d[permutation[1]], ...]`.
    pub fn transpose(&mut self, x: Tensor, permutation: impl AsRef<[i64]>) -> Result<Tensor> {
        let permutation = permutation.as_ref();
        let t = self.value("transpose", x)?.1;
        let out = shape::transpose(&t, permutation)?;
        Ok(self.push1(
            Op::Transpose {
                permutation: permutation.to_vec(),
            },
            &[x],
            out,
        ))
    }

    /// Operand axis i becomes result axis `broadcast_dimensions[i]` of `T[dims]`.
    ///
    /// Shapes: `T[a...] -> T[dims]`, `a[i]` is 1 or `dims[broadcast_dimensions[i]]`.
    pub fn broadcast_in_dim(
        &mut self,
        x: Tensor,
        dims: impl AsRef<[i64]>,
        broadcast_dimensions: impl AsRef<[i64]>,
    ) -> Result<Tensor> {
        let t = self.value("broadcast_in_dim", x)?.1;
        let out = shape::broadcast_in_dim(&t, dims.as_ref(), broadcast_dimensions.as_ref())?;
        Ok(self.push1(
            Op::BroadcastInDim {
                broadcast_dimensions: broadcast_dimensions.as_ref().to_vec(),
            },
            &[x],
            out,
        ))
    }

    /// Static slice: `[start, limit)` with `strides` per axis.
    ///
    /// Shapes: `T[d...] -> T[ceil((limit - start) / strides)...]`.
    pub fn slice(
        &mut self,
        x: Tensor,
        start: impl AsRef<[i64]>,
        limit: impl AsRef<[i64]>,
        strides: impl AsRef<[i64]>,
    ) -> Result<Tensor> {
        let (start, limit, strides) = (start.as_ref(), limit.as_ref(), strides.as_ref());
        let t = self.value("slice", x)?.1;
        let out = shape::slice(&t, start, limit, strides)?;
        Ok(self.push1(
            Op::Slice {
                start: start.to_vec(),
                limit: limit.to_vec(),
                strides: strides.to_vec(),
            },
            &[x],
            out,
        ))
    }

    /// `[start, limit)` along one axis, stride 1.
    ///
    /// Shapes: `T[d...] -> T[d...]` with axis `axis` of size `limit - start`.
    pub fn slice_axis(&mut self, x: Tensor, axis: i64, start: i64, limit: i64) -> Result<Tensor> {
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
        x: Tensor,
        starts: &[Tensor],
        slice_sizes: impl AsRef<[i64]>,
    ) -> Result<Tensor> {
        let t = self.value("dynamic_slice", x)?.1;
        let st = self.types("dynamic_slice", starts)?;
        let out = shape::dynamic_slice(&t, &st.iter().collect::<Vec<_>>(), slice_sizes.as_ref())?;
        let mut ops = vec![x];
        ops.extend_from_slice(starts);
        Ok(self.push1(
            Op::DynamicSlice {
                slice_sizes: slice_sizes.as_ref().to_vec(),
            },
            &ops,
            out,
        ))
    }

    /// `x` with `update` written at runtime start indices (clamped into range).
    ///
    /// Shapes: `T[d...], T[u...], S[]... -> T[d...]` with `u <= d`.
    pub fn dynamic_update_slice(
        &mut self,
        x: Tensor,
        update: Tensor,
        starts: &[Tensor],
    ) -> Result<Tensor> {
        let t = self.value("dynamic_update_slice", x)?.1;
        let u = self.value("dynamic_update_slice", update)?.1;
        let st = self.types("dynamic_update_slice", starts)?;
        let out = shape::dynamic_update_slice(&t, &u, &st.iter().collect::<Vec<_>>())?;
        let mut ops = vec![x, update];
        ops.extend_from_slice(starts);
        Ok(self.push1(Op::DynamicUpdateSlice, &ops, out))
    }

    /// Joins tensors along `dimension` (other axes equal).
    ///
    /// Shapes: `T[a..., n_i, b...]... -> T[a..., sum(n_i), b...]`.
    pub fn concatenate(&mut self, xs: &[Tensor], dimension: i64) -> Result<Tensor> {
        let tys = self.types("concatenate", xs)?;
        let out = shape::concatenate(&tys.iter().collect::<Vec<_>>(), dimension)?;
        Ok(self.push1(Op::Concatenate { dimension }, xs, out))
    }

    /// Pads with the scalar `value`: `low`/`high` (may be negative) and `interior` per axis.
    ///
    /// Shapes: `T[d...], T[] -> T[low + high + d + (d - 1) * interior ...]`.
    pub fn pad(
        &mut self,
        x: Tensor,
        value: Tensor,
        low: impl AsRef<[i64]>,
        high: impl AsRef<[i64]>,
        interior: impl AsRef<[i64]>,
    ) -> Result<Tensor> {
        let (low, high, interior) = (low.as_ref(), high.as_ref(), interior.as_ref());
        let t = self.value("pad", x)?.1;
        let v = self.value("pad", value)?.1;
        let out = shape::pad(&t, &v, low, high, interior)?;
        Ok(self.push1(
            Op::Pad {
                low: low.to_vec(),
                high: high.to_vec(),
                interior: interior.to_vec(),
            },
            &[x, value],
            out,
        ))
    }

    /// Reverses the order of elements along `dimensions`.
    ///
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn reverse(&mut self, x: Tensor, dimensions: impl AsRef<[i64]>) -> Result<Tensor> {
        let t = self.value("reverse", x)?.1;
        let out = shape::reverse(&t, dimensions.as_ref())?;
        Ok(self.push1(
            Op::Reverse {
                dimensions: dimensions.as_ref().to_vec(),
            },
            &[x],
            out,
        ))
    }

    /// StableHLO gather; see [`shape::gather`].
    ///
    /// Shapes: `T[operand...], S[indices...] -> T[batch axes of indices interleaved with the uncollapsed slice sizes at offset_dims]`.
    pub fn gather(
        &mut self,
        x: Tensor,
        indices: Tensor,
        dims: GatherDims,
        slice_sizes: impl AsRef<[i64]>,
        indices_are_sorted: bool,
    ) -> Result<Tensor> {
        let t = self.value("gather", x)?.1;
        let i = self.value("gather", indices)?.1;
        let out = shape::gather(&t, &i, &dims, slice_sizes.as_ref())?;
        Ok(self.push1(
            Op::Gather {
                dims,
                slice_sizes: slice_sizes.as_ref().to_vec(),
                indices_are_sorted,
            },
            &[x, indices],
            out,
        ))
    }

    /// StableHLO scatter of `updates` into `inputs` at `indices`, combining old and new values
    /// with `update` (a computation of 2N scalars -> N scalars). Returns N results.
    ///
    /// Shapes: `T_i[operand...] (N), S[indices...], T_i[updates...] (N) -> T_i[operand...] (N)`.
    // One argument per attribute of StableHLO's scatter.
    #[allow(clippy::too_many_arguments)]
    pub fn scatter_with(
        &mut self,
        inputs: &[Tensor],
        indices: Tensor,
        updates: &[Tensor],
        dims: ScatterDims,
        update: Arc<Computation>,
        indices_are_sorted: bool,
        unique_indices: bool,
    ) -> Result<Vec<Tensor>> {
        let it = self.types("scatter", inputs)?;
        let ix = self.value("scatter", indices)?.1;
        let ut = self.types("scatter", updates)?;
        let out = shape::scatter(
            &it.iter().collect::<Vec<_>>(),
            &ix,
            &ut.iter().collect::<Vec<_>>(),
            &dims,
            &update,
        )?;
        let mut ops = inputs.to_vec();
        ops.push(indices);
        ops.extend_from_slice(updates);
        Ok(self.push(
            Op::Scatter {
                dims,
                update,
                indices_are_sorted,
                unique_indices,
            },
            &ops,
            out,
        ))
    }

    /// [`Builder::scatter_with`] with the update computation recorded from a closure that gets
    /// (old..., new...) scalars.
    ///
    /// Shapes: `T_i[operand...] (N), S[indices...], T_i[updates...] (N) -> T_i[operand...] (N)`.
    pub fn scatter(
        &mut self,
        inputs: &[Tensor],
        indices: Tensor,
        updates: &[Tensor],
        dims: ScatterDims,
        update: impl RegionFn,
    ) -> Result<Vec<Tensor>> {
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
        xs: &[Tensor],
        dimension: i64,
        is_stable: bool,
        comparator: Arc<Computation>,
    ) -> Result<Vec<Tensor>> {
        let tys = self.types("sort", xs)?;
        let out = shape::sort(&tys.iter().collect::<Vec<_>>(), dimension, &comparator)?;
        Ok(self.push(
            Op::Sort {
                dimension,
                is_stable,
                comparator,
            },
            xs,
            out,
        ))
    }

    /// [`Builder::sort_with`] with the comparator recorded from a closure.
    ///
    /// Shapes: `T_i[d...] (N) -> T_i[d...] (N)`.
    pub fn sort(
        &mut self,
        xs: &[Tensor],
        dimension: i64,
        is_stable: bool,
        comparator: impl RegionFn,
    ) -> Result<Vec<Tensor>> {
        let tys = self.types("sort", xs)?;
        let mut params = Vec::new();
        for t in &tys {
            params.push(TensorType::scalar(t.ty));
            params.push(TensorType::scalar(t.ty));
        }
        let c = Builder::computation("sort_comparator", &params, comparator)?;
        self.sort_with(xs, dimension, is_stable, c)
    }

    // ---------------------------------------------------------------- contractions

    /// General dot: result axes are batch, lhs free, rhs free (see [`shape::dot_general`]).
    ///
    /// Shapes: `T[lhs...], T[rhs...] -> T[batch..., lhs free..., rhs free...]`.
    pub fn dot_general(
        &mut self,
        lhs: Tensor,
        rhs: Tensor,
        dims: DotDims,
        precision: [Precision; 2],
    ) -> Result<Tensor> {
        let l = self.value("dot_general", lhs)?.1;
        let r = self.value("dot_general", rhs)?.1;
        let out = shape::dot_general(&l, &r, &dims)?;
        Ok(self.push1(Op::DotGeneral { dims, precision }, &[lhs, rhs], out))
    }

    /// Convolution of `input` with `kernel`; see [`shape::convolution`].
    ///
    /// Shapes: `T[input], T[kernel] -> T[output]`, output batch = input batch / batch_group_count, output features = kernel output features, spatial size `(padded dilated input - dilated window) / stride + 1`.
    pub fn convolution(
        &mut self,
        input: Tensor,
        kernel: Tensor,
        config: ConvConfig,
    ) -> Result<Tensor> {
        let i = self.value("convolution", input)?.1;
        let k = self.value("convolution", kernel)?.1;
        let out = shape::convolution(&i, &k, &config)?;
        Ok(self.push1(Op::Convolution(Box::new(config)), &[input, kernel], out))
    }

    // ---------------------------------------------------------------- reductions

    /// Reduces N same-shape tensors over `dimensions` with `body` ((acc..., x...) -> acc...),
    /// starting from scalar `inits`. Results drop the reduced axes.
    ///
    /// Shapes: `T_i[d...] (N), T_i[] (N) -> T_i[d without dimensions] (N)`.
    pub fn reduce_with(
        &mut self,
        xs: &[Tensor],
        inits: &[Tensor],
        dimensions: impl AsRef<[i64]>,
        body: Arc<Computation>,
    ) -> Result<Vec<Tensor>> {
        let xt = self.types("reduce", xs)?;
        let it = self.types("reduce", inits)?;
        let out = shape::reduce(
            &xt.iter().collect::<Vec<_>>(),
            &it.iter().collect::<Vec<_>>(),
            dimensions.as_ref(),
            &body,
        )?;
        let mut ops = xs.to_vec();
        ops.extend_from_slice(inits);
        Ok(self.push(
            Op::Reduce {
                dimensions: dimensions.as_ref().to_vec(),
                body,
            },
            &ops,
            out,
        ))
    }

    /// [`Builder::reduce_with`] with the body recorded from a closure.
    ///
    /// Shapes: `T_i[d...] (N), T_i[] (N) -> T_i[d without dimensions] (N)`.
    pub fn reduce(
        &mut self,
        xs: &[Tensor],
        inits: &[Tensor],
        dimensions: impl AsRef<[i64]>,
        body: impl RegionFn,
    ) -> Result<Vec<Tensor>> {
        let it = self.types("reduce", inits)?;
        let mut params = it.clone();
        params.extend(it.iter().cloned());
        let c = Builder::computation("reducer", &params, body)?;
        self.reduce_with(xs, inits, dimensions, c)
    }

    /// Sliding-window reduction (pooling) with a body as in [`Builder::reduce_with`].
    ///
    /// Shapes: `T_i[d...] (N), T_i[] (N) -> T_i[(padded dilated d - dilated window) / stride + 1 ...] (N)`.
    pub fn reduce_window_with(
        &mut self,
        xs: &[Tensor],
        inits: &[Tensor],
        window: WindowConfig,
        body: Arc<Computation>,
    ) -> Result<Vec<Tensor>> {
        let xt = self.types("reduce_window", xs)?;
        let it = self.types("reduce_window", inits)?;
        let out = shape::reduce_window(
            &xt.iter().collect::<Vec<_>>(),
            &it.iter().collect::<Vec<_>>(),
            &window,
            &body,
        )?;
        let mut ops = xs.to_vec();
        ops.extend_from_slice(inits);
        Ok(self.push(Op::ReduceWindow { window, body }, &ops, out))
    }

    /// [`Builder::reduce_window_with`] with the body recorded from a closure.
    ///
    /// Shapes: `T_i[d...] (N), T_i[] (N) -> T_i[(padded dilated d - dilated window) / stride + 1 ...] (N)`.
    pub fn reduce_window(
        &mut self,
        xs: &[Tensor],
        inits: &[Tensor],
        window: WindowConfig,
        body: impl RegionFn,
    ) -> Result<Vec<Tensor>> {
        let it = self.types("reduce_window", inits)?;
        let mut params = it.clone();
        params.extend(it.iter().cloned());
        let c = Builder::computation("window_reducer", &params, body)?;
        self.reduce_window_with(xs, inits, window, c)
    }

    // ---------------------------------------------------------------- control flow

    /// `while cond(state) { state = body(state) }`; returns the final state.
    ///
    /// Shapes: `S_i (N) -> S_i (N)`.
    pub fn while_loop_with(
        &mut self,
        state: &[Tensor],
        cond: Arc<Computation>,
        body: Arc<Computation>,
    ) -> Result<Vec<Tensor>> {
        let st = self.types("while", state)?;
        let out = shape::while_loop(&st, &cond, &body)?;
        Ok(self.push(Op::While { cond, body }, state, out))
    }

    /// [`Builder::while_loop_with`] with cond and body recorded from closures.
    ///
    /// Shapes: `S_i (N) -> S_i (N)`.
    pub fn while_loop(
        &mut self,
        state: &[Tensor],
        cond: impl RegionFn,
        body: impl RegionFn,
    ) -> Result<Vec<Tensor>> {
        let st = self.types("while", state)?;
        let c = Builder::computation("while_cond", &st, cond)?;
        let b = Builder::computation("while_body", &st, body)?;
        self.while_loop_with(state, c, b)
    }

    /// `if pred { true_branch(args) } else { false_branch(args) }`; `pred` is pred[].
    ///
    /// Shapes: `pred[], A_i (N) -> R_j` (the branches' common result types).
    pub fn cond_with(
        &mut self,
        pred: Tensor,
        args: &[Tensor],
        true_branch: Arc<Computation>,
        false_branch: Arc<Computation>,
    ) -> Result<Vec<Tensor>> {
        let p = self.value("if", pred)?.1;
        if p != TensorType::scalar(ElementType::Pred) {
            return shape_err("if", format!("condition {p} must be pred[]"));
        }
        let at = self.types("if", args)?;
        let out = shape::branches("if", &at, &[&true_branch, &false_branch])?;
        let mut ops = vec![pred];
        ops.extend_from_slice(args);
        Ok(self.push(
            Op::If {
                true_branch,
                false_branch,
            },
            &ops,
            out,
        ))
    }

    /// [`Builder::cond_with`] with both branches recorded from closures over `args`.
    ///
    /// Shapes: `pred[], A_i (N) -> R_j` (the branches' common result types).
    pub fn cond(
        &mut self,
        pred: Tensor,
        args: &[Tensor],
        true_branch: impl RegionFn,
        false_branch: impl RegionFn,
    ) -> Result<Vec<Tensor>> {
        let at = self.types("if", args)?;
        let t = Builder::computation("if_true", &at, true_branch)?;
        let f = Builder::computation("if_false", &at, false_branch)?;
        self.cond_with(pred, args, t, f)
    }

    /// Runs branch `index` (s32[]; out of range runs the last branch) on `args`, each branch
    /// recorded from a closure that receives its own builder and `args`' values.
    ///
    /// Shapes: `s32[], A_i (N) -> R_j` (the branches' common result types).
    pub fn case(
        &mut self,
        index: Tensor,
        args: &[Tensor],
        branches: Vec<BranchFn<'_>>,
    ) -> Result<Vec<Tensor>> {
        let at = self.types("case", args)?;
        let mut recorded = Vec::with_capacity(branches.len());
        for (k, f) in branches.into_iter().enumerate() {
            recorded.push(Builder::computation(format!("case_{k}"), &at, f)?);
        }
        self.case_with(index, args, recorded)
    }

    /// [`case`](Self::case) with branches made by [`Builder::computation`] taking the types
    /// of `args`.
    ///
    /// Shapes: `s32[], A_i (N) -> R_j` (the branches' common result types).
    pub fn case_with(
        &mut self,
        index: Tensor,
        args: &[Tensor],
        branches: Vec<Arc<Computation>>,
    ) -> Result<Vec<Tensor>> {
        let i = self.value("case", index)?.1;
        if i != TensorType::scalar(ElementType::S32) {
            return shape_err("case", format!("index {i} must be s32[]"));
        }
        let at = self.types("case", args)?;
        let out = shape::branches(
            "case",
            &at,
            &branches.iter().map(|b| b.as_ref()).collect::<Vec<_>>(),
        )?;
        let mut ops = vec![index];
        ops.extend_from_slice(args);
        Ok(self.push(Op::Case { branches }, &ops, out))
    }

    /// Calls `callee` (made with [`Builder::computation`]); it is emitted once per module as a
    /// private function.
    ///
    /// Shapes: `A_i (callee parameters) -> R_j (callee results)`.
    pub fn call(&mut self, callee: &Arc<Computation>, args: &[Tensor]) -> Result<Vec<Tensor>> {
        let at = self.types("call", args)?;
        let params = callee.param_types();
        if at != params {
            return shape_err(
                "call",
                format!(
                    "`{}` takes ({}), got ({})",
                    callee.name,
                    shape::list(&params),
                    shape::list(&at)
                ),
            );
        }
        let out = callee.result_types();
        Ok(self.push(
            Op::Call {
                callee: callee.clone(),
            },
            args,
            out,
        ))
    }

    // ---------------------------------------------------------------- misc

    /// Random bits of type `out` from a `u64[2]` state; returns (new state, bits).
    ///
    /// Shapes: `u64[2] -> (u64[2], out)`.
    pub fn rng_bit_generator(
        &mut self,
        state: Tensor,
        algorithm: RngAlgorithm,
        out: TensorType,
    ) -> Result<(Tensor, Tensor)> {
        let s = self.value("rng_bit_generator", state)?.1;
        let tys = shape::rng_bit_generator(&s, algorithm, &out)?;
        let r = self.push(Op::RngBitGenerator { algorithm }, &[state], tys);
        Ok((r[0], r[1]))
    }

    /// Identity that the compiler may not move ops across.
    ///
    /// Shapes: `T_i (N) -> T_i (N)`.
    pub fn optimization_barrier(&mut self, xs: &[Tensor]) -> Result<Vec<Tensor>> {
        let tys = self.types("optimization_barrier", xs)?;
        Ok(self.push(Op::OptimizationBarrier, xs, tys))
    }

    /// A call to a backend-specific target; the result types are the caller's claim.
    ///
    /// Shapes: `A_i (N) -> results` (as declared).
    pub fn custom_call(
        &mut self,
        target: impl Into<String>,
        args: &[Tensor],
        results: &[TensorType],
        backend_config: impl Into<String>,
        has_side_effect: bool,
    ) -> Result<Vec<Tensor>> {
        self.types("custom_call", args)?;
        let target = target.into();
        if target.is_empty()
            || !target
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-$".contains(c))
        {
            return shape_err("custom_call", format!("target name {target:?} must be non-empty ASCII letters, digits, '_', '.', '-' or '$'"));
        }
        for r in results {
            shape::check_element_type("custom_call", r.ty)?;
            shape::check_dims("custom_call", &r.dims)?;
        }
        Ok(self.push(
            Op::CustomCall {
                target,
                backend_config: backend_config.into(),
                has_side_effect,
            },
            args,
            results.to_vec(),
        ))
    }
}

/// Little-endian bytes of one element of `ty` holding `v`, for the types with a host form.
pub(crate) fn scalar_bytes(ty: ElementType, v: f64) -> Option<SmallVec<[u8; 16]>> {
    use ElementType::*;
    let b: SmallVec<[u8; 16]> = match ty {
        Pred => SmallVec::from_slice(&[(v != 0.0) as u8]),
        S8 => SmallVec::from_slice(&(v as i8).to_le_bytes()),
        S16 => SmallVec::from_slice(&(v as i16).to_le_bytes()),
        S32 => SmallVec::from_slice(&(v as i32).to_le_bytes()),
        S64 => SmallVec::from_slice(&(v as i64).to_le_bytes()),
        U8 => SmallVec::from_slice(&(v as u8).to_le_bytes()),
        U16 => SmallVec::from_slice(&(v as u16).to_le_bytes()),
        U32 => SmallVec::from_slice(&(v as u32).to_le_bytes()),
        U64 => SmallVec::from_slice(&(v as u64).to_le_bytes()),
        F16 => SmallVec::from_slice(&half::f16::from_f64(v).to_le_bytes()),
        BF16 => SmallVec::from_slice(&half::bf16::from_f64(v).to_le_bytes()),
        F32 => SmallVec::from_slice(&(v as f32).to_le_bytes()),
        F64 => SmallVec::from_slice(&v.to_le_bytes()),
        C64 => {
            let mut b = SmallVec::from_slice(&(v as f32).to_le_bytes());
            b.extend_from_slice(&0f32.to_le_bytes());
            b
        }
        C128 => {
            let mut b = SmallVec::from_slice(&v.to_le_bytes());
            b.extend_from_slice(&0f64.to_le_bytes());
            b
        }
        _ => return None,
    };
    Some(b)
}
