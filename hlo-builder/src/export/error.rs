//! The errors of exporting, loading and serving.

use std::path::PathBuf;

/// Why an export, a load or a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The function failed to record at one of the batch sizes it is recorded at.
    #[error("export `{name}`: recording at batch {batch} failed: {source}")]
    Record {
        /// The exported function's name.
        name: String,
        /// The batch size the recording failed at.
        batch: i64,
        /// The builder's error.
        source: Box<crate::Error>,
    },
    /// The graphs recorded at two batch sizes differ in structure.
    #[error("export `{name}`: the graph recorded at batch {batch} differs from the one at batch {base} in {what} ({detail}); the function must record the same ops at every batch size")]
    Structure {
        /// The exported function's name.
        name: String,
        /// The batch size of the reference recording.
        base: i64,
        /// The batch size whose recording differs.
        batch: i64,
        /// Where they first differ (the op or value at that place).
        what: String,
        /// How they differ.
        detail: String,
    },
    /// An integer or a splat value that changes with the batch, but not as `a·batch + c`.
    #[error("export `{name}`: {what}: {detail}")]
    NotAffine {
        /// The exported function's name.
        name: String,
        /// Which value is not affine (a dimension, an attribute, a splat constant).
        what: String,
        /// The values it takes at the batch sizes recorded.
        detail: String,
    },
    /// A dense constant whose data depends on the batch size.
    #[error("export `{name}`: {what} is a dense constant whose data depends on the batch size; it cannot follow the batch: build it in the graph (iota, compare) or pass it as an input")]
    BatchDependentConstant {
        /// The exported function's name.
        name: String,
        /// Which constant (its node and type).
        what: String,
    },
    /// No input of the function follows the batch size.
    #[error("export `{name}`: no input has a dimension that follows the batch size")]
    NoBatchInput {
        /// The exported function's name.
        name: String,
    },
    /// A weight whose data does not fit its type, or that depends on the batch.
    #[error("export `{name}`: weight `{weight}`: {reason}")]
    Weight {
        /// The exported function's name.
        name: String,
        /// The weight's name.
        weight: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A call with the wrong number of inputs.
    #[error("`{name}` takes {expected} inputs ({signature}), got {got}")]
    InputCount {
        /// The exported function's name.
        name: String,
        /// How many inputs it takes.
        expected: usize,
        /// Its inputs, with their types, for the message.
        signature: String,
        /// How many inputs the call passed.
        got: usize,
    },
    /// A call whose input does not fit the exported signature.
    #[error("`{name}`: input {index} `{input}`: {reason}")]
    Input {
        /// The exported function's name.
        name: String,
        /// The input's position among the inputs (weights not counted).
        index: usize,
        /// The input's name.
        input: String,
        /// Why it does not fit (type, a dimension not on the batch line).
        reason: String,
    },
    /// The stored graph could not be re-recorded at a batch size.
    #[error("`{name}` at batch {batch}: {reason}")]
    Specialize {
        /// The exported function's name.
        name: String,
        /// The batch size asked for.
        batch: i64,
        /// Why it failed.
        reason: String,
    },
    /// A damaged or foreign artifact.
    #[error("not a usable export artifact: {0}")]
    Format(String),
    /// An artifact of another format version.
    #[error("export artifact format {found}; this library reads format {supported}")]
    Version {
        /// The artifact's format version.
        found: u32,
        /// The one this library reads.
        supported: u32,
    },
    /// Recording, lowering or running the function failed.
    #[error(transparent)]
    Builder(Box<crate::Error>),
    /// Compiling or running on the PJRT plugin failed.
    #[error(transparent)]
    Pjrt(Box<pjrt::Error>),
    /// Reading or writing an artifact file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl From<crate::Error> for ExportError {
    fn from(e: crate::Error) -> ExportError {
        ExportError::Builder(Box::new(e))
    }
}

impl From<pjrt::Error> for ExportError {
    fn from(e: pjrt::Error) -> ExportError {
        ExportError::Pjrt(Box::new(e))
    }
}
