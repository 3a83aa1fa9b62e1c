//! Fuzzing, for a bounded time on every `cargo test` (random inputs, `FUZZ_SECONDS` per
//! target, 5 by default), and under libFuzzer with `cargo bolero test` (nightly):
//!
//! - the executable envelope: any bytes parse to an error or an envelope, never a panic;
//!   any change to a valid envelope (flipped bytes, a cut) is refused by its digest;
//! - checkpoint files: a valid one damaged, or any bytes, load to an error or to tensors
//!   holding exactly their dims' bytes, never a panic;
//! - the MLIR-text checks of `Program::validate`: any text is an error or accepted, never a
//!   panic; for random call graphs rendered as MLIR (custom or generic form), a recursion
//!   error comes exactly when the graph has a cycle (checked against a transitive closure);
//! - the same for HLO protos (the graph as `called_computation_ids`) and for MLIR bytecode read
//!   by `hlo_builder::program_from_bytecode` (the graph written as bytecode by MLIR);
//! - MLIR bytecode damaged anywhere: `program_from_bytecode` reads it (and the program is
//!   checked) or refuses it, never a crash of this process (MLIR's reader runs in a child);
//!   `Program::mlir_bytecode` alone is always refused.

use std::time::Duration;

use pjrt::{ApiVersion, PluginIdentity, Program, SerializedExecutable};

fn budget() -> Duration {
    let s = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    Duration::from_secs(s)
}

fn envelope() -> SerializedExecutable {
    SerializedExecutable::new(
        PluginIdentity {
            sha256: [3; 32],
            api_version: ApiVersion {
                major: 0,
                minor: 115,
            },
            platform_name: "cpu".into(),
            platform_version: "fuzz".into(),
        },
        (0..300u32).map(|i| (i * 31 % 251) as u8).collect(),
    )
}

#[test]
fn fuzz_envelope_parser_never_panics() {
    bolero::check!()
        .with_type::<Vec<u8>>()
        .with_test_time(budget())
        .for_each(|bytes| {
            let _ = SerializedExecutable::from_bytes(bytes);
        });
}

#[test]
fn fuzz_every_change_to_an_envelope_is_refused() {
    let good = envelope().to_bytes().expect("serialize");
    let signed = {
        let mut s = envelope();
        s.sign(&pjrt::SigningKey::from_bytes(&[9; 32]))
            .expect("sign");
        s.to_bytes().expect("serialize")
    };
    bolero::check!()
        .with_type::<(bool, Vec<(u16, u8)>, Option<u16>)>()
        .with_test_time(budget())
        .for_each(|(use_signed, flips, cut)| {
            let original = if *use_signed { &signed } else { &good };
            let mut b = original.clone();
            for &(at, mask) in flips {
                let i = usize::from(at) % b.len();
                b[i] ^= mask;
            }
            if let Some(c) = cut {
                let keep = usize::from(*c) % (b.len() + 1);
                b.truncate(keep);
            }
            let parsed = SerializedExecutable::from_bytes(&b);
            if &b == original {
                assert!(parsed.is_ok(), "the unchanged envelope was refused");
            } else if *use_signed {
                // A change to the signature section passes the digest but not verification.
                let key = pjrt::SigningKey::from_bytes(&[9; 32]).verifying_key();
                assert!(
                    parsed.and_then(|p| p.verify(&key)).is_err(),
                    "a changed signed envelope verified"
                );
            } else {
                assert!(parsed.is_err(), "a changed envelope was accepted");
            }
        });
}

#[test]
fn fuzz_mlir_text_checks_never_panic() {
    bolero::check!()
        .with_type::<String>()
        .with_test_time(budget())
        .for_each(|text| {
            let _ = Program::mlir_text(text.clone()).validate();
        });
}

