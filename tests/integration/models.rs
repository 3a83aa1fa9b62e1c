//! Models as Rust types, on the CPU plugin: layers against host computations, every layer's
//! gradient against finite differences, the train step (metrics, state, checkpoints, bound
//! functions, failures), decoding with a key/value cache, and errors that name the user's line.

use autodiff::nn::{
    self, Activation, BatchNorm, Conv1d, Conv2d, Dropout, Embedding, LayerNorm, Linear, Mask, Mlp,
    Module, ModuleCast, ModuleExt, MultiHeadAttention, ParamKind, RmsNorm, TransformerBlock,
};
use autodiff::train::optim::{Adam, Sgd};
use autodiff::train::{HostData, Objective, OptimizerState, TrainStep, WeightSource, Weights};
use hlo_builder::{ElementType, Recording, Tensor, TensorType};
use pjrt::{Client, Literal};

fn client() -> Client {
    Client::default_cpu().unwrap()
}

fn f32s(l: &Literal) -> Vec<f32> {
    l.to_vec::<f32>().unwrap()
}

fn close(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

/// Runs `f(model, x)` on host `x` with `model`'s values.
fn run<M: Module>(
    model: &M,
    x: &Literal,
    f: impl FnOnce(&M, &[Tensor]) -> hlo_builder::Result<Vec<Tensor>>,
) -> Vec<Literal> {
    let c = client();
    let w = Weights::upload(&c, model).unwrap();
    let t = TensorType::new(x.element_type(), x.dims());
    let g = w.function("f", &[t], f).unwrap();
    g.call(&w, &[HostData::from(x)]).unwrap()
}

fn data(n: usize, salt: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (((i * 7 + salt * 13) % 23) as f32 - 11.0) / 11.0)
        .collect()
}

// ------------------------------------------------------------------ trees

#[derive(Clone, Debug, Module)]
struct Block {
    norm: LayerNorm,
    mlp: Mlp,
}

#[derive(Clone, Debug, Module)]
struct Net {
    embed: Embedding,
    blocks: Vec<Block>,
    head: Option<Linear>,
    #[module(skip)]
    width: i64,
}

#[test]
fn derived_trees_name_every_leaf_by_its_path() {
    let net = Net {
        embed: Embedding::new(10, 4),
        blocks: (0..2)
            .map(|_| Block {
                norm: LayerNorm::new(4),
                mlp: Mlp::new(&[4, 8, 4], Activation::Gelu),
            })
            .collect(),
        head: Some(Linear::new(4, 10).no_bias()),
        width: 4,
    };
    let names: Vec<String> = net.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "embed.table",
            "blocks.0.norm.scale",
            "blocks.0.norm.shift",
            "blocks.0.mlp.layers.0.weight",
            "blocks.0.mlp.layers.0.bias",
            "blocks.0.mlp.layers.1.weight",
            "blocks.0.mlp.layers.1.bias",
            "blocks.1.norm.scale",
            "blocks.1.norm.shift",
            "blocks.1.mlp.layers.0.weight",
            "blocks.1.mlp.layers.0.bias",
            "blocks.1.mlp.layers.1.weight",
            "blocks.1.mlp.layers.1.bias",
            "head.weight",
        ]
    );
    assert_eq!(net.num_params(), 40 + 2 * (8 + 40 + 36) + 40);
    // Seeded initialization is reproducible and takes any rand generator.
    let a = net.clone().init(&mut nn::seeded(3)).unwrap();
    let b = net.clone().init(&mut nn::seeded(3)).unwrap();
    let c = net.init(&mut nn::seeded(4)).unwrap();
    let bytes = |m: &Net| m.embed.table.host().unwrap().as_bytes().to_vec();
    assert_eq!(bytes(&a), bytes(&b));
    assert_ne!(bytes(&a), bytes(&c));
    assert_eq!(a.width, 4);
}

// ------------------------------------------------------------------ layers

