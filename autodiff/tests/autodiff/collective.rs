//! The collectives' rules on 4 CPU devices (4 replicas of one program), in f64.
//!
//! The function differentiated is the whole program across its devices: `F(x_0..x_3) =
//! (y_0..y_3)`. For random `x_d`, cotangents `w_d` and directions `v_d` on each device:
//! `Σ_d <vjp_d(w), v_d>` and `Σ_d <w_d, jvp_d(v)>` must both equal the directional derivative
//! `Σ_d <w_d, (y_d(x + hv) - y_d(x - hv)) / 2h>`, and each device's `jvp_d(v)` must equal its
//! own difference quotient. Batching: `vmap` of the op over 3 examples equals the op applied
//! to each example alone, on every device.

use std::sync::OnceLock;

use crate::common::*;

const N: usize = 4;

fn client4() -> &'static pjrt::Client {
    static C: OnceLock<pjrt::Client> = OnceLock::new();
    C.get_or_init(|| {
        let plugin = pjrt::Plugin::load_default().expect("the CPU plugin (run scripts/setup.sh)");
        pjrt::Client::new(
            &plugin,
            &pjrt::ClientOptions::new().cpu_device_count(N as i64),
        )
        .expect("a 4-device CPU client")
    })
}

fn compile4(b: &Builder, outs: &[Value]) -> Executable {
    let m = b.build(outs).unwrap_or_else(|e| panic!("build: {e}"));
    m.compile_with(client4(), &pjrt::CompileOptions::new().replicas(N))
        .unwrap_or_else(|e| panic!("compile: {e}\n{}", m.to_text()))
}

type F = Box<dyn Fn(&mut Builder, Value) -> hlo_builder::Result<Value>>;

struct Case {
    name: &'static str,
    dims: Vec<i64>,
    f: F,
}

fn case(
    name: &'static str,
    dims: &[i64],
    f: impl Fn(&mut Builder, Value) -> hlo_builder::Result<Value> + 'static,
) -> Case {
    Case {
        name,
        dims: dims.to_vec(),
        f: Box::new(f),
    }
}

fn all() -> Participants {
    Participants::all(4)
}

/// Each collective between two smooth maps, so that the rules see non-trivial cotangents.
fn cases() -> Vec<Case> {
    let wrap = |op: fn(&mut Builder, Value) -> hlo_builder::Result<Value>| {
        move |b: &mut Builder, x: Value| {
            let s = b.sin(x)?;
            let y = op(b, s)?;
            b.mul(y, y)
        }
    };
    vec![
        case(
            "all_reduce_sum",
            &[2, 3],
            wrap(|b, x| b.all_reduce(x, Reducer::Sum, all())),
        ),
        case(
            "all_reduce_sum_two_groups",
            &[3],
            wrap(|b, x| b.all_sum(x, Participants::replicas(vec![vec![0, 3], vec![1, 2]]))),
        ),
        case(
            "all_reduce_max",
            &[2, 3],
            wrap(|b, x| b.all_reduce(x, Reducer::Max, all())),
        ),
        case(
            "all_reduce_min",
            &[4],
            wrap(|b, x| b.all_reduce(x, Reducer::Min, all())),
        ),
        case(
            "all_gather",
            &[2, 2],
            wrap(|b, x| b.all_gather(x, 1, all())),
        ),
        case(
            "reduce_scatter",
            &[8, 2],
            wrap(|b, x| b.reduce_scatter(x, 0, Reducer::Sum, all())),
        ),
        case(
            "all_to_all",
            &[4, 3],
            wrap(|b, x| b.all_to_all(x, 0, 1, all())),
        ),
        case(
            "all_to_all_same_axis",
            &[2, 4],
            wrap(|b, x| b.all_to_all(x, 1, 1, all())),
        ),
        case(
            "permute_ring",
            &[3],
            wrap(|b, x| b.collective_permute(x, vec![(0, 1), (1, 2), (2, 3), (3, 0)], None)),
        ),
        case(
            "permute_partial",
            &[3],
            wrap(|b, x| b.collective_permute(x, vec![(0, 2), (3, 1)], None)),
        ),
        // The identity with a sharding (no partitioning here: it emits nothing), so that
        // its rules (the cotangent constrained alike, the batch axis inserted unsplit) run.
        case(
            "sharding_constraint",
            &[2, 3],
            wrap(|b, x| b.shard(x, Sharding::new(&[&["d"], &[]]))),
        ),
        case("replica_id_scales", &[3], |b, x| {
            // x * (replica_id + 1): the id has no gradient, the product does.
            let id = b.replica_id()?;
            let id = b.convert(id, F64)?;
            let one = b.scalar(F64, 1.0)?;
            let k = b.add(id, one)?;
            b.mul(x, k)
        }),
    ]
}

