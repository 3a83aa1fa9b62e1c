//! The [`Builder`]: records primitives into a [`Graph`], checking each as it is recorded.
//!
//! Every op enters the graph through one checked path, [`Builder::record`]: the op's shape
//! rule runs on the operand types and region signatures, then the node is appended. The
//! builder methods of each family (`crate::methods`) and autodiff's rules all record through
//! it, and [`Builder::inline`] replays a computation through it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use smallvec::SmallVec;

use crate::checks;
use crate::error::{shape_err, Error, Result};
use crate::graph::{Computation, Graph, Node, NodeId, Value, ValueId};
use crate::module::Module;
use crate::ops::common::Signature;
use crate::ops::{common, MiscOp, Op, ShapeOp, SourceOp};
use crate::types::{ElementType, TensorType};

/// Ids are 64-bit and never reused, so a stale tensor can never name another builder's value.
static NEXT_BUILDER_ID: AtomicU64 = AtomicU64::new(1);

/// Records a function: parameters, ops and (at [`Builder::build`]) results.
///
/// Every op method checks operand shapes and element types when it is called and returns an
/// [`Error`] naming the op, the shapes and the axes when they do not fit; nothing is lowered
/// until [`Builder::build`].
#[derive(Debug)]
pub struct Builder {
    id: u64,
    name: String,
    graph: Graph,
}

/// A closure that records a region body: it gets a fresh builder and the region's arguments,
/// and returns the region's results.
pub trait RegionFn: FnOnce(&mut Builder, &[Value]) -> Result<Vec<Value>> {}
impl<F: FnOnce(&mut Builder, &[Value]) -> Result<Vec<Value>>> RegionFn for F {}

