//! Error messages name the op, the shapes and the axes; misuse is an `Err`.
use crate::common::*;

fn err<T: std::fmt::Debug>(r: Result<T>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn matmul_names_shapes_and_axes() {
    let mut b = Builder::new("e");
    let x = b.parameter("x", F32, [64, 64]).unwrap();
    let w = b.parameter("w", F32, [32, 10]).unwrap();
    assert_eq!(err(b.matmul(x, w)), "matmul: contracting dimensions differ: lhs f32[64,64] axis 1 has 64, rhs f32[32,10] axis 0 has 32");
    let i = b.parameter("i", S32, [64, 10]).unwrap();
    assert_eq!(
        err(b.matmul(x, i)),
        "matmul: element types differ: f32[64,64] and s32[64,10]"
    );
}

#[test]
fn shape_errors_are_sentences() {
    let mut b = Builder::new("e");
    let x = b.parameter("x", F32, [2, 3]).unwrap();
    let y = b.parameter("y", F32, [4]).unwrap();
    let s = b.parameter("s", S32, [2, 3]).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            err(b.add(x, y)),
            "add: cannot broadcast f32[2,3] with f32[4]: axis 1 of the result would need 3 and 4",
        ),
        (
            err(b.add(x, s)),
            "add: element types differ: f32[2,3] and s32[2,3]",
        ),
        (
            err(b.exp(s)),
            "exp: operand s32[2,3] has element type s32, expected a float or complex type",
        ),
        (
            err(b.reshape(x, [5])),
            "reshape: f32[2,3] has 6 elements, f32[5] has 5",
        ),
        (
            err(b.transpose(x, [0, 0])),
            "transpose: permutation axis 0 appears twice in [0, 0] for f32[2,3]",
        ),
        (
            err(b.reduce_sum(x, [2])),
            "reduce: reduced axis 2 is out of range for f32[2,3] (rank 2)",
        ),
        (
            err(b.slice(x, [0, 0], [3, 3], [1, 1])),
            "slice: axis 0 of f32[2,3]: need 0 <= start 0 <= limit 3 <= 2",
        ),
        (
            err(b.concatenate(&[x, y], 0)),
            "concatenate: f32[2,3] and f32[4] differ in rank",
        ),
        (
            err(b.parameter("bad", F32, [2, -1])),
            "parameter: dimension 1 is negative (-1) in [2, -1]",
        ),
        (
            err(b.softmax(s, 1)),
            "softmax: operand s32[2,3] must have a float or complex element type",
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
}

#[test]
fn tensors_from_other_builders_and_regions() {
    let mut a = Builder::new("a");
    let mut b = Builder::new("b");
    let x = a.parameter("x", F32, [2]).unwrap();
    let e = err(b.exp(x));
    assert!(e.starts_with("exp: tensor belongs to builder #"), "{e}");
    // a region closure cannot capture a tensor of the enclosing builder
    let z = a.scalar(F32, 0.0).unwrap();
    let e = err(a.reduce(&[x], &[z], [0], |rb, args| Ok(vec![rb.add(args[0], x)?])));
    assert!(e.contains("tensor belongs to builder"), "{e}");
    // a reducer with the wrong signature names the region and the types
    let e = err(a.reduce(&[x], &[z], [0], |_rb, args| Ok(vec![args[0], args[1]])));
    assert_eq!(
        e,
        "reduce: region `body`: returns (f32[], f32[]), expected (f32[])"
    );
    let cmp = Builder::computation(
        "cmp",
        &[TensorType::scalar(F32), TensorType::scalar(F32)],
        |rb, s| Ok(vec![rb.add(s[0], s[1])?]),
    )
    .unwrap();
    let e = err(a.sort_with(&[x], 0, true, cmp));
    assert_eq!(
        e,
        "sort: region `comparator`: returns (f32[]), expected (pred[])"
    );
    // a tensor handle with a node id past the graph
    let ghost = b.tensor(ValueId {
        node: NodeId(999),
        output: 0,
    });
    assert!(err(b.neg(ghost)).contains("does not exist"));
}

#[test]
fn host_data_and_run_arguments_are_checked() {
    let mut b = Builder::new("e");
    assert_eq!(
        err(b.constant(&[1.0f32, 2.0, 3.0], [2, 2])),
        "constant: host data of 12 bytes does not match f32[2,2] (16 bytes)"
    );
    let x = b.parameter("x", F32, [2]).unwrap();
    let y = b.neg(x).unwrap();
    let exe = b.build(&[y]).unwrap().compile(client()).unwrap();
    assert_eq!(
        err(exe.run(&[])),
        "run: expected 1 arguments (f32[2]), got 0"
    );
    assert_eq!(
        err(exe.run(&[&lit(&[1i32, 2], &[2])])),
        "run: argument 0 is s32[2], the parameter is f32[2]"
    );
    assert_eq!(
        err(exe.run(&[&lit(&[1.0f32; 3], &[3])])),
        "run: argument 0 is f32[3], the parameter is f32[2]"
    );
    assert_eq!(
        f32s(&exe.run(&[&lit(&[1.0f32, -2.0], &[2])]).unwrap()[0]),
        vec![-1.0, 2.0]
    );
}