fn check_grad(c: &Case, seed: u64) {
    let mut b = Builder::new(c.name);
    let x = b.parameter("x", F64, &c.dims).unwrap();
    let y = (c.f)(&mut b, x).unwrap_or_else(|e| panic!("{}: forward: {e}", c.name));
    let yd = b.ty(y).unwrap().dims.to_vec();
    let w = b.parameter("w", F64, &yd).unwrap();
    let v = b.parameter("v", F64, &c.dims).unwrap();
    let g = autodiff::vjp(&mut b, &[y], &[w], &[x])
        .unwrap_or_else(|e| panic!("{}: vjp: {e}", c.name))[0];
    let j = autodiff::jvp(&mut b, &[y], &[x], &[v])
        .unwrap_or_else(|e| panic!("{}: jvp: {e}", c.name))[0];
    let exe = compile4(&b, &[y, g, j]);

    let mut rng = Rng(seed);
    let (nx, ny) = (count(&c.dims), count(&yd));
    let xs: Vec<Vec<f64>> = (0..N).map(|_| rng.vec(nx, -1.5, 1.5)).collect();
    let ws: Vec<Vec<f64>> = (0..N).map(|_| rng.vec(ny, -1.0, 1.0)).collect();
    let vs: Vec<Vec<f64>> = (0..N).map(|_| rng.vec(nx, -1.0, 1.0)).collect();
    let run = |xs: &[Vec<f64>]| -> Vec<Vec<Literal>> {
        let lits: Vec<[Literal; 3]> = (0..N)
            .map(|d| [lit(&xs[d], &c.dims), lit(&ws[d], &yd), lit(&vs[d], &c.dims)])
            .collect();
        let args: Vec<Vec<&Literal>> = lits.iter().map(|l| l.iter().collect()).collect();
        exe.run_devices(&args)
            .unwrap_or_else(|e| panic!("{}: run: {e}", c.name))
    };
    let at = run(&xs);
    let h = 1e-5;
    let shifted = |s: f64| -> Vec<Vec<f64>> {
        xs.iter()
            .zip(&vs)
            .map(|(x, v)| x.iter().zip(v).map(|(a, b)| a + s * h * b).collect())
            .collect()
    };
    let (plus, minus) = (run(&shifted(1.0)), run(&shifted(-1.0)));
    let mut fd_total = 0.0;
    let mut vjp_total = 0.0;
    let mut jvp_total = 0.0;
    for d in 0..N {
        let fd: Vec<f64> = f64s(&plus[d][0])
            .iter()
            .zip(f64s(&minus[d][0]))
            .map(|(p, m)| (p - m) / (2.0 * h))
            .collect();
        let jd = f64s(&at[d][2]);
        for (i, (a, e)) in jd.iter().zip(&fd).enumerate() {
            assert!(
                (a - e).abs() <= 1e-6 * e.abs().max(1.0),
                "{}: device {d}: jvp[{i}] = {a}, finite differences {e}",
                c.name
            );
        }
        fd_total += dot(&ws[d], &fd);
        jvp_total += dot(&ws[d], &jd);
        vjp_total += dot(&f64s(&at[d][1]), &vs[d]);
    }
    let tol = 1e-6 * fd_total.abs().max(1.0);
    assert!(
        (vjp_total - fd_total).abs() <= tol,
        "{}: Σ<vjp(w), v> = {vjp_total}, finite differences {fd_total}",
        c.name
    );
    assert!(
        (jvp_total - fd_total).abs() <= tol,
        "{}: Σ<w, jvp(v)> = {jvp_total}, finite differences {fd_total}",
        c.name
    );
}

