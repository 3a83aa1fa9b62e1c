//! ndarray arrays in and out of device buffers on the plugin under test (feature `ndarray`).

use ndarray::{array, s, Array, Array3, Ix2, Ix3, IxDyn, ShapeBuilder};
use pjrt::{ElementType, Error, Literal};

use super::common::{client, compile};

#[test]
fn a_transposed_view_goes_to_the_device_in_logical_order_and_comes_back() {
    let a = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let t = a.t(); // non-contiguous in row-major terms
    let buf = client().buffer_from_ndarray(&t).unwrap();
    assert_eq!(buf.dims().unwrap(), vec![3, 2]);
    assert_eq!(
        buf.to_vec::<f32>().unwrap(),
        vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
    );
    assert_eq!(buf.to_ndarray::<f32, Ix2>().unwrap(), t);

    // Computed on the device: x * 2 + 1, read back as an array.
    let exe = compile(
        r#"func.func @main(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
             %two = stablehlo.constant dense<2.0> : tensor<3x2xf32>
             %one = stablehlo.constant dense<1.0> : tensor<3x2xf32>
             %0 = stablehlo.multiply %x, %two : tensor<3x2xf32>
             %1 = stablehlo.add %0, %one : tensor<3x2xf32>
             return %1 : tensor<3x2xf32>
           }"#,
    );
    let out = exe.execute(&[&buf]).unwrap();
    let got = out[0].to_ndarray::<f32, IxDyn>().unwrap();
    assert_eq!(got, t.mapv(|x| x * 2.0 + 1.0).into_dyn());
}

#[test]
fn column_major_and_stepped_inputs_of_other_types() {
    let f = Array3::from_shape_vec((2, 3, 4).f(), (0..24).map(|x| x as i16).collect()).unwrap();
    let buf = client().buffer_from_ndarray(&f).unwrap();
    assert_eq!(buf.element_type().unwrap(), ElementType::S16);
    assert_eq!(buf.to_ndarray::<i16, Ix3>().unwrap(), f);

    let a = Array::from_shape_vec((5, 4), (0..20u8).collect()).unwrap();
    let v = a.slice(s![..;2, 1..;2]);
    let buf = client().buffer_from_ndarray(&v).unwrap();
    assert_eq!(buf.to_vec::<u8>().unwrap(), vec![1, 3, 9, 11, 17, 19]);
    assert_eq!(
        Literal::from_ndarray(&v).unwrap(),
        buf.to_literal().unwrap()
    );
}

#[test]
fn wrong_type_or_rank_is_an_error_naming_the_function() {
    let buf = client().buffer_from_ndarray(&array![1.0f64, 2.0]).unwrap();
    match buf.to_ndarray::<f32, IxDyn>() {
        Err(Error::ElementTypeMismatch {
            op: "Buffer::to_ndarray",
            expected: ElementType::F32,
            actual: ElementType::F64,
        }) => {}
        other => panic!("expected a type mismatch, got {other:?}"),
    }
    let e = buf.to_ndarray::<f64, Ix2>().unwrap_err().to_string();
    assert!(
        e.starts_with("Buffer::to_ndarray: the data has rank 1"),
        "{e}"
    );
}
