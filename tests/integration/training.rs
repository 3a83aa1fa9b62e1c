//! End-to-end training pieces: the digits loader, checkpoints, charts, compile options of
//! the train step, export to a fresh process, and real training resumed from a file. The
//! layers, the module trees and the train step's API are tested in `models.rs`.

use autodiff::train::checkpoint::Checkpoint;
use examples::digits::{self, Digits};
use examples::plot::{self, Figure, Panel, Series};
use pjrt::Literal;

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
    let mut ck = Checkpoint::new();
    let w: Vec<f32> = (0..64 * 128).map(|i| (i as f32 * 0.37).sin()).collect();
    ck.insert("dense0.w", Literal::from_slice(&w, &[64, 128]).unwrap());
    ck.insert("adam.t", Literal::from_slice(&[17.0f32], &[]).unwrap());
    ck.insert("opt.step", Literal::scalar(340i32));
    let halves: Vec<half::bf16> = (0..6)
        .map(|i| half::bf16::from_f32(i as f32 / 3.0))
        .collect();
    ck.insert("emb.bf16", Literal::from_slice(&halves, &[2, 3]).unwrap());
    ck.insert(
        "rng.key",
        Literal::from_slice(&[u64::MAX, 7u64], &[2]).unwrap(),
    );
    ck.set_meta("step", 340);
    ck.save(&path).unwrap();
    let back = Checkpoint::load(&path).unwrap();
    assert_eq!(back.meta::<u64>("step").unwrap(), 340);
    let bw = back.get("dense0.w").unwrap();
    assert_eq!(bw.dims(), &[64, 128]);
    let bw = bw.to_vec::<f32>().unwrap();
    assert!(bw.iter().zip(&w).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(back.get("adam.t").unwrap().to_vec::<f32>().unwrap(), [17.0]);
    assert_eq!(
        back.get("opt.step").unwrap().to_scalar::<i32>().unwrap(),
        340
    );
    assert_eq!(
        back.get("emb.bf16")
            .unwrap()
            .to_vec::<half::bf16>()
            .unwrap(),
        halves
    );
    assert_eq!(
        back.get("rng.key").unwrap().to_vec::<u64>().unwrap(),
        [u64::MAX, 7]
    );
    assert!(back.get("nothing").is_none());
    assert!(back.meta::<u64>("nothing").is_err());
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

// ------------------------------------------------------------------ the train step

mod train_step {
    use autodiff::nn::{seeded, Linear, ModuleExt};
    use autodiff::train::optim::Sgd;
    use autodiff::train::{HostData, TrainError, TrainStep};
    use hlo_builder::{ElementType::F32, TensorType};
    use pjrt::{Client, CompileOptions};

    /// `y = 2 x - 1` fitted by a `Linear(1, 1)` through the crate's own gradients.
    fn line_step(
        client: &Client,
        options: CompileOptions,
    ) -> Result<TrainStep<Linear>, TrainError> {
        let model = Linear::new(1, 1).init(&mut seeded(0))?;
        TrainStep::new(client, model)
            .name("line")
            .optimizer(Sgd::new(0.1))
            .inputs([TensorType::new(F32, [4, 1]), TensorType::new(F32, [4, 1])])
            .compile_options(options)
            .compile(|m, x| m.forward(&x[0])?.mse(&x[1]))
    }

    #[test]
    fn compile_options_reach_the_step_executable() {
        let client = Client::default_cpu().unwrap();
        let x = [0f32, 1.0, 2.0, 3.0];
        let y: Vec<f32> = x.iter().map(|v| 2.0 * v - 1.0).collect();
        let run = |step: &mut TrainStep<Linear>| -> Vec<u32> {
            (0..20)
                .map(|_| {
                    step.step(&[HostData::from(&x[..]), HostData::from(&y)])
                        .unwrap()
                        .loss()
                        .unwrap()
                        .to_bits()
                })
                .collect()
        };
        // XLA writes its dumps of the step where the options say.
        let dir = super::scratch_dir("step-dump");
        let mut dumped = line_step(
            &client,
            CompileOptions::new().xla_option("xla_dump_to", dir.to_str().unwrap()),
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
        let mut plain = line_step(&client, CompileOptions::new()).unwrap();
        let losses = run(&mut dumped);
        assert_eq!(losses, run(&mut plain));
        assert!(f32::from_bits(losses[19]) < 0.5 * f32::from_bits(losses[0]));
        // An option XLA does not know is an error naming it, from the compile.
        let e = line_step(
            &client,
            CompileOptions::new().xla_option("xla_no_such_flag", true),
        )
        .unwrap_err();
        assert!(matches!(e, TrainError::Pjrt(_)), "{e:?}");
        assert!(e.to_string().contains("xla_no_such_flag"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn parameters_and_sgd_state_are_updated_in_place() {
        let client = Client::default_cpu().unwrap();
        let step = line_step(&client, CompileOptions::new()).unwrap();
        // Donation: the compiled step updates the weight and bias (2 floats) and the step
        // count (one s32) in place; only the loss is a fresh output buffer.
        let stats = step
            .executable()
            .executable()
            .compiled_memory_stats()
            .unwrap();
        assert_eq!(stats.alias_size_in_bytes, 2 * 4 + 4, "{stats:?}");
        assert!(step.module_text().contains("tf.aliasing_output"));
    }
}

// ------------------------------------------------------------------ export and predict

mod export {
    use autodiff::nn::{seeded, Activation, Mlp, ModuleExt};
    use autodiff::train::export::{self, ExportPaths};
    use examples::digits::{self, Digits, SPLIT_SEED, TRAIN_FRACTION};
    use examples::inference;
    use hlo_builder::{ElementType, TensorType};
    use pjrt::Client;

    const CHILD_DIR: &str = "TRAINING_TEST_CHILD_DIR";

    fn plugin(name: &str) -> std::path::PathBuf {
        pjrt::discovery::installed(name).unwrap()
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
        let model = Mlp::new(&[64, 32, 10], Activation::Tanh)
            .init(&mut seeded(3))
            .unwrap();
        let x = TensorType::new(ElementType::F32, [test.len() as i64, 64]);
        let module = export::inference_module("probe", &model, &[x], |m, x| {
            let logits = m.forward(&x[0])?;
            Ok(vec![logits.clone(), logits.argmax(-1)?])
        })
        .unwrap();
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
        let other = Client::from_path(plugin("cpu-0.106")).unwrap();
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
    use autodiff::nn::{seeded, Activation, Mlp, ModuleExt};
    use autodiff::train::optim::Adam;
    use autodiff::train::{self, HostData, Objective, TrainStep, WeightSource};
    use examples::digits::{self, Digits, PIXELS, SPLIT_SEED, TRAIN_FRACTION};
    use hlo_builder::{ElementType, TensorType};
    use pjrt::Client;

    const BATCH: usize = 64;

    fn compile(client: &Client, model: Mlp) -> TrainStep<Mlp> {
        TrainStep::new(client, model)
            .name("mlp_step")
            .optimizer(Adam::new(3e-3))
            .inputs([
                TensorType::new(ElementType::F32, [BATCH as i64, 64]),
                TensorType::new(ElementType::S32, [BATCH as i64]),
            ])
            .compile(|m, x| {
                let logits = m.forward(&x[0])?;
                Ok(Objective::new(logits.cross_entropy(&x[1])?))
            })
            .unwrap()
    }

    fn epoch(step: &mut TrainStep<Mlp>, data: &Digits, e: usize) -> Vec<f32> {
        let order = train::epoch_order(data.len(), 5, e);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        order
            .chunks_exact(BATCH)
            .map(|idx| {
                train::gather_rows(&data.images, PIXELS, idx, &mut x);
                train::gather_rows(&data.labels, 1, idx, &mut y);
                step.step(&[HostData::from(&x), HostData::from(&y)])
                    .unwrap()
                    .loss()
                    .unwrap()
            })
            .collect()
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
        let model = Mlp::new(&[64, 32, 10], Activation::Relu)
            .init(&mut seeded(7))
            .unwrap();
        let n = model.num_params() as i64;
        let mut a = compile(&client, model.clone());
        // Adam state: the step count, then two slots per parameter, all updated in place.
        let stats = a.executable().executable().compiled_memory_stats().unwrap();
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
        a.save(&path).unwrap();
        let continued = epoch(&mut a, &train_set, 2);

        // A fresh step from other initial weights, loaded from the file, continues exactly.
        let other = model.clone().init(&mut seeded(99)).unwrap();
        let mut b = compile(&client, other);
        b.load(&path).unwrap();
        let resumed = epoch(&mut b, &train_set, 2);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&continued), bits(&resumed));
        assert_eq!(a.steps(), b.steps());

        for e in 3..8 {
            epoch(&mut a, &train_set, e);
        }
        let x = TensorType::new(ElementType::F32, [test.len() as i64, 64]);
        let y = TensorType::new(ElementType::S32, [test.len() as i64]);
        let eval = a
            .function("accuracy", &[x, y], |m, x| {
                let pred = m.forward(&x[0])?.argmax(-1)?;
                Ok(vec![pred
                    .eq(&x[1])?
                    .to_dtype(ElementType::F32)?
                    .mean_all()?])
            })
            .unwrap();
        let out = eval
            .call(
                &a,
                &[HostData::from(&test.images), HostData::from(&test.labels)],
            )
            .unwrap();
        let acc = out[0].to_scalar::<f32>().unwrap();
        assert!(acc > 0.93, "test accuracy {acc}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
