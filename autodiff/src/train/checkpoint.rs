//! Training checkpoints as safetensors files: named f32 and i32 tensors (parameters and
//! optimizer state) plus string metadata (the step, the model's name, the data seed, ...).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

/// Why a checkpoint could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("checkpoint {path}: safetensors: {source}")]
    Format {
        path: PathBuf,
        source: safetensors::SafeTensorError,
    },
    #[error(
        "checkpoint: tensor `{name}` has shape {shape:?} ({expected} values) but {found} values"
    )]
    Size {
        name: String,
        shape: Vec<usize>,
        expected: usize,
        found: usize,
    },
    #[error("checkpoint {path}: tensor `{name}` is {dtype}; F32 and I32 are supported")]
    Dtype {
        path: PathBuf,
        name: String,
        dtype: String,
    },
    #[error("checkpoint {path}: no tensor named `{name}` (has: {available})")]
    Missing {
        path: PathBuf,
        name: String,
        available: String,
    },
    #[error(
        "checkpoint {path}: tensor `{name}` has shape {found:?}, the model expects {expected:?}"
    )]
    Shape {
        path: PathBuf,
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("checkpoint {path}: metadata `{key}` is missing or not valid: {value:?}")]
    Metadata {
        path: PathBuf,
        key: String,
        value: Option<String>,
    },
}

/// Element values of a checkpoint tensor.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    F32(Vec<f32>),
    I32(Vec<i32>),
}

impl Data {
    fn len(&self) -> usize {
        match self {
            Data::F32(v) => v.len(),
            Data::I32(v) => v.len(),
        }
    }

    fn dtype(&self) -> Dtype {
        match self {
            Data::F32(_) => Dtype::F32,
            Data::I32(_) => Dtype::I32,
        }
    }

    fn to_le_bytes(&self) -> Vec<u8> {
        match self {
            Data::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Data::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }
}

/// One named, row-major tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Data,
}

impl Tensor {
    /// An f32 tensor; fails when `data` does not have `shape`'s element count.
    pub fn new(
        name: impl Into<String>,
        shape: &[usize],
        data: Vec<f32>,
    ) -> Result<Self, CheckpointError> {
        Self::with_data(name.into(), shape, Data::F32(data))
    }

    /// An i32 tensor; fails when `data` does not have `shape`'s element count.
    pub fn new_i32(
        name: impl Into<String>,
        shape: &[usize],
        data: Vec<i32>,
    ) -> Result<Self, CheckpointError> {
        Self::with_data(name.into(), shape, Data::I32(data))
    }

    fn with_data(name: String, shape: &[usize], data: Data) -> Result<Self, CheckpointError> {
        let expected: usize = shape.iter().product();
        if expected != data.len() {
            return Err(CheckpointError::Size {
                name,
                shape: shape.to_vec(),
                expected,
                found: data.len(),
            });
        }
        Ok(Tensor {
            name,
            shape: shape.to_vec(),
            data,
        })
    }

    /// The values, if this is an f32 tensor.
    pub fn f32s(&self) -> Option<&[f32]> {
        match &self.data {
            Data::F32(v) => Some(v),
            Data::I32(_) => None,
        }
    }

    /// A tensor holding a host literal (f32 or s32 elements).
    pub fn from_literal(
        name: impl Into<String>,
        lit: &pjrt::Literal,
    ) -> Result<Self, CheckpointError> {
        let name = name.into();
        let shape: Vec<usize> = lit.dims().iter().map(|&d| d as usize).collect();
        let bad = |name: &str, what: String| CheckpointError::Dtype {
            path: PathBuf::new(),
            name: name.to_string(),
            dtype: what,
        };
        let data = match lit.element_type() {
            pjrt::ElementType::F32 => {
                Data::F32(lit.to_vec::<f32>().map_err(|e| bad(&name, e.to_string()))?)
            }
            pjrt::ElementType::S32 => {
                Data::I32(lit.to_vec::<i32>().map_err(|e| bad(&name, e.to_string()))?)
            }
            other => return Err(bad(&name, other.to_string())),
        };
        Self::with_data(name, &shape, data)
    }

    /// The tensor as a host literal.
    pub fn to_literal(&self) -> Result<pjrt::Literal, CheckpointError> {
        let dims: Vec<i64> = self.shape.iter().map(|&d| d as i64).collect();
        let lit = match &self.data {
            Data::F32(v) => pjrt::Literal::from_slice(v, &dims),
            Data::I32(v) => pjrt::Literal::from_slice(v, &dims),
        };
        lit.map_err(|e| CheckpointError::Dtype {
            path: PathBuf::new(),
            name: self.name.clone(),
            dtype: e.to_string(),
        })
    }
}

