//! Programs that crashed or misled the plugins' compilers: recursive calls, NUL bytes, calls
//! and regions nested past their stacks, XLA's reserved custom-call targets, garbage in every
//! format, and NaN through min/max; on each installed plugin where the plugins differ.

use pjrt::{CompileOptions, Literal, Program};

use crate::programs::{bytecode_of, hlo_module};

use crate::case::{case, check_eq, wrong, Area, Case, Ctx, Expect, Failure, Outcome, PLUGINS};

/// Compiles `program` on plugin `p` and, if that works, runs it on `args`.
fn compile_run(
    ctx: &Ctx,
    p: &str,
    program: &Program,
    args: &[&Literal],
) -> Result<Vec<Literal>, Failure> {
    let c = ctx.client_of(p, 1)?;
    let exe = c.compile(program)?;
    Ok(exe.run(args)?)
}

fn refused(ctx: &Ctx, program: &Program) -> Result<Outcome, Failure> {
    let out = compile_run(
        ctx,
        crate::case::DEFAULT,
        program,
        &[&Literal::scalar(1f32)],
    )?;
    wrong(format!("compiled and ran: {out:?}"))
}

const F: &str = "(tensor<f32>) -> tensor<f32>";

/// A custom-form function `name` whose body calls each of `calls` in turn.
fn func(name: &str, calls: &[&str], private: bool) -> String {
    let mut body = String::new();
    let mut last = "%x".to_string();
    for (i, c) in calls.iter().enumerate() {
        body.push_str(&format!("  %{i} = func.call @{c}({last}) : {F}\n"));
        last = format!("%{i}");
    }
    format!(
        "func.func {}@{name}(%x: tensor<f32>) -> tensor<f32> {{\n{body}  return {last} : tensor<f32>\n}}\n",
        if private { "private " } else { "" }
    )
}

/// A chain main -> f1 -> ... -> f{n} of `n` calls.
fn chain(n: usize) -> String {
    let mut m = func("main", &["f1"], false);
    for i in 1..n {
        m.push_str(&func(&format!("f{i}"), &[&format!("f{}", i + 1)], true));
    }
    m.push_str(&func(&format!("f{n}"), &[], true));
    m
}

