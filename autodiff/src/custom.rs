//! Calls with rules of their own: `stop_gradient`, user-defined VJPs and JVPs, checkpointed
//! (rematerialized) subgraphs, and counted loops. Each is recorded as an ordinary node whose
//! op says what it means (`MiscOp::StopGradient`, `CallKind::Custom` carrying the rules,
//! `CallKind::Checkpoint`, a `Counted` while); nothing is registered anywhere, and dropping
//! the graph drops the rules.

use std::sync::Arc;

use hlo_builder::{Builder, CallKind, CheckpointPolicy, Computation, CustomRules, Value};

use crate::check::check_value;
use crate::error::{Error, Result};

/// A user VJP rule: `(builder, inputs, outputs, output cotangents) -> input cotangents`
/// (`None` = zero). Cotangents of outputs that had none are zeros.
pub type VjpRule =
    dyn Fn(&mut Builder, &[Value], &[Value], &[Value]) -> Result<Vec<Option<Value>>> + Send + Sync;

/// A user JVP rule: `(builder, inputs, outputs, input tangents) -> output tangents`
/// (`None` = zero). Tangents of inputs that had none are zeros. It must be linear in the
/// tangents (the VJP is its transpose).
pub type JvpRule =
    dyn Fn(&mut Builder, &[Value], &[Value], &[Value]) -> Result<Vec<Option<Value>>> + Send + Sync;

/// The rules a custom call carries (in its node, as `CallKind::Custom`).
pub(crate) struct Rules {
    pub vjp: Option<Arc<VjpRule>>,
    pub jvp: Option<Arc<JvpRule>>,
}

/// `x` unchanged in value, with a zero gradient (a `stop_gradient` node, which emits nothing).
pub fn stop_gradient(b: &mut Builder, x: Value) -> Result<Value> {
    check_value(b, "stop_gradient", "input", x)?;
    Ok(b.stop_gradient(x)?)
}

fn record(
    name: &str,
    b: &Builder,
    func: &'static str,
    inputs: &[Value],
    f: impl FnOnce(&mut Builder, &[Value]) -> Result<Vec<Value>>,
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

fn custom_call(
    b: &mut Builder,
    name: &str,
    c: &Arc<Computation>,
    inputs: &[Value],
    rules: Rules,
) -> Result<Vec<Value>> {
    let kind = CallKind::Custom(CustomRules::new(name, Arc::new(rules)));
    Ok(b.call_as(c, inputs, kind)?)
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
    inputs: &[Value],
    forward: impl FnOnce(&mut Builder, &[Value]) -> Result<Vec<Value>>,
    rule: impl Fn(&mut Builder, &[Value], &[Value], &[Value]) -> Result<Vec<Option<Value>>>
        + Send
        + Sync
        + 'static,
) -> Result<Vec<Value>> {
    let c = record(name, b, "custom_vjp", inputs, forward)?;
    let rules = Rules {
        vjp: Some(Arc::new(rule)),
        jvp: None,
    };
    custom_call(b, name, &c, inputs, rules)
}

/// Records `forward` as a call whose tangent is given by `rule` instead of by differentiating
/// `forward`; its gradient is the rule transposed (so the rule must be linear in the
/// tangents).
///
/// `rule(b, inputs, outputs, tangents)` records the output tangents in the outer builder.
pub fn custom_jvp(
    b: &mut Builder,
    name: &str,
    inputs: &[Value],
    forward: impl FnOnce(&mut Builder, &[Value]) -> Result<Vec<Value>>,
    rule: impl Fn(&mut Builder, &[Value], &[Value], &[Value]) -> Result<Vec<Option<Value>>>
        + Send
        + Sync
        + 'static,
) -> Result<Vec<Value>> {
    let c = record(name, b, "custom_jvp", inputs, forward)?;
    let rules = Rules {
        vjp: None,
        jvp: Some(Arc::new(rule)),
    };
    custom_call(b, name, &c, inputs, rules)
}

/// Gradient checkpointing: records `f` as a call whose intermediate values are not kept for
/// the backward pass; the gradient recomputes them (behind an optimization barrier, so the
/// compiler cannot reuse the forward pass's values). The same as [`checkpoint_with`] and
/// [`CheckpointPolicy::RecomputeAll`].
pub fn checkpoint(
    b: &mut Builder,
    name: &str,
    inputs: &[Value],
    f: impl FnOnce(&mut Builder, &[Value]) -> Result<Vec<Value>>,
) -> Result<Vec<Value>> {
    checkpoint_with(b, name, CheckpointPolicy::RecomputeAll, inputs, f)
}

/// Gradient checkpointing with a policy: records `f` as a call whose intermediate values are
/// recomputed in the backward pass, and whose inputs (the values kept for it) wait as
/// `policy` says: on the device ([`CheckpointPolicy::RecomputeAll`]), or in another memory
/// ([`CheckpointPolicy::Offload`], e.g. `pinned_host`: moved there in the forward pass and
/// back in the backward). The values and gradients are those of `f` whatever the policy.
/// A gradient with `Offload` holds in-program moves: compiling it checks that the plugin
/// makes them (`hlo_builder::Module::compile_with`; the CPU plugins do from PJRT API 0.115),
/// and without a gradient the policy changes nothing.
///
/// ```
/// use autodiff::{checkpoint_with, grad};
/// use hlo_builder::{Builder, CheckpointPolicy, ElementType::F32, MemoryKind};
///
/// let mut b = Builder::new("f");
/// let x = b.parameter("x", F32, [4])?;
/// let policy = CheckpointPolicy::Offload(MemoryKind::PINNED_HOST);
/// let y = checkpoint_with(&mut b, "block", policy, &[x], |b, p| {
///     let s = b.sin(p[0])?;
///     Ok(vec![b.mul(s, s)?])
/// })?;
/// let loss = b.reduce_sum(y[0], &[0])?;
/// let g = grad(&mut b, loss, &[x])?; // moves x to pinned_host and back, recomputes sin
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn checkpoint_with(
    b: &mut Builder,
    name: &str,
    policy: CheckpointPolicy,
    inputs: &[Value],
    f: impl FnOnce(&mut Builder, &[Value]) -> Result<Vec<Value>>,
) -> Result<Vec<Value>> {
    let c = record(name, b, "checkpoint", inputs, f)?;
    Ok(b.call_as(&c, inputs, CallKind::Checkpoint(policy))?)
}

/// A counted loop `for i in 0..trips { state = body(i, state) }` recorded as a `while` whose
/// trip count the graph knows (see [`Builder::fori_loop`]). Returns the final state.
pub fn fori_loop(
    b: &mut Builder,
    trips: i32,
    state: &[Value],
    body: impl FnOnce(&mut Builder, Value, &[Value]) -> Result<Vec<Value>>,
) -> Result<Vec<Value>> {
    for &s in state {
        check_value(b, "fori_loop", "state", s)?;
    }
    // The body's own errors (autodiff's) travel through the builder's error type and back.
    let mut inner: Option<Error> = None;
    let r = b.fori_loop(trips, state, |cb, i, s| match body(cb, i, s) {
        Ok(v) => Ok(v),
        Err(Error::Builder(e)) => Err(e),
        Err(e) => {
            let msg = e.to_string();
            inner = Some(e);
            Err(hlo_builder::Error::Shape {
                op: "fori_loop",
                message: msg,
            })
        }
    });
    match (r, inner) {
        (Ok(v), _) => Ok(v),
        (Err(_), Some(e)) => Err(e),
        (Err(e), None) => Err(e.into()),
    }
}
