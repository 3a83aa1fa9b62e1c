//! `Literal`: an owned, dense, row-major host array.

use std::fmt;

use crate::error::{Error, Result};
use crate::{ElementType, NativeType};

/// Number of elements of `dims`, checking for negative entries and overflow.
pub(crate) fn element_count(op: &'static str, dims: &[i64]) -> Result<usize> {
    let mut n: usize = 1;
    for &d in dims {
        let d = usize::try_from(d).map_err(|_| Error::InvalidDims {
            op,
            dims: dims.to_vec(),
        })?;
        n = n.checked_mul(d).ok_or_else(|| Error::InvalidDims {
            op,
            dims: dims.to_vec(),
        })?;
    }
    Ok(n)
}

/// Bytes a dense array of `element_type` with `dims` takes on the host.
pub(crate) fn dense_byte_size(
    op: &'static str,
    element_type: ElementType,
    dims: &[i64],
) -> Result<usize> {
    let size = element_type
        .byte_size()
        .ok_or(Error::UnsupportedElementType { op, element_type })?;
    let n = element_count(op, dims)?;
    n.checked_mul(size).ok_or_else(|| Error::InvalidDims {
        op,
        dims: dims.to_vec(),
    })
}

/// Views a slice of plain data as bytes.
pub(crate) fn as_bytes<T: NativeType>(data: &[T]) -> &[u8] {
    // SAFETY: `NativeType` guarantees plain data without padding; the byte view covers the
    // same memory with the same lifetime.
    unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), std::mem::size_of_val(data)) }
}

/// Views a mutable slice of plain data as bytes.
pub(crate) fn as_bytes_mut<T: NativeType>(data: &mut [T]) -> &mut [u8] {
    // SAFETY: as in `as_bytes`; every bit pattern is a valid `T`, so any bytes written are fine.
    unsafe {
        std::slice::from_raw_parts_mut(data.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(data))
    }
}

/// A vector of `n` zeroed elements, or [`Error::HostAllocation`] when the memory cannot be
/// had: for sizes that come from a caller, a buffer or a file, where `vec![0; n]` would abort
/// the process. Fresh zeroed memory comes from `alloc_zeroed` (untouched pages on Linux), as
/// `vec![0; n]` would.
pub(crate) fn zeroed_vec<T: NativeType>(op: &'static str, n: usize) -> Result<Vec<T>> {
    let layout = std::alloc::Layout::array::<T>(n).map_err(|_| Error::HostAllocation {
        op,
        bytes: n.saturating_mul(std::mem::size_of::<T>()),
    })?;
    if layout.size() == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { std::alloc::alloc_zeroed(layout) };
    if p.is_null() {
        return Err(Error::HostAllocation {
            op,
            bytes: layout.size(),
        });
    }
    // SAFETY: `p` was allocated by the global allocator with the layout of `[T; n]` (the
    // alignment of `T`, `n * size_of::<T>()` bytes), so it is a valid `Vec<T>` buffer of
    // capacity `n`; all bytes are zero, which is a valid `T` (NativeType's contract).
    Ok(unsafe { Vec::from_raw_parts(p.cast::<T>(), n, n) })
}

/// A copy of `bytes` in a fresh vector, or [`Error::HostAllocation`].
pub(crate) fn try_copy(op: &'static str, bytes: &[u8]) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(bytes.len())
        .map_err(|_| Error::HostAllocation {
            op,
            bytes: bytes.len(),
        })?;
    v.extend_from_slice(bytes);
    Ok(v)
}

/// Copies bytes into a fresh `Vec<T>` (the byte count must be a multiple of `T`'s size).
pub(crate) fn vec_from_bytes<T: NativeType>(bytes: &[u8]) -> Vec<T> {
    let n = bytes.len() / std::mem::size_of::<T>();
    let mut v: Vec<T> = Vec::with_capacity(n);
    // SAFETY: the destination has capacity for n elements; every bit pattern is a valid `T`
    // (NativeType), and we copy exactly n * size_of::<T>() bytes before setting the length.
    unsafe {
        std::ptr::copy_nonoverlapping(
            bytes.as_ptr(),
            v.as_mut_ptr().cast::<u8>(),
            n * std::mem::size_of::<T>(),
        );
        v.set_len(n);
    }
    v
}

/// An owned dense host array: element type, dims and row-major bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Literal {
    element_type: ElementType,
    dims: Vec<i64>,
    data: Vec<u8>,
}

