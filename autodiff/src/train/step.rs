//! [`TrainStep`]: one training step of a model (forward pass, loss, gradients, optimizer
//! update, the next values of the model's state) recorded into one StableHLO function and
//! compiled once, with parameters, model state and optimizer state kept on the device. Every
//! one of them is donated to its next value, so a step updates them in place; only the batch
//! goes in and the loss and metrics come out, and nothing waits for them unless asked.

use hlo_builder::{
    ElementType, Executable, Mesh, Partitioning, Recording, Sharding, Tensor, TensorType, Value,
};
use pjrt::{Buffer, BufferPlacement, Client, CompileOptions, Literal, LoadedExecutable};

use super::bound::{WeightSource, WEIGHT_KINDS};
use super::checkpoint::{Checkpoint, CheckpointError, OPTIMIZER_PREFIX};
use super::data::{check_buffers, host_literals, upload, HostData};
use super::error::TrainError;
use super::optim::Optimizer;
use crate::nn::{Module, ModuleExt, ParamKind, Path};

/// What a step minimizes, and what else it reports: a float scalar loss and named metrics.
#[derive(Clone, Debug)]
pub struct Objective {
    pub loss: Tensor,
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
    pub step: i64,
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
        let l = self.loss.to_literal()?;
        let v = match l.element_type() {
            ElementType::F32 => l.to_scalar::<f32>()?,
            ElementType::F64 => l.to_scalar::<f64>()? as f32,
            ElementType::F16 => l.to_scalar::<half::f16>()?.to_f32(),
            ElementType::BF16 => l.to_scalar::<half::bf16>()?.to_f32(),
            other => {
                return Err(TrainError::Spec {
                    name: "loss".into(),
                    message: format!("a {other} loss cannot be read as f32"),
                })
            }
        };
        Ok(v)
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

