//! Conversions between [`ndarray`] arrays and [`Literal`]s / [`Buffer`]s (cargo feature
//! `ndarray`).
//!
//! Into PJRT: any array or view of a [`NativeType`] — row-major, column-major or strided (a
//! slice with steps, a transposed view) — is copied in its logical row-major order, the order
//! of the dims PJRT gets. Out of PJRT: an owned row-major [`Array`] of the dimension type you
//! ask for (`IxDyn`, or a fixed one such as `Ix2`, which must match the rank). Element types
//! and ranks are checked; errors name the function.
//!
//! ```
//! # fn main() -> pjrt::Result<()> {
//! use ndarray::{array, Ix2};
//! let a = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
//! let lit = pjrt::Literal::from_ndarray(&a.t())?; // a transposed view: dims [3, 2]
//! assert_eq!(lit.dims(), &[3, 2]);
//! assert_eq!(lit.to_vec::<f32>()?, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
//! let back = lit.to_ndarray::<f32, Ix2>()?;
//! assert_eq!(back, a.t());
//! # Ok(())
//! # }
//! ```

use std::borrow::Cow;

use ndarray::{Array, ArrayBase, Data, Dimension, IxDyn};

use crate::error::{Error, Result};
use crate::{Buffer, Client, ElementType, Literal, NativeType};

/// The array's elements in logical row-major order, borrowed when its memory already is.
fn row_major<T: NativeType, S: Data<Elem = T>, D: Dimension>(a: &ArrayBase<S, D>) -> Cow<'_, [T]> {
    match a.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.iter().copied().collect()),
    }
}

/// The array's dims as PJRT dims.
fn dims_of<T, S: Data<Elem = T>, D: Dimension>(
    op: &'static str,
    a: &ArrayBase<S, D>,
) -> Result<Vec<i64>> {
    a.shape()
        .iter()
        .map(|&d| i64::try_from(d))
        .collect::<std::result::Result<Vec<i64>, _>>()
        .map_err(|_| Error::InvalidArgument(format!("{op}: dims {:?} do not fit i64", a.shape())))
}

/// Checks the element type, then builds an array of dimension `D` from row-major data.
fn build<T: NativeType, D: Dimension>(
    op: &'static str,
    actual: ElementType,
    dims: &[i64],
    data: impl FnOnce() -> Result<Vec<T>>,
) -> Result<Array<T, D>> {
    if actual != T::ELEMENT_TYPE {
        return Err(Error::ElementTypeMismatch {
            op,
            expected: T::ELEMENT_TYPE,
            actual,
        });
    }
    if let Some(n) = D::NDIM {
        if n != dims.len() {
            return Err(Error::InvalidArgument(format!(
                "{op}: the data has rank {} (dims {dims:?}), the array type has rank {n}",
                dims.len()
            )));
        }
    }
    let shape = dims
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<std::result::Result<Vec<usize>, _>>()
        .map_err(|_| Error::InvalidDims {
            op,
            dims: dims.to_vec(),
        })?;
    let a = Array::from_shape_vec(IxDyn(&shape), data()?)
        .map_err(|e| Error::InvalidArgument(format!("{op}: dims {dims:?}: {e}")))?;
    a.into_dimensionality::<D>()
        .map_err(|e| Error::InvalidArgument(format!("{op}: dims {dims:?}: {e}")))
}

impl Literal {
    /// A literal holding a copy of `array` (any memory order or strides; see the
    /// [module documentation](crate::ndarray)).
    pub fn from_ndarray<T: NativeType, S: Data<Elem = T>, D: Dimension>(
        array: &ArrayBase<S, D>,
    ) -> Result<Literal> {
        let dims = dims_of("Literal::from_ndarray", array)?;
        Literal::from_slice(&row_major(array), &dims)
    }

    /// The literal as an owned row-major array of dimension `D` (`IxDyn` for any rank).
    ///
    /// Errors: the element type is not `T`'s, or `D` has another rank.
    pub fn to_ndarray<T: NativeType, D: Dimension>(&self) -> Result<Array<T, D>> {
        build(
            "Literal::to_ndarray",
            self.element_type(),
            self.dims(),
            || self.to_vec::<T>(),
        )
    }
}

impl Client {
    /// Copies `array` (any memory order or strides) into a new buffer on the first
    /// addressable device.
    pub fn buffer_from_ndarray<T: NativeType, S: Data<Elem = T>, D: Dimension>(
        &self,
        array: &ArrayBase<S, D>,
    ) -> Result<Buffer> {
        let dims = dims_of("Client::buffer_from_ndarray", array)?;
        self.buffer_from_host(&row_major(array), &dims)
    }
}

