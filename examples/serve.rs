//! Serves the digits test set at several batch sizes from one exported artifact, in a
//! process that has none of the model's code. Trains nothing.
//!
//! 1. Records the digits MLP's inference function (`x: f32[batch,64] -> (logits, classes)`)
//!    with the trained weights from `out/mlp.safetensors` (written by `make run`; freshly
//!    initialized weights if it is missing, and it says so) as stored weights, exports it at
//!    batch 64 and writes `out/mlp.hloexport`.
//! 2. Runs itself twice as a child process with `--serve out/mlp.hloexport`: each loads the
//!    artifact, serves the 359 test images one row at a time (the reference) and in batches
//!    of 7, 64 and 359 (a last, shorter batch is served at its own size), checks that every
//!    prediction is identical to the per-row one, and prints which sizes it specialized, how
//!    long each size's first call took, and what the compilation cache did. The first child
//!    compiles each size (unless an earlier run cached it); the second loads them all.
//!
//! Options: `--out DIR` (default `out`), `--serve ARTIFACT` (serve only, as the children do).
//! Exit status 1 when a prediction differs.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use autodiff::nn::{Mlp, ModuleExt, ParamKind};
use autodiff::train::checkpoint::Checkpoint;
use examples::digits::{self, Digits, PIXELS, SPLIT_SEED, TRAIN_FRACTION};
use examples::inference;
use examples::models;
use hlo_builder::export::{Exported, Server, Weight};
use hlo_builder::{ElementType, Recording};

const EXPORT_BATCH: i64 = 64;
const BATCHES: [usize; 4] = [1, 7, 64, 359];

fn main() -> ExitCode {
    let mut out = PathBuf::from("out");
    let mut serve = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--out", Some(v)) => out = PathBuf::from(v),
            ("--serve", Some(v)) => serve = Some(PathBuf::from(v)),
            _ => {
                eprintln!("usage: serve [--out DIR] [--serve ARTIFACT]");
                return ExitCode::FAILURE;
            }
        }
    }
    let r = match serve {
        Some(artifact) => serve_artifact(&artifact),
        None => export_then_serve(&out),
    };
    match r {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("serve: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The MLP with its parameters from the training checkpoint, or fresh ones (and says which).
fn trained_mlp(out: &Path) -> Result<Mlp, Box<dyn Error>> {
    let path = out.join("mlp.safetensors");
    if path.is_file() {
        println!("weights: trained, from {}", path.display());
        return Ok(Checkpoint::load(&path)?.restore_model("", &models::mlp())?);
    }
    println!(
        "weights: {} not found (run `make run` to train); using freshly initialized weights",
        path.display()
    );
    Ok(models::mlp().init_seed(42)?)
}

fn export_then_serve(out: &Path) -> Result<bool, Box<dyn Error>> {
    let model = trained_mlp(out)?;
    let mut weights = Vec::new();
    for (name, p) in model.params() {
        weights.push(Weight::from_literal(
            name,
            p.host().ok_or("the model has values")?,
        )?);
    }
    let t = Instant::now();
    let exported = Exported::record("mlp_predict", EXPORT_BATCH, weights, |b, batch, w| {
        let x = b.parameter("x", ElementType::F32, [batch, PIXELS as i64])?;
        // The model's layers record into the export's builder, on its weight values.
        Recording::scoped(b, |rec| {
            let m = model
                .bind_values(rec, &[ParamKind::Trainable], w)
                .map_err(|e| hlo_builder::Error::Shape {
                    op: "bind_values",
                    message: e.to_string(),
                })?;
            let logits = m.forward(&rec.tensor(x)?)?;
            Ok(vec![logits.value(), logits.argmax(-1)?.value()])
        })
    })?
    .with_metadata("model", "digits MLP 64-128-128-10, ReLU")
    .with_metadata("outputs", "logits, predicted class");
    let recorded_ms = t.elapsed().as_secs_f64() * 1e3;
    let path = out.join("mlp.hloexport");
    let t = Instant::now();
    exported.save(&path)?;
    let sig = |s: &[hlo_builder::export::Signature]| {
        s.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "exported at batch {EXPORT_BATCH} (recorded at {:?}) in {recorded_ms:.1} ms, \
         written in {:.1} ms: {} ({} bytes)\n  inputs: {}\n  outputs: {}",
        exported.probes(),
        t.elapsed().as_secs_f64() * 1e3,
        path.display(),
        std::fs::metadata(&path)?.len(),
        sig(exported.inputs()),
        sig(exported.outputs()),
    );
    let mut ok = true;
    for run in ["first", "second"] {
        println!(
            "\n== {run} serving process: serve --serve {}",
            path.display()
        );
        let status = Command::new(std::env::current_exe()?)
            .arg("--serve")
            .arg(&path)
            .status()?;
        ok &= status.success();
    }
    Ok(ok)
}

/// Predicted classes, and (batch size, milliseconds) of each new size's first call.
type Served = (Vec<i32>, Vec<(usize, f64)>);

fn serve_artifact(path: &Path) -> Result<bool, Box<dyn Error>> {
    let exported = Exported::load(path)?;
    println!(
        "loaded {} ({}): {} weights, exported at batch {}",
        exported.name(),
        exported.meta("model").unwrap_or("?"),
        exported.weights().len(),
        exported.batch()
    );
    let client = pjrt::Client::default_cpu()?;
    let server = Server::new(exported, &client)?;
    let data = Digits::load(digits::default_path())?;
    let (_, test) = data.split(TRAIN_FRACTION, SPLIT_SEED)?;
    let rows = test.len();

    // Serves the test set in batches of `n` (the last one shorter if `n` does not divide
    // it); returns the predicted classes and the time of each new size's first call.
    let serve_in = |n: usize| -> Result<Served, Box<dyn Error>> {
        let mut classes = Vec::with_capacity(rows);
        let mut first_calls = Vec::new();
        for start in (0..rows).step_by(n) {
            let end = (start + n).min(rows);
            let m = end - start;
            let x = pjrt::Literal::from_slice(
                &test.images[start * PIXELS..end * PIXELS],
                &[m as i64, PIXELS as i64],
            )?;
            let new_size = !server.compiled_batches().contains(&(m as i64));
            let t = Instant::now();
            let out = server.run(&[&x])?;
            if new_size {
                first_calls.push((m, t.elapsed().as_secs_f64() * 1e3));
            }
            classes.extend(out[1].to_vec::<i32>()?);
        }
        Ok((classes, first_calls))
    };

    let mut ok = true;
    let mut reference = Vec::new();
    for n in BATCHES {
        let (classes, first_calls) = serve_in(n)?;
        if n == 1 {
            reference = classes.clone();
        }
        let same = classes == reference;
        ok &= same;
        let firsts: Vec<String> = first_calls
            .iter()
            .map(|(m, ms)| format!("batch {m}: {ms:.1} ms"))
            .collect();
        println!(
            "batches of {n:>3}: {} rows, accuracy {:.2}%, predictions {} the per-row ones; \
             first calls (specialize + compile or load) {}",
            classes.len(),
            100.0 * inference::accuracy(&classes, &test.labels),
            if same { "identical to" } else { "DIFFER FROM" },
            if firsts.is_empty() {
                "none (all sizes already made)".to_string()
            } else {
                firsts.join(", ")
            }
        );
    }
    println!("sizes specialized: {:?}", server.compiled_batches());
    println!("compilation cache: {}", pjrt::compile_cache_stats());
    Ok(ok)
}
