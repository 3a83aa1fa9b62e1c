//! Handles of one client passed to another: refused with both clients named, or (copies)
//! done through host memory and owned by the destination client. Reads that would wait
//! forever for data the caller has not delivered: refused. NaN-propagating min/max.

use pjrt::{
    BufferPlacement, Client, ClientOptions, CompileOptions, ElementType, Error, ErrorCode,
    ExecuteOptions, HostBufferSemantics, Literal, MemoryLayout, ShapeSpec,
};

use super::common::{client, minor, mlir};

const ADD: &str = r#"
func.func @main(%x: tensor<3xf32>, %y: tensor<3xf32>) -> tensor<3xf32> {
  %0 = stablehlo.add %x, %y : tensor<3xf32>
  return %0 : tensor<3xf32>
}"#;

/// A second client of the plugin under test, with two devices.
fn second_client() -> Client {
    Client::new(client().plugin(), &ClientOptions::new().cpu_device_count(2)).unwrap()
}

fn assert_foreign(e: Error, function: &str) {
    match &e {
        Error::ForeignHandle {
            function: f,
            owner,
            expected,
            ..
        } => {
            assert_eq!(*f, function, "{e}");
            assert_ne!(owner, expected, "{e}");
            assert!(
                owner.contains("client #") && expected.contains("client #"),
                "{e}"
            );
        }
        other => panic!("{function}: expected ForeignHandle, got {other}"),
    }
}

#[test]
fn copies_to_another_client_are_owned_by_it() {
    let c1 = second_client();
    let c2 = second_client();
    assert!(!c1.same_as(&c2) && c1.same_as(&c1.clone()));
    let b = c1.buffer_from_host(&[1f32, 2., 3.], &[3]).unwrap();
    let d2 = c2.addressable_devices().unwrap()[1].clone();
    let m2 = d2.default_memory().unwrap();
    let on_d2 = b.copy_to_device(&d2).unwrap();
    let in_m2 = b.copy_to_memory(&m2).unwrap();
    // Owned by the destination: it keeps c2 alive after every other handle of c2 is gone,
    // and outlives the source client.
    drop((d2, m2, c2));
    drop((b, c1));
    assert!(on_d2.client().number() != 0);
    assert_eq!(on_d2.to_vec::<f32>().unwrap(), vec![1., 2., 3.]);
    assert_eq!(in_m2.to_vec::<f32>().unwrap(), vec![1., 2., 3.]);
    assert_eq!(on_d2.device().unwrap().id().unwrap(), 1);
    assert!(on_d2.client().same_as(in_m2.client()));
}

#[test]
fn placements_and_memories_of_another_client_are_refused() {
    let c1 = second_client();
    let c2 = second_client();
    let d2 = c2.first_device().unwrap();
    let m2 = d2.default_memory().unwrap();
    let e = c1
        .buffer_from_host_with(
            &[1f32],
            &[1],
            HostBufferSemantics::ImmutableOnlyDuringCall,
            &BufferPlacement::device(&d2),
        )
        .unwrap_err();
    assert_foreign(e, "buffer_from_host");
    let e = c1
        .buffer_from_host_with(
            &[1f32],
            &[1],
            HostBufferSemantics::ImmutableOnlyDuringCall,
            &BufferPlacement::memory(&m2),
        )
        .unwrap_err();
    assert_foreign(e, "buffer_from_host");
    let e = c1
        .create_uninitialized_buffer(ElementType::F32, &[2], None, &BufferPlacement::device(&d2))
        .unwrap_err();
    assert_foreign(e, "create_uninitialized_buffer");
    let e = c1
        .create_error_buffer(ErrorCode::Aborted, "x", ElementType::F32, &[2], Some(&m2))
        .unwrap_err();
    assert!(
        matches!(e, Error::ForeignHandle { .. } | Error::Unimplemented { .. }),
        "{e}"
    );
    let e = c1
        .create_alias_buffer(&m2, ElementType::F32, &[2], None)
        .unwrap_err();
    assert_foreign(e, "create_alias_buffer");
    let e = c1
        .create_buffers_for_async_host_to_device(
            &[ShapeSpec::new(ElementType::F32, &[2])],
            None,
            &m2,
        )
        .unwrap_err();
    assert_foreign(e, "create_buffers_for_async_host_to_device");
    // The message names both clients.
    let msg = c1
        .create_alias_buffer(&m2, ElementType::F32, &[2], None)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&format!("client #{}", c1.number()))
            && msg.contains(&format!("client #{}", c2.number())),
        "{msg}"
    );
}

