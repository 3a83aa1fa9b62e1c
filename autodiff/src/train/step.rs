//! [`TrainStep`]: one training step (forward pass, loss, gradients, optimizer update)
//! recorded into one StableHLO function, compiled once, with parameters and optimizer state
//! kept on the device. Every parameter and state input is donated to the matching output
//! (`tf.aliasing_output`), so a step updates them in place and allocates nothing new for
//! them; only the batch is copied in and the loss (a scalar) out.

use super::nn::ParamSpec;
use hlo_builder::{Builder, ElementType, TensorType, Value};

use super::optim::Optimizer;
use pjrt::{Buffer, Client, CompileOptions, Literal, LoadedExecutable};

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
    #[error(
        "train step `{name}`: cannot mark donated parameters in the lowered module: {message}"
    )]
    Donation { name: String, message: String },
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

/// A host slice handed to a step (no copy until the transfer to the device).
#[derive(Clone, Copy, Debug)]
pub enum HostData<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
    S32(&'a [i32]),
    S64(&'a [i64]),
    U32(&'a [u32]),
    U8(&'a [u8]),
}

impl HostData<'_> {
    fn element_type(&self) -> ElementType {
        match self {
            HostData::F32(_) => ElementType::F32,
            HostData::F64(_) => ElementType::F64,
            HostData::S32(_) => ElementType::S32,
            HostData::S64(_) => ElementType::S64,
            HostData::U32(_) => ElementType::U32,
            HostData::U8(_) => ElementType::U8,
        }
    }
    fn len(&self) -> usize {
        match self {
            HostData::F32(d) => d.len(),
            HostData::F64(d) => d.len(),
            HostData::S32(d) => d.len(),
            HostData::S64(d) => d.len(),
            HostData::U32(d) => d.len(),
            HostData::U8(d) => d.len(),
        }
    }
    fn to_buffer(self, client: &Client, dims: &[i64]) -> pjrt::Result<Buffer> {
        match self {
            HostData::F32(d) => client.buffer_from_host(d, dims),
            HostData::F64(d) => client.buffer_from_host(d, dims),
            HostData::S32(d) => client.buffer_from_host(d, dims),
            HostData::S64(d) => client.buffer_from_host(d, dims),
            HostData::U32(d) => client.buffer_from_host(d, dims),
            HostData::U8(d) => client.buffer_from_host(d, dims),
        }
    }
}

macro_rules! host_from {
    ($($t:ty => $v:ident),*) => {$(
        impl<'a> From<&'a [$t]> for HostData<'a> {
            fn from(d: &'a [$t]) -> Self { HostData::$v(d) }
        }
        impl<'a> From<&'a Vec<$t>> for HostData<'a> {
            fn from(d: &'a Vec<$t>) -> Self { HostData::$v(d.as_slice()) }
        }
    )*};
}
host_from!(f32 => F32, f64 => F64, i32 => S32, i64 => S64, u32 => U32, u8 => U8);

#[cfg(feature = "ndarray")]
macro_rules! host_from_ndarray {
    ($($t:ty => $v:ident),*) => {$(
        impl<'a, D: ndarray::Dimension> TryFrom<ndarray::ArrayView<'a, $t, D>> for HostData<'a> {
            type Error = TrainError;
            /// Standard-layout (row-major, contiguous) views only.
            fn try_from(a: ndarray::ArrayView<'a, $t, D>) -> Result<Self, TrainError> {
                let shape = a.shape().to_vec();
                a.to_slice().map(HostData::$v).ok_or_else(|| TrainError::Spec {
                    name: "ndarray input".into(),
                    message: format!("array of shape {shape:?} is not contiguous in row-major order; use .as_standard_layout()"),
                })
            }
        }
    )*};
}
#[cfg(feature = "ndarray")]
host_from_ndarray!(f32 => F32, f64 => F64, i32 => S32, i64 => S64, u32 => U32, u8 => U8);

/// What a step's loss function receives: the builder, the parameters (in spec order) and
/// the batch inputs (in declaration order); it returns the scalar loss.
pub trait LossFn: FnOnce(&mut Builder, &[Value], &[Value]) -> hlo_builder::Result<Value> {}
impl<F: FnOnce(&mut Builder, &[Value], &[Value]) -> hlo_builder::Result<Value>> LossFn for F {}

/// A compiled training step with its parameters and optimizer state on the device.
pub struct TrainStep {
    name: String,
    client: Client,
    exe: LoadedExecutable,
    /// Parameters, then optimizer state; replaced by the outputs of every step.
    state: Vec<Buffer>,
    state_types: Vec<TensorType>,
    param_names: Vec<String>,
    state_names: Vec<String>,
    inputs: Vec<(String, TensorType)>,
    steps: u64,
    text: String,
}

impl std::fmt::Debug for TrainStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainStep")
            .field("name", &self.name)
            .field("steps", &self.steps)
            .field("inputs", &self.inputs)
            .finish()
    }
}

