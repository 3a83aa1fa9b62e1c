//! Data-parallel training across processes, with the gradients all-reduced by MPI inside
//! the train step (feature `mpi`).
//!
//! Each process runs the same train step on its own client, on its own rows of every global
//! batch. Between differentiation and the optimizer's update, the step calls a handler
//! registered through XLA's typed FFI (`ffi_call`, PJRT's FFI extension) that replaces each
//! gradient by its mean over the processes (`MPI_Allreduce`, then a division by the number
//! of processes), as Horovod does. The mean of the processes' mean-loss gradients over equal
//! shards is the gradient of the mean loss over the global batch, so the parameters follow
//! single-process training on the global batch (within f32 rounding; tested for two
//! processes in `tests/integration/mpi.rs`).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use autodiff::nn::{Activation, Mlp, ModuleExt};
//! use autodiff::train::{mpi::MpiDataParallel, optim::Adam, HostData, TrainStep};
//! use hlo_builder::{ElementType, TensorType};
//!
//! // Started by `mpirun -np 2 <program>`; MPI stays up while `dp` lives.
//! let dp = MpiDataParallel::init()?;
//! let client = pjrt::Client::default_cpu()?;
//! let model = Mlp::new(&[64, 32, 10], Activation::Relu).init_seed(0)?; // same seed everywhere
//! let local = 64 / dp.size() as i64; // this process's rows of a global batch of 64
//! let mut step = TrainStep::new(&client, model)
//!     .optimizer(Adam::new(1e-3))
//!     .inputs([
//!         TensorType::new(ElementType::F32, [local, 64]),
//!         TensorType::new(ElementType::S32, [local]),
//!     ])
//!     .gradient_transform(dp.gradient_transform(&client)?)
//!     .compile(|m, b| m.forward(&b[0])?.cross_entropy(&b[1]))?;
//! let rows = dp.shard(64)?; // this process's rows
//! # let (x, y) = (vec![0f32; 64 * 64], vec![0i32; 64]);
//! step.step(&[
//!     HostData::from(&x[rows.start * 64..rows.end * 64]),
//!     HostData::from(&y[rows.clone()]),
//! ])?;
//! # Ok(()) }
//! ```
//!
//! What stays per process: model state (batch-norm statistics) and the loss a step reports
//! (this process's shard; [`MpiDataParallel::mean`] averages a host value). MPI runs with
//! `MPI_THREAD_SERIALIZED`: the handler holds a lock around its MPI calls, and each step makes
//! one call for all its gradients, so every process reduces them in the same order.

use std::collections::HashSet;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use hlo_builder::{Builder, ElementType, Value};
use mpi::collective::SystemOperation;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use mpi::Threading;
use pjrt::ext::ffi::{CallFrame, Ffi};
use pjrt::Client;

use super::error::TrainError;
use super::step::GradientTransform;

/// The FFI target of the gradient all-reduce (registered per plugin by
/// [`MpiDataParallel::gradient_transform`]).
pub const ALL_REDUCE_TARGET: &str = "hlo_autodiff_mpi_all_reduce_mean";

fn spec(message: impl Into<String>) -> TrainError {
    TrainError::Spec {
        name: "mpi".into(),
        message: message.into(),
    }
}

/// This process's place among the processes `mpirun` started: MPI initialized (and
/// finalized when this is dropped), its rank and the number of processes.
///
/// MPI can be initialized once per process, so there is at most one of these in a process;
/// the state its calls share lives here (and, for the lock, in the handlers it registered).
pub struct MpiDataParallel {
    _universe: Universe,
    rank: usize,
    size: usize,
    /// Serializes this process's MPI calls (MPI runs with `MPI_THREAD_SERIALIZED`): held by
    /// [`mean`](Self::mean) and by the all-reduce handler, which owns a clone.
    calls: Arc<Mutex<()>>,
    /// Plugins (path, platform) the handler is registered with.
    registered: Mutex<HashSet<(PathBuf, String)>>,
}

impl std::fmt::Debug for MpiDataParallel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MpiDataParallel(rank {} of {})", self.rank, self.size)
    }
}

impl MpiDataParallel {
    /// Initializes MPI (`MPI_Init_thread` asking for `MPI_THREAD_SERIALIZED`). Errors: MPI
    /// already initialized in this process, or an MPI library without serialized threads
    /// (the handler runs on the plugin's threads).
    pub fn init() -> Result<MpiDataParallel, TrainError> {
        let (universe, threading) = mpi::initialize_with_threading(Threading::Serialized)
            .ok_or_else(|| {
                spec("MpiDataParallel::init: MPI is already initialized in this process")
            })?;
        if threading < Threading::Serialized {
            return Err(spec(format!(
                "MpiDataParallel::init: the MPI library provides {threading:?} threads; the \
                 gradient all-reduce runs on the plugin's threads and needs Serialized"
            )));
        }
        let world = universe.world();
        let (rank, size) = (world.rank() as usize, world.size() as usize);
        tracing::debug!(target: "autodiff::train", rank, size, "MPI initialized");
        Ok(MpiDataParallel {
            _universe: universe,
            rank,
            size,
            calls: Arc::default(),
            registered: Mutex::default(),
        })
    }

