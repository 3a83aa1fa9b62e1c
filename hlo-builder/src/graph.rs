//! The recorded graph: an arena of nodes, each a closed [`Op`] with its attributes, its operand
//! values and its result types. This is the public data structure autodiff walks.

use std::sync::Arc;

use smallvec::SmallVec;

use crate::types::TensorType;

/// Index of a node in its graph's arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One result of one node (ops like `sort`, `while` or `reduce` have several results).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId {
    pub node: NodeId,
    pub output: u32,
}

/// A handle to a value recorded in a [`crate::Builder`]: small and `Copy`. It remembers which
/// builder made it, so passing it to another builder is an error, not a wrong program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tensor {
    pub(crate) builder: u32,
    pub(crate) value: ValueId,
}

impl Tensor {
    /// The value this handle names inside its builder's graph.
    pub fn value(self) -> ValueId {
        self.value
    }
    pub fn node(self) -> NodeId {
        self.value.node
    }
    pub fn output(self) -> u32 {
        self.value.output
    }
    /// The id of the builder that recorded it.
    pub fn builder_id(self) -> u32 {
        self.builder
    }
}

/// One recorded operation.
#[derive(Debug, Clone)]
pub struct Node {
    pub op: Op,
    pub operands: SmallVec<[ValueId; 2]>,
    /// One type per result.
    pub types: SmallVec<[TensorType; 1]>,
}

/// An arena of nodes in recording order (operands always come before their users).
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub(crate) nodes: Vec<Node>,
    pub(crate) params: Vec<NodeId>,
}

impl Graph {
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }
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
    pub fn len(&self) -> usize {
        self.nodes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// A finished function body: a graph, its parameters (the graph's `Parameter` nodes) and its
/// results. Used for module functions and for op regions (reducers, comparators, loop bodies,
/// branches, callees).
#[derive(Debug, Clone)]
pub struct Computation {
    pub name: String,
    pub graph: Graph,
    pub results: Vec<ValueId>,
}

impl Computation {
    pub fn param_types(&self) -> Vec<TensorType> {
        self.graph
            .params
            .iter()
            .filter_map(|p| self.graph.node(*p).and_then(|n| n.types.first().cloned()))
            .collect()
    }
    pub fn result_types(&self) -> Vec<TensorType> {
        self.results
            .iter()
            .filter_map(|v| self.graph.ty(*v).cloned())
            .collect()
    }
}

/// Constant payload: raw little-endian element bytes (pred: one byte per element, 0 or 1).
#[derive(Debug, Clone, PartialEq)]
pub enum ConstantValue {
    /// One element repeated over the whole shape.
    Splat(SmallVec<[u8; 16]>),
    /// Every element, row-major.
    Dense(Arc<[u8]>),
}

/// Declares an op enum once: its variants with their snake-case names, `ALL` (every variant,
/// in declaration order) and `name()`.
macro_rules! op_enum {
    (
        $(#[$meta:meta])*
        pub enum $ty:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $name:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $ty {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// Snake-case name used in errors.
            pub fn name(self) -> &'static str {
                match self {
                    $( $ty::$variant => $name, )+
                }
            }
        }
    };
}

op_enum! {
    /// Elementwise unary primitives.
    pub enum UnaryOp {
        Neg => "neg",
        Abs => "abs",
        Sign => "sign",
        Exp => "exp",
        Expm1 => "expm1",
        Log => "log",
        Log1p => "log1p",
        Sqrt => "sqrt",
        Rsqrt => "rsqrt",
        Cbrt => "cbrt",
        Tanh => "tanh",
        Logistic => "logistic",
        Sin => "sin",
        Cos => "cos",
        Tan => "tan",
        Floor => "floor",
        Ceil => "ceil",
        /// Round half away from zero.
        RoundNearestAfz => "round_nearest_afz",
        /// Round half to even.
        RoundNearestEven => "round_nearest_even",
        Not => "not",
        /// pred result: neither infinite nor NaN.
        IsFinite => "is_finite",
        Popcnt => "popcnt",
        CountLeadingZeros => "count_leading_zeros",
        /// Real part (complex -> float; identity on floats).
        Real => "real",
        /// Imaginary part (complex -> float; zero on floats).
        Imag => "imag",
    }
}

op_enum! {
    /// Elementwise binary primitives (operands of equal type and shape).
    pub enum BinaryOp {
        Add => "add",
        Sub => "sub",
        Mul => "mul",
        Div => "div",
        Rem => "rem",
        Pow => "pow",
        Max => "max",
        Min => "min",
        Atan2 => "atan2",
        And => "and",
        Or => "or",
        Xor => "xor",
        ShiftLeft => "shift_left",
        ShiftRightArithmetic => "shift_right_arithmetic",
        ShiftRightLogical => "shift_right_logical",
        /// Two floats -> complex (real, imaginary).
        Complex => "complex",
    }
}

/// Direction of an elementwise comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComparisonDirection {
    Eq,
    Ne,
    Ge,
    Gt,
    Le,
    Lt,
}

