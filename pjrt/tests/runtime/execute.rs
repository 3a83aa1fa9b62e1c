//! Compilation and execution: errors, multiple outputs, donation, threads, devices, metadata.

use pjrt::{
    Buffer, BufferPlacement, CompileOptions, ElementType, Error, ErrorCode, ExecuteOptions,
    HostBufferSemantics, Literal,
};

use super::common::{client, compile, minor, mlir};

const ADD: &str = r#"
func.func @main(%x: tensor<2x3xf32>, %y: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = stablehlo.add %x, %y : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}"#;

// Three outputs of three types: the sum, the elementwise max as i32, and the total.
const MULTI: &str = r#"
func.func @main(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi32>, tensor<f32>) {
  %s = stablehlo.add %x, %y : tensor<4xf32>
  %m = stablehlo.maximum %x, %y : tensor<4xf32>
  %i = stablehlo.convert %m : (tensor<4xf32>) -> tensor<4xi32>
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %t = stablehlo.reduce(%s init: %z) applies stablehlo.add across dimensions = [0] : (tensor<4xf32>, tensor<f32>) -> tensor<f32>
  return %s, %i, %t : tensor<4xf32>, tensor<4xi32>, tensor<f32>
}"#;

#[test]
fn multi_output_program() {
    let exe = compile(MULTI);
    let x = Literal::vector(&[1.0f32, 5.0, -2.0, 0.5]);
    let y = Literal::vector(&[2.0f32, 1.0, 3.0, 0.25]);
    let out = exe.run(&[&x, &y]).unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![3.0, 6.0, 1.0, 0.75]);
    assert_eq!(out[1].to_vec::<i32>().unwrap(), vec![2, 5, 3, 0]);
    // 3 + 6 + 1 + 0.75
    assert_eq!(out[2].to_scalar::<f32>().unwrap(), 10.75);

    // The same through device buffers.
    let c = client();
    let bx = c.buffer_from_literal(&x).unwrap();
    let by = c.buffer_from_literal(&y).unwrap();
    let outs = exe.execute(&[&bx, &by]).unwrap();
    assert_eq!(outs.len(), 3);
    assert_eq!(outs[1].element_type().unwrap(), ElementType::S32);
    assert_eq!(outs[2].dims().unwrap(), Vec::<i64>::new());
    assert_eq!(outs[0].to_vec::<f32>().unwrap(), vec![3.0, 6.0, 1.0, 0.75]);
}

#[test]
fn many_arguments() {
    // Sixteen scalar arguments, summed.
    let n = 16;
    let params: Vec<String> = (0..n).map(|i| format!("%a{i}: tensor<f64>")).collect();
    let mut body = String::from("  %s0 = stablehlo.add %a0, %a1 : tensor<f64>\n");
    for i in 2..n {
        body += &format!(
            "  %s{} = stablehlo.add %s{}, %a{i} : tensor<f64>\n",
            i - 1,
            i - 2
        );
    }
    let text = format!(
        "func.func @main({}) -> tensor<f64> {{\n{body}  return %s{} : tensor<f64>\n}}",
        params.join(", "),
        n - 2
    );
    let exe = compile(&text);
    let lits: Vec<Literal> = (0..n).map(|i| Literal::scalar(i as f64)).collect();
    let refs: Vec<&Literal> = lits.iter().collect();
    // 0 + 1 + ... + 15 = 120
    assert_eq!(
        exe.run(&refs).unwrap()[0].to_scalar::<f64>().unwrap(),
        120.0
    );
}

#[test]
fn malformed_mlir_is_a_compile_error() {
    let e = client()
        .compile(&mlir("func.func @main( this is not MLIR"))
        .unwrap_err();
    match e {
        Error::Pjrt {
            function,
            code,
            ref message,
        } => {
            assert_eq!(function, "PJRT_Client_Compile");
            // The plugins disagree on the code (UNKNOWN, INVALID_ARGUMENT); the parser speaks.
            assert_ne!(code, ErrorCode::Ok);
            assert!(message.contains("error"), "{message}");
        }
        other => panic!("expected a plugin error, got {other}"),
    }
    // An empty program never reaches the plugin.
    let e = client().compile(&pjrt::Program::mlir_text("")).unwrap_err();
    assert!(matches!(e, Error::InvalidProgram(_)), "{e}");
}