/// Renders a call graph as MLIR: function `f0` (public) to `f{n-1}`, each calling its
/// successors in order, in the custom or the generic form.
fn render(graph: &[Vec<usize>], generic: bool) -> String {
    let ty = "(tensor<f32>) -> tensor<f32>";
    let mut m = String::new();
    if generic {
        m.push_str("\"builtin.module\"() ({\n");
    }
    for (i, calls) in graph.iter().enumerate() {
        if generic {
            m.push_str(&format!(
                "  \"func.func\"() <{{function_type = {ty}, sym_name = \"f{i}\"}}> ({{\n  ^bb0(%a: tensor<f32>):\n"
            ));
            let mut last = "%a".to_string();
            for (k, c) in calls.iter().enumerate() {
                m.push_str(&format!(
                    "    %{k} = \"func.call\"({last}) <{{callee = @f{c}}}> : {ty}\n"
                ));
                last = format!("%{k}");
            }
            m.push_str(&format!(
                "    \"func.return\"({last}) : (tensor<f32>) -> ()\n  }}) : () -> ()\n"
            ));
        } else {
            m.push_str(&format!(
                "func.func {}@f{i}(%a: tensor<f32>) -> tensor<f32> {{\n",
                if i == 0 { "" } else { "private " }
            ));
            let mut last = "%a".to_string();
            for (k, c) in calls.iter().enumerate() {
                m.push_str(&format!("  %{k} = func.call @f{c}({last}) : {ty}\n"));
                last = format!("%{k}");
            }
            m.push_str(&format!("  return {last} : tensor<f32>\n}}\n"));
        }
    }
    if generic {
        m.push_str("}) : () -> ()\n");
    }
    m
}

/// Whether the graph has a cycle (transitive closure, independent of the code under test).
fn has_cycle(graph: &[Vec<usize>]) -> bool {
    let n = graph.len();
    let mut reach = vec![vec![false; n]; n];
    for (i, calls) in graph.iter().enumerate() {
        for &c in calls {
            reach[i][c] = true;
        }
    }
    for k in 0..n {
        for i in 0..n {
            if reach[i][k] {
                let via_k = reach[k].clone();
                for (to, &r) in reach[i].iter_mut().zip(&via_k) {
                    *to |= r;
                }
            }
        }
    }
    (0..n).any(|i| reach[i][i])
}

#[test]
fn fuzz_recursion_is_found_exactly_when_the_call_graph_has_a_cycle() {
    bolero::check!()
        .with_type::<(bool, Vec<Vec<u8>>)>()
        .with_test_time(budget())
        .for_each(|(generic, raw)| {
            let n = raw.len().clamp(1, 8);
            let graph: Vec<Vec<usize>> = (0..n)
                .map(|i| {
                    raw.get(i)
                        .map(|c| c.iter().take(4).map(|&x| usize::from(x) % n).collect())
                        .unwrap_or_default()
                })
                .collect();
            let text = render(&graph, *generic);
            let cycle = has_cycle(&graph);
            let r = Program::mlir_text(text.clone()).validate();
            let found = matches!(&r, Err(e) if e.to_string().contains("recursive call"));
            assert_eq!(found, cycle, "{r:?}\n{text}");
            if !found {
                assert!(r.is_ok(), "{r:?}\n{text}");
            }
            let r = Program::hlo_proto(hlo_proto(&graph)).validate();
            let found = matches!(&r, Err(e) if e.to_string().contains("recursive call"));
            assert_eq!(found, cycle, "HLO: {r:?}\n{graph:?}");
            if !found {
                assert!(r.is_ok(), "HLO: {r:?}\n{graph:?}");
            }
        });
}

#[test]
fn fuzz_recursion_in_bytecode_is_found_exactly_when_the_graph_has_a_cycle() {
    bolero::check!()
        .with_type::<Vec<Vec<u8>>>()
        .with_test_time(budget())
        .for_each(|raw| {
            let n = raw.len().clamp(1, 6);
            let graph: Vec<Vec<usize>> = (0..n)
                .map(|i| {
                    raw.get(i)
                        .map(|c| c.iter().take(3).map(|&x| usize::from(x) % n).collect())
                        .unwrap_or_default()
                })
                .collect();
            let code = crate::programs::bytecode_of(&render(&graph, true));
            assert!(!code.is_empty(), "the rendered text parses");
            assert!(Program::mlir_bytecode(code.clone()).validate().is_err());
            let r = hlo_builder::program_from_bytecode(&code);
            let found = matches!(&r, Err(e) if e.to_string().contains("recursive call"));
            assert_eq!(found, has_cycle(&graph), "{r:?}\n{graph:?}");
            if !found {
                assert!(r.is_ok(), "{r:?}\n{graph:?}");
            }
        });
}