#[test]
fn linear_embedding_and_norms_match_host_computations() {
    let lin = Linear::new(3, 2).init(&mut nn::seeded(1)).unwrap();
    let x = Literal::from_slice(&data(6, 1), &[2, 3]).unwrap();
    let out = run(&lin, &x, |m, x| Ok(vec![m.forward(&x[0])?]));
    let w = f32s(lin.weight.host().unwrap());
    let bias = f32s(lin.bias.as_ref().unwrap().host().unwrap());
    let xs = f32s(&x);
    let want: Vec<f32> = (0..2)
        .flat_map(|r| (0..2).map(move |c| (r, c)))
        .map(|(r, c)| (0..3).map(|k| xs[r * 3 + k] * w[k * 2 + c]).sum::<f32>() + bias[c])
        .collect();
    close("linear", &f32s(&out[0]), &want, 1e-6);

    let emb = Embedding::new(5, 3).init(&mut nn::seeded(2)).unwrap();
    let ids = Literal::from_slice(&[4i32, 0, 2, 4], &[2, 2]).unwrap();
    let out = run(&emb, &ids, |m, x| Ok(vec![m.forward(&x[0])?]));
    let table = f32s(emb.table.host().unwrap());
    let want: Vec<f32> = [4, 0, 2, 4]
        .iter()
        .flat_map(|&i| table[i * 3..i * 3 + 3].to_vec())
        .collect();
    assert_eq!(out[0].dims(), [2, 2, 3]);
    assert_eq!(f32s(&out[0]), want);

    let ln = LayerNorm::new(4).init(&mut nn::seeded(3)).unwrap();
    let rms = RmsNorm::new(4).init(&mut nn::seeded(3)).unwrap();
    let x = Literal::from_slice(&data(8, 2), &[2, 4]).unwrap();
    let xs = f32s(&x);
    let got_ln = f32s(&run(&ln, &x, |m, x| Ok(vec![m.forward(&x[0])?]))[0]);
    let got_rms = f32s(&run(&rms, &x, |m, x| Ok(vec![m.forward(&x[0])?]))[0]);
    for r in 0..2 {
        let row = &xs[r * 4..r * 4 + 4];
        let mean = row.iter().sum::<f32>() / 4.0;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 4.0;
        let ms = row.iter().map(|v| v * v).sum::<f32>() / 4.0;
        for c in 0..4 {
            let want_ln = (row[c] - mean) / (var + 1e-5).sqrt();
            let want_rms = row[c] / (ms + 1e-6).sqrt();
            close("layer_norm", &[got_ln[r * 4 + c]], &[want_ln], 1e-5);
            close("rms_norm", &[got_rms[r * 4 + c]], &[want_rms], 1e-5);
        }
    }
}

#[test]
fn causal_attention_looks_only_backwards() {
    // With identical queries, keys and values of one head, causal attention at position t
    // averages the values of positions 0..=t.
    let f = Recording::new("attn");
    let v = f.parameter("v", ElementType::F32, [1, 4, 2]).unwrap();
    let zeros = v.zeros_like().unwrap();
    let y = nn::scaled_dot_product_attention(&zeros, &zeros, &v, Mask::Causal).unwrap();
    let exe = client()
        .compile(&f.build(&[&y]).unwrap().program())
        .unwrap();
    let vals = [1.0f32, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0];
    let out = exe
        .run(&[&Literal::from_slice(&vals, &[1, 4, 2]).unwrap()])
        .unwrap();
    close(
        "causal mean",
        &f32s(&out[0]),
        &[1.0, 10.0, 1.5, 15.0, 2.0, 20.0, 2.5, 25.0],
        1e-6,
    );
}

