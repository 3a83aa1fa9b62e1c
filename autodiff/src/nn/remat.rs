//! [`remat`]: a layer whose forward pass is recomputed in the backward pass (gradient
//! checkpointing at the level of layers), its kept inputs where a [`CheckpointPolicy`] says.

use hlo_builder::{CheckpointPolicy, Recording, Tensor, Value};

use super::module::{Module, Path};
use super::param::{ParamKind, ParamValue};
use crate::nn::ModuleExt;

/// `f(layer, x)` recorded as a checkpointed call ([`checkpoint_with`](crate::checkpoint_with))
/// named `name`: its inputs are `x` and the layer's trainable parameters, its intermediate
/// values are recomputed in the backward pass, and the inputs wait for it as `policy` says
/// (on the device, or offloaded to another memory). The value and the gradient are those of
/// `f(layer, x)`. `layer` must be bound to `x`'s recording (train steps and
/// [`ModuleExt::bind`] do it) and hold no model state (a state leaf's next value would be
/// recorded inside the call): otherwise an error naming the leaves.
///
/// Shapes: those of `f`.
pub fn remat<M: Module>(
    policy: &CheckpointPolicy,
    name: &str,
    layer: &M,
    x: &Tensor,
    f: impl FnOnce(&M, &Tensor) -> hlo_builder::Result<Tensor>,
) -> hlo_builder::Result<Tensor> {
    let id = x.value().builder_id();
    let mut weights: Vec<Value> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    layer.visit(
        &mut Path::new(),
        &mut |p, leaf| match (leaf.kind(), leaf.value()) {
            (ParamKind::State, _) => problems.push(format!("`{p}` is model state")),
            (ParamKind::Trainable, ParamValue::Bound(v)) if v.builder_id() == id => {
                weights.push(*v)
            }
            (ParamKind::Trainable, _) => {
                problems.push(format!("`{p}` is not bound to the input's recording"))
            }
        },
    );
    if !problems.is_empty() {
        return Err(hlo_builder::Error::Shape {
            op: "remat",
            message: format!("layer `{name}`: {}", problems.join("; ")),
        });
    }
    let rec = x.recording();
    let training = rec.training();
    let mut inputs = vec![x.value()];
    inputs.extend(weights);
    let r = rec.with(|b| {
        crate::checkpoint_with(b, name, policy.clone(), &inputs, |cb, ps| {
            Recording::scoped(cb, |inner| -> crate::Result<Vec<Value>> {
                inner.set_training(training);
                let bound = layer.bind_values(inner, &[ParamKind::Trainable], &ps[1..])?;
                let y = f(&bound, &inner.tensor(ps[0])?)?;
                Ok(vec![y.value()])
            })
        })
    })?;
    let out = r.map_err(|e| match e {
        crate::Error::Builder(e) => e,
        other => hlo_builder::Error::Shape {
            op: "remat",
            message: format!("layer `{name}`: {other}"),
        },
    })?;
    match out.as_slice() {
        [y] => rec.tensor(*y),
        _ => Err(hlo_builder::Error::Shape {
            op: "remat",
            message: format!("layer `{name}`: {} results, expected 1", out.len()),
        }),
    }
}
