//! Checkpoints as safetensors files: named tensors of any byte-sized element type (f32, f64,
//! f16, bf16, signed and unsigned integers, bool) plus string metadata.
//!
//! A model's parameters are stored by path name (`blocks.0.attn.qkv.weight`); a train step
//! adds its optimizer state (`optim.step`, `optim.slot0.<path>`, ...) and its step count.
//! Restoring reports every missing, unexpected and mis-shaped tensor by name at once; a name
//! map loads weights saved by other tools (and f16/bf16/f64 values convert to the model's
//! element type).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use pjrt::{ElementType, Literal};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::nn::{Module, ModuleExt, ParamKind, Path as TreePath};

/// Why a checkpoint could not be written, read or restored.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The file could not be read or written.
    #[error("checkpoint {path}: {source}")]
    Io {
        /// The checkpoint file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid safetensors.
    #[error("checkpoint {path}: safetensors: {source}")]
    Format {
        /// The checkpoint file.
        path: PathBuf,
        /// The format error.
        source: safetensors::SafeTensorError,
    },
    /// A tensor has a type this crate cannot hold, or data that does not fit its shape.
    #[error("checkpoint {path}: tensor `{name}`: {message}")]
    Tensor {
        /// The checkpoint file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// A metadata entry a restore needs is absent or unreadable.
    #[error("checkpoint {path}: metadata `{key}` is missing or not valid: {value:?}")]
    Metadata {
        /// The checkpoint file.
        path: PathBuf,
        /// The entry's key.
        key: String,
        /// Its value, if present.
        value: Option<String>,
    },
    /// The checkpoint does not fit the model: every problem, by name.
    #[error(
        "checkpoint {path} does not fit the model:{}",
        mismatch_list(missing, unexpected, misshaped)
    )]
    Mismatch {
        /// The checkpoint file.
        path: PathBuf,
        /// Tensors the model needs that the checkpoint lacks.
        missing: Vec<String>,
        /// Tensors the checkpoint has that the model does not use.
        unexpected: Vec<String>,
        /// `(name, what the model expects, what the checkpoint has)`.
        misshaped: Vec<(String, String, String)>,
    },
}

fn mismatch_list(
    missing: &[String],
    unexpected: &[String],
    misshaped: &[(String, String, String)],
) -> String {
    let mut s = String::new();
    if !missing.is_empty() {
        s.push_str(&format!(" missing: {};", missing.join(", ")));
    }
    if !unexpected.is_empty() {
        s.push_str(&format!(" unexpected: {};", unexpected.join(", ")));
    }
    if !misshaped.is_empty() {
        let m: Vec<String> = misshaped
            .iter()
            .map(|(n, want, got)| format!("{n} (model {want}, checkpoint {got})"))
            .collect();
        s.push_str(&format!(" mis-shaped: {};", m.join(", ")));
    }
    s.pop();
    s
}

/// Where a train step's checkpoint keeps its optimizer state (`optim.step`,
/// `optim.slot0.<path>`, ...); the model's parameters are at their paths.
pub const OPTIMIZER_PREFIX: &str = "optim.";

/// Named tensors (kept in name order) and metadata.
#[derive(Clone, Debug, Default)]
pub struct Checkpoint {
    /// The tensors, by name (a model's parameters are at their paths, `encoder.0.weight`).
    pub tensors: BTreeMap<String, Literal>,
    /// Free-form string entries (the step count, the model's configuration, ...).
    pub metadata: BTreeMap<String, String>,
    /// Where it was read from (empty for one built in memory); names the file in errors.
    pub path: PathBuf,
}

fn dtype_of(t: ElementType) -> Option<Dtype> {
    use ElementType::*;
    Some(match t {
        Pred => Dtype::BOOL,
        S8 => Dtype::I8,
        S16 => Dtype::I16,
        S32 => Dtype::I32,
        S64 => Dtype::I64,
        U8 => Dtype::U8,
        U16 => Dtype::U16,
        U32 => Dtype::U32,
        U64 => Dtype::U64,
        F16 => Dtype::F16,
        BF16 => Dtype::BF16,
        F32 => Dtype::F32,
        F64 => Dtype::F64,
        _ => return None,
    })
}

