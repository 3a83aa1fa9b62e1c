//! Calls with special gradients: `stop_gradient`, user-defined VJPs and checkpointed
//! (rematerialized) subgraphs. Each is recorded as an ordinary `call` of a computation; the
//! computation (by identity) is registered here with its special rule, so the graph itself
//! stays plain StableHLO.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use hlo_builder::{Builder, Computation, Tensor, TensorType};

use crate::error::{Error, Result};
use crate::reverse::check_value;

/// A user VJP rule: `(builder, inputs, outputs, output cotangents) -> input cotangents`
/// (`None` = zero). Cotangents of outputs that had none are zeros.
pub type VjpRule = dyn Fn(&mut Builder, &[Tensor], &[Tensor], &[Tensor]) -> Result<Vec<Option<Tensor>>>
    + Send
    + Sync;

#[derive(Clone)]
pub(crate) enum Special {
    StopGradient,
    Custom(Arc<VjpRule>),
    Checkpoint,
}

struct Registry {
    /// Keyed by the computation's address; the `Arc` kept here keeps that address unique.
    rules: HashMap<usize, (Arc<Computation>, Special)>,
    /// One identity computation per type for `stop_gradient`.
    identities: HashMap<TensorType, Arc<Computation>>,
}

fn registry() -> &'static Mutex<Registry> {
    static R: OnceLock<Mutex<Registry>> = OnceLock::new();
    R.get_or_init(|| {
        Mutex::new(Registry {
            rules: HashMap::new(),
            identities: HashMap::new(),
        })
    })
}

fn register(c: &Arc<Computation>, s: Special) {
    let mut r = registry().lock().unwrap_or_else(|e| e.into_inner());
    r.rules.insert(Arc::as_ptr(c) as usize, (c.clone(), s));
}

pub(crate) fn lookup(c: &Arc<Computation>) -> Option<Special> {
    let r = registry().lock().unwrap_or_else(|e| e.into_inner());
    r.rules
        .get(&(Arc::as_ptr(c) as usize))
        .map(|(_, s)| s.clone())
}

/// `x` unchanged in value, with a zero gradient (recorded as a call of an identity function,
/// which the compiler inlines).
pub fn stop_gradient(b: &mut Builder, x: Tensor) -> Result<Tensor> {
    let t = check_value(b, "stop_gradient", "input", x)?;
    let existing = registry()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .identities
        .get(&t)
        .cloned();
    let c = match existing {
        Some(c) => c,
        None => {
            let c = Builder::computation("stop_gradient", std::slice::from_ref(&t), |_, a| {
                Ok(vec![a[0]])
            })?;
            register(&c, Special::StopGradient);
            registry()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .identities
                .insert(t, c.clone());
            c
        }
    };
    Ok(b.call(&c, &[x])?[0])
}

fn record(
    name: &str,
    b: &Builder,
    func: &'static str,
    inputs: &[Tensor],
    f: impl FnOnce(&mut Builder, &[Tensor]) -> Result<Vec<Tensor>>,
) -> Result<Arc<Computation>> {
    let mut tys = Vec::with_capacity(inputs.len());
    for &x in inputs {
        tys.push(check_value(b, func, "input", x)?);
    }
    let mut cb = Builder::new(name);
    let mut ps = Vec::with_capacity(tys.len());
    for (i, t) in tys.iter().enumerate() {
        ps.push(cb.parameter(format!("arg{i}"), t.ty, &t.dims)?);
    }
    let outs = f(&mut cb, &ps)?;
    Ok(Arc::new(cb.finish(&outs)?))
}

/// Records `forward` (a function of `inputs`, recorded into its own computation) as a call
/// whose gradient is given by `rule` instead of by differentiating `forward`.
///
/// `rule(b, inputs, outputs, cotangents)` records the input cotangents in the outer builder;
/// it must be linear in the cotangents (it is differentiated again by `jvp` and by
/// higher-order gradients).
pub fn custom_vjp(
    b: &mut Builder,
    name: &str,
    inputs: &[Tensor],
    forward: impl FnOnce(&mut Builder, &[Tensor]) -> Result<Vec<Tensor>>,
    rule: impl Fn(&mut Builder, &[Tensor], &[Tensor], &[Tensor]) -> Result<Vec<Option<Tensor>>>
        + Send
        + Sync
        + 'static,
) -> Result<Vec<Tensor>> {
    let c = record(name, b, "custom_vjp", inputs, forward)?;
    register(&c, Special::Custom(Arc::new(rule)));
    Ok(b.call(&c, inputs)?)
}

/// Gradient checkpointing: records `f` as a call whose intermediate values are not kept for
/// the backward pass; the gradient recomputes them (behind an optimization barrier, so the
/// compiler cannot reuse the forward pass's values).
pub fn checkpoint(
    b: &mut Builder,
    name: &str,
    inputs: &[Tensor],
    f: impl FnOnce(&mut Builder, &[Tensor]) -> Result<Vec<Tensor>>,
) -> Result<Vec<Tensor>> {
    let c = record(name, b, "checkpoint", inputs, f)?;
    register(&c, Special::Checkpoint);
    Ok(b.call(&c, inputs)?)
}

/// A counted loop `for i in 0..trips { state = body(i, state) }` recorded as a `while` whose
/// trip count the gradient can read (counter first in the loop state, s32). Returns the final
/// state (without the counter).
pub fn fori_loop(
    b: &mut Builder,
    trips: i32,
    state: &[Tensor],
    body: impl FnOnce(&mut Builder, Tensor, &[Tensor]) -> Result<Vec<Tensor>>,
) -> Result<Vec<Tensor>> {
    let i0 = b.scalar(hlo_builder::ElementType::S32, 0.0)?;
    let mut init = vec![i0];
    init.extend_from_slice(state);
    let mut tys = Vec::new();
    for &s in &init {
        tys.push(check_value(b, "fori_loop", "state", s)?);
    }
    let cond = Builder::computation("fori_cond", &tys, move |cb, a| {
        let n = cb.scalar(hlo_builder::ElementType::S32, trips as f64)?;
        Ok(vec![cb.lt(a[0], n)?])
    })?;
    let mut cb = Builder::new("fori_body");
    let mut ps = Vec::new();
    for (i, t) in tys.iter().enumerate() {
        ps.push(cb.parameter(format!("arg{i}"), t.ty, &t.dims)?);
    }
    let outs = body(&mut cb, ps[0], &ps[1..])?;
    if outs.len() != ps.len() - 1 {
        return Err(Error::Arity {
            func: "fori_loop",
            message: format!(
                "the body returned {} values for a state of {}",
                outs.len(),
                ps.len() - 1
            ),
        });
    }
    let one = cb.scalar(hlo_builder::ElementType::S32, 1.0)?;
    let next = cb.add(ps[0], one)?;
    let mut res = vec![next];
    res.extend(outs);
    let body = Arc::new(cb.finish(&res)?);
    let r = b.while_loop_with(&init, cond, body)?;
    Ok(r[1..].to_vec())
}
