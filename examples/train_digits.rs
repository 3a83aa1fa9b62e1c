//! Trains two classifiers on the UCI digits (an MLP 64-128-128-10 and a small CNN, both with
//! Adam) on the default CPU plugin, end to end:
//!
//! - data: `.data/digits.csv.gz`, shuffled with a seed, 80/20 train/test split;
//! - one compiled train step per model (forward, loss, gradients, Adam update; parameters
//!   and optimizer state donated, so they stay on the device), and an evaluation function
//!   compiled against the step's live weights;
//! - test accuracy after every epoch, a progress bar, a loss/accuracy chart
//!   (`out/training.png`) and per-epoch metrics (`out/<model>_metrics.csv`);
//! - a checkpoint per model (`out/<model>.safetensors`: parameters, optimizer state, step)
//!   that `--resume` continues from;
//! - an export per model: the inference function with the trained weights, compiled and
//!   saved as a serialized executable (`out/<model>.pjrt`, refused by other plugins), its
//!   StableHLO as text and bytecode, and its test-set predictions, which
//!   `cargo run --example predict` reproduces in a separate process.
//!
//! Options: `--epochs-mlp N`, `--epochs-cnn N`, `--resume` (continue from the checkpoints
//! up to the given epoch counts), `--only mlp|cnn`, `--target ACC` (stop a model once its
//! test accuracy reaches ACC), `--seed N` (initialisation and shuffling; default 42),
//! `--out DIR`, `--steps-per-call N|auto` (default auto: chosen by timing), `--cpu-threads
//! N|auto|pool` (default pool), `--variants auto|plain|transposed` (the weight gradients'
//! form; default auto: chosen by timing). Choices made by timing are remembered in the
//! compile cache.

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use autodiff::nn::{seeded, ModuleExt};
use autodiff::train::checkpoint::Checkpoint;
use autodiff::train::export::{self, ExportPaths};
use autodiff::train::optim::Adam;
use autodiff::train::{self, BoundFn, Event, Flow, HostData, TrainStep, WeightSource};
use examples::digits::{self, Digits, PIXELS, SPLIT_SEED, TRAIN_FRACTION};
use examples::inference;
use examples::metrics::{EpochMetrics, MetricsWriter};
use examples::models::{self, Classifier};
use examples::plot::{Figure, Panel, Series};
use hlo_builder::{ElementType, TensorType};
use indicatif::{ProgressBar, ProgressStyle};
use pjrt::{Client, Literal};

const BATCH: usize = 64;
const MODELS: [&str; 2] = ["mlp", "cnn"];
/// The steps-per-call candidates timed at compile time (an epoch is 22 batches of 64; one
/// step per call is always a candidate).
const STEPS_PER_CALL: [usize; 2] = [7, 22];

