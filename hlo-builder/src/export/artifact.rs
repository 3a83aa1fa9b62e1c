//! The exported function: recording it, its signature, the artifact file, specializing it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::builder::Builder;
use crate::graph::{Computation, Value};
use crate::module::Module;
use crate::ops::{Op, SourceOp};
use crate::types::{ElementType, TensorType};

use super::affine::{self, Follow};
use super::codec;
use super::error::ExportError;
use super::tokens::{self, Dec, Enc, Tok};

/// The first bytes of an artifact.
pub const MAGIC: &[u8; 8] = b"HLOXPRT\0";
/// The artifact format this library writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// A stored parameter value: the function gets it as a parameter before its inputs, and
/// calls never pass it.
#[derive(Debug, Clone, PartialEq)]
pub struct Weight {
    /// The weight's name, as recorded.
    pub name: String,
    /// Its type (weights never follow the batch).
    pub ty: TensorType,
    /// Little-endian element bytes, row-major (pred: one byte per element).
    pub data: Arc<[u8]>,
}

impl Weight {
    /// A weight of `ty[dims]` from its bytes (checked against the type).
    pub fn new(
        name: impl Into<String>,
        ty: ElementType,
        dims: impl AsRef<[i64]>,
        data: impl Into<Arc<[u8]>>,
    ) -> crate::Result<Weight> {
        let t = TensorType::new(ty, dims.as_ref());
        let data = data.into();
        let value = crate::ops::ConstantValue::Dense(data.clone());
        crate::ops::source::constant(&t, &value)?;
        Ok(Weight {
            name: name.into(),
            ty: t,
            data,
        })
    }

    /// An f32 weight of `dims`.
    pub fn f32(
        name: impl Into<String>,
        dims: impl AsRef<[i64]>,
        values: &[f32],
    ) -> crate::Result<Weight> {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Weight::new(name, ElementType::F32, dims, bytes)
    }

    /// A weight holding a literal's data.
    pub fn from_literal(name: impl Into<String>, l: &pjrt::Literal) -> crate::Result<Weight> {
        Weight::new(name, l.element_type(), l.dims(), l.as_bytes())
    }
}

/// An input or output of an exported function: its type at the export size, and how each
/// dimension follows the batch (`dims[i] + slopes[i]·(batch - export batch)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The input's or output's name.
    pub name: String,
    /// Its type at the export batch size.
    pub ty: TensorType,
    /// Per dimension, how many elements it grows by per unit of batch (0: fixed).
    pub slopes: Vec<i64>,
    /// The export batch size.
    pub batch: i64,
}

impl Signature {
    /// The dims at batch `n`.
    pub fn dims_at(&self, n: i64) -> Vec<i64> {
        self.ty
            .dims
            .iter()
            .zip(&self.slopes)
            .map(|(&d, &a)| d.saturating_add(a.saturating_mul(n - self.batch)))
            .collect()
    }

    /// Whether any dimension follows the batch.
    pub fn follows_batch(&self) -> bool {
        self.slopes.iter().any(|&a| a != 0)
    }
}

/// `x: f32[batch,64]` (a dimension that follows the batch is written `a*batch+c`).
impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.name.is_empty() {
            write!(f, "{}: ", self.name)?;
        }
        write!(f, "{}[", self.ty.ty)?;
        for (i, (&d, &a)) in self.ty.dims.iter().zip(&self.slopes).enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let c = d.wrapping_sub(a.wrapping_mul(self.batch));
            match (a, c) {
                (0, _) => write!(f, "{d}")?,
                (1, 0) => f.write_str("batch")?,
                (1, c) => write!(f, "batch{c:+}")?,
                (a, 0) => write!(f, "{a}*batch")?,
                (a, c) => write!(f, "{a}*batch{c:+}")?,
            }
        }
        f.write_str("]")
    }
}

