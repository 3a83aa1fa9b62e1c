//! Exercises of the core table's functions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use pjrt::*;

use super::Ctx;

const ADD_SELF: &str = "func.func @main(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = stablehlo.add %x, %x : tensor<3xf32>
  return %0 : tensor<3xf32>
}";

/// Asserts a result is the "not implemented" kind (missing slot or UNIMPLEMENTED code).
#[track_caller]
pub fn assert_unimplemented<T>(r: Result<T>) {
    match r {
        Err(e) if e.is_unimplemented() => {}
        Err(e) => panic!("expected Unimplemented, got {e:?}"),
        Ok(_) => panic!("expected Unimplemented, got Ok"),
    }
}

/// Asserts a result is a plugin error with this code.
#[track_caller]
pub fn assert_code<T>(r: Result<T>, code: ErrorCode) {
    match r {
        Err(e) if e.code() == Some(code) => {}
        Err(e) => panic!("expected a {code} error, got {e:?}"),
        Ok(_) => panic!("expected a {code} error, got Ok"),
    }
}

fn default_memory(c: &Client) -> Memory {
    c.first_device().unwrap().default_memory().unwrap()
}

/// The base API (mostly wrapped by the core modules): called here too so the coverage
/// evidence covers every function each plugin has.
pub fn base_api(ctx: &Ctx) {
    let c = &ctx.client;
    let p = &ctx.plugin;
    assert!(!p.attributes().unwrap().is_empty());
    assert_eq!(c.platform_name(), "cpu");
    assert_eq!(c.process_index().unwrap(), 0);
    let devices = c.devices().unwrap();
    assert_eq!(devices.len(), 4);
    assert_eq!(c.addressable_devices().unwrap().len(), 4);
    assert!(c.addressable_memories().unwrap().len() >= 4);
    assert_eq!(c.lookup_device(1).unwrap().id().unwrap(), 1);
    assert_eq!(
        c.lookup_addressable_device(2)
            .unwrap()
            .local_hardware_id()
            .unwrap(),
        2
    );
    assert_eq!(
        c.default_device_assignment(2, 1).unwrap().device(1, 0),
        Some(1)
    );
    let d = &devices[0];
    let desc = d.description().unwrap();
    assert_eq!(desc.process_index().unwrap(), 0);
    assert!(!desc.kind().unwrap().is_empty());
    let _ = desc.attributes().unwrap();
    assert!(!desc.debug_string().unwrap().is_empty());
    assert!(!desc.to_string_repr().unwrap().is_empty());
    assert!(d.is_addressable().unwrap());
    let mem = d.default_memory().unwrap();
    assert!(d.addressable_memories().unwrap().contains(&mem));
    let _ = mem.id().unwrap();
    assert!(!mem.kind().unwrap().is_empty());
    let _ = mem.kind_id().unwrap();
    assert!(!mem.debug_string().unwrap().is_empty());
    assert!(!mem.to_string_repr().unwrap().is_empty());
    assert!(mem.addressable_by_devices().unwrap().contains(d));
    // CPU plugins: memory stats are UNIMPLEMENTED.
    assert_unimplemented(d.memory_stats());

    // Without the compilation cache: these are the plugin's own Compile and Serialize,
    // whatever earlier runs left in the cache.
    let exe = c
        .compile_with(
            &Program::mlir_text(ADD_SELF),
            &CompileOptions::new().no_compile_cache(),
        )
        .unwrap();
    assert_eq!(exe.num_replicas().unwrap(), 1);
    assert_eq!(exe.num_partitions().unwrap(), 1);
    assert_eq!(exe.output_element_types().unwrap(), vec![ElementType::F32]);
    assert_eq!(exe.output_dims().unwrap(), vec![vec![3]]);
    match exe.output_memory_kinds() {
        Ok(k) => assert_eq!(k.len(), 1),
        Err(e) => assert!(ctx.minor < 115 && e.is_unimplemented(), "{e}"),
    }
    let _ = exe.code_size();
    let _ = exe.fingerprint();
    let _ = exe.cost_analysis();
    let _ = exe.compiled_memory_stats();
    let _ = exe.optimized_program().unwrap();
    let _ = exe.compile_options();
    let _ = exe.loaded_fingerprint();
    let _ = exe.device_assignment();
    assert!(!exe.is_deleted().unwrap());
    let x = c.buffer_from_host(&[1f32, 2., 3.], &[3]).unwrap();
    assert!(x.is_on_cpu().unwrap());
    assert_eq!(x.unpadded_dims().unwrap(), vec![3]);
    assert!(x.dynamic_dims().unwrap().is_empty());
    assert!(x.on_device_size().unwrap() >= 12);
    assert_eq!(x.memory().unwrap(), mem);
    assert_eq!(&x.device().unwrap(), d);
    let _ = x.layout().unwrap();
    x.ready_event().unwrap().wait().unwrap();
    let mut ev = x.ready_event().unwrap();
    assert!(ev.is_ready().unwrap());
    {
        // Polling a finished event as a Future reads its error (PJRT_Event_Error).
        use std::future::Future;
        use std::task::{Context, Poll, Wake, Waker};
        struct Noop;
        impl Wake for Noop {
            fn wake(self: Arc<Self>) {}
        }
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        match std::pin::Pin::new(&mut ev).poll(&mut cx) {
            Poll::Ready(r) => r.unwrap(),
            Poll::Pending => panic!("a ready event polled as pending"),
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    ev.on_ready(move |r| tx.send(r.is_ok()).unwrap()).unwrap();
    assert!(rx.recv().unwrap());
    let out = exe.execute(&[&x]).unwrap();
    assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![2., 4., 6.]);
    let mut raw = [0u8; 4];
    out[0].copy_raw_to_host(4, &mut raw).unwrap();
    assert_eq!(f32::from_ne_bytes(raw), 4.0);
    let y = out[0].copy_to_device(&devices[1]).unwrap();
    assert_eq!(y.to_vec::<f32>().unwrap(), vec![2., 4., 6.]);
    let z = out[0].copy_to_memory(&mem).unwrap();
    assert_eq!(z.to_vec::<f32>().unwrap(), vec![2., 4., 6.]);
    let ser = exe.serialize().unwrap();
    let back = c.deserialize_executable(&ser).unwrap();
    assert_eq!(
        back.run(&[&Literal::vector(&[1f32, 1., 1.])]).unwrap()[0]
            .to_vec::<f32>()
            .unwrap(),
        vec![2., 2., 2.]
    );
    if ctx.minor >= 85 {
        let e = c
            .create_error_buffer(ErrorCode::Aborted, "boom", ElementType::F32, &[2], None)
            .unwrap();
        assert!(e.to_vec::<f32>().unwrap_err().to_string().contains("boom"));
    }
    z.delete().unwrap();
    assert!(z.is_deleted().unwrap());
    exe.delete().unwrap();
}

/// A 64 MiB buffer filled through the async transfer manager in 4 MiB chunks, read back
/// byte for byte; then the manager's other queries.
pub fn transfer_manager_64mib(ctx: &Ctx) {
    let c = &ctx.client;
    const N: usize = 16 << 20; // f32 elements: 64 MiB
    let spec = ShapeSpec::new(ElementType::F32, &[N as i64]);
    let tm = c
        .create_buffers_for_async_host_to_device(&[spec], None, &default_memory(c))
        .unwrap();
    assert_eq!(tm.buffer_count().unwrap(), 1);
    assert_eq!(tm.buffer_size(0).unwrap(), N * 4);
    assert_eq!(tm.device().unwrap().id().unwrap(), 0);
    // A pattern that differs in every byte position of a chunk.
    let data: Vec<u8> = (0..N * 4)
        .map(|i| (i % 251) as u8 ^ (i >> 20) as u8)
        .collect();
    let chunk = 4 << 20;
    let mut off = 0;
    while off < data.len() {
        let end = (off + chunk).min(data.len());
        if off == chunk {
            // One chunk handed over by value, released when the plugin is done with it.
            let ev = tm
                .transfer_data_owned(0, off, data[off..end].to_vec(), false)
                .unwrap();
            if let Some(ev) = ev {
                ev.wait().unwrap();
            }
        } else {
            tm.transfer_data(0, off, &data[off..end], end == data.len())
                .unwrap();
        }
        off = end;
    }
    let b = tm.retrieve_buffer(0).unwrap();
    let back = b.to_host_bytes().unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back == data, "64 MiB round trip differs");
    // Refused before the call: a second retrieve, an index out of range, a transfer past
    // the end or after the last one.
    assert!(tm.retrieve_buffer(0).is_err());
    assert!(tm
        .buffer_size(1)
        .unwrap_err()
        .to_string()
        .contains("out of range"));
    assert!(tm
        .transfer_data(0, 0, &[0u8; 4], true)
        .unwrap_err()
        .to_string()
        .contains("last transfer"));
    let tm2 = c
        .create_buffers_for_async_host_to_device(
            &[ShapeSpec::new(ElementType::F32, &[4])],
            None,
            &default_memory(c),
        )
        .unwrap();
    assert!(tm2
        .transfer_data(0, 8, &[0u8; 12], true)
        .unwrap_err()
        .to_string()
        .contains("exceed"));
    // Dropping tm2 with its buffer unfinished fails the buffer rather than hanging readers.
    let pending = tm2.retrieve_buffer(0).unwrap();
    drop(tm2);
    assert!(pending
        .to_vec::<f32>()
        .unwrap_err()
        .to_string()
        .contains("dropped"));
}

