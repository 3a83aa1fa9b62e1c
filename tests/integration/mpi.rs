//! Data-parallel training across two processes with MPI (`autodiff::train::mpi`): this test
//! starts `mpirun -np 2` on this same test binary, whose `worker` test (ignored in normal
//! runs) trains the digits MLP for 50 Adam steps on its half of every global batch of 64,
//! the gradients all-reduced inside the step; process 0 also trains one process on the
//! whole batches and compares the parameters. Every transport is confined to the loopback
//! interface (shared memory between the two processes otherwise).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use autodiff::nn::{Activation, Mlp, ModuleExt};
use autodiff::train::mpi::MpiDataParallel;
use autodiff::train::optim::Adam;
use autodiff::train::{HostData, TrainStep};
use examples::digits::{self, Digits};
use hlo_builder::{ElementType, TensorType};
use pjrt::Client;

const STEPS: usize = 50;
const BATCH: usize = 64;
/// Set in the worker processes by the launching test.
const WORKER_VAR: &str = "HLO_AUTODIFF_MPI_WORKER";

fn leaves(m: &Mlp) -> Vec<(String, Vec<f32>)> {
    m.params()
        .iter()
        .map(|(n, p)| (n.clone(), p.host().unwrap().to_vec::<f32>().unwrap()))
        .collect()
}

/// Trains the digits MLP for `STEPS` steps on rows `rows` of each global batch, with the
/// gradients all-reduced by `dp` when given; returns the parameters.
fn train(client: &Client, dp: Option<&MpiDataParallel>, rows: std::ops::Range<usize>) -> Mlp {
    let d = Digits::load(digits::default_path()).unwrap();
    let n = rows.len() as i64;
    let model = Mlp::new(&[64, 128, 128, 10], Activation::Relu)
        .init_seed(7)
        .unwrap();
    let mut b = TrainStep::new(client, model)
        .name("mpi_dp")
        .optimizer(Adam::new(1e-2))
        .inputs([
            TensorType::new(ElementType::F32, [n, 64]),
            TensorType::new(ElementType::S32, [n]),
        ]);
    if let Some(dp) = dp {
        b = b.gradient_transform(dp.gradient_transform(client).unwrap());
    }
    let mut step = b
        .compile(|m, x| m.forward(&x[0])?.cross_entropy(&x[1]))
        .unwrap();
    for s in 0..STEPS {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for r in rows.clone() {
            let i = (s * BATCH + r) % d.len();
            x.extend_from_slice(&d.images[i * 64..(i + 1) * 64]);
            y.push(d.labels[i] as i32);
        }
        step.step(&[HostData::from(&x), HostData::from(&y)])
            .unwrap();
    }
    step.model().unwrap()
}

/// One process of the two (`mpirun` starts it): trains on its shard; process 0 checks.
#[test]
#[ignore = "started by two_processes_train_like_one_on_the_global_batch under mpirun"]
fn worker() {
    if std::env::var_os(WORKER_VAR).is_none() {
        return;
    }
    let dp = MpiDataParallel::init().unwrap();
    assert_eq!(dp.size(), 2);
    let client = Client::default_cpu().unwrap();
    let got = train(&client, Some(&dp), dp.shard(BATCH).unwrap());
    // Both processes hold the same parameters: their sums agree.
    let total: f64 = leaves(&got)
        .iter()
        .flat_map(|(_, v)| v.iter())
        .map(|&v| f64::from(v))
        .sum();
    assert!((dp.mean(total) - total).abs() <= 1e-9 * total.abs().max(1.0));
    if dp.rank() == 0 {
        let want = train(&client, None, 0..BATCH);
        let mut worst = 0f32;
        for ((n, g), (_, w)) in leaves(&got).iter().zip(&leaves(&want)) {
            let scale = w.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (a, b) in g.iter().zip(w) {
                worst = worst.max((a - b).abs() / scale);
            }
            assert!(worst <= 1e-5, "{n}: relative difference {worst}");
        }
        assert_ne!(
            leaves(&got)[0].1,
            leaves(
                &Mlp::new(&[64, 128, 128, 10], Activation::Relu)
                    .init_seed(7)
                    .unwrap()
            )[0]
            .1
        );
        println!("mpi worker 0: parameters equal one-process training within {worst:e}");
    }
    println!("mpi worker {} of {}: done", dp.rank(), dp.size());
}