fn element_of(d: Dtype) -> Option<ElementType> {
    use ElementType::*;
    Some(match d {
        Dtype::BOOL => Pred,
        Dtype::I8 => S8,
        Dtype::I16 => S16,
        Dtype::I32 => S32,
        Dtype::I64 => S64,
        Dtype::U8 => U8,
        Dtype::U16 => U16,
        Dtype::U32 => U32,
        Dtype::U64 => U64,
        Dtype::F16 => F16,
        Dtype::BF16 => BF16,
        Dtype::F32 => F32,
        Dtype::F64 => F64,
        _ => return None,
    })
}

/// A float literal's values as f64 (f16, bf16, f32, f64).
fn floats(l: &Literal) -> Option<Vec<f64>> {
    Some(match l.element_type() {
        ElementType::F16 => l
            .to_vec::<half::f16>()
            .ok()?
            .iter()
            .map(|v| v.to_f64())
            .collect(),
        ElementType::BF16 => l
            .to_vec::<half::bf16>()
            .ok()?
            .iter()
            .map(|v| v.to_f64())
            .collect(),
        ElementType::F32 => l.to_vec::<f32>().ok()?.iter().map(|&v| v as f64).collect(),
        ElementType::F64 => l.to_vec::<f64>().ok()?,
        _ => return None,
    })
}

/// `l` converted to the float type `to`.
fn convert_float(l: &Literal, to: ElementType) -> Option<Literal> {
    let v = floats(l)?;
    let dims = l.dims();
    Some(match to {
        ElementType::F16 => {
            let w: Vec<half::f16> = v.iter().map(|&x| half::f16::from_f64(x)).collect();
            Literal::from_slice(&w, dims).ok()?
        }
        ElementType::BF16 => {
            let w: Vec<half::bf16> = v.iter().map(|&x| half::bf16::from_f64(x)).collect();
            Literal::from_slice(&w, dims).ok()?
        }
        ElementType::F32 => {
            let w: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            Literal::from_slice(&w, dims).ok()?
        }
        ElementType::F64 => Literal::from_slice(&v, dims).ok()?,
        _ => return None,
    })
}

fn describe(ty: ElementType, dims: &[i64]) -> String {
    hlo_builder::TensorType::new(ty, dims).to_string()
}

impl Checkpoint {
    /// An empty checkpoint.
    pub fn new() -> Checkpoint {
        Checkpoint::default()
    }

    /// Adds (or replaces) a tensor.
    pub fn insert(&mut self, name: impl Into<String>, value: Literal) {
        self.tensors.insert(name.into(), value);
    }

    /// Sets a metadata entry.
    pub fn set_meta(&mut self, key: impl Into<String>, value: impl ToString) {
        self.metadata.insert(key.into(), value.to_string());
    }

