//! What a hostile graph cannot do: nest regions past what the compilers survive, grow
//! exponentially when lowered, record ops without results, sort with a comparator that is
//! not a strict order, call XLA's reserved custom-call targets, or mix builders.

use std::sync::Arc;

use super::common::*;

fn scalar_fn(name: &str) -> Arc<Computation> {
    let t = TensorType::new(F32, [2]);
    Builder::computation(name, &[t], |b, a| Ok(vec![b.add(a[0], a[0])?])).unwrap()
}

/// `levels` nested `cond`s: each true branch holds the next level, each false branch a leaf.
fn nested_conds(levels: u32) -> Result<Arc<Computation>> {
    let t = TensorType::new(F32, [2]);
    let leaf = scalar_fn("leaf");
    let mut c = leaf.clone();
    for _ in 0..levels {
        let (inner, leaf) = (c.clone(), leaf.clone());
        c = Builder::computation("level", std::slice::from_ref(&t), move |b, a| {
            let p = b.constant_bool(&[true], [])?;
            b.cond_with(p, a, inner, leaf)
        })?;
    }
    Ok(c)
}

#[test]
fn deep_nesting_is_refused_at_record_time_and_the_limit_compiles_on_a_test_thread() {
    // 6000 nested regions overflowed `build`'s stack; now the 65th level is refused.
    let e = nested_conds(MAX_REGION_DEPTH + 1).unwrap_err();
    assert!(e.to_string().contains("nested"), "{e}");
    let e = nested_conds(6000).unwrap_err();
    assert!(e.to_string().contains("more than the 64 allowed"), "{e}");
    // The deepest allowed graph lowers, compiles and runs on this test thread (2 MiB stack;
    // the 0.115 plugin's compiler needs about 13 KiB a level).
    let c = nested_conds(MAX_REGION_DEPTH - 1).unwrap();
    let mut b = Builder::new("deep");
    let x = b.parameter("x", F32, [2]).unwrap();
    let r = b.call(&c, &[x]).unwrap();
    assert_eq!(b.graph().region_depth(), MAX_REGION_DEPTH);
    let out = run(&b, &r, &[&lit(&[1f32, 2.], &[2])]);
    assert_eq!(f32s(&out[0]), vec![2., 4.]);
    // Calls nest too (XLA's compiler recurses through call chains as well).
    let t = TensorType::new(F32, [2]);
    let mut c = scalar_fn("leaf");
    let mut refused = None;
    for level in 0..200 {
        let inner = c.clone();
        match Builder::computation("f", std::slice::from_ref(&t), move |b, a| b.call(&inner, a)) {
            Ok(next) => c = next,
            Err(e) => {
                refused = Some((level, e));
                break;
            }
        }
    }
    let (level, e) = refused.expect("a 200-deep call chain is refused");
    assert_eq!(level as u32, MAX_REGION_DEPTH, "{e}");
}

#[test]
fn exponential_emission_is_refused() {
    // A cond whose two branches are the previous level doubles the emitted program per level.
    let t = TensorType::new(F32, [2]);
    let mut c = scalar_fn("leaf");
    let mut refused = None;
    for level in 0..60 {
        let inner = c.clone();
        let next = Builder::computation("twice", std::slice::from_ref(&t), move |b, a| {
            let p = b.constant_bool(&[true], [])?;
            b.cond_with(p, a, inner.clone(), inner)
        });
        match next {
            Ok(n) => c = n,
            Err(e) => {
                refused = Some((level, e));
                break;
            }
        }
    }
    let (level, e) = refused.expect("60 doublings are refused");
    assert!(e.to_string().contains("would hold"), "{e}");
    assert!((20..30).contains(&level), "refused at level {level}");
    // Sharing through `call` emits each function once, but XLA inlines calls (2^40 copies
    // ran the 0.115 compiler out of memory): refused just the same.
    let mut c = scalar_fn("leaf");
    let mut refused_at = None;
    for level in 0..60 {
        let inner = c.clone();
        let next = Builder::computation("twice", std::slice::from_ref(&t), move |b, a| {
            let y = b.call(&inner, a)?;
            b.call(&inner, &y)
        });
        match next {
            Ok(n) => c = n,
            Err(_) => {
                refused_at = Some(level);
                break;
            }
        }
    }
    assert!(
        refused_at.is_some_and(|l| (20..30).contains(&l)),
        "{refused_at:?}"
    );
    // Ten levels (1024 inlined copies of `x + 1`) build, compile and run.
    let mut c = Builder::computation("inc", std::slice::from_ref(&t), |b, a| {
        let one = b.scalar_like(a[0], 1.0)?;
        Ok(vec![b.add(a[0], one)?])
    })
    .unwrap();
    for _ in 0..10 {
        let inner = c.clone();
        c = Builder::computation("twice", std::slice::from_ref(&t), move |b, a| {
            let y = b.call(&inner, a)?;
            b.call(&inner, &y)
        })
        .unwrap();
    }
    let mut b = Builder::new("shared");
    let x = b.parameter("x", F32, [2]).unwrap();
    let r = b.call(&c, &[x]).unwrap();
    let m = b.build(&r).unwrap();
    assert!(m.to_text().len() < 20_000, "{} bytes", m.to_text().len());
    let out = run(&b, &r, &[&lit(&[1f32, -1.], &[2])]);
    assert_eq!(f32s(&out[0]), vec![1025., 1023.]);
}