/// TransferLiteral (0.106+; absent from 0.81's table) always gets a layout, SetBufferError,
/// AddMetadata, device layouts.
pub fn transfer_manager_literal_and_errors(ctx: &Ctx) {
    let c = &ctx.client;
    let mem = default_memory(c);
    let specs = [
        ShapeSpec::new(ElementType::F32, &[2, 3]),
        ShapeSpec::new(ElementType::S32, &[2]),
    ];
    let layouts = [MemoryLayout::row_major(2), MemoryLayout::row_major(1)];
    let tm = c
        .create_buffers_for_async_host_to_device(&specs, Some(&layouts), &mem)
        .unwrap();
    assert_eq!(tm.buffer_count().unwrap(), 2);
    tm.add_metadata(&[NamedValue::new("note", "capi test")])
        .unwrap();
    let lit = Literal::from_slice(&[1f32, 2., 3., 4., 5., 6.], &[2, 3]).unwrap();
    // A literal of the wrong shape is refused before the plugin sees it.
    assert!(tm.transfer_literal(0, &Literal::vector(&[1f32])).is_err());
    let r = tm.transfer_literal(0, &lit);
    if ctx.minor < 106 {
        assert_unimplemented(r);
        tm.transfer_data(0, 0, lit.as_bytes(), true).unwrap();
    } else {
        r.unwrap();
    }
    assert_eq!(
        tm.retrieve_buffer(0).unwrap().to_vec::<f32>().unwrap(),
        vec![1., 2., 3., 4., 5., 6.]
    );
    tm.set_buffer_error(1, ErrorCode::DataLoss, "lost on the way")
        .unwrap();
    let b1 = tm.retrieve_buffer(1).unwrap();
    let e = b1.to_vec::<i32>().unwrap_err();
    assert!(e.to_string().contains("lost on the way"), "{e}");
    assert!(tm.set_buffer_error(1, ErrorCode::Ok, "").is_err());
    // A layout that is not a permutation is refused before the call.
    let bad = [MemoryLayout::Tiled {
        minor_to_major: vec![0, 0],
        tiles: vec![],
    }];
    assert!(c
        .create_buffers_for_async_host_to_device(&specs[..1], Some(&bad), &mem)
        .is_err());
}

