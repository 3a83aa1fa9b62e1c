//! A record of which C functions were called, on which plugin, with which outcome: the
//! evidence behind `docs/capi_coverage.md`.
//!
//! Test machinery: compiled only with the `call-log` feature (this crate's own tests turn it
//! on); without it the checked call paths record nothing and cost nothing extra. With it,
//! recording is off unless a thread turns it on with [`record_on_this_thread`]; then every
//! call that thread makes through the crate's checked call paths (the core table and every
//! extension table) is noted. When off, the cost per call is one thread-local read.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use crate::error::{ErrorCode, Result};

/// What one call returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// The function ran and returned no error.
    Ok,
    /// The function ran and returned an error with this code.
    Error(ErrorCode),
    /// The function is not in the plugin's table (past its end, or a null slot), or the
    /// extension that would hold it is absent: the wrapper returned `Unimplemented` without
    /// calling anything.
    Absent,
}

impl Outcome {
    /// A short text: `ok`, `UNIMPLEMENTED`, `absent`, ...
    pub fn label(self) -> String {
        match self {
            Outcome::Ok => "ok".into(),
            Outcome::Error(c) => c.to_string(),
            Outcome::Absent => "absent".into(),
        }
    }
}

/// Key: (plugin API version `0.N`, function name). Core functions are named by their
/// `PJRT_Api` slot; extension functions `Extension.slot` (e.g. `Layouts.PJRT_Layouts_MemoryLayout_Destroy`).
type Log = BTreeMap<(String, String), BTreeSet<Outcome>>;

fn log() -> &'static Mutex<Log> {
    static LOG: Mutex<Log> = Mutex::new(BTreeMap::new());
    &LOG
}

thread_local! {
    static RECORDING: Cell<bool> = const { Cell::new(false) };
}

/// Turns recording on or off for calls made on the current thread.
pub fn record_on_this_thread(on: bool) {
    RECORDING.with(|r| r.set(on));
}

fn recording() -> bool {
    RECORDING.with(|r| r.get())
}

/// Notes one call (no-op unless this thread records).
pub(crate) fn note(version: crate::ApiVersion, function: &str, outcome: Outcome) {
    if !recording() {
        return;
    }
    let mut g = log().lock().unwrap_or_else(|p| p.into_inner());
    g.entry((version.to_string(), function.to_string()))
        .or_default()
        .insert(outcome);
}

/// Notes the outcome of a checked call.
pub(crate) fn note_result<T>(version: crate::ApiVersion, function: &str, r: &Result<T>) {
    if !recording() {
        return;
    }
    let outcome = match r {
        Ok(_) => Outcome::Ok,
        Err(crate::Error::Unimplemented { .. }) => Outcome::Absent,
        Err(e) => Outcome::Error(e.code().unwrap_or(ErrorCode::Unknown)),
    };
    note(version, function, outcome);
}

/// Everything recorded so far: `(plugin version, function) -> outcomes`.
pub fn snapshot() -> BTreeMap<(String, String), BTreeSet<Outcome>> {
    log().lock().unwrap_or_else(|p| p.into_inner()).clone()
}