    /// The tensor called `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Literal> {
        self.tensors.get(name)
    }

    /// Metadata `key` parsed as `T`.
    pub fn meta<T: std::str::FromStr>(&self, key: &str) -> Result<T, CheckpointError> {
        let value = self.metadata.get(key);
        value
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| CheckpointError::Metadata {
                path: self.path.clone(),
                key: key.to_string(),
                value: value.cloned(),
            })
    }

    /// The parameters of `model` (trainable and state) by path, with `prefix` before each
    /// name; an error names a parameter without a host value.
    pub fn add_model<M: Module>(&mut self, prefix: &str, model: &M) -> Result<(), CheckpointError> {
        let mut missing = Vec::new();
        for (name, p) in model.params() {
            match p.host() {
                Some(l) => {
                    self.tensors.insert(format!("{prefix}{name}"), l.clone());
                }
                None => missing.push(name),
            }
        }
        if !missing.is_empty() {
            return Err(CheckpointError::Mismatch {
                path: self.path.clone(),
                missing,
                unexpected: Vec::new(),
                misshaped: Vec::new(),
            });
        }
        Ok(())
    }

    /// A copy of `model` whose parameters take this checkpoint's tensors named by their
    /// paths (with `prefix`). Every problem is reported at once: parameters the checkpoint
    /// lacks, tensors under `prefix` it has that the model does not use, and mis-shaped ones.
    /// A train step's optimizer state (names under [`OPTIMIZER_PREFIX`]) is not the model's
    /// and is neither used nor reported, so a train step's checkpoint loads into its model.
    pub fn restore_model<M: Module>(&self, prefix: &str, model: &M) -> Result<M, CheckpointError> {
        self.restore(
            model,
            |path| Some(format!("{prefix}{path}")),
            prefix,
            Some(OPTIMIZER_PREFIX),
        )
    }

    /// Like [`restore_model`](Self::restore_model) for checkpoints written by other tools:
    /// `name_of(path)` gives the checkpoint's name for each parameter path (`None` for a
    /// parameter to leave as it is), and float tensors convert to the parameter's type (f16,
    /// bf16, f32, f64). Tensors whose names start with `unused_prefix` and that no parameter
    /// took are reported as unexpected (pass `"\0"` to ignore the rest of the file).
    pub fn restore_model_mapped<M: Module>(
        &self,
        model: &M,
        name_of: impl Fn(&str) -> Option<String>,
        unused_prefix: &str,
    ) -> Result<M, CheckpointError> {
        self.restore(model, name_of, unused_prefix, None)
    }

    /// [`restore_model_mapped`](Self::restore_model_mapped), tensors under `skip` neither
    /// used nor reported.
    fn restore<M: Module>(
        &self,
        model: &M,
        name_of: impl Fn(&str) -> Option<String>,
        unused_prefix: &str,
        skip: Option<&str>,
    ) -> Result<M, CheckpointError> {
        let mut out = model.clone();
        let mut missing = Vec::new();
        let mut misshaped = Vec::new();
        let mut used = std::collections::BTreeSet::new();
        let mut errors = Vec::new();
        out.visit_mut(&mut TreePath::new(), &mut |p, x| {
            let Some(name) = name_of(p.as_str()) else {
                return;
            };
            let Some(l) = self.tensors.get(&name) else {
                missing.push(name);
                return;
            };
            used.insert(name.clone());
            let want = x.ty().clone();
            let got = describe(l.element_type(), l.dims());
            if l.dims() != want.dims.as_slice() {
                misshaped.push((name, want.to_string(), got));
                return;
            }
            let value = if l.element_type() == want.ty {
                Some(l.clone())
            } else {
                convert_float(l, want.ty)
            };
            match value {
                Some(v) => {
                    if let Err(e) = x.set_host(v) {
                        errors.push(e.to_string());
                    }
                }
                None => misshaped.push((name, want.to_string(), got)),
            }
        });
        let unexpected: Vec<String> = self
            .tensors
            .keys()
            .filter(|k| k.starts_with(unused_prefix) && !used.contains(*k))
            .filter(|k| skip.is_none_or(|s| !k.starts_with(s)))
            .cloned()
            .collect();
        if !missing.is_empty() || !unexpected.is_empty() || !misshaped.is_empty() {
            return Err(CheckpointError::Mismatch {
                path: self.path.clone(),
                missing,
                unexpected,
                misshaped,
            });
        }
        if let Some(e) = errors.into_iter().next() {
            return Err(CheckpointError::Tensor {
                path: self.path.clone(),
                name: String::new(),
                message: e,
            });
        }
        Ok(out)
    }

    /// Writes the checkpoint to `path` (through a temporary file and a rename, so a crash
    /// never leaves a half-written checkpoint behind).
    ///
    /// A model's parameters go in by path ([`add_model`](Self::add_model)) and come back
    /// into a model of the same type ([`restore_model`](Self::restore_model)):
    ///
    /// ```
    /// use autodiff::nn::{seeded, Linear, ModuleExt};
    /// use autodiff::train::checkpoint::Checkpoint;
    ///
    /// let trained = Linear::new(3, 2).init(&mut seeded(7))?;
    /// let mut c = Checkpoint::new();
    /// c.add_model("", &trained)?;
    /// c.set_meta("epochs", 12);
    /// let path = std::env::temp_dir().join(format!("linear-{}.safetensors", std::process::id()));
    /// c.save(&path)?;
    ///
    /// let c = Checkpoint::load(&path)?;
    /// assert_eq!(c.meta::<u32>("epochs")?, 12);
    /// let fresh = Linear::new(3, 2).init(&mut seeded(8))?; // other values, same shapes
    /// let restored = c.restore_model("", &fresh)?;
    /// let w = |m: &Linear| m.weight.host().unwrap().to_vec::<f32>().unwrap();
    /// assert_eq!(w(&restored), w(&trained));
    ///
    /// // A model of other shapes is refused, naming every tensor that does not fit.
    /// let e = c.restore_model("", &Linear::new(4, 2)).unwrap_err().to_string();
    /// assert!(e.contains("weight"), "{e}");
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
        let path = path.as_ref();
        let fmt = |source| CheckpointError::Format {
            path: path.to_path_buf(),
            source,
        };
        let mut views = Vec::with_capacity(self.tensors.len());
        for (name, l) in &self.tensors {
            let dtype = dtype_of(l.element_type()).ok_or_else(|| CheckpointError::Tensor {
                path: path.to_path_buf(),
                name: name.clone(),
                message: format!("element type {} has no safetensors form", l.element_type()),
            })?;
            let shape: Vec<usize> = l.dims().iter().map(|&d| d as usize).collect();
            views.push((
                name.clone(),
                TensorView::new(dtype, shape, l.as_bytes()).map_err(fmt)?,
            ));
        }
        let meta: HashMap<String, String> = self.metadata.clone().into_iter().collect();
        let data = safetensors::serialize(views, Some(meta)).map_err(fmt)?;
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|source| CheckpointError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
        }
        let tmp = path.with_extension("safetensors.tmp");
        std::fs::write(&tmp, &data).map_err(|source| CheckpointError::Io {
            path: tmp.clone(),
            source,
        })?;
        std::fs::rename(&tmp, path).map_err(|source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a checkpoint (any safetensors file whose tensors have byte-sized element types).
    pub fn load(path: impl AsRef<Path>) -> Result<Checkpoint, CheckpointError> {
        let path = path.as_ref();
        let fmt = |source| CheckpointError::Format {
            path: path.to_path_buf(),
            source,
        };
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let (_, header) = SafeTensors::read_metadata(&bytes).map_err(fmt)?;
        let metadata: BTreeMap<String, String> = header
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let st = SafeTensors::deserialize(&bytes).map_err(fmt)?;
        let mut tensors = BTreeMap::new();
        for (name, view) in st.tensors() {
            let bad = |message: String| CheckpointError::Tensor {
                path: path.to_path_buf(),
                name: name.clone(),
                message,
            };
            let et = element_of(view.dtype())
                .ok_or_else(|| bad(format!("element type {} is not supported", view.dtype())))?;
            let mut dims = Vec::with_capacity(view.shape().len());
            for &d in view.shape() {
                dims.push(
                    i64::try_from(d).map_err(|_| bad(format!("dimension {d} is too large")))?,
                );
            }
            let lit = Literal::from_bytes(et, &dims, view.data().to_vec())
                .map_err(|e| bad(e.to_string()))?;
            tensors.insert(name, lit);
        }
        Ok(Checkpoint {
            tensors,
            metadata,
            path: path.to_path_buf(),
        })
    }
}