impl ComparisonDirection {
    pub const ALL: [ComparisonDirection; 6] = {
        use ComparisonDirection::*;
        [Eq, Ne, Ge, Gt, Le, Lt]
    };
}

/// Precision hint for `dot_general` and `convolution`, one per operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    #[default]
    Default,
    High,
    Highest,
}

/// Which axes of a `dot_general` are batch axes and which are contracted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DotDims {
    pub lhs_batch: Vec<i64>,
    pub rhs_batch: Vec<i64>,
    pub lhs_contracting: Vec<i64>,
    pub rhs_contracting: Vec<i64>,
}

/// The roles of the axes of a convolution's input, kernel and output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConvDims {
    pub input_batch: i64,
    pub input_feature: i64,
    pub input_spatial: Vec<i64>,
    pub kernel_input_feature: i64,
    pub kernel_output_feature: i64,
    pub kernel_spatial: Vec<i64>,
    pub output_batch: i64,
    pub output_feature: i64,
    pub output_spatial: Vec<i64>,
}

impl ConvDims {
    /// NHWC input, HWIO kernel, NHWC output with `spatial` spatial axes (TensorFlow's layout).
    pub fn nhwc(spatial: usize) -> ConvDims {
        let s = spatial as i64;
        ConvDims {
            input_batch: 0,
            input_feature: s + 1,
            input_spatial: (1..=s).collect(),
            kernel_input_feature: s,
            kernel_output_feature: s + 1,
            kernel_spatial: (0..s).collect(),
            output_batch: 0,
            output_feature: s + 1,
            output_spatial: (1..=s).collect(),
        }
    }
    /// NCHW input, OIHW kernel, NCHW output (PyTorch's layout).
    pub fn nchw(spatial: usize) -> ConvDims {
        let s = spatial as i64;
        ConvDims {
            input_batch: 0,
            input_feature: 1,
            input_spatial: (2..s + 2).collect(),
            kernel_input_feature: 1,
            kernel_output_feature: 0,
            kernel_spatial: (2..s + 2).collect(),
            output_batch: 0,
            output_feature: 1,
            output_spatial: (2..s + 2).collect(),
        }
    }
}

/// Every attribute of a convolution.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConvConfig {
    pub window_strides: Vec<i64>,
    /// (low, high) padding per spatial axis.
    pub padding: Vec<(i64, i64)>,
    pub lhs_dilation: Vec<i64>,
    pub rhs_dilation: Vec<i64>,
    pub feature_group_count: i64,
    pub batch_group_count: i64,
    pub dims: ConvDims,
    pub precision: [Precision; 2],
}

impl ConvConfig {
    /// Stride 1, no padding, no dilation, one group, for `dims`.
    pub fn new(dims: ConvDims) -> ConvConfig {
        let n = dims.input_spatial.len();
        ConvConfig {
            window_strides: vec![1; n],
            padding: vec![(0, 0); n],
            lhs_dilation: vec![1; n],
            rhs_dilation: vec![1; n],
            feature_group_count: 1,
            batch_group_count: 1,
            dims,
            precision: [Precision::Default; 2],
        }
    }
}

/// Axis roles of a gather (StableHLO semantics).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GatherDims {
    pub offset_dims: Vec<i64>,
    pub collapsed_slice_dims: Vec<i64>,
    pub start_index_map: Vec<i64>,
    pub index_vector_dim: i64,
}

/// Axis roles of a scatter (StableHLO semantics).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScatterDims {
    pub update_window_dims: Vec<i64>,
    pub inserted_window_dims: Vec<i64>,
    pub scatter_dims_to_operand_dims: Vec<i64>,
    pub index_vector_dim: i64,
}

/// Window of a `reduce_window`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WindowConfig {
    pub dimensions: Vec<i64>,
    pub strides: Vec<i64>,
    pub base_dilations: Vec<i64>,
    pub window_dilations: Vec<i64>,
    pub padding: Vec<(i64, i64)>,
}

impl WindowConfig {
    /// A window of the given sizes and strides, no dilation, no padding.
    pub fn new(dimensions: impl Into<Vec<i64>>, strides: impl Into<Vec<i64>>) -> WindowConfig {
        let dimensions = dimensions.into();
        let n = dimensions.len();
        WindowConfig {
            dimensions,
            strides: strides.into(),
            base_dilations: vec![1; n],
            window_dilations: vec![1; n],
            padding: vec![(0, 0); n],
        }
    }
}

/// Algorithm of `rng_bit_generator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RngAlgorithm {
    #[default]
    Default,
    ThreeFry,
    Philox,
}

