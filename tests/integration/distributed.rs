//! Training the digits MLP on 4 CPU devices: one train step (SGD on the mean cross-entropy
//! of a global batch), partitioned over a mesh by shardings alone (data-parallel: the batch
//! split over `data`; tensor-parallel: the hidden layer's columns and the output layer's rows
//! split over `model`; both on a 2x2 mesh), its parameters kept on the devices as sharded
//! arrays (donated each step). After 50 steps the parameters equal single-device training on
//! the same batches within 1e-5 relative.

use std::sync::Arc;
use std::sync::OnceLock;

use examples::digits::{self, Digits};
use hlo_builder::{
    Builder, ElementType::F32, Mesh, Module, Partitioning, ShardedArray, Sharding, Value,
};
use pjrt::Literal;

const HIDDEN: i64 = 32;
const BATCH: i64 = 128;
const STEPS: usize = 50;
const LR: f64 = 0.5;

fn client4() -> &'static pjrt::Client {
    static C: OnceLock<pjrt::Client> = OnceLock::new();
    C.get_or_init(|| {
        let plugin = pjrt::Plugin::load_default().expect("the CPU plugin");
        pjrt::Client::new(&plugin, &pjrt::ClientOptions::new().cpu_device_count(4))
            .expect("a 4-device CPU client")
    })
}

/// `(w1, b1, w2, b2, x, y) -> (w1', b1', w2', b2', loss)`: one SGD step of a 64-32-10 MLP.
fn train_step() -> (Builder, Vec<Value>) {
    let mut b = Builder::new("train_step");
    let w1 = b.parameter("w1", F32, [64, HIDDEN]).unwrap();
    let b1 = b.parameter("b1", F32, [HIDDEN]).unwrap();
    let w2 = b.parameter("w2", F32, [HIDDEN, 10]).unwrap();
    let b2 = b.parameter("b2", F32, [10]).unwrap();
    let x = b.parameter("x", F32, [BATCH, 64]).unwrap();
    let y = b.parameter("y", F32, [BATCH, 10]).unwrap();
    let h = b.matmul(x, w1).unwrap();
    let h = b.add(h, b1).unwrap();
    let h = b.tanh(h).unwrap();
    let logits = b.matmul(h, w2).unwrap();
    let logits = b.add(logits, b2).unwrap();
    // The mean over the global batch.
    let loss = b.softmax_cross_entropy(logits, y).unwrap();
    let params = [w1, b1, w2, b2];
    let grads = autodiff::grad(&mut b, loss, &params).unwrap();
    let lr = b.scalar(F32, LR).unwrap();
    let mut outs = Vec::new();
    for (p, g) in params.iter().zip(grads) {
        let step = b.mul(g, lr).unwrap();
        outs.push(b.sub(*p, step).unwrap());
    }
    outs.push(loss);
    (b, outs)
}

/// splitmix64 uniform in [-a, a).
fn init(n: usize, a: f32, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * a
        })
        .collect()
}

fn initial_params() -> Vec<Literal> {
    let h = HIDDEN as usize;
    vec![
        Literal::from_slice(&init(64 * h, 0.25, 1), &[64, HIDDEN]).unwrap(),
        Literal::from_slice(&vec![0f32; h], &[HIDDEN]).unwrap(),
        Literal::from_slice(&init(h * 10, 0.3, 2), &[HIDDEN, 10]).unwrap(),
        Literal::from_slice(&[0f32; 10], &[10]).unwrap(),
    ]
}

/// The `k`-th global batch (images, one-hot labels), cycling through the training set.
fn batch(d: &Digits, k: usize) -> (Literal, Literal) {
    let n = d.len();
    let idx: Vec<usize> = (0..BATCH as usize)
        .map(|i| (k * BATCH as usize + i) % n)
        .collect();
    let s = d.select(&idx).unwrap();
    (
        Literal::from_slice(&s.images, &[BATCH, 64]).unwrap(),
        Literal::from_slice(&s.one_hot().unwrap(), &[BATCH, 10]).unwrap(),
    )
}

fn data() -> Digits {
    let d = Digits::load(digits::default_path()).unwrap();
    d.split(digits::TRAIN_FRACTION, digits::SPLIT_SEED)
        .unwrap()
        .0
}

