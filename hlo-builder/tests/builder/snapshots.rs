//! Emitted text compared exactly with stored files under `tests/snapshots/`.
//! `UPDATE_SNAPSHOTS=1 cargo test -p hlo-builder --test builder snapshots` rewrites them.
use crate::common::*;
use std::path::PathBuf;

fn check(name: &str, m: &Module) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.mlir"));
    let text = m.to_text();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_SNAPSHOTS=1)", path.display()));
    assert!(
        text == want,
        "snapshot {name} differs from {}:\n--- got ---\n{text}\n--- want ---\n{want}",
        path.display()
    );
    // Every snapshot is also a program the plugin accepts.
    m.compile(client())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
}

#[test]
fn snapshot_mlp() {
    let mut b = Builder::new("mlp");
    let x = b.parameter("x", F32, [4, 3]).unwrap();
    let w = b.parameter("w", F32, [3, 2]).unwrap();
    let bias = b.parameter("b", F32, [2]).unwrap();
    let h = b.matmul(x, w).unwrap();
    let h = b.add(h, bias).unwrap();
    let h = b.relu(h).unwrap();
    let l = b.mean(h).unwrap();
    check("mlp", &b.build(&[l, h]).unwrap());
}

#[test]
fn snapshot_constants_and_types() {
    let mut b = Builder::new("consts");
    let outs = vec![
        b.constant(&[1.0f32, -2.5], [2]).unwrap(),
        b.constant(&[1i8, -1, 127], [3]).unwrap(),
        b.constant(&[half::bf16::from_f32(1.5)], [1]).unwrap(),
        b.constant(&[[1.0f64, -1.0]], [1]).unwrap(),
        b.constant_bool(&[true, false, false, true], [2, 2])
            .unwrap(),
        b.splat(U16, [3], 7.0).unwrap(),
        b.splat(F8E4M3FN, [2], 0.5).unwrap(),
        b.constant::<f32>(&[], [0]).unwrap(),
        b.iota(S64, [2, 2], 1).unwrap(),
    ];
    check("constants", &b.build(&outs).unwrap());
}

#[test]
fn snapshot_regions_and_calls() {
    let mut b = Builder::new("regions");
    let x = b.parameter("x", F32, [3]).unwrap();
    let p = b.parameter("p", Pred, []).unwrap();
    let am = b.argmax(x, 0).unwrap();
    let (v, i) = b.top_k(x, 2).unwrap();
    let r = b
        .cond(
            p,
            &[x],
            |b, a| Ok(vec![b.neg(a[0])?]),
            |_, a| Ok(vec![a[0]]),
        )
        .unwrap();
    let n = b.scalar(S32, 0.0).unwrap();
    let w = b
        .while_loop(
            &[n],
            |b, s| {
                let three = b.scalar(S32, 3.0)?;
                Ok(vec![b.lt(s[0], three)?])
            },
            |b, s| {
                let one = b.scalar(S32, 1.0)?;
                Ok(vec![b.add(s[0], one)?])
            },
        )
        .unwrap();
    let f = Builder::computation("twice", &[TensorType::new(F32, [3])], |b, a| {
        Ok(vec![b.add(a[0], a[0])?])
    })
    .unwrap();
    let c = b.call(&f, &[x]).unwrap();
    check("regions", &b.build(&[am, v, i, r[0], w[0], c[0]]).unwrap());
}

#[test]
fn snapshot_conv_gather_scatter() {
    let mut b = Builder::new("conv");
    let img = b.parameter("img", F32, [1, 5, 5, 2]).unwrap();
    let k = b.parameter("k", F32, [3, 3, 2, 4]).unwrap();
    let mut c = ConvConfig::new(ConvDims::nhwc(2));
    c.window_strides = vec![2, 2];
    c.padding = vec![(1, 1), (0, 1)];
    c.rhs_dilation = vec![1, 2];
    c.precision = [Precision::High, Precision::Highest];
    let y = b.convolution(img, k, c).unwrap();
    let pool = b.max_pool(y, [1, 2, 2, 1], [1, 1, 1, 1]).unwrap();
    let t = b.parameter("t", F32, [5, 3]).unwrap();
    let idx = b.parameter("idx", S32, [2]).unwrap();
    let g = b
        .gather(
            t,
            idx,
            GatherDims {
                offset_dims: vec![1],
                collapsed_slice_dims: vec![0],
                start_index_map: vec![0],
                index_vector_dim: 1,
            },
            [1, 3],
            true,
        )
        .unwrap();
    let idx2 = b.reshape(idx, [2, 1]).unwrap();
    let s = b
        .scatter(
            &[t],
            idx2,
            &[g],
            ScatterDims {
                update_window_dims: vec![1],
                inserted_window_dims: vec![0],
                scatter_dims_to_operand_dims: vec![0],
                index_vector_dim: 1,
            },
            |b, a| Ok(vec![b.add(a[0], a[1])?]),
        )
        .unwrap();
    check("conv_gather_scatter", &b.build(&[pool, s[0]]).unwrap());
}
