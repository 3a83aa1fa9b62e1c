//! The crate's error type.

use crate::types::TensorType;

/// Everything that can go wrong while recording, lowering, compiling or running a program.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An op was recorded with operands or attributes that do not fit; the message names the
    /// shapes and axes involved.
    #[error("{op}: {message}")]
    Shape {
        /// The op being recorded, as the user called it (`matmul`, `reshape`, ...).
        op: &'static str,
        /// What does not fit, naming the shapes and axes.
        message: String,
    },

    /// A tensor from one builder was passed to another builder.
    #[error("{op}: tensor belongs to builder #{tensor_builder}, not to this builder #{builder}")]
    ForeignTensor {
        /// The op that was given the tensor.
        op: &'static str,
        /// The id of the builder that recorded the tensor.
        tensor_builder: u64,
        /// The id of the builder the op was recorded in.
        builder: u64,
    },

    /// A tensor handle that does not name a value of this builder's graph.
    #[error("{op}: tensor %{node}#{output} does not exist in this builder")]
    UnknownTensor {
        /// The op that was given the tensor.
        op: &'static str,
        /// The node index the handle names.
        node: u32,
        /// The result index within that node.
        output: u32,
    },

    /// Host data handed to a constant or a run does not match its declared type.
    #[error("{op}: host data of {actual} bytes does not match {ty} ({expected} bytes)")]
    DataSize {
        /// The op that was given the data.
        op: &'static str,
        /// The type the data should have.
        ty: TensorType,
        /// The byte count of that type.
        expected: usize,
        /// The byte count given.
        actual: usize,
    },

    /// A region (reducer, comparator, loop body, branch) built from a closure is malformed.
    #[error("{op}: region `{region}`: {message}")]
    Region {
        /// The op that owns the region.
        op: &'static str,
        /// Which region: `reducer`, `comparator`, `cond`, `body`, a branch, ...
        region: &'static str,
        /// What is wrong with it (arity, types).
        message: String,
    },

    /// The program asks for something the platform (or the compile options) cannot give:
    /// an op the platform's compiler has no kernel for, participant ids past the replica
    /// count, more devices than the client has. Found before the plugin sees the module.
    #[error("{op}: {message}")]
    Unsupported {
        /// The op (or function) asked for.
        op: &'static str,
        /// What the platform lacks, and the values involved.
        message: String,
    },

    /// A mesh, a sharding or a partitioning that does not fit the program (unknown mesh
    /// axes, an axis split twice, sizes not divisible by the mesh axes).
    #[error("sharding: {0}")]
    Sharding(String),

    /// MLIR rejected something while lowering (should not happen for a checked graph).
    #[error("lowering to StableHLO: {0}")]
    Lower(String),

    /// MLIR bytecode that [`program_from_bytecode`](crate::program_from_bytecode) could not
    /// read faithfully (corrupt, written with dialects this crate does not link, or its
    /// reader crashed or ran too long in the child process).
    #[error("reading MLIR bytecode: {0}")]
    Bytecode(String),

    /// An error from the PJRT runtime (compile or execute).
    #[error(transparent)]
    Pjrt(#[from] pjrt::Error),

    /// A run was given inputs that do not match the function's parameters.
    #[error("run: {0}")]
    Run(String),

    /// An error of a tensor method, with the op the user called and where it was called
    /// from (the user's line: tensor methods and layers pass the caller's location on).
    #[error("{}", at_message(op, location, source))]
    At {
        /// The op the user called.
        op: &'static str,
        /// Where the user called it from.
        location: &'static std::panic::Location<'static>,
        /// The error it failed with.
        source: Box<Error>,
    },
}

impl Error {
    /// The error with the op the user called and the place they called it from; an error
    /// that already has a place keeps its inner op and message, under the outer op.
    pub fn at(self, op: &'static str, location: &'static std::panic::Location<'static>) -> Error {
        Error::At {
            op,
            location,
            source: Box::new(self),
        }
    }

    /// The innermost error (without the places it was called from).
    pub fn root(&self) -> &Error {
        match self {
            Error::At { source, .. } => source.root(),
            e => e,
        }
    }
}

/// `op at file:line:col: message`, the inner op named unless it is the same op.
fn at_message(op: &str, location: &std::panic::Location<'_>, source: &Error) -> String {
    let mut inner = source;
    while let Error::At { source, .. } = inner {
        inner = source;
    }
    let rest = match inner {
        Error::Shape { op: o, message } if *o == op => message.clone(),
        e => e.to_string(),
    };
    format!(
        "{op} at {}:{}:{}: {rest}",
        location.file(),
        location.line(),
        location.column()
    )
}

/// The crate's result type: `Result<T>` is `Result<T, hlo_builder::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shorthand for a shape error.
pub(crate) fn shape_err<T>(op: &'static str, message: impl Into<String>) -> Result<T> {
    Err(Error::Shape {
        op,
        message: message.into(),
    })
}