pub fn cases() -> Vec<Case> {
    let a = Area::Plugins;
    let mut v = Vec::new();

    // Recursion in every form the text can take (every plugin's compiler overflowed).
    let recursive: Vec<(&str, String)> = vec![
        ("direct", func("main", &["main"], false)),
        ("mutual", func("main", &["a"], false) + &func("a", &["b"], true) + &func("b", &["a"], true)),
        ("three", func("main", &["a"], false) + &func("a", &["b"], true) + &func("b", &["c"], true) + &func("c", &["a"], true)),
        ("uncalled-private", func("main", &[], false) + &func("lonely", &["lonely"], true)),
        ("second-call", func("main", &["a", "b"], false) + &func("a", &[], true) + &func("b", &["main"], true)),
        (
            "generic-form",
            format!(
                r#""builtin.module"() ({{
  "func.func"() <{{function_type = {F}, sym_name = "main"}}> ({{
  ^bb0(%arg0: tensor<f32>):
    %0 = "func.call"(%arg0) <{{callee = @again}}> : {F}
    "func.return"(%0) : (tensor<f32>) -> ()
  }}) : () -> ()
  "func.func"() <{{function_type = {F}, sym_name = "again", sym_visibility = "private"}}> ({{
  ^bb0(%arg0: tensor<f32>):
    %0 = "func.call"(%arg0) <{{callee = @main}}> : {F}
    "func.return"(%0) : (tensor<f32>) -> ()
  }}) : () -> ()
}}) : () -> ()"#
            ),
        ),
        ("quoted-symbols", format!(
            "func.func @main(%x: tensor<f32>) -> tensor<f32> {{\n  %0 = func.call @\"odd name\"(%x) : {F}\n  return %0 : tensor<f32>\n}}\nfunc.func private @\"odd name\"(%x: tensor<f32>) -> tensor<f32> {{\n  %0 = func.call @main(%x) : {F}\n  return %0 : tensor<f32>\n}}\n"
        )),
        ("composite-generic", format!(
            "func.func @main(%x: tensor<f32>) -> tensor<f32> {{\n  %0 = \"stablehlo.composite\"(%x) {{decomposition = @dec, name = \"adv.rec\"}} : {F}\n  return %0 : tensor<f32>\n}}\nfunc.func private @dec(%x: tensor<f32>) -> tensor<f32> {{\n  %0 = \"stablehlo.composite\"(%x) {{decomposition = @dec, name = \"adv.rec\"}} : {F}\n  return %0 : tensor<f32>\n}}\n"
        )),
        ("composite-decomposition", format!(
            "func.func @main(%x: tensor<f32>) -> tensor<f32> {{\n  %0 = stablehlo.composite \"adv.rec\" %x {{decomposition = @dec}} : {F}\n  return %0 : tensor<f32>\n}}\nfunc.func private @dec(%x: tensor<f32>) -> tensor<f32> {{\n  %0 = stablehlo.composite \"adv.rec\" %x {{decomposition = @dec}} : {F}\n  return %0 : tensor<f32>\n}}\n"
        )),
    ];
    for (name, text) in recursive {
        // The same modules as MLIR bytecode (written by MLIR, as another tool would; the
        // composite's custom form needs StableHLO's parser): unread, refused; read by
        // `program_from_bytecode`, refused for the recursion.
        let code = bytecode_of(&text);
        if !code.is_empty() {
            let unread = code.clone();
            v.push(case(
                a,
                format!("bytecode-unread-recursion-{name}"),
                Expect::Error("cannot be checked"),
                move |ctx| refused(ctx, &Program::mlir_bytecode(unread.clone())),
            ));
            v.push(case(
                a,
                format!("bytecode-recursion-{name}"),
                Expect::Error("recursive call"),
                move |ctx| refused(ctx, &hlo_builder::program_from_bytecode(&code)?),
            ));
        }
        v.push(case(
            a,
            format!("mlir-recursion-{name}"),
            Expect::Error("recursive call"),
            move |ctx| refused(ctx, &Program::mlir_text(text.clone())),
        ));
    }
    // HLO protos: calls that come back, chains too deep, reserved targets.
    for (name, graph) in [
        ("direct", vec![vec![1]]),
        ("mutual", vec![vec![2], vec![3], vec![2]]),
        (
            "deep",
            (1..=100)
                .map(|k| if k < 100 { vec![k + 1] } else { vec![] })
                .collect(),
        ),
    ] {
        v.push(case(
            a,
            format!("hlo-proto-recursion-{name}"),
            Expect::Error(if name == "deep" {
                "calls nested"
            } else {
                "recursive call"
            }),
            move |ctx| refused(ctx, &Program::hlo_proto(hlo_module(&graph, None))),
        ));
    }
    v.push(case(
        a,
        "hlo-proto-reserved-target",
        Expect::Error("\"TopK\""),
        |ctx| {
            refused(
                ctx,
                &Program::hlo_proto(hlo_module(&[vec![]], Some("TopK"))),
            )
        },
    ));
    // NUL bytes: the plugins compiled only the text before them.
    for (name, at) in [("start", 0usize), ("middle", 40), ("end", usize::MAX)] {
        v.push(case(
            a,
            format!("mlir-nul-at-{name}"),
            Expect::Error("NUL"),
            move |ctx| {
                let mut t = func("main", &[], false);
                let i = at.min(t.len());
                t.insert(i, '\0');
                refused(ctx, &Program::mlir_text(t))
            },
        ));
    }
    // Nesting past the compilers' stacks.
    for n in [65usize, 1000, 100_000] {
        v.push(case(
            a,
            format!("mlir-call-chain-{n}"),
            Expect::Error("calls nested"),
            move |ctx| refused(ctx, &Program::mlir_text(chain(n))),
        ));
    }
    for n in [30usize, 60] {
        v.push(case(
            a,
            format!("mlir-doubling-calls-{n}"),
            Expect::Error("inlined"),
            move |ctx| {
                // f_i calls f_{i+1} twice: emitted once each, 2^n copies once XLA inlines them.
                let mut m = func("main", &["f1", "f1"], false);
                for i in 1..n {
                    let next = format!("f{}", i + 1);
                    m.push_str(&func(&format!("f{i}"), &[&next, &next], true));
                }
                m.push_str(&func(&format!("f{n}"), &[], true));
                refused(ctx, &Program::mlir_text(m))
            },
        ));
    }
    for n in [81usize, 100_000] {
        v.push(case(
            a,
            format!("mlir-brace-depth-{n}"),
            Expect::Error("braces deep"),
            move |ctx| {
                let text = format!("{}{}", "{".repeat(n), "}".repeat(n));
                refused(ctx, &Program::mlir_text(text))
            },
        ));
    }
    // XLA's reserved custom-call targets, in text.
    for (name, text) in [
        (
            "TopK-custom-form",
            "%0 = stablehlo.custom_call @TopK(%x) : (tensor<f32>) -> tensor<f32>",
        ),
        (
            "TopK-generic-form",
            r#"%0 = "stablehlo.custom_call"(%x) <{call_target_name = "TopK"}> : (tensor<f32>) -> tensor<f32>"#,
        ),
        (
            "SliceToDynamic",
            "%0 = stablehlo.custom_call @SliceToDynamic(%x) : (tensor<f32>) -> tensor<f32>",
        ),
        (
            "PadToStatic",
            "%0 = stablehlo.custom_call @PadToStatic(%x) : (tensor<f32>) -> tensor<f32>",
        ),
        (
            "SPMDFullToShardShape",
            "%0 = stablehlo.custom_call @SPMDFullToShardShape(%x) : (tensor<f32>) -> tensor<f32>",
        ),
        (
            "gpu-namespace",
            "%0 = stablehlo.custom_call @__gpu$TopK(%x) : (tensor<f32>) -> tensor<f32>",
        ),
    ] {
        v.push(case(a, format!("mlir-reserved-target-{name}"), Expect::Error("reserves"), move |ctx| {
            let t = format!("func.func @main(%x: tensor<f32>) -> tensor<f32> {{\n  {text}\n  return %0 : tensor<f32>\n}}\n");
            refused(ctx, &Program::mlir_text(t))
        }));
    }
    // Garbage in every format: the plugins' parsers refuse it.
    v.push(case(a, "program-empty", Expect::Error("empty"), |ctx| {
        refused(ctx, &Program::mlir_text(""))
    }));
    for p in PLUGINS {
        v.push(case(
            a,
            format!("mlir-garbage-text@{p}"),
            Expect::Error("PJRT_Client_Compile"),
            move |ctx| {
                compile_run(
                    ctx,
                    p,
                    &Program::mlir_text("this is not MLIR {{{ ]]] @@@"),
                    &[],
                )?;
                wrong("garbage compiled")
            },
        ));
        v.push(case(
            a,
            format!("mlir-bytecode-garbage@{p}"),
            Expect::Error("cannot be checked"),
            move |ctx| {
                let mut b = b"ML\xefR".to_vec();
                b.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
                compile_run(ctx, p, &Program::mlir_bytecode(b), &[])?;
                wrong("garbage bytecode compiled")
            },
        ));
        v.push(case(
            a,
            format!("hlo-proto-garbage@{p}"),
            Expect::Error("HloModuleProto"),
            move |ctx| {
                compile_run(ctx, p, &Program::hlo_proto(vec![0xff; 1024]), &[])?;
                wrong("a garbage HLO proto compiled")
            },
        ));
        v.push(case(
            a,
            format!("hlo-proto-decodable-garbage@{p}"),
            Expect::Error("PJRT_Client_Compile"),
            move |ctx| {
                // Decodes as a protobuf message (an unknown field 7 of 1000 bytes), so it passes
                // the call-graph check and the plugin's own parser refuses it.
                let mut bytes = vec![7 << 3 | 2, 0xe8, 0x07];
                bytes.extend(std::iter::repeat_n(0x5a, 1000));
                compile_run(ctx, p, &Program::hlo_proto(bytes), &[])?;
                wrong("a garbage HLO proto compiled")
            },
        ));
        v.push(case(
            a,
            format!("mlir-call-chain-60-runs@{p}"),
            Expect::Correct,
            move |ctx| {
                // 60 calls each returning its argument: allowed, and every plugin compiles it.
                let out = compile_run(
                    ctx,
                    p,
                    &Program::mlir_text(chain(60)),
                    &[&Literal::scalar(7f32)],
                )?;
                check_eq("identity", out[0].to_scalar::<f32>()?, 7.0)
            },
        ));
        // NaN through min and max on each plugin (its compile options are ours).
        v.push(case(a, format!("nan-maximum@{p}"), Expect::Correct, move |ctx| {
            let t = "func.func @main(%x: tensor<2xf32>, %y: tensor<2xf32>) -> tensor<2xf32> {\n  %0 = stablehlo.maximum %x, %y : tensor<2xf32>\n  return %0 : tensor<2xf32>\n}";
            let out = compile_run(ctx, p, &Program::mlir_text(t), &[&Literal::vector(&[1f32, 1.]), &Literal::vector(&[f32::NAN, 2.])])?;
            let got = out[0].to_vec::<f32>()?;
            check_eq("maximum(1, NaN) is NaN, maximum(1, 2) = 2", (got[0].is_nan(), got[1]), (true, 2.0))
        }));
        v.push(case(a, format!("nan-reduce-max@{p}"), Expect::Correct, move |ctx| {
            let t = "func.func @main(%x: tensor<5xf32>) -> tensor<f32> {\n  %i = stablehlo.constant dense<0xFF800000> : tensor<f32>\n  %0 = stablehlo.reduce(%x init: %i) applies stablehlo.maximum across dimensions = [0] : (tensor<5xf32>, tensor<f32>) -> tensor<f32>\n  return %0 : tensor<f32>\n}";
            let out = compile_run(ctx, p, &Program::mlir_text(t), &[&Literal::vector(&[1f32, f32::NAN, 3., 2., 0.])])?;
            check_eq("reduce_max with a NaN is NaN", out[0].to_scalar::<f32>()?.is_nan(), true)
        }));
        v.push(case(a, format!("nan-minimum-fast-opt-in@{p}"), Expect::Correct, move |ctx| {
            // With fast min/max turned back on the program still compiles and runs.
            let t = "func.func @main(%x: tensor<2xf32>, %y: tensor<2xf32>) -> tensor<2xf32> {\n  %0 = stablehlo.minimum %x, %y : tensor<2xf32>\n  return %0 : tensor<2xf32>\n}";
            let c = ctx.client_of(p, 1)?;
            let exe = c.compile_with(&Program::mlir_text(t), &CompileOptions::default().fast_min_max(true))?;
            let out = exe.run(&[&Literal::vector(&[1f32, 5.]), &Literal::vector(&[3f32, 2.])])?;
            check_eq("minimum", out[0].to_vec::<f32>()?, vec![1., 2.])
        }));
        v.push(case(a, format!("huge-constant-output@{p}"), Expect::Error("alloc"), move |ctx| {
            // 64 GiB out of a 4-byte input: the plugin's allocation fails, cleanly.
            let t = "func.func @main(%x: tensor<f32>) -> tensor<17179869184xf32> {\n  %0 = stablehlo.broadcast_in_dim %x, dims = [] : (tensor<f32>) -> tensor<17179869184xf32>\n  return %0 : tensor<17179869184xf32>\n}";
            let out = compile_run(ctx, p, &Program::mlir_text(t), &[&Literal::scalar(1f32)])?;
            wrong(format!("a 64 GiB output came back: {:?}", out[0]))
        }));
    }
    v
}
