//! [`TrainStep`]: one training step of a model (forward pass, loss, gradients, optimizer
//! update, the next values of the model's state) recorded into one StableHLO function and
//! compiled once, with parameters, model state and optimizer state kept on the device. Every
//! one of them is donated to its next value, so a step updates them in place; only the batch
//! goes in and the loss and metrics come out, and nothing waits for them unless asked.

use std::time::{Duration, Instant};

use hlo_builder::{
    Builder, Computation, ElementType, Executable, MemoryKind, Mesh, Partitioning, Placement,
    Recording, Sharding, Tensor, TensorType, Value,
};
use pjrt::{Buffer, BufferPlacement, Client, CompileOptions, Literal, LoadedExecutable};

use super::bound::{WeightSource, WEIGHT_KINDS};
use super::checkpoint::{Checkpoint, CheckpointError, OPTIMIZER_PREFIX};
use super::data::{check_buffers, host_literals, upload, HostData};
use super::error::TrainError;
use super::optim::Optimizer;
use crate::nn::{Module, ModuleExt, ParamKind, Path};
use crate::{GradOptions, WeightGradients};

/// What a step minimizes, and what else it reports: a float scalar loss and named metrics.
#[derive(Clone, Debug)]
pub struct Objective {
    /// The float scalar minimized.
    pub loss: Tensor,
    /// Named values computed along (accuracy, ...), returned by every step.
    pub metrics: Vec<(String, Tensor)>,
}

impl Objective {
    /// A loss with no metrics.
    pub fn new(loss: Tensor) -> Objective {
        Objective {
            loss,
            metrics: Vec::new(),
        }
    }
    /// Adds a metric (any tensor; read back with [`StepOutput::metric`]).
    pub fn metric(mut self, name: impl Into<String>, value: Tensor) -> Objective {
        self.metrics.push((name.into(), value));
        self
    }
}

impl From<Tensor> for Objective {
    fn from(loss: Tensor) -> Objective {
        Objective::new(loss)
    }
}

/// The optimizer's state, as trees of the model's type: the step count and one tree per
/// slot (Adam's first and second moments, momentum's velocity), whose trainable leaves hold
/// the slot's values (its state leaves keep the model's).
#[derive(Clone, Debug)]
pub struct OptimizerState<M> {
    /// The number of completed steps.
    pub step: i64,
    /// One tree per optimizer slot, in the optimizer's slot order.
    pub slots: Vec<M>,
}

/// What a step returned. The values stay on the device until read.
#[derive(Debug)]
pub struct StepOutput {
    loss: Buffer,
    metrics: Vec<(String, Buffer)>,
}

