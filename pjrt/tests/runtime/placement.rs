//! Memory kinds on the plugin under test: the memories of a device, buffers put straight
//! into one, programs whose parameters and results are declared in a memory kind
//! (`mhlo.memory_kind`) and in-program moves (`annotate_device_placement`). What each plugin
//! does is written down in docs/placement.md; these tests hold it.

use super::common::{client, compile, minor, mlir};
use pjrt::{BufferPlacement, Error, ErrorCode, HostBufferSemantics};

const KINDS: [&str; 3] = ["device", "pinned_host", "unpinned_host"];

/// `main(x: f32[4]) -> x + x`, with attributes on the parameter and the result.
fn doubling(arg_attr: &str, res_attr: &str) -> String {
    format!(
        r#"module {{
  func.func @main(%arg0: tensor<4xf32> {arg_attr}) -> (tensor<4xf32> {res_attr}) {{
    %0 = "stablehlo.add"(%arg0, %arg0) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    "func.return"(%0) : (tensor<4xf32>) -> ()
  }}
}}"#
    )
}

fn kind_attr(kind: &str) -> String {
    format!("{{mhlo.memory_kind = \"{kind}\"}}")
}

/// `main(x) -> 2x` with the parameter moved to `to_device` first and the sum moved to
/// `to_result` after, the way JAX emits `device_put(x, memory_kind)` inside a program.
fn doubling_with_moves(res_attr: &str, to_device: &str, to_result: &str) -> String {
    let mv = |name: &str, arg: &str, kind: &str| {
        format!("    {name} = \"stablehlo.custom_call\"({arg}) {{call_target_name = \"annotate_device_placement\", has_side_effect = true, mhlo.frontend_attributes = {{_xla_buffer_placement = \"{kind}\"}}}} : (tensor<4xf32>) -> tensor<4xf32>\n")
    };
    format!(
        "module {{\n  func.func @main(%arg0: tensor<4xf32>) -> (tensor<4xf32> {res_attr}) {{\n{}    %1 = \"stablehlo.add\"(%0, %0) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>\n{}    \"func.return\"(%2) : (tensor<4xf32>) -> ()\n  }}\n}}",
        mv("%0", "%arg0", to_device),
        mv("%2", "%1", to_result)
    )
}

fn put(kind: &str) -> pjrt::Buffer {
    let c = client();
    let m = c.first_device().unwrap().memory_of_kind(kind).unwrap();
    c.buffer_from_host_with(
        &[1f32, 2., 3., 4.],
        &[4],
        HostBufferSemantics::ImmutableOnlyDuringCall,
        &BufferPlacement::memory(&m),
    )
    .unwrap()
}

#[test]
fn every_device_has_three_memories_and_buffers_go_straight_into_each() {
    let c = client();
    assert_eq!(c.memory_kinds().unwrap(), KINDS);
    for d in c.addressable_devices().unwrap() {
        let kinds: Vec<String> = d
            .addressable_memories()
            .unwrap()
            .iter()
            .map(|m| m.kind().unwrap())
            .collect();
        assert_eq!(kinds, KINDS);
        assert_eq!(d.default_memory().unwrap().kind().unwrap(), "device");
    }
    for kind in KINDS {
        let b = put(kind);
        assert_eq!(b.memory_kind().unwrap(), kind);
        assert_eq!(b.to_vec::<f32>().unwrap(), vec![1., 2., 3., 4.]);
        // And moved between memories afterwards.
        let m = c
            .first_device()
            .unwrap()
            .memory_of_kind("pinned_host")
            .unwrap();
        let moved = b.copy_to_memory(&m).unwrap();
        assert_eq!(moved.memory_kind().unwrap(), "pinned_host");
        assert_eq!(moved.to_vec::<f32>().unwrap(), vec![1., 2., 3., 4.]);
    }
}

