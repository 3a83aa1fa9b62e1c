//! Creates a client, compiles, executes and destroys everything, many times over: the program
//! `make valgrind` runs under valgrind's leak checker (see README, "Checking for leaks").
//!
//! `cargo run --example lifecycle_loop -- [ITERATIONS]` (default 3).

use pjrt::{Client, ClientOptions, Literal, Plugin, Program};

const MODULE: &str = r#"
func.func @main(%x: tensor<4xf32>, %w: tensor<4x4xf32>) -> (tensor<4xf32>, tensor<f32>) {
  %0 = stablehlo.dot_general %w, %x, contracting_dims = [1] x [0] : (tensor<4x4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = stablehlo.add %0, %x : tensor<4xf32>
  %zero = stablehlo.constant dense<0.0> : tensor<f32>
  %2 = stablehlo.reduce(%1 init: %zero) applies stablehlo.add across dimensions = [0] : (tensor<4xf32>, tensor<f32>) -> tensor<f32>
  return %1, %2 : tensor<4xf32>, tensor<f32>
}
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let iterations: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 3,
    };
    let plugin = Plugin::load_default()?;
    println!(
        "plugin {} (API {})",
        plugin.path().display(),
        plugin.api_version()
    );
    let x = Literal::vector(&[1.0f32, 2.0, 3.0, 4.0]);
    // w = identity, so w.x + x = 2x and the sum is 20.
    let mut eye = vec![0.0f32; 16];
    for i in 0..4 {
        eye[i * 5] = 1.0;
    }
    let w = Literal::from_slice(&eye, &[4, 4])?;
    for i in 0..iterations {
        let client = Client::new(&plugin, &ClientOptions::new().cpu_device_count(1))?;
        let exe = client.compile(&Program::mlir_text(MODULE))?;
        let outs = exe.run(&[&x, &w])?;
        let y = outs[0].to_vec::<f32>()?;
        let s = outs[1].to_scalar::<f32>()?;
        if y != [2.0, 4.0, 6.0, 8.0] || s != 20.0 {
            return Err(format!("iteration {i}: wrong result {y:?} / {s}").into());
        }
        let buf = client.buffer_from_literal(&x)?;
        let back = buf.to_literal()?;
        if back.to_vec::<f32>()? != [1.0, 2.0, 3.0, 4.0] {
            return Err(format!("iteration {i}: transfer round trip differs").into());
        }
        drop((buf, outs, exe, client));
    }
    println!("{iterations} create/compile/execute/destroy iterations: results correct");
    Ok(())
}
