//! Hostile differentiation: outputs and inputs that are not what the transformations take,
//! seeds of the wrong shape, foreign values, rules that lie, and deep or non-differentiable
//! graphs.

use hlo_builder::{Builder, ElementType, Value};
use pjrt::Literal;

use super::builder::build_compile_run;
use crate::case::{case, check_eq, wrong, Area, Case, Ctx, Expect, Failure, Outcome};

use ElementType::{F32, S32};

/// Builds, compiles and runs `outs` on `args`; returns every output as f32s.
fn run(
    ctx: &Ctx,
    b: &Builder,
    outs: &[Value],
    args: &[&Literal],
) -> Result<Vec<Vec<f32>>, Failure> {
    let out = b.build(outs)?.compile(ctx.client()?)?.run(args)?;
    Ok(out
        .iter()
        .map(|l| l.to_vec::<f32>())
        .collect::<Result<_, _>>()?)
}

fn refused(ctx: &Ctx, b: &Builder, outs: &[Value]) -> Result<Outcome, Failure> {
    build_compile_run(ctx, b, outs)?;
    wrong("accepted, built, compiled and ran")
}

pub fn cases() -> Vec<Case> {
    let a = Area::Autodiff;
    let mut v = Vec::new();
    v.push(case(
        a,
        "grad-non-scalar-output",
        Expect::Error("scalar"),
        |ctx| {
            let mut b = Builder::new("g");
            let x = b.parameter("x", F32, [3])?;
            let y = b.mul(x, x)?;
            let g = autodiff::grad(&mut b, y, &[x])?;
            refused(ctx, &b, &g)
        },
    ));
    v.push(case(
        a,
        "grad-integer-output",
        Expect::Error("float"),
        |ctx| {
            let mut b = Builder::new("g");
            let x = b.parameter("x", S32, [])?;
            let y = b.mul(x, x)?;
            let g = autodiff::grad(&mut b, y, &[x])?;
            refused(ctx, &b, &g)
        },
    ));
    v.push(case(
        a,
        "grad-wrt-foreign-value",
        Expect::Error("builder"),
        |ctx| {
            let mut other = Builder::new("other");
            let z = other.parameter("z", F32, [])?;
            let mut b = Builder::new("g");
            let x = b.parameter("x", F32, [])?;
            let y = b.mul(x, x)?;
            let g = autodiff::grad(&mut b, y, &[z])?;
            refused(ctx, &b, &g)
        },
    ));
    v.push(case(
        a,
        "grad-of-foreign-output",
        Expect::Error("builder"),
        |ctx| {
            let mut other = Builder::new("other");
            let z = other.parameter("z", F32, [])?;
            let mut b = Builder::new("g");
            let x = b.parameter("x", F32, [])?;
            let g = autodiff::grad(&mut b, z, &[x])?;
            refused(ctx, &b, &g)
        },
    ));
    v.push(case(
        a,
        "vjp-cotangent-shape",
        Expect::Error("cotangent"),
        |ctx| {
            let mut b = Builder::new("g");
            let x = b.parameter("x", F32, [3])?;
            let y = b.mul(x, x)?;
            let ct = b.parameter("ct", F32, [4])?;
            let g = autodiff::vjp(&mut b, &[y], &[ct], &[x])?;
            refused(ctx, &b, &g)
        },
    ));
    v.push(case(
        a,
        "vjp-cotangent-count",
        Expect::Error("cotangents"),
        |ctx| {
            let mut b = Builder::new("g");
            let x = b.parameter("x", F32, [3])?;
            let y = b.mul(x, x)?;
            let g = autodiff::vjp(&mut b, &[y, y], &[y], &[x])?;
            refused(ctx, &b, &g)
        },
    ));
    v.push(case(
        a,
        "jvp-tangent-type",
        Expect::Error("tangent"),
        |ctx| {
            let mut b = Builder::new("g");
            let x = b.parameter("x", F32, [3])?;
            let t = b.parameter("t", S32, [3])?;
            let y = b.mul(x, x)?;
            let j = autodiff::jvp(&mut b, &[y], &[x], &[t])?;
            refused(ctx, &b, &j)
        },
    ));
    v.push(case(
        a,
        "jvp-tangent-count",
        Expect::Error("tangents"),
        |ctx| {
            let mut b = Builder::new("g");
            let x = b.parameter("x", F32, [3])?;
            let y = b.mul(x, x)?;
            let j = autodiff::jvp(&mut b, &[y], &[x], &[])?;
            refused(ctx, &b, &j)
        },
    ));
    v.push(case(a, "hvp-vector-count", Expect::Error("hvp"), |ctx| {
        let mut b = Builder::new("g");
        let x = b.parameter("x", F32, [3])?;
        let y = b.mul(x, x)?;
        let s = b.reduce_sum(y, [0])?;
        let h = autodiff::hvp(&mut b, s, &[x], &[])?;
        refused(ctx, &b, &h)
    }));
    v.push(case(
        a,
        "custom-vjp-rule-wrong-shape",
        Expect::Error("expected f32[3]"),
        |ctx| {
            let mut b = Builder::new("g");
            let x = b.parameter("x", F32, [3])?;
            let y = autodiff::custom_vjp(
                &mut b,
                "lying_rule",
                &[x],
                |b, a| Ok(vec![b.mul(a[0], a[0])?]),
                |b, _, _, _| Ok(vec![Some(b.zeros(F32, [5])?)]),
            )?;
            let s = b.reduce_sum(y[0], [0])?;
            let g = autodiff::grad(&mut b, s, &[x])?;
            refused(ctx, &b, &g)
        },
    ));
    v.push(case(
        a,
        "custom-vjp-rule-wrong-count",
        Expect::Error("custom_vjp"),
        |ctx| {
            let mut b = Builder::new("g");
            let x = b.parameter("x", F32, [3])?;
            let y = autodiff::custom_vjp(
                &mut b,
                "lying_rule",
                &[x],
                |b, a| Ok(vec![b.mul(a[0], a[0])?]),
                |_, _, _, ct| Ok(vec![Some(ct[0]), Some(ct[0])]),
            )?;
            let s = b.reduce_sum(y[0], [0])?;
            let g = autodiff::grad(&mut b, s, &[x])?;
            refused(ctx, &b, &g)
        },
    ));
    // Results that must come out right.
    v.push(case(a, "grad-through-sort", Expect::Correct, |ctx| {
        // d/dx sum(sort(x) * [1, 2, 3]) = the weight of each element's sorted position.
        let mut b = Builder::new("g");
        let x = b.parameter("x", F32, [3])?;
        let s = b.sort(&[x], 0, true, |b, a| Ok(vec![b.lt(a[0], a[1])?]))?;
        let w = b.constant(&[1f32, 2., 3.], [3])?;
        let p = b.mul(s[0], w)?;
        let l = b.reduce_sum(p, [0])?;
        let g = autodiff::grad(&mut b, l, &[x])?;
        let out = run(ctx, &b, &g, &[&Literal::vector(&[5f32, -1., 2.])])?;
        check_eq("grad", out[0].clone(), vec![3., 1., 2.])
    }));
    v.push(case(a, "grad-of-grad-tanh", Expect::Correct, |ctx| {
        // d2/dx2 tanh(x) = -2 tanh(x) (1 - tanh(x)^2).
        let mut b = Builder::new("g");
        let x = b.parameter("x", F32, [])?;
        let y = b.tanh(x)?;
        let g = autodiff::grad(&mut b, y, &[x])?;
        let gg = autodiff::grad(&mut b, g[0], &[x])?;
        let out = run(ctx, &b, &gg, &[&Literal::scalar(0.5f32)])?;
        let t = 0.5f32.tanh();
        let want = -2.0 * t * (1.0 - t * t);
        check_eq("close", (out[0][0] - want).abs() < 1e-5, true)
    }));
    v.push(case(
        a,
        "grad-through-nested-conds-30",
        Expect::Correct,
        |ctx| {
            // 30 nested conds each computing 2x: the gradient of sum(f(x)) is 2^31 * ... no:
            // each level's true branch goes one deeper, the innermost leaf doubles once.
            let t = hlo_builder::TensorType::new(F32, [2]);
            let leaf =
                hlo_builder::Builder::computation("leaf", std::slice::from_ref(&t), |b, a| {
                    Ok(vec![b.add(a[0], a[0])?])
                })?;
            let mut c = leaf.clone();
            for _ in 0..30 {
                let (inner, leaf) = (c.clone(), leaf.clone());
                c = Builder::computation("level", std::slice::from_ref(&t), move |b, a| {
                    let p = b.constant_bool(&[true], [])?;
                    b.cond_with(p, a, inner, leaf)
                })?;
            }
            let mut b = Builder::new("g");
            let x = b.parameter("x", F32, [2])?;
            let r = b.call(&c, &[x])?;
            let l = b.reduce_sum(r[0], [0])?;
            let g = autodiff::grad(&mut b, l, &[x])?;
            let out = run(ctx, &b, &g, &[&Literal::vector(&[1f32, 2.])])?;
            check_eq("grad", out[0].clone(), vec![2., 2.])
        },
    ));
    v.push(case(
        a,
        "grad-nested-past-the-limit",
        Expect::Error("nested"),
        |ctx| {
            let t = hlo_builder::TensorType::new(F32, [2]);
            let leaf = Builder::computation("leaf", std::slice::from_ref(&t), |b, a| {
                Ok(vec![b.add(a[0], a[0])?])
            })?;
            let mut c = leaf.clone();
            for _ in 0..200 {
                let (inner, leaf) = (c.clone(), leaf.clone());
                c = Builder::computation("level", std::slice::from_ref(&t), move |b, a| {
                    let p = b.constant_bool(&[true], [])?;
                    b.cond_with(p, a, inner, leaf)
                })?;
            }
            let mut b = Builder::new("g");
            let x = b.parameter("x", F32, [2])?;
            let r = b.call(&c, &[x])?;
            let l = b.reduce_sum(r[0], [0])?;
            let g = autodiff::grad(&mut b, l, &[x])?;
            refused(ctx, &b, &g)
        },
    ));
    v.push(case(a, "grad-of-argmax-is-zero", Expect::Correct, |ctx| {
        // argmax is piecewise constant: its float conversion has gradient zero.
        let mut b = Builder::new("g");
        let x = b.parameter("x", F32, [4])?;
        let i = b.argmax(x, 0)?;
        let f = b.convert(i, F32)?;
        let y = b.reduce_sum(x, [0])?;
        let l = b.add(f, y)?;
        let g = autodiff::grad(&mut b, l, &[x])?;
        let out = run(ctx, &b, &g, &[&Literal::vector(&[1f32, 5., 2., 0.])])?;
        check_eq("grad", out[0].clone(), vec![1., 1., 1., 1.])
    }));
    v.push(case(
        a,
        "fori-loop-zero-trips-gradient",
        Expect::Correct,
        |ctx| {
            let mut b = Builder::new("g");
            let x = b.parameter("x", F32, [])?;
            let r = autodiff::fori_loop(&mut b, 0, &[x], |b, _, s| Ok(vec![b.mul(s[0], s[0])?]))?;
            let g = autodiff::grad(&mut b, r[0], &[x])?;
            let out = run(ctx, &b, &g, &[&Literal::scalar(3f32)])?;
            check_eq("d/dx x", out[0].clone(), vec![1.])
        },
    ));
    v.push(case(
        a,
        "fori-loop-negative-trips",
        Expect::Correct,
        |ctx| {
            // A negative trip count runs no iteration (like `for i in 0..-5`).
            let mut b = Builder::new("g");
            let x = b.parameter("x", F32, [])?;
            let r = autodiff::fori_loop(&mut b, -5, &[x], |b, _, s| Ok(vec![b.add(s[0], s[0])?]))?;
            let out = run(ctx, &b, &r, &[&Literal::scalar(3f32)])?;
            check_eq("x", out[0].clone(), vec![3.])
        },
    ));
    v.push(case(a, "checkpoint-gradient", Expect::Correct, |ctx| {
        let mut b = Builder::new("g");
        let x = b.parameter("x", F32, [2])?;
        let y = autodiff::checkpoint(&mut b, "sq", &[x], |b, a| Ok(vec![b.mul(a[0], a[0])?]))?;
        let l = b.reduce_sum(y[0], [0])?;
        let g = autodiff::grad(&mut b, l, &[x])?;
        let out = run(ctx, &b, &g, &[&Literal::vector(&[3f32, -1.])])?;
        check_eq("2x", out[0].clone(), vec![6., -2.])
    }));
    v.push(case(a, "stop-gradient-is-zero", Expect::Correct, |ctx| {
        let mut b = Builder::new("g");
        let x = b.parameter("x", F32, [])?;
        let s = autodiff::stop_gradient(&mut b, x)?;
        let y = b.mul(s, x)?;
        let g = autodiff::grad(&mut b, y, &[x])?;
        let out = run(ctx, &b, &g, &[&Literal::scalar(4f32)])?;
        check_eq("d/dx (sg(x) x) = x", out[0].clone(), vec![4.])
    }));
    v.push(case(a, "grad-wrt-nothing", Expect::Correct, |_| {
        let mut b = Builder::new("g");
        let x = b.parameter("x", F32, [])?;
        let y = b.mul(x, x)?;
        let g = autodiff::grad(&mut b, y, &[])?;
        check_eq("no gradients", g.len(), 0)
    }));
    v.push(case(
        a,
        "grad-wrt-unrelated-is-zero",
        Expect::Correct,
        |ctx| {
            let mut b = Builder::new("g");
            let x = b.parameter("x", F32, [])?;
            let z = b.parameter("z", F32, [2])?;
            let y = b.mul(x, x)?;
            let g = autodiff::grad(&mut b, y, &[z])?;
            let out = run(
                ctx,
                &b,
                &g,
                &[&Literal::scalar(1f32), &Literal::vector(&[1f32, 1.])],
            )?;
            check_eq("zeros", out[0].clone(), vec![0., 0.])
        },
    ));
    v
}
