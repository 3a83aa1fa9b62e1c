//! One module using most primitives, compiled from text and from bytecode on every installed
//! CPU plugin (0.81, 0.106, 0.115); all must agree.
use crate::common::*;

fn broad_module() -> Module {
    let mut b = Builder::new("broad");
    let x = b.parameter("x", F32, [2, 3]).unwrap();
    let w = b.parameter("w", F32, [3, 4]).unwrap();
    let img = b.parameter("img", F32, [1, 4, 4, 2]).unwrap();
    let k = b.parameter("k", F32, [3, 3, 2, 2]).unwrap();
    let y = b.matmul(x, w).unwrap();
    let s = b.softmax(y, 1).unwrap();
    let am = b.argmax(y, 1).unwrap();
    let g = b.gelu(x, false).unwrap();
    let (tv, ti) = b.top_k(x, 2).unwrap();
    let cs = b.cumsum(x, 1).unwrap();
    let mut cc = ConvConfig::new(ConvDims::nhwc(2));
    cc.padding = vec![(1, 1), (1, 1)];
    let conv = b.convolution(img, k, cc).unwrap();
    let mp = b.max_pool(conv, [1, 2, 2, 1], [1, 2, 2, 1]).unwrap();
    let p = b.scalar(Pred, 0.0).unwrap();
    let r = b
        .cond(
            p,
            &[x],
            |b, a| Ok(vec![b.neg(a[0])?]),
            |b, a| Ok(vec![b.tanh(a[0])?]),
        )
        .unwrap();
    let i0 = b.scalar(S32, 0.0).unwrap();
    let wl = b
        .while_loop(
            &[i0, x],
            |b, a| {
                let n = b.scalar(S32, 3.0)?;
                Ok(vec![b.lt(a[0], n)?])
            },
            |b, a| {
                let one = b.scalar(S32, 1.0)?;
                let half = b.scalar(F32, 0.5)?;
                Ok(vec![b.add(a[0], one)?, b.mul(a[1], half)?])
            },
        )
        .unwrap();
    let f = Builder::computation("sq", &[TensorType::new(F32, [2, 3])], |b, a| {
        Ok(vec![b.mul(a[0], a[0])?])
    })
    .unwrap();
    let c = b.call(&f, &[x]).unwrap();
    let st = b.constant(&[5u64, 6], [2]).unwrap();
    let (_, u) = b.rng_uniform(st, F32, [4]).unwrap();
    let v = b.var(x, [0, 1]).unwrap();
    b.build(&[y, s, am, g, tv, ti, cs, conv, mp, r[0], wl[1], c[0], u, v])
        .unwrap()
}

fn inputs() -> Vec<Literal> {
    let d = |n: usize| {
        (0..n)
            .map(|i| ((i * 5 % 7) as f32 - 3.0) * 0.5)
            .collect::<Vec<f32>>()
    };
    vec![
        lit(&d(6), &[2, 3]),
        lit(&d(12), &[3, 4]),
        lit(&d(32), &[1, 4, 4, 2]),
        lit(&d(36), &[3, 3, 2, 2]),
    ]
}

fn as_f64(l: &Literal) -> Vec<f64> {
    match l.element_type() {
        F32 => f32s(l).into_iter().map(f64::from).collect(),
        S32 => i32s(l).into_iter().map(f64::from).collect(),
        t => panic!("unexpected {t:?}"),
    }
}

#[test]
fn every_installed_plugin_agrees() {
    let m = broad_module();
    let args = inputs();
    let refs: Vec<&Literal> = args.iter().collect();
    let want: Vec<Vec<f64>> = m
        .compile(client())
        .unwrap()
        .run(&refs)
        .unwrap()
        .iter()
        .map(as_f64)
        .collect();
    let root = pjrt::discovery::plugins_dir().unwrap_or_default();
    let mut ran = 0;
    for rel in [
        "cpu-0.81/xla_cpu_pjrt.so",
        "cpu-0.106/libpjrt_cpu.so",
        "cpu-0.115/pjrt_c_api_cpu_plugin.so",
    ] {
        let path = root.join(rel);
        if !path.exists() {
            eprintln!("skipping {} (not installed)", path.display());
            continue;
        }
        let c = pjrt::Client::from_path(&path).unwrap();
        let read_back = hlo_builder::program_from_bytecode(m.bytecode()).unwrap();
        for (fmt, prog) in [
            ("bytecode", m.program()),
            ("text", m.program_text()),
            ("bytecode read back as text", read_back),
        ] {
            let exe = c
                .compile(&prog)
                .unwrap_or_else(|e| panic!("{rel} {fmt}: {e}"));
            let got = exe.run(&refs).unwrap();
            for (i, (g, w)) in got.iter().map(as_f64).zip(&want).enumerate() {
                assert_eq!(g.len(), w.len());
                for (a, e) in g.iter().zip(w) {
                    assert!(
                        (a - e).abs() <= 2e-6 * e.abs().max(1.0),
                        "{rel} {fmt}: output {i}: {a} vs {e}"
                    );
                }
            }
        }
        ran += 1;
    }
    assert!(ran >= 1);
}
