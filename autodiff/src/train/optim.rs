//! Optimizers as graph functions: an update records new parameters and a new optimizer state
//! into the same builder as the loss and its gradients, so one training step is one
//! executable. State tensors are graph values (parameters of the step function); their
//! initial values are made on the host with [`Optimizer::init`].
//!
//! ```no_run
//! # use hlo_builder::{Builder, ElementType::F32};
//! # use autodiff::train::optim::{Adam, Optimizer};
//! # fn main() -> autodiff::Result<()> {
//! let mut b = Builder::new("step");
//! let w = b.parameter("w", F32, [4])?;
//! let loss = b.mul(w, w)?;
//! let loss = b.reduce_sum(loss, [0])?;
//! let g = autodiff::grad(&mut b, loss, &[w])?;
//! let opt = Adam::new(1e-3);
//! let state = opt.state_parameters(&mut b, &[w])?;   // step function inputs
//! let (new_w, new_state) = opt.update(&mut b, &[w], &g, &state)?;
//! let init = opt.init(&[b.ty(w)?.clone()])?;          // host values for `state`
//! # let _ = (new_w, new_state, init); Ok(()) }
//! ```
//!
//! State layout: element 0 is the number of completed steps (`s32[]`), then the
//! optimizer's slots (per parameter, in parameter order, slot by slot).

use hlo_builder::{BinaryOp, Builder, ElementType, TensorType, Value};

use crate::check::check_value;
use crate::error::{Error, Result};

/// A learning rate that may depend on the step number (the number of completed steps).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum LearningRate {
    /// The same rate at every step.
    Constant(f64),
    /// `base * gamma^floor(step / every)`.
    Step {
        /// The rate at step 0.
        base: f64,
        /// The factor applied every `every` steps.
        gamma: f64,
        /// Steps between decays.
        every: u32,
    },
    /// Cosine decay from `base` to `floor` over `steps` steps, then `floor`.
    Cosine {
        /// The rate at step 0.
        base: f64,
        /// The rate at the end of the decay and after.
        floor: f64,
        /// The length of the decay in steps.
        steps: u32,
    },
    /// Linear warmup from `then(0) / steps` to `then(0)` over `steps` steps, then `then`
    /// (counting its steps from the end of the warmup).
    Warmup {
        /// The length of the warmup in steps.
        steps: u32,
        /// The schedule after the warmup.
        then: Box<LearningRate>,
    },
}

impl From<f64> for LearningRate {
    fn from(v: f64) -> LearningRate {
        LearningRate::Constant(v)
    }
}

impl LearningRate {
    /// Linear warmup over `steps`, then cosine decay from `base` to `floor` over `decay_steps`.
    pub fn warmup_cosine(base: f64, floor: f64, steps: u32, decay_steps: u32) -> LearningRate {
        LearningRate::Warmup {
            steps,
            then: Box::new(LearningRate::Cosine {
                base,
                floor,
                steps: decay_steps,
            }),
        }
    }

    /// The rate at `step` (completed steps), computed on the host.
    pub fn value(&self, step: u64) -> f64 {
        match self {
            LearningRate::Constant(v) => *v,
            LearningRate::Step { base, gamma, every } => {
                base * gamma.powi((step / (*every).max(1) as u64) as i32)
            }
            LearningRate::Cosine { base, floor, steps } => {
                let t = (step as f64 / (*steps).max(1) as f64).min(1.0);
                floor + 0.5 * (base - floor) * (1.0 + (std::f64::consts::PI * t).cos())
            }
            LearningRate::Warmup { steps, then } => {
                if step < *steps as u64 {
                    then.value(0) * (step + 1) as f64 / *steps as f64
                } else {
                    then.value(step - *steps as u64)
                }
            }
        }
    }