/// Single-device training: parameters after `STEPS` steps and the losses.
fn single_device(d: &Digits) -> (Vec<Vec<f32>>, Vec<f32>) {
    let (b, outs) = train_step();
    let m = b.build_with_donations(&outs, &[]).unwrap();
    let exe = m.compile(client4()).unwrap();
    let mut params = initial_params();
    let mut losses = Vec::new();
    for k in 0..STEPS {
        let (x, y) = batch(d, k);
        let mut args: Vec<&Literal> = params.iter().collect();
        args.push(&x);
        args.push(&y);
        let mut out = exe.run(&args).unwrap();
        losses.push(out.pop().unwrap().to_vec::<f32>().unwrap()[0]);
        params = out;
    }
    (
        params.iter().map(|p| p.to_vec::<f32>().unwrap()).collect(),
        losses,
    )
}

struct Layout {
    name: &'static str,
    mesh: &'static [(&'static str, i64)],
    /// w1, b1, w2, b2, x, y.
    inputs: Vec<Sharding>,
}

fn layouts() -> Vec<Layout> {
    let s = Sharding::new;
    vec![
        Layout {
            name: "data-parallel",
            mesh: &[("data", 4)],
            inputs: vec![
                s(&[&[], &[]]),
                s(&[&[]]),
                s(&[&[], &[]]),
                s(&[&[]]),
                s(&[&["data"], &[]]),
                s(&[&["data"], &[]]),
            ],
        },
        Layout {
            name: "tensor-parallel",
            mesh: &[("model", 4)],
            inputs: vec![
                s(&[&[], &["model"]]),
                s(&[&["model"]]),
                s(&[&["model"], &[]]),
                s(&[&[]]),
                s(&[&[], &[]]),
                s(&[&[], &[]]),
            ],
        },
        Layout {
            name: "2x2 data x model",
            mesh: &[("data", 2), ("model", 2)],
            inputs: vec![
                s(&[&[], &["model"]]),
                s(&[&["model"]]),
                s(&[&["model"], &[]]),
                s(&[&[]]),
                s(&[&["data"], &[]]),
                s(&[&["data"], &[]]),
            ],
        },
    ]
}

/// `max |a - b| / max |b|`.
fn rel(a: &[f32], b: &[f32]) -> f64 {
    let scale = b.iter().fold(0f64, |m, v| m.max(v.abs() as f64));
    let diff = a
        .iter()
        .zip(b)
        .fold(0f64, |m, (x, y)| m.max((x - y).abs() as f64));
    diff / scale.max(f64::MIN_POSITIVE)
}

#[test]
fn sharded_training_equals_single_device() {
    let d = data();
    let (want, want_losses) = single_device(&d);
    assert!(
        want_losses[STEPS - 1] < 0.5 * want_losses[0],
        "the reference does not learn: {want_losses:?}"
    );
    for layout in layouts() {
        let mesh = Mesh::new(layout.mesh).unwrap();
        let (b, outs) = train_step();
        let p = Partitioning::new(mesh.clone())
            .inputs(layout.inputs.clone())
            .outputs(layout.inputs[..4].to_vec());
        let donations: Vec<(usize, usize)> = (0..4).map(|i| (i, i)).collect();
        let m = Module::partitioned(Arc::new(b.finish(&outs).unwrap()), p, &donations)
            .unwrap_or_else(|e| panic!("{}: {e}", layout.name));
        let exe = m
            .compile(client4())
            .unwrap_or_else(|e| panic!("{}: {e}", layout.name));
        let mut params: Vec<ShardedArray> = initial_params()
            .iter()
            .zip(&layout.inputs)
            .map(|(l, s)| ShardedArray::from_literal(client4(), &mesh, s, l).unwrap())
            .collect();
        let mut losses = Vec::new();
        for k in 0..STEPS {
            let (x, y) = batch(&d, k);
            let xs = ShardedArray::from_literal(client4(), &mesh, &layout.inputs[4], &x).unwrap();
            let ys = ShardedArray::from_literal(client4(), &mesh, &layout.inputs[5], &y).unwrap();
            let mut args: Vec<&ShardedArray> = params.iter().collect();
            args.push(&xs);
            args.push(&ys);
            let mut out = exe.run_sharded(&args).unwrap();
            let loss = out.pop().unwrap();
            losses.push(loss.to_literal().unwrap().to_vec::<f32>().unwrap()[0]);
            // The donated parameters were consumed; the step's results replace them.
            assert!(params[0].shards()[0].is_deleted().unwrap());
            params = out;
        }
        for (i, (p, w)) in params.iter().zip(&want).enumerate() {
            let got = p.to_literal().unwrap().to_vec::<f32>().unwrap();
            let r = rel(&got, w);
            eprintln!(
                "{}: parameter {i}: max relative difference {r:.2e}",
                layout.name
            );
            assert!(
                r <= 1e-5,
                "{}: parameter {i} differs by {r:e} relative",
                layout.name
            );
        }
        let lr = rel(&losses, &want_losses);
        assert!(lr <= 1e-5, "{}: losses differ by {lr:e}", layout.name);
    }
}