/// Runs `worker` (a test of this binary) in `np` processes under `mpirun`, every transport on
/// the loopback interface; returns its standard output, or panics with both outputs.
fn mpirun(np: usize, worker: &str) -> String {
    let Ok(exe) = std::env::current_exe() else {
        panic!("no path to this test binary");
    };
    let mut cmd = Command::new("mpirun");
    cmd.args(["-np", &np.to_string(), "--oversubscribe"])
        .args([
            "--mca",
            "btl_tcp_if_include",
            "lo",
            "--mca",
            "oob_tcp_if_include",
            "lo",
        ])
        .args(["-x", WORKER_VAR])
        .arg(&exe)
        .args([
            worker,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(WORKER_VAR, "1")
        // Containers and CI run as root; Open MPI refuses that unless told.
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap_or_else(|e| {
        panic!("cannot start mpirun ({e}); `make setup` installs Open MPI (openmpi-bin)")
    });
    let id = child.id();
    // A hung run is killed after 5 minutes rather than hanging the suite.
    let watchdog = std::thread::spawn(move || {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(300) {
            std::thread::sleep(Duration::from_millis(200));
            if !std::path::Path::new(&format!("/proc/{id}")).exists() {
                return;
            }
        }
        // SAFETY: plain kill(2) of our own child's pid.
        unsafe { libc::kill(id as i32, libc::SIGKILL) };
    });
    let out = child.wait_with_output().unwrap();
    let _ = watchdog.join();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "mpirun failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
}

#[test]
fn two_processes_train_like_one_on_the_global_batch() {
    let stdout = mpirun(2, "mpi::worker");
    println!("{stdout}");
    assert!(
        stdout.contains("mpi worker 0: parameters equal"),
        "{stdout}"
    );
    for r in 0..2 {
        assert!(
            stdout.contains(&format!("mpi worker {r} of 2: done")),
            "{stdout}"
        );
    }
}

/// Step time of the data-parallel digits MLP step (Adam, global batch 512) in 1 and 2
/// processes (one CPU device each; the gradients all-reduced by MPI). A measurement, not a
/// check: `cargo test -p integration-tests --test integration mpi_scaling -- --ignored --nocapture`.
#[test]
#[ignore]
fn mpi_scaling() {
    for np in [1, 2] {
        let out = mpirun(np, "mpi::timing_worker");
        // (libtest prints the row after "test mpi::timing_worker ... ".)
        for l in out.lines().filter_map(|l| l.find("| ").map(|i| &l[i..])) {
            println!("{l}");
        }
    }
}

/// One process of `mpi_scaling`: 120 steps, the median of the last 100.
#[test]
#[ignore = "started by mpi_scaling under mpirun"]
fn timing_worker() {
    if std::env::var_os(WORKER_VAR).is_none() {
        return;
    }
    const GLOBAL: usize = 512;
    let dp = MpiDataParallel::init().unwrap();
    let client = Client::default_cpu().unwrap();
    let d = Digits::load(digits::default_path()).unwrap();
    let rows = dp.shard(GLOBAL).unwrap();
    let n = rows.len() as i64;
    let model = Mlp::new(&[64, 128, 128, 10], Activation::Relu)
        .init_seed(3)
        .unwrap();
    let mut step = TrainStep::new(&client, model)
        .optimizer(Adam::new(1e-3))
        .inputs([
            TensorType::new(ElementType::F32, [n, 64]),
            TensorType::new(ElementType::S32, [n]),
        ])
        .gradient_transform(dp.gradient_transform(&client).unwrap())
        .compile(|m, x| m.forward(&x[0])?.cross_entropy(&x[1]))
        .unwrap();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for r in rows {
        let i = r % d.len();
        x.extend_from_slice(&d.images[i * 64..(i + 1) * 64]);
        y.push(d.labels[i] as i32);
    }
    let mut times = Vec::new();
    for k in 0..120 {
        let t = Instant::now();
        step.step(&[HostData::from(&x), HostData::from(&y)])
            .unwrap()
            .loss()
            .unwrap();
        if k >= 20 {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let med = dp.mean(times[times.len() / 2]);
    if dp.rank() == 0 {
        println!(
            "| {} process(es) | {:.2} ms | {:.0} examples/s |",
            dp.size(),
            med * 1e3,
            GLOBAL as f64 / med
        );
    }
}