#[test]
fn ops_without_results_are_refused_and_the_builder_still_builds() {
    let mut b = Builder::new("zero");
    let x = b.parameter("x", F32, [2]).unwrap();
    let e = b.optimization_barrier(&[]).unwrap_err();
    assert!(e.to_string().contains("no results"), "{e}");
    let e = b
        .custom_call("my_side_effect", &[x], &[], "", true)
        .unwrap_err();
    assert!(e.to_string().contains("no results"), "{e}");
    let y = b.add(x, x).unwrap();
    let out = run(&b, &[y], &[&lit(&[1f32, 2.], &[2])]);
    assert_eq!(f32s(&out[0]), vec![2., 4.]);
}

#[test]
fn sort_comparators_that_are_not_strict_orders() {
    let mut b = Builder::new("sort");
    let x = b.parameter("x", F32, [40]).unwrap();
    // Always true: hung every plugin from 17 elements on.
    let e = b
        .sort(&[x], 0, false, |b, _| {
            Ok(vec![b.constant_bool(&[true], [])?])
        })
        .unwrap_err();
    assert!(e.to_string().contains("always returns true"), "{e}");
    for (dir, name) in [
        (ComparisonDirection::Le, "Le"),
        (ComparisonDirection::Ge, "Ge"),
        (ComparisonDirection::Eq, "Eq"),
        (ComparisonDirection::Ne, "Ne"),
    ] {
        let e = b
            .sort(&[x], 0, true, |b, a| Ok(vec![b.compare(dir, a[0], a[1])?]))
            .unwrap_err();
        assert!(e.to_string().contains(name), "{name}: {e}");
    }
    // `lt` stays unstable; a comparator of another shape is recorded stable.
    let lt = b
        .sort(&[x], 0, false, |b, a| Ok(vec![b.lt(a[0], a[1])?]))
        .unwrap();
    assert!(matches!(
        b.op(lt[0]).unwrap(),
        Op::Shape(ShapeOp::Sort {
            is_stable: false,
            ..
        })
    ));
    let neg = b
        .sort(&[x], 0, false, |b, a| {
            let (p, q) = (b.neg(a[0])?, b.neg(a[1])?);
            Ok(vec![b.lt(p, q)?])
        })
        .unwrap();
    assert!(matches!(
        b.op(neg[0]).unwrap(),
        Op::Shape(ShapeOp::Sort {
            is_stable: true,
            ..
        })
    ));
    let data: Vec<f32> = (0..40).map(|i| ((i * 17) % 23) as f32).collect();
    let out = run(&b, &[lt[0], neg[0]], &[&lit(&data, &[40])]);
    let mut up = data.clone();
    up.sort_by(f32::total_cmp);
    let mut down = up.clone();
    down.reverse();
    assert_eq!(f32s(&out[0]), up);
    assert_eq!(f32s(&out[1]), down);
}

#[test]
fn reserved_custom_call_targets_never_reach_the_plugin() {
    let mut b = Builder::new("cc");
    let x = b.parameter("x", F32, [4]).unwrap();
    for t in [
        "TopK",
        "SliceToDynamic",
        "PadToStatic",
        "__cudnn$convForward",
    ] {
        let e = b
            .custom_call(t, &[x], &[TensorType::new(F32, [4])], "", false)
            .unwrap_err();
        assert!(e.to_string().contains("reserve"), "{t}: {e}");
    }
}

#[test]
fn values_of_another_builder_are_refused_and_ids_do_not_repeat() {
    let mut a = Builder::new("a");
    let mut b = Builder::new("b");
    assert_ne!(a.id(), b.id());
    let xa = a.parameter("x", F32, [2]).unwrap();
    let _xb = b.parameter("x", F32, [2]).unwrap();
    let e = b.add(xa, xa).unwrap_err();
    assert!(matches!(e, Error::ForeignTensor { .. }), "{e}");
    // Ids are 64-bit and never reused: many builders later, still distinct.
    let first = Builder::new("first").id();
    let ids: std::collections::HashSet<u64> =
        (0..100_000).map(|_| Builder::new("n").id()).collect();
    assert_eq!(ids.len(), 100_000);
    assert!(!ids.contains(&first));
    assert!(ids.iter().all(|&i| i > first));
}