#[test]
fn collective_gradients_match_finite_differences() {
    let cs = cases();
    let ran = run_table(&cs, |c| c.name, 7100, check_grad);
    assert!(ran >= 1);
}

/// `vmap` over 3 examples (batch axis first, and last) against a loop over the examples.
fn check_batch(c: &Case, seed: u64) {
    const E: i64 = 3;
    let r = c.dims.len() as i64;
    let mut b = Builder::new(c.name);
    let mut bd = vec![E];
    bd.extend(&c.dims);
    let xs = b.parameter("xs", F64, &bd).unwrap();
    let mut per = Vec::new();
    for e in 0..E {
        let xe = b.slice_axis(xs, 0, e, e + 1).unwrap();
        let xe = b.reshape(xe, &c.dims).unwrap();
        let ye = (c.f)(&mut b, xe).unwrap();
        let mut yd = vec![1];
        yd.extend(b.ty(ye).unwrap().dims.iter());
        per.push(b.reshape(ye, yd).unwrap());
    }
    let looped = b.concatenate(&per, 0).unwrap();
    let first = autodiff::vmap(
        &mut b,
        |b, a| Ok(vec![(c.f)(b, a[0])?]),
        &[xs],
        &[Some(0)],
        &[0],
    )
    .unwrap_or_else(|e| panic!("{}: vmap: {e}", c.name))[0];
    // The batch axis last on the way in.
    let perm: Vec<i64> = (1..=r).chain([0]).collect();
    let xl = b.transpose(xs, perm).unwrap();
    let last = autodiff::vmap(
        &mut b,
        |b, a| Ok(vec![(c.f)(b, a[0])?]),
        &[xl],
        &[Some(r as usize)],
        &[0],
    )
    .unwrap_or_else(|e| panic!("{}: vmap (last axis): {e}", c.name))[0];
    let exe = compile4(&b, &[looped, first, last]);
    let mut rng = Rng(seed);
    let n = count(&bd);
    let lits: Vec<Literal> = (0..N).map(|_| lit(&rng.vec(n, -1.5, 1.5), &bd)).collect();
    let args: Vec<Vec<&Literal>> = lits.iter().map(|l| vec![l]).collect();
    let outs = exe.run_devices(&args).unwrap();
    for (d, o) in outs.iter().enumerate() {
        let want = f64s(&o[0]);
        for (k, what) in [(1, "batch axis first"), (2, "batch axis last")] {
            let got = f64s(&o[k]);
            assert_eq!(got.len(), want.len());
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                    "{}: device {d}, {what}: [{i}] {g} vs {w}",
                    c.name
                );
            }
        }
    }
}

#[test]
fn collective_batching_matches_per_example() {
    let cs = cases();
    let ran = run_table(&cs, |c| c.name, 7200, check_batch);
    assert!(ran >= 1);
}

#[test]
fn non_differentiable_reducers_say_so() {
    let mut b = Builder::new("prod");
    let x = b.parameter("x", F64, [2]).unwrap();
    let y = b.all_reduce(x, Reducer::Product, all()).unwrap();
    let s = b.reduce_sum(y, [0]).unwrap();
    let e = autodiff::grad(&mut b, s, &[x]).unwrap_err().to_string();
    assert!(e.contains("all_reduce") && e.contains("Product"), "{e}");
}