#[test]
fn sharded_arrays_round_trip_and_refuse_mismatches() {
    let mesh = Mesh::new(&[("a", 2), ("b", 2)]).unwrap();
    let v: Vec<f32> = (0..32).map(|i| i as f32).collect();
    let l = Literal::from_slice(&v, &[8, 4]).unwrap();
    let s = Sharding::new(&[&["a"], &["b"]]);
    let a = ShardedArray::from_literal(client4(), &mesh, &s, &l).unwrap();
    assert_eq!(a.shards().len(), 4);
    assert_eq!(a.shards()[3].dims().unwrap(), vec![4, 2]);
    let devices = client4().addressable_devices().unwrap();
    for (p, b) in a.shards().iter().enumerate() {
        assert_eq!(b.device().unwrap(), devices[p], "shard {p} on device {p}");
    }
    assert_eq!(a.to_literal().unwrap().to_vec::<f32>().unwrap(), v);

    // A program expecting rows over "b" refuses an array split over "a".
    let mut bld = Builder::new("neg");
    let x = bld.parameter("x", F32, [8, 4]).unwrap();
    let y = bld.neg(x).unwrap();
    let p = Partitioning::new(mesh.clone())
        .inputs(vec![Sharding::new(&[&["b"], &[]])])
        .outputs(vec![Sharding::new(&[&["b"], &[]])]);
    let exe = bld
        .build_partitioned(&[y], p)
        .unwrap()
        .compile(client4())
        .unwrap();
    let e = exe.run_sharded(&[&a]).unwrap_err().to_string();
    assert!(e.contains("argument 0") && e.contains("sharded"), "{e}");
    let ok =
        ShardedArray::from_literal(client4(), &mesh, &Sharding::new(&[&["b"], &[]]), &l).unwrap();
    let out = exe.run_sharded(&[&ok]).unwrap();
    let neg: Vec<f32> = v.iter().map(|x| -x).collect();
    assert_eq!(out[0].to_literal().unwrap().to_vec::<f32>().unwrap(), neg);
}

/// The library's train step, data-parallel over a mesh: the digits MLP 64-128-128-10 with
/// Adam, labels as integers, 50 steps on 4 devices against the same step on one device.
#[test]
fn train_step_data_parallel_equals_one_device() {
    use autodiff::nn::{Activation, Mlp, ModuleExt};
    use autodiff::train::{optim::Adam, HostData, TrainStep};
    use hlo_builder::{ElementType::S32, TensorType};

    let d = data();
    let model = Mlp::new(&[64, 128, 128, 10], Activation::Relu)
        .init_seed(3)
        .unwrap();
    let inputs = [
        TensorType::new(F32, [BATCH, 64]),
        TensorType::new(S32, [BATCH]),
    ];
    let make = |mesh: Option<Mesh>| {
        let mut b = TrainStep::new(client4(), model.clone())
            .optimizer(Adam::new(1e-3))
            .inputs(inputs.clone());
        if let Some(m) = mesh {
            b = b.data_parallel(m, "data");
        }
        b.compile(|m, b| m.forward(&b[0])?.cross_entropy(&b[1]))
            .unwrap()
    };
    let mut one = make(None);
    let mut four = make(Some(Mesh::new(&[("data", 4)]).unwrap()));
    assert_eq!(four.executable().addressable_devices().len(), 4);
    for k in 0..STEPS {
        let n = d.len();
        let idx: Vec<usize> = (0..BATCH as usize)
            .map(|i| (k * BATCH as usize + i) % n)
            .collect();
        let s = d.select(&idx).unwrap();
        let a = one
            .step(&[HostData::from(&s.images), HostData::from(&s.labels)])
            .unwrap()
            .loss()
            .unwrap();
        let b = four
            .step(&[HostData::from(&s.images), HostData::from(&s.labels)])
            .unwrap()
            .loss()
            .unwrap();
        assert!(
            (a - b).abs() <= 1e-5 * a.abs(),
            "step {k}: loss {b} on 4 devices, {a} on one"
        );
    }
    let (m1, m4) = (one.model().unwrap(), four.model().unwrap());
    let mut worst = 0f64;
    for ((name, p1), (_, p4)) in m1.params().into_iter().zip(m4.params()) {
        let a = p1.host().unwrap().to_vec::<f32>().unwrap();
        let b = p4.host().unwrap().to_vec::<f32>().unwrap();
        let r = rel(&b, &a);
        worst = worst.max(r);
        assert!(r <= 1e-5, "{name}: {r:e} relative");
    }
    eprintln!("TrainStep data-parallel: largest relative parameter difference {worst:.2e}");
    // A data-parallel step takes host data; device buffers of the whole batch are refused.
    let x = client4()
        .buffer_from_host(&d.images[..BATCH as usize * 64], &[BATCH, 64])
        .unwrap();
    let y = client4()
        .buffer_from_host(&d.labels[..BATCH as usize], &[BATCH])
        .unwrap();
    let e = four.step_buffers(&[&x, &y]).unwrap_err().to_string();
    assert!(e.contains("data-parallel"), "{e}");
}