impl Literal {
    /// A literal from typed data; `data.len()` must equal the product of `dims`.
    pub fn from_slice<T: NativeType>(data: &[T], dims: &[i64]) -> Result<Literal> {
        let n = element_count("Literal::from_slice", dims)?;
        if n != data.len() {
            return Err(Error::HostSizeMismatch {
                op: "Literal::from_slice",
                unit: "elements",
                element_type: T::ELEMENT_TYPE,
                dims: dims.to_vec(),
                expected: n,
                actual: data.len(),
            });
        }
        Ok(Literal {
            element_type: T::ELEMENT_TYPE,
            dims: dims.to_vec(),
            data: try_copy("Literal::from_slice", as_bytes(data))?,
        })
    }

    /// A one-dimensional literal.
    pub fn vector<T: NativeType>(data: &[T]) -> Literal {
        Literal {
            element_type: T::ELEMENT_TYPE,
            dims: vec![data.len() as i64],
            data: as_bytes(data).to_vec(),
        }
    }

    /// A rank-0 literal.
    pub fn scalar<T: NativeType>(x: T) -> Literal {
        Literal {
            element_type: T::ELEMENT_TYPE,
            dims: Vec::new(),
            data: as_bytes(&[x]).to_vec(),
        }
    }

    /// A `pred` literal from booleans.
    pub fn from_bools(data: &[bool], dims: &[i64]) -> Result<Literal> {
        let bytes: Vec<u8> = data.iter().map(|&b| u8::from(b)).collect();
        Literal::from_bytes(ElementType::Pred, dims, bytes)
    }

    /// A literal from raw row-major bytes of any type with a dense host form (e.g. f8 types).
    pub fn from_bytes(element_type: ElementType, dims: &[i64], data: Vec<u8>) -> Result<Literal> {
        let expected = dense_byte_size("Literal::from_bytes", element_type, dims)?;
        if expected != data.len() {
            return Err(Error::HostSizeMismatch {
                op: "Literal::from_bytes",
                unit: "bytes",
                element_type,
                dims: dims.to_vec(),
                expected,
                actual: data.len(),
            });
        }
        Ok(Literal {
            element_type,
            dims: dims.to_vec(),
            data,
        })
    }

    /// A literal of zeros.
    pub fn zeros(element_type: ElementType, dims: &[i64]) -> Result<Literal> {
        let n = dense_byte_size("Literal::zeros", element_type, dims)?;
        Ok(Literal {
            element_type,
            dims: dims.to_vec(),
            data: zeroed_vec("Literal::zeros", n)?,
        })
    }

    /// The element type.
    pub fn element_type(&self) -> ElementType {
        self.element_type
    }

    /// The dims.
    pub fn dims(&self) -> &[i64] {
        &self.dims
    }

    /// Number of elements.
    pub fn element_count(&self) -> usize {
        self.data.len() / self.element_type.byte_size().unwrap_or(1).max(1)
    }

    /// The raw row-major bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// Takes the raw bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.data
    }

    /// The same data with other dims (same element count).
    pub fn reshape(mut self, dims: &[i64]) -> Result<Literal> {
        let n = element_count("Literal::reshape", dims)?;
        if n != self.element_count() {
            return Err(Error::HostSizeMismatch {
                op: "Literal::reshape",
                unit: "elements",
                element_type: self.element_type,
                dims: dims.to_vec(),
                expected: n,
                actual: self.element_count(),
            });
        }
        self.dims = dims.to_vec();
        Ok(self)
    }

    fn check_type<T: NativeType>(&self, op: &'static str) -> Result<()> {
        if T::ELEMENT_TYPE != self.element_type {
            return Err(Error::ElementTypeMismatch {
                op,
                expected: T::ELEMENT_TYPE,
                actual: self.element_type,
            });
        }
        Ok(())
    }

    /// The elements as a `Vec<T>`; `T` must match the element type.
    pub fn to_vec<T: NativeType>(&self) -> Result<Vec<T>> {
        self.check_type::<T>("Literal::to_vec")?;
        let n = self.data.len() / std::mem::size_of::<T>();
        let mut v: Vec<T> = zeroed_vec("Literal::to_vec", n)?;
        as_bytes_mut(&mut v).copy_from_slice(&self.data[..n * std::mem::size_of::<T>()]);
        Ok(v)
    }

    /// The single element of a literal with one element.
    pub fn to_scalar<T: NativeType>(&self) -> Result<T> {
        self.check_type::<T>("Literal::to_scalar")?;
        let n = self.data.len() / std::mem::size_of::<T>();
        if n != 1 {
            return Err(Error::HostSizeMismatch {
                op: "Literal::to_scalar",
                unit: "elements",
                element_type: self.element_type,
                dims: self.dims.clone(),
                expected: 1,
                actual: n,
            });
        }
        let v: Vec<T> = vec_from_bytes(&self.data);
        match v.as_slice() {
            [x] => Ok(*x),
            _ => Err(Error::HostSizeMismatch {
                op: "Literal::to_scalar",
                unit: "elements",
                element_type: self.element_type,
                dims: self.dims.clone(),
                expected: 1,
                actual: v.len(),
            }),
        }
    }

    /// The elements of a `pred` literal.
    pub fn to_bools(&self) -> Result<Vec<bool>> {
        if self.element_type != ElementType::Pred {
            return Err(Error::ElementTypeMismatch {
                op: "Literal::to_bools",
                expected: ElementType::Pred,
                actual: self.element_type,
            });
        }
        Ok(self.data.iter().map(|&b| b != 0).collect())
    }
}

