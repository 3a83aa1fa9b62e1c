//! Inference functions with trained weights baked in: recorded from a [`Model`], compiled,
//! and written as a serialized executable (with the identity of the plugin that made it) and
//! as StableHLO text and bytecode.

use std::path::{Path, PathBuf};

use hlo_builder::{Builder, ElementType, Module};

use super::nn::{self, Model};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Builder(#[from] hlo_builder::Error),
    #[error(transparent)]
    Pjrt(#[from] pjrt::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
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

/// Records a classifier's inference function for `batch` rows with `params` baked in as
/// constants: `f32[model.input_dims(batch)] -> (logits, s32[batch] predicted classes)`.
pub fn inference_module(
    model: &dyn Model,
    params: &[Vec<f32>],
    batch: i64,
) -> Result<Module, ExportError> {
    let specs = model.params();
    if specs.len() != params.len() {
        return Err(ExportError::ParamCount {
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
            return Err(ExportError::ParamSize {
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

/// Paths of one model's exported files under a directory.
#[derive(Clone, Debug)]
pub struct ExportPaths {
    /// Serialized executable (plugin identity + the plugin's bytes).
    pub executable: PathBuf,
    /// StableHLO as MLIR text.
    pub mlir_text: PathBuf,
    /// StableHLO as MLIR bytecode.
    pub mlir_bytecode: PathBuf,
}

impl ExportPaths {
    /// `<dir>/<model>.pjrt`, `<dir>/<model>.mlir`, `<dir>/<model>.mlirbc`.
    pub fn new(dir: &Path, model: &str) -> ExportPaths {
        ExportPaths {
            executable: dir.join(format!("{model}.pjrt")),
            mlir_text: dir.join(format!("{model}.mlir")),
            mlir_bytecode: dir.join(format!("{model}.mlirbc")),
        }
    }
}

/// Writes `bytes` to `path`, creating its directory; errors name the path.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| ExportError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, bytes).map_err(|source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `module`'s StableHLO (text and bytecode), compiles it on `client` and saves the
/// executable; returns the compiled executable.
pub fn export(
    client: &pjrt::Client,
    module: &Module,
    paths: &ExportPaths,
) -> Result<pjrt::LoadedExecutable, ExportError> {
    write_file(&paths.mlir_text, module.to_text().as_bytes())?;
    write_file(&paths.mlir_bytecode, module.bytecode())?;
    let exe = client.compile(&module.program())?;
    exe.save(&paths.executable)?;
    Ok(exe)
}
