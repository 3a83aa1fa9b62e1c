//! Trains a GPT-style character-level transformer on Shakespeare (the texts the set-up
//! installs into `.data/shakespeare.txt`), checkpoints it, and samples from it through the
//! key/value cache, greedily and with a temperature.
//!
//! ```text
//! cargo run --release --example char_lm                 # 2000 steps, then samples
//! cargo run --release --example char_lm -- --steps 3000 --resume   # continue to step 3000
//! cargo run --release --example char_lm -- --steps 0 --resume      # sample from the checkpoint
//! ```
//!
//! Options: `--steps N` (total steps; default 2000), `--resume` (continue from
//! `OUT/char_lm.safetensors`), `--out DIR` (default `out`), `--seed N` (initialization and
//! batches; default 0), `--eval-every N` (validation loss and checkpoint; default 250),
//! `--sample N` (characters to sample; default 400), `--temperature T` (default 0.8),
//! `--prompt TEXT`, `--losses FILE` (every step's loss as CSV), `--save-init FILE` (the
//! initial weights, for `char_lm.py --init`), `--serve` (the timing server that
//! `char_lm.py --interleave` drives: reads a step count per line, prints the mean seconds
//! per step).
//!
//! The model is `examples/src/char_lm.rs`; `examples/char_lm.py` is the same in JAX.

use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use autodiff::nn::{seeded, ModuleExt};
use autodiff::train::checkpoint::Checkpoint;
use autodiff::train::optim::Adam;
use autodiff::train::{self, Event, Flow, TrainStep, WeightSource};
use examples::char_lm::{self, argmax, draw, CharLm, Config, Corpus, Sampler};
use hlo_builder::{ElementType::S32, TensorType};
use indicatif::{ProgressBar, ProgressStyle};
use pjrt::{Client, Literal};
use rand::SeedableRng;