impl StepOutput {
    /// The loss before the update (waits for the step).
    pub fn loss(&self) -> Result<f32, TrainError> {
        let v = losses_as_f32(&self.loss.to_literal()?)?;
        v.first().copied().ok_or_else(|| TrainError::Spec {
            name: "loss".into(),
            message: "the loss holds no value".into(),
        })
    }
    /// The loss buffer (on the device).
    pub fn loss_buffer(&self) -> &Buffer {
        &self.loss
    }
    /// The metric called `name` (waits for the step).
    pub fn metric(&self, name: &str) -> Result<Literal, TrainError> {
        let b = self
            .metrics
            .iter()
            .find(|(n, _)| n == name)
            .ok_or_else(|| TrainError::Spec {
                name: "metric".into(),
                message: format!(
                    "no metric `{name}` (the step reports: {})",
                    self.metrics
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
        Ok(b.1.to_literal()?)
    }
    /// A scalar metric as f64 (waits for the step).
    pub fn metric_f64(&self, name: &str) -> Result<f64, TrainError> {
        let l = self.metric(name)?;
        let v = match l.element_type() {
            ElementType::F32 => l.to_scalar::<f32>()? as f64,
            ElementType::F64 => l.to_scalar::<f64>()?,
            ElementType::S32 => l.to_scalar::<i32>()? as f64,
            ElementType::S64 => l.to_scalar::<i64>()? as f64,
            other => {
                return Err(TrainError::Spec {
                    name: "metric".into(),
                    message: format!("metric `{name}` is {other}, not a number"),
                })
            }
        };
        Ok(v)
    }
}

/// How a train step is made: [`TrainStep::new`], then options, then
/// [`compile`](TrainStepBuilder::compile) with the loss.
pub struct TrainStepBuilder<M: Module> {
    client: Client,
    model: M,
    name: String,
    optimizer: Option<Box<dyn Optimizer>>,
    inputs: Vec<TensorType>,
    options: CompileOptions,
    layout: Option<Layout>,
    steps_per_call: usize,
    /// Candidates for `steps_per_call` chosen by timing (empty: no tuning).
    tune: Vec<usize>,
    /// Where the optimizer state lives between steps (`None`: the device's memory).
    opt_memory: Option<MemoryKind>,
    /// Where the weights (trainable parameters and model state) live between steps
    /// (`None`: the device's memory).
    param_memory: Option<MemoryKind>,
    /// Which client the step runs on: the one given, or one with a thread budget.
    cpu_threads: CpuThreads,
    /// Recorded between the gradients and the optimizer's update.
    gradient_transform: Option<GradientTransform>,
    /// The form of the gradients: fixed, or `None` to time every variant.
    grad_options: Option<GradOptions>,
}

/// A function of the gradients recorded between differentiation and the optimizer's update
/// ([`TrainStepBuilder::gradient_transform`]): `(builder, gradients) -> gradients`, one of
/// the same type per trainable parameter, in the model's parameter order.
pub type GradientTransform =
    std::sync::Arc<dyn Fn(&mut Builder, &[Value]) -> hlo_builder::Result<Vec<Value>> + Send + Sync>;

/// The CPU thread budget of a train step's client ([`TrainStepBuilder::cpu_threads`],
/// [`TrainStepBuilder::cpu_threads_tuned`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CpuThreads {
    /// The client given to [`TrainStep::new`].
    AsGiven,
    /// A client like it made with `Client::with_cpu_threads(n)`.
    Fixed(usize),
    /// The given client or a one-thread one, whichever runs the step faster.
    Tuned,
}

/// How a partitioned step splits its values.
enum Layout {
    /// Batch inputs split along axis 0 over a mesh axis; all state replicated.
    Data { mesh: Mesh, axis: String },
    /// Each weight as a function of its path and type says; each input as given.
    Custom {
        mesh: Mesh,
        weights: Box<ParamSharding>,
        inputs: Vec<Sharding>,
    },
}

/// The sharding of a weight (trainable parameter or model state), given its path and type.
pub type ParamSharding = dyn Fn(&str, &TensorType) -> Sharding;

impl<M: Module> TrainStepBuilder<M> {
    /// Trains data-parallel over the devices of `mesh`: every batch input is split along
    /// its first axis over the mesh axis `axis` (whose size must divide the batch), the
    /// parameters, model state and optimizer state are replicated on every device, and XLA's
    /// SPMD partitioner sums the gradients across the devices. The numbers are those of the
    /// same step on one device with the whole batch. The client needs `mesh.size()` devices
    /// (a CPU client: `ClientOptions::cpu_device_count`).
    pub fn data_parallel(mut self, mesh: Mesh, axis: &str) -> Self {
        self.layout = Some(Layout::Data {
            mesh,
            axis: axis.to_string(),
        });
        self
    }

    /// Trains over the devices of `mesh` with every weight (trainable parameter or model
    /// state) split as `weights(path, type)` says, the optimizer's slots split like their
    /// parameters, and batch input `i` split as `inputs[i]` says: tensor parallelism
    /// (`weights` splitting a layer's output features over a `model` axis, the next layer's
    /// input features likewise), data parallelism (the inputs' batch axis over `data`), or
    /// both. The parameters live on the devices as shards; [`model`](TrainStep::model) and
    /// checkpoints gather them. The numbers are those of the same step on one device.
    /// (Functions bound to the step's live weights through [`WeightSource`] see device 0's
    /// copies, which are shards here: bind them to `Weights::upload(client, &step.model()?)`.)
    pub fn partitioned(
        mut self,
        mesh: Mesh,
        weights: impl Fn(&str, &TensorType) -> Sharding + 'static,
        inputs: Vec<Sharding>,
    ) -> Self {
        self.layout = Some(Layout::Custom {
            mesh,
            weights: Box::new(weights),
            inputs,
        });
        self
    }
    /// The step's name (its function's name in the module and in messages).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
    /// The optimizer (default: SGD with learning rate 0.01).
    pub fn optimizer(mut self, optimizer: impl Optimizer + 'static) -> Self {
        self.optimizer = Some(Box::new(optimizer));
        self
    }
    /// The types of a batch's inputs, in the order the loss receives them.
    pub fn inputs(mut self, inputs: impl IntoIterator<Item = TensorType>) -> Self {
        self.inputs = inputs.into_iter().collect();
        self
    }
    /// Compile options for the step's executable (XLA options, device assignment, ...).
    pub fn compile_options(mut self, options: CompileOptions) -> Self {
        self.options = options;
        self
    }

    /// Keeps the optimizer state (step count, moments, velocities) in memory of kind `kind`
    /// between steps, typically [`MemoryKind::PINNED_HOST`], as JAX's host-offloaded
    /// optimizer state: the step's program declares those parameters and results in `kind`,
    /// moves them to the device to compute the update and back to `kind` after, and the
    /// state buffers live there ([`TrainStep::optimizer_buffers`]). Compiling fails with an
    /// error naming the kind when the client has no such memory, or when its plugin does not
    /// honour placements (`pjrt::Client::check_placement`: the CPU plugins do from PJRT API
    /// 0.115). Parameters and model state stay on the device.
    pub fn offload_optimizer_state(mut self, kind: MemoryKind) -> Self {
        self.opt_memory = Some(kind);
        self
    }

    /// Keeps the model's weights (trainable parameters and model state such as running
    /// statistics) in memory of kind `kind` between steps, typically
    /// [`MemoryKind::PINNED_HOST`]: the step's program declares those parameters and results
    /// in `kind`, moves them to the device before the forward pass and their next values back
    /// to `kind` after the update, and the weight buffers live there
    /// ([`TrainStep::parameter_buffers`]). Combines with
    /// [`offload_optimizer_state`](Self::offload_optimizer_state) (the two kinds may differ);
    /// both go through the same mechanism and the same checks: compiling fails with an error
    /// naming the kind when the client has no such memory, or naming the plugin when it does
    /// not honour placements (`pjrt::Client::check_placement`: the CPU plugins do from PJRT
    /// API 0.115). The numbers are those of the all-device step, bit for bit.
    pub fn offload_parameters(mut self, kind: MemoryKind) -> Self {
        self.param_memory = Some(kind);
        self
    }

    /// Also compiles a program that runs `k` steps in one call (on `k` batches stacked on a
    /// new leading axis; see [`TrainStep::step_many`]), which [`fit`](super::fit) uses: one
    /// dispatch and one wait per `k` steps instead of per step, which is most of a small
    /// model's step time. The steps are a loop in the program (its convolution gradients are
    /// written in the form XLA's CPU backend runs fast inside loops too). `k` = 1 (the
    /// default) compiles only the one-step program.
    pub fn steps_per_call(mut self, k: usize) -> Self {
        self.steps_per_call = k.max(1);
        self.tune.clear();
        self
    }

    /// Chooses [`steps_per_call`](Self::steps_per_call) among `candidates` by timing: each
    /// candidate's program is compiled and run a few times on zero inputs with copies of the
    /// initial state (the step's own state is not touched), and the one with the least time
    /// per step is kept. 1 (one step per call) is always a candidate. The timings are in
    /// [`TrainStep::tuning`]. Compiling the candidates costs time once (the compile cache
    /// keeps the programs for later runs); pick candidates that divide an epoch's batches
    /// well, since a last short group runs one step per call.
    pub fn steps_per_call_tuned(mut self, candidates: impl IntoIterator<Item = usize>) -> Self {
        self.tune = candidates.into_iter().filter(|&k| k > 1).collect();
        self.tune.sort_unstable();
        self.tune.dedup();
        self.steps_per_call = 1;
        self
    }

    /// Runs the step on a client like the one given but made with a budget of `threads`
    /// CPU threads ([`pjrt::Client::with_cpu_threads`]): the CPU plugins size their thread
    /// pools from it. One thread often runs a small model's step faster than the plugin's
    /// pool (no hand-off between threads per op); large steps want the pool. The step's
    /// state lives on that client ([`TrainStep::client`]): give it host data, or buffers made
    /// there. For one-device steps whose state stays on the device.
    pub fn cpu_threads(mut self, threads: usize) -> Self {
        self.cpu_threads = CpuThreads::Fixed(threads);
        self
    }

    /// Chooses by timing between the client given and a one-thread client like it
    /// ([`cpu_threads`](Self::cpu_threads)`(1)`): the step (with its steps-per-call tuning,
    /// if any) is compiled and timed on copies of the state on both, and the faster is kept.
    /// The timings are in [`TrainStep::thread_tuning`]; [`TrainStep::client`] is the client
    /// chosen. The second compile is a load when a compile cache is on.
    pub fn cpu_threads_tuned(mut self) -> Self {
        self.cpu_threads = CpuThreads::Tuned;
        self
    }

    /// Writes the step's gradients in the forms `options` name (see
    /// [`GradOptions`](crate::GradOptions)); the default is [`GradOptions::DEFAULT`].
    pub fn grad_options(mut self, options: GradOptions) -> Self {
        self.grad_options = Some(options);
        self
    }

    /// Chooses the step's program among its variants by timing: the step is recorded once
    /// per [`GradOptions::variants`] (today: weight gradients contracted in place, or with the
    /// activations transposed first, which XLA's CPU backend runs faster for small layers and
    /// slower for large ones), each is compiled and timed (with the steps-per-call and thread
    /// candidates, if those are tuned too) on copies of the state, and the fastest is kept.
    /// The timings are in [`TrainStep::variant_tuning`], the choice in
    /// [`TrainStep::grad_options`]. Like every tuning, the choice is remembered in the compile
    /// cache (see [`TrainStep::tuning_recalled`]), so later processes compile (load) only the
    /// chosen program and time nothing.
    pub fn program_variants_tuned(mut self) -> Self {
        self.grad_options = None;
        self
    }

    /// Records `transform` between the gradients and the optimizer's update: it gets the
    /// gradients of the trainable parameters (in the model's parameter order) and returns
    /// the ones the optimizer uses, of the same types (clipping, noise, or a reduction
    /// across processes such as `train::mpi::MpiDataParallel::gradient_transform`).
    pub fn gradient_transform(mut self, transform: GradientTransform) -> Self {
        self.gradient_transform = Some(transform);
        self
    }

    /// Records the step with `loss(model, batch)` (the model's parameters bound to the step's
    /// inputs; training mode on), differentiates it, adds the optimizer's update, compiles,
    /// and uploads the model's values and the optimizer's initial state.
    pub fn compile<F, O>(self, loss: F) -> Result<TrainStep<M>, TrainError>
    where
        F: Fn(&M, &[Tensor]) -> hlo_builder::Result<O>,
        O: Into<Objective>,
    {
        let name = self.name;
        let optimizer: Box<dyn Optimizer> = match self.optimizer {
            Some(o) => o,
            None => Box::new(super::optim::Sgd::new(0.01)),
        };
        let model = self.model;
        let leaves = model.params();
        let types_of = |kind: ParamKind| -> Vec<TensorType> {
            leaves
                .iter()
                .filter(|(_, p)| p.kind() == kind)
                .map(|(_, p)| p.ty().clone())
                .collect()
        };
        let (train_types, model_state_types) =
            (types_of(ParamKind::Trainable), types_of(ParamKind::State));
        let opt_init = optimizer.init(&train_types)?;
        let opt_types: Vec<TensorType> = opt_init
            .iter()
            .map(|l| TensorType::new(l.element_type(), l.dims()))
            .collect();
        let counts = Counts {
            train: train_types.len(),
            model_state: model_state_types.len(),
            opt: opt_types.len(),
        };
        let mut state_types = train_types.clone();
        state_types.extend(model_state_types);
        state_types.extend(opt_types);
        let mut all_types = state_types.clone();
        all_types.extend(self.inputs.iter().cloned());

        // The step, recorded as a computation of (state..., inputs...) returning
        // (next state..., loss, metrics...), once per program variant tried; the programs
        // below inline or loop over it.
        let record =
            |grad: GradOptions| -> Result<(std::sync::Arc<Computation>, Vec<String>), TrainError> {
                let mut failure: Option<TrainError> = None;
                let mut metric_names: Vec<String> = Vec::new();
                let recorded = Builder::computation(name.clone(), &all_types, |b, ps| {
                    let r = Recording::scoped(b, |rec| {
                        record_step(
                            rec,
                            &name,
                            &model,
                            optimizer.as_ref(),
                            counts,
                            ps,
                            self.gradient_transform.as_ref(),
                            grad,
                            &loss,
                        )
                    });
                    match r {
                        Ok((outs, names)) => {
                            metric_names = names;
                            Ok(outs)
                        }
                        Err(e) => {
                            let message = e.to_string();
                            failure = Some(e);
                            Err(hlo_builder::Error::Shape {
                                op: "train step",
                                message,
                            })
                        }
                    }
                });
                match recorded {
                    Ok(c) => Ok((c, metric_names)),
                    Err(e) => Err(failure.unwrap_or_else(|| e.into())),
                }
            };

        let mut param_names: Vec<String> = leaves
            .iter()
            .filter(|(_, p)| p.kind() == ParamKind::Trainable)
            .chain(leaves.iter().filter(|(_, p)| p.kind() == ParamKind::State))
            .map(|(n, _)| n.clone())
            .collect();
        param_names.extend(optimizer_names(&model, optimizer.slots()));
        let n_state = state_types.len();
        let split = match &self.layout {
            None => None,
            Some(layout) => Some(split_of(
                layout,
                &model,
                &self.inputs,
                counts,
                optimizer.slots(),
                &name,
            )?),
        };
        if split.is_some() && (self.steps_per_call > 1 || !self.tune.is_empty()) {
            return Err(TrainError::Spec {
                name,
                message: "several steps per call run on one device: a partitioned step takes one step per call".into(),
            });
        }
        let partitioning = split.as_ref().map(Split::partitioning);
        // Where the weights and the optimizer state live: checked before anything is
        // compiled.
        let n_weights = counts.train + counts.model_state;
        let offload = Offload::new(
            &self.client,
            [
                (
                    "TrainStepBuilder::offload_parameters",
                    self.param_memory.as_ref(),
                    0..n_weights,
                ),
                (
                    "TrainStepBuilder::offload_optimizer_state",
                    self.opt_memory.as_ref(),
                    n_weights..n_state,
                ),
            ],
        )?;
        if split.is_some() && offload.is_some() {
            return Err(TrainError::Spec {
                name,
                message: "offloading parameters or optimizer state is for one-device steps: a partitioned step keeps its state on the devices".into(),
            });
        }
        let variants = match self.grad_options {
            Some(g) => vec![g],
            None => GradOptions::variants(),
        };
        let mut programs = Vec::with_capacity(variants.len());
        let mut metric_names = Vec::new();
        for &grad in &variants {
            let (body, names) = record(grad)?;
            let one = one_step_module(
                &name,
                &body,
                &param_names,
                &all_types,
                n_state,
                partitioning.clone(),
                offload.as_ref(),
            )?;
            metric_names = names;
            programs.push((grad, body, one));
        }
        let mut host = Vec::with_capacity(n_state);
        for kind in WEIGHT_KINDS {
            host.extend(model.host_values(&[kind])?);
        }
        host.extend(opt_init.into_iter().map(std::sync::Arc::new));

        if self.cpu_threads != CpuThreads::AsGiven && (split.is_some() || offload.is_some()) {
            return Err(TrainError::Spec {
                name,
                message: "a thread budget is for one-device steps whose state stays on the device (not partitioned, not offloaded)".into(),
            });
        }
        // The thread budgets the step may run with: the client given (`None`), or one with
        // a budget.
        let budgets: Vec<Option<usize>> = match self.cpu_threads {
            CpuThreads::AsGiven => vec![None],
            CpuThreads::Fixed(n) => vec![Some(n)],
            CpuThreads::Tuned => vec![None, Some(1)],
        };
        // A choice made by timing in an earlier run (same candidates, plugin, devices, host).
        let tuned = programs.len() > 1 || budgets.len() > 1 || !self.tune.is_empty();
        let memo = match (tuned, self.options.compile_cache.resolve()) {
            (true, Some(cache)) => {
                let mut parts: Vec<Vec<u8>> = programs
                    .iter()
                    .map(|(_, _, one)| one.to_text().as_bytes().to_vec())
                    .collect();
                parts.push(
                    format!("{budgets:?} {:?} {}", self.tune, self.steps_per_call).into_bytes(),
                );
                let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
                // The topic names the timing method: a choice timed another way is not
                // recalled but timed again.
                let topic = format!(
                    "hlo-autodiff train step tuning 3: {TIMED_BLOCKS} equal blocks of {TIMED_BLOCK_TIME:?}"
                );
                let key =
                    pjrt::CompileCache::choice_key(&self.client, &self.options, &topic, &refs)?;
                Some((cache, key))
            }
            _ => None,
        };
        let recalled = memo.as_ref().and_then(|(cache, key)| {
            let c = Choice::decode(&cache.recall_choice(key)?)?;
            let k_ok = c.k == self.steps_per_call.max(1) || self.tune.contains(&c.k);
            (c.variant < programs.len() && c.budget < budgets.len() && k_ok).then_some(c)
        });
        let (try_variants, try_budgets, steps_per_call, tune): (
            Vec<usize>,
            Vec<usize>,
            usize,
            &[usize],
        ) = match &recalled {
            Some(c) => (vec![c.variant], vec![c.budget], c.k, &[]),
            None => (
                (0..programs.len()).collect(),
                (0..budgets.len()).collect(),
                self.steps_per_call,
                &self.tune,
            ),
        };
        let timed = try_variants.len() * try_budgets.len() > 1;
        let mut clients: Vec<Option<Client>> = vec![None; budgets.len()];
        let blocks = Blocks::new(tune.iter().copied().fold(steps_per_call, usize::max));
        let mut best: Option<(usize, usize, Built, Duration)> = None;
        let mut variant_tuning = Vec::new();
        let mut thread_tuning_of = Vec::new();
        for &vi in &try_variants {
            let (grad, body, one) = &programs[vi];
            let mut variant_best = Duration::MAX;
            let mut thread_tuning = Vec::new();
            for &bi in &try_budgets {
                let client = match &clients[bi] {
                    Some(c) => c.clone(),
                    None => {
                        let c = match budgets[bi] {
                            None => self.client.clone(),
                            Some(n) => self.client.with_cpu_threads_like(n)?,
                        };
                        clients[bi] = Some(c.clone());
                        c
                    }
                };
                let built = build_on(
                    &client,
                    &self.options,
                    one,
                    |k| {
                        multi_step_module(
                            &name,
                            body,
                            &param_names,
                            &all_types,
                            n_state,
                            k,
                            offload.as_ref(),
                        )
                        .map_err(TrainError::from)
                    },
                    &host,
                    split.as_ref(),
                    offload.as_ref(),
                    steps_per_call,
                    tune,
                    &self.inputs,
                    &name,
                    &blocks,
                )?;
                // The step's time here: its best steps-per-call candidate's, else its program
                // (the k-step one, if any) timed now (when there is something to choose).
                let t = match built.tuning.iter().map(|&(_, t)| t).min() {
                    Some(t) => t,
                    None => match (timed, built.state.first()) {
                        (true, Some(row)) => {
                            let (exe, k) = built
                                .multi
                                .as_ref()
                                .map_or((built.exe.loaded(), 1), |m| (&m.exe, m.k));
                            time_per_step(exe, row, &self.inputs, k, &blocks)?
                        }
                        _ => Duration::ZERO,
                    },
                };
                thread_tuning.push((budgets[bi], t));
                variant_best = variant_best.min(t);
                if best.as_ref().is_none_or(|(_, _, _, b)| t < *b) {
                    best = Some((vi, bi, built, t));
                }
            }
            variant_tuning.push((*grad, variant_best));
            thread_tuning_of.push((vi, thread_tuning));
        }
        let Some((vi, bi, built, _)) = best else {
            return Err(TrainError::Spec {
                name,
                message: "no program variant or client to run on".into(),
            });
        };
        let grad_options = programs[vi].0;
        let text = programs[vi].2.to_text().to_string();
        let mut thread_tuning = thread_tuning_of
            .into_iter()
            .find(|(v, _)| *v == vi)
            .map(|(_, t)| t)
            .unwrap_or_default();
        if budgets.len() == 1 {
            thread_tuning.clear();
        }
        if programs.len() == 1 {
            variant_tuning.clear();
        }
        let mut tuning = built.tuning.clone();
        match &recalled {
            Some(c) => {
                variant_tuning = c.variant_times.clone();
                thread_tuning = c.thread_times.clone();
                tuning = c.k_times.clone();
            }
            None => {
                if let Some((cache, key)) = &memo {
                    let choice = Choice {
                        variant: vi,
                        budget: bi,
                        k: built.multi.as_ref().map_or(1, |m| m.k),
                        variant_times: variant_tuning.clone(),
                        thread_times: thread_tuning.clone(),
                        k_times: tuning.clone(),
                    };
                    if let Err(e) = cache.remember_choice(key, &choice.encode()) {
                        tracing::warn!(target: "autodiff::train", step = %name, error = %e, "cannot remember the tuning");
                    }
                }
            }
        }
        if tuned {
            tracing::debug!(
                target: "autodiff::train",
                step = %name,
                recalled = recalled.is_some(),
                variant = ?grad_options,
                threads = ?built.client.cpu_threads(),
                steps_per_call = built.multi.as_ref().map_or(1, |m| m.k),
                variants = ?variant_tuning,
                budgets = ?thread_tuning,
                "train step tuned"
            );
        }
        let Built {
            client,
            exe,
            parts,
            multi,
            state: buffers,
            tuning: _,
        } = built;
        Ok(TrainStep {
            name,
            client,
            thread_tuning,
            variant_tuning,
            grad_options,
            recalled: recalled.is_some(),
            exe,
            multi,
            model,
            n_train: counts.train,
            n_weights: counts.train + counts.model_state,
            slots: optimizer.slots(),
            state: buffers,
            state_types,
            inputs: self.inputs,
            metrics: metric_names,
            steps: 0,
            text,
            split,
            parts,
            tuning,
            offload,
        })
    }
}

/// The shardings of a partitioned step's inputs and state (weights by path, trainable then
/// model state; the optimizer's step counter replicated and each slot split like its
/// parameter).
fn split_of<M: Module>(
    layout: &Layout,
    model: &M,
    input_types: &[TensorType],
    c: Counts,
    slots: usize,
    name: &str,
) -> Result<Split, TrainError> {
    let spec_err = |message: String| TrainError::Spec {
        name: name.to_string(),
        message,
    };
    let mesh = match layout {
        Layout::Data { mesh, .. } | Layout::Custom { mesh, .. } => mesh.clone(),
    };
    let inputs: Vec<Sharding> = match layout {
        Layout::Data { axis, .. } => {
            let mut v = Vec::with_capacity(input_types.len());
            for (i, t) in input_types.iter().enumerate() {
                if t.rank() == 0 {
                    return Err(spec_err(format!(
                        "data-parallel: input {i} is the scalar {t}; every input needs a batch axis to split"
                    )));
                }
                v.push(Sharding::split(t.rank(), 0, axis));
            }
            v
        }
        Layout::Custom { inputs, .. } => {
            if inputs.len() != input_types.len() {
                return Err(spec_err(format!(
                    "{} input shardings for {} inputs",
                    inputs.len(),
                    input_types.len()
                )));
            }
            inputs.clone()
        }
    };
    let mut weights = Vec::with_capacity(c.train + c.model_state);
    for kind in WEIGHT_KINDS {
        for (path, p) in model.params() {
            if p.kind() == kind {
                weights.push(match layout {
                    Layout::Data { .. } => Sharding::replicated(p.ty().rank()),
                    Layout::Custom { weights: f, .. } => f(&path, p.ty()),
                });
            }
        }
    }
    if c.opt != 1 + slots * c.train || weights.len() != c.train + c.model_state {
        return Err(spec_err(format!(
            "partitioned: the optimizer holds {} state tensors, expected a step counter and {slots} slots of {} parameters",
            c.opt, c.train
        )));
    }
    let mut state = weights.clone();
    state.push(Sharding::replicated(0));
    for _ in 0..slots {
        state.extend(weights[..c.train].iter().cloned());
    }
    Ok(Split {
        mesh,
        inputs,
        state,
    })
}

/// The mesh and the shardings of a partitioned step's inputs and state.
struct Split {
    mesh: Mesh,
    inputs: Vec<Sharding>,
    state: Vec<Sharding>,
}

impl Split {
    /// The step program's annotations: the state then the inputs in, the state out.
    fn partitioning(&self) -> Partitioning {
        let mut ins = self.state.clone();
        ins.extend(self.inputs.iter().cloned());
        Partitioning::new(self.mesh.clone())
            .inputs(ins)
            .outputs(self.state.clone())
    }
}

/// The state's host values on every device of the executable (one row per device): whole
/// copies, or in a partitioned step each device's shard.
fn upload_state(
    client: &Client,
    exe: &LoadedExecutable,
    host: &[std::sync::Arc<Literal>],
    split: Option<&Split>,
    parts: &[usize],
    offload: Option<&Offload>,
) -> Result<Vec<Vec<Buffer>>, TrainError> {
    let pieces: Vec<Vec<Literal>> = match split {
        Some(sp) => host
            .iter()
            .zip(&sp.state)
            .map(|(l, s)| s.split_literal(&sp.mesh, l))
            .collect::<hlo_builder::Result<_>>()?,
        None => host.iter().map(|l| vec![(**l).clone()]).collect(),
    };
    let mut rows = Vec::with_capacity(exe.addressable_devices().len());
    for (d, device) in exe.addressable_devices().iter().enumerate() {
        let on_device = BufferPlacement::device(device);
        let part = if split.is_some() { parts[d] } else { 0 };
        let mut row = Vec::with_capacity(host.len());
        for (i, ps) in pieces.iter().enumerate() {
            let l = &ps[part];
            // Offloaded state goes to its memory; everything else to the device.
            let offloaded = offload
                .and_then(|o| o.of(i))
                .map(|(_, memory)| BufferPlacement::memory(memory));
            let placement = offloaded.as_ref().unwrap_or(&on_device);
            row.push(client.buffer_from_bytes_with(
                l.element_type(),
                l.as_bytes(),
                l.dims(),
                pjrt::HostBufferSemantics::ImmutableOnlyDuringCall,
                placement,
            )?);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// What a train step compiled and uploaded on one client.
struct Built {
    client: Client,
    exe: hlo_builder::Executable,
    parts: Vec<usize>,
    multi: Option<Multi>,
    state: Vec<Vec<Buffer>>,
    tuning: Vec<(usize, Duration)>,
}

/// Compiles the one-step module `one` (and the `k`-step modules `multi_module(k)` asked for
/// or tried) on `client`, uploads the initial state `host` there, and chooses steps per call
/// among `tune` by timing.
#[allow(clippy::too_many_arguments)]
fn build_on(
    client: &Client,
    options: &CompileOptions,
    one: &hlo_builder::Module,
    multi_module: impl Fn(usize) -> Result<hlo_builder::Module, TrainError>,
    host: &[std::sync::Arc<Literal>],
    split: Option<&Split>,
    offload: Option<&Offload>,
    steps_per_call: usize,
    tune: &[usize],
    inputs: &[TensorType],
    name: &str,
    blocks: &Blocks,
) -> Result<Built, TrainError> {
    // The plugin's own errors stay `TrainError::Pjrt`, as from any other compile.
    let exe = one.compile_with(client, options).map_err(|e| match e {
        hlo_builder::Error::Pjrt(p) => TrainError::from(p),
        other => TrainError::from(other),
    })?;
    let parts = exe.device_partitions()?;
    let compile_multi = |k: usize| -> Result<Multi, TrainError> {
        let m = multi_module(k)?;
        let exe = client.compile_with(&m.program(), options)?;
        Ok(Multi {
            k,
            exe,
            text: m.to_text().to_string(),
        })
    };
    let mut multi = if steps_per_call > 1 {
        Some(compile_multi(steps_per_call)?)
    } else {
        None
    };
    let state = upload_state(client, exe.loaded(), host, split, &parts, offload)?;
    let mut tuning = Vec::new();
    if let (false, Some(row)) = (tune.is_empty(), state.first()) {
        let single = time_per_step(exe.loaded(), row, inputs, 1, blocks)?;
        tuning.push((1, single));
        let mut best = single;
        for &k in tune {
            let candidate = compile_multi(k)?;
            let t = time_per_step(&candidate.exe, row, inputs, k, blocks)?;
            tuning.push((k, t));
            if t < best {
                best = t;
                multi = Some(candidate);
            }
        }
        tracing::debug!(
            target: "autodiff::train",
            step = %name,
            threads = ?client.cpu_threads(),
            chosen = multi.as_ref().map_or(1, |m| m.k),
            timings = ?tuning,
            "steps per call chosen by timing"
        );
    }
    Ok(Built {
        client: client.clone(),
        exe,
        parts,
        multi,
        state,
        tuning,
    })
}

/// How every candidate of one tuning is timed (see [`time_per_step`]): [`TIMED_BLOCKS`]
/// blocks of the same number of steps each, the least per-step time kept. The block size is
/// set by the first candidate timed: about [`TIMED_BLOCK_TIME`] of its steps, and at least
/// the largest steps-per-call candidate (each candidate runs whole calls, rounded up).
/// Equal blocks matter: a least over more draws would favour the candidates with shorter
/// calls on a noisy machine.
struct Blocks {
    /// Steps per block, 0 until the first candidate sets it.
    steps: std::cell::Cell<usize>,
    /// The largest steps per call among the candidates.
    max_k: usize,
}

impl Blocks {
    fn new(max_k: usize) -> Blocks {
        Blocks {
            steps: std::cell::Cell::new(0),
            max_k: max_k.max(1),
        }
    }
}

/// Timed blocks per candidate in [`time_per_step`] (after one warm-up call).
const TIMED_BLOCKS: usize = 3;

/// About how long one timed block runs (set from the first candidate's steps).
const TIMED_BLOCK_TIME: Duration = Duration::from_millis(10);

/// The time per step of `exe` (a `k`-step program when `k` > 1) on zero inputs of the
/// declared types (stacked `k` deep) and copies of `state`, as training runs it: each call's
/// results are the next call's state (donated, the copies; `state` itself is untouched), and
/// calls are not waited for one by one, only at the end of a block. One warm-up call, then
/// the least per-step time of [`TIMED_BLOCKS`] blocks of `blocks` (whole calls).
fn time_per_step(
    exe: &LoadedExecutable,
    state: &[Buffer],
    inputs: &[TensorType],
    k: usize,
    blocks: &Blocks,
) -> Result<Duration, TrainError> {
    let client = exe.client();
    let mut data = Vec::with_capacity(inputs.len());
    for t in inputs {
        let mut dims = if k > 1 { vec![k as i64] } else { Vec::new() };
        dims.extend_from_slice(&t.dims);
        data.push(client.buffer_from_literal(&Literal::zeros(t.ty, &dims)?)?);
    }
    let mut current = Vec::with_capacity(state.len());
    for b in state {
        current.push(b.copy_to_memory(&b.memory()?)?);
    }
    let call = |current: Vec<Buffer>| -> Result<Vec<Buffer>, TrainError> {
        let mut args: Vec<&Buffer> = current.iter().collect();
        args.extend(data.iter());
        let mut outs = exe.execute(&args)?;
        // The state goes on; the losses and metrics are dropped at once (PJRT frees a
        // deleted buffer's memory only after the computation defining it is done).
        outs.truncate(state.len());
        Ok(outs)
    };
    let wait = |bufs: &[Buffer]| -> Result<(), TrainError> {
        for b in bufs {
            b.ready_event()?.wait()?;
        }
        Ok(())
    };
    let k = k.max(1);
    wait(&current)?;
    current = call(current)?;
    wait(&current)?;
    if blocks.steps.get() == 0 {
        // Sized on one more call of the first candidate timed.
        let t0 = Instant::now();
        current = call(current)?;
        wait(&current)?;
        let per_step = (t0.elapsed() / k as u32).max(Duration::from_nanos(1));
        let steps = (TIMED_BLOCK_TIME.as_nanos() / per_step.as_nanos()).min(1 << 20) as usize;
        blocks.steps.set(steps.max(blocks.max_k));
    }
    let calls = blocks.steps.get().div_ceil(k);
    let mut best = Duration::MAX;
    for _ in 0..TIMED_BLOCKS {
        let t0 = Instant::now();
        for _ in 0..calls {
            current = call(current)?;
        }
        wait(&current)?;
        best = best.min(t0.elapsed() / (calls * k) as u32);
    }
    Ok(best)
}

/// A train step's tuning as remembered in the compile cache: the indices of the chosen
/// variant and thread budget among the candidates, the steps per call, and the timings.
#[derive(Debug, Clone, PartialEq)]
struct Choice {
    variant: usize,
    budget: usize,
    k: usize,
    variant_times: Vec<(GradOptions, Duration)>,
    thread_times: Vec<(Option<usize>, Duration)>,
    k_times: Vec<(usize, Duration)>,
}

impl Choice {
    /// One line per fact: `choice <variant> <budget> <k>`, then `v <transpose-first 0|1>
    /// <ns>`, `t <threads or 0> <ns>` and `k <k> <ns>` lines.
    fn encode(&self) -> Vec<u8> {
        let mut s = format!("choice {} {} {}\n", self.variant, self.budget, self.k);
        for (g, t) in &self.variant_times {
            let form = u8::from(g.weight_gradients == WeightGradients::TransposeFirst);
            s += &format!("v {form} {}\n", t.as_nanos());
        }
        for (n, t) in &self.thread_times {
            s += &format!("t {} {}\n", n.unwrap_or(0), t.as_nanos());
        }
        for (k, t) in &self.k_times {
            s += &format!("k {k} {}\n", t.as_nanos());
        }
        s.into_bytes()
    }

    /// The choice `bytes` hold, or `None` for anything else (then the step is timed again).
    fn decode(bytes: &[u8]) -> Option<Choice> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut lines = text.lines();
        let head: Vec<usize> = lines
            .next()?
            .strip_prefix("choice ")?
            .split(' ')
            .map(|w| w.parse().ok())
            .collect::<Option<_>>()?;
        let [variant, budget, k] = head[..] else {
            return None;
        };
        let mut c = Choice {
            variant,
            budget,
            k,
            variant_times: Vec::new(),
            thread_times: Vec::new(),
            k_times: Vec::new(),
        };
        for line in lines {
            let mut w = line.split(' ');
            let (tag, a, ns) = (w.next()?, w.next()?, w.next()?);
            let a: usize = a.parse().ok()?;
            let t = Duration::from_nanos(ns.parse().ok()?);
            match tag {
                "v" => {
                    let form = match a {
                        0 => WeightGradients::Contract,
                        1 => WeightGradients::TransposeFirst,
                        _ => return None,
                    };
                    c.variant_times
                        .push((GradOptions::DEFAULT.weight_gradients(form), t));
                }
                "t" => c.thread_times.push(((a > 0).then_some(a), t)),
                "k" => c.k_times.push((a, t)),
                _ => return None,
            }
        }
        (c.k >= 1).then_some(c)
    }
}

/// Where offloaded state lives between steps: for each span of state indices (the weights,
/// the optimizer state), its kind and the memory its buffers go to. The one mechanism behind
/// [`TrainStepBuilder::offload_parameters`] and
/// [`TrainStepBuilder::offload_optimizer_state`]: the program declares those parameters and
/// results in the kind ([`offload_placement`]), moves them to the device on entry
/// ([`bring_in`]) and back on exit ([`send_out`]), and [`upload_state`] puts their buffers
/// there.
#[derive(Clone, Debug)]
struct Offload {
    spans: Vec<(std::ops::Range<usize>, MemoryKind, pjrt::Memory)>,
}

impl Offload {
    /// The offload of the spans that name a kind (each checked with
    /// `Client::check_placement` under its option's name), or `None` when none does.
    fn new<'a>(
        client: &Client,
        spans: impl IntoIterator<Item = (&'static str, Option<&'a MemoryKind>, std::ops::Range<usize>)>,
    ) -> Result<Option<Offload>, TrainError> {
        let mut out = Vec::new();
        for (op, kind, range) in spans {
            let Some(kind) = kind else { continue };
            client.check_placement(op, kind.as_str())?;
            let memory = client.first_device()?.memory_of_kind(kind.as_str())?;
            if !range.is_empty() {
                out.push((range, kind.clone(), memory));
            }
        }
        Ok((!out.is_empty()).then_some(Offload { spans: out }))
    }

    /// The kind and memory of state value `i`, when it is offloaded.
    fn of(&self, i: usize) -> Option<(&MemoryKind, &pjrt::Memory)> {
        self.spans
            .iter()
            .find(|(r, _, _)| r.contains(&i))
            .map(|(_, k, m)| (k, m))
    }
}

/// The placement of a step program whose offloaded state values (parameters and the results
/// they are donated to) live in their kinds.
fn offload_placement(offload: Option<&Offload>, n_state: usize) -> Placement {
    let mut p = Placement::new();
    if let Some(o) = offload {
        for i in 0..n_state {
            if let Some((kind, _)) = o.of(i) {
                p = p.parameter(i, kind.clone()).result(i, kind.clone());
            }
        }
    }
    p
}

/// The values of a float loss (a scalar, or `k` stacked), as f32.
fn losses_as_f32(l: &Literal) -> Result<Vec<f32>, TrainError> {
    Ok(match l.element_type() {
        ElementType::F32 => l.to_vec::<f32>()?,
        ElementType::F64 => l.to_vec::<f64>()?.into_iter().map(|x| x as f32).collect(),
        ElementType::F16 => l
            .to_vec::<half::f16>()?
            .iter()
            .map(|x| x.to_f32())
            .collect(),
        ElementType::BF16 => l
            .to_vec::<half::bf16>()?
            .iter()
            .map(|x| x.to_f32())
            .collect(),
        other => {
            return Err(TrainError::Spec {
                name: "loss".into(),
                message: format!("a {other} loss cannot be read as f32"),
            })
        }
    })
}

/// Moves the offloaded state parameters to the device (before the step computes with them).
fn bring_in(
    b: &mut Builder,
    ps: &mut [Value],
    offload: Option<&Offload>,
    n_state: usize,
) -> hlo_builder::Result<()> {
    if let Some(o) = offload {
        for (i, p) in ps[..n_state].iter_mut().enumerate() {
            if o.of(i).is_some() {
                *p = b.place(*p, MemoryKind::DEVICE)?;
            }
        }
    }
    Ok(())
}

/// Moves the next values of the offloaded state back to their memory (before returning).
fn send_out(
    b: &mut Builder,
    outs: &mut [Value],
    offload: Option<&Offload>,
    n_state: usize,
) -> hlo_builder::Result<()> {
    if let Some(o) = offload {
        for (i, v) in outs[..n_state].iter_mut().enumerate() {
            if let Some((kind, _)) = o.of(i) {
                *v = b.place(*v, kind.clone())?;
            }
        }
    }
    Ok(())
}

/// How many of the step's state values are trainable parameters, model state and optimizer
/// state (in that order).
#[derive(Clone, Copy, Debug)]
struct Counts {
    train: usize,
    model_state: usize,
    opt: usize,
}

/// Records one step into `rec` over its parameters `ps` (state, then inputs): binds the
/// model, runs the loss, differentiates, updates. Returns the results (next state, loss,
/// metrics) and the metric names.
#[allow(clippy::too_many_arguments)]
fn record_step<M: Module, F, O>(
    rec: &Recording,
    name: &str,
    model: &M,
    optimizer: &dyn Optimizer,
    c: Counts,
    ps: &[Value],
    transform: Option<&GradientTransform>,
    grad_options: GradOptions,
    loss: &F,
) -> Result<(Vec<Value>, Vec<String>), TrainError>
where
    F: Fn(&M, &[Tensor]) -> hlo_builder::Result<O>,
    O: Into<Objective>,
{
    rec.set_training(true);
    let (train, rest) = ps.split_at(c.train);
    let (model_state, rest) = rest.split_at(c.model_state);
    let (opt_state, inputs) = rest.split_at(c.opt);
    let bound = model
        .bind_values(rec, &[ParamKind::Trainable], train)?
        .bind_values(rec, &[ParamKind::State], model_state)?;
    let mut xs = Vec::with_capacity(inputs.len());
    for &v in inputs {
        xs.push(rec.tensor(v)?);
    }
    let objective: Objective = loss(&bound, &xs)?.into();
    let lt = objective.loss.ty().clone();
    if lt.rank() != 0 || !lt.ty.is_float() {
        return Err(TrainError::Spec {
            name: name.to_string(),
            message: format!("the loss must be a float scalar, got {lt}"),
        });
    }
    // The next values of the model's state: what the layers wrote, or the value as it was.
    let mut next_state = Vec::with_capacity(model_state.len());
    {
        let mut i = 0;
        bound.visit(&mut Path::new(), &mut |_, p| {
            if p.kind() == ParamKind::State {
                next_state.push(p.next().unwrap_or(model_state[i]));
                i += 1;
            }
        });
    }
    let lv = objective.loss.value();
    let ((new_train, new_opt), reported) = rec.with(|b| -> Result<_, TrainError> {
        let mut g = crate::grad_with(b, lv, train, grad_options)?;
        if let Some(t) = transform {
            let types = |b: &Builder, vs: &[Value]| -> Result<Vec<TensorType>, TrainError> {
                vs.iter()
                    .map(|&v| b.ty(v).cloned().map_err(TrainError::from))
                    .collect()
            };
            let before = types(b, &g)?;
            let after = t(b, &g)?;
            let got = types(b, &after)?;
            if got != before {
                return Err(TrainError::Spec {
                    name: name.to_string(),
                    message: format!(
                        "the gradient transform returned {} gradients of types {got:?} for {} of types {before:?}",
                        got.len(),
                        before.len()
                    ),
                });
            }
            g = after;
        }
        // One barrier over the gradients, the loss and the metrics: every read of a
        // parameter (the backward pass's products with it, the loss's own terms) then comes
        // before the update that overwrites its donated buffer, so XLA needs no copy of it.
        let n = g.len();
        let mut tied = g;
        tied.push(lv);
        tied.extend(objective.metrics.iter().map(|(_, m)| m.value()));
        let tied = b.optimization_barrier(&tied)?;
        let (g, reported) = tied.split_at(n);
        Ok((optimizer.update(b, train, g, opt_state)?, reported.to_vec()))
    })??;
    let mut outs = new_train;
    outs.extend(next_state);
    outs.extend(new_opt);
    outs.extend(reported);
    let names = objective.metrics.iter().map(|(n, _)| n.clone()).collect();
    Ok((outs, names))
}

/// Names of the optimizer state in checkpoints: `optim.step`, then `optim.slot{k}.<path>`.
fn optimizer_names<M: Module>(model: &M, slots: usize) -> Vec<String> {
    let paths: Vec<String> = model
        .params()
        .into_iter()
        .filter(|(_, p)| p.kind() == ParamKind::Trainable)
        .map(|(n, _)| n)
        .collect();
    let mut names = vec![format!("{OPTIMIZER_PREFIX}step")];
    for s in 0..slots {
        names.extend(
            paths
                .iter()
                .map(|p| format!("{OPTIMIZER_PREFIX}slot{s}.{p}")),
        );
    }
    names
}

/// Declares the step's parameters in `b`: the state by name, then inputs (`input{i}`) of
/// `inputs` (the step's input types, or stacked ones).
fn declare(
    b: &mut Builder,
    names: &[String],
    state: &[TensorType],
    inputs: &[TensorType],
) -> hlo_builder::Result<Vec<Value>> {
    let mut ps = Vec::with_capacity(state.len() + inputs.len());
    for (n, t) in names.iter().zip(state) {
        ps.push(b.parameter(n.as_str(), t.ty, &t.dims)?);
    }
    for (i, t) in inputs.iter().enumerate() {
        ps.push(b.parameter(format!("input{i}"), t.ty, &t.dims)?);
    }
    Ok(ps)
}

/// The one-step program: the step inlined, the state donated to its next value (annotated
/// with `partitioning` for a partitioned step).
fn one_step_module(
    name: &str,
    body: &Computation,
    names: &[String],
    all: &[TensorType],
    n_state: usize,
    partitioning: Option<Partitioning>,
    offload: Option<&Offload>,
) -> hlo_builder::Result<hlo_builder::Module> {
    let mut b = Builder::new(name);
    let mut ps = declare(&mut b, names, &all[..n_state], &all[n_state..])?;
    bring_in(&mut b, &mut ps, offload, n_state)?;
    let mut outs = b.inline(body, &ps)?;
    send_out(&mut b, &mut outs, offload, n_state)?;
    let donations: Vec<(usize, usize)> = (0..n_state).map(|i| (i, i)).collect();
    match partitioning {
        None => b.build_with_placement(&outs, &donations, &offload_placement(offload, n_state)),
        Some(p) => b.build_partitioned_with_donations(&outs, p, &donations),
    }
}

/// The `k`-step program: inputs stacked on a new leading axis of size `k`; the state carried
/// through `k` steps (a loop) and donated; the
/// losses and metrics stacked likewise.
fn multi_step_module(
    name: &str,
    body: &Computation,
    names: &[String],
    all: &[TensorType],
    n_state: usize,
    k: usize,
    offload: Option<&Offload>,
) -> hlo_builder::Result<hlo_builder::Module> {
    let ki = k as i64;
    let stacked: Vec<TensorType> = all[n_state..]
        .iter()
        .map(|t| {
            let mut d = vec![ki];
            d.extend_from_slice(&t.dims);
            TensorType::new(t.ty, d)
        })
        .collect();
    let mut b = Builder::new(format!("{name}_x{k}"));
    let mut ps = declare(&mut b, names, &all[..n_state], &stacked)?;
    bring_in(&mut b, &mut ps, offload, n_state)?;
    let (state, xs) = ps.split_at(n_state);
    let (last, ys) = b.scan(state, xs, |b, carry, x| {
        let mut args = carry.to_vec();
        args.extend_from_slice(x);
        let o = b.inline(body, &args)?;
        Ok((o[..n_state].to_vec(), o[n_state..].to_vec()))
    })?;
    let mut outs = last;
    outs.extend(ys);
    send_out(&mut b, &mut outs, offload, n_state)?;
    let donations: Vec<(usize, usize)> = (0..n_state).map(|i| (i, i)).collect();
    b.build_with_placement(&outs, &donations, &offload_placement(offload, n_state))
}

/// The program that runs `k` steps per call.
struct Multi {
    k: usize,
    exe: LoadedExecutable,
    text: String,
}

/// What a call of [`TrainStep::step_many`] returned: `k` losses and `k` of each metric,
/// stacked on the leading axis. The values stay on the device until read.
#[derive(Debug)]
pub struct StepsOutput {
    losses: Buffer,
    metrics: Vec<(String, Buffer)>,
}

impl StepsOutput {
    /// The losses of the `k` steps, each before its update (waits for the call).
    pub fn losses(&self) -> Result<Vec<f32>, TrainError> {
        losses_as_f32(&self.losses.to_literal()?)
    }
    /// The losses' buffer (`[k]`, on the device).
    pub fn losses_buffer(&self) -> &Buffer {
        &self.losses
    }
    /// The metric called `name`, `[k, ...]` (waits for the call).
    pub fn metric(&self, name: &str) -> Result<Literal, TrainError> {
        match self.metrics.iter().find(|(n, _)| n == name) {
            Some((_, b)) => Ok(b.to_literal()?),
            None => Err(TrainError::Spec {
                name: "metric".into(),
                message: format!("no metric `{name}`"),
            }),
        }
    }
}

/// A compiled training step of a model of type `M`, its state on the device.
pub struct TrainStep<M: Module> {
    name: String,
    /// The client the step runs on (the one given, or one with a thread budget).
    client: Client,
    /// (thread budget, time per step) of each client tried by `cpu_threads_tuned`.
    thread_tuning: Vec<(Option<usize>, Duration)>,
    /// (gradient forms, best time per step) of each program variant tried.
    variant_tuning: Vec<(GradOptions, Duration)>,
    /// The gradient forms of the program that runs.
    grad_options: GradOptions,
    /// Whether the tuning's choice came from the compile cache.
    recalled: bool,
    exe: Executable,
    /// The `k`-step program, when asked for (steps on one device only).
    multi: Option<Multi>,
    /// The tree (structure and declarations; its values are those it was made with).
    model: M,
    n_train: usize,
    /// Trainable and state parameters.
    n_weights: usize,
    slots: usize,
    /// Trainable parameters, model state, optimizer state, one row per device (replicated);
    /// replaced by every step's outputs.
    state: Vec<Vec<Buffer>>,
    state_types: Vec<TensorType>,
    inputs: Vec<TensorType>,
    metrics: Vec<String>,
    steps: u64,
    text: String,
    /// Partitioned: the mesh and the shardings of the inputs and the state.
    split: Option<Split>,
    /// The partition each device runs.
    parts: Vec<usize>,
    /// (steps per call, time per step) of each candidate timed at compile time.
    tuning: Vec<(usize, Duration)>,
    /// Where the offloaded weights and optimizer state live, when not on the device.
    offload: Option<Offload>,
}

impl<M: Module> std::fmt::Debug for TrainStep<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainStep")
            .field("name", &self.name)
            .field("steps", &self.steps)
            .field("inputs", &self.inputs)
            .field("metrics", &self.metrics)
            .finish()
    }
}

impl<M: Module> TrainStep<M> {
    /// Starts making a train step for `model` (initialized or loaded: its host values are
    /// the starting point) on `client`. (`new` returns the builder, whose `compile` makes
    /// the step: the options read as one expression.)
    #[allow(clippy::new_ret_no_self)]
    pub fn new(client: &Client, model: M) -> TrainStepBuilder<M> {
        TrainStepBuilder {
            client: client.clone(),
            model,
            name: "train_step".into(),
            optimizer: None,
            inputs: Vec::new(),
            options: CompileOptions::new(),
            layout: None,
            steps_per_call: 1,
            tune: Vec::new(),
            cpu_threads: CpuThreads::AsGiven,
            gradient_transform: None,
            grad_options: Some(GradOptions::DEFAULT),
            opt_memory: None,
            param_memory: None,
        }
    }

