//! Hostile runtime use, on each installed plugin: handles of other clients and plugins,
//! arguments on the wrong devices, compile and client options the plugins truncate or abort
//! on, layouts they divide by, allocations larger than memory, reads that could never return,
//! deleted and donated buffers.

use pjrt::{
    BufferPlacement, Client, ClientOptions, CompileOptions, DeviceAssignment, ElementType,
    ErrorCode, ExecuteOptions, HostBufferSemantics, Literal, MemoryLayout, Program, ShapeSpec,
};

use crate::case::{
    case, check_eq, wrong, Area, Case, Ctx, Expect, Failure, Outcome, ADD, PLUGINS, SQUARE,
};

use ElementType::F32;

fn square(c: &Client) -> Result<pjrt::LoadedExecutable, Failure> {
    Ok(c.compile(&Program::mlir_text(SQUARE))?)
}

fn add_exe(c: &Client, options: &CompileOptions) -> Result<pjrt::LoadedExecutable, Failure> {
    Ok(c.compile_with(&Program::mlir_text(ADD), options)?)
}

fn on(c: &Client, d: &pjrt::Device, data: &[f32]) -> Result<pjrt::Buffer, Failure> {
    Ok(c.buffer_from_host_with(
        data,
        &[data.len() as i64],
        HostBufferSemantics::ImmutableOnlyDuringCall,
        &BufferPlacement::device(d),
    )?)
}

fn default_memory(c: &Client) -> Result<pjrt::Memory, Failure> {
    Ok(c.first_device()?.default_memory()?)
}

/// An input that must be refused was accepted.
fn accepted(what: &str) -> Result<Outcome, Failure> {
    wrong(format!("accepted: {what}"))
}

type PluginCase = fn(&Ctx, &str) -> Result<Outcome, Failure>;