#[test]
fn fuzz_damaged_bytecode_is_read_or_refused() {
    use hlo_builder::{Builder, ElementType::F32};
    let mut b = Builder::new("fuzzed");
    let x = b.parameter("x", F32, [3]).unwrap();
    let y = b.tanh(x).unwrap();
    let z = b.reduce_sum(y, [0]).unwrap();
    let good = b.build(&[z]).unwrap().bytecode().to_vec();
    bolero::check!()
        .with_type::<(Vec<(u16, u8)>, Option<u16>)>()
        .with_test_time(budget())
        .for_each(|(flips, cut)| {
            let mut code = good.clone();
            for &(at, x) in flips.iter().take(8) {
                let i = usize::from(at) % code.len();
                code[i] ^= x;
            }
            if let Some(c) = cut {
                code.truncate(usize::from(*c) % (code.len() + 1));
            }
            if code.starts_with(b"ML\xefR") {
                assert!(Program::mlir_bytecode(code.clone()).validate().is_err());
            }
            if let Ok(p) = hlo_builder::program_from_bytecode(&code) {
                // What was read is text and passed the text checks.
                assert!(!p.is_mlir_bytecode());
                p.validate().unwrap();
            }
        });
}

/// `graph` (computation `k` calls the computations `graph[k]`) as an HLO proto.
fn hlo_proto(graph: &[Vec<usize>]) -> Vec<u8> {
    let ids: Vec<Vec<u64>> = graph
        .iter()
        .map(|calls| calls.iter().map(|&c| c as u64 + 1).collect())
        .collect();
    crate::programs::hlo_module(&ids, None)
}

#[test]
fn fuzz_hlo_proto_checks_never_panic() {
    bolero::check!()
        .with_type::<Vec<u8>>()
        .with_test_time(budget())
        .for_each(|bytes| {
            let _ = Program::hlo_proto(bytes.clone()).validate();
        });
}

/// Checkpoint files: a valid checkpoint with flipped bytes and a cut, or any bytes at all,
/// load to an error or to a checkpoint whose every tensor holds exactly its dims' bytes;
/// never a panic, never an allocation sized by a lying header.
#[test]
fn fuzz_checkpoint_loading_never_panics() {
    use autodiff::train::checkpoint::Checkpoint;
    use pjrt::Literal;

    let dir = std::env::temp_dir().join(format!("fuzz-checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let path = dir.join("fuzz.safetensors");
    let mut c = Checkpoint::new();
    c.insert(
        "layer.weight",
        Literal::from_slice(&[1.5f32, -2.0, 0.25, 4.0, 5.0, -6.0], &[2, 3]).expect("weight"),
    );
    c.insert("layer.bias", Literal::vector(&[0.5f32, 1.0]));
    c.insert("optim.step", Literal::scalar(7i32));
    c.set_meta("steps", 7);
    c.save(&path).expect("save");
    let good = std::fs::read(&path).expect("read back");
    bolero::check!()
        .with_type::<(bool, Vec<(u16, u8)>, Option<u16>, Vec<u8>)>()
        .with_test_time(budget())
        .for_each(|(random, flips, cut, bytes)| {
            let mut b = if *random { bytes.clone() } else { good.clone() };
            if !b.is_empty() {
                for &(at, mask) in flips {
                    let i = usize::from(at) % b.len();
                    b[i] ^= mask;
                }
            }
            if let Some(k) = cut {
                let keep = usize::from(*k) % (b.len() + 1);
                b.truncate(keep);
            }
            std::fs::write(&path, &b).expect("write the case");
            if let Ok(loaded) = Checkpoint::load(&path) {
                for (name, l) in &loaded.tensors {
                    let n: i64 = l.dims().iter().product();
                    assert_eq!(
                        l.as_bytes().len() as i64,
                        n * l.element_type().byte_size().unwrap_or(0) as i64,
                        "tensor {name} of a loaded checkpoint"
                    );
                }
            }
        });
    let _ = std::fs::remove_dir_all(&dir);
}
