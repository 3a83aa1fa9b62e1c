//! Serving an export: one executable per batch size, made on the first call of that size.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::artifact::Exported;
use super::error::ExportError;
use crate::module::Executable;

/// An [`Exported`] function on a client: weights uploaded once, one compiled executable per
/// batch size, made on first use (specialized, lowered, compiled through the client's
/// compilation cache, so a size compiled by an earlier process loads from disk) and kept.
/// Thread-safe.
pub struct Server {
    exported: Exported,
    client: pjrt::Client,
    options: pjrt::CompileOptions,
    weights: Vec<pjrt::Buffer>,
    compiled: Mutex<BTreeMap<i64, Arc<Executable>>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Server({}, batch sizes compiled: {:?})",
            self.exported.name(),
            self.compiled_batches()
        )
    }
}

impl Server {
    /// Serves `exported` on `client` (its weights are uploaded now).
    pub fn new(exported: Exported, client: &pjrt::Client) -> Result<Server, ExportError> {
        let weights = exported
            .weights()
            .iter()
            .map(|w| client.buffer_from_bytes(w.ty.ty, &w.data, &w.ty.dims))
            .collect::<Result<_, _>>()?;
        Ok(Server {
            exported,
            client: client.clone(),
            options: pjrt::CompileOptions::new(),
            weights,
            compiled: Mutex::new(BTreeMap::new()),
        })
    }

    /// Compiles with these options (e.g. another compilation cache).
    pub fn with_compile_options(mut self, options: pjrt::CompileOptions) -> Server {
        self.options = options;
        self
    }

    /// The served function.
    pub fn exported(&self) -> &Exported {
        &self.exported
    }

    /// The batch sizes compiled so far.
    pub fn compiled_batches(&self) -> Vec<i64> {
        self.lock().keys().copied().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<i64, Arc<Executable>>> {
        self.compiled.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The executable for batch size `n`: the one made earlier, or specialized and compiled
    /// now. (Two threads asking for a new size at once may both compile it; one is kept.)
    pub fn executable(&self, n: i64) -> Result<Arc<Executable>, ExportError> {
        if let Some(e) = self.lock().get(&n) {
            return Ok(e.clone());
        }
        let module = self.exported.specialize(n)?;
        let exe = Arc::new(module.compile_with(&self.client, &self.options)?);
        tracing::debug!(name = %self.exported.name(), batch = n, "specialized and compiled");
        Ok(self.lock().entry(n).or_insert(exe).clone())
    }

    /// Runs on host data: the inputs (not the weights), whose batch size picks the
    /// executable; inputs whose other dimensions or element types differ from the export
    /// are refused. Returns one literal per output.
    pub fn run(&self, inputs: &[&pjrt::Literal]) -> Result<Vec<pjrt::Literal>, ExportError> {
        let types: Vec<(pjrt::ElementType, &[i64])> = inputs
            .iter()
            .map(|l| (l.element_type(), l.dims()))
            .collect();
        let n = self.exported.batch_of(&types)?;
        let exe = self.executable(n)?;
        let uploaded = inputs
            .iter()
            .map(|l| self.client.buffer_from_literal(l))
            .collect::<Result<Vec<_>, _>>()?;
        let args: Vec<&pjrt::Buffer> = self.weights.iter().chain(&uploaded).collect();
        let outs = exe.loaded().execute(&args)?;
        Ok(outs
            .iter()
            .map(pjrt::Buffer::to_literal)
            .collect::<Result<_, _>>()?)
    }
}
