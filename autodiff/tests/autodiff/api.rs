//! The public API beyond single rules: errors (never panics), stop_gradient, inputs that are
//! intermediate values, pruning, higher order, checkpointing, custom rules.

use autodiff::Error;

use crate::common::*;

#[test]
fn gradient_of_integer_output_is_an_error() {
    let mut b = Builder::new("int");
    let x = b.parameter("x", F32, [3]).unwrap();
    let i = b.convert(x, S32).unwrap();
    let s = b.reduce_sum(i, [0]).unwrap();
    let e = autodiff::grad(&mut b, s, &[x]).unwrap_err();
    assert!(matches!(e, Error::NonFloatOutput { .. }), "{e}");
    assert!(e.to_string().contains("s32[]"), "{e}");
    let w = b.parameter("w", F32, [3]).unwrap();
    let e = autodiff::vjp(&mut b, &[i], &[w], &[x]).unwrap_err();
    assert!(matches!(e, Error::NonFloatOutput { .. }), "{e}");
}

#[test]
fn gradient_with_respect_to_a_value_not_in_the_graph_is_an_error() {
    let mut other = Builder::new("other");
    let foreign = other.parameter("y", F32, []).unwrap();
    let mut b = Builder::new("g");
    let x = b.parameter("x", F32, []).unwrap();
    let l = b.sin(x).unwrap();
    let e = autodiff::grad(&mut b, l, &[x, foreign]).unwrap_err();
    assert!(matches!(e, Error::NotInGraph { .. }), "{e}");
    let missing = b.tensor(ValueId {
        node: NodeId(9999),
        output: 0,
    });
    let e = autodiff::grad(&mut b, l, &[missing]).unwrap_err();
    assert!(matches!(e, Error::NotInGraph { .. }), "{e}");
    assert!(e.to_string().contains("9999"), "{e}");
    // A foreign output too.
    let e = autodiff::grad(&mut b, foreign, &[x]).unwrap_err();
    assert!(matches!(e, Error::NotInGraph { .. }), "{e}");
}

