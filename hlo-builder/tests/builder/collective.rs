//! Collectives on 4 CPU devices (one client with `cpu_device_count = 4`, programs compiled
//! with 4 replicas): every primitive against the same computation done here on the host, and
//! what the CPU platform cannot run refused before the plugin sees it.
use std::sync::OnceLock;

use crate::common::*;

const N: usize = 4;

/// A CPU client with 4 devices, shared by these tests.
pub fn client4() -> &'static pjrt::Client {
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

/// Device `d`'s input: `len` distinct values.
fn input(d: usize, len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((d * 7 + i * 3) % 11) as f32 - 5.0 + 0.25 * d as f32)
        .collect()
}

/// Builds `f(x: f32[dims])`, compiles it for 4 replicas and runs it with device `d` holding
/// `input(d, ..)`; returns each device's output as f32.
fn run4(dims: &[i64], f: impl FnOnce(&mut Builder, Value) -> Value) -> Vec<Vec<f32>> {
    let mut b = Builder::new("collective");
    let x = b.parameter("x", F32, dims).unwrap();
    let y = f(&mut b, x);
    let m = b.build(&[y]).unwrap();
    let exe = m
        .compile_with(client4(), &pjrt::CompileOptions::new().replicas(N))
        .unwrap_or_else(|e| panic!("compile: {e}\n{}", m.to_text()));
    let len = dims.iter().product::<i64>() as usize;
    let lits: Vec<Literal> = (0..N).map(|d| lit(&input(d, len), dims)).collect();
    let args: Vec<Vec<&Literal>> = lits.iter().map(|l| vec![l]).collect();
    let outs = exe.run_devices(&args).unwrap();
    outs.iter()
        .map(|o| {
            assert_eq!(o.len(), 1);
            if o[0].element_type() == U32 {
                o[0].to_vec::<u32>()
                    .unwrap()
                    .into_iter()
                    .map(|v| v as f32)
                    .collect()
            } else {
                f32s(&o[0])
            }
        })
        .collect()
}

fn check(what: &str, got: &[Vec<f32>], want: &[Vec<f32>]) {
    assert_eq!(got.len(), want.len(), "{what}: devices");
    for (d, (g, w)) in got.iter().zip(want).enumerate() {
        assert_close(&format!("{what} device {d}"), g, w, 1e-6);
    }
}

fn combine(groups: &[Vec<usize>], len: usize, f: impl Fn(f32, f32) -> f32) -> Vec<Vec<f32>> {
    let mut out = vec![Vec::new(); N];
    for g in groups {
        let mut acc = input(g[0], len);
        for &d in &g[1..] {
            for (a, v) in acc.iter_mut().zip(input(d, len)) {
                *a = f(*a, v);
            }
        }
        for &d in g {
            out[d] = acc.clone();
        }
    }
    out
}

#[test]
fn all_reduce_every_reducer() {
    let all = vec![vec![0, 1, 2, 3]];
    type Combine = fn(f32, f32) -> f32;
    let cases: Vec<(Reducer, Combine)> = vec![
        (Reducer::Sum, |a, b| a + b),
        (Reducer::Product, |a, b| a * b),
        (Reducer::Max, f32::max),
        (Reducer::Min, f32::min),
    ];
    for (r, f) in cases {
        let got = run4(&[2, 3], |b, x| {
            b.all_reduce(x, r, Participants::all(4)).unwrap()
        });
        check(&format!("{r:?}"), &got, &combine(&all, 6, f));
    }
    // Two groups combine on their own.
    let got = run4(&[5], |b, x| {
        b.all_sum(x, Participants::replicas(vec![vec![0, 2], vec![1, 3]]))
            .unwrap()
    });
    check(
        "sum over {0,2},{1,3}",
        &got,
        &combine(&[vec![0, 2], vec![1, 3]], 5, |a, b| a + b),
    );
}

#[test]
fn custom_reducers() {
    // A reducer that is no named monoid, max(|a|, |b|), is recorded as the op's region; the
    // lowering writes it out, and XLA:CPU, which only runs the named reducers across
    // devices, gets it refused before compile.
    let mut b = Builder::new("max_abs");
    let x = b.parameter("x", F32, [3]).unwrap();
    let y = b
        .all_reduce_with(x, Participants::all(4), |b, a| {
            let (p, q) = (b.abs(a[0])?, b.abs(a[1])?);
            Ok(vec![b.max(p, q)?])
        })
        .unwrap();
    let m = b.build(&[y]).unwrap();
    assert!(m.to_text().contains("stablehlo.abs"), "{}", m.to_text());
    let e = m
        .compile_with(client4(), &pjrt::CompileOptions::new().replicas(N))
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Unsupported {
                op: "all_reduce",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("named reducers"), "{e}");
}