/// Tensors in a fixed order plus metadata.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checkpoint {
    pub tensors: Vec<Tensor>,
    pub metadata: BTreeMap<String, String>,
    /// Where it was read from (empty for one built in memory); names the file in errors.
    pub path: PathBuf,
}

impl Checkpoint {
    /// Writes the checkpoint to `path` (through a temporary file and a rename, so a crash
    /// never leaves a half-written checkpoint behind).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
        let path = path.as_ref();
        let fmt = |source| CheckpointError::Format {
            path: path.to_path_buf(),
            source,
        };
        let bytes: Vec<Vec<u8>> = self.tensors.iter().map(|t| t.data.to_le_bytes()).collect();
        let mut views = Vec::with_capacity(self.tensors.len());
        for (t, b) in self.tensors.iter().zip(&bytes) {
            views.push((
                t.name.clone(),
                TensorView::new(t.data.dtype(), t.shape.clone(), b).map_err(fmt)?,
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

    /// Reads a checkpoint written by [`Checkpoint::save`]; tensors come back in name order.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CheckpointError> {
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
        let mut tensors = Vec::new();
        let mut names: Vec<&str> = st.names();
        names.sort();
        for name in names {
            let view = st.tensor(name).map_err(fmt)?;
            let words = view
                .data()
                .chunks_exact(4)
                .map(|c| [c[0], c[1], c[2], c[3]]);
            let data = match view.dtype() {
                Dtype::F32 => Data::F32(words.map(f32::from_le_bytes).collect()),
                Dtype::I32 => Data::I32(words.map(i32::from_le_bytes).collect()),
                other => {
                    return Err(CheckpointError::Dtype {
                        path: path.to_path_buf(),
                        name: name.to_string(),
                        dtype: other.to_string(),
                    })
                }
            };
            tensors.push(Tensor {
                name: name.to_string(),
                shape: view.shape().to_vec(),
                data,
            });
        }
        Ok(Checkpoint {
            tensors,
            metadata,
            path: path.to_path_buf(),
        })
    }

    /// The tensor called `name`, checked to have `shape`.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<&Tensor, CheckpointError> {
        let t = self
            .tensors
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| CheckpointError::Missing {
                path: self.path.clone(),
                name: name.to_string(),
                available: self
                    .tensors
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if t.shape != shape {
            return Err(CheckpointError::Shape {
                path: self.path.clone(),
                name: name.to_string(),
                expected: shape.to_vec(),
                found: t.shape.clone(),
            });
        }
        Ok(t)
    }

    /// The f32 values of the tensor called `name`, checked to have `shape`.
    pub fn get_f32(&self, name: &str, shape: &[usize]) -> Result<&[f32], CheckpointError> {
        let t = self.get(name, shape)?;
        t.f32s().ok_or_else(|| CheckpointError::Dtype {
            path: self.path.clone(),
            name: name.to_string(),
            dtype: "I32 where F32 is expected".into(),
        })
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
}

// Test code: `unwrap` and `panic!` here are the assertions; a failure fails the test, and
// none of it is compiled into the library.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_tensors_and_metadata() {
        let dir = std::env::temp_dir().join(format!("ckpt-test-{}", std::process::id()));
        let path = dir.join("a.safetensors");
        let mut ck = Checkpoint::default();
        ck.tensors.push(
            Tensor::new(
                "w",
                &[2, 3],
                vec![1.0, -2.5, 3.0, 0.0, f32::MIN_POSITIVE, 6.0],
            )
            .unwrap(),
        );
        ck.tensors
            .push(Tensor::new("b", &[3], vec![0.1, 0.2, 0.3]).unwrap());
        ck.tensors
            .push(Tensor::new_i32("n", &[2], vec![-7, 1 << 30]).unwrap());
        ck.metadata.insert("step".into(), "42".into());
        ck.save(&path).unwrap();
        let back = Checkpoint::load(&path).unwrap();
        assert_eq!(back.meta::<u64>("step").unwrap(), 42);
        assert_eq!(back.get("w", &[2, 3]).unwrap().data, ck.tensors[0].data);
        assert_eq!(back.get_f32("b", &[3]).unwrap(), &[0.1, 0.2, 0.3]);
        assert_eq!(
            back.get("n", &[2]).unwrap().data,
            Data::I32(vec![-7, 1 << 30])
        );
        assert!(back.get_f32("n", &[2]).is_err());
        assert!(matches!(
            back.get("w", &[3, 2]),
            Err(CheckpointError::Shape { .. })
        ));
        assert!(matches!(
            back.get("nope", &[1]),
            Err(CheckpointError::Missing { .. })
        ));
        assert!(Tensor::new("x", &[2, 2], vec![1.0]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