impl TrainStep {
    /// Builds and compiles a step that minimises `loss` with `optimizer`, gradients from this
    /// crate's reverse mode. `params` gives names, shapes and `initial` values (f32, in spec
    /// order); `inputs` names and types the batch tensors.
    pub fn compile<O: Optimizer>(
        client: &Client,
        name: &str,
        params: &[ParamSpec],
        initial: &[Vec<f32>],
        inputs: &[(&str, TensorType)],
        loss: impl LossFn,
        optimizer: &O,
    ) -> Result<TrainStep, TrainError> {
        let options = CompileOptions::new();
        Self::compile_with_options(
            client, name, params, initial, inputs, loss, optimizer, &options,
        )
    }

    /// [`TrainStep::compile`] with compile options for the step's executable: XLA options
    /// (say `xla_option("xla_dump_to", dir)` to see what XLA made of the step), device
    /// assignment, and the rest of [`CompileOptions`].
    #[allow(clippy::too_many_arguments)]
    pub fn compile_with_options<O: Optimizer>(
        client: &Client,
        name: &str,
        params: &[ParamSpec],
        initial: &[Vec<f32>],
        inputs: &[(&str, TensorType)],
        loss: impl LossFn,
        optimizer: &O,
        options: &CompileOptions,
    ) -> Result<TrainStep, TrainError> {
        let grads = |b: &mut Builder, l, wrt: &[Value]| Ok(crate::grad(b, l, wrt)?);
        Self::build(
            client, name, params, initial, inputs, loss, optimizer, grads, options,
        )
    }

    /// [`TrainStep::compile`] with the gradients recorded by `grads` (e.g. a hand-written
    /// gradient to test against). `params` gives names, shapes and `initial` values (f32, in spec
    /// order); `inputs` names and types the batch tensors.
    #[allow(clippy::too_many_arguments)]
    pub fn compile_with_grads<O: Optimizer>(
        client: &Client,
        name: &str,
        params: &[ParamSpec],
        initial: &[Vec<f32>],
        inputs: &[(&str, TensorType)],
        loss: impl LossFn,
        optimizer: &O,
        grads: impl FnOnce(&mut Builder, Value, &[Value]) -> Result<Vec<Value>, TrainError>,
    ) -> Result<TrainStep, TrainError> {
        let options = CompileOptions::new();
        Self::build(
            client, name, params, initial, inputs, loss, optimizer, grads, &options,
        )
    }

