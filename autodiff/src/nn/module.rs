//! Parameter trees: the [`Module`] trait (derived with `#[derive(Module)]`), paths, and what
//! every tree can do ([`ModuleExt`]): list, initialize, bind to a recording, fill from host
//! values.

use std::fmt;
use std::sync::Arc;

use hlo_builder::{Recording, Tensor, Value};
use pjrt::Literal;
use rand::Rng;

use super::param::{Param, ParamKind, ParamValue};
use crate::error::{Error, Result};

/// A path in a parameter tree: field names and indices joined by dots
/// (`blocks.0.attn.qkv.weight`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Path {
    text: String,
    marks: Vec<usize>,
}

impl Path {
    /// The empty path (the root).
    pub fn new() -> Path {
        Path::default()
    }
    /// Descends into `segment`.
    pub fn push(&mut self, segment: &str) {
        self.marks.push(self.text.len());
        if !self.text.is_empty() {
            self.text.push('.');
        }
        self.text.push_str(segment);
    }
    /// Descends into element `i` of a list.
    pub fn push_index(&mut self, i: usize) {
        self.push(&i.to_string());
    }
    /// Goes back up one segment.
    pub fn pop(&mut self) {
        if let Some(m) = self.marks.pop() {
            self.text.truncate(m);
        }
    }
    /// The dotted path.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A tree of parameters: a layer, a model, or a list or option of them. Derive it with
/// `#[derive(Module)]` on a struct whose fields are parameters and modules; the derived
/// walks visit the fields in declaration order, so a tree has one fixed order of leaves.
pub trait Module: Clone {
    /// Calls `f` on every leaf with its path, in the tree's order.
    fn visit<'a>(&'a self, path: &mut Path, f: &mut dyn FnMut(&Path, &'a Param));
    /// Calls `f` on every leaf with its path, in the tree's order, mutably.
    fn visit_mut(&mut self, path: &mut Path, f: &mut dyn FnMut(&Path, &mut Param));
}

impl Module for Param {
    fn visit<'a>(&'a self, path: &mut Path, f: &mut dyn FnMut(&Path, &'a Param)) {
        f(path, self)
    }
    fn visit_mut(&mut self, path: &mut Path, f: &mut dyn FnMut(&Path, &mut Param)) {
        f(path, self)
    }
}

impl<T: Module> Module for Vec<T> {
    fn visit<'a>(&'a self, path: &mut Path, f: &mut dyn FnMut(&Path, &'a Param)) {
        for (i, m) in self.iter().enumerate() {
            path.push_index(i);
            m.visit(path, f);
            path.pop();
        }
    }
    fn visit_mut(&mut self, path: &mut Path, f: &mut dyn FnMut(&Path, &mut Param)) {
        for (i, m) in self.iter_mut().enumerate() {
            path.push_index(i);
            m.visit_mut(path, f);
            path.pop();
        }
    }
}

impl<T: Module> Module for Option<T> {
    fn visit<'a>(&'a self, path: &mut Path, f: &mut dyn FnMut(&Path, &'a Param)) {
        if let Some(m) = self {
            m.visit(path, f);
        }
    }
    fn visit_mut(&mut self, path: &mut Path, f: &mut dyn FnMut(&Path, &mut Param)) {
        if let Some(m) = self {
            m.visit_mut(path, f);
        }
    }
}

impl<T: Module> Module for Box<T> {
    fn visit<'a>(&'a self, path: &mut Path, f: &mut dyn FnMut(&Path, &'a Param)) {
        (**self).visit(path, f)
    }
    fn visit_mut(&mut self, path: &mut Path, f: &mut dyn FnMut(&Path, &mut Param)) {
        (**self).visit_mut(path, f)
    }
}

/// What every parameter tree can do.
pub trait ModuleExt: Module {
    /// Every leaf with its path, in the tree's order.
    fn params(&self) -> Vec<(String, &Param)> {
        let mut out = Vec::new();
        self.visit(&mut Path::new(), &mut |p, x| out.push((p.to_string(), x)));
        out
    }

    /// The number of parameter elements (trainable and state).
    fn num_params(&self) -> usize {
        let mut n = 0;
        self.visit(&mut Path::new(), &mut |_, x| n += x.len());
        n
    }

