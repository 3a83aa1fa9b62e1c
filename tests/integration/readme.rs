//! The README's "A taste" snippet, run for real: build an MLP layer, differentiate the mean
//! activation, compile, run from host data, and check every number against the host.

use hlo_builder::{Builder, ElementType::F32};
use pjrt::Literal;

#[test]
fn readme_taste_runs_and_its_gradients_are_right() -> Result<(), Box<dyn std::error::Error>> {
    let client = pjrt::Client::default_cpu()?;

    let mut b = Builder::new("mlp");
    let x = b.parameter("x", F32, [64, 64])?;
    let w1 = b.parameter("w1", F32, [64, 128])?;
    let b1 = b.parameter("b1", F32, [128])?;
    let h = b.matmul(x, w1)?;
    let h = b.add(h, b1)?;
    let h = b.relu(h)?;
    let loss = b.mean(h)?;
    let g = autodiff::grad(&mut b, loss, &[w1, b1])?;

    let module = b.build(&[loss, g[0], g[1]])?;
    assert!(module.to_text().contains("stablehlo.dot_general"));
    let exe = module.compile(&client)?;

    // Small exact values: x[i][k] = ((i + k) % 5 - 2) / 4, w[k][j] = ((k * j) % 7 - 3) / 8,
    // b[j] = (j % 3 - 1) / 2 + 1/64.
    let xs: Vec<f32> = (0..64 * 64)
        .map(|n| ((n / 64 + n % 64) % 5) as f32 / 4.0 - 0.5)
        .collect();
    let ws: Vec<f32> = (0..64 * 128)
        .map(|n| ((n / 128 * (n % 128)) % 7) as f32 / 8.0 - 0.375)
        .collect();
    // The 1/64 keeps every pre-activation off 0 (they are multiples of 1/32 otherwise), where
    // relu has no derivative.
    let bs: Vec<f32> = (0..128)
        .map(|j| (j % 3) as f32 / 2.0 - 0.5 + 1.0 / 64.0)
        .collect();
    let outs = exe.run(&[
        &Literal::from_slice(&xs, &[64, 64])?,
        &Literal::from_slice(&ws, &[64, 128])?,
        &Literal::from_slice(&bs, &[128])?,
    ])?;

    // Host reference: pre[i][j] = sum_k x[i][k] w[k][j] + b[j]; loss = mean(relu(pre));
    // d loss / d b[j] = #{i: pre[i][j] > 0} / (64 * 128);
    // d loss / d w[k][j] = sum_{i: pre[i][j] > 0} x[i][k] / (64 * 128).
    let n = (64 * 128) as f64;
    let mut loss_ref = 0.0f64;
    let mut gb = vec![0.0f64; 128];
    let mut gw = vec![0.0f64; 64 * 128];
    for i in 0..64 {
        for j in 0..128 {
            let pre: f64 = (0..64)
                .map(|k| xs[i * 64 + k] as f64 * ws[k * 128 + j] as f64)
                .sum::<f64>()
                + bs[j] as f64;
            if pre > 0.0 {
                loss_ref += pre / n;
                gb[j] += 1.0 / n;
                for k in 0..64 {
                    gw[k * 128 + j] += xs[i * 64 + k] as f64 / n;
                }
            }
        }
    }
    let close = |a: f32, b: f64| (a as f64 - b).abs() <= 1e-5 * (1.0 + b.abs());
    let l = outs[0].to_scalar::<f32>()?;
    assert!(close(l, loss_ref), "loss {l} vs {loss_ref}");
    for (a, b) in outs[1].to_vec::<f32>()?.iter().zip(&gw) {
        assert!(close(*a, *b), "dw: {a} vs {b}");
    }
    for (a, b) in outs[2].to_vec::<f32>()?.iter().zip(&gb) {
        assert!(close(*a, *b), "db: {a} vs {b}");
    }
    Ok(())
}

mod model_taste {
    // The README's first snippet, as written there (plus data and checks).
    use autodiff::nn::{Linear, Module, ModuleExt};
    use autodiff::train::{optim::Adam, HostData, Objective, TrainStep, WeightSource};
    use hlo_builder::{
        ElementType::{F32, S32},
        Result, Tensor, TensorType,
    };

    #[derive(Clone, Debug, Module)]
    struct Net {
        fc1: Linear,
        fc2: Linear,
    }

    impl Net {
        fn forward(&self, x: &Tensor) -> Result<Tensor> {
            self.fc2.forward(&self.fc1.forward(x)?.relu()?) // shapes checked as ops are recorded
        }
    }

    #[test]
    fn readme_model_taste_trains_predicts_and_saves(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        // Two separable classes: the label is whether the first feature is positive.
        let x: Vec<f32> = (0..32 * 64)
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let y: Vec<i32> = (0..32).map(|r| (x[r * 64] > 0.0) as i32).collect();

        let client = pjrt::Client::default_cpu()?; // $PJRT_PLUGIN, else an installed plugin
        let net = Net {
            fc1: Linear::new(64, 128),
            fc2: Linear::new(128, 10),
        }
        .init_seed(0)?;
        let mut step = TrainStep::new(&client, net)
            .optimizer(Adam::new(3e-3))
            .inputs([TensorType::new(F32, [32, 64]), TensorType::new(S32, [32])])
            .compile(|m, b| {
                let logits = m.forward(&b[0])?;
                let correct = logits.argmax(-1)?.eq(&b[1])?.to_dtype(F32)?;
                Ok(Objective::new(logits.cross_entropy(&b[1])?)
                    .metric("accuracy", correct.mean_all()?))
            })?;
        let out = step.step(&[HostData::from(&x), HostData::from(&y)])?;
        let first = out.loss()?;
        // 10 classes, small initial logits: about ln(10).
        assert!((first - 10f32.ln()).abs() < 0.7, "{first}");
        let mut acc = 0.0;
        for _ in 0..100 {
            let out = step.step(&[HostData::from(&x), HostData::from(&y)])?;
            acc = out.metric_f64("accuracy")?;
        }
        assert!(
            acc > 0.99,
            "accuracy {acc} on a separable batch after 100 steps"
        );

        let predict = step.function("predict", &[TensorType::new(F32, [1, 64])], |m, x| {
            Ok(vec![m.forward(&x[0])?.argmax(-1)?])
        })?;
        let class = predict.call(&step, &[HostData::from(&x[..64])])?;
        assert_eq!(class[0].to_vec::<i32>()?, [y[0]]);
        let path =
            std::env::temp_dir().join(format!("readme-net-{}.safetensors", std::process::id()));
        step.save(&path)?; // parameters, Adam's moments and the step count, by path
        let ck = autodiff::train::checkpoint::Checkpoint::load(&path)?;
        assert_eq!(ck.meta::<u64>("steps")?, 101);
        assert!(ck.get("fc1.weight").is_some() && ck.get("fc2.bias").is_some());
        std::fs::remove_file(&path)?;
        Ok(())
    }
}
