//! Several steps per call: a train step compiled with `steps_per_call(k)` runs `k` optimizer
//! steps in one execution (a loop in the program). It must give the
//! same parameters, model state, optimizer state and losses as `k` single steps.

use autodiff::nn::{self, Activation, BatchNorm, Dropout, Linear, Mlp, Module, ModuleExt};
use autodiff::train::optim::Adam;
use autodiff::train::{HostData, TrainStep};
use examples::digits::{self, Digits};
use examples::models::{Classifier, Cnn};
use hlo_builder::{ElementType, Tensor, TensorType};
use pjrt::Client;

/// Every leaf of the model, flattened, by name.
fn leaves<M: Module>(m: &M) -> Vec<(String, Vec<f32>)> {
    m.params()
        .iter()
        .filter(|(_, p)| p.ty().ty == ElementType::F32)
        .map(|(n, p)| (n.clone(), p.host().unwrap().to_vec::<f32>().unwrap()))
        .collect()
}

/// Asserts `got` equals `want` within `rel` relative to each leaf's largest magnitude
/// (0 = bit for bit).
fn same(what: &str, got: &[(String, Vec<f32>)], want: &[(String, Vec<f32>)], rel: f32) {
    assert_eq!(got.len(), want.len(), "{what}: leaf count");
    for ((n, g), (n2, w)) in got.iter().zip(want) {
        assert_eq!(n, n2);
        assert_eq!(g.len(), w.len(), "{what} {n}: length");
        let scale = w.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (i, (a, b)) in g.iter().zip(w).enumerate() {
            assert!(
                (a - b).abs() <= rel * scale,
                "{what} {n}[{i}]: k-step {a}, single steps {b}"
            );
        }
    }
}

/// Trains `model` for `calls * k` steps on `batches` twice, one step per call and `k` per
/// call, and compares parameters, optimizer state and every loss.
fn compare<M, F>(
    model: M,
    k: usize,
    batches: &[(Vec<f32>, Vec<i32>)],
    inputs: [TensorType; 2],
    loss: F,
    rel: f32,
) where
    M: Module + Clone,
    F: Fn(&M, &[Tensor]) -> hlo_builder::Result<Tensor> + Copy,
{
    let c = Client::default_cpu().unwrap();
    let build = |k: usize| {
        TrainStep::new(&c, model.clone())
            .name("k_steps")
            .optimizer(Adam::new(1e-2))
            .inputs(inputs.clone())
            .steps_per_call(k)
            .compile(loss)
            .unwrap()
    };
    let mut one = build(1);
    let mut many = build(k);
    assert_eq!(many.steps_per_call(), k);

    let mut single_losses = Vec::new();
    for (x, y) in batches {
        let out = one.step(&[HostData::from(x), HostData::from(y)]).unwrap();
        single_losses.push(out.loss().unwrap());
    }
    let mut many_losses = Vec::new();
    for group in batches.chunks(k) {
        let x: Vec<f32> = group.iter().flat_map(|(x, _)| x.iter().copied()).collect();
        let y: Vec<i32> = group.iter().flat_map(|(_, y)| y.iter().copied()).collect();
        let out = many
            .step_many(&[HostData::from(&x), HostData::from(&y)])
            .unwrap();
        many_losses.extend(out.losses().unwrap());
    }
    assert_eq!(one.steps(), many.steps());
    assert_eq!(many_losses.len(), single_losses.len());
    for (i, (a, b)) in many_losses.iter().zip(&single_losses).enumerate() {
        assert!(
            (a - b).abs() <= rel * b.abs().max(1e-3),
            "loss of step {i}: {a} vs {b}"
        );
    }
    same(
        "parameters",
        &leaves(&many.model().unwrap()),
        &leaves(&one.model().unwrap()),
        rel,
    );
    let (o1, om) = (
        one.optimizer_state().unwrap(),
        many.optimizer_state().unwrap(),
    );
    assert_eq!(o1.step, om.step);
    for (s1, sm) in o1.slots.iter().zip(&om.slots) {
        same("optimizer slot", &leaves(sm), &leaves(s1), rel);
    }
    // Training moved the parameters (the comparison is not of two untouched models).
    assert_ne!(leaves(&model)[0].1, leaves(&one.model().unwrap())[0].1);
}

fn digit_batches(n: usize, batch: usize) -> Vec<(Vec<f32>, Vec<i32>)> {
    let d = Digits::load(digits::default_path()).unwrap();
    (0..n)
        .map(|i| {
            let rows = (i * batch..(i + 1) * batch).map(|r| r % d.len());
            let mut x = Vec::new();
            let mut y = Vec::new();
            for r in rows {
                x.extend_from_slice(&d.images[r * 64..(r + 1) * 64]);
                y.push(d.labels[r] as i32);
            }
            (x, y)
        })
        .collect()
}