#[test]
fn an_hlo_proto_is_checked_then_compiled() {
    // The optimized program a plugin hands back is an HLO proto: it passes the check (its
    // call graph and custom calls are read) and compiles into an executable computing the
    // same thing.
    let c = client();
    let exe = c.compile(&mlir(ADD)).unwrap();
    let (format, code) = exe.optimized_program().unwrap();
    if format != "hlo" {
        // 0.81 hands back `hlo_with_config`, which is not a compile format.
        assert_eq!(format, "hlo_with_config");
        return;
    }
    let program = pjrt::Program::hlo_proto(code.clone());
    program.validate().unwrap();
    let again = c.compile(&program).unwrap();
    let x = Literal::vector(&[1.0f32, 2.0, 3.0, 4.0]);
    let want = exe.run(&[&x, &x]).unwrap()[0].to_vec::<f32>().unwrap();
    let got = again.run(&[&x, &x]).unwrap()[0].to_vec::<f32>().unwrap();
    assert_eq!(got, want);
    // Cut anywhere, the proto is refused before compile or by the plugin; never a crash.
    for cut in (1..code.len()).step_by(code.len() / 16 + 1) {
        let _ = c.compile(&pjrt::Program::hlo_proto(code[..cut].to_vec()));
    }
    // MLIR bytecode from an unknown source is refused before any compiler sees it.
    let e = c
        .compile(&pjrt::Program::mlir_bytecode(b"ML\xefR\x00\x01".to_vec()))
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidProgram(ref m) if m.contains("cannot be checked")),
        "{e}"
    );
}

#[test]
fn zero_replicas_or_partitions_never_reach_the_plugin() {
    let p = mlir(ADD);
    let e = client()
        .compile_with(&p, &CompileOptions::default().replicas(0))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidCompileOptions(_)), "{e}");
    let e = client()
        .compile_with(&p, &CompileOptions::default().partitions(0))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidCompileOptions(_)), "{e}");
    // The encoder never produces the empty message the plugins abort on: the build options
    // with one replica and one partition always come first.
    assert_eq!(
        &CompileOptions::default().encode().unwrap()[..6],
        &[0x1a, 0x04, 0x20, 0x01, 0x28, 0x01]
    );
}

#[test]
fn wrong_arguments_are_refused_before_execute() {
    let exe = compile(ADD);
    let c = client();
    let good = c.buffer_from_host(&[1.0f32; 6], &[2, 3]).unwrap();
    let e = exe.execute(&[&good]).unwrap_err();
    match e {
        Error::ArgumentCount {
            expected, actual, ..
        } => assert_eq!((expected, actual), (2, 1)),
        other => panic!("expected ArgumentCount, got {other}"),
    }
    let e = exe.execute(&[&good, &good, &good]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ArgumentCount {
                expected: 2,
                actual: 3,
                ..
            }
        ),
        "{e}"
    );

    let wrong_shape = c.buffer_from_host(&[1.0f32; 6], &[3, 2]).unwrap();
    let e = exe.execute(&[&good, &wrong_shape]).unwrap_err();
    match &e {
        Error::ArgumentShape {
            index,
            expected_dims,
            actual_dims,
            ..
        } => {
            assert_eq!(*index, 1);
            assert_eq!(
                (expected_dims.as_slice(), actual_dims.as_slice()),
                (&[2i64, 3][..], &[3i64, 2][..])
            );
        }
        other => panic!("expected ArgumentShape, got {other}"),
    }
    assert!(
        e.to_string().contains("f32[3,2]") && e.to_string().contains("f32[2,3]"),
        "{e}"
    );

    let wrong_type = c.buffer_from_host(&[1i32; 6], &[2, 3]).unwrap();
    let e = exe.execute(&[&wrong_type, &good]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ArgumentShape {
                index: 0,
                actual_type: ElementType::S32,
                ..
            }
        ),
        "{e}"
    );

    // The same checks on the host-data path.
    let l = Literal::from_slice(&[1.0f64; 6], &[2, 3]).unwrap();
    let e = exe.run(&[&l, &l]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ArgumentShape {
                expected_type: ElementType::F32,
                actual_type: ElementType::F64,
                ..
            }
        ),
        "{e}"
    );
    let e = exe.run(&[]).unwrap_err();
    assert!(matches!(e, Error::ArgumentCount { .. }), "{e}");

    // A deleted argument.
    let gone = c.buffer_from_host(&[1.0f32; 6], &[2, 3]).unwrap();
    gone.delete().unwrap();
    let e = exe.execute(&[&good, &gone]).unwrap_err();
    assert!(matches!(e, Error::BufferDeleted { .. }), "{e}");
    // Still fine with good arguments afterwards.
    assert_eq!(
        exe.execute(&[&good, &good]).unwrap()[0]
            .to_vec::<f32>()
            .unwrap(),
        vec![2.0; 6]
    );
}

