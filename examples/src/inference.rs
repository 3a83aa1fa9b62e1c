//! What the digits examples add to `autodiff::train::export`: running an exported classifier
//! on the test images, and the predictions files that `train_digits` and `predict` compare.

use std::path::{Path, PathBuf};

use autodiff::train::export::{write_file, ExportError};

/// Why a prediction or a predictions file failed.
#[derive(Debug, thiserror::Error)]
pub enum InferenceError {
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Pjrt(#[from] pjrt::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} line {line}: `{text}` is not a class label")]
    Parse {
        path: PathBuf,
        line: usize,
        text: String,
    },
    #[error("the inference executable returned {found} outputs; (logits, classes) expected")]
    Outputs { found: usize },
}

/// Where the training process writes a model's test-set predictions.
pub fn predictions_path(dir: &Path, model: &str) -> PathBuf {
    dir.join(format!("{model}_predictions.txt"))
}

/// Runs an inference executable (`f32[n, 64] -> (logits, s32[n])`) on `x`.
pub fn run_predict(exe: &pjrt::LoadedExecutable, x: &[f32]) -> Result<Vec<i32>, InferenceError> {
    let n = (x.len() / crate::digits::PIXELS) as i64;
    let lit = pjrt::Literal::from_slice(x, &[n, crate::digits::PIXELS as i64])?;
    let out = exe.run(&[&lit])?;
    let pred = out
        .get(1)
        .ok_or(InferenceError::Outputs { found: out.len() })?;
    Ok(pred.to_vec::<i32>()?)
}

/// Writes one class a line.
pub fn write_predictions(path: &Path, pred: &[i32]) -> Result<(), InferenceError> {
    let text: String = pred.iter().map(|p| format!("{p}\n")).collect();
    Ok(write_file(path, text.as_bytes())?)
}

/// Reads a file written by [`write_predictions`].
pub fn read_predictions(path: &Path) -> Result<Vec<i32>, InferenceError> {
    let text = std::fs::read_to_string(path).map_err(|source| InferenceError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            l.trim().parse().map_err(|_| InferenceError::Parse {
                path: path.to_path_buf(),
                line: i + 1,
                text: l.to_string(),
            })
        })
        .collect()
}

/// Fraction of `pred` equal to `labels`.
pub fn accuracy(pred: &[i32], labels: &[i32]) -> f64 {
    let hits = pred.iter().zip(labels).filter(|(p, l)| p == l).count();
    hits as f64 / labels.len().max(1) as f64
}