/// `y = x * Σ_rows x²` computed in a manual region over 4 devices (each device's 2 rows, the
/// column sums all-reduced), `L = Σ y w`: its gradient and directional derivative equal those
/// of the same function on one device.
#[test]
fn manual_region_gradients_equal_the_unsharded_ones() {
    let mesh = Mesh::new(&[("d", 4)]).unwrap();
    let rows = || Sharding::split(2, 0, "d");
    let record = |b: &mut Builder, sharded: bool| -> Vec<Value> {
        let x = b.parameter("x", F64, [8, 4]).unwrap();
        let w = b.parameter("w", F64, [8, 4]).unwrap();
        let v = b.parameter("v", F64, [8, 4]).unwrap();
        let y = if sharded {
            b.shard_map(&mesh, vec![rows()], vec![rows()], &[x], |b, a| {
                let sq = b.mul(a[0], a[0])?;
                let s = b.reduce_sum(sq, [0])?;
                let s = b.all_sum(s, Participants::devices(vec![vec![0, 1, 2, 3]], 1))?;
                Ok(vec![b.mul(a[0], s)?])
            })
            .unwrap()[0]
        } else {
            let sq = b.mul(x, x).unwrap();
            let s = b.reduce_sum(sq, [0]).unwrap();
            b.mul(x, s).unwrap()
        };
        let yw = b.mul(y, w).unwrap();
        let l = b.reduce_sum(yw, [0, 1]).unwrap();
        let g = autodiff::grad(b, l, &[x]).unwrap()[0];
        let j = autodiff::jvp(b, &[l], &[x], &[v]).unwrap()[0];
        vec![l, g, j]
    };
    let mut rng = Rng(7300);
    let args: Vec<Literal> = (0..3)
        .map(|_| lit(&rng.vec(32, -1.0, 1.0), &[8, 4]))
        .collect();
    let refs: Vec<&Literal> = args.iter().collect();

    let mut b = Builder::new("one");
    let outs = record(&mut b, false);
    let want = compile4_one(&b, &outs).run(&refs).unwrap();

    let mut b = Builder::new("manual");
    let outs = record(&mut b, true);
    let p = Partitioning::new(mesh.clone())
        .inputs(vec![rows(), rows(), rows()])
        .outputs(vec![
            Sharding::replicated(0),
            rows(),
            Sharding::replicated(0),
        ]);
    let m = b.build_partitioned(&outs, p).unwrap();
    let exe = m
        .compile(client4())
        .unwrap_or_else(|e| panic!("{e}\n{}", m.to_text()));
    let got = exe.run_partitioned(&refs).unwrap();
    for (k, what) in ["loss", "gradient", "directional derivative"]
        .iter()
        .enumerate()
    {
        let (g, w) = (f64s(&got[k]), f64s(&want[k]));
        for (i, (a, e)) in g.iter().zip(&w).enumerate() {
            assert!(
                (a - e).abs() <= 1e-12 * e.abs().max(1.0),
                "{what}[{i}]: {a} sharded, {e} on one device"
            );
        }
    }
}

/// Gradients through a manual region on a 2x2 mesh whose values are replicated along some
/// axes: `x` split by rows over `a` (replicated over `b`), `w` replicated over both; outputs
/// split over `a`, one replicated made by an all-reduce over `a`, and one computed alike on
/// every device. The gradients with respect to `x` and `w` equal the unsharded ones.
#[test]
fn manual_region_gradients_with_replicated_values() {
    let mesh = Mesh::new(&[("a", 2), ("b", 2)]).unwrap();
    let rows_a = || Sharding::split(2, 0, "a");
    let record = |b: &mut Builder, sharded: bool| -> Vec<Value> {
        let x = b.parameter("x", F64, [8, 4]).unwrap();
        let w = b.parameter("w", F64, [4, 4]).unwrap();
        let v = b.parameter("v", F64, [8, 4]).unwrap();
        let body = |b: &mut Builder,
                    x: Value,
                    w: Value,
                    sum_over_a: bool|
         -> hlo_builder::Result<Vec<Value>> {
            let z = b.matmul(x, w)?;
            let z = b.tanh(z)?;
            let zz = b.mul(z, z)?;
            let s = b.reduce_sum(zz, [0, 1])?;
            // Partition p = 2a + b: devices that differ only along `a`.
            let s = if sum_over_a {
                b.all_sum(s, Participants::devices(vec![vec![0, 2], vec![1, 3]], 1))?
            } else {
                s
            };
            let ww = b.mul(w, w)?;
            let r = b.reduce_sum(ww, [0, 1])?;
            Ok(vec![z, s, r])
        };
        let outs = if sharded {
            b.shard_map(
                &mesh,
                vec![rows_a(), Sharding::replicated(2)],
                vec![rows_a(), Sharding::replicated(0), Sharding::replicated(0)],
                &[x, w],
                move |b, a| body(b, a[0], a[1], true),
            )
            .unwrap()
        } else {
            body(b, x, w, false).unwrap()
        };
        let yv = b.mul(outs[0], v).unwrap();
        let l = b.reduce_sum(yv, [0, 1]).unwrap();
        let three = b.scalar(F64, 3.0).unwrap();
        let five = b.scalar(F64, 5.0).unwrap();
        let s3 = b.mul(outs[1], three).unwrap();
        let r5 = b.mul(outs[2], five).unwrap();
        let l = b.add(l, s3).unwrap();
        let l = b.add(l, r5).unwrap();
        let g = autodiff::grad(b, l, &[x, w]).unwrap();
        vec![l, g[0], g[1]]
    };
    let mut rng = Rng(7411);
    let args = [
        lit(&rng.vec(32, -1.0, 1.0), &[8, 4]),
        lit(&rng.vec(16, -1.0, 1.0), &[4, 4]),
        lit(&rng.vec(32, -1.0, 1.0), &[8, 4]),
    ];
    let refs: Vec<&Literal> = args.iter().collect();
    let mut b = Builder::new("one");
    let outs = record(&mut b, false);
    let want = compile4_one(&b, &outs).run(&refs).unwrap();
    let mut b = Builder::new("manual");
    let outs = record(&mut b, true);
    let p = Partitioning::new(mesh.clone())
        .inputs(vec![
            Sharding::replicated(2),
            Sharding::replicated(2),
            Sharding::replicated(2),
        ])
        .outputs(vec![
            Sharding::replicated(0),
            Sharding::replicated(2),
            Sharding::replicated(2),
        ]);
    let m = b.build_partitioned(&outs, p).unwrap();
    let exe = m
        .compile(client4())
        .unwrap_or_else(|e| panic!("{e}\n{}", m.to_text()));
    let got = exe.run_partitioned(&refs).unwrap();
    for (k, what) in ["loss", "gradient wrt x", "gradient wrt w"]
        .iter()
        .enumerate()
    {
        let (g, w) = (f64s(&got[k]), f64s(&want[k]));
        assert_eq!(g.len(), w.len(), "{what}");
        for (i, (a, e)) in g.iter().zip(&w).enumerate() {
            assert!(
                (a - e).abs() <= 1e-12 * e.abs().max(1.0),
                "{what}[{i}]: {a} sharded, {e} on one device"
            );
        }
    }
}