struct Args {
    steps: u64,
    resume: bool,
    out: PathBuf,
    seed: u64,
    eval_every: u64,
    sample: usize,
    temperature: f64,
    prompt: String,
    losses: Option<PathBuf>,
    save_init: Option<PathBuf>,
    serve: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        steps: 2000,
        resume: false,
        out: PathBuf::from("out"),
        seed: 0,
        eval_every: 250,
        sample: 400,
        temperature: 0.8,
        prompt: "ROMEO.\n".into(),
        losses: None,
        save_init: None,
        serve: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        fn num<T: std::str::FromStr>(name: &str, v: String) -> Result<T, String>
        where
            T::Err: std::fmt::Display,
        {
            v.parse().map_err(|e| format!("{name} {v:?}: {e}"))
        }
        match arg.as_str() {
            "--steps" => a.steps = num("--steps", value("--steps")?)?,
            "--resume" => a.resume = true,
            "--out" => a.out = PathBuf::from(value("--out")?),
            "--seed" => a.seed = num("--seed", value("--seed")?)?,
            "--eval-every" => a.eval_every = num("--eval-every", value("--eval-every")?)?,
            "--sample" => a.sample = num("--sample", value("--sample")?)?,
            "--temperature" => a.temperature = num("--temperature", value("--temperature")?)?,
            "--prompt" => a.prompt = value("--prompt")?,
            "--losses" => a.losses = Some(PathBuf::from(value("--losses")?)),
            "--save-init" => a.save_init = Some(PathBuf::from(value("--save-init")?)),
            "--serve" => a.serve = true,
            "-h" | "--help" => return Err("usage: char_lm [--steps N] [--resume] [--out DIR] [--seed N] [--eval-every N] [--sample N] [--temperature T] [--prompt TEXT] [--losses FILE] [--save-init FILE] [--serve]".into()),
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    if a.eval_every == 0 {
        return Err("--eval-every must be at least 1".into());
    }
    if a.temperature.is_nan() || a.temperature <= 0.0 {
        return Err(format!(
            "--temperature must be positive, got {}",
            a.temperature
        ));
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("char_lm: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("char_lm: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The compiled train step: Adam on the mean next-character cross-entropy.
fn compile_step(
    client: &Client,
    model: CharLm,
    c: &Config,
) -> Result<TrainStep<CharLm>, train::TrainError> {
    let tokens = TensorType::new(S32, [c.batch, c.context]);
    TrainStep::new(client, model)
        .name("char_lm_step")
        .optimizer(Adam::new(c.lr))
        .inputs([tokens.clone(), tokens])
        .compile(|m, b| m.forward(&b[0])?.cross_entropy(&b[1]))
}

fn batch_literals(
    ids: &[i32],
    seed: u64,
    step: u64,
    c: &Config,
) -> Result<Vec<Literal>, pjrt::Error> {
    let (x, y) = char_lm::batch(ids, seed, step, c.batch as usize, c.context as usize);
    let dims = [c.batch, c.context];
    Ok(vec![
        Literal::from_slice(&x, &dims)?,
        Literal::from_slice(&y, &dims)?,
    ])
}

fn run(a: &Args) -> Result<(), Box<dyn Error>> {
    let corpus = Corpus::load(char_lm::default_path())?;
    let c = Config::new(corpus.vocab.len() as i64);
    let client = Client::default_cpu()?;
    let model = CharLm::new(&c).init(&mut seeded(a.seed))?;
    if let Some(path) = &a.save_init {
        let mut ck = Checkpoint::new();
        ck.add_model("", &model)?;
        ck.save(path)?;
        println!("char_lm: initial weights written to {}", path.display());
    }
    let mut step = compile_step(&client, model.clone(), &c)?;
    if a.serve {
        return serve(&client, &mut step, &corpus, &c);
    }
    std::fs::create_dir_all(&a.out)?;
    let ck_path = a.out.join("char_lm.safetensors");
    if a.resume {
        let ck = Checkpoint::load(&ck_path)?;
        let vocab: String = ck.meta("vocab")?;
        if vocab.as_bytes() != corpus.vocab.as_slice() {
            return Err(format!(
                "{}: its vocabulary differs from the corpus's",
                ck_path.display()
            )
            .into());
        }
        step.restore(&ck)?;
        println!(
            "char_lm: resumed from {} at step {}",
            ck_path.display(),
            step.steps()
        );
    }
    println!(
        "char_lm: {} parameters, {} training and {} validation characters, vocabulary {}",
        model.num_params(),
        corpus.train.len(),
        corpus.valid.len(),
        c.vocab
    );

    // Validation loss: a function of the live weights, on a fixed set of 8 batches.
    let tokens = TensorType::new(S32, [c.batch, c.context]);
    let valid_loss = step.function("valid_loss", &[tokens.clone(), tokens], |m, b| {
        Ok(vec![m.forward(&b[0])?.cross_entropy(&b[1])?])
    })?;
    let valid_batches: Vec<Vec<Literal>> = (0..8)
        .map(|i| batch_literals(&corpus.valid, a.seed + 1, i, &c))
        .collect::<Result<_, _>>()?;
    let evaluate = |s: &TrainStep<CharLm>| -> Result<f32, Box<dyn Error>> {
        let mut sum = 0.0;
        for b in &valid_batches {
            let data: Vec<train::HostData> = b.iter().map(train::HostData::from).collect();
            sum += valid_loss.call(s, &data)?[0].to_scalar::<f32>()?;
        }
        Ok(sum / valid_batches.len() as f32)
    };

    // Train in rounds of `eval_every` steps; after each, validation loss and a checkpoint.
    let start = step.steps();
    if a.steps > start {
        let rounds = a.steps.div_ceil(a.eval_every) as usize;
        let first = (start / a.eval_every) as usize;
        let bar = ProgressBar::new(a.steps - start).with_style(ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps, {per_sec} {msg}",
        )?);
        let t0 = Instant::now();
        let ids = &corpus.train;
        let history = train::fit(
            &mut step,
            first,
            rounds,
            |round| {
                let from = (round as u64 * a.eval_every).max(start);
                let to = ((round as u64 + 1) * a.eval_every).min(a.steps);
                (from..to).map(|s| {
                    batch_literals(ids, a.seed, s, &c).expect("batch shapes match the config")
                })
            },
            |s, event| -> Result<Flow, Box<dyn Error>> {
                match event {
                    Event::Step { .. } => bar.inc(1),
                    Event::EpochEnd {
                        step: n, mean_loss, ..
                    } => {
                        let v = evaluate(s)?;
                        let mut ck = s.checkpoint()?;
                        ck.set_meta("vocab", String::from_utf8_lossy(&corpus.vocab));
                        ck.save(&ck_path)?;
                        // (`suspend`, not `println`: the line must show when the bar is hidden.)
                        bar.suspend(|| {
                            println!(
                                "step {n:5}: train loss {mean_loss:.4}, validation loss {v:.4} ({:.0} s)",
                                t0.elapsed().as_secs_f64()
                            )
                        });
                    }
                }
                Ok(Flow::Continue)
            },
        )?;
        bar.finish_and_clear();
        println!(
            "char_lm: {} steps in {:.1} s ({:.1} ms a step); checkpoint {}",
            history.batches,
            history.train_time.as_secs_f64(),
            1e3 * history.train_time.as_secs_f64() / history.batches.max(1) as f64,
            ck_path.display()
        );
        if let Some(path) = &a.losses {
            let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
            writeln!(f, "step,loss")?;
            for (n, l) in &history.losses {
                writeln!(f, "{n},{l}")?;
            }
            f.flush()?;
        }
    }

    // Sampling through the key/value cache.
    if a.sample > 0 {
        let sampler = Sampler::new(&step, &c)?;
        let prompt: Vec<i32> = a
            .prompt
            .bytes()
            .map(|b| {
                corpus.token(b).ok_or(format!(
                    "the prompt's byte {b:#04x} is not in the vocabulary"
                ))
            })
            .collect::<Result<_, _>>()?;
        let mut rng = rand_xoshiro::Xoshiro256StarStar::seed_from_u64(a.seed);
        for (label, temperature) in [("greedy", None), ("temperature", Some(a.temperature))] {
            let t0 = Instant::now();
            let out = sampler.generate(&step, &prompt, a.sample, |logits| match temperature {
                None => argmax(logits),
                Some(t) => draw(logits, t, &mut rng),
            })?;
            let title = match temperature {
                None => label.to_string(),
                Some(t) => format!("{label} {t}"),
            };
            println!(
                "---- sample ({title}; {} characters in {:.2} s)\n{}{}\n----",
                a.sample,
                t0.elapsed().as_secs_f64(),
                a.prompt,
                corpus.decode(&out)
            );
        }
    }
    Ok(())
}

/// The timing server for `char_lm.py --interleave`: one fixed batch on the device; for each
/// line `N` on stdin, runs N steps (reading each loss, as the JAX loop does) and prints the
/// mean seconds per step.
fn serve(
    client: &Client,
    step: &mut TrainStep<CharLm>,
    corpus: &Corpus,
    c: &Config,
) -> Result<(), Box<dyn Error>> {
    let b = batch_literals(&corpus.train, 0, 0, c)?;
    let (x, y) = (
        client.buffer_from_literal(&b[0])?,
        client.buffer_from_literal(&b[1])?,
    );
    examples::interleave::serve_timed_blocks(|| step.step_buffers(&[&x, &y])?.loss().map(drop))
        .map_err(|e| -> Box<dyn Error> { e })
}