#[test]
fn kv_cache_decoding_gives_the_full_context_outputs() {
    // A block run over 6 positions at once equals the same block fed one position at a
    // time through its key/value cache.
    let blk = TransformerBlock::new(8, 2, 16)
        .with_rotary()
        .init(&mut nn::seeded(5))
        .unwrap();
    let x = Literal::from_slice(&data(2 * 6 * 8, 4), &[2, 6, 8]).unwrap();
    let full = run(&blk, &x, |m, x| Ok(vec![m.forward(&x[0], Mask::Causal)?]));
    let c = client();
    let w = Weights::upload(&c, &blk).unwrap();
    let step_types = [
        TensorType::new(ElementType::F32, [2, 1, 8]),
        TensorType::new(ElementType::F32, [2, 2, 6, 4]),
        TensorType::new(ElementType::F32, [2, 2, 6, 4]),
        TensorType::new(ElementType::S32, []),
    ];
    let decode = w
        .function("decode", &step_types, |m, a| {
            let cache = nn::KvCache {
                k: a[1].clone(),
                v: a[2].clone(),
            };
            let (y, cache) = m.forward_cached(&a[0], &cache, &a[3])?;
            Ok(vec![y, cache.k, cache.v])
        })
        .unwrap();
    let xs = f32s(&x);
    let mut k = c
        .buffer_from_literal(&Literal::zeros(ElementType::F32, &[2, 2, 6, 4]).unwrap())
        .unwrap();
    let mut v = c
        .buffer_from_literal(&Literal::zeros(ElementType::F32, &[2, 2, 6, 4]).unwrap())
        .unwrap();
    let mut got = vec![0f32; 2 * 6 * 8];
    for t in 0..6 {
        let mut xt = Vec::new();
        for b in 0..2 {
            xt.extend_from_slice(&xs[(b * 6 + t) * 8..(b * 6 + t + 1) * 8]);
        }
        let xb = c.buffer_from_host(&xt, &[2, 1, 8]).unwrap();
        let pos = c.buffer_from_host(&[t as i32], &[]).unwrap();
        let mut outs = decode.call_buffers(&w, &[&xb, &k, &v, &pos]).unwrap();
        v = outs.pop().unwrap();
        k = outs.pop().unwrap();
        let y = outs[0].to_vec::<f32>().unwrap();
        for b in 0..2 {
            got[(b * 6 + t) * 8..(b * 6 + t + 1) * 8].copy_from_slice(&y[b * 8..b * 8 + 8]);
        }
    }
    close("cached vs full", &got, &f32s(&full[0]), 2e-5);
}

#[test]
fn conv_layers_keep_same_sizes_and_match_a_loop() {
    let conv = Conv1d::new(2, 3, [3]).init(&mut nn::seeded(6)).unwrap();
    let x = Literal::from_slice(&data(2 * 5 * 2, 5), &[2, 5, 2]).unwrap();
    let out = run(&conv, &x, |m, x| Ok(vec![m.forward(&x[0])?]));
    assert_eq!(out[0].dims(), [2, 5, 3]);
    let (xs, k) = (f32s(&x), f32s(conv.kernel.host().unwrap()));
    let mut want = vec![0f32; 2 * 5 * 3];
    for n in 0..2 {
        for p in 0..5i64 {
            for o in 0..3 {
                let mut s = 0.0;
                for j in 0..3i64 {
                    let q = p + j - 1; // "same": one zero on each side
                    if (0..5).contains(&q) {
                        for i in 0..2 {
                            s += xs[(n * 5 + q as usize) * 2 + i] * k[(j as usize * 2 + i) * 3 + o];
                        }
                    }
                }
                want[(n * 5 + p as usize) * 3 + o] = s;
            }
        }
    }
    close("conv1d", &f32s(&out[0]), &want, 1e-5);
    let conv2 = Conv2d::new(1, 4, [3, 3])
        .with_strides([2, 2])
        .init(&mut nn::seeded(7))
        .unwrap();
    let img = Literal::from_slice(&data(8 * 8, 6), &[1, 8, 8, 1]).unwrap();
    let out = run(&conv2, &img, |m, x| Ok(vec![m.forward(&x[0])?]));
    assert_eq!(out[0].dims(), [1, 4, 4, 4]);
}

