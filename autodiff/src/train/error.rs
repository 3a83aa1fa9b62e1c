//! [`TrainError`]: what can go wrong building, compiling or running a train step or a bound
//! function.

use hlo_builder::ElementType;

use super::checkpoint::CheckpointError;

/// Why a train step could not be built, compiled or run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    // The wrapped errors are boxed to keep `Result<_, TrainError>` small.
    #[error("train step: {0}")]
    Builder(Box<hlo_builder::Error>),
    #[error("train step: {0}")]
    Pjrt(Box<pjrt::Error>),
    #[error("train step: {0}")]
    Grad(Box<crate::Error>),
    #[error("train step: {0}")]
    Checkpoint(Box<CheckpointError>),
    #[error("train step `{name}`: {message}")]
    Spec { name: String, message: String },
    #[error(
        "train step `{name}`: input {index} ({input}) has {found} values, {expected} expected"
    )]
    InputSize {
        name: String,
        index: usize,
        input: String,
        expected: usize,
        found: usize,
    },
    #[error("train step `{name}`: input {index} is {found} data, the step declares {input}")]
    InputType {
        name: String,
        index: usize,
        input: String,
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
