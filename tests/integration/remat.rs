//! Rematerialization policies for the backward pass: a small MLP whose layers are
//! checkpointed calls (`Mlp::remat`) gives the plain gradient whatever the policy; with
//! `CheckpointPolicy::Offload(pinned_host)` the kept layer inputs go to host memory between
//! the forward and backward pass (in-program moves: the CPU plugins make them from PJRT API
//! 0.115; older ones are refused before compile, by name).

use autodiff::nn::{self, Activation, Mlp, ModuleExt, ParamKind};
use hlo_builder::{CheckpointPolicy, ElementType::F32, MemoryKind, Recording};
use pjrt::{Client, Literal};

/// The loss `mean((mlp(x))^2)` and its gradient for every trainable leaf, as a module of
/// (loss, gradients...) of `x`.
fn loss_and_grads(policy: Option<CheckpointPolicy>) -> hlo_builder::Module {
    let mut mlp = Mlp::new(&[6, 16, 16, 3], Activation::Tanh)
        .init(&mut nn::seeded(3))
        .unwrap();
    mlp.remat = policy;
    let rec = Recording::new("remat");
    let (bound, _) = mlp.bind(&rec, &[ParamKind::Trainable]).unwrap();
    let x = rec.parameter("x", F32, [5, 6]).unwrap();
    let loss = bound
        .forward(&x)
        .unwrap()
        .square()
        .unwrap()
        .mean_all()
        .unwrap();
    let g = bound.grads(&loss).unwrap();
    let mut outs = vec![loss.clone()];
    for (_, p) in g.params() {
        outs.push(p.tensor(&x).unwrap());
    }
    rec.build(&outs.iter().collect::<Vec<_>>()).unwrap()
}

/// The module's results on its trainable weights and a fixed `x`.
fn run(
    c: &Client,
    m: &hlo_builder::Module,
    weights: &[Literal],
) -> hlo_builder::Result<Vec<Vec<f32>>> {
    let exe = m.compile(c)?;
    let x: Vec<f32> = (0..30).map(|i| ((i * 7) % 11) as f32 / 5.0 - 1.0).collect();
    let x = Literal::from_slice(&x, &[5, 6]).unwrap();
    let mut args: Vec<&Literal> = weights.iter().collect();
    args.push(&x);
    Ok(exe
        .run(&args)?
        .iter()
        .map(|l| l.to_vec::<f32>().unwrap())
        .collect())
}

fn weights() -> Vec<Literal> {
    Mlp::new(&[6, 16, 16, 3], Activation::Tanh)
        .init(&mut nn::seeded(3))
        .unwrap()
        .params()
        .iter()
        .map(|(_, p)| p.host().unwrap().clone())
        .collect()
}

#[test]
fn every_remat_policy_gives_the_plain_gradient() {
    let c = Client::default_cpu().unwrap();
    let w = weights();
    let plain = run(&c, &loss_and_grads(None), &w).unwrap();
    let policies = [
        CheckpointPolicy::RecomputeAll,
        CheckpointPolicy::Offload(MemoryKind::PINNED_HOST),
    ];
    for policy in policies {
        let m = loss_and_grads(Some(policy.clone()));
        // Three checkpointed calls (one per layer) in the module.
        assert_eq!(
            m.to_text().matches("optimization_barrier").count(),
            3,
            "{policy:?}"
        );
        let got = match run(&c, &m, &w) {
            Ok(g) => g,
            Err(e) => {
                // Only the offloading policy may be refused, and only where the plugin does
                // not make in-program moves: before compile, naming the kind and the plugin.
                let s = e.to_string();
                assert!(matches!(policy, CheckpointPolicy::Offload(_)), "{s}");
                assert!(c.plugin().api_version().minor < 115, "{s}");
                let plugin = c.plugin().path().display().to_string();
                assert!(
                    s.contains("`pinned_host`")
                        && s.contains("not honoured")
                        && s.contains(&plugin),
                    "{s}"
                );
                continue;
            }
        };
        assert_eq!(got.len(), plain.len());
        for (k, (a, b)) in got.iter().zip(&plain).enumerate() {
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(b) {
                let rel = (x - y).abs() / y.abs().max(1e-6);
                assert!(
                    rel <= 1e-6 || (x - y).abs() <= 1e-9,
                    "{policy:?} output {k}: {x} vs {y}"
                );
            }
        }
    }
}

/// Every string of an optimized program (a serialized `HloModuleProto`, possibly inside
/// `HloModuleProtoWithConfig`) made of ASCII letters, digits and `-_.`: opcodes, instruction
/// names, custom-call targets. A walk of the protobuf wire format into every nested message.
pub(crate) fn strings_of(exe: &pjrt::LoadedExecutable) -> Vec<String> {
    fn varint(b: &[u8]) -> Option<(u64, usize)> {
        let mut v = 0u64;
        for (i, &x) in b.iter().enumerate().take(10) {
            v |= u64::from(x & 0x7f) << (7 * i);
            if x & 0x80 == 0 {
                return Some((v, i + 1));
            }
        }
        None
    }
    fn walk(b: &[u8], depth: usize, out: &mut Vec<String>) {
        let mut i = 0;
        while i < b.len() {
            let Some((key, n)) = varint(&b[i..]) else {
                return;
            };
            i += n;
            match key & 7 {
                0 => match varint(&b[i..]) {
                    Some((_, n)) => i += n,
                    None => return,
                },
                1 => i += 8,
                5 => i += 4,
                2 => {
                    let Some((len, n)) = varint(&b[i..]) else {
                        return;
                    };
                    i += n;
                    let Some(body) = b.get(i..i + len as usize) else {
                        return;
                    };
                    i += len as usize;
                    let text = !body.is_empty()
                        && body
                            .iter()
                            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c));
                    if text {
                        out.push(String::from_utf8_lossy(body).into_owned());
                    } else if depth < 8 {
                        walk(body, depth + 1, out);
                    }
                }
                _ => return,
            }
        }
    }
    let (_, code) = exe.executable().optimized_program().unwrap();
    let mut out = Vec::new();
    walk(&code, 0, &mut out);
    out
}

