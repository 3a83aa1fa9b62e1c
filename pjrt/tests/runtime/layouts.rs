//! Layouts on the plugin under test: host arrays in column-major order in and out of a
//! buffer exactly, and a program whose inputs are in the executable's own parameter layouts
//! (no relayout in its optimized HLO), against one asked for another result layout.

use super::common::{client, compile, minor};
use pjrt::ext::layouts::Layouts;
use pjrt::{BufferPlacement, Error, MemoryLayout};

/// `(i, j)` of a 3x4 matrix, as a distinct float.
fn value(i: usize, j: usize) -> f32 {
    (10 * i + j) as f32 + 0.25
}

#[test]
fn a_column_major_host_array_round_trips_exactly() {
    let c = client();
    let (rows, cols) = (3usize, 4usize);
    // Column-major: element (i, j) at j * rows + i.
    let mut col = vec![0f32; rows * cols];
    let mut row = vec![0f32; rows * cols];
    for i in 0..rows {
        for j in 0..cols {
            col[j * rows + i] = value(i, j);
            row[i * cols + j] = value(i, j);
        }
    }
    let b = c
        .buffer_from_host_in_order(&col, &[3, 4], &[0, 1], &BufferPlacement::default())
        .unwrap();
    assert_eq!(b.dims().unwrap(), vec![3, 4]);
    // Logically the same matrix: read row-major it is `row`.
    assert_eq!(b.to_vec::<f32>().unwrap(), row);
    // And read back column-major it is `col`, bit for bit (the 0.81 plugin ignores host
    // layouts, so there that is refused rather than answered in the wrong order).
    let mut back = vec![0f32; rows * cols];
    match b.copy_to_host_in_order(&mut back, &[0, 1]) {
        Ok(()) => assert_eq!(
            back.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            col.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        ),
        Err(e) => assert!(minor() < 106 && e.is_unimplemented(), "{e}"),
    }
    // A row-major request gives the row-major data.
    b.copy_to_host_in_order(&mut back, &[1, 0]).unwrap();
    assert_eq!(back, row);
    // Into pinned host memory too.
    let pinned = c
        .first_device()
        .unwrap()
        .memory_of_kind("pinned_host")
        .unwrap();
    let p = c
        .buffer_from_host_in_order(&col, &[3, 4], &[0, 1], &BufferPlacement::memory(&pinned))
        .unwrap();
    assert_eq!(p.memory_kind().unwrap(), "pinned_host");
    assert_eq!(p.to_vec::<f32>().unwrap(), row);
}

#[test]
fn bad_orders_and_sizes_are_errors_before_the_call() {
    let c = client();
    let e = c
        .buffer_from_host_in_order(&[0f32; 6], &[2, 3], &[1, 1], &BufferPlacement::default())
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("[1, 1] is not a permutation of 0..2"),
        "{e}"
    );
    let e = c
        .buffer_from_host_in_order(&[0f32; 5], &[2, 3], &[0, 1], &BufferPlacement::default())
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::HostSizeMismatch {
                expected: 6,
                actual: 5,
                ..
            }
        ),
        "{e:?}"
    );
    let b = c.buffer_from_host(&[0f32; 6], &[2, 3]).unwrap();
    let e = b.copy_to_host_in_order(&mut [0f32; 6], &[0]).unwrap_err();
    assert!(
        e.to_string().contains("Buffer::copy_to_host_in_order"),
        "{e}"
    );
    let e = b
        .copy_to_host_in_order(&mut [0i32; 6], &[0, 1])
        .unwrap_err();
    assert!(matches!(e, Error::ElementTypeMismatch { .. }), "{e:?}");
    assert_eq!(
        MemoryLayout::column_major(2),
        MemoryLayout::Tiled {
            minor_to_major: vec![0, 1],
            tiles: vec![]
        }
    );
}