#[test]
fn one_executable_from_eight_threads() {
    let exe = compile(ADD);
    let c = client();
    std::thread::scope(|s| {
        for t in 0..8 {
            let exe = &exe;
            s.spawn(move || {
                for k in 0..20 {
                    let v = (t * 100 + k) as f32;
                    let x = c.buffer_from_host(&[v; 6], &[2, 3]).unwrap();
                    let y = c
                        .buffer_from_host(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])
                        .unwrap();
                    let out = exe.execute(&[&x, &y]).unwrap();
                    let got = out[0].to_vec::<f32>().unwrap();
                    assert_eq!(
                        got,
                        vec![v + 1.0, v + 2.0, v + 3.0, v + 4.0, v + 5.0, v + 6.0]
                    );
                }
            });
        }
    });
}

const DONATE: &str = r#"
func.func @main(%x: tensor<4xf32> {tf.aliasing_output = 0 : i32}, %y: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.add %x, %y : tensor<4xf32>
  return %0 : tensor<4xf32>
}"#;

#[test]
fn donation_and_non_donatable_inputs() {
    let exe = compile(DONATE);
    let c = client();
    let y = c.buffer_from_host(&[10.0f32; 4], &[4]).unwrap();

    // Not donated when listed as non-donatable: the input stays usable.
    let x = c.buffer_from_host(&[1.0f32, 2.0, 3.0, 4.0], &[4]).unwrap();
    let opts = ExecuteOptions {
        non_donatable_input_indices: vec![0],
        wait: true,
        ..Default::default()
    };
    let out = exe.execute_with(&[&x, &y], &opts).unwrap();
    assert_eq!(
        out[0].to_vec::<f32>().unwrap(),
        vec![11.0, 12.0, 13.0, 14.0]
    );
    assert!(!x.is_deleted().unwrap());
    assert_eq!(x.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0, 4.0]);

    // Donated: the input buffer is consumed by the execution.
    let out = exe.execute(&[&x, &y]).unwrap();
    assert_eq!(
        out[0].to_vec::<f32>().unwrap(),
        vec![11.0, 12.0, 13.0, 14.0]
    );
    assert!(x.is_deleted().unwrap());
    let e = exe.execute(&[&x, &y]).unwrap_err();
    assert!(matches!(e, Error::BufferDeleted { .. }), "{e}");
    // y was not donated.
    assert!(!y.is_deleted().unwrap());
}

#[test]
fn two_replicas_on_two_devices() {
    let c = client();
    let exe = c
        .compile_with(&mlir(ADD), &CompileOptions::default().replicas(2))
        .unwrap();
    assert_eq!(exe.num_replicas().unwrap(), 2);
    let devices = exe.addressable_devices().to_vec();
    assert_eq!(devices.len(), 2);
    let on = |d: &pjrt::Device, v: f32| -> Buffer {
        c.buffer_from_host_with(
            &[v; 6],
            &[2, 3],
            HostBufferSemantics::ImmutableOnlyDuringCall,
            &BufferPlacement::device(d),
        )
        .unwrap()
    };
    let (x0, y0, x1, y1) = (
        on(&devices[0], 1.0),
        on(&devices[0], 2.0),
        on(&devices[1], 10.0),
        on(&devices[1], 20.0),
    );
    let opts = ExecuteOptions {
        launch_id: 7,
        wait: true,
        ..Default::default()
    };
    let outs = exe
        .execute_sharded(&[vec![&x0, &y0], vec![&x1, &y1]], &opts)
        .unwrap();
    assert_eq!(outs.len(), 2);
    assert_eq!(outs[0][0].to_vec::<f32>().unwrap(), vec![3.0; 6]);
    assert_eq!(outs[1][0].to_vec::<f32>().unwrap(), vec![30.0; 6]);
    assert_eq!(outs[1][0].device().unwrap(), devices[1]);
    let e = exe.execute(&[&x0, &y0]).unwrap_err();
    assert!(matches!(e, Error::InvalidDevice(_)), "{e}");
    let a = exe.device_assignment();
    match a {
        Ok(a) => assert_eq!((a.replica_count, a.computation_count), (2, 1)),
        Err(e) => assert!(e.is_unimplemented(), "{e}"),
    }
}