/// The function the batching tests map over, on a 2x2 mesh (partition `p = 2a + b`): `x`
/// (8x4) split by rows over `a` and replicated over `b`, `w` (4x4) replicated; `z =
/// tanh(x w)`, `s = Σ z²` summed over `a` by an all-reduce (replicated), `y = z s` (split by
/// rows over `a`). Without `mesh` the same function on whole values.
fn rows_and_sum(b: &mut Builder, mesh: Option<&Mesh>, x: Value, w: Value) -> Vec<Value> {
    let body =
        |b: &mut Builder, x: Value, w: Value, sum: bool| -> hlo_builder::Result<Vec<Value>> {
            let z = b.matmul(x, w)?;
            let z = b.tanh(z)?;
            let zz = b.mul(z, z)?;
            let s = b.reduce_sum(zz, [0, 1])?;
            let s = if sum {
                b.all_sum(s, Participants::devices(vec![vec![0, 2], vec![1, 3]], 1))?
            } else {
                s
            };
            let y = b.mul(z, s)?;
            Ok(vec![y, s])
        };
    match mesh {
        Some(mesh) => b
            .shard_map(
                mesh,
                vec![Sharding::split(2, 0, "a"), Sharding::replicated(2)],
                vec![Sharding::split(2, 0, "a"), Sharding::replicated(0)],
                &[x, w],
                move |b, a| body(b, a[0], a[1], true),
            )
            .unwrap(),
        None => body(b, x, w, false).unwrap(),
    }
}

/// `L = Σ y v + 3 s` of [`rows_and_sum`].
fn rows_and_sum_loss(b: &mut Builder, mesh: Option<&Mesh>, x: Value, w: Value, v: Value) -> Value {
    let ys = rows_and_sum(b, mesh, x, w);
    let yv = b.mul(ys[0], v).unwrap();
    let l = b.reduce_sum(yv, [0, 1]).unwrap();
    let three = b.scalar(F64, 3.0).unwrap();
    let s3 = b.mul(ys[1], three).unwrap();
    b.add(l, s3).unwrap()
}

