//! Differentially private SGD (DP-SGD) on the UCI digits with the MLP 64-128-128-10, on the
//! default CPU plugin. One compiled executable per step does all of it:
//!
//! - per-example gradients: `autodiff::vmap` of `autodiff::grad` of one example's loss
//!   (no loop over the examples: one batched program);
//! - each example's gradient clipped to L2 norm `--clip` (over all parameters together);
//! - the clipped gradients summed, Gaussian noise of standard deviation `--noise * --clip`
//!   added (random bits drawn in the graph from a key that the step carries), divided by the
//!   batch size;
//! - an SGD-with-momentum update (`autodiff::train::optim::Sgd`, the learning rate decayed
//!   from `--lr` to `--lr-floor` on a cosine over the run); parameters, optimizer state and
//!   key donated, so they stay on the device.
//!
//! Before training it checks on a real batch that the vmapped per-example gradients equal
//! the gradients computed one example at a time. It trains for `--epochs` and exits with an
//! error if the final test accuracy is below `--target` (default 0.95). No privacy accounting is done here (the example shows the mechanics; the
//! (epsilon, delta) of a run follows from the noise multiplier, the sampling rate and the
//! number of steps by any standard accountant).
//!
//! `--serve` turns it into the step server of `benches/compare/dp_sgd.py`: it prints
//! `ready`, then for each line `N` on stdin runs N steps on a fixed random batch and prints
//! the mean seconds per step (the script alternates those blocks with JAX's step).
//!
//! Options: `--epochs N` (80), `--batch N` (64), `--clip C` (1.0), `--noise S` (1.0),
//! `--lr X` (0.05), `--lr-floor X` (0.002), `--momentum M` (0.9), `--seed N` (0),
//! `--target ACC` (0.95), `--serve`.

use std::error::Error;
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Instant;

use autodiff::nn::{self, Mlp, ModuleExt, ParamKind};
use autodiff::train::optim::{LearningRate, Optimizer, Sgd};
use examples::digits::{Digits, CLASSES, PIXELS, SPLIT_SEED, TRAIN_FRACTION};
use examples::models;
use hlo_builder::{
    Builder, DotDims, ElementType::F32, ElementType::U64, Executable, Precision, Value,
};
use pjrt::{Buffer, Client, LoadedExecutable};

type Res<T> = Result<T, Box<dyn Error>>;

struct Config {
    epochs: usize,
    batch: i64,
    clip: f64,
    noise: f64,
    lr: f64,
    lr_floor: f64,
    momentum: f64,
    seed: u64,
    target: f64,
    serve: bool,
}

