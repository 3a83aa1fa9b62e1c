//! Exercises of the extensions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use pjrt::ext::ffi::{CallFrame, Ffi, FfiAttr};
use pjrt::ext::layouts::Layouts;
use pjrt::ext::memory_descriptions::MemoryDescriptions;
use pjrt::ext::phase_compile::PhaseCompile;
use pjrt::ext::shardings::Shardings;
use pjrt::ext::xla_transform::{PipelineStage, XlaTransform};
use pjrt::ext::*;
use pjrt::*;

use super::core::{assert_code, assert_unimplemented};
use super::Ctx;

const ADD_SELF: &str = "func.func @main(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = stablehlo.add %x, %x : tensor<3xf32>
  return %0 : tensor<3xf32>
}";

pub fn layouts(ctx: &Ctx) {
    let l: Layouts = ctx
        .plugin
        .extension()
        .expect("every CPU plugin has Layouts");
    let c = &ctx.client;
    assert_eq!(
        l.client_default_layout(c, ElementType::F32, &[2, 3])
            .unwrap()
            .serialize()
            .unwrap(),
        "{1,0}"
    );
    let b = c.buffer_from_host(&[1f32, 2., 3.], &[3]).unwrap();
    assert_eq!(l.buffer_layout(&b).unwrap().serialize().unwrap(), "{0}");
    let exe = c.compile(&Program::mlir_text(ADD_SELF)).unwrap();
    assert_eq!(
        l.executable_output_layouts(exe.executable()).unwrap(),
        vec!["{0}".to_string()]
    );
    let params = l.executable_parameter_layouts(exe.executable());
    if ctx.minor < 106 {
        // The 0.81 plugin's Layouts struct (72 bytes) stops before this slot.
        assert_eq!(l.handle().struct_size(), 72);
        assert_unimplemented(params);
    } else {
        assert_eq!(params.unwrap(), vec!["{0}".to_string()]);
    }
    let t = c.topology().unwrap();
    assert_eq!(
        l.topology_default_layout(&t, ElementType::F32, &[4, 5, 6])
            .unwrap()
            .serialize()
            .unwrap(),
        "{2,1,0}"
    );
}

pub fn descriptions_shardings_phase(ctx: &Ctx) {
    let c = &ctx.client;
    let m: MemoryDescriptions = ctx.plugin.extension().expect("MemoryDescriptions");
    let (descs, default) = m
        .memory_descriptions(&c.first_device().unwrap().description().unwrap())
        .unwrap();
    // The CPU plugins describe no memories here.
    assert!(descs.is_empty() && default.is_none());
    let exe = c.compile(&Program::mlir_text(ADD_SELF)).unwrap();
    match ctx.plugin.extension::<Shardings>() {
        None => assert!(ctx.minor < 106),
        Some(s) => {
            // Unsharded single-device program: no shardings recorded.
            assert!(s.parameter_shardings(exe.executable()).unwrap().is_empty());
            assert!(s.output_shardings(exe.executable()).unwrap().is_empty());
        }
    }
    let pc: PhaseCompile = ctx.plugin.extension().expect("PhaseCompile");
    // The CPU plugins leave the compiler slots null.
    assert!(!pc.handle().has_slot(0) && !pc.handle().has_slot(1));
    assert_unimplemented(pc.compiler().map(|_| ()));
}

pub fn xla_transform(ctx: &Ctx) {
    let Some(x) = ctx.plugin.extension::<XlaTransform>() else {
        assert!(ctx.minor < 115);
        return;
    };
    // No compile cache test may count while the transform is registered (see cache_counting).
    let _counting = crate::runtime::common::cache_counting();
    let seen = Arc::new(AtomicUsize::new(0));
    let s2 = seen.clone();
    let reg = x
        .register(
            "capi_counter",
            PipelineStage::PreScheduler,
            Box::new(move |module: &[u8]| {
                assert!(!module.is_empty());
                s2.fetch_add(1, Ordering::SeqCst);
                Ok(None)
            }),
        )
        .unwrap();
    let prog = Program::mlir_text(ADD_SELF.replace("add %x, %x", "multiply %x, %x"));
    let out = ctx
        .client
        .compile(&prog)
        .unwrap()
        .run(&[&Literal::vector(&[1f32, 2., 3.])])
        .unwrap();
    assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![1., 4., 9.]); // x * x, unchanged by the transform
    let n = seen.load(Ordering::SeqCst);
    assert!(n >= 1, "the transform saw the compilation");
    assert!(reg.clear().unwrap());
    ctx.client.compile(&Program::mlir_text(ADD_SELF)).unwrap();
    assert_eq!(
        seen.load(Ordering::SeqCst),
        n,
        "cleared transforms are not called"
    );
}

/// y = x * factor + offset_from_user_data, computed in Rust inside an XLA program.
const CUSTOM_CALL: &str = r#"func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.custom_call @capi_rust_affine(%x) {api_version = 4 : i32, backend_config = {factor = 3.0 : f32, tag = "capi", axes = array<i64: 4, 2>, count = 7 : i64}} : (tensor<4xf32>) -> tensor<4xf32>
  %1 = stablehlo.add %0, %x : tensor<4xf32>
  return %1 : tensor<4xf32>
}"#;

struct Offset(f32);

