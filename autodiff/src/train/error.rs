//! [`TrainError`]: what can go wrong building, compiling or running a train step or a bound
//! function.

use hlo_builder::ElementType;

use super::checkpoint::CheckpointError;

/// Why a train step could not be built, compiled or run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    // The wrapped errors are boxed to keep `Result<_, TrainError>` small.
    /// Recording the step failed.
    #[error("train step: {0}")]
    Builder(Box<hlo_builder::Error>),
    /// Compiling or running the step failed on the plugin.
    #[error("train step: {0}")]
    Pjrt(Box<pjrt::Error>),
    /// Differentiating the loss failed.
    #[error("train step: {0}")]
    Grad(Box<crate::Error>),
    /// Saving or restoring a checkpoint failed.
    #[error("train step: {0}")]
    Checkpoint(Box<CheckpointError>),
    /// The step's specification does not fit the model or the data (names, shapes, types).
    #[error("train step `{name}`: {message}")]
    Spec {
        /// The step's name.
        name: String,
        /// What does not fit.
        message: String,
    },
    #[error(
        "train step `{name}`: input {index} ({input}) has {found} values, {expected} expected"
    )]
    /// An input has the wrong number of elements.
    InputSize {
        /// The step's name.
        name: String,
        /// The input's position.
        index: usize,
        /// The input's declared name and type.
        input: String,
        /// The number of elements it needs.
        expected: usize,
        /// The number given.
        found: usize,
    },
    /// An input's host data is of another element type than declared.
    #[error("train step `{name}`: input {index} is {found} data, the step declares {input}")]
    InputType {
        /// The step's name.
        name: String,
        /// The input's position.
        index: usize,
        /// The input's declared name and type.
        input: String,
        /// The element type of the data given.
        found: ElementType,
    },
}

impl From<hlo_builder::Error> for TrainError {
    fn from(e: hlo_builder::Error) -> Self {
        TrainError::Builder(Box::new(e))
    }
}

impl From<pjrt::Error> for TrainError {
    fn from(e: pjrt::Error) -> Self {
        TrainError::Pjrt(Box::new(e))
    }
}

impl From<crate::Error> for TrainError {
    fn from(e: crate::Error) -> Self {
        TrainError::Grad(Box::new(e))
    }
}

impl From<CheckpointError> for TrainError {
    fn from(e: CheckpointError) -> Self {
        TrainError::Checkpoint(Box::new(e))
    }
}