    /// Runs one step on host data (one per declared input). Returns at once; the loss and
    /// metrics are read from the output when needed.
    ///
    /// ```
    /// use autodiff::nn::{seeded, Linear, ModuleExt};
    /// use autodiff::train::{optim::Sgd, HostData, Objective, TrainStep};
    /// use hlo_builder::{ElementType::F32, TensorType};
    ///
    /// let client = pjrt::Client::default_cpu()?;
    /// let mut step = TrainStep::new(&client, Linear::new(1, 1).init(&mut seeded(0))?)
    ///     .optimizer(Sgd::new(0.1))
    ///     .inputs([TensorType::new(F32, [4, 1]), TensorType::new(F32, [4, 1])])
    ///     .compile(|m, b| {
    ///         let err = (m.forward(&b[0])? - &b[1])?;
    ///         let max_err = err.abs()?.max_all()?; // reported, not minimized
    ///         Ok(Objective::new(err.square()?.mean_all()?).metric("max_err", max_err))
    ///     })?;
    /// let (x, y) = ([0f32, 1., 2., 3.], [1f32, 3., 5., 7.]); // y = 2x + 1
    /// let mut losses = Vec::new();
    /// for _ in 0..200 {
    ///     let out = step.step(&[HostData::from(&x[..]), HostData::from(&y[..])])?;
    ///     losses.push(out.loss()?);
    /// }
    /// assert!(losses[199] < 1e-3 * losses[0], "{} -> {}", losses[0], losses[199]);
    /// let out = step.step(&[HostData::from(&x[..]), HostData::from(&y[..])])?;
    /// assert!(out.metric_f64("max_err")? < 0.05);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn step(&mut self, inputs: &[HostData<'_>]) -> Result<StepOutput, TrainError> {
        let Some(Split {
            mesh,
            inputs: shardings,
            ..
        }) = &self.split
        else {
            let bufs = upload(&self.name, &self.client, inputs, &self.inputs)?;
            let refs: Vec<&Buffer> = bufs.iter().collect();
            return self.step_buffers(&refs);
        };
        // Data-parallel: each device gets its slice of every input.
        let lits = host_literals(&self.name, inputs, &self.inputs)?;
        let devices = self.exe.loaded().addressable_devices();
        let mut per_device: Vec<Vec<Buffer>> = devices.iter().map(|_| Vec::new()).collect();
        for (l, s) in lits.iter().zip(shardings) {
            let pieces = s.split_literal(mesh, l)?;
            for (d, device) in devices.iter().enumerate() {
                let piece = &pieces[self.parts[d]];
                per_device[d].push(self.client.buffer_from_bytes_with(
                    piece.element_type(),
                    piece.as_bytes(),
                    piece.dims(),
                    pjrt::HostBufferSemantics::ImmutableOnlyDuringCall,
                    &BufferPlacement::device(device),
                )?);
            }
        }
        let refs: Vec<Vec<&Buffer>> = per_device.iter().map(|v| v.iter().collect()).collect();
        self.run(&refs)
    }

