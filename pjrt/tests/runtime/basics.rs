use pjrt::Literal;

use super::common::{client, mlir};

#[test]
fn compile_and_run_add() {
    let exe = client()
        .compile(&mlir(
            r#"func.func @main(%x: tensor<2x2xf32>, %y: tensor<2x2xf32>) -> tensor<2x2xf32> {
                 %0 = stablehlo.add %x, %y : tensor<2x2xf32>
                 return %0 : tensor<2x2xf32>
               }"#,
        ))
        .unwrap();
    let x = Literal::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    let y = Literal::from_slice(&[10.0f32, 20.0, 30.0, 40.0], &[2, 2]).unwrap();
    let out = exe.run(&[&x, &y]).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].dims(), &[2, 2]);
    assert_eq!(
        out[0].to_vec::<f32>().unwrap(),
        vec![11.0, 22.0, 33.0, 44.0]
    );
}