#[test]
fn a_memory_kind_the_client_lacks_is_an_error_naming_it_and_the_memories() {
    let c = client();
    let e = c.first_device().unwrap().memory_of_kind("hbm").unwrap_err();
    assert!(
        matches!(&e, Error::MemoryKindUnavailable { kind, available, .. }
            if kind == "hbm" && available == &KINDS),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "Device::memory_of_kind: no memory of kind `hbm` here; the memories are: device, pinned_host, unpinned_host"
    );
    let e = c
        .check_memory_kinds("test", ["device", "vmem"])
        .unwrap_err();
    assert!(e.to_string().contains("`vmem`"), "{e}");
    c.check_memory_kinds("test", KINDS).unwrap();
    let e = c.check_placement("test", "vmem").unwrap_err();
    assert!(matches!(e, Error::MemoryKindUnavailable { .. }), "{e:?}");
}

#[test]
fn the_compiler_refuses_a_memory_kind_it_does_not_know() {
    let e = client()
        .compile(&mlir(&doubling(&kind_attr("bogus"), "")))
        .unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::InvalidArgument), "{e}");
    assert!(e.to_string().contains("Unknown memory kind bogus"), "{e}");
}

#[test]
fn declared_memory_kinds_are_honoured_from_api_0_115() {
    for kind in KINDS {
        let exe = compile(&doubling(&kind_attr(kind), &kind_attr(kind)));
        let params = exe.executable().parameter_memory_kinds();
        let outputs = exe.executable().output_memory_kinds();
        // Arguments are accepted from any memory (the plugins do not check).
        for from in KINDS {
            let out = exe.execute(&[&put(from)]).unwrap();
            assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![2., 4., 6., 8.]);
            let landed = out[0].memory_kind().unwrap();
            if minor() >= 115 {
                assert_eq!(landed, kind);
            } else {
                assert_eq!(landed, "device", "declared {kind}");
            }
        }
        if minor() >= 115 {
            assert_eq!(params.unwrap(), [kind]);
            assert_eq!(outputs.unwrap(), [kind]);
        } else {
            assert!(params.unwrap_err().is_unimplemented());
            assert!(outputs.unwrap_err().is_unimplemented());
        }
    }
}

#[test]
fn in_program_moves_compile_from_api_0_115() {
    let text = doubling_with_moves(&kind_attr("pinned_host"), "device", "pinned_host");
    match client().compile(&mlir(&text)) {
        Ok(exe) => {
            assert!(minor() >= 115);
            assert_eq!(
                exe.executable().output_memory_kinds().unwrap(),
                ["pinned_host"]
            );
            let out = exe.execute(&[&put("pinned_host")]).unwrap();
            assert_eq!(out[0].memory_kind().unwrap(), "pinned_host");
            assert_eq!(out[0].to_vec::<f32>().unwrap(), vec![2., 4., 6., 8.]);
        }
        Err(e) => {
            assert!(minor() < 115, "{e}");
            assert_eq!(e.code(), Some(ErrorCode::NotFound), "{e}");
            assert!(e.to_string().contains("annotate_device_placement"), "{e}");
        }
    }
    // A move to a kind XLA does not know is dropped without a word on 0.115, which is why
    // `check_placement` runs before compiling.
    if minor() >= 115 {
        let exe = compile(&doubling_with_moves("", "bogus", "device"));
        assert_eq!(exe.executable().output_memory_kinds().unwrap(), ["device"]);
    }
}

#[test]
fn check_placement_says_which_kinds_the_plugin_honours() {
    let c = client();
    c.check_placement("test", "device").unwrap();
    // A move into the default memory is still a move, which only 0.115 compiles.
    match c.check_moves("test", "device") {
        Ok(()) => assert!(minor() >= 115),
        Err(e) => {
            assert!(minor() < 115, "{e}");
            assert!(e.to_string().contains("annotate_device_placement"), "{e}");
        }
    }
    for kind in ["pinned_host", "unpinned_host"] {
        match c.check_placement("test", kind) {
            Ok(()) => assert!(minor() >= 115),
            Err(e) => {
                assert!(minor() < 115, "{e}");
                assert!(
                    matches!(&e, Error::PlacementUnsupported { kind: k, .. } if k == kind),
                    "{e:?}"
                );
                assert!(e.to_string().contains(&format!("`{kind}`")), "{e}");
            }
        }
    }
}
