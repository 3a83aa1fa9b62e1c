//! Value types: an element type and static dimensions.

use std::fmt;

use smallvec::SmallVec;

pub use pjrt::ElementType;

/// Dimensions of a tensor (static sizes, row-major).
pub type Dims = SmallVec<[i64; 4]>;

/// The type of a tensor value in the graph: element type and static dimensions.
///
/// Displays like XLA shapes: `f32[64,128]`, `pred[]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TensorType {
    pub ty: ElementType,
    pub dims: Dims,
}

impl TensorType {
    /// A tensor type from an element type and dimensions (not validated here; the builder
    /// checks dimensions when an op is recorded).
    pub fn new(ty: ElementType, dims: impl AsRef<[i64]>) -> TensorType {
        TensorType {
            ty,
            dims: SmallVec::from_slice(dims.as_ref()),
        }
    }

    /// A rank-0 tensor type.
    pub fn scalar(ty: ElementType) -> TensorType {
        TensorType {
            ty,
            dims: SmallVec::new(),
        }
    }

    pub fn rank(&self) -> usize {
        self.dims.len()
    }

    /// Number of elements (1 for a scalar). Dimensions are validated when a type enters a
    /// graph, so this cannot overflow for types taken from a builder.
    pub fn element_count(&self) -> i64 {
        self.dims.iter().fold(1i64, |a, &d| a.saturating_mul(d))
    }

    /// The same dimensions with another element type.
    pub fn with_type(&self, ty: ElementType) -> TensorType {
        TensorType {
            ty,
            dims: self.dims.clone(),
        }
    }

    /// The MLIR spelling, e.g. `tensor<64x128xf32>`.
    pub fn mlir(&self) -> String {
        let mut s = String::from("tensor<");
        for d in &self.dims {
            s.push_str(&d.to_string());
            s.push('x');
        }
        s.push_str(self.ty.mlir_name());
        s.push('>');
        s
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[", self.ty)?;
        for (i, d) in self.dims.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

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
pub struct MemoryKind(std::borrow::Cow<'static, str>);

impl MemoryKind {
    /// The device's own memory (the default of every value).
    pub const DEVICE: MemoryKind = MemoryKind(std::borrow::Cow::Borrowed("device"));
    /// Page-locked host memory the device can reach directly (JAX's `pinned_host`).
    pub const PINNED_HOST: MemoryKind = MemoryKind(std::borrow::Cow::Borrowed("pinned_host"));
    /// Ordinary host memory.
    pub const UNPINNED_HOST: MemoryKind = MemoryKind(std::borrow::Cow::Borrowed("unpinned_host"));

    /// A kind by name: non-empty ASCII lower-case letters, digits and `_` (the form the
    /// plugins use); anything else is an error naming the text.
    pub fn new(name: impl Into<String>) -> crate::Result<MemoryKind> {
        let name = name.into();
        let ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return crate::error::shape_err(
                "MemoryKind::new",
                format!(
                    "memory kind {name:?} must be non-empty lower-case ASCII letters, digits or '_'"
                ),
            );
        }
        Ok(MemoryKind(std::borrow::Cow::Owned(name)))
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