    /// The rate at `step` (completed steps, as floats: a scalar, or any shape for several
    /// steps at once), recorded in `b`.
    pub fn at(&self, b: &mut Builder, step: Value) -> Result<Value> {
        Ok(match self {
            LearningRate::Constant(v) => b.full_like(step, *v)?,
            LearningRate::Step { base, gamma, every } => {
                let e = b.scalar_like(step, (*every).max(1) as f64)?;
                let k = b.div(step, e)?;
                let k = b.floor(k)?;
                let g = b.scalar_like(step, *gamma)?;
                let p = b.pow(g, k)?;
                let base = b.scalar_like(step, *base)?;
                b.mul(base, p)?
            }
            LearningRate::Cosine { base, floor, steps } => {
                let n = b.scalar_like(step, (*steps).max(1) as f64)?;
                let t = b.div(step, n)?;
                let one = b.scalar_like(step, 1.0)?;
                let t = b.min(t, one)?;
                let pi = b.scalar_like(step, std::f64::consts::PI)?;
                let c = b.mul(pi, t)?;
                let c = b.cos(c)?;
                let c = b.add(one, c)?;
                let amp = b.scalar_like(step, 0.5 * (base - floor))?;
                let c = b.mul(amp, c)?;
                let f = b.scalar_like(step, *floor)?;
                b.add(f, c)?
            }
            LearningRate::Warmup { steps, then } => {
                let n = b.scalar_like(step, *steps as f64)?;
                let one = b.scalar_like(step, 1.0)?;
                let s1 = b.add(step, one)?;
                let frac = b.div(s1, n)?;
                let zero = b.scalar_like(step, 0.0)?;
                let first = then.at(b, zero)?;
                let warm = b.mul(first, frac)?;
                let shifted = b.sub(step, n)?;
                let shifted = b.max(shifted, zero)?;
                let after = then.at(b, shifted)?;
                let during = b.lt(step, n)?;
                b.select(during, warm, after)?
            }
        })
    }
}

/// Scales `grads` so that their global L2 norm is at most `max_norm`:
/// `g * max_norm / max(norm, max_norm)`. The norm is accumulated in f32 (f64 for f64 grads).
pub fn clip_by_global_norm(b: &mut Builder, grads: &[Value], max_norm: f64) -> Result<Vec<Value>> {
    if grads.is_empty() {
        return Ok(Vec::new());
    }
    let mut acc_ty = ElementType::F32;
    for &g in grads {
        if check_value(b, "clip_by_global_norm", "gradient", g)?.ty == ElementType::F64 {
            acc_ty = ElementType::F64;
        }
    }
    let mut total: Option<Value> = None;
    for &g in grads {
        let gw = b.convert(g, acc_ty)?;
        let sq = b.mul(gw, gw)?;
        let r = b.ty(sq)?.rank();
        let s = b.reduce_sum(sq, (0..r as i64).collect::<Vec<_>>())?;
        total = Some(match total {
            Some(t) => b.add(t, s)?,
            None => s,
        });
    }
    let total = total.ok_or(Error::Arity {
        func: "clip_by_global_norm",
        message: "no gradients".into(),
    })?;
    let norm = b.sqrt(total)?;
    let m = b.scalar_like(norm, max_norm)?;
    let den = b.max(norm, m)?;
    let scale = b.div(m, den)?;
    let mut out = Vec::with_capacity(grads.len());
    for &g in grads {
        let t = b.ty(g)?.ty;
        let s = b.convert(scale, t)?;
        out.push(b.mul(g, s)?);
    }
    Ok(out)
}

/// An optimizer: state types, host initial state, and the update recorded in a builder.
pub trait Optimizer {
    /// Slots per parameter (e.g. 2 for Adam's first and second moments).
    fn slots(&self) -> usize;

    /// Records new parameters and state from `params`, their `grads` and the current `state`
    /// (laid out as described in the module documentation).
    fn update(
        &self,
        b: &mut Builder,
        params: &[Value],
        grads: &[Value],
        state: &[Value],
    ) -> Result<(Vec<Value>, Vec<Value>)>;

    /// The state's types for parameters of types `params`: `s32[]` step count, then the slots.
    fn state_types(&self, params: &[TensorType]) -> Vec<TensorType> {
        let mut v = vec![TensorType::scalar(ElementType::S32)];
        for _ in 0..self.slots() {
            v.extend(params.iter().cloned());
        }
        v
    }

    /// The initial state on the host: step 0 and zero slots.
    fn init(&self, params: &[TensorType]) -> Result<Vec<pjrt::Literal>> {
        self.state_types(params)
            .iter()
            .map(|t| {
                pjrt::Literal::zeros(t.ty, &t.dims).map_err(|source| Error::Host {
                    func: "init",
                    source,
                })
            })
            .collect()
    }

    /// Declares the state as parameters of `b` (after those already declared), for `params`.
    fn state_parameters(&self, b: &mut Builder, params: &[Value]) -> Result<Vec<Value>> {
        let mut tys = Vec::with_capacity(params.len());
        for &p in params {
            tys.push(check_value(b, "state_parameters", "parameter", p)?);
        }
        let mut out = Vec::new();
        for (i, t) in self.state_types(&tys).iter().enumerate() {
            let name = if i == 0 {
                "opt_step".to_string()
            } else {
                format!("opt_slot{}", i - 1)
            };
            out.push(b.parameter(name, t.ty, &t.dims)?);
        }
        Ok(out)
    }
}