/// The state kinds a model checkpoint holds.
pub const MODEL_KINDS: [ParamKind; 2] = [ParamKind::Trainable, ParamKind::State];

// Test code: `unwrap` and `panic!` here are the assertions; a failure fails the test, and
// none of it is compiled into the library.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Linear, ModuleExt};

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ckpt-test-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    #[test]
    fn every_type_round_trips_bit_exactly() {
        let mut c = Checkpoint::new();
        c.insert("a", Literal::from_slice(&[1.5f32, -2.0], &[2]).unwrap());
        c.insert(
            "b",
            Literal::from_slice(&[half::bf16::from_f32(0.25)], &[1]).unwrap(),
        );
        c.insert(
            "c",
            Literal::from_slice(&[half::f16::from_f32(-3.0); 4], &[2, 2]).unwrap(),
        );
        c.insert("d", Literal::from_slice(&[7u64, u64::MAX], &[2]).unwrap());
        c.insert("e", Literal::scalar(-5i32));
        c.set_meta("steps", 12);
        let p = tmp("types.safetensors");
        c.save(&p).unwrap();
        let r = Checkpoint::load(&p).unwrap();
        assert_eq!(r.tensors.len(), 5);
        for (k, v) in &c.tensors {
            let w = &r.tensors[k];
            assert_eq!((w.element_type(), w.dims()), (v.element_type(), v.dims()));
            assert_eq!(w.as_bytes(), v.as_bytes(), "{k}");
        }
        assert_eq!(r.meta::<u64>("steps").unwrap(), 12);
        assert!(r.meta::<u64>("nope").is_err());
    }

    #[test]
    fn restore_reports_every_problem_by_name() {
        let m = Linear::new(3, 2).init(&mut crate::nn::seeded(1)).unwrap();
        let mut c = Checkpoint::new();
        c.add_model("", &m).unwrap();
        let back = c.restore_model("", &m).unwrap();
        assert_eq!(
            back.weight.host().unwrap().as_bytes(),
            m.weight.host().unwrap().as_bytes()
        );
        c.tensors.remove("bias");
        c.insert("weight", Literal::zeros(ElementType::F32, &[2, 3]).unwrap());
        c.insert("extra", Literal::scalar(1.0f32));
        let e = c.restore_model("", &m).unwrap_err().to_string();
        assert!(e.contains("missing: bias"), "{e}");
        assert!(e.contains("unexpected: extra"), "{e}");
        assert!(
            e.contains("weight (model f32[3,2], checkpoint f32[2,3])"),
            "{e}"
        );
    }

    #[test]
    fn mapped_names_and_half_precision_load() {
        let m = Linear::new(2, 2).init(&mut crate::nn::seeded(2)).unwrap();
        let mut c = Checkpoint::new();
        let w = [0.5f32, -1.0, 2.0, 0.25];
        let w16: Vec<half::f16> = w.iter().map(|&x| half::f16::from_f32(x)).collect();
        c.insert("dense/kernel", Literal::from_slice(&w16, &[2, 2]).unwrap());
        c.insert(
            "dense/bias",
            Literal::from_slice(&[1.0f64, 2.0], &[2]).unwrap(),
        );
        c.insert("other/thing", Literal::scalar(0u8));
        let r = c
            .restore_model_mapped(
                &m,
                |p| {
                    Some(format!(
                        "dense/{}",
                        if p == "weight" { "kernel" } else { p }
                    ))
                },
                "dense/",
            )
            .unwrap();
        assert_eq!(r.weight.host().unwrap().to_vec::<f32>().unwrap(), w);
        assert_eq!(
            r.bias
                .as_ref()
                .unwrap()
                .host()
                .unwrap()
                .to_vec::<f32>()
                .unwrap(),
            [1.0, 2.0]
        );
    }
}
