//! Functions of a model compiled against its parameters on the device: [`Weights`] (a model
//! uploaded for inference) and [`BoundFn`] (any function of the model: evaluate, predict,
//! sample). A train step is also a source of weights, so a function compiled against it
//! always sees the step's live parameters, without copying or re-declaring them.

use hlo_builder::{Recording, Tensor, TensorType};
use pjrt::{Buffer, Client, CompileOptions, Literal, LoadedExecutable};

use super::data::{check_buffers, upload, HostData};
use super::error::TrainError;
use crate::nn::{Module, ModuleExt, ParamKind};

/// The parameter kinds a function of a model takes, in this order.
pub(crate) const WEIGHT_KINDS: [ParamKind; 2] = [ParamKind::Trainable, ParamKind::State];

/// Something holding a model's parameters on a device: [`Weights`] or a train step.
pub trait WeightSource<M: Module> {
    /// The client the buffers live on.
    fn client(&self) -> &Client;
    /// The model's tree (its structure and declarations).
    fn template(&self) -> &M;
    /// The parameter buffers, trainable then state, each in the tree's order.
    fn weight_buffers(&self) -> &[Buffer];

    /// Compiles `f` (a function of the model and of inputs of types `inputs`, returning any
    /// number of outputs) against these weights. It is recorded in inference mode.
    fn function<F>(&self, name: &str, inputs: &[TensorType], f: F) -> Result<BoundFn, TrainError>
    where
        F: FnOnce(&M, &[Tensor]) -> hlo_builder::Result<Vec<Tensor>>,
        Self: Sized,
    {
        let rec = Recording::new(name);
        let (bound, _) = self.template().bind(&rec, &[ParamKind::Trainable])?;
        let (bound, _) = bound.bind(&rec, &[ParamKind::State])?;
        let mut xs = Vec::with_capacity(inputs.len());
        for (i, t) in inputs.iter().enumerate() {
            xs.push(rec.parameter(format!("input{i}"), t.ty, &t.dims)?);
        }
        let outs = f(&bound, &xs)?;
        let refs: Vec<&Tensor> = outs.iter().collect();
        let module = rec.build(&refs)?;
        let exe = self
            .client()
            .compile_with(&module.program(), &CompileOptions::new())?;
        Ok(BoundFn {
            name: name.to_string(),
            exe,
            weights: self.weight_buffers().len(),
            inputs: inputs.to_vec(),
        })
    }
}

/// A compiled function of a model: its parameters come from a [`WeightSource`] at each call.
pub struct BoundFn {
    name: String,
    exe: LoadedExecutable,
    weights: usize,
    inputs: Vec<TensorType>,
}

impl std::fmt::Debug for BoundFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundFn")
            .field("name", &self.name)
            .field("inputs", &self.inputs)
            .finish()
    }
}

impl BoundFn {
    /// Runs on host inputs with the current parameters of `weights`; returns the outputs on
    /// the host.
    pub fn call<M: Module>(
        &self,
        weights: &impl WeightSource<M>,
        inputs: &[HostData<'_>],
    ) -> Result<Vec<Literal>, TrainError> {
        let bufs = upload(&self.name, weights.client(), inputs, &self.inputs)?;
        let refs: Vec<&Buffer> = bufs.iter().collect();
        let outs = self.call_buffers(weights, &refs)?;
        outs.iter()
            .map(|b| b.to_literal().map_err(TrainError::from))
            .collect()
    }

    /// Runs on device inputs; the outputs stay on the device (e.g. a cache fed back in).
    pub fn call_buffers<M: Module>(
        &self,
        weights: &impl WeightSource<M>,
        inputs: &[&Buffer],
    ) -> Result<Vec<Buffer>, TrainError> {
        let w = weights.weight_buffers();
        if w.len() != self.weights {
            return Err(TrainError::Spec {
                name: self.name.clone(),
                message: format!(
                    "compiled for {} parameter tensors, the weights have {}",
                    self.weights,
                    w.len()
                ),
            });
        }
        check_buffers(&self.name, inputs, &self.inputs)?;
        let mut args: Vec<&Buffer> = w.iter().collect();
        args.extend_from_slice(inputs);
        Ok(self.exe.execute(&args)?)
    }

    /// The declared input types.
    pub fn inputs(&self) -> &[TensorType] {
        &self.inputs
    }

    /// The compiled executable (its first parameters are the model's weights).
    pub fn executable(&self) -> &LoadedExecutable {
        &self.exe
    }
}

/// A model's parameters uploaded to a device, for functions of the model.
pub struct Weights<M: Module> {
    client: Client,
    model: M,
    buffers: Vec<Buffer>,
}

impl<M: Module> Weights<M> {
    /// Uploads `model`'s host values (trainable, then state) to `client`.
    pub fn upload(client: &Client, model: &M) -> Result<Weights<M>, TrainError> {
        let mut buffers = Vec::new();
        for kind in WEIGHT_KINDS {
            for l in model.host_values(&[kind])? {
                buffers.push(client.buffer_from_literal(&l)?);
            }
        }
        Ok(Weights {
            client: client.clone(),
            model: model.clone(),
            buffers,
        })
    }
}

impl<M: Module> WeightSource<M> for Weights<M> {
    fn client(&self) -> &Client {
        &self.client
    }
    fn template(&self) -> &M {
        &self.model
    }
    fn weight_buffers(&self) -> &[Buffer] {
        &self.buffers
    }
}