/// Cases run on every installed plugin.
fn per_plugin() -> Vec<(&'static str, Expect, PluginCase)> {
    vec![
        // Handles of another client of the same plugin.
        (
            "copy-to-device-of-other-client",
            Expect::Correct,
            |ctx, p| {
                let (c1, c2) = (ctx.client_of(p, 2)?, ctx.client_of(p, 2)?);
                let b = c1.buffer_from_host(&[1f32, 2., 3.], &[3])?;
                let d2 = c2.addressable_devices()?[1].clone();
                let copy = b.copy_to_device(&d2)?;
                // The copy keeps its own client alive; the source client may go.
                drop((b, c1, d2, c2));
                check_eq("copy", copy.to_vec::<f32>()?, vec![1., 2., 3.])
            },
        ),
        (
            "copy-to-memory-of-other-client",
            Expect::Correct,
            |ctx, p| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(p, 1)?);
                let b = c1.buffer_from_host(&[4f32, 5.], &[2])?;
                let m2 = default_memory(&c2)?;
                let copy = b.copy_to_memory(&m2)?;
                drop((c2, m2));
                let v = copy.to_vec::<f32>()?;
                drop((b, c1));
                check_eq(
                    "copy",
                    (v, copy.to_vec::<f32>()?),
                    (vec![4., 5.], vec![4., 5.]),
                )
            },
        ),
        (
            "placement-device-of-other-client",
            Expect::Error("belongs to"),
            |ctx, p| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(p, 1)?);
                let d2 = c2.first_device()?;
                let b = on(&c1, &d2, &[1., 2.])?;
                drop((c2, d2));
                b.to_vec::<f32>()?;
                accepted("a placement on a device of another client")
            },
        ),
        (
            "placement-memory-of-other-client",
            Expect::Error("belongs to"),
            |ctx, p| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(p, 1)?);
                let m2 = default_memory(&c2)?;
                let b = c1.buffer_from_host_with(
                    &[1f32],
                    &[1],
                    HostBufferSemantics::ImmutableOnlyDuringCall,
                    &BufferPlacement::memory(&m2),
                )?;
                b.to_vec::<f32>()?;
                accepted("a placement in a memory of another client")
            },
        ),
        (
            "uninitialized-on-other-client",
            Expect::Error("belongs to"),
            |ctx, p| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(p, 1)?);
                let d2 = c2.first_device()?;
                c1.create_uninitialized_buffer(F32, &[4], None, &BufferPlacement::device(&d2))?;
                accepted("an uninitialized buffer on a device of another client")
            },
        ),
        (
            "error-buffer-in-other-client-memory",
            Expect::Error("belongs to"),
            |ctx, p| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(p, 1)?);
                let m2 = default_memory(&c2)?;
                c1.create_error_buffer(ErrorCode::Aborted, "x", F32, &[2], Some(&m2))?;
                accepted("an error buffer in a memory of another client")
            },
        ),
        (
            "alias-in-other-client-memory",
            Expect::Error("belongs to"),
            |ctx, p| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(p, 1)?);
                let m2 = default_memory(&c2)?;
                c1.create_alias_buffer(&m2, F32, &[2], None)?;
                accepted("an alias buffer in a memory of another client")
            },
        ),
        (
            "alias-fulfilled-by-other-client",
            Expect::Error("belongs to"),
            |ctx, p| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(p, 1)?);
                let (alias, f) = c1.create_alias_buffer(&default_memory(&c1)?, F32, &[2], None)?;
                let real = c2.buffer_from_host(&[1f32, 2.], &[2])?;
                f.fulfill(&real)?;
                drop((real, c2));
                alias.to_vec::<f32>()?;
                accepted("an alias fulfilled with a buffer of another client")
            },
        ),
        (
            "transfer-manager-in-other-client-memory",
            Expect::Error("belongs to"),
            |ctx, p| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(p, 1)?);
                let m2 = default_memory(&c2)?;
                c1.create_buffers_for_async_host_to_device(
                    &[ShapeSpec::new(F32, &[2])],
                    None,
                    &m2,
                )?;
                accepted("a transfer manager in a memory of another client")
            },
        ),
        (
            "execute-argument-of-other-client",
            Expect::Error("belongs to"),
            |ctx, p| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(p, 1)?);
                let exe = square(&c1)?;
                let x = c2.buffer_from_host(&[1f32, 2., 3.], &[3])?;
                let out = exe.execute(&[&x])?;
                drop((x, c2));
                out[0].to_vec::<f32>()?;
                accepted("an argument of another client")
            },
        ),
        (
            "execute-device-of-other-client",
            Expect::Error("belongs to"),
            |ctx, p| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(p, 1)?);
                let exe = c1.compile_with(
                    &Program::mlir_text(SQUARE),
                    &CompileOptions::default().portable(true),
                )?;
                let x = c1.buffer_from_host(&[1f32, 2., 3.], &[3])?;
                let opts = ExecuteOptions {
                    device: Some(c2.first_device()?),
                    ..Default::default()
                };
                let out = exe.execute_with(&[&x], &opts)?;
                out[0].to_vec::<f32>()?;
                accepted("ExecuteOptions::device of another client")
            },
        ),
        // Multi-device execution with arguments on the wrong devices (0.106 crashed).
        (
            "execute-sharded-arguments-swapped",
            Expect::Error("runs on"),
            |ctx, p| {
                let c = ctx.client_of(p, 2)?;
                let exe = add_exe(&c, &CompileOptions::default().replicas(2))?;
                let ds = exe.addressable_devices().to_vec();
                let (a0, a1) = (
                    on(&c, &ds[0], &[1., 2., 3.])?,
                    on(&c, &ds[1], &[1., 2., 3.])?,
                );
                let out = exe.execute_sharded(
                    &[vec![&a1, &a1], vec![&a0, &a0]],
                    &ExecuteOptions::default(),
                )?;
                out[0][0].to_vec::<f32>()?;
                accepted("arguments on each other's devices")
            },
        ),
        (
            "execute-sharded-mixed-devices",
            Expect::Error("runs on"),
            |ctx, p| {
                let c = ctx.client_of(p, 2)?;
                let exe = add_exe(&c, &CompileOptions::default().replicas(2))?;
                let ds = exe.addressable_devices().to_vec();
                let (a0, a1) = (
                    on(&c, &ds[0], &[1., 2., 3.])?,
                    on(&c, &ds[1], &[1., 2., 3.])?,
                );
                let out = exe.execute_sharded(
                    &[vec![&a0, &a1], vec![&a1, &a0]],
                    &ExecuteOptions::default(),
                )?;
                out[0][0].to_vec::<f32>()?;
                accepted("arguments of one list on two devices")
            },
        ),
        (
            "execute-single-argument-on-other-device",
            Expect::Error("runs on"),
            |ctx, p| {
                let c = ctx.client_of(p, 2)?;
                let exe = add_exe(&c, &CompileOptions::default())?;
                let d1 = c.addressable_devices()?[1].clone();
                let x = on(&c, &d1, &[1., 2., 3.])?;
                let out = exe.execute(&[&x, &x])?;
                out[0].to_vec::<f32>()?;
                accepted("an argument on another device than the executable's")
            },
        ),
        (
            "execute-sharded-wrong-list-count",
            Expect::Error("devices"),
            |ctx, p| {
                let c = ctx.client_of(p, 2)?;
                let exe = add_exe(&c, &CompileOptions::default().replicas(2))?;
                let d0 = exe.addressable_devices()[0].clone();
                let a0 = on(&c, &d0, &[1., 2., 3.])?;
                exe.execute_sharded(&[vec![&a0, &a0]], &ExecuteOptions::default())?;
                accepted("one argument list for two devices")
            },
        ),
        (
            "execute-sharded-right-devices",
            Expect::Correct,
            |ctx, p| {
                let c = ctx.client_of(p, 2)?;
                let exe = add_exe(&c, &CompileOptions::default().replicas(2))?;
                let ds = exe.addressable_devices().to_vec();
                let (a0, a1) = (
                    on(&c, &ds[0], &[1., 2., 3.])?,
                    on(&c, &ds[1], &[10., 20., 30.])?,
                );
                let out = exe.execute_sharded(
                    &[vec![&a0, &a0], vec![&a1, &a1]],
                    &ExecuteOptions::default(),
                )?;
                check_eq(
                    "per device",
                    (out[0][0].to_vec::<f32>()?, out[1][0].to_vec::<f32>()?),
                    (vec![2., 4., 6.], vec![20., 40., 60.]),
                )
            },
        ),
        (
            "execute-device-not-of-executable",
            Expect::Error("not one of"),
            |ctx, p| {
                let c = ctx.client_of(p, 2)?;
                let exe = square(&c)?;
                let d1 = c.addressable_devices()?[1].clone();
                let x = on(&c, &d1, &[1., 2., 3.])?;
                let opts = ExecuteOptions {
                    device: Some(d1),
                    ..Default::default()
                };
                let out = exe.execute_with(&[&x], &opts)?;
                out[0].to_vec::<f32>()?;
                accepted("ExecuteOptions::device outside the executable's devices")
            },
        ),
        // Compile options the plugins truncate or abort on.
        (
            "device-ordinal-negative",
            Expect::Error("device_ordinal"),
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                let o = CompileOptions {
                    device_ordinal: Some(-1),
                    ..Default::default()
                };
                add_exe(&c, &o)?;
                accepted("device_ordinal -1")
            },
        ),
        ("replicas-2-pow-32", Expect::Error("C int"), |ctx, p| {
            add_exe(
                &ctx.client_of(p, 1)?,
                &CompileOptions::default().replicas(1 << 32),
            )?;
            accepted("2^32 replicas")
        }),
        ("replicas-u32-max", Expect::Error("C int"), |ctx, p| {
            add_exe(
                &ctx.client_of(p, 1)?,
                &CompileOptions::default().replicas(u32::MAX as usize),
            )?;
            accepted("u32::MAX replicas")
        }),
        ("partitions-2-pow-32", Expect::Error("C int"), |ctx, p| {
            add_exe(
                &ctx.client_of(p, 1)?,
                &CompileOptions::default().partitions(1 << 32),
            )?;
            accepted("2^32 partitions")
        }),
        (
            "replicas-times-partitions-overflow",
            Expect::Error("C int"),
            |ctx, p| {
                let o = CompileOptions::default()
                    .replicas(1 << 16)
                    .partitions(1 << 16);
                add_exe(&ctx.client_of(p, 1)?, &o)?;
                accepted("2^32 devices")
            },
        ),
        (
            "replicas-more-than-devices",
            Expect::Error("device"),
            |ctx, p| {
                add_exe(
                    &ctx.client_of(p, 1)?,
                    &CompileOptions::default().replicas(4),
                )?;
                accepted("4 replicas on 1 device")
            },
        ),
        (
            "assignment-negative-id",
            Expect::Error("device id"),
            |ctx, p| {
                let o = CompileOptions::default()
                    .replicas(2)
                    .device_assignment(DeviceAssignment::new(vec![vec![0], vec![-1]])?);
                add_exe(&ctx.client_of(p, 2)?, &o)?;
                accepted("device id -1")
            },
        ),
        (
            "assignment-duplicate-id",
            Expect::Error("twice"),
            |ctx, p| {
                let o = CompileOptions::default()
                    .replicas(2)
                    .device_assignment(DeviceAssignment::new(vec![vec![1], vec![1]])?);
                add_exe(&ctx.client_of(p, 2)?, &o)?;
                accepted("device 1 twice")
            },
        ),
        (
            "assignment-unknown-device",
            Expect::Error("99"),
            |ctx, p| {
                let o = CompileOptions::default()
                    .replicas(2)
                    .device_assignment(DeviceAssignment::new(vec![vec![0], vec![99]])?);
                add_exe(&ctx.client_of(p, 2)?, &o)?;
                accepted("device 99 of 2")
            },
        ),
        (
            "argument-layout-not-permutation",
            Expect::Error("permutation"),
            |ctx, p| {
                let o = CompileOptions {
                    argument_layouts: vec![
                        pjrt::ArgumentLayout {
                            element_type: F32,
                            dims: vec![3],
                            minor_to_major: Some(vec![1]),
                        };
                        2
                    ],
                    ..Default::default()
                };
                add_exe(&ctx.client_of(p, 1)?, &o)?;
                accepted("minor_to_major [1] for rank 1")
            },
        ),
        (
            "partitions-without-spmd",
            Expect::Error("SPMD"),
            |ctx, p| {
                add_exe(
                    &ctx.client_of(p, 2)?,
                    &CompileOptions::default().partitions(2),
                )?;
                accepted("2 partitions without SPMD")
            },
        ),
        (
            "portable-with-two-replicas",
            Expect::Error("portable"),
            |ctx, p| {
                add_exe(
                    &ctx.client_of(p, 2)?,
                    &CompileOptions::default().portable(true).replicas(2),
                )?;
                accepted("a portable executable with 2 replicas")
            },
        ),
        (
            "default-assignment-2-pow-32",
            Expect::Error("C int"),
            |ctx, p| {
                ctx.client_of(p, 1)?.default_device_assignment(1 << 32, 1)?;
                accepted("a 2^32-replica default assignment")
            },
        ),
        (
            "default-assignment-usize-max",
            Expect::Error("C int"),
            |ctx, p| {
                ctx.client_of(p, 1)?
                    .default_device_assignment(usize::MAX, usize::MAX)?;
                accepted("a usize::MAX^2 default assignment")
            },
        ),
        (
            "default-assignment-more-than-devices",
            Expect::Error("more devices"),
            |ctx, p| {
                ctx.client_of(p, 2)?.default_device_assignment(1000, 1000)?;
                accepted("a million slots on 2 devices")
            },
        ),
        (
            "xla-option-not-a-name",
            Expect::Error("option name"),
            |ctx, p| {
                add_exe(
                    &ctx.client_of(p, 1)?,
                    &CompileOptions::default().xla_option("--xla_dump_to=/tmp", true),
                )?;
                accepted("an option name with dashes")
            },
        ),
        (
            "xla-option-unknown",
            Expect::Error("adversarial_no_such_option"),
            |ctx, p| {
                add_exe(
                    &ctx.client_of(p, 1)?,
                    &CompileOptions::default().xla_option("adversarial_no_such_option", true),
                )?;
                accepted("an unknown XLA option")
            },
        ),
        (
            "fast-min-max-back-on-compiles",
            Expect::Correct,
            |ctx, p| {
                let exe = add_exe(
                    &ctx.client_of(p, 1)?,
                    &CompileOptions::default().fast_min_max(true),
                )?;
                let x = Literal::vector(&[1f32, 2., 3.]);
                check_eq(
                    "x + x",
                    exe.run(&[&x, &x])?[0].to_vec::<f32>()?,
                    vec![2., 4., 6.],
                )
            },
        ),
        // Layouts the plugins divide by or misread.
        (
            "tile-dimension-zero",
            Expect::Error("positive"),
            |ctx, p| {
                let l = MemoryLayout::Tiled {
                    minor_to_major: vec![1, 0],
                    tiles: vec![vec![0, 128]],
                };
                let b = ctx.client_of(p, 1)?.create_uninitialized_buffer(
                    F32,
                    &[8, 8],
                    Some(&l),
                    &BufferPlacement::default(),
                )?;
                b.to_host_bytes()?;
                accepted("a tile dimension of 0")
            },
        ),
        (
            "tile-dimension-negative",
            Expect::Error("positive"),
            |ctx, p| {
                let l = MemoryLayout::Tiled {
                    minor_to_major: vec![1, 0],
                    tiles: vec![vec![-8, 128]],
                };
                ctx.client_of(p, 1)?.create_uninitialized_buffer(
                    F32,
                    &[8, 8],
                    Some(&l),
                    &BufferPlacement::default(),
                )?;
                accepted("a negative tile dimension")
            },
        ),
        (
            "tile-rank-above-array-rank",
            Expect::Error("dimensions"),
            |ctx, p| {
                let l = MemoryLayout::Tiled {
                    minor_to_major: vec![0],
                    tiles: vec![vec![2, 2, 2]],
                };
                ctx.client_of(p, 1)?.create_uninitialized_buffer(
                    F32,
                    &[8],
                    Some(&l),
                    &BufferPlacement::default(),
                )?;
                accepted("a rank-3 tile on a rank-1 array")
            },
        ),
        (
            "layout-not-permutation",
            Expect::Error("permutation"),
            |ctx, p| {
                let l = MemoryLayout::Tiled {
                    minor_to_major: vec![1, 1],
                    tiles: vec![],
                };
                ctx.client_of(p, 1)?.create_uninitialized_buffer(
                    F32,
                    &[8, 8],
                    Some(&l),
                    &BufferPlacement::default(),
                )?;
                accepted("minor_to_major [1, 1]")
            },
        ),
        ("strides-negative", Expect::Error("negative"), |ctx, p| {
            let l = MemoryLayout::Strides {
                byte_strides: vec![-32, 4],
            };
            ctx.client_of(p, 1)?.create_uninitialized_buffer(
                F32,
                &[8, 8],
                Some(&l),
                &BufferPlacement::default(),
            )?;
            accepted("a negative stride")
        }),
        (
            "strides-wrong-count",
            Expect::Error("byte strides"),
            |ctx, p| {
                let l = MemoryLayout::Strides {
                    byte_strides: vec![4],
                };
                ctx.client_of(p, 1)?.create_uninitialized_buffer(
                    F32,
                    &[8, 8],
                    Some(&l),
                    &BufferPlacement::default(),
                )?;
                accepted("one stride for rank 2")
            },
        ),
        // Client options.
        (
            "unchecked-wrongly-typed-known-option",
            Expect::Error("must be int64"),
            |ctx, p| {
                // SAFETY: the wrong type is refused before the plugin (it aborted plugins < 0.111).
                let o = unsafe { ClientOptions::new().set_unchecked("cpu_device_count", true) };
                Client::new(&ctx.plugin(p)?, &o)?;
                accepted("a bool cpu_device_count")
            },
        ),
        (
            "unchecked-string-device-count",
            Expect::Error("must be int64"),
            |ctx, p| {
                // SAFETY: as above.
                let o = unsafe { ClientOptions::new().set_unchecked("cpu_device_count", "4") };
                Client::new(&ctx.plugin(p)?, &o)?;
                accepted("a string cpu_device_count")
            },
        ),
        ("device-count-zero", Expect::Error("between"), |ctx, p| {
            ctx.client_of(p, 0)?;
            accepted("0 devices")
        }),
        (
            "device-count-negative",
            Expect::Error("between"),
            |ctx, p| {
                ctx.client_of(p, -4)?;
                accepted("-4 devices")
            },
        ),
        (
            "device-count-2-pow-40",
            Expect::Error("between"),
            |ctx, p| {
                ctx.client_of(p, 1 << 40)?;
                accepted("2^40 devices")
            },
        ),
        ("device-count-1025", Expect::Error("between"), |ctx, p| {
            ctx.client_of(p, 1025)?;
            accepted("1025 devices")
        }),
        (
            "unknown-checked-option",
            Expect::Error("unknown option"),
            |ctx, p| {
                Client::new(
                    &ctx.plugin(p)?,
                    &ClientOptions::new().set("adversarial_option", 1i64),
                )?;
                accepted("an unknown option through the checked path")
            },
        ),
        (
            "process-id-negative",
            Expect::Error("process_id"),
            |ctx, p| {
                Client::new(&ctx.plugin(p)?, &ClientOptions::new().process_id(-1))?;
                accepted("process_id -1")
            },
        ),
        // Host allocations larger than the memory limit: errors, not aborts.
        (
            "uninitialized-16gib-then-read",
            Expect::Error("alloc"),
            |ctx, p| {
                let b = ctx.client_of(p, 1)?.create_uninitialized_buffer(
                    F32,
                    &[1 << 32],
                    None,
                    &BufferPlacement::default(),
                )?;
                let v = b.to_vec::<f32>()?;
                wrong(format!("read {} elements of a 16 GiB buffer", v.len()))
            },
        ),
        (
            "buffer-from-host-size-mismatch",
            Expect::Error("host data"),
            |ctx, p| {
                ctx.client_of(p, 1)?.buffer_from_host(&[1f32, 2.], &[3])?;
                accepted("2 elements for 3")
            },
        ),
        (
            "raw-copy-out-of-range",
            Expect::Error("exceed"),
            |ctx, p| {
                let b = ctx.client_of(p, 1)?.buffer_from_host(&[1f32, 2.], &[2])?;
                let mut dst = vec![0u8; 16];
                b.copy_raw_to_host(4, &mut dst)?;
                accepted("16 bytes from offset 4 of an 8-byte buffer")
            },
        ),
        (
            "to-vec-wrong-type",
            Expect::Error("element type"),
            |ctx, p| {
                let b = ctx.client_of(p, 1)?.buffer_from_host(&[1f32, 2.], &[2])?;
                b.to_vec::<f64>()?;
                accepted("f32 data read as f64")
            },
        ),
        // Reads that would wait forever for data the caller has not delivered.
        (
            "transfer-manager-read-before-transfer",
            Expect::Error("wait forever"),
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                let tm = c.create_buffers_for_async_host_to_device(
                    &[ShapeSpec::new(F32, &[2])],
                    None,
                    &default_memory(&c)?,
                )?;
                let b = tm.retrieve_buffer(0)?;
                b.to_vec::<f32>()?;
                accepted("a read before the data")
            },
        ),
        (
            "transfer-manager-output-read-before-transfer",
            Expect::Error("wait forever"),
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                let tm = c.create_buffers_for_async_host_to_device(
                    &[ShapeSpec::new(F32, &[3])],
                    None,
                    &default_memory(&c)?,
                )?;
                let b = tm.retrieve_buffer(0)?;
                let out = square(&c)?.execute(&[&b])?;
                out[0].to_vec::<f32>()?;
                accepted("a read of an output before its input's data")
            },
        ),
        (
            "transfer-manager-copy-to-other-client-before-transfer",
            Expect::Error("wait forever"),
            |ctx, p| {
                let (c, c2) = (ctx.client_of(p, 1)?, ctx.client_of(p, 1)?);
                let tm = c.create_buffers_for_async_host_to_device(
                    &[ShapeSpec::new(F32, &[3])],
                    None,
                    &default_memory(&c)?,
                )?;
                let b = tm.retrieve_buffer(0)?;
                b.copy_to_device(&c2.first_device()?)?;
                accepted("a copy through the host before the data")
            },
        ),
        (
            "transfer-manager-delivered-then-read",
            Expect::Correct,
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                let tm = c.create_buffers_for_async_host_to_device(
                    &[ShapeSpec::new(F32, &[3])],
                    None,
                    &default_memory(&c)?,
                )?;
                let b = tm.retrieve_buffer(0)?;
                let out = square(&c)?.execute(&[&b])?;
                let data: Vec<u8> = [1f32, 2., 3.]
                    .iter()
                    .flat_map(|x| x.to_ne_bytes())
                    .collect();
                tm.transfer_data(0, 0, &data, true)?;
                check_eq("square", out[0].to_vec::<f32>()?, vec![1., 4., 9.])
            },
        ),
        (
            "transfer-manager-dropped-then-read",
            Expect::Error("dropped"),
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                let tm = c.create_buffers_for_async_host_to_device(
                    &[ShapeSpec::new(F32, &[2])],
                    None,
                    &default_memory(&c)?,
                )?;
                let b = tm.retrieve_buffer(0)?;
                drop(tm);
                b.to_vec::<f32>()?;
                accepted("a read of a buffer that never got data")
            },
        ),
        (
            "transfer-manager-past-the-end",
            Expect::Error("exceed"),
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                let tm = c.create_buffers_for_async_host_to_device(
                    &[ShapeSpec::new(F32, &[2])],
                    None,
                    &default_memory(&c)?,
                )?;
                tm.transfer_data(0, 4, &[0u8; 8], true)?;
                accepted("8 bytes at offset 4 of 8")
            },
        ),
        (
            "transfer-manager-after-last",
            Expect::Error("last transfer"),
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                let tm = c.create_buffers_for_async_host_to_device(
                    &[ShapeSpec::new(F32, &[2])],
                    None,
                    &default_memory(&c)?,
                )?;
                tm.transfer_data(0, 0, &[0u8; 8], true)?;
                tm.transfer_data(0, 0, &[0u8; 8], true)?;
                accepted("a transfer after the last")
            },
        ),
        (
            "transfer-manager-retrieve-twice",
            Expect::Error("already retrieved"),
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                let tm = c.create_buffers_for_async_host_to_device(
                    &[ShapeSpec::new(F32, &[2])],
                    None,
                    &default_memory(&c)?,
                )?;
                let _a = tm.retrieve_buffer(0)?;
                let _b = tm.retrieve_buffer(0)?;
                accepted("the same buffer twice")
            },
        ),
        (
            "transfer-manager-index-out-of-range",
            Expect::Error("out of range"),
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                let tm = c.create_buffers_for_async_host_to_device(
                    &[ShapeSpec::new(F32, &[2])],
                    None,
                    &default_memory(&c)?,
                )?;
                tm.retrieve_buffer(7)?;
                accepted("buffer 7 of 1")
            },
        ),
        (
            "alias-read-before-fulfill",
            Expect::Error("wait forever"),
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                let (alias, _f) = c.create_alias_buffer(&default_memory(&c)?, F32, &[2], None)?;
                alias.to_vec::<f32>()?;
                accepted("a read of an unfulfilled alias")
            },
        ),
        (
            "alias-dropped-then-read",
            Expect::Error("dropped unfulfilled"),
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                let (alias, f) = c.create_alias_buffer(&default_memory(&c)?, F32, &[2], None)?;
                drop(f);
                alias.to_vec::<f32>()?;
                accepted("a read of an alias whose fulfiller is gone")
            },
        ),
        // Deleted and donated buffers, deleted executables, wrong arguments.
        ("read-after-delete", Expect::Error("deleted"), |ctx, p| {
            let b = ctx.client_of(p, 1)?.buffer_from_host(&[1f32], &[1])?;
            b.delete()?;
            b.to_vec::<f32>()?;
            accepted("a read of a deleted buffer")
        }),
        (
            "execute-deleted-argument",
            Expect::Error("deleted"),
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                let b = c.buffer_from_host(&[1f32, 2., 3.], &[3])?;
                b.delete()?;
                square(&c)?.execute(&[&b])?;
                accepted("a deleted argument")
            },
        ),
        (
            "execute-deleted-executable",
            Expect::Error("deleted"),
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                let exe = square(&c)?;
                exe.delete()?;
                exe.run(&[&Literal::vector(&[1f32, 2., 3.])])?;
                accepted("a deleted executable")
            },
        ),
        (
            "execute-wrong-argument-count",
            Expect::Error("arguments"),
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                let b = c.buffer_from_host(&[1f32, 2., 3.], &[3])?;
                square(&c)?.execute(&[&b, &b])?;
                accepted("two arguments for one")
            },
        ),
        (
            "execute-wrong-argument-shape",
            Expect::Error("argument 0"),
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                let b = c.buffer_from_host(&[1f32, 2.], &[2])?;
                square(&c)?.execute(&[&b])?;
                accepted("f32[2] for f32[3]")
            },
        ),
        (
            "error-buffer-read",
            Expect::Error("adversarial poison"),
            |ctx, p| {
                let c = ctx.client_of(p, 1)?;
                if p == "0.81" {
                    // CreateErrorBuffer is absent from 0.81's table: the refusal says so.
                    return match c.create_error_buffer(
                        ErrorCode::Aborted,
                        "adversarial poison",
                        F32,
                        &[2],
                        None,
                    ) {
                        Err(e) if e.is_unimplemented() => {
                            Ok(Outcome::Error(format!("adversarial poison: {e}")))
                        }
                        Err(e) => Err(e.into()),
                        Ok(_) => wrong("0.81 made an error buffer"),
                    };
                }
                let b = c.create_error_buffer(
                    ErrorCode::Aborted,
                    "adversarial poison",
                    F32,
                    &[2],
                    None,
                )?;
                let out = square_like(&c, &b)?;
                wrong(format!("read {out:?} from an error buffer"))
            },
        ),
    ]
}

