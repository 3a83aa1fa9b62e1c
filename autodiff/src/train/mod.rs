//! Training, in one place: optimizers as graph functions ([`optim`]), one-executable train
//! steps of a model with donated state ([`TrainStep`]), functions bound to the live weights
//! ([`WeightSource::function`]), the loop ([`fit`]), checkpoints ([`checkpoint`]) and
//! exported inference functions ([`export`]). Models and layers are in [`crate::nn`].
//!
//! Linear regression, end to end:
//!
//! ```
//! use autodiff::nn::{seeded, Linear, ModuleExt};
//! use autodiff::train::{optim::Adam, HostData, TrainStep};
//! use hlo_builder::{ElementType::F32, TensorType};
//!
//! let xs: Vec<f32> = (0..16).map(|i| ((i * i * 5 + 3 * i) % 17) as f32 / 8.0 - 1.0).collect();
//! let ys: Vec<f32> = xs.chunks(2).map(|r| 2.0 * r[0] - r[1] + 1.0).collect(); // y = 2a - b + 1
//! let client = pjrt::Client::default_cpu()?;
//! let mut step = TrainStep::new(&client, Linear::new(2, 1).init(&mut seeded(0))?)
//!     .optimizer(Adam::new(0.05))
//!     .inputs([TensorType::new(F32, [8, 2]), TensorType::new(F32, [8, 1])])
//!     .compile(|m, b| m.forward(&b[0])?.mse(&b[1]))?;
//! for _ in 0..400 {
//!     step.step(&[HostData::from(&xs), HostData::from(&ys)])?;
//! }
//! let w = step.model()?.weight.host().unwrap().to_vec::<f32>()?;
//! assert!((w[0] - 2.0).abs() < 0.05 && (w[1] + 1.0).abs() < 0.05, "{w:?}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bound;
pub mod checkpoint;
mod data;
mod error;
pub mod export;
mod fit;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod optim;
mod step;

pub use bound::{BoundFn, WeightSource, Weights};
pub use data::HostData;
pub use error::TrainError;
pub use fit::{epoch_order, fit, gather_rows, shuffled_batches, Event, FitError, Flow, History};
pub use step::{
    GradientTransform, Objective, OptimizerState, StepOutput, StepsOutput, TrainStep,
    TrainStepBuilder,
};