/// A function exported for every batch size: the graph at the export size, which of its
/// integers follow the batch, weights and metadata. See the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    name: String,
    batch: i64,
    probes: Vec<i64>,
    metadata: Vec<(String, String)>,
    weights: Vec<Weight>,
    /// The graph at `batch` (codec tokens).
    program: Vec<Tok>,
    follows: Vec<Follow>,
    inputs: Vec<Signature>,
    outputs: Vec<Signature>,
}

/// (parameter names and types, result types) of a function.
type MainTypes = (Vec<(String, TensorType)>, Vec<TensorType>);

/// The records of one function: `main` at a batch size.
fn record_at<F>(
    name: &str,
    batch: i64,
    weights: &[Weight],
    f: &F,
) -> Result<Computation, ExportError>
where
    F: Fn(&mut Builder, i64, &[Value]) -> crate::Result<Vec<Value>>,
{
    let err = |source| ExportError::Record {
        name: name.to_string(),
        batch,
        source: Box::new(source),
    };
    let mut b = Builder::new(name);
    let mut ws = Vec::with_capacity(weights.len());
    for w in weights {
        ws.push(b.parameter(&w.name, w.ty.ty, &w.ty.dims).map_err(err)?);
    }
    let results = f(&mut b, batch, &ws).map_err(err)?;
    b.finish(&results).map_err(err)
}

impl Exported {
    /// Records `f` at batch size `batch` (and the sizes that fix and check how its integers
    /// follow the batch; see the module documentation) and returns the export.
    ///
    /// `f(builder, batch, weights)` gets the weights as parameters already recorded (in
    /// order), records its inputs with [`Builder::parameter`] (at least one with a dimension
    /// that follows `batch`) and its ops, and returns the results.
    pub fn record<F>(
        name: impl Into<String>,
        batch: i64,
        weights: Vec<Weight>,
        f: F,
    ) -> Result<Exported, ExportError>
    where
        F: Fn(&mut Builder, i64, &[Value]) -> crate::Result<Vec<Value>>,
    {
        let name = name.into();
        if !(1..=affine::MAX_BATCH).contains(&batch) {
            return Err(ExportError::Record {
                name,
                batch,
                source: Box::new(crate::Error::Shape {
                    op: "export",
                    message: format!(
                        "the export batch size must be between 1 and {}, not {batch}",
                        affine::MAX_BATCH
                    ),
                }),
            });
        }
        let probes = affine::probes(batch);
        let mut graphs = Vec::with_capacity(probes.len());
        let mut main_at_batch = None;
        for &p in &probes {
            let main = record_at(&name, p, &weights, &f)?;
            let mut e = Enc::default();
            codec::program(&mut e, &main);
            graphs.push(e);
            if p == batch {
                main_at_batch = Some(main);
            }
        }
        let follows = affine::fit(&name, &probes, &graphs)?;
        let program = graphs.swap_remove(0).toks;
        let mut exported = Exported {
            name: name.clone(),
            batch,
            probes,
            metadata: Vec::new(),
            weights,
            program,
            follows,
            inputs: Vec::new(),
            outputs: Vec::new(),
        };
        exported.derive_signatures()?;
        if let Some(w) = exported
            .weight_signatures()?
            .into_iter()
            .find(Signature::follows_batch)
        {
            return Err(ExportError::Weight {
                name,
                weight: w.name.clone(),
                reason: format!("its type {w} follows the batch size"),
            });
        }
        if !exported.inputs.iter().any(Signature::follows_batch) {
            return Err(ExportError::NoBatchInput { name });
        }
        tracing::debug!(
            name = %exported.name,
            batch,
            nodes = main_at_batch.map_or(0, |m| m.graph.len()),
            follows = exported.follows.len(),
            "exported a batch-polymorphic function"
        );
        Ok(exported)
    }

    /// Adds a metadata entry (model name, version, what the outputs mean, ...).
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Exported {
        self.metadata.push((key.into(), value.into()));
        self
    }