/// The opcodes of the instructions of an optimized HLO module (`HloModuleProto`, possibly
/// inside `HloModuleProtoWithConfig`): every length-delimited field 2 of an instruction
/// (`HloInstructionProto.opcode`). Read by a small walk of the protobuf wire format.
fn opcodes(exe: &pjrt::LoadedExecutable) -> Vec<String> {
    let (format, code) = exe.executable().optimized_program().unwrap();
    // Every string field 2 that looks like an opcode, at any depth: instruction protos
    // (HloModuleProto.computations[].instructions[].opcode) are the only field-2 strings made
    // of lower-case letters and '-' at that depth; we collect them by walking nested messages.
    fn walk(buf: &[u8], depth: usize, out: &mut Vec<String>) {
        let mut i = 0;
        while i < buf.len() {
            let (key, n) = varint(&buf[i..]);
            if n == 0 {
                return;
            }
            i += n;
            match key & 7 {
                0 => {
                    let (_, n) = varint(&buf[i..]);
                    if n == 0 {
                        return;
                    }
                    i += n;
                }
                1 => i += 8,
                5 => i += 4,
                2 => {
                    let (len, n) = varint(&buf[i..]);
                    if n == 0 {
                        return;
                    }
                    i += n;
                    let Some(body) = buf.get(i..i + len as usize) else {
                        return;
                    };
                    // HloModuleProto.computations = 3; HloComputationProto.instructions = 2;
                    // HloInstructionProto.opcode = 2.
                    match (depth, key >> 3) {
                        (0, 3) | (1, 2) => walk(body, depth + 1, out),
                        (2, 2) => out.push(String::from_utf8_lossy(body).into_owned()),
                        _ => {}
                    }
                    i += len as usize;
                }
                _ => return,
            }
        }
    }
    fn varint(b: &[u8]) -> (u64, usize) {
        let mut v = 0u64;
        for (k, &x) in b.iter().enumerate().take(10) {
            v |= u64::from(x & 0x7f) << (7 * k);
            if x & 0x80 == 0 {
                return (v, k + 1);
            }
        }
        (0, 0)
    }
    let module: Vec<u8> = match format.as_str() {
        "hlo" => code,
        "hlo_with_config" => {
            // HloModuleProtoWithConfig.hlo_module = 1.
            let mut i = 0;
            let mut found = Vec::new();
            while i < code.len() {
                let (key, n) = varint(&code[i..]);
                if n == 0 {
                    break;
                }
                i += n;
                let (len, n) = varint(&code[i..]);
                i += n;
                if key == (1 << 3 | 2) {
                    found = code[i..i + len as usize].to_vec();
                }
                i += len as usize;
            }
            found
        }
        other => panic!("unexpected optimized program format {other}"),
    };
    let mut out = Vec::new();
    walk(&module, 0, &mut out);
    out
}

fn scaled(res_attr: &str) -> String {
    format!(
        r#"module {{
  func.func @main(%arg0: tensor<64x32xf32>) -> (tensor<64x32xf32> {res_attr}) {{
    %0 = "stablehlo.multiply"(%arg0, %arg0) : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
    "func.return"(%0) : (tensor<64x32xf32>) -> ()
  }}
}}"#
    )
}

#[test]
fn inputs_in_the_preferred_layouts_run_without_a_relayout() {
    let c = client();
    let l: Layouts = c
        .plugin()
        .extension()
        .expect("every CPU plugin has Layouts");
    let exe = compile(&scaled(""));
    let ops = opcodes(&exe);
    assert!(ops.iter().any(|o| o == "multiply"), "{ops:?}");
    assert!(
        !ops.iter().any(|o| o == "copy" || o == "transpose"),
        "{ops:?}"
    );
    let x = c
        .buffer_from_host(
            &(0..64 * 32).map(|i| i as f32).collect::<Vec<_>>(),
            &[64, 32],
        )
        .unwrap();
    let x_layout = l.buffer_layout(&x).unwrap().serialize().unwrap();
    if minor() >= 106 {
        assert_eq!(
            l.executable_parameter_layouts(exe.executable()).unwrap(),
            std::slice::from_ref(&x_layout)
        );
    }
    assert_eq!(
        l.executable_output_layouts(exe.executable()).unwrap(),
        ["{1,0}"]
    );
    let out = exe.execute(&[&x]).unwrap();
    assert_eq!(
        l.buffer_layout(&out[0]).unwrap().serialize().unwrap(),
        x_layout
    );
    assert_eq!(out[0].to_vec::<f32>().unwrap()[3], 9.0);

    // Asked for a column-major result, the compiler adds the relayout, and says so.
    let exe = compile(&scaled("{mhlo.layout_mode = \"{0,1}\"}"));
    let ops = opcodes(&exe);
    assert!(
        ops.iter().any(|o| o == "copy" || o == "transpose"),
        "{ops:?}"
    );
    assert_eq!(
        l.executable_output_layouts(exe.executable()).unwrap(),
        ["{0,1}"]
    );
    let out = exe.execute(&[&x]).unwrap();
    assert_eq!(
        l.buffer_layout(&out[0]).unwrap().serialize().unwrap(),
        "{0,1}"
    );
    // Read back in its own (column-major) order: element (i, j) = (32 i + j)^2 at j * 64 + i.
    let mut col = vec![0f32; 64 * 32];
    out[0].copy_to_host_in_order(&mut col, &[0, 1]).unwrap();
    assert_eq!(col[64 + 2], 65.0 * 65.0); // (i, j) = (2, 1)
                                          // Read row-major (what `to_vec` promises), through a host layout from API 0.106.
    match out[0].to_vec::<f32>() {
        Ok(v) => assert_eq!(v[32 * 2 + 1], 65.0 * 65.0),
        Err(e) => assert!(minor() < 106 && e.is_unimplemented(), "{e}"),
    }
}