fn parse_args() -> Result<Config, String> {
    let mut c = Config {
        epochs: 80,
        batch: 64,
        clip: 1.0,
        noise: 1.0,
        lr: 0.05,
        lr_floor: 0.002,
        momentum: 0.9,
        seed: 0,
        target: 0.95,
        serve: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let bad = |name: &str, e: &dyn std::fmt::Display| format!("{name}: {e}");
        match a.as_str() {
            "--epochs" => c.epochs = value(&a)?.parse().map_err(|e| bad(&a, &e))?,
            "--batch" => c.batch = value(&a)?.parse().map_err(|e| bad(&a, &e))?,
            "--clip" => c.clip = value(&a)?.parse().map_err(|e| bad(&a, &e))?,
            "--noise" => c.noise = value(&a)?.parse().map_err(|e| bad(&a, &e))?,
            "--lr" => c.lr = value(&a)?.parse().map_err(|e| bad(&a, &e))?,
            "--lr-floor" => c.lr_floor = value(&a)?.parse().map_err(|e| bad(&a, &e))?,
            "--momentum" => c.momentum = value(&a)?.parse().map_err(|e| bad(&a, &e))?,
            "--seed" => c.seed = value(&a)?.parse().map_err(|e| bad(&a, &e))?,
            "--target" => c.target = value(&a)?.parse().map_err(|e| bad(&a, &e))?,
            "--serve" => c.serve = true,
            "-h" | "--help" => return Err("usage: dp_sgd [--epochs N] [--batch N] [--clip C] [--noise S] [--lr X] [--lr-floor X] [--momentum M] [--seed N] [--target ACC] [--serve]".into()),
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    if c.batch < 1 || c.clip <= 0.0 || c.noise < 0.0 {
        return Err("--batch must be >= 1, --clip > 0 and --noise >= 0".into());
    }
    Ok(c)
}

/// The MLP's parameters, `(path, dims)` in the tree's order (`layers.0.weight`,
/// `layers.0.bias`, ...): the step declares them as builder parameters, because `vmap`
/// works on the builder's graph.
fn specs(model: &Mlp) -> Vec<(String, Vec<i64>)> {
    model
        .params()
        .into_iter()
        .map(|(name, p)| (name, p.ty().dims.to_vec()))
        .collect()
}

/// The MLP's forward on builder values (`p` in the order of [`specs`]): dense layers with
/// ReLU between them, as `Mlp::forward` records them.
fn forward(b: &mut Builder, model: &Mlp, p: &[Value], x: Value) -> hlo_builder::Result<Value> {
    let n = model.layers.len();
    let mut h = x;
    for l in 0..n {
        h = b.matmul(h, p[2 * l])?;
        h = b.add(h, p[2 * l + 1])?;
        if l + 1 < n {
            h = b.relu(h)?;
        }
    }
    Ok(h)
}

/// The model's initial parameter values for `seed`, in the order of [`specs`].
fn init_values(model: &Mlp, seed: u64) -> Res<Vec<Vec<f32>>> {
    let m = model.clone().init_seed(seed)?;
    let mut out = Vec::new();
    for l in m.host_values(&[ParamKind::Trainable])? {
        out.push(l.to_vec::<f32>()?);
    }
    Ok(out)
}

/// One example's cross-entropy: `x` f32[64], `y` one-hot f32[10].
fn example_loss(
    b: &mut Builder,
    model: &Mlp,
    p: &[Value],
    x: Value,
    y: Value,
) -> autodiff::Result<Value> {
    let x = b.reshape(x, [1, PIXELS as i64])?;
    let y = b.reshape(y, [1, CLASSES as i64])?;
    let logits = forward(b, model, p, x)?;
    Ok(b.softmax_cross_entropy(logits, y)?)
}

/// Per-example gradients `[batch, param...]` of every parameter and the per-example losses
/// `[batch]`: vmap of grad.
fn per_example_grads(
    b: &mut Builder,
    model: &Mlp,
    params: &[Value],
    x: Value,
    y: Value,
) -> autodiff::Result<(Vec<Value>, Value)> {
    let np = params.len();
    let mut args = params.to_vec();
    args.extend([x, y]);
    let mut in_axes = vec![None; np];
    in_axes.extend([Some(0), Some(0)]);
    let mut out = autodiff::vmap(
        b,
        |b, a| {
            let l = example_loss(b, model, &a[..np], a[np], a[np + 1])?;
            let (l, mut g) = autodiff::value_and_grad(b, l, &a[..np])?;
            g.push(l);
            Ok(g)
        },
        &args,
        &in_axes,
        &[],
    )?;
    let losses = out.pop().ok_or(autodiff::Error::Arity {
        func: "per_example_grads",
        message: "vmap returned no loss".into(),
    })?;
    Ok((out, losses))
}

/// The DP-SGD step: parameters (np), optimizer state, x, y, key -> new parameters, new
/// state, new key, mean loss, mean per-example gradient norm. Returns the builder and the
/// results (parameters, state and key donated to their new values).
fn dp_step(
    model: &Mlp,
    batch: i64,
    clip: f64,
    noise: f64,
    opt: &Sgd,
) -> autodiff::Result<hlo_builder::Module> {
    let mut b = Builder::new("dp_sgd_step");
    let mut params = Vec::new();
    for (name, dims) in specs(model) {
        params.push(b.parameter(name, F32, dims)?);
    }
    let state = opt.state_parameters(&mut b, &params)?;
    let x = b.parameter("x", F32, [batch, PIXELS as i64])?;
    let y = b.parameter("y", F32, [batch, CLASSES as i64])?;
    let key = b.parameter("key", U64, [2])?;

    let (grads, losses) = per_example_grads(&mut b, model, &params, x, y)?;
    // Each example's global L2 norm over all parameters.
    let mut sq: Option<Value> = None;
    for &g in &grads {
        let r = b.ty(g)?.rank() as i64;
        let g2 = b.mul(g, g)?;
        let s = b.reduce_sum(g2, (1..r).collect::<Vec<_>>())?;
        sq = Some(match sq {
            Some(t) => b.add(t, s)?,
            None => s,
        });
    }
    let sq = sq.ok_or(autodiff::Error::Arity {
        func: "dp_step",
        message: "the model has no parameters".into(),
    })?;
    let norms = b.sqrt(sq)?;
    // scale = clip / max(norm, clip): 1 for small gradients, clip / norm for large ones.
    let c = b.scalar(F32, clip)?;
    let den = b.max(norms, c)?;
    let scale = b.div(c, den)?;
    let mut key = key;
    let mut noisy = Vec::with_capacity(grads.len());
    let inv_batch = b.scalar(F32, 1.0 / batch as f64)?;
    let sd = b.scalar(F32, noise * clip)?;
    for &g in &grads {
        // sum_i scale_i g_i as one contraction over the batch.
        let dims = DotDims {
            lhs_contracting: vec![0],
            rhs_contracting: vec![0],
            ..DotDims::default()
        };
        let sum = b.dot_general(scale, g, dims, [Precision::Default; 2])?;
        let pd = b.dims(sum)?.to_vec();
        let (k, z) = b.rng_normal(key, F32, &pd)?;
        key = k;
        let z = b.mul(z, sd)?;
        let s = b.add(sum, z)?;
        noisy.push(b.mul(s, inv_batch)?);
    }
    let (new_params, new_state) = opt.update(&mut b, &params, &noisy, &state)?;
    let mean_loss = b.mean(losses)?;
    let mean_norm = b.mean(norms)?;
    let mut results = new_params;
    results.extend(new_state);
    results.push(key);
    results.push(mean_loss);
    results.push(mean_norm);
    // Donate parameters, state and key to their new values.
    let n_state = state.len();
    let np = params.len();
    let key_param = np + n_state + 2;
    let mut donations: Vec<(usize, usize)> = (0..np + n_state).map(|i| (i, i)).collect();
    donations.push((key_param, np + n_state));
    Ok(b.build_with_donations(&results, &donations)?)
}

/// Checks on one batch that vmap's per-example gradients equal one-at-a-time gradients;
/// returns the largest absolute difference.
fn check_per_example(
    client: &Client,
    model: &Mlp,
    init: &[Vec<f32>],
    xs: &[f32],
    ys: &[f32],
    n: i64,
) -> Res<f32> {
    let specs = specs(model);
    let mut b = Builder::new("per_example");
    let mut ps = Vec::new();
    for (name, dims) in &specs {
        ps.push(b.parameter(name, F32, dims)?);
    }
    let x = b.parameter("x", F32, [n, PIXELS as i64])?;
    let y = b.parameter("y", F32, [n, CLASSES as i64])?;
    let (g, _) = per_example_grads(&mut b, model, &ps, x, y)?;
    let all = b.build(&g)?.compile(client)?;
    let mut one = Builder::new("one_example");
    let mut qs = Vec::new();
    for (name, dims) in &specs {
        qs.push(one.parameter(name, F32, dims)?);
    }
    let x1 = one.parameter("x", F32, [PIXELS as i64])?;
    let y1 = one.parameter("y", F32, [CLASSES as i64])?;
    let l = example_loss(&mut one, model, &qs, x1, y1)?;
    let g1 = autodiff::grad(&mut one, l, &qs)?;
    let single = one.build(&g1)?.compile(client)?;

    let plits: Vec<pjrt::Literal> = specs
        .iter()
        .zip(init)
        .map(|((_, dims), v)| pjrt::Literal::from_slice(v, dims))
        .collect::<Result<_, _>>()?;
    let xl = pjrt::Literal::from_slice(xs, &[n, PIXELS as i64])?;
    let yl = pjrt::Literal::from_slice(ys, &[n, CLASSES as i64])?;
    let mut args: Vec<&pjrt::Literal> = plits.iter().collect();
    args.extend([&xl, &yl]);
    let batched = all.run(&args)?;
    let mut worst = 0f32;
    for i in 0..n as usize {
        let xi = pjrt::Literal::from_slice(&xs[i * PIXELS..(i + 1) * PIXELS], &[PIXELS as i64])?;
        let yi = pjrt::Literal::from_slice(&ys[i * CLASSES..(i + 1) * CLASSES], &[CLASSES as i64])?;
        let mut a: Vec<&pjrt::Literal> = plits.iter().collect();
        a.extend([&xi, &yi]);
        let want = single.run(&a)?;
        for (k, w) in want.iter().enumerate() {
            let w: Vec<f32> = w.to_vec()?;
            let g: Vec<f32> = batched[k].to_vec()?;
            let sz = w.len();
            for (p, q) in g[i * sz..(i + 1) * sz].iter().zip(&w) {
                worst = worst.max((p - q).abs());
            }
        }
    }
    Ok(worst)
}

/// Test-set accuracy of the parameters in `params` (device buffers).
fn accuracy(eval: &LoadedExecutable, params: &[Buffer], x: &Buffer, labels: &[i32]) -> Res<f64> {
    let mut args: Vec<&Buffer> = params.iter().collect();
    args.push(x);
    let out = eval.execute(&args)?;
    let pred: Vec<i32> = out[0].to_vec()?;
    let right = pred.iter().zip(labels).filter(|(p, l)| p == l).count();
    Ok(right as f64 / labels.len() as f64)
}

fn one_hot_rows(d: &Digits, rows: &[usize], x: &mut Vec<f32>, y: &mut Vec<f32>) {
    x.clear();
    y.clear();
    for &r in rows {
        x.extend_from_slice(&d.images[r * PIXELS..(r + 1) * PIXELS]);
        let mut oh = [0f32; CLASSES];
        oh[d.labels[r] as usize] = 1.0;
        y.extend_from_slice(&oh);
    }
}

/// The step's state on the device: parameters, optimizer state, key.
struct Device {
    params: Vec<Buffer>,
    state: Vec<Buffer>,
    key: Buffer,
}

impl Device {
    fn step(&mut self, exe: &Executable, x: &Buffer, y: &Buffer) -> Res<(f32, f32)> {
        let mut args: Vec<&Buffer> = self.params.iter().collect();
        args.extend(self.state.iter());
        args.extend([x, y, &self.key]);
        let mut out = exe.loaded().execute(&args)?;
        let norm = out.pop().ok_or("missing result")?;
        let loss = out.pop().ok_or("missing result")?;
        self.key = out.pop().ok_or("missing result")?;
        let np = self.params.len();
        self.state = out.split_off(np);
        self.params = out;
        Ok((loss.to_vec::<f32>()?[0], norm.to_vec::<f32>()?[0]))
    }
}

/// The optimizer: SGD with momentum, the rate on a cosine from `lr` to `lr_floor` over
/// `steps` steps.
fn optimizer(c: &Config, steps: usize) -> Sgd {
    let lr = LearningRate::Cosine {
        base: c.lr,
        floor: c.lr_floor,
        steps: u32::try_from(steps).unwrap_or(u32::MAX),
    };
    Sgd::new(lr).momentum(c.momentum)
}

fn setup(client: &Client, c: &Config, model: &Mlp, steps: usize) -> Res<(Executable, Device)> {
    let opt = optimizer(c, steps);
    let module = dp_step(model, c.batch, c.clip, c.noise, &opt)?;
    let exe = module.compile(client)?;
    let specs = specs(model);
    let init = init_values(model, c.seed)?;
    let mut params = Vec::new();
    for ((_, dims), v) in specs.iter().zip(&init) {
        params.push(client.buffer_from_host(v, dims)?);
    }
    let tys: Vec<_> = specs
        .iter()
        .map(|(_, dims)| hlo_builder::TensorType::new(F32, dims))
        .collect();
    let mut state = Vec::new();
    for l in opt.init(&tys)? {
        state.push(client.buffer_from_literal(&l)?);
    }
    let key = client.buffer_from_host(&[c.seed ^ 0x5eed, 7u64], &[2])?;
    Ok((exe, Device { params, state, key }))
}

/// Step server for benches/compare/dp_sgd.py (see the module documentation).
fn serve(client: &Client, c: &Config, model: &Mlp) -> Res<()> {
    let (exe, mut dev) = setup(client, c, model, 1000)?;
    let mut rng = nn::seeded(1);
    let n = c.batch as usize;
    let x: Vec<f32> = (0..n * PIXELS)
        .map(|_| nn::init::uniform01(&mut rng))
        .collect();
    let mut y = vec![0f32; n * CLASSES];
    for r in 0..n {
        y[r * CLASSES + nn::init::below(&mut rng, CLASSES as u64) as usize] = 1.0;
    }
    let xb = client.buffer_from_host(&x, &[c.batch, PIXELS as i64])?;
    let yb = client.buffer_from_host(&y, &[c.batch, CLASSES as i64])?;
    dev.step(&exe, &xb, &yb)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let k: u32 = line
            .trim()
            .parse()
            .map_err(|e| format!("expected a step count, got {line:?}: {e}"))?;
        let t = Instant::now();
        for _ in 0..k {
            dev.step(&exe, &xb, &yb)?;
        }
        writeln!(out, "{:e}", t.elapsed().as_secs_f64() / f64::from(k.max(1)))?;
        out.flush()?;
    }
    Ok(())
}

fn train(client: &Client, c: &Config, model: &Mlp) -> Res<f64> {
    let data = Digits::load(examples::digits::default_path())?;
    let (train, test) = data.split(TRAIN_FRACTION, SPLIT_SEED)?;
    let n = c.batch as usize;
    println!(
        "DP-SGD on digits: {} train / {} test images, MLP 64-128-128-10, batch {n}, clip {}, noise multiplier {}, SGD momentum {} lr {} -> {} (cosine)",
        train.len(),
        test.len(),
        c.clip,
        c.noise,
        c.momentum,
        c.lr,
        c.lr_floor
    );

    // The per-example gradients, checked on the first training batch.
    let (mut bx, mut by) = (Vec::new(), Vec::new());
    let first: Vec<usize> = (0..n.min(train.len())).collect();
    one_hot_rows(&train, &first, &mut bx, &mut by);
    let init = init_values(model, c.seed)?;
    let worst = check_per_example(client, model, &init, &bx, &by, first.len() as i64)?;
    println!("per-example gradients (vmap of grad) vs one example at a time: max |difference| {worst:.2e}");
    if worst > 1e-4 {
        return Err(
            format!("per-example gradients differ from one-at-a-time ones by {worst}").into(),
        );
    }

    let t0 = Instant::now();
    let steps = c.epochs * (train.len() / n);
    let (exe, mut dev) = setup(client, c, model, steps)?;
    let compile_s = t0.elapsed().as_secs_f64();
    // Inference: argmax of the logits for the whole test set.
    let mut eb = Builder::new("predict");
    let mut ps = Vec::new();
    for (name, dims) in specs(model) {
        ps.push(eb.parameter(name, F32, dims)?);
    }
    let tx = eb.parameter("x", F32, [test.len() as i64, PIXELS as i64])?;
    let logits = forward(&mut eb, model, &ps, tx)?;
    let pred = eb.argmax(logits, 1)?;
    let eval = eb.build(&[pred])?.compile(client)?;
    let test_x = client.buffer_from_host(&test.images, &[test.len() as i64, PIXELS as i64])?;

    let mut rng = nn::seeded(c.seed.wrapping_add(1));
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut acc = 0.0;
    let mut step_time = 0.0;
    let mut steps = 0usize;
    for epoch in 1..=c.epochs {
        nn::shuffle(&mut rng, &mut order);
        let (mut loss_sum, mut norm_sum, mut count) = (0.0, 0.0, 0);
        for rows in order.chunks_exact(n) {
            one_hot_rows(&train, rows, &mut bx, &mut by);
            let xb = client.buffer_from_host(&bx, &[c.batch, PIXELS as i64])?;
            let yb = client.buffer_from_host(&by, &[c.batch, CLASSES as i64])?;
            let t = Instant::now();
            let (l, nrm) = dev.step(&exe, &xb, &yb)?;
            step_time += t.elapsed().as_secs_f64();
            steps += 1;
            loss_sum += l as f64;
            norm_sum += nrm as f64;
            count += 1;
        }
        acc = accuracy(eval.loaded(), &dev.params, &test_x, &test.labels)?;
        println!(
            "epoch {epoch:3}: loss {:.4}, mean per-example gradient norm {:.3}, test accuracy {:.2}%",
            loss_sum / count as f64,
            norm_sum / count as f64,
            100.0 * acc
        );
    }
    println!(
        "compiled the step in {compile_s:.2} s; {steps} steps, {:.0} µs per step (host loop, uploads excluded)",
        1e6 * step_time / steps.max(1) as f64
    );
    Ok(acc)
}

fn main() -> ExitCode {
    let c = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dp_sgd: {e}");
            return ExitCode::from(2);
        }
    };
    let model = models::mlp();
    let run = || -> Res<Option<f64>> {
        let client = Client::default_cpu()?;
        if c.serve {
            serve(&client, &c, &model)?;
            return Ok(None);
        }
        Ok(Some(train(&client, &c, &model)?))
    };
    match run() {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(acc)) if acc >= c.target => {
            println!(
                "reached {:.2}% test accuracy (target {:.0}%)",
                100.0 * acc,
                100.0 * c.target
            );
            ExitCode::SUCCESS
        }
        Ok(Some(acc)) => {
            eprintln!(
                "dp_sgd: test accuracy {:.2}% is below the target {:.0}%",
                100.0 * acc,
                100.0 * c.target
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("dp_sgd: {e}");
            ExitCode::FAILURE
        }
    }
}