    /// The exported function's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The batch size it was recorded at.
    pub fn batch(&self) -> i64 {
        self.batch
    }
    /// The batch sizes it was recorded at to fit and check the export.
    pub fn probes(&self) -> &[i64] {
        &self.probes
    }
    /// The metadata entries, `(key, value)`, in the order they were added.
    pub fn metadata(&self) -> &[(String, String)] {
        &self.metadata
    }
    /// The value of a metadata entry.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// The stored weights, in the order the function takes them (before its inputs).
    pub fn weights(&self) -> &[Weight] {
        &self.weights
    }
    /// The inputs a call passes (after the weights), with how they follow the batch.
    pub fn inputs(&self) -> &[Signature] {
        &self.inputs
    }
    /// The outputs, with how they follow the batch.
    pub fn outputs(&self) -> &[Signature] {
        &self.outputs
    }

    /// The computations of the graph at batch `n`, read from the tokens.
    fn program_at(&self, n: i64) -> Result<Vec<codec::CompData>, ExportError> {
        let toks = if n == self.batch {
            self.program.clone()
        } else {
            affine::specialize(&self.program, &self.follows, self.batch, n).map_err(|reason| {
                ExportError::Specialize {
                    name: self.name.clone(),
                    batch: n,
                    reason,
                }
            })?
        };
        let mut d = Dec::new(&toks);
        let comps = codec::read_program(&mut d).map_err(ExportError::Format)?;
        if !d.done() {
            return Err(ExportError::Format("tokens after the function".into()));
        }
        Ok(comps)
    }

    /// (parameters, results) of the function at batch `n`.
    fn main_types(&self, n: i64) -> Result<MainTypes, ExportError> {
        let comps = self.program_at(n)?;
        let main = comps
            .last()
            .ok_or_else(|| ExportError::Format("no function".into()))?;
        let params = main
            .nodes
            .iter()
            .filter_map(|n| match &n.op {
                Op::Source(SourceOp::Parameter { name, ty, .. }) => {
                    Some((name.clone(), ty.clone()))
                }
                _ => None,
            })
            .collect();
        let results = main
            .results
            .iter()
            .map(|v| {
                main.nodes
                    .get(v.node.index())
                    .and_then(|n| n.types.get(v.output as usize))
                    .cloned()
                    .ok_or_else(|| ExportError::Format("a result names no value".into()))
            })
            .collect::<Result<_, _>>()?;
        Ok((params, results))
    }

    fn signatures(
        &self,
        at_b: Vec<(String, TensorType)>,
        at_next: Vec<(String, TensorType)>,
    ) -> Result<Vec<Signature>, ExportError> {
        if at_b.len() != at_next.len() {
            return Err(ExportError::Format("signatures differ in length".into()));
        }
        at_b.into_iter()
            .zip(at_next)
            .map(|((name, t0), (_, t1))| {
                if t0.ty != t1.ty || t0.rank() != t1.rank() {
                    return Err(ExportError::Format(format!(
                        "`{name}` changes type with the batch"
                    )));
                }
                let slopes = t0
                    .dims
                    .iter()
                    .zip(&t1.dims)
                    .map(|(a, b)| b.checked_sub(*a))
                    .collect::<Option<Vec<i64>>>()
                    .ok_or_else(|| ExportError::Format(format!("`{name}` has absurd dims")))?;
                Ok(Signature {
                    name,
                    ty: t0,
                    slopes,
                    batch: self.batch,
                })
            })
            .collect()
    }

    /// The signatures of all parameters (weights first).
    fn param_signatures(&self) -> Result<Vec<Signature>, ExportError> {
        let (p0, _) = self.main_types(self.batch)?;
        let (p1, _) = self.main_types(self.batch + 1)?;
        self.signatures(p0, p1)
    }

