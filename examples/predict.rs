//! Classifies the digits test set with the executables `train_digits` exported, in a fresh
//! process: loads `out/<model>.pjrt` (refused, with a message naming both plugins, when it
//! was made by another plugin), runs it, writes `out/<model>_predict.txt`, and compares the
//! predictions with the ones the training process wrote (`out/<model>_predictions.txt`).
//!
//! Options: `--out DIR` (default `out`), `--model NAME` (repeatable; default mlp and cnn).
//! Exit status 1 if an executable cannot be loaded or the predictions differ.

use std::path::PathBuf;
use std::process::ExitCode;

use autodiff::train::export::ExportPaths;
use examples::digits::{self, Digits, SPLIT_SEED, TRAIN_FRACTION};
use examples::inference;
use pjrt::Client;

fn main() -> ExitCode {
    let mut out = PathBuf::from("out");
    let mut models = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--out", Some(v)) => out = PathBuf::from(v),
            ("--model", Some(v)) => models.push(v),
            _ => {
                eprintln!("usage: predict [--out DIR] [--model NAME]...");
                return ExitCode::FAILURE;
            }
        }
    }
    if models.is_empty() {
        models = vec!["mlp".into(), "cnn".into()];
    }
    match run(&out, &models) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("predict: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(out: &std::path::Path, models: &[String]) -> Result<bool, Box<dyn std::error::Error>> {
    let client = Client::default_cpu()?;
    println!(
        "plugin: {} {} (PJRT API {})",
        client.platform_name(),
        client.platform_version(),
        client.plugin().api_version()
    );
    let data = Digits::load(digits::default_path())?;
    let (_, test) = data.split(TRAIN_FRACTION, SPLIT_SEED)?;
    let mut all_ok = true;
    for name in models {
        let paths = ExportPaths::new(out, name);
        let exe = match client.load_executable(&paths.executable) {
            Ok(exe) => exe,
            Err(e @ pjrt::Error::ForeignExecutable { .. }) => {
                eprintln!(
                    "predict: refusing {}: {e}; export it again with this plugin \
                     (cargo run --example train_digits, same PJRT_PLUGIN)",
                    paths.executable.display()
                );
                all_ok = false;
                continue;
            }
            Err(e) => {
                eprintln!(
                    "predict: cannot load {}: {e} (run `cargo run --example train_digits` first)",
                    paths.executable.display()
                );
                all_ok = false;
                continue;
            }
        };
        let pred = inference::run_predict(&exe, &test.images)?;
        let mine = out.join(format!("{name}_predict.txt"));
        inference::write_predictions(&mine, &pred)?;
        let acc = inference::accuracy(&pred, &test.labels);
        let theirs = inference::read_predictions(&inference::predictions_path(out, name))?;
        let same = theirs == pred;
        let differing = pred.iter().zip(&theirs).filter(|(a, b)| a != b).count()
            + pred.len().abs_diff(theirs.len());
        println!(
            "{name}: {} test images, accuracy {:.2}%; predictions {} the training process's ({})",
            pred.len(),
            100.0 * acc,
            if same { "identical to" } else { "DIFFER FROM" },
            if same {
                "all match".to_string()
            } else {
                format!("{differing} differ")
            }
        );
        all_ok &= same;
    }
    Ok(all_ok)
}