#[test]
fn offloaded_remat_moves_the_kept_inputs_to_host_memory_and_back() {
    let c = Client::default_cpu().unwrap();
    let m = loss_and_grads(Some(CheckpointPolicy::Offload(MemoryKind::PINNED_HOST)));
    // The lowered program moves each checkpointed call's kept inputs (3 layers: the layer
    // input, its weight and its bias) to pinned_host and back to the device.
    let text = m.to_text();
    let to_host = text
        .matches("_xla_buffer_placement = \"pinned_host\"")
        .count();
    let to_device = text.matches("_xla_buffer_placement = \"device\"").count();
    assert_eq!((to_host, to_device), (9, 9), "{text}");
    assert_eq!(
        m.memory_kinds(),
        [MemoryKind::PINNED_HOST, MemoryKind::DEVICE]
    );
    let exe = match m.compile(&c) {
        Ok(e) => e,
        Err(e) => {
            // Refused before compile where in-program moves are not made (0.81, 0.106).
            assert!(c.plugin().api_version().minor < 115, "{e}");
            let s = e.to_string();
            assert!(
                s.contains("Module::compile") && s.contains(c.plugin().path().to_str().unwrap()),
                "{s}"
            );
            return;
        }
    };
    // What the CPU plugin at API 0.115 makes of the moves (observed 2026-12-03 with
    // XLA_FLAGS=--xla_dump_to and in this proto walk): the program compiles and runs, but the
    // optimized HLO holds no move at all: no `annotate_device_placement`, no internal
    // `MoveToHost`/`MoveToDevice`, no `copy-start`/`copy-done`, no value in memory space
    // S(5); it is the RecomputeAll program instruction for instruction. The CPU compiler
    // has no host-offloading pass (its device memory is host memory), so an intermediate
    // value moved to pinned_host and back is the value itself; only a *result* declared in
    // a host memory gets S(5) in the entry layout (the placement probe). On a GPU plugin the
    // same program would keep the inputs in host memory between the passes.
    let opt = strings_of(exe.loaded());
    assert!(!opt.is_empty());
    for gone in [
        "annotate_device_placement",
        "MoveToHost",
        "MoveToDevice",
        "copy-start",
    ] {
        assert!(
            !opt.iter().any(|s| s == gone),
            "{gone} in the optimized program"
        );
    }
    let plain = loss_and_grads(Some(CheckpointPolicy::RecomputeAll))
        .compile(&c)
        .unwrap();
    let opcodes = |v: Vec<String>| {
        let mut v: Vec<String> = v
            .into_iter()
            .filter(|s| !s.contains('.') && s.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
            .collect();
        v.sort();
        v
    };
    let (ops, plain_ops) = (opcodes(opt), opcodes(strings_of(plain.loaded())));
    assert!(ops.iter().any(|s| s == "parameter"), "{ops:?}");
    assert_eq!(ops, plain_ops);
}

#[test]
fn a_train_step_of_a_rematerialized_mlp_trains_like_the_plain_one() {
    use autodiff::train::optim::Adam;
    use autodiff::train::{HostData, TrainStep};
    use hlo_builder::{ElementType, Tensor, TensorType};
    let c = Client::default_cpu().unwrap();
    let model = Mlp::new(&[8, 32, 32, 4], Activation::Relu)
        .init(&mut nn::seeded(5))
        .unwrap();
    let types = [
        TensorType::new(ElementType::F32, [6, 8]),
        TensorType::new(ElementType::S32, [6]),
    ];
    let loss = |m: &Mlp, b: &[Tensor]| m.forward(&b[0])?.cross_entropy(&b[1]);
    let build = |m: Mlp| {
        TrainStep::new(&c, m)
            .optimizer(Adam::new(1e-2))
            .inputs(types.clone())
            .compile(loss)
    };
    let mut plain = build(model.clone()).unwrap();
    let mut remat = build(model.clone().remat(CheckpointPolicy::RecomputeAll)).unwrap();
    // One per checkpointed layer, and the step's own before the optimizer.
    assert_eq!(
        remat.module_text().matches("optimization_barrier").count(),
        4
    );
    let offload = build(model.remat(CheckpointPolicy::Offload(MemoryKind::PINNED_HOST)));
    let mut offload = match offload {
        Ok(s) => Some(s),
        Err(e) => {
            assert!(c.plugin().api_version().minor < 115, "{e}");
            assert!(e.to_string().contains("not honoured"), "{e}");
            None
        }
    };
    for s in 0usize..4 {
        let x: Vec<f32> = (0..48)
            .map(|i| ((i * 5 + s * 3) % 13) as f32 / 6.0 - 1.0)
            .collect();
        let y: Vec<i32> = (0..6).map(|i| ((i + s) % 4) as i32).collect();
        let batch = [HostData::from(&x), HostData::from(&y)];
        let want = plain.step(&batch).unwrap().loss().unwrap();
        let mut steps = vec![&mut remat];
        if let Some(o) = offload.as_mut() {
            steps.push(o);
        }
        for step in steps {
            let got = step.step(&batch).unwrap().loss().unwrap();
            assert!(
                (got - want).abs() <= 1e-6 * want.abs(),
                "step {s}: {got} vs {want}"
            );
        }
    }
}