impl Buffer {
    /// Copies the buffer to the host as an owned row-major array of dimension `D` (`IxDyn`
    /// for any rank). Waits for the transfer.
    ///
    /// Errors: the element type is not `T`'s, or `D` has another rank.
    pub fn to_ndarray<T: NativeType, D: Dimension>(&self) -> Result<Array<T, D>> {
        let dims = self.dims()?;
        build("Buffer::to_ndarray", self.element_type()?, &dims, || {
            self.to_vec::<T>()
        })
    }
}

// Test code: `unwrap` and `panic!` here are the assertions; none of it is in the library.
#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, s, Array3, Ix1, Ix2, Ix3, ShapeBuilder};

    #[test]
    fn row_major_arrays_round_trip_for_several_types() {
        let a = array![[1i32, -2, 3], [4, 5, -6]];
        let lit = Literal::from_ndarray(&a).unwrap();
        assert_eq!(lit.element_type(), ElementType::S32);
        assert_eq!(lit.dims(), &[2, 3]);
        assert_eq!(lit.to_vec::<i32>().unwrap(), vec![1, -2, 3, 4, 5, -6]);
        assert_eq!(lit.to_ndarray::<i32, Ix2>().unwrap(), a);
        assert_eq!(
            lit.to_ndarray::<i32, IxDyn>().unwrap(),
            a.clone().into_dyn()
        );

        let h = array![half::bf16::from_f32(1.5), half::bf16::from_f32(-2.0)];
        let lit = Literal::from_ndarray(&h).unwrap();
        assert_eq!(lit.element_type(), ElementType::BF16);
        assert_eq!(lit.to_ndarray::<half::bf16, Ix1>().unwrap(), h);

        let c = array![[1.0f64, 2.0], [3.0, 4.0]].mapv(|x| [x, -x]);
        let lit = Literal::from_ndarray(&c).unwrap();
        assert_eq!(lit.element_type(), ElementType::C128);
        assert_eq!(lit.to_ndarray::<[f64; 2], Ix2>().unwrap(), c);

        // Rank 0.
        let z = ndarray::arr0(7u64);
        let lit = Literal::from_ndarray(&z).unwrap();
        assert_eq!(lit.dims(), &[] as &[i64]);
        assert_eq!(lit.to_scalar::<u64>().unwrap(), 7);
    }

    #[test]
    fn column_major_and_strided_inputs_are_copied_in_logical_order() {
        // Column-major memory: the logical (row-major) order differs from memory order.
        let f = Array3::from_shape_vec((2, 3, 4).f(), (0..24).map(|x| x as f32).collect()).unwrap();
        assert!(f.as_slice().is_none());
        let lit = Literal::from_ndarray(&f).unwrap();
        assert_eq!(lit.dims(), &[2, 3, 4]);
        let want: Vec<f32> = f.iter().copied().collect();
        assert_eq!(lit.to_vec::<f32>().unwrap(), want);
        assert_eq!(lit.to_ndarray::<f32, Ix3>().unwrap(), f);

        // A stepped, reversed slice of a row-major array.
        let a = Array::from_shape_vec((4, 6), (0..24).map(|x| x as i64).collect()).unwrap();
        let v = a.slice(s![1..;2, ..;-3]);
        assert_eq!(v.shape(), &[2, 2]);
        let lit = Literal::from_ndarray(&v).unwrap();
        assert_eq!(lit.to_vec::<i64>().unwrap(), vec![11, 8, 23, 20]);
        assert_eq!(lit.to_ndarray::<i64, Ix2>().unwrap(), v);
    }

    #[test]
    fn wrong_type_or_rank_is_an_error_naming_the_function() {
        let lit = Literal::from_ndarray(&array![[1.0f32, 2.0]]).unwrap();
        let e = lit.to_ndarray::<f64, Ix2>().unwrap_err();
        assert!(
            matches!(
                e,
                Error::ElementTypeMismatch {
                    op: "Literal::to_ndarray",
                    expected: ElementType::F64,
                    actual: ElementType::F32
                }
            ),
            "{e}"
        );
        let e = lit.to_ndarray::<f32, Ix3>().unwrap_err().to_string();
        assert!(
            e.contains("Literal::to_ndarray") && e.contains("rank 2") && e.contains("rank 3"),
            "{e}"
        );
    }
}
