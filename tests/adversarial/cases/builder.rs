//! Hostile graphs: nesting and sizes the compilers cannot take, ops without results,
//! reserved custom calls, comparators that are not strict orders, shapes that do not fit,
//! values of other builders, NaN through min/max.

use std::sync::Arc;

use hlo_builder::{
    Builder, ComparisonDirection, Computation, ConvConfig, ConvDims, DotDims, ElementType,
    GatherDims, Precision, RngAlgorithm, TensorType, Value,
};
use pjrt::Literal;

use crate::case::{case, check_eq, correct, wrong, Area, Case, Ctx, Expect, Failure, Outcome};

use ElementType::{F32, S32, U64};

/// Builds, compiles on the default client and runs `outs` with zero-filled arguments; for
/// inputs that must be refused, reaching the end means the library accepted them.
pub fn build_compile_run(ctx: &Ctx, b: &Builder, outs: &[Value]) -> Result<Vec<Literal>, Failure> {
    let m = b.build(outs)?;
    let exe = m.compile(ctx.client()?)?;
    let args: Vec<Literal> = m
        .parameter_types()
        .iter()
        .map(|t| Literal::zeros(t.ty, &t.dims))
        .collect::<Result<_, _>>()?;
    let refs: Vec<&Literal> = args.iter().collect();
    Ok(exe.run(&refs)?)
}

/// For cases that must be refused: goes as far as the library lets it.
fn accepted(ctx: &Ctx, b: &Builder, outs: &[Value]) -> Result<Outcome, Failure> {
    build_compile_run(ctx, b, outs)?;
    wrong("accepted, built, compiled and ran")
}

fn t(ty: ElementType, dims: &[i64]) -> TensorType {
    TensorType::new(ty, dims)
}

fn leaf() -> Result<Arc<Computation>, Failure> {
    Ok(Builder::computation("leaf", &[t(F32, &[2])], |b, a| {
        Ok(vec![b.add(a[0], a[0])?])
    })?)
}

/// `levels` nested regions of one kind around a leaf.
fn nested(kind: &'static str, levels: usize) -> Result<Arc<Computation>, Failure> {
    let leaf = leaf()?;
    let mut c = leaf.clone();
    for _ in 0..levels {
        let (inner, leaf) = (c.clone(), leaf.clone());
        c = Builder::computation("level", &[t(F32, &[2])], move |b, a| match kind {
            "cond" => {
                let p = b.constant_bool(&[true], [])?;
                b.cond_with(p, a, inner, leaf)
            }
            "call" => b.call(&inner, a),
            _ => {
                // while (false) { state = inner(state) }
                let cond = Builder::computation("c", &[t(F32, &[2])], |b, _| {
                    Ok(vec![b.constant_bool(&[false], [])?])
                })?;
                b.while_loop_with(a, cond, inner)
            }
        })?;
    }
    Ok(c)
}

/// Runs `c` on [1, 2]; `doubles` says whether it doubles (cond, call) or is the identity
/// (a `while` whose condition is false).
fn run_nested(ctx: &Ctx, c: &Arc<Computation>, doubles: bool) -> Result<Outcome, Failure> {
    let mut b = Builder::new("nested");
    let x = b.parameter("x", F32, [2])?;
    let r = b.call(c, &[x])?;
    let m = b.build(&r)?;
    let out = m
        .compile(ctx.client()?)?
        .run(&[&Literal::vector(&[1f32, 2.])])?;
    let want = if doubles { vec![2., 4.] } else { vec![1., 2.] };
    check_eq("nested", out[0].to_vec::<f32>()?, want)
}

