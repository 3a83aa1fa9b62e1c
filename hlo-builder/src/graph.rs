//! The recorded graph: an arena of nodes, each a closed [`Op`] with its attributes, its
//! operand values, its regions and its result types. This is the public data structure
//! autodiff walks.

use std::sync::Arc;

use smallvec::SmallVec;

use crate::ops::{Op, Signature, SourceOp};
use crate::types::TensorType;

/// Index of a node in its graph's arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The position in the graph's node arena.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One result of one node (ops like `sort`, `while` or `reduce` have several results).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId {
    /// The node that produces it.
    pub node: NodeId,
    /// Which of the node's results (0 for single-result ops).
    pub output: u32,
}

/// A handle to a value recorded in a [`crate::Builder`]: small and `Copy`. It remembers which
/// builder made it (by a 64-bit id that is never reused), so passing it to another builder is
/// an error, not a wrong program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Value {
    pub(crate) builder: u64,
    pub(crate) value: ValueId,
}

impl Value {
    /// The value this handle names inside its builder's graph.
    pub fn value(self) -> ValueId {
        self.value
    }
    /// The node that produces the value.
    pub fn node(self) -> NodeId {
        self.value.node
    }
    /// Which of that node's results it is.
    pub fn output(self) -> u32 {
        self.value.output
    }
    /// The id of the builder that recorded it.
    pub fn builder_id(self) -> u64 {
        self.builder
    }
}

/// One recorded operation.
#[derive(Debug, Clone)]
pub struct Node {
    /// What the node computes, with its attributes.
    pub op: Op,
    /// Its operands, in the order its op documents.
    pub operands: SmallVec<[ValueId; 2]>,
    /// The op's regions (reducer, comparator, loop cond and body, branches, callee), in the
    /// order its family documents.
    pub regions: SmallVec<[Arc<Computation>; 1]>,
    /// One type per result.
    pub types: SmallVec<[TensorType; 1]>,
}

/// An arena of nodes in recording order (operands always come before their users).
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub(crate) nodes: Vec<Node>,
    pub(crate) params: Vec<NodeId>,
    /// The deepest nesting of regions (and calls) below this graph's nodes (0: none).
    pub(crate) region_depth: u32,
    /// Ops once regions and calls are inlined, each counted once per use.
    pub(crate) emitted_ops: u64,
}

impl Graph {
    /// Every node, in recording order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }
    /// The node `id`, if it is in this graph.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.index())
    }
    /// The parameter nodes, in parameter order.
    pub fn parameters(&self) -> &[NodeId] {
        &self.params
    }
    /// The type of a value, if it exists.
    pub fn ty(&self, v: ValueId) -> Option<&TensorType> {
        self.nodes.get(v.node.index())?.types.get(v.output as usize)
    }
    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }
    /// How deeply regions and calls nest below this graph (0 when no node has a region);
    /// at most [`crate::MAX_REGION_DEPTH`].
    pub fn region_depth(&self) -> u32 {
        self.region_depth
    }
    /// How many ops this graph holds once every region and callee is counted once per use
    /// (what XLA compiles after inlining); at most [`crate::MAX_EMITTED_OPS`].
    pub fn emitted_ops(&self) -> u64 {
        self.emitted_ops
    }
    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// A finished function body: a graph, its parameters (the graph's parameter nodes) and its
/// results. Used for module functions and for op regions (reducers, comparators, loop bodies,
/// branches, callees).
#[derive(Debug, Clone)]
pub struct Computation {
    /// The function's name (regions get generated names).
    pub name: String,
    /// Its body.
    pub graph: Graph,
    /// The values it returns, in order.
    pub results: Vec<ValueId>,
}

impl Computation {
    /// The parameter types, in parameter order.
    pub fn param_types(&self) -> Vec<TensorType> {
        self.graph
            .params
            .iter()
            .filter_map(|p| match &self.graph.node(*p)?.op {
                Op::Source(SourceOp::Parameter { ty, .. }) => Some(ty.clone()),
                _ => None,
            })
            .collect()
    }
    /// The result types, in result order.
    pub fn result_types(&self) -> Vec<TensorType> {
        self.results
            .iter()
            .filter_map(|v| self.graph.ty(*v).cloned())
            .collect()
    }
    /// Its name, parameter types and result types: what shape rules check.
    pub fn signature(&self) -> Signature {
        Signature {
            name: self.name.clone(),
            params: self.param_types(),
            results: self.result_types(),
        }
    }
}