    /// Runs one step on device-resident inputs. They are checked first (types, and ready
    /// without an error): a bad input leaves the state as it was.
    /// A partitioned step takes host data only ([`step`](Self::step) splits it).
    pub fn step_buffers(&mut self, inputs: &[&Buffer]) -> Result<StepOutput, TrainError> {
        if self.split.is_some() {
            return Err(TrainError::Spec {
                name: self.name.clone(),
                message: "a partitioned (data-parallel) step takes host data (`step`), which it splits across the devices".into(),
            });
        }
        check_buffers(&self.name, inputs, &self.inputs)?;
        self.run(&[inputs.to_vec()])
    }

    /// Runs the executable with each device's inputs; the state rows are donated.
    fn run(&mut self, inputs: &[Vec<&Buffer>]) -> Result<StepOutput, TrainError> {
        let too_few = || TrainError::Spec {
            name: self.name.clone(),
            message: "the step returned too few outputs".into(),
        };
        let lists: Vec<Vec<&Buffer>> = self
            .state
            .iter()
            .zip(inputs)
            .map(|(row, ins)| row.iter().chain(ins.iter().copied()).collect())
            .collect();
        let outs = self
            .exe
            .loaded()
            .execute_sharded(&lists, &pjrt::ExecuteOptions::default())?;
        let n = self.state.first().map_or(0, Vec::len);
        let mut fresh = Vec::with_capacity(outs.len());
        let mut first: Option<(Buffer, Vec<(String, Buffer)>)> = None;
        for o in outs {
            let mut it = o.into_iter();
            let row: Vec<Buffer> = it.by_ref().take(n).collect();
            let loss = it.next().ok_or_else(too_few)?;
            let metrics: Vec<(String, Buffer)> = self.metrics.iter().cloned().zip(it).collect();
            if row.len() != n || metrics.len() != self.metrics.len() {
                return Err(too_few());
            }
            fresh.push(row);
            // Loss and metrics are replicated: device 0's copy is the answer.
            if first.is_none() {
                first = Some((loss, metrics));
            }
        }
        let (loss, metrics) = first.ok_or_else(too_few)?;
        // The old state buffers were donated to (and consumed by) this execution.
        self.state = fresh;
        self.steps += 1;
        Ok(StepOutput { loss, metrics })
    }

