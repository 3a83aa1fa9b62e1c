//! The CustomPartitioner extension: register custom-call partitioners (JAX `custom_partitioning`).
//!
//! The functions here pass the header's argument struct through the checked call path
//! (slot bounds, error conversion); filling it is the caller's job, hence `unsafe`.

use pjrt_sys as sys;
use sys::ext::custom_partitioner as e;
use sys::ext::custom_partitioner::PJRT_Custom_Partitioner_Extension;

use crate::error::Result;
use crate::plugin::{ext_call, extension_struct};

extension_struct!(
    /// The CustomPartitioner extension of a plugin.
    CustomPartitioner,
    sys::PJRT_Extension_Type_Custom_Partitioner
);

impl CustomPartitioner {
    /// Calls `register_custom_partitioner` with a filled `PJRT_Register_Custom_Partitioner_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn register_custom_partitioner(
        &self,
        args: &mut e::PJRT_Register_Custom_Partitioner_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_Custom_Partitioner_Extension,
            register_custom_partitioner,
            args
        )
    }

    /// Calls `register_batch_partitionable` with a filled `PJRT_Register_Batch_Partitionable_Args`.
    ///
    /// # Safety
    /// `args` must be filled as the extension header requires (`struct_size` is set by
    /// `new()`): every pointer valid for the call, outputs owned as the header says.
    pub unsafe fn register_batch_partitionable(
        &self,
        args: &mut e::PJRT_Register_Batch_Partitionable_Args,
    ) -> Result<()> {
        ext_call!(
            &self.h,
            PJRT_Custom_Partitioner_Extension,
            register_batch_partitionable,
            args
        )
    }
}

impl CustomPartitioner {
    /// Marks the custom call `name` as batch-partitionable (a safe form of
    /// `register_batch_partitionable`).
    pub fn register_batch_partitionable_name(&self, name: &str) -> Result<()> {
        let mut a = e::PJRT_Register_Batch_Partitionable_Args::new();
        a.name = name.as_ptr().cast();
        a.name_size = name.len();
        ext_call!(
            &self.h,
            PJRT_Custom_Partitioner_Extension,
            register_batch_partitionable,
            &mut a
        )
    }
}

/// One operand or result of a custom call, as the partitioner sees it: a serialized
/// `xla.ShapeProto` and, when known, a serialized `xla.OpSharding`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aval {
    /// Serialized shape.
    pub shape: Vec<u8>,
    /// Serialized sharding, if any.
    pub sharding: Option<Vec<u8>>,
}

/// What [`CustomCallPartitioner::partition`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partitioned {
    /// The per-partition computation as an MLIR module.
    pub mlir_module: Vec<u8>,
    /// The sharding each argument must have.
    pub args_sharding: Vec<Vec<u8>>,
    /// The result's sharding.
    pub result_sharding: Vec<u8>,
}

/// A Rust partitioner for a custom call (JAX's `custom_partitioning` contract).
pub trait CustomCallPartitioner: Send + Sync {
    /// Lowers the custom call for one partition.
    fn partition(
        &self,
        op_args: &[Aval],
        op_result: &Aval,
        backend_config: &[u8],
    ) -> Result<Partitioned>;
    /// The result sharding implied by the operands (`None`: no opinion).
    fn infer_sharding_from_operands(
        &self,
        op_args: &[Aval],
        result_shape: &[u8],
        backend_config: &[u8],
    ) -> Result<Option<Vec<u8>>>;
    /// The sharding to use given the user's sharding of the result.
    fn propagate_user_sharding(
        &self,
        backend_config: &[u8],
        result_shape: &[u8],
        result_sharding: &[u8],
    ) -> Result<Vec<u8>>;
    /// Whether a side-effecting call may have a replicated sharding.
    fn can_side_effecting_have_replicated_sharding(&self) -> bool {
        false
    }
}

type JStr = e::JAX_CustomCallPartitioner_string;
type Header = e::JAX_CustomCallPartitioner_version_and_error;