pub fn topology(ctx: &Ctx) {
    let c = &ctx.client;
    let t = c.topology().unwrap();
    assert_eq!(t.platform_name().unwrap(), "cpu");
    assert!(!t.platform_version().unwrap().is_empty());
    let devs = t.device_descriptions().unwrap();
    assert_eq!(
        devs.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );
    assert!(devs
        .iter()
        .all(|d| d.process_index == 0 && !d.kind.is_empty()));
    let bytes = t.serialize().unwrap();
    assert!(bytes.len() > 100, "{}", bytes.len());
    let _ = t.attributes().unwrap();
    let fp = t.fingerprint();
    let kinds = t.memory_space_kind_ids();
    let canon = t.canonical_shape_for_memory_space(0, ElementType::F32, &[2, 3], None);
    let de = TopologyDescription::deserialize(&ctx.plugin, &bytes);
    match ctx.minor {
        81 => {
            assert_unimplemented(fp);
            assert_unimplemented(kinds);
            assert_unimplemented(canon);
            assert_code(de, ErrorCode::NotFound);
        }
        106 => {
            assert_ne!(fp.unwrap(), 0);
            assert_unimplemented(kinds);
            assert_unimplemented(canon);
            assert_code(de, ErrorCode::NotFound);
        }
        _ => {
            let fp = fp.unwrap();
            assert_eq!(fp, c.topology().unwrap().fingerprint().unwrap());
            assert!(!kinds.unwrap().is_empty());
            assert!(!canon.unwrap().is_empty());
            let de = de.unwrap();
            assert_eq!(de.platform_name().unwrap(), "cpu");
            assert_eq!(de.fingerprint().unwrap(), fp);
        }
    }
    // Creating a topology without a client: UNIMPLEMENTED on every CPU plugin.
    assert_code(
        TopologyDescription::create(&ctx.plugin, "cpu", &[]),
        ErrorCode::Unimplemented,
    );
}