    /// This process's rank (0 ..= size - 1).
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The number of processes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// This process's rows of a global batch of `rows` rows: the `rank`-th of `size` equal
    /// consecutive blocks. Error when `rows` does not split evenly (unequal shards would
    /// weight the processes' gradients unequally).
    pub fn shard(&self, rows: usize) -> Result<Range<usize>, TrainError> {
        if rows % self.size != 0 {
            return Err(spec(format!(
                "MpiDataParallel::shard: a batch of {rows} rows does not split into {} equal shards",
                self.size
            )));
        }
        let n = rows / self.size;
        Ok(self.rank * n..(self.rank + 1) * n)
    }

    /// The mean of `x` over the processes (every process must call it, in the same order).
    pub fn mean(&self, x: f64) -> f64 {
        let _lock = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        let mut sum = 0f64;
        SimpleCommunicator::world().all_reduce_into(&x, &mut sum, SystemOperation::sum());
        sum / self.size as f64
    }

    /// A gradient transform for [`TrainStepBuilder::gradient_transform`](super::TrainStepBuilder::gradient_transform)
    /// that replaces the gradients by their means over the processes, in one FFI call per
    /// step. Registers the handler with `client`'s plugin the first time (errors: a plugin
    /// without the FFI extension). The gradients must be f32 or f64.
    pub fn gradient_transform(&self, client: &Client) -> Result<GradientTransform, TrainError> {
        self.register(client)?;
        Ok(Arc::new(|b: &mut Builder, gs: &[Value]| {
            let mut types = Vec::with_capacity(gs.len());
            for &g in gs {
                types.push(b.ty(g)?.clone());
            }
            b.ffi_call(ALL_REDUCE_TARGET, gs, &types, true)
        }))
    }

    /// Registers the all-reduce handler with `client`'s plugin, once per plugin and platform.
    fn register(&self, client: &Client) -> Result<(), TrainError> {
        let key = (
            client.plugin().path().to_path_buf(),
            client.platform_name().to_string(),
        );
        let mut done = self.registered.lock().unwrap_or_else(|e| e.into_inner());
        if done.contains(&key) {
            return Ok(());
        }
        let ffi: Ffi = client.plugin().extension().ok_or_else(|| {
            spec(format!(
                "the plugin {} has no FFI extension, which the MPI all-reduce needs",
                key.0.display()
            ))
        })?;
        let calls = self.calls.clone();
        ffi.register_handler(
            ALL_REDUCE_TARGET,
            client.platform_name(),
            Arc::new(move |f: &CallFrame<'_>| all_reduce_mean(&calls, f)),
        )?;
        done.insert(key);
        Ok(())
    }
}

/// The handler: each result = the mean over the processes of the matching argument.
fn all_reduce_mean(calls: &Mutex<()>, f: &CallFrame<'_>) -> pjrt::Result<()> {
    let bad = |m: String| pjrt::Error::InvalidArgument(format!("{ALL_REDUCE_TARGET}: {m}"));
    if !mpi::is_initialized() || mpi::is_finalized() {
        return Err(bad(
            "MPI is not running in this process (MpiDataParallel dropped?)".into(),
        ));
    }
    if f.num_args() != f.num_rets() {
        return Err(bad(format!(
            "{} arguments for {} results",
            f.num_args(),
            f.num_rets()
        )));
    }
    let _lock = calls.lock().unwrap_or_else(|e| e.into_inner());
    let world = SimpleCommunicator::world();
    let size = world.size();
    for i in 0..f.num_args() {
        let (x, y) = (f.arg(i)?, f.ret(i)?);
        if x.dims() != y.dims() || x.element_type() != y.element_type() {
            return Err(bad(format!(
                "argument {i} ({:?} {:?}) and result {i} ({:?} {:?}) differ",
                x.element_type(),
                x.dims(),
                y.element_type(),
                y.dims()
            )));
        }
        match x.element_type() {
            Some(ElementType::F32) => {
                // SAFETY: CPU buffers are host memory, valid for the call; the argument and
                // the result are distinct buffers of the checked type and size.
                let (x, y) = unsafe { (x.as_slice::<f32>()?, y.as_mut_slice::<f32>()?) };
                world.all_reduce_into(x, &mut *y, SystemOperation::sum());
                let n = size as f32;
                y.iter_mut().for_each(|v| *v /= n);
            }
            Some(ElementType::F64) => {
                // SAFETY: as above.
                let (x, y) = unsafe { (x.as_slice::<f64>()?, y.as_mut_slice::<f64>()?) };
                world.all_reduce_into(x, &mut *y, SystemOperation::sum());
                let n = f64::from(size);
                y.iter_mut().for_each(|v| *v /= n);
            }
            other => {
                return Err(bad(format!(
                    "gradient {i} is {other:?}; the all-reduce takes f32 or f64"
                )))
            }
        }
    }
    Ok(())
}