    /// What the `compile*` entry points share: record, differentiate, compile, upload.
    #[allow(clippy::too_many_arguments)]
    fn build<O: Optimizer>(
        client: &Client,
        name: &str,
        params: &[ParamSpec],
        initial: &[Vec<f32>],
        inputs: &[(&str, TensorType)],
        loss: impl LossFn,
        optimizer: &O,
        grads: impl FnOnce(&mut Builder, Value, &[Value]) -> Result<Vec<Value>, TrainError>,
        options: &CompileOptions,
    ) -> Result<TrainStep, TrainError> {
        let spec_err = |message: String| TrainError::Spec {
            name: name.to_string(),
            message,
        };
        if params.len() != initial.len() {
            return Err(spec_err(format!(
                "{} parameters declared, {} initial values given",
                params.len(),
                initial.len()
            )));
        }
        let mut b = Builder::new(name);
        let mut p = Vec::with_capacity(params.len());
        for s in params {
            p.push(b.parameter(&s.name, ElementType::F32, &s.dims)?);
        }
        let ptys: Vec<TensorType> = params.iter().map(|s| s.ty()).collect();
        let st = optimizer.state_parameters(&mut b, &p)?;
        let opt_init = optimizer.init(&ptys)?;
        if opt_init.len() != st.len() {
            return Err(spec_err(format!(
                "the optimizer declares {} state tensors but initialises {}",
                st.len(),
                opt_init.len()
            )));
        }
        // Names for checkpoints: the step count, then slot k of each parameter.
        let mut state_names = vec!["step".to_string()];
        for k in 0..st.len().saturating_sub(1) {
            let (slot, i) = (k / params.len().max(1), k % params.len().max(1));
            state_names.push(format!(
                "slot{slot}.{}",
                params.get(i).map(|s| s.name.as_str()).unwrap_or("?")
            ));
        }
        state_names.truncate(st.len());
        let mut xs = Vec::with_capacity(inputs.len());
        for (n, t) in inputs {
            xs.push(b.parameter(*n, t.ty, &t.dims)?);
        }
        let l = loss(&mut b, &p, &xs)?;
        let lt = b.ty(l)?.clone();
        if lt.rank() != 0 || !lt.ty.is_float() {
            return Err(spec_err(format!(
                "the loss must be a float scalar, got {lt}"
            )));
        }
        let g = grads(&mut b, l, &p)?;
        let (new_p, new_st) = optimizer.update(&mut b, &p, &g, &st)?;
        if new_p.len() != p.len() || new_st.len() != st.len() {
            return Err(spec_err(format!(
                "the optimizer returned {} parameters and {} state tensors for {} and {}",
                new_p.len(),
                new_st.len(),
                p.len(),
                st.len()
            )));
        }
        let mut outs = new_p.clone();
        outs.extend_from_slice(&new_st);
        outs.push(l);
        let n_state = p.len() + st.len();
        let donations: Vec<(usize, usize)> = (0..n_state).map(|i| (i, i)).collect();
        // Parameters and optimizer state are donated: each step consumes their buffers and
        // writes the updated values in place.
        let module =
            b.build_with_donations(&outs, &donations)
                .map_err(|e| TrainError::Donation {
                    name: name.to_string(),
                    message: e.to_string(),
                })?;
        let ptypes = module.parameter_types();
        let text = module.to_text().to_string();
        let exe = client.compile_with(&module.program(), options)?;
        let mut state = Vec::with_capacity(n_state);
        for (s, v) in params.iter().zip(initial) {
            if s.len() != v.len() {
                return Err(spec_err(format!(
                    "parameter `{}` {:?} needs {} values, {} given",
                    s.name,
                    s.dims,
                    s.len(),
                    v.len()
                )));
            }
            state.push(client.buffer_from_host(v, &s.dims)?);
        }
        for lit in &opt_init {
            state.push(client.buffer_from_literal(lit)?);
        }
        Ok(TrainStep {
            name: name.to_string(),
            client: client.clone(),
            exe,
            state,
            state_types: ptypes[..n_state].to_vec(),
            param_names: params.iter().map(|s| s.name.clone()).collect(),
            state_names,
            inputs: inputs
                .iter()
                .map(|(n, t)| (n.to_string(), t.clone()))
                .collect(),
            steps: 0,
            text,
        })
    }
    /// Runs one step on host data (one slice per declared input); returns the loss before
    /// the update.
    pub fn step(&mut self, inputs: &[HostData<'_>]) -> Result<f32, TrainError> {
        if inputs.len() != self.inputs.len() {
            return Err(TrainError::Spec {
                name: self.name.clone(),
                message: format!(
                    "{} inputs declared, {} given",
                    self.inputs.len(),
                    inputs.len()
                ),
            });
        }
        let mut bufs = Vec::with_capacity(inputs.len());
        for (i, (d, (n, t))) in inputs.iter().zip(&self.inputs).enumerate() {
            let input = format!("{n}: {t}");
            if d.element_type() != t.ty {
                return Err(TrainError::InputType {
                    name: self.name.clone(),
                    index: i,
                    input,
                    found: d.element_type(),
                });
            }
            let expected = t.element_count() as usize;
            if d.len() != expected {
                return Err(TrainError::InputSize {
                    name: self.name.clone(),
                    index: i,
                    input,
                    expected,
                    found: d.len(),
                });
            }
            bufs.push(d.to_buffer(&self.client, &t.dims)?);
        }
        let refs: Vec<&Buffer> = bufs.iter().collect();
        self.step_buffers(&refs)
    }

    /// Runs one step on device-resident inputs; returns the loss before the update.
    pub fn step_buffers(&mut self, inputs: &[&Buffer]) -> Result<f32, TrainError> {
        let mut args: Vec<&Buffer> = self.state.iter().collect();
        args.extend_from_slice(inputs);
        let mut outs = self.exe.execute(&args)?;
        let loss_buf = outs.pop().ok_or_else(|| TrainError::Spec {
            name: self.name.clone(),
            message: "the step returned no outputs".into(),
        })?;
        // The old state buffers were donated to (and consumed by) this execution.
        self.state = outs;
        self.steps += 1;
        let mut loss = [0.0f32];
        loss_buf.copy_to_host(&mut loss)?;
        Ok(loss[0])
    }

    /// Steps run since compilation (or since [`TrainStep::set_state`]'s `steps`).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The current parameter buffers (on the device, in spec order), e.g. to pass to an
    /// evaluation executable. They stay valid until the next step.
    pub fn param_buffers(&self) -> &[Buffer] {
        &self.state[..self.param_names.len()]
    }

    /// Parameter names, in spec order.
    pub fn param_names(&self) -> &[String] {
        &self.param_names
    }

    /// Optimizer-state names, in order: `step`, then `slot{k}.{parameter}`.
    pub fn state_names(&self) -> &[String] {
        &self.state_names
    }

    /// The parameters copied to the host (f32, spec order).
    pub fn params_to_host(&self) -> Result<Vec<Vec<f32>>, TrainError> {
        self.param_buffers()
            .iter()
            .map(|b| Ok(b.to_vec::<f32>()?))
            .collect()
    }

    /// The optimizer state copied to the host.
    pub fn state_to_host(&self) -> Result<Vec<Literal>, TrainError> {
        self.state[self.param_names.len()..]
            .iter()
            .map(|b| Ok(b.to_literal()?))
            .collect()
    }

    /// Replaces parameters and optimizer state (e.g. from a checkpoint) and the step count.
    pub fn set_state(
        &mut self,
        params: &[Vec<f32>],
        state: &[Literal],
        steps: u64,
    ) -> Result<(), TrainError> {
        let np = self.param_names.len();
        if params.len() != np || state.len() != self.state.len() - np {
            return Err(TrainError::Spec {
                name: self.name.clone(),
                message: format!(
                    "set_state: {} parameters and {} state tensors expected, {} and {} given",
                    np,
                    self.state.len() - np,
                    params.len(),
                    state.len()
                ),
            });
        }
        let mut fresh = Vec::with_capacity(self.state.len());
        for (i, v) in params.iter().enumerate() {
            let t = &self.state_types[i];
            if v.len() != t.element_count() as usize {
                return Err(TrainError::Spec {
                    name: self.name.clone(),
                    message: format!(
                        "set_state: parameter `{}` is {t}, {} values given",
                        self.param_names[i],
                        v.len()
                    ),
                });
            }
            fresh.push(self.client.buffer_from_host(v, &t.dims)?);
        }
        for (k, lit) in state.iter().enumerate() {
            let t = &self.state_types[np + k];
            if lit.element_type() != t.ty || lit.dims() != t.dims.as_slice() {
                return Err(TrainError::Spec {
                    name: self.name.clone(),
                    message: format!(
                        "set_state: state `{}` is {t}, got {}{:?}",
                        self.state_names[k],
                        lit.element_type(),
                        lit.dims()
                    ),
                });
            }
            fresh.push(self.client.buffer_from_literal(lit)?);
        }
        self.state = fresh;
        self.steps = steps;
        Ok(())
    }

    /// The step's StableHLO (text, with the donation attributes).
    pub fn module_text(&self) -> &str {
        &self.text
    }

    /// The compiled executable.
    pub fn executable(&self) -> &LoadedExecutable {
        &self.exe
    }
}

#[cfg(feature = "ndarray")]
impl TrainStep {
    /// The parameters copied to the host as arrays of their shapes (spec order).
    pub fn params_to_ndarray(&self) -> Result<Vec<ndarray::ArrayD<f32>>, TrainError> {
        self.params_to_host()?
            .into_iter()
            .zip(&self.state_types)
            .zip(&self.param_names)
            .map(|((v, t), n)| {
                let shape: Vec<usize> = t.dims.iter().map(|&d| d as usize).collect();
                ndarray::ArrayD::from_shape_vec(shape, v).map_err(|e| TrainError::Spec {
                    name: self.name.clone(),
                    message: format!("parameter `{n}` as an array of {t}: {e}"),
                })
            })
            .collect()
    }
}

// Test code: `unwrap` and `panic!` here are the assertions; a failure fails the test, and
// none of it is compiled into the library.
#[cfg(all(test, feature = "ndarray"))]
mod ndarray_tests {
    use super::*;

    #[test]
    fn contiguous_arrays_become_host_slices_and_strided_views_are_refused() {
        let a = ndarray::Array2::<f32>::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f32);
        let h = HostData::try_from(a.view()).unwrap();
        assert_eq!((h.len(), h.element_type()), (6, ElementType::F32));
        match h {
            HostData::F32(d) => assert_eq!(d, &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]),
            other => panic!("{other:?}"),
        }
        let labels = ndarray::Array1::<i32>::from(vec![1, 2]);
        assert_eq!(
            HostData::try_from(labels.view()).unwrap().element_type(),
            ElementType::S32
        );
        let e = HostData::try_from(a.t()).unwrap_err().to_string();
        assert!(e.contains("[3, 2]") && e.contains("row-major"), "{e}");
    }
}