/// Checks lengths and types; returns (step as float of the params' type, next step).
fn prologue(
    b: &mut Builder,
    func: &'static str,
    slots: usize,
    params: &[Value],
    grads: &[Value],
    state: &[Value],
) -> Result<(Vec<TensorType>, Value)> {
    if params.len() != grads.len() {
        return Err(Error::Arity {
            func,
            message: format!("{} parameters but {} gradients", params.len(), grads.len()),
        });
    }
    if state.len() != 1 + slots * params.len() {
        return Err(Error::Arity { func, message: format!("state has {} tensors, expected {} (step + {slots} per parameter for {} parameters)", state.len(), 1 + slots * params.len(), params.len()) });
    }
    let mut tys = Vec::new();
    for (i, (&p, &g)) in params.iter().zip(grads).enumerate() {
        let pt = check_value(b, func, "parameter", p)?;
        let gt = check_value(b, func, "gradient", g)?;
        if pt != gt {
            return Err(Error::TypeMismatch {
                func,
                role: "gradient",
                index: i,
                got: Box::new(gt),
                want: Box::new(pt),
            });
        }
        if !pt.ty.is_float() {
            return Err(Error::NonFloatInput {
                func,
                index: i,
                ty: Box::new(pt),
            });
        }
        for s in 0..slots {
            let st = check_value(b, func, "state", state[1 + s * params.len() + i])?;
            if st != pt {
                return Err(Error::TypeMismatch {
                    func,
                    role: "state slot",
                    index: 1 + s * params.len() + i,
                    got: Box::new(st),
                    want: Box::new(pt.clone()),
                });
            }
        }
        tys.push(pt);
    }
    let st = check_value(b, func, "state", state[0])?;
    if st != TensorType::scalar(ElementType::S32) {
        return Err(Error::TypeMismatch {
            func,
            role: "step count",
            index: 0,
            got: Box::new(st),
            want: Box::new(TensorType::scalar(ElementType::S32)),
        });
    }
    Ok((tys, state[0]))
}

fn next_step(b: &mut Builder, step: Value) -> Result<Value> {
    let one = b.scalar(ElementType::S32, 1.0)?;
    Ok(b.add(step, one)?)
}

fn prep_grads(
    b: &mut Builder,
    params: &[Value],
    grads: &[Value],
    clip: Option<f64>,
    l2: f64,
) -> Result<Vec<Value>> {
    let mut g = match clip {
        Some(c) => clip_by_global_norm(b, grads, c)?,
        None => grads.to_vec(),
    };
    if l2 != 0.0 {
        for (gi, &p) in g.iter_mut().zip(params) {
            let c = b.scalar_like(p, l2)?;
            let d = b.mul(p, c)?;
            *gi = b.add(*gi, d)?;
        }
    }
    Ok(g)
}

fn lr_for(b: &mut Builder, lr: &LearningRate, step: Value, ty: ElementType) -> Result<Value> {
    let s = b.convert(step, ty)?;
    lr.at(b, s)
}

fn axpy(b: &mut Builder, a: f64, x: Value, c: f64, y: Value) -> Result<Value> {
    let ka = b.scalar_like(x, a)?;
    let kc = b.scalar_like(y, c)?;
    let ax = b.mul(x, ka)?;
    let cy = b.mul(y, kc)?;
    Ok(b.binary_same_shape(BinaryOp::Add, ax, cy)?)
}

/// Stochastic gradient descent, with optional momentum (heavy ball or Nesterov), L2 weight
/// decay (added to the gradient) and clipping by global norm.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Sgd {
    /// The learning rate or schedule.
    pub lr: LearningRate,
    /// The momentum factor (0: plain SGD).
    pub momentum: f64,
    /// Nesterov momentum instead of heavy-ball.
    pub nesterov: bool,
    /// L2 penalty added to the gradient: `g += wd p`.
    pub weight_decay: f64,
    /// Scale the gradients down so their global L2 norm is at most this.
    pub clip_norm: Option<f64>,
}

