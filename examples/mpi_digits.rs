//! Data-parallel training of the digits MLP across processes, the gradients all-reduced by
//! MPI inside each train step (`autodiff::train::mpi`). Every process holds the whole model
//! and trains on its rows of each global batch; process 0 reports.
//!
//! ```sh
//! make mpi                      # two processes, on this machine (NP=4 for four)
//! # or, by hand:
//! cargo build --release --example mpi_digits --features mpi
//! mpirun -np 2 --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo \
//!     target/release/examples/mpi_digits [--epochs N]
//! ```

use std::error::Error;
use std::time::Instant;

use autodiff::nn::{Activation, Mlp, ModuleExt};
use autodiff::train::mpi::MpiDataParallel;
use autodiff::train::optim::Adam;
use autodiff::train::{self, HostData, TrainStep, WeightSource};
use examples::digits::{self, Digits};
use hlo_builder::{ElementType, TensorType};
use pjrt::Client;

/// The global batch (split evenly over the processes).
const BATCH: usize = 64;
const PIXELS: usize = 64;

fn main() {
    if let Err(e) = run() {
        eprintln!("mpi_digits: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let mut epochs = 30usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--epochs" => {
                epochs = args
                    .next()
                    .ok_or("--epochs needs a value")?
                    .parse()
                    .map_err(|e| format!("--epochs: {e}"))?
            }
            other => {
                return Err(
                    format!("unknown argument `{other}` (usage: mpi_digits [--epochs N])").into(),
                )
            }
        }
    }
    let dp = MpiDataParallel::init()?;
    let lead = dp.rank() == 0;
    let client = Client::default_cpu()?;
    let data = Digits::load(digits::default_path())?;
    // The same split and the same shuffles in every process, so they agree on each global
    // batch; each takes its own rows of it.
    let (train_set, test_set) = data.split(0.8, 0)?;
    let mine = dp.shard(BATCH)?;
    let local = mine.len() as i64;
    let model = Mlp::new(&[64, 128, 128, 10], Activation::Relu).init_seed(42)?;
    let mut step = TrainStep::new(&client, model)
        .name("mpi_digits_step")
        .optimizer(Adam::new(1e-3))
        .inputs([
            TensorType::new(ElementType::F32, [local, PIXELS as i64]),
            TensorType::new(ElementType::S32, [local]),
        ])
        .gradient_transform(dp.gradient_transform(&client)?)
        .compile(|m, b| m.forward(&b[0])?.cross_entropy(&b[1]))?;
    if lead {
        println!(
            "mpi_digits: {} processes, global batch {BATCH} ({local} rows each), {} train / {} test images",
            dp.size(),
            train_set.len(),
            test_set.len()
        );
    }
    let n_test = test_set.len() as i64;
    let eval = step.function(
        "mpi_digits_eval",
        &[
            TensorType::new(ElementType::F32, [n_test, PIXELS as i64]),
            TensorType::new(ElementType::S32, [n_test]),
        ],
        |m, b| {
            let pred = m.forward(&b[0])?.argmax(-1)?;
            Ok(vec![pred
                .eq(&b[1])?
                .to_dtype(ElementType::F32)?
                .mean_all()?])
        },
    )?;
    let start = Instant::now();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for epoch in 0..epochs {
        let mut losses = Vec::new();
        let order = train::epoch_order(train_set.len(), 7, epoch);
        // Whole global batches only (the last short one is dropped, in every process).
        for batch in order.chunks_exact(BATCH) {
            let rows = &batch[mine.clone()];
            train::gather_rows(&train_set.images, PIXELS, rows, &mut x);
            y.clear();
            y.extend(rows.iter().map(|&r| train_set.labels[r]));
            let out = step.step(&[HostData::from(&x), HostData::from(&y)])?;
            losses.push(f64::from(out.loss()?));
        }
        let sum: f64 = losses.iter().sum();
        // The mean over the processes of each one's mean loss: the global batch's loss.
        let loss = dp.mean(sum / losses.len().max(1) as f64);
        if lead && (epoch + 1) % 5 == 0 {
            println!("epoch {:>3}: mean training loss {loss:.4}", epoch + 1);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let out = eval.call(
        &step,
        &[
            HostData::from(&test_set.images),
            HostData::from(&test_set.labels),
        ],
    )?;
    let acc = f64::from(out[0].to_vec::<f32>()?[0]);
    // Every process holds the same parameters, so every one measures the same accuracy.
    let spread = (dp.mean(acc) - acc).abs();
    if lead {
        println!(
            "mpi_digits: test accuracy {:.2}% after {} steps in {seconds:.2}s (processes agree within {spread:e})",
            acc * 100.0,
            step.steps()
        );
    }
    Ok(())
}
