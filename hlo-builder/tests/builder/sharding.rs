//! Programs partitioned over a 4-device mesh by named axes: sharded matmuls (rows, columns,
//! contracting axis, 2x2) equal the unsharded product, with Shardy and with GSPMD, on every
//! installed CPU plugin; the shardings the compiler settled on are read back as shard shapes;
//! host data splits into shards and gathers back.
use crate::common::*;

const PLUGINS: [&str; 3] = [
    "cpu-0.81/xla_cpu_pjrt.so",
    "cpu-0.106/libpjrt_cpu.so",
    "cpu-0.115/pjrt_c_api_cpu_plugin.so",
];

fn client4(rel: &str) -> Option<pjrt::Client> {
    let path = pjrt::discovery::plugins_dir().unwrap_or_default().join(rel);
    if !path.exists() {
        eprintln!("skipping {} (not installed)", path.display());
        return None;
    }
    let plugin = pjrt::Plugin::load(&path).unwrap();
    Some(pjrt::Client::new(&plugin, &pjrt::ClientOptions::new().cpu_device_count(4)).unwrap())
}

fn data(n: usize, k: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7 + k * 3) % 13) as f32 * 0.25 - 1.5)
        .collect()
}

/// `x[m,k] @ w[k,n]` on the host.
fn matmul(x: &[f32], w: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
    let mut y = vec![0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            y[i * n + j] = (0..k).map(|l| x[i * k + l] * w[l * n + j]).sum();
        }
    }
    y
}

struct Case {
    name: &'static str,
    mesh: &'static [(&'static str, i64)],
    x: Sharding,
    w: Sharding,
    y: Sharding,
}

fn cases() -> Vec<Case> {
    let s = Sharding::new;
    vec![
        Case {
            name: "rows",
            mesh: &[("d", 4)],
            x: s(&[&["d"], &[]]),
            w: s(&[&[], &[]]),
            y: s(&[&["d"], &[]]),
        },
        Case {
            name: "columns",
            mesh: &[("d", 4)],
            x: s(&[&[], &[]]),
            w: s(&[&[], &["d"]]),
            y: s(&[&[], &["d"]]),
        },
        Case {
            name: "contracting",
            mesh: &[("d", 4)],
            x: s(&[&[], &["d"]]),
            w: s(&[&["d"], &[]]),
            y: s(&[&[], &[]]),
        },
        Case {
            name: "2x2",
            mesh: &[("a", 2), ("b", 2)],
            x: s(&[&["a"], &[]]),
            w: s(&[&[], &["b"]]),
            y: s(&[&["a"], &["b"]]),
        },
    ]
}

