//! Compiles a hand-written StableHLO module and runs it: a small dense layer with a
//! reduction, `y = relu(x · w + b)` and the sum of each row of `y`.
//!
//! `cargo run --example run_stablehlo` (the plugin: `$PJRT_PLUGIN`, else the set-up's default).

use pjrt::{Client, Literal, Program};

const MODULE: &str = r#"
module @dense_relu_rowsum {
  func.func @main(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>)
      -> (tensor<2x4xf32>, tensor<2xf32>) {
    %xw = stablehlo.dot_general %x, %w, contracting_dims = [1] x [0]
        : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
    %bb = stablehlo.broadcast_in_dim %b, dims = [1] : (tensor<4xf32>) -> tensor<2x4xf32>
    %z = stablehlo.add %xw, %bb : tensor<2x4xf32>
    %zero = stablehlo.constant dense<0.0> : tensor<2x4xf32>
    %y = stablehlo.maximum %z, %zero : tensor<2x4xf32>
    %init = stablehlo.constant dense<0.0> : tensor<f32>
    %rows = stablehlo.reduce(%y init: %init) applies stablehlo.add across dimensions = [1]
        : (tensor<2x4xf32>, tensor<f32>) -> tensor<2xf32>
    return %y, %rows : tensor<2x4xf32>, tensor<2xf32>
  }
}
"#;

fn main() -> pjrt::Result<()> {
    let client = Client::default_cpu()?;
    println!(
        "plugin {} (PJRT API {})",
        client.plugin().path().display(),
        client.plugin().api_version()
    );
    println!("{MODULE}");

    let exe = client.compile(&Program::mlir_text(MODULE))?;
    println!(
        "compiled `{}`: {} outputs, {} bytes of code",
        exe.name()?,
        exe.num_outputs()?,
        exe.code_size()?
    );

    let x = Literal::from_slice(&[1.0f32, 2.0, 3.0, -1.0, 0.5, 2.0], &[2, 3])?;
    let w = Literal::from_slice(
        &[
            0.1f32, -0.2, 0.3, 1.0, 0.4, 0.5, -0.6, -1.0, 0.7, 0.8, 0.9, 0.5,
        ],
        &[3, 4],
    )?;
    let b = Literal::from_slice(&[0.0f32, 0.1, -5.0, 0.2], &[4])?;
    println!("x = {x:?}\nw = {w:?}\nb = {b:?}");

    let out = exe.run(&[&x, &w, &b])?;
    println!("y = relu(x·w + b) = {:?}", out[0]);
    println!("row sums of y     = {:?}", out[1]);

    // The same arithmetic on the host, to show the numbers agree.
    let (xv, wv, bv) = (x.to_vec::<f32>()?, w.to_vec::<f32>()?, b.to_vec::<f32>()?);
    let y = out[0].to_vec::<f32>()?;
    for i in 0..2 {
        for j in 0..4 {
            let z: f32 = (0..3).map(|k| xv[i * 3 + k] * wv[k * 4 + j]).sum::<f32>() + bv[j];
            let expect = z.max(0.0);
            if (y[i * 4 + j] - expect).abs() > 1e-5 {
                return Err(pjrt::Error::InvalidArgument(format!(
                    "y[{i},{j}] = {} but the host computes {expect}",
                    y[i * 4 + j]
                )));
            }
        }
    }
    println!("host check: ok");
    Ok(())
}
