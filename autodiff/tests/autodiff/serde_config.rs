//! The configuration types round-trip through serde (JSON here), and a configuration read
//! back from JSON drives the same computation as the one written: an optimizer with its
//! schedule trains to the same losses, compile options compile and run.

use autodiff::nn::{seeded, Activation, Init, Linear, ModuleExt, ParamKind};
use autodiff::train::optim::{Adam, LearningRate, RmsProp, Sgd};
use autodiff::train::{HostData, TrainStep};
use hlo_builder::{Builder, ElementType, TensorType};
use pjrt::{ArgumentLayout, CompileOptions, DeviceAssignment, XlaOption};
use serde::{de::DeserializeOwned, Serialize};

/// `value` written as JSON and read back.
fn round_trip<T: Serialize + DeserializeOwned>(value: &T) -> (String, T) {
    let json = serde_json::to_string(value).expect("serialize");
    let back = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    (json, back)
}

fn schedule() -> LearningRate {
    LearningRate::Warmup {
        steps: 10,
        then: Box::new(LearningRate::Cosine {
            base: 0.05,
            floor: 0.001,
            steps: 1000,
        }),
    }
}

#[test]
fn optimizers_and_schedules_round_trip() {
    let adam = Adam::new(schedule())
        .betas(0.8, 0.99)
        .eps(1e-6)
        .weight_decay(0.01)
        .clip_norm(1.5);
    let (json, back) = round_trip(&adam);
    assert_eq!(back, adam);
    // The fields are named, so a config file reads as what it means.
    assert!(json.contains("\"beta1\":0.8"), "{json}");
    assert!(json.contains("\"Warmup\""), "{json}");

    let sgd = Sgd::new(LearningRate::Step {
        base: 0.1,
        gamma: 0.5,
        every: 100,
    })
    .nesterov(0.9)
    .weight_decay(5e-4);
    assert_eq!(round_trip(&sgd).1, sgd);

    let rms = RmsProp::new(0.01).rho(0.95).momentum(0.5).clip_norm(2.0);
    assert_eq!(round_trip(&rms).1, rms);
    assert_eq!(
        round_trip(&LearningRate::Constant(3e-4)).1,
        LearningRate::Constant(3e-4)
    );
}

#[test]
fn parameter_specs_round_trip() {
    for init in [
        Init::Zeros,
        Init::Ones,
        Init::Constant(0.5),
        Init::Normal { std: 0.02 },
        Init::Uniform { limit: 0.1 },
        Init::GlorotUniform,
    ] {
        assert_eq!(round_trip(&init).1, init);
    }
    for kind in [ParamKind::Trainable, ParamKind::State] {
        assert_eq!(round_trip(&kind).1, kind);
    }
    for a in [Activation::Relu, Activation::GeluTanh, Activation::Sigmoid] {
        assert_eq!(round_trip(&a).1, a);
    }
    let t = TensorType::new(ElementType::BF16, [8, 128, 3]);
    let (json, back) = round_trip(&t);
    assert_eq!(back, t);
    assert_eq!(back.to_string(), "bf16[8,128,3]");
    assert!(json.contains("[8,128,3]"), "{json}");
    assert_eq!(
        round_trip(&TensorType::scalar(ElementType::S32)).1.rank(),
        0
    );
}

#[test]
fn an_optimizer_read_from_json_trains_the_same() -> Result<(), Box<dyn std::error::Error>> {
    let client = pjrt::Client::default_cpu()?;
    let written = Adam::new(schedule()).clip_norm(1.0);
    let json = serde_json::to_string(&written)?;
    let read: Adam = serde_json::from_str(&json)?;

    let xs: Vec<f32> = (0..16).map(|i| (i % 7) as f32 / 3.0 - 1.0).collect();
    let ys: Vec<f32> = xs.chunks(2).map(|p| 3.0 * p[0] - p[1]).collect();
    let losses = |opt: Adam| -> Result<Vec<f32>, Box<dyn std::error::Error>> {
        let mut step = TrainStep::new(&client, Linear::new(2, 1).init(&mut seeded(3))?)
            .optimizer(opt)
            .inputs([
                TensorType::new(ElementType::F32, [8, 2]),
                TensorType::new(ElementType::F32, [8, 1]),
            ])
            .compile(|m, b| m.forward(&b[0])?.mse(&b[1]))?;
        let mut out = Vec::new();
        for _ in 0..20 {
            out.push(
                step.step(&[HostData::from(&xs), HostData::from(&ys)])?
                    .loss()?,
            );
        }
        Ok(out)
    };
    let (a, b) = (losses(written)?, losses(read)?);
    assert_eq!(a, b);
    // The warmup is in effect: the loss goes down.
    assert!(a[19] < a[0], "{a:?}");
    Ok(())
}

#[test]
fn compile_options_round_trip_and_compile() -> Result<(), Box<dyn std::error::Error>> {
    let options = CompileOptions::new()
        .device_assignment(DeviceAssignment::new(vec![vec![0]])?)
        .xla_option("xla_cpu_enable_fast_math", false)
        .xla_option("xla_cpu_parallel_codegen_split_count", 4i64);
    let mut with_layout = options.clone();
    with_layout.argument_layouts.push(ArgumentLayout {
        element_type: ElementType::F32,
        dims: vec![2, 3],
        minor_to_major: Some(vec![1, 0]),
    });
    let (json, back) = round_trip(&with_layout);
    assert_eq!(back, with_layout);
    assert!(json.contains("xla_cpu_enable_fast_math"), "{json}");
    assert!(matches!(
        back.xla_options.get("xla_cpu_parallel_codegen_split_count"),
        Some(XlaOption::Int(4))
    ));

    // Fields left out of a config file take their defaults.
    let partial: CompileOptions = serde_json::from_str(r#"{"num_replicas": 1}"#)?;
    assert_eq!(partial, CompileOptions::default());

    // Options read back compile and run a program.
    let (_, read) = round_trip(&options);
    let mut b = Builder::new("double");
    let x = b.parameter("x", ElementType::F32, [3])?;
    let y = b.add(x, x)?;
    let exe = b
        .build(&[y])?
        .compile_with(&pjrt::Client::default_cpu()?, &read)?;
    let out = exe.run(&[&pjrt::Literal::vector(&[1f32, -2.0, 0.25])])?;
    assert_eq!(out[0].to_vec::<f32>()?, [2.0, -4.0, 0.5]);
    Ok(())
}