pub fn topology_compile_and_load(ctx: &Ctx) {
    let c = &ctx.client;
    let t = c.topology().unwrap();
    let prog = Program::mlir_text(ADD_SELF);
    let compiled = t.compile(&prog, &CompileOptions::default(), Some(c));
    let loaded = c.compile(&prog).unwrap();
    if ctx.minor < 115 {
        // No compiler registered for a bare topology in the older plugins.
        assert_code(compiled, ErrorCode::NotFound);
    } else {
        let exe = compiled.unwrap();
        let le = c.load(&exe, &CompileOptions::default()).unwrap();
        let out = le.run(&[&Literal::vector(&[1f32, 2., 3.])]).unwrap();
        assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![2., 4., 6.]); // x + x
    }
    // Loading the executable of an already loaded one is refused (it has no shared form).
    let r = c.load(loaded.executable(), &CompileOptions::default());
    if ctx.minor < 106 {
        assert_unimplemented(r);
    } else {
        assert_code(r, ErrorCode::InvalidArgument);
    }
}

pub fn special_buffers(ctx: &Ctx) {
    let c = &ctx.client;
    let mem = default_memory(c);
    let u = c
        .create_uninitialized_buffer(
            ElementType::F32,
            &[2, 2],
            Some(&MemoryLayout::row_major(2)),
            &BufferPlacement::default(),
        )
        .unwrap();
    assert_eq!(u.dims().unwrap(), vec![2, 2]);
    assert_eq!(u.on_device_size().unwrap(), 16);
    let bad = MemoryLayout::Tiled {
        minor_to_major: vec![5],
        tiles: vec![],
    };
    assert!(c
        .create_uninitialized_buffer(
            ElementType::F32,
            &[2],
            Some(&bad),
            &BufferPlacement::default()
        )
        .is_err());

    // Alias: usable once fulfilled with a real buffer.
    let (alias, f) = c
        .create_alias_buffer(&mem, ElementType::F32, &[3], None)
        .unwrap();
    let real = c.buffer_from_host(&[7f32, 8., 9.], &[3]).unwrap();
    f.fulfill(&real).unwrap();
    assert_eq!(alias.to_vec::<f32>().unwrap(), vec![7., 8., 9.]);
    // ... or failed.
    let (alias2, f2) = c
        .create_alias_buffer(&mem, ElementType::F32, &[3], None)
        .unwrap();
    f2.fail(ErrorCode::Aborted, "never came").unwrap();
    assert!(alias2
        .to_vec::<f32>()
        .unwrap_err()
        .to_string()
        .contains("never came"));

    // Bitcast (0.106+): same bytes, other type; the source is consumed (deleted).
    let b = c.buffer_from_host(&[1f32, 2., 3., 4.], &[4]).unwrap();
    let r = b.bitcast(ElementType::S32, &[2, 2], None);
    if ctx.minor < 106 {
        assert_unimplemented(r);
    } else {
        let bits = r.unwrap();
        assert_eq!(
            bits.to_vec::<i32>().unwrap(),
            [1f32, 2., 3., 4.]
                .iter()
                .map(|f| f.to_bits() as i32)
                .collect::<Vec<_>>()
        );
        assert!(b.is_deleted().unwrap(), "bitcast consumes its source");
    }
}