/// A closed set of primitives: every op the graph can hold, with all its attributes.
/// Compositions (`matmul`, `softmax`, ...) are recorded as several of these.
#[derive(Debug, Clone)]
pub enum Op {
    /// Function parameter number `index`.
    Parameter {
        index: usize,
        name: String,
    },
    Constant(ConstantValue),
    /// Values 0, 1, 2, ... along `dimension`.
    Iota {
        dimension: i64,
    },
    Unary(UnaryOp),
    Binary(BinaryOp),
    Compare(ComparisonDirection),
    /// operands: pred, on_true, on_false.
    Select,
    /// operands: min, x, max.
    Clamp,
    /// Value conversion to the result's element type.
    Convert,
    /// Bit reinterpretation as the result's element type.
    BitcastConvert,
    Reshape,
    Transpose {
        permutation: Vec<i64>,
    },
    BroadcastInDim {
        broadcast_dimensions: Vec<i64>,
    },
    Slice {
        start: Vec<i64>,
        limit: Vec<i64>,
        strides: Vec<i64>,
    },
    /// operands: operand, then one scalar start index per axis.
    DynamicSlice {
        slice_sizes: Vec<i64>,
    },
    /// operands: operand, update, then one scalar start index per axis.
    DynamicUpdateSlice,
    Concatenate {
        dimension: i64,
    },
    /// operands: operand, padding value (scalar).
    Pad {
        low: Vec<i64>,
        high: Vec<i64>,
        interior: Vec<i64>,
    },
    Reverse {
        dimensions: Vec<i64>,
    },
    /// operands: operand, start indices.
    Gather {
        dims: GatherDims,
        slice_sizes: Vec<i64>,
        indices_are_sorted: bool,
    },
    /// operands: N inputs, indices, N updates. `update` combines (old..., new...) scalars.
    Scatter {
        dims: ScatterDims,
        update: Arc<Computation>,
        indices_are_sorted: bool,
        unique_indices: bool,
    },
    /// operands: N tensors of one shape; `comparator` takes 2N scalars (a0, b0, a1, b1, ...).
    Sort {
        dimension: i64,
        is_stable: bool,
        comparator: Arc<Computation>,
    },
    DotGeneral {
        dims: DotDims,
        precision: [Precision; 2],
    },
    Convolution(Box<ConvConfig>),
    /// operands: N inputs then N init values; `body` takes 2N scalars (acc..., x...).
    Reduce {
        dimensions: Vec<i64>,
        body: Arc<Computation>,
    },
    /// operands: N inputs then N init values.
    ReduceWindow {
        window: WindowConfig,
        body: Arc<Computation>,
    },
    /// operands: the loop state. `cond` maps the state to pred[], `body` to the next state.
    While {
        cond: Arc<Computation>,
        body: Arc<Computation>,
    },
    /// operands: pred[] then the branch arguments.
    If {
        true_branch: Arc<Computation>,
        false_branch: Arc<Computation>,
    },
    /// operands: s32[] index then the branch arguments (out-of-range runs the last branch).
    Case {
        branches: Vec<Arc<Computation>>,
    },
    /// Call of a function emitted once per module.
    Call {
        callee: Arc<Computation>,
    },
    /// operands: state. results: new state, random bits.
    RngBitGenerator {
        algorithm: RngAlgorithm,
    },
    OptimizationBarrier,
    CustomCall {
        target: String,
        backend_config: String,
        has_side_effect: bool,
    },
}

impl Op {
    /// The op's name in errors (StableHLO's name where there is one).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Parameter { .. } => "parameter",
            Op::Constant(_) => "constant",
            Op::Iota { .. } => "iota",
            Op::Unary(u) => u.name(),
            Op::Binary(b) => b.name(),
            Op::Compare(_) => "compare",
            Op::Select => "select",
            Op::Clamp => "clamp",
            Op::Convert => "convert",
            Op::BitcastConvert => "bitcast_convert",
            Op::Reshape => "reshape",
            Op::Transpose { .. } => "transpose",
            Op::BroadcastInDim { .. } => "broadcast_in_dim",
            Op::Slice { .. } => "slice",
            Op::DynamicSlice { .. } => "dynamic_slice",
            Op::DynamicUpdateSlice => "dynamic_update_slice",
            Op::Concatenate { .. } => "concatenate",
            Op::Pad { .. } => "pad",
            Op::Reverse { .. } => "reverse",
            Op::Gather { .. } => "gather",
            Op::Scatter { .. } => "scatter",
            Op::Sort { .. } => "sort",
            Op::DotGeneral { .. } => "dot_general",
            Op::Convolution(_) => "convolution",
            Op::Reduce { .. } => "reduce",
            Op::ReduceWindow { .. } => "reduce_window",
            Op::While { .. } => "while",
            Op::If { .. } => "if",
            Op::Case { .. } => "case",
            Op::Call { .. } => "call",
            Op::RngBitGenerator { .. } => "rng_bit_generator",
            Op::OptimizationBarrier => "optimization_barrier",
            Op::CustomCall { .. } => "custom_call",
        }
    }

    /// The sub-computations this op holds, in region order.
    pub fn regions(&self) -> Vec<&Arc<Computation>> {
        match self {
            Op::Scatter { update, .. } => vec![update],
            Op::Sort { comparator, .. } => vec![comparator],
            Op::Reduce { body, .. } | Op::ReduceWindow { body, .. } => vec![body],
            Op::While { cond, body } => vec![cond, body],
            Op::If {
                true_branch,
                false_branch,
            } => vec![true_branch, false_branch],
            Op::Case { branches } => branches.iter().collect(),
            Op::Call { callee } => vec![callee],
            _ => Vec::new(),
        }
    }
}
