//! The public graph: walking it, re-recording ops from their `Op` values, inlining.
use crate::common::*;

/// A function using many kinds of primitives (regions, several results, constants, rng).
fn many_ops(b: &mut Builder) -> Vec<Value> {
    let x = b.parameter("x", F32, [2, 3]).unwrap();
    let w = b.parameter("w", F32, [3, 3]).unwrap();
    let y = b.matmul(x, w).unwrap();
    let s = b.softmax(y, 1).unwrap();
    let am = b.argmax(y, 0).unwrap();
    let (tv, _) = b.top_k(x, 2).unwrap();
    let cs = b.cumsum(x, 1).unwrap();
    let e = b.erf(x).unwrap();
    let c = b.constant(&[1.0f32, 2.0, 3.0], [3]).unwrap();
    let xc = b.add(x, c).unwrap();
    let p = b.scalar(Pred, 1.0).unwrap();
    let r = b
        .cond(
            p,
            &[xc],
            |b, a| Ok(vec![b.neg(a[0])?]),
            |_, a| Ok(vec![a[0]]),
        )
        .unwrap();
    let st = b.constant(&[1u64, 2], [2]).unwrap();
    let (_, u) = b.rng_uniform(st, F32, [3]).unwrap();
    let f = Builder::computation("sq", &[TensorType::new(F32, [2, 3])], |b, a| {
        Ok(vec![b.mul(a[0], a[0])?])
    })
    .unwrap();
    let sq = b.call(&f, &[e]).unwrap();
    let bits = b.bitcast_convert(x, U8).unwrap();
    let back = b.bitcast_convert(bits, F32).unwrap();
    vec![s, am, tv, cs, r[0], u, sq[0], back]
}

#[test]
fn walk_the_graph() {
    let mut b = Builder::new("walk");
    let outs = many_ops(&mut b);
    let params = b.parameters();
    assert_eq!(params.len(), 2);
    assert!(matches!(
        b.op(params[0]).unwrap(),
        Op::Source(SourceOp::Parameter { index: 0, .. })
    ));
    // every node's operands come before it, and every type is known
    for (id, node) in b.nodes() {
        for v in &node.operands {
            assert!(v.node < id, "{} uses a later node", node.op.name());
            assert!(b.graph().ty(*v).is_some());
        }
        assert_eq!(b.results(id).len(), node.types.len());
    }
    // the argmax reduce has two results; the handle names the second
    let am = outs[1];
    assert_eq!(am.output(), 1);
    assert!(matches!(
        b.op(am).unwrap(),
        Op::Reduce(ReduceOp::Reduce { .. })
    ));
    assert_eq!(b.operands(am).unwrap().len(), 4);
    assert_eq!(b.node(am).unwrap().regions.len(), 1);
}

#[test]
fn inline_replays_a_computation() {
    let mut b = Builder::new("orig");
    let outs = many_ops(&mut b);
    let direct = b.build(&outs).unwrap();
    let comp = b.finish(&outs).unwrap();
    // replay into a fresh builder through `record`, then run both
    let mut c = Builder::new("replayed");
    let x = c.parameter("x", F32, [2, 3]).unwrap();
    let w = c.parameter("w", F32, [3, 3]).unwrap();
    let r = c.inline(&comp, &[x, w]).unwrap();
    assert_eq!(r.len(), outs.len());
    let replayed = c.build(&r).unwrap();
    let xs = lit(&[0.5f32, -1.0, 2.0, 0.0, 1.5, -0.25], &[2, 3]);
    let ws = lit(
        &[1.0f32, 0.5, -0.5, 0.0, 1.0, 2.0, -1.0, 0.25, 1.0],
        &[3, 3],
    );
    let a = direct.compile(client()).unwrap().run(&[&xs, &ws]).unwrap();
    let z = replayed
        .compile(client())
        .unwrap()
        .run(&[&xs, &ws])
        .unwrap();
    for (p, q) in a.iter().zip(&z) {
        assert_eq!(p.element_type(), q.element_type());
        assert_eq!(p.as_bytes(), q.as_bytes());
    }
    // wrong arguments are an error
    assert!(c.inline(&comp, &[x]).is_err());
    assert!(c.inline(&comp, &[w, x]).is_err());
}

#[test]
fn record_checks_operand_counts() {
    let mut b = Builder::new("rec");
    let x = b.parameter("x", F32, [2]).unwrap();
    let add = Op::Elementwise(ElementwiseOp::Binary(BinaryOp::Add));
    assert!(b.record(&add, &[x], &[]).is_err());
    // The op carries everything it means (here the target type); a wrong arity or a region
    // it does not take is an error.
    let to_f16 = Op::Elementwise(ElementwiseOp::Convert { to: F16 });
    assert!(b.record(&to_f16, &[x, x], &[]).is_err());
    let region =
        Builder::computation("id", &[TensorType::new(F32, [2])], |_, a| Ok(a.to_vec())).unwrap();
    assert!(b.record(&to_f16, &[x], &[region]).is_err());
    assert!(b
        .record(
            &Op::Source(SourceOp::Parameter {
                index: 1,
                name: "p".into(),
                ty: TensorType::new(F32, [2])
            }),
            &[],
            &[]
        )
        .is_err());
    let y = b.record(&to_f16, &[x], &[]).unwrap();
    assert_eq!(b.ty(y[0]).unwrap().ty, F16);
    let z = b
        .record(
            &Op::Elementwise(ElementwiseOp::Unary(UnaryOp::Exp)),
            &[x],
            &[],
        )
        .unwrap();
    let got = run(&b, &[y[0], z[0]], &[&lit(&[0.0f32, 1.0], &[2])]);
    assert_eq!(
        got[0].to_vec::<half::f16>().unwrap(),
        vec![half::f16::from_f32(0.0), half::f16::from_f32(1.0)]
    );
    assert_close("exp", &f32s(&got[1]), &[1.0, 1f32.exp()], 1e-6);
}