pub fn ffi_custom_call(ctx: &Ctx) {
    let ffi: Ffi = ctx.plugin.extension().expect("every CPU plugin has FFI");
    let c = &ctx.client;
    let ty = ffi
        .register_type::<Offset>(&format!("capi_offset_{}", ctx.minor))
        .unwrap();
    assert!(ty.id() > 0);
    let calls = Arc::new(AtomicUsize::new(0));
    let calls2 = calls.clone();
    let guarded = Arc::new(AtomicUsize::new(0));
    let guarded2 = guarded.clone();
    let ty2 = ty.clone();
    ffi.register_handler(
        "capi_rust_affine",
        c.platform_name(),
        Arc::new(move |f: &CallFrame| {
            calls2.fetch_add(1, Ordering::SeqCst);
            let factor = match f.attr("factor") {
                Some(FfiAttr::Float(v)) => v as f32,
                other => {
                    return Err(Error::InvalidArgument(format!(
                        "factor attribute: {other:?} in {:?}",
                        f.attrs()
                    )))
                }
            };
            assert_eq!(f.attr("tag"), Some(FfiAttr::String("capi".into())));
            assert_eq!(f.attr("axes"), Some(FfiAttr::IntArray(vec![4, 2])));
            assert_eq!(f.attr("count"), Some(FfiAttr::Int(7)));
            // SAFETY: this test runs the program with a context only in the second call;
            // in the first (no context in flight) the guard refuses before calling XLA.
            let offset = match unsafe { f.user_data(&ty2) } {
                Ok(o) => o.0,
                // No execute context: refused by the guard (XLA itself would dereference
                // the missing context; the 0.81 plugin segfaults).
                Err(e) => {
                    assert!(e.to_string().contains("no execute context"), "{e}");
                    guarded2.fetch_add(1, Ordering::SeqCst);
                    0.0
                }
            };
            let (x, y) = (f.arg(0)?, f.ret(0)?);
            assert_eq!((f.num_args(), f.num_rets()), (1, 1));
            assert_eq!(x.dims(), &[4]);
            // SAFETY: CPU buffers are host memory, valid during the call.
            let (x, y) = unsafe { (x.as_slice::<f32>()?, y.as_mut_slice::<f32>()?) };
            if x[0] < 0.0 {
                return Err(Error::InvalidArgument(
                    "negative input refused by the Rust handler".into(),
                ));
            }
            for (o, v) in y.iter_mut().zip(x) {
                *o = v * factor + offset;
            }
            Ok(())
        }),
    )
    .unwrap();
    let exe = c.compile(&Program::mlir_text(CUSTOM_CALL)).unwrap();
    let x = c.buffer_from_host(&[1f32, 2., 3., 4.], &[4]).unwrap();
    // Without user data: y = 3x, out = 3x + x = 4x.
    let out = exe.execute(&[&x]).unwrap();
    assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![4., 8., 12., 16.]);
    assert_eq!(
        guarded.load(Ordering::SeqCst),
        1,
        "user data without a context was refused"
    );
    // With user data offset 0.5 through an execute context: out = 4x + 0.5.
    let mut ectx = ExecuteContext::new(&ctx.plugin).unwrap();
    ffi.add_user_data(&mut ectx, &ty, Offset(0.5)).unwrap();
    let out = exe
        .execute_with_context(&[&x], Some(&ectx), HostCallbacks::default())
        .unwrap();
    assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![4.5, 8.5, 12.5, 16.5]);
    assert!(calls.load(Ordering::SeqCst) >= 2);
    // A Rust error becomes the execution's error.
    let neg = c.buffer_from_host(&[-1f32, 0., 0., 0.], &[4]).unwrap();
    let err = exe
        .execute(&[&neg])
        .and_then(|o| o[0].to_vec::<f32>())
        .unwrap_err();
    assert!(err.to_string().contains("negative input refused"), "{err}");
}

pub fn absent_extensions(ctx: &Ctx) {
    let p = &ctx.plugin;
    // None of these exist on CPU plugins: each lookup is a clean `None`.
    assert!(p.extension::<stream::Stream>().is_none());
    assert!(p.extension::<gpu::GpuCustomCall>().is_none());
    assert!(p.extension::<profiler::Profiler>().is_none());
    assert!(p
        .extension::<custom_partitioner::CustomPartitioner>()
        .is_none());
    assert!(p.extension::<triton::Triton>().is_none());
    assert!(p.extension::<raw_buffer::RawBuffer>().is_none());
    assert!(p.extension::<example::Example>().is_none());
    assert!(p
        .extension::<cross_host_transfers::CrossHostTransfers>()
        .is_none());
    assert!(p
        .extension::<executable_metadata::ExecutableMetadata>()
        .is_none());
    assert!(p.extension::<callback::Callback>().is_none());
    assert!(p.extension::<tpu_topology::TpuTopology>().is_none());
    assert!(p.extension::<tpu_executable::TpuExecutable>().is_none());
    assert!(p.extension::<megascale::Megascale>().is_none());
    assert!(p.extension::<abi_version::AbiVersion>().is_none());
    assert!(p.extension::<collectives::Collectives>().is_none());
    assert!(p.extension::<multi_slice::MultiSlice>().is_none());
    assert!(p
        .extension::<host_memory_allocator::HostMemoryAllocator>()
        .is_none());
    assert_eq!(
        p.extension::<shardings::Shardings>().is_some(),
        ctx.minor >= 106
    );
    assert_eq!(p.extension::<XlaTransform>().is_some(), ctx.minor >= 115);
    let _ = assert_code::<()>;
}