    /// Steps each [`step_many`](Self::step_many) call runs (1 when the step was compiled
    /// without [`steps_per_call`](TrainStepBuilder::steps_per_call)).
    pub fn steps_per_call(&self) -> usize {
        self.multi.as_ref().map_or(1, |m| m.k)
    }

    /// Runs `k` steps in one call on `k` batches stacked on a new leading axis (each input
    /// `[k, ...]` of its declared type), `k` as compiled with
    /// [`steps_per_call`](TrainStepBuilder::steps_per_call). The same updates as `k` calls of
    /// [`step`](Self::step) on the batches in order.
    pub fn step_many(&mut self, inputs: &[HostData<'_>]) -> Result<StepsOutput, TrainError> {
        let types = self.stacked_inputs()?;
        let bufs = upload(&self.name, &self.client, inputs, &types)?;
        let refs: Vec<&Buffer> = bufs.iter().collect();
        self.step_many_buffers(&refs)
    }

    /// [`step_many`](Self::step_many) on device-resident stacked inputs (checked first: a bad
    /// input leaves the state as it was).
    pub fn step_many_buffers(&mut self, inputs: &[&Buffer]) -> Result<StepsOutput, TrainError> {
        let types = self.stacked_inputs()?;
        check_buffers(&self.name, inputs, &types)?;
        let Some(multi) = &self.multi else {
            return Err(self.no_multi());
        };
        let Some(row) = self.state.first() else {
            return Err(self.no_multi());
        };
        let mut args: Vec<&Buffer> = row.iter().collect();
        args.extend_from_slice(inputs);
        let mut outs = multi.exe.execute(&args)?.into_iter();
        let n = row.len();
        let fresh: Vec<Buffer> = outs.by_ref().take(n).collect();
        let losses = outs.next();
        let metrics: Vec<(String, Buffer)> = self.metrics.iter().cloned().zip(outs).collect();
        let (Some(losses), true) = (
            losses,
            fresh.len() == n && metrics.len() == self.metrics.len(),
        ) else {
            return Err(TrainError::Spec {
                name: self.name.clone(),
                message: "the k-step program returned too few outputs".into(),
            });
        };
        self.state = vec![fresh];
        self.steps += multi.k as u64;
        Ok(StepsOutput { losses, metrics })
    }

    /// The `k`-step program's input types (the declared ones with a leading `k`).
    fn stacked_inputs(&self) -> Result<Vec<TensorType>, TrainError> {
        let Some(multi) = &self.multi else {
            return Err(self.no_multi());
        };
        Ok(self
            .inputs
            .iter()
            .map(|t| {
                let mut d = vec![multi.k as i64];
                d.extend_from_slice(&t.dims);
                TensorType::new(t.ty, d)
            })
            .collect())
    }

    fn no_multi(&self) -> TrainError {
        TrainError::Spec {
            name: self.name.clone(),
            message: "step_many needs a step compiled with steps_per_call(k), k > 1".into(),
        }
    }

    /// The timings behind [`steps_per_call_tuned`](TrainStepBuilder::steps_per_call_tuned):
    /// (steps per call, time per step) of each candidate; empty when the step was not tuned.
    pub fn tuning(&self) -> &[(usize, Duration)] {
        &self.tuning
    }

    /// The timings behind
    /// [`program_variants_tuned`](TrainStepBuilder::program_variants_tuned): (the variant's
    /// gradient forms, its best time per step over the other candidates tried with it) for
    /// each variant; empty when the variants were not tuned.
    pub fn variant_tuning(&self) -> &[(GradOptions, Duration)] {
        &self.variant_tuning
    }

    /// The gradient forms of the program this step runs (chosen by
    /// [`program_variants_tuned`](TrainStepBuilder::program_variants_tuned), or as given).
    pub fn grad_options(&self) -> GradOptions {
        self.grad_options
    }

    /// Whether this step's tuning (variant, threads, steps per call) was read from the
    /// compile cache, where an earlier compile of the same candidates on the same plugin,
    /// devices and host remembered it, instead of being timed now. The timings reported
    /// ([`tuning`](Self::tuning), [`thread_tuning`](Self::thread_tuning),
    /// [`variant_tuning`](Self::variant_tuning)) are then those of that earlier run.
    /// `CompileOptions::no_compile_cache` (or `PJRT_COMPILE_CACHE=off`) times again.
    pub fn tuning_recalled(&self) -> bool {
        self.recalled
    }

    /// The timings behind [`cpu_threads_tuned`](TrainStepBuilder::cpu_threads_tuned): (the
    /// client's thread budget, `None` for the client given; time per step) of each client
    /// tried; empty when the threads were not tuned.
    pub fn thread_tuning(&self) -> &[(Option<usize>, Duration)] {
        &self.thread_tuning
    }

    /// The client the step runs on and its state lives on: the one given to
    /// [`TrainStep::new`], or the one a thread budget made
    /// ([`cpu_threads`](TrainStepBuilder::cpu_threads),
    /// [`cpu_threads_tuned`](TrainStepBuilder::cpu_threads_tuned)). Buffers given to
    /// [`step_buffers`](Self::step_buffers) must be on it.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The `k`-step program's StableHLO text, when there is one.
    pub fn multi_module_text(&self) -> Option<&str> {
        self.multi.as_ref().map(|m| m.text.as_str())
    }

    /// The `k`-step program's executable, when there is one (what
    /// [`step_many`](Self::step_many) runs).
    pub fn multi_executable(&self) -> Option<&LoadedExecutable> {
        self.multi.as_ref().map(|m| &m.exe)
    }

    /// Steps run since compilation (or as restored by [`load`](Self::load)).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The declared input types.
    pub fn inputs(&self) -> &[TensorType] {
        &self.inputs
    }

    /// The model with its current values (trainable and state) copied to the host.
    pub fn model(&self) -> Result<M, TrainError> {
        let mut vals = Vec::with_capacity(self.n_weights);
        for k in 0..self.n_weights {
            vals.push(self.state_literal(k)?);
        }
        let state = vals.split_off(self.n_train);
        let m = self.model.with_host_values(&[ParamKind::Trainable], vals)?;
        Ok(m.with_host_values(&[ParamKind::State], state)?)
    }

    /// The optimizer's state, as trees of the model's type (a compile-time fact: Adam's two
    /// moments of an `Mlp` are two `Mlp`s, read by the same field paths).
    ///
    /// ```
    /// use autodiff::nn::{Activation, Mlp, ModuleExt};
    /// use autodiff::train::{optim::Adam, HostData, OptimizerState, TrainStep};
    /// use hlo_builder::{ElementType::F32, TensorType};
    ///
    /// let client = pjrt::Client::default_cpu()?;
    /// let mlp = Mlp::new(&[2, 4, 1], Activation::Tanh).init_seed(0)?;
    /// let mut step = TrainStep::new(&client, mlp)
    ///     .optimizer(Adam::new(0.1))
    ///     .inputs([TensorType::new(F32, [3, 2]), TensorType::new(F32, [3, 1])])
    ///     .compile(|m, b| m.forward(&b[0])?.mse(&b[1]))?;
    /// step.step(&[HostData::from(&[1f32, 2., 3., 4., 5., 6.][..]), HostData::from(&[1f32, 0., 1.][..])])?;
    /// let state: OptimizerState<Mlp> = step.optimizer_state()?;
    /// let first_moment: &Mlp = &state.slots[0];
    /// let m = first_moment.layers[0].weight.host().unwrap().to_vec::<f32>()?;
    /// assert_eq!(m.len(), 2 * 4);
    /// assert!(m.iter().any(|v| *v != 0.0)); // one step of gradients, times 1 - beta1
    /// assert_eq!(state.step, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn optimizer_state(&self) -> Result<OptimizerState<M>, TrainError> {
        let n_opt = self.state.first().map_or(0, Vec::len) - self.n_weights;
        if n_opt == 0 {
            return Err(TrainError::Spec {
                name: self.name.clone(),
                message: "no optimizer state".into(),
            });
        }
        let step_lit = self.state_literal(self.n_weights)?;
        let step = step_lit.to_scalar::<i32>()? as i64;
        let mut slots = Vec::with_capacity(self.slots);
        for s in 0..self.slots {
            let mut vals = Vec::with_capacity(self.n_train);
            for k in 1 + s * self.n_train..1 + (s + 1) * self.n_train {
                vals.push(self.state_literal(self.n_weights + k)?);
            }
            slots.push(self.model.with_host_values(&[ParamKind::Trainable], vals)?);
        }
        Ok(OptimizerState { step, slots })
    }