#[test]
fn other_misuse_is_an_error() {
    let mut b = Builder::new("m");
    let x = b.parameter("x", F32, [3]).unwrap();
    let i = b.parameter("i", S32, [3]).unwrap();
    let y = b.exp(x).unwrap();
    assert!(matches!(
        autodiff::grad(&mut b, y, &[x]).unwrap_err(),
        Error::NonScalarOutput { .. }
    ));
    let s = b.reduce_sum(y, [0]).unwrap();
    assert!(matches!(
        autodiff::grad(&mut b, s, &[i]).unwrap_err(),
        Error::NonFloatInput { .. }
    ));
    let bad = b.parameter("c", F32, [4]).unwrap();
    assert!(matches!(
        autodiff::vjp(&mut b, &[y], &[bad], &[x]).unwrap_err(),
        Error::TypeMismatch { .. }
    ));
    assert!(matches!(
        autodiff::jvp(&mut b, &[y], &[x], &[]).unwrap_err(),
        Error::Arity { .. }
    ));
    // An opaque custom call has no gradient, and the error says which op.
    let c = b
        .custom_call("my_kernel", &[x], &[TensorType::new(F32, [3])], "", false)
        .unwrap();
    let s = b.reduce_sum(c[0], [0]).unwrap();
    let e = autodiff::grad(&mut b, s, &[x]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::NotDifferentiable {
                op: "custom_call",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("my_kernel"), "{e}");
    // A while loop whose trip count cannot be read.
    let z = b.scalar(F32, 0.0).unwrap();
    let r = b
        .while_loop(
            &[z, x],
            |b, a| {
                let l = b.scalar(F32, 3.0)?;
                Ok(vec![b.lt(a[0], l)?])
            },
            |b, a| {
                let one = b.scalar(F32, 1.0)?;
                let t = b.sin(a[1])?;
                Ok(vec![b.add(a[0], one)?, t])
            },
        )
        .unwrap();
    let s = b.reduce_sum(r[1], [0]).unwrap();
    let e = autodiff::grad(&mut b, s, &[x]).unwrap_err();
    assert!(
        matches!(e, Error::NotDifferentiable { op: "while", .. }),
        "{e}"
    );
}

#[test]
fn stop_gradient_blocks_only_its_path() {
    let mut b = Builder::new("sg");
    let x = b.parameter("x", F32, [3]).unwrap();
    let s = autodiff::stop_gradient(&mut b, x).unwrap();
    let y = b.mul(x, s).unwrap();
    let l = b.reduce_sum(y, [0]).unwrap();
    let g = autodiff::grad(&mut b, l, &[x]).unwrap();
    let r = run(&b, &[l, g[0]], &[&lit(&[1f32, -2.0, 3.0], &[3])]);
    assert_eq!(f32s(&r[0]), vec![14.0]);
    assert_eq!(f32s(&r[1]), vec![1.0, -2.0, 3.0]); // not 2x
}

#[test]
fn gradient_with_respect_to_intermediate_values_and_unrelated_inputs() {
    let mut b = Builder::new("mid");
    let x = b.parameter("x", F32, [2]).unwrap();
    let unrelated = b.parameter("u", F32, [2, 2]).unwrap();
    let y = b.mul(x, x).unwrap();
    let z = b.sin(y).unwrap();
    let l = b.reduce_sum(z, [0]).unwrap();
    let g = autodiff::grad(&mut b, l, &[y, x, unrelated]).unwrap();
    let xs = [0.5f32, -1.5];
    let r = run(
        &b,
        &[g[0], g[1], g[2]],
        &[&lit(&xs, &[2]), &lit(&[1f32; 4], &[2, 2])],
    );
    let dy: Vec<f32> = xs.iter().map(|v| (v * v).cos()).collect();
    let dx: Vec<f32> = xs.iter().map(|v| 2.0 * v * (v * v).cos()).collect();
    assert_close("d/dy", &f32s(&r[0]), &dy, 1e-6);
    assert_close("d/dx", &f32s(&r[1]), &dx, 1e-6);
    assert_eq!(f32s(&r[2]), vec![0.0; 4]);
}

#[test]
fn the_backward_pass_is_pruned_to_the_path() {
    let mut b = Builder::new("prune");
    let x = b.parameter("x", F32, [4]).unwrap();
    let w = b.parameter("w", F32, [4]).unwrap();
    // A long side computation on x that the loss does not use.
    let mut side = x;
    for _ in 0..200 {
        side = b.sin(side).unwrap();
    }
    let _ = side;
    // x * w, then a long chain that depends on x only through a stop... no: on w only.
    let mut p = b.mul(x, w).unwrap();
    for _ in 0..10 {
        p = b.tanh(p).unwrap();
    }
    let l = b.reduce_sum(p, [0]).unwrap();
    let before = b.graph().len();
    let g = autodiff::grad(&mut b, l, &[w]).unwrap();
    let added = b.graph().len() - before;
    // tanh' (about 5 ops each) for 10 tanh, a broadcast, a mul: nowhere near the 200 side ops.
    assert!(added < 80, "the gradient added {added} nodes");
    let r = run(
        &b,
        &[g[0]],
        &[&lit(&[1f32, 2.0, 3.0, 4.0], &[4]), &lit(&[0.1f32; 4], &[4])],
    );
    assert!(f32s(&r[0]).iter().all(|v| v.is_finite() && *v > 0.0));
}

#[test]
fn grad_of_grad_and_hessian_vector_products() {
    // f(x) = sum(x^3) / 3 + sum(x)^2: grad = x^2 + 2 sum(x), H v = 2 x v + 2 sum(v).
    let mut b = Builder::new("hvp");
    let x = b.parameter("x", F64, [3]).unwrap();
    let v = b.parameter("v", F64, [3]).unwrap();
    let x2 = b.mul(x, x).unwrap();
    let x3 = b.mul(x2, x).unwrap();
    let s3 = b.reduce_sum(x3, [0]).unwrap();
    let third = b.scalar(F64, 1.0 / 3.0).unwrap();
    let a = b.mul(s3, third).unwrap();
    let s = b.reduce_sum(x, [0]).unwrap();
    let s2 = b.mul(s, s).unwrap();
    let f = b.add(a, s2).unwrap();
    let hv = autodiff::hvp(&mut b, f, &[x], &[v]).unwrap();
    // Third order: d/dx of sum(H v) = 2 v.
    let t = b.reduce_sum(hv[0], [0]).unwrap();
    let g3 = autodiff::grad(&mut b, t, &[x]).unwrap();
    let xs = [1.0, -2.0, 0.5];
    let vs = [0.3, 0.7, -1.0];
    let r = run(&b, &[hv[0], g3[0]], &[&lit(&xs, &[3]), &lit(&vs, &[3])]);
    let sv: f64 = vs.iter().sum();
    let want: Vec<f64> = xs
        .iter()
        .zip(&vs)
        .map(|(x, v)| 2.0 * x * v + 2.0 * sv)
        .collect();
    assert_eq!(f64s(&r[0]).len(), 3);
    for (g, w) in f64s(&r[0]).iter().zip(&want) {
        assert!((g - w).abs() < 1e-12, "H v: {g} vs {w}");
    }
    for (g, v) in f64s(&r[1]).iter().zip(&vs) {
        assert!(
            (g - 2.0 * v).abs() < 1e-12,
            "third order: {g} vs {}",
            2.0 * v
        );
    }
}

#[test]
fn jvp_of_several_outputs() {
    let mut b = Builder::new("jvp");
    let x = b.parameter("x", F32, [2]).unwrap();
    let t = b.parameter("t", F32, [2]).unwrap();
    let e = b.exp(x).unwrap();
    let s = b.reduce_sum(x, [0]).unwrap();
    let j = autodiff::jvp(&mut b, &[e, s], &[x], &[t]).unwrap();
    let r = run(
        &b,
        &[j[0], j[1]],
        &[&lit(&[0.0f32, 1.0], &[2]), &lit(&[2.0f32, 3.0], &[2])],
    );
    assert_close("exp", &f32s(&r[0]), &[2.0, 3.0 * 1f32.exp()], 1e-6);
    assert_eq!(f32s(&r[1]), vec![5.0]);
}

#[test]
fn checkpoint_recomputes_behind_a_barrier() {
    let mut b = Builder::new("ckpt");
    let x = b.parameter("x", F32, [4]).unwrap();
    let y = autodiff::checkpoint(&mut b, "block", &[x], |b, a| {
        let s = b.sin(a[0])?;
        Ok(vec![b.exp(s)?])
    })
    .unwrap();
    let l = b.reduce_sum(y[0], [0]).unwrap();
    let g = autodiff::grad(&mut b, l, &[x]).unwrap();
    let m = b.build(&[l, g[0]]).unwrap();
    let text = m.to_text();
    assert!(text.contains("optimization_barrier"), "no barrier:\n{text}");
    assert!(
        text.contains("func.call") || text.contains("call @"),
        "no call:\n{text}"
    );
    let xs = [0.1f32, 0.2, -0.3, 1.0];
    let r = m
        .compile(client())
        .unwrap()
        .run(&[&lit(&xs, &[4])])
        .unwrap();
    let want: Vec<f32> = xs.iter().map(|v| v.sin().exp() * v.cos()).collect();
    assert_close("checkpointed grad", &f32s(&r[1]), &want, 1e-6);
}

#[test]
fn offloading_checkpoint_policy_goes_through_grad_jvp_and_vmap() {
    use hlo_builder::{CheckpointPolicy, MemoryKind};
    // f(x) = sum(exp(sin(x))) with the block checkpointed, its input kept in pinned_host.
    // df/dx = exp(sin(x)) cos(x), whatever the policy.
    let f = |b: &mut Builder, x: Value| -> autodiff::Result<Value> {
        let policy = CheckpointPolicy::Offload(MemoryKind::PINNED_HOST);
        let y = autodiff::checkpoint_with(b, "block", policy, &[x], |b, a| {
            let s = b.sin(a[0])?;
            Ok(vec![b.exp(s)?])
        })?;
        Ok(b.reduce_sum(y[0], [0])?)
    };
    let mut b = Builder::new("offload_ckpt");
    let x = b.parameter("x", F32, [4]).unwrap();
    let l = f(&mut b, x).unwrap();
    let g = autodiff::grad(&mut b, l, &[x]).unwrap();
    // Forward-mode through the same call: the tangent along all-ones is sum(df/dx).
    let ones = b.ones(F32, [4]).unwrap();
    let t = autodiff::jvp(&mut b, &[l], &[x], &[ones]).unwrap();
    // Per-example gradients of rows of a batch: vmap of grad through the offloading call.
    let xs = b.parameter("xs", F32, [2, 4]).unwrap();
    let pg = autodiff::vmap(
        &mut b,
        |b, a| {
            let l = f(b, a[0])?;
            autodiff::grad(b, l, &[a[0]])
        },
        &[xs],
        &[Some(0)],
        &[0],
    )
    .unwrap();
    let m = b.build(&[g[0], t[0], pg[0]]).unwrap();
    // Each gradient moves the kept input to pinned_host and back (once for grad, once inside
    // the batched gradient; jvp is the VJP transposed and makes its own pair).
    assert!(
        m.to_text()
            .contains("_xla_buffer_placement = \"pinned_host\""),
        "{}",
        m.to_text()
    );
    let exe = match m.compile(client()) {
        Ok(e) => e,
        Err(e) => {
            // Refused before compile where the plugin makes no in-program moves.
            assert!(client().plugin().api_version().minor < 115, "{e}");
            assert!(e.to_string().contains("not honoured"), "{e}");
            return;
        }
    };
    let xv = [0.1f32, 0.2, -0.3, 1.0];
    let rows = [0.5f32, -1.0, 2.0, 0.0, 0.1, 0.2, -0.3, 1.0];
    let r = exe.run(&[&lit(&xv, &[4]), &lit(&rows, &[2, 4])]).unwrap();
    let d = |v: &f32| v.sin().exp() * v.cos();
    let want: Vec<f32> = xv.iter().map(d).collect();
    assert_close("grad", &f32s(&r[0]), &want, 1e-6);
    assert_close("jvp", &f32s(&r[1]), &[want.iter().sum::<f32>()], 1e-6);
    let want_rows: Vec<f32> = rows.iter().map(d).collect();
    assert_close("vmap(grad)", &f32s(&r[2]), &want_rows, 1e-6);
}

#[test]
fn custom_vjp_replaces_the_derivative() {
    // A "straight-through" round: forward rounds, backward passes the cotangent unchanged.
    let mut b = Builder::new("ste");
    let x = b.parameter("x", F32, [3]).unwrap();
    let r = autodiff::custom_vjp(
        &mut b,
        "ste_round",
        &[x],
        |b, a| Ok(vec![b.round(a[0])?]),
        |_, _, _, cts| Ok(vec![Some(cts[0])]),
    )
    .unwrap();
    let y = b.mul(r[0], x).unwrap();
    let l = b.reduce_sum(y, [0]).unwrap();
    let g = autodiff::grad(&mut b, l, &[x]).unwrap();
    let xs = [0.4f32, 1.6, -2.2];
    let out = run(&b, &[g[0]], &[&lit(&xs, &[3])]);
    // d/dx (round(x) * x) with round' := 1: x + round(x).
    let want: Vec<f32> = xs.iter().map(|v| v + v.round()).collect();
    assert_close("ste", &f32s(&out[0]), &want, 1e-6);
}

#[test]
fn value_and_grad_returns_the_output() {
    let mut b = Builder::new("vg");
    let x = b.parameter("x", F32, []).unwrap();
    let y = b.mul(x, x).unwrap();
    let (v, g) = autodiff::value_and_grad(&mut b, y, &[x]).unwrap();
    assert_eq!(v, y);
    let r = run(&b, &[v, g[0]], &[&Literal::scalar(3.0f32)]);
    assert_eq!(f32s(&r[0]), vec![9.0]);
    assert_eq!(f32s(&r[1]), vec![6.0]);
}

#[test]
fn long_counted_loops_are_not_unrolled() {
    // x <- 0.999 x + 0.001 sin(x)... keep it linear for an exact answer: x <- a x + c.
    let mut b = Builder::new("loop");
    let x = b.parameter("x", F64, [2]).unwrap();
    let r = autodiff::fori_loop(&mut b, 1000, &[x], |b, _i, s| {
        let a = b.scalar(F64, 0.999)?;
        let c = b.scalar(F64, 0.001)?;
        let t = b.mul(s[0], a)?;
        Ok(vec![b.add(t, c)?])
    })
    .unwrap();
    let l = b.reduce_sum(r[0], [0]).unwrap();
    let before = b.graph().len();
    let g = autodiff::grad(&mut b, l, &[x]).unwrap();
    let added = b.graph().len() - before;
    assert!(
        added < 60,
        "the gradient of a 1000-trip loop added {added} nodes"
    );
    let out = run(&b, &[g[0]], &[&lit(&[1.0f64, -3.0], &[2])]);
    let want = 0.999f64.powi(1000);
    for v in f64s(&out[0]) {
        assert!((v - want).abs() < 1e-12, "{v} vs {want}");
    }
}

#[test]
fn loop_invariants_are_not_stacked() {
    // h <- tanh(W h) for 1000 trips with W carried unchanged: only h (64 floats per trip)
    // is saved for the backward loop, not W (4096 floats per trip).
    let mut b = Builder::new("rnn");
    let h = b.parameter("h", F32, [64]).unwrap();
    let w = b.parameter("w", F32, [64, 64]).unwrap();
    let r = autodiff::fori_loop(&mut b, 1000, &[h, w], |b, _i, s| {
        let z = b.matmul(s[1], s[0])?;
        Ok(vec![b.tanh(z)?, s[1]])
    })
    .unwrap();
    let l = b.reduce_sum(r[0], [0]).unwrap();
    let g = autodiff::grad(&mut b, l, &[h, w]).unwrap();
    let m = b.build(&[g[0], g[1]]).unwrap();
    let text = m.to_text();
    assert!(
        text.contains("tensor<1000x64xf32>"),
        "the varying state is stacked"
    );
    assert!(
        !text.contains("tensor<1000x64x64xf32>"),
        "the invariant weight must not be stacked"
    );
    let hs: Vec<f32> = (0..64).map(|i| ((i as f32) * 0.37).sin()).collect();
    // Close to the identity, so the signal neither explodes nor vanishes over 1000 trips.
    let ws: Vec<f32> = (0..64 * 64)
        .map(|i| {
            if i % 65 == 0 {
                1.0
            } else {
                ((i as f32) * 0.11).cos() * 0.01
            }
        })
        .collect();
    let out = m
        .compile(client())
        .unwrap()
        .run(&[&lit(&hs, &[64]), &lit(&ws, &[64, 64])])
        .unwrap();
    assert!(f32s(&out[1]).iter().all(|v| v.is_finite()));
    assert!(f32s(&out[1]).iter().any(|v| *v != 0.0));
}

#[test]
fn product_gradient_is_exact_at_zero() {
    let mut b = Builder::new("prod0");
    let x = b.parameter("x", F32, [4]).unwrap();
    let p = b.reduce_prod(x, [0]).unwrap();
    let g = autodiff::grad(&mut b, p, &[x]).unwrap();
    let r = run(&b, &[g[0]], &[&lit(&[2.0f32, 0.0, 3.0, -1.0], &[4])]);
    assert_eq!(f32s(&r[0]), vec![0.0, -6.0, 0.0, 0.0]);
}

#[test]
fn max_reduction_with_a_winning_init_has_a_finite_gradient() {
    // max(0, max(x)) over all-negative x: the gradient goes to the init value, not NaN to x.
    let mut b = Builder::new("maxinit");
    let x = b.parameter("x", F32, [3]).unwrap();
    let z = b.scalar(F32, 0.0).unwrap();
    let m = b
        .reduce(&[x], &[z], [0], |b, a| Ok(vec![b.max(a[0], a[1])?]))
        .unwrap();
    let g = autodiff::grad(&mut b, m[0], &[x]).unwrap();
    let r = run(&b, &[g[0]], &[&lit(&[-1.0f32, -2.0, -0.5], &[3])]);
    assert_eq!(f32s(&r[0]), vec![0.0, 0.0, 0.0]);
}

#[test]
fn relu_matches_jax_at_zero_and_on_special_values() {
    // relu(x) = max(x, 0); d relu / dx = 1 if x > 0 else 0 (jax.nn.relu: 0 at x = 0, not 1/2).
    let mut b = Builder::new("relu");
    let x = b.parameter("x", F32, [5]).unwrap();
    let y = b.relu(x).unwrap();
    let s = b.reduce_sum(y, [0]).unwrap();
    let g = autodiff::grad(&mut b, s, &[x]).unwrap();
    let xs = lit(&[-2.0f32, 0.0, 3.0, f32::NEG_INFINITY, f32::NAN], &[5]);
    let out = run(&b, &[y, g[0]], &[&xs]);
    let fwd = f32s(&out[0]);
    assert_eq!(&fwd[..4], &[0.0, 0.0, 3.0, 0.0]);
    assert!(fwd[4].is_nan(), "relu(NaN) stays NaN, as with max: {fwd:?}");
    assert_eq!(&f32s(&out[1])[..4], &[0.0, 0.0, 1.0, 0.0]);
}

/// A move between memories is the identity for gradients and tangents: for
/// y = sum(place(x)^2 * place(x)), dy/dx = 3 x^2.
#[test]
fn gradients_pass_through_moves_between_memories() {
    let mut b = Builder::new("moves");
    let x = b.parameter("x", F32, [3]).unwrap();
    let xd = b.place(x, hlo_builder::MemoryKind::DEVICE).unwrap();
    let sq = b.mul(xd, xd).unwrap();
    let cube = b.mul(sq, xd).unwrap();
    let y = b.reduce_sum(cube, [0]).unwrap();
    let g = autodiff::grad(&mut b, y, &[x]).unwrap();
    let m = b.build(&[y, g[0]]).unwrap();
    match m.compile(client()) {
        Ok(exe) => {
            let r = exe.run(&[&lit(&[1f32, -2., 0.5], &[3])]).unwrap();
            assert_eq!(f32s(&r[0]), vec![1. - 8. + 0.125]);
            assert_eq!(f32s(&r[1]), vec![3., 12., 0.75]);
        }
        // The CPU plugins compile in-program moves from API 0.115; before, refused by name.
        Err(e) => assert!(
            client().plugin().api_version().minor < 115
                && e.to_string().contains("annotate_device_placement"),
            "{e}"
        ),
    }
}