    /// The tree with every leaf given its initial host value, drawn from `rng` in the tree's
    /// order (so a seed gives the same model every time).
    fn init<R: Rng + ?Sized>(mut self, rng: &mut R) -> Result<Self>
    where
        Self: Sized,
    {
        let mut err = None;
        self.visit_mut(&mut Path::new(), &mut |p, x| {
            x.set_path(p.as_str());
            if err.is_none() {
                if let Err(e) = x.initialize(rng) {
                    err = Some(e);
                }
            }
        });
        err.map_or(Ok(self), Err)
    }

    /// [`init`](ModuleExt::init) from the crate's seeded generator ([`seeded`](super::seeded)):
    /// the same seed gives the same model on every machine.
    fn init_seed(self, seed: u64) -> Result<Self>
    where
        Self: Sized,
    {
        self.init(&mut super::init::seeded(seed))
    }

    /// The tree's leaves declared as parameters of `rec` (named by their paths, in the tree's
    /// order): a copy of the tree whose leaves are bound to them, so layers can use them, and
    /// the parameter tensors. Leaves of `kinds` only are bound (the others keep their values).
    fn bind(&self, rec: &Recording, kinds: &[ParamKind]) -> Result<(Self, Vec<Tensor>)>
    where
        Self: Sized,
    {
        let mut bound = self.clone();
        let mut ts = Vec::new();
        let mut err = None;
        bound.visit_mut(&mut Path::new(), &mut |p, x| {
            x.set_path(p.as_str());
            if err.is_some() || !kinds.contains(&x.kind()) {
                return;
            }
            let ty = x.ty().clone();
            match rec.parameter(p.as_str(), ty.ty, &ty.dims) {
                Ok(t) => {
                    x.bind(t.value());
                    ts.push(t);
                }
                Err(e) => err = Some(Error::Builder(e)),
            }
        });
        err.map_or(Ok((bound, ts)), Err)
    }

    /// A copy of the tree whose leaves of `kinds` are bound to `values`, values of `rec`'s
    /// graph already made (in the tree's order; each checked against its leaf's type): how a
    /// model runs inside code that declares its own parameters (an export with baked or
    /// batch-polymorphic weights, a `vmap` body through [`Recording::scoped`]).
    fn bind_values(&self, rec: &Recording, kinds: &[ParamKind], values: &[Value]) -> Result<Self>
    where
        Self: Sized,
    {
        let mut bound = self.clone();
        let mut it = values.iter();
        let mut problems = Vec::new();
        let mut count = 0usize;
        bound.visit_mut(&mut Path::new(), &mut |p, x| {
            x.set_path(p.as_str());
            if !kinds.contains(&x.kind()) {
                return;
            }
            count += 1;
            let Some(&v) = it.next() else { return };
            match rec.tensor(v) {
                Ok(t) if t.ty() == x.ty() => x.bind(v),
                Ok(t) => problems.push(format!("`{p}` is {} but was given {}", x.ty(), t.ty())),
                Err(e) => problems.push(format!("`{p}`: {e}")),
            }
        });
        if values.len() != count {
            problems.push(format!("{} values given for {count} leaves", values.len()));
        }
        if !problems.is_empty() {
            return Err(Error::Model(format!(
                "bind_values: {}",
                problems.join("; ")
            )));
        }
        Ok(bound)
    }

    /// The gradient of the scalar `loss` with respect to every trainable leaf, as a tree of
    /// the model's own type (its trainable leaves bound to the gradients; its state leaves as
    /// they were). `self` is a tree bound to `loss`'s recording (see [`ModuleExt::bind`]).
    ///
    /// ```
    /// use autodiff::nn::{Linear, ModuleExt, ParamKind};
    /// use hlo_builder::{ElementType::F32, Recording};
    ///
    /// let rec = Recording::new("g");
    /// let (lin, _) = Linear::new(3, 2).bind(&rec, &[ParamKind::Trainable])?;
    /// let x = rec.parameter("x", F32, [4, 3])?;
    /// let loss = lin.forward(&x)?.sum_all()?;
    /// let g: Linear = lin.grads(&loss)?; // the gradient has the model's type
    /// assert_eq!(g.weight.tensor(&x)?.dims(), [3, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn grads(&self, loss: &Tensor) -> Result<Self>
    where
        Self: Sized,
    {
        let mut wrt = Vec::new();
        let mut unbound = Vec::new();
        let id = loss.value().builder_id();
        self.visit(&mut Path::new(), &mut |p, x| {
            if x.kind() != ParamKind::Trainable {
                return;
            }
            match x.value() {
                ParamValue::Bound(v) if v.builder_id() == id => wrt.push(*v),
                _ => unbound.push(p.to_string()),
            }
        });
        if !unbound.is_empty() {
            return Err(Error::Model(format!(
                "grads: {} not bound to the loss's recording (bind the model first)",
                unbound.join(", ")
            )));
        }
        let gs = loss
            .recording()
            .with(|b| crate::grad(b, loss.value(), &wrt))??;
        let mut out = self.clone();
        let mut it = gs.into_iter();
        out.visit_mut(&mut Path::new(), &mut |_, x| {
            if x.kind() == ParamKind::Trainable {
                if let Some(g) = it.next() {
                    x.bind(g);
                }
            }
        });
        Ok(out)
    }

