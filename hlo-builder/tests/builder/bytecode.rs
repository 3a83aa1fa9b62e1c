//! MLIR bytecode from elsewhere: `program_from_bytecode` reads it with MLIR and the program is
//! checked as text before any compiler sees it; `pjrt::Program::mlir_bytecode` alone is refused.
use crate::common::*;
use hlo_builder::program_from_bytecode;
use melior::dialect::DialectHandle;
use melior::ir::operation::OperationLike;
use melior::ir::Module as MlirModule;
use melior::Context;

/// MLIR bytecode of `text`, written by MLIR (as a foreign tool would).
fn bytecode_of(text: &str) -> Vec<u8> {
    let ctx = Context::new();
    DialectHandle::func().load_dialect(&ctx);
    ctx.set_allow_unregistered_dialects(true);
    let m = MlirModule::parse(&ctx, text).expect("the test's text parses");
    m.as_operation().write_bytecode()
}

const F: &str = "(tensor<f32>) -> tensor<f32>";

#[test]
fn bytecode_from_another_tool_runs_after_the_check() {
    let text = format!(
        "func.func @main(%x: tensor<f32>) -> tensor<f32> {{\n  %0 = func.call @twice(%x) : {F}\n  return %0 : tensor<f32>\n}}\nfunc.func private @twice(%x: tensor<f32>) -> tensor<f32> {{\n  %0 = \"stablehlo.add\"(%x, %x) : (tensor<f32>, tensor<f32>) -> tensor<f32>\n  return %0 : tensor<f32>\n}}\n"
    );
    let code = bytecode_of(&text);
    // Unread, the bytes are refused before the plugin sees them.
    let e = client()
        .compile(&pjrt::Program::mlir_bytecode(code.clone()))
        .unwrap_err();
    assert!(e.to_string().contains("cannot be checked"), "{e}");
    // Read by MLIR and checked as text, they compile and compute.
    let program = program_from_bytecode(&code).unwrap();
    let exe = client().compile(&program).unwrap();
    let out = exe.run(&[&pjrt::Literal::scalar(3f32)]).unwrap();
    assert_eq!(out[0].to_scalar::<f32>().unwrap(), 6.0);
}

#[test]
fn recursive_bytecode_is_refused_before_any_compiler() {
    // Every CPU plugin's compiler overflowed its stack on these (in text; bytecode reached
    // them unread before `program_from_bytecode`).
    let direct = format!(
        "func.func @main(%x: tensor<f32>) -> tensor<f32> {{\n  %0 = func.call @main(%x) : {F}\n  return %0 : tensor<f32>\n}}\n"
    );
    let mutual = format!(
        "func.func @main(%x: tensor<f32>) -> tensor<f32> {{\n  %0 = func.call @a(%x) : {F}\n  return %0 : tensor<f32>\n}}\nfunc.func private @a(%x: tensor<f32>) -> tensor<f32> {{\n  %0 = func.call @b(%x) : {F}\n  return %0 : tensor<f32>\n}}\nfunc.func private @b(%x: tensor<f32>) -> tensor<f32> {{\n  %0 = func.call @a(%x) : {F}\n  return %0 : tensor<f32>\n}}\n"
    );
    for (text, cycle) in [(direct, "@main -> @main"), (mutual, "@a -> @b -> @a")] {
        let e = program_from_bytecode(&bytecode_of(&text)).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("recursive call") && m.contains(cycle), "{m}");
    }
    // A reserved custom-call target (the plugins CHECK-fail on it).
    let topk = "func.func @main(%x: tensor<f32>) -> tensor<f32> {\n  %0 = \"stablehlo.custom_call\"(%x) {call_target_name = \"TopK\"} : (tensor<f32>) -> tensor<f32>\n  return %0 : tensor<f32>\n}\n";
    let e = program_from_bytecode(&bytecode_of(topk)).unwrap_err();
    assert!(e.to_string().contains("\"TopK\""), "{e}");
}

#[test]
fn corrupt_bytecode_is_an_error_or_a_checked_program() {
    let mut b = Builder::new("corrupt");
    let x = b.parameter("x", F32, [4]).unwrap();
    let y = b.exp(x).unwrap();
    let z = b.reduce_sum(y, [0]).unwrap();
    let code = b.build(&[z]).unwrap().bytecode().to_vec();
    program_from_bytecode(&code).unwrap();
    // Every truncation, and a flipped byte at every offset: MLIR reads it or refuses it; a
    // program it reads was checked like any text.
    let mut read = 0;
    for cut in 0..code.len() {
        if program_from_bytecode(&code[..cut]).is_ok() {
            read += 1;
        }
    }
    assert!(read < code.len() / 2, "{read} truncations read");
    let mut outcomes = [0usize; 3];
    for at in 4..code.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut c = code.clone();
            c[at] ^= flip;
            match program_from_bytecode(&c) {
                Ok(_) => outcomes[0] += 1,
                Err(e) if e.to_string().contains("crashed") => outcomes[1] += 1,
                Err(_) => outcomes[2] += 1,
            }
        }
    }
    // Measured here: some flips crash MLIR's reader (in its child process), most are refused.
    eprintln!("bytecode flips: {outcomes:?} (read, reader crashed, refused)");
    assert!(outcomes[2] > 0);
    assert!(program_from_bytecode(b"not bytecode").is_err());
}
