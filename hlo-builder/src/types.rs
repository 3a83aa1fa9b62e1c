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