    /// Names of the optimizer state in checkpoints: `optim.step`, then `optim.slot{k}.<path>`.
    fn optimizer_names(&self) -> Vec<String> {
        let paths: Vec<String> = self
            .model
            .params()
            .into_iter()
            .filter(|(_, p)| p.kind() == ParamKind::Trainable)
            .map(|(n, _)| n)
            .collect();
        let mut names = vec![format!("{OPTIMIZER_PREFIX}step")];
        for s in 0..self.slots {
            names.extend(
                paths
                    .iter()
                    .map(|p| format!("{OPTIMIZER_PREFIX}slot{s}.{p}")),
            );
        }
        names
    }

    /// Everything the step holds as a checkpoint: the model's parameters by path, the
    /// optimizer's state, the step count.
    pub fn checkpoint(&self) -> Result<Checkpoint, TrainError> {
        let mut c = Checkpoint::new();
        c.add_model("", &self.model()?)?;
        for (k, name) in self.optimizer_names().into_iter().enumerate() {
            c.insert(name, self.state_literal(self.n_weights + k)?);
        }
        c.set_meta("steps", self.steps);
        c.set_meta("format", "hlo-autodiff train step 1");
        Ok(c)
    }

    /// Writes [`checkpoint`](Self::checkpoint) to `path` (safetensors).
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<(), TrainError> {
        Ok(self.checkpoint()?.save(path)?)
    }