fn digit_types(batch: i64) -> [TensorType; 2] {
    [
        TensorType::new(ElementType::F32, [batch, 64]),
        TensorType::new(ElementType::S32, [batch]),
    ]
}

/// An MLP with batch norm (model state) and dropout (a random key carried between steps).
#[derive(Clone, Debug, Module)]
struct Net {
    body: Mlp,
    norm: BatchNorm,
    drop: Dropout,
    head: Linear,
}

#[test]
fn k_steps_in_a_loop_equal_k_single_steps() {
    let net = Net {
        body: Mlp::new(&[64, 32], Activation::Relu),
        norm: BatchNorm::new(32),
        drop: Dropout::new(0.1),
        head: Linear::new(32, 10),
    }
    .init(&mut nn::seeded(3))
    .unwrap();
    let loss = |m: &Net, b: &[Tensor]| {
        let h = m.norm.forward(&m.body.forward(&b[0])?.relu()?)?;
        m.head.forward(&m.drop.forward(&h)?)?.cross_entropy(&b[1])
    };
    // A loop of the recorded step: bit for bit.
    compare(net, 4, &digit_batches(12, 16), digit_types(16), loss, 0.0);
}

#[test]
fn k_steps_of_a_cnn_in_a_loop_equal_k_single_steps() {
    let cnn = Cnn::new().init(&mut nn::seeded(5)).unwrap();
    let loss = |m: &Cnn, b: &[Tensor]| m.logits(&b[0])?.cross_entropy(&b[1]);
    compare(
        cnn.clone(),
        3,
        &digit_batches(6, 8),
        digit_types(8),
        loss,
        0.0,
    );
    // Every convolution of the loop, the gradients' included, is in the form XLA's CPU
    // backend runs fast inside a loop (input NHWC, kernel HWIO, output NHWC); the kernel
    // gradient's own form (batch and features swapped) ran as a naive loop, 20x slower.
    let c = Client::default_cpu().unwrap();
    let step = TrainStep::new(&c, cnn)
        .optimizer(Adam::new(1e-3))
        .inputs(digit_types(8))
        .steps_per_call(2)
        .compile(loss)
        .unwrap();
    let text = step.multi_module_text().unwrap();
    let convs: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("stablehlo.convolution"))
        .collect();
    // Two layers: each has its forward, its kernel gradient and (but the first) its input
    // gradient.
    assert_eq!(convs.len(), 5, "{text}");
    for l in convs {
        assert!(l.contains("[b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]"), "{l}");
    }
}

#[test]
fn step_many_refuses_a_step_compiled_for_one_step_and_wrong_stacks() {
    let c = Client::default_cpu().unwrap();
    let m = examples::models::mlp().init(&mut nn::seeded(1)).unwrap();
    let compile = |k: usize| {
        TrainStep::new(&c, m.clone())
            .inputs(digit_types(4))
            .steps_per_call(k)
            .compile(|m, b| m.logits(&b[0])?.cross_entropy(&b[1]))
            .unwrap()
    };
    let (x, y) = (vec![0.5f32; 2 * 4 * 64], vec![1i32; 2 * 4]);
    let mut one = compile(1);
    let e = one
        .step_many(&[HostData::from(&x), HostData::from(&y)])
        .unwrap_err();
    assert!(e.to_string().contains("steps_per_call"), "{e}");
    let mut three = compile(3);
    let before = three.model().unwrap();
    // Two batches stacked where the program takes three: refused, the state kept.
    let e = three
        .step_many(&[HostData::from(&x), HostData::from(&y)])
        .unwrap_err();
    assert!(e.to_string().contains('3'), "{e}");
    assert_eq!(three.steps(), 0);
    assert_eq!(leaves(&three.model().unwrap()), leaves(&before));
}

/// Trains the digits MLP for a few steps on `step` and returns the losses and parameters.
fn train_a_few<M: Module>(step: &mut TrainStep<M>, batches: &[(Vec<f32>, Vec<i32>)]) -> Vec<f32> {
    batches
        .iter()
        .map(|(x, y)| {
            step.step(&[HostData::from(x), HostData::from(y)])
                .unwrap()
                .loss()
                .unwrap()
        })
        .collect()
}