    fn weight_signatures(&self) -> Result<Vec<Signature>, ExportError> {
        let mut all = self.param_signatures()?;
        all.truncate(self.weights.len());
        Ok(all)
    }

    /// Fills `inputs` and `outputs` from the graph, and checks the weights against it.
    fn derive_signatures(&mut self) -> Result<(), ExportError> {
        let all = self.param_signatures()?;
        if all.len() < self.weights.len() {
            return Err(ExportError::Format(format!(
                "{} weights but {} parameters",
                self.weights.len(),
                all.len()
            )));
        }
        for (w, s) in self.weights.iter().zip(&all) {
            if w.ty != s.ty {
                return Err(ExportError::Weight {
                    name: self.name.clone(),
                    weight: w.name.clone(),
                    reason: format!("it is {} but its parameter is {}", w.ty, s.ty),
                });
            }
        }
        self.inputs = all[self.weights.len()..].to_vec();
        let (_, r0) = self.main_types(self.batch)?;
        let (_, r1) = self.main_types(self.batch + 1)?;
        let name = |i: usize| format!("output {i}");
        self.outputs = self.signatures(
            r0.into_iter()
                .enumerate()
                .map(|(i, t)| (name(i), t))
                .collect(),
            r1.into_iter()
                .enumerate()
                .map(|(i, t)| (name(i), t))
                .collect(),
        )?;
        Ok(())
    }

    /// The batch size of a call with inputs of these types, or why they do not fit.
    pub fn batch_of(&self, inputs: &[(ElementType, &[i64])]) -> Result<i64, ExportError> {
        if inputs.len() != self.inputs.len() {
            return Err(ExportError::InputCount {
                name: self.name.clone(),
                expected: self.inputs.len(),
                signature: self.signature_text(),
                got: inputs.len(),
            });
        }
        let mut batch: Option<(i64, usize, usize)> = None;
        for (i, (s, (ty, dims))) in self.inputs.iter().zip(inputs).enumerate() {
            let bad = |reason: String| ExportError::Input {
                name: self.name.clone(),
                index: i,
                input: s.name.clone(),
                reason,
            };
            let got = TensorType::new(*ty, dims);
            if *ty != s.ty.ty || dims.len() != s.ty.rank() {
                return Err(bad(format!("expected {s}, got {got}")));
            }
            for (k, ((&d0, &a), &d)) in s.ty.dims.iter().zip(&s.slopes).zip(dims.iter()).enumerate()
            {
                if a == 0 {
                    if d != d0 {
                        return Err(bad(format!(
                            "expected {s}, got {got}: dimension {k} must be {d0}"
                        )));
                    }
                    continue;
                }
                // d = d0 + a·(n - B), so n = (d - c) / a with c = d0 - a·B.
                let off = a
                    .checked_mul(self.batch)
                    .and_then(|ab| d0.checked_sub(ab))
                    .and_then(|c| d.checked_sub(c))
                    .filter(|off| off.checked_rem(a) == Some(0) && off / a >= 1);
                let Some(off) = off else {
                    return Err(bad(format!(
                        "expected {s}, got {got}: dimension {k} is {d}, which no batch size of at least 1 gives"
                    )));
                };
                let n = off / a;
                match batch {
                    None => batch = Some((n, i, k)),
                    Some((m, j, l)) if m != n => {
                        return Err(bad(format!(
                            "got {got}: dimension {k} says batch {n}, but input {j} dimension {l} says {m}"
                        )))
                    }
                    Some(_) => {}
                }
            }
        }
        batch.map(|b| b.0).ok_or(ExportError::NoBatchInput {
            name: self.name.clone(),
        })
    }

