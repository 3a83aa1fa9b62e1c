//! Constants and `iota`.

use std::sync::Arc;

use smallvec::SmallVec;

use crate::builder::Builder;
use crate::error::{shape_err, Result};
use crate::graph::Value;
use crate::ops::common::{check_type, complex_part};
use crate::ops::source::scalar_bytes;
use crate::ops::{ConstantValue, SourceOp};
use crate::types::{ElementType, TensorType};

impl Builder {
    /// A constant from host data, `T[dims]` with `data.len()` equal to the element count.
    ///
    /// Shapes: `-> T[dims]` with `T` from the Rust type.
    pub fn constant<T: pjrt::NativeType>(
        &mut self,
        data: &[T],
        dims: impl AsRef<[i64]>,
    ) -> Result<Value> {
        let size = std::mem::size_of_val(data);
        // SAFETY: NativeType guarantees plain data without padding; we read `size` bytes of
        // the slice's own memory.
        let bytes = unsafe { std::slice::from_raw_parts(data.as_ptr() as *const u8, size) };
        self.constant_bytes(T::ELEMENT_TYPE, dims, bytes)
    }

    /// A constant of `ty[dims]` from raw little-endian element bytes (pred: one byte, 0 or 1).
    ///
    /// Shapes: `-> ty[dims]`.
    pub fn constant_bytes(
        &mut self,
        ty: ElementType,
        dims: impl AsRef<[i64]>,
        bytes: &[u8],
    ) -> Result<Value> {
        let t = TensorType::new(ty, dims.as_ref());
        let value = ConstantValue::Dense(Arc::from(bytes));
        self.record1(SourceOp::Constant { ty: t, value }, &[])
    }

    /// A pred constant.
    ///
    /// Shapes: `-> pred[dims]`.
    pub fn constant_bool(&mut self, data: &[bool], dims: impl AsRef<[i64]>) -> Result<Value> {
        let bytes: Vec<u8> = data.iter().map(|&b| b as u8).collect();
        self.constant_bytes(ElementType::Pred, dims, &bytes)
    }

    /// `ty[dims]` filled with `value` (converted to `ty`: rounded for floats, truncated toward
    /// zero and saturated for integers, `value != 0` for pred, real part for complex).
    ///
    /// Shapes: `-> ty[dims]`.
    pub fn splat(&mut self, ty: ElementType, dims: impl AsRef<[i64]>, value: f64) -> Result<Value> {
        let t = TensorType::new(ty, dims.as_ref());
        check_type("splat", &t)?;
        match scalar_bytes(ty, value) {
            Some(bytes) => self.record1(
                SourceOp::Constant {
                    ty: t,
                    value: ConstantValue::Splat(bytes),
                },
                &[],
            ),
            None => {
                // f8/f4/f6 and sub-byte integers: make it in a wide type, then convert.
                let wide = if ty.is_float() {
                    ElementType::F32
                } else {
                    ElementType::S64
                };
                let w = self.splat(wide, &t.dims, value)?;
                self.convert(w, ty)
            }
        }
    }

    /// A splat constant from the raw bytes of one element (as stored in [`ConstantValue::Splat`]).
    ///
    /// Shapes: `-> t`.
    pub fn splat_bytes(&mut self, t: &TensorType, element: &[u8]) -> Result<Value> {
        let value = ConstantValue::Splat(SmallVec::from_slice(element));
        let r = self.record1(
            SourceOp::Constant {
                ty: t.clone(),
                value,
            },
            &[],
        );
        r.map_err(|e| match e {
            crate::Error::DataSize {
                ty,
                expected,
                actual,
                ..
            } => crate::Error::DataSize {
                op: "splat",
                ty,
                expected,
                actual,
            },
            e => e,
        })
    }

    /// A scalar constant `ty[]`.
    ///
    /// Shapes: `-> ty[]`.
    pub fn scalar(&mut self, ty: ElementType, value: f64) -> Result<Value> {
        self.splat(ty, [], value)
    }
    /// Zeros of `ty[dims]`.
    ///
    /// Shapes: `-> ty[dims]`.
    pub fn zeros(&mut self, ty: ElementType, dims: impl AsRef<[i64]>) -> Result<Value> {
        self.splat(ty, dims, 0.0)
    }
    /// Ones of `ty[dims]`.
    ///
    /// Shapes: `-> ty[dims]`.
    pub fn ones(&mut self, ty: ElementType, dims: impl AsRef<[i64]>) -> Result<Value> {
        self.splat(ty, dims, 1.0)
    }
    /// A constant of `x`'s type filled with `value`.
    ///
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn full_like(&mut self, x: Value, value: f64) -> Result<Value> {
        let t = self.value("full_like", x)?.1;
        self.splat(t.ty, &t.dims, value)
    }
    /// Zeros of `x`'s type.
    ///
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn zeros_like(&mut self, x: Value) -> Result<Value> {
        self.full_like(x, 0.0)
    }
    /// Ones of `x`'s type.
    ///
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn ones_like(&mut self, x: Value) -> Result<Value> {
        self.full_like(x, 1.0)
    }
    /// A scalar constant of `x`'s element type.
    ///
    /// Shapes: `T[d...] -> T[]`.
    pub fn scalar_like(&mut self, x: Value, value: f64) -> Result<Value> {
        let t = self.value("scalar_like", x)?.1;
        self.splat(t.ty, [], value)
    }

    /// `ty[dims]` holding 0, 1, 2, ... along axis `dimension`.
    ///
    /// Shapes: `-> ty[dims]`, `0 <= dimension < rank`.
    pub fn iota(
        &mut self,
        ty: ElementType,
        dims: impl AsRef<[i64]>,
        dimension: i64,
    ) -> Result<Value> {
        let t = TensorType::new(ty, dims.as_ref());
        // A complex iota is made as a real iota and converted (see `ops::source::iota`).
        if let Some(part) = complex_part(ty) {
            check_type("iota", &t)?;
            if dimension < 0 || dimension as usize >= t.rank() {
                return shape_err(
                    "iota",
                    format!("dimension {dimension} is out of range for {t}"),
                );
            }
            let r = self.iota(part, &t.dims, dimension)?;
            return self.convert(r, ty);
        }
        self.record1(SourceOp::Iota { ty: t, dimension }, &[])
    }
}
