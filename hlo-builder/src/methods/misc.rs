//! Random bits (and uniform / normal numbers made from them), optimization barriers, custom
//! calls and `stop_gradient`.

use std::f64::consts::PI;

use smallvec::SmallVec;

use crate::builder::Builder;
use crate::error::{shape_err, Result};
use crate::graph::Value;
use crate::ops::{MiscOp, RngAlgorithm};
use crate::placement::MemoryKind;
use crate::types::{ElementType, TensorType};

impl Builder {
    /// Random bits of type `out` from a `u64[2]` state; returns (new state, bits).
    ///
    /// Shapes: `u64[2] -> (u64[2], out)`.
    pub fn rng_bit_generator(
        &mut self,
        state: Value,
        algorithm: RngAlgorithm,
        out: TensorType,
    ) -> Result<(Value, Value)> {
        let r = self.record_owned(
            MiscOp::RngBitGenerator { algorithm, out }.into(),
            &[state],
            SmallVec::new(),
        )?;
        Ok((r[0], r[1]))
    }

    /// Identity that the compiler may not move ops across.
    ///
    /// Shapes: `T_i (N) -> T_i (N)`.
    pub fn optimization_barrier(&mut self, xs: &[Value]) -> Result<Vec<Value>> {
        self.record_owned(MiscOp::OptimizationBarrier.into(), xs, SmallVec::new())
    }

    /// A call to a backend-specific target; the result types are the caller's claim.
    ///
    /// Shapes: `A_i (N) -> results` (as declared).
    pub fn custom_call(
        &mut self,
        target: impl Into<String>,
        args: &[Value],
        results: &[TensorType],
        backend_config: impl Into<String>,
        has_side_effect: bool,
    ) -> Result<Vec<Value>> {
        self.record_owned(
            MiscOp::CustomCall {
                target: target.into(),
                backend_config: backend_config.into(),
                has_side_effect,
                results: results.to_vec(),
            }
            .into(),
            args,
            SmallVec::new(),
        )
    }

    /// A call to a handler registered through XLA's typed FFI under `target` (PJRT's FFI
    /// extension, `pjrt::ext::ffi::Ffi::register_handler`): the handler gets `args` and
    /// writes `results` (their types are the caller's claim). With `has_side_effect` the
    /// compiler keeps the call even when its results are unused, and keeps side-effecting
    /// calls in program order. Not differentiable (a gradient through it is an error naming
    /// the target).
    ///
    /// Shapes: `A_i (N) -> results` (as declared).
    pub fn ffi_call(
        &mut self,
        target: impl Into<String>,
        args: &[Value],
        results: &[TensorType],
        has_side_effect: bool,
    ) -> Result<Vec<Value>> {
        self.record_owned(
            MiscOp::FfiCall {
                target: target.into(),
                has_side_effect,
                results: results.to_vec(),
            }
            .into(),
            args,
            SmallVec::new(),
        )
    }

    /// `x` unchanged in value, moved into memory of kind `memory` inside the program: a
    /// value held in host memory ([`MemoryKind::PINNED_HOST`] parameters) is placed on the
    /// device before it is computed with, and a result is placed in host memory before it is
    /// returned there. Its derivative is the identity. Whether the client has the kind is
    /// checked when the module is compiled ([`Module::compile_with`](crate::Module::compile_with)).
    ///
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn place(&mut self, x: Value, memory: MemoryKind) -> Result<Value> {
        self.record1(MiscOp::Place { memory }, &[x])
    }

    /// `x` unchanged in value, with a zero derivative (it emits no operation).
    ///
    /// Shapes: `T[d...] -> T[d...]`.
    pub fn stop_gradient(&mut self, x: Value) -> Result<Value> {
        self.record1(MiscOp::StopGradient, &[x])
    }

    /// Uniform random numbers in `[0, 1)` of `ty[dims]` (float types) from a `u64[2]` state;
    /// returns (new state, values). Uses the mantissa bits of `rng_bit_generator` output.
    pub fn rng_uniform(
        &mut self,
        state: Value,
        ty: ElementType,
        dims: impl AsRef<[i64]>,
    ) -> Result<(Value, Value)> {
        let dims = dims.as_ref();
        if !ty.is_float() {
            return shape_err(
                "rng_uniform",
                format!("element type {ty} must be a float type"),
            );
        }
        let (bits_ty, fty, shift, one_bits) = if ty == ElementType::F64 {
            (
                ElementType::U64,
                ElementType::F64,
                12.0,
                f64::to_bits(1.0) as f64,
            )
        } else {
            (
                ElementType::U32,
                ElementType::F32,
                9.0,
                f32::to_bits(1.0) as f64,
            )
        };
        let (s, bits) = self.rng_bit_generator(
            state,
            RngAlgorithm::ThreeFry,
            TensorType::new(bits_ty, dims),
        )?;
        let sh = self.splat(bits_ty, [], shift)?;
        let m = self.shift_right_logical(bits, sh)?;
        let one = self.splat(bits_ty, [], one_bits)?;
        let m = self.or(m, one)?;
        let f = self.bitcast_convert(m, fty)?;
        let onef = self.splat(fty, [], 1.0)?;
        let u = self.sub(f, onef)?;
        Ok((s, self.convert(u, ty)?))
    }

    /// Standard normal random numbers of `ty[dims]` (Box-Muller); returns (new state, values).
    pub fn rng_normal(
        &mut self,
        state: Value,
        ty: ElementType,
        dims: impl AsRef<[i64]>,
    ) -> Result<(Value, Value)> {
        let dims = dims.as_ref();
        if !ty.is_float() {
            return shape_err(
                "rng_normal",
                format!("element type {ty} must be a float type"),
            );
        }
        let wt = if ty == ElementType::F64 {
            ElementType::F64
        } else {
            ElementType::F32
        };
        let (s, u1) = self.rng_uniform(state, wt, dims)?;
        let (s, u2) = self.rng_uniform(s, wt, dims)?;
        // z = sqrt(-2 ln(1 - u1)) * cos(2 pi u2); 1 - u1 is in (0, 1].
        let one = self.splat(wt, [], 1.0)?;
        let v = self.sub(one, u1)?;
        let l = self.log(v)?;
        let m2 = self.splat(wt, [], -2.0)?;
        let r = self.mul(m2, l)?;
        let r = self.sqrt(r)?;
        let tp = self.splat(wt, [], 2.0 * PI)?;
        let a = self.mul(tp, u2)?;
        let c = self.cos(a)?;
        let z = self.mul(r, c)?;
        Ok((s, self.convert(z, ty)?))
    }
}