/// Example `e` of `xs` along axis `axis`, without that axis.
fn example(b: &mut Builder, xs: Value, axis: usize, e: i64) -> Value {
    let t = b.ty(xs).unwrap().clone();
    let x = b.slice_axis(xs, axis as i64, e, e + 1).unwrap();
    let mut d = t.dims.to_vec();
    d.remove(axis);
    b.reshape(x, d).unwrap()
}

/// The values stacked along a new first axis.
fn stack(b: &mut Builder, vs: &[Value]) -> Value {
    let parts: Vec<Value> = vs
        .iter()
        .map(|&v| {
            let mut d = vec![1];
            d.extend(b.ty(v).unwrap().dims.iter());
            b.reshape(v, d).unwrap()
        })
        .collect();
    b.concatenate(&parts, 0).unwrap()
}

/// Compiles `outs` partitioned over `mesh` (every input and output whole), runs it, and
/// returns the outputs as f64 vectors, and how many manual regions the module has.
fn run_on_mesh(
    b: &Builder,
    mesh: &Mesh,
    outs: &[Value],
    args: &[&Literal],
) -> (Vec<Vec<f64>>, usize) {
    let ins: Vec<Sharding> = args
        .iter()
        .map(|a| Sharding::replicated(a.dims().len()))
        .collect();
    let os: Vec<Sharding> = outs
        .iter()
        .map(|&o| Sharding::replicated(b.ty(o).unwrap().rank()))
        .collect();
    let p = Partitioning::new(mesh.clone()).inputs(ins).outputs(os);
    let m = b.build_partitioned(outs, p).unwrap();
    let exe = m
        .compile(client4())
        .unwrap_or_else(|e| panic!("{e}\n{}", m.to_text()));
    let got = exe
        .run_partitioned(args)
        .unwrap()
        .iter()
        .map(f64s)
        .collect();
    (got, m.to_text().matches("sdy.manual_computation").count())
}

fn assert_all_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-12 * w.abs().max(1.0),
            "{what}[{i}]: {g} vs {w}"
        );
    }
}

/// `vmap` of a function holding a manual region (an input split over a mesh axis, a
/// replicated weight, an all-reduce inside) over 3 examples equals the function applied to
/// each example alone, and the function on whole values: with the weight shared, and with
/// both batched (the input's batch axis in the middle).
#[test]
fn manual_region_batching_equals_the_per_example_loop() {
    const E: i64 = 3;
    let mesh = Mesh::new(&[("a", 2), ("b", 2)]).unwrap();
    // (batch axis of x, whether w is batched)
    for (xa, wb) in [(0usize, false), (1, true)] {
        let what = format!(
            "x batched at axis {xa}, w {}",
            if wb { "batched" } else { "shared" }
        );
        let mut xd = vec![8, 4];
        xd.insert(xa, E);
        let wd: Vec<i64> = if wb { vec![E, 4, 4] } else { vec![4, 4] };
        let mut b = Builder::new("vmap_manual");
        let xs = b.parameter("xs", F64, &xd).unwrap();
        let w = b.parameter("w", F64, &wd).unwrap();
        let mapped = autodiff::vmap(
            &mut b,
            |b, a| Ok(rows_and_sum(b, Some(&mesh), a[0], a[1])),
            &[xs, w],
            &[Some(xa), wb.then_some(0)],
            &[],
        )
        .unwrap_or_else(|e| panic!("{what}: vmap: {e}"));
        let (mut looped, mut plain) = (vec![Vec::new(), Vec::new()], vec![Vec::new(), Vec::new()]);
        for e in 0..E {
            let x = example(&mut b, xs, xa, e);
            let we = if wb { example(&mut b, w, 0, e) } else { w };
            for (k, y) in rows_and_sum(&mut b, Some(&mesh), x, we)
                .into_iter()
                .enumerate()
            {
                looped[k].push(y);
            }
            for (k, y) in rows_and_sum(&mut b, None, x, we).into_iter().enumerate() {
                plain[k].push(y);
            }
        }
        let mut outs = mapped.clone();
        for vs in looped.iter().chain(&plain) {
            outs.push(stack(&mut b, vs));
        }
        assert_eq!(b.ty(outs[0]).unwrap().dims.to_vec(), vec![E, 8, 4]);
        assert_eq!(b.ty(outs[1]).unwrap().dims.to_vec(), vec![E]);
        let mut rng = Rng(7500 + xa as u64);
        let args = [
            lit(&rng.vec(count(&xd), -1.0, 1.0), &xd),
            lit(&rng.vec(count(&wd), -1.0, 1.0), &wd),
        ];
        let (got, regions) = run_on_mesh(&b, &mesh, &outs, &args.iter().collect::<Vec<_>>());
        // One region per example in the loop, one for all of them in vmap (no loop).
        assert_eq!(regions, E as usize + 1, "{what}");
        for (k, name) in ["y", "s"].iter().enumerate() {
            assert_all_close(
                &format!("{what}: vmap {name} vs loop"),
                &got[k],
                &got[2 + k],
            );
            assert_all_close(
                &format!("{what}: loop {name} vs whole values"),
                &got[2 + k],
                &got[4 + k],
            );
        }
        // Not trivially equal: the examples differ.
        assert_ne!(got[1][0], got[1][1], "{what}");
    }
}

