//! [`Param`]: a leaf of a parameter tree. It knows its type, its initializer and whether it is
//! trained (a weight) or carried (state such as batch-norm statistics or an RNG key), and
//! holds its value: nothing yet, host data, or a value of a function being recorded.

use std::sync::{Arc, Mutex};

use hlo_builder::{ElementType, Tensor, TensorType, Value};
use pjrt::Literal;
use rand::Rng;

use super::init::Init;
use crate::error::{Error, Result};

/// Whether a parameter is trained or carried along.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ParamKind {
    /// Differentiated and updated by the optimizer.
    Trainable,
    /// Not differentiated; a layer may write its next value during a training step (running
    /// statistics, RNG keys, counters).
    State,
}

/// The value a parameter holds.
#[derive(Clone, Debug, Default)]
pub enum ParamValue {
    /// Only the declaration (type and initializer).
    #[default]
    Unset,
    /// Host data.
    Host(Arc<Literal>),
    /// A value of a function being recorded (a parameter of that function).
    Bound(Value),
}

/// A leaf of a parameter tree.
#[derive(Debug)]
pub struct Param {
    ty: TensorType,
    init: Init,
    kind: ParamKind,
    value: ParamValue,
    /// Its path in the tree, known once it has been bound or initialized (for messages).
    path: String,
    /// The next value of a state parameter, written by a layer while recording a step.
    next: Mutex<Option<Value>>,
}