    /// The host values of the leaves of `kinds`, in the tree's order; an error names every
    /// leaf without one.
    fn host_values(&self, kinds: &[ParamKind]) -> Result<Vec<Arc<Literal>>> {
        let mut out = Vec::new();
        let mut missing = Vec::new();
        self.visit(&mut Path::new(), &mut |p, x| {
            if !kinds.contains(&x.kind()) {
                return;
            }
            match x.value() {
                ParamValue::Host(l) => out.push(l.clone()),
                _ => missing.push(p.to_string()),
            }
        });
        if !missing.is_empty() {
            return Err(Error::Model(format!(
                "no host value for {} (initialize the model with `init`, or load it)",
                missing.join(", ")
            )));
        }
        Ok(out)
    }

    /// A copy of the tree whose leaves of `kinds` take `values` (in the tree's order; each
    /// checked against its leaf's type).
    fn with_host_values(&self, kinds: &[ParamKind], values: Vec<Literal>) -> Result<Self>
    where
        Self: Sized,
    {
        let mut t = self.clone();
        let mut it = values.into_iter();
        let mut err = None;
        let mut count = 0usize;
        t.visit_mut(&mut Path::new(), &mut |p, x| {
            x.set_path(p.as_str());
            if err.is_some() || !kinds.contains(&x.kind()) {
                return;
            }
            count += 1;
            match it.next() {
                Some(v) => {
                    if let Err(e) = x.set_host(v) {
                        err = Some(e);
                    }
                }
                None => err = Some(Error::Model(format!("no value given for `{p}`"))),
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        let extra = it.count();
        if extra > 0 {
            return Err(Error::Model(format!(
                "{} values given for a tree of {count} leaves",
                count + extra
            )));
        }
        Ok(t)
    }
}

/// `l`'s float values converted to the float type `to`.
fn convert_float(l: &Literal, to: hlo_builder::ElementType) -> Option<Literal> {
    use hlo_builder::ElementType::*;
    let v: Vec<f64> = match l.element_type() {
        F16 => l
            .to_vec::<half::f16>()
            .ok()?
            .iter()
            .map(|x| x.to_f64())
            .collect(),
        BF16 => l
            .to_vec::<half::bf16>()
            .ok()?
            .iter()
            .map(|x| x.to_f64())
            .collect(),
        F32 => l.to_vec::<f32>().ok()?.iter().map(|&x| x as f64).collect(),
        F64 => l.to_vec::<f64>().ok()?,
        _ => return None,
    };
    let f: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    let ty = hlo_builder::TensorType::new(to, l.dims());
    match to {
        F64 => Literal::from_slice(&v, l.dims()).ok(),
        _ => super::param::literal_from_f32(&f, &ty).ok(),
    }
}

impl<M: Module> ModuleExt for M {}

/// Changing the float type of a whole tree.
pub trait ModuleCast: Module {
    /// A copy whose float parameters (declarations and host values) are of type `to` (f16,
    /// bf16, f32, f64); other parameters are unchanged.
    fn cast(&self, to: hlo_builder::ElementType) -> Result<Self>
    where
        Self: Sized,
    {
        let mut t = self.clone();
        let mut err = None;
        t.visit_mut(&mut Path::new(), &mut |p, x| {
            if err.is_some() || !x.ty().ty.is_float() {
                return;
            }
            let host = x.host().map(|l| convert_float(l, to));
            let mut y = x.clone().with_dtype(to);
            y.set_path(p.as_str());
            match host {
                Some(Some(l)) => {
                    if let Err(e) = y.set_host(l) {
                        err = Some(e);
                    }
                }
                Some(None) => err = Some(Error::Model(format!("`{p}` cannot be cast to {to}"))),
                None => {}
            }
            *x = y;
        });
        err.map_or(Ok(t), Err)
    }
}

impl<M: Module> ModuleCast for M {}