#[test]
fn a_step_on_a_one_thread_client_trains_like_the_default_one() {
    let model = Mlp::new(&[64, 128, 128, 10], Activation::Relu)
        .init(&mut nn::seeded(11))
        .unwrap();
    let c = Client::default_cpu().unwrap();
    let loss = |m: &Mlp, b: &[Tensor]| m.forward(&b[0])?.cross_entropy(&b[1]);
    let build = |threads: Option<usize>, tuned: bool| {
        let mut b = TrainStep::new(&c, model.clone())
            .name("threads")
            .optimizer(Adam::new(1e-2))
            .inputs(digit_types(32));
        if let Some(n) = threads {
            b = b.cpu_threads(n);
        }
        if tuned {
            b = b.cpu_threads_tuned().steps_per_call_tuned([4]);
        }
        b.compile(loss).unwrap()
    };
    let batches = digit_batches(8, 32);
    let mut pool = build(None, false);
    let mut one = build(Some(1), false);
    assert!(pool.client().same_as(&c));
    assert_eq!(one.client().cpu_threads(), Some(1));
    assert!(!one.client().same_as(&c));
    let want = train_a_few(&mut pool, &batches);
    let got = train_a_few(&mut one, &batches);
    // Another pool size may split reductions differently: equal within f32 rounding.
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!((a - b).abs() <= 1e-5 * b.abs(), "loss {i}: {a} vs {b}");
    }
    same(
        "parameters",
        &leaves(&one.model().unwrap()),
        &leaves(&pool.model().unwrap()),
        1e-5,
    );
    // Buffers of the client given are not the one-thread step's: refused, naming both.
    let x = c.buffer_from_host(&batches[0].0, &[32, 64]).unwrap();
    let y = c.buffer_from_host(&batches[0].1, &[32]).unwrap();
    let e = one.step_buffers(&[&x, &y]).unwrap_err().to_string();
    assert!(e.contains("client"), "{e}");

    // Chosen by timing (with steps per call): both clients timed, the step runs on one of
    // them, and it trains like the others.
    let mut tuned = build(None, true);
    let tried: Vec<Option<usize>> = tuned.thread_tuning().iter().map(|t| t.0).collect();
    assert_eq!(tried, [None, Some(1)]);
    assert!(tuned.thread_tuning().iter().all(|t| t.1.as_nanos() > 0));
    let chosen = tuned.client().cpu_threads();
    assert!(chosen.is_none() || chosen == Some(1));
    let got = train_a_few(&mut tuned, &batches);
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!(
            (a - b).abs() <= 1e-5 * b.abs(),
            "tuned loss {i}: {a} vs {b}"
        );
    }
}