impl Clone for Param {
    fn clone(&self) -> Param {
        Param {
            ty: self.ty.clone(),
            init: self.init,
            kind: self.kind,
            value: self.value.clone(),
            path: self.path.clone(),
            next: Mutex::new(*self.next.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }
}

impl Param {
    /// A trainable `f32` parameter of dimensions `dims`, initialized by `init`.
    pub fn new(dims: impl AsRef<[i64]>, init: Init) -> Param {
        Param {
            ty: TensorType::new(ElementType::F32, dims),
            init,
            kind: ParamKind::Trainable,
            value: ParamValue::Unset,
            path: String::new(),
            next: Mutex::new(None),
        }
    }

    /// A state parameter (not trained; see [`ParamKind::State`]) of type `ty[dims]`.
    pub fn state(ty: ElementType, dims: impl AsRef<[i64]>, init: Init) -> Param {
        Param {
            kind: ParamKind::State,
            ..Param::new(dims, init).with_dtype(ty)
        }
    }

    /// The same declaration with element type `ty` (f32, f64, bf16, f16, ...); a host
    /// value of another type is dropped (see `ModuleCast::cast` to convert values).
    pub fn with_dtype(mut self, ty: ElementType) -> Param {
        if self.ty.ty != ty {
            self.ty.ty = ty;
            if matches!(self.value, ParamValue::Host(_)) {
                self.value = ParamValue::Unset;
            }
        }
        self
    }

    /// The same declaration with initializer `init`.
    pub fn with_init(mut self, init: Init) -> Param {
        self.init = init;
        self
    }

    /// Its type.
    pub fn ty(&self) -> &TensorType {
        &self.ty
    }
    /// Its initializer.
    pub fn init(&self) -> Init {
        self.init
    }
    /// Trainable or state.
    pub fn kind(&self) -> ParamKind {
        self.kind
    }
    /// Its value.
    pub fn value(&self) -> &ParamValue {
        &self.value
    }
    /// Its path in the tree (empty until the tree has been walked).
    pub fn path(&self) -> &str {
        &self.path
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.ty.element_count().max(0) as usize
    }
    /// Whether it has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its host data, if it has some.
    pub fn host(&self) -> Option<&Literal> {
        match &self.value {
            ParamValue::Host(l) => Some(l),
            _ => None,
        }
    }

    /// Sets host data, checking its type.
    pub fn set_host(&mut self, lit: Literal) -> Result<()> {
        if lit.element_type() != self.ty.ty || lit.dims() != self.ty.dims.as_slice() {
            return Err(Error::Model(format!(
                "parameter `{}` is {}, got {}{:?}",
                self.path,
                self.ty,
                lit.element_type(),
                lit.dims()
            )));
        }
        self.value = ParamValue::Host(Arc::new(lit));
        Ok(())
    }

    pub(crate) fn set_path(&mut self, path: &str) {
        if self.path != path {
            self.path = path.to_string();
        }
    }

    pub(crate) fn bind(&mut self, v: Value) {
        self.value = ParamValue::Bound(v);
        *self.next.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Draws its initial host value from `rng`.
    pub(crate) fn initialize<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Result<()> {
        let dims: Vec<usize> = self.ty.dims.iter().map(|&d| d as usize).collect();
        let n = self.len();
        let lit = if self.init == Init::RandomBits {
            let r = match self.ty.ty {
                ElementType::U64 => {
                    let bits: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
                    Literal::from_slice(&bits, &self.ty.dims)
                }
                ElementType::U32 => {
                    let bits: Vec<u32> = (0..n).map(|_| rng.next_u32()).collect();
                    Literal::from_slice(&bits, &self.ty.dims)
                }
                other => {
                    return Err(Error::Model(format!(
                        "parameter `{}`: random bits need u32 or u64, not {other}",
                        self.path
                    )))
                }
            };
            r.map_err(|e| Error::Model(format!("parameter `{}`: {e}", self.path)))?
        } else {
            let v = self.init.sample(rng, &dims);
            literal_from_f32(&v, &self.ty)
                .map_err(|e| Error::Model(format!("parameter `{}`: {e}", self.path)))?
        };
        self.value = ParamValue::Host(Arc::new(lit));
        Ok(())
    }

    /// The tensor this parameter is bound to in the recording of `like` (a layer's input), as
    /// made by [`ModuleExt::bind`](super::ModuleExt::bind) (train steps and bound functions do
    /// it). Errors name the parameter when it is not bound to that recording.
    pub fn tensor(&self, like: &Tensor) -> hlo_builder::Result<Tensor> {
        match &self.value {
            ParamValue::Bound(v) if v.builder_id() == like.value().builder_id() => {
                like.recording().tensor(*v)
            }
            _ => Err(hlo_builder::Error::Shape {
                op: "parameter",
                message: format!(
                    "`{}` ({}) is not a value of this function: call the model through a train step, a bound function or `ModuleExt::bind`",
                    self.path, self.ty
                ),
            }),
        }
    }

    /// Records the next value of a state parameter (e.g. updated running statistics); the
    /// train step writes it back after the step. It must have the parameter's type.
    pub fn set_next(&self, value: &Tensor) -> hlo_builder::Result<()> {
        if value.ty() != &self.ty || self.kind != ParamKind::State {
            return Err(hlo_builder::Error::Shape {
                op: "parameter",
                message: format!(
                    "`{}` ({}, {:?}) cannot take the next value {}",
                    self.path,
                    self.ty,
                    self.kind,
                    value.ty()
                ),
            });
        }
        *self.next.lock().unwrap_or_else(|e| e.into_inner()) = Some(value.value());
        Ok(())
    }

    /// The next value written by [`set_next`](Self::set_next) while recording, if any.
    pub fn next(&self) -> Option<Value> {
        *self.next.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A literal of `ty` from f32 values (converted to `ty`'s element type).
pub(crate) fn literal_from_f32(v: &[f32], ty: &TensorType) -> pjrt::Result<Literal> {
    use ElementType::*;
    let dims = &ty.dims;
    match ty.ty {
        F32 => Literal::from_slice(v, dims),
        F64 => {
            let w: Vec<f64> = v.iter().map(|&x| x as f64).collect();
            Literal::from_slice(&w, dims)
        }
        F16 => {
            let w: Vec<half::f16> = v.iter().map(|&x| half::f16::from_f32(x)).collect();
            Literal::from_slice(&w, dims)
        }
        BF16 => {
            let w: Vec<half::bf16> = v.iter().map(|&x| half::bf16::from_f32(x)).collect();
            Literal::from_slice(&w, dims)
        }
        S32 => {
            let w: Vec<i32> = v.iter().map(|&x| x as i32).collect();
            Literal::from_slice(&w, dims)
        }
        S64 => {
            let w: Vec<i64> = v.iter().map(|&x| x as i64).collect();
            Literal::from_slice(&w, dims)
        }
        U32 => {
            let w: Vec<u32> = v.iter().map(|&x| x as u32).collect();
            Literal::from_slice(&w, dims)
        }
        U64 => {
            let w: Vec<u64> = v.iter().map(|&x| x as u64).collect();
            Literal::from_slice(&w, dims)
        }
        other => Err(pjrt::Error::UnsupportedElementType {
            op: "initializing a parameter from floats",
            element_type: other,
        }),
    }
}
