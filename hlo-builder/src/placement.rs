//! Where values live: memory kinds ([`MemoryKind`]) and the memory kinds and layout modes
//! ([`LayoutMode`]) of an entry point's parameters and results ([`Placement`]).

use std::borrow::Cow;
use std::fmt;

use crate::error::{shape_err, Error, Result};

/// A memory kind, as PJRT plugins name their memories: where a parameter, a result or an
/// intermediate value lives. The CPU plugins (and XLA's compiler) know [`DEVICE`],
/// [`PINNED_HOST`] and [`UNPINNED_HOST`]; other plugins may list others
/// (`pjrt::Client::memory_kinds`). A kind is checked against the client's memories before a
/// module that uses it is compiled ([`Module::compile_with`](crate::Module::compile_with)).
///
/// [`DEVICE`]: MemoryKind::DEVICE
/// [`PINNED_HOST`]: MemoryKind::PINNED_HOST
/// [`UNPINNED_HOST`]: MemoryKind::UNPINNED_HOST
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemoryKind(Cow<'static, str>);

impl MemoryKind {
    /// The device's own memory (the default of every value).
    pub const DEVICE: MemoryKind = MemoryKind(Cow::Borrowed("device"));
    /// Page-locked host memory the device can reach directly (JAX's `pinned_host`).
    pub const PINNED_HOST: MemoryKind = MemoryKind(Cow::Borrowed("pinned_host"));
    /// Ordinary host memory.
    pub const UNPINNED_HOST: MemoryKind = MemoryKind(Cow::Borrowed("unpinned_host"));

    /// A kind by name: non-empty ASCII lower-case letters, digits and `_` (the form the
    /// plugins use); anything else is an error naming the text.
    pub fn new(name: impl Into<String>) -> Result<MemoryKind> {
        let name = name.into();
        let ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return shape_err(
                "MemoryKind::new",
                format!(
                    "memory kind {name:?} must be non-empty lower-case ASCII letters, digits or '_'"
                ),
            );
        }
        Ok(MemoryKind(Cow::Owned(name)))
    }

    /// The kind's name (`device`, `pinned_host`, ...).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MemoryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The memory kinds of an entry point's parameters and results; those not named stay in the
/// default memory ([`MemoryKind::DEVICE`]). Also who chooses their on-device layouts
/// ([`LayoutMode`]: the plugin's default unless set to [`LayoutMode::Auto`]).
///
/// ```
/// use hlo_builder::{MemoryKind, Placement};
///
/// // Parameter 0 and result 0 in pinned host memory.
/// let p = Placement::new()
///     .parameter(0, MemoryKind::PINNED_HOST)
///     .result(0, MemoryKind::PINNED_HOST);
/// assert_eq!(p.parameter_kind(0), &MemoryKind::PINNED_HOST);
/// assert_eq!(p.parameter_kind(1), &MemoryKind::DEVICE);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    parameters: Vec<(usize, MemoryKind)>,
    results: Vec<(usize, MemoryKind)>,
    auto_parameters: Vec<usize>,
    auto_results: Vec<usize>,
}

/// Who chooses the on-device layout (dimension order) of an entry point's parameter or
/// result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LayoutMode {
    /// The plugin's default layout (row-major on the CPU plugins).
    #[default]
    Default,
    /// The compiler chooses (`mhlo.layout_mode = "auto"`), e.g. a transposed result stored
    /// column-major so that the transpose costs nothing. Read the chosen layouts back from
    /// the executable (`pjrt::ext::layouts::Layouts::executable_parameter_layouts`,
    /// `executable_output_layouts`); buffers in those layouts run without a relayout.
    /// Checked before compile (`pjrt::Client::check_auto_layouts`).
    Auto,
}

impl Placement {
    /// Everything in the default memory.
    pub fn new() -> Placement {
        Placement::default()
    }

    /// Parameter `index` lives in `kind` (a later call for the same index replaces it).
    pub fn parameter(mut self, index: usize, kind: MemoryKind) -> Placement {
        self.parameters.retain(|(i, _)| *i != index);
        self.parameters.push((index, kind));
        self
    }