#[test]
fn execute_refuses_buffers_and_devices_of_another_client() {
    let c1 = second_client();
    let c2 = second_client();
    let exe = c1.compile(&mlir(ADD)).unwrap();
    let x1 = c1.buffer_from_host(&[1f32, 2., 3.], &[3]).unwrap();
    let x2 = c2.buffer_from_host(&[1f32, 2., 3.], &[3]).unwrap();
    assert_foreign(exe.execute(&[&x1, &x2]).unwrap_err(), "execute");
    let opts = ExecuteOptions {
        device: Some(c2.first_device().unwrap()),
        ..Default::default()
    };
    assert_foreign(exe.execute_with(&[&x1, &x1], &opts).unwrap_err(), "execute");
    // The same call on its own client works.
    let out = exe.execute(&[&x1, &x1]).unwrap();
    assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![2., 4., 6.]);
    // An alias of c1 fulfilled with a buffer of c2: refused.
    if let Ok((_alias, f)) = c1.create_alias_buffer(
        &c1.first_device().unwrap().default_memory().unwrap(),
        ElementType::F32,
        &[3],
        None,
    ) {
        assert_foreign(f.fulfill(&x2).unwrap_err(), "AliasFulfiller::fulfill");
    }
}

#[test]
fn arguments_on_the_wrong_devices_are_refused() {
    // The 0.106 plugin crashed when each device's arguments lived on another device.
    let c = second_client();
    let exe = c
        .compile_with(&mlir(ADD), &CompileOptions::default().replicas(2))
        .unwrap();
    let devices = exe.addressable_devices().to_vec();
    let on = |d: &pjrt::Device| {
        c.buffer_from_host_with(
            &[1f32, 2., 3.],
            &[3],
            HostBufferSemantics::ImmutableOnlyDuringCall,
            &BufferPlacement::device(d),
        )
        .unwrap()
    };
    let (a0, a1) = (on(&devices[0]), on(&devices[1]));
    let e = exe
        .execute_sharded(
            &[vec![&a1, &a1], vec![&a0, &a0]],
            &ExecuteOptions::default(),
        )
        .unwrap_err();
    assert!(matches!(e, Error::InvalidDevice(_)), "{e}");
    assert!(e.to_string().contains("list 0 runs on"), "{e}");
    let outs = exe
        .execute_sharded(
            &[vec![&a0, &a0], vec![&a1, &a1]],
            &ExecuteOptions::default(),
        )
        .unwrap();
    assert_eq!(outs[1][0].to_vec::<f32>().unwrap(), vec![2., 4., 6.]);
}

#[test]
fn a_zero_tile_dimension_never_reaches_the_plugin() {
    // The 0.115 plugin divides by it (SIGFPE).
    let layout = MemoryLayout::Tiled {
        minor_to_major: vec![1, 0],
        tiles: vec![vec![0, 128]],
    };
    let e = client()
        .create_uninitialized_buffer(
            ElementType::F32,
            &[4, 4],
            Some(&layout),
            &BufferPlacement::default(),
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("tile dimensions must be positive"),
        "{e}"
    );
}