/// Per-example gradients through a manual region: `vmap` of `grad` (with respect to the
/// split input and the replicated weight, shared by the examples) equals the gradients
/// taken one example at a time, and those of the function on whole values.
#[test]
fn per_example_gradients_through_a_manual_region() {
    const E: i64 = 3;
    let mesh = Mesh::new(&[("a", 2), ("b", 2)]).unwrap();
    let mut b = Builder::new("vmap_grad_manual");
    let xs = b.parameter("xs", F64, [E, 8, 4]).unwrap();
    let w = b.parameter("w", F64, [4, 4]).unwrap();
    let v = b.parameter("v", F64, [8, 4]).unwrap();
    let mapped = autodiff::vmap(
        &mut b,
        |b, a| {
            let l = rows_and_sum_loss(b, Some(&mesh), a[0], a[1], a[2]);
            autodiff::grad(b, l, &[a[0], a[1]])
        },
        &[xs, w, v],
        &[Some(0), None, None],
        &[],
    )
    .unwrap_or_else(|e| panic!("vmap of grad: {e}"));
    let (mut looped, mut plain) = (vec![Vec::new(), Vec::new()], vec![Vec::new(), Vec::new()]);
    for e in 0..E {
        let x = example(&mut b, xs, 0, e);
        let l = rows_and_sum_loss(&mut b, Some(&mesh), x, w, v);
        for (k, g) in autodiff::grad(&mut b, l, &[x, w])
            .unwrap()
            .into_iter()
            .enumerate()
        {
            looped[k].push(g);
        }
        let l = rows_and_sum_loss(&mut b, None, x, w, v);
        for (k, g) in autodiff::grad(&mut b, l, &[x, w])
            .unwrap()
            .into_iter()
            .enumerate()
        {
            plain[k].push(g);
        }
    }
    let mut outs = mapped.clone();
    for gs in looped.iter().chain(&plain) {
        outs.push(stack(&mut b, gs));
    }
    assert_eq!(b.ty(outs[1]).unwrap().dims.to_vec(), vec![E, 4, 4]);
    let mut rng = Rng(7600);
    let args = [
        lit(&rng.vec(count(&[E, 8, 4]), -1.0, 1.0), &[E, 8, 4]),
        lit(&rng.vec(16, -1.0, 1.0), &[4, 4]),
        lit(&rng.vec(32, -1.0, 1.0), &[8, 4]),
    ];
    let (got, regions) = run_on_mesh(&b, &mesh, &outs, &args.iter().collect::<Vec<_>>());
    // A forward and a backward region for all examples in vmap, two per example in the loop.
    assert_eq!(regions, 2 * (E as usize + 1));
    for (k, name) in ["gradient wrt x", "gradient wrt w"].iter().enumerate() {
        assert_all_close(&format!("vmap {name} vs loop"), &got[k], &got[2 + k]);
        assert_all_close(
            &format!("loop {name} vs whole values"),
            &got[2 + k],
            &got[4 + k],
        );
    }
    // Per example: the weight's gradients differ between examples.
    assert_ne!(got[1][..16], got[1][16..32]);
}

fn compile4_one(b: &Builder, outs: &[Value]) -> Executable {
    b.build(outs).unwrap().compile(client4()).unwrap()
}
