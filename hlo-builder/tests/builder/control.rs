//! while, if, case, calls, several functions and results, optimization_barrier, rng,
//! custom_call.
use crate::common::*;
use std::sync::Arc;

#[test]
fn while_loop_fibonacci() {
    // state (i, a, b): while i < n { (i+1, b, a+b) }; fib(10) = 55
    let mut b = Builder::new("while");
    let n = b.parameter("n", S32, []).unwrap();
    let i = b.scalar(S32, 0.0).unwrap();
    let f0 = b.scalar(S64, 0.0).unwrap();
    let f1 = b.scalar(S64, 1.0).unwrap();
    // the loop bound comes in as loop state too (regions cannot capture outer values)
    let out = b
        .while_loop(
            &[i, f0, f1, n],
            |b, s| Ok(vec![b.lt(s[0], s[3])?]),
            |b, s| {
                let one = b.scalar(S32, 1.0)?;
                let i2 = b.add(s[0], one)?;
                let sum = b.add(s[1], s[2])?;
                Ok(vec![i2, s[2], sum, s[3]])
            },
        )
        .unwrap();
    let got = run(&b, &[out[0], out[1]], &[&Literal::scalar(10i32)]);
    assert_eq!(i32s(&got[0]), vec![10]);
    assert_eq!(got[1].to_vec::<i64>().unwrap(), vec![55]);
}

#[test]
fn if_and_case_branches() {
    let mut b = Builder::new("branches");
    let p = b.parameter("p", Pred, []).unwrap();
    let k = b.parameter("k", S32, []).unwrap();
    let x = b.parameter("x", F32, [3]).unwrap();
    let r = b
        .cond(
            p,
            &[x],
            |b, a| Ok(vec![b.neg(a[0])?]),
            |b, a| Ok(vec![b.add(a[0], a[0])?]),
        )
        .unwrap();
    let tys = vec![TensorType::new(F32, [3])];
    let br = vec![
        Builder::computation("b0", &tys, |b, a| Ok(vec![b.exp(a[0])?])).unwrap(),
        Builder::computation("b1", &tys, |b, a| Ok(vec![b.mul(a[0], a[0])?])).unwrap(),
        Builder::computation("b2", &tys, |b, a| Ok(vec![b.zeros_like(a[0])?])).unwrap(),
    ];
    let c = b.case_with(k, &[x], br).unwrap();
    let m = b.build(&[r[0], c[0]]).unwrap();
    let exe = m.compile(client()).unwrap();
    let xv = lit(&[0.0f32, 1.0, 2.0], &[3]);
    let go = |p: bool, k: i32| {
        let o = exe
            .run(&[
                &Literal::from_bools(&[p], &[]).unwrap(),
                &Literal::scalar(k),
                &xv,
            ])
            .unwrap();
        (f32s(&o[0]), f32s(&o[1]))
    };
    assert_eq!(go(true, 1), (vec![-0.0, -1.0, -2.0], vec![0.0, 1.0, 4.0]));
    let (f, e) = go(false, 0);
    assert_eq!(f, vec![0.0, 2.0, 4.0]);
    assert_close("exp branch", &e, &[1.0, 1f32.exp(), 2f32.exp()], 1e-6);
    // an out-of-range index runs the last branch
    assert_eq!(go(false, 7).1, vec![0.0; 3]);
    assert_eq!(go(false, -1).1, vec![0.0; 3]);
}

#[test]
fn calls_several_functions_and_results() {
    // f(x, y) = (x*y, x+y); g(x) = f(x, x).0 + 1 (a call inside a callee)
    let t = TensorType::new(F32, [2]);
    let f = Builder::computation("f", &[t.clone(), t.clone()], |b, a| {
        Ok(vec![b.mul(a[0], a[1])?, b.add(a[0], a[1])?])
    })
    .unwrap();
    let f2 = f.clone();
    let g = Builder::computation("g", std::slice::from_ref(&t), move |b, a| {
        let r = b.call(&f2, &[a[0], a[0]])?;
        let one = b.scalar(F32, 1.0)?;
        Ok(vec![b.add(r[0], one)?])
    })
    .unwrap();
    let mut b = Builder::new("main");
    let x = b.parameter("x", F32, [2]).unwrap();
    let y = b.parameter("y", F32, [2]).unwrap();
    let r = b.call(&f, &[x, y]).unwrap();
    let s = b.call(&g, &[r[1]]).unwrap();
    let bar = b.optimization_barrier(&[r[0], s[0]]).unwrap();
    let m = b.build(&[bar[0], bar[1], r[1]]).unwrap();
    // f is emitted once although it is called from main and from g
    assert_eq!(
        m.to_text().matches("func.func private @f(").count(),
        1,
        "{}",
        m.to_text()
    );
    assert!(m.to_text().contains("func.func private @g("));
    let got = m
        .compile(client())
        .unwrap()
        .run(&[&lit(&[1.0f32, 2.0], &[2]), &lit(&[3.0f32, 4.0], &[2])])
        .unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(f32s(&got[0]), vec![3.0, 8.0]); // x*y
    assert_eq!(f32s(&got[1]), vec![17.0, 37.0]); // (x+y)^2 + 1 = 16+1, 36+1
    assert_eq!(f32s(&got[2]), vec![4.0, 6.0]);
}