    fn signature_text(&self) -> String {
        self.inputs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The function at batch `n`: the stored graph re-recorded through [`Builder::record`]
    /// with every following integer at `n`, lowered. Its parameters are the weights, then the
    /// inputs.
    pub fn specialize(&self, n: i64) -> Result<Module, ExportError> {
        if n < 1 {
            return Err(ExportError::Specialize {
                name: self.name.clone(),
                batch: n,
                reason: "the batch size must be at least 1".into(),
            });
        }
        let comps = self.program_at(n)?;
        let fail = |reason: String| ExportError::Specialize {
            name: self.name.clone(),
            batch: n,
            reason,
        };
        let mut built: Vec<Arc<Computation>> = Vec::with_capacity(comps.len());
        for c in &comps {
            built.push(Arc::new(replay(c, &built).map_err(fail)?));
        }
        let main = built
            .pop()
            .ok_or_else(|| ExportError::Format("no function".into()))?;
        Ok(Module::new(main)?)
    }

    /// The artifact's bytes (see [`Exported::save`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Enc::default();
        e.str(&self.name);
        e.i(self.batch);
        e.ints(&self.probes);
        e.n(self.metadata.len());
        for (k, v) in &self.metadata {
            e.str(k);
            e.str(v);
        }
        e.n(self.weights.len());
        for w in &self.weights {
            e.str(&w.name);
            e.tensor(&w.ty);
            e.bytes(w.data.clone());
        }
        e.n(self.program.len());
        e.toks.extend(self.program.iter().cloned());
        e.n(self.follows.len());
        for f in &self.follows {
            match *f {
                Follow::Int { pos, slope } => {
                    e.u(0);
                    e.n(pos);
                    e.i(slope);
                }
                Follow::Splat { pos, slope } => {
                    e.u(1);
                    e.n(pos);
                    e.u(slope.to_bits());
                }
            }
        }
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        tokens::write(&e.toks, &mut out);
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    /// Reads an artifact: the digest of the whole file first, then the version, then every
    /// field with checked reads; the graph must read back and its weights fit it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Exported, ExportError> {
        let bad = |s: String| ExportError::Format(s);
        if bytes.len() < MAGIC.len() + 4 + 32 {
            return Err(bad(format!("{} bytes is too short", bytes.len())));
        }
        if !bytes.starts_with(MAGIC) {
            return Err(bad("it does not start with the export magic".into()));
        }
        let (body, digest) = bytes.split_at(bytes.len() - 32);
        if Sha256::digest(body).as_slice() != digest {
            return Err(bad(
                "its digest does not match (damaged or truncated)".into()
            ));
        }
        let mut v = [0u8; 4];
        v.copy_from_slice(&body[8..12]);
        let version = u32::from_le_bytes(v);
        if version != FORMAT_VERSION {
            return Err(ExportError::Version {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let toks = tokens::read(&body[12..]).map_err(bad)?;
        let mut d = Dec::new(&toks);
        let mut read = || -> Result<Exported, String> {
            let name = d.str("name")?;
            let batch = d.i("batch")?;
            let probes = d.ints("probes")?;
            let nm = d.n("metadata")?;
            let mut metadata = Vec::with_capacity(nm);
            for _ in 0..nm {
                metadata.push((d.str("metadata key")?, d.str("metadata value")?));
            }
            let nw = d.n("weights")?;
            let mut weights = Vec::with_capacity(nw);
            for _ in 0..nw {
                let wname = d.str("weight name")?;
                let ty = d.tensor("weight type")?;
                let data = d.bytes("weight data")?;
                let w = Weight::new(wname, ty.ty, &ty.dims, data).map_err(|e| e.to_string())?;
                weights.push(w);
            }
            let np = d.n("graph")?;
            let program = d.raw(np, "graph")?.to_vec();
            let nf = d.n("follows")?;
            let mut follows = Vec::with_capacity(nf);
            for _ in 0..nf {
                let f = match d.u("follow kind")? {
                    0 => Follow::Int {
                        pos: d.index("follow position")?,
                        slope: d.i("slope")?,
                    },
                    1 => Follow::Splat {
                        pos: d.index("follow position")?,
                        slope: f64::from_bits(d.u("slope")?),
                    },
                    k => return Err(format!("unknown follow kind {k}")),
                };
                let kind_ok = match (f, program.get(f.pos())) {
                    (Follow::Int { .. }, Some(Tok::I(_))) => true,
                    (Follow::Splat { slope, .. }, Some(Tok::Splat(..))) => slope.is_finite(),
                    _ => false,
                };
                if !kind_ok {
                    return Err(format!("follow {f:?} names no token of its kind"));
                }
                follows.push(f);
            }
            if !d.done() {
                return Err(format!("{} tokens after the end", d.left()));
            }
            if !(1..=affine::MAX_BATCH).contains(&batch) {
                return Err(format!("export batch {batch}"));
            }
            Ok(Exported {
                name,
                batch,
                probes,
                metadata,
                weights,
                program,
                follows,
                inputs: Vec::new(),
                outputs: Vec::new(),
            })
        };
        let mut e = read().map_err(bad)?;
        e.derive_signatures()?;
        Ok(e)
    }

    /// Writes the artifact to `path` (atomically: a temporary file in the same folder,
    /// renamed into place).
    ///
    /// ```text
    /// magic    8 bytes  "HLOXPRT\0"
    /// version  u32 LE   1
    /// body     tokens: name, export batch, probes, metadata, weights (name, type, data),
    ///          the graph at the export batch (every computation, every node's op with its
    ///          attributes, operands, regions and result types), the integers that follow
    ///          the batch (position and slope)
    /// digest   32 bytes SHA-256 of everything above
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ExportError> {
        use std::io::Write;
        let path = path.as_ref();
        let io = |source| ExportError::Io {
            path: path.to_path_buf(),
            source,
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(&dir)
            .map_err(io)?;
        tmp.write_all(&self.to_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(io)?;
        tmp.persist(path).map_err(|e| io(e.error))?;
        Ok(())
    }

    /// Reads an artifact written by [`save`](Self::save).
    pub fn load(path: impl AsRef<Path>) -> Result<Exported, ExportError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ExportError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Exported::from_bytes(&bytes)
    }
}

/// Re-records a computation through the builder: parameters with [`Builder::parameter`],
/// every other node with [`Builder::record`] (so every shape rule runs again); each node's
/// types must be the stored ones.
fn replay(c: &codec::CompData, earlier: &[Arc<Computation>]) -> Result<Computation, String> {
    let mut b = Builder::new(c.name.clone());
    let mut vals: Vec<Vec<Value>> = Vec::with_capacity(c.nodes.len());
    for (i, n) in c.nodes.iter().enumerate() {
        let at = || format!("node {i} (`{}`) of `{}`", n.op.name(), c.name);
        let outs = match &n.op {
            Op::Source(SourceOp::Parameter { index, name, ty }) => {
                if *index != b.parameters().len() {
                    return Err(format!("{}: parameter {index} out of order", at()));
                }
                vec![b
                    .parameter(name.clone(), ty.ty, &ty.dims)
                    .map_err(|e| format!("{}: {e}", at()))?]
            }
            op => {
                let operands = n
                    .operands
                    .iter()
                    .map(|v| value_of(&vals, *v).map_err(|e| format!("{}: operand {e}", at())))
                    .collect::<Result<Vec<_>, _>>()?;
                let regions = n
                    .regions
                    .iter()
                    .map(|&r| {
                        earlier
                            .get(r)
                            .cloned()
                            .ok_or_else(|| format!("{}: region {r} missing", at()))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                b.record(op, &operands, &regions)
                    .map_err(|e| format!("{}: {e}", at()))?
            }
        };
        let types: Vec<TensorType> = outs
            .iter()
            .map(|v| b.ty(*v).cloned())
            .collect::<crate::Result<_>>()
            .map_err(|e| e.to_string())?;
        if types != n.types {
            return Err(format!(
                "{}: re-records as ({}), the export says ({})",
                at(),
                crate::ops::common::list(&types),
                crate::ops::common::list(&n.types)
            ));
        }
        vals.push(outs);
    }
    let results = c
        .results
        .iter()
        .map(|v| value_of(&vals, *v).map_err(|e| format!("result {e} of `{}`", c.name)))
        .collect::<Result<Vec<_>, _>>()?;
    b.finish(&results).map_err(|e| e.to_string())
}

/// The re-recorded value of `v` (the results of every node replayed so far, in order).
fn value_of(vals: &[Vec<Value>], v: crate::graph::ValueId) -> Result<Value, String> {
    vals.get(v.node.index())
        .and_then(|r| r.get(v.output as usize))
        .copied()
        .ok_or_else(|| format!("%{}#{} missing", v.node.0, v.output))
}

// Test code: `unwrap` and `panic!` here are the assertions.
#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Exported {
        let w = Weight::f32("w", [3, 2], &[1.0, -1.0, 2.0, 0.5, -1.0, 1.0]).unwrap();
        Exported::record("small", 4, vec![w], |b, batch, w| {
            let x = b.parameter("x", ElementType::F32, [batch, 3])?;
            let y = b.matmul(x, w[0])?;
            let m = b.mean_axes(y, [0])?;
            let r = b.reduce_sum(y, [1])?;
            Ok(vec![b.relu(y)?, m, r])
        })
        .unwrap()
    }

    /// The artifact of `e` with its graph token `i` replaced by `t` (and a right digest).
    fn forged(e: &Exported, i: usize, t: Tok) -> Vec<u8> {
        let mut f = e.clone();
        f.program[i] = t;
        f.to_bytes()
    }

    #[test]
    fn forged_graphs_are_errors_not_panics() {
        let e = small();
        let bytes = e.to_bytes();
        assert_eq!(Exported::from_bytes(&bytes).unwrap(), e);
        let mut refused = 0;
        for i in 0..e.program.len() {
            let replacements = match &e.program[i] {
                Tok::I(_) => vec![
                    Tok::I(i64::MAX),
                    Tok::I(i64::MIN),
                    Tok::I(-1),
                    Tok::I(1 << 41),
                ],
                Tok::U(_) => vec![Tok::U(u64::MAX), Tok::U(1 << 33), Tok::U(7)],
                Tok::B(_) => vec![Tok::B(Arc::from(&b"\xff\xfe"[..]))],
                Tok::Splat(ty, _) => vec![Tok::Splat(*ty, Arc::from(&b"\x01"[..]))],
            };
            for t in replacements {
                let Ok(f) = Exported::from_bytes(&forged(&e, i, t)) else {
                    refused += 1;
                    continue;
                };
                for n in [1, 5, 1 << 41] {
                    if f.specialize(n).is_err() {
                        refused += 1;
                    }
                }
                let dims = [7i64, 3];
                let _ = f.batch_of(&[(ElementType::F32, &dims)]);
                let _ = f.inputs().iter().map(ToString::to_string).count();
            }
        }
        assert!(
            refused > e.program.len(),
            "most forgeries are refused ({refused})"
        );
    }

    #[test]
    fn absurd_batch_sizes_are_refused() {
        let f = |b: &mut Builder, batch: i64, _: &[Value]| {
            let x = b.parameter("x", ElementType::F32, [batch])?;
            Ok(vec![x])
        };
        for batch in [0, -3, i64::MAX, MAX_BATCH_FOR_TEST + 1] {
            let e = Exported::record("x", batch, vec![], f).unwrap_err();
            assert!(e.to_string().contains("export batch size"), "{e}");
        }
        let e = small();
        assert!(e.specialize(0).is_err() && e.specialize(i64::MIN).is_err());
    }

    const MAX_BATCH_FOR_TEST: i64 = affine::MAX_BATCH;
}
