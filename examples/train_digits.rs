//! Trains two classifiers on the UCI digits (an MLP 64-128-128-10 and a small CNN, both with
//! Adam) on the default CPU plugin, end to end:
//!
//! - data: `.data/digits.csv.gz`, shuffled with a seed, 80/20 train/test split;
//! - one compiled train step per model (forward, loss, gradients, Adam update; parameters
//!   and optimizer state donated, so they stay on the device);
//! - test accuracy after every epoch, a loss/accuracy chart (`out/training.png`);
//! - a checkpoint per model (`out/<model>.safetensors`) that `--resume` continues from;
//! - an export per model: the inference function with the trained weights, compiled and
//!   saved as a serialized executable (`out/<model>.pjrt`, refused by other plugins), its
//!   StableHLO as text and bytecode, and its test-set predictions, which
//!   `cargo run --example predict` reproduces in a separate process.
//!
//! Options: `--epochs-mlp N`, `--epochs-cnn N`, `--resume` (continue from the checkpoints
//! up to the given epoch counts), `--only mlp|cnn`, `--target ACC` (stop a model once its
//! test accuracy reaches ACC), `--seed N` (initialisation and shuffling; default 42),
//! `--out DIR`.

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use autodiff::train::checkpoint::{Checkpoint, Tensor as CkTensor};
use autodiff::train::export::{self, ExportPaths};
use autodiff::train::nn::{self, Model};
use autodiff::train::{self, FitError, HostData, Schedule, TrainError, TrainStep};
use examples::digits::{self, Digits, PIXELS, SPLIT_SEED, TRAIN_FRACTION};
use examples::inference;
use examples::models;
use examples::plot::{Figure, Panel, Series};
use hlo_builder::{Builder, ElementType, TensorType};
use pjrt::{Buffer, Client, Literal, LoadedExecutable};

const BATCH: usize = 64;

struct Config {
    epochs_mlp: usize,
    epochs_cnn: usize,
    resume: bool,
    only: Option<String>,
    target: Option<f64>,
    seed: u64,
    out: PathBuf,
}

