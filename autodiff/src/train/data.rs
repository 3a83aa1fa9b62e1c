//! Host data for a step or a bound function's inputs, checked against the declared input
//! types before anything reaches the device.

use hlo_builder::{ElementType, TensorType};
use pjrt::{Buffer, Client, Literal};

use super::error::TrainError;

/// A host slice handed to a step (no copy until the transfer to the device).
#[derive(Clone, Copy, Debug)]
pub enum HostData<'a> {
    /// `f32` elements.
    F32(&'a [f32]),
    /// `f64` elements.
    F64(&'a [f64]),
    /// `s32` elements (class labels, token ids).
    S32(&'a [i32]),
    /// `s64` elements.
    S64(&'a [i64]),
    /// `u32` elements.
    U32(&'a [u32]),
    /// `u8` elements (pixels, bytes).
    U8(&'a [u8]),
    /// Any host array (its dimensions are checked too).
    Literal(&'a Literal),
}

impl HostData<'_> {
    /// The element type of the data.
    pub fn element_type(&self) -> ElementType {
        match self {
            HostData::F32(_) => ElementType::F32,
            HostData::F64(_) => ElementType::F64,
            HostData::S32(_) => ElementType::S32,
            HostData::S64(_) => ElementType::S64,
            HostData::U32(_) => ElementType::U32,
            HostData::U8(_) => ElementType::U8,
            HostData::Literal(l) => l.element_type(),
        }
    }
    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            HostData::F32(d) => d.len(),
            HostData::F64(d) => d.len(),
            HostData::S32(d) => d.len(),
            HostData::S64(d) => d.len(),
            HostData::U32(d) => d.len(),
            HostData::U8(d) => d.len(),
            HostData::Literal(l) => l.element_count(),
        }
    }
    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies the data to a device buffer of dimensions `dims`.
    pub fn to_buffer(self, client: &Client, dims: &[i64]) -> pjrt::Result<Buffer> {
        match self {
            HostData::F32(d) => client.buffer_from_host(d, dims),
            HostData::F64(d) => client.buffer_from_host(d, dims),
            HostData::S32(d) => client.buffer_from_host(d, dims),
            HostData::S64(d) => client.buffer_from_host(d, dims),
            HostData::U32(d) => client.buffer_from_host(d, dims),
            HostData::U8(d) => client.buffer_from_host(d, dims),
            HostData::Literal(l) => client.buffer_from_literal(l),
        }
    }
}

macro_rules! host_from {
    ($($t:ty => $v:ident),*) => {$(
        impl<'a> From<&'a [$t]> for HostData<'a> {
            fn from(d: &'a [$t]) -> Self { HostData::$v(d) }
        }
        impl<'a> From<&'a Vec<$t>> for HostData<'a> {
            fn from(d: &'a Vec<$t>) -> Self { HostData::$v(d.as_slice()) }
        }
    )*};
}
host_from!(f32 => F32, f64 => F64, i32 => S32, i64 => S64, u32 => U32, u8 => U8);

#[cfg(feature = "ndarray")]
macro_rules! host_from_ndarray {
    ($($t:ty => $v:ident),*) => {$(
        impl<'a, D: ndarray::Dimension> TryFrom<ndarray::ArrayView<'a, $t, D>> for HostData<'a> {
            type Error = TrainError;
            /// Standard-layout (row-major, contiguous) views only.
            fn try_from(a: ndarray::ArrayView<'a, $t, D>) -> Result<Self, TrainError> {
                let shape = a.shape().to_vec();
                a.to_slice().map(HostData::$v).ok_or_else(|| TrainError::Spec {
                    name: "ndarray input".into(),
                    message: format!("array of shape {shape:?} is not contiguous in row-major order; use .as_standard_layout()"),
                })
            }
        }
    )*};
}
#[cfg(feature = "ndarray")]
host_from_ndarray!(f32 => F32, f64 => F64, i32 => S32, i64 => S64, u32 => U32, u8 => U8);

impl<'a> From<&'a Literal> for HostData<'a> {
    fn from(l: &'a Literal) -> Self {
        HostData::Literal(l)
    }
}

/// Copies `inputs` to buffers on `client`, each checked against its declared type
/// (`declared[i]`, named `names[i]` in errors); `what` names the step or function.
pub(crate) fn upload(
    what: &str,
    client: &Client,
    inputs: &[HostData<'_>],
    declared: &[TensorType],
) -> Result<Vec<Buffer>, TrainError> {
    check_host(what, inputs, declared)?;
    let mut bufs = Vec::with_capacity(inputs.len());
    for (d, t) in inputs.iter().zip(declared) {
        bufs.push(d.to_buffer(client, &t.dims)?);
    }
    Ok(bufs)
}

/// Host inputs as literals of the declared types (checked as [`upload`] checks them).
pub(crate) fn host_literals(
    what: &str,
    inputs: &[HostData<'_>],
    declared: &[TensorType],
) -> Result<Vec<Literal>, TrainError> {
    check_host(what, inputs, declared)?;
    let mut out = Vec::with_capacity(inputs.len());
    for (d, t) in inputs.iter().zip(declared) {
        out.push(match d {
            HostData::F32(v) => Literal::from_slice(v, &t.dims)?,
            HostData::F64(v) => Literal::from_slice(v, &t.dims)?,
            HostData::S32(v) => Literal::from_slice(v, &t.dims)?,
            HostData::S64(v) => Literal::from_slice(v, &t.dims)?,
            HostData::U32(v) => Literal::from_slice(v, &t.dims)?,
            HostData::U8(v) => Literal::from_slice(v, &t.dims)?,
            HostData::Literal(l) => (*l).clone(),
        });
    }
    Ok(out)
}

/// The checks of [`upload`]: count, element types, sizes, dimensions.
fn check_host(
    what: &str,
    inputs: &[HostData<'_>],
    declared: &[TensorType],
) -> Result<(), TrainError> {
    if inputs.len() != declared.len() {
        return Err(TrainError::Spec {
            name: what.to_string(),
            message: format!("{} inputs declared, {} given", declared.len(), inputs.len()),
        });
    }
    for (i, (d, t)) in inputs.iter().zip(declared).enumerate() {
        let input = format!("input {i}: {t}");
        if d.element_type() != t.ty {
            return Err(TrainError::InputType {
                name: what.to_string(),
                index: i,
                input,
                found: d.element_type(),
            });
        }
        let expected = t.element_count() as usize;
        if d.len() != expected {
            return Err(TrainError::InputSize {
                name: what.to_string(),
                index: i,
                input,
                expected,
                found: d.len(),
            });
        }
        if let HostData::Literal(l) = d {
            if l.dims() != t.dims.as_slice() {
                return Err(TrainError::Spec {
                    name: what.to_string(),
                    message: format!(
                        "input {i} is {}{:?}, declared {t}",
                        l.element_type(),
                        l.dims()
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Checks device inputs before they are used: of `client`, of the declared types, and
/// ready without an error (a buffer carrying an error would turn every output, and so a
/// train step's whole state, into errors).
pub(crate) fn check_buffers(
    what: &str,
    inputs: &[&Buffer],
    declared: &[TensorType],
) -> Result<(), TrainError> {
    if inputs.len() != declared.len() {
        return Err(TrainError::Spec {
            name: what.to_string(),
            message: format!("{} inputs declared, {} given", declared.len(), inputs.len()),
        });
    }
    for (i, (b, t)) in inputs.iter().zip(declared).enumerate() {
        let (et, dims) = (b.element_type()?, b.dims()?);
        if et != t.ty || dims.as_slice() != t.dims.as_slice() {
            return Err(TrainError::Spec {
                name: what.to_string(),
                message: format!("input {i} is {et}{dims:?}, declared {t}"),
            });
        }
        if let Err(e) = b.ready_event().and_then(|ev| ev.wait()) {
            return Err(TrainError::Spec {
                name: what.to_string(),
                message: format!("input {i} carries an error and was not used: {e}"),
            });
        }
    }
    Ok(())
}

// Test code: `unwrap` and `panic!` here are the assertions; a failure fails the test, and
// none of it is compiled into the library.
#[cfg(all(test, feature = "ndarray"))]
mod ndarray_tests {
    use super::*;
    use hlo_builder::ElementType;

    #[test]
    fn contiguous_arrays_become_host_slices_and_strided_views_are_refused() {
        let a = ndarray::Array2::<f32>::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f32);
        let h = HostData::try_from(a.view()).unwrap();
        assert_eq!((h.len(), h.element_type()), (6, ElementType::F32));
        match h {
            HostData::F32(d) => assert_eq!(d, &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]),
            other => panic!("{other:?}"),
        }
        let labels = ndarray::Array1::<i32>::from(vec![1, 2]);
        assert_eq!(
            HostData::try_from(labels.view()).unwrap().element_type(),
            ElementType::S32
        );
        let e = HostData::try_from(a.t()).unwrap_err().to_string();
        assert!(e.contains("[3, 2]") && e.contains("row-major"), "{e}");
    }
}