impl Sgd {
    /// Plain SGD at the learning rate or schedule `lr`: `p -= lr g`.
    pub fn new(lr: impl Into<LearningRate>) -> Sgd {
        Sgd {
            lr: lr.into(),
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            clip_norm: None,
        }
    }
    /// Heavy-ball momentum: `v = m v + g; p -= lr v`.
    pub fn momentum(mut self, m: f64) -> Sgd {
        self.momentum = m;
        self
    }
    /// Nesterov momentum: `v = m v + g; p -= lr (g + m v)`.
    pub fn nesterov(mut self, m: f64) -> Sgd {
        self.momentum = m;
        self.nesterov = true;
        self
    }
    /// L2 weight decay `wd`, added to the gradient.
    pub fn weight_decay(mut self, wd: f64) -> Sgd {
        self.weight_decay = wd;
        self
    }
    /// Clips the gradients to global L2 norm `c`.
    pub fn clip_norm(mut self, c: f64) -> Sgd {
        self.clip_norm = Some(c);
        self
    }
}

impl Optimizer for Sgd {
    fn slots(&self) -> usize {
        usize::from(self.momentum != 0.0)
    }

    fn update(
        &self,
        b: &mut Builder,
        params: &[Value],
        grads: &[Value],
        state: &[Value],
    ) -> Result<(Vec<Value>, Vec<Value>)> {
        let (tys, step) = prologue(b, "sgd", self.slots(), params, grads, state)?;
        let g = prep_grads(b, params, grads, self.clip_norm, self.weight_decay)?;
        let n = params.len();
        let mut new_p = Vec::with_capacity(n);
        let mut new_v = Vec::new();
        for i in 0..n {
            let lr = lr_for(b, &self.lr, step, tys[i].ty)?;
            let upd = if self.momentum != 0.0 {
                let v = axpy(b, self.momentum, state[1 + i], 1.0, g[i])?;
                new_v.push(v);
                if self.nesterov {
                    axpy(b, 1.0, g[i], self.momentum, v)?
                } else {
                    v
                }
            } else {
                g[i]
            };
            let d = b.mul(upd, lr)?;
            new_p.push(b.sub(params[i], d)?);
        }
        let mut st = vec![next_step(b, step)?];
        st.extend(new_v);
        Ok((new_p, st))
    }
}

/// Adam (and AdamW with decoupled weight decay), with bias correction, optional L2 weight
/// decay in the gradient and clipping by global norm.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Adam {
    /// The learning rate or schedule.
    pub lr: LearningRate,
    /// Decay of the first-moment (mean) estimate.
    pub beta1: f64,
    /// Decay of the second-moment (uncentered variance) estimate.
    pub beta2: f64,
    /// Added to the root of the second moment before dividing.
    pub eps: f64,
    /// L2 penalty added to the gradient (classic Adam weight decay).
    pub weight_decay: f64,
    /// Decoupled weight decay (AdamW): `p -= lr * wd * p`.
    pub decoupled_weight_decay: f64,
    /// Scale the gradients down so their global L2 norm is at most this.
    pub clip_norm: Option<f64>,
}

impl Adam {
    /// Adam with beta1 0.9, beta2 0.999, eps 1e-8.
    pub fn new(lr: impl Into<LearningRate>) -> Adam {
        Adam {
            lr: lr.into(),
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: 0.0,
            clip_norm: None,
        }
    }
    /// The moment decays.
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Adam {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }
    /// The denominator's epsilon.
    pub fn eps(mut self, eps: f64) -> Adam {
        self.eps = eps;
        self
    }
    /// L2 weight decay `wd`, added to the gradient (for decoupled decay see [`AdamW`]).
    pub fn weight_decay(mut self, wd: f64) -> Adam {
        self.weight_decay = wd;
        self
    }
    /// Clips the gradients to global L2 norm `c`.
    pub fn clip_norm(mut self, c: f64) -> Adam {
        self.clip_norm = Some(c);
        self
    }
}

/// AdamW: Adam with decoupled weight decay.
pub struct AdamW;

impl AdamW {
    /// AdamW with beta1 0.9, beta2 0.999, eps 1e-8 and decoupled weight decay `wd`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(lr: impl Into<LearningRate>, wd: f64) -> Adam {
        Adam {
            decoupled_weight_decay: wd,
            ..Adam::new(lr)
        }
    }
}

impl Optimizer for Adam {
    fn slots(&self) -> usize {
        2
    }