    /// Result `index` lives in `kind` (a later call for the same index replaces it).
    pub fn result(mut self, index: usize, kind: MemoryKind) -> Placement {
        self.results.retain(|(i, _)| *i != index);
        self.results.push((index, kind));
        self
    }

    /// The kind of parameter `index` ([`MemoryKind::DEVICE`] unless placed).
    pub fn parameter_kind(&self, index: usize) -> &MemoryKind {
        kind_of(&self.parameters, index)
    }

    /// The kind of result `index` ([`MemoryKind::DEVICE`] unless placed).
    pub fn result_kind(&self, index: usize) -> &MemoryKind {
        kind_of(&self.results, index)
    }

    /// Parameter `index` gets its layout as `mode` says (a later call replaces it).
    pub fn parameter_layout(mut self, index: usize, mode: LayoutMode) -> Placement {
        self.auto_parameters.retain(|i| *i != index);
        if mode == LayoutMode::Auto {
            self.auto_parameters.push(index);
        }
        self
    }

    /// Result `index` gets its layout as `mode` says (a later call replaces it).
    pub fn result_layout(mut self, index: usize, mode: LayoutMode) -> Placement {
        self.auto_results.retain(|i| *i != index);
        if mode == LayoutMode::Auto {
            self.auto_results.push(index);
        }
        self
    }

    /// The layout mode of parameter `index` ([`LayoutMode::Default`] unless set).
    pub fn parameter_layout_mode(&self, index: usize) -> LayoutMode {
        mode_of(&self.auto_parameters, index)
    }

    /// The layout mode of result `index` ([`LayoutMode::Default`] unless set).
    pub fn result_layout_mode(&self, index: usize) -> LayoutMode {
        mode_of(&self.auto_results, index)
    }

    /// Whether any parameter's / any result's layout is compiler-chosen.
    pub(crate) fn auto_layouts(&self) -> (bool, bool) {
        (
            !self.auto_parameters.is_empty(),
            !self.auto_results.is_empty(),
        )
    }

    /// Whether any memory kind is named (layout modes aside).
    pub(crate) fn has_kinds(&self) -> bool {
        !(self.parameters.is_empty() && self.results.is_empty())
    }

    /// The kinds named (parameters first, then results; repeats included).
    pub(crate) fn kinds(&self) -> impl Iterator<Item = &MemoryKind> {
        self.parameters.iter().chain(&self.results).map(|(_, k)| k)
    }

    /// Whether nothing is placed and every layout is the default.
    pub fn is_empty(&self) -> bool {
        !self.has_kinds() && self.auto_parameters.is_empty() && self.auto_results.is_empty()
    }

    /// Every placed index must exist.
    pub(crate) fn check(&self, params: usize, results: usize) -> Result<()> {
        for (what, list, n) in [
            ("parameter", &self.parameters, params),
            ("result", &self.results, results),
        ] {
            if let Some((i, k)) = list.iter().find(|(i, _)| *i >= n) {
                return Err(Error::Lower(format!(
                    "place {what} {i} in `{k}`: out of range (the function has {n} {what}s)"
                )));
            }
        }
        for (what, list, n) in [
            ("parameter", &self.auto_parameters, params),
            ("result", &self.auto_results, results),
        ] {
            if let Some(i) = list.iter().find(|i| **i >= n) {
                return Err(Error::Lower(format!(
                    "auto layout of {what} {i}: out of range (the function has {n} {what}s)"
                )));
            }
        }
        Ok(())
    }
}

fn mode_of(list: &[usize], index: usize) -> LayoutMode {
    if list.contains(&index) {
        LayoutMode::Auto
    } else {
        LayoutMode::Default
    }
}

fn kind_of(list: &[(usize, MemoryKind)], index: usize) -> &MemoryKind {
    list.iter()
        .find(|(i, _)| *i == index)
        .map_or(&MemoryKind::DEVICE, |(_, k)| k)
}