/// `<grad L, v>` against `(L(p + hv) - L(p - hv)) / 2h` in f64, for `L = sum(f(x) * r)` over
/// the model's trainable parameters and the input.
fn check_gradients<M: Module>(
    name: &str,
    model: M,
    x_dims: &[i64],
    f: impl Fn(&M, &Tensor) -> hlo_builder::Result<Tensor>,
) {
    let model = model
        .init(&mut nn::seeded(11))
        .unwrap()
        .cast(ElementType::F64)
        .unwrap();
    let rec = Recording::new(name);
    let (bound, ps) = model.bind(&rec, &[ParamKind::Trainable]).unwrap();
    // State (running statistics) enters as fixed inputs after the parameters.
    let (bound, _) = bound.bind(&rec, &[ParamKind::State]).unwrap();
    let state = model.host_values(&[ParamKind::State]).unwrap();
    let x = rec.parameter("x", ElementType::F64, x_dims).unwrap();
    let y = f(&bound, &x).unwrap();
    let r = rec
        .constant(
            &data(y.ty().element_count() as usize, 9)
                .iter()
                .map(|&v| v as f64)
                .collect::<Vec<_>>(),
            y.dims(),
        )
        .unwrap();
    let loss = (&y * &r).unwrap().sum_all().unwrap();
    let mut wrt: Vec<Tensor> = ps.clone();
    wrt.push(x.clone());
    let gs: Vec<Tensor> = rec
        .with(|b| {
            let ids: Vec<_> = wrt.iter().map(|t| t.value()).collect();
            autodiff::grad(b, loss.value(), &ids)
        })
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|v| rec.tensor(v).unwrap())
        .collect();
    let mut outs = vec![&loss];
    outs.extend(gs.iter());
    let exe = client()
        .compile(&rec.build(&outs).unwrap().program())
        .unwrap();
    let mut point: Vec<Vec<f64>> = model
        .host_values(&[ParamKind::Trainable])
        .unwrap()
        .iter()
        .map(|l| l.to_vec::<f64>().unwrap())
        .collect();
    let nx: i64 = x_dims.iter().product();
    point.push((0..nx).map(|i| ((i * 5 % 13) as f64 - 6.0) / 6.0).collect());
    let dir: Vec<Vec<f64>> = point
        .iter()
        .enumerate()
        .map(|(k, p)| {
            (0..p.len())
                .map(|i| (((i + 3 * k) * 7 % 11) as f64 - 5.0) / 5.0)
                .collect()
        })
        .collect();
    let dims: Vec<Vec<i64>> = wrt.iter().map(|t| t.dims().to_vec()).collect();
    let eval = |s: f64| -> Vec<Literal> {
        let mut args: Vec<Literal> = point
            .iter()
            .zip(&dir)
            .zip(&dims)
            .map(|((p, d), dm)| {
                let v: Vec<f64> = p.iter().zip(d).map(|(a, b)| a + s * b).collect();
                Literal::from_slice(&v, dm).unwrap()
            })
            .collect();
        let x = args.pop().unwrap();
        args.extend(state.iter().map(|l| (**l).clone()));
        args.push(x);
        exe.run(&args.iter().collect::<Vec<_>>()).unwrap()
    };
    let h = 1e-6;
    let (o0, op, om) = (eval(0.0), eval(h), eval(-h));
    let fd = (op[0].to_scalar::<f64>().unwrap() - om[0].to_scalar::<f64>().unwrap()) / (2.0 * h);
    let analytic: f64 = o0[1..]
        .iter()
        .zip(&dir)
        .map(|(g, d)| {
            g.to_vec::<f64>()
                .unwrap()
                .iter()
                .zip(d)
                .map(|(a, b)| a * b)
                .sum::<f64>()
        })
        .sum();
    assert!(
        (fd - analytic).abs() <= 1e-6 * analytic.abs().max(1.0),
        "{name}: finite differences {fd}, gradient {analytic}"
    );
}

#[test]
fn every_layer_has_correct_gradients() {
    check_gradients("linear", Linear::new(3, 4), &[2, 3], |m, x| m.forward(x));
    check_gradients(
        "mlp",
        Mlp::new(&[3, 5, 2], Activation::Tanh),
        &[4, 3],
        |m, x| m.forward(x),
    );
    check_gradients("layer_norm", LayerNorm::new(5), &[3, 5], |m, x| {
        m.forward(x)
    });
    check_gradients("rms_norm", RmsNorm::new(5), &[3, 5], |m, x| m.forward(x));
    check_gradients("batch_norm_infer", BatchNorm::new(3), &[4, 3], |m, x| {
        m.forward(x)
    });
    check_gradients("conv1d", Conv1d::new(2, 3, [3]), &[2, 5, 2], |m, x| {
        m.forward(x)
    });
    check_gradients(
        "conv2d_strided",
        Conv2d::new(2, 3, [3, 3]).with_strides([2, 1]),
        &[1, 5, 4, 2],
        |m, x| m.forward(x),
    );
    check_gradients(
        "attention",
        MultiHeadAttention::new(4, 2),
        &[2, 3, 4],
        |m, x| m.forward(x, Mask::Causal),
    );
    check_gradients(
        "attention_rotary",
        MultiHeadAttention::new(4, 2).with_rotary(),
        &[1, 3, 4],
        |m, x| m.forward(x, Mask::None),
    );
    check_gradients(
        "transformer_block",
        TransformerBlock::new(4, 2, 8),
        &[1, 3, 4],
        |m, x| m.forward(x, Mask::Causal),
    );
    check_gradients("embedding_via_scale", Linear::new(2, 2), &[3, 2], |m, x| {
        // losses over [..., classes]: cross-entropy against fixed labels.
        let labels = x.recording().constant(&[0i32, 1, 1], [3])?;
        let logits = m.forward(x)?;
        logits.cross_entropy(&labels)?.reshape([1])
    });
}

