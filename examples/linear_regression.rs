//! Linear regression end to end: data, a model, a compiled train step with Adam, 400 steps,
//! the fitted weights. The lines between the markers are what `scripts/line_counts.py`
//! counts for the README.

use autodiff::nn::{Linear, ModuleExt};
use autodiff::train::{optim::Adam, HostData, TrainStep};
use hlo_builder::{ElementType::F32, TensorType};
use pjrt::Client;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ---- counted: linear regression
    let x: Vec<f32> = (0..64).map(|i| (i * 37 % 64) as f32 / 32.0 - 1.0).collect();
    let y: Vec<f32> = x.chunks(2).map(|r| 2.0 * r[0] - r[1] + 1.0).collect();
    let mut step = TrainStep::new(&Client::default_cpu()?, Linear::new(2, 1).init_seed(0)?)
        .optimizer(Adam::new(0.05))
        .inputs([TensorType::new(F32, [32, 2]), TensorType::new(F32, [32, 1])])
        .compile(|m, b| m.forward(&b[0])?.mse(&b[1]))?;
    for _ in 0..400 {
        step.step(&[HostData::from(&x), HostData::from(&y)])?;
    }
    let fitted = step.model()?;
    // ---- end
    let w = fitted
        .weight
        .host()
        .expect("a trained model has values")
        .to_vec::<f32>()?;
    let b = fitted
        .bias
        .as_ref()
        .and_then(|b| b.host())
        .expect("a bias")
        .to_vec::<f32>()?;
    println!(
        "y = {:.3} a + {:.3} b + {:.3} (data: y = 2 a - b + 1)",
        w[0], w[1], b[0]
    );
    if (w[0] - 2.0).abs() > 0.05 || (w[1] + 1.0).abs() > 0.05 || (b[0] - 1.0).abs() > 0.05 {
        return Err(format!("the fit missed: {w:?} {b:?}").into());
    }
    Ok(())
}
