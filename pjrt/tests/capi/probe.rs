use pjrt::*;

fn plugins() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.plugins");
    [
        "cpu-0.81/xla_cpu_pjrt.so",
        "cpu-0.106/libpjrt_cpu.so",
        "cpu-0.115/pjrt_c_api_cpu_plugin.so",
    ]
    .iter()
    .map(|p| root.join(p))
    .filter(|p| p.is_file())
    .collect()
}

#[test]
#[ignore]
fn probe_all() {
    for p in plugins() {
        let plugin = Plugin::load(&p).unwrap();
        let c = Client::new(&plugin, &ClientOptions::new()).unwrap();
        let v = plugin.api_version();
        let d = c.first_device().unwrap();
        let mem = d.default_memory().unwrap();
        println!("==== {v}");
        println!(
            "topology: {:?}",
            c.topology().map(|t| (
                t.platform_name(),
                t.platform_version(),
                t.device_descriptions().map(|d| d.len()),
                t.serialize().map(|s| s.len()),
                t.attributes(),
                t.fingerprint(),
                t.memory_space_kind_ids()
            ))
        );
        if let Ok(t) = c.topology() {
            println!(
                "canon: {:?}",
                t.canonical_shape_for_memory_space(0, ElementType::F32, &[2, 3], None)
                    .map(|v| v.len())
            );
            if let Ok(s) = t.serialize() {
                println!(
                    "deser: {:?}",
                    TopologyDescription::deserialize(&plugin, &s).map(|t| t.platform_name())
                );
            }
            let prog = Program::mlir_text("func.func @main(%x: tensor<3xf32>) -> tensor<3xf32> {\n %0 = stablehlo.add %x, %x : tensor<3xf32>\n return %0 : tensor<3xf32>\n}");
            let e = t.compile(&prog, &CompileOptions::default(), Some(&c));
            println!("topo compile: {:?}", e.as_ref().map(|_| ()));
            if let Ok(e) = e {
                println!(
                    "load: {:?}",
                    c.load(&e, &CompileOptions::default()).map(|l| l
                        .run(&[&Literal::vector(&[1f32, 2., 3.])])
                        .map(|o| o[0].to_vec::<f32>()))
                );
            }
        }
        println!(
            "topo create: {:?}",
            TopologyDescription::create(&plugin, "cpu", &[]).map(|_| ())
        );
        println!(
            "uninit: {:?}",
            c.create_uninitialized_buffer(
                ElementType::F32,
                &[2, 2],
                None,
                &BufferPlacement::default()
            )
            .map(|b| b.dims())
        );
        println!(
            "alias: {:?}",
            c.create_alias_buffer(&mem, ElementType::F32, &[2], None)
                .map(|_| ())
        );
        let b = c.buffer_from_host(&[1f32, 2., 3., 4.], &[4]).unwrap();
        println!(
            "bitcast: {:?}",
            b.bitcast(ElementType::S32, &[4], None)
                .map(|b| b.to_vec::<i32>())
        );
        println!(
            "rawfut: {:?}",
            b.copy_raw_to_host_future(4, 8).map(|p| p.complete())
        );
        unsafe {
            println!("unsafe ptr: {:?}", b.unsafe_pointer());
            println!("opaque: {:?}", b.opaque_device_memory_pointer());
        }
        println!("extref: {:?}", b.external_reference().map(|_| ()));
        let mut host = vec![0u8; 4096];
        println!("dma: {:?}", c.dma_map_slice(&mut host).map(|_| ()));
        println!("attrs: {:?}", d.attributes());
        println!("clear stats: {:?}", d.clear_memory_stats());
        println!(
            "poison: {:?}",
            d.poison_execution(7, ErrorCode::Internal, "x", &[])
        );
        println!(
            "tracking: {:?}",
            d.create_async_tracking_event("t").map(|_| ())
        );
        println!(
            "event: {:?}",
            UserEvent::new(&plugin).map(|e| {
                let r = e.set_ok();
                (r, e.wait())
            })
        );
        println!("ctx: {:?}", ExecuteContext::new(&plugin).map(|_| ()));
        let b2 = c.buffer_from_host(&[1f32, 2.], &[2]).unwrap();
        println!(
            "donate: {:?}",
            b2.donate_with_control_dependency().map(|(nb, dep)| {
                dep.ready();
                nb.to_vec::<f32>()
            })
        );
        let exe = c.compile(&Program::mlir_text("func.func @main(%x: tensor<3xf32>) -> tensor<3xf32> {\n %0 = stablehlo.add %x, %x : tensor<3xf32>\n return %0 : tensor<3xf32>\n}")).unwrap();
        println!("logical ids: {:?}", exe.addressable_device_logical_ids());
        println!("param kinds: {:?}", exe.parameter_memory_kinds());
        println!(
            "load: {:?}",
            c.load(exe.executable(), &CompileOptions::default())
                .map(|_| ())
        );
        println!("ugpi: {:?}", c.update_global_process_info(&[]));
        let tm = c.create_buffers_for_async_host_to_device(
            &[ShapeSpec::new(ElementType::F32, &[4])],
            None,
            &mem,
        );
        println!("tm: {:?}", tm.as_ref().map(|_| ()));
        if let Ok(tm) = tm {
            println!(
                " count {:?} size {:?} dev {:?} meta {:?}",
                tm.buffer_count(),
                tm.buffer_size(0),
                tm.device().map(|d| d.id()),
                tm.add_metadata(&[])
            );
            let l = tm.transfer_literal(0, &Literal::vector(&[1f32, 2., 3., 4.]));
            println!(" lit {:?}", l);
            if l.is_ok() {
                println!(
                    " buf {:?}",
                    tm.retrieve_buffer(0).map(|b| b.to_vec::<f32>())
                );
            }
        }
        for e in plugin.extensions() {
            println!("ext {:?}", e);
        }
        if let Some(l) = plugin.extension::<ext::layouts::Layouts>() {
            println!(
                "layouts: client {:?}",
                l.client_default_layout(&c, ElementType::F32, &[2, 3])
                    .map(|l| l.serialize())
            );
            println!(
                "layouts: buffer {:?}",
                l.buffer_layout(&b).map(|l| l.serialize())
            );
            println!(
                "layouts: exe out {:?} params {:?}",
                l.executable_output_layouts(exe.executable()),
                l.executable_parameter_layouts(exe.executable())
            );
            if let Ok(t) = c.topology() {
                println!(
                    "layouts: topo {:?}",
                    l.topology_default_layout(&t, ElementType::F32, &[2, 3])
                        .map(|l| l.serialize())
                );
            }
        }
        if let Some(s) = plugin.extension::<ext::shardings::Shardings>() {
            println!(
                "shardings {:?} {:?}",
                s.parameter_shardings(exe.executable()),
                s.output_shardings(exe.executable())
            );
        }
        if let Some(m) = plugin.extension::<ext::memory_descriptions::MemoryDescriptions>() {
            println!(
                "memdesc {:?}",
                m.memory_descriptions(&d.description().unwrap())
            );
        }
        if let Some(pc) = plugin.extension::<ext::phase_compile::PhaseCompile>() {
            println!("phase {:?}", pc.compiler().map(|_| ()));
        }
    }
}