/// Output bytes kept alive until the plugin calls the header's cleanup function.
struct Outputs {
    bytes: Vec<Vec<u8>>,
    spans: Vec<JStr>,
}

unsafe extern "C" fn free_outputs(data: *mut std::ffi::c_void) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the `Box<Outputs>` leaked by `keep`, freed once.
        drop(unsafe { Box::from_raw(data.cast::<Outputs>()) });
    });
}

fn span(b: &[u8]) -> JStr {
    JStr {
        data: b.as_ptr().cast(),
        size: b.len(),
    }
}

/// Hands `bytes` to the header (freed by its cleanup); returns their spans.
fn keep(header: &mut Header, bytes: Vec<Vec<u8>>) -> Vec<JStr> {
    let mut o = Box::new(Outputs {
        bytes,
        spans: Vec::new(),
    });
    o.spans = o.bytes.iter().map(|b| span(b)).collect();
    let spans = o.spans.clone();
    header.data = Box::into_raw(o).cast();
    header.cleanup_fn = Some(free_outputs);
    spans
}

fn fail(header: &mut Header, e: &crate::Error) {
    let msg = e.to_string().into_bytes();
    let spans = keep(header, vec![msg]);
    header.has_error = true;
    header.code = e.code().unwrap_or(crate::ErrorCode::Internal).to_raw();
    header.error_msg = spans[0];
}

/// Copies a C span.
unsafe fn bytes(s: &JStr) -> Vec<u8> {
    // SAFETY: the caller passes a span the plugin made readable.
    unsafe { crate::plugin::bytes_from_raw(s.data, s.size) }
}

unsafe fn avals(p: *const e::JAX_CustomCallPartitioner_aval, n: usize) -> Vec<Aval> {
    // SAFETY: `n` avals from the plugin.
    let v = unsafe { crate::plugin::vec_from_raw(p, n) };
    v.iter()
        .map(|a| Aval {
            // SAFETY: spans inside the plugin's avals.
            shape: unsafe { bytes(&a.shape) },
            // SAFETY: as above.
            sharding: a.has_sharding.then(|| unsafe { bytes(&a.sharding) }),
        })
        .collect()
}

fn imp(data: *mut e::JAX_CustomCallPartitioner_Callbacks) -> &'static dyn CustomCallPartitioner {
    // SAFETY: `private_data` is the `Box<Box<dyn CustomCallPartitioner>>` leaked at
    // registration; it lives until `dtor`.
    unsafe {
        &**(*data)
            .private_data
            .cast::<Box<dyn CustomCallPartitioner>>()
    }
}

unsafe extern "C" fn cp_partition(
    data: *mut e::JAX_CustomCallPartitioner_Callbacks,
    args: *mut e::JAX_CustomCallPartitioner_Partition_Args,
) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: the plugin's args for this call.
        let a = unsafe { &mut *args };
        // SAFETY: plugin-owned inputs.
        let (ops, res, cfg) = unsafe {
            (
                avals(a.op_args, a.num_args),
                avals(&a.op_result, 1),
                bytes(&a.backend_config),
            )
        };
        match imp(data).partition(&ops, &res[0], &cfg) {
            Ok(p) if p.args_sharding.len() == a.num_args => {
                let mut o = Box::new(Outputs {
                    bytes: vec![p.mlir_module, p.result_sharding],
                    spans: Vec::new(),
                });
                o.bytes.extend(p.args_sharding);
                o.spans = o.bytes[2..].iter().map(|b| span(b)).collect();
                a.mlir_module = span(&o.bytes[0]);
                a.result_sharding = span(&o.bytes[1]);
                a.args_sharding = o.spans.as_mut_ptr();
                // Heap data does not move with the box: the spans stay valid until cleanup.
                a.header.data = Box::into_raw(o).cast();
                a.header.cleanup_fn = Some(free_outputs);
            }
            Ok(p) => fail(
                &mut a.header,
                &crate::Error::InvalidArgument(format!(
                    "partitioner returned {} argument shardings for {} arguments",
                    p.args_sharding.len(),
                    a.num_args
                )),
            ),
            Err(e) => fail(&mut a.header, &e),
        }
    }));
}

