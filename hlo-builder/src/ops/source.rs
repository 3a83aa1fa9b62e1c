//! Sources: values that come from no operand. Function parameters, constants and `iota`.

use std::fmt::Write as _;
use std::sync::Arc;

use smallvec::SmallVec;

use super::common::{arity, check_type, complex_part, i64_attr, Emission, Lowering};
use crate::error::{shape_err, Error, Result};
use crate::types::{ElementType, TensorType};

/// Constant payload: raw little-endian element bytes (pred: one byte per element, 0 or 1).
#[derive(Debug, Clone, PartialEq)]
pub enum ConstantValue {
    /// One element repeated over the whole shape.
    Splat(SmallVec<[u8; 16]>),
    /// Every element, row-major.
    Dense(Arc<[u8]>),
}

impl ConstantValue {
    /// The payload bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            ConstantValue::Splat(b) => b,
            ConstantValue::Dense(b) => b,
        }
    }
}

/// The source primitives.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceOp {
    /// Function parameter number `index` of type `ty`.
    Parameter {
        /// Its position among the function's parameters.
        index: usize,
        /// Its name (shown in the module text and in errors).
        name: String,
        /// Its type.
        ty: TensorType,
    },
    /// A constant of type `ty`.
    Constant {
        /// Its type.
        ty: TensorType,
        /// Its elements (dense or one splat value).
        value: ConstantValue,
    },
    /// `ty` holding 0, 1, 2, ... along axis `dimension`.
    Iota {
        /// Its type (integer or floating point).
        ty: TensorType,
        /// The axis that counts.
        dimension: i64,
    },
}

impl SourceOp {
    /// The op's name in errors.
    pub fn name(&self) -> &'static str {
        match self {
            SourceOp::Parameter { .. } => "parameter",
            SourceOp::Constant { .. } => "constant",
            SourceOp::Iota { .. } => "iota",
        }
    }

    /// The shape rule: the result type is an attribute; it is checked here.
    pub fn infer(&self, xs: &[&TensorType]) -> Result<Vec<TensorType>> {
        let op = self.name();
        arity(op, xs, 0)?;
        match self {
            SourceOp::Parameter { ty, .. } => {
                check_type(op, ty)?;
                Ok(vec![ty.clone()])
            }
            SourceOp::Constant { ty, value } => {
                constant(ty, value)?;
                Ok(vec![ty.clone()])
            }
            SourceOp::Iota { ty, dimension } => {
                iota(ty, *dimension)?;
                Ok(vec![ty.clone()])
            }
        }
    }

    /// The lowering table.
    pub fn lower(&self, results: &[TensorType]) -> Result<Lowering> {
        Ok(Lowering::Op(match self {
            SourceOp::Parameter { .. } => {
                return Err(Error::Lower("parameters are block arguments".into()))
            }
            SourceOp::Constant { value, .. } => {
                let t = results
                    .first()
                    .ok_or_else(|| Error::Lower("constant without a result type".into()))?;
                Emission::with("stablehlo.constant", vec![("value", dense_attr(t, value))])
            }
            SourceOp::Iota { dimension, .. } => Emission::with(
                "stablehlo.iota",
                vec![("iota_dimension", i64_attr(*dimension))],
            ),
        }))
    }
}

/// Checks a constant's type against its payload.
pub fn constant(t: &TensorType, value: &ConstantValue) -> Result<()> {
    let op = "constant";
    check_type(op, t)?;
    let Some(w) = t.ty.byte_size() else {
        return shape_err(
            op,
            format!("{t}: host data of sub-byte types is not supported; convert from a wider type"),
        );
    };
    let (expected, actual) = match value {
        ConstantValue::Dense(b) => (t.element_count() as usize * w, b.len()),
        ConstantValue::Splat(b) => (w, b.len()),
    };
    if expected != actual {
        return Err(Error::DataSize {
            op,
            ty: if matches!(value, ConstantValue::Splat(_)) {
                TensorType::scalar(t.ty)
            } else {
                t.clone()
            },
            expected,
            actual,
        });
    }
    Ok(())
}

/// Checks an iota's type and axis.
pub fn iota(t: &TensorType, dimension: i64) -> Result<()> {
    check_type("iota", t)?;
    if dimension < 0 || dimension as usize >= t.rank() {
        return shape_err(
            "iota",
            format!("dimension {dimension} is out of range for {t}"),
        );
    }
    if t.ty == ElementType::Pred || t.ty.byte_size().is_none() {
        return shape_err(
            "iota",
            format!(
                "{t}: element type must be an integer, float or complex type of 8 bits or more"
            ),
        );
    }
    // XLA's simplifier treats a complex iota as "non-negative" and rewrites abs(iota) to the
    // iota, which changes the type and aborts the 0.115 CPU plugin (CHECK failure in
    // algebraic_simplifier.cc). `Builder::iota` records a real iota and converts.
    if complex_part(t.ty).is_some() {
        return shape_err(
            "iota",
            format!(
                "{t}: a complex iota is recorded as a real iota and a convert (use Builder::iota)"
            ),
        );
    }
    Ok(())
}