#[test]
fn reads_of_undelivered_transfer_manager_buffers_are_refused_not_hung() {
    let c = client();
    let mem = c.first_device().unwrap().default_memory().unwrap();
    let tm = c
        .create_buffers_for_async_host_to_device(
            &[ShapeSpec::new(ElementType::F32, &[3])],
            None,
            &mem,
        )
        .unwrap();
    let b = tm.retrieve_buffer(0).unwrap();
    let e = b.to_vec::<f32>().unwrap_err();
    assert!(matches!(e, Error::WouldBlock { .. }), "{e}");
    assert!(e.to_string().contains("AsyncTransferManager"), "{e}");
    // Outputs of a computation on it wait for it too.
    let exe = c.compile(&mlir(ADD)).unwrap();
    let out = exe.execute(&[&b, &b]);
    match out {
        Ok(out) => {
            let e = out[0].to_vec::<f32>().unwrap_err();
            assert!(matches!(e, Error::WouldBlock { .. }), "{e}");
            // Deliver: now everything reads.
            let data: Vec<u8> = [1f32, 2., 3.]
                .iter()
                .flat_map(|x| x.to_ne_bytes())
                .collect();
            tm.transfer_data(0, 0, &data, true).unwrap();
            assert_eq!(b.to_vec::<f32>().unwrap(), vec![1., 2., 3.]);
            assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![2., 4., 6.]);
        }
        // Some plugins wait for the argument inside execute (then nothing was launched).
        Err(e) => panic!("execute on a pending buffer: {e}"),
    }
    // A copy to another client goes through the host: refused while pending.
    let tm2 = c
        .create_buffers_for_async_host_to_device(
            &[ShapeSpec::new(ElementType::F32, &[3])],
            None,
            &mem,
        )
        .unwrap();
    let b2 = tm2.retrieve_buffer(0).unwrap();
    let other = second_client();
    let e = b2
        .copy_to_device(&other.first_device().unwrap())
        .unwrap_err();
    assert!(matches!(e, Error::WouldBlock { .. }), "{e}");
    // Dropping the manager fails the buffer instead: the read returns that error.
    drop(tm2);
    let e = b2.to_vec::<f32>().unwrap_err();
    assert!(e.to_string().contains("dropped"), "{e}");
}

#[test]
fn reads_of_unfulfilled_aliases_are_refused_not_hung() {
    let c = client();
    let mem = c.first_device().unwrap().default_memory().unwrap();
    let Ok((alias, f)) = c.create_alias_buffer(&mem, ElementType::F32, &[3], None) else {
        return; // not implemented by this plugin
    };
    let e = alias.to_vec::<f32>().unwrap_err();
    assert!(matches!(e, Error::WouldBlock { .. }), "{e}");
    assert!(e.to_string().contains("alias"), "{e}");
    let real = c.buffer_from_host(&[4f32, 5., 6.], &[3]).unwrap();
    f.fulfill(&real).unwrap();
    assert_eq!(alias.to_vec::<f32>().unwrap(), vec![4., 5., 6.]);
}

#[test]
fn min_and_max_propagate_nan_by_default() {
    // StableHLO: maximum(x, NaN) = NaN. XLA's CPU default ("fast min/max") returned 1.
    const P: &str = r#"
    func.func @main(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<f32>) {
      %0 = stablehlo.maximum %x, %y : tensor<4xf32>
      %1 = stablehlo.minimum %x, %y : tensor<4xf32>
      %init = stablehlo.constant dense<0xFF800000> : tensor<f32>
      %2 = stablehlo.reduce(%y init: %init) applies stablehlo.maximum across dimensions = [0] : (tensor<4xf32>, tensor<f32>) -> tensor<f32>
      return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<f32>
    }"#;
    let x = Literal::vector(&[1f32, 1., 1., 1.]);
    let y = Literal::vector(&[f32::NAN, 2., 0., 3.]);
    let exe = client().compile(&mlir(P)).unwrap();
    let out = exe.run(&[&x, &y]).unwrap();
    let max = out[0].to_vec::<f32>().unwrap();
    let min = out[1].to_vec::<f32>().unwrap();
    assert!(
        max[0].is_nan(),
        "maximum(1, NaN) = {} on API 0.{}",
        max[0],
        minor()
    );
    assert!(min[0].is_nan(), "minimum(1, NaN) = {}", min[0]);
    assert_eq!(&max[1..], &[2., 1., 3.]);
    assert_eq!(&min[1..], &[1., 0., 1.]);
    assert!(
        out[2].to_scalar::<f32>().unwrap().is_nan(),
        "reduce_max skipped a NaN"
    );
    // The fast version can be had back, and compiles on every plugin.
    let fast = client()
        .compile_with(&mlir(P), &CompileOptions::default().fast_min_max(true))
        .unwrap();
    let out = fast.run(&[&x, &y]).unwrap();
    assert_eq!(&out[0].to_vec::<f32>().unwrap()[1..], &[2., 1., 3.]);
}