struct Config {
    epochs_mlp: usize,
    epochs_cnn: usize,
    resume: bool,
    only: Option<String>,
    target: Option<f64>,
    seed: u64,
    out: PathBuf,
    /// Train steps per executable call; `None`: chosen by timing.
    steps_per_call: Option<usize>,
    /// The step's CPU thread budget: `Some(Some(n))` n threads, `Some(None)` chosen by timing
    /// (the plugin's pool or one thread), `None` the plugin's pool.
    cpu_threads: Option<Option<usize>>,
    /// The step's gradient forms: `None` chosen by timing, else fixed.
    variants: Option<autodiff::GradOptions>,
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
        steps_per_call: None,
        cpu_threads: None,
        variants: None,
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
            "--steps-per-call" => {
                let v = value("--steps-per-call")?;
                c.steps_per_call = match v.as_str() {
                    "auto" => None,
                    n => Some(n.parse().map_err(|e| format!("--steps-per-call: {e}"))?),
                }
            }
            "--cpu-threads" => {
                let v = value("--cpu-threads")?;
                c.cpu_threads = match v.as_str() {
                    "auto" => Some(None),
                    "pool" => None,
                    n => Some(Some(n.parse().map_err(|e| format!("--cpu-threads: {e}"))?)),
                }
            }
            "--variants" => {
                let v = value("--variants")?;
                let form = |f| Some(autodiff::GradOptions::DEFAULT.weight_gradients(f));
                c.variants = match v.as_str() {
                    "auto" => None,
                    "plain" => form(autodiff::WeightGradients::Contract),
                    "transposed" => form(autodiff::WeightGradients::TransposeFirst),
                    other => return Err(format!("--variants {other}: auto, plain or transposed")),
                }
            }
            "--seed" => c.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "-h" | "--help" => {
                return Err("usage: train_digits [--epochs-mlp N] [--epochs-cnn N] [--resume] [--only mlp|cnn] [--target ACC] [--seed N] [--out DIR] [--steps-per-call N|auto] [--cpu-threads N|auto|pool] [--variants auto|plain|transposed]".into())
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    if let Some(o) = &c.only {
        if !MODELS.contains(&o.as_str()) {
            return Err(format!("--only {o}: the models are {}", MODELS.join(", ")));
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
    if train_set.len() < BATCH {
        return Err(format!(
            "the training set has {} images, fewer than one batch of {BATCH}",
            train_set.len()
        )
        .into());
    }
    std::fs::create_dir_all(&cfg.out)
        .map_err(|e| format!("cannot create {}: {e}", cfg.out.display()))?;

    let mut outcomes = Vec::new();
    let wanted = |m: &str| cfg.only.as_deref().is_none_or(|o| o == m);
    if wanted("mlp") {
        let m = models::mlp();
        outcomes.push(train_model(
            &client,
            "mlp",
            m,
            cfg.epochs_mlp,
            &train_set,
            &test_set,
            &cfg,
            &STEPS_PER_CALL,
        )?);
    }
    if wanted("cnn") {
        let m = models::Cnn::new();
        outcomes.push(train_model(
            &client,
            "cnn",
            m,
            cfg.epochs_cnn,
            &train_set,
            &test_set,
            &cfg,
            &STEPS_PER_CALL,
        )?);
    }

    let png = cfg.out.join("training.png");
    let panel = |title: &str, y: &str, pick: fn(&(usize, f64, f64)) -> f64, log_y, range| Panel {
        title: title.into(),
        x_label: "epoch".into(),
        y_label: y.into(),
        series: outcomes
            .iter()
            .map(|o| Series {
                name: o.name.clone(),
                points: o.curve.iter().map(|p| (p.0 as f64, pick(p))).collect(),
            })
            .collect(),
        y_range: range,
        log_y,
    };
    let loss = panel(
        "Training loss (mean per epoch, log scale)",
        "cross-entropy",
        |p| p.1,
        true,
        None,
    );
    let acc = panel(
        "Test accuracy (%)",
        "accuracy %",
        |p| 100.0 * p.2,
        false,
        Some((80.0, 100.0)),
    );
    Figure {
        width: 1200,
        height: 450,
        panels: vec![loss, acc],
    }
    .save_png(&png)?;
    println!("chart: {}", png.display());
    println!();
    for o in &outcomes {
        println!(
            "{:>4}: test accuracy {:.2}% ({} steps, {:.3}s of training)",
            o.name,
            100.0 * o.test_accuracy,
            o.steps,
            o.seconds
        );
    }
    Ok(())
}

/// The batch of rows `idx`: images `f32[64, 64]` and labels `s32[64]`.
fn batch(set: &Digits, idx: &[usize]) -> Vec<Literal> {
    let (mut x, mut y) = (
        Vec::with_capacity(idx.len() * PIXELS),
        Vec::with_capacity(idx.len()),
    );
    train::gather_rows(&set.images, PIXELS, idx, &mut x);
    train::gather_rows(&set.labels, 1, idx, &mut y);
    let n = idx.len() as i64;
    match (
        Literal::from_slice(&x, &[n, PIXELS as i64]),
        Literal::from_slice(&y, &[n]),
    ) {
        (Ok(x), Ok(y)) => vec![x, y],
        // Cannot happen (the sizes are the slices'); an empty batch fails the step's checks.
        _ => Vec::new(),
    }
}

/// Accuracy, mean loss and predicted classes of the test set with the step's weights.
fn evaluate<M: Classifier>(
    eval: &BoundFn,
    step: &TrainStep<M>,
    x: &pjrt::Buffer,
    y: &pjrt::Buffer,
) -> Result<(f64, f64, Vec<i32>), Box<dyn Error>> {
    let out = eval.call_buffers(step, &[x, y])?;
    let acc = out[0].to_vec::<f32>()?[0] as f64;
    let loss = out[1].to_vec::<f32>()?[0] as f64;
    Ok((acc, loss, out[2].to_vec::<i32>()?))
}

/// The loss the step would report on the first batch of `epoch`, without changing its state.
fn next_loss<M: Classifier>(
    step: &mut TrainStep<M>,
    set: &Digits,
    seed: u64,
    epoch: usize,
) -> Result<f32, Box<dyn Error>> {
    let b = train::shuffled_batches(set.len(), BATCH, seed, epoch, |i| batch(set, i))
        .next()
        .ok_or("no batch")?;
    let saved = step.checkpoint()?;
    let loss = step
        .step(&b.iter().map(HostData::from).collect::<Vec<_>>())?
        .loss()?;
    step.restore(&saved)?;
    Ok(loss)
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
fn train_model<M: Classifier>(
    client: &Client,
    name: &str,
    model: M,
    epochs: usize,
    train_set: &Digits,
    test_set: &Digits,
    cfg: &Config,
    candidates: &[usize],
) -> Result<Outcome, Box<dyn Error>> {
    let shuffle_seed = cfg.seed.wrapping_mul(1000) + name.len() as u64;
    let model = model.init(&mut seeded(cfg.seed))?;
    let n_params = model.num_params();
    let (n_test, batch_ty) = (test_set.len() as i64, BATCH as i64);
    let t_compile = Instant::now();
    let builder = TrainStep::new(client, model)
        .name(format!("{name}_train_step"))
        .optimizer(Adam::new(1e-3))
        .inputs([
            TensorType::new(ElementType::F32, [batch_ty, PIXELS as i64]),
            TensorType::new(ElementType::S32, [batch_ty]),
        ]);
    // Several steps per call (one dispatch and one wait per group), chosen by timing unless
    // fixed on the command line.
    let builder = match cfg.steps_per_call {
        Some(k) => builder.steps_per_call(k),
        None => builder.steps_per_call_tuned(candidates.iter().copied()),
    };
    // The plugin's thread pool unless asked for a budget (or to choose one by timing).
    let builder = match cfg.cpu_threads {
        None => builder,
        Some(Some(n)) => builder.cpu_threads(n),
        Some(None) => builder.cpu_threads_tuned(),
    };
    // The program variant (the form of the weight gradients) chosen by timing unless fixed.
    let builder = match cfg.variants {
        None => builder.program_variants_tuned(),
        Some(g) => builder.grad_options(g),
    };
    let mut step = builder.compile(|m, b| m.logits(&b[0])?.cross_entropy(&b[1]))?;

    let test_types = [
        TensorType::new(ElementType::F32, [n_test, PIXELS as i64]),
        TensorType::new(ElementType::S32, [n_test]),
    ];
    let eval = step.function(&format!("{name}_eval"), &test_types, |m, b| {
        let logits = m.logits(&b[0])?;
        let pred = logits.argmax(-1)?;
        let acc = pred.eq(&b[1])?.to_dtype(ElementType::F32)?.mean_all()?;
        Ok(vec![acc, logits.cross_entropy(&b[1])?, pred])
    })?;
    println!(
        "\n{name}: {n_params} parameters; train step and evaluation compiled in {:.2}s",
        t_compile.elapsed().as_secs_f64()
    );
    let timed: Vec<String> = step
        .tuning()
        .iter()
        .map(|(k, t)| format!("{k}: {:.0} us", t.as_secs_f64() * 1e6))
        .collect();
    println!(
        "{name}: {} per call{}",
        match step.steps_per_call() {
            1 => "one step".to_string(),
            k => format!("{k} steps"),
        },
        if timed.is_empty() {
            String::new()
        } else {
            format!(" (time per step by steps per call: {})", timed.join(", "))
        }
    );
    if !step.thread_tuning().is_empty() {
        let timed: Vec<String> = step
            .thread_tuning()
            .iter()
            .map(|(n, t)| {
                let who = n.map_or("the plugin's pool".to_string(), |n| {
                    format!("{n} thread(s)")
                });
                format!("{who}: {:.0} us", t.as_secs_f64() * 1e6)
            })
            .collect();
        println!("{name}: time per step by CPU threads: {}", timed.join(", "));
    }
    if !step.variant_tuning().is_empty() {
        let timed: Vec<String> = step
            .variant_tuning()
            .iter()
            .map(|(g, t)| format!("{:?}: {:.0} us", g.weight_gradients, t.as_secs_f64() * 1e6))
            .collect();
        println!(
            "{name}: weight gradients {:?}{} (time per step by form: {})",
            step.grad_options().weight_gradients,
            if step.tuning_recalled() {
                ", as timed in an earlier run"
            } else {
                ""
            },
            timed.join(", ")
        );
    }
    // Parameters and Adam state are donated: the compiled step writes them in place.
    let stats = step.executable().executable().compiled_memory_stats()?;
    println!(
        "{name}: each step updates {} bytes of parameters and optimizer state in place",
        stats.alias_size_in_bytes
    );
    // On the step's client (another one than `client` when it has a thread budget).
    let x_test = step
        .client()
        .buffer_from_host(&test_set.images, &[n_test, PIXELS as i64])?;
    let y_test = step
        .client()
        .buffer_from_host(&test_set.labels, &[n_test])?;
    let ckpt_path = cfg.out.join(format!("{name}.safetensors"));

    // Resume: parameters, optimizer state, the epoch reached, and the curve so far.
    let (mut start_epoch, mut curve) = (0usize, Vec::new());
    if cfg.resume && !ckpt_path.exists() {
        println!(
            "{name}: no checkpoint at {}; starting from scratch",
            ckpt_path.display()
        );
    }
    if cfg.resume && ckpt_path.exists() {
        let ck = Checkpoint::load(&ckpt_path)?;
        step.restore(&ck)?;
        start_epoch = ck.meta("epoch")?;
        curve = curve_from_string(ck.metadata.get("curve").map(String::as_str).unwrap_or(""));
        let saved: f32 = ck.meta("next_loss")?;
        let probe = next_loss(&mut step, train_set, shuffle_seed, start_epoch)?;
        println!(
            "{name}: resumed from {} at epoch {start_epoch}, step {}",
            ckpt_path.display(),
            step.steps()
        );
        let same = if probe.to_bits() == saved.to_bits() {
            "identical"
        } else {
            "DIFFERENT"
        };
        println!(
            "{name}: loss of the next batch: saved {saved:.6}, recomputed {probe:.6} ({same})"
        );
    }

    let metrics_path = cfg.out.join(format!("{name}_metrics.csv"));
    let mut metrics = MetricsWriter::create(&metrics_path)?;
    let mut epoch_start = Instant::now();
    let per_epoch = (train_set.len() / BATCH) as u64;
    let bar = ProgressBar::new(per_epoch * epochs.saturating_sub(start_epoch) as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>4} [{bar:30}] {pos}/{len} steps {msg}")?
            .progress_chars("=> "),
    );
    bar.set_prefix(name.to_string());
    let mut last_eval = (0.0, 0.0, Vec::new());
    let history = train::fit(
        &mut step,
        start_epoch,
        epochs,
        |epoch| {
            train::shuffled_batches(train_set.len(), BATCH, shuffle_seed, epoch, |i| {
                batch(train_set, i)
            })
        },
        |step, ev| -> Result<Flow, Box<dyn Error>> {
            match ev {
                Event::Step { .. } => bar.inc(1),
                Event::EpochEnd {
                    epoch, mean_loss, ..
                } => {
                    last_eval = evaluate(&eval, step, &x_test, &y_test)?;
                    curve.push((epoch, mean_loss as f64, last_eval.0));
                    metrics.write(&EpochMetrics {
                        model: name.to_string(),
                        epoch: epoch as u32,
                        train_loss: mean_loss as f64,
                        test_accuracy: Some(last_eval.0),
                        seconds: epoch_start.elapsed().as_secs_f64(),
                    })?;
                    epoch_start = Instant::now();
                    bar.set_message(format!(
                        "epoch {epoch} loss {mean_loss:.4} test acc {:.4}",
                        last_eval.0
                    ));
                    if cfg.target.is_some_and(|t| last_eval.0 >= t) {
                        return Ok(Flow::Stop);
                    }
                }
            }
            Ok(Flow::Continue)
        },
    )
    .map_err(|e| e.to_string())?;
    bar.finish();
    if history.epoch == start_epoch {
        // Nothing left to train: evaluate once for the report.
        last_eval = evaluate(&eval, &step, &x_test, &y_test)?;
    }
    if history.stopped_early {
        println!(
            "{name}: reached the target accuracy at epoch {}",
            history.epoch
        );
    }

    // Checkpoint, with the loss of the batch the next step would train on.
    let next = next_loss(&mut step, train_set, shuffle_seed, history.epoch)?;
    let mut ck = step.checkpoint()?;
    ck.set_meta("model", name);
    ck.set_meta("epoch", history.epoch);
    ck.set_meta("next_loss", next);
    ck.set_meta("test_accuracy", last_eval.0);
    ck.set_meta("split_seed", SPLIT_SEED);
    ck.set_meta("curve", curve_to_string(&curve));
    ck.save(&ckpt_path)?;
    println!(
        "{name}: checkpoint {} (epoch {}, step {}; next-batch loss {next:.6})",
        ckpt_path.display(),
        history.epoch,
        step.steps()
    );

    // Export: inference with the weights baked in, compiled, serialized, and its predictions.
    let paths = ExportPaths::new(&cfg.out, name);
    let module = export::inference_module(
        &format!("{name}_predict"),
        &step.model()?,
        &test_types[..1],
        |m, x| {
            let logits = m.logits(&x[0])?;
            Ok(vec![logits.clone(), logits.argmax(-1)?])
        },
    )?;
    let exe = export::export(client, &module, &paths)?;
    let pred = inference::run_predict(&exe, &test_set.images)?;
    inference::write_predictions(&inference::predictions_path(&cfg.out, name), &pred)?;
    let same = pred == last_eval.2;
    println!(
        "{name}: exported {} ({} bytes), {} and {}; its predictions {} the training process's evaluation",
        paths.executable.display(),
        std::fs::metadata(&paths.executable)?.len(),
        paths.mlir_text.display(),
        paths.mlir_bytecode.display(),
        if same { "match" } else { "DIFFER FROM" }
    );
    Ok(Outcome {
        name: name.to_string(),
        curve,
        test_accuracy: inference::accuracy(&pred, &test_set.labels),
        seconds: history.train_time.as_secs_f64(),
        steps: step.steps(),
    })
}