/// Reads `b` through an execution (so the error travels through execute too).
fn square_like(c: &Client, b: &pjrt::Buffer) -> Result<Vec<f32>, Failure> {
    let exe = c.compile(&Program::mlir_text(
        "func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> { %0 = stablehlo.multiply %x, %x : tensor<2xf32> return %0 : tensor<2xf32> }",
    ))?;
    let out = exe.execute(&[b])?;
    Ok(out[0].to_vec::<f32>()?)
}

pub fn cases() -> Vec<Case> {
    let a = Area::Runtime;
    let mut v = Vec::new();
    for (name, expect, f) in per_plugin() {
        for p in PLUGINS {
            v.push(case(a, format!("{name}@{p}"), expect, move |ctx| f(ctx, p)));
        }
    }
    // Handles of another plugin in the same process.
    for (p, q) in [("0.115", "0.81"), ("0.115", "0.106"), ("0.106", "0.81")] {
        v.push(case(
            a,
            format!("cross-plugin-copy-to-device@{p}->{q}"),
            Expect::Correct,
            move |ctx| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(q, 1)?);
                let b = c1.buffer_from_host(&[1f32, 2.], &[2])?;
                let copy = b.copy_to_device(&c2.first_device()?)?;
                drop((b, c1, c2));
                check_eq("copy", copy.to_vec::<f32>()?, vec![1., 2.])
            },
        ));
        v.push(case(
            a,
            format!("cross-plugin-execute-argument@{p}->{q}"),
            Expect::Error("belongs to"),
            move |ctx| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(q, 1)?);
                let x = c2.buffer_from_host(&[1f32, 2., 3.], &[3])?;
                let out = square(&c1)?.execute(&[&x])?;
                out[0].to_vec::<f32>()?;
                accepted("a buffer of another plugin")
            },
        ));
        v.push(case(
            a,
            format!("cross-plugin-placement@{p}->{q}"),
            Expect::Error("belongs to"),
            move |ctx| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(q, 1)?);
                on(&c1, &c2.first_device()?, &[1.])?;
                accepted("a device of another plugin")
            },
        ));
        v.push(case(
            a,
            format!("cross-plugin-load-executable@{p}->{q}"),
            Expect::Error("belongs to"),
            move |ctx| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(q, 1)?);
                let exe = square(&c1)?;
                let loaded = c2.load(exe.executable(), &CompileOptions::default())?;
                check_square_wrong(&loaded)
            },
        ));
        v.push(case(
            a,
            format!("cross-plugin-alias-fulfill@{p}->{q}"),
            Expect::Error("belongs to"),
            move |ctx| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(q, 1)?);
                let (_alias, f) = c1.create_alias_buffer(&default_memory(&c1)?, F32, &[2], None)?;
                let real = c2.buffer_from_host(&[1f32, 2.], &[2])?;
                f.fulfill(&real)?;
                accepted("an alias fulfilled with a buffer of another plugin")
            },
        ));
        v.push(case(
            a,
            format!("cross-plugin-layouts-extension@{p}->{q}"),
            Expect::Error("belongs to"),
            move |ctx| {
                let (c1, c2) = (ctx.client_of(p, 1)?, ctx.client_of(q, 1)?);
                let ext: pjrt::ext::layouts::Layouts = c1
                    .plugin()
                    .extension()
                    .ok_or("the plugin has no Layouts extension")?;
                let b = c2.buffer_from_host(&[1f32], &[1])?;
                ext.buffer_layout(&b)?;
                accepted("a buffer of another plugin passed to an extension")
            },
        ));
    }
    v.push(case(
        a,
        "cpu-device-count-beyond-the-address-space-limit",
        Expect::Error("RLIMIT_AS"),
        |ctx| {
            // 1024 devices take about 12 GB of address space (2 threads each): more than this
            // child's 4 GiB limit, where the plugins abort when a thread cannot start.
            let c = ctx.client_of("0.115", 1024)?;
            check_eq("devices", c.addressable_devices()?.len(), 1024)
        },
    ));
    v.push(case(
        a,
        "cpu-device-count-128-works",
        Expect::Correct,
        |ctx| {
            let c = ctx.client_of("0.115", 128)?;
            check_eq("devices", c.addressable_devices()?.len(), 128)
        },
    ));
    v.push(case(
        a,
        "literal-zeros-16gib",
        Expect::Error("allocate"),
        |_| {
            let l = Literal::zeros(F32, &[1 << 32])?;
            wrong(format!("allocated {} bytes", l.as_bytes().len()))
        },
    ));
    v.push(case(
        a,
        "literal-zeros-overflowing-dims",
        Expect::Error("invalid dims"),
        |_| {
            Literal::zeros(F32, &[1 << 40, 1 << 40])?;
            wrong("dims of 2^80 elements accepted")
        },
    ));
    v.push(case(
        a,
        "literal-from-slice-mismatch",
        Expect::Error("host data"),
        |_| {
            Literal::from_slice(&[1f32, 2.], &[3])?;
            wrong("2 elements for 3 accepted")
        },
    ));
    v.push(case(
        a,
        "event-of-delivered-transfer-times-out-never",
        Expect::Correct,
        |ctx| {
            let c = ctx.client()?;
            let b = c.buffer_from_host(&[1f32], &[1])?;
            let ready = b
                .ready_event()?
                .wait_timeout(std::time::Duration::from_secs(5))?;
            check_eq("ready in time", ready, true)
        },
    ));
    v.push(case(
        a,
        "event-wait-timeout-on-undelivered-data",
        Expect::Correct,
        |ctx| {
            let c = ctx.client()?;
            let tm = c.create_buffers_for_async_host_to_device(
                &[ShapeSpec::new(F32, &[2])],
                None,
                &default_memory(c)?,
            )?;
            let b = tm.retrieve_buffer(0)?;
            let ready = b
                .ready_event()?
                .wait_timeout(std::time::Duration::from_millis(200))?;
            check_eq("timed out", ready, false)
        },
    ));
    v
}

/// A cross-plugin load that was not refused: run it and report what came out.
fn check_square_wrong(exe: &pjrt::LoadedExecutable) -> Result<Outcome, Failure> {
    let out = exe.run(&[&Literal::vector(&[1f32, 2., 3.])]);
    wrong(format!(
        "an executable of another plugin was loaded: {out:?}"
    ))
}
