//! Inference functions with trained weights baked in: recorded from a model, compiled, and
//! written as a serialized executable (with the identity of the plugin that made it) and as
//! StableHLO text and bytecode.

use std::path::{Path, PathBuf};

use hlo_builder::{Module, Recording, Tensor, TensorType};

use crate::nn::Path as TreePath;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Recording the exported function failed.
    #[error(transparent)]
    Builder(#[from] hlo_builder::Error),
    /// Compiling or running it failed on the plugin.
    #[error(transparent)]
    Pjrt(#[from] pjrt::Error),
    /// Writing the export failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A parameter has no value on the host, so it cannot be stored.
    #[error("export: parameter `{0}` has no host value (initialize or load the model first)")]
    NoValue(String),
}

/// Records `f` (a function of `model` and of inputs of types `inputs`) with the model's
/// current host values baked in as constants: a self-contained module to compile, save or
/// serve (recorded in inference mode).
pub fn inference_module<M: crate::nn::Module, F>(
    name: &str,
    model: &M,
    inputs: &[TensorType],
    f: F,
) -> Result<Module, ExportError>
where
    F: FnOnce(&M, &[Tensor]) -> hlo_builder::Result<Vec<Tensor>>,
{
    let rec = Recording::new(name);
    let mut bound = model.clone();
    let mut err: Option<ExportError> = None;
    bound.visit_mut(&mut TreePath::new(), &mut |p, x| {
        if err.is_some() {
            return;
        }
        let Some(lit) = x.host() else {
            err = Some(ExportError::NoValue(p.to_string()));
            return;
        };
        let (ty, dims, bytes) = (lit.element_type(), lit.dims().to_vec(), lit.as_bytes());
        match rec.with(|b| b.constant_bytes(ty, &dims, bytes)) {
            Ok(Ok(v)) => x.bind(v),
            Ok(Err(e)) | Err(e) => err = Some(e.into()),
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    let mut xs = Vec::with_capacity(inputs.len());
    for (i, t) in inputs.iter().enumerate() {
        xs.push(rec.parameter(format!("input{i}"), t.ty, &t.dims)?);
    }
    let outs = f(&bound, &xs)?;
    let refs: Vec<&Tensor> = outs.iter().collect();
    Ok(rec.build(&refs)?)
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