#[test]
fn executable_metadata() {
    let exe = compile(MULTI);
    assert_eq!(exe.name().unwrap(), "main");
    assert_eq!(exe.num_replicas().unwrap(), 1);
    assert_eq!(exe.num_partitions().unwrap(), 1);
    assert_eq!(exe.num_outputs().unwrap(), 3);
    assert_eq!(
        exe.output_element_types().unwrap(),
        vec![ElementType::F32, ElementType::S32, ElementType::F32]
    );
    assert_eq!(exe.output_dims().unwrap(), vec![vec![4], vec![4], vec![]]);
    match exe.output_memory_kinds() {
        Ok(k) => assert_eq!(k.len(), 3, "{k:?}"),
        Err(e) => assert!(e.is_unimplemented(), "{e}"),
    }
    match exe.fingerprint() {
        Ok(f) => assert!(!f.is_empty()),
        Err(e) => assert!(e.is_unimplemented(), "{e}"),
    }
    assert!(exe.code_size().unwrap() >= 0);
    match exe.cost_analysis() {
        Ok(props) => assert!(props.iter().any(|p| p.name == "flops"), "{props:?}"),
        Err(e) => assert!(e.is_unimplemented(), "{e}"),
    }
    match exe.compiled_memory_stats() {
        Ok(s) => assert!(s.argument_size_in_bytes >= 32, "{s:?}"),
        Err(e) => assert!(e.is_unimplemented(), "{e}"),
    }
    let (format, code) = exe.optimized_program().unwrap();
    assert!(format == "hlo" || format == "hlo_with_config", "{format}");
    assert!(code.len() > 50);
    let params = exe
        .parameters()
        .expect("parameter shapes from the optimized program");
    assert_eq!(params.len(), 2);
    assert_eq!(
        (params[0].element_type, params[0].dims.as_slice()),
        (ElementType::F32, &[4i64][..])
    );
    match exe.compile_options() {
        Ok(o) => assert_eq!((o.num_replicas, o.num_partitions), (1, 1)),
        Err(e) => assert!(e.is_unimplemented() && minor() < 106, "{e}"),
    }
    let a = exe.device_assignment().unwrap();
    assert_eq!((a.replica_count, a.computation_count), (1, 1));
    assert!(!exe.is_deleted().unwrap());
    exe.delete().unwrap();
    // The CPU plugins before 0.115 accept Delete but keep the executable (IsDeleted stays
    // false); 0.115 says deleted but would still run it. We refuse to run it either way.
    if minor() >= 115 {
        assert!(exe.is_deleted().unwrap());
    }
    let x = Literal::vector(&[1.0f32; 4]);
    let e = exe.run(&[&x, &x]).unwrap_err();
    assert!(matches!(e, Error::ExecutableDeleted { .. }), "{e}");
}

#[test]
fn portable_executable_runs_on_a_chosen_device() {
    let c = client();
    let exe = c
        .compile_with(&mlir(ADD), &CompileOptions::default().portable(true))
        .unwrap();
    let devices = c.addressable_devices().unwrap();
    let d = &devices[2];
    let place = BufferPlacement::device(d);
    let x = c
        .buffer_from_host_with(
            &[1.0f32; 6],
            &[2, 3],
            HostBufferSemantics::ImmutableOnlyDuringCall,
            &place,
        )
        .unwrap();
    let opts = ExecuteOptions {
        device: Some(d.clone()),
        ..Default::default()
    };
    let out = exe.execute_with(&[&x, &x], &opts).unwrap();
    assert_eq!(out[0].device().unwrap(), *d);
    assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![2.0; 6]);
    // A portable executable with more than one device is refused before compiling.
    let e = c
        .compile_with(
            &mlir(ADD),
            &CompileOptions::default().portable(true).replicas(2),
        )
        .unwrap_err();
    assert!(matches!(e, Error::InvalidCompileOptions(_)), "{e}");
}

#[test]
fn spmd_with_two_partitions() {
    let c = client();
    let opts = CompileOptions::default().partitions(2).spmd(true);
    let exe = c.compile_with(&mlir(ADD), &opts).unwrap();
    assert_eq!(exe.num_partitions().unwrap(), 2);
    let devices = exe.addressable_devices().to_vec();
    assert_eq!(devices.len(), 2);
    let on = |d: &pjrt::Device, v: f32| -> Buffer {
        c.buffer_from_host_with(
            &[v; 6],
            &[2, 3],
            HostBufferSemantics::ImmutableOnlyDuringCall,
            &BufferPlacement::device(d),
        )
        .unwrap()
    };
    let (a0, a1) = (on(&devices[0], 1.0), on(&devices[1], 1.0));
    let outs = exe
        .execute_sharded(
            &[vec![&a0, &a0], vec![&a1, &a1]],
            &ExecuteOptions::default(),
        )
        .unwrap();
    // Without sharding annotations the program is replicated: each partition computes it all.
    assert_eq!(outs[0][0].to_vec::<f32>().unwrap(), vec![2.0; 6]);
    assert_eq!(outs[1][0].to_vec::<f32>().unwrap(), vec![2.0; 6]);
    let back = exe.compile_options();
    if let Ok(o) = back {
        assert_eq!((o.num_partitions, o.use_spmd_partitioning), (2, true));
    }
}