unsafe extern "C" fn cp_infer(
    data: *mut e::JAX_CustomCallPartitioner_Callbacks,
    args: *mut e::JAX_CustomCallPartitioner_InferShardingFromOperands_Args,
) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: the plugin's args for this call.
        let a = unsafe { &mut *args };
        // SAFETY: plugin-owned inputs.
        let (ops, shape, cfg) = unsafe {
            (
                avals(a.op_args, a.num_args),
                bytes(&a.result_shape),
                bytes(&a.backend_config),
            )
        };
        match imp(data).infer_sharding_from_operands(&ops, &shape, &cfg) {
            Ok(Some(s)) => {
                let spans = keep(&mut a.header, vec![s]);
                a.has_result_sharding = true;
                a.result_sharding = spans[0];
            }
            Ok(None) => a.has_result_sharding = false,
            Err(e) => fail(&mut a.header, &e),
        }
    }));
}

unsafe extern "C" fn cp_propagate(
    data: *mut e::JAX_CustomCallPartitioner_Callbacks,
    args: *mut e::JAX_CustomCallPartitioner_PropagateUserSharding_Args,
) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: the plugin's args for this call.
        let a = unsafe { &mut *args };
        // SAFETY: plugin-owned inputs.
        let (cfg, shape, sh) = unsafe {
            (
                bytes(&a.backend_config),
                bytes(&a.result_shape),
                bytes(&a.result_sharding),
            )
        };
        match imp(data).propagate_user_sharding(&cfg, &shape, &sh) {
            Ok(s) => {
                let spans = keep(&mut a.header, vec![s]);
                a.result_sharding = spans[0];
            }
            Err(e) => fail(&mut a.header, &e),
        }
    }));
}

unsafe extern "C" fn cp_dtor(data: *mut e::JAX_CustomCallPartitioner_Callbacks) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the callbacks and their private data leaked at registration, freed once.
        unsafe {
            let cb = Box::from_raw(data);
            drop(Box::from_raw(
                cb.private_data.cast::<Box<dyn CustomCallPartitioner>>(),
            ));
        }
    });
}

