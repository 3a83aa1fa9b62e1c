//! End-to-end training pieces: the digits loader, checkpoints, charts, and (on the CPU
//! plugin) the nn layers and the train step.

use autodiff::train::checkpoint::{Checkpoint, Tensor};
use examples::digits::{self, Digits};
use examples::plot::{self, Figure, Panel, Series};

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("training-test-{}-{}", name, std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn digits_file_has_1797_images_with_all_ten_classes() {
    let d = Digits::load(digits::default_path()).unwrap();
    assert_eq!(d.len(), 1797);
    assert_eq!(d.images.len(), 1797 * 64);
    assert!(d.images.iter().all(|&p| (0.0..=1.0).contains(&p)));
    let mut counts = [0usize; 10];
    for &l in &d.labels {
        counts[l as usize] += 1;
    }
    // Every class has between 174 and 183 images in this data set.
    assert!(
        counts.iter().all(|&c| (174..=183).contains(&c)),
        "{counts:?}"
    );
    // The first image is a 0: its first row is 0,0,5,13,9,1,0,0 (divided by 16).
    assert_eq!(d.labels[0], 0);
    assert_eq!(
        &d.images[..8],
        &[
            0.0,
            0.0,
            5.0 / 16.0,
            13.0 / 16.0,
            9.0 / 16.0,
            1.0 / 16.0,
            0.0,
            0.0
        ]
    );
}

#[test]
fn split_is_seeded_disjoint_and_80_20() {
    let d = Digits::load(digits::default_path()).unwrap();
    let (train, test) = d.split(0.8, 7).unwrap();
    assert_eq!((train.len(), test.len()), (1438, 359));
    let (train2, test2) = d.split(0.8, 7).unwrap();
    assert_eq!(train, train2);
    assert_eq!(test, test2);
    let (train3, _) = d.split(0.8, 8).unwrap();
    assert_ne!(train.labels, train3.labels);
    // Together the parts hold exactly the original images (compare sorted rows).
    let rows = |x: &Digits| {
        let mut r: Vec<Vec<u32>> = (0..x.len())
            .map(|i| {
                x.images[i * 64..(i + 1) * 64]
                    .iter()
                    .map(|p| p.to_bits())
                    .chain([x.labels[i] as u32])
                    .collect()
            })
            .collect();
        r.sort();
        r
    };
    let mut both = rows(&train);
    both.extend(rows(&test));
    both.sort();
    assert_eq!(both, rows(&d));
    assert!(d.split(1.0, 0).is_err());
    assert!(d.split(0.0, 0).is_err());
}

#[test]
fn malformed_csv_is_an_error_naming_the_line() {
    let p = std::path::Path::new("x.csv");
    let short = "1,2,3\n";
    let e = Digits::parse_csv(short, p).unwrap_err().to_string();
    assert!(e.contains("line 1") && e.contains("65"), "{e}");
    let mut row: Vec<String> = (0..64).map(|_| "0".to_string()).collect();
    row.push("12".into());
    let e = Digits::parse_csv(&row.join(","), p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("label 12"), "{e}");
    assert!(Digits::load("/nonexistent/digits.csv.gz").is_err());
}

#[test]
fn checkpoint_round_trip_is_bit_exact() {
    let dir = scratch_dir("ckpt");
    let path = dir.join("model.safetensors");
    let mut ck = Checkpoint::default();
    let w: Vec<f32> = (0..64 * 128).map(|i| (i as f32 * 0.37).sin()).collect();
    ck.tensors
        .push(Tensor::new("dense0.w", &[64, 128], w.clone()).unwrap());
    ck.tensors
        .push(Tensor::new("adam.t", &[], vec![17.0]).unwrap());
    ck.tensors
        .push(Tensor::from_literal("opt.step", &pjrt::Literal::scalar(340i32)).unwrap());
    ck.metadata.insert("step".into(), "340".into());
    ck.save(&path).unwrap();
    let back = Checkpoint::load(&path).unwrap();
    assert_eq!(back.meta::<u64>("step").unwrap(), 340);
    let bw = back.get_f32("dense0.w", &[64, 128]).unwrap();
    assert!(bw.iter().zip(&w).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(back.get_f32("adam.t", &[]).unwrap(), &[17.0]);
    let step = back.get("opt.step", &[]).unwrap().to_literal().unwrap();
    assert_eq!(step.to_scalar::<i32>().unwrap(), 340);
    let e = back.get("dense0.w", &[128, 64]).unwrap_err().to_string();
    assert!(e.contains("[128, 64]") && e.contains("[64, 128]"), "{e}");
    std::fs::write(dir.join("junk.safetensors"), b"not a checkpoint").unwrap();
    assert!(Checkpoint::load(dir.join("junk.safetensors")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn chart_is_a_valid_png_with_the_series_drawn() {
    let dir = scratch_dir("png");
    let path = dir.join("curve.png");
    let fig = Figure {
        width: 800,
        height: 360,
        panels: vec![
            Panel {
                title: "loss".into(),
                x_label: "epoch".into(),
                y_label: "loss".into(),
                series: vec![Series {
                    name: "mlp".into(),
                    points: (0..20)
                        .map(|i| (i as f64, 1.0 / (1.0 + i as f64)))
                        .collect(),
                }],
                y_range: None,
                log_y: true,
            },
            Panel {
                title: "accuracy".into(),
                series: vec![Series {
                    name: "cnn".into(),
                    points: vec![(0.0, 0.5), (1.0, 0.9)],
                }],
                ..Default::default()
            },
        ],
    };
    fig.save_png(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h, rgb) = plot::read_png(&path).unwrap();
    assert_eq!((w, h), (800, 360));
    assert_eq!(rgb.len(), 800 * 360 * 3);
    // The first series colour appears in the left half, and the background is white.
    let left_has_series = (0..h as usize)
        .any(|y| (0..400).any(|x| rgb[(y * 800 + x) * 3..][..3] == plot::PALETTE[0]));
    assert!(left_has_series);
    assert_eq!(&rgb[..3], &[255, 255, 255]);
    std::fs::remove_dir_all(&dir).unwrap();
}

// ------------------------------------------------------------------ nn layers on the plugin

mod nn_layers {
    use autodiff::train::nn::{self, Activation, Padding};
    use hlo_builder::{Builder, ElementType::F32, ElementType::S32, ElementType::U64, Value};
    use pjrt::{Client, Literal};

    fn run(b: &Builder, outs: &[Value], args: &[Literal]) -> Vec<Vec<f32>> {
        let client = Client::default_cpu().unwrap();
        let exe = client.compile(&b.build(outs).unwrap().program()).unwrap();
        let refs: Vec<&Literal> = args.iter().collect();
        exe.run(&refs)
            .unwrap()
            .iter()
            .map(|l| l.to_vec::<f32>().unwrap())
            .collect()
    }

    fn close(a: &[f32], b: &[f32], tol: f32) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{a:?} vs {b:?}");
        }
    }

    fn lit(data: &[f32], dims: &[i64]) -> Literal {
        Literal::from_slice(data, dims).unwrap()
    }

    #[test]
    fn dense_and_activations() {
        let mut b = Builder::new("dense");
        let x = b.parameter("x", F32, [1, 2]).unwrap();
        let w = b.parameter("w", F32, [2, 3]).unwrap();
        let bias = b.parameter("b", F32, [3]).unwrap();
        let y = nn::dense(&mut b, x, w, Some(bias)).unwrap();
        let lr = nn::activation(&mut b, y, Activation::LeakyRelu(0.1)).unwrap();
        let elu = nn::elu(&mut b, y, 1.0).unwrap();
        let sp = nn::softplus(&mut b, y).unwrap();
        let sg = nn::sigmoid(&mut b, y).unwrap();
        let out = run(
            &b,
            &[y, lr, elu, sp, sg],
            &[
                lit(&[1.0, 2.0], &[1, 2]),
                lit(&[1.0, 0.0, -1.0, 2.0, 1.0, 0.0], &[2, 3]),
                lit(&[0.5, 0.0, -0.5], &[3]),
            ],
        );
        // y = [1*1 + 2*2 + 0.5, 1*0 + 2*1 + 0, 1*-1 + 2*0 - 0.5] = [5.5, 2, -1.5]
        close(&out[0], &[5.5, 2.0, -1.5], 1e-6);
        // leaky relu 0.1: [5.5, 2, -0.15]
        close(&out[1], &[5.5, 2.0, -0.15], 1e-6);
        // elu: e^-1.5 - 1 = -0.77686984
        close(&out[2], &[5.5, 2.0, -0.776_869_8], 1e-6);
        // softplus: ln(1 + e^5.5) = 5.504070, ln(1 + e^2) = 2.126928, ln(1 + e^-1.5) = 0.201413
        close(&out[3], &[5.504_07, 2.126_928, 0.201_413], 1e-5);
        // sigmoid: 0.995929, 0.880797, 0.182426
        close(&out[4], &[0.995_929, 0.880_797, 0.182_426], 1e-5);
        assert!(nn::dense(&mut b, x, bias, None)
            .unwrap_err()
            .to_string()
            .starts_with("dense:"));
    }

    #[test]
    fn conv2d_and_pooling() {
        let mut b = Builder::new("conv");
        let x = b.parameter("x", F32, [1, 3, 3, 1]).unwrap();
        let k = b.parameter("k", F32, [2, 2, 1, 1]).unwrap();
        let valid = nn::conv2d(&mut b, x, k, None, [1, 1], &Padding::Valid).unwrap();
        let same = nn::conv2d(&mut b, x, k, None, [1, 1], &Padding::Same).unwrap();
        let x4 = b.parameter("x4", F32, [1, 4, 4, 1]).unwrap();
        let mx = nn::max_pool2d(&mut b, x4, [2, 2], [2, 2], &Padding::Valid).unwrap();
        let av = nn::avg_pool2d(&mut b, x4, [2, 2], [2, 2], &Padding::Valid).unwrap();
        let av_same = nn::avg_pool2d(&mut b, x, [2, 2], [2, 2], &Padding::Same).unwrap();
        assert_eq!(b.ty(same).unwrap().to_string(), "f32[1,3,3,1]");
        let img: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let img4: Vec<f32> = (0..16).map(|v| v as f32).collect();
        let out = run(
            &b,
            &[valid, same, mx, av, av_same],
            &[
                lit(&img, &[1, 3, 3, 1]),
                lit(&[1.0; 4], &[2, 2, 1, 1]),
                lit(&img4, &[1, 4, 4, 1]),
            ],
        );
        // 2x2 window sums of [[1,2,3],[4,5,6],[7,8,9]]: [[12,16],[24,28]]
        close(&out[0], &[12.0, 16.0, 24.0, 28.0], 1e-6);
        // SAME pads one row/column at the end: the last column/row sums fewer elements.
        close(
            &out[1],
            &[12.0, 16.0, 9.0, 24.0, 28.0, 15.0, 15.0, 17.0, 9.0],
            1e-6,
        );
        // 2x2 max of 0..15 as 4x4: [[5,7],[13,15]]; mean: [[2.5,4.5],[10.5,12.5]]
        close(&out[2], &[5.0, 7.0, 13.0, 15.0], 1e-6);
        close(&out[3], &[2.5, 4.5, 10.5, 12.5], 1e-6);
        // SAME average over the 3x3 image with stride 2: windows {1,2,4,5}, {3,6}, {7,8}, {9}.
        close(&out[4], &[3.0, 4.5, 7.5, 9.0], 1e-6);
        let bad = b.parameter("bad", F32, [2, 2, 3, 1]).unwrap();
        let e = nn::conv2d(&mut b, x, bad, None, [1, 1], &Padding::Valid)
            .unwrap_err()
            .to_string();
        assert!(e.contains("input channels differ"), "{e}");
    }

    #[test]
    fn normalisation_layers() {
        let mut b = Builder::new("norm");
        let x = b.parameter("x", F32, [2, 2]).unwrap();
        let g = b.parameter("g", F32, [2]).unwrap();
        let be = b.parameter("be", F32, [2]).unwrap();
        let (bn, mean, var) = nn::batch_norm_train(&mut b, x, g, be, &[0], 0.0).unwrap();
        let ln = nn::layer_norm(&mut b, x, g, be, 0.0).unwrap();
        let run_mean = nn::moving_average(&mut b, mean, var, 0.9).unwrap();
        let inf = nn::batch_norm_infer(&mut b, x, g, be, mean, var, &[0], 0.0).unwrap();
        let out = run(
            &b,
            &[bn, mean, var, ln, run_mean, inf],
            &[
                lit(&[1.0, 2.0, 3.0, 6.0], &[2, 2]),
                lit(&[1.0, 2.0], &[2]),
                lit(&[0.0, 10.0], &[2]),
            ],
        );
        // Columns [1,3] and [2,6]: means [2,4], variances [1,4]; normalised [[-1,-1],[1,1]],
        // scaled by [1,2] and shifted by [0,10]: [[-1,8],[1,12]].
        close(&out[0], &[-1.0, 8.0, 1.0, 12.0], 1e-6);
        close(&out[1], &[2.0, 4.0], 1e-6);
        close(&out[2], &[1.0, 4.0], 1e-6);
        // Rows [1,2] and [3,6]: each normalises to [-1, 1]; scaled/shifted: [-1, 12].
        close(&out[3], &[-1.0, 12.0, -1.0, 12.0], 1e-6);
        // 0.9 * mean + 0.1 * var = [1.9, 4.0]
        close(&out[4], &[1.9, 4.0], 1e-6);
        close(&out[5], &out[0].clone(), 1e-6);
    }

    #[test]
    fn dropout_embedding_and_losses() {
        let mut b = Builder::new("misc");
        let x = b.parameter("x", F32, [1000]).unwrap();
        let state = b.parameter("state", U64, [2]).unwrap();
        let (d, s2) = nn::dropout(&mut b, x, 0.25, state).unwrap();
        let s2f = b.convert(s2, F32).unwrap();
        let table = b
            .constant(&[0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0], [3, 2])
            .unwrap();
        let ids = b.constant(&[2i32, 0], [2]).unwrap();
        let emb = nn::embedding(&mut b, table, ids).unwrap();
        let logits = b
            .constant(&[1.0f32, 2.0, 3.0, 1.0, 1.0, 1.0], [2, 3])
            .unwrap();
        let labels = b.constant(&[2i32, 0], [2]).unwrap();
        let ce = nn::sparse_softmax_cross_entropy(&mut b, logits, labels).unwrap();
        let acc = nn::accuracy(&mut b, logits, labels).unwrap();
        let p = b.constant(&[1.0f32, 2.0, 3.0], [3]).unwrap();
        let t = b.constant(&[1.0f32, 0.0, 0.0], [3]).unwrap();
        let mse = nn::mse(&mut b, p, t).unwrap();
        let z = b.constant(&[0.0f32, 2.0], [2]).unwrap();
        let y = b.constant(&[1.0f32, 0.0], [2]).unwrap();
        let bcel = nn::binary_cross_entropy_with_logits(&mut b, z, y).unwrap();
        let pr = nn::sigmoid(&mut b, z).unwrap();
        let bce = nn::binary_cross_entropy(&mut b, pr, y, 1e-7).unwrap();
        let state_lit = Literal::from_slice(&[7u64, 9], &[2]).unwrap();
        let out = run(
            &b,
            &[d, s2f, emb, ce, acc, mse, bcel, bce],
            &[lit(&[1.0; 1000], &[1000]), state_lit],
        );
        // Dropout: every element is 0 or 1 / 0.75, about a quarter are 0, and the state moved.
        assert!(out[0]
            .iter()
            .all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
        let zeros = out[0].iter().filter(|&&v| v == 0.0).count();
        assert!((200..300).contains(&zeros), "{zeros} of 1000 dropped");
        assert_ne!(out[1], vec![7.0, 9.0]);
        // Rows 2 and 0 of the table.
        close(&out[2], &[4.0, 5.0, 0.0, 1.0], 0.0);
        // Row 0: logsumexp(1,2,3) - 3 = 0.40760596; row 1: logsumexp(1,1,1) - 1 = ln 3 =
        // 1.09861229; mean 0.75310913
        close(&out[3], &[0.753_109_13], 1e-6);
        // argmax: row 0 -> 2 (right), row 1 -> 0 (first of ties, right): 1.0
        close(&out[4], &[1.0], 0.0);
        // (0 + 4 + 9) / 3
        close(&out[5], &[13.0 / 3.0], 1e-6);
        // BCE(z=0, t=1) = ln 2 = 0.693147; BCE(z=2, t=0) = softplus(2) = 2.126928; mean 1.410038
        close(&out[6], &[1.410_038], 1e-5);
        close(&out[7], &[1.410_038], 1e-5);
        assert!(nn::dropout(&mut b, x, 1.0, state).is_err());
    }

    #[test]
    fn mlp_model_shapes_and_init() {
        use autodiff::train::nn::Model;
        let m = nn::Mlp::new("mlp", &[64, 128, 128, 10], Activation::Relu);
        let specs = m.params();
        assert_eq!(
            specs.iter().map(|s| s.len()).sum::<usize>(),
            64 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10
        );
        let vals = nn::init_all(&specs, 1);
        assert_eq!(vals, nn::init_all(&specs, 1));
        assert!(vals[1].iter().all(|&v| v == 0.0));
        let mut b = Builder::new("fwd");
        let ps: Vec<Value> = specs
            .iter()
            .map(|s| b.parameter(&s.name, F32, &s.dims).unwrap())
            .collect();
        let x = b.parameter("x", F32, m.input_dims(5)).unwrap();
        let y = m.forward(&mut b, &ps, x).unwrap();
        assert_eq!(b.ty(y).unwrap().to_string(), "f32[5,10]");
        let _ = S32;
    }
}

// ------------------------------------------------------------------ the train step

mod train_step {
    use autodiff::train::nn::{Init, ParamSpec};
    use autodiff::train::optim::Sgd;
    use autodiff::train::{self, HostData, Schedule, TrainError, TrainStep};
    use hlo_builder::{ElementType::F32, TensorType};
    use pjrt::{Client, CompileOptions};

    /// Least squares `mean((x w + b - y)^2)` with its gradient written by hand:
    /// d/dw = 2/n x^T r, d/db = 2/n sum(r), r = x w + b - y.
    fn least_squares_step(client: &Client, w0: Vec<f32>) -> TrainStep {
        let params = [
            ParamSpec::new("w", [3, 1], Init::Zeros),
            ParamSpec::new("b", [1], Init::Zeros),
        ];
        let inputs = [
            ("x", TensorType::new(F32, [8, 3])),
            ("y", TensorType::new(F32, [8, 1])),
        ];
        let resid = std::cell::Cell::new(None);
        TrainStep::compile_with_grads(
            client,
            "lsq",
            &params,
            &[w0, vec![0.0]],
            &inputs,
            |b, p, x| {
                let pred = b.matmul(x[0], p[0])?;
                let pred = b.add(pred, p[1])?;
                let r = b.sub(pred, x[1])?;
                resid.set(Some((r, x[0])));
                let r2 = b.mul(r, r)?;
                b.mean(r2)
            },
            &Sgd::new(0.1),
            |b, _loss, _p| {
                let (r, x) = resid.get().unwrap();
                let xt = b.transpose(x, [1, 0])?;
                let gw = b.matmul(xt, r)?;
                let k = b.scalar_like(gw, 2.0 / 8.0)?;
                let gw = b.mul(gw, k)?;
                let gb = b.reduce_sum(r, [0])?;
                let gb = b.mul(gb, k)?;
                Ok(vec![gw, gb])
            },
        )
        .unwrap()
    }

    fn data() -> (Vec<f32>, Vec<f32>) {
        // y = 1 x0 - 2 x1 + 0.5 x2 + 3
        let x: Vec<f32> = (0..24).map(|i| ((i * 7 % 11) as f32 - 5.0) / 5.0).collect();
        let y: Vec<f32> = x
            .chunks(3)
            .map(|r| r[0] - 2.0 * r[1] + 0.5 * r[2] + 3.0)
            .collect();
        (x, y)
    }

    #[test]
    fn step_converges_donates_and_round_trips_state() {
        let client = Client::default_cpu().unwrap();
        let mut step = least_squares_step(&client, vec![0.0; 3]);
        assert!(step.module_text().contains("tf.aliasing_output = 0 : i32"));
        assert!(step.module_text().contains("tf.aliasing_output = 2 : i32"));
        let (x, y) = data();
        let first = step
            .step(&[HostData::from(&x), HostData::from(&y)])
            .unwrap();
        // Initial loss = mean(y^2) with zero parameters.
        let expect: f32 = y.iter().map(|v| v * v).sum::<f32>() / 8.0;
        assert!(
            (first - expect).abs() < 1e-4 * expect,
            "{first} vs {expect}"
        );
        let old = &step.param_buffers()[0] as *const _;
        let _ = old;
        let mut last = first;
        for _ in 0..500 {
            last = step
                .step(&[HostData::from(&x), HostData::from(&y)])
                .unwrap();
        }
        assert!(last < 1e-6, "loss {last}");
        let p = step.params_to_host().unwrap();
        for (got, want) in p[0].iter().zip([1.0, -2.0, 0.5]) {
            assert!((got - want).abs() < 1e-3, "{:?}", p);
        }
        assert!((p[1][0] - 3.0).abs() < 1e-3);
        // Sgd's state is its step count (s32).
        assert_eq!(
            step.state_to_host().unwrap()[0].to_scalar::<i32>().unwrap(),
            501
        );
        assert_eq!(step.state_names(), &["step".to_string()]);
        assert_eq!(step.steps(), 501);

        // Donation: the compiled step updates parameters (3 + 1 floats) and the step count
        // (one s32) in place; only the loss is a fresh output buffer.
        let stats = step
            .executable()
            .executable()
            .compiled_memory_stats()
            .unwrap();
        assert_eq!(stats.alias_size_in_bytes, 4 * 4 + 4, "{stats:?}");

        // Restoring state into a fresh step reproduces the next loss exactly.
        let (ps, st) = (
            step.params_to_host().unwrap(),
            step.state_to_host().unwrap(),
        );
        let a = step
            .step(&[HostData::from(&x), HostData::from(&y)])
            .unwrap();
        let mut fresh = least_squares_step(&client, vec![9.0; 3]);
        fresh.set_state(&ps, &st, 502).unwrap();
        let b = fresh
            .step(&[HostData::from(&x), HostData::from(&y)])
            .unwrap();
        assert_eq!(a.to_bits(), b.to_bits());
        assert_eq!(fresh.steps(), 503);

        // Wrong inputs are errors naming the input.
        let e = step
            .step(&[HostData::from(&y), HostData::from(&y)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("x: f32[8,3]") && e.contains("24"), "{e}");
        let ints = vec![0i32; 8];
        let e = step
            .step(&[HostData::from(&x), HostData::from(&ints)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("s32"), "{e}");
        let _ = Schedule::default();
        let _ = train::epoch_order(3, 0, 0);
    }

    /// `y = 2 x - 1` fitted by one weight and a bias through the crate's own gradients.
    fn line_step(client: &Client, options: &CompileOptions) -> Result<TrainStep, TrainError> {
        let params = [
            ParamSpec::new("w", [1, 1], Init::Zeros),
            ParamSpec::new("b", [1], Init::Zeros),
        ];
        let inputs = [
            ("x", TensorType::new(F32, [4, 1])),
            ("y", TensorType::new(F32, [4, 1])),
        ];
        TrainStep::compile_with_options(
            client,
            "line",
            &params,
            &[vec![0.0], vec![0.0]],
            &inputs,
            |b, p, x| {
                let pred = b.matmul(x[0], p[0])?;
                let pred = b.add(pred, p[1])?;
                let r = b.sub(pred, x[1])?;
                let r2 = b.mul(r, r)?;
                b.mean(r2)
            },
            &Sgd::new(0.1),
            options,
        )
    }

    #[test]
    fn compile_options_reach_the_step_executable() {
        let client = Client::default_cpu().unwrap();
        let x = [0f32, 1.0, 2.0, 3.0];
        let y: Vec<f32> = x.iter().map(|v| 2.0 * v - 1.0).collect();
        let run = |step: &mut TrainStep| -> Vec<u32> {
            (0..20)
                .map(|_| {
                    step.step(&[HostData::from(&x[..]), HostData::from(&y)])
                        .unwrap()
                        .to_bits()
                })
                .collect()
        };
        // XLA writes its dumps of the step where the options say.
        let dir = super::scratch_dir("step-dump");
        let mut dumped = line_step(
            &client,
            &CompileOptions::new().xla_option("xla_dump_to", dir.to_str().unwrap()),
        )
        .unwrap();
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().any(|n| n.contains("after_optimizations")),
            "{names:?}"
        );
        // Same program, same numbers as the default options.
        let mut plain = line_step(&client, &CompileOptions::new()).unwrap();
        let losses = run(&mut dumped);
        assert_eq!(losses, run(&mut plain));
        assert!(f32::from_bits(losses[19]) < 0.5 * f32::from_bits(losses[0]));
        // An option XLA does not know is an error naming it, from the compile.
        let e = line_step(
            &client,
            &CompileOptions::new().xla_option("xla_no_such_flag", true),
        )
        .unwrap_err();
        assert!(matches!(e, TrainError::Pjrt(_)), "{e:?}");
        assert!(e.to_string().contains("xla_no_such_flag"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

// ------------------------------------------------------------------ export and predict

mod export {
    use autodiff::train::export::{self, ExportPaths};
    use autodiff::train::nn::{self, Model};
    use examples::digits::{self, Digits, SPLIT_SEED, TRAIN_FRACTION};
    use examples::inference;
    use pjrt::Client;

    const CHILD_DIR: &str = "TRAINING_TEST_CHILD_DIR";

    fn plugin(rel: &str) -> std::path::PathBuf {
        pjrt::discovery::plugins_dir().unwrap_or_default().join(rel)
    }

    /// Runs in a child process (see below): loads the executable and writes its predictions.
    #[test]
    #[ignore = "run by exported_executable_predicts_identically_in_a_fresh_process"]
    fn child_predict() {
        let dir =
            std::path::PathBuf::from(std::env::var(CHILD_DIR).expect("set by the parent test"));
        let client = Client::default_cpu().unwrap();
        let paths = ExportPaths::new(&dir, "probe");
        let exe = client.load_executable(&paths.executable).unwrap();
        let (_, test) = Digits::load(digits::default_path())
            .unwrap()
            .split(TRAIN_FRACTION, SPLIT_SEED)
            .unwrap();
        let pred = inference::run_predict(&exe, &test.images).unwrap();
        inference::write_predictions(&dir.join("child.txt"), &pred).unwrap();
    }

    #[test]
    fn exported_executable_predicts_identically_in_a_fresh_process() {
        let dir = std::env::temp_dir().join(format!("training-test-export-{}", std::process::id()));
        let client = Client::default_cpu().unwrap();
        let (_, test) = Digits::load(digits::default_path())
            .unwrap()
            .split(TRAIN_FRACTION, SPLIT_SEED)
            .unwrap();
        // Untrained weights are enough to check that the same executable gives the same
        // classes in another process (a tanh MLP, whose random outputs vary from image to
        // image; an untrained ReLU net tends to answer one class everywhere).
        let model = nn::Mlp::new("probe", &[64, 32, 10], nn::Activation::Tanh);
        let params = nn::init_all(&model.params(), 3);
        let module = export::inference_module(&model, &params, test.len() as i64).unwrap();
        let paths = ExportPaths::new(&dir, "probe");
        let exe = export::export(&client, &module, &paths).unwrap();
        let pred = inference::run_predict(&exe, &test.images).unwrap();
        let pred_path = inference::predictions_path(&dir, "probe");
        inference::write_predictions(&pred_path, &pred).unwrap();
        assert_eq!(pred.len(), 359);
        assert_eq!(inference::read_predictions(&pred_path).unwrap(), pred);
        assert!(std::fs::read_to_string(&paths.mlir_text)
            .unwrap()
            .contains("stablehlo.dot_general"));
        assert_eq!(
            &std::fs::read(&paths.mlir_bytecode).unwrap()[..4],
            b"ML\xefR"
        );
        // Classes vary (an all-equal answer would make the comparison meaningless).
        assert!(pred.iter().any(|&p| p != pred[0]));

        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "training::export::child_predict",
                "--ignored",
                "--quiet",
            ])
            .env(CHILD_DIR, &dir)
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(
            inference::read_predictions(&dir.join("child.txt")).unwrap(),
            pred
        );

        // Another plugin refuses the file, naming both identities.
        let other = Client::from_path(plugin("cpu-0.106/libpjrt_cpu.so")).unwrap();
        let err = other.load_executable(&paths.executable).unwrap_err();
        assert!(
            matches!(err, pjrt::Error::ForeignExecutable { .. }),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

// ------------------------------------------------------------------ real training

mod digits_training {
    use autodiff::train::checkpoint::{Checkpoint, Tensor as CkTensor};
    use autodiff::train::nn::{self, Activation, Model};
    use autodiff::train::optim::Adam;
    use autodiff::train::{self, HostData, TrainStep};
    use examples::digits::{self, Digits, PIXELS, SPLIT_SEED, TRAIN_FRACTION};
    use hlo_builder::{Builder, ElementType, TensorType};
    use pjrt::{Client, Literal};

    const BATCH: usize = 64;

    fn compile(client: &Client, model: &nn::Mlp, initial: &[Vec<f32>]) -> TrainStep {
        let inputs = [
            ("x", TensorType::new(ElementType::F32, [BATCH as i64, 64])),
            ("y", TensorType::new(ElementType::S32, [BATCH as i64])),
        ];
        TrainStep::compile(
            client,
            "mlp_step",
            &model.params(),
            initial,
            &inputs,
            |b, p, x| {
                let logits = model.forward(b, p, x[0])?;
                nn::sparse_softmax_cross_entropy(b, logits, x[1])
            },
            &Adam::new(3e-3),
        )
        .unwrap()
    }

    fn epoch(step: &mut TrainStep, data: &Digits, e: usize) -> Vec<f32> {
        let order = train::epoch_order(data.len(), 5, e);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        order
            .chunks_exact(BATCH)
            .map(|idx| {
                train::gather_rows(&data.images, PIXELS, idx, &mut x);
                train::gather_rows(&data.labels, 1, idx, &mut y);
                step.step(&[HostData::from(&x), HostData::from(&y)])
                    .unwrap()
            })
            .collect()
    }

    fn accuracy(client: &Client, model: &nn::Mlp, params: &[Vec<f32>], test: &Digits) -> f32 {
        let mut b = Builder::new("eval");
        let mut ps = Vec::new();
        for (s, v) in model.params().iter().zip(params) {
            ps.push(b.constant(v, &s.dims).unwrap());
        }
        let x = b
            .parameter("x", ElementType::F32, [test.len() as i64, 64])
            .unwrap();
        let y = b
            .parameter("y", ElementType::S32, [test.len() as i64])
            .unwrap();
        let logits = model.forward(&mut b, &ps, x).unwrap();
        let acc = nn::accuracy(&mut b, logits, y).unwrap();
        let exe = client.compile(&b.build(&[acc]).unwrap().program()).unwrap();
        let xl = Literal::from_slice(&test.images, &[test.len() as i64, 64]).unwrap();
        let yl = Literal::from_slice(&test.labels, &[test.len() as i64]).unwrap();
        exe.run(&[&xl, &yl]).unwrap()[0].to_scalar::<f32>().unwrap()
    }

    /// A small MLP trained with autodiff's gradients and Adam learns the digits, and a run
    /// resumed from a checkpoint file reproduces the uninterrupted run's losses bit for bit.
    #[test]
    fn mlp_learns_and_resumes_exactly_from_a_checkpoint() {
        let client = Client::default_cpu().unwrap();
        let (train_set, test) = Digits::load(digits::default_path())
            .unwrap()
            .split(TRAIN_FRACTION, SPLIT_SEED)
            .unwrap();
        let model = nn::Mlp::new("mlp", &[64, 32, 10], Activation::Relu);
        let specs = model.params();
        let mut a = compile(&client, &model, &nn::init_all(&specs, 7));
        // Adam state: the step count, then two slots per parameter, all updated in place.
        let stats = a.executable().executable().compiled_memory_stats().unwrap();
        let n: i64 = specs.iter().map(|s| s.len() as i64).sum();
        assert_eq!(stats.alias_size_in_bytes, 4 * 3 * n + 4, "{stats:?}");
        let e0 = epoch(&mut a, &train_set, 0);
        let e1 = epoch(&mut a, &train_set, 1);
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!(
            mean(&e1) < 0.8 * mean(&e0),
            "{} -> {}",
            mean(&e0),
            mean(&e1)
        );

        // Checkpoint through a safetensors file.
        let dir = std::env::temp_dir().join(format!("training-test-resume-{}", std::process::id()));
        let path = dir.join("mlp.safetensors");
        let mut ck = Checkpoint::default();
        for (s, v) in specs.iter().zip(a.params_to_host().unwrap()) {
            let shape: Vec<usize> = s.dims.iter().map(|&d| d as usize).collect();
            ck.tensors.push(CkTensor::new(&s.name, &shape, v).unwrap());
        }
        for (name, lit) in a.state_names().iter().zip(a.state_to_host().unwrap()) {
            ck.tensors
                .push(CkTensor::from_literal(format!("opt.{name}"), &lit).unwrap());
        }
        ck.metadata.insert("step".into(), a.steps().to_string());
        ck.save(&path).unwrap();

        let continued = epoch(&mut a, &train_set, 2);

        let back = Checkpoint::load(&path).unwrap();
        let params: Vec<Vec<f32>> = specs
            .iter()
            .map(|s| {
                let shape: Vec<usize> = s.dims.iter().map(|&d| d as usize).collect();
                back.get_f32(&s.name, &shape).unwrap().to_vec()
            })
            .collect();
        let mut b = compile(&client, &model, &nn::init_all(&specs, 99));
        let state: Vec<Literal> = b
            .state_names()
            .to_vec()
            .iter()
            .zip(b.state_to_host().unwrap())
            .map(|(name, lit)| {
                let shape: Vec<usize> = lit.dims().iter().map(|&d| d as usize).collect();
                back.get(&format!("opt.{name}"), &shape)
                    .unwrap()
                    .to_literal()
                    .unwrap()
            })
            .collect();
        b.set_state(&params, &state, back.meta("step").unwrap())
            .unwrap();
        let resumed = epoch(&mut b, &train_set, 2);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&continued), bits(&resumed));
        assert_eq!(a.steps(), b.steps());

        for e in 3..8 {
            epoch(&mut a, &train_set, e);
        }
        let acc = accuracy(&client, &model, &a.params_to_host().unwrap(), &test);
        assert!(acc > 0.93, "test accuracy {acc}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

// ------------------------------------------------------------------ nn gradients

/// Every nn layer and loss is differentiable through autodiff: the gradient of
/// `sum(f(x) * r)` (fixed random `r`) along a random direction `v` matches the central
/// difference `(L(x + h v) - L(x - h v)) / 2h`, in f64.
mod nn_gradients {
    use autodiff::train::nn::{self, Padding};
    use hlo_builder::{Builder, ElementType::F64, ElementType::S32, Result, Value};
    use pjrt::{Client, Literal};
    use rand_xoshiro::Xoshiro256StarStar as Rng;

    fn consts(b: &mut Builder, rng: &mut Rng, dims: &[i64], scale: f64) -> Value {
        let n: i64 = dims.iter().product();
        let v: Vec<f64> = nn::init::normals(rng, n as usize)
            .into_iter()
            .map(|z| scale * z as f64)
            .collect();
        b.constant(&v, dims).unwrap()
    }

    fn check(name: &str, dims: &[i64], f: impl Fn(&mut Builder, &mut Rng, Value) -> Result<Value>) {
        let client = Client::default_cpu().unwrap();
        let mut rng = nn::seeded(11);
        let mut b = Builder::new(name);
        let x = b.parameter("x", F64, dims).unwrap();
        let y = f(&mut b, &mut rng, x).unwrap();
        let ydims = b.dims(y).unwrap().to_vec();
        let loss = if ydims.is_empty() {
            y
        } else {
            let r = consts(&mut b, &mut rng, &ydims, 1.0);
            let p = b.mul(y, r).unwrap();
            let axes: Vec<i64> = (0..ydims.len() as i64).collect();
            b.reduce_sum(p, axes).unwrap()
        };
        let g = autodiff::grad(&mut b, loss, &[x]).unwrap();
        let exe = client
            .compile(&b.build(&[loss, g[0]]).unwrap().program())
            .unwrap();
        let n: i64 = dims.iter().product();
        let x0: Vec<f64> = nn::init::normals(&mut rng, n as usize)
            .into_iter()
            .map(f64::from)
            .collect();
        let v: Vec<f64> = nn::init::normals(&mut rng, n as usize)
            .into_iter()
            .map(f64::from)
            .collect();
        let run = |xs: &[f64]| {
            let out = exe.run(&[&Literal::from_slice(xs, dims).unwrap()]).unwrap();
            (
                out[0].to_scalar::<f64>().unwrap(),
                out[1].to_vec::<f64>().unwrap(),
            )
        };
        let (_, grad) = run(&x0);
        let h = 1e-5;
        let shifted = |s: f64| {
            x0.iter()
                .zip(&v)
                .map(|(a, d)| a + s * h * d)
                .collect::<Vec<_>>()
        };
        let (lp, _) = run(&shifted(1.0));
        let (lm, _) = run(&shifted(-1.0));
        let numeric = (lp - lm) / (2.0 * h);
        let analytic: f64 = grad.iter().zip(&v).map(|(g, d)| g * d).sum();
        // A vanishing derivative would make the comparison meaningless.
        assert!(
            analytic.abs() > 1e-3,
            "{name}: directional derivative {analytic}"
        );
        assert!(
            (numeric - analytic).abs() <= 1e-6 * (1.0 + analytic.abs()),
            "{name}: directional derivative {analytic} (autodiff) vs {numeric} (central difference)"
        );
    }

    #[test]
    fn layers_have_correct_gradients() {
        check("dense", &[3, 4], |b, r, x| {
            let w = consts(b, r, &[4, 5], 0.5);
            let bias = consts(b, r, &[5], 0.5);
            nn::dense(b, x, w, Some(bias))
        });
        check("dense_weight", &[4, 5], |b, r, w| {
            let x = consts(b, r, &[3, 4], 1.0);
            nn::dense(b, x, w, None)
        });
        check("conv2d_same_stride2", &[2, 5, 5, 2], |b, r, x| {
            let k = consts(b, r, &[3, 3, 2, 3], 0.5);
            let bias = consts(b, r, &[3], 0.5);
            nn::conv2d(b, x, k, Some(bias), [2, 2], &Padding::Same)
        });
        check("conv2d_kernel", &[3, 3, 2, 3], |b, r, k| {
            let x = consts(b, r, &[2, 5, 5, 2], 1.0);
            nn::conv2d(b, x, k, None, [1, 1], &Padding::Valid)
        });
        check("max_pool2d", &[2, 4, 4, 3], |b, _, x| {
            nn::max_pool2d(b, x, [2, 2], [2, 2], &Padding::Valid)
        });
        check("avg_pool2d_same", &[1, 5, 5, 2], |b, _, x| {
            nn::avg_pool2d(b, x, [2, 2], [2, 2], &Padding::Same)
        });
        check("batch_norm_train", &[6, 4], |b, r, x| {
            let g = consts(b, r, &[4], 1.0);
            let be = consts(b, r, &[4], 1.0);
            Ok(nn::batch_norm_train(b, x, g, be, &[0], 1e-5)?.0)
        });
        check("layer_norm", &[3, 6], |b, r, x| {
            let g = consts(b, r, &[6], 1.0);
            let be = consts(b, r, &[6], 1.0);
            nn::layer_norm(b, x, g, be, 1e-5)
        });
        check("dropout", &[4, 8], |b, _, x| {
            let state = b.constant(&[3u64, 4], [2])?;
            Ok(nn::dropout(b, x, 0.3, state)?.0)
        });
        check("embedding", &[5, 3], |b, _, table| {
            let ids = b.constant(&[4i32, 0, 4, 2], [4])?;
            nn::embedding(b, table, ids)
        });
        check("activations", &[10], |b, _, x| {
            let a = nn::elu(b, x, 1.0)?;
            let c = nn::softplus(b, a)?;
            let d = nn::leaky_relu(b, c, 0.1)?;
            nn::sigmoid(b, d)
        });
        check("sparse_softmax_cross_entropy", &[4, 5], |b, _, x| {
            let labels = b.constant(&[1i32, 4, 0, 2], [4])?;
            let _ = S32;
            nn::sparse_softmax_cross_entropy(b, x, labels)
        });
        check("softmax_cross_entropy", &[4, 5], |b, r, x| {
            let t = consts(b, r, &[4, 5], 1.0);
            let t = b.softmax(t, 1)?;
            nn::softmax_cross_entropy(b, x, t)
        });
        check("mse", &[7], |b, r, x| {
            let t = consts(b, r, &[7], 1.0);
            nn::mse(b, x, t)
        });
        check("binary_cross_entropy", &[6], |b, r, x| {
            let t = consts(b, r, &[6], 1.0);
            let t = nn::sigmoid(b, t)?;
            let l1 = nn::binary_cross_entropy_with_logits(b, x, t)?;
            let p = nn::sigmoid(b, x)?;
            let l2 = nn::binary_cross_entropy(b, p, t, 1e-7)?;
            b.add(l1, l2)
        });
    }
}