    fn update(
        &self,
        b: &mut Builder,
        params: &[Value],
        grads: &[Value],
        state: &[Value],
    ) -> Result<(Vec<Value>, Vec<Value>)> {
        let (tys, step) = prologue(b, "adam", 2, params, grads, state)?;
        let g = prep_grads(b, params, grads, self.clip_norm, self.weight_decay)?;
        let n = params.len();
        let t1 = next_step(b, step)?;
        let (mut np, mut nm, mut nv) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            let ty = tys[i].ty;
            let lr = lr_for(b, &self.lr, step, ty)?;
            let m = axpy(b, self.beta1, state[1 + i], 1.0 - self.beta1, g[i])?;
            let g2 = b.mul(g[i], g[i])?;
            let v = axpy(b, self.beta2, state[1 + n + i], 1.0 - self.beta2, g2)?;
            // Bias corrections 1 - beta^t with t = completed steps + 1.
            let t = b.convert(t1, ty)?;
            let b1 = b.scalar(ty, self.beta1)?;
            let b2 = b.scalar(ty, self.beta2)?;
            let one = b.scalar(ty, 1.0)?;
            let p1 = b.pow(b1, t)?;
            let c1 = b.sub(one, p1)?;
            let p2 = b.pow(b2, t)?;
            let c2 = b.sub(one, p2)?;
            let mh = b.div(m, c1)?;
            let vh = b.div(v, c2)?;
            let sq = b.sqrt(vh)?;
            let eps = b.scalar(ty, self.eps)?;
            let den = b.add(sq, eps)?;
            let mut upd = b.div(mh, den)?;
            if self.decoupled_weight_decay != 0.0 {
                let wd = b.scalar(ty, self.decoupled_weight_decay)?;
                let d = b.mul(params[i], wd)?;
                upd = b.add(upd, d)?;
            }
            let d = b.mul(upd, lr)?;
            np.push(b.sub(params[i], d)?);
            nm.push(m);
            nv.push(v);
        }
        let mut st = vec![t1];
        st.extend(nm);
        st.extend(nv);
        Ok((np, st))
    }
}

/// RMSProp: `s = rho s + (1 - rho) g^2; p -= lr g / (sqrt(s) + eps)`, with optional momentum
/// on the scaled update, L2 weight decay and clipping.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RmsProp {
    /// The learning rate or schedule.
    pub lr: LearningRate,
    /// Decay of the mean square of the gradients.
    pub rho: f64,
    /// Added to the root mean square before dividing.
    pub eps: f64,
    /// Momentum on the scaled update (0: none).
    pub momentum: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Scale the gradients down so their global L2 norm is at most this.
    pub clip_norm: Option<f64>,
}

impl RmsProp {
    /// rho 0.9, eps 1e-8, no momentum.
    pub fn new(lr: impl Into<LearningRate>) -> RmsProp {
        RmsProp {
            lr: lr.into(),
            rho: 0.9,
            eps: 1e-8,
            momentum: 0.0,
            weight_decay: 0.0,
            clip_norm: None,
        }
    }
    /// The mean-square decay.
    pub fn rho(mut self, rho: f64) -> RmsProp {
        self.rho = rho;
        self
    }
    /// Momentum `m` on the scaled update.
    pub fn momentum(mut self, m: f64) -> RmsProp {
        self.momentum = m;
        self
    }
    /// L2 weight decay `wd`, added to the gradient.
    pub fn weight_decay(mut self, wd: f64) -> RmsProp {
        self.weight_decay = wd;
        self
    }
    /// Clips the gradients to global L2 norm `c`.
    pub fn clip_norm(mut self, c: f64) -> RmsProp {
        self.clip_norm = Some(c);
        self
    }
}

impl Optimizer for RmsProp {
    fn slots(&self) -> usize {
        1 + usize::from(self.momentum != 0.0)
    }

    fn update(
        &self,
        b: &mut Builder,
        params: &[Value],
        grads: &[Value],
        state: &[Value],
    ) -> Result<(Vec<Value>, Vec<Value>)> {
        let (tys, step) = prologue(b, "rmsprop", self.slots(), params, grads, state)?;
        let g = prep_grads(b, params, grads, self.clip_norm, self.weight_decay)?;
        let n = params.len();
        let (mut np, mut ns, mut nb) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            let ty = tys[i].ty;
            let lr = lr_for(b, &self.lr, step, ty)?;
            let g2 = b.mul(g[i], g[i])?;
            let s = axpy(b, self.rho, state[1 + i], 1.0 - self.rho, g2)?;
            let sq = b.sqrt(s)?;
            let eps = b.scalar(ty, self.eps)?;
            let den = b.add(sq, eps)?;
            let mut upd = b.div(g[i], den)?;
            if self.momentum != 0.0 {
                upd = axpy(b, self.momentum, state[1 + n + i], 1.0, upd)?;
                nb.push(upd);
            }
            let d = b.mul(upd, lr)?;
            np.push(b.sub(params[i], d)?);
            ns.push(s);
        }
        let mut st = vec![next_step(b, step)?];
        st.extend(ns);
        st.extend(nb);
        Ok((np, st))
    }
}