impl fmt::Debug for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Literal({}{}",
            self.element_type,
            crate::error::dims_str(&self.dims)
        )?;
        macro_rules! show {
            ($t:ty) => {{
                // Only the first 16 elements are shown: copy no more than those.
                let size = std::mem::size_of::<$t>();
                let shown_bytes = self.data.len().min(16 * size);
                let v: Vec<$t> = vec_from_bytes(&self.data[..shown_bytes]);
                let shown: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
                write!(
                    f,
                    " {}{})",
                    shown.join(", "),
                    if self.data.len() > shown_bytes {
                        ", ..."
                    } else {
                        ""
                    }
                )
            }};
        }
        match self.element_type {
            ElementType::Pred => {
                let shown: Vec<&str> = self
                    .data
                    .iter()
                    .take(16)
                    .map(|&b| if b != 0 { "true" } else { "false" })
                    .collect();
                write!(
                    f,
                    " {}{})",
                    shown.join(", "),
                    if self.data.len() > 16 { ", ..." } else { "" }
                )
            }
            ElementType::S8 => show!(i8),
            ElementType::S16 => show!(i16),
            ElementType::S32 => show!(i32),
            ElementType::S64 => show!(i64),
            ElementType::U8 => show!(u8),
            ElementType::U16 => show!(u16),
            ElementType::U32 => show!(u32),
            ElementType::U64 => show!(u64),
            ElementType::F16 => show!(half::f16),
            ElementType::BF16 => show!(half::bf16),
            ElementType::F32 => show!(f32),
            ElementType::F64 => show!(f64),
            ElementType::C64 => show!([f32; 2]),
            ElementType::C128 => show!([f64; 2]),
            _ => write!(f, " {} bytes)", self.data.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_slice_checks_length() {
        let l = Literal::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
        assert_eq!(l.dims(), &[2, 3]);
        assert_eq!(
            l.to_vec::<f32>().unwrap(),
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
        let e = Literal::from_slice(&[1.0f32; 5], &[2, 3]).unwrap_err();
        assert!(
            matches!(
                e,
                Error::HostSizeMismatch {
                    expected: 6,
                    actual: 5,
                    ..
                }
            ),
            "{e}"
        );
        assert!(matches!(
            l.to_vec::<i32>(),
            Err(Error::ElementTypeMismatch { .. })
        ));
        assert!(matches!(
            Literal::from_slice(&[1i32], &[-1]),
            Err(Error::InvalidDims { .. })
        ));
    }

    #[test]
    fn scalars_and_bools() {
        assert_eq!(Literal::scalar(7i64).to_scalar::<i64>().unwrap(), 7);
        assert!(Literal::vector(&[1u8, 2]).to_scalar::<u8>().is_err());
        let b = Literal::from_bools(&[true, false], &[2]).unwrap();
        assert_eq!(b.to_bools().unwrap(), vec![true, false]);
        assert_eq!(b.element_type(), ElementType::Pred);
        assert_eq!(format!("{b:?}"), "Literal(pred[2] true, false)");
        let h = Literal::vector(&[half::f16::from_f32(1.5)]);
        assert_eq!(format!("{h:?}"), "Literal(f16[1] 1.5)");
    }
}