    /// Records the step with `loss(model, batch)` (the model's parameters bound to the step's
    /// inputs; training mode on), differentiates it, adds the optimizer's update, compiles,
    /// and uploads the model's values and the optimizer's initial state.
    pub fn compile<F, O>(self, loss: F) -> Result<TrainStep<M>, TrainError>
    where
        F: FnOnce(&M, &[Tensor]) -> hlo_builder::Result<O>,
        O: Into<Objective>,
    {
        let name = self.name;
        let spec_err = |message: String| TrainError::Spec {
            name: name.clone(),
            message,
        };
        let optimizer: Box<dyn Optimizer> = match self.optimizer {
            Some(o) => o,
            None => Box::new(super::optim::Sgd::new(0.01)),
        };
        let model = self.model;
        let rec = Recording::new(&name);
        rec.set_training(true);
        let (bound, train) = model.bind(&rec, &[ParamKind::Trainable])?;
        let (bound, state) = bound.bind(&rec, &[ParamKind::State])?;
        let train_v: Vec<Value> = train.iter().map(|t| t.value()).collect();
        let opt_state = rec.with(|b| optimizer.state_parameters(b, &train_v))??;
        let mut xs = Vec::with_capacity(self.inputs.len());
        for (i, t) in self.inputs.iter().enumerate() {
            xs.push(rec.parameter(format!("input{i}"), t.ty, &t.dims)?);
        }
        let objective: Objective = loss(&bound, &xs)?.into();
        let lt = objective.loss.ty().clone();
        if lt.rank() != 0 || !lt.ty.is_float() {
            return Err(spec_err(format!(
                "the loss must be a float scalar, got {lt}"
            )));
        }
        // The next values of the model's state: what the layers wrote, or the value as it was.
        let mut next_state = Vec::with_capacity(state.len());
        {
            let mut i = 0;
            bound.visit(&mut Path::new(), &mut |_, p| {
                if p.kind() == ParamKind::State {
                    next_state.push(p.next().unwrap_or_else(|| state[i].value()));
                    i += 1;
                }
            });
        }
        let lv = objective.loss.value();
        let (new_train, new_opt) = rec.with(|b| -> crate::Result<_> {
            let g = crate::grad(b, lv, &train_v)?;
            optimizer.update(b, &train_v, &g, &opt_state)
        })??;
        let n_state = train.len() + state.len() + opt_state.len();
        let mut outs: Vec<Value> = new_train;
        outs.extend(next_state);
        outs.extend(new_opt);
        outs.push(lv);
        for (_, m) in &objective.metrics {
            outs.push(m.value());
        }
        let donations: Vec<(usize, usize)> = (0..n_state).map(|i| (i, i)).collect();
        let mut split: Option<Split> = None;
        let module = match &self.layout {
            None => rec.with(|b| b.build_with_donations(&outs, &donations))??,
            Some(layout) => {
                let mesh = match layout {
                    Layout::Data { mesh, .. } | Layout::Custom { mesh, .. } => mesh.clone(),
                };
                let inputs: Vec<Sharding> = match layout {
                    Layout::Data { axis, .. } => {
                        let mut v = Vec::with_capacity(self.inputs.len());
                        for (i, t) in self.inputs.iter().enumerate() {
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
                        if inputs.len() != self.inputs.len() {
                            return Err(spec_err(format!(
                                "{} input shardings for {} inputs",
                                inputs.len(),
                                self.inputs.len()
                            )));
                        }
                        inputs.clone()
                    }
                };
                // Weights by path (trainable, then model state), then the optimizer's
                // state: its step counter replicated, each slot split like its parameter.
                let mut weights = Vec::with_capacity(n_state);
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
                let n_opt = opt_state.len();
                let slots = optimizer.slots();
                if n_opt != 1 + slots * train.len() || weights.len() != train.len() + state.len() {
                    return Err(spec_err(format!(
                        "partitioned: the optimizer holds {n_opt} state tensors, expected a step counter and {slots} slots of {} parameters",
                        train.len()
                    )));
                }
                let mut states = weights.clone();
                states.push(Sharding::replicated(0));
                for _ in 0..slots {
                    states.extend(weights[..train.len()].iter().cloned());
                }
                let mut ins = states.clone();
                ins.extend(inputs.iter().cloned());
                let p = Partitioning::new(mesh.clone())
                    .inputs(ins)
                    .outputs(states.clone());
                split = Some(Split {
                    mesh,
                    inputs,
                    state: states,
                });
                rec.with(|b| b.build_partitioned_with_donations(&outs, p, &donations))??
            }
        };
        let state_types = module.parameter_types()[..n_state].to_vec();
        let text = module.to_text().to_string();
        // The plugin's own errors stay `TrainError::Pjrt`, as from any other compile.
        let exe = module
            .compile_with(&self.client, &self.options)
            .map_err(|e| match e {
                hlo_builder::Error::Pjrt(p) => TrainError::from(p),
                other => TrainError::from(other),
            })?;
        let parts = exe.device_partitions()?;
        let train_types: Vec<TensorType> = train.iter().map(|t| t.ty().clone()).collect();
        let opt_init = optimizer.init(&train_types)?;
        let mut host = Vec::with_capacity(n_state);
        for kind in WEIGHT_KINDS {
            host.extend(model.host_values(&[kind])?);
        }
        host.extend(opt_init.into_iter().map(std::sync::Arc::new));
        let buffers = upload_state(&self.client, exe.loaded(), &host, split.as_ref(), &parts)?;
        Ok(TrainStep {
            name,
            client: self.client,
            exe,
            model,
            n_train: train.len(),
            n_weights: train.len() + state.len(),
            slots: optimizer.slots(),
            state: buffers,
            state_types,
            inputs: self.inputs,
            metrics: objective.metrics.iter().map(|(n, _)| n.clone()).collect(),
            steps: 0,
            text,
            split,
            parts,
        })
    }
}

/// The mesh and the shardings of a partitioned step's inputs and state.
struct Split {
    mesh: Mesh,
    inputs: Vec<Sharding>,
    state: Vec<Sharding>,
}

/// The state's host values on every device of the executable (one row per device): whole
/// copies, or in a partitioned step each device's shard.
fn upload_state(
    client: &Client,
    exe: &LoadedExecutable,
    host: &[std::sync::Arc<Literal>],
    split: Option<&Split>,
    parts: &[usize],
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
        let placement = BufferPlacement::device(device);
        let part = if split.is_some() { parts[d] } else { 0 };
        let mut row = Vec::with_capacity(host.len());
        for ps in &pieces {
            let l = &ps[part];
            row.push(client.buffer_from_bytes_with(
                l.element_type(),
                l.as_bytes(),
                l.dims(),
                pjrt::HostBufferSemantics::ImmutableOnlyDuringCall,
                &placement,
            )?);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// A compiled training step of a model of type `M`, its state on the device.
pub struct TrainStep<M: Module> {
    name: String,
    client: Client,
    exe: Executable,
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
        }
    }

    /// Runs one step on host data (one per declared input). Returns at once; the loss and
    /// metrics are read from the output when needed.
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