fn parse_args() -> Result<Config, String> {
    let mut c = Config {
        epochs_mlp: 60,
        epochs_cnn: 30,
        resume: false,
        only: None,
        target: None,
        seed: 42,
        out: PathBuf::from("out"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--epochs-mlp" => c.epochs_mlp = value("--epochs-mlp")?.parse().map_err(|e| format!("--epochs-mlp: {e}"))?,
            "--epochs-cnn" => c.epochs_cnn = value("--epochs-cnn")?.parse().map_err(|e| format!("--epochs-cnn: {e}"))?,
            "--resume" => c.resume = true,
            "--only" => c.only = Some(value("--only")?),
            "--target" => c.target = Some(value("--target")?.parse().map_err(|e| format!("--target: {e}"))?),
            "--out" => c.out = PathBuf::from(value("--out")?),
            "--seed" => c.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "-h" | "--help" => {
                return Err("usage: train_digits [--epochs-mlp N] [--epochs-cnn N] [--resume] [--only mlp|cnn] [--target ACC] [--seed N] [--out DIR]".into())
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(c)
}

/// What training one model produced.
struct Outcome {
    name: String,
    /// (epoch, mean training loss, test accuracy) for every epoch, resumed ones included.
    curve: Vec<(usize, f64, f64)>,
    test_accuracy: f64,
    seconds: f64,
    steps: u64,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("train_digits: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let cfg = parse_args()?;
    let client = Client::default_cpu()?;
    println!(
        "plugin: {} {} (PJRT API {})",
        client.platform_name(),
        client.platform_version(),
        client.plugin().api_version()
    );
    let data = Digits::load(digits::default_path())?;
    let (train_set, test_set) = data.split(TRAIN_FRACTION, SPLIT_SEED)?;
    println!(
        "digits: {} images, {} train / {} test (split seed {SPLIT_SEED})",
        data.len(),
        train_set.len(),
        test_set.len()
    );
    std::fs::create_dir_all(&cfg.out)?;

    let mlp = models::mlp();
    let cnn = models::Cnn::default();
    let plan: Vec<(&dyn Model, usize, f64)> =
        vec![(&mlp, cfg.epochs_mlp, 1e-3), (&cnn, cfg.epochs_cnn, 1e-3)];
    let mut outcomes = Vec::new();
    for (model, epochs, lr) in plan {
        if cfg.only.as_deref().is_some_and(|o| o != model.name()) {
            continue;
        }
        outcomes.push(train_model(
            &client, model, epochs, lr, &train_set, &test_set, &cfg,
        )?);
    }

    let png = cfg.out.join("training.png");
    let loss_panel = Panel {
        title: "Training loss (mean per epoch, log scale)".into(),
        x_label: "epoch".into(),
        y_label: "cross-entropy".into(),
        series: outcomes
            .iter()
            .map(|o| Series {
                name: o.name.clone(),
                points: o.curve.iter().map(|&(e, l, _)| (e as f64, l)).collect(),
            })
            .collect(),
        y_range: None,
        log_y: true,
    };
    let acc_panel = Panel {
        title: "Test accuracy (%)".into(),
        x_label: "epoch".into(),
        y_label: "accuracy %".into(),
        series: outcomes
            .iter()
            .map(|o| Series {
                name: o.name.clone(),
                points: o
                    .curve
                    .iter()
                    .map(|&(e, _, a)| (e as f64, 100.0 * a))
                    .collect(),
            })
            .collect(),
        y_range: Some((80.0, 100.0)),
        log_y: false,
    };
    Figure {
        width: 1200,
        height: 450,
        panels: vec![loss_panel, acc_panel],
    }
    .save_png(&png)?;
    println!("chart: {}", png.display());
    println!();
    for o in &outcomes {
        println!(
            "{:>4}: test accuracy {:.2}% ({} steps, {:.2}s of training)",
            o.name,
            100.0 * o.test_accuracy,
            o.steps,
            o.seconds
        );
    }
    Ok(())
}

/// Records the evaluation function: parameters and the whole test set in, (accuracy, mean
/// loss, predicted classes) out.
fn eval_executable(
    client: &Client,
    model: &dyn Model,
    n: usize,
) -> Result<LoadedExecutable, Box<dyn Error>> {
    let mut b = Builder::new(format!("{}_eval", model.name()));
    let mut ps = Vec::new();
    for s in model.params() {
        ps.push(b.parameter(&s.name, ElementType::F32, &s.dims)?);
    }
    let x = b.parameter("x", ElementType::F32, model.input_dims(n as i64))?;
    let y = b.parameter("y", ElementType::S32, [n as i64])?;
    let logits = model.forward(&mut b, &ps, x)?;
    let acc = nn::accuracy(&mut b, logits, y)?;
    let loss = nn::sparse_softmax_cross_entropy(&mut b, logits, y)?;
    let pred = nn::predictions(&mut b, logits)?;
    Ok(client.compile(&b.build(&[acc, loss, pred])?.program())?)
}

/// Runs the evaluation function with the given parameter buffers.
fn evaluate(
    exe: &LoadedExecutable,
    params: &[Buffer],
    x: &Buffer,
    y: &Buffer,
) -> Result<(f64, f64, Vec<i32>), pjrt::Error> {
    let mut args: Vec<&Buffer> = params.iter().collect();
    args.push(x);
    args.push(y);
    let out = exe.execute(&args)?;
    let acc = out[0].to_vec::<f32>()?[0] as f64;
    let loss = out[1].to_vec::<f32>()?[0] as f64;
    Ok((acc, loss, out[2].to_vec::<i32>()?))
}

/// The rows of the first batch of `epoch` (what the next step after a checkpoint trains on).
fn first_batch(train_set: &Digits, seed: u64, epoch: usize) -> (Vec<f32>, Vec<i32>) {
    let order = train::epoch_order(train_set.len(), seed, epoch);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    train::gather_rows(&train_set.images, PIXELS, &order[..BATCH], &mut x);
    train::gather_rows(&train_set.labels, 1, &order[..BATCH], &mut y);
    (x, y)
}

fn curve_to_string(curve: &[(usize, f64, f64)]) -> String {
    curve
        .iter()
        .map(|(e, l, a)| format!("{e}:{l}:{a}"))
        .collect::<Vec<_>>()
        .join(";")
}

fn curve_from_string(s: &str) -> Vec<(usize, f64, f64)> {
    s.split(';')
        .filter_map(|item| {
            let mut it = item.split(':');
            Some((
                it.next()?.parse().ok()?,
                it.next()?.parse().ok()?,
                it.next()?.parse().ok()?,
            ))
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn train_model(
    client: &Client,
    model: &dyn Model,
    epochs: usize,
    lr: f64,
    train_set: &Digits,
    test_set: &Digits,
    cfg: &Config,
) -> Result<Outcome, Box<dyn Error>> {
    let name = model.name().to_string();
    let specs = model.params();
    let n_params: usize = specs.iter().map(|s| s.len()).sum();
    let shuffle_seed = cfg.seed.wrapping_mul(1000) + name.len() as u64;
    let initial = nn::init_all(&specs, cfg.seed);
    let optimizer = autodiff::train::optim::Adam::new(lr);
    let inputs = [
        (
            "x",
            TensorType::new(ElementType::F32, model.input_dims(BATCH as i64)),
        ),
        ("y", TensorType::new(ElementType::S32, [BATCH as i64])),
    ];
    let t_compile = Instant::now();
    let mut step = TrainStep::compile(
        client,
        &format!("{name}_train_step"),
        &specs,
        &initial,
        &inputs,
        |b, p, x| {
            let logits = model.forward(b, p, x[0])?;
            nn::sparse_softmax_cross_entropy(b, logits, x[1])
        },
        &optimizer,
    )?;
    let eval_exe = eval_executable(client, model, test_set.len())?;
    println!(
        "\n{name}: {n_params} parameters; train step and evaluation compiled in {:.2}s",
        t_compile.elapsed().as_secs_f64()
    );
    // Parameters and Adam state are donated: the compiled step writes them in place.
    let stats = step.executable().executable().compiled_memory_stats()?;
    println!(
        "{name}: each step updates {} bytes of parameters and optimizer state in place",
        stats.alias_size_in_bytes
    );

    let x_test =
        client.buffer_from_host(&test_set.images, &model.input_dims(test_set.len() as i64))?;
    let y_test = client.buffer_from_host(&test_set.labels, &[test_set.len() as i64])?;
    let ckpt_path = cfg.out.join(format!("{name}.safetensors"));

    // Resume: parameters, optimizer state, the epoch/step reached, and the curve so far.
    let (mut start_epoch, mut start_step, mut curve) = (0usize, 0u64, Vec::new());
    if cfg.resume && !ckpt_path.exists() {
        println!(
            "{name}: no checkpoint at {}; starting from scratch",
            ckpt_path.display()
        );
    }
    if cfg.resume && ckpt_path.exists() {
        let ck = Checkpoint::load(&ckpt_path)?;
        let params: Vec<Vec<f32>> = specs
            .iter()
            .map(|s| Ok(ck.get_f32(&s.name, &dims_usize(&s.dims))?.to_vec()))
            .collect::<Result<_, Box<dyn Error>>>()?;
        let mut state = Vec::new();
        for (sn, lit) in step.state_names().iter().zip(step.state_to_host()?) {
            let t = ck.get(&format!("opt.{sn}"), &dims_usize(lit.dims()))?;
            state.push(t.to_literal()?);
        }
        start_epoch = ck.meta("epoch")?;
        start_step = ck.meta("step")?;
        curve = curve_from_string(ck.metadata.get("curve").map(String::as_str).unwrap_or(""));
        step.set_state(&params, &state, start_step)?;
        let saved: f32 = ck.meta("next_loss")?;
        let (bx, by) = first_batch(train_set, shuffle_seed, start_epoch);
        // The first resumed step returns the loss of exactly that batch before its update.
        let probe = step_clone_loss(&mut step, &bx, &by, &params, &state, start_step)?;
        println!(
            "{name}: resumed from {} at epoch {start_epoch}, step {start_step}",
            ckpt_path.display()
        );
        println!(
            "{name}: loss of the next batch: saved {saved:.6}, recomputed {probe:.6} ({})",
            if probe.to_bits() == saved.to_bits() {
                "identical"
            } else {
                "DIFFERENT"
            }
        );
    }

    let schedule = Schedule {
        epochs,
        batch_size: BATCH,
        seed: shuffle_seed,
        eval_every: 1,
        target: cfg.target,
        verbose: true,
        name: name.clone(),
        metric_name: "test acc".into(),
    };
    let (mut xb, mut yb) = (
        Vec::with_capacity(BATCH * PIXELS),
        Vec::with_capacity(BATCH),
    );
    let mut last_eval = (0.0, 0.0, Vec::new());
    let history = {
        // Both closures need the step (one to train, one to read its parameters).
        let step = std::cell::RefCell::new(&mut step);
        let last_eval = &mut last_eval;
        train::fit(
            &schedule,
            train_set.len(),
            start_epoch,
            start_step,
            |idx| {
                train::gather_rows(&train_set.images, PIXELS, idx, &mut xb);
                train::gather_rows(&train_set.labels, 1, idx, &mut yb);
                step.borrow_mut()
                    .step(&[HostData::from(&xb), HostData::from(&yb)])
            },
            || {
                *last_eval = evaluate(&eval_exe, step.borrow().param_buffers(), &x_test, &y_test)
                    .map_err(TrainError::from)?;
                Ok(last_eval.0)
            },
        )
        .map_err(|e: FitError<TrainError>| e.to_string())?
    };
    if start_step > 0 {
        if let Some((s, l)) = history.losses.first() {
            println!("{name}: first step after resuming (step {s}) reported loss {l:.6}");
        }
    }
    for (i, &(e, l)) in history.epoch_losses.iter().enumerate() {
        let acc = history.evals.get(i).map(|p| p.metric).unwrap_or(f64::NAN);
        curve.push((e, l as f64, acc));
    }
    if history.epoch == start_epoch {
        // Nothing left to train: evaluate once for the report.
        last_eval = evaluate(&eval_exe, step.param_buffers(), &x_test, &y_test)?;
    }
    if history.stopped_early {
        println!(
            "{name}: reached the target accuracy at epoch {}",
            history.epoch
        );
    }

    // Checkpoint, with the loss of the batch the next step would train on.
    let params = step.params_to_host()?;
    let state = step.state_to_host()?;
    let (bx, by) = first_batch(train_set, shuffle_seed, history.epoch);
    let next_loss = step_clone_loss(&mut step, &bx, &by, &params, &state, history.step)?;
    let mut ck = Checkpoint::default();
    for (s, v) in specs.iter().zip(&params) {
        ck.tensors
            .push(CkTensor::new(&s.name, &dims_usize(&s.dims), v.clone())?);
    }
    for (sn, lit) in step.state_names().iter().zip(&state) {
        ck.tensors
            .push(CkTensor::from_literal(format!("opt.{sn}"), lit)?);
    }
    for (k, v) in [
        ("model", name.clone()),
        ("epoch", history.epoch.to_string()),
        ("step", history.step.to_string()),
        ("next_loss", next_loss.to_string()),
        ("test_accuracy", last_eval.0.to_string()),
        ("split_seed", SPLIT_SEED.to_string()),
        ("curve", curve_to_string(&curve)),
    ] {
        ck.metadata.insert(k.to_string(), v);
    }
    ck.save(&ckpt_path)?;
    println!(
        "{name}: checkpoint {} (epoch {}, step {}; next-batch loss {next_loss:.6})",
        ckpt_path.display(),
        history.epoch,
        history.step
    );

    // Export: inference with the weights baked in, compiled, serialized, and its predictions.
    let paths = ExportPaths::new(&cfg.out, &name);
    let module = export::inference_module(model, &params, test_set.len() as i64)?;
    let exe = export::export(client, &module, &paths)?;
    let pred = inference::run_predict(&exe, &test_set.images)?;
    inference::write_predictions(&inference::predictions_path(&cfg.out, &name), &pred)?;
    let same = pred == last_eval.2;
    println!(
        "{name}: exported {} ({} bytes), {} and {}; its predictions {} the training process's evaluation",
        paths.executable.display(),
        std::fs::metadata(&paths.executable)?.len(),
        paths.mlir_text.display(),
        paths.mlir_bytecode.display(),
        if same { "match" } else { "DIFFER FROM" }
    );
    let test_accuracy = inference::accuracy(&pred, &test_set.labels);
    Ok(Outcome {
        name,
        curve,
        test_accuracy,
        seconds: history.train_time.as_secs_f64(),
        steps: history.step,
    })
}

fn dims_usize(d: &[i64]) -> Vec<usize> {
    d.iter().map(|&v| v as usize).collect()
}

/// The loss the next step would report on (`x`, `y`), without changing the training state:
/// runs one step, then restores parameters, optimizer state and the step count.
fn step_clone_loss(
    step: &mut TrainStep,
    x: &[f32],
    y: &[i32],
    params: &[Vec<f32>],
    state: &[Literal],
    steps: u64,
) -> Result<f32, TrainError> {
    let loss = step.step(&[HostData::from(x), HostData::from(y)])?;
    step.set_state(params, state, steps)?;
    Ok(loss)
}
