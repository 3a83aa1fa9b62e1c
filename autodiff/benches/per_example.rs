//! Per-example gradients of the digits MLP (64-128-128-10, batch 64) on the CPU plugin, three
//! ways, each compiled once and run on device-resident data:
//!
//! - `vmap`: `autodiff::vmap` of `autodiff::grad`, one executable, no loop;
//! - `graph loop`: one executable with a counted loop over the examples (slice one example,
//!   its gradient, write it into the stacked result);
//! - `host loop`: the one-example gradient executable called 64 times.
//!
//! All three results are checked against each other before timing.

use std::hint::black_box;

use autodiff::nn;
use criterion::{criterion_group, criterion_main, Criterion};
use hlo_builder::{Builder, ElementType::F32, Value};
use pjrt::Buffer;

const N: i64 = 64;
const SIZES: [i64; 4] = [64, 128, 128, 10];

fn example_loss(b: &mut Builder, p: &[Value], x: Value, y: Value) -> autodiff::Result<Value> {
    let x = b.reshape(x, [1, 64])?;
    let y = b.reshape(y, [1, 10])?;
    let mut h = x;
    for l in 0..3 {
        h = b.matmul(h, p[2 * l])?;
        h = b.add(h, p[2 * l + 1])?;
        if l < 2 {
            h = b.relu(h)?;
        }
    }
    Ok(b.softmax_cross_entropy(h, y)?)
}

fn dims() -> Vec<Vec<i64>> {
    let mut d = Vec::new();
    for w in SIZES.windows(2) {
        d.push(vec![w[0], w[1]]);
        d.push(vec![w[1]]);
    }
    d
}

/// Parameters, then x [n, 64] and y [n, 10] (or one example's x [64], y [10]).
fn inputs(b: &mut Builder, n: Option<i64>) -> (Vec<Value>, Value, Value) {
    let ps = dims()
        .iter()
        .enumerate()
        .map(|(i, d)| b.parameter(format!("p{i}"), F32, d).unwrap())
        .collect();
    let (xd, yd) = match n {
        Some(n) => (vec![n, 64], vec![n, 10]),
        None => (vec![64], vec![10]),
    };
    let x = b.parameter("x", F32, xd).unwrap();
    let y = b.parameter("y", F32, yd).unwrap();
    (ps, x, y)
}

fn by_vmap() -> (Builder, Vec<Value>) {
    let mut b = Builder::new("vmap");
    let (ps, x, y) = inputs(&mut b, Some(N));
    let mut args = ps.clone();
    args.extend([x, y]);
    let mut axes = vec![None; 6];
    axes.extend([Some(0), Some(0)]);
    let g = autodiff::vmap(
        &mut b,
        |b, a| {
            let l = example_loss(b, &a[..6], a[6], a[7])?;
            autodiff::grad(b, l, &a[..6])
        },
        &args,
        &axes,
        &[],
    )
    .unwrap();
    (b, g)
}

fn by_graph_loop() -> (Builder, Vec<Value>) {
    let mut b = Builder::new("graph_loop");
    let (ps, x, y) = inputs(&mut b, Some(N));
    let mut state = ps.clone();
    state.extend([x, y]);
    for d in dims() {
        let mut sd = vec![N];
        sd.extend(d);
        state.push(b.zeros(F32, sd).unwrap());
    }
    let out = autodiff::fori_loop(&mut b, N as i32, &state, |b, i, s| {
        let z = b.scalar(hlo_builder::ElementType::S32, 0.0)?;
        let xi = b.dynamic_slice(s[6], &[i, z], [1, 64])?;
        let yi = b.dynamic_slice(s[7], &[i, z], [1, 10])?;
        let xi = b.reshape(xi, [64])?;
        let yi = b.reshape(yi, [10])?;
        let l = example_loss(b, &s[..6], xi, yi)?;
        let g = autodiff::grad(b, l, &s[..6])?;
        let mut next = s[..8].to_vec();
        for (k, gk) in g.into_iter().enumerate() {
            let mut d1 = vec![1];
            d1.extend(b.dims(gk)?.to_vec());
            let g1 = b.reshape(gk, d1)?;
            let mut st = vec![i];
            st.extend(std::iter::repeat_n(z, b.dims(gk)?.len()));
            next.push(b.dynamic_update_slice(s[8 + k], g1, &st)?);
        }
        Ok(next)
    })
    .unwrap();
    let g = out[8..].to_vec();
    (b, g)
}

