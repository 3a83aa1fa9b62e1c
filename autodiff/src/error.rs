//! The crate's error type.

use hlo_builder::TensorType;

/// Why a gradient (or an optimizer step) could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Recording a gradient op failed in the builder (a shape error names the op and shapes).
    #[error(transparent)]
    Builder(#[from] hlo_builder::Error),

    /// A tensor handed to `grad`/`vjp`/`jvp` is not a value of this builder's graph.
    #[error(
        "{func}: {role} tensor %{node}#{output} is not a value of this builder's graph: {reason}"
    )]
    NotInGraph {
        /// The function called (`grad`, `vjp`, `jvp`, ...).
        func: &'static str,
        /// Which argument: an output, an input, a cotangent.
        role: &'static str,
        /// The node index the handle names.
        node: u32,
        /// The result index within that node.
        output: u32,
        /// Why it is not a value here (another builder, out of range).
        reason: String,
    },

    /// The differentiated output is not a float tensor (integer, pred or complex).
    #[error("{func}: output {index} is {ty}; gradients are defined only for float outputs")]
    NonFloatOutput {
        /// The function called.
        func: &'static str,
        /// The output's position.
        index: usize,
        /// Its type.
        ty: Box<TensorType>,
    },

    /// A value to differentiate with respect to is not a float tensor.
    #[error(
        "{func}: input {index} is {ty}; gradients are taken only with respect to float values"
    )]
    NonFloatInput {
        /// The function called.
        func: &'static str,
        /// The input's position.
        index: usize,
        /// Its type.
        ty: Box<TensorType>,
    },

    /// `grad` needs a scalar output; use `vjp` with a cotangent otherwise.
    #[error(
        "{func}: output is {ty}, not a scalar; use `vjp` with a cotangent for non-scalar outputs"
    )]
    NonScalarOutput {
        /// The function called.
        func: &'static str,
        /// The output's type.
        ty: Box<TensorType>,
    },

    /// A cotangent or tangent does not have the type of the value it belongs to.
    #[error("{func}: {role} {index} is {got}, but the value it belongs to is {want}")]
    TypeMismatch {
        /// The function called.
        func: &'static str,
        /// `cotangent` or `tangent`.
        role: &'static str,
        /// Its position.
        index: usize,
        /// The type given.
        got: Box<TensorType>,
        /// The type of the value it belongs to.
        want: Box<TensorType>,
    },

    /// Arguments of different lengths (outputs vs cotangents, inputs vs tangents, params vs
    /// grads vs state).
    #[error("{func}: {message}")]
    Arity {
        /// The function called.
        func: &'static str,
        /// Which lengths differ, and what they are.
        message: String,
    },

    /// The op has no derivative (or none this crate can express); says which op and why.
    #[error("{op}: not differentiable: {reason}")]
    NotDifferentiable {
        /// The op's name.
        op: &'static str,
        /// Why it has no derivative here.
        reason: String,
    },

    /// A rule produced a cotangent of the wrong type (a bug in a rule, reported instead of
    /// emitting a wrong program).
    #[error("{op}: internal error: the gradient of operand {operand} is {got}, expected {want}")]
    Internal {
        /// The op whose rule misbehaved.
        op: &'static str,
        /// Which operand's gradient is wrong.
        operand: usize,
        /// The type the rule produced.
        got: Box<TensorType>,
        /// The operand's type.
        want: Box<TensorType>,
    },

    /// `vmap` cannot batch this op (or a batching rule gave a value of the wrong type: a bug,
    /// reported instead of emitting a wrong program); says which op and why.
    #[error("{op}: cannot batch: {reason}")]
    NotBatchable {
        /// The op's name.
        op: &'static str,
        /// Why it cannot be batched.
        reason: String,
    },

    /// `vmap`'s axes do not fit its arguments or results (an axis out of range, batch sizes
    /// that differ, no batched argument).
    #[error("{func}: {message}")]
    Axes {
        /// The function called (`vmap`, `jacrev`, ...).
        func: &'static str,
        /// Which axis or size does not fit.
        message: String,
    },

    /// Host data for an optimizer state could not be made.
    #[error("{func}: {source}")]
    Host {
        /// The function that needed the data.
        func: &'static str,
        /// The runtime's error.
        source: pjrt::Error,
    },

    /// A parameter tree (model) and the values given for it do not fit.
    #[error("model: {0}")]
    Model(String),
}

/// The crate's result type: `Result<T>` is `Result<T, autodiff::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn not_diff<T>(op: &'static str, reason: impl Into<String>) -> Result<T> {
    Err(Error::NotDifferentiable {
        op,
        reason: reason.into(),
    })
}

pub(crate) fn not_batchable<T>(op: &'static str, reason: impl Into<String>) -> Result<T> {
    Err(Error::NotBatchable {
        op,
        reason: reason.into(),
    })
}