#[test]
fn a_closure_adding_is_the_sum_reducer() {
    let mut b = Builder::new("named");
    let x = b.parameter("x", F32, [2]).unwrap();
    let y = b
        .all_reduce_with(x, Participants::all(4), |b, a| Ok(vec![b.add(a[0], a[1])?]))
        .unwrap();
    let m = b.build(&[y]).unwrap();
    // `add` is recognised as the Sum monoid: the lowering writes the region itself.
    assert!(
        m.to_text().contains("stablehlo.all_reduce"),
        "{}",
        m.to_text()
    );
    assert!(m.to_text().contains("stablehlo.add"), "{}", m.to_text());
}

#[test]
fn all_gather_reduce_scatter_all_to_all() {
    // all_gather along axis 1: device d's [2, 2] blocks side by side -> [2, 8] everywhere.
    let got = run4(&[2, 2], |b, x| {
        b.all_gather(x, 1, Participants::all(4)).unwrap()
    });
    let mut want = vec![0f32; 16];
    for d in 0..N {
        let v = input(d, 4);
        for r in 0..2 {
            for c in 0..2 {
                want[r * 8 + d * 2 + c] = v[r * 2 + c];
            }
        }
    }
    check("all_gather", &got, &vec![want; N]);

    // reduce_scatter along axis 0 of [8, 3]: device k keeps rows 2k..2k+2 of the sum.
    let got = run4(&[8, 3], |b, x| {
        b.reduce_scatter(x, 0, Reducer::Sum, Participants::all(4))
            .unwrap()
    });
    let sum = &combine(&[vec![0, 1, 2, 3]], 24, |a, b| a + b)[0];
    let want: Vec<Vec<f32>> = (0..N).map(|k| sum[k * 6..k * 6 + 6].to_vec()).collect();
    check("reduce_scatter", &got, &want);
    let got = run4(&[8, 3], |b, x| {
        b.reduce_scatter(x, 0, Reducer::Max, Participants::all(4))
            .unwrap()
    });
    let max = &combine(&[vec![0, 1, 2, 3]], 24, f32::max)[0];
    let want: Vec<Vec<f32>> = (0..N).map(|k| max[k * 6..k * 6 + 6].to_vec()).collect();
    check("reduce_scatter max", &got, &want);

    // all_to_all split 0 concat 1 on [4, 2]: device k receives row k of each device d, placed
    // at columns 2d..2d+2 -> [1, 8].
    let got = run4(&[4, 2], |b, x| {
        b.all_to_all(x, 0, 1, Participants::all(4)).unwrap()
    });
    let want: Vec<Vec<f32>> = (0..N)
        .map(|k| {
            (0..N)
                .flat_map(|d| input(d, 8)[k * 2..k * 2 + 2].to_vec())
                .collect()
        })
        .collect();
    check("all_to_all", &got, &want);
}

#[test]
fn permute_and_ids() {
    // A ring: d sends to d+1.
    let ring: Vec<(i64, i64)> = (0..4).map(|d| (d, (d + 1) % 4)).collect();
    let got = run4(&[3], |b, x| b.collective_permute(x, ring, None).unwrap());
    let want: Vec<Vec<f32>> = (0..N).map(|d| input((d + 3) % 4, 3)).collect();
    check("ring permute", &got, &want);
    // A partial permutation: 0 -> 2 and 3 -> 1; replicas 0 and 3 receive nothing (zeros).
    let got = run4(&[3], |b, x| {
        b.collective_permute(x, vec![(0, 2), (3, 1)], None).unwrap()
    });
    let want = vec![vec![0.0; 3], input(3, 3), input(0, 3), vec![0.0; 3]];
    check("partial permute", &got, &want);
    // replica_id is the device's index; partition_id is 0 in a replicated program.
    let got = run4(&[1], |b, _| b.replica_id().unwrap());
    check(
        "replica_id",
        &got,
        &[vec![0.0], vec![1.0], vec![2.0], vec![3.0]],
    );
    let got = run4(&[1], |b, _| b.partition_id().unwrap());
    check("partition_id", &got, &vec![vec![0.0]; N]);
}

#[test]
fn what_cpu_cannot_do_is_refused_before_compile() {
    let mut b = Builder::new("bcast");
    let x = b.parameter("x", F32, [2]).unwrap();
    let y = b.collective_broadcast(x, Participants::all(4)).unwrap();
    let m = b.build(&[y]).unwrap();
    let e = m
        .compile_with(client4(), &pjrt::CompileOptions::new().replicas(N))
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Unsupported {
                op: "collective_broadcast",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("XLA:CPU"), "{e}");

    // Groups naming replica 5 in a 4-replica program.
    let mut b = Builder::new("too_many");
    let x = b.parameter("x", F32, [2]).unwrap();
    let y = b.all_sum(x, Participants::all(6)).unwrap();
    let m = b.build(&[y]).unwrap();
    let e = m
        .compile_with(client4(), &pjrt::CompileOptions::new().replicas(N))
        .unwrap_err()
        .to_string();
    assert!(e.contains("all_reduce") && e.contains("id 5"), "{e}");

    // More replicas than the client has devices.
    let mut b = Builder::new("eight");
    let x = b.parameter("x", F32, [2]).unwrap();
    let y = b.all_sum(x, Participants::all(8)).unwrap();
    let m = b.build(&[y]).unwrap();
    let e = m
        .compile_with(client4(), &pjrt::CompileOptions::new().replicas(8))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("multi-process program") && e.contains("8 devices") && e.contains("addresses 4"),
        "{e}"
    );
    // A device assignment naming a device of another process (the 0.115 plugin numbers a
    // second process's devices from 2048).
    let mut b = Builder::new("elsewhere");
    let x = b.parameter("x", F32, [2]).unwrap();
    let y = b.all_sum(x, Participants::all(2)).unwrap();
    let m = b.build(&[y]).unwrap();
    let a = pjrt::DeviceAssignment::new(vec![vec![0], vec![2048]]).unwrap();
    let e = m
        .compile_with(
            client4(),
            &pjrt::CompileOptions::new().replicas(2).device_assignment(a),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Unsupported {
                op: "multi-process program",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("device 2048"), "{e}");
}

