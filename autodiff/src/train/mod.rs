//! Training, in one place: layers, losses and initializers ([`nn`]), optimizers as graph
//! functions ([`optim`]), one-executable train steps with donated state ([`TrainStep`]), the
//! loop ([`fit`]), checkpoints as safetensors files ([`checkpoint`]) and inference functions
//! exported as executables and StableHLO ([`export`]).
//!
//! [`TrainStep`] records one training step (forward pass, loss, gradients, optimizer update)
//! into one StableHLO function, compiles it once, and keeps parameters and optimizer state
//! on the device. [`fit`] hands each batch's row indices to a step closure, evaluates every
//! `eval_every` epochs, stops early at a target metric, and reports progress as `tracing`
//! events (it prints nothing).
//!
//! ```
//! use autodiff::train::nn::{self, Init, ParamSpec};
//! use autodiff::train::optim::Adam;
//! use autodiff::train::{fit, gather_rows, HostData, Schedule, TrainStep};
//! use hlo_builder::{ElementType::F32, TensorType};
//!
//! // Fit y = 2 x0 - x1 + 1 with one dense layer and a mean squared error.
//! let xs: Vec<f32> = (0..64).map(|i| ((i * 37 % 17) as f32 - 8.0) / 8.0).collect();
//! let ys: Vec<f32> = xs.chunks(2).map(|r| 2.0 * r[0] - r[1] + 1.0).collect();
//! let params = [ParamSpec::new("w", [2, 1], Init::Zeros), ParamSpec::new("b", [1], Init::Zeros)];
//! let inputs = [("x", TensorType::new(F32, [8, 2])), ("y", TensorType::new(F32, [8, 1]))];
//! let client = pjrt::Client::default_cpu()?;
//! let mut step = TrainStep::compile(
//!     &client,
//!     "linear",
//!     &params,
//!     &nn::init_all(&params, 0),
//!     &inputs,
//!     |b, p, x| {
//!         let pred = nn::dense(b, x[0], p[0], Some(p[1]))?;
//!         nn::mse(b, pred, x[1])
//!     },
//!     &Adam::new(0.05),
//! )?;
//! let schedule = Schedule { epochs: 100, batch_size: 8, verbose: false, ..Schedule::default() };
//! let step = std::cell::RefCell::new(&mut step);
//! let (mut bx, mut by) = (Vec::new(), Vec::new());
//! let history = fit(
//!     &schedule,
//!     32,
//!     0,
//!     0,
//!     |rows| {
//!         gather_rows(&xs, 2, rows, &mut bx);
//!         gather_rows(&ys, 1, rows, &mut by);
//!         step.borrow_mut().step(&[HostData::from(&bx), HostData::from(&by)])
//!     },
//!     || Ok(0.0),
//! )?;
//! assert!(history.losses.last().unwrap().1 < 1e-3);
//! let w = step.borrow().params_to_host()?;
//! assert!((w[0][0] - 2.0).abs() < 0.05 && (w[0][1] + 1.0).abs() < 0.05 && (w[1][0] - 1.0).abs() < 0.05);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod checkpoint;
pub mod export;
mod fit;
pub mod nn;
pub mod optim;
mod step;

pub use fit::{epoch_order, fit, gather_rows, EvalPoint, FitError, History, Schedule};
pub use step::{HostData, LossFn, TrainError, TrainStep};