#[test]
fn argument_layouts_in_compile_options() {
    let mut opts = CompileOptions::default();
    for _ in 0..2 {
        opts.argument_layouts.push(pjrt::ArgumentLayout {
            element_type: ElementType::F32,
            dims: vec![2, 3],
            minor_to_major: Some(vec![1, 0]),
        });
    }
    let exe = client().compile_with(&mlir(ADD), &opts).unwrap();
    let x = Literal::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    assert_eq!(
        exe.run(&[&x, &x]).unwrap()[0].to_vec::<f32>().unwrap(),
        vec![2.0, 4.0, 6.0, 8.0, 10.0, 12.0]
    );
    if let Ok(back) = exe.compile_options() {
        assert_eq!(back.argument_layouts.len(), 2);
        assert_eq!(back.argument_layouts[0].dims, vec![2, 3]);
    }
}

#[test]
fn asynchronous_execution_events() {
    let exe = compile(ADD);
    let c = client();
    let x = c
        .buffer_from_host(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])
        .unwrap();
    let (outs, events) = exe
        .execute_async(&[vec![&x, &x]], &ExecuteOptions::default())
        .unwrap();
    assert_eq!(events.len(), 1);
    // Completion as a Future, driven by a minimal executor.
    for e in events {
        super::common::block_on(e).unwrap();
    }
    assert_eq!(
        outs[0][0].to_vec::<f32>().unwrap(),
        vec![2.0, 4.0, 6.0, 8.0, 10.0, 12.0]
    );
    // And through a callback.
    let (outs, events) = exe
        .execute_async(&[vec![&x, &x]], &ExecuteOptions::default())
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    events[0]
        .on_ready(move |r| tx.send(r.is_ok()).unwrap())
        .unwrap();
    assert!(rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap());
    assert_eq!(outs[0][0].to_vec::<f32>().unwrap()[5], 12.0);
}

#[test]
fn xla_options_reach_the_compiler() {
    // `xla_dump_to` makes XLA write the compiled module's HLO into a folder: an observable
    // effect of an option set for this one compilation (not through XLA_FLAGS).
    let dir = std::env::temp_dir().join(format!(
        "pjrt-xla-option-{}-{}",
        std::process::id(),
        minor()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = CompileOptions::default()
        .xla_option("xla_dump_to", dir.to_str().unwrap())
        .xla_option("xla_dump_hlo_as_text", true);
    let exe = client().compile_with(&mlir(ADD), &opts).unwrap();
    let dumped: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        dumped
            .iter()
            .any(|f| f.ends_with(".txt") && f.contains("after_optimizations")),
        "no optimized HLO dumped into {}: {dumped:?}",
        dir.display()
    );
    let _ = std::fs::remove_dir_all(&dir);
    // The program still runs and is correct.
    let c = client();
    let x = c
        .buffer_from_host(&[1.0f32, 2., 3., 4., 5., 6.], &[2, 3])
        .unwrap();
    let out = exe.execute(&[&x, &x]).unwrap();
    assert_eq!(
        out[0].to_vec::<f32>().unwrap(),
        vec![2.0, 4., 6., 8., 10., 12.]
    );
}

#[test]
fn unknown_or_malformed_xla_options_are_errors() {
    let e = client()
        .compile_with(
            &mlir(ADD),
            &CompileOptions::default().xla_option("xla_no_such_option_anywhere", true),
        )
        .unwrap_err();
    assert!(e.to_string().contains("xla_no_such_option_anywhere"), "{e}");
    // A wrongly typed value is refused by the plugin with the option's name.
    let e = client()
        .compile_with(
            &mlir(ADD),
            &CompileOptions::default().xla_option("xla_cpu_enable_fast_math", "maybe"),
        )
        .unwrap_err();
    assert!(e.to_string().contains("xla_cpu_enable_fast_math"), "{e}");
    // A flag written as on a command line never reaches the plugin.
    let e = client()
        .compile_with(
            &mlir(ADD),
            &CompileOptions::default().xla_option("--xla_dump_to", "/tmp"),
        )
        .unwrap_err();
    assert!(matches!(e, Error::InvalidCompileOptions(_)), "{e}");
    assert!(e.to_string().contains("--xla_dump_to"), "{e}");
}