/// Program variants by timing: both gradient forms are compiled and timed, the fastest runs,
/// both train alike, and the choice is remembered in the compile cache, so a second compile
/// times nothing and picks the same program; a damaged choice file is timed again.
#[test]
fn program_variants_are_timed_train_alike_and_are_remembered() {
    use autodiff::{GradOptions, WeightGradients};
    let model = Mlp::new(&[64, 128, 128, 10], Activation::Relu)
        .init(&mut nn::seeded(5))
        .unwrap();
    let c = Client::default_cpu().unwrap();
    let dir = std::env::temp_dir().join(format!("variants-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cache = pjrt::CompileCache::new(&dir).unwrap();
    let loss = |m: &Mlp, b: &[Tensor]| m.forward(&b[0])?.cross_entropy(&b[1]);
    let build = |grad: Option<GradOptions>| {
        let b = TrainStep::new(&c, model.clone())
            .name("variants")
            .optimizer(Adam::new(1e-2))
            .inputs(digit_types(32))
            .compile_options(pjrt::CompileOptions::new().compile_cache(cache.clone()));
        match grad {
            Some(g) => b.grad_options(g),
            None => b.program_variants_tuned(),
        }
        .compile(loss)
        .unwrap()
    };
    let first = GradOptions::DEFAULT.weight_gradients(WeightGradients::TransposeFirst);
    let batches = digit_batches(8, 32);
    let mut plain = build(Some(GradOptions::DEFAULT));
    let mut moved = build(Some(first));
    assert!(plain.variant_tuning().is_empty());
    // The plain step has one barrier: the one before the optimizer (gradients, loss).
    assert_eq!(
        plain.module_text().matches("optimization_barrier").count(),
        1
    );
    assert_eq!(moved.grad_options(), first);
    // Three weight gradients, each behind its barrier, and the one before the optimizer.
    assert_eq!(
        moved.module_text().matches("optimization_barrier").count(),
        4,
        "{}",
        moved.module_text()
    );
    let want = train_a_few(&mut plain, &batches);
    let got = train_a_few(&mut moved, &batches);
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!((a - b).abs() <= 1e-5 * b.abs(), "loss {i}: {a} vs {b}");
    }
    let want_params = leaves(&plain.model().unwrap());
    same(
        "parameters",
        &leaves(&moved.model().unwrap()),
        &want_params,
        1e-5,
    );

    // Tuned: both variants timed, one chosen.
    let mut tuned = build(None);
    assert!(!tuned.tuning_recalled());
    let tried: Vec<GradOptions> = tuned.variant_tuning().iter().map(|v| v.0).collect();
    assert_eq!(tried, [GradOptions::DEFAULT, first]);
    assert!(tuned.variant_tuning().iter().all(|v| v.1.as_nanos() > 0));
    let fastest = tuned
        .variant_tuning()
        .iter()
        .min_by_key(|v| v.1)
        .map(|v| v.0)
        .unwrap();
    assert_eq!(tuned.grad_options(), fastest);
    let got = train_a_few(&mut tuned, &batches);
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!(
            (a - b).abs() <= 1e-5 * b.abs(),
            "tuned loss {i}: {a} vs {b}"
        );
    }

    // Remembered: the same choice and timings, nothing timed.
    let again = build(None);
    assert!(again.tuning_recalled());
    assert_eq!(again.grad_options(), tuned.grad_options());
    assert_eq!(again.variant_tuning(), tuned.variant_tuning());
    assert_eq!(again.module_text(), tuned.module_text());

    // A damaged choice is not trusted: timed again (and written anew).
    let choices: Vec<_> = std::fs::read_dir(dir.join("choices"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(choices.len(), 1, "{choices:?}");
    let mut bytes = std::fs::read(&choices[0]).unwrap();
    bytes[50] ^= 1;
    std::fs::write(&choices[0], &bytes).unwrap();
    let retimed = build(None);
    assert!(!retimed.tuning_recalled());
    assert!(build(None).tuning_recalled());
    // Clearing the cache forgets choices too.
    cache.clear().unwrap();
    assert!(!build(None).tuning_recalled());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The step's update writes each donated parameter in place: the gradients, the loss and the
/// metrics pass one optimization barrier before the optimizer, so every read of a parameter
/// comes before its update and XLA copies none of them (without the barrier it copied the
/// weights read again by the backward pass: three copies in this MLP's SGD step, as in
/// JAX's). Checked in the optimized program, one step per call and in a loop.
#[test]
fn the_train_step_updates_donated_parameters_without_copies() {
    use autodiff::train::optim::Sgd;
    let model = Mlp::new(&[64, 128, 128, 10], Activation::Relu)
        .init(&mut nn::seeded(5))
        .unwrap();
    let c = Client::default_cpu().unwrap();
    let loss = |m: &Mlp, b: &[Tensor]| m.forward(&b[0])?.cross_entropy(&b[1]);
    for adam in [false, true] {
        for k in [1, 4] {
            let b = TrainStep::new(&c, model.clone())
                .name("no_copies")
                .inputs(digit_types(64))
                .steps_per_call(k);
            let b = if adam {
                b.optimizer(Adam::new(1e-3))
            } else {
                b.optimizer(Sgd::new(0.01))
            };
            let mut step = b.compile(loss).unwrap();
            let exe = match k {
                1 => step.executable(),
                _ => step.multi_executable().unwrap(),
            };
            let strings = crate::remat::strings_of(exe);
            let ops: Vec<&String> = strings.iter().filter(|s| s.starts_with("copy")).collect();
            // XLA may still copy a scalar: Adam's step count (read for the bias correction
            // and incremented), and in the loop the loop counter and its start (seen in XLA's
            // dumps). Without the barrier the weights were copied too: 3 more in this MLP.
            let allowed = usize::from(adam) + if k == 1 { 0 } else { 2 };
            assert!(
                ops.iter().filter(|s| *s == &"copy").count() <= allowed,
                "adam {adam}, k {k}: copies in the optimized program: {ops:?}"
            );
            // And it trains: the loss falls over a few steps on one batch.
            let batch = &digit_batches(1, 64)[0];
            let first = step
                .step(&[HostData::from(&batch.0), HostData::from(&batch.1)])
                .unwrap()
                .loss()
                .unwrap();
            let mut last = first;
            for _ in 0..5 {
                last = step
                    .step(&[HostData::from(&batch.0), HostData::from(&batch.1)])
                    .unwrap()
                    .loss()
                    .unwrap();
            }
            assert!(last < first, "adam {adam}, k {k}: loss {first} -> {last}");
        }
    }
}