/// Little-endian bytes of one element of `ty` holding `v`, for the types with a host form.
pub fn scalar_bytes(ty: ElementType, v: f64) -> Option<SmallVec<[u8; 16]>> {
    use ElementType::*;
    let b: SmallVec<[u8; 16]> = match ty {
        Pred => SmallVec::from_slice(&[(v != 0.0) as u8]),
        S8 => SmallVec::from_slice(&(v as i8).to_le_bytes()),
        S16 => SmallVec::from_slice(&(v as i16).to_le_bytes()),
        S32 => SmallVec::from_slice(&(v as i32).to_le_bytes()),
        S64 => SmallVec::from_slice(&(v as i64).to_le_bytes()),
        U8 => SmallVec::from_slice(&(v as u8).to_le_bytes()),
        U16 => SmallVec::from_slice(&(v as u16).to_le_bytes()),
        U32 => SmallVec::from_slice(&(v as u32).to_le_bytes()),
        U64 => SmallVec::from_slice(&(v as u64).to_le_bytes()),
        F16 => SmallVec::from_slice(&half::f16::from_f64(v).to_le_bytes()),
        BF16 => SmallVec::from_slice(&half::bf16::from_f64(v).to_le_bytes()),
        F32 => SmallVec::from_slice(&(v as f32).to_le_bytes()),
        F64 => SmallVec::from_slice(&v.to_le_bytes()),
        C64 => {
            let mut b = SmallVec::from_slice(&(v as f32).to_le_bytes());
            b.extend_from_slice(&0f32.to_le_bytes());
            b
        }
        C128 => {
            let mut b = SmallVec::from_slice(&v.to_le_bytes());
            b.extend_from_slice(&0f64.to_le_bytes());
            b
        }
        _ => return None,
    };
    Some(b)
}

/// The value of a scalar integer constant, if `op` is one (an `s8`..`s64`, `u8`..`u32`
/// scalar or splat of one element).
pub fn int_scalar(op: &SourceOp) -> Option<i64> {
    let SourceOp::Constant { ty, value } = op else {
        return None;
    };
    if ty.element_count() != 1 {
        return None;
    }
    let bytes = value.bytes();
    use ElementType::*;
    Some(match ty.ty {
        S32 => i32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as i64,
        S64 => i64::from_le_bytes(bytes.get(..8)?.try_into().ok()?),
        U32 => u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as i64,
        S16 => i16::from_le_bytes(bytes.get(..2)?.try_into().ok()?) as i64,
        S8 => *bytes.first()? as i8 as i64,
        U8 => *bytes.first()? as i64,
        _ => return None,
    })
}

/// The textual `dense<...>` attribute of a constant.
pub(crate) fn dense_attr(t: &TensorType, v: &ConstantValue) -> String {
    let ty = t.mlir();
    let bytes = v.bytes();
    if t.ty == ElementType::Pred && t.element_count() > 0 {
        let lit = |b: u8| if b != 0 { "true" } else { "false" };
        return match v {
            ConstantValue::Splat(b) => {
                format!("dense<{}> : {ty}", lit(b.first().copied().unwrap_or(0)))
            }
            ConstantValue::Dense(b) => {
                let elems: Vec<&str> = b.iter().map(|&x| lit(x)).collect();
                format!("dense<{}> : {ty}", nested(&t.dims, &elems))
            }
        };
    }
    if t.element_count() == 0 {
        return format!("dense<> : {ty}");
    }
    let mut s = String::with_capacity(bytes.len() * 2 + 32);
    s.push_str("dense<\"0x");
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    let _ = write!(s, "\"> : {ty}");
    s
}

/// Nested bracket literal of `elems` in row-major order over `dims`.
fn nested(dims: &[i64], elems: &[&str]) -> String {
    fn go(dims: &[i64], elems: &[&str], pos: &mut usize, out: &mut String) {
        match dims.split_first() {
            None => {
                out.push_str(elems.get(*pos).copied().unwrap_or("0"));
                *pos += 1;
            }
            Some((&d, rest)) => {
                out.push('[');
                for i in 0..d {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    go(rest, elems, pos, out);
                }
                out.push(']');
            }
        }
    }
    let mut out = String::new();
    let mut pos = 0;
    go(dims, elems, &mut pos, &mut out);
    out
}