    /// Restores parameters, model state, optimizer state and step count from a checkpoint
    /// written by [`save`](Self::save). Every missing, unexpected and mis-shaped tensor is
    /// reported by name; on any error the step keeps its current state.
    ///
    /// A step saved and loaded into a fresh step continues exactly where it was:
    ///
    /// ```
    /// use autodiff::nn::{seeded, Linear, ModuleExt};
    /// use autodiff::train::{optim::Adam, HostData, TrainStep};
    /// use hlo_builder::{ElementType::F32, TensorType};
    ///
    /// let client = pjrt::Client::default_cpu()?;
    /// let new_step = |seed| -> Result<TrainStep<Linear>, Box<dyn std::error::Error>> {
    ///     Ok(TrainStep::new(&client, Linear::new(2, 1).init(&mut seeded(seed))?)
    ///         .optimizer(Adam::new(0.1))
    ///         .inputs([TensorType::new(F32, [4, 2]), TensorType::new(F32, [4, 1])])
    ///         .compile(|m, b| m.forward(&b[0])?.mse(&b[1]))?)
    /// };
    /// let (x, y) = ([1f32, 0., 0., 1., 1., 1., -1., 2.], [1f32, -1., 0., -3.]); // y = a - b
    /// let data = [HostData::from(&x[..]), HostData::from(&y[..])];
    ///
    /// let mut a = new_step(0)?;
    /// for _ in 0..5 {
    ///     a.step(&data)?;
    /// }
    /// let path = std::env::temp_dir().join(format!("step-{}.safetensors", std::process::id()));
    /// a.save(&path)?;
    ///
    /// let mut b = new_step(1)?; // other initial weights
    /// b.load(&path)?;
    /// assert_eq!(b.steps(), 5);
    /// // Same weights and the same Adam moments: the next losses agree to the bit.
    /// assert_eq!(a.step(&data)?.loss()?, b.step(&data)?.loss()?);
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(&mut self, path: impl AsRef<std::path::Path>) -> Result<(), TrainError> {
        let c = Checkpoint::load(path)?;
        self.restore(&c)
    }

