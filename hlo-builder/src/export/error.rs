//! The errors of exporting, loading and serving.

use std::path::PathBuf;

/// Why an export, a load or a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The function failed to record at one of the batch sizes it is recorded at.
    #[error("export `{name}`: recording at batch {batch} failed: {source}")]
    Record {
        name: String,
        batch: i64,
        source: Box<crate::Error>,
    },
    /// The graphs recorded at two batch sizes differ in structure.
    #[error("export `{name}`: the graph recorded at batch {batch} differs from the one at batch {base} in {what} ({detail}); the function must record the same ops at every batch size")]
    Structure {
        name: String,
        base: i64,
        batch: i64,
        what: String,
        detail: String,
    },
    /// An integer or a splat value that changes with the batch, but not as `a·batch + c`.
    #[error("export `{name}`: {what}: {detail}")]
    NotAffine {
        name: String,
        what: String,
        detail: String,
    },
    /// A dense constant whose data depends on the batch size.
    #[error("export `{name}`: {what} is a dense constant whose data depends on the batch size; it cannot follow the batch: build it in the graph (iota, compare) or pass it as an input")]
    BatchDependentConstant { name: String, what: String },
    /// No input of the function follows the batch size.
    #[error("export `{name}`: no input has a dimension that follows the batch size")]
    NoBatchInput { name: String },
    /// A weight whose data does not fit its type, or that depends on the batch.
    #[error("export `{name}`: weight `{weight}`: {reason}")]
    Weight {
        name: String,
        weight: String,
        reason: String,
    },
    /// A call with the wrong number of inputs.
    #[error("`{name}` takes {expected} inputs ({signature}), got {got}")]
    InputCount {
        name: String,
        expected: usize,
        signature: String,
        got: usize,
    },
    /// A call whose input does not fit the exported signature.
    #[error("`{name}`: input {index} `{input}`: {reason}")]
    Input {
        name: String,
        index: usize,
        input: String,
        reason: String,
    },
    /// The stored graph could not be re-recorded at a batch size.
    #[error("`{name}` at batch {batch}: {reason}")]
    Specialize {
        name: String,
        batch: i64,
        reason: String,
    },
    /// A damaged or foreign artifact.
    #[error("not a usable export artifact: {0}")]
    Format(String),
    /// An artifact of another format version.
    #[error("export artifact format {found}; this library reads format {supported}")]
    Version { found: u32, supported: u32 },
    #[error(transparent)]
    Builder(Box<crate::Error>),
    #[error(transparent)]
    Pjrt(Box<pjrt::Error>),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
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