// ------------------------------------------------------------------ the train step

#[derive(Clone, Debug, Module)]
struct Classifier {
    body: Mlp,
    norm: BatchNorm,
    drop: Dropout,
    head: Linear,
}

impl Classifier {
    fn new() -> Classifier {
        Classifier {
            body: Mlp::new(&[4, 16], Activation::Relu),
            norm: BatchNorm::new(16),
            drop: Dropout::new(0.1),
            head: Linear::new(16, 3),
        }
    }
    fn forward(&self, x: &Tensor) -> hlo_builder::Result<Tensor> {
        let h = self.norm.forward(&self.body.forward(x)?.relu()?)?;
        self.head.forward(&self.drop.forward(&h)?)
    }
}

fn toy_batch() -> (Vec<f32>, Vec<i32>) {
    let x = data(8 * 4, 3);
    let y: Vec<i32> = (0..8).map(|i| i % 3).collect();
    (x, y)
}

fn toy_step(c: &Client) -> TrainStep<Classifier> {
    let m = Classifier::new().init(&mut nn::seeded(8)).unwrap();
    TrainStep::new(c, m)
        .name("toy")
        .optimizer(Adam::new(0.01))
        .inputs([
            TensorType::new(ElementType::F32, [8, 4]),
            TensorType::new(ElementType::S32, [8]),
        ])
        .compile(|m, b| {
            let logits = m.forward(&b[0])?;
            let acc = logits
                .argmax(-1)?
                .eq(&b[1])?
                .to_dtype(ElementType::F32)?
                .mean_all()?;
            Ok(Objective::new(logits.cross_entropy(&b[1])?).metric("accuracy", acc))
        })
        .unwrap()
}

#[test]
fn step_trains_reports_metrics_and_moves_state() {
    let c = client();
    let mut step = toy_step(&c);
    let (x, y) = toy_batch();
    let first = step
        .step(&[HostData::from(&x), HostData::from(&y)])
        .unwrap();
    let l0 = first.loss().unwrap();
    let acc = first.metric_f64("accuracy").unwrap();
    assert!((0.0..=1.0).contains(&acc));
    for _ in 0..60 {
        step.step(&[HostData::from(&x), HostData::from(&y)])
            .unwrap();
    }
    let last = step
        .step(&[HostData::from(&x), HostData::from(&y)])
        .unwrap();
    assert!(
        last.loss().unwrap() < l0 * 0.5,
        "{l0} -> {}",
        last.loss().unwrap()
    );
    assert!(last
        .metric("nope")
        .unwrap_err()
        .to_string()
        .contains("accuracy"));
    let m = step.model().unwrap();
    // Batch-norm statistics moved away from their initial 0 and 1; the dropout key moved.
    let mean = f32s(m.norm.mean.host().unwrap());
    assert!(mean.iter().any(|&v| v.abs() > 1e-3), "{mean:?}");
    let key0 = Classifier::new()
        .init(&mut nn::seeded(8))
        .unwrap()
        .drop
        .key
        .host()
        .unwrap()
        .to_vec::<u64>()
        .unwrap();
    assert_ne!(m.drop.key.host().unwrap().to_vec::<u64>().unwrap(), key0);
    // Gradients and optimizer state have the model's type (a compile-time fact).
    let opt: OptimizerState<Classifier> = step.optimizer_state().unwrap();
    assert_eq!(opt.step, 62);
    assert_eq!(opt.slots.len(), 2);
    let m1: &Classifier = &opt.slots[0];
    assert!(f32s(m1.head.weight.host().unwrap())
        .iter()
        .any(|&v| v != 0.0));
}