/// The library's train step, tensor-parallel (Megatron style: the first layer's output
/// features and the second layer's input features split over `model`) and on a 2x2 mesh with
/// the batch over `data` too: 50 Adam steps equal one device; the model and the checkpoint
/// are gathered from the shards.
#[test]
fn train_step_tensor_parallel_equals_one_device() {
    use autodiff::nn::{Activation, Mlp, ModuleExt};
    use autodiff::train::{optim::Adam, HostData, TrainStep};
    use hlo_builder::{ElementType::S32, TensorType};

    let d = data();
    let model = Mlp::new(&[64, 128, 128, 10], Activation::Relu)
        .init_seed(5)
        .unwrap();
    let inputs = [
        TensorType::new(F32, [BATCH, 64]),
        TensorType::new(S32, [BATCH]),
    ];
    let megatron = |path: &str, t: &TensorType| match path {
        "layers.0.weight" => Sharding::new(&[&[], &["model"]]),
        "layers.0.bias" => Sharding::new(&[&["model"]]),
        "layers.1.weight" => Sharding::new(&[&["model"], &[]]),
        _ => Sharding::replicated(t.rank()),
    };
    let one_step = |mesh: Option<(Mesh, Vec<Sharding>)>| {
        let mut b = TrainStep::new(client4(), model.clone())
            .optimizer(Adam::new(1e-3))
            .inputs(inputs.clone());
        if let Some((m, ins)) = mesh {
            b = b.partitioned(m, megatron, ins);
        }
        b.compile(|m, b| m.forward(&b[0])?.cross_entropy(&b[1]))
            .unwrap()
    };
    let mut one = one_step(None);
    let mut tp = one_step(Some((
        Mesh::new(&[("model", 4)]).unwrap(),
        vec![Sharding::replicated(2), Sharding::replicated(1)],
    )));
    let mut both = one_step(Some((
        Mesh::new(&[("data", 2), ("model", 2)]).unwrap(),
        vec![Sharding::split(2, 0, "data"), Sharding::split(1, 0, "data")],
    )));
    // The first layer's weight lives on the devices as [64, 32] shards.
    let w0 = tp.executable().parameters().unwrap()[0].dims.clone();
    assert_eq!(w0, vec![64, 32]);
    for k in 0..STEPS {
        let n = d.len();
        let idx: Vec<usize> = (0..BATCH as usize)
            .map(|i| (k * BATCH as usize + i) % n)
            .collect();
        let s = d.select(&idx).unwrap();
        let batch = [HostData::from(&s.images), HostData::from(&s.labels)];
        let a = one.step(&batch).unwrap().loss().unwrap();
        for (what, st) in [("tensor-parallel", &mut tp), ("2x2", &mut both)] {
            let l = st.step(&batch).unwrap().loss().unwrap();
            assert!(
                (a - l).abs() <= 1e-5 * a.abs(),
                "{what}: step {k}: loss {l}, one device {a}"
            );
        }
    }
    let m1 = one.model().unwrap();
    for (what, st) in [("tensor-parallel", &tp), ("2x2", &both)] {
        let m = st.model().unwrap();
        let mut worst = 0f64;
        for ((name, p1), (_, p)) in m1.params().into_iter().zip(m.params()) {
            let a = p1.host().unwrap().to_vec::<f32>().unwrap();
            let b = p.host().unwrap().to_vec::<f32>().unwrap();
            let r = rel(&b, &a);
            worst = worst.max(r);
            assert!(r <= 1e-5, "{what}: {name}: {r:e} relative");
        }
        eprintln!("TrainStep {what}: largest relative parameter difference {worst:.2e}");
    }
    // The checkpoint gathers parameters and optimizer slots; restoring it puts the shards
    // back, and training goes on from there.
    let c = tp.checkpoint().unwrap();
    let c1 = one.checkpoint().unwrap();
    for (name, l) in &c1.tensors {
        if l.element_type() != F32 {
            continue;
        }
        let r = rel(
            &c.tensors[name].to_vec::<f32>().unwrap(),
            &l.to_vec::<f32>().unwrap(),
        );
        assert!(r <= 1e-5, "checkpoint {name}: {r:e}");
    }
    tp.restore(&c1).unwrap();
    let m = tp.model().unwrap();
    for ((name, p1), (_, p)) in m1.params().into_iter().zip(m.params()) {
        assert_eq!(
            p1.host().unwrap().to_vec::<f32>().unwrap(),
            p.host().unwrap().to_vec::<f32>().unwrap(),
            "restored {name}"
        );
    }
}