#[test]
fn shape_errors_name_the_op() {
    let mut b = Builder::new("bad");
    let x = b.parameter("x", F32, [6, 3]).unwrap();
    let e = b
        .reduce_scatter(x, 0, Reducer::Sum, Participants::all(4))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("reduce_scatter") && e.contains("group size 4"),
        "{e}"
    );
    let e = b
        .all_gather(x, 2, Participants::all(4))
        .unwrap_err()
        .to_string();
    assert!(e.contains("all_gather") && e.contains("axis 2"), "{e}");
    let e = b
        .collective_permute(x, vec![(0, 1), (0, 2)], None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("collective_permute") && e.contains("source 0"),
        "{e}"
    );
}

#[test]
fn and_or_reducers() {
    // Logical and / or over the 4 devices of pred values.
    let mut b = Builder::new("logic");
    let x = b.parameter("x", Pred, [4]).unwrap();
    let a = b.all_reduce(x, Reducer::And, Participants::all(4)).unwrap();
    let o = b.all_reduce(x, Reducer::Or, Participants::all(4)).unwrap();
    let exe = b
        .build(&[a, o])
        .unwrap()
        .compile_with(client4(), &pjrt::CompileOptions::new().replicas(N))
        .unwrap();
    // Column 0 all true, column 1 all false, column 2 true on device 2 only, column 3 false
    // on device 1 only.
    let data: Vec<Vec<bool>> = (0..N).map(|d| vec![true, false, d == 2, d != 1]).collect();
    let lits: Vec<Literal> = data
        .iter()
        .map(|v| Literal::from_bools(v, &[4]).unwrap())
        .collect();
    let args: Vec<Vec<&Literal>> = lits.iter().map(|l| vec![l]).collect();
    for o in exe.run_devices(&args).unwrap() {
        assert_eq!(bools(&o[0]), vec![true, false, false, false]);
        assert_eq!(bools(&o[1]), vec![true, false, true, true]);
    }
    // On s32 XLA:CPU has no bitwise reduction across devices: refused before compile.
    let mut b = Builder::new("bits");
    let x = b.parameter("x", S32, [3]).unwrap();
    let y = b.all_reduce(x, Reducer::Or, Participants::all(4)).unwrap();
    let e = b
        .build(&[y])
        .unwrap()
        .compile_with(client4(), &pjrt::CompileOptions::new().replicas(N))
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Unsupported {
                op: "all_reduce",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("s32[3]"), "{e}");
}

#[test]
fn collectives_survive_the_export_codec() {
    // Every collective (and a sharding constraint) written to an artifact and read back
    // re-records the same module at other batch sizes.
    let f = |b: &mut Builder, batch: i64, _: &[Value]| -> hlo_builder::Result<Vec<Value>> {
        let x = b.parameter("x", F32, [batch, 4])?;
        let y = b.all_sum(x, Participants::replicas(vec![vec![0, 1], vec![2, 3]]))?;
        let y = b.all_reduce(y, Reducer::Max, Participants::all(4))?;
        let z = b.all_gather(y, 1, Participants::all(4))?;
        let z = b.collective_permute(z, vec![(0, 1), (1, 2), (2, 3), (3, 0)], Some(2))?;
        let r = b.reduce_scatter(z, 1, Reducer::Sum, Participants::all(4))?;
        let a = b.all_to_all(r, 1, 1, Participants::all(4))?;
        let s = b.shard(a, Sharding::new(&[&[], &["d"]]))?;
        let id = b.replica_id()?;
        let pid = b.partition_id()?;
        Ok(vec![s, id, pid])
    };
    let exported = export::Exported::record("coll", 8, vec![], f).unwrap();
    let loaded = export::Exported::from_bytes(&exported.to_bytes()).unwrap();
    assert_eq!(loaded, exported);
    for n in [8, 3] {
        let mut b = Builder::new("coll");
        let outs = f(&mut b, n, &[]).unwrap();
        let want = b.build(&outs).unwrap();
        assert_eq!(
            loaded.specialize(n).unwrap().to_text(),
            want.to_text(),
            "batch {n}"
        );
    }
}