pub fn raw_copy_future_and_donation(ctx: &Ctx) {
    let c = &ctx.client;
    let b = c.buffer_from_host(&[1f32, 2., 3., 4.], &[4]).unwrap();
    assert!(b
        .copy_raw_to_host_future(12, 8)
        .err()
        .unwrap()
        .to_string()
        .contains("exceed"));
    let r = b.copy_raw_to_host_future(4, 8);
    if ctx.minor < 106 {
        assert_unimplemented(r);
    } else {
        let pending = r.unwrap();
        assert_eq!(pending.len(), 8);
        let bytes = pending.complete().unwrap();
        assert_eq!(bytes, [2f32.to_ne_bytes(), 3f32.to_ne_bytes()].concat());
        // Dropped without a destination: cancelled cleanly.
        drop(b.copy_raw_to_host_future(0, 4).unwrap());
    }
    let d = c.buffer_from_host(&[5f32, 6.], &[2]).unwrap();
    let r = d.donate_with_control_dependency();
    match ctx.minor {
        81 => assert_unimplemented(r),
        106 => assert_code(r, ErrorCode::Unimplemented),
        _ => {
            let (nb, dep) = r.unwrap();
            assert!(d.is_deleted().unwrap());
            dep.ready();
            assert_eq!(nb.to_vec::<f32>().unwrap(), vec![5., 6.]);
        }
    }
}

pub fn raw_pointers_views_dma(ctx: &Ctx) {
    let c = &ctx.client;
    let b = c.buffer_from_host(&[1.5f32, 2.5], &[2]).unwrap();
    b.ready_event().unwrap().wait().unwrap();
    // SAFETY: the buffer is ready and pinned by the external reference while we read.
    unsafe {
        let p = b.unsafe_pointer().unwrap();
        let q = b.opaque_device_memory_pointer().unwrap();
        assert_eq!(p, q as usize);
        let guard = b.external_reference().unwrap();
        let v = std::slice::from_raw_parts(guard.device_pointer().unwrap().cast::<f32>(), 2);
        assert_eq!(v, &[1.5, 2.5]);
        drop(guard);
        b.increase_external_reference_count().unwrap();
        b.decrease_external_reference_count().unwrap();
    }
    // A view of host memory we own (CPU device memory is host memory; the plugins want
    // 64-byte alignment).
    let layout = std::alloc::Layout::from_size_align(16, 64).unwrap();
    // SAFETY: a non-zero-size layout.
    let ptr = unsafe { std::alloc::alloc(layout) };
    assert!(!ptr.is_null());
    // SAFETY: 16 writable bytes.
    unsafe { std::ptr::copy_nonoverlapping([3f32, 1., 4., 1.].as_ptr().cast::<u8>(), ptr, 16) };
    let freed = Arc::new(AtomicUsize::new(0));
    let f2 = freed.clone();
    let addr = ptr as usize;
    // SAFETY: the memory lives until the view's on-delete callback frees it.
    let view = unsafe {
        c.create_view_of_device_buffer(
            ptr.cast(),
            ElementType::F32,
            &[4],
            None,
            &BufferPlacement::default(),
            Some(Box::new(move || {
                std::alloc::dealloc(addr as *mut u8, layout);
                f2.fetch_add(1, Ordering::SeqCst);
            })),
        )
    }
    .unwrap();
    assert_eq!(view.to_vec::<f32>().unwrap(), vec![3., 1., 4., 1.]);
    drop(view);
    // The plugin runs on-delete when it releases the memory (0.106: shortly after).
    let t0 = std::time::Instant::now();
    while freed.load(Ordering::SeqCst) == 0 && t0.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(freed.load(Ordering::SeqCst), 1, "on-delete ran once");
    // DMA mapping: not supported by the CPU plugins.
    let mut host = vec![0u8; 4096];
    assert_code(
        c.dma_map_slice(&mut host).map(|_| ()),
        ErrorCode::Unimplemented,
    );
    // SAFETY: nothing was mapped; the plugin refuses.
    assert_code(
        unsafe { c.dma_unmap(host.as_mut_ptr().cast()) },
        ErrorCode::Unimplemented,
    );
}