    /// [`load`](Self::load) from a checkpoint in memory.
    pub fn restore(&mut self, c: &Checkpoint) -> Result<(), TrainError> {
        let mut missing = Vec::new();
        let mut misshaped = Vec::new();
        let model = match c.restore_model_mapped(&self.model, |p| Some(p.to_string()), "\0") {
            Ok(m) => Some(m),
            Err(CheckpointError::Mismatch {
                missing: m,
                misshaped: s,
                ..
            }) => {
                missing.extend(m);
                misshaped.extend(s);
                None
            }
            Err(e) => return Err(e.into()),
        };
        let names = self.optimizer_names();
        let mut opt = Vec::with_capacity(names.len());
        for (name, t) in names.iter().zip(&self.state_types[self.n_weights..]) {
            match c.get(name) {
                None => missing.push(name.clone()),
                Some(l) if l.element_type() != t.ty || l.dims() != t.dims.as_slice() => {
                    misshaped.push((
                        name.clone(),
                        t.to_string(),
                        TensorType::new(l.element_type(), l.dims()).to_string(),
                    ));
                }
                Some(l) => opt.push(l.clone()),
            }
        }
        let mut expected: std::collections::BTreeSet<String> =
            self.model.params().into_iter().map(|(n, _)| n).collect();
        expected.extend(names);
        let unexpected: Vec<String> = c
            .tensors
            .keys()
            .filter(|k| !expected.contains(*k))
            .cloned()
            .collect();
        let steps = c.meta::<u64>("steps");
        let (Some(model), true, true) = (model, missing.is_empty(), misshaped.is_empty()) else {
            return Err(CheckpointError::Mismatch {
                path: c.path.clone(),
                missing,
                unexpected,
                misshaped,
            }
            .into());
        };
        if !unexpected.is_empty() {
            return Err(CheckpointError::Mismatch {
                path: c.path.clone(),
                missing,
                unexpected,
                misshaped,
            }
            .into());
        }
        let steps = steps?;
        // Everything checked: upload, then replace.
        let mut host = Vec::with_capacity(self.state_types.len());
        for kind in WEIGHT_KINDS {
            host.extend(model.host_values(&[kind])?);
        }
        host.extend(opt.into_iter().map(std::sync::Arc::new));
        self.state = upload_state(
            &self.client,
            self.exe.loaded(),
            &host,
            self.split.as_ref(),
            &self.parts,
            self.offload.as_ref(),
        )?;
        self.steps = steps;
        Ok(())
    }

    /// State tensor `k` on the host: device 0's copy, or in a partitioned step gathered from
    /// every device's shard.
    fn state_literal(&self, k: usize) -> Result<Literal, TrainError> {
        let missing = || TrainError::Spec {
            name: self.name.clone(),
            message: format!("no state tensor {k}"),
        };
        let Some(sp) = &self.split else {
            return Ok(self
                .state
                .first()
                .and_then(|r| r.get(k))
                .ok_or_else(missing)?
                .to_literal()?);
        };
        let s = sp.state.get(k).ok_or_else(missing)?;
        if s.is_replicated() {
            return Ok(self
                .state
                .first()
                .and_then(|r| r.get(k))
                .ok_or_else(missing)?
                .to_literal()?);
        }
        let mut pieces: Vec<Option<Literal>> = vec![None; sp.mesh.size()];
        for (d, row) in self.state.iter().enumerate() {
            pieces[self.parts[d]] = Some(row.get(k).ok_or_else(missing)?.to_literal()?);
        }
        let pieces: Vec<Literal> = pieces
            .into_iter()
            .collect::<Option<_>>()
            .ok_or_else(missing)?;
        let t = self.state_types.get(k).ok_or_else(missing)?;
        Ok(s.gather_literal(&sp.mesh, t, &pieces)?)
    }

    /// The step's StableHLO (text, with the donation attributes).
    pub fn module_text(&self) -> &str {
        &self.text
    }

    /// The compiled executable.
    pub fn executable(&self) -> &LoadedExecutable {
        self.exe.loaded()
    }

    /// The optimizer state's buffers (step count, then each slot's values), where they live
    /// between steps: in the device's memory, or in the kind given to
    /// [`offload_optimizer_state`](TrainStepBuilder::offload_optimizer_state).
    pub fn optimizer_buffers(&self) -> &[Buffer] {
        self.state.first().map_or(&[][..], |r| &r[self.n_weights..])
    }

    /// The weights' buffers (trainable parameters, then model state, in the model's order),
    /// where they live between steps: in the device's memory, or in the kind given to
    /// [`offload_parameters`](TrainStepBuilder::offload_parameters). Device 0's copies.
    pub fn parameter_buffers(&self) -> &[Buffer] {
        self.state.first().map_or(&[][..], |r| &r[..self.n_weights])
    }
}

impl<M: Module> WeightSource<M> for TrainStep<M> {
    fn client(&self) -> &Client {
        &self.client
    }
    fn template(&self) -> &M {
        &self.model
    }
    fn weight_buffers(&self) -> &[Buffer] {
        &self.state[0][..self.n_weights]
    }
}