#[test]
fn functions_bound_to_the_step_see_its_live_weights() {
    let c = client();
    let mut step = toy_step(&c);
    let (x, y) = toy_batch();
    let predict = step
        .function(
            "predict",
            &[TensorType::new(ElementType::F32, [8, 4])],
            |m, a| Ok(vec![m.forward(&a[0])?]),
        )
        .unwrap();
    let before = f32s(&predict.call(&step, &[HostData::from(&x)]).unwrap()[0]);
    step.step(&[HostData::from(&x), HostData::from(&y)])
        .unwrap();
    let after = f32s(&predict.call(&step, &[HostData::from(&x)]).unwrap()[0]);
    assert_ne!(before, after);
    // The same function on the host copy of the model gives the same numbers.
    let host = Weights::upload(&c, &step.model().unwrap()).unwrap();
    let again = f32s(&predict.call(&host, &[HostData::from(&x)]).unwrap()[0]);
    assert_eq!(after, again);
    // Wrong inputs are errors naming the function.
    let e = predict
        .call(&step, &[HostData::from(&y)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("predict"), "{e}");
}

#[test]
fn checkpoints_round_trip_exactly_and_name_every_mismatch() {
    let dir = std::env::temp_dir().join(format!("models-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("toy.safetensors");
    let c = client();
    let (x, y) = toy_batch();
    let mut a = toy_step(&c);
    for _ in 0..5 {
        a.step(&[HostData::from(&x), HostData::from(&y)]).unwrap();
    }
    a.save(&path).unwrap();
    let mut b = toy_step(&c);
    b.load(&path).unwrap();
    assert_eq!(b.steps(), 5);
    // The next steps of both give bit-identical losses and parameters.
    for _ in 0..3 {
        let la = a
            .step(&[HostData::from(&x), HostData::from(&y)])
            .unwrap()
            .loss()
            .unwrap();
        let lb = b
            .step(&[HostData::from(&x), HostData::from(&y)])
            .unwrap()
            .loss()
            .unwrap();
        assert_eq!(la.to_bits(), lb.to_bits());
    }
    let (ca, cb) = (a.checkpoint().unwrap(), b.checkpoint().unwrap());
    assert_eq!(ca.tensors.len(), cb.tensors.len());
    for (k, v) in &ca.tensors {
        assert_eq!(v.as_bytes(), cb.tensors[k].as_bytes(), "{k}");
    }
    assert!(ca.tensors.contains_key("optim.slot1.head.weight"));
    // A checkpoint with a missing, an extra and a mis-shaped tensor: every one named, and
    // the step keeps its state.
    let mut bad = ca.clone();
    bad.tensors.remove("head.bias");
    bad.tensors.remove("optim.slot0.body.layers.0.weight");
    bad.insert("stray", Literal::scalar(1.0f32));
    bad.insert("norm.var", Literal::zeros(ElementType::F32, &[15]).unwrap());
    let before = b.checkpoint().unwrap();
    let e = b.restore(&bad).unwrap_err().to_string();
    for needle in [
        "head.bias",
        "optim.slot0.body.layers.0.weight",
        "unexpected: stray",
        "norm.var (model f32[16], checkpoint f32[15])",
    ] {
        assert!(e.contains(needle), "{needle}: {e}");
    }
    let after = b.checkpoint().unwrap();
    for (k, v) in &before.tensors {
        assert_eq!(v.as_bytes(), after.tensors[k].as_bytes(), "{k}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_step_keeps_the_state_and_training_continues() {
    let c = client();
    let mut step = toy_step(&c);
    let (x, y) = toy_batch();
    step.step(&[HostData::from(&x), HostData::from(&y)])
        .unwrap();
    let good = step.model().unwrap();
    // An input buffer that carries an error: refused before anything is donated.
    let err = c
        .create_error_buffer(
            pjrt::ErrorCode::Internal,
            "bad input",
            pjrt::ElementType::F32,
            &[8, 4],
            None,
        )
        .unwrap();
    let yb = c.buffer_from_host(&y, &[8]).unwrap();
    let e = step.step_buffers(&[&err, &yb]).unwrap_err().to_string();
    assert!(e.contains("carries an error"), "{e}");
    let kept = step.model().unwrap();
    assert_eq!(
        kept.head.weight.host().unwrap().as_bytes(),
        good.head.weight.host().unwrap().as_bytes()
    );
    assert_eq!(step.steps(), 1);
    let l = step
        .step(&[HostData::from(&x), HostData::from(&y)])
        .unwrap()
        .loss()
        .unwrap();
    assert!(l.is_finite());
}

// ------------------------------------------------------------------ errors name the user's line

#[derive(Clone, Debug, Module)]
struct Broken {
    a: Linear,
    b: Linear,
}

impl Broken {
    fn forward(&self, x: &Tensor) -> hlo_builder::Result<Tensor> {
        let h = self.a.forward(x)?;
        self.b.forward(&h.t()?) // the mistake: the features are no longer last
    }
}

#[test]
fn a_shape_mistake_in_a_users_layer_names_the_users_line() {
    let m = Broken {
        a: Linear::new(4, 6),
        b: Linear::new(6, 2),
    }
    .init(&mut nn::seeded(1))
    .unwrap();
    let f = Recording::new("broken");
    let (bound, _) = m.bind(&f, &[ParamKind::Trainable]).unwrap();
    let x = f.parameter("x", ElementType::F32, [3, 4]).unwrap();
    let e = bound.forward(&x).unwrap_err().to_string();
    assert!(
        e.starts_with("linear at ") || e.starts_with("matmul at "),
        "{e}"
    );
    assert!(e.contains("tests/integration/models.rs:"), "{e}");
    assert!(e.contains("contracting dimensions differ"), "{e}");
    // The reported line is the one with `self.b.forward(...)`.
    let line: u32 = e
        .split("models.rs:")
        .nth(1)
        .and_then(|r| r.split(':').next())
        .and_then(|l| l.parse().ok())
        .unwrap();
    let src = include_str!("models.rs");
    let text = src.lines().nth(line as usize - 1).unwrap();
    assert!(text.contains("self.b.forward"), "line {line}: {text}");
}

#[test]
fn tensor_methods_handle_negative_axes_keepdims_and_scalars() {
    let f = Recording::new("ops");
    let x = f.parameter("x", ElementType::F32, [2, 3]).unwrap();
    let s = x.sum_keepdim(-1).unwrap();
    assert_eq!(s.dims(), [2, 1]);
    let n = (&x / &s).unwrap();
    let p = (1.0 - &n).unwrap();
    let q = (&p * 0.5).unwrap();
    let parts = q.split([1, 2], -1).unwrap();
    let st = Tensor::stack(&[&parts[0], &parts[0]], 0).unwrap();
    assert_eq!(st.dims(), [2, 2, 1]);
    let sq = st.squeeze(-1).unwrap().expand_dims(0).unwrap();
    assert_eq!(sq.dims(), [1, 2, 2]);
    let tri = x
        .reshape([3, 2])
        .unwrap()
        .matmul(&x)
        .unwrap()
        .tril(0)
        .unwrap();
    let idx = f.constant(&[2i32, 0], [2]).unwrap();
    let tk = x.take(&idx, -1).unwrap();
    assert_eq!(tk.dims(), [2, 2]);
    let w = x.gt(0.0).unwrap().where_(&x, 0.0).unwrap();
    let exe = client()
        .compile(&f.build(&[&q, &tri, &tk, &w]).unwrap().program())
        .unwrap();
    let xs = [1.0f32, 2.0, 5.0, -1.0, 2.0, 3.0];
    let out = exe
        .run(&[&Literal::from_slice(&xs, &[2, 3]).unwrap()])
        .unwrap();
    close(
        "1 - x / sum",
        &f32s(&out[0]),
        &[0.4375, 0.375, 0.1875, 0.625, 0.25, 0.125],
        1e-6,
    );
    assert_eq!(f32s(&out[2]), [5.0, 1.0, 3.0, -1.0]);
    assert_eq!(f32s(&out[3]), [1.0, 2.0, 5.0, 0.0, 2.0, 3.0]);
    let t = f32s(&out[1]);
    assert_eq!((t[1], t[2], t[5]), (0.0, 0.0, 0.0));
    let e = x.softmax(2).unwrap_err().to_string();
    assert!(e.contains("axis 2 is out of range for f32[2,3]"), "{e}");
}

#[test]
fn sgd_step_of_a_model_matches_the_hand_update() {
    // One SGD step on `mse(x w + b, y)` changes w by -lr * 2/n x^T (x w + b - y).
    let c = client();
    let m = Linear::new(2, 1).init(&mut nn::seeded(4)).unwrap();
    let w0 = f32s(m.weight.host().unwrap());
    let b0 = f32s(m.bias.as_ref().unwrap().host().unwrap());
    let mut step = TrainStep::new(&c, m)
        .optimizer(Sgd::new(0.1))
        .inputs([
            TensorType::new(ElementType::F32, [3, 2]),
            TensorType::new(ElementType::F32, [3, 1]),
        ])
        .compile(|m, b| m.forward(&b[0])?.mse(&b[1]))
        .unwrap();
    let x = [1.0f32, 2.0, -1.0, 0.5, 0.0, 1.0];
    let y = [1.0f32, 0.0, 2.0];
    step.step(&[HostData::from(&x[..]), HostData::from(&y[..])])
        .unwrap();
    let m = step.model().unwrap();
    let r: Vec<f32> = (0..3)
        .map(|i| x[2 * i] * w0[0] + x[2 * i + 1] * w0[1] + b0[0] - y[i])
        .collect();
    let gw: Vec<f32> = (0..2)
        .map(|k| (0..3).map(|i| 2.0 / 3.0 * x[2 * i + k] * r[i]).sum())
        .collect();
    let gb: f32 = (0..3).map(|i| 2.0 / 3.0 * r[i]).sum();
    close(
        "w",
        &f32s(m.weight.host().unwrap()),
        &[w0[0] - 0.1 * gw[0], w0[1] - 0.1 * gw[1]],
        1e-6,
    );
    close(
        "b",
        &f32s(m.bias.as_ref().unwrap().host().unwrap()),
        &[b0[0] - 0.1 * gb],
        1e-6,
    );
}

#[test]
fn a_model_runs_inside_builder_code_through_scoped_recordings() {
    // A Linear bound to values declared by builder code (as an export or a vmap body does).
    let lin = Linear::new(3, 2).init(&mut nn::seeded(4)).unwrap();
    let mut b = hlo_builder::Builder::new("outer");
    let w = b.parameter("w", ElementType::F32, [3, 2]).unwrap();
    let bias = b.parameter("bias", ElementType::F32, [2]).unwrap();
    let x = b.parameter("x", ElementType::F32, [1, 3]).unwrap();
    let y = Recording::scoped(&mut b, |rec| -> Result<_, Box<dyn std::error::Error>> {
        let m = lin.bind_values(rec, &[ParamKind::Trainable], &[w, bias])?;
        // Wrong types and counts are errors naming the leaf.
        let e = lin
            .bind_values(rec, &[ParamKind::Trainable], &[bias, w])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`weight` is f32[3,2] but was given f32[2]"),
            "{e}"
        );
        let e = lin
            .bind_values(rec, &[ParamKind::Trainable], &[w])
            .unwrap_err()
            .to_string();
        assert!(e.contains("1 values given for 2 leaves"), "{e}");
        Ok(m.forward(&rec.tensor(x)?)?.value())
    })
    .unwrap();
    let exe = client().compile(&b.build(&[y]).unwrap().program()).unwrap();
    let hv = lin.host_values(&[ParamKind::Trainable]).unwrap();
    let xs = Literal::from_slice(&[1.0f32, 2.0, 3.0], &[1, 3]).unwrap();
    let out = exe.run(&[&*hv[0], &*hv[1], &xs]).unwrap();
    let (wv, bv) = (f32s(&hv[0]), f32s(&hv[1]));
    let want: Vec<f32> = (0..2)
        .map(|j| {
            (0..3)
                .map(|k| [1.0, 2.0, 3.0][k] * wv[k * 2 + j])
                .sum::<f32>()
                + bv[j]
        })
        .collect();
    close("scoped linear", &f32s(&out[0]), &want, 1e-5);
}

#[test]
fn a_train_step_checkpoint_loads_into_its_model() {
    let c = client();
    let step = toy_step(&c);
    let dir = std::env::temp_dir().join(format!("models-ck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("step.safetensors");
    step.save(&path).unwrap();
    let ck = autodiff::train::checkpoint::Checkpoint::load(&path).unwrap();
    // The optimizer's entries are there, and restoring the model ignores them.
    assert!(ck.get("optim.step").is_some());
    let m = ck.restore_model("", &Classifier::new()).unwrap();
    assert_eq!(
        m.host_values(&[ParamKind::Trainable]).unwrap().len(),
        step.model()
            .unwrap()
            .host_values(&[ParamKind::Trainable])
            .unwrap()
            .len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