pub fn device_extras(ctx: &Ctx) {
    let d = ctx.client.first_device().unwrap();
    let attrs = d.attributes();
    let stats = d.clear_memory_stats();
    let poison = d.poison_execution(
        12345,
        ErrorCode::Internal,
        "poisoned",
        &[NamedValue::new("k", "v")],
    );
    let tracking = d.create_async_tracking_event("capi test");
    assert!(d.poison_execution(1, ErrorCode::Ok, "", &[]).is_err());
    if ctx.minor < 106 {
        assert_unimplemented(attrs);
        assert_unimplemented(stats);
        assert_unimplemented(poison);
        assert_unimplemented(tracking.map(|_| ()));
    } else {
        let _ = attrs.unwrap();
        assert_code(stats, ErrorCode::Unimplemented);
        assert!(
            !poison.unwrap(),
            "no execution with that launch id is running"
        );
        assert!(tracking.unwrap().is_none(), "CPU plugins do not track");
    }
}

pub fn user_events(ctx: &Ctx) {
    let r = UserEvent::new(&ctx.plugin);
    if ctx.minor < 106 {
        assert_unimplemented(r.map(|_| ()));
        return;
    }
    let e = r.unwrap();
    assert!(!e.is_ready().unwrap());
    let seen = Arc::new(Mutex::new(None));
    let s2 = seen.clone();
    e.on_ready(move |r| *s2.lock().unwrap() = Some(r.is_ok()))
        .unwrap();
    e.set_ok().unwrap();
    e.wait().unwrap();
    assert_eq!(*seen.lock().unwrap(), Some(true));
    assert!(
        e.set_ok().is_err(),
        "a second set is refused before the call"
    );
    let e2 = UserEvent::new(&ctx.plugin).unwrap();
    e2.set_error(ErrorCode::Aborted, "gave up").unwrap();
    let err = e2.wait().unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Aborted));
    assert!(err.to_string().contains("gave up"));
    // Dropped unset: completed with CANCELLED, nothing hangs.
    drop(UserEvent::new(&ctx.plugin).unwrap());
}

pub fn executable_extras(ctx: &Ctx) {
    let c = &ctx.client;
    let exe = c.compile(&Program::mlir_text(ADD_SELF)).unwrap();
    let ids = exe.addressable_device_logical_ids();
    let kinds = exe.parameter_memory_kinds();
    match ctx.minor {
        81 => {
            assert_unimplemented(ids);
            assert_unimplemented(kinds);
        }
        106 => {
            assert_eq!(
                ids.unwrap(),
                vec![LogicalDeviceId {
                    replica: 0,
                    partition: 0
                }]
            );
            assert_code(kinds, ErrorCode::Unimplemented);
        }
        _ => {
            assert_eq!(
                ids.unwrap(),
                vec![LogicalDeviceId {
                    replica: 0,
                    partition: 0
                }]
            );
            assert_eq!(kinds.unwrap(), vec!["device".to_string()]);
        }
    }
    let ctx_ = ExecuteContext::new(&ctx.plugin).unwrap();
    let x = c.buffer_from_host(&[1f32, 2., 3.], &[3]).unwrap();
    let out = exe
        .execute_with_context(&[&x], Some(&ctx_), HostCallbacks::default())
        .unwrap();
    assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![2., 4., 6.]);
}