pub fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let a = Area::Builder;

    // Nesting past what lowering and the compilers' stacks take (6000 overflowed `build`).
    for (kind, levels) in [
        ("cond", 65),
        ("cond", 100),
        ("cond", 1000),
        ("cond", 6000),
        ("call", 65),
        ("call", 6000),
        ("while", 65),
        ("while", 300),
    ] {
        v.push(case(
            a,
            format!("nest-{kind}-{levels}"),
            Expect::Error("nested"),
            move |ctx| {
                let c = nested(kind, levels)?;
                run_nested(ctx, &c, kind != "while")
            },
        ));
    }
    for kind in ["cond", "call", "while"] {
        v.push(case(
            a,
            format!("nest-{kind}-63-runs"),
            Expect::Correct,
            move |ctx| run_nested(ctx, &nested(kind, 63)?, kind != "while"),
        ));
    }
    // Regions shared by both branches double the emitted program per level.
    for levels in [25, 40, 60] {
        v.push(case(
            a,
            format!("blowup-shared-branches-{levels}"),
            Expect::Error("would hold"),
            move |ctx| {
                let mut c = leaf()?;
                for _ in 0..levels {
                    let inner = c.clone();
                    c = Builder::computation("twice", &[t(F32, &[2])], move |b, a| {
                        let p = b.constant_bool(&[true], [])?;
                        b.cond_with(p, a, inner.clone(), inner)
                    })?;
                }
                run_nested(ctx, &c, true)
            },
        ));
    }
    for levels in [25, 40] {
        v.push(case(
            a,
            format!("blowup-shared-calls-{levels}"),
            Expect::Error("would hold"),
            move |ctx| {
                // Each function calls the previous twice: emitted once each, but XLA inlines
                // calls (40 levels ran the compiler out of memory: a C++ exception, SIGABRT).
                let mut c = leaf()?;
                for _ in 0..levels {
                    let inner = c.clone();
                    c = Builder::computation("twice", &[t(F32, &[2])], move |b, a| {
                        let y = b.call(&inner, a)?;
                        b.call(&inner, &y)
                    })?;
                }
                run_nested(ctx, &c, true)
            },
        ));
    }
    v.push(case(
        a,
        "shared-calls-10-levels-run",
        Expect::Correct,
        |ctx| {
            let mut c = Builder::computation("inc", &[t(F32, &[2])], |b, a| {
                let one = b.scalar_like(a[0], 1.0)?;
                Ok(vec![b.add(a[0], one)?])
            })?;
            for _ in 0..10 {
                let inner = c.clone();
                c = Builder::computation("twice", &[t(F32, &[2])], move |b, a| {
                    let y = b.call(&inner, a)?;
                    b.call(&inner, &y)
                })?;
            }
            let mut b = Builder::new("shared");
            let x = b.parameter("x", F32, [2])?;
            let r = b.call(&c, &[x])?;
            let out = b
                .build(&r)?
                .compile(ctx.client()?)?
                .run(&[&Literal::vector(&[0f32, 1.])])?;
            check_eq("x + 1024", out[0].to_vec::<f32>()?, vec![1024., 1025.])
        },
    ));

    // Ops without results: every later build of the builder failed.
    type ZeroFn = fn(&mut Builder, Value) -> Result<Vec<Value>, Failure>;
    let zero: [(&str, ZeroFn); 6] = [
        ("barrier-empty", |b, _| Ok(b.optimization_barrier(&[])?)),
        ("custom-call-no-results", |b, x| {
            Ok(b.custom_call("adversarial_side_effect", &[x], &[], "", true)?)
        }),
        ("while-empty-state", |b, _| {
            let c =
                Builder::computation("c", &[], |b, _| Ok(vec![b.constant_bool(&[false], [])?]))?;
            let body = Builder::computation("body", &[], |_, _| Ok(vec![]))?;
            Ok(b.while_loop_with(&[], c, body)?)
        }),
        ("cond-no-results", |b, x| {
            let p = b.constant_bool(&[true], [])?;
            let br = Builder::computation("br", &[t(F32, &[2])], |_, _| Ok(vec![]))?;
            Ok(b.cond_with(p, &[x], br.clone(), br)?)
        }),
        ("call-returns-nothing", |b, x| {
            let f = Builder::computation("f", &[t(F32, &[2])], |_, _| Ok(vec![]))?;
            Ok(b.call(&f, &[x])?)
        }),
        ("case-no-results", |b, x| {
            let k = b.constant(&[0i32], [])?;
            let br = Builder::computation("br", &[t(F32, &[2])], |_, _| Ok(vec![]))?;
            Ok(b.case_with(k, &[x], vec![br.clone(), br])?)
        }),
    ];
    for (name, f) in zero {
        v.push(case(
            a,
            format!("zero-results-{name}"),
            Expect::Error("no results"),
            move |ctx| {
                let mut b = Builder::new("zero");
                let x = b.parameter("x", F32, [2])?;
                let r = f(&mut b, x)?;
                let y = b.add(x, x)?;
                let mut outs = r.clone();
                outs.push(y);
                accepted(ctx, &b, &outs)
            },
        ));
    }
    v.push(case(
        a,
        "zero-results-refused-then-builds",
        Expect::Correct,
        |ctx| {
            let mut b = Builder::new("zero");
            let x = b.parameter("x", F32, [2])?;
            let refused = b.optimization_barrier(&[]).is_err();
            let y = b.mul(x, x)?;
            let out = b
                .build(&[y])?
                .compile(ctx.client()?)?
                .run(&[&Literal::vector(&[3f32, 4.])])?;
            if !refused {
                return wrong("an empty optimization_barrier was recorded");
            }
            check_eq("x*x", out[0].to_vec::<f32>()?, vec![9., 16.])
        },
    ));

    // Custom calls to the targets XLA reserves (CHECK failures in the plugins).
    for target in [
        "TopK",
        "SliceToDynamic",
        "PadToStatic",
        "SPMDFullToShardShape",
        "SPMDShardToFullShape",
        "MoveToHost",
        "MoveToDevice",
        "AllocateBuffer",
        "LayoutConstraint",
        "SetBound",
        "ApproxTopK",
        "PartialReduce",
        "X64Combine",
        "__cudnn$convForward",
        "__gpu$TopK",
        "xla.sdy.GlobalToLocalShape",
    ] {
        v.push(case(
            a,
            format!("custom-call-reserved-{target}"),
            Expect::Error("reserve"),
            move |ctx| {
                let mut b = Builder::new("cc");
                let x = b.parameter("x", F32, [4])?;
                let r = b.custom_call(target, &[x], &[t(F32, &[4])], "", false)?;
                accepted(ctx, &b, &r)
            },
        ));
    }
    v.push(case(
        a,
        "custom-call-sharding-two-operands",
        Expect::Error("reserve"),
        |ctx| {
            let mut b = Builder::new("cc");
            let x = b.parameter("x", F32, [4])?;
            let r = b.custom_call("Sharding", &[x, x], &[t(F32, &[4])], "", false)?;
            accepted(ctx, &b, &r)
        },
    ));
    v.push(case(
        a,
        "custom-call-sharding-other-result",
        Expect::Error("reserve"),
        |ctx| {
            let mut b = Builder::new("cc");
            let x = b.parameter("x", F32, [4])?;
            let r = b.custom_call("Sharding", &[x], &[t(F32, &[8])], "", false)?;
            accepted(ctx, &b, &r)
        },
    ));
    v.push(case(
        a,
        "custom-call-sharding-annotation-runs",
        Expect::Correct,
        |ctx| {
            let mut b = Builder::new("cc");
            let x = b.parameter("x", F32, [3])?;
            let r = b.custom_call("Sharding", &[x], &[t(F32, &[3])], "", false)?;
            let y = b.add(r[0], x)?;
            let out = b
                .build(&[y])?
                .compile(ctx.client()?)?
                .run(&[&Literal::vector(&[1f32, 2., 3.])])?;
            check_eq("2x", out[0].to_vec::<f32>()?, vec![2., 4., 6.])
        },
    ));
    v.push(case(
        a,
        "custom-call-unregistered-target",
        Expect::Error("adversarial_unregistered"),
        |ctx| {
            let mut b = Builder::new("cc");
            let x = b.parameter("x", F32, [4])?;
            let r = b.custom_call("adversarial_unregistered", &[x], &[t(F32, &[4])], "", false)?;
            accepted(ctx, &b, &r)
        },
    ));
    v.push(case(
        a,
        "custom-call-bad-name",
        Expect::Error("target name"),
        |ctx| {
            let mut b = Builder::new("cc");
            let x = b.parameter("x", F32, [4])?;
            let r = b.custom_call("bad\"}) name", &[x], &[t(F32, &[4])], "", false)?;
            accepted(ctx, &b, &r)
        },
    ));

    // Sort comparators that are not strict weak orders (an always-true one hung the
    // plugins from 17 elements on).
    for (name, n, stable) in [
        ("always-true-unstable-17", 17, false),
        ("always-true-unstable-1000", 1000, false),
        ("always-true-stable-1000", 1000, true),
    ] {
        v.push(case(
            a,
            format!("sort-{name}"),
            Expect::Error("always returns true"),
            move |ctx| {
                let mut b = Builder::new("sort");
                let x = b.parameter("x", F32, [n])?;
                let r = b.sort(&[x], 0, stable, |b, _| {
                    Ok(vec![b.constant_bool(&[true], [])?])
                })?;
                accepted(ctx, &b, &r)
            },
        ));
    }
    for (name, dir) in [
        ("le", ComparisonDirection::Le),
        ("ge", ComparisonDirection::Ge),
        ("eq", ComparisonDirection::Eq),
        ("ne", ComparisonDirection::Ne),
    ] {
        v.push(case(
            a,
            format!("sort-{name}-comparator"),
            Expect::Error("strict weak order"),
            move |ctx| {
                let mut b = Builder::new("sort");
                let x = b.parameter("x", F32, [1000])?;
                let r = b.sort(&[x], 0, false, move |b, a| {
                    Ok(vec![b.compare(dir, a[0], a[1])?])
                })?;
                accepted(ctx, &b, &r)
            },
        ));
    }
    v.push(case(a, "sort-x-le-x", Expect::Error("itself"), |ctx| {
        let mut b = Builder::new("sort");
        let x = b.parameter("x", F32, [100])?;
        let r = b.sort(&[x], 0, false, |b, a| {
            Ok(vec![b.compare(ComparisonDirection::Le, a[0], a[0])?])
        })?;
        accepted(ctx, &b, &r)
    }));
    let data: Vec<f32> = (0..1000).map(|i| ((i * 7919) % 101) as f32).collect();
    let d1 = data.clone();
    v.push(case(
        a,
        "sort-always-false-is-a-permutation",
        Expect::Correct,
        move |ctx| {
            let mut b = Builder::new("sort");
            let x = b.parameter("x", F32, [1000])?;
            let r = b.sort(&[x], 0, false, |b, _| {
                Ok(vec![b.constant_bool(&[false], [])?])
            })?;
            let out = b
                .build(&r)?
                .compile(ctx.client()?)?
                .run(&[&Literal::vector(&d1)])?;
            let mut got = out[0].to_vec::<f32>()?;
            got.sort_by(f32::total_cmp);
            let mut want = d1.clone();
            want.sort_by(f32::total_cmp);
            check_eq("multiset", got, want)
        },
    ));
    let d2 = data.clone();
    v.push(case(
        a,
        "sort-unrecognized-comparator-sorts",
        Expect::Correct,
        move |ctx| {
            let mut b = Builder::new("sort");
            let x = b.parameter("x", F32, [1000])?;
            let r = b.sort(&[x], 0, false, |b, a| {
                let (p, q) = (b.neg(a[0])?, b.neg(a[1])?);
                Ok(vec![b.lt(p, q)?])
            })?;
            let out = b
                .build(&r)?
                .compile(ctx.client()?)?
                .run(&[&Literal::vector(&d2)])?;
            let mut want = d2.clone();
            want.sort_by(|p, q| q.total_cmp(p));
            check_eq("descending", out[0].to_vec::<f32>()?, want)
        },
    ));
    let d3: Vec<f32> = data
        .iter()
        .enumerate()
        .map(|(i, &x)| if i % 7 == 0 { f32::NAN } else { x })
        .collect();
    v.push(case(
        a,
        "sort-lt-with-nans-terminates",
        Expect::Correct,
        move |ctx| {
            let mut b = Builder::new("sort");
            let x = b.parameter("x", F32, [1000])?;
            let r = b.sort(&[x], 0, false, |b, a| Ok(vec![b.lt(a[0], a[1])?]))?;
            let out = b
                .build(&r)?
                .compile(ctx.client()?)?
                .run(&[&Literal::vector(&d3)])?;
            let got = out[0].to_vec::<f32>()?;
            let nans = got.iter().filter(|x| x.is_nan()).count();
            let want_nans = d3.iter().filter(|x| x.is_nan()).count();
            check_eq("NaNs kept", nans, want_nans)
        },
    ));
    v.push(case(
        a,
        "sort-two-keys-lexicographic",
        Expect::Correct,
        |ctx| {
            let mut b = Builder::new("sort");
            let k = b.parameter("k", S32, [6])?;
            let x = b.parameter("x", S32, [6])?;
            let r = b.sort(&[k, x], 0, false, |b, a| {
                let lt0 = b.lt(a[0], a[1])?;
                let eq0 = b.compare(ComparisonDirection::Eq, a[0], a[1])?;
                let lt1 = b.lt(a[2], a[3])?;
                let tie = b.and(eq0, lt1)?;
                Ok(vec![b.or(lt0, tie)?])
            })?;
            let m = b.build(&r)?;
            let out = m.compile(ctx.client()?)?.run(&[
                &Literal::vector(&[2i32, 1, 2, 1, 0, 2]),
                &Literal::vector(&[5i32, 9, 1, 3, 7, 4]),
            ])?;
            check_eq(
                "by (k, x)",
                (out[0].to_vec::<i32>()?, out[1].to_vec::<i32>()?),
                (vec![0, 1, 1, 2, 2, 2], vec![7, 3, 9, 1, 4, 5]),
            )
        },
    ));

    // Shapes that do not fit: errors that name the op.
    type ShapeFn = fn(&mut Builder) -> Result<Vec<Value>, Failure>;
    let shape_cases: Vec<(&str, &'static str, ShapeFn)> = vec![
        ("dims-negative", "negative", |b| {
            Ok(vec![b.parameter("x", F32, [2, -3])?])
        }),
        ("dims-too-many-elements", "2^40", |b| {
            Ok(vec![b.parameter("x", F32, [1 << 21, 1 << 21])?])
        }),
        ("dims-i64-overflow", "2^40", |b| {
            Ok(vec![b.parameter("x", F32, [1 << 62, 1 << 62, 4])?])
        }),
        ("rank-65", "rank", |b| {
            Ok(vec![b.parameter("x", F32, [1; 65])?])
        }),
        ("token-parameter", "token", |b| {
            Ok(vec![b.parameter("x", ElementType::Token, [2])?])
        }),
        ("reshape-count", "reshape", |b| {
            let x = b.parameter("x", F32, [2, 3])?;
            Ok(vec![b.reshape(x, [7])?])
        }),
        ("reshape-negative", "reshape", |b| {
            let x = b.parameter("x", F32, [2, 3])?;
            Ok(vec![b.reshape(x, [-6])?])
        }),
        ("transpose-not-permutation", "transpose", |b| {
            let x = b.parameter("x", F32, [2, 3])?;
            Ok(vec![b.transpose(x, [0, 0])?])
        }),
        ("transpose-axis-out-of-range", "transpose", |b| {
            let x = b.parameter("x", F32, [2, 3])?;
            Ok(vec![b.transpose(x, [1, 7])?])
        }),
        ("broadcast-incompatible", "broadcast", |b| {
            let x = b.parameter("x", F32, [3])?;
            Ok(vec![b.broadcast_to(x, [2, 4])?])
        }),
        ("add-shapes", "add", |b| {
            let x = b.parameter("x", F32, [3])?;
            let y = b.parameter("y", F32, [4])?;
            Ok(vec![b.add(x, y)?])
        }),
        ("add-types", "add", |b| {
            let x = b.parameter("x", F32, [3])?;
            let y = b.parameter("y", S32, [3])?;
            Ok(vec![b.add(x, y)?])
        }),
        ("slice-out-of-range", "slice", |b| {
            let x = b.parameter("x", F32, [4])?;
            Ok(vec![b.slice(x, [2], [9], [1])?])
        }),
        ("slice-zero-stride", "slice", |b| {
            let x = b.parameter("x", F32, [4])?;
            Ok(vec![b.slice(x, [0], [4], [0])?])
        }),
        ("slice-negative-start", "slice", |b| {
            let x = b.parameter("x", F32, [4])?;
            Ok(vec![b.slice(x, [-1], [2], [1])?])
        }),
        ("concatenate-nothing", "concatenate", |b| {
            Ok(vec![b.concatenate(&[], 0)?])
        }),
        ("concatenate-mismatch", "concatenate", |b| {
            let x = b.parameter("x", F32, [2, 3])?;
            let y = b.parameter("y", F32, [2, 4])?;
            Ok(vec![b.concatenate(&[x, y], 0)?])
        }),
        ("pad-below-zero", "pad", |b| {
            let x = b.parameter("x", F32, [3])?;
            let z = b.scalar(F32, 0.0)?;
            Ok(vec![b.pad(x, z, [-10], [0], [0])?])
        }),
        ("pad-huge-interior", "pad", |b| {
            let x = b.parameter("x", F32, [3])?;
            let z = b.scalar(F32, 0.0)?;
            Ok(vec![b.pad(x, z, [0], [0], [1 << 45])?])
        }),
        ("dot-contracting-mismatch", "dot", |b| {
            let x = b.parameter("x", F32, [2, 3])?;
            let y = b.parameter("y", F32, [4, 5])?;
            let d = DotDims {
                lhs_batch: vec![],
                rhs_batch: vec![],
                lhs_contracting: vec![1],
                rhs_contracting: vec![0],
            };
            Ok(vec![b.dot_general(x, y, d, [Precision::Default; 2])?])
        }),
        ("dot-axis-out-of-range", "dot", |b| {
            let x = b.parameter("x", F32, [2, 3])?;
            let y = b.parameter("y", F32, [3, 5])?;
            let d = DotDims {
                lhs_batch: vec![],
                rhs_batch: vec![],
                lhs_contracting: vec![9],
                rhs_contracting: vec![0],
            };
            Ok(vec![b.dot_general(x, y, d, [Precision::Default; 2])?])
        }),
        ("matmul-scalar", "matmul", |b| {
            let x = b.parameter("x", F32, [])?;
            Ok(vec![b.matmul(x, x)?])
        }),
        ("reduce-axis-out-of-range", "axis", |b| {
            let x = b.parameter("x", F32, [2, 3])?;
            Ok(vec![b.reduce_sum(x, [5])?])
        }),
        ("reduce-duplicate-axes", "reduce", |b| {
            let x = b.parameter("x", F32, [2, 3])?;
            Ok(vec![b.reduce_sum(x, [1, 1])?])
        }),
        ("iota-dimension", "iota", |b| {
            Ok(vec![b.iota(F32, [3], 4)?])
        }),
        ("constant-data-dims", "constant", |b| {
            Ok(vec![b.constant(&[1f32, 2., 3.], [2, 2])?])
        }),
        ("convert-to-token", "token", |b| {
            let x = b.parameter("x", F32, [2])?;
            Ok(vec![b.convert(x, ElementType::Token)?])
        }),
        ("gather-bad-dims", "gather", |b| {
            let x = b.parameter("x", F32, [4, 4])?;
            let i = b.parameter("i", S32, [2, 1])?;
            let d = GatherDims {
                offset_dims: vec![5],
                collapsed_slice_dims: vec![0],
                start_index_map: vec![0],
                index_vector_dim: 1,
            };
            Ok(vec![b.gather(x, i, d, [1, 4], false)?])
        }),
        ("gather-slice-too-big", "gather", |b| {
            let x = b.parameter("x", F32, [4, 4])?;
            let i = b.parameter("i", S32, [2, 1])?;
            let d = GatherDims {
                offset_dims: vec![1],
                collapsed_slice_dims: vec![0],
                start_index_map: vec![0],
                index_vector_dim: 1,
            };
            Ok(vec![b.gather(x, i, d, [1, 9], false)?])
        }),
        ("dynamic-slice-too-big", "dynamic_slice", |b| {
            let x = b.parameter("x", F32, [4])?;
            let s = b.constant(&[0i32], [])?;
            Ok(vec![b.dynamic_slice(x, &[s], [5])?])
        }),
        ("conv-zero-stride", "convolution", |b| {
            let x = b.parameter("x", F32, [1, 8, 8, 1])?;
            let k = b.parameter("k", F32, [3, 3, 1, 1])?;
            let mut c = ConvConfig::new(ConvDims::nhwc(2));
            c.window_strides = vec![0, 1];
            Ok(vec![b.convolution(x, k, c)?])
        }),
        ("conv-groups-do-not-divide", "convolution", |b| {
            let x = b.parameter("x", F32, [1, 8, 8, 3])?;
            let k = b.parameter("k", F32, [3, 3, 3, 4])?;
            let mut c = ConvConfig::new(ConvDims::nhwc(2));
            c.feature_group_count = 2;
            Ok(vec![b.convolution(x, k, c)?])
        }),
        ("select-pred-type", "select", |b| {
            let p = b.parameter("p", F32, [3])?;
            let x = b.parameter("x", F32, [3])?;
            Ok(vec![b.select(p, x, x)?])
        }),
        ("top-k-too-large", "top_k", |b| {
            let x = b.parameter("x", F32, [5])?;
            let (v, i) = b.top_k(x, 6)?;
            Ok(vec![v, i])
        }),
        ("one-hot-negative-depth", "one_hot", |b| {
            let i = b.parameter("i", S32, [3])?;
            Ok(vec![b.one_hot(i, -1, F32)?])
        }),
        ("cholesky-not-square", "cholesky", |b| {
            let x = b.parameter("x", F32, [2, 3])?;
            Ok(vec![b.cholesky(x, true)?])
        }),
        ("rng-bad-state", "rng_bit_generator", |b| {
            let s = b.parameter("s", F32, [2])?;
            let (n, r) = b.rng_bit_generator(
                s,
                RngAlgorithm::ThreeFry,
                TensorType::new(ElementType::U32, [4]),
            )?;
            Ok(vec![n, r])
        }),
        ("rng-signed-output", "rng_bit_generator", |b| {
            let s = b.parameter("s", U64, [2])?;
            let (n, r) =
                b.rng_bit_generator(s, RngAlgorithm::ThreeFry, TensorType::new(S32, [4]))?;
            Ok(vec![n, r])
        }),
        ("while-cond-not-pred", "while", |b| {
            let x = b.parameter("x", F32, [])?;
            Ok(b.while_loop(&[x], |_, a| Ok(vec![a[0]]), |_, a| Ok(vec![a[0]]))?)
        }),
        ("while-body-changes-type", "while", |b| {
            let x = b.parameter("x", F32, [])?;
            Ok(b.while_loop(
                &[x],
                |b, _| Ok(vec![b.constant_bool(&[false], [])?]),
                |b, a| Ok(vec![b.convert(a[0], S32)?]),
            )?)
        }),
        ("call-argument-types", "call", |b| {
            let f = Builder::computation("f", &[t(F32, &[2])], |_, a| Ok(vec![a[0]]))?;
            let x = b.parameter("x", S32, [2])?;
            Ok(b.call(&f, &[x])?)
        }),
        ("clamp-shapes", "clamp", |b| {
            let lo = b.parameter("lo", F32, [4])?;
            let x = b.parameter("x", F32, [3])?;
            Ok(vec![b.clamp(lo, x, lo)?])
        }),
        ("bitcast-convert-sizes", "bitcast_convert", |b| {
            let x = b.parameter("x", F32, [3])?;
            Ok(vec![b.bitcast_convert(x, ElementType::F64)?])
        }),
    ];
    for (name, needle, f) in shape_cases {
        v.push(case(
            a,
            format!("shape-{name}"),
            Expect::Error(needle),
            move |ctx| {
                let mut b = Builder::new("shapes");
                let r = f(&mut b)?;
                accepted(ctx, &b, &r)
            },
        ));
    }

    // Values of another builder.
    v.push(case(
        a,
        "foreign-value-operand",
        Expect::Error("builder"),
        |ctx| {
            let mut other = Builder::new("other");
            let y = other.parameter("y", F32, [2])?;
            let mut b = Builder::new("b");
            let x = b.parameter("x", F32, [2])?;
            let r = b.add(x, y)?;
            accepted(ctx, &b, &[r])
        },
    ));
    v.push(case(
        a,
        "foreign-value-result",
        Expect::Error("builder"),
        |ctx| {
            let mut other = Builder::new("other");
            let y = other.parameter("y", F32, [2])?;
            let mut b = Builder::new("b");
            let _x = b.parameter("x", F32, [2])?;
            accepted(ctx, &b, &[y])
        },
    ));
    v.push(case(a, "builder-ids-never-repeat", Expect::Correct, |_| {
        let first = Builder::new("first").id();
        let ids: std::collections::HashSet<u64> =
            (0..200_000).map(|_| Builder::new("n").id()).collect();
        check_eq(
            "distinct ids above the first",
            (ids.len(), ids.iter().all(|&i| i > first)),
            (200_000, true),
        )
    }));
    // Donations that cannot hold.
    type DonFn = fn(&Builder, &[Value]) -> Result<hlo_builder::Module, Failure>;
    let donations: [(&str, DonFn); 3] = [
        ("twice", |b, r| {
            Ok(b.build_with_donations(r, &[(0, 0), (0, 1)])?)
        }),
        ("out-of-range", |b, r| {
            Ok(b.build_with_donations(r, &[(5, 0)])?)
        }),
        ("type-mismatch", |b, r| {
            Ok(b.build_with_donations(r, &[(1, 0)])?)
        }),
    ];
    for (name, f) in donations {
        v.push(case(
            a,
            format!("donation-{name}"),
            Expect::Error("donate"),
            move |_| {
                let mut b = Builder::new("don");
                let x = b.parameter("x", F32, [2])?;
                let _y = b.parameter("y", S32, [2])?;
                let r = b.add(x, x)?;
                let s = b.mul(x, x)?;
                f(&b, &[r, s])?;
                wrong("a donation that cannot hold was accepted")
            },
        ));
    }

    // NaN through min and max (the CPU compiler's default dropped it).
    type NanFn = fn(&mut Builder, Value, Value) -> Result<Value, Failure>;
    let nan_cases: [(&str, NanFn); 4] = [
        ("maximum", |b, x, y| Ok(b.max(x, y)?)),
        ("minimum", |b, x, y| Ok(b.min(x, y)?)),
        ("reduce-max", |b, _, y| Ok(b.reduce_max(y, [0])?)),
        ("reduce-min", |b, _, y| Ok(b.reduce_min(y, [0])?)),
    ];
    for (name, f) in nan_cases {
        v.push(case(
            a,
            format!("nan-{name}"),
            Expect::Correct,
            move |ctx| {
                let mut b = Builder::new("nan");
                let x = b.parameter("x", F32, [4])?;
                let y = b.parameter("y", F32, [4])?;
                let r = f(&mut b, x, y)?;
                let out = b.build(&[r])?.compile(ctx.client()?)?.run(&[
                    &Literal::vector(&[1f32, 1., 1., 1.]),
                    &Literal::vector(&[2f32, f32::NAN, 0., 3.]),
                ])?;
                let got = out[0].to_vec::<f32>()?;
                let nan_at = if got.len() == 1 { 0 } else { 1 };
                if got[nan_at].is_nan() {
                    correct(format!("{name} propagates NaN: {got:?}"))
                } else {
                    wrong(format!("{name} dropped the NaN: {got:?}"))
                }
            },
        ));
    }

    // Outputs larger than the memory: clean errors, not aborts.
    v.push(case(
        a,
        "huge-output-64gib",
        Expect::Error("alloc"),
        |ctx| {
            let mut b = Builder::new("huge");
            let x = b.parameter("x", F32, [])?;
            let r = b.broadcast_to(x, [1 << 34])?;
            let out = b
                .build(&[r])?
                .compile(ctx.client()?)?
                .run(&[&Literal::scalar(1f32)])?;
            wrong(format!("a 64 GiB output was returned: {:?}", out[0]))
        },
    ));
    v
}
