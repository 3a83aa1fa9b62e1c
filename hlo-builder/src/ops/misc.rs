//! Random bits, optimization barriers, custom calls and `stop_gradient`.

use super::common::{arity, bool_attr, check_dims, check_type, mlir_string, Emission, Lowering};
use crate::error::{shape_err, Result};
use crate::placement::MemoryKind;
use crate::types::{ElementType, TensorType};

/// The custom-call target XLA reads as "place this value in a memory kind" (JAX emits the
/// same for `jax.device_put(x, memory_kind)` inside a jitted function).
pub const PLACEMENT_TARGET: &str = "annotate_device_placement";
/// The frontend attribute of a [`PLACEMENT_TARGET`] call that names the memory kind.
pub const PLACEMENT_ATTRIBUTE: &str = "_xla_buffer_placement";

/// Algorithm of `rng_bit_generator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RngAlgorithm {
    #[default]
    /// The backend's choice.
    Default,
    /// Threefry (counter-based, as in JAX).
    ThreeFry,
    /// Philox (counter-based).
    Philox,
}

/// The other primitives.
#[derive(Debug, Clone, PartialEq)]
pub enum MiscOp {
    /// operands: state. Results: new state, random bits of type `out`.
    RngBitGenerator {
        /// The bit generator.
        algorithm: RngAlgorithm,
        /// The type of the random bits (an unsigned integer type).
        out: TensorType,
    },
    /// Identity that the compiler may not move ops across (any number of values).
    OptimizationBarrier,
    /// A call to a backend-specific target with the given result types.
    CustomCall {
        /// The custom-call target name the backend registered.
        target: String,
        /// An opaque string passed to the target.
        backend_config: String,
        /// The call has effects beyond its results (the compiler keeps it).
        has_side_effect: bool,
        /// The result types.
        results: Vec<TensorType>,
    },
    /// A call to a handler registered through XLA's typed FFI (PJRT's FFI extension:
    /// `pjrt::ext::ffi::Ffi::register_handler`), with the given result types: emitted as a
    /// `custom_call` with `api_version = 4`. The handler runs on the host for CPU plugins.
    FfiCall {
        /// The name the handler was registered under.
        target: String,
        /// The call has effects beyond its results (the compiler keeps it, in program order
        /// with other side-effecting calls).
        has_side_effect: bool,
        /// The result types.
        results: Vec<TensorType>,
    },
    /// The identity, whose derivative is zero. It emits nothing.
    StopGradient,
    /// The identity, its result placed in a memory kind: a move between memories inside a
    /// program (from host memory to the device before use, back to host memory after).
    /// Emitted as XLA reads it: `custom_call @annotate_device_placement` with the frontend
    /// attribute `_xla_buffer_placement` naming the kind.
    Place {
        /// The memory kind the value moves to.
        memory: MemoryKind,
    },
}

impl MiscOp {
    /// The op's name in errors.
    pub fn name(&self) -> &'static str {
        match self {
            MiscOp::RngBitGenerator { .. } => "rng_bit_generator",
            MiscOp::OptimizationBarrier => "optimization_barrier",
            MiscOp::CustomCall { .. } => "custom_call",
            MiscOp::FfiCall { .. } => "ffi_call",
            MiscOp::StopGradient => "stop_gradient",
            MiscOp::Place { .. } => "place",
        }
    }

    /// The shape rule.
    pub fn infer(&self, xs: &[&TensorType]) -> Result<Vec<TensorType>> {
        let op = self.name();
        match self {
            MiscOp::RngBitGenerator { algorithm, out } => {
                arity(op, xs, 1)?;
                rng_bit_generator(xs[0], *algorithm, out)
            }
            MiscOp::OptimizationBarrier => Ok(xs.iter().map(|t| (*t).clone()).collect()),
            MiscOp::CustomCall {
                target, results, ..
            }
            | MiscOp::FfiCall {
                target, results, ..
            } => call_target(op, target, xs, results),
            MiscOp::StopGradient | MiscOp::Place { .. } => {
                arity(op, xs, 1)?;
                Ok(vec![xs[0].clone()])
            }
        }
    }

    /// The lowering table.
    pub fn lower(&self) -> Result<Lowering> {
        Ok(match self {
            MiscOp::RngBitGenerator { algorithm, .. } => {
                let n = match algorithm {
                    RngAlgorithm::Default => "DEFAULT",
                    RngAlgorithm::ThreeFry => "THREE_FRY",
                    RngAlgorithm::Philox => "PHILOX",
                };
                Lowering::Op(Emission::with(
                    "stablehlo.rng_bit_generator",
                    vec![("rng_algorithm", format!("#stablehlo<rng_algorithm {n}>"))],
                ))
            }
            MiscOp::OptimizationBarrier => {
                Lowering::Op(Emission::plain("stablehlo.optimization_barrier"))
            }
            MiscOp::CustomCall {
                target,
                backend_config,
                has_side_effect,
                ..
            } => Lowering::Op(Emission::with(
                "stablehlo.custom_call",
                vec![
                    ("call_target_name", mlir_string(target)),
                    ("backend_config", mlir_string(backend_config)),
                    ("has_side_effect", bool_attr(*has_side_effect)),
                ],
            )),
            MiscOp::FfiCall {
                target,
                has_side_effect,
                ..
            } => Lowering::Op(Emission::with(
                "stablehlo.custom_call",
                vec![
                    ("call_target_name", mlir_string(target)),
                    ("api_version", "4 : i32".to_string()),
                    ("has_side_effect", bool_attr(*has_side_effect)),
                ],
            )),
            MiscOp::StopGradient => Lowering::Forward,
            MiscOp::Place { memory } => Lowering::Op(Emission::with(
                "stablehlo.custom_call",
                vec![
                    ("call_target_name", mlir_string(PLACEMENT_TARGET)),
                    ("has_side_effect", bool_attr(true)),
                    (
                        "mhlo.frontend_attributes",
                        format!(
                            "{{{PLACEMENT_ATTRIBUTE} = {}}}",
                            mlir_string(memory.as_str())
                        ),
                    ),
                ],
            )),
        })
    }
}