#[test]
fn sharded_matmul_equals_unsharded_on_every_plugin() {
    let (m, k, n) = (8usize, 4usize, 8usize);
    let (xv, wv) = (data(m * k, 1), data(k * n, 2));
    let want = matmul(&xv, &wv, m, k, n);
    let (xl, wl) = (
        lit(&xv, &[m as i64, k as i64]),
        lit(&wv, &[k as i64, n as i64]),
    );
    let mut ran = 0;
    let mut read_back = 0;
    for rel in PLUGINS {
        let Some(client) = client4(rel) else { continue };
        for c in cases() {
            for partitioner in [Partitioner::Shardy, Partitioner::Gspmd] {
                let what = format!("{rel} {} {partitioner:?}", c.name);
                let mesh = Mesh::new(c.mesh).unwrap();
                let mut b = Builder::new("matmul");
                let x = b.parameter("x", F32, [m as i64, k as i64]).unwrap();
                let w = b.parameter("w", F32, [k as i64, n as i64]).unwrap();
                let y = b.matmul(x, w).unwrap();
                let p = Partitioning::new(mesh.clone())
                    .partitioner(partitioner)
                    .inputs(vec![c.x.clone(), c.w.clone()])
                    .outputs(vec![c.y.clone()]);
                let module = b.build_partitioned(&[y], p).unwrap();
                let opts = module.compile_options();
                assert_eq!(opts.num_partitions, 4);
                assert!(opts.use_spmd_partitioning);
                assert_eq!(
                    opts.use_shardy_partitioner,
                    partitioner == Partitioner::Shardy
                );
                let exe = module
                    .compile(&client)
                    .unwrap_or_else(|e| panic!("{what}: {e}\n{}", module.to_text()));
                // The compiled parameters and outputs have the shard shapes.
                let params: Vec<Vec<i64>> = exe
                    .loaded()
                    .parameters()
                    .expect("parameter shapes")
                    .iter()
                    .map(|p| p.dims.clone())
                    .collect();
                let xt = TensorType::new(F32, [m as i64, k as i64]);
                let wt = TensorType::new(F32, [k as i64, n as i64]);
                let yt = TensorType::new(F32, [m as i64, n as i64]);
                assert_eq!(
                    params,
                    vec![
                        c.x.shard_type(&mesh, &xt).unwrap().dims.to_vec(),
                        c.w.shard_type(&mesh, &wt).unwrap().dims.to_vec()
                    ],
                    "{what}: parameter shard shapes"
                );
                let outs = exe.loaded().executable().output_dims().unwrap();
                assert_eq!(
                    outs,
                    vec![c.y.shard_type(&mesh, &yt).unwrap().dims.to_vec()],
                    "{what}: output shard shapes"
                );
                // The shardings read back (0.106 and 0.115 have the Shardings extension):
                // the same tile assignments as the GSPMD form of ours.
                if let Some((ins, outs)) = exe.shardings().unwrap() {
                    let text = |v: &[pjrt::ext::shardings::OpSharding]| {
                        v.iter().map(|s| s.to_string()).collect::<Vec<_>>()
                    };
                    assert_eq!(
                        text(&ins),
                        vec![c.x.gspmd(&mesh).unwrap(), c.w.gspmd(&mesh).unwrap()],
                        "{what}: input shardings"
                    );
                    assert_eq!(
                        text(&outs),
                        vec![c.y.gspmd(&mesh).unwrap()],
                        "{what}: output shardings"
                    );
                    read_back += 1;
                }
                let got = exe.run_partitioned(&[&xl, &wl]).unwrap();
                assert_close(&what, &f32s(&got[0]), &want, 1e-5);
            }
        }
        ran += 1;
    }
    assert!(ran >= 1);
    assert!(read_back >= 1 || ran == 1, "no plugin read shardings back");
}