#[test]
fn truncated_plugin_files_are_refused_before_dlopen() {
    // A truncated .so crashed inside dlopen (SIGBUS): the ELF check refuses it first.
    let src = client().plugin().path().to_path_buf();
    let len = std::fs::metadata(&src).unwrap().len();
    let mut f = std::fs::File::open(&src).unwrap();
    for cut in [0u64, 63, 4096, 1 << 20] {
        let path = std::env::temp_dir().join(format!(
            "pjrt-test-{}-truncated-{cut}.so",
            std::process::id()
        ));
        let mut out = std::fs::File::create(&path).unwrap();
        std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(0)).unwrap();
        std::io::copy(&mut std::io::Read::take(&mut f, cut.min(len)), &mut out).unwrap();
        drop(out);
        let e = pjrt::Plugin::load(&path).unwrap_err();
        assert!(matches!(e, Error::PluginLoad { .. }), "{e}");
        let m = e.to_string();
        assert!(
            m.contains("truncated") || m.contains("shorter than an ELF header"),
            "cut at {cut}: {m}"
        );
        std::fs::remove_file(&path).unwrap();
    }
}

/// Threads of this process allowed on exactly one CPU.
fn pinned_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|t| t.ok())
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("status"))
                        .map(|s| {
                            s.lines().any(|l| {
                                l.strip_prefix("Cpus_allowed_list:")
                                    .is_some_and(|v| v.trim().parse::<usize>().is_ok())
                            })
                        })
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_client_with_a_thread_budget_runs_its_threads_within_it() {
    let plugin = client().plugin().clone();
    let options = pjrt::ClientOptions::new().cpu_device_count(1);
    let e = Client::with_cpu_threads(&plugin, &options, 0).unwrap_err();
    assert!(e.to_string().contains("threads = 0"), "{e}");
    let before = pinned_threads();
    let one = Client::with_cpu_threads(&plugin, &options, 1).unwrap();
    assert_eq!(one.cpu_threads(), Some(1));
    assert_eq!(client().cpu_threads(), None);
    // The plugin's threads started on the narrowed thread and kept its one CPU (this test's
    // own thread was not narrowed: the client was made on a thread of its own).
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus > 1 {
        assert!(
            pinned_threads() > before,
            "no thread of the client is on one CPU"
        );
        assert!(std::thread::available_parallelism().unwrap().get() == cpus);
    }
    let like = one.with_cpu_threads_like(1).unwrap();
    assert!(!like.same_as(&one));
    for c in [&one, &like] {
        let exe = c
            .compile(&mlir(
                "func.func @main(%x: tensor<3xf32>) -> tensor<3xf32> {\n  %0 = stablehlo.add %x, %x : tensor<3xf32>\n  return %0 : tensor<3xf32>\n}",
            ))
            .unwrap();
        let out = exe.run(&[&Literal::vector(&[1f32, 2., 3.])]).unwrap();
        assert_eq!(out[0].to_vec::<f32>().unwrap(), [2., 4., 6.]);
    }
}