#[test]
fn module_with_several_public_functions() {
    let mut main = Builder::new("entry");
    let x = main.parameter("x", F32, [2]).unwrap();
    let y = main.exp(x).unwrap();
    let main = Arc::new(main.finish(&[y]).unwrap());
    let helper = Builder::computation("helper", &[TensorType::new(S32, [])], |b, a| {
        Ok(vec![b.neg(a[0])?])
    })
    .unwrap();
    let m = Module::with_functions(vec![main, helper]).unwrap();
    assert!(m.to_text().contains("func.func @main("));
    assert!(m.to_text().contains("func.func @helper("));
    assert_eq!(m.parameter_types(), vec![TensorType::new(F32, [2])]);
    let got = m
        .compile(client())
        .unwrap()
        .run(&[&lit(&[0.0f32, 1.0], &[2])])
        .unwrap();
    assert_close("main runs", &f32s(&got[0]), &[1.0, 1f32.exp()], 1e-6);
}

#[test]
fn rng_bits_uniform_normal() {
    let n = 20000;
    let mut b = Builder::new("rng");
    let s = b.parameter("s", U64, [2]).unwrap();
    let (s1, u) = b.rng_uniform(s, F32, [n]).unwrap();
    let (s2, z) = b.rng_normal(s1, F32, [n]).unwrap();
    let (s3, bits) = b
        .rng_bit_generator(s2, RngAlgorithm::ThreeFry, TensorType::new(U32, [4]))
        .unwrap();
    let m = b.build(&[u, z, bits, s3]).unwrap();
    let exe = m.compile(client()).unwrap();
    let seed = lit(&[42u64, 7], &[2]);
    let o = exe.run(&[&seed]).unwrap();
    let u = f32s(&o[0]);
    assert!(u.iter().all(|&v| (0.0..1.0).contains(&v)));
    let mean = u.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
    // uniform on [0,1): mean 1/2, sd of the mean sqrt(1/12/n) ~ 0.002
    assert!((mean - 0.5).abs() < 0.01, "uniform mean {mean}");
    let z = f32s(&o[1]);
    let zm = z.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
    let zv = z.iter().map(|&v| (v as f64 - zm).powi(2)).sum::<f64>() / n as f64;
    assert!(
        zm.abs() < 0.03 && (zv - 1.0).abs() < 0.05,
        "normal mean {zm} var {zv}"
    );
    // the same seed gives the same numbers, another seed others; the state advances
    let o2 = exe.run(&[&seed]).unwrap();
    assert_eq!(f32s(&o2[0]), u);
    let o3 = exe.run(&[&lit(&[43u64, 7], &[2])]).unwrap();
    assert_ne!(f32s(&o3[0]), u);
    assert_ne!(o[3].to_vec::<u64>().unwrap(), vec![42, 7]);
}

#[test]
fn custom_call_unknown_target_is_an_error_not_an_abort() {
    let mut b = Builder::new("cc");
    let x = b.parameter("x", F32, [2]).unwrap();
    let r = b
        .custom_call(
            "hlo_builder_no_such_target",
            &[x],
            &[TensorType::new(F32, [2])],
            "",
            false,
        )
        .unwrap();
    let m = b.build(&r).unwrap();
    assert!(
        m.to_text().contains("stablehlo.custom_call"),
        "{}",
        m.to_text()
    );
    assert!(m
        .to_text()
        .contains("call_target_name = \"hlo_builder_no_such_target\""));
    let e = m.compile(client()).unwrap_err();
    assert!(e.to_string().contains("hlo_builder_no_such_target"), "{e}");
    // a bad target name is refused while recording
    assert!(b.custom_call("bad name\"", &[x], &[], "", false).is_err());
}

#[test]
fn custom_call_to_a_target_the_cpu_compiler_knows() {
    // XLA's "Sharding" annotation is a custom call the CPU compiler removes (identity).
    let mut b = Builder::new("cc_ok");
    let x = b.parameter("x", F32, [3]).unwrap();
    let r = b
        .custom_call("Sharding", &[x], &[TensorType::new(F32, [3])], "", false)
        .unwrap();
    let y = b.add(r[0], x).unwrap();
    let got = run(&b, &[y], &[&lit(&[1.0f32, 2.0, 3.0], &[3])]);
    assert_eq!(f32s(&got[0]), vec![2.0, 4.0, 6.0]);
}

#[test]
fn case_from_closures() {
    // case(k, x, y) with branches [x + y, x * y, x - y]; an out-of-range index runs the last.
    let mut b = Builder::new("switch");
    let k = b.parameter("k", S32, []).unwrap();
    let x = b.parameter("x", F32, [2]).unwrap();
    let y = b.parameter("y", F32, [2]).unwrap();
    let branches: Vec<BranchFn> = vec![
        Box::new(|b, a| Ok(vec![b.add(a[0], a[1])?])),
        Box::new(|b, a| Ok(vec![b.mul(a[0], a[1])?])),
        Box::new(|b, a| Ok(vec![b.sub(a[0], a[1])?])),
    ];
    let r = b.case(k, &[x, y], branches).unwrap();
    let exe = b.build(&r).unwrap().compile(client()).unwrap();
    let xs = lit(&[3.0f32, 4.0], &[2]);
    let ys = lit(&[2.0f32, 0.5], &[2]);
    let at = |k: i32| f32s(&exe.run(&[&Literal::scalar(k), &xs, &ys]).unwrap()[0]);
    assert_eq!(at(0), [5.0, 4.5]);
    assert_eq!(at(1), [6.0, 2.0]);
    assert_eq!(at(2), [1.0, 3.5]);
    assert_eq!(at(7), [1.0, 3.5]);
    // Branches whose results differ in type are an error naming the op.
    let mut b = Builder::new("bad");
    let k = b.parameter("k", S32, []).unwrap();
    let x = b.parameter("x", F32, [2]).unwrap();
    let bad: Vec<BranchFn> = vec![
        Box::new(|b, a| Ok(vec![b.neg(a[0])?])),
        Box::new(|b, a| Ok(vec![b.reduce_sum(a[0], [0])?])),
    ];
    let e = b.case(k, &[x], bad).unwrap_err().to_string();
    assert!(e.starts_with("case"), "{e}");
}