/// One branch of [`Builder::case`], as a boxed closure (branches differ in type).
pub type BranchFn<'a> = Box<dyn FnOnce(&mut Builder, &[Value]) -> Result<Vec<Value>> + 'a>;

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
    pub fn id(&self) -> u64 {
        self.id
    }
    /// The name the builder was made with; the module's function is called this.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The recorded graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The handle of a value of this builder's graph.
    pub fn tensor(&self, v: ValueId) -> Value {
        Value {
            builder: self.id,
            value: v,
        }
    }

    /// The node that produced `t`.
    pub fn node(&self, t: Value) -> Result<&Node> {
        self.value("node", t)?;
        self.graph.node(t.value.node).ok_or(Error::UnknownTensor {
            op: "node",
            node: t.value.node.0,
            output: t.value.output,
        })
    }
    /// The op that produced `t`.
    pub fn op(&self, t: Value) -> Result<&Op> {
        Ok(&self.node(t)?.op)
    }
    /// The type of `t`.
    pub fn ty(&self, t: Value) -> Result<&TensorType> {
        self.value("ty", t)?;
        self.graph.ty(t.value).ok_or(Error::UnknownTensor {
            op: "ty",
            node: t.value.node.0,
            output: t.value.output,
        })
    }
    /// The dimensions of `t`.
    pub fn dims(&self, t: Value) -> Result<&[i64]> {
        Ok(&self.ty(t)?.dims)
    }
    /// The operands of the node that produced `t`, as handles.
    pub fn operands(&self, t: Value) -> Result<Vec<Value>> {
        Ok(self
            .node(t)?
            .operands
            .iter()
            .map(|v| self.tensor(*v))
            .collect())
    }
    /// All results of a node, as handles.
    pub fn results(&self, node: NodeId) -> Vec<Value> {
        match self.graph.node(node) {
            Some(n) => (0..n.types.len() as u32)
                .map(|o| self.tensor(ValueId { node, output: o }))
                .collect(),
            None => Vec::new(),
        }
    }
    /// The parameters recorded so far, in order.
    pub fn parameters(&self) -> Vec<Value> {
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

    /// Checks that `t` is a value of this builder; returns its id and type.
    pub(crate) fn value(&self, op: &'static str, t: Value) -> Result<(ValueId, TensorType)> {
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

    /// The types of values of this builder.
    pub(crate) fn types(&self, op: &'static str, ts: &[Value]) -> Result<Vec<TensorType>> {
        ts.iter().map(|t| self.value(op, *t).map(|v| v.1)).collect()
    }

    /// Records `op` on `operands` (in the operand order its family documents) with `regions`:
    /// the one checked path every op takes into the graph. The op's shape rule runs first;
    /// nothing is recorded when it fails. Returns the node's results.
    pub fn record(
        &mut self,
        op: &Op,
        operands: &[Value],
        regions: &[Arc<Computation>],
    ) -> Result<Vec<Value>> {
        self.record_owned(op.clone(), operands, regions.iter().cloned().collect())
    }

    /// [`record`](Self::record) taking the op and regions by value.
    pub(crate) fn record_owned(
        &mut self,
        op: Op,
        operands: &[Value],
        regions: SmallVec<[Arc<Computation>; 1]>,
    ) -> Result<Vec<Value>> {
        let (node, n) = self.record_node(op, operands, regions)?;
        Ok((0..n)
            .map(|o| self.tensor(ValueId { node, output: o }))
            .collect())
    }

    /// [`record`](Self::record) for an op with one result and no regions.
    pub(crate) fn record1(&mut self, op: impl Into<Op>, operands: &[Value]) -> Result<Value> {
        let (node, n) = self.record_node(op.into(), operands, SmallVec::new())?;
        if n != 1 {
            // (The name is only needed for the error: the op has moved into the graph.)
            let name = self.graph.nodes[node.0 as usize].op.name();
            return shape_err(name, format!("has {n} results, expected one"));
        }
        Ok(self.tensor(ValueId { node, output: 0 }))
    }

    /// The checked path itself: operand checks, the op's shape rule, then the node appended.
    /// Returns the node and its number of results. The operand types are borrowed (not
    /// copied) for the shape rule, and nothing is allocated for an op's operand list of up to
    /// four.
    fn record_node(
        &mut self,
        op: Op,
        operands: &[Value],
        regions: SmallVec<[Arc<Computation>; 1]>,
    ) -> Result<(NodeId, u32)> {
        if let Op::Source(SourceOp::Parameter { .. }) = op {
            return shape_err(
                op.name(),
                "parameters are recorded with `Builder::parameter`",
            );
        }
        let out = {
            let mut tys: SmallVec<[&TensorType; 4]> = SmallVec::with_capacity(operands.len());
            for t in operands {
                match self.type_of(*t) {
                    Some(ty) => tys.push(ty),
                    // The full check, for its error naming the op and the value.
                    None => return Err(self.value(op.name(), *t).unwrap_err()),
                }
            }
            let sigs: SmallVec<[Signature; 1]> = regions.iter().map(|c| c.signature()).collect();
            op.infer(&tys, &sigs)?
        };
        if out.len() > u32::MAX as usize {
            return shape_err(op.name(), format!("{} results are too many", out.len()));
        }
        // An op without results has nothing to use it and nothing to return: lowering it
        // would make every later `build` of this builder fail, so it is refused here.
        if out.is_empty() {
            return shape_err(
                op.name(),
                "has no results (no operands, or regions returning nothing); an op without \
                 results cannot be used or returned, so it is not recorded",
            );
        }
        let (depth, emitted) = checks::growth(
            &op,
            &regions,
            self.graph.region_depth,
            self.graph.emitted_ops,
        )?;
        let op = checks::sort_op(op, &regions)?;
        let n = out.len() as u32;
        let node = self.push_node(op, operands, regions, out);
        self.graph.region_depth = depth;
        self.graph.emitted_ops = emitted;
        Ok((node, n))
    }

    /// The type of a value of this builder, `None` for a foreign or unknown one.
    fn type_of(&self, t: Value) -> Option<&TensorType> {
        if t.builder != self.id {
            return None;
        }
        self.graph.ty(t.value)
    }

    /// Appends a node whose types were already inferred. Operands must be checked.
    fn push(
        &mut self,
        op: Op,
        operands: &[Value],
        regions: SmallVec<[Arc<Computation>; 1]>,
        types: Vec<TensorType>,
    ) -> Vec<Value> {
        let n = types.len() as u32;
        let node = self.push_node(op, operands, regions, types);
        (0..n)
            .map(|o| self.tensor(ValueId { node, output: o }))
            .collect()
    }

    /// [`push`](Self::push) returning the new node.
    fn push_node(
        &mut self,
        op: Op,
        operands: &[Value],
        regions: SmallVec<[Arc<Computation>; 1]>,
        types: Vec<TensorType>,
    ) -> NodeId {
        let node = NodeId(self.graph.nodes.len() as u32);
        self.graph.nodes.push(Node {
            op,
            operands: operands.iter().map(|t| t.value).collect(),
            regions,
            types: types.into(),
        });
        node
    }

    /// Finishes the function with `results` and returns it as a [`Computation`].
    pub fn finish(self, results: &[Value]) -> Result<Computation> {
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
    pub fn build(&self, results: &[Value]) -> Result<Module> {
        Module::new(Arc::new(self.main_computation(results)?))
    }

    /// The function `main` returning `results` (the graph is copied).
    fn main_computation(&self, results: &[Value]) -> Result<Computation> {
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
        results: &[Value],
        donations: &[(usize, usize)],
    ) -> Result<Module> {
        Module::with_donations(Arc::new(self.main_computation(results)?), donations)
    }

    /// Builds a module partitioned over a device mesh (see [`Module::partitioned`]):
    /// parameters and results sharded as `partitioning` says.
    pub fn build_partitioned(
        &self,
        results: &[Value],
        partitioning: crate::Partitioning,
    ) -> Result<Module> {
        Module::partitioned(Arc::new(self.main_computation(results)?), partitioning, &[])
    }

    /// [`build_partitioned`](Self::build_partitioned) with donated parameters (see
    /// [`Module::with_donations`]).
    pub fn build_partitioned_with_donations(
        &self,
        results: &[Value],
        partitioning: crate::Partitioning,
        donations: &[(usize, usize)],
    ) -> Result<Module> {
        Module::partitioned(
            Arc::new(self.main_computation(results)?),
            partitioning,
            donations,
        )
    }

    /// Lowers the function with `results`, donations (as
    /// [`build_with_donations`](Self::build_with_donations)) and its parameters and results
    /// placed in memory kinds ([`Module::with_placement`]).
    pub fn build_with_placement(
        &self,
        results: &[Value],
        donations: &[(usize, usize)],
        placement: &crate::placement::Placement,
    ) -> Result<Module> {
        Module::with_placement(
            Arc::new(self.main_computation(results)?),
            donations,
            placement,
        )
    }

    /// A function parameter of type `ty[dims]`; parameters are numbered in call order.
    ///
    /// Shapes: `-> ty[dims]`.
    pub fn parameter(
        &mut self,
        name: impl Into<String>,
        ty: ElementType,
        dims: impl AsRef<[i64]>,
    ) -> Result<Value> {
        let t = TensorType::new(ty, dims.as_ref());
        common::check_type("parameter", &t)?;
        let index = self.graph.params.len();
        let op = Op::Source(SourceOp::Parameter {
            index,
            name: name.into(),
            ty: t.clone(),
        });
        let r = self.push(op, &[], SmallVec::new(), vec![t]);
        self.graph.emitted_ops = self.graph.emitted_ops.saturating_add(1);
        let node = r[0].value.node;
        self.graph.params.push(node);
        Ok(r[0])
    }

    /// Replays `c` into this builder with `args` bound to its parameters; returns the values
    /// of its results. Every op goes through [`Builder::record`] again.
    pub fn inline(&mut self, c: &Computation, args: &[Value]) -> Result<Vec<Value>> {
        let want = c.param_types();
        let got = self.types("inline", args)?;
        if got != want {
            return shape_err(
                "inline",
                format!(
                    "`{}` takes ({}), got ({})",
                    c.name,
                    common::list(&want),
                    common::list(&got)
                ),
            );
        }
        self.replay(c, args, None)
    }

    /// Applies the scalar computation `c` elementwise to tensors of dimensions `dims`
    /// (`args` has `c`'s element types and those dimensions): [`inline`](Self::inline) with
    /// scalar constants broadcast. Only elementwise ops may appear in `c` (a reducer body).
    pub fn inline_elementwise(
        &mut self,
        c: &Computation,
        args: &[Value],
        dims: &[i64],
    ) -> Result<Vec<Value>> {
        self.replay(c, args, Some(dims))
    }

    fn replay(
        &mut self,
        c: &Computation,
        args: &[Value],
        elementwise: Option<&[i64]>,
    ) -> Result<Vec<Value>> {
        let mut vals: Vec<Vec<Value>> = Vec::with_capacity(c.graph.nodes.len());
        for node in &c.graph.nodes {
            let outs = match &node.op {
                Op::Source(SourceOp::Parameter { index, .. }) => {
                    vec![*args.get(*index).ok_or_else(|| Error::Shape {
                        op: "inline",
                        message: format!(
                            "computation `{}` uses parameter {index} but got {} arguments",
                            c.name,
                            args.len()
                        ),
                    })?]
                }
                op => {
                    let mut ops = Vec::with_capacity(node.operands.len());
                    for v in &node.operands {
                        let t = vals
                            .get(v.node.index())
                            .and_then(|r| r.get(v.output as usize))
                            .copied();
                        ops.push(t.ok_or(Error::UnknownTensor {
                            op: "inline",
                            node: v.node.0,
                            output: v.output,
                        })?);
                    }
                    match elementwise {
                        None => self.record(op, &ops, &node.regions)?,
                        Some(dims) => self.record_elementwise(&c.name, op, &ops, dims)?,
                    }
                }
            };
            vals.push(outs);
        }
        c.results
            .iter()
            .map(|r| {
                vals.get(r.node.index())
                    .and_then(|x| x.get(r.output as usize))
                    .copied()
                    .ok_or(Error::UnknownTensor {
                        op: "inline",
                        node: r.node.0,
                        output: r.output,
                    })
            })
            .collect()
    }

    /// One node of a scalar computation applied elementwise over `dims`.
    fn record_elementwise(
        &mut self,
        comp: &str,
        op: &Op,
        ops: &[Value],
        dims: &[i64],
    ) -> Result<Vec<Value>> {
        match op {
            Op::Source(SourceOp::Constant { ty, .. }) if ty.rank() == 0 => {
                let s = self.record(op, &[], &[])?;
                let b = ShapeOp::BroadcastInDim {
                    dims: dims.to_vec(),
                    broadcast_dimensions: Vec::new(),
                };
                Ok(vec![self.record1(b, &s)?])
            }
            Op::Elementwise(_) | Op::Misc(MiscOp::OptimizationBarrier) => {
                self.record(op, ops, &[])
            }
            other => shape_err(
                "inline_elementwise",
                format!(
                    "computation `{comp}` contains `{}`; only elementwise ops and scalar constants can be applied elementwise",
                    other.name()
                ),
            ),
        }
    }
}