fn bench(c: &mut Criterion) {
    let client = pjrt::Client::default_cpu().unwrap();
    let mut rng = nn::seeded(3);
    let host: Vec<Vec<f32>> = dims()
        .iter()
        .map(|d| {
            let n = d.iter().product::<i64>() as usize;
            (0..n)
                .map(|_| nn::init::uniform(&mut rng, -0.2, 0.2))
                .collect()
        })
        .collect();
    let xs: Vec<f32> = (0..N * 64).map(|_| nn::init::uniform01(&mut rng)).collect();
    let mut ys = vec![0f32; (N * 10) as usize];
    for i in 0..N as usize {
        ys[i * 10 + nn::init::below(&mut rng, 10) as usize] = 1.0;
    }
    let params: Vec<Buffer> = host
        .iter()
        .zip(dims())
        .map(|(v, d)| client.buffer_from_host(v, &d).unwrap())
        .collect();
    let xb = client.buffer_from_host(&xs, &[N, 64]).unwrap();
    let yb = client.buffer_from_host(&ys, &[N, 10]).unwrap();
    let mut args: Vec<&Buffer> = params.iter().collect();
    args.extend([&xb, &yb]);

    let (vb, vg) = by_vmap();
    let vexe = vb.build(&vg).unwrap().compile(&client).unwrap();
    let (lb, lg) = by_graph_loop();
    let lexe = lb.build(&lg).unwrap().compile(&client).unwrap();
    let mut ob = Builder::new("one");
    let (ps, x1, y1) = inputs(&mut ob, None);
    let l = example_loss(&mut ob, &ps, x1, y1).unwrap();
    let g1 = autodiff::grad(&mut ob, l, &ps).unwrap();
    let oexe = ob.build(&g1).unwrap().compile(&client).unwrap();
    let x_rows: Vec<Buffer> = (0..N as usize)
        .map(|i| {
            client
                .buffer_from_host(&xs[i * 64..(i + 1) * 64], &[64])
                .unwrap()
        })
        .collect();
    let y_rows: Vec<Buffer> = (0..N as usize)
        .map(|i| {
            client
                .buffer_from_host(&ys[i * 10..(i + 1) * 10], &[10])
                .unwrap()
        })
        .collect();

    // The three agree.
    let v = vexe.loaded().execute(&args).unwrap();
    let g = lexe.loaded().execute(&args).unwrap();
    for k in 0..6 {
        let a: Vec<f32> = v[k].to_vec().unwrap();
        let b: Vec<f32> = g[k].to_vec().unwrap();
        let sz = a.len() / N as usize;
        for i in [0usize, 17, 63] {
            let mut one_args: Vec<&Buffer> = params.iter().collect();
            one_args.extend([&x_rows[i], &y_rows[i]]);
            let o: Vec<f32> = oexe.loaded().execute(&one_args).unwrap()[k]
                .to_vec()
                .unwrap();
            for q in 0..sz {
                let (p, r, w) = (a[i * sz + q], b[i * sz + q], o[q]);
                assert!(
                    (p - w).abs() <= 1e-5 && (r - w).abs() <= 1e-5,
                    "gradient {k}, example {i}"
                );
            }
        }
    }

    let mut group = c.benchmark_group("per-example gradients, MLP 64-128-128-10, batch 64");
    group.bench_function("vmap", |bench| {
        bench.iter(|| black_box(vexe.loaded().execute(&args).unwrap()))
    });
    group.bench_function("graph loop", |bench| {
        bench.iter(|| black_box(lexe.loaded().execute(&args).unwrap()))
    });
    group.bench_function("host loop", |bench| {
        bench.iter(|| {
            for i in 0..N as usize {
                let mut a: Vec<&Buffer> = params.iter().collect();
                a.extend([&x_rows[i], &y_rows[i]]);
                black_box(oexe.loaded().execute(&a).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