impl CustomPartitioner {
    /// Registers a Rust partitioner for the custom call `name`; the plugin owns it from
    /// then on (and drops it through the callbacks' destructor).
    pub fn register(&self, name: &str, partitioner: Box<dyn CustomCallPartitioner>) -> Result<()> {
        let replicated = partitioner.can_side_effecting_have_replicated_sharding();
        let private = Box::into_raw(Box::new(partitioner));
        let mut cb = e::JAX_CustomCallPartitioner_Callbacks::new();
        cb.version = 1;
        cb.private_data = private.cast();
        cb.dtor = Some(cp_dtor);
        cb.partition = Some(cp_partition);
        cb.infer_sharding = Some(cp_infer);
        cb.propagate_user_sharding = Some(cp_propagate);
        cb.can_side_effecting_have_replicated_sharding = replicated;
        let cb = Box::into_raw(Box::new(cb));
        let mut a = e::PJRT_Register_Custom_Partitioner_Args::new();
        a.name = name.as_ptr().cast();
        a.name_size = name.len();
        a.callbacks = cb;
        let r = ext_call!(
            &self.h,
            PJRT_Custom_Partitioner_Extension,
            register_custom_partitioner,
            &mut a
        );
        if r.is_err() {
            // SAFETY: registration failed; the plugin kept nothing.
            unsafe { cp_dtor(cb) };
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Halve;

    impl CustomCallPartitioner for Halve {
        fn partition(
            &self,
            op_args: &[Aval],
            op_result: &Aval,
            backend_config: &[u8],
        ) -> Result<Partitioned> {
            assert_eq!(backend_config, b"cfg");
            assert_eq!(op_result.shape, b"res");
            Ok(Partitioned {
                mlir_module: b"module {}".to_vec(),
                args_sharding: op_args
                    .iter()
                    .map(|a| a.sharding.clone().unwrap_or_default())
                    .collect(),
                result_sharding: b"replicated".to_vec(),
            })
        }
        fn infer_sharding_from_operands(
            &self,
            op_args: &[Aval],
            _: &[u8],
            _: &[u8],
        ) -> Result<Option<Vec<u8>>> {
            Ok(op_args.first().and_then(|a| a.sharding.clone()))
        }
        fn propagate_user_sharding(&self, _: &[u8], _: &[u8], s: &[u8]) -> Result<Vec<u8>> {
            if s.is_empty() {
                return Err(crate::Error::InvalidArgument("empty sharding".into()));
            }
            Ok([s, b"+"].concat())
        }
    }

    fn js(b: &[u8]) -> JStr {
        span(b)
    }

    // Drives the C callbacks the way a plugin would: inputs in, outputs read, then the
    // header's cleanup and the destructor.
    #[test]
    fn callbacks_round_trip_and_clean_up() {
        let private = Box::into_raw(Box::new(Box::new(Halve) as Box<dyn CustomCallPartitioner>));
        let mut cb = e::JAX_CustomCallPartitioner_Callbacks::new();
        cb.private_data = private.cast();
        let cb = Box::into_raw(Box::new(cb));

        let mut ops = [
            e::JAX_CustomCallPartitioner_aval::new(),
            e::JAX_CustomCallPartitioner_aval::new(),
        ];
        ops[0].shape = js(b"a");
        ops[0].has_sharding = true;
        ops[0].sharding = js(b"s0");
        ops[1].shape = js(b"b");
        let mut p = e::JAX_CustomCallPartitioner_Partition_Args::new();
        p.num_args = 2;
        p.op_args = ops.as_mut_ptr();
        p.op_result.shape = js(b"res");
        p.backend_config = js(b"cfg");
        unsafe { cp_partition(cb, &mut p) };
        assert!(!p.header.has_error);
        unsafe {
            assert_eq!(bytes(&p.mlir_module), b"module {}");
            assert_eq!(bytes(&p.result_sharding), b"replicated");
            assert_eq!(bytes(&*p.args_sharding), b"s0");
            assert_eq!(bytes(&*p.args_sharding.add(1)), b"");
            (p.header.cleanup_fn.unwrap())(p.header.data);
        }

        let mut i = e::JAX_CustomCallPartitioner_InferShardingFromOperands_Args::new();
        i.num_args = 2;
        i.op_args = ops.as_mut_ptr();
        unsafe { cp_infer(cb, &mut i) };
        assert!(i.has_result_sharding);
        unsafe {
            assert_eq!(bytes(&i.result_sharding), b"s0");
            (i.header.cleanup_fn.unwrap())(i.header.data);
        }

        let mut u = e::JAX_CustomCallPartitioner_PropagateUserSharding_Args::new();
        unsafe { cp_propagate(cb, &mut u) };
        assert!(
            u.header.has_error,
            "an empty sharding is refused by the Rust side"
        );
        unsafe {
            assert!(String::from_utf8_lossy(&bytes(&u.header.error_msg)).contains("empty sharding"));
            (u.header.cleanup_fn.unwrap())(u.header.data);
        }
        let mut u = e::JAX_CustomCallPartitioner_PropagateUserSharding_Args::new();
        u.result_sharding = js(b"x");
        unsafe { cp_propagate(cb, &mut u) };
        unsafe {
            assert_eq!(bytes(&u.result_sharding), b"x+");
            (u.header.cleanup_fn.unwrap())(u.header.data);
            cp_dtor(cb);
        }
    }
}
