//! Inference functions with the trained weights baked in: compiled, saved as a serialized
//! executable (with the identity of the plugin that made it), and written as StableHLO text
//! and bytecode; plus the predictions files that `train_digits` and `predict` compare.

use std::path::{Path, PathBuf};

use hlo_builder::nn::{self, Model};
use hlo_builder::{Builder, ElementType, Module};

/// Why an export or a prediction failed.
#[derive(Debug, thiserror::Error)]
pub enum InferenceError {
    #[error(transparent)]
    Builder(#[from] hlo_builder::Error),
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
    #[error("model {model}: {expected} parameter tensors expected, {found} given")]
    ParamCount {
        model: String,
        expected: usize,
        found: usize,
    },
    #[error("model {model}: parameter `{name}` needs {expected} values, {found} given")]
    ParamSize {
        model: String,
        name: String,
        expected: usize,
        found: usize,
    },
}

/// Records `model`'s inference function for `batch` rows with `params` baked in as
/// constants: `f32[batch, 64] -> (f32[batch, 10] logits, s32[batch] predicted classes)`.
pub fn inference_module(
    model: &dyn Model,
    params: &[Vec<f32>],
    batch: i64,
) -> Result<Module, InferenceError> {
    let specs = model.params();
    if specs.len() != params.len() {
        return Err(InferenceError::ParamCount {
            model: model.name().into(),
            expected: specs.len(),
            found: params.len(),
        });
    }
    let mut b = Builder::new(format!("{}_predict", model.name()));
    let x = b.parameter("x", ElementType::F32, model.input_dims(batch))?;
    let mut ps = Vec::with_capacity(specs.len());
    for (s, v) in specs.iter().zip(params) {
        if s.len() != v.len() {
            return Err(InferenceError::ParamSize {
                model: model.name().into(),
                name: s.name.clone(),
                expected: s.len(),
                found: v.len(),
            });
        }
        ps.push(b.constant(v, &s.dims)?);
    }
    let logits = model.forward(&mut b, &ps, x)?;
    let pred = nn::predictions(&mut b, logits)?;
    Ok(b.build(&[logits, pred])?)
}

/// Paths of one model's exported files under `dir`.
#[derive(Clone, Debug)]
pub struct ExportPaths {
    /// Serialized executable (plugin identity + the plugin's bytes).
    pub executable: PathBuf,
    /// StableHLO as MLIR text.
    pub mlir_text: PathBuf,
    /// StableHLO as MLIR bytecode.
    pub mlir_bytecode: PathBuf,
    /// Predicted classes of the test set, one a line, as computed by the training process.
    pub predictions: PathBuf,
}

impl ExportPaths {
    pub fn new(dir: &Path, model: &str) -> ExportPaths {
        ExportPaths {
            executable: dir.join(format!("{model}.pjrt")),
            mlir_text: dir.join(format!("{model}.mlir")),
            mlir_bytecode: dir.join(format!("{model}.mlirbc")),
            predictions: dir.join(format!("{model}_predictions.txt")),
        }
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), InferenceError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| InferenceError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, bytes).map_err(|source| InferenceError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Compiles `module`, saves the executable and the StableHLO (text and bytecode), runs it on
/// `x` and writes the predictions; returns them.
pub fn export(
    client: &pjrt::Client,
    module: &Module,
    x: &[f32],
    paths: &ExportPaths,
) -> Result<Vec<i32>, InferenceError> {
    write(&paths.mlir_text, module.to_text().as_bytes())?;
    write(&paths.mlir_bytecode, module.bytecode())?;
    let exe = client.compile(&module.program())?;
    exe.save(&paths.executable)?;
    let pred = run_predict(&exe, x)?;
    write_predictions(&paths.predictions, &pred)?;
    Ok(pred)
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
    write(path, text.as_bytes())
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