/// Step time of the data-parallel digits MLP train step (64-128-128-10, Adam, global batch
/// 512) on 1, 2 and 4 devices of one CPU client. A measurement, not a check: run with
/// `cargo test -p integration-tests --test integration scaling -- --ignored --nocapture`.
#[test]
#[ignore]
fn scaling_of_the_data_parallel_step() {
    use autodiff::nn::{Activation, Mlp, ModuleExt};
    use autodiff::train::{optim::Adam, HostData, TrainStep};
    use hlo_builder::{ElementType::S32, TensorType};
    const B: i64 = 512;
    let d = data();
    let model = Mlp::new(&[64, 128, 128, 10], Activation::Relu)
        .init_seed(3)
        .unwrap();
    let idx: Vec<usize> = (0..B as usize).map(|i| i % d.len()).collect();
    let s = d.select(&idx).unwrap();
    for n in [1i64, 2, 4] {
        let mut b = TrainStep::new(client4(), model.clone())
            .optimizer(Adam::new(1e-3))
            .inputs([TensorType::new(F32, [B, 64]), TensorType::new(S32, [B])]);
        if n > 1 {
            b = b.data_parallel(Mesh::new(&[("data", n)]).unwrap(), "data");
        }
        let mut step = b
            .compile(|m, b| m.forward(&b[0])?.cross_entropy(&b[1]))
            .unwrap();
        let mut times = Vec::new();
        for k in 0..120 {
            let t = std::time::Instant::now();
            step.step(&[HostData::from(&s.images), HostData::from(&s.labels)])
                .unwrap()
                .loss()
                .unwrap();
            if k >= 20 {
                times.push(t.elapsed().as_secs_f64());
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let med = times[times.len() / 2];
        eprintln!(
            "| {n} | {:.2} ms | {:.0} examples/s |",
            med * 1e3,
            B as f64 / med
        );
    }
}

/// The char_lm transformer (2 blocks, width 32, 2 heads) trained for 20 SGD steps on 4 CPU
/// devices, data-parallel (the batch split over `data`), tensor-parallel (Megatron-style:
/// the fused q/k/v projection and the feed-forward's first layer split by columns, the
/// attention output and the feed-forward's second layer by rows, over `model`) and both on a
/// 2x2 mesh: losses and parameters equal one-device training. (SGD: the key projection's
/// bias has a gradient that is zero in exact arithmetic, since softmax ignores a shift
/// shared by all keys; Adam divides its rounding noise by its own size and takes steps of
/// the learning rate in random directions, so with Adam those entries differ between any two
/// summation orders, 1.2e-4 relative here, while every loss still agreed within 1e-5.)
#[test]
fn the_transformer_trains_data_and_tensor_parallel_like_one_device() {
    use autodiff::nn::{seeded, ModuleExt};
    use autodiff::train::{optim::Sgd, HostData, TrainStep};
    use examples::char_lm::{self, CharLm, Config, Corpus};
    use hlo_builder::{ElementType::S32, TensorType};

    let corpus = Corpus::load(char_lm::default_path()).unwrap();
    let c = Config {
        dim: 32,
        heads: 2,
        layers: 2,
        context: 16,
        batch: 8,
        lr: 1e-2,
        ..Config::new(corpus.vocab.len() as i64)
    };
    let model = CharLm::new(&c).init(&mut seeded(1)).unwrap();
    let tokens = TensorType::new(S32, [c.batch, c.context]);
    let megatron = |path: &str, t: &TensorType| {
        let cols = ["attn.qkv.weight", "mlp.layers.0.weight"];
        let col_bias = ["attn.qkv.bias", "mlp.layers.0.bias"];
        let rows = ["attn.out.weight", "mlp.layers.1.weight"];
        if cols.iter().any(|s| path.ends_with(s)) {
            Sharding::new(&[&[], &["model"]])
        } else if col_bias.iter().any(|s| path.ends_with(s)) {
            Sharding::new(&[&["model"]])
        } else if rows.iter().any(|s| path.ends_with(s)) {
            Sharding::new(&[&["model"], &[]])
        } else {
            Sharding::replicated(t.rank())
        }
    };
    let by_rows = |axis: &str| vec![Sharding::split(2, 0, axis), Sharding::split(2, 0, axis)];
    let make = |how: &str| {
        let b = TrainStep::new(client4(), model.clone())
            .optimizer(Sgd::new(0.5))
            .inputs([tokens.clone(), tokens.clone()]);
        let b = match how {
            "one" => b,
            "data" => b.data_parallel(Mesh::new(&[("data", 4)]).unwrap(), "data"),
            "model" => b.partitioned(
                Mesh::new(&[("model", 4)]).unwrap(),
                megatron,
                vec![Sharding::replicated(2), Sharding::replicated(2)],
            ),
            _ => b.partitioned(
                Mesh::new(&[("data", 2), ("model", 2)]).unwrap(),
                megatron,
                by_rows("data"),
            ),
        };
        b.compile(|m, b| m.forward(&b[0])?.cross_entropy(&b[1]))
            .unwrap()
    };
    let mut one = make("one");
    let mut others: Vec<(&str, _)> = ["data", "model", "2x2"]
        .into_iter()
        .map(|h| (h, make(h)))
        .collect();
    // The tensor-parallel step keeps a quarter of each split weight on each device.
    let qkv = model
        .params()
        .into_iter()
        .position(|(n, _)| n.ends_with("attn.qkv.weight"))
        .unwrap();
    let dims = others[1].1.executable().parameters().unwrap()[qkv]
        .dims
        .clone();
    assert_eq!(dims, vec![c.dim, 3 * c.dim / 4]);
    let mut losses = Vec::new();
    for s in 0..20 {
        let (x, y) = char_lm::batch(&corpus.train, 0, s, c.batch as usize, c.context as usize);
        let batch = [HostData::from(&x), HostData::from(&y)];
        let a = one.step(&batch).unwrap().loss().unwrap();
        losses.push(a);
        for (what, st) in others.iter_mut() {
            let l = st.step(&batch).unwrap().loss().unwrap();
            assert!(
                (a - l).abs() <= 1e-5 * a.abs(),
                "{what}: step {s}: loss {l}, one device {a}"
            );
        }
    }
    // It trained (the comparison is not of untouched models).
    assert!(losses[19] < losses[0] - 0.5, "{losses:?}");
    let m1 = one.model().unwrap();
    for (what, st) in &others {
        let m = st.model().unwrap();
        let mut worst = 0f64;
        for ((name, p1), (_, p)) in m1.params().into_iter().zip(m.params()) {
            let r = rel(
                &p.host().unwrap().to_vec::<f32>().unwrap(),
                &p1.host().unwrap().to_vec::<f32>().unwrap(),
            );
            worst = worst.max(r);
            assert!(r <= 1e-5, "{what}: {name}: {r:e} relative");
        }
        eprintln!("transformer {what}: largest relative parameter difference {worst:.2e}");
    }
}