/// `rng_bit_generator`: the state is `u64[2]` (ThreeFry) or `u64[2]`/`u64[3]` (Philox, default).
pub fn rng_bit_generator(
    state: &TensorType,
    algorithm: RngAlgorithm,
    out: &TensorType,
) -> Result<Vec<TensorType>> {
    let op = "rng_bit_generator";
    let ok_len = match algorithm {
        RngAlgorithm::ThreeFry => state.dims.as_slice() == [2],
        _ => state.dims.as_slice() == [2] || state.dims.as_slice() == [3],
    };
    if !(state.ty == ElementType::U64 && ok_len) {
        return shape_err(
            op,
            format!("state {state} must be u64[2] (or u64[3] for Philox) for {algorithm:?}"),
        );
    }
    // XLA reinterprets signed outputs as unsigned, so their users then see the wrong type
    // (0.115 CPU plugin: "Call parameter must match argument ... s32[] vs u32[]").
    if !(out.ty.is_unsigned_int() && out.ty.bit_width() >= 8) {
        return shape_err(
            op,
            format!(
                "output {out} must have an unsigned integer element type (u8, u16, u32 or u64)"
            ),
        );
    }
    check_dims(op, &out.dims)?;
    Ok(vec![state.clone(), out.clone()])
}

/// The shape rule of calls to named targets: a target name XLA accepts and does not reserve
/// (`Sharding` as an annotation excepted), and checked result types.
fn call_target(
    op: &'static str,
    target: &str,
    xs: &[&TensorType],
    results: &[TensorType],
) -> Result<Vec<TensorType>> {
    if target.is_empty()
        || !target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-$".contains(c))
    {
        return shape_err(op, format!("target name {target:?} must be non-empty ASCII letters, digits, '_', '.', '-' or '$'"));
    }
    // "Sharding" as an annotation (one operand, the same type back) is what XLA
    // expects and removes on CPU; every other use of a reserved name is refused.
    let annotation =
        target == "Sharding" && xs.len() == 1 && results.len() == 1 && results[0] == *xs[0];
    if let Some(why) = pjrt::reserved_target(target).filter(|_| !annotation) {
        return shape_err(
            op,
            format!(
                "target {target:?} is {why}: XLA's own passes rewrite calls to it \
                 and assume its operands, results and attributes, and the CPU \
                 plugins abort the process (CHECK failures) on anything else; \
                 choose another name"
            ),
        );
    }
    for r in results {
        check_type(op, r)?;
    }
    Ok(results.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ElementType::*;

    #[test]
    fn reserved_custom_call_targets_are_refused() {
        let call = |target: &str| MiscOp::CustomCall {
            target: target.into(),
            backend_config: String::new(),
            has_side_effect: false,
            results: vec![TensorType::new(F32, [2])],
        };
        for t in [
            "TopK",
            "SliceToDynamic",
            "PadToStatic",
            "Sharding",
            "__gpu$TopK",
            "xla.sdy.GlobalToLocalShape",
        ] {
            let e = call(t).infer(&[]).unwrap_err();
            assert!(e.to_string().contains("reserve"), "{t}: {e}");
        }
        // A sharding annotation in XLA's own form (one operand, same type back) is allowed.
        let x = TensorType::new(F32, [2]);
        assert!(call("Sharding").infer(&[&x]).is_ok());
        assert!(call("Sharding").infer(&[&x, &x]).is_err());
        for t in ["my_topk", "TopK2", "user.Sharding", "x_"] {
            assert!(call(t).infer(&[]).is_ok(), "{t}");
        }
    }

    #[test]
    fn rng_types() {
        let t = |ty, d: &[i64]| TensorType::new(ty, d);
        let st = t(U64, &[2]);
        assert!(rng_bit_generator(&st, RngAlgorithm::ThreeFry, &t(U32, &[3])).is_ok());
        assert!(rng_bit_generator(&st, RngAlgorithm::ThreeFry, &t(S32, &[3])).is_err());
        assert!(rng_bit_generator(&t(U64, &[3]), RngAlgorithm::ThreeFry, &t(U32, &[3])).is_err());
    }
}
