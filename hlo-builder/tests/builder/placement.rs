//! Memory kinds: parameters and results declared in a memory kind, in-program moves, and
//! the checks before compile. On the CPU plugins placements are honoured from PJRT API
//! 0.115; before that compiling a placed module is an error naming the kind and the plugin.

use crate::common::*;
use pjrt::{BufferPlacement, HostBufferSemantics};

/// `main(x: f32[4] in pinned_host, y: f32[4]) -> (2x + y in pinned_host, y)`, computing on
/// the device: x is moved in, the sum moved out.
fn offloaded_sum() -> Module {
    let mut b = Builder::new("offloaded");
    let x = b.parameter("x", F32, [4]).unwrap();
    let y = b.parameter("y", F32, [4]).unwrap();
    let xd = b.place(x, MemoryKind::DEVICE).unwrap();
    let two = b.add(xd, xd).unwrap();
    let s = b.add(two, y).unwrap();
    let out = b.place(s, MemoryKind::PINNED_HOST).unwrap();
    b.build_with_placement(
        &[out, y],
        &[],
        &Placement::new()
            .parameter(0, MemoryKind::PINNED_HOST)
            .result(0, MemoryKind::PINNED_HOST),
    )
    .unwrap()
}

#[test]
fn placed_parameters_results_and_moves_are_emitted_as_xla_reads_them() {
    let m = offloaded_sum();
    let t = m.to_text();
    assert!(t.contains(r#"mhlo.memory_kind = "pinned_host""#), "{t}");
    assert!(t.contains(r#"mhlo.memory_kind = "device""#), "{t}");
    assert_eq!(t.matches("annotate_device_placement").count(), 2, "{t}");
    assert!(t.contains(r#"_xla_buffer_placement = "device""#), "{t}");
    assert!(
        t.contains(r#"_xla_buffer_placement = "pinned_host""#),
        "{t}"
    );
    assert_eq!(
        m.memory_kinds(),
        [MemoryKind::PINNED_HOST, MemoryKind::DEVICE]
    );
    assert_eq!(m.placement().result_kind(0), &MemoryKind::PINNED_HOST);
    assert_eq!(m.placement().result_kind(1), &MemoryKind::DEVICE);
}

#[test]
fn a_placed_module_runs_where_the_plugin_honours_placement_and_is_refused_before_compile_elsewhere()
{
    let c = client();
    let m = offloaded_sum();
    let minor = c.plugin().api_version().minor;
    match m.compile(c) {
        Ok(exe) => {
            assert!(minor >= 115, "compiled on API {minor}");
            let e = exe.loaded().executable();
            assert_eq!(
                e.parameter_memory_kinds().unwrap(),
                ["pinned_host", "device"]
            );
            assert_eq!(e.output_memory_kinds().unwrap(), ["pinned_host", "device"]);
            let pinned = c
                .first_device()
                .unwrap()
                .memory_of_kind("pinned_host")
                .unwrap();
            let x = c
                .buffer_from_host_with(
                    &[1f32, 2., 3., 4.],
                    &[4],
                    HostBufferSemantics::ImmutableOnlyDuringCall,
                    &BufferPlacement::memory(&pinned),
                )
                .unwrap();
            let y = c.buffer_from_host(&[10f32, 20., 30., 40.], &[4]).unwrap();
            assert_eq!(x.memory_kind().unwrap(), "pinned_host");
            let out = exe.loaded().execute(&[&x, &y]).unwrap();
            assert_eq!(out[0].memory_kind().unwrap(), "pinned_host");
            assert_eq!(out[1].memory_kind().unwrap(), "device");
            // 2x + y
            assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![12., 24., 36., 48.]);
            // And from host data, through `run`.
            let r = exe
                .run(&[
                    &lit(&[1f32, 1., 1., 1.], &[4]),
                    &lit(&[0f32, 1., 2., 3.], &[4]),
                ])
                .unwrap();
            assert_eq!(f32s(&r[0]), vec![2., 3., 4., 5.]);
        }
        Err(e) => {
            assert!(minor < 115, "{e}");
            let s = e.to_string();
            assert!(
                s.contains("`pinned_host`") && s.contains("not honoured"),
                "{s}"
            );
        }
    }
}

#[test]
fn a_memory_kind_the_client_lacks_is_an_error_before_compile() {
    let mut b = Builder::new("vmem");
    let x = b.parameter("x", F32, [2]).unwrap();
    let y = b.place(x, MemoryKind::new("vmem").unwrap()).unwrap();
    let m = b.build(&[y]).unwrap();
    let e = m.compile(client()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Module::compile: no memory of kind `vmem` here; the memories are: device, pinned_host, unpinned_host"
    );
    let m = b
        .build_with_placement(
            &[x],
            &[],
            &Placement::new().parameter(0, MemoryKind::new("hbm").unwrap()),
        )
        .unwrap();
    assert!(m
        .compile(client())
        .unwrap_err()
        .to_string()
        .contains("`hbm`"));
}

#[test]
fn bad_kinds_and_placements_are_errors_naming_them() {
    let e = MemoryKind::new("Pinned Host").unwrap_err();
    assert!(e.to_string().contains("\"Pinned Host\""), "{e}");
    assert!(MemoryKind::new("").is_err());
    let mut b = Builder::new("p");
    let x = b.parameter("x", F32, [2]).unwrap();
    let e = b
        .build_with_placement(
            &[x],
            &[],
            &Placement::new().result(1, MemoryKind::PINNED_HOST),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("place result 1 in `pinned_host`: out of range (the function has 1 results)"),
        "{e}"
    );
    let e = b
        .build_with_placement(
            &[x],
            &[(0, 0)],
            &Placement::new().parameter(0, MemoryKind::PINNED_HOST),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("the parameter is placed in `pinned_host` but the result in `device`"),
        "{e}"
    );
    // A move has the operand's type and nothing else.
    let y = b.place(x, MemoryKind::PINNED_HOST).unwrap();
    assert_eq!(b.ty(y).unwrap(), b.ty(x).unwrap());
}

#[test]
fn a_move_to_the_device_is_checked_like_any_placement() {
    // `place(x, DEVICE)` names the default memory, yet the move itself is a custom call that
    // the CPU plugins compile only from API 0.115: refused before compile on older ones.
    let mut b = Builder::new("to_device");
    let x = b.parameter("x", F32, [3]).unwrap();
    let y = b.place(x, MemoryKind::DEVICE).unwrap();
    let y = b.mul(y, y).unwrap();
    let m = b.build(&[y]).unwrap();
    let c = client();
    match m.compile(c) {
        Ok(exe) => {
            assert!(c.plugin().api_version().minor >= 115);
            let r = exe.run(&[&lit(&[1f32, -2., 3.], &[3])]).unwrap();
            assert_eq!(f32s(&r[0]), vec![1., 4., 9.]);
        }
        Err(e) => {
            assert!(c.plugin().api_version().minor < 115, "{e}");
            let s = e.to_string();
            assert!(
                s.contains("`device`") && s.contains("annotate_device_placement"),
                "{s}"
            );
        }
    }
}

#[test]
fn auto_layouts_are_emitted_per_value_and_checked_for_range() {
    use hlo_builder::LayoutMode;
    let mut b = Builder::new("auto");
    let x = b.parameter("x", F32, [2, 3]).unwrap();
    let y = b.parameter("y", F32, [3]).unwrap();
    let t = b.transpose(x, [1, 0]).unwrap();
    let p = Placement::new()
        .parameter_layout(1, LayoutMode::Auto)
        .result_layout(0, LayoutMode::Auto)
        .result_layout(1, LayoutMode::Auto)
        .result_layout(1, LayoutMode::Default);
    assert_eq!(p.parameter_layout_mode(0), LayoutMode::Default);
    assert_eq!(p.result_layout_mode(1), LayoutMode::Default);
    let m = b.build_with_placement(&[t, y], &[], &p).unwrap();
    let text = m.to_text();
    // Parameter 1 and result 0 only; no memory kinds (none was named).
    assert_eq!(
        text.matches("mhlo.layout_mode = \"auto\"").count(),
        2,
        "{text}"
    );
    assert!(!text.contains("mhlo.memory_kind"), "{text}");
    let e = b
        .build_with_placement(
            &[t],
            &[],
            &Placement::new().parameter_layout(2, LayoutMode::Auto),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("auto layout of parameter 2: out of range (the function has 2 parameters)"),
        "{e}"
    );
}