#[test]
fn annotations_in_the_module_text() {
    let mesh = Mesh::new(&[("a", 2), ("b", 2)]).unwrap();
    let mut b = Builder::new("f");
    let x = b.parameter("x", F32, [4, 4]).unwrap();
    let y = b.neg(x).unwrap();
    let s = Sharding::new(&[&["a"], &["b"]]);
    let p = Partitioning::new(mesh.clone())
        .inputs(vec![s.clone()])
        .outputs(vec![Sharding::split(2, 0, "b")]);
    let t = b
        .build_partitioned(&[y], p.clone())
        .unwrap()
        .to_text()
        .to_string();
    assert!(t.contains(r#"#sdy.mesh<["a"=2, "b"=2]>"#), "{t}");
    assert!(
        t.contains(r#"sdy.sharding = #sdy.sharding<@mesh, [{"a"}, {"b"}]>"#),
        "{t}"
    );
    assert!(t.contains(r#"#sdy.sharding<@mesh, [{"b"}, {}]>"#), "{t}");
    let g = b
        .build_partitioned(&[y], p.partitioner(Partitioner::Gspmd))
        .unwrap()
        .to_text()
        .to_string();
    assert!(!g.contains("sdy."), "{g}");
    assert!(
        g.contains(r#"mhlo.sharding = "{devices=[2,2]0,1,2,3}""#),
        "{g}"
    );
    // Axis 0 over "b" with "a" replicating: tiles follow b, replicas follow a.
    assert!(
        g.contains(r#"mhlo.sharding = "{devices=[2,1,2]0,2,1,3 last_tile_dim_replicate}""#),
        "{g}"
    );
}

#[test]
fn split_and_gather_round_trip() {
    let mesh = Mesh::new(&[("a", 2), ("b", 2)]).unwrap();
    let t = TensorType::new(F32, [4, 6]);
    let v: Vec<f32> = (0..24).map(|i| i as f32).collect();
    let l = lit(&v, &[4, 6]);
    let s = Sharding::new(&[&["b"], &["a"]]);
    let shards = s.split_literal(&mesh, &l).unwrap();
    assert_eq!(shards.len(), 4);
    // Partition 1 is (a=0, b=1): rows 2..4, columns 0..3.
    assert_eq!(f32s(&shards[1]), vec![12.0, 13.0, 14.0, 18.0, 19.0, 20.0]);
    let back = s.gather_literal(&mesh, &t, &shards).unwrap();
    assert_eq!(f32s(&back), v);
    let r = Sharding::replicated(2).split_literal(&mesh, &l).unwrap();
    assert!(r.iter().all(|x| f32s(x) == v));
}

#[test]
fn bad_shardings_are_refused_with_the_reason() {
    let mesh = Mesh::new(&[("a", 2), ("b", 2)]).unwrap();
    let mut b = Builder::new("f");
    let x = b.parameter("x", F32, [3, 4]).unwrap();
    let build = |s: Sharding| {
        b.build_partitioned(&[x], Partitioning::new(mesh.clone()).inputs(vec![s]))
            .unwrap_err()
            .to_string()
    };
    let e = build(Sharding::new(&[&["a"], &[]]));
    assert!(
        e.contains("parameter 0") && e.contains("not a multiple of 2"),
        "{e}"
    );
    let e = build(Sharding::new(&[&["c"], &[]]));
    assert!(e.contains("no axis \"c\""), "{e}");
    let e = build(Sharding::new(&[&[], &["a", "a"]]));
    assert!(e.contains("more than one"), "{e}");
    let e = build(Sharding::new(&[&[]]));
    assert!(e.contains("rank 2"), "{e}");
    assert!(Sharding::new(&[&["a"], &["a"]]).gspmd(&mesh).is_err());
    assert!(Mesh::new(&[("a", 0)]).is_err());
    assert!(Mesh::new(&[("a", 2), ("a", 2)]).is_err());
}

#[test]
fn intermediate_values_sharded_by_axis_name() {
    // y = tanh(x @ w1) constrained to rows over "a" and columns over "b", then y @ w2 with
    // everything else replicated; the numbers are the unsharded ones on every plugin.
    let (m, k, h, n) = (8usize, 4usize, 8usize, 4usize);
    let (xv, w1v, w2v) = (data(m * k, 1), data(k * h, 2), data(h * n, 3));
    let y: Vec<f32> = matmul(&xv, &w1v, m, k, h)
        .iter()
        .map(|v| v.tanh())
        .collect();
    let want = matmul(&y, &w2v, m, h, n);
    let build = |b: &mut Builder| {
        let x = b.parameter("x", F32, [m as i64, k as i64]).unwrap();
        let w1 = b.parameter("w1", F32, [k as i64, h as i64]).unwrap();
        let w2 = b.parameter("w2", F32, [h as i64, n as i64]).unwrap();
        let y = b.matmul(x, w1).unwrap();
        let y = b.tanh(y).unwrap();
        let y = b.shard(y, Sharding::new(&[&["a"], &["b"]])).unwrap();
        b.matmul(y, w2).unwrap()
    };
    let args = [
        lit(&xv, &[m as i64, k as i64]),
        lit(&w1v, &[k as i64, h as i64]),
        lit(&w2v, &[h as i64, n as i64]),
    ];
    let refs: Vec<&Literal> = args.iter().collect();
    // Not partitioned: the constraint is the identity and emits nothing.
    let mut b = Builder::new("plain");
    let out = build(&mut b);
    let plain = b.build(&[out]).unwrap();
    assert!(!plain.to_text().contains("sdy."), "{}", plain.to_text());
    assert_close(
        "plain",
        &f32s(&plain.compile(client()).unwrap().run(&refs).unwrap()[0]),
        &want,
        1e-5,
    );

    let mesh = Mesh::new(&[("a", 2), ("b", 2)]).unwrap();
    let mut ran = 0;
    for rel in PLUGINS {
        let Some(client) = client4(rel) else { continue };
        for partitioner in [Partitioner::Shardy, Partitioner::Gspmd] {
            let mut b = Builder::new("constrained");
            let out = build(&mut b);
            let module = b
                .build_partitioned(
                    &[out],
                    Partitioning::new(mesh.clone()).partitioner(partitioner),
                )
                .unwrap();
            let text = module.to_text();
            match partitioner {
                Partitioner::Shardy => assert!(
                    text.contains(r#""sdy.sharding_constraint"(%"#)
                        && text.contains(r#"#sdy.sharding<@mesh, [{"a"}, {"b"}]>"#),
                    "{text}"
                ),
                Partitioner::Gspmd => assert!(
                    text.contains(r#"call_target_name = "Sharding""#)
                        && text.contains(r#"mhlo.sharding = "{devices=[2,2]0,1,2,3}""#),
                    "{text}"
                ),
            }
            let exe = module
                .compile(&client)
                .unwrap_or_else(|e| panic!("{rel} {partitioner:?}: {e}\n{text}"));
            let got = exe.run_partitioned(&refs).unwrap();
            assert_close(
                &format!("{rel} {partitioner:?}"),
                &f32s(&got[0]),
                &want,
                1e-5,
            );
        }
        ran += 1;
    }
    assert!(ran >= 1);

    // A constraint naming an axis the mesh lacks is refused when the module is built.
    let mut b = Builder::new("bad");
    let x = b.parameter("x", F32, [4, 4]).unwrap();
    let y = b.shard(x, Sharding::new(&[&["z"], &[]])).unwrap();
    let e = b
        .build_partitioned(&[y], Partitioning::new(mesh))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sharding_constraint") && e.contains("no axis \"z\""),
        "{e}"
    );
    assert!(b.shard(x, Sharding::new(&[&[]])).is_err());
}

#[test]
fn manual_regions_run_on_each_devices_shard() {
    // shard_map over 4 devices: x [8, 4] split by rows, each device sums its 2 rows and the
    // devices all-reduce the partial sums (global device ids): column sums, replicated;
    // and each device's rows doubled, split by rows again.
    let mesh = Mesh::new(&[("d", 4)]).unwrap();
    let xv = data(32, 4);
    let mut b = Builder::new("manual");
    let x = b.parameter("x", F32, [8, 4]).unwrap();
    let outs = b
        .shard_map(
            &mesh,
            vec![Sharding::split(2, 0, "d")],
            vec![Sharding::replicated(1), Sharding::split(2, 0, "d")],
            &[x],
            |b, a| {
                assert_eq!(b.ty(a[0])?.dims.as_slice(), &[2, 4]);
                let s = b.reduce_sum(a[0], [0])?;
                let s = b.all_reduce(
                    s,
                    Reducer::Sum,
                    Participants::devices(vec![vec![0, 1, 2, 3]], 1),
                )?;
                let two = b.scalar(F32, 2.0)?;
                Ok(vec![s, b.mul(a[0], two)?])
            },
        )
        .unwrap();
    assert_eq!(b.ty(outs[1]).unwrap().dims.as_slice(), &[8, 4]);
    let m = b
        .build_partitioned(
            &outs,
            Partitioning::new(mesh.clone())
                .inputs(vec![Sharding::split(2, 0, "d")])
                .outputs(vec![Sharding::replicated(1), Sharding::split(2, 0, "d")]),
        )
        .unwrap();
    assert!(
        m.to_text().contains("sdy.manual_computation"),
        "{}",
        m.to_text()
    );
    let want_sum: Vec<f32> = (0..4)
        .map(|j| (0..8).map(|i| xv[i * 4 + j]).sum())
        .collect();
    let want_double: Vec<f32> = xv.iter().map(|v| v * 2.0).collect();
    let x = lit(&xv, &[8, 4]);
    let mut ran = 0;
    for rel in PLUGINS {
        let Some(client) = client4(rel) else { continue };
        let exe = m
            .compile(&client)
            .unwrap_or_else(|e| panic!("{rel}: {e}\n{}", m.to_text()));
        let got = exe.run_partitioned(&[&x]).unwrap();
        assert_close(&format!("{rel} sums"), &f32s(&got[0]), &want_sum, 1e-5);
        assert_close(
            &format!("{rel} doubled"),
            &f32s(&got[1]),
            &want_double,
            1e-6,
        );
        ran += 1;
    }
    assert!(ran >= 1);
    // GSPMD, another mesh, or no partitioning at all: refused with the reason.
    let p = Partitioning::new(mesh.clone())
        .inputs(vec![Sharding::split(2, 0, "d")])
        .partitioner(Partitioner::Gspmd);
    let e = b.build_partitioned(&outs, p).unwrap_err().to_string();
    assert!(e.contains("shard_map") && e.contains("Shardy"), "{e}");
    let e = b.build(&outs).unwrap_err().to_string();
    assert!(e.contains("shard_map"), "{e}");
    // The body's shapes are checked: a wrong output sharding rank.
    let x2 = x_param(&mut b);
    let e = b
        .shard_map(
            &mesh,
            vec![Sharding::split(2, 0, "d")],
            vec![Sharding::replicated(2)],
            &[x2],
            |b, a| Ok(vec![b.reduce_sum(a[0], [0])?]),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("shard_map") && e.contains("result 0"), "{e}");
}

fn x_param(b: &mut Builder) -> Value {
    b.parameter("x2", F32, [8, 4]).unwrap()
}