pub fn kv_store_client(ctx: &Ctx) {
    let store = Arc::new(MemoryKeyValueStore::new());
    let c = Client::with_key_value_store(
        &ctx.plugin,
        &ClientOptions::new().cpu_device_count(2),
        store.clone(),
    )
    .unwrap();
    assert_eq!(c.devices().unwrap().len(), 2);
    let out = c
        .compile(&Program::mlir_text(ADD_SELF))
        .unwrap()
        .run(&[&Literal::vector(&[1f32, 1., 2.])])
        .unwrap();
    assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![2., 2., 4.]);
    // The CPU plugins never use the store.
    assert!(store.is_empty());
    let info = ProcessInfo {
        task_id: 0,
        incarnation_id: 1,
        state: ProcessState::Connected,
        error_code: ErrorCode::Ok,
        error_message: String::new(),
    };
    // Accepted (and ignored, with a warning) by every CPU plugin.
    c.update_global_process_info(&[info]).unwrap();
    // An error passes through PJRT_Error_ForEachPayload (0.106+) on its way to Rust.
    let e = c.lookup_device(999).unwrap_err();
    assert!(e.code().is_some(), "{e}");
    assert!(
        !e.to_string().contains("[payload"),
        "CPU errors carry no payload: {e}"
    );
}

/// On the 0.81 plugin, each of the 20 functions past its 118-slot table is Unimplemented
/// without any call into the plugin.
pub fn past_table_0_81(ctx: &Ctx) {
    if ctx.minor != 81 {
        return;
    }
    let p = &ctx.plugin;
    let c = &ctx.client;
    assert_eq!(p.api_struct_size(), 40 + 8 * 118);
    let past: Vec<&str> = pjrt_sys::API_SLOT_NAMES[118..].to_vec();
    assert_eq!(past.len(), 20);
    for name in &past {
        assert!(!p.has_function(name), "{name}");
    }
    let d = c.first_device().unwrap();
    let mem = default_memory(c);
    let b = c.buffer_from_host(&[1f32, 2.], &[2]).unwrap();
    let exe = c.compile(&Program::mlir_text(ADD_SELF)).unwrap();
    let t = c.topology().unwrap();
    let tm = c
        .create_buffers_for_async_host_to_device(
            &[ShapeSpec::new(ElementType::F32, &[2])],
            None,
            &mem,
        )
        .unwrap();
    let n = std::cell::Cell::new(0);
    let check = |r: Result<()>| {
        assert_unimplemented(r);
        n.set(n.get() + 1);
    };
    check(
        c.create_error_buffer(ErrorCode::Aborted, "x", ElementType::F32, &[1], None)
            .map(|_| ()),
    ); // 118
    check(tm.transfer_literal(0, &Literal::vector(&[1f32, 2.]))); // 119
    check(b.copy_raw_to_host_future(0, 4).map(|_| ())); // 120
    check(
        d.poison_execution(1, ErrorCode::Internal, "x", &[])
            .map(|_| ()),
    ); // 121
    check(d.create_async_tracking_event("x").map(|_| ())); // 122
                                                           // 123 PJRT_AsyncTrackingEvent_Destroy: only reachable from an event 122 would make;
                                                           // its absence is the `has_function` check above.
    n.set(n.get() + 1);
    check(exe.executable().compile_options().map(|_| ())); // 124
    check(b.donate_with_control_dependency().map(|_| ())); // 125
    check(UserEvent::new(p).map(|_| ())); // 126
                                          // 127 PJRT_Event_Set needs an event from 126; see `has_function`.
    n.set(n.get() + 1);
    check(d.attributes().map(|_| ())); // 128
    check(
        c.load(exe.executable(), &CompileOptions::default())
            .map(|_| ()),
    ); // 129
    check(exe.addressable_device_logical_ids().map(|_| ())); // 130
    check(b.bitcast(ElementType::S32, &[2], None).map(|_| ())); // 131
                                                                // 132 PJRT_Error_ForEachPayload: every error's conversion tries it (recorded absent).
    let _ = c.lookup_device(999);
    n.set(n.get() + 1);
    check(t.fingerprint().map(|_| ())); // 133
    check(exe.executable().parameter_memory_kinds().map(|_| ())); // 134
    check(d.clear_memory_stats()); // 135
    check(
        t.canonical_shape_for_memory_space(0, ElementType::F32, &[1], None)
            .map(|_| ()),
    ); // 136
    check(t.memory_space_kind_ids().map(|_| ())); // 137
    assert_eq!(n.get(), 20);
    // The transfer manager's buffer was never filled: fail it on drop (done by Drop).
    drop(tm);
}
